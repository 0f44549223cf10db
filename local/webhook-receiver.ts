/**
 * The local cloud's webhook receiver: a loopback `node:http` server that verifies every delivery with the reference
 * `standardwebhooks` library (so our signer is checked by code that is not ours) and remembers what it received.
 *
 * - `POST <path>` only (405 for other methods, 404 for other paths, 413 over 1 MiB).
 * - A bad or missing signature, or a timestamp outside the library's ±5 min tolerance → 401; recorded, never scripted.
 * - A verified delivery gets the next scripted answer (`respondWith`), then 204. A `delayMs` step stalls before
 *   answering, as a hanging endpoint would; close() cuts the stall short and drops the socket.
 * - `duplicate` is true when a delivery with the same webhook-id was already accepted (its answer was 2xx): a retry
 *   after a 500 is not a duplicate, a second delivery after a 204 is, and so is a retry after a slow 204 the sender
 *   gave up waiting for (the receiver had processed it). This is what a receiver's dedupe table would say.
 * - One log entry per request: `{service:'webhook', id, type, verified, duplicate, status}`; never a header or secret.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import {
  BodyTooLargeError,
  closeServer,
  httpOrigin,
  listen,
  loopbackHost,
  readBody,
  shutdownController,
} from './http-server.ts';

export type WebhookReceiverOptions = {
  host?: string;
  port?: number;
  /** `whsec_` + base64; a fresh 32-byte secret when absent. */
  secret?: string;
  /** Default `/webhooks/algolib`. */
  path?: string;
  log?: (entry: Record<string, unknown>) => void;
};

export type ReceivedDelivery = {
  id: string;
  timestamp: number;
  type: string;
  verified: boolean;
  duplicate: boolean;
  body: unknown;
  /** The HTTP status the receiver answered (401 when unverified, else the scripted one or 204). */
  status: number;
  receivedAt: string;
};

export type ScriptedResponse = { status?: number; delayMs?: number; retryAfter?: string };

export type WebhookReceiver = {
  /** `http://127.0.0.1:PORT/webhooks/algolib` */
  url: string;
  secret: string;
  /** A copy of every request received on the path, in arrival order. */
  deliveries(): ReceivedDelivery[];
  /**
   * Scripts the answers to the next verified deliveries, e.g. `[{status:500},{status:200}]`, `[{status:410}]`,
   * `[{delayMs: 5000}]` (hang), `[{status:429, retryAfter:'1'}]`; afterwards 204. Replaces any unused script.
   */
  respondWith(script: ScriptedResponse[]): void;
  /** Closes the server and every socket, even one held by a hanging scripted answer. */
  close(): Promise<void>;
};

const DEFAULT_PATH = '/webhooks/algolib';
const MAX_BODY_BYTES = 1 << 20;

/** Node gives repeated headers as arrays; webhook headers are single-valued, so the first one counts. */
const headerOf = (req: IncomingMessage, name: string): string => {
  const value = req.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
};

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
};

const typeOf = (body: unknown): string =>
  typeof body === 'object' && body !== null && 'type' in body && typeof body.type === 'string' ? body.type : '';

/**
 * Starts the receiver on loopback (port 0 = any free port).
 *
 * @example
 * ```ts
 * const receiver = await startWebhookReceiver();
 * // WEBHOOK_ENDPOINTS=[{"url": receiver.url, "secrets": [receiver.secret]}]
 * ```
 */
export const startWebhookReceiver = async (options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> => {
  const host = loopbackHost(options.host ?? '127.0.0.1');
  const path = options.path ?? DEFAULT_PATH;
  const secret = options.secret ?? `whsec_${randomBytes(32).toString('base64')}`;
  const webhook = new Webhook(secret);
  const log = options.log ?? (() => {});
  const received: ReceivedDelivery[] = [];
  const accepted = new Set<string>();
  let script: ScriptedResponse[] = [];
  // Aborted by close(): ends the stalls of hanging scripted answers so nothing keeps running.
  const shutdown = shutdownController();

  const verifies = (raw: string, req: IncomingMessage): boolean => {
    try {
      webhook.verify(raw, {
        'webhook-id': headerOf(req, 'webhook-id'),
        'webhook-timestamp': headerOf(req, 'webhook-timestamp'),
        'webhook-signature': headerOf(req, 'webhook-signature'),
      });
      return true;
    } catch {
      return false;
    }
  };

  const answer = (res: ServerResponse, status: number, retryAfter?: string) => {
    if (res.destroyed) return;
    res.writeHead(status, retryAfter === undefined ? {} : { 'retry-after': retryAfter });
    res.end();
  };

  const receive = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = (await readBody(req, { maxBytes: MAX_BODY_BYTES })).toString('utf8');
    const verified = verifies(raw, req);
    const step = verified ? script.shift() : undefined;
    const status = verified ? (step?.status ?? 204) : 401;
    const id = headerOf(req, 'webhook-id');
    const body = parseJson(raw);
    const duplicate = verified && accepted.has(id);
    if (verified && status >= 200 && status < 300) accepted.add(id);
    received.push({
      id,
      timestamp: Number.parseInt(headerOf(req, 'webhook-timestamp'), 10),
      type: typeOf(body),
      verified,
      duplicate,
      body,
      status,
      receivedAt: new Date().toISOString(),
    });
    log({ service: 'webhook', id, type: typeOf(body), verified, duplicate, status });
    if (step?.delayMs) await delay(step.delayMs, undefined, { signal: shutdown.signal }).catch(() => {});
    answer(res, status, step?.retryAfter);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const pathname = new URL(req.url ?? '/', 'http://receiver').pathname;
    if (pathname !== path) return answer(res, 404);
    if (req.method !== 'POST') return answer(res, 405);
    receive(req, res).catch((error: unknown) => answer(res, error instanceof BodyTooLargeError ? 413 : 400));
  };

  const server = createServer(handle);
  const port = await listen(server, options.port ?? 0, host);

  return {
    url: `${httpOrigin(host, port)}${path}`,
    secret,
    deliveries: () => received.map((delivery) => ({ ...delivery })),
    respondWith: (next) => {
      script = [...next];
    },
    close: async () => {
      shutdown.abort();
      await closeServer(server);
    },
  };
};
