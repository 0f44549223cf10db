/**
 * Publish → answer: `algolib publish --wait` of a small package on a local cloud running in this process, against
 * its floor measured in the same run: `algolib publish` without --wait (the CLI's start, validation and both
 * uploads, to exit) plus the function's work (from OSS storing the manifest to the terminal status PUT, from the
 * emulators' log). The subjects are interleaved round by round in rotating order, each on a fresh pair, and the
 * cloud is idle before each one starts, so they never overlap.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startLocalCloud } from '../local/cloud.ts';

export type PublishSubject = { name: string; label: string; cli: string; args: string[] };

export type PublishRun = {
  /** Spawn to exit. */
  wallMs: number;
  /** Spawn to OSS storing the manifest. */
  toManifestMs: number | undefined;
  /** OSS storing the manifest to the terminal status PUT: the function's work, trigger delivery included. */
  functionMs: number | undefined;
  /** Status GETs the CLI made (its polls). */
  statusReads: number;
};

export type PublishAnswer = { subjects: PublishSubject[]; runs: Record<string, PublishRun[]>; rounds: number };

type Entry = Record<string, unknown>;

const run = randomBytes(3).toString('hex');

/** A gzip package and its manifest (without `package`: publish fills it), named `<name>-1.0.0.*` in `dir`. */
const writePair = (root: string, dir: string, name: string): string => {
  const example = JSON.parse(readFileSync(join(root, 'examples/face-detector-1.0.0.manifest.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const { package: _filled, ...manifest } = example;
  const packageFile = join(dir, `${name}-1.0.0.tar.gz`);
  writeFileSync(packageFile, gzipSync(randomBytes(2048)));
  writeFileSync(
    join(dir, `${name}-1.0.0.manifest.json`),
    `${JSON.stringify({ ...manifest, name, version: '1.0.0' })}\n`,
  );
  return packageFile;
};

const spawnTimed = (args: string[], cwd: string, timeoutMs: number) =>
  new Promise<{ startedAt: number; exitedAt: number; stderr: string }>((resolve, reject) => {
    const startedAt = performance.now();
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      const exitedAt = performance.now();
      clearTimeout(timer);
      if (code === 0) resolve({ startedAt, exitedAt, stderr });
      else
        reject(new Error(`Expected \`algolib ${args.slice(1).join(' ')}\` to exit 0, got ${code}: ${stderr.trim()}`));
    });
  });

/**
 * `subjects` are CLIs (their bin script) and the extra arguments of each (`--wait` or not); every subject publishes
 * a pair of its own per round.
 */
export const measurePublishAnswer = async (
  root: string,
  scratch: string,
  subjects: PublishSubject[],
  rounds: number,
): Promise<PublishAnswer> => {
  const manifestStored = new Map<string, number>();
  const statusPuts = new Map<string, number[]>();
  const statusGets = new Map<string, number>();
  const written = new Map<string, number>();
  const log = (entry: Entry) => {
    const at = performance.now();
    if (entry.service === 'fc' && entry.stream === 'stdout') {
      const line = String(entry.line);
      const key = /"key":"([^"]+)"/.exec(line)?.[1];
      if (key && line.includes('"step":"status.written"') && !written.has(nameOf(key))) written.set(nameOf(key), at);
      return;
    }
    if (entry.service !== 'oss' || typeof entry.key !== 'string') return;
    const key = entry.key;
    if (entry.op === 'PutObject' && entry.status === 200 && key.endsWith('.manifest.json')) {
      manifestStored.set(nameOf(key), at);
    } else if (key.startsWith('status/') && !key.startsWith('status/.')) {
      if (entry.op === 'PutObject') statusPuts.set(nameOf(key), [...(statusPuts.get(nameOf(key)) ?? []), at]);
      if (entry.op === 'GetObject') statusGets.set(nameOf(key), (statusGets.get(nameOf(key)) ?? 0) + 1);
    }
  };
  const dir = join(scratch, 'publish-answer');
  mkdirSync(dir, { recursive: true });
  const stateFile = join(dir, 'dev.json');
  const cloud = await startLocalCloud({ stateFile, log });
  const runs: Record<string, PublishRun[]> = Object.fromEntries(subjects.map((subject) => [subject.name, []]));
  try {
    const once = async (subject: PublishSubject, label: string): Promise<PublishRun> => {
      const name = `bp${run}${label}`;
      const packageFile = writePair(root, dir, name);
      const { startedAt, exitedAt } = await spawnTimed(
        [subject.cli, 'publish', packageFile, '--local', '--state-file', stateFile, ...subject.args],
        root,
        60_000,
      );
      await cloud.idle();
      const manifestAt = manifestStored.get(name);
      const doneAt = written.get(name);
      // The terminal status PUT: the last status PUT before the function logged `status.written`.
      const terminalAt = (statusPuts.get(name) ?? []).filter((at) => doneAt !== undefined && at <= doneAt).at(-1);
      return {
        wallMs: exitedAt - startedAt,
        toManifestMs: manifestAt === undefined ? undefined : manifestAt - startedAt,
        functionMs: manifestAt === undefined || terminalAt === undefined ? undefined : terminalAt - manifestAt,
        statusReads: statusGets.get(name) ?? 0,
      };
    };
    // One unrecorded round: the function's instance starts, the page cache settles.
    for (const subject of subjects) await once(subject, `warm${subject.name.replace(/[^a-z0-9]/gi, '')}`);
    for (let round = 0; round < rounds; round += 1) {
      for (let offset = 0; offset < subjects.length; offset += 1) {
        const subject = subjects[(round + offset) % subjects.length] as PublishSubject;
        (runs[subject.name] as PublishRun[]).push(
          await once(subject, `r${round}${subject.name.replace(/[^a-z0-9]/gi, '')}`),
        );
      }
    }
  } finally {
    await cloud.close();
  }
  return { subjects, runs, rounds };
};

/** `library/<name>/<name>-1.0.0.manifest.json` or `status/library/<name>/<name>-1.0.0.json` → `<name>`. */
const nameOf = (key: string): string => /([^/]+)-1\.0\.0\.(?:tar\.gz|manifest\.json|json)$/.exec(key)?.[1] ?? key;
