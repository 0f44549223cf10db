/**
 * parseManifest against hostile bytes: it never throws, every rejection is a typed error with a JSON path (or one of
 * the path-less ones: over-size, not UTF-8, not JSON), the list stays short, and nothing reaches Object.prototype.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MANIFEST_MAX_BYTES, type ManifestResult, parseManifest } from '../../shared/manifest.ts';
import { validManifest } from '../fakes/register-deps.ts';
import { FUZZ_SEED, hostileManifestBytes, prototypeFingerprint } from './arbitraries.ts';

/** The errors that have no path: not UTF-8, not JSON, or not an object at all. */
const PATHLESS =
  /^Expected (the manifest to be (UTF-8 text|JSON, got a syntax error at line \d+, column \d+: )|`manifest` to be a JSON object)/;

/** What every result must satisfy, valid or not. */
const expectWellFormed = (bytes: Uint8Array, result: ManifestResult) => {
  if (result.ok) {
    expect(bytes.byteLength).toBeLessThanOrEqual(MANIFEST_MAX_BYTES);
    return;
  }
  expect(result.errors.length).toBeGreaterThanOrEqual(1);
  expect(result.errors.length).toBeLessThanOrEqual(20);
  // The rejection is written to the status document and sent in a webhook: it stays small whatever came in.
  expect(JSON.stringify(result.errors).length).toBeLessThan(16 * 1024);
  for (const error of result.errors) {
    if (error.code === 'MANIFEST_TOO_LARGE') {
      expect(bytes.byteLength).toBeGreaterThan(MANIFEST_MAX_BYTES);
      expect(error.path).toBeUndefined();
      continue;
    }
    expect(error.code).toBe('MANIFEST_INVALID');
    if (error.path === undefined) expect(error.message).toMatch(PATHLESS);
    else expect(typeof error.path).toBe('string');
  }
};

const KEYS = Object.keys(validManifest());

describe('parseManifest under fuzzing', () => {
  it('answers every hostile manifest with a manifest or typed errors with paths, and pollutes no prototype', () => {
    const before = prototypeFingerprint();
    fc.assert(
      fc.property(hostileManifestBytes, (bytes) => {
        // Act
        const result = parseManifest(bytes);

        // Assert
        expectWellFormed(bytes, result);
        expect(prototypeFingerprint()).toEqual(before);
      }),
      { seed: FUZZ_SEED, numRuns: 1_500 },
    );
  });

  it('accepts a valid manifest whatever its key order, whitespace and a single byte-order mark', () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray(KEYS, { minLength: KEYS.length, maxLength: KEYS.length }),
        fc.constantFrom(0, 1, 2, '\t'),
        fc.boolean(),
        (order, indent, bom) => {
          // Arrange
          const manifest = validManifest() as Record<string, unknown>;
          const reordered = Object.fromEntries(order.map((key) => [key, manifest[key]]));
          const text = JSON.stringify(reordered, null, indent);
          const bytes = Buffer.concat([Buffer.from(bom ? [0xef, 0xbb, 0xbf] : []), Buffer.from(text)]);

          // Act
          const result = parseManifest(bytes);

          // Assert
          expect(result).toEqual({ ok: true, manifest });
        },
      ),
      { seed: FUZZ_SEED, numRuns: 200 },
    );
  });

  it('rejects any manifest over 256 KiB as MANIFEST_TOO_LARGE, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.nat({ max: 64 * 1024 }), fc.integer({ min: 0, max: 255 }), (extra, fill) => {
        // Arrange
        const bytes = Buffer.alloc(MANIFEST_MAX_BYTES + 1 + extra, fill);

        // Act
        const result = parseManifest(bytes);

        // Assert
        expect(result).toEqual({
          ok: false,
          errors: [{ code: 'MANIFEST_TOO_LARGE', message: expect.stringContaining(String(bytes.length)) }],
        });
      }),
      { seed: FUZZ_SEED, numRuns: 20 },
    );
  });
});
