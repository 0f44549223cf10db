/**
 * The console page: a hash router over three views (libraries, a library, the local cloud) and one polling loop.
 * The loop asks the current view to refresh every `pollMs` with conditional GETs, backs off to 10 s while the
 * server does not answer, and pauses while the tab is hidden, so an open tab costs one small request per interval.
 */
import { getJson } from './api.ts';
import { h, replace } from './dom.ts';
import { librariesView } from './libraries-view.ts';
import { libraryView } from './library-view.ts';
import { localView } from './local-view.ts';
import type { Config, View } from './view.ts';

const MAX_BACKOFF_MS = 10_000;

const main = document.getElementById('main') as HTMLElement;
const live = document.getElementById('live') as HTMLElement;
let config: Config;
let view: View | undefined;
let failures = 0;
let timer: number | undefined;

const viewFor = (hash: string): { view: View; title: string; nav: string } => {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const library = /^\/library\/(.+)$/.exec(path);
  if (library) {
    const name = decodeURIComponent(library[1] as string);
    return { view: libraryView(main, config, name), title: `${name} · algolib console`, nav: 'libraries' };
  }
  if (path === '/local' && config.local)
    return { view: localView(main, config), title: 'Local cloud · algolib console', nav: 'local' };
  return {
    view: librariesView(main, config, new URLSearchParams(query)),
    title: 'Libraries · algolib console',
    nav: 'libraries',
  };
};

/** The connection line is a live region: change its text only when the news changes, or it is read out every poll. */
const say = (text: string, className: string) => {
  if (live.textContent !== text) live.textContent = text;
  live.className = className;
};

const tick = async () => {
  window.clearTimeout(timer);
  if (!view) return;
  try {
    await view.refresh();
    failures = 0;
    say('live', 'live');
    live.title = `Last checked ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    failures += 1;
    say(`cannot reach the console server (${(error as Error).message}); retrying`, 'live down');
  }
  const delay = Math.min(config.pollMs * 2 ** failures, MAX_BACKOFF_MS);
  if (!document.hidden) timer = window.setTimeout(tick, delay);
};

const route = () => {
  const next = viewFor(location.hash);
  view = next.view;
  document.title = next.title;
  for (const link of document.querySelectorAll<HTMLAnchorElement>('[data-nav]'))
    link.toggleAttribute('aria-current', link.dataset.nav === next.nav);
  void tick();
};

const start = async () => {
  try {
    config = (await getJson<Config>('/api/config')).data;
  } catch (error) {
    replace(main, h('p', { class: 'notice' }, `The console server did not answer: ${(error as Error).message}`));
    return;
  }
  (document.getElementById('target') as HTMLElement).textContent = `${config.target} · ${config.statusPrefix}`;
  (document.getElementById('nav-local') as HTMLElement).hidden = !config.local;
  let lastPath = location.hash.split('?')[0];
  window.addEventListener('hashchange', () => {
    // The libraries view rewrites its own query (search, filter); only a new path is a new page.
    const path = location.hash.split('?')[0];
    if (path === lastPath || (path === '' && lastPath === '#/') || (path === '#/' && lastPath === '')) return;
    lastPath = path;
    route();
    main.focus();
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void tick();
  });
  document.addEventListener('keydown', (event) => {
    const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement;
    if (event.key === '/' && !typing && view?.focusSearch) {
      event.preventDefault();
      view.focusSearch();
    }
  });
  route();
};

void start();
