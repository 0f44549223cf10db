/**
 * The integrity facts of a package file, in one streaming pass: size, CRC-64/ECMA-182 (the value OSS reports in
 * `x-oss-hash-crc64ecma`, which the function compares without downloading) and SHA-256.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { updateCrc64 } from '../shared/crc64.ts';
import { explainFileError } from './errors.ts';

export type PackageDigest = { size: number; crc64: string; sha256: string };

/**
 * Reads `file` once and returns its size, CRC-64 (decimal, as OSS writes it) and SHA-256 (lowercase hex).
 * `onBytes` is told the running total, for a progress bar over large files.
 *
 * @example
 * ```ts
 * await digestFile('examples/face-detector-1.0.0.tar.gz'); // { size: 423, crc64: '…', sha256: '…' }
 * ```
 */
export const digestFile = async (file: string, onBytes?: (done: number) => void): Promise<PackageDigest> => {
  const sha256 = createHash('sha256');
  let crc = 0n;
  let size = 0;
  // 1 MiB reads: the CRC loop dominates, and larger chunks keep the per-chunk overhead negligible.
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    sha256.update(chunk);
    crc = updateCrc64(crc, chunk);
    size += chunk.length;
    onBytes?.(size);
  }
  return { size, crc64: crc.toString(), sha256: sha256.digest('hex') };
};

/** `digestFile` of the package argument; a file that cannot be read is a one-line `CliError` (exit 2). */
export const digestPackageFile = (file: string, onBytes?: (done: number) => void): Promise<PackageDigest> =>
  digestFile(file, onBytes).catch((error: unknown) => {
    throw explainFileError(error, file, 'package file');
  });
