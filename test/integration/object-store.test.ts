/**
 * The ali-oss adapter against the OSS emulator, for what the pipeline relies on beyond the port's shape: STS
 * credentials that rotate under a live client, reads that never copy more than they must and work under the cloud's
 * default Range behaviour, digests of copies without a CRC-64, the bucket's versioning, and refusals classified as
 * faults of the deployment.
 */
import { createHash } from 'node:crypto';
import { crc64 as referenceCrc64 } from 'crc64-ecma182.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OssEmulator, startOssEmulator } from '../../local/oss/oss-emulator.ts';
import { createAliOssStore } from '../../platform/oss/ali-oss-store.ts';
import type { Credentials } from '../../shared/credentials.ts';
import type { RemoteError } from '../../shared/errors.ts';
import { aliOssClient } from '../fixtures/ali-oss-client.ts';

const BUCKET = 'adapter-test';
const VERSIONED = 'adapter-versioned';
const OWNER = { accessKeyId: 'LTAIowner', accessKeySecret: 'owner-secret' };
let oss: OssEmulator;

beforeAll(async () => {
  oss = await startOssEmulator({ buckets: [BUCKET, VERSIONED], credentials: [OWNER], omitCopyCrc64: true });
});

/** The bucket owner's own client, for what the function never does (copies, bucket configuration). */
const ownerClient = (bucket: string) => aliOssClient(oss, OWNER, { bucket, v4: true });

afterAll(async () => {
  await oss?.close();
});

const storeWith = (credentials: () => Credentials, bucket = BUCKET) =>
  createAliOssStore({ endpoint: oss.endpoint, region: oss.region, bucket, timeoutMs: 5000, credentials });

describe('createAliOssStore', () => {
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

  it.each([
    ['an empty object', 0],
    ['an object shorter than the range', 50],
    ['an object exactly maxBytes + 1 long', 100],
  ])('reads %s whole under the cloud default Range behaviour', async (_, length) => {
    // Arrange: without x-oss-range-behavior: standard OSS answers 200 and the whole object for bytes=0-99 of fewer
    // bytes, and ignores a range that starts past the end (an empty object).
    const store = storeWith(() => OWNER);
    const body = 'y'.repeat(length);
    await store.put(`status/short-${length}.json`, body);

    // Act
    const read = await store.getBytes(`status/short-${length}.json`, 99);

    // Assert
    expect(read).toMatchObject({ size: length });
    expect(Buffer.from(read?.bytes ?? []).toString()).toBe(body);
  });

  it('digests a copied object that has no CRC-64 in one streamed read', async () => {
    // Arrange: the emulator leaves the CRC off copies, as OSS may.
    const body = Buffer.from('package bytes '.repeat(5000));
    await ownerClient(BUCKET).put('library/original.tar.gz', body);
    await ownerClient(BUCKET).copy('library/copied.tar.gz', 'library/original.tar.gz');
    const store = storeWith(() => OWNER);
    oss.resetCounters();

    // Act
    const head = await store.head('library/copied.tar.gz');
    const digest = await store.digest('library/copied.tar.gz');
    const missing = await store.digest('library/missing.tar.gz');

    // Assert
    expect(head?.crc64).toBeUndefined();
    expect(digest).toEqual({
      size: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
      crc64: referenceCrc64(body),
    });
    expect(missing).toBeUndefined();
    expect(oss.counters().requests).toEqual({ HeadObject: 1, GetObject: 2 });
  });

  it("tells the bucket's versioning: never enabled, Enabled, Suspended", async () => {
    // Arrange
    const store = storeWith(() => OWNER, VERSIONED);
    const owner = ownerClient(VERSIONED) as unknown as {
      putBucketVersioning(bucket: string, status: string): Promise<unknown>;
    };

    // Act
    const before = await store.versioning();
    await owner.putBucketVersioning(VERSIONED, 'Enabled');
    const enabled = await store.versioning();
    await owner.putBucketVersioning(VERSIONED, 'Suspended');
    const suspended = await store.versioning();

    // Assert
    expect([before, enabled, suspended]).toEqual([undefined, 'Enabled', 'Suspended']);
    // And why it matters: a versioned bucket ignores x-oss-forbid-overwrite, so a second claim "succeeds".
    expect(await store.putIfAbsent('status/claim.json', '{"owner":"a"}')).toBe(true);
    expect(await store.putIfAbsent('status/claim.json', '{"owner":"b"}')).toBe(true);
  });

  it('makes a refused permission a fault of the deployment that names the operation and the RAM action', async () => {
    // Arrange: an STS key that may read packages but not write statuses, and one whose secret is wrong.
    const reader = {
      accessKeyId: 'STS.reader',
      accessKeySecret: 'reader-secret',
      securityToken: 'reader-token',
    };
    oss.addCredential({ ...reader, allow: { buckets: [BUCKET], read: ['library/'], write: [] } });
    const store = storeWith(() => reader);
    const forged = storeWith(() => ({ ...OWNER, accessKeySecret: 'not-the-secret' }));

    // Act
    const put = await store.put('status/denied.json', '{}').catch((error: RemoteError) => error);
    const versioning = await store.versioning().catch((error: RemoteError) => error);
    const signature = await forged.head('library/original.tar.gz').catch((error: RemoteError) => error);

    // Assert
    expect(put).toMatchObject({ service: 'oss', code: 'AccessDenied', deployment: true, retryable: false });
    expect((put as RemoteError).message).toMatch(
      /^OSS PutObject status\/denied\.json refused: AccessDenied \(HTTP 403, request id \w+\) — the function's role needs oss:PutObject$/,
    );
    expect(versioning).toMatchObject({ code: 'AccessDenied', deployment: true });
    expect((versioning as RemoteError).message).toContain(`GetBucketVersioning ${BUCKET} refused`);
    expect((versioning as RemoteError).message).toContain('oss:GetBucketVersioning');
    expect(signature).toMatchObject({ code: 'SignatureDoesNotMatch', deployment: true, retryable: false });
    expect((signature as RemoteError).message).toContain("the function's credentials were refused");
    expect(JSON.stringify([put, versioning, signature].map((error) => (error as Error).message))).not.toMatch(
      /reader-secret|reader-token|owner-secret|not-the-secret/,
    );
  });
});
