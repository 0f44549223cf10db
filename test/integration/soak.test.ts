/**
 * A small seeded soak in CI: a few hundred pairs on the local cloud with every CityVisual and OSS fault kind, event
 * re-deliveries, FC instances killed mid-invocation, bad manifests and name conflicts; every invariant of
 * docs/reliability.md must hold, and the canary secrets must appear nowhere. `npm run soak` runs the big one.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SOAK_OPTIONS, runSoak, type SoakReport } from '../../proving/run-soak.ts';

const SEED = 20_261_129;
let report: SoakReport;

beforeAll(async () => {
  report = await runSoak({
    ...DEFAULT_SOAK_OPTIONS,
    pairs: 300,
    seed: SEED,
    // A short Timeout and FC retry backoff keep crashed claims and retries in seconds on a CI machine.
    timeoutSeconds: 8,
    asyncRetryBaseMs: 200,
  });
}, 300_000);

describe(`the soak (seed ${SEED}, 300 pairs, D=3, 20% CityVisual faults, 5% OSS faults, 2% crashes)`, () => {
  it('holds every invariant', () => {
    expect(report.invariants.filter((check) => !check.ok)).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('ends every pair as expected: REGISTERED, REJECTED or CONFLICT, none lost or stuck', () => {
    expect(report.final.ok).toBe(report.pairs.total);
    expect(report.drained.lost).toEqual([]);
    expect(report.drained.stuckPending).toEqual([]);
    expect(report.final.duplicates).toEqual([]);
    expect(report.final.byState).toMatchObject({ REJECTED: expect.any(Number), CONFLICT: expect.any(Number) });
  });

  it('registers every release of a version stream and ends each library at the highest version', () => {
    expect(report.final.versions.streams).toBeGreaterThan(5);
    expect(report.final.versions.updated).toBeGreaterThan(0);
    expect(report.final.versions.notHighest).toEqual([]);
    expect(report.final.versions.notRising).toEqual([]);
    expect(report.final.versions.recordMismatch).toEqual([]);
  });

  it('really ran under every fault kind, with re-deliveries and crashes', () => {
    const kinds = (injected: Record<string, number>) =>
      new Set(Object.keys(injected).map((label) => label.split(':')[1]));
    expect(kinds(report.faults.cityvisual)).toEqual(
      new Set(['throttle', 'throttle429', 'unavailable', 'internal', 'html502', 'slow', 'commitThenDrop']),
    );
    expect(kinds(report.faults.oss)).toEqual(new Set(['unavailable', 'reset', 'slow', 'internal']));
    expect(report.fc.crashes).toBeGreaterThan(0);
    expect(report.deliveries.redeliveries).toBeGreaterThan(0);
  });

  it('leaks no canary secret into logs, statuses, claims, webhooks or errors', () => {
    expect(report.leaks.hits).toEqual([]);
    // The scan saw every place, and the canaries were in use (the fixed five plus each FC instance's STS pair).
    expect(report.leaks.canaries).toBeGreaterThan(5);
    expect(report.leaks.scanned.byPlace).toMatchObject({
      log: expect.any(Number),
      status: expect.any(Number),
      webhook: expect.any(Number),
      cityvisual: expect.any(Number),
    });
  });
});
