/**
 * `algolib completion bash|zsh` as a shell uses it: the printed script is sourced in `bash -c` (or zsh), and the
 * completion function is called with COMP_WORDS/COMP_CWORD set as bash sets them on Tab, in a folder with packages,
 * manifests and a sub-folder.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/run-cli.ts';

let dir: string;
let bashScript: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'algolib-completion-test-'));
  for (const file of ['face-1.0.0.tar.gz', 'face-1.0.0.manifest.json', 'notes.txt', 'dist/face-2.0.0.tar.gz']) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), '');
  }
  const run = await runCli(['completion', 'bash']);
  expect(run.code).toBe(0);
  bashScript = join(dir, 'algolib.bash');
  writeFileSync(bashScript, run.stdout);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** What bash offers for the command line `words` (the cursor at the end of the last word). */
const complete = (words: string[]): string[] => {
  const script = [
    'source "$1"; shift',
    'COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))',
    '_algolib',
    `printf "%s\\n" "\${COMPREPLY[@]}"`,
  ].join('\n');
  const run = spawnSync('bash', ['-c', script, 'bash', bashScript, ...words], { cwd: dir, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return run.stdout.split('\n').filter(Boolean).sort();
};

describe('algolib completion bash', () => {
  it.each([
    ['a command', ['algolib', 'pu'], ['publish']],
    ['commands and global flags', ['algolib', '--'], ['--help', '--version']],
    ['an option of publish', ['algolib', 'publish', '--m'], ['--manifest', '--multipart-threshold']],
    ['package files (and folders) for publish', ['algolib', 'publish', ''], ['dist', 'face-1.0.0.tar.gz']],
    ['package files inside a folder', ['algolib', 'publish', 'dist/'], ['dist/face-2.0.0.tar.gz']],
    ['manifests for validate', ['algolib', 'validate', ''], ['dist', 'face-1.0.0.manifest.json']],
    [
      'a package file for validate --package',
      ['algolib', 'validate', 'm.json', '--package', ''],
      ['dist', 'face-1.0.0.tar.gz'],
    ],
    ['nothing for a free-text value', ['algolib', 'publish', 'x.tar.gz', '--bucket', ''], []],
    ['the shells', ['algolib', 'completion', ''], ['bash', 'zsh']],
    ['a command after help', ['algolib', 'help', 'st'], ['status']],
    ['init and its package argument', ['algolib', 'init', 'f'], ['face-1.0.0.tar.gz']],
  ])('offers %s', (_case, words, expected) => {
    expect(complete(words)).toEqual(expected);
  });

  it('registers itself for the algolib command', () => {
    const run = spawnSync('bash', ['-c', 'source "$1"; complete -p algolib', 'bash', bashScript], {
      encoding: 'utf8',
    });

    expect(run.stdout.trim()).toBe('complete -o filenames -F _algolib algolib');
  });

  it('refuses a shell it does not know (exit 2)', async () => {
    const run = await runCli(['completion', 'fish']);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: Expected the shell to be bash or zsh, got fish/);
  });
});

const hasZsh = spawnSync('zsh', ['-c', 'true']).status === 0;

describe.skipIf(!hasZsh)('algolib completion zsh', () => {
  it('is valid zsh that registers _algolib for algolib after compinit', async () => {
    const run = await runCli(['completion', 'zsh']);
    const script = join(dir, '_algolib');
    writeFileSync(script, run.stdout);

    const zsh = spawnSync(
      'zsh',
      [
        '-f',
        '-c',
        'autoload -U compinit && compinit -u -D && source "$1" && print -r -- $_comps[algolib]',
        'zsh',
        script,
      ],
      { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir } },
    );

    expect(spawnSync('zsh', ['-n', script]).status).toBe(0);
    expect(zsh.stderr).toBe('');
    expect(zsh.stdout.trim()).toBe('_algolib');
  });
});
