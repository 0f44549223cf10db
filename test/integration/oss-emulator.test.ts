import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type OSS from 'ali-oss';
import { crc64 as referenceCrc64 } from 'crc64-ecma182.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type OssCredential,
  type OssEmulator,
  type OssEmulatorOptions,
  startOssEmulator,
} from '../../local/oss/oss-emulator.ts';
import type { OssEventRecord } from '../../platform/oss/event-record.ts';
import { aliOssClient, headersOf } from '../fixtures/ali-oss-client.ts';

const BUCKET = 'algolib-packages';
const OTHER_BUCKET = 'algolib-status';
const WRITER: OssCredential = { accessKeyId: 'LTAI-writer', accessKeySecret: 'writer-secret' };
const STS: OssCredential = {
  accessKeyId: 'STS.fc-instance',
  accessKeySecret: 'sts-secret',
  securityToken: 'sts-token',
};
const READER: OssCredential = {
  accessKeyId: 'LTAI-reader',
  accessKeySecret: 'reader-secret',
  allow: { buckets: [BUCKET], read: ['public/'], write: [] },
};

type Signing = 'V1' | 'V4';

const client = (emulator: OssEmulator, credential: OssCredential, signing: Signing = 'V1', extra: object = {}) =>
  aliOssClient(emulator, credential, { bucket: BUCKET, v4: signing === 'V4', ...extra });

/** @types/ali-oss insists on `uid` and `pid` in user metadata, which OSS does not need. */
const withMeta = (meta: Record<string, string>) => ({ meta }) as unknown as OSS.PutObjectOptions;

/** A raw request, for what ali-oss cannot send: unsigned requests and path-style addressing. */
const rawRequest = (emulator: OssEmulator, method: string, path: string) =>
  new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = httpRequest(`${emulator.endpoint}${path}`, { method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end();
  });

describe('OSS emulator', () => {
  let emulator: OssEmulator;
  const events: OssEventRecord[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const extraEmulators: OssEmulator[] = [];
  const extraDirs: string[] = [];

  const startExtra = async (options: Partial<OssEmulatorOptions>) => {
    const started = await startOssEmulator({ buckets: [BUCKET], credentials: [WRITER], ...options });
    extraEmulators.push(started);
    return started;
  };

  beforeAll(async () => {
    emulator = await startOssEmulator({
      buckets: [BUCKET, OTHER_BUCKET],
      credentials: [WRITER, STS, READER],
      accountId: '1234567890123456',
      onObjectCreated: (event) => events.push(event),
      log: (entry) => logs.push(entry),
    });
  });

  afterEach(async () => {
    events.length = 0;
    logs.length = 0;
    emulator.faults.set({ rules: [] });
    emulator.resetCounters();
    await Promise.all(extraEmulators.splice(0).map((extra) => extra.close()));
    await Promise.all(extraDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  afterAll(async () => {
    await emulator.close();
  });

  describe('signatures', () => {
    it.each([
      ['V1', 'a long-term key', WRITER],
      ['V4', 'a long-term key', WRITER],
      ['V1', 'an STS triplet', STS],
      ['V4', 'an STS triplet', STS],
    ] as const)('round-trips put, get, head and delete signed %s with %s', async (signing, _, credential) => {
      // Arrange
      const oss = client(emulator, credential, signing);
      const key = `round-trip/${signing}-${credential.accessKeyId}.json`;
      const body = Buffer.from('{"name":"detector"}');

      // Act
      const put = await oss.put(key, body, withMeta({ owner: 'pipeline' }));
      const got = await oss.get(key);
      const head = await oss.head(key);
      await oss.delete(key);
      const afterDelete = oss.head(key);

      // Assert
      expect(put.res.status).toBe(200);
      expect(got.content.toString()).toBe('{"name":"detector"}');
      expect(head.meta).toEqual({ owner: 'pipeline' });
      expect(headersOf(head)).toMatchObject({
        'content-type': 'application/json',
        'content-length': String(body.length),
        etag: headersOf(put).etag,
        'x-oss-hash-crc64ecma': referenceCrc64(body),
        'last-modified': expect.stringMatching(/ GMT$/),
      });
      await expect(afterDelete).rejects.toMatchObject({ status: 404, code: 'NoSuchKey' });
    });

    it.each(['V1', 'V4'] as const)('rejects a wrong secret with SignatureDoesNotMatch (%s)', async (signing) => {
      // Arrange
      const oss = client(emulator, { ...WRITER, accessKeySecret: 'not-the-secret' }, signing);

      // Act
      const put = oss.put('rejected.txt', Buffer.from('x'));

      // Assert
      await expect(put).rejects.toMatchObject({
        status: 403,
        code: 'SignatureDoesNotMatch',
        ecCode: '0002-00000040',
        requestId: expect.stringMatching(/^[0-9A-F]{24}$/),
      });
    });

    it('rejects an unknown AccessKey id with InvalidAccessKeyId', async () => {
      // Arrange
      const oss = client(emulator, { accessKeyId: 'LTAI-nobody', accessKeySecret: 'x' });

      // Act
      const get = oss.get('anything.txt');

      // Assert
      await expect(get).rejects.toMatchObject({ status: 403, code: 'InvalidAccessKeyId', ecCode: '0002-00000902' });
    });

    it.each(['V1', 'V4'] as const)('rejects a wrong STS security token (%s)', async (signing) => {
      // Arrange
      const oss = client(emulator, { ...STS, securityToken: 'another-token' }, signing);

      // Act
      const put = oss.put('sts.txt', Buffer.from('x'));

      // Assert
      await expect(put).rejects.toMatchObject({ status: 403, code: 'InvalidSecurityToken' });
    });

    it('rejects a request whose clock is 20 minutes off with RequestTimeTooSkewed', async () => {
      // Arrange
      const oss = client(emulator, WRITER, 'V1', { amendTimeSkewed: 20 * 60 * 1000 });

      // Act
      const put = oss.put('skewed.txt', Buffer.from('x'));

      // Assert
      await expect(put).rejects.toMatchObject({ status: 403, code: 'RequestTimeTooSkewed' });
    });

    it('refuses a client configured for another region', async () => {
      // Arrange
      const oss = client(emulator, WRITER, 'V1', { region: 'oss-cn-hangzhou' });

      // Act
      const put = oss.put('elsewhere.txt', Buffer.from('x'));

      // Assert
      await expect(put).rejects.toMatchObject({ status: 403, code: 'AccessDenied' });
    });

    it('refuses anonymous requests and answers every response with x-oss-request-id', async () => {
      // Act
      const response = await rawRequest(emulator, 'GET', `/${BUCKET}/anything.txt`);

      // Assert
      expect(response.status).toBe(403);
      expect(response.headers['x-oss-request-id']).toMatch(/^[0-9A-F]{24}$/);
      expect(response.body).toContain('<Code>AccessDenied</Code>');
      expect(response.body).toContain(`<RequestId>${String(response.headers['x-oss-request-id'])}</RequestId>`);
    });
  });

  describe('objects', () => {
    it('refuses to overwrite with x-oss-forbid-overwrite: true (409 FileAlreadyExists)', async () => {
      // Arrange
      const oss = client(emulator, WRITER);
      const options = { headers: { 'x-oss-forbid-overwrite': 'true' } };
      await oss.put('status/once.json', Buffer.from('first'), options);

      // Act
      const second = oss.put('status/once.json', Buffer.from('second'), options);

      // Assert
      await expect(second).rejects.toMatchObject({
        name: 'FileAlreadyExistsError',
        status: 409,
        code: 'FileAlreadyExists',
      });
      expect((await oss.get('status/once.json')).content.toString()).toBe('first');
      expect(events.map((event) => event.oss.object.key)).toEqual(['status/once.json']);
    });

    it('lets exactly one of several concurrent forbid-overwrite puts win', async () => {
      // Arrange
      const oss = client(emulator, WRITER);
      const options = { headers: { 'x-oss-forbid-overwrite': 'true' } };

      // Act
      const outcomes = await Promise.allSettled(
        ['a', 'b', 'c', 'd', 'e'].map((body) => oss.put('status/race.json', Buffer.from(body), options)),
      );

      // Assert
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual(
        Array(4).fill(expect.objectContaining({ reason: expect.objectContaining({ status: 409 }) })),
      );
      expect(events).toHaveLength(1);
    });

    it('rejects an x-oss-forbid-overwrite value other than true or false', async () => {
      // Arrange
      const oss = client(emulator, WRITER);

      // Act
      const put = oss.put('status/maybe.json', Buffer.from('x'), { headers: { 'x-oss-forbid-overwrite': 'yes' } });

      // Assert
      await expect(put).rejects.toMatchObject({ status: 400, code: 'InvalidArgument', ecCode: '0017-00000279' });
    });

    it('rejects a body that does not match its Content-MD5 with InvalidDigest', async () => {
      // Arrange
      const oss = client(emulator, WRITER);
      const wrongMd5 = Buffer.alloc(16).toString('base64');

      // Act
      const put = oss.put('digest.txt', Buffer.from('payload'), { headers: { 'Content-MD5': wrongMd5 } });

      // Assert
      await expect(put).rejects.toMatchObject({ status: 400, code: 'InvalidDigest' });
      await expect(oss.head('digest.txt')).rejects.toMatchObject({ status: 404 });
      expect(events).toEqual([]);
    });

    it('reports the CRC-64 of the whole object, equal to crc64-ecma182.js, also on ranged GETs', async () => {
      // Arrange
      const oss = client(emulator, WRITER);
      const body = randomBytes(300_000);
      const expected = referenceCrc64(body);

      // Act
      const put = await oss.put('crc/random.bin', body);
      const ranged = await oss.get('crc/random.bin', undefined, { headers: { Range: 'bytes=100-199' } });

      // Assert
      expect(headersOf(put)).toMatchObject({ 'x-oss-hash-crc64ecma': expected });
      expect(ranged.res.status).toBe(206);
      expect(headersOf(ranged)).toMatchObject({
        'content-range': 'bytes 100-199/300000',
        'x-oss-hash-crc64ecma': expected,
      });
      expect(Buffer.compare(ranged.content, body.subarray(100, 200))).toBe(0);
    });

    // https://help.aliyun.com/en/oss/how-to-obtain-oss-resources-by-segmenting-http-range-requests: by default an
    // invalid or out-of-range Range is ignored (200, whole object); `x-oss-range-behavior: standard` gives 206/416.
    it.each([
      ['bytes=-5', 'default', 206, 'world'],
      ['bytes=6-', 'default', 206, 'world'],
      ['bytes=6-10', 'default', 206, 'world'],
      ['bytes=6-1000', 'default', 200, 'hello world'],
      ['bytes=-1000', 'default', 200, 'hello world'],
      ['bytes=20-30', 'default', 200, 'hello world'],
      ['bytes=9-2', 'default', 200, 'hello world'],
      ['byte=0-4', 'default', 200, 'hello world'],
      ['bytes=6-1000', 'standard', 206, 'world'],
      ['bytes=-1000', 'standard', 206, 'hello world'],
      ['bytes=0-4', 'standard', 206, 'hello'],
    ])('serves Range %s (%s behaviour) with %i', async (range, behaviour, status, content) => {
      // Arrange
      const oss = client(emulator, WRITER);
      await oss.put('range/hello.txt', Buffer.from('hello world'));
      const standard = behaviour === 'standard' ? { 'x-oss-range-behavior': 'standard' } : {};

      // Act
      const got = await oss.get('range/hello.txt', undefined, { headers: { Range: range, ...standard } });

      // Assert
      expect(got.res.status).toBe(status);
      expect(got.content.toString()).toBe(content);
      expect(headersOf(got)['content-range']).toEqual(status === 206 ? expect.stringMatching(/\/11$/) : undefined);
    });

    it('answers 416 InvalidRange for a range starting past the end with x-oss-range-behavior: standard', async () => {
      // Arrange
      const oss = client(emulator, WRITER);
      await oss.put('range/short.txt', Buffer.from('short'));

      // Act
      const got = oss.get('range/short.txt', undefined, {
        headers: { Range: 'bytes=10-20', 'x-oss-range-behavior': 'standard' },
      });

      // Assert
      await expect(got).rejects.toMatchObject({ status: 416, code: 'InvalidRange' });
    });

    it('stores a chunked putStream body', async () => {
      // Arrange
      const oss = client(emulator, WRITER);
      const chunks = [Buffer.from('tar'), Buffer.from('.gz '), Buffer.from('bytes')];

      // Act
      const put = await oss.putStream('stream/package.tar.gz', Readable.from(chunks));
      const got = await oss.get('stream/package.tar.gz');

      // Assert
      expect(put.res.status).toBe(200);
      expect(got.content.toString()).toBe('tar.gz bytes');
      expect(headersOf(got)).toMatchObject({ 'x-oss-hash-crc64ecma': referenceCrc64(Buffer.concat(chunks)) });
    });

    it.each(['V1', 'V4'] as const)(
      'round-trips a key with a space, a plus, a percent sign and CJK (%s)',
      async (signing) => {
        // Arrange
        const oss = client(emulator, WRITER, signing);
        const key = `keys/${signing}/a b+c%20d 算法库.json`;

        // Act
        await oss.put(key, Buffer.from('{}'));
        const got = await oss.get(key);
        const listed = await oss.listV2({ prefix: `keys/${signing}/`, 'max-keys': '10' });
        const encoded = await oss.list({ prefix: `keys/${signing}/`, 'max-keys': 10, 'encoding-type': 'url' }, {});
        await oss.copy(`${key}.copy`, key);

        // Assert
        expect(got.content.toString()).toBe('{}');
        expect(listed.objects.map((object) => object.name)).toEqual([key]);
        expect(encoded.objects.map((object) => decodeURIComponent(object.name))).toEqual([key]);
        expect(events.map((event) => event.oss.object.key)).toEqual([key, `${key}.copy`]);
      },
    );

    it('answers DeleteObject with 204 even for a missing key', async () => {
      // Arrange
      const oss = client(emulator, WRITER);

      // Act
      const deleted = await oss.delete('never/existed.txt');

      // Assert
      expect(deleted.res.status).toBe(204);
    });

    it('answers NoSuchKey with the OSS error document, and HEAD without a body', async () => {
      // Arrange
      const oss = client(emulator, WRITER);

      // Act
      const get = oss.get('missing/key.txt');
      const head = oss.head('missing/key.txt');

      // Assert
      await expect(get).rejects.toMatchObject({
        status: 404,
        code: 'NoSuchKey',
        ecCode: '0026-00000001',
        hostId: `${BUCKET}.oss-cn-shanghai.aliyuncs.com`,
      });
      await expect(head).rejects.toMatchObject({ status: 404, code: 'NoSuchKey', requestId: expect.any(String) });
    });

    it('answers NoSuchBucket for a bucket that does not exist', async () => {
      // Arrange
      const oss = client(emulator, WRITER, 'V1', { bucket: 'no-such-bucket' });

      // Act
      const put = oss.put('a.txt', Buffer.from('x'));

      // Assert
      await expect(put).rejects.toMatchObject({ status: 404, code: 'NoSuchBucket', ecCode: '0015-00000101' });
    });

    it('copies an object with its metadata and honours forbid-overwrite', async () => {
      // Arrange
      const oss = client(emulator, WRITER);
      await oss.put('copy/source.json', Buffer.from('{"v":1}'), withMeta({ stage: 'uploaded' }));
      await oss.put('copy/taken.json', Buffer.from('{}'));
      events.length = 0;

      // Act
      const copied = await oss.copy('copy/target.json', 'copy/source.json');
      const head = await oss.head('copy/target.json');
      const refused = oss.copy('copy/taken.json', 'copy/source.json', {
        headers: { 'x-oss-forbid-overwrite': 'true' },
      });

      // Assert
      expect(copied.data?.etag).toBe(headersOf(head).etag);
      expect(head.meta).toEqual({ stage: 'uploaded' });
      await expect(refused).rejects.toMatchObject({ status: 409, code: 'FileAlreadyExists' });
      expect(events.map((event) => [event.eventName, event.oss.object.key])).toEqual([
        ['ObjectCreated:CopyObject', 'copy/target.json'],
      ]);
    });

    it('answers 501 NotImplemented for an OSS API it does not emulate', async () => {
      // Arrange
      const oss = client(emulator, WRITER);
      await oss.put('acl/object.txt', Buffer.from('x'));

      // Act
      const putAcl = oss.putACL('acl/object.txt', 'private');

      // Assert
      await expect(putAcl).rejects.toMatchObject({ status: 501, code: 'NotImplemented' });
    });

    it('addresses buckets path-style when the Host is an IP', async () => {
      // Arrange
      await client(emulator, WRITER).put('path-style.txt', Buffer.from('x'));

      // Act
      const unsigned = await rawRequest(emulator, 'HEAD', `/${BUCKET}/path-style.txt`);
      const missingBucket = await rawRequest(emulator, 'GET', '/no-such-bucket/path-style.txt');

      // Assert
      expect(unsigned.status).toBe(403);
      expect(missingBucket.body).toContain('<Code>NoSuchBucket</Code>');
    });
  });

  describe('listings', () => {
    const keys = ['list/a.txt', 'list/b/1.txt', 'list/b/2.txt', 'list/c.txt', 'list/d/1.txt', 'list/e.txt'];

    beforeAll(async () => {
      const oss = client(emulator, WRITER);
      for (const key of keys) await oss.put(key, Buffer.from(key));
    });

    it.each(['V1', 'V4'] as const)(
      'pages ListObjects with prefix, delimiter, marker and NextMarker (%s)',
      async (signing) => {
        // Arrange
        const oss = client(emulator, WRITER, signing);
        const pages: Array<{ objects: string[]; prefixes: string[] }> = [];
        let marker: string | null = null;

        // Act
        for (let page = 0; page < 10; page++) {
          const query: OSS.ListObjectsQuery = {
            prefix: 'list/',
            delimiter: '/',
            'max-keys': 2,
            ...(marker === null ? {} : { marker }),
          };
          const result = await oss.list(query, {});
          pages.push({ objects: result.objects.map((object) => object.name), prefixes: result.prefixes ?? [] });
          marker = result.nextMarker;
          if (!result.isTruncated) break;
        }

        // Assert
        expect(pages).toEqual([
          { objects: ['list/a.txt'], prefixes: ['list/b/'] },
          { objects: ['list/c.txt'], prefixes: ['list/d/'] },
          { objects: ['list/e.txt'], prefixes: [] },
        ]);
      },
    );

    it.each(['V1', 'V4'] as const)('pages ListObjectsV2 with continuation-token and KeyCount (%s)', async (signing) => {
      // Arrange
      const oss = client(emulator, WRITER, signing);
      const names: string[][] = [];
      const keyCounts: number[] = [];
      let token: string | null = null;

      // Act
      for (let page = 0; page < 10; page++) {
        const query: OSS.ListV2ObjectsQuery = {
          prefix: 'list/',
          'max-keys': '4',
          ...(token === null ? {} : { 'continuation-token': token }),
        };
        const result = await oss.listV2(query);
        names.push(result.objects.map((object) => object.name));
        keyCounts.push(result.keyCount);
        token = result.nextContinuationToken;
        if (!result.isTruncated) break;
      }

      // Assert
      expect(names).toEqual([keys.slice(0, 4), keys.slice(4)]);
      expect(keyCounts).toEqual([4, 2]);
    });

    it('starts a ListObjectsV2 after start-after', async () => {
      // Arrange
      const oss = client(emulator, WRITER);

      // Act
      const result = await oss.listV2({ prefix: 'list/', 'start-after': 'list/c.txt' });

      // Assert
      expect(result.objects.map((object) => object.name)).toEqual(['list/d/1.txt', 'list/e.txt']);
      expect(result.isTruncated).toBe(false);
    });

    it('gives each listed object its Owner, ETag, size and storage class', async () => {
      // Arrange
      const oss = client(emulator, WRITER);

      // Act
      const result = await oss.list({ prefix: 'list/a', 'max-keys': 10 }, {});

      // Assert
      expect(result.objects).toEqual([
        expect.objectContaining({
          name: 'list/a.txt',
          size: 10,
          etag: expect.stringMatching(/^"[0-9A-F]{32}"$/),
          storageClass: 'Standard',
          type: 'Normal',
          owner: { id: '1234567890123456', displayName: '1234567890123456' },
        }),
      ]);
    });
  });

  describe('multipart uploads', () => {
    it('uploads a few MB with multipartUpload and 1 MB parts', async () => {
      // Arrange
      const oss = client(emulator, WRITER, 'V4');
      const body = randomBytes(3 * 1024 * 1024 + 12_345);
      const progress: number[] = [];

      // Act
      const result = await oss.multipartUpload('multipart/package.tar.gz', body, {
        partSize: 1024 * 1024,
        progress: (fraction: number) => {
          progress.push(fraction);
        },
      });
      const head = await oss.head('multipart/package.tar.gz');
      const got = await oss.get('multipart/package.tar.gz');

      // Assert
      expect(result.res.status).toBe(200);
      expect(progress.at(-1)).toBe(1);
      expect(headersOf(head)).toMatchObject({
        etag: expect.stringMatching(/^"[0-9A-F]{32}-4"$/),
        'x-oss-hash-crc64ecma': referenceCrc64(body),
        'x-oss-object-type': 'Multipart',
        'content-type': 'application/gzip',
      });
      expect(Buffer.compare(got.content, body)).toBe(0);
      expect(emulator.counters().requests).toMatchObject({
        InitiateMultipartUpload: 1,
        UploadPart: 4,
        CompleteMultipartUpload: 1,
      });
      expect(events).toEqual([
        expect.objectContaining({
          eventName: 'ObjectCreated:CompleteMultipartUpload',
          oss: expect.objectContaining({
            object: {
              deltaSize: body.length,
              eTag: headersOf(head).etag?.replaceAll('"', ''),
              key: 'multipart/package.tar.gz',
              size: body.length,
            },
          }),
        }),
      ]);
    });

    it('discards the parts of an aborted upload', async () => {
      // Arrange
      const oss = client(emulator, WRITER);
      const { uploadId } = await oss.initMultipartUpload('multipart/aborted.bin');
      const part = await oss.uploadPart(
        'multipart/aborted.bin',
        uploadId,
        1,
        randomBytes(200_000) as never,
        0,
        200_000,
      );

      // Act
      await oss.abortMultipartUpload('multipart/aborted.bin', uploadId);
      const complete = oss.completeMultipartUpload('multipart/aborted.bin', uploadId, [{ number: 1, etag: part.etag }]);

      // Assert
      await expect(complete).rejects.toMatchObject({ status: 404, code: 'NoSuchUpload' });
      await expect(oss.head('multipart/aborted.bin')).rejects.toMatchObject({ status: 404 });
      expect(events).toEqual([]);
    });
  });

  describe('notifications', () => {
    it('calls onObjectCreated with the FC OSS trigger record of a PutObject', async () => {
      // Arrange
      const oss = client(emulator, WRITER);

      // Act
      const put = await oss.put('events/manifest.json', Buffer.from('{"name":"x"}'));

      // Assert
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        eventName: 'ObjectCreated:PutObject',
        eventSource: 'acs:oss',
        eventTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/),
        eventVersion: '1.0',
        oss: {
          bucket: {
            arn: `acs:oss:cn-shanghai:1234567890123456:${BUCKET}`,
            name: BUCKET,
            ownerIdentity: '1234567890123456',
          },
          object: {
            deltaSize: 12,
            eTag: headersOf(put).etag?.replaceAll('"', ''),
            key: 'events/manifest.json',
            size: 12,
          },
          ossSchemaVersion: '1.0',
          ruleId: expect.stringMatching(/^[0-9a-f]{40}$/),
        },
        region: 'cn-shanghai',
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { requestId: headersOf(put)['x-oss-request-id'] },
        userIdentity: { principalId: '1234567890123456' },
      });
    });

    it('reports the change in size when an object is overwritten', async () => {
      // Arrange
      const oss = client(emulator, WRITER);
      await oss.put('events/grow.txt', Buffer.from('1234'));

      // Act
      await oss.put('events/grow.txt', Buffer.from('1234567'));

      // Assert
      expect(events.map((event) => event.oss.object.deltaSize)).toEqual([4, 3]);
    });
    it('keeps the object and logs the failure when onObjectCreated throws', async () => {
      // Arrange
      const failing = await startExtra({
        onObjectCreated: () => {
          throw new Error('subscriber is down');
        },
        log: (entry) => logs.push(entry),
      });
      const oss = client(failing, WRITER);

      // Act
      const put = await oss.put('events/kept.txt', Buffer.from('x'));
      const got = await oss.get('events/kept.txt');

      // Assert
      expect(put.res.status).toBe(200);
      expect(got.content.toString()).toBe('x');
      expect(logs[0]).toMatchObject({ op: 'PutObject', status: 200, notifyError: 'subscriber is down' });
    });
  });

  describe('persistence', () => {
    it('keeps objects, their metadata and ETag across a restart on the same dataDir', async () => {
      // Arrange
      const dataDir = await mkdtemp(join(tmpdir(), 'oss-emulator-test-'));
      extraDirs.push(dataDir);
      const first = await startExtra({ dataDir });
      const put = await client(first, WRITER).put(
        'kept/manifest.json',
        Buffer.from('{"kept":true}'),
        withMeta({ revision: '7' }),
      );
      await first.close();

      // Act
      const second = await startExtra({ dataDir });
      const oss = client(second, WRITER);
      const head = await oss.head('kept/manifest.json');
      const got = await oss.get('kept/manifest.json');
      const listed = await oss.list({ prefix: 'kept/', 'max-keys': 10 }, {});

      // Assert
      expect(head.meta).toEqual({ revision: '7' });
      expect(headersOf(head)).toMatchObject({
        etag: headersOf(put).etag,
        'x-oss-hash-crc64ecma': headersOf(put)['x-oss-hash-crc64ecma'],
        'content-type': 'application/json',
      });
      expect(got.content.toString()).toBe('{"kept":true}');
      expect(listed.objects.map((object) => object.name)).toEqual(['kept/manifest.json']);
    });
  });

  describe('faults', () => {
    it('answers an injected 503 without storing anything, then serves the retry, counting both', async () => {
      // Arrange
      const oss = client(emulator, WRITER);
      emulator.faults.set({ rules: [{ action: 'PutObject', kind: 'unavailable', times: 1 }] });

      // Act
      const first = oss.put('faults/retried.txt', Buffer.from('x'));
      await expect(first).rejects.toMatchObject({ status: 503, code: 'ServiceUnavailable' });
      const eventsAfterFailure = events.length;
      const second = await oss.put('faults/retried.txt', Buffer.from('x'));

      // Assert
      expect(eventsAfterFailure).toBe(0);
      expect(second.res.status).toBe(200);
      expect(emulator.counters().requests.PutObject).toBe(2);
      expect(emulator.faults.injected()).toMatchObject({ 'PutObject:unavailable': 1 });
      expect(logs.map((entry) => [entry.op, entry.status, entry.fault])).toEqual([
        ['PutObject', 503, 'unavailable'],
        ['PutObject', 200, undefined],
      ]);
    });

    it('answers an injected internal fault with 500 InternalError', async () => {
      // Arrange
      const oss = client(emulator, WRITER);
      emulator.faults.set({ rules: [{ action: 'HeadObject', kind: 'internal', times: 1 }] });

      // Act
      const head = oss.head('faults/anything.txt');

      // Assert
      await expect(head).rejects.toMatchObject({ status: 500, code: 'InternalError' });
    });

    it('drops the connection without a response for an injected reset', async () => {
      // Arrange
      const oss = client(emulator, WRITER);
      await oss.put('faults/reset.txt', Buffer.from('x'));
      emulator.faults.set({ rules: [{ action: 'GetObject', kind: 'reset', times: 1 }] });

      // Act
      const get = oss.get('faults/reset.txt');

      // Assert
      await expect(get).rejects.toMatchObject({ status: -1 });
      expect((await oss.get('faults/reset.txt')).content.toString()).toBe('x');
      expect(emulator.counters().requests.GetObject).toBe(2);
    });

    it('serves a request normally after an injected delay', async () => {
      // Arrange
      const oss = client(emulator, WRITER);
      emulator.faults.set({ rules: [{ action: '*', kind: 'slow', delayMs: 20, times: 1 }] });

      // Act
      const put = await oss.put('faults/slow.txt', Buffer.from('x'));

      // Assert
      expect(put.res.status).toBe(200);
      expect(emulator.faults.injected()).toMatchObject({ 'PutObject:slow': 1 });
    });
  });

  describe('access', () => {
    it('tells checkAccess results apart: ok, no-bucket and unauthorized', () => {
      // Act
      const results = [
        emulator.checkAccess(BUCKET, WRITER.accessKeyId, WRITER.accessKeySecret),
        emulator.checkAccess('no-such-bucket', WRITER.accessKeyId, WRITER.accessKeySecret),
        emulator.checkAccess(BUCKET, WRITER.accessKeyId, 'wrong-secret'),
        emulator.checkAccess(BUCKET, 'LTAI-nobody', 'x'),
        emulator.checkAccess(OTHER_BUCKET, READER.accessKeyId, READER.accessKeySecret),
      ];

      // Assert
      expect(results).toEqual(['ok', 'no-bucket', 'unauthorized', 'unauthorized', 'unauthorized']);
    });

    it('enforces allow rules with AccessDenied', async () => {
      // Arrange
      const writer = client(emulator, WRITER);
      await writer.put('public/readme.txt', Buffer.from('hello'));
      await writer.put('private/secret.txt', Buffer.from('hidden'));
      const reader = client(emulator, READER);

      // Act
      const readable = await reader.get('public/readme.txt');
      const listable = await reader.listV2({ prefix: 'public/' });
      const attempts = [
        () => reader.get('private/secret.txt'),
        () => reader.put('public/new.txt', Buffer.from('x')),
        () => reader.listV2({ prefix: 'private/' }),
        () => client(emulator, READER, 'V1', { bucket: OTHER_BUCKET }).get('public/readme.txt'),
      ];
      const denied = await Promise.all(
        attempts.map((attempt) =>
          attempt().then(
            () => 'allowed',
            (error: unknown) => error,
          ),
        ),
      );

      // Assert
      expect(readable.content.toString()).toBe('hello');
      expect(listable.objects.map((object) => object.name)).toEqual(['public/readme.txt']);
      expect(denied).toEqual(
        Array(attempts.length).fill(expect.objectContaining({ status: 403, code: 'AccessDenied' })),
      );
    });

    it('accepts a credential registered with addCredential', async () => {
      // Arrange
      const fresh: OssCredential = {
        accessKeyId: 'STS.fresh',
        accessKeySecret: 'fresh-secret',
        securityToken: 'fresh-token',
      };

      // Act
      emulator.addCredential(fresh);
      const put = await client(emulator, fresh, 'V4').put('fresh.txt', Buffer.from('x'));

      // Assert
      expect(put.res.status).toBe(200);
    });
  });

  describe('logging', () => {
    it('logs one entry per request, without secrets or signatures', async () => {
      // Arrange
      const oss = client(emulator, STS);

      // Act
      await oss.put('logged.txt', Buffer.from('x'));
      await oss.get('missing-for-log.txt').catch(() => undefined);

      // Assert
      expect(logs).toEqual([
        expect.objectContaining({
          service: 'oss',
          op: 'PutObject',
          bucket: BUCKET,
          key: 'logged.txt',
          status: 200,
          ms: expect.any(Number),
        }),
        expect.objectContaining({ service: 'oss', op: 'GetObject', status: 404, code: 'NoSuchKey' }),
      ]);
      const logged = JSON.stringify(logs);
      for (const secret of [STS.accessKeySecret, STS.securityToken ?? '', 'OSS ', 'Signature'])
        expect(logged).not.toContain(secret);
    });
  });

  it('stops listening when closed', async () => {
    // Arrange
    const extra = await startExtra({});
    await client(extra, WRITER).put('closing.txt', Buffer.from('x'));

    // Act
    await extra.close();
    const afterClose = client(extra, WRITER).get('closing.txt');

    // Assert
    await expect(afterClose).rejects.toMatchObject({ status: -1 });
  });
});
