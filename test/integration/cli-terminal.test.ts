/**
 * The CLI in a real terminal: each command runs under `script(1)` (util-linux), which gives it a pseudo-terminal
 * of a chosen width, and Ctrl-C is typed into that terminal (byte 0x03), so the kernel sends SIGINT as it does for
 * a person. Also `algolib dev` found from another folder through its per-user pointer. Needs `npm run build`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, EXAMPLE_MANIFEST, startCli, until, useCliCloud } from './cli-harness.ts';

const MiB = 1024 * 1024;
const shared = useCliCloud('cli-terminal');

const baseEnv = () => ({
  PATH: process.env.PATH ?? '',
  HOME: shared.dir,
  XDG_STATE_HOME: join(shared.dir, 'xdg-state'),
  TERM: 'xterm',
});

type Terminal = {
  child: ChildProcess;
  /** Everything the terminal showed so far, as bytes (escape sequences and carriage returns included). */
  output(): string;
  /** Types Ctrl-C. */
  interrupt(): void;
  exited: Promise<number | null>;
};

const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;

/** Runs the CLI in a pseudo-terminal `columns` wide (killed after 60 s so a hang fails instead of stalling). */
const inTerminal = (args: string[], columns = 80, env: Record<string, string> = {}): Terminal => {
  const command = `stty cols ${columns} rows 40; exec ${[process.execPath, CLI, ...args].map(quote).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { ...baseEnv(), ...env },
    timeout: 60_000,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return {
    child,
    output: () => output,
    interrupt: () => child.stdin?.write('\u0003'),
    exited: new Promise((done) => child.once('close', done)),
  };
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences are what this strips.
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** What a person reads: every frame a carriage return or newline separates, without escape sequences. */
const frames = (output: string): string[] => output.replace(ANSI, '').split(/\r\n|\r|\n/);

/** A package (gzip magic, then random bytes) and its manifest under a fresh name. */
const newPackage = (size: number) => {
  const name = `term-${randomBytes(3).toString('hex')}`;
  const packageFile = join(shared.dir, `${name}-1.0.0.tar.gz`);
  writeFileSync(packageFile, Buffer.concat([Buffer.from([0x1f, 0x8b]), randomBytes(size - 2)]));
  writeFileSync(
    join(shared.dir, `${name}-1.0.0.manifest.json`),
    JSON.stringify({ ...EXAMPLE_MANIFEST, name, version: '1.0.0' }),
  );
  return { name, packageFile, packageKey: `library/${name}/${name}-1.0.0.tar.gz` };
};

const local = () => ['--local', '--state-file', shared.stateFile];

describe('a terminal that fits', () => {
  it.each(['', 'publish', 'status', 'dev', 'deploy'])('fits %s --help to 80 columns and uses 120', async (command) => {
    const narrow = inTerminal([...(command ? [command] : []), '--help'], 80);
    const wide = inTerminal([...(command ? [command] : []), '--help'], 120);
    await Promise.all([narrow.exited, wide.exited]);

    const longest = (terminal: Terminal) => Math.max(...frames(terminal.output()).map((line) => line.length));
    expect(longest(narrow)).toBeLessThanOrEqual(80);
    expect(longest(wide)).toBeLessThanOrEqual(120);
    expect(longest(wide)).toBeGreaterThan(80);
  });

  it('shows the hashing pass and an upload bar that fits 80 columns, with no "0 B/s" or "NFs left"', async () => {
    const pkg = newPackage(20 * MiB);

    const terminal = inTerminal(
      ['publish', pkg.packageFile, ...local(), '--part-size', '1MiB', '--multipart-threshold', '1MiB'],
      80,
    );
    const code = await terminal.exited;

    expect(code).toBe(0);
    const shown = frames(terminal.output());
    expect(shown.some((frame) => frame.startsWith(`hashing ${pkg.name}-1.0.0.tar.gz [`))).toBe(true);
    expect(shown.some((frame) => /^uploading .* 100% 20\/20 MiB$/.test(frame))).toBe(true);
    const bars = shown.filter((frame) => /^(hashing|uploading) .*\[/.test(frame));
    expect(bars.length).toBeGreaterThan(1);
    expect(bars.filter((frame) => frame.length > 79)).toEqual([]);
    expect(shown.join('\n')).not.toMatch(/ 0 B\/s|NF|NaN|Infinity/);
    await shared.cloud.idle();
  });
});

describe('Ctrl-C', () => {
  it('during an upload aborts the multipart upload: "cancelled; nothing registered", exit 130, no parts left', async () => {
    const pkg = newPackage(4 * MiB);
    const counters = () => shared.cloud.oss.counters().requests;
    const aborts = counters().AbortMultipartUpload ?? 0;
    const parts = counters().UploadPart ?? 0;
    // Slow parts keep the upload going long enough to be interrupted midway.
    shared.cloud.oss.faults.set({ rules: [{ action: 'UploadPart', kind: 'slow', delayMs: 1_500 }] });

    const terminal = inTerminal([
      'publish',
      pkg.packageFile,
      ...local(),
      '--part-size',
      '1MiB',
      '--multipart-threshold',
      '1MiB',
      '--wait',
    ]);
    try {
      await until(() => (counters().UploadPart ?? 0) > parts);
      terminal.interrupt();
      const code = await terminal.exited;

      expect(code).toBe(130);
      expect(terminal.output()).toMatch(
        /\r\ncancelled; nothing registered \(multipart upload \S+ aborted, the manifest was not uploaded\)/,
      );
      expect((counters().AbortMultipartUpload ?? 0) - aborts).toBe(1);
      await expect(shared.client.head(pkg.packageKey)).rejects.toMatchObject({ status: 404 });
    } finally {
      shared.cloud.oss.faults.set({ rules: [] });
    }
  });

  it('during --wait stops waiting and says how to follow the registration, exit 130', async () => {
    // Outside the trigger's prefix the function never runs: the wait would go on until --timeout.
    const pkg = newPackage(1000);

    const terminal = inTerminal([
      'publish',
      pkg.packageFile,
      ...local(),
      '--prefix',
      'elsewhere/',
      '--wait',
      '--timeout',
      '50',
    ]);
    await until(() => terminal.output().includes(`registering ${pkg.name}@1.0.0`));
    terminal.interrupt();
    const code = await terminal.exited;

    expect(code).toBe(130);
    expect(frames(terminal.output())).toContain(
      `stopped waiting; the registration goes on: \`node bin/algolib.js status elsewhere/${pkg.name}/${pkg.name}-1.0.0.tar.gz --local --state-file ${shared.stateFile}\``,
    );
  });
});

describe('algolib dev, found from another folder', () => {
  it('points the per-user state at its state file, logs only outcomes with --quiet, and removes the pointer on exit', async () => {
    const project = mkdtempSync(join(shared.dir, 'project-'));
    const elsewhere = mkdtempSync(join(shared.dir, 'elsewhere-'));
    const xdg = join(shared.dir, `xdg-${randomBytes(3).toString('hex')}`);
    const env = { ...baseEnv(), XDG_STATE_HOME: xdg, NO_COLOR: '1' };
    const dev = startCli(['dev', '--quiet'], env, project);
    await until(() => dev.stderr().includes('Press Ctrl-C'));
    const pointer = join(xdg, 'algolib', 'dev.json');
    const pointed = JSON.parse(readFileSync(pointer, 'utf8')).stateFile;
    const pkg = newPackage(500);

    const publish = startCli(['publish', pkg.packageFile, '--local', '--wait'], env, elsewhere);
    const publishCode = await publish.exited;
    await until(() => dev.stderr().includes('webhook.delivery'));
    dev.child.kill('SIGINT');
    const devCode = await dev.exited;
    const log = dev.stderr();

    expect(pointed).toBe(join(project, '.algolib', 'dev.json'));
    expect(publishCode).toBe(0);
    expect(publish.stdout()).toContain(`registered ${pkg.name}@1.0.0`);
    expect(log).toMatch(/status\.written \S+ REGISTERED/);
    // --quiet: routine requests and expected outcomes stay out of the log.
    expect(log).not.toMatch(/PutObject|FileAlreadyExists|NoSuchKey/);
    expect(devCode).toBe(0);
    expect(existsSync(pointer)).toBe(false);
    expect(existsSync(join(project, '.algolib', 'dev.json'))).toBe(false);
  });
});
