/**
 * `algolib init` as a user runs it (`node bin/algolib.js …` in a fresh folder): the starting manifest, what validate
 * says about it before and after the TODOs are filled in, and publish pointing to init when there is no manifest.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/run-cli.ts';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'algolib-init-test-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder under `dir` with the example package copied in as `fileName`. */
const folderWith = (name: string, fileName: string) => {
  const folder = join(dir, name);
  mkdirSync(join(folder, 'dist'), { recursive: true });
  copyFileSync(resolve('examples/face-detector-1.0.0.tar.gz'), join(folder, 'dist', fileName));
  return folder;
};

describe('algolib init', () => {
  it('writes a starting manifest with name and version from the file name, which validate refuses until filled in', async () => {
    // Arrange
    const folder = folderWith('fresh', 'road-sign-2.1.0-rc.1.tar.gz');

    // Act
    const run = await runCli(['init', 'dist/road-sign-2.1.0-rc.1.tar.gz'], { cwd: folder });
    const manifestFile = join(folder, 'dist', 'road-sign-2.1.0-rc.1.manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    const validated = await runCli(['validate', 'dist/road-sign-2.1.0-rc.1.manifest.json'], { cwd: folder });

    // Assert
    expect(run.code).toBe(0);
    // The note: this CLI is not installed in the test's folder, so $schema leads out of it.
    expect(run.stdout.split('\n').filter((line) => !line.startsWith('  note: $schema points outside'))).toEqual([
      'wrote dist/road-sign-2.1.0-rc.1.manifest.json for road-sign@2.1.0-rc.1 (from the file name)',
      '  fill in the 8 "TODO: …" values (your editor explains each field through $schema)',
      '  package is left out: `algolib publish` fills it from the package file',
      'next: algolib validate dist/road-sign-2.1.0-rc.1.manifest.json, then algolib publish dist/road-sign-2.1.0-rc.1.tar.gz',
      '',
    ]);
    expect(manifest).toMatchObject({ schemaVersion: 1, name: 'road-sign', version: '2.1.0-rc.1' });
    expect(manifest.package).toBeUndefined();
    // Relative to the manifest, to the schema this CLI ships: editors resolve it in any checkout.
    expect(resolve(folder, 'dist', manifest.$schema)).toBe(resolve('schema/manifest-v1.schema.json'));
    expect(validated.code).toBe(1);
    expect(validated.stdout).toContain(
      'capacity: Expected `capacity` to be an integer from 1 to 50 (CityVisual\'s limit), got "TODO: how many streams it processes at once (an integer)"',
    );
    expect(validated.stdout.match(/got "TODO: /g)).toHaveLength(8);
  });

  it('gives a manifest that validates against its package once the TODOs are filled in', async () => {
    // Arrange
    const folder = folderWith('filled', 'face-detector-1.0.0.tar.gz');
    const init = await runCli(['init', join('dist', 'face-detector-1.0.0.tar.gz')], { cwd: folder });
    const manifestFile = join(folder, 'dist', 'face-detector-1.0.0.manifest.json');
    const example = JSON.parse(readFileSync(resolve('examples/face-detector-1.0.0.manifest.json'), 'utf8'));
    const started = JSON.parse(readFileSync(manifestFile, 'utf8'));
    writeFileSync(
      manifestFile,
      JSON.stringify({ ...started, capabilities: example.capabilities, capacity: 30, objects: example.objects }),
    );

    // Act
    const validated = await runCli([
      'validate',
      manifestFile,
      '--package',
      join(folder, 'dist/face-detector-1.0.0.tar.gz'),
    ]);

    // Assert
    expect(init.code).toBe(0);
    expect(validated.code).toBe(0);
    expect(validated.stdout).toContain('valid');
  });

  it('uses the one .tar.gz of the current folder, and refuses to overwrite without --force', async () => {
    // Arrange
    const folder = folderWith('cwd', 'face-1.0.0.tar.gz');
    const inDist = join(folder, 'dist');

    // Act
    const none = await runCli(['init'], { cwd: folder });
    const first = await runCli(['init'], { cwd: inDist });
    const again = await runCli(['init'], { cwd: inDist });
    const forced = await runCli(['init', '--force'], { cwd: inDist });

    // Assert
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error: Expected <file.tar.gz>: there is no .tar.gz file in /);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('wrote face-1.0.0.manifest.json for face@1.0.0 (from the file name)');
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(
      'error: face-1.0.0.manifest.json already exists: edit it, or pass --force to replace it\n',
    );
    expect(forced.code).toBe(0);
  });

  it('leaves name and version as TODOs when the file name does not say them', async () => {
    // Arrange
    const folder = folderWith('unnamed', 'model.tar.gz');

    // Act
    const run = await runCli(['init', 'dist/model.tar.gz'], { cwd: folder });
    const manifest = JSON.parse(readFileSync(join(folder, 'dist/model.manifest.json'), 'utf8'));

    // Assert
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('the file name is not <name>-<version>.tar.gz, so name and version are TODOs too');
    expect(manifest.name).toMatch(/^TODO: /);
    expect(manifest.version).toMatch(/^TODO: /);
  });
});

describe('algolib publish without a manifest', () => {
  it('points to algolib init before touching the network (exit 2)', async () => {
    // Arrange
    const folder = folderWith('no-manifest', 'face-1.0.0.tar.gz');

    // Act: a bucket that no one serves; the command must stop before any request.
    const run = await runCli(
      ['publish', 'dist/face-1.0.0.tar.gz', '--bucket', 'my-algolibs', '--endpoint', 'http://127.0.0.1:9'],
      {
        cwd: folder,
        env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret' },
      },
    );

    // Assert
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'error: No manifest for dist/face-1.0.0.tar.gz: expected dist/face-1.0.0.manifest.json. Write a starting one with `algolib init dist/face-1.0.0.tar.gz` (or pass --manifest <file>)\n',
    );
  });
});
