/**
 * Waiting for a registration's answer: poll the status object until it holds a terminal state that belongs to what
 * we uploaded (or re-ran), backing off from 250 ms to 2 s, bounded by a timeout. The clock and sleep are injected so
 * the loop is tested without waiting.
 */
import type { StatusDocument } from '../shared/status.ts';
import { isTerminal } from '../shared/status.ts';
import type { Bucket } from './bucket.ts';
import { formatDuration, type Output } from './output.ts';

export type WaitOptions = {
  read(): Promise<StatusDocument | undefined>;
  /** Whether a terminal status is the answer we wait for (and not one left by an earlier upload). */
  isOurs(status: StatusDocument): boolean;
  timeoutMs: number;
  /** Told what each poll saw, for a spinner. */
  onPoll?(status: StatusDocument | undefined, elapsedMs: number): void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Stops waiting (Ctrl-C): the result is `stopped`, with the latest status seen. */
  signal?: AbortSignal;
};

export type WaitResult =
  | { outcome: 'done'; status: StatusDocument }
  /** `last` is the latest status seen, if any (PENDING, or a stale terminal one). */
  | { outcome: 'timed-out'; last: StatusDocument | undefined }
  /** The caller stopped waiting (`signal`); the registration itself goes on. */
  | { outcome: 'stopped'; last: StatusDocument | undefined };

/** How long `--wait` waits by default (`--timeout`). */
export const DEFAULT_TIMEOUT_SECONDS = 300;
export const FIRST_POLL_MS = 250;
export const MAX_POLL_MS = 2_000;

/** 250, 500, 1000, 2000, 2000, … ms. */
export const nextPollMs = (previous: number): number => Math.min(previous * 2, MAX_POLL_MS);

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `sleep(ms)`, cut short when `signal` aborts. */
const sleepUnless = (sleep: (ms: number) => Promise<void>, ms: number, signal: AbortSignal | undefined) =>
  signal
    ? Promise.race([
        sleep(ms),
        new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          signal.addEventListener('abort', () => resolve(), { once: true });
        }),
      ])
    : sleep(ms);

/**
 * Polls until the status is terminal and ours, or the timeout passes.
 *
 * @example
 * ```ts
 * const result = await waitForStatus({ read: () => bucket.readJson(statusKey), isOurs: (s) => s.manifest.etag === etag, timeoutMs: 300_000 });
 * ```
 */
export const waitForStatus = async (options: WaitOptions): Promise<WaitResult> => {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const started = now();
  let last: StatusDocument | undefined;
  // Bounded: every pass sleeps at least 250 ms of the clock, and the loop ends once timeoutMs has passed.
  for (let pollMs = FIRST_POLL_MS; ; pollMs = nextPollMs(pollMs)) {
    if (options.signal?.aborted) return { outcome: 'stopped', last };
    const status = await options.read();
    if (status) last = status;
    const elapsed = now() - started;
    options.onPoll?.(status, elapsed);
    if (status && isTerminal(status.state) && options.isOurs(status)) return { outcome: 'done', status };
    const remaining = options.timeoutMs - elapsed;
    if (remaining <= 0) return { outcome: 'timed-out', last };
    await sleepUnless(sleep, Math.min(pollMs, remaining), options.signal);
  }
};

export type RegistrationWait = {
  bucket: Pick<Bucket, 'readJson'>;
  statusKey: string;
  /** What the spinner says is being registered (`face@1.2.0`). */
  label: string;
  isOurs(status: StatusDocument): boolean;
  timeoutMs: number;
  out: Output;
  signal?: AbortSignal;
};

const spinnerText = (label: string, status: StatusDocument | undefined, elapsedMs: number): string => {
  const state = status
    ? `${status.state}${status.waitingFor ? ` (waiting for the ${status.waitingFor})` : ''}`
    : 'no status yet';
  return `registering ${label}: ${state} ${formatDuration(elapsedMs)}`;
};

/**
 * `waitForStatus` over a bucket's status object, with a spinner showing the state and the time elapsed (on a TTY).
 *
 * @example
 * ```ts
 * await waitForRegistration({ bucket, statusKey, label: 'face@1.2.0', isOurs: (s) => s.manifest.etag === etag, timeoutMs, out });
 * ```
 */
export const waitForRegistration = async (wait: RegistrationWait): Promise<WaitResult> => {
  const spinner = wait.out.spinner(spinnerText(wait.label, undefined, 0));
  try {
    return await waitForStatus({
      read: () => wait.bucket.readJson<StatusDocument>(wait.statusKey),
      isOurs: wait.isOurs,
      timeoutMs: wait.timeoutMs,
      onPoll: (status, elapsedMs) => spinner.update(spinnerText(wait.label, status, elapsedMs)),
      ...(wait.signal ? { signal: wait.signal } : {}),
    });
  } finally {
    spinner.stop();
  }
};
