/**
 * Cold start: module load plus `initialize`, each in a fresh `node` process (bench/probe/cold-probe.cjs), subjects
 * interleaved round by round so that they share the machine's noise; plus CPU profiles of the shipped bundle's load.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { median } from './stats.ts';

export type ColdSubject = { name: string; label: string; module?: string; note?: string };

export type ColdSeries = {
  load: number[];
  init: number[];
  /** load + init, measured inside the process. */
  loadInit: number[];
  /** Node's own start, up to the probe's first line. */
  boot: number[];
  /** spawn to exit, from the parent. */
  wall: number[];
  rss: number[];
};

/** The function's environment for the probes: the variables it requires, with loopback endpoints nobody calls. */
export const probeEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  OSS_BUCKET: 'algolib-local',
  OSS_REGION: 'oss-cn-shanghai',
  OSS_ENDPOINT: 'http://127.0.0.1:9',
  CITYVISUAL_ENDPOINT: 'http://127.0.0.1:9',
  CITYVISUAL_INSTANCE_ID: 'cityvisual-local',
  CITYVISUAL_OSS_ENDPOINT: '127.0.0.1:9',
  CITYVISUAL_OSS_ACCESS_KEY_ID: 'LTAIcoldprobe',
  CITYVISUAL_OSS_ACCESS_KEY_SECRET: 'cold-probe-reader-secret',
  WEBHOOK_ENDPOINTS: JSON.stringify([
    { url: 'http://127.0.0.1:9/webhooks/algolib', secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] },
  ]),
});

const runProbe = (probe: string, subject: ColdSubject, execArgv: string[], env: NodeJS.ProcessEnv) => {
  const started = performance.now();
  const child = spawnSync(process.execPath, [...execArgv, probe, subject.module ?? '-'], {
    env,
    encoding: 'utf8',
    timeout: 30_000,
  });
  const wall = performance.now() - started;
  if (child.status !== 0) {
    throw new Error(`Expected the cold probe of ${subject.name} to exit 0, got ${child.status}: ${child.stderr}`);
  }
  const line = child.stdout.trim().split('\n').pop() ?? '';
  const parsed = JSON.parse(line) as { boot: number; load: number; init: number; rss: number };
  return { ...parsed, wall };
};

/** `rounds` rounds; each round starts every subject once, in an order that rotates. */
export const measureCold = (
  probe: string,
  subjects: ColdSubject[],
  rounds: number,
  execArgv: string[],
  env: NodeJS.ProcessEnv,
): Record<string, ColdSeries> => {
  const series: Record<string, ColdSeries> = {};
  for (const subject of subjects)
    series[subject.name] = { load: [], init: [], loadInit: [], boot: [], wall: [], rss: [] };
  // One unrecorded round first: the page cache and the CPU governor settle.
  for (const subject of subjects) runProbe(probe, subject, execArgv, env);
  for (let round = 0; round < rounds; round += 1) {
    for (let offset = 0; offset < subjects.length; offset += 1) {
      const subject = subjects[(round + offset) % subjects.length] as ColdSubject;
      const result = runProbe(probe, subject, execArgv, env);
      const entry = series[subject.name] as ColdSeries;
      entry.load.push(result.load);
      entry.init.push(result.init);
      entry.loadInit.push(result.load + result.init);
      entry.boot.push(result.boot);
      entry.wall.push(result.wall);
      entry.rss.push(result.rss);
    }
  }
  return series;
};

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
};
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

export type ProfileBreakdown = Record<string, number>;

/**
 * Where a cold start's CPU goes, from `--cpu-prof` profiles of the probe: self time inside the probe's require and
 * initialize, by kind. `wrapSafe` is V8 compiling the bundle's top level; a function's lazy compile on its first call
 * is counted with the code that called it.
 */
export const profileCold = (
  probe: string,
  subject: ColdSubject,
  runs: number,
  env: NodeJS.ProcessEnv,
  dir: string,
): { median: ProfileBreakdown; runs: number } => {
  const perRun: ProfileBreakdown[] = [];
  for (let run = 0; run < runs; run += 1) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    runProbe(probe, subject, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100'], env);
    const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
    if (!file) continue;
    perRun.push(categorize(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, subject.module ?? ''));
  }
  const kinds = [...new Set(perRun.flatMap((entry) => Object.keys(entry)))];
  return {
    median: Object.fromEntries(kinds.map((kind) => [kind, median(perRun.map((entry) => entry[kind] ?? 0))])),
    runs: perRun.length,
  };
};

const kindOf = (functionName: string, url: string, bundle: string): string => {
  if (functionName === 'wrapSafe' || functionName === 'compileFunction') return 'V8 compile of the bundle (top level)';
  if (url === bundle || url.endsWith('/index.js') || url.endsWith('/bundle.js'))
    return 'bundle code: module bodies, initialize, lazy compiles';
  if (url.startsWith('node:') || url === '') {
    if (/readFile|statSync|realpath|open|read/.test(functionName)) return 'reading files';
    return 'Node built-ins (load and run) and the module loader';
  }
  return 'other';
};

const categorize = (profile: CpuProfile, bundle: string): ProfileBreakdown => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const inProbe = new Map<number, boolean>();
  const underProbe = (id: number): boolean => {
    const known = inProbe.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    const up = parent.get(id);
    const result = Boolean(node?.callFrame.url.endsWith('cold-probe.cjs')) || (up !== undefined && underProbe(up));
    inProbe.set(id, result);
    return result;
  };
  const out: ProfileBreakdown = {};
  const add = (kind: string, ms: number) => {
    out[kind] = (out[kind] ?? 0) + ms;
  };
  for (const [index, id] of profile.samples.entries()) {
    const node = byId.get(id);
    if (!node) continue;
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    const { functionName, url } = node.callFrame;
    if (functionName === '(garbage collector)') {
      add('garbage collection', ms);
      continue;
    }
    if (!underProbe(id)) continue;
    add(kindOf(functionName, url, bundle), ms);
  }
  return out;
};
