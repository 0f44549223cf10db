/**
 * The ali-oss adapter against the OSS emulator, for what the pipeline relies on beyond the port's shape: STS
 * credentials that rotate under a live client, and reads that never copy more than they must.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OssEmulator, startOssEmulator } from '../../local/oss/oss-emulator.ts';
import type { RemoteError } from '../../shared/errors.ts';
import { type Credentials, createOssStore } from '../../shared/object-store.ts';

const BUCKET = 'adapter-test';
let oss: OssEmulator;

beforeAll(async () => {
  oss = await startOssEmulator({ buckets: [BUCKET], credentials: [] });
});

afterAll(async () => {
  await oss?.close();
});

const storeWith = (credentials: () => Credentials) =>
  createOssStore({ endpoint: oss.endpoint, region: oss.region, bucket: BUCKET, timeoutMs: 5000, credentials });

describe('createOssStore', () => {
  it('signs every request with the STS triplet current at that moment', async () => {
    // Arrange: FC hands the instance a new triplet for the same key id; OSS then accepts only the new one.
    const first = { accessKeyId: 'STS.rotating', accessKeySecret: 'first-secret', securityToken: 'first-token' };
    const second = { accessKeyId: 'STS.rotating', accessKeySecret: 'second-secret', securityToken: 'second-token' };
    oss.addCredential(first);
    let current: Credentials = first;
    const store = storeWith(() => current);
    await store.put('status/rotation.json', '{"n":1}');
    oss.addCredential(second);

    // Act
    const stale = await store.put('status/rotation.json', '{"n":2}').catch((error: RemoteError) => error.code);
    current = second;
    await store.put('status/rotation.json', '{"n":3}');
    const read = await store.getBytes('status/rotation.json', 100);

    // Assert
    expect(stale).toBe('InvalidSecurityToken');
    expect(Buffer.from(read?.bytes ?? []).toString()).toBe('{"n":3}');
  });

  it('reads at most maxBytes + 1 bytes and reports the whole size', async () => {
    // Arrange
    const key = { accessKeyId: 'LTAIadapter', accessKeySecret: 'adapter-secret' };
    oss.addCredential(key);
    const store = storeWith(() => key);
    await store.put('status/large.json', 'x'.repeat(1000));

    // Act
    const read = await store.getBytes('status/large.json', 99);

    // Assert
    expect(read).toMatchObject({ size: 1000 });
    expect(read?.bytes.byteLength).toBe(100);
  });

  it('gives up on a slow answer at the per-call timeout, as a retryable error', async () => {
    // Arrange
    const key = { accessKeyId: 'LTAIslow', accessKeySecret: 'slow-secret' };
    oss.addCredential(key);
    const store = storeWith(() => key);
    oss.faults.set({ rules: [{ action: 'HeadObject', kind: 'slow', delayMs: 3_000, times: 1 }] });

    // Act
    const error = await store.head('status/slow.json', { timeoutMs: 200 }).catch((caught: RemoteError) => caught);

    // Assert
    oss.faults.set({ rules: [] });
    expect(error).toMatchObject({ service: 'oss', retryable: true });
  });
});
