/**
 * ObjectStore: the few OSS operations the pipeline needs, as a port, and the function's adapter over
 * shared/oss-client.ts (the CLI's, over ali-oss, is platform/oss/ali-oss-store.ts). Every adapter error becomes a
 * `RemoteError` that says whether a retry can help (shared/oss-errors.ts).
 */
import { createHash } from 'node:crypto';
import { updateCrc64 } from './crc64.ts';
import type { OssClient, OssClientError } from './oss-client.ts';
import { isNotFound, withOssErrors } from './oss-errors.ts';

/** `lastModified`: when OSS says the object was written (epoch ms, to the second); tells a re-upload of identical bytes. */
export type ObjectInfo = { size: number; etag: string; crc64: string | undefined; lastModified?: number | undefined };

export type ObjectBytes = { bytes: Uint8Array; size: number; etag: string; lastModified?: number | undefined };

/** Per-call limits: a request never waits past the invocation's deadline. */
export type CallLimits = { timeoutMs?: number };

/** What one streamed read of an object tells: its size, SHA-256 (hex) and CRC-64/ECMA-182 (decimal, as OSS writes it). */
export type ObjectDigest = { size: number; sha256: string; crc64: string };

/** A bucket's versioning state; `undefined` when versioning was never enabled. */
export type VersioningStatus = 'Enabled' | 'Suspended' | undefined;

export type ObjectStore = {
  /** Size, ETag and CRC-64 from a HEAD; `undefined` when the object does not exist. */
  head(key: string, limits?: CallLimits): Promise<ObjectInfo | undefined>;
  /** The first `maxBytes + 1` bytes at most (so "too large" is detectable without reading more) and the full size. */
  getBytes(key: string, maxBytes: number, limits?: CallLimits): Promise<ObjectBytes | undefined>;
  /**
   * SHA-256 and CRC-64 of the whole object from one streamed read; `undefined` when the object does not exist. For
   * objects whose HEAD has no CRC-64: copies may lack one (CopyObject, UploadPartCopy).
   */
  digest(key: string, limits?: CallLimits): Promise<ObjectDigest | undefined>;
  /**
   * The store's bucket's versioning (GetBucketVersioning). In a versioned bucket (Enabled or Suspended) OSS ignores
   * `x-oss-forbid-overwrite`, so `putIfAbsent` would overwrite.
   */
  versioning(limits?: CallLimits): Promise<VersioningStatus>;
  /** Writes only if nothing is at `key` (`x-oss-forbid-overwrite`); `false` when something already was. */
  putIfAbsent(key: string, body: string, limits?: CallLimits): Promise<boolean>;
  put(key: string, body: string, limits?: CallLimits): Promise<void>;
};

/**
 * The same store with every call's timeout capped by the time left (`remainingMs()`, read per call), so a slow OSS
 * answer cannot hold an invocation past its FC deadline. Made per invocation: the wrapped store is shared.
 *
 * @example
 * ```ts
 * const packages = boundedBy(deps.packages, () => hardDeadline - Date.now(), config.ossTimeoutMs);
 * ```
 */
export const boundedBy = (store: ObjectStore, remainingMs: () => number, capMs: number): ObjectStore => {
  const now = (): CallLimits => ({ timeoutMs: Math.max(1, Math.min(capMs, remainingMs())) });
  return {
    head: (key) => store.head(key, now()),
    getBytes: (key, maxBytes) => store.getBytes(key, maxBytes, now()),
    digest: (key) => store.digest(key, now()),
    versioning: () => store.versioning(now()),
    putIfAbsent: (key, body) => store.putIfAbsent(key, body, now()),
    put: (key, body) => store.put(key, body, now()),
  };
};

/** One header's value (the first, when repeated). */
export const header = (headers: unknown, name: string): string | undefined => {
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
};

/** `Last-Modified` (an HTTP date, to the second) as epoch ms, or `undefined`. */
export const lastModifiedOf = (headers: unknown): number | undefined => {
  const value = Date.parse(header(headers, 'last-modified') ?? '');
  return Number.isFinite(value) ? value : undefined;
};

export const unquote = (etag: string | undefined) => (etag ?? '').replace(/^"|"$/g, '');

/**
 * What a HEAD's headers say of an object (ali-oss's `res.headers`): size, ETag without quotes, CRC-64 when OSS has one.
 *
 * @example
 * ```ts
 * objectInfoOf({ 'content-length': '12', etag: '"AB"' }); // { size: 12, etag: 'AB', crc64: undefined }
 * ```
 */
export const objectInfoOf = (headers: unknown): ObjectInfo => ({
  size: Number(header(headers, 'content-length')),
  etag: unquote(header(headers, 'etag')),
  crc64: header(headers, 'x-oss-hash-crc64ecma'),
  lastModified: lastModifiedOf(headers),
});

/** Total size from `Content-Range: bytes 0-99/1234`, else the body's length. */
export const totalSize = (headers: unknown, bodyLength: number): number => {
  const range = header(headers, 'content-range');
  const total = range?.match(/\/(\d+)$/)?.[1];
  return total ? Number(total) : bodyLength;
};

/**
 * SHA-256 (hex), CRC-64 (decimal, as OSS writes it) and size of a streamed body, hashed as it goes by.
 *
 * @example
 * ```ts
 * await digestOf(Readable.from([Buffer.from('abc')])); // { size: 3, sha256: 'ba78…', crc64: '…' }
 * ```
 */
export const digestOf = async (stream: AsyncIterable<Buffer>): Promise<ObjectDigest> => {
  const hash = createHash('sha256');
  let crc = 0n;
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    crc = updateCrc64(crc, chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest('hex'), crc64: crc.toString() };
};

/** ali-oss's `successStatuses` of each operation (lib/common/object/head.js, get.js, object.js, getBucketVersioning.js). */
const SUCCESS = { head: [200, 304], get: [200, 206, 304], put: [200], versioning: [200] } as const;

const limitOf = (limits: CallLimits | undefined) =>
  limits?.timeoutMs === undefined ? {} : { timeoutMs: limits.timeoutMs };

/**
 * The `ObjectStore` port over one bucket with shared/oss-client.ts: the function's store, call for call what the
 * ali-oss adapter (platform/oss/ali-oss-store.ts) does, with the same errors (`toOssError`).
 *
 * @example
 * ```ts
 * const client = createOssClient({ endpoint, region: 'oss-cn-shanghai', timeoutMs: 10_000, credentials: () => context.credentials });
 * const store = createOssStore({ client, bucket: 'algolib-drop' });
 * await store.head('library/face/face-1.2.0.tar.gz');
 * ```
 */
export const createOssStore = ({ client, bucket }: { client: OssClient; bucket: string }): ObjectStore => {
  const call = withOssErrors;
  const orMissing = async <T>(run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };
  const put = (key: string, body: string, limits: CallLimits | undefined, headers?: Record<string, string>) =>
    client.send(
      {
        method: 'PUT',
        bucket,
        key,
        body: Buffer.from(body),
        mime: 'application/json',
        successStatuses: SUCCESS.put,
        ...(headers ? { headers } : {}),
      },
      limitOf(limits),
    );
  return {
    head: (key, limits) =>
      call('HeadObject', key, () =>
        orMissing(async () => {
          const { headers } = await client.send(
            { method: 'HEAD', bucket, key, successStatuses: SUCCESS.head },
            limitOf(limits),
          );
          return objectInfoOf(headers);
        }),
      ),
    getBytes: (key, maxBytes, limits) =>
      call('GetObject', key, () =>
        orMissing(async () => {
          const { headers, body } = await client.send(
            { method: 'GET', bucket, key, headers: { Range: `bytes=0-${maxBytes}` }, successStatuses: SUCCESS.get },
            limitOf(limits),
          );
          const buffer = body ?? Buffer.alloc(0);
          // A view, not a copy: the bytes are only parsed.
          const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
          return {
            bytes,
            size: totalSize(headers, bytes.byteLength),
            etag: unquote(header(headers, 'etag')),
            lastModified: lastModifiedOf(headers),
          };
        }),
      ),
    digest: (key, limits) =>
      call('GetObject', key, async (): Promise<ObjectDigest | undefined> => {
        const response = await orMissing(() =>
          client.send(
            { method: 'GET', bucket, key, successStatuses: SUCCESS.get },
            { ...limitOf(limits), stream: true },
          ),
        );
        if (!response?.stream) return undefined;
        return digestOf(response.stream);
      }),
    versioning: (limits) =>
      call('GetBucketVersioning', bucket, async () => {
        const { body } = await client.send(
          { method: 'GET', bucket, subresource: 'versioning', successStatuses: SUCCESS.versioning },
          limitOf(limits),
        );
        // <VersioningConfiguration><Status>Enabled|Suspended</Status></VersioningConfiguration>; no Status: never
        // enabled (ali-oss reads the same element with xml2js).
        const status = /<Status>\s*(Enabled|Suspended)\s*<\/Status>/.exec(body?.toString('utf8') ?? '')?.[1];
        return status === 'Enabled' || status === 'Suspended' ? status : undefined;
      }),
    putIfAbsent: (key, body, limits) =>
      call('PutObject', key, async () => {
        try {
          await put(key, body, limits, { 'x-oss-forbid-overwrite': 'true' });
          return true;
        } catch (error) {
          if ((error as OssClientError).code === 'FileAlreadyExists') return false;
          throw error;
        }
      }),
    put: (key, body, limits) =>
      call('PutObject', key, async () => {
        await put(key, body, limits);
      }),
  };
};
