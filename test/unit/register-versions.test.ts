/**
 * Releases: every row of the releases table through registerObject over the in-memory fakes, and every crash point
 * of an update. (The pure decision is table-tested in release-decision.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { DeadlineError } from '../../shared/errors.ts';
import type { LibraryRecord } from '../../shared/library-record.ts';
import { registerObject } from '../../shared/register.ts';
import type { StatusDocument } from '../../shared/status.ts';
import { createTestDeps, objectEvent, validManifest } from '../fakes/register-deps.ts';

type T = ReturnType<typeof createTestDeps>;

const keys = (version: string, folder = 'library/face') => ({
  packageKey: `${folder}/face-${version}.tar.gz`,
  manifestKey: `${folder}/face-${version}.manifest.json`,
  statusKey: `status/${folder}/face-${version}.json`,
});

const bytesOf = (version: string) => Buffer.from(`face ${version} package bytes`);

/** Uploads `face@version` (package, then manifest) into `folder`; returns its keys. */
const upload = (t: T, version: string, options: { folder?: string; manifest?: Record<string, unknown> } = {}) => {
  const k = keys(version, options.folder);
  const bytes = bytesOf(version);
  t.store.upload(k.packageKey, bytes);
  const stored = t.store.objects.get(k.packageKey);
  t.store.upload(
    k.manifestKey,
    JSON.stringify(
      validManifest({ version, package: { size: bytes.length, crc64: stored?.crc64 }, ...options.manifest }),
    ),
  );
  return k;
};

let requestNumber = 0;
const deliver = (t: T, manifestKey: string, requestId = `req-${++requestNumber}`) =>
  registerObject(t.deps, objectEvent(manifestKey), t.invocation(requestId));

const statusAt = (t: T, key: string) => t.store.json<StatusDocument>(key);
const recordOf = (t: T) => t.store.json<LibraryRecord>('status/.libraries/face.json');

describe('releases', () => {
  describe('first of its name', () => {
    it('creates the library: REGISTERED, change "created", and a library record', async () => {
      const t = createTestDeps();
      const v1 = upload(t, '1.0.0');

      await deliver(t, v1.manifestKey);

      expect(statusAt(t, v1.statusKey)).toMatchObject({ state: 'REGISTERED', change: 'created', created: true });
      expect(recordOf(t)).toMatchObject({
        name: 'face',
        algoLibId: '36',
        version: '1.0.0',
        owner: { bucket: 'algolib-packages', folder: 'library/face/' },
        latest: { version: '1.0.0', state: 'REGISTERED', change: 'created' },
      });
    });
  });

  describe('a newer version from the owning folder', () => {
    it('updates the library with ModifyAlgoLib and every field of the new manifest', async () => {
      const t = createTestDeps();
      await deliver(t, upload(t, '1.0.0').manifestKey);
      const v2 = upload(t, '1.0.1', { manifest: { capacity: 40, capabilities: ['FACE'] } });

      await deliver(t, v2.manifestKey);

      expect(statusAt(t, v2.statusKey)).toMatchObject({
        state: 'REGISTERED',
        algoLibId: '36',
        created: false,
        change: 'updated',
        previous: { version: '1.0.0', packageKey: 'library/face/face-1.0.0.tar.gz' },
      });
      expect(t.registry.calls).toMatchObject({ create: 1, update: 1 });
      expect(t.registry.libraries.get('face')).toMatchObject({
        algoLibId: '36',
        version: '1.0.1',
        capacity: 40,
        capabilities: ['FACE'],
        location: { path: v2.packageKey },
      });
      expect(recordOf(t)).toMatchObject({ version: '1.0.1', history: [{ version: '1.0.0' }, { version: '1.0.1' }] });
    });

    it('compares against what CityVisual says, not only its own record (a library modified by hand)', async () => {
      const t = createTestDeps();
      await deliver(t, upload(t, '1.0.0').manifestKey);
      const lib = t.registry.libraries.get('face');
      if (lib) lib.version = '1.5.0';

      const result = await deliver(t, upload(t, '1.2.0').manifestKey);

      expect(result).toMatchObject({ status: { state: 'CONFLICT', errors: [{ code: 'VERSION_DOWNGRADE' }] } });
    });
  });

  describe('the same version, same manifest content', () => {
    it('answers an identical re-publish "unchanged" for this upload, at once, without calling CityVisual', async () => {
      const t = createTestDeps();
      const v1 = upload(t, '1.0.0');
      await deliver(t, v1.manifestKey);
      upload(t, '1.0.0'); // the same bytes again: new ETags would come from a real re-upload; same content here
      t.store.upload(
        v1.manifestKey,
        `${JSON.stringify(JSON.parse(t.store.objects.get(v1.manifestKey)?.bytes.toString() ?? '{}'), null, 2)}\n`,
      );
      const calls = { ...t.registry.calls };

      const result = await deliver(t, v1.manifestKey);

      expect(result).toMatchObject({ status: { state: 'REGISTERED', change: 'unchanged', created: false } });
      expect(statusAt(t, v1.statusKey)?.manifest.etag).toBe(t.store.objects.get(v1.manifestKey)?.etag);
      expect(t.registry.calls.create).toBe(calls.create);
      expect(t.registry.calls.update).toBe(0);
      expect(t.notifier.sent.map((status) => status.change)).toEqual(['created']);
    });

    it('tells identical bytes uploaded again (same ETags, a later Last-Modified) from a late duplicate delivery', async () => {
      const t = createTestDeps();
      const v1 = upload(t, '1.0.0');
      await deliver(t, v1.manifestKey, 'req-1');
      t.clock.advance(60_000);

      // A re-delivery of the first upload's event, however late (and whatever eventTime it carries).
      const duplicate = await registerObject(
        t.deps,
        objectEvent(v1.manifestKey, { eventTime: new Date(t.clock.now()).toISOString() }),
        t.invocation('req-2'),
      );
      upload(t, '1.0.0'); // the same bytes uploaded again: same ETags, a new Last-Modified
      const reupload = await deliver(t, v1.manifestKey, 'req-3');

      expect(duplicate).toMatchObject({ outcome: 'unchanged', status: { change: 'created' } });
      expect(reupload).toMatchObject({ outcome: 'written', status: { state: 'REGISTERED', change: 'unchanged' } });
      expect(t.registry.calls.create).toBe(1);
    });
  });

  describe('the same version, other package or manifest content', () => {
    it('answers a corrected manifest of a registered version VERSION_EXISTS, for this upload', async () => {
      const t = createTestDeps();
      const v1 = upload(t, '1.2.0');
      await deliver(t, v1.manifestKey);
      upload(t, '1.2.0', { manifest: { capacity: 40 } });

      const result = await deliver(t, v1.manifestKey);

      expect(result).toMatchObject({
        status: {
          state: 'CONFLICT',
          manifest: { etag: t.store.objects.get(v1.manifestKey)?.etag },
          errors: [
            {
              code: 'VERSION_EXISTS',
              message: `face@1.2.0 is already registered from algolib-packages/${v1.packageKey}; publish a new version`,
            },
          ],
        },
      });
      expect(t.registry.libraries.get('face')?.capacity).toBe(30);
    });
  });

  describe('an older version', () => {
    it('is VERSION_DOWNGRADE naming the current version, never an overwrite', async () => {
      const t = createTestDeps();
      await deliver(t, upload(t, '2.0.0').manifestKey);

      const result = await deliver(t, upload(t, '1.9.0').manifestKey);

      expect(result).toMatchObject({ status: { state: 'CONFLICT', errors: [{ code: 'VERSION_DOWNGRADE' }] } });
      expect(result).toHaveProperty('status.errors.0.message', expect.stringContaining('registered 2.0.0'));
      expect(t.registry.libraries.get('face')?.version).toBe('2.0.0');
    });
  });

  describe('another owner: another folder or bucket, or a library this pipeline did not create', () => {
    it('is NAME_CONFLICT for any version from another folder', async () => {
      const t = createTestDeps();
      await deliver(t, upload(t, '1.0.0').manifestKey);

      const result = await deliver(t, upload(t, '3.0.0', { folder: 'library/team-b' }).manifestKey);

      expect(result).toMatchObject({ status: { state: 'CONFLICT', errors: [{ code: 'NAME_CONFLICT' }] } });
      expect(result).toHaveProperty('status.errors.0.message', expect.stringContaining('library/face/'));
    });

    it('is NAME_CONFLICT for a library this pipeline did not create', async () => {
      const t = createTestDeps();
      t.registry.seed({ name: 'face', version: '0.1.0' }, { bucket: 'someone-else', path: 'x/face.tar.gz' });

      const result = await deliver(t, upload(t, '1.0.0').manifestKey);

      expect(result).toMatchObject({ status: { state: 'CONFLICT', errors: [{ code: 'NAME_CONFLICT' }] } });
    });
  });

  describe('VERSION_POLICY=create-only', () => {
    it('is VERSION_POLICY for a newer version', async () => {
      const t = createTestDeps({ VERSION_POLICY: 'create-only' });
      await deliver(t, upload(t, '1.0.0').manifestKey);

      const result = await deliver(t, upload(t, '1.0.1').manifestKey);

      expect(result).toMatchObject({ status: { state: 'CONFLICT', errors: [{ code: 'VERSION_POLICY' }] } });
      expect(t.registry.calls.update).toBe(0);
    });
  });

  describe('exactly once under duplicates and crashes', () => {
    it('ends at the highest version whatever order concurrent versions and duplicates arrive in', async () => {
      const t = createTestDeps();
      const versions = ['1.0.0', '1.2.0', '1.1.0', '2.0.0-rc.1', '2.0.0', '1.3.0'];
      const uploads = versions.map((version) => upload(t, version));

      const results = await Promise.allSettled(
        uploads.flatMap((k) => [deliver(t, k.manifestKey), deliver(t, k.manifestKey), deliver(t, k.manifestKey)]),
      );

      expect(results.every((result) => result.status === 'fulfilled')).toBe(true);
      expect(t.registry.calls.create).toBe(1);
      expect(t.registry.libraries.size).toBe(1);
      const states = uploads.map((k) => statusAt(t, k.statusKey));
      expect(states.every((status) => status?.state === 'REGISTERED' || status?.state === 'CONFLICT')).toBe(true);
      const registered = states.filter((status) => status?.state === 'REGISTERED').map((status) => status?.version);
      // Whatever the order, the library is at the highest version that was registered, and that is 2.0.0 unless
      // 2.0.0 came first (then the rest are downgrades): either way, the highest that arrived.
      expect(t.registry.libraries.get('face')?.version).toBe('2.0.0');
      expect(registered).toContain('2.0.0');
      // One webhook per outcome, whatever the duplicates.
      const ids = t.notifier.sent.map((status) => `${status.package.key}:${status.state}`);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('sends the FAILED webhook of an upload once, however many runs fail', async () => {
      const t = createTestDeps({ RETRY_MAX_ATTEMPTS: '1' });
      const v1 = upload(t, '1.0.0');
      t.registry.failNext(3, 'ServiceUnavailable');

      for (const id of ['req-a', 'req-b', 'req-c'])
        await expect(deliver(t, v1.manifestKey, id)).rejects.toBeInstanceOf(DeadlineError);

      expect(t.notifier.sent.filter((status) => status.state === 'FAILED')).toHaveLength(1);
      expect(await deliver(t, v1.manifestKey)).toMatchObject({ status: { state: 'REGISTERED' } });
    });

    it('sends no duplicate while concurrent deliveries of one upload wait for its holder', async () => {
      const t = createTestDeps();
      const v1 = upload(t, '1.0.0');

      await Promise.all(Array.from({ length: 5 }, () => deliver(t, v1.manifestKey)));

      expect(t.notifier.sent).toHaveLength(1);
    });

    it('resolves a crash between ModifyAlgoLib and the status write through DescribeAlgoLibs: REGISTERED, "updated"', async () => {
      const t = createTestDeps();
      await deliver(t, upload(t, '1.0.0').manifestKey);
      const v2 = upload(t, '1.1.0');
      // The status write after ModifyAlgoLib fails as an instance kill would: nothing more is written.
      const putsBefore = t.store.calls.put;
      t.store.beforeOperation = (operation) => {
        if (operation === 'put' && t.store.calls.put === putsBefore + 1) throw new Error('instance killed');
      };
      await expect(deliver(t, v2.manifestKey, 'req-killed')).rejects.toThrow('instance killed');
      delete t.store.beforeOperation;
      expect(t.registry.libraries.get('face')?.version).toBe('1.1.0');

      // FC (or OSS) delivers again, with another request id, after the dead claim expired.
      t.clock.advance(61_000);
      const result = await deliver(t, v2.manifestKey, 'req-again');

      expect(result).toMatchObject({
        status: {
          state: 'REGISTERED',
          algoLibId: '36',
          change: 'updated',
          previous: { version: '1.0.0', packageKey: 'library/face/face-1.0.0.tar.gz' },
        },
      });
      expect(t.registry.calls.update).toBe(1);
    });

    it('resumes an update whose holder died even when another release was decided in between (soak seed 20261129)', async () => {
      const t = createTestDeps();
      await deliver(t, upload(t, '1.0.0').manifestKey);
      const v11 = upload(t, '1.1.0');
      const putsBefore = t.store.calls.put;
      t.store.beforeOperation = (operation) => {
        if (operation === 'put' && t.store.calls.put === putsBefore + 1) throw new Error('instance killed');
      };
      await expect(deliver(t, v11.manifestKey, 'req-killed')).rejects.toThrow('instance killed');
      delete t.store.beforeOperation;
      t.clock.advance(61_000);
      // A lower release walks past the dead claim and is answered (a downgrade against 1.1.0, already in CityVisual).
      const rc = await deliver(t, upload(t, '1.1.0-rc.1').manifestKey);
      expect(rc).toMatchObject({ status: { state: 'CONFLICT', errors: [{ code: 'VERSION_DOWNGRADE' }] } });

      const result = await deliver(t, v11.manifestKey, 'req-redelivered');

      expect(result).toMatchObject({
        status: { state: 'REGISTERED', change: 'updated', previous: { version: '1.0.0' } },
      });
      expect(recordOf(t)).toMatchObject({ version: '1.1.0' });
      expect(recordOf(t)?.unfinished).toBeUndefined();
    });

    it('never resumes its own dead claim once a later holder took over (FC retrying the same request id)', async () => {
      const t = createTestDeps();
      const v1 = upload(t, '1.0.0');
      t.store.beforeOperation = (operation, key) => {
        if (operation === 'put' && key === v1.statusKey) throw new Error('instance killed');
      };
      await expect(deliver(t, v1.manifestKey, 'req-a')).rejects.toThrow('instance killed');
      delete t.store.beforeOperation;
      t.clock.advance(61_000);
      const v2 = upload(t, '2.0.0');
      // While 2.0.0's holder updates the library, FC retries the dead run of 1.0.0 with its own request id.
      let retry: Promise<unknown> | undefined;
      let callsDuringUpdate = 0;
      t.registry.beforeCreate = async () => {
        if (retry) return;
        const before = t.registry.calls.create + t.registry.calls.find;
        retry = deliver(t, v1.manifestKey, 'req-a');
        for (let i = 0; i < 50; i += 1) await new Promise((resolve) => setImmediate(resolve));
        callsDuringUpdate = t.registry.calls.create + t.registry.calls.find - before;
      };

      const updated = await deliver(t, v2.manifestKey, 'req-b');
      const retried = await retry;

      expect(callsDuringUpdate).toBe(0);
      expect(updated).toMatchObject({ status: { state: 'REGISTERED', change: 'updated' } });
      expect(retried).toMatchObject({ status: { state: 'CONFLICT', errors: [{ code: 'VERSION_DOWNGRADE' }] } });
    });

    it('answers a release whose every trace but CityVisual was lost REGISTERED, from the fields CityVisual lists, and notifies it', async () => {
      const t = createTestDeps();
      await deliver(t, upload(t, '1.0.0').manifestKey);
      const v2 = upload(t, '2.0.0');
      // A run updated the library to 2.0.0, then died; its claim, status and record entry are gone (soak seed 1208).
      const manifest = JSON.parse(t.store.objects.get(v2.manifestKey)?.bytes.toString() ?? '{}');
      await t.registry.update('36', manifest, { bucket: 'algolib-packages', path: v2.packageKey }, 1000);

      const result = await deliver(t, v2.manifestKey);

      // Its run's own answer, told for the first time (soak seed 1211: answered `unchanged`, it sent no webhook).
      expect(result).toMatchObject({
        status: { state: 'REGISTERED', algoLibId: '36', change: 'updated', previous: { version: '1.0.0' } },
      });
      expect(t.registry.calls.update).toBe(1);
      expect(t.notifier.sent.filter((status) => status.version === '2.0.0').map((status) => status.change)).toEqual([
        'updated',
      ]);
    });

    it('brings a record behind CityVisual up to date when the next release of the name is decided (soak seed 1208)', async () => {
      const t = createTestDeps();
      await deliver(t, upload(t, '1.0.0').manifestKey);
      t.store.beforeOperation = (operation, key) => {
        if (operation === 'put' && key === 'status/.libraries/face.json') throw new Error('instance killed');
      };
      await expect(deliver(t, upload(t, '2.0.0').manifestKey, 'req-killed')).rejects.toThrow('instance killed');
      delete t.store.beforeOperation;
      t.clock.advance(61_000);

      const older = await deliver(t, upload(t, '1.1.0').manifestKey);

      expect(older).toMatchObject({ status: { state: 'CONFLICT', errors: [{ code: 'VERSION_DOWNGRADE' }] } });
      expect(recordOf(t)).toMatchObject({
        algoLibId: '36',
        version: '2.0.0',
        package: { key: 'library/face/face-2.0.0.tar.gz' },
      });
    });

    it('keeps the record at the newest version when an older release answered before it is replayed late (soak seed 1207)', async () => {
      const t = createTestDeps();
      await deliver(t, upload(t, '1.0.0').manifestKey);
      const v11 = upload(t, '1.1.0');
      // 1.1.0's holder updates CityVisual and answers, then dies before its record write.
      t.store.beforeOperation = (operation, key) => {
        if (operation === 'put' && key === 'status/.libraries/face.json') throw new Error('instance killed');
      };
      await expect(deliver(t, v11.manifestKey, 'req-killed')).rejects.toThrow('instance killed');
      delete t.store.beforeOperation;
      t.clock.advance(61_000);
      const v2 = await deliver(t, upload(t, '2.0.0').manifestKey);
      expect(v2).toMatchObject({ status: { state: 'REGISTERED', change: 'updated' } });
      expect(recordOf(t)).toMatchObject({ version: '2.0.0' });

      // FC runs 1.1.0's event again: its answer is replayed and recorded, and the library stays at 2.0.0.
      const replayed = await deliver(t, v11.manifestKey, 'req-retried');

      expect(replayed).toMatchObject({ status: { state: 'REGISTERED', version: '1.1.0' } });
      expect(t.registry.libraries.get('face')?.version).toBe('2.0.0');
      expect(recordOf(t)).toMatchObject({ version: '2.0.0', package: { key: 'library/face/face-2.0.0.tar.gz' } });
      expect(recordOf(t)?.history.map((entry) => `${entry.version} ${entry.state}`)).toContain('1.1.0 REGISTERED');
    });

    it('writes nothing more once past its last-write deadline, when another holder may have its claim', async () => {
      const t = createTestDeps();
      const v1 = upload(t, '1.0.0');
      // The webhooks stall until after FC's timeout (a paused or overloaded instance that was not killed in time).
      t.deps.notifier = {
        notify: async () => {
          t.clock.advance(120_000);
          return undefined;
        },
      };

      await expect(deliver(t, v1.manifestKey)).rejects.toBeInstanceOf(DeadlineError);

      expect(statusAt(t, v1.statusKey)).toMatchObject({ state: 'REGISTERED' });
      expect(recordOf(t)).toBeUndefined();
    });

    it('resolves ModifyAlgoLib committed but its answer lost (retried in the same run)', async () => {
      const t = createTestDeps();
      await deliver(t, upload(t, '1.0.0').manifestKey);
      t.registry.failNext(1, 'ECONNRESET', { commit: true, operation: 'update' });

      const result = await deliver(t, upload(t, '1.1.0').manifestKey);

      expect(result).toMatchObject({ status: { state: 'REGISTERED', change: 'updated' } });
      expect(t.registry.libraries.get('face')?.version).toBe('1.1.0');
    });

    it('repairs the library record after a crash between the status write and the record write', async () => {
      const t = createTestDeps();
      await deliver(t, upload(t, '1.0.0').manifestKey);
      const v2 = upload(t, '1.1.0');
      t.store.beforeOperation = (operation, key) => {
        if (operation === 'put' && key === 'status/.libraries/face.json') throw new Error('instance killed');
      };
      await expect(deliver(t, v2.manifestKey, 'req-killed')).rejects.toThrow('instance killed');
      delete t.store.beforeOperation;
      expect(recordOf(t)?.version).toBe('1.0.0');

      t.clock.advance(61_000);
      const result = await deliver(t, v2.manifestKey, 'req-again');

      expect(result).toMatchObject({ status: { state: 'REGISTERED', change: 'updated' } });
      expect(recordOf(t)).toMatchObject({ version: '1.1.0', latest: { version: '1.1.0' } });
      expect(t.registry.calls.update).toBe(1);
      expect(t.notifier.sent.filter((status) => status.version === '1.1.0')).toHaveLength(1);
    });
  });

  describe('cloud readiness', () => {
    it('refuses to claim in a versioned status bucket: FAILED STATUS_BUCKET_VERSIONED naming it, FC retries', async () => {
      const t = createTestDeps();
      t.store.bucketVersioning = 'Suspended';
      const v1 = upload(t, '1.0.0');

      await expect(deliver(t, v1.manifestKey)).rejects.toBeInstanceOf(DeadlineError);

      expect(statusAt(t, v1.statusKey)).toMatchObject({
        state: 'FAILED',
        errors: [{ code: 'STATUS_BUCKET_VERSIONED', message: expect.stringContaining('algolib-packages') }],
      });
      expect([...t.store.objects.keys()].some((key) => key.includes('.claims/'))).toBe(false);
      expect(t.registry.calls.create).toBe(0);
      // Fixed (a new, unversioned bucket): the next run registers.
      t.store.bucketVersioning = undefined;
      expect(await deliver(t, v1.manifestKey)).toMatchObject({ status: { state: 'REGISTERED' } });
    });

    it('computes the CRC-64 by streaming a package OSS reports none for (a copy), instead of rejecting it', async () => {
      const t = createTestDeps();
      const v1 = upload(t, '1.0.0');
      const stored = t.store.objects.get(v1.packageKey);
      if (stored) stored.crc64 = undefined;

      const result = await deliver(t, v1.manifestKey);

      expect(result).toMatchObject({ status: { state: 'REGISTERED', package: { crc64: expect.any(String) } } });
      expect(t.store.calls.digest).toBe(1);
    });

    it('rejects a copy whose streamed CRC-64 differs from the manifest', async () => {
      const t = createTestDeps();
      const v1 = upload(t, '1.0.0');
      t.store.upload(v1.packageKey, Buffer.from('other bytes of the same size!'.slice(0, bytesOf('1.0.0').length)), {
        crc64: false,
      });

      const result = await deliver(t, v1.manifestKey);

      expect(result).toMatchObject({
        status: { state: 'REJECTED', errors: [{ code: 'PACKAGE_CHECKSUM_MISMATCH', path: 'package.crc64' }] },
      });
    });
  });

  describe('deployment faults', () => {
    it('fails (FC retries) on a deployment fault and registers once the role is fixed', async () => {
      const t = createTestDeps();
      await deliver(t, upload(t, '1.0.0').manifestKey);
      t.registry.failNext(1, 'Forbidden.RAM', { retryable: false, deployment: true, operation: 'update' });
      const v2 = upload(t, '1.1.0');

      await expect(deliver(t, v2.manifestKey)).rejects.toBeInstanceOf(DeadlineError);
      expect(statusAt(t, v2.statusKey)).toMatchObject({ state: 'FAILED', errors: [{ code: 'Forbidden.RAM' }] });

      const result = await deliver(t, v2.manifestKey);

      expect(result).toMatchObject({ status: { state: 'REGISTERED', change: 'updated' } });
    });
  });
});
