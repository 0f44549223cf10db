/**
 * A manifest file as `validate` and `publish` see it: read it, fill what the package file can tell (`package.size`,
 * `crc64`, `sha256` when absent), check what the manifest already claims against the file, and validate the result
 * with the same parser the function uses. Without the package file (`validate` alone), the fields publish would fill
 * are reported as such instead of as errors, so the two commands agree on what a valid manifest is. A file that is
 * not JSON at all is a usage problem (exit 2), not a verdict.
 */
import { readFile } from 'node:fs/promises';
import { describeJsonError } from '../shared/json-syntax.ts';
import { type Manifest, parseManifest } from '../shared/manifest.ts';
import type { StatusError } from '../shared/status.ts';
import { CliError, explainFileError } from './errors.ts';
import { hint } from './invocation.ts';
import type { PackageDigest } from './package-digest.ts';

type PackageField = keyof PackageDigest;

/** A manifest whose `package` publish has not filled in yet: what the manifest states, possibly nothing. */
export type ManifestDraft = Omit<Manifest, 'package'> & { package?: Partial<Manifest['package']> };

export type ManifestCheck<M extends ManifestDraft = Manifest> =
  | {
      ok: true;
      manifest: M;
      /** The bytes to upload: the file as it is, or the manifest re-serialised with the filled `package`. */
      bytes: Uint8Array;
      /** The `package` fields publish filled in from the file (empty when the manifest had them all). */
      filled: PackageField[];
      /** Without the package file: the `package` fields the manifest leaves to publish (it computes them). */
      toFill: PackageField[];
    }
  | { ok: false; errors: StatusError[] };

const PACKAGE_FIELDS: PackageField[] = ['size', 'crc64', 'sha256'];

/**
 * Stand-ins for the fields publish fills, so the rest of the manifest is checked by the function's own parser without
 * the package file. They never leave this module: the manifest returned has only what the file states.
 */
const STAND_IN: PackageDigest = { size: 1, crc64: '0', sha256: '0'.repeat(64) };

/**
 * Reads a manifest file; a missing or unreadable file is a one-line `CliError` (exit 2). When `packageFile` is given
 * (publish looking beside the package), a missing manifest points to `algolib init`, which writes one.
 */
export const readManifestFile = async (file: string, packageFile?: string): Promise<Uint8Array> => {
  try {
    return await readFile(file);
  } catch (error) {
    if (packageFile !== undefined && (error as { code?: unknown }).code === 'ENOENT') {
      throw new CliError(
        `No manifest for ${packageFile}: expected ${file}. Write a starting one with \`algolib init ${packageFile}\` (or pass --manifest <file>)`,
        { cause: error },
      );
    }
    throw explainFileError(error, file, 'manifest');
  }
};

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The manifest's JSON; a syntax error is a `CliError` naming the file and the position. */
const parseJson = (bytes: Uint8Array, file: string): unknown => {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch (error) {
    throw new CliError(`Cannot parse the manifest ${file} as JSON: it is not UTF-8 text`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = describeJsonError(text, error);
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
const fillPackage = (stated: Record<string, unknown>, digest: PackageDigest): PackageField[] => {
  const filled: PackageField[] = [];
  for (const field of PACKAGE_FIELDS) {
    if (stated[field] !== undefined) continue;
    stated[field] = digest[field];
    filled.push(field);
  }
  return filled;
};

/** `manifest` with `package` cut back to what the file stated (stand-ins removed; no `package` when it stated none). */
const withoutStandIns = (manifest: Manifest, standIns: PackageField[]): ManifestDraft => {
  const { package: filled, ...rest } = manifest;
  const stated = Object.fromEntries(
    Object.entries(filled).filter(([field]) => !standIns.includes(field as PackageField)),
  );
  return Object.keys(stated).length > 0 ? { ...rest, package: stated } : rest;
};

/**
 * Validates manifest bytes, first filling and checking `package` against `digest` when the package file is known.
 * Without it, the `package` fields the manifest leaves out are listed in `toFill` (publish computes them) and the
 * rest is validated as the function would.
 *
 * @example
 * ```ts
 * const check = checkManifest(await readManifestFile(path), path, await digestFile(pkg));
 * if (!check.ok) for (const error of check.errors) console.error(error.message);
 * ```
 */
export function checkManifest(bytes: Uint8Array, file: string, digest: PackageDigest): ManifestCheck;
export function checkManifest(bytes: Uint8Array, file: string): ManifestCheck<ManifestDraft>;
export function checkManifest(bytes: Uint8Array, file: string, digest?: PackageDigest): ManifestCheck<ManifestDraft> {
  const tooLarge = parseManifest(bytes);
  if (!tooLarge.ok && tooLarge.errors.some((error) => error.code === 'MANIFEST_TOO_LARGE')) return tooLarge;
  const json = parseJson(bytes, file);
  let filled: PackageField[] = [];
  let mismatches: StatusError[] = [];
  let finalBytes = bytes;
  if (isRecord(json)) {
    json.package ??= {};
    if (isRecord(json.package)) {
      if (digest) mismatches = integrityErrors(json.package, digest);
      filled = fillPackage(json.package, digest ?? STAND_IN);
    }
    // Re-serialised only when something was added, so a complete manifest is uploaded byte for byte as written.
    if (filled.length > 0) finalBytes = Buffer.from(`${JSON.stringify(json, null, 2)}\n`);
  }
  const parsed = parseManifest(finalBytes);
  if (parsed.ok && mismatches.length === 0) {
    if (digest) return { ok: true, manifest: parsed.manifest, bytes: finalBytes, filled, toFill: [] };
    return { ok: true, manifest: withoutStandIns(parsed.manifest, filled), bytes, filled: [], toFill: filled };
  }
  return { ok: false, errors: [...(parsed.ok ? [] : parsed.errors), ...mismatches] };
}
