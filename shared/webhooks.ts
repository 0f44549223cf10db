/**
 * Signed webhook notifications (Standard Webhooks 1.0): every terminal status is POSTed to the configured endpoints,
 * signed with HMAC-SHA256 over `id.timestamp.body`, retried with full jitter while the invocation's deadline allows.
 * Delivery is at least once: `webhook-id` is stable across retries and duplicate events, so receivers dedupe on it.
 */
import { createHash, createHmac } from 'node:crypto';
import type { WebhookEndpoint } from './config.ts';
import type { Logger } from './log.ts';
import { type Deadline, fullJitterDelay } from './retry.ts';
import { type NotificationRecord, type RegistrationState, type StatusDocument, TERMINAL_STATES } from './status.ts';

export type WebhookType = `algolib.${Lowercase<RegistrationState>}`;

export type WebhookMessage = { type: WebhookType; timestamp: string; data: StatusDocument };

export type Notifier = {
  /**
   * Delivers `status` to every configured endpoint if its state is one of the configured states (default: the
   * terminal ones), skipping endpoints that `previous` already records as delivered with the same webhookId. Resolves
   * to the notifications record to store in the status document (previous records of other ids/endpoints kept), or
   * `undefined` when nothing was configured for this state (then the caller does not rewrite the status).
   * Never throws for a delivery failure.
   */
  notify(
    status: StatusDocument,
    previous: NotificationRecord[] | undefined,
    deadline: Deadline,
  ): Promise<NotificationRecord[] | undefined>;
};

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

/** Full-jitter backoff: first wait below 500 ms, never above 5 s. */
const BACKOFF = { baseMs: 500, maxDelayMs: 5_000, maxAttempts: 8 };
const USER_AGENT = 'algolib-pipeline';
/** 4xx answers that a later attempt can fix: Request Timeout, Conflict, Too Early, Too Many Requests. */
const RETRYABLE_4XX = new Set([408, 409, 425, 429]);

/** What one attempt came to: delivered, worth another try (maybe after `retryAfterMs`), or final. */
type Attempt =
  | { outcome: 'delivered'; status: number }
  | { outcome: 'retry'; status?: number; error: string; retryAfterMs?: number }
  | { outcome: 'stop'; status?: number; error: string };

const NOT_ATTEMPTED: Attempt = { outcome: 'stop', error: 'deadline reached before the first attempt' };

/**
 * The idempotency key of a notification: the same package (bucket/key), package etag, manifest etag and state always
 * give the same id, so retries, duplicate OSS events and FC re-runs carry one id.
 *
 * @example
 * ```ts
 * webhookIdOf(status); // 'msg_5f1c…' (msg_ + 32 hex chars)
 * ```
 */
export const webhookIdOf = (status: StatusDocument): string => {
  const { bucket, key, etag } = status.package;
  const identity = JSON.stringify([bucket, key, etag ?? null, status.manifest.etag ?? null, status.state]);
  return `msg_${createHash('sha256').update(identity).digest('hex').slice(0, 32)}`;
};

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
const endpointLabel = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid url)';
  }
};

/**
 * `Retry-After` as delay-seconds or an HTTP date, in ms from `nowMs`; `undefined` when absent or unreadable.
 *
 * @example
 * ```ts
 * parseRetryAfter('3', Date.now()); // 3000
 * ```
 */
export const parseRetryAfter = (value: string | null, nowMs: number): number | undefined => {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // HTTP dates start with the day name (IMF-fixdate, RFC 850, asctime); Date.parse alone would accept "-1".
  const date = /^[A-Za-z]{3}/.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
};

const classifyResponse = (response: Response, nowMs: number): Attempt => {
  const { status } = response;
  if (status >= 200 && status < 300) return { outcome: 'delivered', status };
  if (status === 410) return { outcome: 'stop', status, error: 'HTTP 410 Gone: the endpoint asked to stop' };
  // A redirect is a misconfigured URL; following it could send the signed payload somewhere unintended.
  if (status >= 300 && status < 400) {
    return { outcome: 'stop', status, error: `HTTP ${status}: redirects are not followed` };
  }
  if (status >= 500 || RETRYABLE_4XX.has(status)) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), nowMs);
    return { outcome: 'retry', status, error: `HTTP ${status}`, ...(retryAfterMs !== undefined && { retryAfterMs }) };
  }
  return { outcome: 'stop', status, error: `HTTP ${status}` };
};

/** A network failure as a short code; undici's messages are generic and its causes may name the address. */
const describeFailure = (error: unknown, timeoutMs: number): string => {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `timeout after ${timeoutMs} ms`;
  }
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  return error instanceof Error ? error.name : 'network error';
};

/** One endpoint's share of a notification: everything an attempt needs, and what the record and log name it by. */
type Delivery = { endpoint: WebhookEndpoint; label: string; id: string; type: WebhookType; body: string };

/**
 * Creates the notifier the pipeline calls after each status write.
 *
 * @example
 * ```ts
 * const notifier = createWebhookNotifier({ ...config.webhooks, log });
 * const notifications = await notifier.notify(status, status.notifications, deadline);
 * if (notifications) await writeStatus({ ...status, notifications });
 * ```
 */
export const createWebhookNotifier = (options: WebhookNotifierOptions): Notifier => {
  const {
    endpoints,
    states = TERMINAL_STATES,
    timeoutMs,
    log,
    maxAttempts = BACKOFF.maxAttempts,
    fetch: fetchImpl = globalThis.fetch,
    random = Math.random,
    sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    now = Date.now,
  } = options;

  /** One signed POST; the timestamp is the attempt's, so each retry is signed afresh. */
  const attemptOnce = async ({ endpoint, id, body }: Delivery, budgetMs: number): Promise<Attempt> => {
    const timestamp = Math.floor(now() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(endpoint.secrets, id, timestamp, body),
    };
    try {
      const init = {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(budgetMs),
      } as const;
      const response = await fetchImpl(endpoint.url, init);
      // Only the status matters; cancelling frees the connection without waiting for a slow body.
      await response.body?.cancel().catch(() => {});
      return classifyResponse(response, now());
    } catch (error) {
      return { outcome: 'retry', error: describeFailure(error, budgetMs) };
    }
  };

  /** The wait before the next attempt, or `undefined` when there is no room for one. */
  const waitBeforeRetry = (attempt: Attempt, attempts: number, deadline: Deadline): number | undefined => {
    if (attempt.outcome !== 'retry' || attempts >= maxAttempts) return undefined;
    const waitMs = attempt.retryAfterMs ?? fullJitterDelay(BACKOFF, attempts, random);
    // Another attempt needs time to run, not just to start; a Retry-After we cannot honour ends the delivery.
    return deadline.remaining() - waitMs >= Math.min(timeoutMs, BACKOFF.baseMs) ? waitMs : undefined;
  };

  /** The record of one delivery, logged once: host, id, attempts, status; never the URL, a secret or a signature. */
  const recordOf = ({ label, id, type }: Delivery, attempts: number, last: Attempt): NotificationRecord => {
    const delivered = last.outcome === 'delivered';
    const status = last.status;
    const error = last.outcome === 'delivered' ? undefined : last.error;
    log[delivered ? 'info' : 'warn']('webhook.delivery', {
      endpoint: label,
      webhookId: id,
      type,
      attempts,
      status,
      delivered,
      error,
    });
    return {
      endpoint: label,
      webhookId: id,
      type,
      delivered,
      attempts,
      ...(status !== undefined && { lastStatus: status }),
      ...(error !== undefined && { lastError: error }),
      at: new Date(now()).toISOString(),
    };
  };

  /** Attempts until delivered, refused for good, out of attempts, or out of time; never throws. */
  const deliver = async (delivery: Delivery, deadline: Deadline): Promise<NotificationRecord> => {
    let attempts = 0;
    let last: Attempt = NOT_ATTEMPTED;
    try {
      while (deadline.remaining() > 0) {
        attempts += 1;
        last = await attemptOnce(delivery, Math.min(timeoutMs, deadline.remaining()));
        const waitMs = waitBeforeRetry(last, attempts, deadline);
        if (waitMs === undefined) break;
        await sleep(waitMs);
      }
    } catch (error) {
      // Only an injected sleep can get here; a notification must never fail the pipeline.
      last = { outcome: 'stop', error: describeFailure(error, timeoutMs) };
    }
    return recordOf(delivery, attempts, last);
  };

  const deliveredBefore = (previous: NotificationRecord[] | undefined, { label, id }: Delivery) =>
    previous?.some((record) => record.endpoint === label && record.webhookId === id && record.delivered) ?? false;

  return {
    async notify(status, previous, deadline) {
      if (endpoints.length === 0 || !states.includes(status.state)) return undefined;
      const id = webhookIdOf(status);
      const message = messageOf(status, new Date(now()));
      // Serialised once: these exact bytes are signed and sent on every attempt.
      const body = JSON.stringify(message);
      const deliveries = endpoints.map((endpoint) => ({
        endpoint,
        label: endpointLabel(endpoint.url),
        id,
        type: message.type,
        body,
      }));
      const pending = deliveries.filter((delivery) => !deliveredBefore(previous, delivery));
      const fresh = await Promise.all(pending.map((delivery) => deliver(delivery, deadline)));
      const replaced = (old: NotificationRecord) =>
        fresh.some((record) => record.endpoint === old.endpoint && record.webhookId === old.webhookId);
      return [...(previous ?? []).filter((old) => !replaced(old)), ...fresh];
    },
  };
};
