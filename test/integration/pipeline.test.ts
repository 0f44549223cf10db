/**
 * End to end on the local cloud: the real ali-oss uploads, the OSS emulator notifies the FC emulator, which runs the
 * built bundle (dist/register) in a child process, which calls OSS and CityVisual through the real SDKs.
 */
import OSS from 'ali-oss';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../local/cloud.ts';
import { objectCreatedRecord } from '../../platform/oss/event-record.ts';
import { crc64 } from '../../shared/crc64.ts';
import { statusKeyOf } from '../../shared/keys.ts';
import type { StatusDocument } from '../../shared/status.ts';
import { isTerminal } from '../../shared/status.ts';
import { validManifest } from '../fakes/register-deps.ts';

let cloud: LocalCloud;
let client: OSS;

beforeAll(async () => {
  cloud = await startLocalCloud({ stateFile: false, fc: { asyncRetryBaseMs: 20 } });
  const { endpoint, region, bucket, accessKeyId, accessKeySecret } = cloud.state.oss;
  client = new OSS({ endpoint, region, bucket, accessKeyId, accessKeySecret, authorizationV4: true });
});

afterAll(async () => {
  await cloud?.close();
});

beforeEach(() => {
  cloud.cityvisual.faults.set({ rules: [] });
  cloud.cityvisual.resetCounters();
});

let sequence = 0;
/** A fresh library name and keys per test, so tests share one cloud without sharing names. */
const newPair = (overrides: Record<string, unknown> = {}) => {
  sequence += 1;
  const name = `lib-${sequence}-${Date.now().toString(36)}`;
  const bytes = Buffer.from(`package ${name}`);
  const packageKey = `library/${name}/${name}-1.0.0.tar.gz`;
  return {
    name,
    bytes,
    packageKey,
    manifestKey: packageKey.replace(/\.tar\.gz$/, '.manifest.json'),
    statusKey: statusKeyOf(packageKey, 'status/'),
    manifest: validManifest({
      name,
      version: '1.0.0',
      package: { size: bytes.length, crc64: crc64(bytes) },
      ...overrides,
    }),
  };
};

const upload = async (
  pair: ReturnType<typeof newPair>,
  order: 'package-first' | 'manifest-first' = 'package-first',
) => {
  const parts = [
    () => client.put(pair.packageKey, pair.bytes),
    () => client.put(pair.manifestKey, Buffer.from(JSON.stringify(pair.manifest))),
  ];
  for (const put of order === 'package-first' ? parts : parts.reverse()) await put();
};

const readStatus = async (key: string): Promise<StatusDocument | undefined> => {
  try {
    const { content } = await client.get(key);
    return JSON.parse(content.toString('utf8')) as StatusDocument;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return undefined;
    throw error;
  }
};

/** Waits for the async queue to drain, then reads the status (bounded: the queue drains or the test times out). */
const settledStatus = async (key: string) => {
  await cloud.idle();
  return readStatus(key);
};

describe('the pipeline on the local cloud', () => {
  it('registers a package uploaded before its manifest, and delivers a verified webhook', async () => {
    // Arrange
    const pair = newPair();

    // Act
    await upload(pair, 'package-first');
    const status = await settledStatus(pair.statusKey);

    // Assert
    expect(status).toMatchObject({ state: 'REGISTERED', name: pair.name, created: true, errors: [] });
    expect(status?.algoLibId).toMatch(/^\d+$/);
    expect(cloud.cityvisual.libraries().filter((library) => library.AlgoLibName === pair.name)).toHaveLength(1);
    const delivery = cloud.receiver
      ?.deliveries()
      .find((entry) => (entry.body as { data?: { name?: string } }).data?.name === pair.name);
    expect(delivery).toMatchObject({ type: 'algolib.registered', verified: true });
    expect(status?.notifications).toMatchObject([{ delivered: true, webhookId: delivery?.id, attempts: 1 }]);
  });

  it('registers a manifest uploaded before its package', async () => {
    // Arrange
    const pair = newPair();

    // Act
    await upload(pair, 'manifest-first');
    const status = await settledStatus(pair.statusKey);

    // Assert
    expect(status).toMatchObject({ state: 'REGISTERED', created: true });
  });

  it('shows PENDING with waitingFor while one half is missing', async () => {
    // Arrange
    const pair = newPair();

    // Act
    await client.put(pair.packageKey, pair.bytes);
    const status = await settledStatus(pair.statusKey);

    // Assert
    expect(status).toMatchObject({ state: 'PENDING', waitingFor: 'manifest' });
  });

  it('creates one library when the same event is delivered three times at once', async () => {
    // Arrange: the package is in; the manifest's event will arrive three times, concurrently.
    const pair = newPair();
    await client.put(pair.packageKey, pair.bytes);
    await cloud.idle();
    const manifestBytes = Buffer.from(JSON.stringify(pair.manifest));
    const record = objectCreatedRecord({
      bucket: cloud.state.oss.bucket,
      key: pair.manifestKey,
      size: manifestBytes.length,
      etag: 'DUPLICATE',
      requestId: 'duplicate',
      ruleId: 'duplicate',
    });

    // Act: the upload's own event, plus two re-deliveries of it.
    await client.put(pair.manifestKey, manifestBytes);
    for (let i = 0; i < 2; i += 1) cloud.fc.dispatchOssEvent(record);
    const status = await settledStatus(pair.statusKey);

    // Assert
    expect(status).toMatchObject({ state: 'REGISTERED', created: true });
    expect(cloud.cityvisual.counters().requests.CreateAlgoLib).toBe(1);
    expect(cloud.cityvisual.libraries().filter((library) => library.AlgoLibName === pair.name)).toHaveLength(1);
  });

  it('retries throttling and 5xx from CreateAlgoLib, then registers', async () => {
    // Arrange
    const pair = newPair();
    cloud.cityvisual.faults.set({
      seed: 7,
      rules: [
        { action: 'CreateAlgoLib', kind: 'throttle', times: 1 },
        { action: 'CreateAlgoLib', kind: 'unavailable', times: 1 },
        { action: 'CreateAlgoLib', kind: 'html502', times: 1 },
      ],
    });

    // Act
    await upload(pair);
    const status = await settledStatus(pair.statusKey);

    // Assert
    expect(status).toMatchObject({ state: 'REGISTERED', created: true });
    expect(cloud.cityvisual.counters().requests.CreateAlgoLib).toBe(4);
  });

  it('resolves "create, then drop the connection" through Duplicate to REGISTERED with created false', async () => {
    // Arrange
    const pair = newPair();
    cloud.cityvisual.faults.set({ rules: [{ action: 'CreateAlgoLib', kind: 'commitThenDrop', times: 1 }] });

    // Act
    await upload(pair);
    const status = await settledStatus(pair.statusKey);

    // Assert
    const libraries = cloud.cityvisual.libraries().filter((library) => library.AlgoLibName === pair.name);
    expect(libraries).toHaveLength(1);
    expect(status).toMatchObject({ state: 'REGISTERED', created: false, algoLibId: libraries[0]?.AlgoLibId });
    expect(cloud.cityvisual.counters().requests.DescribeAlgoLibs).toBe(1);
  });

  it('rejects an invalid manifest without calling CityVisual', async () => {
    // Arrange
    const pair = newPair({ capacity: 0 });

    // Act
    await upload(pair);
    const status = await settledStatus(pair.statusKey);

    // Assert
    expect(status).toMatchObject({ state: 'REJECTED', errors: [{ code: 'MANIFEST_INVALID', path: 'capacity' }] });
    expect(cloud.cityvisual.counters().requests.CreateAlgoLib ?? 0).toBe(0);
  });

  it('rejects with the CityVisual code when CityVisual refuses the library', async () => {
    // Arrange
    const pair = newPair({ capabilities: ['TELEPATHY'] });

    // Act
    await upload(pair);
    const status = await settledStatus(pair.statusKey);

    // Assert
    expect(status).toMatchObject({ state: 'REJECTED', errors: [{ code: 'InvalidCapabilities.ValueNotSupported' }] });
    expect(cloud.cityvisual.counters().requests.CreateAlgoLib).toBe(1);
  });

  it('answers CONFLICT when a second package claims a registered name', async () => {
    // Arrange
    const first = newPair();
    await upload(first);
    await cloud.idle();
    const second = { ...newPair(), manifest: { ...first.manifest, version: '2.0.0' } };
    second.manifest.package = { size: second.bytes.length, crc64: crc64(second.bytes) };

    // Act
    await upload(second);
    const status = await settledStatus(second.statusKey);

    // Assert
    expect(status).toMatchObject({ state: 'CONFLICT', errors: [{ code: 'NAME_CONFLICT' }] });
  });

  it('writes nothing the triggers would fire on: every status and claim is under status/', async () => {
    // Arrange
    const pair = newPair();

    // Act
    await upload(pair);
    await cloud.idle();
    const listing = await client.listV2({ 'max-keys': '1000' }, {});

    // Assert
    const written = (listing.objects ?? []).map((object) => object.name).filter((key) => !key.startsWith('library/'));
    expect(written.length).toBeGreaterThan(0);
    expect(written.every((key) => key.startsWith('status/'))).toBe(true);
    expect(isTerminal((await readStatus(pair.statusKey))?.state ?? 'PENDING')).toBe(true);
  });
});
