/**
 * The few OSS calls the CLI makes, over `ali-oss`: upload a file (multipart above a threshold, with progress), put a
 * small object, HEAD an object, read a JSON object. Every SDK error a person can act on becomes a one-line
 * `CliError` (wrong credentials, unreachable endpoint, missing bucket).
 */
import { readFile } from 'node:fs/promises';
import type OSS from 'ali-oss';
import { RemoteError } from '../shared/errors.ts';
import { type ObjectInfo, objectInfoOf } from '../shared/object-store.ts';
import { toOssError } from '../shared/oss-errors.ts';
import { deadlineAt, withRetry } from '../shared/retry.ts';
import { explainRemoteError } from './errors.ts';
import type { OssSettings, Target } from './target.ts';

export type UploadOptions = {
  size: number;
  /** Files larger than this go up in parts. */
  multipartThreshold: number;
  partSize: number;
  /** Told the bytes uploaded so far (per finished part for multipart uploads). */
  onProgress(done: number): void;
  /**
   * Cancels the upload (Ctrl-C): a multipart upload stops sending parts and is aborted, so no parts stay billed;
   * `uploadFile` then rejects with `UploadCancelled`.
   */
  signal?: AbortSignal;
};

/** The upload was cancelled through its signal; `aborted` names the multipart upload that was aborted, if any. */
export class UploadCancelled extends Error {
  public readonly aborted: string | undefined;
  public constructor(aborted: string | undefined) {
    super(aborted ? `Cancelled; aborted multipart upload ${aborted}` : 'Cancelled');
    this.name = 'UploadCancelled';
    this.aborted = aborted;
  }
}

export type HeadResult = ObjectInfo;

export type Bucket = {
  name: string;
  uploadFile(key: string, file: string, options: UploadOptions): Promise<void>;
  /** Uploads `bytes`; returns the object's ETag (unquoted, as status documents record it). */
  put(key: string, bytes: Uint8Array, mime: string): Promise<string>;
  head(key: string): Promise<HeadResult | undefined>;
  /** The object parsed as JSON, or `undefined` when it does not exist. */
  readJson<T>(key: string): Promise<T | undefined>;
  /** Every key under `prefix`, in key order. */
  list(prefix: string): Promise<string[]>;
};

// 1000 keys a page (the most OSS returns) × 1000 pages: far beyond any registry, and the loop stays bounded.
const LIST_PAGE = 1000;
const MAX_LIST_PAGES = 1000;

type SdkError = { status?: number; code?: string };

const header = (headers: unknown, name: string): string | undefined => {
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
};

const unquote = (etag: string | undefined): string => (etag ?? '').replace(/^"|"$/g, '');

/** A release job should not fail on one 503 or reset: transient errors are retried for up to a minute. */
const RETRY = { policy: { baseMs: 500, maxDelayMs: 8_000, maxAttempts: 6 }, budgetMs: 60_000 };

// A wrong endpoint or host name is a typo, not a blip: say so at once instead of retrying it.
const isUnreachable = (error: unknown): boolean =>
  /ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(String((error as Error)?.message));

/** Runs `run`, retrying what `toOssError` calls transient; anything else (or the last failure) is thrown as ali-oss threw it. */
const retryTransient = async <T>(
  operation: string,
  run: () => Promise<T>,
  stopped: () => boolean = () => false,
): Promise<T> => {
  try {
    return await withRetry(
      async () => {
        try {
          return await run();
        } catch (error) {
          const remote = toOssError(error, operation, '');
          throw remote.retryable && !isUnreachable(error) && !stopped() ? remote : error;
        }
      },
      { policy: RETRY.policy, deadline: deadlineAt(Date.now() + RETRY.budgetMs) },
    );
  } catch (error) {
    throw error instanceof RemoteError ? error.cause : error;
  }
};

/** Rejects with `UploadCancelled` once `signal` aborts. */
const cancelled = (signal: AbortSignal): Promise<never> =>
  new Promise((_resolve, reject) => {
    const fail = () => reject(new UploadCancelled(undefined));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });

// A HEAD or GET of a missing key; a missing bucket (NoSuchBucket) is a 404 too and must stay an error.
const isMissingKey = (error: unknown): boolean =>
  (error as SdkError)?.status === 404 && (error as SdkError)?.code !== 'NoSuchBucket';

/** An ali-oss client for the target's bucket, signing V4 as the function does; `timeoutMs` per request. */
export const ossClientOf = async (oss: OssSettings, timeoutMs: number): Promise<OSS> => {
  // Loaded on demand: ali-oss is most of the CLI's start-up time, and `validate` never needs it.
  const { default: OSSClient } = await import('ali-oss');
  return new OSSClient({
    endpoint: oss.endpoint,
    region: oss.region,
    bucket: oss.bucket,
    accessKeyId: oss.accessKeyId,
    accessKeySecret: oss.accessKeySecret,
    ...(oss.securityToken ? { stsToken: oss.securityToken } : {}),
    authorizationV4: true,
    timeout: timeoutMs,
  });
};

/**
 * A `Bucket` over the target's OSS endpoint and credentials (V4 signatures, as the function signs).
 *
 * @example
 * ```ts
 * const bucket = await openBucket(target);
 * await bucket.uploadFile('library/face/face-1.2.0.tar.gz', file, { size, multipartThreshold: 8 << 20, partSize: 8 << 20, onProgress });
 * ```
 */
export const openBucket = async (target: Target): Promise<Bucket> => {
  const { oss } = target;
  const client = await ossClientOf(oss, 120_000);

  const call = async <T>(run: () => Promise<T>, stopped?: () => boolean): Promise<T> => {
    try {
      return await retryTransient('request', run, stopped);
    } catch (error) {
      throw explainRemoteError(error, target.context('OSS')) ?? error;
    }
  };

  return {
    name: oss.bucket,
    uploadFile: async (key, file, options) => {
      const { signal } = options;
      if (signal?.aborted) throw new UploadCancelled(undefined);
      if (options.size <= options.multipartThreshold) {
        // A Buffer, not the path: from a file stream, urllib reports a refused connection twice and prints a stack.
        const upload = call(async () => {
          await client.put(key, await readFile(file));
        });
        // A single PUT cannot be aborted midway; the caller exits at once, which drops the unfinished request
        // (OSS stores nothing from a PUT whose body never completed).
        await (signal ? Promise.race([upload, cancelled(signal)]) : upload);
        options.onProgress(options.size);
        return;
      }
      let uploadId: string | undefined;
      const onAbort = () => client.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await call(
          () =>
            client.multipartUpload(key, file, {
              partSize: options.partSize,
              // ali-oss reports the fraction of parts done (the initiate and complete count as steps too), and the
              // upload id from the first call on, right after InitiateMultipartUpload.
              progress: (fraction: number, checkpoint?: { uploadId?: string }) => {
                uploadId = checkpoint?.uploadId ?? uploadId;
                options.onProgress(Math.floor(fraction * options.size));
              },
            }),
          () => signal?.aborted === true,
        );
      } catch (error) {
        if (!signal?.aborted) throw error;
        // The parts in flight were stopped by cancel(); aborting now leaves none behind.
        if (uploadId !== undefined) await call(() => client.abortMultipartUpload(key, uploadId as string));
        throw new UploadCancelled(uploadId);
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
      options.onProgress(options.size);
    },
    put: (key, bytes, mime) =>
      call(async () => {
        const { res } = await client.put(key, Buffer.from(bytes), { mime });
        return unquote(header(res.headers, 'etag'));
      }),
    head: (key) =>
      call(async () => {
        try {
          const { res } = await client.head(key);
          return objectInfoOf(res.headers);
        } catch (error) {
          if (isMissingKey(error)) return undefined;
          throw error;
        }
      }),
    readJson: <T>(key: string) =>
      call(async () => {
        let content: unknown;
        try {
          ({ content } = await client.get(key));
        } catch (error) {
          if (isMissingKey(error)) return undefined;
          throw error;
        }
        return JSON.parse(Buffer.from(content as Buffer).toString('utf8')) as T;
      }),
    list: async (prefix) => {
      const keys: string[] = [];
      let marker: string | undefined;
      for (let page = 0; page < MAX_LIST_PAGES; page += 1) {
        const result = await call(() =>
          client.list({ prefix, 'max-keys': LIST_PAGE, ...(marker === undefined ? {} : { marker }) }, {}),
        );
        keys.push(...(result.objects ?? []).map((object) => object.name));
        if (!result.isTruncated || !result.nextMarker) return keys;
        marker = result.nextMarker;
      }
      return keys;
    },
  };
};
