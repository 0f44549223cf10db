/**
 * The handler run in a driver process of its own against a running local cloud: per-event wall and CPU time beside
 * the bare SDK script, and memory over many events. The cloud's triggers watch another prefix here, so that the FC
 * emulator does not race the driver for the events the bench uploads.
 */
import { join } from 'node:path';
import { startLocalCloud } from '../local/cloud.ts';
import type { BarePair } from './bare-registration.ts';
import { contextOf, type PerEventResult } from './driver.ts';
import { inDriver } from './driver-process.ts';
import { createPublisher, inPool, newPair, type Pair, type Uploaded } from './fixtures.ts';
import { functionSetup } from './function-setup.ts';
import { type MemoryResult, runMemory } from './memory-run.ts';

export type FunctionRuns = {
  perEvent: PerEventResult;
  memory: MemoryResult;
  memorySettings: { events: number; pairs: number; concurrency: number; execArgv: string[] };
  /** The same memory run, shorter, with process settings a deployment could make (not shipped): what each buys. */
  memoryExperiments: Array<{ label: string; result: MemoryResult; events: number }>;
  logLines: number;
};

const barePairOf = (pair: Pair): BarePair => ({
  name: pair.name,
  packageKey: pair.packageKey,
  manifestKey: pair.manifestKey,
  statusKey: pair.statusKey,
});

export const measureFunctionRuns = async (
  root: string,
  bundles: Array<{ name: string; bundle: string }>,
  options: { rounds: number; warmup: number; memoryEvents: number; cappedEvents: number; timeoutMs: number },
): Promise<FunctionRuns> => {
  const cloud = await startLocalCloud({ stateFile: false, parameters: { PackagePrefix: 'bench-unwatched/' } });
  try {
    const publisher = createPublisher(cloud.state);
    const bucket = cloud.state.oss.bucket;
    const upload = async (pairs: Pair[]): Promise<Uploaded[]> =>
      inPool(pairs, 32, async (pair) => {
        await publisher.put(pair.packageKey, pair.packageBytes);
        return publisher.put(pair.manifestKey, pair.manifestBytes);
      });

    // Per event: the clean path without webhooks, against the bare script with the handler's requests and with the
    // first design's five.
    const rounds = options.rounds + options.warmup;
    const handlers = [];
    for (const { name, bundle } of bundles) {
      const pairs = Array.from({ length: rounds }, (_, index) => newPair(`ev${name}`, index));
      handlers.push({ name, bundle, events: await upload(pairs) });
    }
    const barePairs = Array.from({ length: rounds }, (_, index) => newPair('evbare', index));
    await upload(barePairs);
    const bareSamePairs = Array.from({ length: rounds }, (_, index) => newPair('evbaresame', index));
    await upload(bareSamePairs);
    const perEvent = await inDriver<PerEventResult>(
      {
        type: 'per-event',
        setup: functionSetup(cloud, root, { webhooks: false }),
        bucket,
        handlers,
        barePairs: barePairs.map(barePairOf),
        bareSamePairs: bareSamePairs.map(barePairOf),
        warmup: options.warmup,
      },
      [],
      options.timeoutMs,
    );

    // Memory: the deployed shape (webhooks on, InstanceConcurrency in flight, the V8 heap capped at MemorySize as
    // the FC emulator does) over registrations and their duplicate deliveries.
    const setup = functionSetup(cloud, root, { webhooks: true });
    const pairCount = Math.ceil(options.memoryEvents / 2);
    const manifests = await upload(Array.from({ length: pairCount }, (_, index) => newPair('mem', index)));
    const events = [...manifests, ...manifests].slice(0, options.memoryEvents);
    const execArgv = ['--expose-gc', `--max-old-space-size=${setup.memorySize}`];
    const runner = join(root, 'bench/probe/memory-runner.cjs');
    const bundle = bundles[0]?.bundle ?? '';
    const memoryRun = (events: Uploaded[], argv: string[], processEnv: Record<string, string> = {}) =>
      runMemory(runner, {
        processEnv,
        bundle,
        setup,
        context: contextOf(setup, 'memory'),
        bucket,
        events,
        concurrency: setup.instanceConcurrency,
        execArgv: argv,
        timeoutMs: options.timeoutMs,
      });
    const memory = await memoryRun(events, execArgv);
    // Experiments, each on fresh pairs: V8's young generation capped (it grows to 16 MiB per semi-space under this
    // load), glibc's malloc arenas capped (one per thread by default), both.
    const experiments = [
      { label: '--max-semi-space-size=8', argv: ['--max-semi-space-size=8'], env: {} },
      { label: 'MALLOC_ARENA_MAX=2', argv: [], env: { MALLOC_ARENA_MAX: '2' } },
      { label: 'both', argv: ['--max-semi-space-size=8'], env: { MALLOC_ARENA_MAX: '2' } },
    ];
    const memoryExperiments = [];
    for (const [index, experiment] of experiments.entries()) {
      const pairs = Array.from({ length: Math.ceil(options.cappedEvents / 2) }, (_, n) => newPair(`memx${index}`, n));
      const uploaded = await upload(pairs);
      const result = await memoryRun(
        [...uploaded, ...uploaded].slice(0, options.cappedEvents),
        [...execArgv, ...experiment.argv],
        experiment.env,
      );
      memoryExperiments.push({ label: experiment.label, result, events: options.cappedEvents });
    }
    return {
      perEvent: perEvent.result,
      memory,
      memoryExperiments,
      memorySettings: { events: events.length, pairs: pairCount, concurrency: setup.instanceConcurrency, execArgv },
      logLines: perEvent.lines,
    };
  } finally {
    await cloud.close();
  }
};
