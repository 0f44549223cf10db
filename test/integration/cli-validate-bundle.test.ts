/**
 * `algolib validate` runs from a CommonJS file of its own (dist/cli/validate.cjs, cli/validate-main.ts), which starts
 * faster than the ES modules every other command runs from: bin/algolib.js picks it, it loads only what validate
 * needs, and it says what the ES modules say, word for word and exit code for exit code. Needs `npm run build`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, type CliRun, runCli } from '../fixtures/run-cli.ts';

const MODULES = resolve('dist/cli/index.mjs');
const EXAMPLE_MANIFEST = resolve('examples/face-detector-1.0.0.manifest.json');
const EXAMPLE_PACKAGE = resolve('examples/face-detector-1.0.0.tar.gz');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'algolib-validate-bundle-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A manifest file in the test folder: the example with `change` applied, or `text` as it is. */
const manifestFile = (name: string, content: ((manifest: Record<string, unknown>) => void) | string): string => {
  const file = join(dir, name);
  if (typeof content === 'string') {
    writeFileSync(file, content);
    return file;
  }
  const manifest = JSON.parse(readFileSync(EXAMPLE_MANIFEST, 'utf8')) as Record<string, unknown>;
  content(manifest);
  writeFileSync(file, JSON.stringify(manifest, null, 2));
  return file;
};

describe('bin/algolib.js validate', () => {
  /** What the process loaded, written by a `--require`d script when it exits. */
  const loadedBy = async (args: string[]) => {
    const record = join(dir, `loaded-${args.length}.json`);
    const recorder = join(dir, 'record-loaded.cjs');
    writeFileSync(
      recorder,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify({ files: Object.keys(require.cache), builtins: process.moduleLoadList })));\n`,
    );
    const run = await runCli(args, { command: [process.execPath, '--require', recorder, CLI] });
    return { run, ...(JSON.parse(readFileSync(record, 'utf8')) as { files: string[]; builtins: string[] }) };
  };

  it('runs dist/cli/validate.cjs, and loads node:crypto only to check --package', async () => {
    const alone = await loadedBy(['validate', EXAMPLE_MANIFEST]);
    const withPackage = await loadedBy(['validate', EXAMPLE_MANIFEST, '--package', EXAMPLE_PACKAGE]);

    expect(alone.run.code).toBe(0);
    expect(alone.files).toContain(resolve('dist/cli/validate.cjs'));
    expect(alone.builtins).not.toContain('NativeModule crypto');
    expect(withPackage.run.code).toBe(0);
    expect(withPackage.builtins).toContain('NativeModule crypto');
  });
});

describe('algolib validate says the same from its CommonJS file as from the ES modules', () => {
  const cases: [string, () => string[]][] = [
    ['a valid manifest', () => ['validate', EXAMPLE_MANIFEST]],
    ['a valid manifest, --json', () => ['validate', EXAMPLE_MANIFEST, '--json']],
    [
      'a valid manifest checked against its package',
      () => ['validate', EXAMPLE_MANIFEST, '--package', EXAMPLE_PACKAGE],
    ],
    [
      'errors of the schema, a near key and a repeated objType',
      () => [
        'validate',
        manifestFile('invalid.manifest.json', (manifest) => {
          manifest.capacity = 0;
          manifest.capabilites = manifest.capabilities;
          manifest.objects = [...(manifest.objects as unknown[]), ...(manifest.objects as unknown[])];
        }),
      ],
    ],
    [
      'errors of the schema, --json',
      () => ['validate', manifestFile('invalid-json.manifest.json', (manifest) => delete manifest.name), '--json'],
    ],
    [
      'a package that does not match',
      () => [
        'validate',
        manifestFile('mismatch.manifest.json', (manifest) => {
          manifest.package = { size: 1, crc64: '1' };
        }),
        '--package',
        EXAMPLE_PACKAGE,
      ],
    ],
    ['a JSON syntax error', () => ['validate', manifestFile('broken.manifest.json', '{"schemaVersion": 1,]')]],
    ['a key twice', () => ['validate', manifestFile('twice.manifest.json', '{"name": "a", "name": "b"}')]],
    ['a missing manifest file', () => ['validate', join(dir, 'nowhere.manifest.json')]],
    ['no manifest argument', () => ['validate']],
    ['an unknown option', () => ['validate', EXAMPLE_MANIFEST, '--nope']],
    ['--help', () => ['validate', '--help']],
  ];

  // The hints name the file that was run (`node bin/algolib.js …` or `node dist/cli/index.mjs …`); nothing else may
  // differ.
  const asBin = (run: CliRun): CliRun => ({
    code: run.code,
    stdout: run.stdout.replaceAll('node dist/cli/index.mjs', 'node bin/algolib.js'),
    stderr: run.stderr.replaceAll('node dist/cli/index.mjs', 'node bin/algolib.js'),
  });

  it.each(cases)('%s', async (_name, args) => {
    const argv = args();
    const bin = await runCli(argv);
    const modules = await runCli(argv, { command: [process.execPath, MODULES] });

    expect(bin.stdout.length + bin.stderr.length).toBeGreaterThan(0);
    expect(bin).toEqual(asBin(modules));
  });
});
