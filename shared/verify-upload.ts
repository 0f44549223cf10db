/**
 * Verification, pure but for one optional streamed digest: the manifest's bytes and the package's HEAD in, a
 * verified manifest (with the digest that tells its content apart) or the errors that reject the pair out.
 */
import { createHash } from 'node:crypto';
import { MANIFEST_MAX_BYTES, type Manifest, parseManifest } from './manifest.ts';
import type { ObjectBytes, ObjectInfo } from './object-store.ts';
import type { StatusError } from './status.ts';

export type Verified = {
  ok: true;
  manifest: Manifest;
  /** SHA-256 of the manifest's content (without `$schema`): equal digests mean the same release, byte for byte. */
  manifestSha256: string;
  /** The package's CRC-64, from HEAD or, when OSS reports none, computed by streaming it. */
  crc64: string | undefined;
};

export type Unverified = { ok: false; manifest: Manifest | undefined; errors: StatusError[] };

/** The package's checksums computed by reading it whole; `undefined` when it is gone. */
export type StreamDigest = () => Promise<{ sha256: string; crc64?: string } | undefined>;

/**
 * The digest of a manifest's content, independent of formatting and of `$schema` (an editor hint).
 *
 * @example
 * ```ts
 * manifestDigest(manifest); // '3b1f…' (64 hex)
 * ```
 */
export const manifestDigest = (manifest: Manifest): string => {
  const { $schema: _editorHint, ...content } = manifest;
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
};

const checksumErrors = async (
  expected: Manifest['package'],
  info: ObjectInfo,
  stream: StreamDigest,
): Promise<{ errors: StatusError[]; crc64: string | undefined }> => {
  if (expected.size !== info.size) {
    return {
      crc64: info.crc64,
      errors: [
        {
          code: 'PACKAGE_SIZE_MISMATCH',
          path: 'package.size',
          message: `Expected the package to be ${expected.size} bytes as the manifest says, got ${info.size}`,
        },
      ],
    };
  }
  if (expected.crc64 !== undefined && info.crc64 !== undefined) {
    if (expected.crc64 === info.crc64) return { errors: [], crc64: info.crc64 };
    return {
      crc64: info.crc64,
      errors: [
        {
          code: 'PACKAGE_CHECKSUM_MISMATCH',
          path: 'package.crc64',
          message: `Expected the package's CRC-64 to be ${expected.crc64} as the manifest says, OSS reports ${info.crc64}`,
        },
      ],
    };
  }
  // No CRC-64 to compare from HEAD (a copied or some multipart objects), or the manifest only has a SHA-256: read
  // the package once and compute what the manifest pins.
  const digest = await stream();
  const path = expected.crc64 !== undefined ? 'package.crc64' : 'package.sha256';
  const want = expected.crc64 ?? expected.sha256;
  const got = expected.crc64 !== undefined ? digest?.crc64 : digest?.sha256;
  if (got !== undefined && got === want) return { errors: [], crc64: info.crc64 ?? digest?.crc64 };
  const what = expected.crc64 !== undefined ? 'CRC-64' : 'SHA-256';
  return {
    crc64: info.crc64,
    errors: [
      {
        code: 'PACKAGE_CHECKSUM_MISMATCH',
        path,
        message: `Expected the package's ${what} to be ${want} as the manifest says, got ${got ?? 'no object'}`,
      },
    ],
  };
};

/**
 * Verifies a pair whose halves both exist.
 *
 * @example
 * ```ts
 * const result = await verifyUpload(manifestObject, packageInfo, () => packages.digest(packageKey));
 * if (!result.ok) return reject(result.errors);
 * ```
 */
export const verifyUpload = async (
  manifestObject: ObjectBytes,
  packageInfo: ObjectInfo,
  stream: StreamDigest,
): Promise<Verified | Unverified> => {
  if (manifestObject.size > MANIFEST_MAX_BYTES) {
    return {
      ok: false,
      manifest: undefined,
      errors: [
        {
          code: 'MANIFEST_TOO_LARGE',
          message: `Expected the manifest to be at most ${MANIFEST_MAX_BYTES} bytes, got ${manifestObject.size}`,
        },
      ],
    };
  }
  const parsed = parseManifest(manifestObject.bytes);
  if (!parsed.ok) return { ok: false, manifest: undefined, errors: parsed.errors };
  const { manifest } = parsed;
  const checked = await checksumErrors(manifest.package, packageInfo, stream);
  if (checked.errors.length > 0) return { ok: false, manifest, errors: checked.errors };
  return { ok: true, manifest, manifestSha256: manifestDigest(manifest), crc64: checked.crc64 };
};
