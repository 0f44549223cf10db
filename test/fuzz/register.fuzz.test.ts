/**
 * registerObject over the in-memory fakes with hostile manifests: no unhandled error, every invalid manifest ends
 * REJECTED with parseManifest's errors (paths included) and never reaches CreateAlgoLib, the status stays small
 * enough to read back, no secret is written or logged, and memory stays bounded over many runs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../shared/manifest.ts';
import { registerObject } from '../../shared/register.ts';
import type { StatusDocument } from '../../shared/status.ts';
import {
  createTestDeps,
  MANIFEST_KEY,
  objectEvent,
  PACKAGE_BYTES,
  PACKAGE_KEY,
  STATUS_KEY,
  TEST_ENV,
} from '../fakes/register-deps.ts';
import { FUZZ_SEED, hostileManifestBytes, prototypeFingerprint } from './arbitraries.ts';

/** What the pipeline reads back of a status document (`readStatus`): a larger one would look absent. */
const STATUS_READ_BYTES = 64 * 1024;

describe('registerObject under fuzzing', () => {
  it('rejects every invalid manifest with its errors, without calling CreateAlgoLib, whichever half arrives', async () => {
    const before = prototypeFingerprint();
    await fc.assert(
      fc.asyncProperty(hostileManifestBytes, fc.constantFrom(PACKAGE_KEY, MANIFEST_KEY), async (bytes, key) => {
        // Arrange
        const t = createTestDeps();
        t.store.upload(PACKAGE_KEY, PACKAGE_BYTES);
        t.store.upload(MANIFEST_KEY, bytes);
        const parsed = parseManifest(bytes);

        // Act
        const result = await registerObject(t.deps, objectEvent(key), t.invocation('req-fuzz'));

        // Assert
        const written = t.store.objects.get(STATUS_KEY)?.bytes;
        const status = t.store.json<StatusDocument>(STATUS_KEY);
        expect(result.outcome).toBe('written');
        expect(written?.length).toBeLessThan(STATUS_READ_BYTES);
        if (!parsed.ok) {
          expect(status).toMatchObject({ state: 'REJECTED', errors: parsed.errors });
          expect(t.registry.calls.create).toBe(0);
          // No library name was claimed: a rejection before naming holds only its package key's lock.
          const claims = [...t.store.objects.keys()].filter((stored) => stored.includes('.claims/'));
          expect(claims.every((stored) => stored.includes('.claims/.key-'))).toBe(true);
        } else {
          expect(['REGISTERED', 'REJECTED']).toContain(status?.state);
          expect(t.registry.calls.create).toBeLessThanOrEqual(1);
        }
        const everything = [...t.store.objects.values()].map((object) => object.bytes.toString('utf8')).join('\n');
        expect(everything).not.toContain(TEST_ENV.CITYVISUAL_OSS_ACCESS_KEY_SECRET);
        expect(t.lines.join('\n')).not.toContain(TEST_ENV.CITYVISUAL_OSS_ACCESS_KEY_SECRET);
        expect(prototypeFingerprint()).toEqual(before);
      }),
      { seed: FUZZ_SEED, numRuns: 400 },
    );
  });

  it('keeps the heap bounded over many hostile registrations', async () => {
    // Arrange: a warm-up, so that module and JIT allocations are not counted.
    const run = async (bytes: Buffer) => {
      const t = createTestDeps();
      t.store.upload(PACKAGE_KEY, PACKAGE_BYTES);
      t.store.upload(MANIFEST_KEY, bytes);
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-heap'));
    };
    const samples = fc.sample(hostileManifestBytes, { seed: FUZZ_SEED, numRuns: 300 });
    for (const bytes of samples.slice(0, 50)) await run(bytes);
    const before = process.memoryUsage().heapUsed;

    // Act: each run allocates its own store, registry and log; nothing may accumulate across runs.
    for (let round = 0; round < 3; round += 1) for (const bytes of samples) await run(bytes);

    // Assert: 900 runs of manifests up to 256 KiB; a leak of one manifest per run alone would pass 100 MB.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(100 * 1024 * 1024);
  });
});
