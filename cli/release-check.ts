/**
 * `publish`'s check before any byte is sent: the release decision the function would make, taken against the
 * library record the function keeps (`status/.libraries/<name>.json`). An older version, the same version with
 * other content, or another folder's name fails in seconds with the function's own message; the same version with
 * the same content is "already registered, unchanged". The function still decides for itself against CityVisual
 * (the record can be behind a library changed by hand): `--no-check` uploads without asking.
 */
import type { AlgoLib } from '../shared/cityvisual.ts';
import { type LibraryRecord, libraryRecordKeyOf } from '../shared/library-record.ts';
import type { Manifest } from '../shared/manifest.ts';
import { type Decision, decideRelease } from '../shared/release-decision.ts';
import type { StatusDocument } from '../shared/status.ts';
import { manifestDigest } from '../shared/verify-upload.ts';
import type { Bucket } from './bucket.ts';

export type ReleaseCheck =
  /** Nothing known against it: upload. */
  | { verdict: 'upload'; decision: Decision | undefined }
  | { verdict: 'unchanged'; algoLibId: string; status: StatusDocument | undefined }
  | { verdict: 'refused'; code: string; message: string };

/** The library as the record last saw it in CityVisual. */
const libraryOf = (record: LibraryRecord): AlgoLib | undefined =>
  record.algoLibId && record.version && record.package
    ? {
        algoLibId: record.algoLibId,
        name: record.name,
        version: record.version,
        location: { bucket: record.package.bucket, path: record.package.key },
      }
    : undefined;

/**
 * What the function would answer to `manifest` uploaded at `packageKey`, as far as the library record tells.
 *
 * @example
 * ```ts
 * const check = await checkRelease(bucket, 'status/', manifest, 'library/face/face-1.0.1.tar.gz');
 * if (check.verdict === 'refused') return fail(check.message);
 * ```
 */
export const checkRelease = async (
  bucket: Pick<Bucket, 'name' | 'readJson'>,
  statusPrefix: string,
  manifest: Manifest,
  packageKey: string,
): Promise<ReleaseCheck> => {
  const record = await bucket.readJson<LibraryRecord>(libraryRecordKeyOf(manifest.name, statusPrefix));
  const library = record?.name === manifest.name ? libraryOf(record) : undefined;
  if (!record || !library) return { verdict: 'upload', decision: undefined };
  const decision = decideRelease(
    {
      library,
      record,
      currentManifestSha256: record.manifestSha256,
      // As the function reads it: a record with a digest is an answer naming the current version.
      currentAnswered: record.manifestSha256 !== undefined,
      interrupted: false,
      // The record knows nothing of CityVisual's fields: only the digest it keeps can say "unchanged".
      sameFields: false,
    },
    {
      name: manifest.name,
      version: manifest.version,
      bucket: bucket.name,
      packageKey,
      manifestSha256: manifestDigest(manifest),
    },
    // The deployment's VERSION_POLICY is not known here: the function answers VERSION_POLICY itself.
    'upgrade',
  );
  if (decision.action === 'unchanged') {
    const statusKey = record.history.findLast((upload) => upload.packageKey === packageKey)?.statusKey;
    const status = statusKey ? await bucket.readJson<StatusDocument>(statusKey) : undefined;
    return { verdict: 'unchanged', algoLibId: decision.algoLibId, status };
  }
  if (decision.action === 'conflict') return { verdict: 'refused', code: decision.code, message: decision.message };
  return { verdict: 'upload', decision };
};
