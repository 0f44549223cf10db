import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { digestFile } from '../../cli/package-digest.ts';
import { crc64 } from '../../shared/crc64.ts';

const dir = mkdtempSync(join(tmpdir(), 'algolib-digest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fileWith = (name: string, bytes: Buffer) => {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
};

describe('digestFile', () => {
  it.each([
    ['an empty file', 0],
    ['a file smaller than one read', 423],
    ['a file spanning several 1 MiB reads', 3 * 1024 * 1024 + 17],
  ])('gives size, CRC-64 and SHA-256 of %s equal to one-shot digests', async (_case, size) => {
    const bytes = randomBytes(size);
    const file = fileWith(`f-${size}.tar.gz`, bytes);

    const digest = await digestFile(file);

    expect(digest).toEqual({ size, crc64: crc64(bytes), sha256: createHash('sha256').update(bytes).digest('hex') });
  });

  it('reports the running byte count as it reads', async () => {
    const file = fileWith('progress.tar.gz', randomBytes(2 * 1024 * 1024 + 5));
    const seen: number[] = [];

    await digestFile(file, (done) => seen.push(done));

    expect(seen).toEqual([1024 * 1024, 2 * 1024 * 1024, 2 * 1024 * 1024 + 5]);
  });

  it('gives the CRC-64 of the check input that OSS documents', async () => {
    const digest = await digestFile(fileWith('check.tar.gz', Buffer.from('123456789')));

    expect(digest.crc64).toBe('11051210869376104954');
  });
});
