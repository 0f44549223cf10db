/**
 * The persistent object store under `dataDir`:
 *
 *     buckets/<bucket>/meta/<sha256(key)>.json   one JSON document per object (key, ETag, CRC-64, headers, blob name)
 *     buckets/<bucket>/blobs/<uuid>              object bodies and multipart parts
 *     buckets/<bucket>/versioning.json           {"status":"Enabled"|"Suspended"} once versioning was ever enabled
 *
 * A blob is written first under a fresh name nobody refers to; the object appears only when its metadata file is
 * renamed into place, so a crash leaves either the old object or the new one. Blobs no metadata refers to (a crash
 * mid-write, parts of multipart uploads that were in progress) are deleted at start-up.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, readdir, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';

const storedObjectSchema = z.object({
  key: z.string(),
  blob: z.string(),
  size: z.number().int().nonnegative(),
  /** Upper-case hex without quotes: the MD5 for simple uploads, `<md5 of part md5s>-<parts>` for multipart ones. */
  etag: z.string(),
  /** CRC-64/ECMA-182 of the whole object, decimal; absent for copies made without one (as OSS may). */
  crc64: z.string().optional(),
  /** `x-oss-version-id` of a write to a versioned bucket (`null` while versioning is suspended). */
  versionId: z.string().optional(),
  type: z.enum(['Normal', 'Multipart']),
  /** Content-Type and the other standard headers OSS stores with an object (lower-case names). */
  headers: z.record(z.string(), z.string()),
  /** `x-oss-meta-*` headers, lower-case names with the prefix. */
  userMeta: z.record(z.string(), z.string()),
  /** Milliseconds since the epoch, whole seconds like OSS's Last-Modified. */
  lastModified: z.number().int(),
});

export type StoredObject = z.infer<typeof storedObjectSchema>;

export type VersioningStatus = 'Enabled' | 'Suspended';

export type CommitResult = { committed: true; previous: StoredObject | undefined } | { committed: false };

export type DiskStore = {
  get(bucket: string, key: string): StoredObject | undefined;
  /** Every object of the bucket, sorted by key in UTF-8 byte order as OSS lists them. */
  list(bucket: string): StoredObject[];
  /**
   * Opens the object's blob synchronously, so that the descriptor refers to the object as it is now even if a
   * concurrent overwrite or delete removes the blob a moment later. The caller owns (and must close) the descriptor.
   */
  open(bucket: string, key: string): { object: StoredObject; fd: number } | undefined;
  /** Writes a blob nobody refers to yet and returns its name. */
  writeBlob(bucket: string, source: Uint8Array | AsyncIterable<Uint8Array>): Promise<string>;
  readBlob(bucket: string, blob: string): Readable;
  discardBlob(bucket: string, blob: string): Promise<void>;
  /**
   * Makes `object` (whose blob is already written) the current version of its key. Synchronous on purpose: the
   * if-absent check, the rename and the index update cannot interleave with another request's commit.
   */
  commit(bucket: string, object: StoredObject, options: { ifAbsent: boolean }): CommitResult;
  /** Removes the key; returns whether it existed. */
  delete(bucket: string, key: string): boolean;
  /** The bucket's versioning state; `undefined` when it was never enabled. */
  versioning(bucket: string): VersioningStatus | undefined;
  setVersioning(bucket: string, status: VersioningStatus): void;
};

export const openDiskStore = async (dataDir: string, buckets: string[]): Promise<DiskStore> => {
  const index = new Map<string, Map<string, StoredObject>>();
  const versioning = new Map<string, VersioningStatus>();
  for (const bucket of buckets) {
    index.set(bucket, await loadBucket(dataDir, bucket));
    const status = loadVersioning(dataDir, bucket);
    if (status !== undefined) versioning.set(bucket, status);
  }

  const bucketIndex = (bucket: string) => {
    const objects = index.get(bucket);
    if (objects === undefined)
      throw new Error(`Expected one of the emulated buckets (${buckets.join(', ')}), got "${bucket}"`);
    return objects;
  };
  const blobPath = (bucket: string, blob: string) => join(bucketDir(dataDir, bucket), 'blobs', blob);
  const metaPath = (bucket: string, key: string) => join(bucketDir(dataDir, bucket), 'meta', `${sha256(key)}.json`);
  const discardBlob = (bucket: string, blob: string) => unlink(blobPath(bucket, blob)).catch(() => undefined);

  return {
    get: (bucket, key) => bucketIndex(bucket).get(key),
    list: (bucket) =>
      [...bucketIndex(bucket).values()]
        .map((object) => ({ object, bytes: Buffer.from(object.key, 'utf8') }))
        .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
        .map(({ object }) => object),
    open(bucket, key) {
      const object = bucketIndex(bucket).get(key);
      return object && { object, fd: openSync(blobPath(bucket, object.blob), 'r') };
    },
    async writeBlob(bucket, source) {
      const blob = randomUUID();
      // A body already in memory (every PutObject and UploadPart) is one write, not a stream's open/write/close
      // round trips through the thread pool: the emulator's main thread is the local cloud's bottleneck in a burst.
      if (source instanceof Uint8Array) writeFileSync(blobPath(bucket, blob), source);
      else await pipeline(source, createWriteStream(blobPath(bucket, blob)));
      return blob;
    },
    readBlob: (bucket, blob) => createReadStream(blobPath(bucket, blob)),
    discardBlob,
    commit(bucket, object, { ifAbsent }) {
      const objects = bucketIndex(bucket);
      const previous = objects.get(object.key);
      if (ifAbsent && previous !== undefined) return { committed: false };
      const path = metaPath(bucket, object.key);
      writeFileSync(`${path}.tmp`, JSON.stringify(object));
      renameSync(`${path}.tmp`, path);
      objects.set(object.key, object);
      if (previous !== undefined) void discardBlob(bucket, previous.blob);
      return { committed: true, previous };
    },
    delete(bucket, key) {
      const objects = bucketIndex(bucket);
      const previous = objects.get(key);
      if (previous === undefined) return false;
      unlinkSync(metaPath(bucket, key));
      objects.delete(key);
      void discardBlob(bucket, previous.blob);
      return true;
    },
    versioning: (bucket) => {
      bucketIndex(bucket);
      return versioning.get(bucket);
    },
    setVersioning(bucket, status) {
      bucketIndex(bucket);
      const path = versioningPath(dataDir, bucket);
      writeFileSync(`${path}.tmp`, JSON.stringify({ status }));
      renameSync(`${path}.tmp`, path);
      versioning.set(bucket, status);
    },
  };
};

const versioningPath = (dataDir: string, bucket: string) => join(bucketDir(dataDir, bucket), 'versioning.json');

const loadVersioning = (dataDir: string, bucket: string): VersioningStatus | undefined => {
  const path = versioningPath(dataDir, bucket);
  if (!existsSync(path)) return undefined;
  const parsed = z
    .object({ status: z.enum(['Enabled', 'Suspended']) })
    .safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success)
    throw new Error(`Expected {"status":"Enabled"|"Suspended"} in ${path}, got: ${parsed.error.message}`);
  return parsed.data.status;
};

const bucketDir = (dataDir: string, bucket: string) => join(dataDir, 'buckets', bucket);

/** Reads a bucket's metadata and deletes leftovers: unfinished metadata writes and blobs nothing refers to. */
const loadBucket = async (dataDir: string, bucket: string) => {
  const metaDir = join(bucketDir(dataDir, bucket), 'meta');
  const blobDir = join(bucketDir(dataDir, bucket), 'blobs');
  await mkdir(metaDir, { recursive: true });
  await mkdir(blobDir, { recursive: true });
  const objects = new Map<string, StoredObject>();
  for (const file of await readdir(metaDir)) {
    const path = join(metaDir, file);
    if (!file.endsWith('.json')) {
      await rm(path, { force: true });
      continue;
    }
    const parsed = storedObjectSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    if (!parsed.success) throw new Error(`Expected OSS emulator metadata in ${path}, got: ${parsed.error.message}`);
    objects.set(parsed.data.key, parsed.data);
  }
  const referenced = new Set([...objects.values()].map((object) => object.blob));
  for (const blob of await readdir(blobDir)) {
    if (!referenced.has(blob)) await rm(join(blobDir, blob), { force: true });
  }
  return objects;
};

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

/** OSS orders keys by their UTF-8 bytes, which differs from JavaScript's UTF-16 order above U+FFFF. */
export const compareKeys = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
