/**
 * The soak: N pairs published concurrently with the real ali-oss client to the local cloud, each event delivered up
 * to D times, seeded CityVisual and OSS faults of every kind, FC instances killed at random; then the queue drains,
 * the dead letters are replayed the way an operator would, and the invariants are judged. `proving/soak.ts` is the
 * command line; `test/integration/soak.test.ts` runs a small seeded one in CI.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalCloud, projectRoot, startLocalCloud } from '../local/cloud.ts';
import { createRandom } from '../local/faults.ts';
import type { RegistrationState } from '../shared/status.ts';
import { createCanaries, createLeakScanner, type LeakHit } from './canary.ts';
import { cityVisualFaults, ossFaults } from './fault-plans.ts';
import { createObserver, type Observer } from './observer.ts';
import { type PairKind, type PlannedPair, planPairs } from './plan.ts';
import { createPublisher, type Publisher } from './publisher.ts';
import { writeSoakTemplate } from './soak-template.ts';
import { forEachLimit, judge, readSnapshot, type Verdict } from './verify.ts';

export type SoakOptions = {
  pairs: number;
  /** Each object event is delivered 1 to `dup` times (seeded). */
  dup: number;
  /** Share of CityVisual requests that get a fault, all kinds alike. */
  cvFaults: number;
  /** Share of OSS requests (the function's and the publisher's) that get a fault. */
  ossFaults: number;
  /** Share of invocations whose instance is killed. */
  crash: number;
  seed: number;
  /** Pairs in flight at once (each one a publisher that uploads, then waits for the answer). */
  concurrency: number;
  /** FC instances at most (each serves the template's InstanceConcurrency invocations). */
  instances: number;
  /** The function's Timeout in the soak's template copy: a crashed claim expires after it. */
  timeoutSeconds: number;
  /** FC's async retry backoff base. */
  asyncRetryBaseMs: number;
  /** Rounds of dead-letter replay at most. */
  replayRounds: number;
  /** Progress lines (e.g. to stderr). */
  progress?: (line: string) => void;
};

export const DEFAULT_SOAK_OPTIONS: Omit<SoakOptions, 'pairs' | 'seed'> = {
  dup: 3,
  cvFaults: 0.2,
  ossFaults: 0.05,
  crash: 0.02,
  concurrency: 32,
  instances: 4,
  timeoutSeconds: 10,
  asyncRetryBaseMs: 1_000,
  replayRounds: 3,
};

/** CityVisual's per-attempt timeout in the soak: a `slow` fault longer than this creates after the client gave up. */
const CITYVISUAL_TIMEOUT_MS = 1_000;
const FINISHED: readonly RegistrationState[] = ['REGISTERED', 'REJECTED', 'CONFLICT'];

export type Invariant = { name: string; ok: boolean; value: string; detail?: string[] };

export type SoakReport = {
  options: Omit<SoakOptions, 'progress'>;
  ok: boolean;
  durationMs: number;
  pairs: { total: number; byKind: Partial<Record<PairKind, number>> };
  deliveries: { notifications: number; redeliveries: number; replays: number };
  fc: ReturnType<LocalCloud['fc']['stats']>;
  deadLetters: number;
  cityvisual: { createCalls: number; describeCalls: number; created: number; libraries: number };
  /** After the queue drained, before any replay. */
  drained: Verdict;
  /** After replaying the dead letters. */
  final: Verdict;
  replayRounds: number;
  latency: { samples: number; medianMs: number; p99Ms: number; maxMs: number };
  faults: { oss: Record<string, number>; cityvisual: Record<string, number> };
  errorClasses: Record<string, number>;
  errorSamples: Record<string, string[]>;
  /** `canaries`: secrets handed out (the fixed ones plus two per FC instance), each carrying the marker searched for. */
  leaks: { hits: LeakHit[]; canaries: number; scanned: ReturnType<ReturnType<typeof createLeakScanner>['scanned']> };
  invariants: Invariant[];
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves to whether `promise` settled within `ms`; the timer never outlives the race. */
const within = async (promise: Promise<unknown>, ms: number): Promise<boolean> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
};

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);

/** Uploads one pair in its order, re-delivering each half's event as planned; resolves when the pair is complete. */
const publishPair = async (
  pair: PlannedPair,
  cloud: LocalCloud,
  publisher: Publisher,
  redeliveries: Set<Promise<void>>,
  counts: { notifications: number; redeliveries: number },
): Promise<number> => {
  const halves = [
    { half: 'package' as const, key: pair.packageKey, bytes: pair.packageBytes, multipart: pair.multipart },
    { half: 'manifest' as const, key: pair.manifestKey, bytes: pair.manifestBytes, multipart: false },
  ];
  if (pair.order === 'manifest-first') halves.reverse();
  for (const { half, key, bytes, multipart } of halves) {
    const { record } = await publisher.upload(key, bytes, { multipart });
    counts.notifications += 1;
    for (const delay of pair.redeliveryDelays[half]) {
      const delivery = sleep(delay).then(() => {
        counts.redeliveries += 1;
        cloud.fc.dispatchOssEvent({ ...record, eventTime: new Date().toISOString() });
      });
      redeliveries.add(delivery);
      void delivery.finally(() => redeliveries.delete(delivery));
    }
  }
  return Date.now();
};

const invariant = (name: string, ok: boolean, value: string | number, detail?: string[]): Invariant => ({
  name,
  ok,
  value: String(value),
  ...(detail && detail.length > 0 ? { detail: detail.slice(0, 10) } : {}),
});

/** An invariant that holds when `found` is empty. */
const none = (name: string, found: string[]) => invariant(name, found.length === 0, found.length, found);

/** The invariants of docs/reliability.md, on the verdicts after the drain and after the replay. */
const invariantsOf = (total: number, drained: Verdict, final: Verdict, hits: LeakHit[], drainedInTime: boolean) => [
  none('libraries per name ≤ 1 (duplicates)', final.duplicates),
  none('lost after drain (no terminal status, no dead letter)', drained.lost),
  none('stuck PENDING after drain (no dead letter)', drained.stuckPending),
  none('wrong outcome', [...drained.wrong, ...final.wrong]),
  invariant(
    'terminal after dead-letter replay',
    final.ok === total,
    `${final.ok}/${total} (${((100 * final.ok) / Math.max(1, total)).toFixed(2)}%)`,
    [...final.lost, ...final.parked],
  ),
  none('REGISTERED algoLibId = CityVisual id', final.idMismatch),
  none('libraries without a REGISTERED status', final.orphans),
  none('invalid manifests that reached CreateAlgoLib', final.invalidCreated),
  none('terminal outcomes without a verified webhook', final.webhooks.missing),
  invariant('unverified webhook deliveries', final.webhooks.unverified === 0, final.webhooks.unverified),
  none(
    'secret canary hits',
    hits.map((hit) => `${hit.where}: ${hit.secret}: ${hit.excerpt}`),
  ),
  invariant('queue drained', drainedInTime, drainedInTime ? 'yes' : 'no'),
  none('stray objects under status/', final.strays),
  none('version streams not at the highest version answered', final.versions.notHighest),
  none('version streams where the library moved down or was created twice', final.versions.notRising),
  none('library records that disagree with CityVisual', final.versions.recordMismatch),
];

/** The pairs in upload groups: one pair, the two pairs of a name conflict, or the releases of a version stream. */
const groupsOf = (pairs: readonly PlannedPair[]) => {
  const groups: PlannedPair[][] = [];
  for (const pair of pairs) {
    const last = groups.at(-1);
    if (last && last[0]?.group === pair.group) last.push(pair);
    else groups.push([pair]);
  }
  return groups;
};

/**
 * `concurrency` publishers, each uploading a group at a time and waiting for its answer (or a bound) before taking
 * the next; resolves when every upload and re-delivery is done, with when each pair was complete.
 */
const publishAll = async (
  pairs: readonly PlannedPair[],
  cloud: LocalCloud,
  publisher: Publisher,
  observer: Observer,
  options: SoakOptions,
) => {
  const counts = { notifications: 0, redeliveries: 0 };
  const redeliveries = new Set<Promise<void>>();
  const completedAt = new Map<PlannedPair, number>();
  // Long enough for FC's three attempts of a crashed invocation and a wait on its claim.
  const pairWaitMs = 3 * options.timeoutSeconds * 1_000 + 7 * options.asyncRetryBaseMs + 5_000;
  let answered = 0;
  const ticker = setInterval(() => {
    const stats = cloud.fc.stats();
    options.progress?.(
      `${answered}/${pairs.length} pairs answered; ${stats.invocations} invocations, ${stats.crashes} crashes, ${stats.inFlight} running, ${stats.queued} queued`,
    );
  }, 5_000);
  try {
    await forEachLimit(groupsOf(pairs), Math.max(1, Math.round(options.concurrency)), (group) =>
      Promise.all(
        group.map(async (pair) => {
          completedAt.set(pair, await publishPair(pair, cloud, publisher, redeliveries, counts));
          await observer.whenWritten(pair.packageKey, FINISHED, pairWaitMs);
          answered += 1;
        }),
      ).then(() => undefined),
    );
    while (redeliveries.size > 0) await Promise.all([...redeliveries]);
  } finally {
    clearInterval(ticker);
  }
  return { counts, completedAt, drainMs: Math.max(120_000, pairWaitMs * 2) };
};

/** Re-invokes what FC gave up on, as an operator would from the OnFailure destination, round after round. */
const replayDeadLetters = async (
  cloud: LocalCloud,
  options: SoakOptions,
  faults: { on(round: number): void; off(): void },
  drainMs: number,
) => {
  let replayed = 0;
  let rounds = 0;
  let drained = true;
  while (rounds < options.replayRounds) {
    const letters = cloud.fc.deadLetters().slice(replayed);
    if (letters.length === 0) break;
    rounds += 1;
    options.progress?.(`replaying ${letters.length} dead letters (round ${rounds})`);
    faults.on(rounds);
    for (const letter of letters) cloud.fc.invokeAsync(Buffer.from(letter.payload));
    replayed += letters.length;
    drained = (await within(cloud.idle(), drainMs)) && drained;
    faults.off();
  }
  return { replayed, rounds, drained };
};

/** From the upload that completed each pair to the first line showing its final state, sorted; before `until` only. */
const latenciesOf = (
  pairs: readonly PlannedPair[],
  completedAt: ReadonlyMap<PlannedPair, number>,
  observer: Observer,
  until: number,
) => {
  const latencies: number[] = [];
  for (const pair of pairs) {
    const complete = completedAt.get(pair);
    const firsts = FINISHED.map((state) => observer.firstWritten(pair.packageKey, state)).filter(
      (at): at is number => at !== undefined && at <= until,
    );
    if (complete !== undefined && firsts.length > 0) latencies.push(Math.max(0, Math.min(...firsts) - complete));
  }
  return latencies.sort((a, b) => a - b);
};

/**
 * Runs one soak and judges it; never throws for a broken invariant (see `report.ok`), closes everything it started.
 *
 * @example
 * ```ts
 * const report = await runSoak({ ...DEFAULT_SOAK_OPTIONS, pairs: 300, seed: 42 });
 * if (!report.ok) console.error(report.invariants.filter((check) => !check.ok));
 * ```
 */
export const runSoak = async (options: SoakOptions): Promise<SoakReport> => {
  const started = Date.now();
  const pairs = planPairs({ pairs: options.pairs, dup: options.dup, seed: options.seed });
  const canaries = createCanaries(createRandom(options.seed ^ 0x1b873593));
  const scanner = createLeakScanner(canaries.labelled);
  const observer = createObserver('library/', scanner);
  const template = writeSoakTemplate(projectRoot(), {
    timeoutSeconds: options.timeoutSeconds,
    environment: { CITYVISUAL_TIMEOUT_MS: String(CITYVISUAL_TIMEOUT_MS) },
  });
  // The emulators write every object and library synchronously: on tmpfs, the disk is not what the soak measures.
  const dataDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'algolib-soak-'));
  let cloud: LocalCloud | undefined;
  try {
    cloud = await startLocalCloud({
      dataDir,
      stateFile: false,
      templatePath: template.path,
      credentials: canaries.credentials,
      fc: {
        asyncRetryBaseMs: options.asyncRetryBaseMs,
        maxInstances: options.instances,
        crashRate: options.crash,
        seed: options.seed,
      },
      log: observer.onLog,
    });
    const running = cloud;
    const faults = {
      on: (round: number) => {
        running.cityvisual.faults.set(cityVisualFaults(options.cvFaults, options.seed + round, CITYVISUAL_TIMEOUT_MS));
        running.oss.faults.set(ossFaults(options.ossFaults, (options.seed + round) ^ 0x68e31da4));
      },
      off: () => {
        running.cityvisual.faults.set({ rules: [] });
        running.oss.faults.set({ rules: [] });
      },
    };
    const publisherRetries: Record<string, number> = {};
    const publisher = createPublisher(
      running.state,
      (label) => {
        publisherRetries[label] = (publisherRetries[label] ?? 0) + 1;
      },
      sleep,
    );

    faults.on(0);
    const { counts, completedAt, drainMs } = await publishAll(pairs, running, publisher, observer, options);
    const drainedInTime = await within(running.idle(), drainMs);
    const replayStartedAt = Date.now();
    // The soak's own reads are not the product's: they run without faults.
    faults.off();
    const drained = judge(pairs, await readSnapshot(running, publisher, scanner));
    const replay = await replayDeadLetters(running, options, faults, drainMs);
    const final = replay.rounds > 0 ? judge(pairs, await readSnapshot(running, publisher, scanner)) : drained;

    const latencies = latenciesOf(pairs, completedAt, observer, replayStartedAt);
    const errorClasses = { ...observer.errorClasses(), ...publisherRetries };
    for (const text of Object.keys(errorClasses)) scanner.scan('error-class', text);
    for (const line of [...final.lost, ...final.wrong, ...final.parked, ...drained.lost, ...drained.parked])
      scanner.scan('verdict', line);
    const hits = scanner.hits();
    const byKind: Partial<Record<PairKind, number>> = {};
    for (const pair of pairs) byKind[pair.kind] = (byKind[pair.kind] ?? 0) + 1;
    const invariants = invariantsOf(pairs.length, drained, final, hits, drainedInTime && replay.drained);
    const cv = running.cityvisual.counters();
    const { progress: _progress, ...recorded } = options;
    return {
      options: recorded,
      ok: invariants.every((check) => check.ok),
      durationMs: Date.now() - started,
      pairs: { total: pairs.length, byKind },
      deliveries: { ...counts, replays: replay.replayed },
      fc: running.fc.stats(),
      deadLetters: running.fc.deadLetters().length,
      cityvisual: {
        createCalls: cv.requests.CreateAlgoLib ?? 0,
        describeCalls: cv.requests.DescribeAlgoLibs ?? 0,
        created: cv.created,
        libraries: running.cityvisual.libraries().length,
      },
      drained,
      final,
      replayRounds: replay.rounds,
      latency: {
        samples: latencies.length,
        medianMs: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        maxMs: latencies.at(-1) ?? 0,
      },
      faults: { oss: running.oss.faults.injected(), cityvisual: running.cityvisual.faults.injected() },
      errorClasses,
      errorSamples: observer.errorSamples(),
      leaks: { hits, canaries: canaries.labelled().size, scanned: scanner.scanned() },
      invariants,
    };
  } finally {
    observer.close();
    await cloud?.close();
    template.remove();
    rmSync(dataDir, { recursive: true, force: true });
  }
};
