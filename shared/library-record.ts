/**
 * The library record: one object per library name (`<STATUS_PREFIX>.libraries/<name>.json`), written only by the
 * invocation that holds the name's claim, after every upload of that name that reached a decision. It is what
 * `algolib list`, `algolib status name@version` and the console read; CityVisual stays the truth for what the
 * library is (the record is never consulted to decide whether a library exists, only who created it).
 */
import semverCompare from 'semver/functions/compare.js';
import type { RegistrationState, StatusDocument } from './status.ts';

/** One upload of this name that reached a terminal answer, newest last. */
export type LibraryUpload = {
  version: string;
  packageKey: string;
  /** Which upload of the key this was (an answer is for one pair of ETags). */
  packageEtag?: string;
  manifestEtag?: string;
  statusKey: string;
  state: RegistrationState;
  change?: StatusDocument['change'];
  /** Error codes of a CONFLICT / REJECTED / FAILED answer. */
  codes?: string[];
  at: string;
};

export type LibraryRecord = {
  schemaVersion: 1;
  name: string;
  /** CityVisual's id of the library, once it exists. */
  algoLibId?: string;
  /** The version CityVisual has now (set when a create or update succeeded). */
  version?: string;
  /** The package of the current version. */
  package?: { bucket: string; key: string };
  /** SHA-256 of the manifest content of the current version (tells a re-upload of the same content). */
  manifestSha256?: string;
  /** Who owns the name: the bucket and folder (`<prefix><dir>/`) of the package that created it. */
  owner?: { bucket: string; folder: string };
  /** The newest upload's answer, whatever it was. */
  latest: LibraryUpload;
  /** Every upload's answer, oldest first, capped at `LIBRARY_HISTORY_MAX` (the oldest dropped). */
  history: LibraryUpload[];
  /**
   * Uploads whose claim holder died before answering (seen by a later holder): a redelivery of one of them may find
   * its own CityVisual call landed, and must resume it rather than call it a conflict. Capped; removed once answered.
   */
  unfinished?: Array<{ packageKey: string; packageEtag: string; manifestEtag: string }>;
  /** The claim generation of the invocation that wrote this record (where the next claim starts looking). */
  generation: number;
  updatedAt: string;
};

export const LIBRARY_HISTORY_MAX = 200;
const UNFINISHED_MAX = 50;

const sameEntry = (
  a: { packageKey: string; packageEtag: string; manifestEtag: string },
  b: { packageKey: string; packageEtag: string; manifestEtag: string },
) => a.packageKey === b.packageKey && a.packageEtag === b.packageEtag && a.manifestEtag === b.manifestEtag;

/**
 * The folder of library records.
 *
 * @example
 * ```ts
 * librariesPrefixOf('status/'); // 'status/.libraries/'
 * ```
 */
export const librariesPrefixOf = (statusPrefix: string): string => `${statusPrefix}.libraries/`;

/**
 * The record of library `name`.
 *
 * @example
 * ```ts
 * libraryRecordKeyOf('face', 'status/'); // 'status/.libraries/face.json'
 * ```
 */
export const libraryRecordKeyOf = (name: string, statusPrefix: string): string =>
  `${librariesPrefixOf(statusPrefix)}${name}.json`;

/** `a` precedes `b` in semver order; versions that are not semver (never written by the pipeline) never do. */
const isOlder = (a: string, b: string): boolean => {
  try {
    return semverCompare(a, b) < 0;
  } catch {
    return false;
  }
};

/**
 * The record after an upload's answer: `status` (terminal) is appended to the history; a REGISTERED answer moves the
 * current version, package and owner, unless the record names a later version of the same library.
 *
 * @example
 * ```ts
 * const next = nextLibraryRecord(record, status, { name: 'face', statusKey, generation: 3 });
 * ```
 */
export const nextLibraryRecord = (
  record: LibraryRecord | undefined,
  status: StatusDocument,
  facts: {
    name: string;
    statusKey: string;
    generation: number;
    /** Uploads abandoned by dead holders, seen while claiming. */
    abandoned?: ReadonlyArray<{ key: string; etag: string; manifestEtag: string }>;
  },
): LibraryRecord => {
  const upload: LibraryUpload = {
    version: status.version ?? '',
    packageKey: status.package.key,
    ...(status.package.etag ? { packageEtag: status.package.etag } : {}),
    ...(status.manifest.etag ? { manifestEtag: status.manifest.etag } : {}),
    statusKey: facts.statusKey,
    state: status.state,
    ...(status.change ? { change: status.change } : {}),
    ...(status.errors.length > 0 ? { codes: status.errors.map((error) => error.code) } : {}),
    at: status.updatedAt,
  };
  // A REGISTERED answer moves the current version, unless the record already names a later version of the same
  // library: the answer of an older release replayed late (its holder answered, then died before the record write,
  // and a newer release was registered since) is history, not the library's state (soak seed 1207 on a stale runner:
  // records left at 1.1.0 under a CityVisual library at 2.0.0).
  const older =
    record?.version !== undefined &&
    record.algoLibId === status.algoLibId &&
    status.version !== undefined &&
    isOlder(status.version, record.version);
  const registered = status.state === 'REGISTERED' && status.algoLibId !== undefined && !older;
  const answered = (entry: { packageKey: string; packageEtag: string; manifestEtag: string }) =>
    entry.packageKey === status.package.key &&
    entry.packageEtag === status.package.etag &&
    entry.manifestEtag === status.manifest.etag;
  const unfinished = [
    ...(record?.unfinished ?? []),
    ...(facts.abandoned ?? []).map((upload) => ({
      packageKey: upload.key,
      packageEtag: upload.etag,
      manifestEtag: upload.manifestEtag,
    })),
  ]
    .filter((entry, index, all) => !answered(entry) && all.findIndex((other) => sameEntry(other, entry)) === index)
    .slice(-UNFINISHED_MAX);
  const folder = status.package.key.slice(0, status.package.key.lastIndexOf('/') + 1);
  return {
    schemaVersion: 1,
    name: facts.name,
    ...(record?.algoLibId ? { algoLibId: record.algoLibId } : {}),
    ...(record?.version ? { version: record.version } : {}),
    ...(record?.package ? { package: record.package } : {}),
    ...(record?.manifestSha256 ? { manifestSha256: record.manifestSha256 } : {}),
    ...(record?.owner ? { owner: record.owner } : {}),
    ...(registered
      ? {
          algoLibId: status.algoLibId,
          version: status.version,
          package: { bucket: status.package.bucket, key: status.package.key },
          ...(status.manifest.sha256 ? { manifestSha256: status.manifest.sha256 } : {}),
          owner: record?.owner ?? { bucket: status.package.bucket, folder },
        }
      : {}),
    latest: upload,
    history: [...(record?.history ?? []), upload].slice(-LIBRARY_HISTORY_MAX),
    ...(unfinished.length > 0 ? { unfinished } : {}),
    generation: facts.generation,
    updatedAt: status.updatedAt,
  };
};
