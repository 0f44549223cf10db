/**
 * Reading the library records (`<STATUS_PREFIX>.libraries/<name>.json`, written by the function after every
 * decided upload of a name): one record, every record, and the status document of `name@version` through a
 * record's history. What `algolib list` and `algolib status name@version` print.
 */
import { type LibraryRecord, librariesPrefixOf, libraryRecordKeyOf } from '../shared/library-record.ts';
import type { StatusDocument } from '../shared/status.ts';
import type { Bucket } from './bucket.ts';
import { CliError } from './errors.ts';

/** One row of `algolib list --json`; fields the record does not have yet are `null`, so every row has one shape. */
export type LibraryRow = {
  name: string;
  version: string | null;
  algoLibId: string | null;
  packageKey: string | null;
  state: string;
  updatedAt: string;
};

/** The row a record makes: the current version (what CityVisual has), and the state of the newest upload. */
export const rowOf = (record: LibraryRecord): LibraryRow => ({
  name: record.name,
  version: record.version ?? null,
  algoLibId: record.algoLibId ?? null,
  packageKey: record.package?.key ?? null,
  state: record.latest.state,
  updatedAt: record.updatedAt,
});

// Records are small; a few at a time keeps a registry of hundreds quick without a burst of parallel GETs.
const READ_CONCURRENCY = 8;

/**
 * Every library record under the status prefix, by name; a record that does not parse is skipped and reported
 * through `onUnreadable`.
 *
 * @example
 * ```ts
 * const records = await readLibraries(bucket, 'status/', (key) => out.note(`skipped ${key}`));
 * ```
 */
export const readLibraries = async (
  bucket: Pick<Bucket, 'list' | 'readJson'>,
  statusPrefix: string,
  onUnreadable: (key: string) => void,
): Promise<LibraryRecord[]> => {
  const keys = (await bucket.list(librariesPrefixOf(statusPrefix))).filter((key) => key.endsWith('.json'));
  const records: LibraryRecord[] = [];
  for (let start = 0; start < keys.length; start += READ_CONCURRENCY) {
    const batch = keys.slice(start, start + READ_CONCURRENCY);
    const read = await Promise.all(
      batch.map(async (key) => {
        try {
          const record = await bucket.readJson<LibraryRecord>(key);
          if (record && typeof record.name === 'string' && record.latest) return record;
        } catch (error) {
          if (!(error instanceof SyntaxError)) throw error;
        }
        onUnreadable(key);
        return undefined;
      }),
    );
    records.push(...read.filter((record): record is LibraryRecord => record !== undefined));
  }
  return records.sort((a, b) => a.name.localeCompare(b.name));
};

// A library name as the manifest allows it, then `@` and a version (checked against the record, not here).
const NAME_AT_VERSION = /^([A-Za-z][A-Za-z0-9_-]{1,63})@([0-9A-Za-z.+-]+)$/;

/**
 * `face@1.2.0` → `{ name: 'face', version: '1.2.0' }`; anything else → `undefined`.
 *
 * @example
 * ```ts
 * nameAtVersionOf('face-detector@1.0.0'); // { name: 'face-detector', version: '1.0.0' }
 * ```
 */
export const nameAtVersionOf = (text: string): { name: string; version: string } | undefined => {
  const match = NAME_AT_VERSION.exec(text);
  return match ? { name: match[1] as string, version: match[2] as string } : undefined;
};

/** What `status name@version` found: the status document and its key. */
export type VersionStatus = { statusKey: string; document: StatusDocument };

/**
 * The status document of the newest upload of `name@version`, through the library record's history; a missing
 * record, version or status is a `CliError` with exit 1 (not found) that says which.
 *
 * @example
 * ```ts
 * const { statusKey, document } = await statusOfVersion(bucket, 'status/', 'face', '1.2.0');
 * ```
 */
export const statusOfVersion = async (
  bucket: Pick<Bucket, 'name' | 'readJson'>,
  statusPrefix: string,
  name: string,
  version: string,
): Promise<VersionStatus> => {
  const recordKey = libraryRecordKeyOf(name, statusPrefix);
  const record = await bucket.readJson<LibraryRecord>(recordKey);
  if (!record) {
    throw new CliError(
      `No library named ${name} at oss://${bucket.name}/${recordKey}: nothing of that name was registered here (check the name, --bucket and --status-prefix)`,
      { exitCode: 1 },
    );
  }
  const upload = [...(record.history ?? [])].reverse().find((entry) => entry.version === version);
  if (!upload) {
    const versions = [...new Set((record.history ?? []).map((entry) => entry.version))];
    throw new CliError(
      `No upload of ${name}@${version}: the versions uploaded are ${versions.length > 0 ? versions.join(', ') : 'none'}`,
      { exitCode: 1 },
    );
  }
  const document = await bucket.readJson<StatusDocument>(upload.statusKey);
  if (!document) {
    throw new CliError(
      `No status at oss://${bucket.name}/${upload.statusKey}, where the record of ${name}@${version} points (was it deleted?)`,
      { exitCode: 1 },
    );
  }
  return { statusKey: upload.statusKey, document };
};
