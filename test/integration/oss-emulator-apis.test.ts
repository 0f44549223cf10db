/**
 * The OSS emulator's bucket versioning, copies without CRC-64, GetObjectMeta and the multipart listings (ListParts,
 * ListMultipartUploads, UploadPartCopy), driven through ali-oss (what the CLI and the function use), V1 and V4.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type OSS from 'ali-oss';
import { crc64 as referenceCrc64 } from 'crc64-ecma182.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  type OssCredential,
  type OssEmulator,
  type OssEmulatorOptions,
  startOssEmulator,
} from '../../local/oss/oss-emulator.ts';
import { aliOssClient, headersOf } from '../fixtures/ali-oss-client.ts';

const BUCKET = 'apis-test';
const OWNER: OssCredential = { accessKeyId: 'LTAI-owner', accessKeySecret: 'owner-secret' };
const FUNCTION: OssCredential = {
  accessKeyId: 'STS.function',
  accessKeySecret: 'function-secret',
  securityToken: 'function-token',
  allow: {
    buckets: [BUCKET],
    read: ['library/', 'status/'],
    write: ['status/'],
    bucketActions: ['GetBucketVersioning'],
  },
};

/** ali-oss methods that @types/ali-oss does not declare (ali-oss 6.23 lib/common/bucket/*Versioning.js, getObjectMeta.js). */
type UndeclaredApi = {
  putBucketVersioning(bucket: string, status: string): Promise<{ status: number }>;
  getBucketVersioning(bucket: string): Promise<{ versionStatus: string | undefined }>;
  getObjectMeta(key: string): Promise<{ status: number; res: { headers: object } }>;
};

const client = (emulator: OssEmulator, credential: OssCredential = OWNER, v4 = false) =>
  aliOssClient(emulator, credential, { bucket: BUCKET, v4 });

const undeclared = (oss: OSS) => oss as unknown as UndeclaredApi;

const started: OssEmulator[] = [];
const dirs: string[] = [];
const start = async (options: Partial<OssEmulatorOptions> = {}) => {
  const emulator = await startOssEmulator({ buckets: [BUCKET], credentials: [OWNER, FUNCTION], ...options });
  started.push(emulator);
  return emulator;
};

afterEach(async () => {
  await Promise.all(started.splice(0).map((emulator) => emulator.close()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('bucket versioning', () => {
  it('answers GetBucketVersioning without a Status until versioning is enabled, then Enabled or Suspended', async () => {
    // Arrange
    const emulator = await start();
    const oss = undeclared(client(emulator, OWNER, true));

    // Act
    const never = await oss.getBucketVersioning(BUCKET);
    await oss.putBucketVersioning(BUCKET, 'Enabled');
    const enabled = await oss.getBucketVersioning(BUCKET);
    await oss.putBucketVersioning(BUCKET, 'Suspended');
    const suspended = await oss.getBucketVersioning(BUCKET);

    // Assert
    expect([never.versionStatus, enabled.versionStatus, suspended.versionStatus]).toEqual([
      undefined,
      'Enabled',
      'Suspended',
    ]);
  });

  it('ignores x-oss-forbid-overwrite once versioning is Enabled or Suspended, and gives writes a version id', async () => {
    // Arrange
    const emulator = await start();
    const oss = client(emulator);
    const forbid = { headers: { 'x-oss-forbid-overwrite': 'true' } };
    await oss.put('status/claim.json', Buffer.from('first'), forbid);
    const refused = await oss.put('status/claim.json', Buffer.from('second'), forbid).catch((error) => error);
    const unversionedHead = await oss.head('status/claim.json');

    // Act
    await undeclared(oss).putBucketVersioning(BUCKET, 'Enabled');
    const enabled = await oss.put('status/claim.json', Buffer.from('third'), forbid);
    const again = await oss.put('status/claim.json', Buffer.from('fourth'), forbid);
    await undeclared(oss).putBucketVersioning(BUCKET, 'Suspended');
    const suspended = await oss.put('status/claim.json', Buffer.from('fifth'), forbid);
    const got = await oss.get('status/claim.json');

    // Assert
    expect(refused).toMatchObject({ status: 409, code: 'FileAlreadyExists' });
    expect(headersOf(unversionedHead)['x-oss-version-id']).toBeUndefined();
    const enabledId = headersOf(enabled)['x-oss-version-id'];
    expect(enabledId).toMatch(/^\S{16,}$/);
    expect(headersOf(again)['x-oss-version-id']).not.toBe(enabledId);
    expect(headersOf(suspended)['x-oss-version-id']).toBe('null');
    expect(got.content.toString()).toBe('fifth');
    expect(headersOf(got)['x-oss-version-id']).toBe('null');
  });

  it('still rejects an x-oss-forbid-overwrite value other than true or false in a versioned bucket', async () => {
    // Arrange
    const emulator = await start();
    const oss = client(emulator);
    await undeclared(oss).putBucketVersioning(BUCKET, 'Enabled');

    // Act
    const put = oss.put('status/x.json', Buffer.from('x'), { headers: { 'x-oss-forbid-overwrite': 'yes' } });

    // Assert
    await expect(put).rejects.toMatchObject({ status: 400, code: 'InvalidArgument' });
  });

  it('keeps the versioning state across a restart on the same dataDir', async () => {
    // Arrange
    const dataDir = await mkdtemp(join(tmpdir(), 'oss-versioning-'));
    dirs.push(dataDir);
    const first = await start({ dataDir });
    await undeclared(client(first)).putBucketVersioning(BUCKET, 'Suspended');
    await first.close();

    // Act
    const second = await start({ dataDir });
    const after = await undeclared(client(second)).getBucketVersioning(BUCKET);

    // Assert
    expect(after.versionStatus).toBe('Suspended');
  });

  it('lets a key read the versioning only when its rules allow the bucket action, as RAM would', async () => {
    // Arrange
    const emulator = await start({
      credentials: [
        OWNER,
        FUNCTION,
        { accessKeyId: 'LTAI-reader', accessKeySecret: 'reader-secret', allow: { read: ['library/'], write: [] } },
      ],
    });
    const reader = { accessKeyId: 'LTAI-reader', accessKeySecret: 'reader-secret' };

    // Act
    const allowed = await undeclared(client(emulator, FUNCTION, true)).getBucketVersioning(BUCKET);
    const denied = await undeclared(client(emulator, reader))
      .getBucketVersioning(BUCKET)
      .catch((error: unknown) => error);
    // ali-oss 6.23's putBucketVersioning resolves whatever the status (it sets no successStatuses).
    const put = await undeclared(client(emulator, FUNCTION)).putBucketVersioning(BUCKET, 'Enabled');
    const after = await undeclared(client(emulator)).getBucketVersioning(BUCKET);

    // Assert
    expect(allowed.versionStatus).toBeUndefined();
    expect(denied).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(put.status).toBe(403);
    expect(after.versionStatus).toBeUndefined();
  });

  it('answers MalformedXML for a configuration without Enabled or Suspended', async () => {
    // Arrange
    const emulator = await start();
    const oss = client(emulator) as unknown as {
      request(params: object): Promise<unknown>;
    };

    // Act: ali-oss refuses other values itself, so the request is built by hand through its signer.
    const put = oss.request({
      method: 'PUT',
      bucket: BUCKET,
      subres: 'versioning',
      mime: 'xml',
      content: '<VersioningConfiguration><Status>Off</Status></VersioningConfiguration>',
      successStatuses: [200],
    });

    // Assert
    await expect(put).rejects.toMatchObject({ status: 400, code: 'MalformedXML' });
  });
});

describe('copies and CRC-64', () => {
  it.each([
    [false, 'keeps the source CRC-64'],
    [true, 'leaves the CRC-64 off'],
  ])('with omitCopyCrc64 %s, CopyObject %s (as OSS may), and the copy reads back whole', async (omit) => {
    // Arrange
    const emulator = await start({ omitCopyCrc64: omit });
    const oss = client(emulator);
    const body = randomBytes(70_000);
    const expected = referenceCrc64(body);
    await oss.put('library/source.tar.gz', body);

    // Act
    const copied = await oss.copy('library/copy.tar.gz', 'library/source.tar.gz');
    const head = await oss.head('library/copy.tar.gz');
    const got = await oss.get('library/copy.tar.gz');

    // Assert
    const crc = omit ? undefined : expected;
    expect(headersOf(copied)['x-oss-hash-crc64ecma']).toBe(crc);
    expect(headersOf(head)['x-oss-hash-crc64ecma']).toBe(crc);
    expect(headersOf(got)['x-oss-hash-crc64ecma']).toBe(crc);
    expect(Buffer.compare(got.content, body)).toBe(0);
  });

  it('builds an object from UploadPartCopy parts, without a CRC-64 when a copied part has none', async () => {
    // Arrange
    const emulator = await start({ omitCopyCrc64: true });
    const oss = client(emulator, OWNER, true);
    const body = randomBytes(300_000);
    await oss.put('library/big.bin', body);
    const { uploadId } = await oss.initMultipartUpload('library/assembled.bin');

    // Act
    const first = await oss.uploadPartCopy(
      'library/assembled.bin',
      uploadId,
      1,
      '0-199999',
      { sourceKey: 'library/big.bin', sourceBucketName: BUCKET },
      {},
    );
    const second = await oss.uploadPart('library/assembled.bin', uploadId, 2, body as never, 200_000, 300_000);
    await oss.completeMultipartUpload('library/assembled.bin', uploadId, [
      { number: 1, etag: first.etag },
      { number: 2, etag: second.etag },
    ]);
    const head = await oss.head('library/assembled.bin');
    const got = await oss.get('library/assembled.bin');

    // Assert
    expect(Buffer.compare(got.content, body)).toBe(0);
    expect(headersOf(head)['x-oss-hash-crc64ecma']).toBeUndefined();
    expect(emulator.counters().requests).toMatchObject({ UploadPartCopy: 1, UploadPart: 1 });
  });
});

describe('GetObjectMeta', () => {
  it('answers HEAD ?objectMeta with the size, ETag, Last-Modified and CRC-64 only', async () => {
    // Arrange
    const emulator = await start();
    const oss = client(emulator);
    const body = Buffer.from('{"name":"face"}');
    await oss.put('library/face.json', body, { headers: { 'x-oss-meta-team': 'vision' }, mime: 'application/json' });

    // Act
    const meta = await undeclared(oss).getObjectMeta('library/face.json');
    const missing = undeclared(oss).getObjectMeta('library/missing.json');

    // Assert
    expect(meta.status).toBe(200);
    expect(headersOf(meta)).toMatchObject({
      'content-length': String(body.length),
      etag: expect.stringMatching(/^"[0-9A-F]{32}"$/),
      'last-modified': expect.stringMatching(/GMT$/),
      'x-oss-hash-crc64ecma': referenceCrc64(body),
    });
    expect(headersOf(meta)['x-oss-meta-team']).toBeUndefined();
    expect(headersOf(meta)['content-type']).toBeUndefined();
    await expect(missing).rejects.toMatchObject({ status: 404, code: 'NoSuchKey' });
    expect(emulator.counters().requests).toMatchObject({ GetObjectMeta: 2 });
  });
});

describe('multipart listings', () => {
  it('lists the parts of an upload in progress with ListParts, page by page', async () => {
    // Arrange
    const emulator = await start();
    const oss = client(emulator, OWNER, true);
    const { uploadId } = await oss.initMultipartUpload('library/resumable.bin');
    const parts = [randomBytes(100_000), randomBytes(100_000), randomBytes(1000)];
    for (const [index, part] of parts.entries()) {
      await oss.uploadPart('library/resumable.bin', uploadId, index + 1, part as never, 0, part.length);
    }

    // Act
    const page1 = await oss.listParts('library/resumable.bin', uploadId, { 'max-parts': 2 } as never);
    const page2 = await oss.listParts('library/resumable.bin', uploadId, {
      'max-parts': 2,
      'part-number-marker': Number(page1.nextPartNumberMarker),
    } as never);
    const unknown = oss.listParts('library/resumable.bin', 'NOSUCHUPLOAD');

    // Assert
    expect(page1).toMatchObject({ uploadId, name: 'library/resumable.bin', isTruncated: 'true', maxParts: '2' });
    expect(page1.parts).toEqual([
      expect.objectContaining({ PartNumber: '1', Size: '100000', HashCrc64ecma: referenceCrc64(parts[0] as Buffer) }),
      expect.objectContaining({ PartNumber: '2', Size: '100000' }),
    ]);
    expect(page2).toMatchObject({ isTruncated: 'false', partNumberMarker: '2' });
    expect(page2.parts).toEqual(expect.objectContaining({ PartNumber: '3', Size: '1000' }));
    await expect(unknown).rejects.toMatchObject({ status: 404, code: 'NoSuchUpload' });
  });

  it('lists the uploads in progress with ListMultipartUploads, by key, with prefix and paging', async () => {
    // Arrange
    const emulator = await start();
    const oss = client(emulator);
    const b1 = await oss.initMultipartUpload('library/b.bin');
    const a = await oss.initMultipartUpload('library/a.bin');
    await oss.initMultipartUpload('other/c.bin');
    const done = await oss.initMultipartUpload('library/done.bin');
    await oss.abortMultipartUpload('library/done.bin', done.uploadId);

    // Act
    const all = await oss.listUploads({ prefix: 'library/' });
    const page1 = await oss.listUploads({ prefix: 'library/', 'max-uploads': 1 });
    const page2 = await oss.listUploads({
      prefix: 'library/',
      'max-uploads': 1,
      'key-marker': page1.nextKeyMarker,
      'upload-id-marker': page1.nextUploadIdMarker,
    });

    // Assert
    expect(all.uploads.map((upload) => [upload.name, upload.uploadId])).toEqual([
      ['library/a.bin', a.uploadId],
      ['library/b.bin', b1.uploadId],
    ]);
    expect(all.uploads[0]?.initiated).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(page1).toMatchObject({ isTruncated: true, nextKeyMarker: 'library/a.bin' });
    expect(page2.uploads.map((upload) => upload.name)).toEqual(['library/b.bin']);
    expect(page2.isTruncated).toBe(false);
  });
});

afterAll(async () => {
  await Promise.all(started.splice(0).map((emulator) => emulator.close()));
});
