/**
 * The soak's publisher: the real ali-oss client with the retries a release job would have (the emulator's faults
 * hit the publisher's requests too), plus the OSS event record of each upload so the soak can deliver it again.
 */
import OSS from 'ali-oss';
import type { LocalCloudState } from '../local/cloud.ts';
import { type OssEventRecord, objectCreatedRecord } from '../platform/oss/event-record.ts';
import { MULTIPART_PART_SIZE } from './plan.ts';

export type Uploaded = { record: OssEventRecord; etag: string };

export type Publisher = {
  client: OSS;
  /** PutObject (or a multipart upload), retried on 5xx and dropped connections; resolves to the event record. */
  upload(key: string, bytes: Buffer, options?: { multipart?: boolean }): Promise<Uploaded>;
  /** GetObject of a status or claim (`undefined` when absent), retried the same way. */
  read(key: string): Promise<Buffer | undefined>;
  /** Every key under `prefix`, paging through ListObjectsV2. */
  list(prefix: string): Promise<string[]>;
};

type AliOssError = { status?: number; code?: string; name?: string };

const MAX_ATTEMPTS = 10;

const retryable = (error: unknown) => {
  const { status } = (error ?? {}) as AliOssError;
  return status === undefined || status < 0 || status >= 500 || status === 429;
};

const header = (headers: unknown, name: string) => {
  const value = (headers as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
};

/**
 * A publisher for the local cloud's bucket. `onRetry` hears each retried failure's class (`PutObject ServiceUnavailable`).
 *
 * @example
 * ```ts
 * const publisher = createPublisher(cloud.state, (label) => count(label));
 * const { record } = await publisher.upload('library/a/a-1.0.0.tar.gz', bytes);
 * cloud.fc.dispatchOssEvent(record); // a duplicate delivery
 * ```
 */
export const createPublisher = (
  state: LocalCloudState,
  onRetry: (label: string) => void,
  sleep: (ms: number) => Promise<void>,
): Publisher => {
  const { endpoint, region, bucket, accessKeyId, accessKeySecret } = state.oss;
  const client = new OSS({
    endpoint,
    region,
    bucket,
    accessKeyId,
    accessKeySecret,
    authorizationV4: true,
    timeout: 30_000,
  });

  const withRetry = async <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await run();
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || !retryable(error)) throw error;
        const { code, name, status } = (error ?? {}) as AliOssError;
        onRetry(`publisher ${operation} ${code || name || status}`);
        await sleep(Math.min(2_000, 50 * 2 ** attempt) * Math.random());
      }
    }
  };

  const recordOf = (key: string, size: number, etag: string, requestId: string, multipart: boolean): OssEventRecord =>
    objectCreatedRecord({
      bucket,
      key,
      size,
      etag,
      requestId,
      eventName: multipart ? 'ObjectCreated:CompleteMultipartUpload' : 'ObjectCreated:PutObject',
      ruleId: 'soak-redelivery',
    });

  return {
    client,
    async upload(key, bytes, options = {}) {
      const multipart = options.multipart === true;
      const result: { res: OSS.NormalSuccessResponse; etag?: string } = await withRetry(
        multipart ? 'MultipartUpload' : 'PutObject',
        (): Promise<{ res: OSS.NormalSuccessResponse; etag?: string }> =>
          multipart ? client.multipartUpload(key, bytes, { partSize: MULTIPART_PART_SIZE }) : client.put(key, bytes),
      );
      const etag = (result.etag ?? header(result.res.headers, 'etag')).replace(/^"|"$/g, '');
      const requestId = header(result.res.headers, 'x-oss-request-id');
      return { record: recordOf(key, bytes.length, etag, requestId, multipart), etag };
    },
    read: (key) =>
      withRetry('GetObject', async () => {
        try {
          return (await client.get(key)).content as Buffer;
        } catch (error) {
          if ((error as AliOssError).status === 404) return undefined;
          throw error;
        }
      }),
    async list(prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const query: Record<string, string> = { prefix, 'max-keys': '1000' };
        if (token) query['continuation-token'] = token;
        const page = await withRetry('ListObjectsV2', () => client.listV2(query, {}));
        for (const object of page.objects ?? []) keys.push(object.name);
        token = page.isTruncated ? (page.nextContinuationToken ?? undefined) : undefined;
      } while (token);
      return keys;
    },
  };
};
