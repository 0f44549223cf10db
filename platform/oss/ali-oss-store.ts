/**
 * The `ObjectStore` port over `ali-oss` (V4 signatures, STS credentials swapped in per request): the CLI's and the
 * local tools' store. The function uses shared/oss-client.ts instead (same requests, a fraction of the load cost).
 */
import OSS from 'ali-oss';
import type { Credentials } from '../../shared/credentials.ts';
import {
  type CallLimits,
  digestOf,
  header,
  lastModifiedOf,
  type ObjectDigest,
  type ObjectStore,
  objectInfoOf,
  totalSize,
  unquote,
} from '../../shared/object-store.ts';
import { isNotFound, type OssErrorFields, withOssErrors } from '../../shared/oss-errors.ts';

export type OssStoreOptions = {
  endpoint: string;
  region: string;
  bucket: string;
  timeoutMs: number;
  /** Read at every request, so rotated STS credentials are used as soon as the FC context carries them. */
  credentials: () => Credentials;
};

type VersioningClient = {
  getBucketVersioning(bucket: string, options: { timeout?: number }): Promise<{ versionStatus?: string }>;
};

/** ali-oss takes a per-request `timeout` over the client's. */
const timeoutOf = (limits: CallLimits | undefined) =>
  limits?.timeoutMs === undefined ? {} : { timeout: limits.timeoutMs };

/**
 * An `ObjectStore` over one bucket with `ali-oss` (V4 signatures, STS credentials refreshed per request).
 *
 * @example
 * ```ts
 * const store = createAliOssStore({ endpoint, region: 'oss-cn-shanghai', bucket, timeoutMs: 10_000, credentials: () => context.credentials });
 * await store.head('library/face/face-1.2.0.tar.gz');
 * ```
 */
export const createAliOssStore = (options: OssStoreOptions): ObjectStore => {
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

  const call = <T>(operation: string, key: string, run: () => Promise<T>): Promise<T> => {
    useCurrentCredentials();
    return withOssErrors(operation, key, run);
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
      return digestOf(result.stream as AsyncIterable<Buffer>);
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
          if ((error as OssErrorFields)?.code === 'FileAlreadyExists') return false;
          throw error;
        }
      }),

    put: (key, body, limits) =>
      call('PutObject', key, async () => {
        await client.put(key, Buffer.from(body), { mime: 'application/json', ...timeoutOf(limits) });
      }),
  };
};
