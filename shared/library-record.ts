/**
 * The library record: one object per library name (`<STATUS_PREFIX>.libraries/<name>.json`), written only by the
 * invocation that holds the name's claim, after every upload of that name that reached a decision. It is what
 * `algolib list`, `algolib status name@version` and the console read; CityVisual stays the truth for what the
 * library is (the record is never consulted to decide whether a library exists, only who created it).
 */
import type { RegistrationState, StatusDocument } from './status.ts';

/** One upload of this name that reached a terminal answer, newest last. */
export type LibraryUpload = {
  version: string;
  packageKey: string;
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
  /** Who owns the name: the bucket and folder (`<prefix><dir>/`) of the package that created it. */
  owner?: { bucket: string; folder: string };
  /** The newest upload's answer, whatever it was. */
  latest: LibraryUpload;
  /** Every upload's answer, oldest first, capped at `LIBRARY_HISTORY_MAX` (the oldest dropped). */
  history: LibraryUpload[];
  updatedAt: string;
};

export const LIBRARY_HISTORY_MAX = 200;

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
