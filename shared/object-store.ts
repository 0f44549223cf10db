/**
 * ObjectStore: the few OSS operations the pipeline needs, as a port, and its adapter over `ali-oss`.
 * Every adapter error becomes a `RemoteError` that says whether a retry can help.
 */
import { createHash } from 'node:crypto';
import OSS from 'ali-oss';
import { RemoteError } from './errors.ts';

export type ObjectInfo = { size: number; etag: string; crc64: string | undefined };

export type ObjectBytes = { bytes: Uint8Array; size: number; etag: string };

/** Per-call limits: a request never waits past the invocation's deadline. */
export type CallLimits = { timeoutMs?: number };

export type ObjectStore = {
  /** Size, ETag and CRC-64 from a HEAD; `undefined` when the object does not exist. */
  head(key: string, limits?: CallLimits): Promise<ObjectInfo | undefined>;
  /** The first `maxBytes + 1` bytes at most (so "too large" is detectable without reading more) and the full size. */
  getBytes(key: string, maxBytes: number, limits?: CallLimits): Promise<ObjectBytes | undefined>;
  /** SHA-256 (hex) of the whole object, streamed; `undefined` when the object does not exist. */
  sha256(key: string, limits?: CallLimits): Promise<{ sha256: string; size: number } | undefined>;
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
    sha256: (key) => store.sha256(key, now()),
    putIfAbsent: (key, body) => store.putIfAbsent(key, body, now()),
    put: (key, body) => store.put(key, body, now()),
  };
};

export type Credentials = { accessKeyId: string; accessKeySecret: string; securityToken?: string | undefined };

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

/** Wraps an ali-oss error; network errors (status -1/-2), timeouts and 5xx are retryable. */
export const toOssError = (error: unknown, operation: string, key: string): RemoteError => {
  const e = (error ?? {}) as AliOssError;
  const code = e.code || e.name || 'UnknownError';
  const status = typeof e.status === 'number' ? e.status : undefined;
  const retryable =
    RETRYABLE_OSS_CODES.has(code) || status === undefined || status < 0 || status >= 500 || status === 429;
  const detail = e.requestId ? ` (request id ${e.requestId})` : '';
  return new RemoteError(
    { service: 'oss', code, retryable, httpStatus: status },
    `OSS ${operation} ${key} failed: ${code}${status && status > 0 ? ` (HTTP ${status})` : ''}${detail}`,
    { cause: error },
  );
};

const isNotFound = (error: unknown) => (error as AliOssError)?.status === 404;

const header = (headers: unknown, name: string): string | undefined => {
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
};

/** ali-oss takes a per-request `timeout` over the client's. */
const timeoutOf = (limits: CallLimits | undefined) =>
  limits?.timeoutMs === undefined ? {} : { timeout: limits.timeoutMs };

const unquote = (etag: string | undefined) => (etag ?? '').replace(/^"|"$/g, '');

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

  return {
    head: (key, limits) =>
      call('HeadObject', key, async () => {
        try {
          const { res } = await client.head(key, timeoutOf(limits));
          return {
            size: Number(header(res.headers, 'content-length')),
            etag: unquote(header(res.headers, 'etag')),
            crc64: header(res.headers, 'x-oss-hash-crc64ecma'),
          };
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
          return { bytes, size: totalSize(res.headers, bytes.byteLength), etag: unquote(header(res.headers, 'etag')) };
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
      }),

    sha256: (key, limits) =>
      call('GetObject', key, async () => {
        let result: Awaited<ReturnType<typeof client.getStream>>;
        try {
          result = await client.getStream(key, timeoutOf(limits));
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
        const hash = createHash('sha256');
        let size = 0;
        for await (const chunk of result.stream as AsyncIterable<Buffer>) {
          hash.update(chunk);
          size += chunk.length;
        }
        return { sha256: hash.digest('hex'), size };
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
