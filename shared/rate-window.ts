/**
 * Per-endpoint send slots under sliding-window rate limits ("20 messages a minute", "5 a second and 100 a minute"),
 * kept per function instance: every message reserves its slot before it is sent, so concurrent invocations on one
 * instance queue behind each other instead of tripping the robot's limit. A limit the robot reports anyway (another
 * sender shares the robot) blocks the endpoint until the documented window has passed.
 */

export type RateLimit = { max: number; perMs: number };

export type RateWindow = {
  /**
   * The wait in ms before the next send to `key` that every limit allows, reserved at once; `undefined` (and nothing
   * reserved) when that slot is later than `latestMs`.
   */
  reserve(key: string, limits: readonly RateLimit[], nowMs: number, latestMs: number): number | undefined;
  /** No slot for `key` before `untilMs` (the robot said it is rate limited). */
  block(key: string, untilMs: number): void;
};

/** Enough to step past every reservation of the longest window; each step moves the slot strictly later. */
const MAX_STEPS = 1_000;

/** The earliest time at or after `from` that every limit allows, given the (sorted) reserved send times. */
const earliestSlot = (sent: readonly number[], limits: readonly RateLimit[], from: number): number => {
  let slot = from;
  for (let step = 0; step < MAX_STEPS; step += 1) {
    let moved = false;
    for (const { max, perMs } of limits) {
      // Slots are handed out in order (a queue), so only the window ending at this slot can overflow.
      const inWindow = sent.filter((at) => at > slot - perMs);
      if (inWindow.length >= max) {
        slot = (inWindow[inWindow.length - max] as number) + perMs;
        moved = true;
      }
    }
    if (!moved) return slot;
  }
  return Number.POSITIVE_INFINITY;
};

/**
 * Creates the per-instance slot book (built once in `createDeps`, shared by every invocation of the instance).
 *
 * @example
 * ```ts
 * const window = createRateWindow();
 * window.reserve('robot-1', [{ max: 20, perMs: 60_000 }], Date.now(), deadline.at); // 0: send now
 * ```
 */
export const createRateWindow = (): RateWindow => {
  const sent = new Map<string, number[]>();
  const blocked = new Map<string, number>();
  return {
    reserve(key, limits, nowMs, latestMs) {
      const longest = Math.max(0, ...limits.map((limit) => limit.perMs));
      // Reservations older than the longest window no longer count; they are dropped so the book stays small.
      const times = (sent.get(key) ?? []).filter((at) => at > nowMs - longest);
      const last = times[times.length - 1] ?? 0;
      const slot = earliestSlot(times, limits, Math.max(nowMs, blocked.get(key) ?? 0, last));
      if (slot > latestMs) {
        sent.set(key, times);
        return undefined;
      }
      sent.set(key, [...times, slot]);
      return slot - nowMs;
    },
    block(key, untilMs) {
      blocked.set(key, Math.max(untilMs, blocked.get(key) ?? 0));
    },
  };
};
