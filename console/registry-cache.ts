/**
 * Keeps the console's copy of the registry fresh without re-reading it: a refresh lists the status prefix and reads
 * only objects whose ETag changed. Refreshes are coalesced (one at a time) and rate-limited (`minIntervalMs`), so
 * any number of open pages polling costs at most one LIST per interval. `version` changes exactly when what the
 * console shows could, and is the ETag pages poll with.
 */
import { createHash } from 'node:crypto';
import { claimsPrefixOf } from '../shared/keys.ts';
import { type LibraryRecord, librariesPrefixOf } from '../shared/library-record.ts';
import type { StatusDocument } from '../shared/status.ts';
import type { RegistryObjects } from './registry.ts';
import type { ConsoleStore } from './store.ts';

export type RegistryCache = {
  /** The objects as of the last refresh, refreshing first when the last one is older than `minIntervalMs`. */
  current(): Promise<{ objects: RegistryObjects; version: string; truncated: boolean }>;
};

/** Status documents and records are small; a bigger object is not one the pipeline wrote. */
const MAX_OBJECT_BYTES = 256 * 1024;
const READ_CONCURRENCY = 8;

type Entry<T> = { etag: string; value: T | undefined };

const parse = <T>(text: string | undefined): T | undefined => {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
};

const isStatusDocument = (value: unknown): value is StatusDocument =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as StatusDocument).state === 'string' &&
  typeof (value as StatusDocument).package?.key === 'string';

const isLibraryRecord = (value: unknown): value is LibraryRecord =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as LibraryRecord).name === 'string' &&
  Array.isArray((value as LibraryRecord).history);

/** Runs `work` over `items`, `limit` at a time. */
const eachLimited = async <T>(items: T[], limit: number, work: (item: T) => Promise<void>) => {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
};

/**
 * @example
 * ```ts
 * const cache = createRegistryCache(store, { statusPrefix: 'status/', minIntervalMs: 1000, maxObjects: 10_000 });
 * const { objects, version } = await cache.current();
 * ```
 */
export const createRegistryCache = (
  store: ConsoleStore,
  options: { statusPrefix: string; minIntervalMs: number; maxObjects: number; now?: () => number },
): RegistryCache => {
  const now = options.now ?? Date.now;
  const claims = claimsPrefixOf(options.statusPrefix);
  const libraries = librariesPrefixOf(options.statusPrefix);
  const entries = new Map<string, Entry<unknown>>();
  let snapshot = {
    objects: { statuses: new Map(), records: new Map() } as RegistryObjects,
    version: '',
    truncated: false,
  };
  let refreshedAt = Number.NEGATIVE_INFINITY;
  let running: Promise<void> | undefined;

  const refresh = async () => {
    const listed = await store.list(options.statusPrefix, options.maxObjects);
    const wanted = listed.filter(
      ({ key }) => key.endsWith('.json') && !key.startsWith(claims) && key.slice(options.statusPrefix.length) !== '',
    );
    const seen = new Set(wanted.map(({ key }) => key));
    for (const key of entries.keys()) if (!seen.has(key)) entries.delete(key);
    const changed = wanted.filter(({ key, etag }) => entries.get(key)?.etag !== etag);
    await eachLimited(changed, READ_CONCURRENCY, async ({ key, etag }) => {
      entries.set(key, { etag, value: parse(await store.getText(key, MAX_OBJECT_BYTES)) });
    });
    const statuses = new Map<string, StatusDocument>();
    const records = new Map<string, LibraryRecord>();
    for (const [key, { value }] of entries) {
      if (key.startsWith(libraries)) {
        if (isLibraryRecord(value)) records.set(value.name, value);
      } else if (isStatusDocument(value)) statuses.set(key, value);
    }
    const digest = createHash('sha256');
    for (const { key, etag } of wanted) digest.update(`${key}\0${etag}\n`);
    snapshot = {
      objects: { statuses, records },
      version: digest.digest('base64url').slice(0, 22),
      truncated: listed.length >= options.maxObjects,
    };
  };

  return {
    async current() {
      if (!running && now() - refreshedAt >= options.minIntervalMs) {
        running = refresh().finally(() => {
          refreshedAt = now();
          running = undefined;
        });
      }
      if (running) await running;
      return snapshot;
    },
  };
};
