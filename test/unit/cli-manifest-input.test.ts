import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../cli/errors.ts';
import { checkManifest } from '../../cli/manifest-input.ts';
import type { PackageDigest } from '../../cli/package-digest.ts';

const example = () =>
  JSON.parse(readFileSync('examples/face-detector-1.0.0.manifest.json', 'utf8')) as Record<string, unknown>;
const bytesOf = (json: unknown) => Buffer.from(JSON.stringify(json));
const digest: PackageDigest = { size: 423, crc64: '4316288773579838934', sha256: 'e'.repeat(64) };

describe('checkManifest', () => {
  it('fills a missing package from the digest and re-serialises the manifest', () => {
    const check = checkManifest(bytesOf(example()), 'm.json', digest);

    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.filled).toEqual(['size', 'crc64', 'sha256']);
    expect(check.manifest.package).toEqual(digest);
    expect(JSON.parse(Buffer.from(check.bytes).toString('utf8')).package).toEqual(digest);
  });

  it('fills only the fields the manifest leaves out', () => {
    const check = checkManifest(
      bytesOf({ ...example(), package: { size: 423, crc64: digest.crc64 } }),
      'm.json',
      digest,
    );

    expect(check.ok && check.filled).toEqual(['sha256']);
  });

  it('keeps a complete manifest byte for byte', () => {
    const bytes = bytesOf({ ...example(), package: digest });

    const check = checkManifest(bytes, 'm.json', digest);

    expect(check.ok && check.filled).toEqual([]);
    expect(check.ok && Buffer.from(check.bytes).equals(bytes)).toBe(true);
  });

  it('reports every stated field that does not match the file, with its path', () => {
    const check = checkManifest(
      bytesOf({ ...example(), package: { size: 1, crc64: '2', sha256: 'f'.repeat(64) } }),
      'm.json',
      digest,
    );

    expect(check.ok ? [] : check.errors).toMatchInlineSnapshot(`
      [
        {
          "code": "PACKAGE_SIZE_MISMATCH",
          "message": "Expected the package file to be 1 bytes as the manifest says, got 423",
          "path": "package.size",
        },
        {
          "code": "PACKAGE_CHECKSUM_MISMATCH",
          "message": "Expected the package file's CRC-64 to be 2 as the manifest says, got 4316288773579838934",
          "path": "package.crc64",
        },
        {
          "code": "PACKAGE_CHECKSUM_MISMATCH",
          "message": "Expected the package file's SHA-256 to be ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff as the manifest says, got eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
          "path": "package.sha256",
        },
      ]
    `);
  });

  it('lists the package fields publish fills when there is no package file, and validates the rest', () => {
    const check = checkManifest(bytesOf(example()), 'm.json');

    expect(check).toMatchObject({ ok: true, filled: [], toFill: ['size', 'crc64', 'sha256'] });
    expect(check.ok && 'package' in check.manifest).toBe(false);
  });

  it('without a package file, keeps the package fields the manifest states and checks their form', () => {
    const partial = checkManifest(bytesOf({ ...example(), package: { size: 423 } }), 'm.json');
    const wrong = checkManifest(bytesOf({ ...example(), package: { size: 0, sha256: 'x' } }), 'm.json');

    expect(partial).toMatchObject({ ok: true, toFill: ['crc64', 'sha256'], manifest: { package: { size: 423 } } });
    expect(wrong.ok ? [] : wrong.errors.map((error) => error.path)).toEqual(['package.size', 'package.sha256']);
  });

  it('without a package file, still reports every other error', () => {
    const check = checkManifest(bytesOf({ ...example(), capacity: 0, capabilites: [] }), 'm.json');

    expect(check.ok ? [] : check.errors.map((error) => error.message)).toEqual([
      "Expected `capacity` to be an integer from 1 to 50 (CityVisual's limit), got 0",
      'Expected no key `capabilites`: manifest v1 does not define it; did you mean `capabilities`?',
    ]);
  });

  it('keeps the schema errors of the rest of the manifest', () => {
    const check = checkManifest(bytesOf({ ...example(), capacity: 0 }), 'm.json', digest);

    expect(check.ok ? [] : check.errors.map((error) => error.path)).toEqual(['capacity']);
  });

  it('throws a one-line CliError for a file that is not JSON', () => {
    expect(() => checkManifest(Buffer.from('{ "name": '), 'face.manifest.json')).toThrow(CliError);
    expect(() => checkManifest(Buffer.from('{\n  "name": \n}'), 'face.manifest.json')).toThrow(
      'Cannot parse the manifest face.manifest.json as JSON: line 3, column 1: expected a value, got `}` (fix the syntax, then run `algolib validate face.manifest.json`)',
    );
  });

  it('reports a manifest over 256 KiB without parsing it', () => {
    const check = checkManifest(Buffer.alloc(300 * 1024, 0x20), 'm.json', digest);

    expect(check.ok ? [] : check.errors.map((error) => error.code)).toEqual(['MANIFEST_TOO_LARGE']);
  });
});
