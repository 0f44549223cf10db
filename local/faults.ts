/**
 * Seeded, reproducible fault injection shared by the emulators.
 *
 * A plan is a list of rules; each request asks `pick(action)` which fault (if any) to apply. Rules match an action
 * name (or `*`), fire with a probability drawn from one seeded PRNG, and can be limited to the first N matches, so a
 * test can say "the next two CreateAlgoLib calls throttle" and a soak can say "20% of everything fails".
 */

export type FaultRule<Kind extends string = string> = {
  /** Action (CityVisual `Action`, OSS operation such as `PutObject`) or `*` for every action. */
  action: string;
  kind: Kind;
  /** Probability in [0, 1] that a matching request gets the fault; default 1. */
  rate?: number;
  /** Apply to at most this many matching requests, then the rule is spent. */
  times?: number;
  /** For delay-type faults: how long to stall, in milliseconds. */
  delayMs?: number;
};

export type FaultPlan<Kind extends string = string> = { seed?: number; rules: FaultRule<Kind>[] };

export type PickedFault<Kind extends string = string> = { kind: Kind; delayMs: number };

/** mulberry32: a tiny 32-bit PRNG, good enough for reproducible fault schedules. */
export const createRandom = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

export type FaultInjector<Kind extends string = string> = {
  /** Replaces the plan (and reseeds). An empty plan turns faults off. */
  set(plan: FaultPlan<Kind>): void;
  /** Decides the fault for one request of `action`; `undefined` means serve it normally. */
  pick(action: string): PickedFault<Kind> | undefined;
  /** How many faults were injected, per `action:kind`. */
  injected(): Record<string, number>;
};

export const createFaultInjector = <Kind extends string>(
  plan: FaultPlan<Kind> = { rules: [] },
): FaultInjector<Kind> => {
  let rules: Array<FaultRule<Kind> & { used: number }> = [];
  let random = createRandom(0);
  const counts: Record<string, number> = {};
  const set = (next: FaultPlan<Kind>) => {
    rules = next.rules.map((rule) => ({ ...rule, used: 0 }));
    random = createRandom(next.seed ?? 1);
  };
  set(plan);
  return {
    set,
    pick(action) {
      for (const rule of rules) {
        if (rule.action !== '*' && rule.action !== action) continue;
        if (rule.times !== undefined && rule.used >= rule.times) continue;
        // Draw even when rate is 1 so that adding a rule does not shift the schedule of the others.
        if (random() >= (rule.rate ?? 1)) continue;
        rule.used += 1;
        const label = `${action}:${rule.kind}`;
        counts[label] = (counts[label] ?? 0) + 1;
        return { kind: rule.kind, delayMs: rule.delayMs ?? 0 };
      }
      return undefined;
    },
    injected: () => ({ ...counts }),
  };
};
