/**
 * ObjectStore: the few OSS operations the pipeline needs, as a port, and its adapter over `ali-oss`.
 * Every adapter error becomes a `RemoteError` that says whether a retry can help.
 */
import { createHash } from 'node:crypto';
import OSS from 'ali-oss';
import { updateCrc64 } from './crc64.ts';
import type { Credentials } from './credentials.ts';
import { RemoteError } from './errors.ts';

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

export type OssStoreOptions = {
  endpoint: string;
  region: string;
  bucket: string;
  timeoutMs: number;
  /** Read at every request, so rotated STS credentials are used as soon as the FC context carries them. */
  credentials: () => Credentials;
};

type AliOssError = { name?: string; code?: string; status?: number; message?: string; requestId?: string };

const RETRYABLE_OSS_CODES = new Set([
  'RequestError',
  'ResponseTimeoutError',
  'ConnectionTimeoutError',
  'ServiceUnavailable',
  'InternalError',
]);

/**
 * Codes by which OSS refuses the caller's credentials rather than its request; they come with 403, and any other 403
 * (AccessDenied and its kind) is a permission refusal as well. Source: "How to troubleshoot 403 status codes",
 * https://www.alibabacloud.com/help/en/oss/how-to-troubleshoot-403-status-code-when-you-access-oss, and the error
 * center's 0002-* entries (e.g. https://help.aliyun.com/en/oss/user-guide/0002-00000008).
 */
const CREDENTIAL_OSS_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidSecurityToken',
  'AccessKeyIdAndSecurityTokenNotMatch',
  'SecurityTokenExpired',
]);

/** The RAM action an operation needs (https://www.alibabacloud.com/help/en/oss/user-guide/ram-policy-overview). */
const RAM_ACTIONS: Record<string, string> = {
  HeadObject: 'oss:GetObject',
  GetObject: 'oss:GetObject',
  PutObject: 'oss:PutObject',
  GetBucketVersioning: 'oss:GetBucketVersioning',
};

const deploymentFix = (code: string, operation: string) =>
  CREDENTIAL_OSS_CODES.has(code)
    ? "the function's credentials were refused (check the service role FC runs it with)"
    : `the function's role needs ${RAM_ACTIONS[operation] ?? `the permission for ${operation}`}`;

/**
 * Wraps an ali-oss error. Network errors (status -1/-2), timeouts, 429 and 5xx are retryable. A refusal of the
 * caller (403, or a credential code) is a fault of the deployment, not of the package: `deployment: true`, not
 * retryable at once, and a message that names the refused operation and the permission to grant (never a secret).
 *
 * @example
 * ```ts
 * toOssError({ status: 403, code: 'AccessDenied' }, 'PutObject', 'status/a.json').message;
 * // "OSS PutObject status/a.json refused: AccessDenied (HTTP 403) — the function's role needs oss:PutObject"
 * ```
 */
export const toOssError = (error: unknown, operation: string, key: string): RemoteError => {
  const e = (error ?? {}) as AliOssError;
  const code = e.code || e.name || 'UnknownError';
  const status = typeof e.status === 'number' ? e.status : undefined;
  const detail = e.requestId ? `, request id ${e.requestId}` : '';
  const httpStatus = status && status > 0 ? ` (HTTP ${status}${detail})` : detail ? ` (${detail.slice(2)})` : '';
  if (status === 403 || CREDENTIAL_OSS_CODES.has(code)) {
    return new RemoteError(
      { service: 'oss', code, retryable: false, httpStatus: status, deployment: true },
      `OSS ${operation} ${key} refused: ${code}${httpStatus} — ${deploymentFix(code, operation)}`,
      { cause: error },
    );
  }
  const retryable =
    RETRYABLE_OSS_CODES.has(code) || status === undefined || status < 0 || status >= 500 || status === 429;
  return new RemoteError(
    { service: 'oss', code, retryable, httpStatus: status },
    `OSS ${operation} ${key} failed: ${code}${httpStatus}`,
    { cause: error },
  );
};

type VersioningClient = {
  getBucketVersioning(bucket: string, options: { timeout?: number }): Promise<{ versionStatus?: string }>;
};

const isNotFound = (error: unknown) => (error as AliOssError)?.status === 404;

const header = (headers: unknown, name: string): string | undefined => {
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
};

/** ali-oss takes a per-request `timeout` over the client's. */
const timeoutOf = (limits: CallLimits | undefined) =>
  limits?.timeoutMs === undefined ? {} : { timeout: limits.timeoutMs };

/** `Last-Modified` (an HTTP date, to the second) as epoch ms, or `undefined`. */
export const lastModifiedOf = (headers: unknown): number | undefined => {
  const value = Date.parse(header(headers, 'last-modified') ?? '');
  return Number.isFinite(value) ? value : undefined;
};

const unquote = (etag: string | undefined) => (etag ?? '').replace(/^"|"$/g, '');

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
const totalSize = (headers: unknown, bodyLength: number): number => {
  const range = header(headers, 'content-range');
  const total = range?.match(/\/(\d+)$/)?.[1];
  return total ? Number(total) : bodyLength;
};

/**
 * An `ObjectStore` over one bucket with `ali-oss` (V4 signatures, STS credentials refreshed per request).
 *
 * @example
 * ```ts
 * const store = createOssStore({ endpoint, region: 'oss-cn-shanghai', bucket, timeoutMs: 10_000, credentials: () => context.credentials });
 * await store.head('library/face/face-1.2.0.tar.gz');
 * ```
 */
export const createOssStore = (options: OssStoreOptions): ObjectStore => {
  const initial = options.credentials();
  const client = new OSS({
    endpoint: options.endpoint,
    region: options.region,
    bucket: options.bucket,
    accessKeyId: initial.accessKeyId,
    accessKeySecret: initial.accessKeySecret,
    // STS: the credentials are swapped in before every request (`useCurrentCredentials`), not by ali-oss's own
    // refreshSTSToken hook, which would run an async refresh, reformat the keys and check them on every request. An
    // interval that never elapses keeps ali-oss from warning that no refresh is configured.
    ...(initial.securityToken
      ? { stsToken: initial.securityToken, refreshSTSTokenInterval: Number.MAX_SAFE_INTEGER }
      : {}),
    authorizationV4: true,
    timeout: options.timeoutMs,
  });
  // ali-oss signs every request with these fields (its own refresh hook assigns the same ones).
  const signing = (
    client as unknown as { options: { accessKeyId: string; accessKeySecret: string; stsToken?: string } }
  ).options;
  /** Takes the context's current credentials (a property read and three comparisons, no I/O). */
  const useCurrentCredentials = () => {
    if (!initial.securityToken) return;
    const current = options.credentials();
    const token = current.securityToken ?? '';
    if (signing.accessKeyId !== current.accessKeyId) signing.accessKeyId = current.accessKeyId;
    if (signing.accessKeySecret !== current.accessKeySecret) signing.accessKeySecret = current.accessKeySecret;
    if (signing.stsToken !== token) signing.stsToken = token;
  };

  const call = async <T>(operation: string, key: string, run: () => Promise<T>): Promise<T> => {
    useCurrentCredentials();
    try {
      return await run();
    } catch (error) {
      throw toOssError(error, operation, key);
    }
  };

  /** One GET of the whole object, hashed with SHA-256 and CRC-64 as it streams by. */
  const streamDigest = (key: string, limits: CallLimits | undefined) =>
    call('GetObject', key, async (): Promise<ObjectDigest | undefined> => {
      let result: Awaited<ReturnType<typeof client.getStream>>;
      try {
        result = await client.getStream(key, timeoutOf(limits));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
      const hash = createHash('sha256');
      let crc = 0n;
      let size = 0;
      for await (const chunk of result.stream as AsyncIterable<Buffer>) {
        hash.update(chunk);
        crc = updateCrc64(crc, chunk);
        size += chunk.length;
      }
      return { size, sha256: hash.digest('hex'), crc64: crc.toString() };
    });

  return {
    head: (key, limits) =>
      call('HeadObject', key, async () => {
        try {
          const { res } = await client.head(key, timeoutOf(limits));
          return objectInfoOf(res.headers);
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
      }),

    getBytes: (key, maxBytes, limits) =>
      call('GetObject', key, async () => {
        try {
          const { res, content } = await client.get(key, {
            headers: { Range: `bytes=0-${maxBytes}` },
            ...timeoutOf(limits),
          });
          const buffer = content as Buffer;
          // A view, not a copy: the bytes are only parsed.
          const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
          return {
            bytes,
            size: totalSize(res.headers, bytes.byteLength),
            etag: unquote(header(res.headers, 'etag')),
            lastModified: lastModifiedOf(res.headers),
          };
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
      }),

    digest: (key, limits) => streamDigest(key, limits),

    versioning: (limits) =>
      call('GetBucketVersioning', options.bucket, async () => {
        // ali-oss 6.23 lib/common/bucket/getBucketVersioning.js; @types/ali-oss does not declare it.
        const { versionStatus } = await (client as unknown as VersioningClient).getBucketVersioning(
          options.bucket,
          timeoutOf(limits),
        );
        return versionStatus === 'Enabled' || versionStatus === 'Suspended' ? versionStatus : undefined;
      }),

    putIfAbsent: (key, body, limits) =>
      call('PutObject', key, async () => {
        try {
          await client.put(key, Buffer.from(body), {
            headers: { 'x-oss-forbid-overwrite': 'true' },
            ...timeoutOf(limits),
            mime: 'application/json',
          });
          return true;
        } catch (error) {
          if ((error as AliOssError)?.code === 'FileAlreadyExists') return false;
          throw error;
        }
      }),

    put: (key, body, limits) =>
      call('PutObject', key, async () => {
        await client.put(key, Buffer.from(body), { mime: 'application/json', ...timeoutOf(limits) });
      }),
  };
};
