/**
 * What the console reads from the bucket, as a port: list keys under a prefix (with ETags, so unchanged objects are
 * not read again) and read a small object as text. The adapter is over an `ali-oss` client the CLI makes with the
 * same target and credentials as `algolib status`; the credentials stay in this process.
 */
import type OSS from 'ali-oss';

export type ListedObject = { key: string; etag: string };

export type ConsoleStore = {
  bucket: string;
  /** Keys under `prefix` in key order, at most `max` of them (pages of 1000, so at most `max / 1000` calls). */
  list(prefix: string, max: number): Promise<ListedObject[]>;
  /** The first `maxBytes` of the object as UTF-8, or `undefined` when it does not exist. */
  getText(key: string, maxBytes: number): Promise<string | undefined>;
};

type SdkError = { status?: number; code?: string };
type ListPage = { objects?: Array<{ name: string; etag: string }>; nextContinuationToken?: string };

const PAGE = 1000;

/**
 * A `ConsoleStore` over an ali-oss client of the bucket; `explain` turns an SDK error into one a person can act on.
 *
 * @example
 * ```ts
 * const store = openConsoleStore(await ossClientOf(target.oss, 15_000), target.oss.bucket, explain);
 * await store.list('status/', 10_000);
 * ```
 */
export const openConsoleStore = (
  client: OSS,
  bucket: string,
  explain: (error: unknown) => Error | undefined = () => undefined,
): ConsoleStore => {
  const explained = (error: unknown) => explain(error) ?? error;
  return {
    bucket,
    async list(prefix, max) {
      const listed: ListedObject[] = [];
      let token: string | undefined;
      try {
        for (let page = 0; page < Math.ceil(max / PAGE); page += 1) {
          const result = (await client.listV2(
            {
              prefix,
              'max-keys': String(Math.min(PAGE, max - listed.length)),
              ...(token ? { 'continuation-token': token } : {}),
            },
            {},
          )) as ListPage;
          for (const object of result.objects ?? [])
            listed.push({ key: object.name, etag: object.etag.replace(/"/g, '') });
          token = result.nextContinuationToken;
          if (!token || listed.length >= max) break;
        }
      } catch (error) {
        throw explained(error);
      }
      return listed;
    },
    async getText(key, maxBytes) {
      try {
        const { content } = await client.get(key, { headers: { Range: `bytes=0-${maxBytes - 1}` } });
        return Buffer.from(content as Buffer).toString('utf8');
      } catch (error) {
        if ((error as SdkError)?.status === 404 && (error as SdkError)?.code !== 'NoSuchBucket') return undefined;
        throw explained(error);
      }
    },
  };
};
