/**
 * Waiting for a registration's answer: poll the status object until it holds a terminal state that belongs to what
 * we uploaded (or re-ran), early at first and then backing off to 2 s, bounded by a timeout. The clock and sleep are
 * injected so the loop is tested without waiting.
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
/**
 * The sleeps before each poll: the first poll comes 100 ms after the manifest is stored, because a registration itself
 * takes a few ms and what the user waits for is mostly the trigger's delivery (tens of ms on the local cloud, more on
 * FC); then the sleeps grow to 2 s. That is at most 4 requests in the first second and one per 2 s after the fourth
 * second: a few times a second at most, never a busy loop. (It used to poll at once and then after 250, 500, 1000 ms:
 * the first poll could not find an answer and the second came 250 ms late; docs/bench.md, "Publish → answer".)
 */
export const POLL_SCHEDULE_MS = [100, 150, 250, 500, 1_000, 2_000] as const;
export const FIRST_POLL_MS = POLL_SCHEDULE_MS[0];
export const MAX_POLL_MS = 2_000;

/** The sleep after one of `previous` ms: 100, 150, 250, 500, 1000, 2000, 2000, … ms. */
export const nextPollMs = (previous: number): number => POLL_SCHEDULE_MS.find((ms) => ms > previous) ?? MAX_POLL_MS;

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
  // Bounded: every pass sleeps 100 ms of the clock or more, or what is left of the timeout, after which the loop ends.
  // The first read waits too: right after the upload the function has not run yet.
  for (let pollMs: number = FIRST_POLL_MS; ; pollMs = nextPollMs(pollMs)) {
    await sleepUnless(sleep, Math.min(pollMs, Math.max(0, options.timeoutMs - (now() - started))), options.signal);
    if (options.signal?.aborted) return { outcome: 'stopped', last };
    const status = await options.read();
    if (status) last = status;
    const elapsed = now() - started;
    options.onPoll?.(status, elapsed);
    if (status && isTerminal(status.state) && options.isOurs(status)) return { outcome: 'done', status };
    if (options.timeoutMs - elapsed <= 0) return { outcome: 'timed-out', last };
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
