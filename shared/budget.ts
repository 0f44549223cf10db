/**
 * The invocation's time budget, built once from the FC deadline (as middy's `timeoutEarlyInMillis` is owned by the
 * core): every phase's deadline and every call's timeout come from here, never recomputed elsewhere.
 *
 * ```
 *   now ─── work ───────────────┤ reserve ├───────────────────────────────┤ FC kills
 *                               work.at   notify.at (hard − 2 s)  lastWrite.at (hard − 1 s)   hardDeadline
 * ```
 */
import type { Deadline } from './retry.ts';

export type Budget = {
  /** When FC kills the invocation (epoch ms): a claim taken now is dead after this. */
  readonly hardDeadline: number;
  /** Registration work (reads, claims, CityVisual calls) stops here, keeping the reserve for the answer. */
  readonly work: Deadline;
  /** Notifications may use the reserve too, but leave the last write a second of its own. */
  readonly notify: Deadline;
  /** Status and record writes may run until a second before FC's timeout. */
  readonly lastWrite: Deadline;
  /** A call's timeout: `capMs`, or less when the phase's deadline is nearer (never below 1 ms). */
  callTimeout(capMs: number, phase?: Deadline): number;
};

/** The last second before FC's timeout is nobody's: a request still running then would be cut off by the kill. */
const LAST_SECOND_MS = 1_000;

const deadline = (at: number, now: () => number): Deadline => ({ at, remaining: () => at - now() });

/**
 * The budget of an invocation that FC kills at `hardDeadline`, keeping `reserveMs` back for the answer.
 *
 * @example
 * ```ts
 * const budget = budgetOf(Date.now() + context.function.timeout * 1000, config.deadlineReserveMs, Date.now);
 * await registry.create(spec, location, budget.callTimeout(config.cityVisual.timeoutMs));
 * ```
 */
export const budgetOf = (hardDeadline: number, reserveMs: number, now: () => number): Budget => {
  const lastWrite = deadline(hardDeadline - LAST_SECOND_MS, now);
  const work = deadline(hardDeadline - reserveMs, now);
  return {
    hardDeadline,
    work,
    notify: deadline(hardDeadline - 2 * LAST_SECOND_MS, now),
    lastWrite,
    callTimeout: (capMs, phase = lastWrite) => Math.max(1, Math.min(capMs, phase.remaining())),
  };
};
