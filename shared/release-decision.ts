/**
 * The release decision, pure: what CityVisual has under a name (and what we know of how it got there) plus the
 * upload in hand → create, update, unchanged, resume an interrupted run, or a conflict with its reason.
 * Every row of the releases table (README "Releases") is one branch here, tested row by row.
 */
import semverCompare from 'semver/functions/compare.js';
import type { AlgoLib } from './cityvisual.ts';
import type { LibraryRecord } from './library-record.ts';

export type VersionPolicy = 'upgrade' | 'create-only';

/** The verified upload that wants the name. */
export type Candidate = {
  name: string;
  version: string;
  bucket: string;
  packageKey: string;
  /** SHA-256 of the manifest's content (which pins the package's size and checksum, already verified). */
  manifestSha256: string;
};

/** What is known of the name, read under its claim. */
export type NameState = {
  /** DescribeAlgoLibs' answer: the truth. */
  library: AlgoLib | undefined;
  /** Our record of the name, if this pipeline wrote one. */
  record: LibraryRecord | undefined;
  /** The manifest digest of the upload that made the library's current version, when we know it. */
  currentManifestSha256: string | undefined;
  /**
   * An answer (our record, or a REGISTERED status at the library's path) names the upload that made the current
   * version, even when it carries no digest (statuses written by 0.1.0).
   */
  currentAnswered: boolean;
  /** This upload was tried before (an earlier holder, or this run's own CityVisual call) without a final answer. */
  interrupted: boolean;
  /** CityVisual's library lists exactly the fields this candidate's manifest gives (see `sameFields`). */
  sameFields: boolean;
};

export type ConflictCode = 'NAME_CONFLICT' | 'VERSION_EXISTS' | 'VERSION_DOWNGRADE' | 'VERSION_POLICY';

export type Decision =
  | { action: 'create' }
  | { action: 'update'; algoLibId: string; previous: { version: string; packageKey: string } }
  | { action: 'unchanged'; algoLibId: string }
  /** Our interrupted run already changed CityVisual to this upload: finish its answer, call nothing. */
  | {
      action: 'resumed';
      algoLibId: string;
      change: 'created' | 'updated';
      previous?: { version: string; packageKey: string };
    }
  | { action: 'conflict'; code: ConflictCode; message: string };

/**
 * The folder a key lives in (`library/face/face-1.2.0.tar.gz` → `library/face/`): the unit of ownership.
 *
 * @example
 * ```ts
 * folderOf('library/face/face-1.2.0.tar.gz'); // 'library/face/'
 * ```
 */
export const folderOf = (key: string): string => key.slice(0, key.lastIndexOf('/') + 1);

/** The one ownership rule: the library lives in the candidate's bucket and folder, and is the one we created. */
export const ownedBy = (library: AlgoLib, record: LibraryRecord | undefined, candidate: Candidate): boolean =>
  library.location.bucket === candidate.bucket &&
  folderOf(library.location.path) === folderOf(candidate.packageKey) &&
  (record?.algoLibId === undefined || record.algoLibId === library.algoLibId);

/** What the record says the library was before this upload, for `previous` of an interrupted update. */
const recordedPrevious = (record: LibraryRecord | undefined, candidate: Candidate) => {
  if (record?.version !== undefined && record.package !== undefined && record.version !== candidate.version)
    return { version: record.version, packageKey: record.package.key };
  // A record already brought up to CityVisual (see register.ts) keeps what came before in its history.
  const before = record?.history.findLast(
    (upload) => upload.state === 'REGISTERED' && upload.version !== candidate.version,
  );
  return before ? { version: before.version, packageKey: before.packageKey } : undefined;
};

/**
 * Decides what to do with `candidate` given what is known of its name.
 *
 * @example
 * ```ts
 * decideRelease({ library: undefined, record: undefined, currentManifestSha256: undefined, currentAnswered: false, interrupted: false, sameFields: false }, candidate, 'upgrade');
 * // { action: 'create' }
 * ```
 */
export const decideRelease = (state: NameState, candidate: Candidate, policy: VersionPolicy): Decision => {
  const { library, record } = state;
  const subject = `${candidate.name}@${candidate.version}`;
  if (!library) return { action: 'create' };
  if (!ownedBy(library, record, candidate)) {
    return {
      action: 'conflict',
      code: 'NAME_CONFLICT',
      message: `Expected the name \`${candidate.name}\` to be free or ours, it is library ${library.algoLibId} (version ${library.version}) from ${library.location.bucket}/${library.location.path}; only ${library.location.bucket}/${folderOf(library.location.path)} may publish it`,
    };
  }
  const current = `${library.location.bucket}/${library.location.path}`;
  if (library.version === candidate.version || semverCompare(candidate.version, library.version) === 0) {
    const samePath = library.version === candidate.version && library.location.path === candidate.packageKey;
    if (samePath && state.currentManifestSha256 === candidate.manifestSha256)
      return { action: 'unchanged', algoLibId: library.algoLibId };
    // What made the current version is unknown (no record, no answer): only our own interrupted run can have put
    // this very version at this very path since. The evidence is that this upload was tried before, or, when every
    // trace of that run was lost, CityVisual listing exactly this release's fields at this path (whose package the
    // manifest pins and which was just verified). Either way no one has been told yet: the answer is the run's own
    // (created or updated, notified), never `unchanged`, which is for a release already answered (soak seed 1211: a
    // first release answered `unchanged` sent no webhook at all).
    const unknown = state.currentManifestSha256 === undefined;
    if (samePath && unknown && (state.interrupted || (state.sameFields && !state.currentAnswered))) {
      const previous = recordedPrevious(record, candidate);
      return {
        action: 'resumed',
        algoLibId: library.algoLibId,
        change: record?.algoLibId === undefined ? 'created' : 'updated',
        ...(previous ? { previous } : {}),
      };
    }
    // Answered before by a status without a digest (0.1.0): CityVisual listing exactly these fields is this release.
    if (samePath && unknown && state.sameFields) return { action: 'unchanged', algoLibId: library.algoLibId };
    return {
      action: 'conflict',
      code: 'VERSION_EXISTS',
      message: `${subject} is already registered from ${current}; publish a new version`,
    };
  }
  if (policy === 'create-only') {
    return {
      action: 'conflict',
      code: 'VERSION_POLICY',
      message: `${candidate.name} is already registered at ${library.version} and VERSION_POLICY is create-only: a new version is not registered`,
    };
  }
  if (semverCompare(candidate.version, library.version) < 0) {
    return {
      action: 'conflict',
      code: 'VERSION_DOWNGRADE',
      message: `${subject} is older than the registered ${library.version} (${current}); a rollback is a new version`,
    };
  }
  return {
    action: 'update',
    algoLibId: library.algoLibId,
    previous: { version: library.version, packageKey: library.location.path },
  };
};
