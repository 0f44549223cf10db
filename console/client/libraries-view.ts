/** The first page: one row per library, filtered by the state of its latest upload and searched by name. */
import type { LibraryRow } from '../registry.ts';
import { getJson } from './api.ts';
import { formatTime, h, replace, stateBadge } from './dom.ts';
import type { Config, View } from './view.ts';

const STATES = ['REGISTERED', 'PENDING', 'REJECTED', 'CONFLICT', 'FAILED'] as const;

type Libraries = { version: string; truncated: boolean; rows: LibraryRow[] };

export const librariesView = (main: HTMLElement, config: Config, query: URLSearchParams): View => {
  let rows: LibraryRow[] = [];
  let truncated = false;
  const search = h('input', {
    type: 'search',
    id: 'search',
    placeholder: 'face-detector',
    value: query.get('q') ?? '',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const filter = h('select', { id: 'state-filter' });
  const body = h('tbody');
  const count = h('p', { class: 'muted count', role: 'status' });
  const empty = h('div', { class: 'empty', hidden: true });

  const renderFilter = () => {
    const chosen = filter.value || query.get('state') || '';
    const tally = (state: string) => rows.filter((row) => row.state === state).length;
    replace(
      filter,
      h('option', { value: '' }, `All states (${rows.length})`),
      STATES.map((state) => h('option', { value: state, selected: state === chosen }, `${state} (${tally(state)})`)),
    );
    filter.value = chosen;
  };

  const renderRows = () => {
    const needle = search.value.trim().toLowerCase();
    const shown = rows.filter(
      (row) => (filter.value === '' || row.state === filter.value) && row.name.toLowerCase().includes(needle),
    );
    replace(
      body,
      shown.map((row) =>
        h(
          'tr',
          { 'data-library': row.name },
          h(
            'th',
            { scope: 'row', 'data-label': 'Library' },
            h('a', { href: `#/library/${encodeURIComponent(row.name)}` }, row.name),
          ),
          h('td', { 'data-label': 'Version' }, row.version ?? '—'),
          h('td', { 'data-label': 'AlgoLibId' }, row.algoLibId ?? '—'),
          h(
            'td',
            { 'data-label': 'Latest upload', class: 'state' },
            stateBadge(row.state),
            row.change ? h('span', { class: 'change' }, row.change) : undefined,
          ),
          h('td', { 'data-label': 'Updated' }, h('time', { datetime: row.updatedAt }, formatTime(row.updatedAt))),
          h('td', { 'data-label': 'Uploads', class: 'num' }, row.uploads),
        ),
      ),
    );
    const what = `${shown.length} of ${rows.length} ${rows.length === 1 ? 'library' : 'libraries'}`;
    count.textContent = truncated ? `${what} (only the first objects of a very large prefix were read)` : what;
    empty.hidden = rows.length > 0;
    // Keep the filter in the address, so a filtered view can be bookmarked and survives a reload.
    const params = new URLSearchParams();
    if (search.value) params.set('q', search.value);
    if (filter.value) params.set('state', filter.value);
    const hash = `#/${params.size > 0 ? `?${params}` : ''}`;
    if (location.hash !== hash && !(location.hash === '' && hash === '#/')) history.replaceState(null, '', hash);
  };

  search.addEventListener('input', renderRows);
  filter.addEventListener('change', renderRows);
  replace(
    empty,
    h('h2', {}, 'No uploads yet'),
    h(
      'p',
      {},
      `Nothing under ${config.statusPrefix} in ${config.target}. Publish a pair and it appears here within seconds:`,
    ),
    h('pre', {}, 'algolib publish examples/face-detector-1.0.0.tar.gz --local --wait'),
  );
  replace(
    main,
    h('h1', {}, 'Libraries'),
    h(
      'div',
      { class: 'toolbar' },
      h('label', { for: 'search' }, 'Search by name ', h('kbd', {}, '/')),
      search,
      h('label', { for: 'state-filter' }, 'Latest upload'),
      filter,
    ),
    count,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'libraries' },
        h('caption', { class: 'visually-hidden' }, 'Libraries, newest activity first'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Library', 'Version', 'AlgoLibId', 'Latest upload', 'Updated', 'Uploads'].map((label) =>
              h('th', { scope: 'col' }, label),
            ),
          ),
        ),
        body,
      ),
    ),
    empty,
  );

  return {
    async refresh() {
      const { data, changed } = await getJson<Libraries>('/api/libraries');
      if (!changed) return;
      rows = data.rows;
      truncated = data.truncated;
      renderFilter();
      renderRows();
    },
    focusSearch: () => search.focus(),
  };
};
