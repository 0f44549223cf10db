/**
 * The console's HTTP server (`node:http`, 127.0.0.1 only): the page's three files and a small JSON API the page
 * polls with ETags. Safe by default:
 * - loopback only, and a `Host` header naming this loopback port (a DNS-rebinding page cannot read the API);
 * - the credentials stay in this process: responses carry status documents, records and emulator views, and every
 *   response body is checked against the secrets this process holds and has them replaced before it is sent;
 * - the only state-changing route (`POST /api/replay`) needs the per-process token the page carries and a JSON body,
 *   and exists only when a replay function is given (the local cloud, or `--allow-replay`);
 * - a Content-Security-Policy that allows this origin only (no CDN, no inline script).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MANIFEST_SUFFIX, PACKAGE_SUFFIX } from '../shared/keys.ts';
import { type Asset, loadAssets } from './assets.ts';
import { type LocalSources, localPanels } from './local-panels.ts';
import { libraryDetail, libraryRows } from './registry.ts';
import { createRegistryCache } from './registry-cache.ts';
import type { ConsoleStore } from './store.ts';

export type ReplayKeys = { packageKey: string; manifestKey: string };

export type ConsoleOptions = {
  store: ConsoleStore;
  statusPrefix: string;
  /** What the page says it is looking at, e.g. `local cloud` or `oss://my-algolibs`. */
  targetLabel: string;
  /** The emulators of a local cloud in this process: turns on the local panels. */
  local?: LocalSources;
  /** Re-runs a pair as `algolib replay` does; without it the console is read-only. */
  replay?: (keys: ReplayKeys) => Promise<{ requestId: string }>;
  /** Every secret this process holds (credentials, webhook secrets): none may appear in a response. */
  secrets: () => Array<string | undefined>;
  port?: number;
  /** How often the page polls (default 2000 ms). */
  pollMs?: number;
  /** The least time between two LISTs of the bucket (default 1000 ms). */
  minRefreshMs?: number;
  /** The most status objects read (default 20,000); beyond it the page says the view is truncated. */
  maxObjects?: number;
  /** Where the page's files are (default: this package). */
  root?: string;
  log?: (entry: Record<string, unknown>) => void;
};

export type ConsoleServer = {
  url: string;
  /** The per-process token a state-changing request must carry (the page reads it from its own HTML). */
  token: string;
  close(): Promise<void>;
};

const MAX_MANIFEST_BYTES = 256 * 1024;
const MAX_BODY_BYTES = 16 * 1024;
const TOKEN_HEADER = 'x-algolib-console-token';
const REDACTED = '[redacted]';

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Replaces every secret (8 characters or more: shorter values are not credentials) in `text`. */
export const scrubSecrets = (text: string, secrets: Array<string | undefined>): string => {
  let scrubbed = text;
  for (const secret of secrets) if (secret && secret.length >= 8) scrubbed = scrubbed.replaceAll(secret, REDACTED);
  return scrubbed;
};

const readBody = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'Expected a request body under 16 KiB');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
};

const sameToken = (given: string | undefined, token: string): boolean => {
  if (given === undefined || given.length !== token.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(token));
};

/** The pair a replay request names: the package's key or the manifest's. */
const replayKeysOf = (body: string): ReplayKeys => {
  let key: unknown;
  try {
    key = (JSON.parse(body) as { packageKey?: unknown }).packageKey;
  } catch {
    throw new HttpError(400, 'Expected a JSON body {"packageKey": "library/…tar.gz"}');
  }
  if (typeof key !== 'string' || !(key.endsWith(PACKAGE_SUFFIX) || key.endsWith(MANIFEST_SUFFIX)))
    throw new HttpError(400, `Expected \`packageKey\` to end with ${PACKAGE_SUFFIX}, got ${JSON.stringify(key)}`);
  const base = key.endsWith(PACKAGE_SUFFIX)
    ? key.slice(0, -PACKAGE_SUFFIX.length)
    : key.slice(0, -MANIFEST_SUFFIX.length);
  return { packageKey: `${base}${PACKAGE_SUFFIX}`, manifestKey: `${base}${MANIFEST_SUFFIX}` };
};

/**
 * Starts the console on 127.0.0.1 (port 0: any free port).
 *
 * @example
 * ```ts
 * const console = await startConsoleServer({ store, statusPrefix: 'status/', targetLabel: 'local cloud', secrets: () => [] });
 * console.url; // 'http://127.0.0.1:43121/'
 * ```
 */
export const startConsoleServer = async (options: ConsoleOptions): Promise<ConsoleServer> => {
  const assets = loadAssets(options.root);
  const token = randomBytes(24).toString('base64url');
  const log = options.log ?? (() => {});
  const cache = createRegistryCache(options.store, {
    statusPrefix: options.statusPrefix,
    minIntervalMs: options.minRefreshMs ?? 1000,
    maxObjects: options.maxObjects ?? 20_000,
  });
  const index = (assets.get('index.html') as Asset).body.toString('utf8').replace('%TOKEN%', token);
  const config = {
    target: options.targetLabel,
    bucket: options.store.bucket,
    statusPrefix: options.statusPrefix,
    local: options.local !== undefined,
    replay: options.replay !== undefined,
    pollMs: options.pollMs ?? 2000,
  };
  let port = 0;

  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: Buffer,
    type: string,
    cacheControl: string,
  ) => {
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const headers = { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': cacheControl, etag };
    if (status === 200 && req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(status, { ...headers, 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const sendJson = (req: IncomingMessage, res: ServerResponse, status: number, payload: unknown) =>
    send(
      req,
      res,
      status,
      Buffer.from(scrubSecrets(JSON.stringify(payload), options.secrets())),
      'application/json; charset=utf-8',
      'no-cache',
    );

  const manifest = async (key: string) => {
    const { objects } = await cache.current();
    // Only manifests the registry points at: the console is not a general bucket reader.
    const known = [...objects.statuses.values()].some((document) => document.manifest?.key === key);
    if (!known) throw new HttpError(404, `Expected the key of a manifest a status document names, got ${key}`);
    const text = await options.store.getText(key, MAX_MANIFEST_BYTES + 1);
    if (text === undefined) throw new HttpError(404, `The manifest ${key} is no longer in the bucket`);
    return { key, text: text.slice(0, MAX_MANIFEST_BYTES), truncated: text.length > MAX_MANIFEST_BYTES };
  };

  const replay = async (req: IncomingMessage) => {
    if (!options.replay)
      throw new HttpError(
        405,
        'This console is read-only: replay is on for the local cloud, or with `algolib console --allow-replay`',
      );
    if (!sameToken(req.headers[TOKEN_HEADER] as string | undefined, token))
      throw new HttpError(403, `Expected the console's token in ${TOKEN_HEADER} (reload the page)`);
    if (!String(req.headers['content-type']).startsWith('application/json'))
      throw new HttpError(415, 'Expected Content-Type: application/json');
    const keys = replayKeysOf(await readBody(req));
    const { objects } = await cache.current();
    const known =
      [...objects.statuses.values()].some((document) => document.package.key === keys.packageKey) ||
      (options.local
        ? localPanels(options.local).deadLetters.some((letter) => letter.packageKey === keys.packageKey)
        : false);
    if (!known) throw new HttpError(404, `Expected a pair the console shows, got ${keys.packageKey}`);
    const { requestId } = await options.replay(keys);
    log({ service: 'console', event: 'replay', key: keys.packageKey, requestId });
    return { requestId, packageKey: keys.packageKey };
  };

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://console');
    const { pathname } = url;
    const method = req.method ?? 'GET';
    if (method === 'POST' && pathname === '/api/replay') return sendJson(req, res, 202, await replay(req));
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `Expected GET, got ${method}`);
    if (pathname === '/' || pathname === '/index.html')
      return send(req, res, 200, Buffer.from(index), 'text/html; charset=utf-8', 'no-store');
    const asset = assets.get(pathname.slice(1));
    if (asset && pathname !== '/index.html') return send(req, res, 200, asset.body, asset.type, 'no-cache');
    if (pathname === '/api/config') return sendJson(req, res, 200, config);
    if (pathname === '/api/libraries') {
      const { objects, version, truncated } = await cache.current();
      return sendJson(req, res, 200, { version, truncated, rows: libraryRows(objects) });
    }
    if (pathname.startsWith('/api/libraries/')) {
      const name = decodeURIComponent(pathname.slice('/api/libraries/'.length));
      const detail = libraryDetail(name, (await cache.current()).objects);
      if (!detail) throw new HttpError(404, `No library named ${name} in this bucket's status documents`);
      return sendJson(req, res, 200, detail);
    }
    if (pathname === '/api/manifest') return sendJson(req, res, 200, await manifest(url.searchParams.get('key') ?? ''));
    if (pathname === '/api/local') {
      if (!options.local) throw new HttpError(404, 'Local cloud panels exist only on the local cloud');
      return sendJson(req, res, 200, localPanels(options.local));
    }
    throw new HttpError(404, `Nothing at ${pathname}`);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    // Only this loopback origin: a page on another name that resolves here (DNS rebinding) gets nothing.
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      sendJson(req, res, 421, { error: `Expected Host 127.0.0.1:${port}, got ${host || 'none'}` });
      return;
    }
    route(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 502;
      const message = error instanceof Error ? error.message : String(error);
      if (!(error instanceof HttpError)) log({ service: 'console', event: 'error', message });
      if (!res.headersSent) sendJson(req, res, status, { error: message });
    });
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    token,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
};
