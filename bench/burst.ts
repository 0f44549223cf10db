/**
 * Burst: N pairs dropped at once on the local cloud (OSS → FC emulator with child-process instances → OSS,
 * CityVisual, webhooks), all in this machine's cores. Latency runs from the moment OSS stored the manifest to the
 * moment the terminal status was written (the last status PUT before the pair's webhook arrived).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startLocalCloud } from '../local/cloud.ts';
import type { StatusDocument } from '../shared/status.ts';
import type { UploadResult } from './driver.ts';
import { inDriver } from './driver-process.ts';
import { createPublisher, inPool, newPair, type Pair } from './fixtures.ts';
import { type Summary, summarize } from './stats.ts';

export type BurstResult = {
  pairs: number;
  maxInstances: number;
  instanceConcurrency: number;
  uploadConcurrency: number;
  /** From the first upload to the last terminal status. */
  seconds: number;
  uploadSeconds: number;
  registrationsPerSecond: number;
  latencyMs: Summary;
  latencies: number[];
  states: Record<string, number>;
  createAlgoLibCalls: number;
  ossRequestsPerPair: number;
  ossByOp: Record<string, number>;
  cityvisualByAction: Record<string, number>;
  fc: Record<string, number>;
  /** The function's log lines by step (claim.busy: an event that waited for another's claim). */
  steps: Record<string, number>;
  /**
   * CPU seconds over the burst, by process: the bench's own (the emulators: OSS, CityVisual, FC's dispatcher, the
   * webhook receiver), the function's instances (from /proc), the publishers'. `emulatorLoopBusy` is the event-loop
   * utilization of the emulators' process: near 1, it is the bottleneck.
   */
  cpuSeconds: { emulators: number; instances: number | undefined; publishers: number };
  emulatorLoopBusy: number;
  unmatched: number;
};

type Entry = Record<string, unknown>;

export const measureBurst = async (options: {
  pairs: number;
  maxInstances: number;
  uploadConcurrency: number;
  timeoutMs: number;
  instanceConcurrency: number;
}): Promise<BurstResult> => {
  const manifestStored = new Map<string, number>();
  const statusPuts = new Map<string, number[]>();
  const webhookAt = new Map<string, number>();
  const steps: Record<string, number> = {};
  const instancePids: number[] = [];
  const log = (entry: Entry) => {
    const at = performance.now();
    if (entry.service === 'fc' && entry.event === 'instance-started' && typeof entry.pid === 'number') {
      instancePids.push(entry.pid);
      return;
    }
    if (entry.service === 'fc' && entry.stream === 'stdout') {
      const step = /"step":"([^"]+)"/.exec(String(entry.line))?.[1];
      if (step) steps[step] = (steps[step] ?? 0) + 1;
      return;
    }
    if (entry.service === 'oss' && entry.op === 'PutObject' && entry.status === 200) {
      const key = String(entry.key);
      if (key.endsWith('.manifest.json')) manifestStored.set(key, at);
      else if (key.startsWith('status/') && !key.startsWith('status/.claims/')) {
        const times = statusPuts.get(key) ?? [];
        times.push(at);
        statusPuts.set(key, times);
      }
    } else if (entry.service === 'webhook' && entry.verified === true && !webhookAt.has(String(entry.id))) {
      webhookAt.set(String(entry.id), at);
    }
  };
  const cloud = await startLocalCloud({ stateFile: false, fc: { maxInstances: options.maxInstances }, log });
  try {
    const publisher = createPublisher(cloud.state);
    const pairs: Pair[] = Array.from({ length: options.pairs }, (_, index) => newPair('burst', index));
    cloud.oss.resetCounters();
    cloud.cityvisual.resetCounters();
    const cpuBefore = process.cpuUsage();
    const loopBefore = performance.eventLoopUtilization();
    const started = performance.now();
    // The publishers run in a process of their own (they are not the pipeline), all of them at once.
    const upload = await inDriver<UploadResult>(
      {
        type: 'upload',
        oss: cloud.state.oss,
        pairs: pairs.map((pair) => ({
          packageKey: pair.packageKey,
          packageBytes: pair.packageBytes.toString('base64'),
          manifestKey: pair.manifestKey,
          manifestBytes: pair.manifestBytes.toString('base64'),
        })),
        concurrency: options.uploadConcurrency,
      },
      [],
      options.timeoutMs,
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      cloud.idle(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Expected the burst to finish within ${options.timeoutMs} ms`)),
          options.timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    const emulatorCpu = process.cpuUsage(cpuBefore);
    const loop = performance.eventLoopUtilization(loopBefore);
    const instanceCpu = instancePids.map(procCpuSeconds);

    const ossByOp = cloud.oss.counters().requests;
    const cityvisualByAction = cloud.cityvisual.counters().requests;
    const deliveryOf = new Map<string, string>();
    for (const delivery of cloud.receiver?.deliveries() ?? []) {
      const key = (delivery.body as { data?: StatusDocument }).data?.package.key;
      if (key && delivery.verified && !deliveryOf.has(key)) deliveryOf.set(key, delivery.id);
    }
    const latencies: number[] = [];
    const states: Record<string, number> = {};
    let finished = started;
    let unmatched = 0;
    for (const pair of pairs) {
      const stored = manifestStored.get(pair.manifestKey);
      const id = deliveryOf.get(pair.packageKey);
      const delivered = id === undefined ? undefined : webhookAt.get(id);
      const puts = statusPuts.get(pair.statusKey) ?? [];
      const terminal = delivered === undefined ? undefined : puts.filter((at) => at <= delivered).pop();
      if (stored === undefined || terminal === undefined) {
        unmatched += 1;
        continue;
      }
      latencies.push(terminal - stored);
      finished = Math.max(finished, terminal);
    }
    await inPool(pairs, 32, async (pair) => {
      const state = (await publisher.getJson<StatusDocument>(pair.statusKey))?.state ?? 'missing';
      states[state] = (states[state] ?? 0) + 1;
    });
    const { invocations, succeeded, failed, retries, timeouts, crashes, instancesStarted } = cloud.fc.stats();
    const seconds = (finished - started) / 1000;
    const publisherPuts = 2 * options.pairs;
    const ossTotal = Object.values(ossByOp).reduce((sum, count) => sum + count, 0) - publisherPuts;
    return {
      pairs: options.pairs,
      maxInstances: options.maxInstances,
      instanceConcurrency: options.instanceConcurrency,
      uploadConcurrency: options.uploadConcurrency,
      seconds,
      uploadSeconds: upload.result.seconds,
      registrationsPerSecond: (states.REGISTERED ?? 0) / seconds,
      latencyMs: summarize(latencies),
      latencies,
      states,
      createAlgoLibCalls: cityvisualByAction.CreateAlgoLib ?? 0,
      ossRequestsPerPair: ossTotal / options.pairs,
      ossByOp,
      cityvisualByAction,
      fc: { invocations, succeeded, failed, retries, timeouts, crashes, instancesStarted },
      steps,
      cpuSeconds: {
        emulators: (emulatorCpu.user + emulatorCpu.system) / 1e6,
        instances: instanceCpu.every((value) => value !== undefined)
          ? instanceCpu.reduce<number>((sum, value) => sum + (value ?? 0), 0)
          : undefined,
        publishers: upload.result.cpuSeconds,
      },
      emulatorLoopBusy: loop.utilization,
      unmatched,
    };
  } finally {
    await cloud.close();
  }
};

const clockTicks = (() => {
  const answer = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  return Number(answer.stdout) || 100;
})();

/** User + system CPU seconds of a live process, from /proc (Linux); `undefined` elsewhere or when it is gone. */
const procCpuSeconds = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return undefined;
  }
};
