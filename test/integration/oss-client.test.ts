/**
 * The function's OSS store (over shared/oss-client.ts) against the OSS emulator (which checks V4 signatures as OSS does), side by side with the ali-oss
 * adapter on the same objects: every port call answers the same, including the STS triplet rotating under a live
 * store and the forbid-overwrite conflict.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OssEmulator, startOssEmulator } from '../../local/oss/oss-emulator.ts';
import { createAliOssStore } from '../../platform/oss/ali-oss-store.ts';
import type { Credentials } from '../../shared/credentials.ts';
import type { RemoteError } from '../../shared/errors.ts';
import { createOssStore, type ObjectStore } from '../../shared/object-store.ts';
import { createOssClient } from '../../shared/oss-client.ts';

const BUCKET = 'lean-test';
let oss: OssEmulator;

beforeAll(async () => {
  oss = await startOssEmulator({ buckets: [BUCKET], credentials: [] });
});

afterAll(async () => {
  await oss?.close();
});

const stores = (credentials: () => Credentials): Array<[string, ObjectStore]> => [
  [
    'ali-oss',
    createAliOssStore({ endpoint: oss.endpoint, region: oss.region, bucket: BUCKET, timeoutMs: 5000, credentials }),
  ],
  [
    'lean',
    createOssStore({
      client: createOssClient({ endpoint: oss.endpoint, region: oss.region, timeoutMs: 5000, credentials }),
      bucket: BUCKET,
    }),
  ],
];

describe("the function's store (shared/oss-client.ts) answers as the ali-oss store does", () => {
  it('head, getBytes, sha256, put and putIfAbsent, on present and missing keys with spaces, + and CJK', async () => {
    const key = { accessKeyId: 'LTAIlean', accessKeySecret: 'lean-secret' };
    oss.addCredential(key);
    const answers: Record<string, unknown[]> = {};
    for (const [name, store] of stores(() => key)) {
      const prefix = `status/${name}/人脸 a+b%`;
      const body = JSON.stringify({ pad: 'x'.repeat(300) });
      const results: unknown[] = [];
      results.push(await store.putIfAbsent(`${prefix}/claim.json`, body));
      results.push(await store.putIfAbsent(`${prefix}/claim.json`, body));
      await store.put(`${prefix}/status.json`, body);
      const head = await store.head(`${prefix}/status.json`);
      results.push({ size: head?.size, etagLength: head?.etag.length, crc64: typeof head?.crc64 });
      const bytes = await store.getBytes(`${prefix}/status.json`, 99);
      results.push({ size: bytes?.size, read: bytes?.bytes.byteLength, etag: bytes?.etag === head?.etag });
      const digest = await store.digest(`${prefix}/status.json`);
      results.push(digest?.sha256 === createHash('sha256').update(body).digest('hex') && digest.size, digest?.crc64);
      results.push(await store.head(`${prefix}/missing.tar.gz`));
      results.push(await store.getBytes(`${prefix}/missing.json`, 10));
      results.push(await store.digest(`${prefix}/missing.tar.gz`));
      results.push(await store.versioning());
      answers[name] = results;
    }
    expect(answers.lean).toEqual(answers['ali-oss']);
    expect(answers.lean?.slice(0, 2)).toEqual([true, false]);
  });

  it('signs with the STS triplet current at each request, and fails the same way with a stale one', async () => {
    const first = { accessKeyId: 'STS.leanrotate', accessKeySecret: 'first-secret', securityToken: 'first-token' };
    const second = { accessKeyId: 'STS.leanrotate', accessKeySecret: 'second-secret', securityToken: 'second-token' };
    oss.addCredential(first);
    let current: Credentials = first;
    const outcomes: Record<string, unknown> = {};
    const all = stores(() => current);
    for (const [name, store] of all) await store.put(`status/${name}-rotation.json`, '{"n":1}');
    oss.addCredential(second);
    for (const [name, store] of all) {
      const stale = await store.put(`status/${name}-rotation.json`, '{"n":2}').catch((error: RemoteError) => ({
        code: error.code,
        retryable: error.retryable,
        httpStatus: error.httpStatus,
      }));
      outcomes[name] = stale;
    }
    current = second;
    for (const [name, store] of all) await store.put(`status/${name}-rotation.json`, '{"n":3}');
    const reads = await Promise.all(
      all.map(async ([name, store]) =>
        Buffer.from((await store.getBytes(`status/${name}-rotation.json`, 100))?.bytes ?? []).toString(),
      ),
    );
    expect(outcomes.lean).toEqual(outcomes['ali-oss']);
    expect(outcomes.lean).toMatchObject({ code: 'InvalidSecurityToken' });
    expect(reads).toEqual(['{"n":3}', '{"n":3}']);
  });
});
