/**
 * The event path under fuzzing: parseObjectEvents with arbitrary payloads (bytes, JSON of any shape, CloudEvents
 * envelopes, records with wild fields) only ever answers events or an EventParseError; the FC handler answers every
 * payload without an unhandled error; the key conventions (pairOf, statusKeyOf, claimKeyOf) hold for any key; and
 * registerObject writes only under the status prefix, never over a name claim.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EventParseError } from '../../shared/errors.ts';
import type { FcContext } from '../../shared/fc-context.ts';
import { claimKeyOf, claimsPrefixOf, pairOf, statusKeyOf } from '../../shared/keys.ts';
import { type ObjectEvent, parseObjectEvents } from '../../shared/oss-event.ts';
import { registerObject } from '../../shared/register.ts';
import { createTestDeps, PACKAGE_BYTES, TEST_ENV, validManifest } from '../fakes/register-deps.ts';
import { FUZZ_SEED, prototypeFingerprint } from './arbitraries.ts';

const EVENT_NAMES = [
  'ObjectCreated:PutObject',
  'oss:ObjectCreated:PutObject',
  'ObjectCreated:PostObject',
  'ObjectCreated:CompleteMultipartUpload',
  'ObjectCreated:CopyObject',
  'ObjectCreated:UploadPart',
  'ObjectCreated:InitiateMultipartUpload',
  'ObjectRemoved:DeleteObject',
];

/** Keys near the pipeline's conventions (prefixes, suffixes, the status and claim folders) and anything at all. */
const objectKey: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc
    .tuple(
      fc.constantFrom('', 'library/', 'status/', '.claims/', 'library/.claims/', 'status/.claims/', '/'),
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.constantFrom('', '/', '/x'),
      fc.constantFrom('.tar.gz', '.manifest.json', '.json', '.tar.gz.manifest.json', '.manifest.json.tar.gz', ''),
    )
    .map((parts) => parts.join('')),
);

const record = (bucket: fc.Arbitrary<string>) =>
  fc.record({
    eventName: fc.oneof(fc.constantFrom(...EVENT_NAMES), fc.string({ maxLength: 30 })),
    oss: fc.record({
      bucket: fc.record({ name: bucket }),
      object: fc.record(
        {
          key: objectKey,
          size: fc.oneof(fc.nat(), fc.constant(-1), fc.double()),
          eTag: fc.string({ maxLength: 34 }),
        },
        { requiredKeys: ['key'] },
      ),
    }),
  });

/** Payloads of every sort; `bucket` is what the records name (the handler test keeps it away from the real one). */
const payload = (bucket: fc.Arbitrary<string>): fc.Arbitrary<Buffer> =>
  fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    fc.jsonValue({ maxDepth: 4 }).map((value) => Buffer.from(JSON.stringify(value))),
    fc.anything({ maxDepth: 3 }).map((value) => Buffer.from(JSON.stringify(value) ?? 'undefined')),
    fc.array(record(bucket), { maxLength: 4 }).map((events) => Buffer.from(JSON.stringify({ events }))),
    fc
      .tuple(fc.oneof(fc.constant('1.0'), fc.jsonValue()), fc.oneof(record(bucket), fc.jsonValue()))
      .map(([specversion, data]) => Buffer.from(JSON.stringify({ specversion, id: 'x', source: 'acs:oss', data }))),
  );

const anyBucket = fc.oneof(fc.constant(TEST_ENV.OSS_BUCKET), fc.string({ maxLength: 20 }));

describe('parseObjectEvents under fuzzing', () => {
  it('answers any payload with object events or an EventParseError, nothing else', () => {
    const before = prototypeFingerprint();
    fc.assert(
      fc.property(payload(anyBucket), (bytes) => {
        // Act
        let events: ObjectEvent[] | undefined;
        try {
          events = parseObjectEvents(bytes);
        } catch (error) {
          // Assert (rejected)
          expect(error).toBeInstanceOf(EventParseError);
          return;
        }
        // Assert (accepted)
        for (const event of events) {
          expect(typeof event.key).toBe('string');
          expect(event.key.length).toBeGreaterThan(0);
          expect(typeof event.bucket).toBe('string');
          expect(event.eventName.startsWith('oss:')).toBe(false);
        }
        expect(prototypeFingerprint()).toEqual(before);
      }),
      { seed: FUZZ_SEED, numRuns: 1_000 },
    );
  });

  it('hands every record of a well-formed payload through with its key unchanged', () => {
    fc.assert(
      fc.property(fc.array(record(anyBucket), { minLength: 1, maxLength: 5 }), (records) => {
        // Arrange: only the fields the parser checks must be well-typed.
        const sane = records.filter(
          (event) =>
            event.oss.bucket.name.length > 0 &&
            event.oss.object.key.length > 0 &&
            (event.oss.object.size === undefined || event.oss.object.size >= 0),
        );

        // Act
        const events = parseObjectEvents(Buffer.from(JSON.stringify({ events: sane })));

        // Assert
        expect(events.map((event) => event.key)).toEqual(sane.map((event) => event.oss.object.key));
      }),
      { seed: FUZZ_SEED, numRuns: 300 },
    );
  });
});

describe('the register handler under fuzzing', () => {
  const CONFIGURED_BUCKET = 'fuzz-configured-bucket';
  const STS_SECRET = 'fuzz-sts-secret-canary';
  let handler: (event: Buffer, context: FcContext) => Promise<string>;
  const lines: string[] = [];

  beforeAll(async () => {
    // Every record names another bucket, so the handler never leaves the process: it parses, judges, logs, answers.
    for (const [name, value] of Object.entries({ ...TEST_ENV, OSS_BUCKET: CONFIGURED_BUCKET })) vi.stubEnv(name, value);
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    ({ handler } = await import('../../functions/register/index.ts'));
  });

  afterAll(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('answers every payload with its results and logs no secret', async () => {
    const context: FcContext = {
      requestId: 'req-fuzz',
      credentials: { accessKeyId: 'STS.fuzz', accessKeySecret: STS_SECRET, securityToken: 'fuzz-token-canary' },
      function: { name: 'register', timeout: 60 },
    };
    await fc.assert(
      fc.asyncProperty(
        payload(fc.string({ maxLength: 20 }).filter((name) => name !== CONFIGURED_BUCKET)),
        async (bytes) => {
          // Act
          const answer = JSON.parse(await handler(bytes, context)) as { results: Array<{ outcome: string }> };

          // Assert
          expect(answer.results.every((result) => result.outcome === 'ignored')).toBe(true);
        },
      ),
      { seed: FUZZ_SEED, numRuns: 500 },
    );
    const logged = lines.join('');
    for (const secret of [STS_SECRET, 'fuzz-token-canary', TEST_ENV.CITYVISUAL_OSS_ACCESS_KEY_SECRET])
      expect(logged).not.toContain(secret);
  });
});

describe('object keys under fuzzing', () => {
  const prefixes = fc.oneof(
    fc.constantFrom('', 'library/', 'a/b/'),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }).map((text) => `${text}/`),
  );

  it('pairs a key with its other half under the same prefix, and back', () => {
    fc.assert(
      fc.property(objectKey, prefixes, (key, prefix) => {
        // Act
        const pair = pairOf(key, prefix);

        // Assert
        if (!pair) return;
        expect(pair.packageKey.startsWith(prefix) && pair.manifestKey.startsWith(prefix)).toBe(true);
        expect(pair.packageKey.slice(0, -'.tar.gz'.length)).toBe(pair.manifestKey.slice(0, -'.manifest.json'.length));
        expect(key).toBe(pair.half === 'package' ? pair.packageKey : pair.manifestKey);
        expect(pairOf(pair.packageKey, prefix)).toEqual({ ...pair, half: 'package' });
        expect(pairOf(pair.manifestKey, prefix)).toEqual({ ...pair, half: 'manifest' });
      }),
      { seed: FUZZ_SEED, numRuns: 2_000 },
    );
  });

  it('gives distinct packages distinct status documents, under the status prefix', () => {
    fc.assert(
      fc.property(objectKey, objectKey, (a, b) => {
        // Arrange
        const first = pairOf(a, '');
        const second = pairOf(b, '');
        fc.pre(first !== undefined && second !== undefined && first.packageKey !== second.packageKey);

        // Act
        const keys = [first, second].map((pair) => statusKeyOf(pair?.packageKey ?? '', 'status/'));

        // Assert
        expect(keys[0]).not.toBe(keys[1]);
        for (const key of keys) expect(key.startsWith('status/') && key.endsWith('.json')).toBe(true);
      }),
      { seed: FUZZ_SEED, numRuns: 1_000 },
    );
  });

  it('keeps claims in their own folder for any name and generation', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 64 }), fc.nat({ max: 999 }), (name, generation) => {
        // Act
        const key = claimKeyOf(name, generation, 'status/');

        // Assert
        expect(key.startsWith(claimsPrefixOf('status/'))).toBe(true);
      }),
      { seed: FUZZ_SEED, numRuns: 300 },
    );
  });
});

describe('registerObject with arbitrary events', () => {
  it('writes only under the status prefix, and nothing but claims among the claims', async () => {
    const before = prototypeFingerprint();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('', 'library/'),
        record(anyBucket),
        fc.boolean(),
        async (prefix, raw, withPair) => {
          // Arrange: the event's own pair is in the bucket (or nothing is).
          const t = createTestDeps({ PACKAGE_PREFIX: prefix });
          let event: ObjectEvent | undefined;
          try {
            [event] = parseObjectEvents(Buffer.from(JSON.stringify({ events: [raw] })));
          } catch {
            // A record the parser refuses never reaches the pipeline.
          }
          fc.pre(event !== undefined);
          const pair = pairOf(event?.key ?? '', prefix);
          if (withPair && pair) {
            t.store.upload(pair.packageKey, PACKAGE_BYTES);
            t.store.upload(pair.manifestKey, JSON.stringify(validManifest()));
          }
          const uploaded = new Set(t.store.objects.keys());

          // Act
          const result = await registerObject(t.deps, event as ObjectEvent, t.invocation('req-fuzz'));

          // Assert
          const written = [...t.store.objects.keys()].filter((key) => !uploaded.has(key));
          if (result.outcome === 'ignored') expect(written).toEqual([]);
          for (const key of written) {
            expect(key.startsWith('status/')).toBe(true);
            if (key.startsWith(claimsPrefixOf('status/')) && !key.endsWith('.released.json'))
              expect(t.store.json(key)).toHaveProperty('owner', 'req-fuzz');
          }
          expect(prototypeFingerprint()).toEqual(before);
        },
      ),
      { seed: FUZZ_SEED, numRuns: 500 },
    );
  });
});
