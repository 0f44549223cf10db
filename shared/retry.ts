/**
 * The one retry policy: p-retry with capped exponential backoff and full jitter, bounded by the invocation's
 * deadline. Only `RemoteError`s marked retryable are retried; everything else stops at once (p-retry's AbortError idea).
 */
import pRetry from 'p-retry';
import { RemoteError } from './errors.ts';

export type RetryPolicy = { baseMs: number; maxDelayMs: number; maxAttempts: number };

/** When the invocation must be done (epoch ms), with the reserve for the status write already taken off. */
export type Deadline = { readonly at: number; remaining(): number };

export const deadlineAt = (at: number, now: () => number = Date.now): Deadline => ({
  at,
  remaining: () => at - now(),
});

/** Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): uniform in [0, min(cap, base·2^n)). */
export const fullJitterDelay = (policy: RetryPolicy, retryNumber: number, random: () => number = Math.random): number =>
  Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseMs * 2 ** (retryNumber - 1)));

export type RetryOptions = {
  policy: RetryPolicy;
  deadline: Deadline;
  /** Called before each retry's wait, e.g. to log the failed attempt. */
  onRetry?: (error: RemoteError, attemptNumber: number, delayMs: number) => void;
  /**
   * The wait before the next attempt when the failure itself says how long (a `Retry-After`, a chat robot's documented
   * rate-limit window); `undefined` falls back to full jitter. The deadline check applies to it all the same.
   */
  delayOf?: (error: RemoteError, attemptNumber: number) => number | undefined;
  /** The time an attempt needs after the wait for a retry to be worth it (default `policy.baseMs`). */
  minAttemptMs?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
};

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `operation` until it succeeds, fails permanently, runs out of attempts, or would run past the deadline;
 * then rethrows the last error.
 *
 * @example
 * ```ts
 * const id = await withRetry(() => registry.create(params), { policy: config.retry, deadline });
 * ```
 */
export const withRetry = <T>(operation: (attemptNumber: number) => Promise<T>, options: RetryOptions): Promise<T> => {
  const { policy, deadline, onRetry, delayOf, random = Math.random, sleep = defaultSleep } = options;
  const minAttemptMs = options.minAttemptMs ?? policy.baseMs;
  return pRetry(operation, {
    retries: policy.maxAttempts - 1,
    // Delays are ours (full jitter, deadline-aware), so p-retry's own backoff is zero.
    minTimeout: 0,
    maxTimeout: 0,
    shouldRetry: async ({ error, attemptNumber }) => {
      if (!(error instanceof RemoteError) || !error.retryable) return false;
      const delayMs = delayOf?.(error, attemptNumber) ?? fullJitterDelay(policy, attemptNumber, random);
      // Another attempt needs time to run, not just to start: leave at least one base delay after the wait.
      if (deadline.remaining() - delayMs < minAttemptMs) return false;
      onRetry?.(error, attemptNumber, delayMs);
      await sleep(delayMs);
      return true;
    },
  });
};
