/**
 * A manifest file as `validate` and `publish` see it: read it, fill what the package file can tell (`package.size`,
 * `crc64`, `sha256` when absent), check what the manifest already claims against the file, and validate the result
 * with the same parser the function uses. A file that is not JSON at all is a usage problem (exit 2), not a verdict.
 */
import { readFile } from 'node:fs/promises';
import { type Manifest, parseManifest } from '../shared/manifest.ts';
import type { StatusError } from '../shared/status.ts';
import { CliError, explainFileError } from './errors.ts';
import { hint } from './invocation.ts';
import type { PackageDigest } from './package-digest.ts';

export type ManifestCheck =
  | {
      ok: true;
      manifest: Manifest;
      /** The bytes to upload: the file as it is, or the manifest re-serialised with the filled `package`. */
      bytes: Uint8Array;
      /** The `package` fields publish filled in from the file (empty when the manifest had them all). */
      filled: Array<keyof PackageDigest>;
    }
  | { ok: false; errors: StatusError[] };

/** Reads a manifest file; a missing or unreadable file is a one-line `CliError` (exit 2). */
export const readManifestFile = async (file: string): Promise<Uint8Array> => {
  try {
    return await readFile(file);
  } catch (error) {
    throw explainFileError(error, file, 'manifest');
  }
};

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The manifest's JSON; a syntax error is a `CliError` naming the file and the position. */
const parseJson = (bytes: Uint8Array, file: string): unknown => {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : 'it is not UTF-8 text';
    throw new CliError(
      `Cannot parse the manifest ${file} as JSON: ${reason} (fix the syntax, then run \`${hint(`validate ${file}`)}\`)`,
      {
        cause: error,
      },
    );
  }
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const MISSING_PACKAGE: StatusError = {
  code: 'MANIFEST_INVALID',
  path: 'package',
  message:
    'Expected `package` to describe the package file ({ size, crc64 and/or sha256 }), got nothing: pass `--package <file.tar.gz>` to fill it (publish fills it from the file it uploads)',
};

/** Compares each integrity field the manifest states with the file; fields of the wrong type are the schema's job. */
const integrityErrors = (stated: Record<string, unknown>, digest: PackageDigest): StatusError[] => {
  const errors: StatusError[] = [];
  if (typeof stated.size === 'number' && stated.size !== digest.size) {
    errors.push({
      code: 'PACKAGE_SIZE_MISMATCH',
      path: 'package.size',
      message: `Expected the package file to be ${stated.size} bytes as the manifest says, got ${digest.size}`,
    });
  }
  for (const field of ['crc64', 'sha256'] as const) {
    const value = stated[field];
    if (typeof value === 'string' && value !== digest[field]) {
      errors.push({
        code: 'PACKAGE_CHECKSUM_MISMATCH',
        path: `package.${field}`,
        message: `Expected the package file's ${field === 'crc64' ? 'CRC-64' : 'SHA-256'} to be ${value} as the manifest says, got ${digest[field]}`,
      });
    }
  }
  return errors;
};

/** Adds the digest's fields that `stated` lacks; returns the names it added. */
const fillPackage = (stated: Record<string, unknown>, digest: PackageDigest): Array<keyof PackageDigest> => {
  const filled: Array<keyof PackageDigest> = [];
  for (const field of ['size', 'crc64', 'sha256'] as const) {
    if (stated[field] !== undefined) continue;
    stated[field] = digest[field];
    filled.push(field);
  }
  return filled;
};

/**
 * Validates manifest bytes, first filling and checking `package` against `digest` when the package file is known.
 *
 * @example
 * ```ts
 * const check = checkManifest(await readManifestFile(path), path, await digestFile(pkg));
 * if (!check.ok) for (const error of check.errors) console.error(error.message);
 * ```
 */
export const checkManifest = (bytes: Uint8Array, file: string, digest?: PackageDigest): ManifestCheck => {
  const tooLarge = parseManifest(bytes);
  if (!tooLarge.ok && tooLarge.errors.some((error) => error.code === 'MANIFEST_TOO_LARGE')) return tooLarge;
  const json = parseJson(bytes, file);
  let filled: Array<keyof PackageDigest> = [];
  let mismatches: StatusError[] = [];
  let finalBytes = bytes;
  if (isRecord(json) && digest) {
    json.package ??= {};
    if (isRecord(json.package)) {
      mismatches = integrityErrors(json.package, digest);
      filled = fillPackage(json.package, digest);
    }
    // Re-serialised only when something was added, so a complete manifest is uploaded byte for byte as written.
    if (filled.length > 0) finalBytes = Buffer.from(`${JSON.stringify(json, null, 2)}\n`);
  }
  const parsed = parseManifest(finalBytes);
  if (parsed.ok && mismatches.length === 0) return { ok: true, manifest: parsed.manifest, bytes: finalBytes, filled };
  const schemaErrors = parsed.ok ? [] : parsed.errors;
  const packageMissing = isRecord(json) && json.package === undefined;
  return {
    ok: false,
    errors: [
      // zod's own words for a missing object are not actionable; say how to get one instead.
      ...(packageMissing
        ? schemaErrors.map((error) => (error.path === 'package' ? MISSING_PACKAGE : error))
        : schemaErrors),
      ...mismatches,
    ],
  };
};
