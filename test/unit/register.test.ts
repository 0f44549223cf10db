/**
 * The pipeline's rules for one upload, through registerObject over the in-memory fakes: a `describe` per rule.
 * The rows of the releases table (README "Releases") past a first release are in register-versions.test.ts; the
 * FC entry that wires the real adapters is in handler.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { DeadlineError } from '../../shared/errors.ts';
import { registerObject, registerPayload } from '../../shared/register.ts';
import type { StatusDocument } from '../../shared/status.ts';
import {
  createTestDeps,
  MANIFEST_KEY,
  objectEvent,
  PACKAGE_BYTES,
  PACKAGE_KEY,
  STATUS_KEY,
  validManifest,
} from '../fakes/register-deps.ts';

const uploadPair = (t: ReturnType<typeof createTestDeps>, manifest: object = validManifest()) => {
  t.store.upload(PACKAGE_KEY, PACKAGE_BYTES);
  t.store.upload(MANIFEST_KEY, JSON.stringify(manifest));
};

const statusOf = (t: ReturnType<typeof createTestDeps>) => t.store.json<StatusDocument>(STATUS_KEY);

describe('registerObject', () => {
  describe('pairing and PENDING', () => {
    // A pair is `<stem>.tar.gz` + `<stem>.manifest.json`; either half may arrive first.
    it.each([
      ['the manifest arrives first', MANIFEST_KEY, 'package'],
      ['the package arrives first', PACKAGE_KEY, 'manifest'],
    ])('writes PENDING with waitingFor when %s', async (_case, key, waitingFor) => {
      // Arrange
      const t = createTestDeps();
      t.store.upload(key, key === PACKAGE_KEY ? PACKAGE_BYTES : JSON.stringify(validManifest()));

      // Act
      await registerObject(t.deps, objectEvent(key), t.invocation('req-1'));

      // Assert
      expect(statusOf(t)).toMatchObject({ state: 'PENDING', waitingFor, errors: [] });
      expect(t.registry.calls.create).toBe(0);
    });

    it('never lets a late PENDING overwrite a REGISTERED status', async () => {
      // Arrange: the package event read "no manifest" just before the manifest's registration finished.
      const t = createTestDeps();
      t.store.upload(PACKAGE_KEY, PACKAGE_BYTES);
      let registered = false;
      t.store.beforeOperation = async (operation) => {
        if (operation === 'putIfAbsent' && !registered) {
          registered = true;
          t.store.upload(MANIFEST_KEY, JSON.stringify(validManifest()));
          await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-manifest'));
        }
      };

      // Act
      await registerObject(t.deps, objectEvent(PACKAGE_KEY), t.invocation('req-package'));

      // Assert
      expect(statusOf(t)?.state).toBe('REGISTERED');
    });

    it('registers a pair whose keys hold spaces, plus signs, percent signs and CJK characters', async () => {
      // Arrange
      const t = createTestDeps();
      const stem = 'library/人脸 检测/face+det%1-1.0.0';
      t.store.upload(`${stem}.tar.gz`, PACKAGE_BYTES);
      t.store.upload(`${stem}.manifest.json`, JSON.stringify(validManifest()));

      // Act
      await registerObject(t.deps, objectEvent(`${stem}.tar.gz`), t.invocation('req-1'));

      // Assert
      expect(t.store.json<StatusDocument>(`status/${stem}.json`)?.state).toBe('REGISTERED');
      expect(t.registry.libraries.get('face')?.location.path).toBe(`${stem}.tar.gz`);
    });
  });

  describe('verification', () => {
    // Size, checksum and manifest are checked before any CityVisual call: a failure is REJECTED.
    it.each([
      [
        'the size differs',
        { package: { size: PACKAGE_BYTES.length + 1, crc64: '1' } },
        'PACKAGE_SIZE_MISMATCH',
        'package.size',
      ],
      [
        'the CRC-64 differs',
        { package: { size: PACKAGE_BYTES.length, crc64: '12345' } },
        'PACKAGE_CHECKSUM_MISMATCH',
        'package.crc64',
      ],
      [
        'the SHA-256 differs',
        { package: { size: PACKAGE_BYTES.length, sha256: 'a'.repeat(64) } },
        'PACKAGE_CHECKSUM_MISMATCH',
        'package.sha256',
      ],
    ])('rejects the pair when %s', async (_case, overrides, code, path) => {
      // Arrange
      const t = createTestDeps();
      uploadPair(t, validManifest(overrides));

      // Act
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));

      // Assert
      expect(statusOf(t)).toMatchObject({ state: 'REJECTED', errors: [{ code, path }] });
      expect(t.registry.calls.create).toBe(0);
    });

    it('verifies a SHA-256 by streaming the package when no CRC-64 is given', async () => {
      // Arrange
      const t = createTestDeps();
      const { createHash } = await import('node:crypto');
      uploadPair(
        t,
        validManifest({
          package: { size: PACKAGE_BYTES.length, sha256: createHash('sha256').update(PACKAGE_BYTES).digest('hex') },
        }),
      );

      // Act
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));

      // Assert
      expect(statusOf(t)?.state).toBe('REGISTERED');
      expect(t.store.calls.digest).toBe(1);
    });

    it('rejects an invalid manifest with every error and its path', async () => {
      // Arrange
      const t = createTestDeps();
      uploadPair(t, validManifest({ capacity: 0, extra: true }));

      // Act
      await registerObject(t.deps, objectEvent(PACKAGE_KEY), t.invocation('req-1'));

      // Assert
      expect(statusOf(t)?.errors).toEqual([
        {
          code: 'MANIFEST_INVALID',
          path: 'capacity',
          message: "Expected `capacity` to be an integer from 1 to 50 (CityVisual's limit), got 0",
        },
        { code: 'MANIFEST_INVALID', path: 'extra', message: 'Expected no key `extra`: manifest v1 does not define it' },
      ]);
      expect(t.registry.calls.create).toBe(0);
    });

    it('rejects a manifest over 256 KiB without reading more than the cap', async () => {
      // Arrange
      const t = createTestDeps();
      uploadPair(t, validManifest({ text: 'x'.repeat(400 * 1024) }));

      // Act
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));

      // Assert
      expect(statusOf(t)).toMatchObject({ state: 'REJECTED', errors: [{ code: 'MANIFEST_TOO_LARGE' }] });
      expect(t.store.bytesRead).toBe(256 * 1024 + 1);
    });

    it('keeps the rejection of a manifest with 20,000 unknown keys small enough to read back, and notifies once (fuzz: status amplification)', async () => {
      // Arrange: 200 KiB of unknown keys made a 2 MB status document, which the pipeline's 64 KiB read could not parse
      // back (so every re-delivery re-sent the webhook) and which webhook receivers refuse (413).
      const t = createTestDeps();
      const manifest: Record<string, unknown> = validManifest();
      for (let i = 0; i < 20_000; i += 1) manifest[`k${i}`] = 0;
      uploadPair(t, manifest);
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));

      // Act
      const again = await registerObject(t.deps, objectEvent(PACKAGE_KEY), t.invocation('req-2'));

      // Assert
      expect(t.store.objects.get(STATUS_KEY)?.bytes.length).toBeLessThan(16 * 1024);
      expect(statusOf(t)).toMatchObject({ state: 'REJECTED', errors: expect.arrayContaining([]) });
      expect(statusOf(t)?.errors).toHaveLength(20);
      expect(statusOf(t)?.errors.at(-1)?.message).toMatch(/\(and 19980 more errors\)$/);
      expect(again.outcome).toBe('unchanged');
      expect(t.notifier.sent).toHaveLength(1);
    });
  });

  describe('first release', () => {
    // Releases table, "first of its name"; every other row is in register-versions.test.ts.
    it('registers a complete pair and writes a REGISTERED status', async () => {
      // Arrange
      const t = createTestDeps();
      uploadPair(t);

      // Act
      const result = await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));

      // Assert
      expect(result.outcome).toBe('written');
      expect(t.registry.calls.create).toBe(1);
      expect(statusOf(t)).toMatchObject({
        schemaVersion: 1,
        state: 'REGISTERED',
        name: 'face',
        version: '1.2.0',
        algoLibId: '36',
        created: true,
        package: { bucket: 'algolib-packages', key: PACKAGE_KEY, size: PACKAGE_BYTES.length },
        manifest: { key: MANIFEST_KEY },
        errors: [],
      });
    });

    it('maps the manifest and deployment config onto CreateAlgoLib parameters', async () => {
      // Arrange
      const t = createTestDeps();
      uploadPair(t);

      // Act
      await registerObject(t.deps, objectEvent(PACKAGE_KEY), t.invocation('req-1'));

      // Assert
      const params = t.registry.libraries.get('face');
      expect(params).toMatchObject({
        name: 'face',
        version: '1.2.0',
        capabilities: ['FACE', 'PERSON'],
        capacity: 30,
        objects: validManifest().objects,
        location: { bucket: 'algolib-packages', path: PACKAGE_KEY },
      });
    });

    it('needs eight OSS requests and no package bytes on the clean path of a first release with a CRC-64', async () => {
      // Arrange
      const t = createTestDeps();
      uploadPair(t);
      t.deps.notifier = { notify: async () => undefined };

      // Act
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));

      // Assert: GET manifest, HEAD package, GetBucketVersioning (once per instance every few minutes), GET record
      // (none), PUT claim, PUT status, PUT record, PUT release
      // (+ CreateAlgoLib, and no DescribeAlgoLibs: without a record, CreateAlgoLib itself says if the name is taken).
      expect(t.store.calls).toEqual({ head: 1, getBytes: 2, digest: 0, versioning: 1, putIfAbsent: 2, put: 2 });
      expect(t.store.bytesRead).toBe(JSON.stringify(validManifest()).length);
      expect(t.registry.calls).toEqual({ create: 1, update: 0, find: 0 });
    });
  });

  describe('a name another package holds', () => {
    // Releases table, "another owner", met by a first release (no library record yet).
    it('resolves InvalidName.Duplicate to CONFLICT when the name belongs to another package', async () => {
      // Arrange: the name was registered outside the pipeline (no claim) for another path.
      const t = createTestDeps();
      uploadPair(t);
      t.registry.seed({ name: 'face', version: '0.9.0' }, { bucket: 'other', path: 'x.tar.gz' });

      // Act
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));

      // Assert
      const status = statusOf(t);
      expect(status?.state).toBe('CONFLICT');
      expect(status?.errors[0]?.code).toBe('NAME_CONFLICT');
      expect(status?.algoLibId).toBeUndefined();
    });

    it('answers NAME_CONFLICT, without creating or modifying, when a package from another folder wants the name', async () => {
      // Arrange
      const t = createTestDeps();
      uploadPair(t);
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));
      t.store.upload('library/other/face-2.0.0.tar.gz', PACKAGE_BYTES);
      t.store.upload('library/other/face-2.0.0.manifest.json', JSON.stringify(validManifest({ version: '2.0.0' })));

      // Act
      await registerObject(t.deps, objectEvent('library/other/face-2.0.0.manifest.json'), t.invocation('req-2'));

      // Assert
      expect(t.registry.calls.update).toBe(0);
      expect(t.store.json<StatusDocument>('status/library/other/face-2.0.0.json')).toMatchObject({
        state: 'CONFLICT',
        errors: [{ code: 'NAME_CONFLICT' }],
      });
      expect(t.registry.calls.create).toBe(1);
    });
  });

  describe('rejections', () => {
    // A permanent CityVisual error is REJECTED once; a new upload is a new attempt.
    it('rejects on a permanent CityVisual error without retrying', async () => {
      // Arrange
      const t = createTestDeps();
      uploadPair(t);
      t.registry.failNext(5, 'InvalidCapabilities.ValueNotSupported', { retryable: false });

      // Act
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));

      // Assert
      expect(t.registry.calls.create).toBe(1);
      expect(statusOf(t)).toMatchObject({
        state: 'REJECTED',
        errors: [{ code: 'InvalidCapabilities.ValueNotSupported' }],
      });
    });

    it('does not re-send the webhook of a rejection delivered twice', async () => {
      // Arrange
      const t = createTestDeps();
      uploadPair(t, validManifest({ capacity: 0 }));
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));

      // Act
      const again = await registerObject(t.deps, objectEvent(PACKAGE_KEY), t.invocation('req-2'));

      // Assert
      expect(again.outcome).toBe('unchanged');
      expect(t.notifier.sent).toHaveLength(1);
    });

    it('re-registers a fixed manifest after a rejection of the same package', async () => {
      // Arrange
      const t = createTestDeps();
      uploadPair(t);
      t.registry.failNext(1, 'InvalidCapacity.ValueNotSupported', { retryable: false });
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));

      // Act: the publisher uploads a corrected manifest (a new ETag).
      t.store.upload(MANIFEST_KEY, JSON.stringify(validManifest({ capacity: 20 })));
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-2'));

      // Assert
      expect(statusOf(t)).toMatchObject({ state: 'REGISTERED', created: true });
    });

    it('lets a new package take a name whose earlier holder was rejected', async () => {
      // Arrange: the first package is rejected by CityVisual, which releases the name.
      const t = createTestDeps();
      uploadPair(t);
      t.registry.failNext(1, 'InvalidCapacity.ValueNotSupported', { retryable: false });
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));
      t.store.upload('library/face/face-2.0.0.tar.gz', PACKAGE_BYTES);
      t.store.upload('library/face/face-2.0.0.manifest.json', JSON.stringify(validManifest({ version: '2.0.0' })));

      // Act
      await registerObject(t.deps, objectEvent('library/face/face-2.0.0.tar.gz'), t.invocation('req-2'));

      // Assert
      expect(t.store.json<StatusDocument>('status/library/face/face-2.0.0.json')?.state).toBe('REGISTERED');
      expect(t.store.objects.has('status/.claims/face/000001.json')).toBe(true);
    });
  });

  describe('exactly once under duplicates and crashes', () => {
    it('makes no CityVisual call for a delivery of a pair already REGISTERED', async () => {
      // Arrange
      const t = createTestDeps();
      uploadPair(t);
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));

      // Act
      const again = await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-2'));

      // Assert
      expect(t.registry.calls.create).toBe(1);
      expect(again).toMatchObject({ outcome: 'unchanged', status: { state: 'REGISTERED', algoLibId: '36' } });
      expect(t.notifier.sent).toHaveLength(1);
    });

    it('lets ten concurrent deliveries make one CreateAlgoLib call and agree on the id', async () => {
      // Arrange
      const t = createTestDeps();
      uploadPair(t);

      // Act
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          registerObject(t.deps, objectEvent(i % 2 ? PACKAGE_KEY : MANIFEST_KEY), t.invocation(`req-${i}`)),
        ),
      );

      // Assert
      expect(t.registry.calls.create).toBe(1);
      expect(t.registry.libraries.size).toBe(1);
      const ids = results.map((result) => ('status' in result ? result.status.algoLibId : undefined));
      expect(new Set(ids)).toEqual(new Set(['36']));
      expect(t.notifier.sent).toHaveLength(1);
    });

    it('ends REGISTERED with the same id when re-delivered after a crash between CreateAlgoLib and the status write', async () => {
      // Arrange: the first invocation dies right after CityVisual created the library.
      const t = createTestDeps();
      uploadPair(t);
      t.store.failNext('put', 1, { retryable: false, code: 'InstanceKilled' });
      await expect(
        registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-crashed', 60)),
      ).rejects.toThrow();
      expect(t.registry.libraries.get('face')?.algoLibId).toBe('36');

      // Act: OSS re-delivers (a new request id) while the crashed claim is still live; it waits it out.
      const result = await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-redelivered', 120));

      // Assert
      expect(result).toMatchObject({ status: { state: 'REGISTERED', algoLibId: '36', created: false } });
      expect(t.registry.libraries.size).toBe(1);
      expect(t.registry.calls.find).toBe(1);
    });

    it('takes over its own claim at once when FC retries the same request id', async () => {
      // Arrange
      const t = createTestDeps();
      uploadPair(t);
      t.store.failNext('put', 1, { retryable: false, code: 'InstanceKilled' });
      await expect(registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'))).rejects.toThrow();
      const before = t.clock.now();

      // Act
      const result = await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));

      // Assert
      expect(result).toMatchObject({ status: { state: 'REGISTERED', algoLibId: '36', created: false } });
      expect(t.clock.now() - before).toBe(0);
    });

    it('makes no CreateAlgoLib call when FC retries a request whose first run wrote REGISTERED before dying', async () => {
      // Arrange: the instance is killed after the status write, during the webhooks (found by the soak: 1,465 of
      // 11,514 CreateAlgoLib calls were such retries, each answered Duplicate).
      const t = createTestDeps();
      uploadPair(t);
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));
      const createsBefore = t.registry.calls.create;

      // Act
      const result = await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));

      // Assert
      expect(t.registry.calls.create).toBe(createsBefore);
      expect(result).toMatchObject({
        outcome: 'unchanged',
        status: { state: 'REGISTERED', algoLibId: '36', created: true },
      });
    });

    it('resolves InvalidName.Duplicate to the existing library when version and path match', async () => {
      // Arrange: "create, then drop the connection", then a retry that hears Duplicate.
      const t = createTestDeps();
      uploadPair(t);
      t.registry.failNext(1, 'ECONNRESET', { commit: true });

      // Act
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));

      // Assert
      expect(statusOf(t)).toMatchObject({ state: 'REGISTERED', algoLibId: '36', created: false });
      expect(t.registry.calls).toEqual({ create: 2, update: 0, find: 1 });
    });
  });

  describe('deadlines and retries', () => {
    it('retries transient CityVisual errors and then registers', async () => {
      // Arrange
      const t = createTestDeps();
      uploadPair(t);
      t.registry.failNext(3, 'Throttling.User');

      // Act
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));

      // Assert
      expect(t.registry.calls.create).toBe(4);
      expect(statusOf(t)).toMatchObject({ state: 'REGISTERED', created: true });
    });

    it('survives transient OSS errors on every read and write', async () => {
      // Arrange
      const t = createTestDeps();
      uploadPair(t);
      for (const operation of ['head', 'getBytes', 'putIfAbsent', 'put'] as const) t.store.failNext(operation, 2);

      // Act
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));

      // Assert
      expect(statusOf(t)?.state).toBe('REGISTERED');
      expect(t.registry.calls.create).toBe(1);
    });

    it('stops retrying at the deadline, writes FAILED and fails the invocation', async () => {
      // Arrange: CityVisual is unavailable for longer than the invocation lives.
      const t = createTestDeps({ RETRY_MAX_ATTEMPTS: '1000' });
      uploadPair(t);
      t.registry.failNext(1000, 'ServiceUnavailable');
      const invocation = t.invocation('req-1', 30);

      // Act
      const run = registerObject(t.deps, objectEvent(MANIFEST_KEY), invocation);

      // Assert
      await expect(run).rejects.toBeInstanceOf(DeadlineError);
      expect(t.clock.now()).toBeLessThanOrEqual(invocation.budget.work.at);
      expect(t.registry.calls.create).toBeLessThan(1000);
      expect(statusOf(t)).toMatchObject({ state: 'FAILED', errors: [{ code: 'ServiceUnavailable' }] });
    });

    it('registers on the next delivery after a FAILED one', async () => {
      // Arrange
      const t = createTestDeps({ RETRY_MAX_ATTEMPTS: '2' });
      uploadPair(t);
      t.registry.failNext(2, 'InternalError');
      await expect(registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'))).rejects.toThrow();

      // Act
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-2'));

      // Assert
      expect(statusOf(t)).toMatchObject({ state: 'REGISTERED', created: true });
      expect(t.registry.libraries.size).toBe(1);
    });

    it('fails the invocation (FC retries) when a crashed claim outlives its deadline, then the retry finishes', async () => {
      // Arrange
      const t = createTestDeps();
      uploadPair(t);
      t.store.failNext('put', 1, { retryable: false, code: 'InstanceKilled' });
      await expect(
        registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-crashed', 60)),
      ).rejects.toThrow();

      // Act: a 10 s invocation cannot wait out a claim that lives 60 s.
      const short = registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-short', 10));

      // Assert
      await expect(short).rejects.toBeInstanceOf(DeadlineError);
      t.clock.advance(60_000); // FC's async retry comes later, after its backoff
      const retried = await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-short', 60));
      expect(retried).toMatchObject({ status: { state: 'REGISTERED', algoLibId: '36', created: false } });
    });

    it('caps the timeout of every OSS call by the time left before the invocation must have answered', async () => {
      // Arrange: a 12 s invocation with a 10 s OSS timeout; OSS stalls are simulated by the clock moving on.
      const t = createTestDeps();
      uploadPair(t);
      t.store.beforeOperation = () => t.clock.advance(2_500);
      const invocation = t.invocation('req-1', 12);

      // Act: the stalls outlast the invocation, so it stops writing at its last-write deadline (FC runs it again).
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), invocation).catch((error: unknown) => {
        if (!(error instanceof DeadlineError)) throw error;
      });

      // Assert: the first calls get the full 10 s, later ones only what is left (never past hardDeadline - 1 s).
      expect(t.store.timeouts[0]).toBe(10_000);
      expect(Math.min(...(t.store.timeouts as number[]))).toBeLessThan(10_000);
      expect(t.store.timeouts.every((ms) => ms !== undefined && ms >= 1 && ms <= 11_000)).toBe(true);
    });
  });

  describe('what is ignored', () => {
    it.each([
      ['a key under the status prefix', objectEvent(STATUS_KEY)],
      ['a multipart part', objectEvent(PACKAGE_KEY, { eventName: 'ObjectCreated:UploadPart' })],
      [
        'an initiated multipart upload',
        objectEvent(PACKAGE_KEY, { eventName: 'ObjectCreated:InitiateMultipartUpload' }),
      ],
      ['another bucket', objectEvent(PACKAGE_KEY, { bucket: 'someone-else' })],
      ['another suffix', objectEvent('library/face/readme.md')],
      ['a key outside the package prefix', objectEvent('incoming/face-1.2.0.tar.gz')],
    ])('ignores %s and says so in one log line', async (_case, event) => {
      // Arrange
      const t = createTestDeps();
      uploadPair(t);

      // Act
      const result = await registerObject(t.deps, event, t.invocation('req-1'));

      // Assert
      expect(result.outcome).toBe('ignored');
      expect(t.lines.filter((line) => line.includes('"step":"event.ignored"'))).toHaveLength(1);
      expect(t.store.calls).toEqual({ head: 0, getBytes: 0, digest: 0, versioning: 0, putIfAbsent: 0, put: 0 });
    });

    it('ignores a package named like a name claim under an empty package prefix, so it cannot block the name (fuzz: claim collision)', async () => {
      // Arrange: `.claims/face/000000.tar.gz` has the status key `status/.claims/face/000000.json`, the claim of `face`.
      const t = createTestDeps({ PACKAGE_PREFIX: '' });
      t.store.upload('.claims/face/000000.tar.gz', PACKAGE_BYTES);
      t.store.upload('.claims/face/000000.manifest.json', JSON.stringify(validManifest({ name: 'squatter' })));
      uploadPair(t);

      // Act
      const squat = await registerObject(
        t.deps,
        objectEvent('.claims/face/000000.manifest.json'),
        t.invocation('req-1'),
      );
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-2'));

      // Assert
      expect(squat).toEqual({
        outcome: 'ignored',
        reason: 'its status document would fall among the name claims or library records',
      });
      expect(statusOf(t)).toMatchObject({ state: 'REGISTERED', name: 'face', created: true });
      expect(t.store.json('status/.claims/face/000000.json')).toMatchObject({ owner: 'req-2', name: 'face' });
    });
  });

  describe('secrets', () => {
    it('never writes a secret to a status document or a log line', async () => {
      // Arrange
      const t = createTestDeps();
      uploadPair(t);
      t.registry.failNext(1, 'InvalidOssBucket.ValueUnauthorized', { retryable: false });

      // Act
      await registerObject(t.deps, objectEvent(MANIFEST_KEY), t.invocation('req-1'));

      // Assert
      const written = [...t.store.objects.values()].map((object) => object.bytes.toString('utf8')).join('\n');
      expect(written).not.toContain('canary-oss-read-secret');
      expect(t.lines.join('\n')).not.toContain('canary-oss-read-secret');
    });
  });
});

describe('registerPayload', () => {
  const payloadOf = (...keys: string[]) =>
    Buffer.from(
      JSON.stringify({
        events: keys.map((key) => ({
          eventName: 'ObjectCreated:PutObject',
          oss: { bucket: { name: 'algolib-packages' }, object: { key } },
        })),
      }),
    );

  it('handles every event of a payload, not just the first', async () => {
    // Arrange
    const t = createTestDeps();
    uploadPair(t);

    // Act
    const results = await registerPayload(t.deps, payloadOf(PACKAGE_KEY, MANIFEST_KEY), t.invocation('req-1'));

    // Assert
    expect(results).toEqual([
      { key: PACKAGE_KEY, outcome: 'written', state: 'REGISTERED' },
      { key: MANIFEST_KEY, outcome: 'unchanged', state: 'REGISTERED' },
    ]);
  });

  it('drops a payload that does not parse with one log line, without failing the invocation', async () => {
    // Arrange
    const t = createTestDeps();

    // Act
    const results = await registerPayload(t.deps, Buffer.from('{"not":"an event"}'), t.invocation('req-1'));

    // Assert
    expect(results).toEqual([]);
    expect(t.lines.filter((line) => line.includes('"step":"event.invalid"'))).toHaveLength(1);
  });

  it('tries every event, then fails the invocation when one could not finish', async () => {
    // Arrange: CityVisual is down for longer than the invocation; the other event is just ignored.
    const t = createTestDeps({ RETRY_MAX_ATTEMPTS: '2' });
    uploadPair(t);
    t.registry.failNext(10, 'ServiceUnavailable');

    // Act
    const run = registerPayload(t.deps, payloadOf(MANIFEST_KEY, 'library/readme.md'), t.invocation('req-1'));

    // Assert
    await expect(run).rejects.toBeInstanceOf(DeadlineError);
    expect(t.lines.filter((line) => line.includes('"step":"event.ignored"'))).toHaveLength(1);
    expect(statusOf(t)?.state).toBe('FAILED');
  });
});
