/**
 * The notification part of the pipeline: one delivery loop for every channel (Standard Webhooks, chat robots).
 * A channel says how to build the request for a status and how to read the answer; the loop owns the rest — states,
 * the idempotency id, pacing, attempts through the one retry policy (shared/retry.ts), the deadline, the records.
 * Delivery is at least once per channel; a channel that `previous` records as delivered for the same id is skipped,
 * so duplicate events and FC re-runs add no second message.
 */
import { createHash } from 'node:crypto';
import { RemoteError } from './errors.ts';
import type { Logger } from './log.ts';
import { type Deadline, withRetry } from './retry.ts';
import type { NotificationRecord, RegistrationState, StatusDocument } from './status.ts';

export type NotificationKind = NonNullable<NotificationRecord['kind']>;

export type Notifier = {
  /**
   * Delivers `status` to every configured channel whose states include its state (default: the terminal ones),
   * skipping channels that `previous` already records as delivered with the same id. Resolves to the notifications
   * record to store in the status document (previous records of other ids/endpoints kept), or `undefined` when
   * nothing was configured for this state (then the caller does not rewrite the status).
   * Never throws for a delivery failure.
   */
  notify(
    status: StatusDocument,
    previous: NotificationRecord[] | undefined,
    deadline: Deadline,
  ): Promise<NotificationRecord[] | undefined>;
};

/** What one attempt came to: delivered, worth another try (maybe after `retryAfterMs`), or final. */
export type Attempt =
  | { outcome: 'delivered'; status: number }
  | { outcome: 'retry'; status?: number; error: string; retryAfterMs?: number }
  | { outcome: 'stop'; status?: number; error: string; fix?: string };

/** One status made ready for one channel: the record's `type`, and one attempt (built afresh, e.g. re-signed). */
export type PreparedMessage = { type: string; attempt(budgetMs: number): Promise<Attempt> };

/** One configured endpoint of one kind. */
export type Channel = {
  kind: NotificationKind;
  /** What records and logs name it by; never a full URL (a path or query may carry a token). */
  label: string;
  states: readonly RegistrationState[];
  prepare(status: StatusDocument, id: string, now: Date): PreparedMessage;
  /**
   * Reserves a send slot under the endpoint's rate limit at or before `latestMs` (epoch ms): resolves to the wait
   * in ms, or `undefined` when the next slot is later (then nothing is reserved and the delivery stops).
   */
  reserveSlot?(nowMs: number, latestMs: number): number | undefined;
};

export type NotifierOptions = {
  channels: readonly Channel[];
  /** Per-attempt timeout; an attempt never runs past the deadline either. */
  timeoutMs: number;
  log: Logger;
  /** Attempts per channel at most (default 8); the deadline usually stops retrying first. */
  maxAttempts?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
};

/** Full-jitter backoff: first wait below 500 ms, never above 5 s. */
export const NOTIFY_BACKOFF = { baseMs: 500, maxDelayMs: 5_000, maxAttempts: 8 };

/** 4xx answers that a later attempt can fix: Request Timeout, Conflict, Too Early, Too Many Requests. */
const RETRYABLE_4XX = new Set([408, 409, 425, 429]);

const NOT_ATTEMPTED: Attempt = { outcome: 'stop', error: 'deadline reached before the first attempt' };

/**
 * The idempotency key of a notification: the same package (bucket/key), package etag, manifest etag and state always
 * give the same id, so retries, duplicate OSS events and FC re-runs carry one id.
 *
 * @example
 * ```ts
 * notificationIdOf(status); // 'msg_5f1c…' (msg_ + 32 hex chars)
 * ```
 */
export const notificationIdOf = (status: StatusDocument): string => {
  const { bucket, key, etag } = status.package;
  const identity = JSON.stringify([bucket, key, etag ?? null, status.manifest.etag ?? null, status.state]);
  return `msg_${createHash('sha256').update(identity).digest('hex').slice(0, 32)}`;
};

/**
 * A network failure as a short code; undici's messages are generic and its causes may name the address.
 *
 * @example
 * ```ts
 * describeFailure(new DOMException('timed out', 'TimeoutError'), 1000); // 'timeout after 1000 ms'
 * ```
 */
export const describeFailure = (error: unknown, timeoutMs: number): string => {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `timeout after ${timeoutMs} ms`;
  }
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  return error instanceof Error ? error.name : 'network error';
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

/**
 * An HTTP answer as an attempt, for every channel: 2xx delivered; 410 and redirects final (a redirect is never
 * followed: it could carry a signed payload somewhere unintended); 408/409/425/429 and 5xx retried, after
 * `Retry-After` when given; any other 4xx final.
 *
 * @example
 * ```ts
 * classifyHttpStatus(503, '2', Date.now()); // { outcome: 'retry', status: 503, error: 'HTTP 503', retryAfterMs: 2000 }
 * ```
 */
export const classifyHttpStatus = (status: number, retryAfter: string | null, nowMs: number): Attempt => {
  if (status >= 200 && status < 300) return { outcome: 'delivered', status };
  if (status === 410) return { outcome: 'stop', status, error: 'HTTP 410 Gone: the endpoint asked to stop' };
  if (status >= 300 && status < 400) {
    return { outcome: 'stop', status, error: `HTTP ${status}: redirects are not followed` };
  }
  if (status >= 500 || RETRYABLE_4XX.has(status)) {
    const retryAfterMs = parseRetryAfter(retryAfter, nowMs);
    return { outcome: 'retry', status, error: `HTTP ${status}`, ...(retryAfterMs !== undefined && { retryAfterMs }) };
  }
  return { outcome: 'stop', status, error: `HTTP ${status}` };
};

/** Old records carry no kind: they are Standard Webhooks. */
const kindOf = (record: NotificationRecord): NotificationKind => record.kind ?? 'webhook';

const sameDelivery = (record: NotificationRecord, kind: NotificationKind, label: string, id: string) =>
  kindOf(record) === kind && record.endpoint === label && record.webhookId === id;

/**
 * Creates the notifier the pipeline calls after each status write: every channel is delivered concurrently, each
 * one's attempts in turn.
 *
 * @example
 * ```ts
 * const notifier = createNotifier({ channels: [...webhookChannels(config.webhooks), ...robots], timeoutMs, log });
 * const notifications = await notifier.notify(status, status.notifications, deadline);
 * if (notifications) await writeStatus({ ...status, notifications });
 * ```
 */
export const createNotifier = (options: NotifierOptions): Notifier => {
  const {
    channels,
    timeoutMs,
    log,
    maxAttempts = NOTIFY_BACKOFF.maxAttempts,
    random = Math.random,
    sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    now = Date.now,
  } = options;
  // An attempt needs time to run, not just to start.
  const minAttemptMs = Math.min(timeoutMs, NOTIFY_BACKOFF.baseMs);

  /** The record of one delivery, logged once: kind, label, id, attempts, status; never a URL, secret or signature. */
  const recordOf = (channel: Channel, id: string, type: string, attempts: number, last: Attempt) => {
    const delivered = last.outcome === 'delivered';
    const status = last.status;
    const error = last.outcome === 'delivered' ? undefined : last.error;
    const fix = last.outcome === 'stop' ? last.fix : undefined;
    log[delivered ? 'info' : 'warn'](channel.kind === 'webhook' ? 'webhook.delivery' : 'chat.delivery', {
      ...(channel.kind !== 'webhook' && { kind: channel.kind }),
      endpoint: channel.label,
      webhookId: id,
      type,
      attempts,
      status,
      delivered,
      error,
      ...(fix !== undefined && { fix }),
    });
    const record: NotificationRecord = {
      ...(channel.kind !== 'webhook' && { kind: channel.kind }),
      endpoint: channel.label,
      webhookId: id,
      type,
      delivered,
      attempts,
      ...(status !== undefined && { lastStatus: status }),
      ...(error !== undefined && { lastError: fix === undefined ? error : `${error}. Fix: ${fix}` }),
      at: new Date(now()).toISOString(),
    };
    return record;
  };

  /** Waits for the channel's rate-limit slot, then makes one attempt; a slot past the deadline ends the delivery. */
  const attemptOnce = async (channel: Channel, message: PreparedMessage, deadline: Deadline): Promise<Attempt> => {
    if (channel.reserveSlot) {
      const waitMs = channel.reserveSlot(now(), deadline.at - minAttemptMs);
      if (waitMs === undefined) {
        return { outcome: 'stop', error: `rate limit of this ${channel.kind} robot: no free slot before the deadline` };
      }
      if (waitMs > 0) await sleep(waitMs);
    }
    // A late timer (a busy machine) can wake past the deadline; an attempt then has no budget at all.
    const budgetMs = Math.min(timeoutMs, deadline.remaining());
    if (budgetMs <= 0) return { outcome: 'stop', error: 'deadline reached before the attempt' };
    return message.attempt(budgetMs);
  };

  /** Attempts through the one retry policy until delivered, refused, out of attempts or out of time; never throws. */
  const deliver = async (channel: Channel, message: PreparedMessage, id: string, deadline: Deadline) => {
    let attempts = 0;
    let last: Attempt = NOT_ATTEMPTED;
    if (deadline.remaining() > 0) {
      try {
        await withRetry(
          async () => {
            attempts += 1;
            last = await attemptOnce(channel, message, deadline);
            if (last.outcome === 'delivered') return;
            throw new RemoteError(
              {
                service: channel.kind === 'webhook' ? 'webhook' : 'chat-robot',
                code: last.error,
                retryable: last.outcome === 'retry',
                httpStatus: last.status,
              },
              last.error,
            );
          },
          {
            policy: { ...NOTIFY_BACKOFF, maxAttempts },
            deadline,
            minAttemptMs,
            delayOf: () => (last.outcome === 'retry' ? last.retryAfterMs : undefined),
            random,
            sleep,
          },
        );
      } catch (error) {
        // Our own RemoteError carries `last`; anything else (only an injected sleep can throw) ends the delivery.
        if (!(error instanceof RemoteError)) last = { outcome: 'stop', error: describeFailure(error, timeoutMs) };
      }
    }
    return recordOf(channel, id, message.type, attempts, last);
  };

  return {
    async notify(status, previous, deadline) {
      const active = channels.filter((channel) => channel.states.includes(status.state));
      if (active.length === 0) return undefined;
      const id = notificationIdOf(status);
      const at = new Date(now());
      const pending = active.filter(
        (channel) =>
          !previous?.some((record) => record.delivered && sameDelivery(record, channel.kind, channel.label, id)),
      );
      const fresh = await Promise.all(
        pending.map((channel) => deliver(channel, channel.prepare(status, id, at), id, deadline)),
      );
      const replaced = (old: NotificationRecord) =>
        fresh.some((record) => sameDelivery(old, kindOf(record), record.endpoint, record.webhookId));
      return [...(previous ?? []).filter((old) => !replaced(old)), ...fresh];
    },
  };
};
