/**
 * Where the local FC keeps the code it was sent: each `code.zipFile` of CreateFunction/UpdateFunction is unzipped
 * (fflate) into `<root>/<service>/<function>/<checksum>/`, and instances run from that folder, as FC runs the code it
 * unpacked rather than anything on the deployer's disk. The checksum is FC's `codeChecksum`: CRC-64/ECMA-182 of the
 * zip as a decimal string. A zip whose entries would land outside their folder is refused.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { unzipSync } from 'fflate';
import { crc64 } from '../../shared/crc64.ts';
import { FcApiError } from './fc-http.ts';

export type StoredCode = { codeDir: string; checksum: string; size: number };

export type CodeStore = {
  /** Unzips `zip` for the function (once per distinct zip) and returns where it is. */
  store(service: string, fn: string, zip: Buffer): StoredCode;
};

/**
 * A code store under `root`.
 *
 * @example
 * ```ts
 * const code = createCodeStore('/tmp/fc-code').store('algolib', 'register', zipBytes);
 * code.codeDir; // '/tmp/fc-code/algolib/register/7327495012382736123'
 * ```
 */
export const createCodeStore = (root: string): CodeStore => ({
  store(service, fn, zip) {
    const checksum = crc64(zip);
    const codeDir = join(root, safeSegment(service), safeSegment(fn), checksum);
    if (!existsSync(codeDir)) unpack(zip, codeDir);
    return { codeDir, checksum, size: zip.length };
  },
});

const invalidCode = (message: string) => new FcApiError(400, 'InvalidArgument', message);

/** Unzips beside the target and renames into place, so an instance never sees half a folder. */
const unpack = (zip: Buffer, codeDir: string) => {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip);
  } catch (error) {
    throw invalidCode(
      `Expected \`code.zipFile\` to be a base64 zip archive, got bytes that do not unzip (${(error as Error).message})`,
    );
  }
  const names = Object.keys(files).filter((name) => !name.endsWith('/'));
  if (names.length === 0) throw invalidCode('Expected `code.zipFile` to contain at least one file, got an empty zip');
  const staging = `${codeDir}.partial-${process.pid}-${Date.now()}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    for (const name of names) {
      const target = resolve(staging, name);
      if (isAbsolute(name) || name.includes('\\') || !target.startsWith(staging + sep)) {
        throw invalidCode(`Expected the zip's entries to stay inside the code folder, got ${JSON.stringify(name)}`);
      }
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, files[name] as Uint8Array);
    }
    renameSync(staging, codeDir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // Another request unpacked the same zip first: its folder is as good as ours.
    if (existsSync(codeDir) && !(error instanceof FcApiError)) return;
    throw error;
  }
};

/** Service and function names are FC names (letters, digits, `-`, `_`); anything else never reaches the disk. */
const safeSegment = (name: string): string => {
  if (!/^[A-Za-z_][A-Za-z0-9_-]{0,127}$/.test(name)) {
    throw invalidCode(
      `Expected a name of letters, digits, "-" and "_" (not starting with a digit), got ${JSON.stringify(name)}`,
    );
  }
  return name;
};
