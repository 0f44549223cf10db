/** The bench's main process: builds the variants, runs the sections, writes the docs (see index.ts). */
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { projectRoot } from '../local/cloud.ts';
import { measureBurst } from './burst.ts';
import { buildCliBefore, cliSubjects, measureCliStart } from './cli-start.ts';
import { type ColdSubject, measureCold, probeEnv, profileCold } from './cold-start.ts';
import { measureFunctionRuns } from './function-runs.ts';
import { renderNotes } from './notes.ts';
import { measurePublishAnswer } from './publish-answer.ts';
import { type BenchReport, renderLatencySvg, renderMarkdown, verdicts } from './report.ts';
import { measureRequests } from './requests.ts';
import { buildVariants } from './variants.ts';

const SECTIONS = ['cold', 'cli', 'publish', 'requests', 'events', 'burst'] as const;
type Section = (typeof SECTIONS)[number];

/** The CLI of before the CLI-start and publish → answer work (the commit the helpers' work started from). */
const CLI_BASELINE_REF = process.env.BENCH_CLI_BASELINE_REF ?? 'eb57895';

/** The bench must stay bounded: past this the run is abandoned (a hung emulator, a wedged driver). */
// BENCH_WATCHDOG_MIN: longer on a machine shared with other work (a load average far above the cores).
const WATCHDOG_MS = Number(process.env.BENCH_WATCHDOG_MIN ?? 12) * 60 * 1000;

const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

const chooseScratch = (): string | undefined => {
  const wanted = process.env.BENCH_TMPDIR ?? '/dev/shm';
  if (wanted === '-') return undefined;
  try {
    accessSync(wanted, constants.W_OK);
    return mkdtempSync(join(wanted, 'algolib-bench-'));
  } catch {
    return undefined;
  }
};

const machine = () => ({
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  v8: process.versions.v8,
  os: `${process.platform} ${release()}`,
});

/**
 * `--render`: docs/bench.md written again from docs/bench.json, measuring nothing (after a change to the report's
 * prose or layout; the figures stay those of the recorded run).
 */
const renderAgain = (root: string) => {
  const docs = join(root, 'docs');
  const { targets: _targets, ...report } = JSON.parse(readFileSync(join(docs, 'bench.json'), 'utf8')) as BenchReport & {
    targets: unknown;
  };
  writeFileSync(join(docs, 'bench.md'), renderMarkdown(report, renderNotes(report)));
  const biome = join(root, 'node_modules/.bin/biome');
  if (existsSync(biome)) spawnSync(biome, ['format', '--write', join(docs, 'bench.md')], { stdio: 'ignore' });
  log(`wrote ${join(docs, 'bench.md')} from ${join(docs, 'bench.json')}`);
};

export const main = async (): Promise<void> => {
  if (process.argv.includes('--render')) {
    renderAgain(projectRoot());
    return;
  }
  // The emulators' files (objects, the library table) go to tmpfs when there is one: their disk is not what is
  // measured, and on a shared machine it is the noisiest part. BENCH_TMPDIR overrides; `-` keeps the default.
  const scratch = chooseScratch();
  if (scratch) process.env.TMPDIR = scratch;
  const cleanUp = () => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  };
  try {
    await run(scratch, cleanUp);
  } finally {
    cleanUp();
  }
};

const run = async (scratch: string | undefined, cleanUp: () => void): Promise<void> => {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const only = args.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
  const sections = new Set<Section>(only ? (only.split(',') as Section[]) : SECTIONS);
  const baselineRef =
    process.env.BENCH_BASELINE_REF === 'none' ? undefined : (process.env.BENCH_BASELINE_REF ?? 'cf8ec07');
  const root = projectRoot();
  const bundle = join(root, 'dist/register/index.js');
  if (!existsSync(bundle))
    throw new Error(`Expected the function bundle at ${bundle}: run \`node scripts/build.mjs\` first`);
  // The FC emulator forks its instances from instance-runner.cjs beside the bundle that runs it: this one.
  copyFileSync(join(root, 'local/fc/instance-runner.cjs'), join(__dirname, 'instance-runner.cjs'));
  const watchdog = setTimeout(() => {
    log(`gave up after ${WATCHDOG_MS / 60000} minutes`);
    cleanUp();
    process.exit(2);
  }, WATCHDOG_MS);
  watchdog.unref();

  const started = Date.now();
  const load: Array<{ section: string; at: 'start' | 'end'; loadavg: number[] }> = [];
  const results: Partial<BenchReport> = {};
  const section = async <T>(name: string, run: () => Promise<T> | T): Promise<T> => {
    load.push({ section: name, at: 'start', loadavg: loadavg() });
    const t0 = performance.now();
    log(`${name}…`);
    const result = await run();
    log(`${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    load.push({ section: name, at: 'end', loadavg: loadavg() });
    return result;
  };

  const env = probeEnv();
  const probe = join(root, 'bench/probe/cold-probe.cjs');
  const variants = await section('build variants', () => buildVariants(root, baselineRef, env));
  results.variants = variants;

  if (sections.has('cold')) {
    const subjects: ColdSubject[] = [
      { name: 'bare', label: 'bare `node` (nothing loaded)' },
      {
        name: 'naive',
        label: 'naive: ali-oss + pop-core from node_modules',
        module: join(root, 'bench/probe/naive-handler.cjs'),
      },
      ...(variants.before ? [variants.before] : []),
      variants.after,
      ...variants.experiments,
    ];
    const rounds = quick ? 5 : 21;
    results.cold = await section('cold start (plain node)', () => measureCold(probe, subjects, rounds, [], env));
    // The FC emulator starts instances with a V8 heap cap; any V8 flag also turns off Node's built-in code cache.
    const flagged = subjects;
    results.coldFlags = ['--max-old-space-size=256'];
    results.coldFlagged = await section('cold start (as FC emulator instances)', () =>
      measureCold(probe, flagged, quick ? 5 : 15, ['--max-old-space-size=256'], env),
    );
    results.components = await section('cold start components', () =>
      measureCold(probe, [{ name: 'bare', label: 'bare' }, ...variants.components], quick ? 3 : 11, [], env),
    );
    results.profile = await section('cold start profile', () =>
      profileCold(probe, variants.after, quick ? 2 : 7, env, join(root, 'dist/bench/profiles')),
    );
  }
  if (sections.has('cli') || sections.has('publish')) {
    const cliScratch = join(root, 'dist/bench/cli');
    rmSync(cliScratch, { recursive: true, force: true });
    mkdirSync(cliScratch, { recursive: true });
    const before = await section('build the CLI before', () =>
      buildCliBefore(root, join(cliScratch, 'cli-commonjs'), baselineRef === undefined ? undefined : CLI_BASELINE_REF),
    );
    if (sections.has('cli')) {
      results.cliStart = await section('CLI start', () =>
        measureCliStart(cliSubjects(root, cliScratch, before), quick ? 5 : 21, root),
      );
    }
    if (sections.has('publish')) {
      const bin = join(root, 'bin/algolib.js');
      results.publishAnswer = await section('publish → answer', () =>
        measurePublishAnswer(
          root,
          cliScratch,
          [
            { name: 'wait', label: '`algolib publish --wait`', cli: bin, args: ['--wait'] },
            { name: 'upload', label: '`algolib publish` (no --wait: start, validation, uploads)', cli: bin, args: [] },
            { name: 'wait-before', label: '`algolib publish --wait` before', cli: before, args: ['--wait'] },
          ],
          quick ? 4 : 15,
        ),
      );
    }
  }
  if (sections.has('requests')) results.requests = await section('requests per registration', measureRequests);
  if (sections.has('events')) {
    results.functionRuns = await section('per event and memory', () =>
      measureFunctionRuns(
        root,
        [
          { name: 'after', bundle: variants.after.module },
          ...(variants.before ? [{ name: 'before', bundle: variants.before.module }] : []),
          // The SDK clients' variant (as shipped before): the same events through it.
          ...variants.experiments
            .filter((variant) => variant.name === 'sdk-clients')
            .map((variant) => ({ name: variant.name, bundle: variant.module })),
        ],
        {
          rounds: quick ? 30 : 200,
          warmup: quick ? 5 : 20,
          memoryEvents: quick ? 1000 : 10_000,
          cappedEvents: quick ? 500 : 3000,
          timeoutMs: 6 * 60 * 1000,
        },
      ),
    );
  }
  if (sections.has('burst')) {
    const burst = (maxInstances: number) => () =>
      measureBurst({
        pairs: quick ? 200 : 1000,
        maxInstances,
        instanceConcurrency: 10,
        uploadConcurrency: 64,
        timeoutMs: 5 * 60 * 1000,
      });
    // The FC emulator's default first (BENCH_BURST_INSTANCES changes it), then fewer instances on the same cores.
    const primary = Number(process.env.BENCH_BURST_INSTANCES ?? 4);
    results.burst = await section(`burst (${primary} instances)`, burst(primary));
    results.burstSweep = [];
    for (const instances of [2, 1].filter((count) => count !== primary)) {
      results.burstSweep.push(await section(`burst (${instances} instances)`, burst(instances)));
    }
  }

  const report: BenchReport = {
    command: 'npm run bench',
    quick,
    sections: [...sections],
    startedAt: new Date(started).toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
    machine: machine(),
    emulatorDataDir: scratch ? dirname(scratch) : tmpdir(),
    loadavg: load,
    baselineRef: baselineRef ?? null,
    ...results,
  };
  // Only a full run writes the committed docs; a quick or partial one writes beside the bench's bundle.
  const docs = quick || only ? join(root, 'dist/bench/report') : join(root, 'docs');
  mkdirSync(docs, { recursive: true });
  writeFileSync(join(docs, 'bench.json'), `${JSON.stringify({ targets: verdicts(report), ...report }, null, 2)}\n`);
  writeFileSync(join(docs, 'bench.md'), renderMarkdown(report, renderNotes(report)));
  if (report.burst) writeFileSync(join(docs, 'bench-latency.svg'), renderLatencySvg(report));
  // The project's formatter lays out the tables and the JSON, so that `biome check .` stays clean after a run.
  const biome = join(root, 'node_modules/.bin/biome');
  const written = ['bench.md', 'bench.json'].map((file) => join(docs, file));
  if (existsSync(biome)) spawnSync(biome, ['format', '--write', ...written], { stdio: 'ignore' });
  log(
    `wrote ${['bench.md', 'bench.json', ...(report.burst ? ['bench-latency.svg'] : [])].map((file) => join(dirname(join(docs, file)), file)).join(', ')} in ${report.seconds} s`,
  );
};
