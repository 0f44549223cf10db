/**
 * A library's page: what it is now, its versions over time (the timeline), and every upload with its state,
 * `change`, errors (against the manifest where a path points into it) and webhook deliveries.
 */
import type { LibraryDetail, UploadView } from '../registry.ts';
import { getJson, replay } from './api.ts';
import { formatTime, h, replace, stateBadge } from './dom.ts';
import { manifestView } from './manifest-view.ts';
import { timeline } from './timeline.ts';
import type { Config, View } from './view.ts';

type Manifest = { key: string; text: string; truncated: boolean };

const changeText = (upload: UploadView): string | undefined => {
  if (!upload.change) return undefined;
  if (upload.change === 'updated' && upload.previous) return `updated from ${upload.previous.version}`;
  return upload.change;
};

const errorsTable = (upload: UploadView) =>
  h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'errors' },
      h('caption', {}, `Errors (${upload.errors.length})`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Code', 'Path', 'Message'].map((label) => h('th', { scope: 'col' }, label)),
        ),
      ),
      h(
        'tbody',
        {},
        upload.errors.map((error) =>
          h(
            'tr',
            {},
            h('td', { 'data-label': 'Code' }, h('code', {}, error.code)),
            h('td', { 'data-label': 'Path', class: 'error-path' }, error.path ? h('code', {}, error.path) : '—'),
            h('td', { 'data-label': 'Message' }, error.message),
          ),
        ),
      ),
    ),
  );

const notificationsTable = (upload: UploadView) =>
  h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'notifications' },
      h('caption', {}, `Webhook deliveries (${upload.notifications.length})`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Endpoint', 'Kind', 'Attempts', 'Last status', 'Delivered', 'At'].map((label) =>
            h('th', { scope: 'col' }, label),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        upload.notifications.map((note) =>
          h(
            'tr',
            {},
            h('td', { 'data-label': 'Endpoint' }, note.endpoint),
            h('td', { 'data-label': 'Kind' }, note.kind ?? 'webhook'),
            h('td', { 'data-label': 'Attempts', class: 'num' }, note.attempts),
            h('td', { 'data-label': 'Last status' }, note.lastStatus ?? note.lastError ?? '—'),
            h('td', { 'data-label': 'Delivered' }, note.delivered ? 'yes' : h('strong', { class: 'bad' }, 'no')),
            h('td', { 'data-label': 'At' }, formatTime(note.at)),
          ),
        ),
      ),
    ),
  );

export const libraryView = (main: HTMLElement, config: Config, name: string): View => {
  const manifests = new Map<string, Promise<Manifest>>();
  const replays = new Map<string, string>();

  const manifestPanel = (upload: UploadView): HTMLElement | undefined => {
    const pathErrors = upload.errors.filter((error) => error.path !== undefined);
    if (pathErrors.length === 0 || !upload.manifestKey || !upload.detailed) return undefined;
    const panel = h('div', { class: 'manifest-panel' }, h('p', { class: 'muted' }, 'Loading the manifest…'));
    const key = upload.manifestKey;
    // The same manifest key can hold a newer upload: key the cache by the status too.
    const cacheKey = `${key}\u0000${upload.at}`;
    if (!manifests.has(cacheKey))
      manifests.set(
        cacheKey,
        getJson<Manifest>(`/api/manifest?key=${encodeURIComponent(key)}`).then(({ data }) => data),
      );
    (manifests.get(cacheKey) as Promise<Manifest>).then(
      (manifest) =>
        replace(
          panel,
          h('h4', {}, 'Where in the manifest'),
          manifestView(manifest.text, pathErrors),
          manifest.truncated ? h('p', { class: 'muted' }, 'Only the first 256 KiB are shown.') : undefined,
        ),
      (error: Error) => replace(panel, h('p', { class: 'muted' }, `The manifest cannot be shown: ${error.message}`)),
    );
    return panel;
  };

  const replayControl = (upload: UploadView) => {
    if (!config.replay || upload.state !== 'FAILED') return undefined;
    const note = h('span', { class: 'muted', role: 'status' }, replays.get(upload.packageKey) ?? '');
    const button = h(
      'button',
      {
        type: 'button',
        'data-replay': upload.packageKey,
        onclick: async () => {
          button.disabled = true;
          try {
            const { requestId } = await replay(upload.packageKey);
            replays.set(upload.packageKey, `Replay started (FC request ${requestId})`);
          } catch (error) {
            replays.set(upload.packageKey, `Replay refused: ${(error as Error).message}`);
          }
          note.textContent = replays.get(upload.packageKey) ?? '';
          button.disabled = false;
        },
      },
      'Replay this upload',
    );
    return h('p', { class: 'actions' }, button, ' ', note);
  };

  const uploadCard = (upload: UploadView) =>
    h(
      'article',
      { class: `upload state-${upload.state.toLowerCase()}`, 'data-status-key': upload.statusKey },
      h(
        'header',
        {},
        h('h3', {}, upload.version ?? '(no version)', ' ', stateBadge(upload.state)),
        changeText(upload) ? h('span', { class: 'change' }, changeText(upload)) : undefined,
        h('time', { datetime: upload.at }, formatTime(upload.at)),
      ),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Package'),
        h('dd', {}, h('code', {}, upload.packageKey)),
        upload.algoLibId ? [h('dt', {}, 'AlgoLibId'), h('dd', {}, upload.algoLibId)] : undefined,
        upload.waitingFor ? [h('dt', {}, 'Waiting for'), h('dd', {}, `its ${upload.waitingFor}`)] : undefined,
        h('dt', {}, 'Status object'),
        h('dd', {}, h('code', {}, upload.statusKey)),
      ),
      upload.detailed
        ? undefined
        : h('p', { class: 'muted' }, 'From the library record (the status document is gone).'),
      upload.errors.length > 0 ? errorsTable(upload) : undefined,
      manifestPanel(upload),
      upload.notifications.length > 0 ? notificationsTable(upload) : undefined,
      replayControl(upload),
    );

  return {
    async refresh() {
      let detail: LibraryDetail;
      try {
        const result = await getJson<LibraryDetail>(`/api/libraries/${encodeURIComponent(name)}`);
        if (!result.changed) return;
        detail = result.data;
      } catch (error) {
        if ((error as { status?: number }).status !== 404) throw error;
        replace(
          main,
          h('h1', {}, name),
          h('p', {}, `Nothing is known of ${name} yet.`),
          h('p', {}, h('a', { href: '#/' }, '← All libraries')),
        );
        return;
      }
      const { row, uploads, owner } = detail;
      // A re-render must not take the keyboard's place.
      const focused = document.activeElement?.getAttribute('data-replay');
      replace(
        main,
        h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← All libraries')),
        h('h1', {}, row.name, ' ', stateBadge(row.state)),
        h(
          'dl',
          { class: 'summary' },
          h('dt', {}, 'Current version'),
          h('dd', {}, row.version ?? '— (not registered)'),
          h('dt', {}, 'AlgoLibId'),
          h('dd', {}, row.algoLibId ?? '—'),
          h('dt', {}, 'Uploads'),
          h('dd', {}, row.uploads),
          h('dt', {}, 'Updated'),
          h('dd', {}, formatTime(row.updatedAt)),
          owner
            ? [h('dt', {}, 'Owner'), h('dd', {}, h('code', {}, `oss://${owner.bucket}/${owner.folder}`))]
            : undefined,
          h('dt', {}, 'Source'),
          h('dd', {}, row.source === 'record' ? 'library record' : 'status documents'),
        ),
        h(
          'section',
          { 'aria-labelledby': 'timeline-title' },
          h('h2', { id: 'timeline-title' }, 'Versions over time'),
          timeline(uploads, main.clientWidth - 48),
        ),
        h(
          'section',
          { 'aria-labelledby': 'uploads-title' },
          h('h2', { id: 'uploads-title' }, 'Uploads, newest first'),
          uploads.map(uploadCard),
        ),
      );
      if (focused) main.querySelector<HTMLElement>(`button[data-replay="${CSS.escape(focused)}"]`)?.focus();
    },
  };
};
