/** Packages, manifests and OSS event records for the bench, and a publisher that uploads them in parallel. */
import { createHash, randomBytes } from 'node:crypto';
import OSS from 'ali-oss';
import type { LocalCloudState } from '../local/cloud.ts';
import { SAMPLE_OBJECTS } from '../samples/manifest-objects.ts';
import { crc64 } from '../shared/crc64.ts';
import { statusKeyOf } from '../shared/keys.ts';
import type { Uploaded } from './events.ts';

export type { Uploaded } from './events.ts';

export type Pair = {
  name: string;
  packageKey: string;
  manifestKey: string;
  statusKey: string;
  packageBytes: Buffer;
  manifestBytes: Buffer;
};

export type PairOptions = {
  packageBytes?: number;
  /** Which digests the manifest carries (default: CRC-64 only, what the CLI writes). */
  digests?: Array<'crc64' | 'sha256'>;
  /** The release's version (default 1.0.0). */
  version?: string;
};

/** A valid manifest: the shape of test/fakes' `validManifest`, with the shared sample objects. */
const manifestOf = (name: string, packageBytes: Buffer, digests: Array<'crc64' | 'sha256'>, version: string) => ({
  schemaVersion: 1,
  name,
  version,
  capabilities: ['FACE', 'PERSON'],
  capacity: 30,
  objects: SAMPLE_OBJECTS,
  package: {
    size: packageBytes.length,
    ...(digests.includes('crc64') ? { crc64: crc64(packageBytes) } : {}),
    ...(digests.includes('sha256') ? { sha256: createHash('sha256').update(packageBytes).digest('hex') } : {}),
  },
});

const run = randomBytes(3).toString('hex');

/** A fresh pair whose library name is unique to this bench run (`b<run>-<label>-<index>`). */
export const newPair = (label: string, index: number, options: PairOptions = {}): Pair => {
  const name = `b${run}-${label}-${index}`;
  const packageBytes = randomBytes(options.packageBytes ?? 4096);
  const version = options.version ?? '1.0.0';
  const packageKey = `library/${label}/${name}-${version}.tar.gz`;
  return {
    name,
    packageKey,
    manifestKey: packageKey.replace(/\.tar\.gz$/, '.manifest.json'),
    statusKey: statusKeyOf(packageKey, 'status/'),
    packageBytes,
    manifestBytes: Buffer.from(JSON.stringify(manifestOf(name, packageBytes, options.digests ?? ['crc64'], version))),
  };
};

/** Runs `work` over `items` with at most `concurrency` at a time; results in input order. */
export const inPool = async <T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> => {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
};

export type Publisher = {
  put(key: string, bytes: Buffer): Promise<Uploaded>;
  getJson<T>(key: string): Promise<T | undefined>;
};

/** The publisher's ali-oss client on the local cloud (the state file's key). */
export const createPublisher = (state: LocalCloudState): Publisher => {
  const { endpoint, region, bucket, accessKeyId, accessKeySecret } = state.oss;
  const client = new OSS({ endpoint, region, bucket, accessKeyId, accessKeySecret, authorizationV4: true });
  return {
    async put(key, bytes) {
      const { res } = await client.put(key, bytes);
      const etag = String((res.headers as Record<string, string>).etag ?? '').replace(/"/g, '');
      return { key, size: bytes.length, etag };
    },
    async getJson<T>(key: string) {
      try {
        const { content } = await client.get(key);
        return JSON.parse((content as Buffer).toString('utf8')) as T;
      } catch (error) {
        if ((error as { status?: number }).status === 404) return undefined;
        throw error;
      }
    },
  };
};
