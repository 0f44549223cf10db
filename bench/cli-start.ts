/**
 * The CLI's own start: `algolib --version` and `algolib validate` of a small manifest, each a fresh `node` process,
 * side by side with a bare `node -e 0` and with the CLI built the way it was before (one CommonJS bundle), the
 * subjects interleaved round by round in rotating order. Wall is spawn to exit, from this process.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { commonOptions } from '../scripts/register-bundle.mjs';
import { crc64 } from '../shared/crc64.ts';

export type CliSubject = { name: string; label: string; args: string[] };

export type CliStart = {
  subjects: CliSubject[];
  /** Wall ms per subject, one entry per round (index = round). */
  wall: Record<string, number[]>;
  rounds: number;
};

/**
 * The CLI as scripts/build.mjs built it before this work: one CommonJS bundle with every command inlined, behind the
 * bin script of then, with `--wait`'s poll schedule of `baselineRef` (cli/wait.ts as it was). Built from today's
 * source otherwise, so only the packing and the schedule differ.
 */
export const buildCliBefore = async (root: string, out: string, baselineRef: string | undefined): Promise<string> => {
  mkdirSync(out, { recursive: true });
  const baselineWait = baselineRef
    ? spawnSync('git', ['-C', root, 'show', `${baselineRef}:cli/wait.ts`], { encoding: 'utf8' })
    : undefined;
  const oldWait: Plugin = {
    name: 'baseline-wait',
    setup(builder) {
      if (baselineWait?.status !== 0) return;
      builder.onLoad({ filter: /[\\/]cli[\\/]wait\.ts$/ }, () => ({ contents: baselineWait.stdout, loader: 'ts' }));
    },
  };
  await build({
    ...commonOptions,
    absWorkingDir: root,
    entryPoints: [join(root, 'cli/index.ts')],
    outfile: join(out, 'index.js'),
    logLevel: 'error',
    logOverride: { 'empty-import-meta': 'silent' },
    plugins: [oldWait],
  });
  const bin = join(out, 'algolib.js');
  writeFileSync(
    bin,
    `const bundle = require('node:path').join(__dirname, 'index.js');\nif (!require('node:fs').existsSync(bundle)) process.exit(2);\nrequire(bundle);\n`,
  );
  return bin;
};

/** A small valid manifest with its package fields stated, so `validate` needs no package file. */
const writeSmallManifest = (root: string, dir: string): string => {
  const example = JSON.parse(readFileSync(join(root, 'examples/face-detector-1.0.0.manifest.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const packageBytes = readFileSync(join(root, 'examples/face-detector-1.0.0.tar.gz'));
  const file = join(dir, 'face-detector-1.0.0.manifest.json');
  writeFileSync(
    file,
    `${JSON.stringify({ ...example, package: { size: packageBytes.length, crc64: crc64(packageBytes) } }, null, 2)}\n`,
  );
  return file;
};

export const cliSubjects = (root: string, scratch: string, before: string): CliSubject[] => {
  const bin = join(root, 'bin/algolib.js');
  const manifest = writeSmallManifest(root, scratch);
  return [
    { name: 'bare', label: 'bare `node -e 0`', args: ['-e', '0'] },
    { name: 'version', label: '`algolib --version`', args: [bin, '--version'] },
    { name: 'validate', label: '`algolib validate <small manifest>`', args: [bin, 'validate', manifest] },
    { name: 'version-before', label: '`algolib --version`, one CommonJS bundle (before)', args: [before, '--version'] },
    {
      name: 'validate-before',
      label: '`algolib validate`, one CommonJS bundle (before)',
      args: [before, 'validate', manifest],
    },
  ];
};

/** `rounds` rounds after one unrecorded round; each round runs every subject once, in an order that rotates. */
export const measureCliStart = (subjects: CliSubject[], rounds: number, cwd: string): CliStart => {
  const wall: Record<string, number[]> = Object.fromEntries(subjects.map((subject) => [subject.name, []]));
  const run = (subject: CliSubject) => {
    const started = performance.now();
    const child = spawnSync(process.execPath, subject.args, { cwd, encoding: 'utf8', timeout: 30_000 });
    const ms = performance.now() - started;
    if (child.status !== 0) {
      throw new Error(`Expected ${subject.label} to exit 0, got ${child.status}: ${child.stderr.trim()}`);
    }
    return ms;
  };
  for (const subject of subjects) run(subject);
  for (let round = 0; round < rounds; round += 1) {
    for (let offset = 0; offset < subjects.length; offset += 1) {
      const subject = subjects[(round + offset) % subjects.length] as CliSubject;
      (wall[subject.name] as number[]).push(run(subject));
    }
  }
  return { subjects, wall, rounds };
};
