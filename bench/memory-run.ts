/**
 * The parent's side of the memory run: forks bench/probe/memory-runner.cjs (the function's host, nothing else in it),
 * feeds it events in batches as it asks, and collects its samples.
 */
import { fork } from 'node:child_process';
import type { Uploaded } from './events.ts';
import type { FunctionSetup } from './function-setup.ts';

export type MemorySample = { events: number; rss: number; heapUsed: number; heapTotal: number; external: number };

export type MemoryResult = {
  samples: MemorySample[];
  /** After a forced full GC every `gcEvery` events: what the function keeps. */
  retained: MemorySample[];
  outcomes: Record<string, number>;
  failures: number;
  wallMs: number;
  cpuSeconds: number;
};

const BATCH = 200;

export const runMemory = (
  runner: string,
  options: {
    bundle: string;
    setup: FunctionSetup;
    context: Record<string, unknown>;
    bucket: string;
    events: Uploaded[];
    concurrency: number;
    execArgv: string[];
    /** Extra environment of the host process (e.g. MALLOC_ARENA_MAX), as NODE_OPTIONS-level settings would be. */
    processEnv?: Record<string, string>;
    timeoutMs: number;
  },
): Promise<MemoryResult> =>
  new Promise((resolve, reject) => {
    const child = fork(runner, [], {
      execArgv: options.execArgv,
      env: { ...process.env, ...options.processEnv },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    // The function's log lines: read, as FC's log pipe would be.
    child.stdout?.resume();
    let sent = 0;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Expected the memory run to finish within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    child.on('message', (message: { type: string } & Partial<MemoryResult> & { message?: string }) => {
      if (message.type === 'need') {
        child.send({ type: 'events', events: options.events.slice(sent, sent + BATCH) });
        sent += BATCH;
      } else if (message.type === 'done') {
        clearTimeout(timer);
        const { type: _type, ...result } = message;
        resolve(result as MemoryResult);
      } else if (message.type === 'error') {
        clearTimeout(timer);
        reject(new Error(message.message));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`Expected the memory runner to exit 0, got ${code}`));
    });
    child.send({
      type: 'start',
      bundle: options.bundle,
      env: options.setup.env,
      context: options.context,
      bucket: options.bucket,
      total: options.events.length,
      concurrency: options.concurrency,
      sampleEvery: 50,
      gcEvery: 1000,
    });
  });
