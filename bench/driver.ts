/**
 * The bench's driver process (`node dist/bench/index.js --driver`, forked with an IPC channel), for the jobs that must
 * not run in the emulators' process: the per-event comparison (it loads the function bundles and calls `initialize`
 * and `handler` itself, as an FC instance would, beside the bare SDK script) and the burst's publishers. The memory
 * run has a leaner host of its own (probe/memory-runner.cjs).
 */
import { randomUUID } from 'node:crypto';
import type { LocalCloudState } from '../local/cloud.ts';
import type { BarePair } from './bare-registration.ts';
import { ossEventOf, type Uploaded } from './events.ts';
import type { FunctionSetup } from './function-setup.ts';

type Handler = {
  initialize(context: unknown): void;
  handler(event: Buffer, context: unknown): Promise<string>;
};

export type PerEventRequest = {
  type: 'per-event';
  setup: FunctionSetup;
  bucket: string;
  /** Function bundles to run, by name; each gets its own events (a fresh pair each). */
  handlers: Array<{ name: string; bundle: string; events: Uploaded[] }>;
  barePairs: BarePair[];
  /** Pairs for the bare script that makes the handler's requests (`requests: 'same'`). */
  bareSamePairs: BarePair[];
  warmup: number;
};

/** Publishers, in a process of their own: each uploads its package, then its manifest, as `algolib publish` does. */
export type UploadRequest = {
  type: 'upload';
  oss: LocalCloudState['oss'];
  pairs: Array<{ packageKey: string; packageBytes: string; manifestKey: string; manifestBytes: string }>;
  concurrency: number;
};

export type DriverRequest = PerEventRequest | UploadRequest;

export type SeriesResult = { wallMs: number[]; cpuMs: number[]; outcomes: Record<string, number> };
export type PerEventResult = { type: 'per-event'; series: Record<string, SeriesResult> };
export type UploadResult = { type: 'upload'; seconds: number; cpuSeconds: number };

/** The FC context of an invocation (the fields the FC emulator's instance runner passes). */
export const contextOf = (setup: FunctionSetup, requestId: string) => ({
  requestId,
  credentials: setup.credentials,
  function: {
    name: 'register',
    handler: 'index.handler',
    memory: setup.memorySize,
    timeout: setup.timeoutSeconds,
    initializer: 'index.initialize',
    initializationTimeout: 10,
  },
  service: { name: 'algolib', logProject: '', logStore: '', qualifier: 'LATEST', versionId: '' },
  region: 'cn-shanghai',
  accountId: '1234567890123456',
});

const load = (bundle: string, setup: FunctionSetup): Handler => {
  Object.assign(process.env, setup.env);
  const loaded = require(bundle) as Handler;
  loaded.initialize(contextOf(setup, randomUUID()));
  return loaded;
};

const tally = (outcomes: Record<string, number>, result: string) => {
  const parsed = JSON.parse(result) as { results: Array<{ outcome: string; state?: string }> };
  for (const entry of parsed.results) {
    const label = entry.state ?? entry.outcome;
    outcomes[label] = (outcomes[label] ?? 0) + 1;
  }
};

const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

const perEvent = async (request: PerEventRequest): Promise<PerEventResult> => {
  const subjects: Array<{ name: string; run: (index: number) => Promise<string | undefined> }> = [];
  for (const { name, bundle, events } of request.handlers) {
    const fn = load(bundle, request.setup);
    subjects.push({
      name,
      run: (index) =>
        fn.handler(ossEventOf(request.bucket, events[index] as Uploaded), contextOf(request.setup, randomUUID())),
    });
  }
  // Required here, not imported: the memory run must not carry a second copy of the SDKs.
  const { createBareRegistration } = require('./bare-registration.ts') as typeof import('./bare-registration.ts');
  const bare = createBareRegistration(request.setup.env, request.setup.credentials);
  subjects.push({ name: 'bare', run: (index) => bare(request.barePairs[index] as BarePair).then(() => undefined) });
  const bareSame = createBareRegistration(request.setup.env, request.setup.credentials, 'same');
  subjects.push({
    name: 'bare-same',
    run: (index) => bareSame(request.bareSamePairs[index] as BarePair).then(() => undefined),
  });

  const series: Record<string, SeriesResult> = {};
  for (const { name } of subjects) series[name] = { wallMs: [], cpuMs: [], outcomes: {} };
  const rounds = request.barePairs.length;
  for (let round = 0; round < rounds; round += 1) {
    // Side by side: every round runs each subject once, in an order that rotates so none is always first.
    for (let offset = 0; offset < subjects.length; offset += 1) {
      const subject = subjects[(round + offset) % subjects.length] as (typeof subjects)[number];
      const entry = series[subject.name] as SeriesResult;
      const cpu = process.cpuUsage();
      const started = performance.now();
      const result = await subject.run(round);
      const wall = performance.now() - started;
      const cpuUsed = cpuMs(cpu);
      if (result !== undefined) tally(entry.outcomes, result);
      else entry.outcomes.REGISTERED = (entry.outcomes.REGISTERED ?? 0) + 1;
      if (round < request.warmup) continue;
      entry.wallMs.push(wall);
      entry.cpuMs.push(cpuUsed);
    }
  }
  return { type: 'per-event', series };
};

const upload = async (request: UploadRequest): Promise<UploadResult> => {
  const { createPublisher, inPool } = require('./fixtures.ts') as typeof import('./fixtures.ts');
  const publisher = createPublisher({ oss: request.oss } as LocalCloudState);
  const started = performance.now();
  await inPool(request.pairs, request.concurrency, async (pair) => {
    await publisher.put(pair.packageKey, Buffer.from(pair.packageBytes, 'base64'));
    await publisher.put(pair.manifestKey, Buffer.from(pair.manifestBytes, 'base64'));
  });
  const cpu = process.cpuUsage();
  return { type: 'upload', seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
};

const jobs = { 'per-event': perEvent, upload } as Record<DriverRequest['type'], (request: never) => Promise<unknown>>;

/** Serves one request from the parent, answers, and exits. */
export const runDriver = (): void => {
  process.once('message', (message: DriverRequest) => {
    const job = jobs[message.type](message as never);
    job.then(
      (result) => process.send?.(result, () => process.exit(0)),
      (error: unknown) => {
        process.send?.({ type: 'error', message: error instanceof Error ? error.stack : String(error) }, () =>
          process.exit(1),
        );
      },
    );
  });
};
