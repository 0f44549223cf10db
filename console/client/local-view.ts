/**
 * The local cloud's page: dead letters (with a replay button each), FC invocations with the function's lines for
 * each request, the CityVisual library table, and the webhook receiver's deliveries with their verification.
 */
import type { LocalPanels } from '../local-panels-types.ts';
import { getJson, replay } from './api.ts';
import { formatTime, h, replace, stateBadge } from './dom.ts';
import type { Config, View } from './view.ts';

const table = (caption: string, headings: string[], rows: HTMLElement[], empty: string) =>
  h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headings.map((label) => h('th', { scope: 'col' }, label)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.length > 0 ? rows : h('tr', {}, h('td', { colspan: headings.length, class: 'muted' }, empty)),
      ),
    ),
  );

const cell = (label: string, ...content: Array<Node | string | number | undefined>) =>
  h('td', { 'data-label': label }, ...content);

export const localView = (main: HTMLElement, config: Config): View => {
  const replays = new Map<string, string>();
  const sections = {
    deadLetters: h('section', { 'aria-labelledby': 'dl-title', id: 'dead-letters' }),
    invocations: h('section', { 'aria-labelledby': 'fc-title', id: 'invocations' }),
    libraries: h('section', { 'aria-labelledby': 'cv-title', id: 'cityvisual' }),
    deliveries: h('section', { 'aria-labelledby': 'wh-title', id: 'deliveries' }),
  };
  replace(
    main,
    h('h1', {}, 'Local cloud'),
    h('p', { class: 'muted' }, 'What the emulators saw, newest first (at most 100 rows each).'),
    Object.values(sections),
  );

  const replayButton = (packageKey: string | undefined) => {
    if (!packageKey) return 'not a pair';
    if (!config.replay) return 'read-only';
    const note = h('span', { class: 'muted', role: 'status' }, replays.get(packageKey) ?? '');
    const button = h(
      'button',
      {
        type: 'button',
        'data-replay': packageKey,
        'aria-label': `Replay ${packageKey}`,
        onclick: async () => {
          button.disabled = true;
          try {
            const { requestId } = await replay(packageKey);
            replays.set(packageKey, `started: request ${requestId.slice(0, 8)}…`);
          } catch (error) {
            replays.set(packageKey, `refused: ${(error as Error).message}`);
          }
          note.textContent = replays.get(packageKey) ?? '';
          button.disabled = false;
        },
      },
      'Replay',
    );
    return h('span', { class: 'actions' }, button, ' ', note);
  };

  const render = (panels: LocalPanels) => {
    // A re-render must not take the keyboard's place or close what the reader opened.
    const focused = document.activeElement?.getAttribute('data-replay');
    const open = new Set(
      [...main.querySelectorAll('tr[data-request-id] details[open]')].map((details) =>
        details.closest('tr')?.getAttribute('data-request-id'),
      ),
    );
    draw(panels);
    for (const details of main.querySelectorAll<HTMLDetailsElement>('tr[data-request-id] details'))
      if (open.has(details.closest('tr')?.getAttribute('data-request-id'))) details.open = true;
    if (focused) main.querySelector<HTMLElement>(`button[data-replay="${CSS.escape(focused)}"]`)?.focus();
  };

  const draw = (panels: LocalPanels) => {
    replace(
      sections.deadLetters,
      h('h2', { id: 'dl-title' }, `Dead letters (${panels.deadLetters.length})`),
      h(
        'p',
        { class: 'muted' },
        'Events FC gave up on after its retries. Replay re-runs the pair as `algolib replay` does.',
      ),
      table(
        'Dead letters',
        ['Object', 'Error', 'Attempts', 'Request id', 'Replay'],
        panels.deadLetters.map((letter) =>
          h(
            'tr',
            { 'data-dead-letter': letter.requestId },
            cell('Object', h('code', {}, letter.key ?? '(not an OSS event)')),
            cell('Error', letter.error),
            cell('Attempts', letter.attempts),
            cell('Request id', h('code', {}, letter.requestId)),
            cell('Replay', replayButton(letter.packageKey)),
          ),
        ),
        'No dead letters: every event was handled.',
      ),
    );
    replace(
      sections.invocations,
      h('h2', { id: 'fc-title' }, `FC invocations (${panels.invocations.length})`),
      table(
        'FC invocations',
        ['Started', 'Trigger', 'Outcome', 'Duration', 'Request id', 'Log'],
        panels.invocations.map((invocation) =>
          h(
            'tr',
            { 'data-request-id': invocation.requestId },
            cell('Started', h('time', { datetime: invocation.startedAt }, formatTime(invocation.startedAt))),
            cell(
              'Trigger',
              invocation.trigger,
              invocation.key ? h('br') : undefined,
              invocation.key ? h('code', {}, invocation.key) : undefined,
            ),
            cell(
              'Outcome',
              h('span', { class: `badge outcome-${invocation.outcome}` }, invocation.outcome),
              invocation.errorType ? ` ${invocation.errorType}` : undefined,
              ` (${invocation.kind}, attempt ${invocation.attempt})`,
            ),
            cell('Duration', invocation.ms === undefined ? '…' : `${invocation.ms} ms`),
            cell('Request id', h('code', {}, invocation.requestId)),
            cell(
              'Log',
              invocation.lines.length === 0
                ? h('span', { class: 'muted' }, 'no lines')
                : h(
                    'details',
                    {},
                    h('summary', {}, `${invocation.lines.length} ${invocation.lines.length === 1 ? 'line' : 'lines'}`),
                    h('pre', { class: 'log' }, invocation.lines.join('\n')),
                  ),
            ),
          ),
        ),
        'No invocations yet.',
      ),
    );
    replace(
      sections.libraries,
      h('h2', { id: 'cv-title' }, `CityVisual libraries (${panels.libraries.length})`),
      table(
        'CityVisual libraries',
        ['AlgoLibId', 'Name', 'Version', 'Capabilities', 'Capacity', 'OSS path', 'Uploaded'],
        panels.libraries.map((library) =>
          h(
            'tr',
            {},
            cell('AlgoLibId', library.algoLibId),
            cell('Name', h('a', { href: `#/library/${encodeURIComponent(library.name)}` }, library.name)),
            cell('Version', library.version),
            cell('Capabilities', library.capabilities),
            cell('Capacity', library.capacity),
            cell('OSS path', h('code', {}, `${library.ossBucket}/${library.ossPath}`)),
            cell('Uploaded', library.uploadTime),
          ),
        ),
        'CityVisual has no libraries yet.',
      ),
    );
    replace(
      sections.deliveries,
      h('h2', { id: 'wh-title' }, `Webhook receiver (${panels.deliveries.length})`),
      panels.receiver
        ? undefined
        : h('p', { class: 'muted' }, 'Webhooks go to your own receiver (--webhook-url): nothing to show here.'),
      table(
        'Webhook deliveries',
        ['Received', 'Type', 'Library', 'Verified', 'Answer', 'webhook-id'],
        panels.deliveries.map((delivery) =>
          h(
            'tr',
            {},
            cell('Received', h('time', { datetime: delivery.receivedAt }, formatTime(delivery.receivedAt))),
            cell('Type', delivery.type),
            cell(
              'Library',
              delivery.name ? `${delivery.name}@${delivery.version ?? '?'}` : '—',
              ' ',
              delivery.state ? stateBadge(delivery.state) : undefined,
            ),
            cell(
              'Verified',
              delivery.verified
                ? h('span', { class: 'ok' }, '✓ signature verified')
                : h('strong', { class: 'bad' }, '✗ not verified'),
              delivery.duplicate ? ' (duplicate)' : undefined,
            ),
            cell('Answer', delivery.status),
            cell('webhook-id', h('code', {}, delivery.id)),
          ),
        ),
        'No deliveries yet.',
      ),
    );
  };

  return {
    async refresh() {
      const { data, changed } = await getJson<LocalPanels>('/api/local');
      if (changed) render(data);
    },
  };
};
