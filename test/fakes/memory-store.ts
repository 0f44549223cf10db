/** In-memory ObjectStore: what OSS would answer, with counters and scriptable failures. */
import { createHash } from 'node:crypto';
import { crc64 } from '../../shared/crc64.ts';
import { RemoteError } from '../../shared/errors.ts';
import type { CallLimits, ObjectStore, VersioningStatus } from '../../shared/object-store.ts';

type Stored = { bytes: Buffer; etag: string; crc64: string | undefined; lastModified: number };
type Operation = 'head' | 'getBytes' | 'digest' | 'versioning' | 'putIfAbsent' | 'put';

export type MemoryStore = ObjectStore & {
  objects: Map<string, Stored>;
  /**
   * What `versioning()` answers (GetBucketVersioning); `undefined` (never enabled) by default. Like OSS, a store whose
   * bucket is versioned ignores forbid-overwrite: `putIfAbsent` then overwrites and answers true.
   */
  bucketVersioning: VersioningStatus;
  /** Calls per operation. */
  calls: Record<Operation, number>;
  /** Bytes of object bodies handed out (manifest reads and SHA-256 streams). */
  bytesRead: number;
  /** The timeout every call was given, in call order. */
  timeouts: Array<number | undefined>;
  /** Stores an object as a publisher's upload would; `crc64: false` leaves the CRC header out (some multipart objects). */
  upload(key: string, body: string | Buffer, options?: { crc64?: boolean }): void;
  json<T>(key: string): T | undefined;
  /** The next `times` calls of `operation` fail with a retryable (default) or permanent RemoteError. */
  failNext(operation: Operation, times: number, options?: { retryable?: boolean; code?: string }): void;
  /** Runs before every operation (after its failure check); lets a test interleave other work at that point. */
  beforeOperation?: (operation: Operation, key: string) => Promise<void> | void;
};

const etagOf = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex').toUpperCase();

/** `now`: the clock uploads are stamped with (Last-Modified, to the second as OSS keeps it). */
export const createMemoryStore = (now: () => number = Date.now): MemoryStore => {
  const objects = new Map<string, Stored>();
  const calls: Record<Operation, number> = { head: 0, getBytes: 0, digest: 0, versioning: 0, putIfAbsent: 0, put: 0 };
  const failures: Array<{ operation: Operation; left: number; retryable: boolean; code: string }> = [];

  const enter = async (operation: Operation, key: string, limits: CallLimits | undefined) => {
    calls[operation] += 1;
    store.timeouts.push(limits?.timeoutMs);
    const failure = failures.find((entry) => entry.operation === operation && entry.left > 0);
    if (failure) {
      failure.left -= 1;
      throw new RemoteError(
        { service: 'oss', code: failure.code, retryable: failure.retryable, httpStatus: 503 },
        `OSS ${operation} ${key} failed: ${failure.code}`,
      );
    }
    await store.beforeOperation?.(operation, key);
  };
  const write = (key: string, bytes: Buffer, withCrc = true) =>
    objects.set(key, {
      bytes,
      etag: etagOf(bytes),
      crc64: withCrc ? crc64(bytes) : undefined,
      lastModified: Math.floor(now() / 1000) * 1000,
    });

  const store: MemoryStore = {
    objects,
    bucketVersioning: undefined,
    calls,
    bytesRead: 0,
    timeouts: [],
    upload: (key, body, options) => write(key, Buffer.from(body), options?.crc64 ?? true),
    json: (key) => {
      const object = objects.get(key);
      return object ? JSON.parse(object.bytes.toString('utf8')) : undefined;
    },
    failNext: (operation, times, options) =>
      failures.push({
        operation,
        left: times,
        retryable: options?.retryable ?? true,
        code: options?.code ?? 'ServiceUnavailable',
      }),
    async head(key, limits) {
      await enter('head', key, limits);
      const object = objects.get(key);
      return (
        object && {
          size: object.bytes.length,
          etag: object.etag,
          crc64: object.crc64,
          lastModified: object.lastModified,
        }
      );
    },
    async getBytes(key, maxBytes, limits) {
      await enter('getBytes', key, limits);
      const object = objects.get(key);
      if (!object) return undefined;
      const bytes = new Uint8Array(object.bytes.subarray(0, maxBytes + 1));
      store.bytesRead += bytes.byteLength;
      return { bytes, size: object.bytes.length, etag: object.etag, lastModified: object.lastModified };
    },
    async digest(key, limits) {
      await enter('digest', key, limits);
      const object = objects.get(key);
      if (!object) return undefined;
      store.bytesRead += object.bytes.length;
      return {
        size: object.bytes.length,
        sha256: createHash('sha256').update(object.bytes).digest('hex'),
        crc64: crc64(object.bytes),
      };
    },
    async versioning(limits) {
      await enter('versioning', '', limits);
      return store.bucketVersioning;
    },
    async putIfAbsent(key, body, limits) {
      await enter('putIfAbsent', key, limits);
      if (objects.has(key) && store.bucketVersioning === undefined) return false;
      write(key, Buffer.from(body));
      return true;
    },
    async put(key, body, limits) {
      await enter('put', key, limits);
      write(key, Buffer.from(body));
    },
  };
  return store;
};
