/**
 * What is checked about a package file before anything is uploaded: that it is gzip at all (a `.tar.gz` that is a
 * text file would be uploaded and registered), and whether its file name agrees with the manifest's name and
 * version (the key keeps the file name, so a mismatch is worth a word, not a refusal).
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { PACKAGE_SUFFIX } from '../shared/keys.ts';
import { explainFileError } from './errors.ts';

// RFC 1952 §2.3.1: every gzip member starts with ID1 = 0x1f, ID2 = 0x8b.
const GZIP_MAGIC = [0x1f, 0x8b] as const;

const hex = (bytes: Uint8Array): string => [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');

/**
 * Why `file` is not a gzip file, or `undefined` when it starts with gzip's magic bytes.
 *
 * @example
 * ```ts
 * await gzipProblem('notes.tar.gz'); // 'it is not gzip: a .tar.gz starts with the bytes 1f 8b, this one with 68 65 ("he")'
 * ```
 */
export const gzipProblem = async (file: string): Promise<string | undefined> => {
  let head: Uint8Array;
  try {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(GZIP_MAGIC.length);
      const { bytesRead } = await handle.read(buffer, 0, GZIP_MAGIC.length, 0);
      head = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw explainFileError(error, file, 'package file');
  }
  if (head.length === GZIP_MAGIC.length && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) return undefined;
  if (head.length === 0) return 'it is empty, expected a gzip-compressed tar archive';
  const printable = /^[\x20-\x7e]+$/.test(Buffer.from(head).toString('latin1'))
    ? ` (${JSON.stringify(Buffer.from(head).toString('latin1'))}: text?)`
    : '';
  return `it is not gzip: a ${PACKAGE_SUFFIX} starts with the bytes ${hex(Uint8Array.from(GZIP_MAGIC))}, this one with ${hex(head)}${printable}`;
};

/**
 * A warning when the file name's stem is not `<name>-<version>`, or `undefined` when they agree.
 *
 * @example
 * ```ts
 * fileNameMismatch('dist/weird-9.9.9.tar.gz', 'road-sign', '1.0.1');
 * // 'the file name says weird-9.9.9, the manifest road-sign@1.0.1: publishing as road-sign@1.0.1 …'
 * ```
 */
export const fileNameMismatch = (file: string, name: string, version: string): string | undefined => {
  const stem = basename(file).slice(0, -PACKAGE_SUFFIX.length);
  if (stem === `${name}-${version}`) return undefined;
  return `the file name says ${stem}, the manifest ${name}@${version}: publishing as ${name}@${version} (the key keeps the file name; rename the file to ${name}-${version}${PACKAGE_SUFFIX} if the manifest is right)`;
};
