/**
 * The CLI as a library's repository gets it: `npm pack` (whose prepack builds the bundles) makes a tarball that
 * installs into an empty folder with `npm install --offline` (it has no dependencies: everything it runs is in the
 * esbuild bundles), and the installed `algolib` answers `--version`, `init` and `validate`. Packs from a copy of the
 * sources so its build never rewrites the dist/ that other tests are running.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../../package.json';
import { type CliRun, runCli } from '../fixtures/run-cli.ts';

let dir: string;
let tarball: string;
let project: string;
let pack: CliRun;
let install: CliRun;

/** npm with a cache of its own (empty: an offline install that needed a download would fail) and no npm_* settings. */
const npm = (args: string[], cwd: string) =>
  runCli(args, {
    cwd,
    command: ['npm'],
    env: { npm_config_cache: join(dir, 'npm-cache'), npm_config_update_notifier: 'false' },
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'algolib-package-test-'));
  const source = join(dir, 'source');
  const skip = new Set(['node_modules', 'dist', '.git', '.algolib', 'coverage', 'test', 'proving', 'bench']);
  for (const entry of readdirSync('.')) {
    if (!skip.has(entry)) cpSync(entry, join(source, entry), { recursive: true });
  }
  symlinkSync(resolve('node_modules'), join(source, 'node_modules'), 'dir');
  pack = await npm(['pack', '--pack-destination', dir, '--silent'], source);
  tarball = join(dir, pack.stdout.trim().split('\n').at(-1) ?? '');
  project = join(dir, 'library-repo');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), '{ "private": true }\n');
  install = await npm(['install', '--offline', '--no-audit', '--no-fund', tarball], project);
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const algolib = (args: string[]) =>
  runCli(args, { cwd: project, command: [join(project, 'node_modules', '.bin', 'algolib')] });

describe('the packed CLI', () => {
  it('packs with its own build and installs offline into an empty folder', () => {
    expect(pack.code, pack.stderr).toBe(0);
    expect(tarball).toMatch(/algolib-pipeline-\d+\.\d+\.\d+\.tgz$/);
    expect(install.code, install.stderr).toBe(0);
    expect(readdirSync(join(project, 'node_modules'))).toEqual(['.bin', '.package-lock.json', 'algolib-pipeline']);
  });

  it('runs `algolib --version`', async () => {
    const run = await algolib(['--version']);

    expect(run).toEqual({ code: 0, stdout: `${packageJson.version}\n`, stderr: '' });
  });

  it('runs `algolib validate` on the sample it ships, against its package', async () => {
    const examples = join(project, 'node_modules', 'algolib-pipeline', 'examples');

    const run = await algolib([
      'validate',
      join(examples, 'face-detector-1.0.0.manifest.json'),
      '--package',
      join(examples, 'face-detector-1.0.0.tar.gz'),
    ]);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^valid .*face-detector@1\.0\.0\n/);
  });

  it('writes manifests whose $schema points into node_modules', async () => {
    mkdirSync(join(project, 'dist'));
    writeFileSync(join(project, 'dist', 'road-sign-1.0.0.tar.gz'), '');

    const run = await algolib(['init', 'dist/road-sign-1.0.0.tar.gz']);
    const manifest = JSON.parse(readFileSync(join(project, 'dist', 'road-sign-1.0.0.manifest.json'), 'utf8'));

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain('note:');
    expect(manifest.$schema).toBe('../node_modules/algolib-pipeline/schema/manifest-v1.schema.json');
    expect(JSON.parse(readFileSync(join(project, 'dist', manifest.$schema), 'utf8')).$id).toBe(
      'urn:algolib-pipeline:manifest:v1',
    );
  });
});
