/**
 * FC's asynchronous invocation semantics, at least once: a failed attempt (error, timeout, lost instance) is retried
 * up to `MaxAsyncRetryAttempts` times with exponential backoff and full jitter, keeping its request id or, with
 * `retryRequestId: 'new'`, under a fresh one (FC does not document which; both are modelled); an event
 * older than `MaxAsyncEventAgeInSeconds` when its retry comes up is dropped; whatever is given up on becomes a dead
 * letter addressed to the OnFailure destination.
 */
import type { DeployedFunction } from './deployment.ts';
import type { InvocationOutcome } from './instance-pool.ts';

export type AsyncJob = {
  requestId: string;
  fn: DeployedFunction;
  payload: Buffer;
  qualifier: string;
  /** Attempts made so far (1 during the first). */
  attempts: number;
  /** `performance.now()` when FC accepted the event. */
  acceptedAt: number;
};

export type DeadLetter = { requestId: string; payload: string; error: string; attempts: number; destination?: string };

export type AsyncQueueOptions = {
  run(job: AsyncJob): Promise<InvocationOutcome>;
  retryBaseMs: number;
  /** `keep` (default): a retry has the first attempt's request id; `new`: every retry gets a fresh one. */
  retryRequestId?: 'keep' | 'new';
  /** A fresh request id (for `retryRequestId: 'new'`). */
  newRequestId?: () => string;
  /** In [0, 1); seeded by the caller so that a schedule can be replayed. */
  random(): number;
  now(): number;
  events: {
    retrying(job: AsyncJob): void;
    /** The job was given up on; `letter` is what FC would send to its OnFailure destination. */
    deadLettered(letter: DeadLetter, job: AsyncJob): void;
    /** The job is finished for good: it succeeded, was dead-lettered, or the queue closed. */
    done(job: AsyncJob, outcome: 'succeeded' | 'dead-letter' | 'closed'): void;
  };
};

export type AsyncQueue = {
  enqueue(job: Omit<AsyncJob, 'attempts' | 'acceptedAt'>): void;
  /** Jobs waiting for their next attempt. */
  waiting(): number;
  /** Drops waiting retries and clears their timers; attempts under way end as `closed`. */
  close(): void;
};

export const createAsyncQueue = (options: AsyncQueueOptions): AsyncQueue => {
  const timers = new Map<NodeJS.Timeout, AsyncJob>();
  let closed = false;

  const deadLetter = (job: AsyncJob, error: string) => {
    const letter: DeadLetter = {
      requestId: job.requestId,
      payload: job.payload.toString('utf8'),
      error,
      attempts: job.attempts,
    };
    if (job.fn.asyncConfig.onFailure !== undefined) letter.destination = job.fn.asyncConfig.onFailure;
    options.events.deadLettered(letter, job);
    options.events.done(job, 'dead-letter');
  };

  const attempt = async (job: AsyncJob) => {
    job.attempts += 1;
    if (job.attempts > 1 && options.retryRequestId === 'new' && options.newRequestId)
      job.requestId = options.newRequestId();
    if (job.attempts > 1) options.events.retrying(job);
    const outcome = await options.run(job);
    if (closed) return options.events.done(job, 'closed');
    if (outcome.ok) return options.events.done(job, 'succeeded');
    const reason = `${outcome.error.errorType ?? outcome.kind}: ${outcome.error.errorMessage}`;
    if (job.attempts > job.fn.asyncConfig.maxAsyncRetryAttempts) return deadLetter(job, reason);
    scheduleRetry(job, reason);
  };

  const scheduleRetry = (job: AsyncJob, lastError: string) => {
    // Full jitter: uniform in [0, base·2^(n-1)), so synchronized failures spread out.
    const delay = options.random() * options.retryBaseMs * 2 ** (job.attempts - 1);
    const timer = setTimeout(() => {
      timers.delete(timer);
      const maxAgeMs = job.fn.asyncConfig.maxAsyncEventAgeInSeconds * 1000;
      if (options.now() - job.acceptedAt >= maxAgeMs) {
        return deadLetter(
          job,
          `Event expired: older than MaxAsyncEventAgeInSeconds (${job.fn.asyncConfig.maxAsyncEventAgeInSeconds} s); last error: ${lastError}`,
        );
      }
      void attempt(job);
    }, delay);
    timers.set(timer, job);
  };

  return {
    enqueue(job) {
      const accepted: AsyncJob = { ...job, attempts: 0, acceptedAt: options.now() };
      if (closed) return options.events.done(accepted, 'closed');
      void attempt(accepted);
    },
    waiting: () => timers.size,
    close() {
      closed = true;
      for (const [timer, job] of timers) {
        clearTimeout(timer);
        options.events.done(job, 'closed');
      }
      timers.clear();
    },
  };
};
