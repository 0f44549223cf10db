/**
 * A function's code folder as the zip FC receives (`code: { zipFile: base64 }`), built so that the same files always
 * give the same bytes: entries sorted by path, one fixed modification time, fixed permissions and compression level.
 * Its checksum is what FC reports as `codeChecksum` on GetFunction (CRC-64/ECMA-182 of the zip, decimal), so a plan
 * can tell "code unchanged" without uploading anything.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { type Zippable, zipSync } from 'fflate';
import { crc64 } from '../shared/crc64.ts';
import { PipelineError } from '../shared/errors.ts';

export type CodeZip = {
  zip: Uint8Array;
  /** CRC-64/ECMA-182 of `zip` as a decimal string, FC's `codeChecksum`. */
  checksum: string;
  files: number;
};

/** FC 2.0's limit for code sent inline as `zipFile` (larger code goes through OSS, which deploy does not do). */
export const MAX_ZIP_BYTES = 50 * 1024 * 1024;

// DOS time has no zone: fflate writes the Date's local fields, so a local-time constructor gives the same bytes in
// every time zone (an absolute instant would not). 1980-01-01 is the earliest date a zip can hold.
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);
// Regular file, rw-r--r--, in the upper half of the external attributes, as Unix zip tools write it (os = 3).
const FILE_ATTRIBUTES = 0o100644 * 0x10000;

/** The code folder is not something FC can be given (missing, empty, too large). */
export class CodeZipError extends PipelineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CodeZipError';
  }
}

/**
 * Zips every regular file under `dir` deterministically.
 *
 * @example
 * ```ts
 * const { zip, checksum } = zipCode('dist/register');
 * checksum === zipCode('dist/register').checksum; // true while the files are the same
 * ```
 */
export const zipCode = (dir: string): CodeZip => {
  const paths = listFiles(dir);
  if (paths.length === 0) throw new CodeZipError(`Expected code files in ${dir}, got an empty folder (build first?)`);
  const entries: Zippable = {};
  for (const path of paths) {
    entries[path] = [readFileSync(join(dir, path)), { mtime: FIXED_MTIME, os: 3, attrs: FILE_ATTRIBUTES }];
  }
  const zip = zipSync(entries, { level: 6 });
  if (zip.length > MAX_ZIP_BYTES) {
    throw new CodeZipError(
      `Expected the zip of ${dir} to be at most ${MAX_ZIP_BYTES} bytes (FC's limit for inline code), got ${zip.length}`,
    );
  }
  return { zip, checksum: crc64(zip), files: paths.length };
};

/** Relative paths with `/` separators, sorted by code unit so the order never depends on the file system. */
const listFiles = (dir: string): string[] => {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(dir);
  } catch (error) {
    throw new CodeZipError(`Expected a code folder at ${dir}, got nothing there (build first?)`, { cause: error });
  }
  if (!stats.isDirectory()) throw new CodeZipError(`Expected a code folder at ${dir}, got a file`);
  const found: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) found.push(relative(dir, path).split(sep).join('/'));
    }
  };
  walk(dir);
  // Object keys that look like array indices would be iterated first by fflate; no code file is named like that.
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
};
