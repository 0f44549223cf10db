/**
 * Fault plans for a soak: every fault kind the emulators offer, on every action, together firing at the given rate.
 */
import type { CityVisualFaultKind } from '../local/cityvisual/cityvisual-emulator.ts';
import type { FaultPlan, FaultRule } from '../local/faults.ts';
import type { OssFaultKind } from '../local/oss/oss-emulator.ts';

type Kind<K extends string> = { kind: K; delayMs?: number };

/**
 * One rule per kind on every action, each kind equally likely, all of them together firing with probability `rate`.
 * The injector tries rules in order and stops at the first that fires, so rule i gets rate/k divided by the chance
 * that none before it fired.
 */
const evenly = <K extends string>(kinds: Array<Kind<K>>, rate: number, seed: number): FaultPlan<K> => {
  const each = rate / kinds.length;
  const rules: FaultRule<K>[] = kinds.map(({ kind, delayMs }, i) => ({
    action: '*',
    kind,
    rate: each / (1 - i * each),
    ...(delayMs === undefined ? {} : { delayMs }),
  }));
  return { seed, rules: rate > 0 ? rules : [] };
};

/** Stall long enough to be felt, short of the client's timeout: the request is served late. */
const SLOW_MS = 200;

/**
 * CityVisual: throttling (400 and 429), 503, 500, a gateway's HTML 502, slow answers, a slow answer past the client's
 * per-attempt timeout (the library is created after the client gave up), and "create, then drop the connection".
 *
 * @example
 * ```ts
 * cloud.cityvisual.faults.set(cityVisualFaults(0.2, seed, 1_000));
 * ```
 */
export const cityVisualFaults = (rate: number, seed: number, clientTimeoutMs: number): FaultPlan<CityVisualFaultKind> =>
  evenly<CityVisualFaultKind>(
    [
      { kind: 'throttle' },
      { kind: 'throttle429' },
      { kind: 'unavailable' },
      { kind: 'internal' },
      { kind: 'html502' },
      { kind: 'slow', delayMs: SLOW_MS },
      { kind: 'slow', delayMs: clientTimeoutMs + 500 },
      { kind: 'commitThenDrop' },
    ],
    rate,
    seed,
  );

/**
 * OSS: 503, a reset connection, slow answers, 500, on every operation (the publisher's uploads included).
 *
 * @example
 * ```ts
 * cloud.oss.faults.set(ossFaults(0.05, seed));
 * ```
 */
export const ossFaults = (rate: number, seed: number): FaultPlan<OssFaultKind> =>
  evenly<OssFaultKind>(
    [{ kind: 'unavailable' }, { kind: 'reset' }, { kind: 'slow', delayMs: SLOW_MS }, { kind: 'internal' }],
    rate,
    seed,
  );
