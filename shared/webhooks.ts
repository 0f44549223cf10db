/**
 * The Standard Webhooks 1.0 channel: every terminal status is POSTed to the configured endpoints, signed with
 * HMAC-SHA256 over `id.timestamp.body`; the shared delivery loop (shared/notifier.ts) retries it with full jitter
 * while the invocation's deadline allows. `webhook-id` is stable across retries and duplicate events, so receivers
 * dedupe on it.
 */
import { createHmac } from 'node:crypto';
import type { WebhookEndpoint } from './config.ts';
import type { Logger } from './log.ts';
import {
  type Attempt,
  type Channel,
  classifyHttpStatus,
  createNotifier,
  describeFailure,
  type Notifier,
  notificationIdOf,
  parseRetryAfter,
} from './notifier.ts';
import { type RegistrationState, type StatusDocument, TERMINAL_STATES } from './status.ts';

export type { Notifier };
export { parseRetryAfter };

export type WebhookType = `algolib.${Lowercase<RegistrationState>}`;

export type WebhookMessage = { type: WebhookType; timestamp: string; data: StatusDocument };

export type WebhookNotifierOptions = {
  endpoints: WebhookEndpoint[];
  states?: readonly RegistrationState[];
  /** Per-attempt timeout; an attempt never runs past the deadline either. */
  timeoutMs: number;
  log: Logger;
  /** Attempts per endpoint at most (default 8); the deadline usually stops retrying first. */
  maxAttempts?: number;
  fetch?: typeof fetch;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
};

const USER_AGENT = 'algolib-pipeline';

/**
 * The idempotency key of a notification: the same package (bucket/key), package etag, manifest etag and state always
 * give the same id, so retries, duplicate OSS events and FC re-runs carry one id.
 *
 * @example
 * ```ts
 * webhookIdOf(status); // 'msg_5f1c…' (msg_ + 32 hex chars)
 * ```
 */
export const webhookIdOf = (status: StatusDocument): string => notificationIdOf(status);

/** Secrets are `whsec_` + base64 of the key bytes, as the reference library reads them (never as UTF-8 text). */
const keyOf = (secret: string): Buffer => Buffer.from(secret.replace(/^whsec_/, ''), 'base64');

/**
 * The `webhook-signature` header value: one `v1,<base64 HMAC-SHA256>` per secret, space-separated, so a receiver
 * holding either the old or the new secret verifies during a rotation.
 *
 * @example
 * ```ts
 * signWebhook(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
 * // 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
 * ```
 */
export const signWebhook = (secrets: readonly string[], id: string, timestampSeconds: number, body: string): string => {
  const content = `${id}.${timestampSeconds}.${body}`;
  return secrets
    .map((secret) => `v1,${createHmac('sha256', keyOf(secret)).update(content).digest('base64')}`)
    .join(' ');
};

/**
 * The payload of a notification: `{type, timestamp, data}` with the status document as `data`, without its
 * `notifications` (delivery bookkeeping is ours, not the receiver's).
 *
 * @example
 * ```ts
 * messageOf(status, new Date()); // { type: 'algolib.registered', timestamp: '2026-11-29T12:00:00.000Z', data: {…} }
 * ```
 */
export const messageOf = (status: StatusDocument, now: Date): WebhookMessage => {
  const { notifications: _bookkeeping, ...data } = status;
  return {
    type: `algolib.${status.state.toLowerCase() as Lowercase<RegistrationState>}`,
    timestamp: now.toISOString(),
    data,
  };
};

/** What records and logs name an endpoint by: host and port only, since the path or query may carry a token. */
export const endpointLabel = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid url)';
  }
};

/**
 * One endpoint as a channel: a signed POST of `{type, timestamp, data}`, serialised once per status and re-signed with
 * each attempt's own timestamp.
 *
 * @example
 * ```ts
 * const channels = config.webhooks.endpoints.map((endpoint) => webhookChannel(endpoint, { states }));
 * ```
 */
export const webhookChannel = (
  endpoint: WebhookEndpoint,
  options: { states?: readonly RegistrationState[]; fetch?: typeof fetch; now?: () => number } = {},
): Channel => {
  const { states = TERMINAL_STATES, fetch: fetchImpl = globalThis.fetch, now = Date.now } = options;
  return {
    kind: 'webhook',
    label: endpointLabel(endpoint.url),
    states,
    prepare(status, id, at) {
      const message = messageOf(status, at);
      // Serialised once: these exact bytes are signed and sent on every attempt.
      const body = JSON.stringify(message);
      return {
        type: message.type,
        async attempt(budgetMs): Promise<Attempt> {
          const timestamp = Math.floor(now() / 1000);
          const headers = {
            'content-type': 'application/json',
            'user-agent': USER_AGENT,
            'webhook-id': id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signWebhook(endpoint.secrets, id, timestamp, body),
          };
          try {
            const init = { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(budgetMs) };
            const response = await fetchImpl(endpoint.url, init as RequestInit);
            // Only the status matters; cancelling frees the connection without waiting for a slow body.
            await response.body?.cancel().catch(() => {});
            return classifyHttpStatus(response.status, response.headers.get('retry-after'), now());
          } catch (error) {
            return { outcome: 'retry', error: describeFailure(error, budgetMs) };
          }
        },
      };
    },
  };
};

/**
 * Creates a notifier over the configured webhook endpoints only (the pipeline combines them with the chat robots in
 * functions/register/deps.ts).
 *
 * @example
 * ```ts
 * const notifier = createWebhookNotifier({ ...config.webhooks, log });
 * const notifications = await notifier.notify(status, status.notifications, deadline);
 * ```
 */
export const createWebhookNotifier = (options: WebhookNotifierOptions): Notifier => {
  const { endpoints, states, fetch, now, ...rest } = options;
  const channelOptions = { ...(states && { states }), ...(fetch && { fetch }), ...(now && { now }) };
  return createNotifier({
    ...rest,
    ...(now && { now }),
    channels: endpoints.map((endpoint) => webhookChannel(endpoint, channelOptions)),
  });
};
