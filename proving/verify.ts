/**
 * The soak's invariants, judged on a snapshot of the local cloud after the queue drained: every status document and
 * claim in the bucket (read with the real client), CityVisual's library table, FC's dead letters and what the webhook
 * receiver got.
 */

import semverCompare from 'semver/functions/compare.js';
import type { AlgoLib } from '../local/cityvisual/cityvisual-emulator.ts';
import type { LocalCloud } from '../local/cloud.ts';
import type { ReceivedDelivery } from '../local/webhook-receiver.ts';
import { pairOf } from '../shared/keys.ts';
import type { LibraryRecord } from '../shared/library-record.ts';
import type { NameClaim } from '../shared/name-claim.ts';
import type { StatusDocument } from '../shared/status.ts';
import { webhookIdOf } from '../shared/webhooks.ts';
import type { LeakScanner } from './canary.ts';
import { isInvalidManifest, type PlannedPair } from './plan.ts';
import type { Publisher } from './publisher.ts';

export type DeadLetter = ReturnType<LocalCloud['fc']['deadLetters']>[number];

export type Snapshot = {
  statuses: Map<string, StatusDocument>;
  /** Claim generations per name (or package-key lock). */
  claims: Map<string, NameClaim[]>;
  /** Library records by name. */
  records: Map<string, LibraryRecord>;
  libraries: AlgoLib[];
  deadLetters: DeadLetter[];
  deliveries: ReceivedDelivery[];
  /** Objects under the status prefix that are neither a status document, a claim, its release nor a record, or do not parse. */
  strays: string[];
};

const READ_CONCURRENCY = 16;

/** Runs `work` over `items` with at most `limit` at a time. */
export const forEachLimit = async <T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) => {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
};

/**
 * Reads everything the invariants need, and scans every text of it for canaries.
 *
 * @example
 * ```ts
 * const snapshot = await readSnapshot(cloud, publisher, scanner);
 * ```
 */
export const readSnapshot = async (
  cloud: LocalCloud,
  publisher: Publisher,
  scanner: LeakScanner,
): Promise<Snapshot> => {
  const statuses = new Map<string, StatusDocument>();
  const claims = new Map<string, NameClaim[]>();
  const records = new Map<string, LibraryRecord>();
  const strays: string[] = [];
  const keys = await publisher.list('status/');
  await forEachLimit(keys, READ_CONCURRENCY, async (key) => {
    const bytes = await publisher.read(key);
    if (!bytes) return;
    const text = bytes.toString('utf8');
    scanner.scan(key, text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      strays.push(key);
      return;
    }
    const claim = /^status\/\.claims\/(.+)\/(\d{6})\.json$/.exec(key);
    const record = /^status\/\.libraries\/(.+)\.json$/.exec(key);
    if (claim) {
      const list = claims.get(claim[1] as string) ?? [];
      list[Number(claim[2])] = json as NameClaim;
      claims.set(claim[1] as string, list);
    } else if (/^status\/\.claims\/.+\/\d{6}\.released\.json$/.test(key)) {
      // A claim's release marker: nothing to judge.
    } else if (record) records.set(record[1] as string, json as LibraryRecord);
    else if (key.endsWith('.json') && !key.startsWith('status/.')) statuses.set(key, json as StatusDocument);
    else strays.push(key);
  });
  const libraries = cloud.cityvisual.libraries();
  for (const library of libraries) scanner.scan('cityvisual', JSON.stringify(library));
  const deadLetters = cloud.fc.deadLetters();
  for (const letter of deadLetters) scanner.scan('dead-letter', JSON.stringify(letter));
  const deliveries = cloud.receiver?.deliveries() ?? [];
  for (const delivery of deliveries) scanner.scan('webhook', JSON.stringify(delivery.body));
  return { statuses, claims, records, libraries, deadLetters, deliveries, strays };
};

export type PairVerdict = 'ok' | 'wrong' | 'parked' | 'lost';

export type Verdict = {
  /** Final state per pair (`NONE`: no status document at all). */
  byState: Record<string, number>;
  ok: number;
  /** In a terminal state it must not be in (a bad manifest REGISTERED, two REGISTERED for one name, a wrong code). */
  wrong: string[];
  /** Not finished, but one of its events is in FC's dead letters: an operator's replay finishes it. */
  parked: string[];
  /** Not finished and nowhere to be found again: no dead letter. Must be 0. */
  lost: string[];
  /** PENDING at the end, both halves uploaded, and no dead letter to replay (a subset of `lost`). Must be 0. */
  stuckPending: string[];
  /** FAILED at the end (each one is parked or lost). */
  failed: number;
  /** REGISTERED statuses whose algoLibId, bucket or path differ from CityVisual's library of that name. */
  idMismatch: string[];
  /** Names with more than one library. Must be 0. */
  duplicates: string[];
  /** Libraries no REGISTERED status accounts for (and whose pairs are not parked). */
  orphans: string[];
  /** Libraries of pairs whose manifest is invalid: such a manifest must never reach CreateAlgoLib. */
  invalidCreated: string[];
  webhooks: {
    total: number;
    verified: number;
    unverified: number;
    duplicates: number;
    distinctIds: number;
    maxPerId: number;
    /** Finished pairs whose final outcome no verified 2xx delivery carried. */
    missing: string[];
    byType: Record<string, number>;
  };
  claims: { names: number; generations: number; takeovers: number };
  /** Version streams: how many, and what went wrong in them (each must be empty). */
  versions: {
    streams: number;
    updated: number;
    downgrades: number;
    /** Streams whose library is not at the highest version that arrived. */
    notHighest: string[];
    /** Streams where an update did not move the library up, or more than one release created it. */
    notRising: string[];
    /** Streams whose library record does not say the library's current version and id. */
    recordMismatch: string[];
  };
  strays: string[];
};

const describePair = (pair: PlannedPair, status: StatusDocument | undefined) =>
  `#${pair.index} ${pair.kind} ${pair.packageKey}: ${status ? status.state : 'no status'}${
    status?.errors[0] ? ` (${status.errors[0].code}${status.errors[0].path ? ` at ${status.errors[0].path}` : ''})` : ''
  }`;

const meetsExpectation = (pair: PlannedPair, status: StatusDocument | undefined): boolean => {
  if (!status || !pair.expect.states.includes(status.state)) return false;
  if (status.state !== 'REJECTED') return true;
  const first = status.errors[0];
  if (!first || first.code !== pair.expect.code) return false;
  return pair.expect.path === null ? first.path === undefined : first.path === pair.expect.path;
};

const isFinished = (state: string) => state === 'REGISTERED' || state === 'REJECTED' || state === 'CONFLICT';

/**
 * Judges a snapshot against the plan.
 *
 * @example
 * ```ts
 * const verdict = judge(pairs, snapshot);
 * verdict.lost.length; // 0
 * ```
 */
export const judge = (pairs: readonly PlannedPair[], snapshot: Snapshot, packagePrefix = 'library/'): Verdict => {
  const dead = new Set<string>();
  for (const letter of snapshot.deadLetters) {
    try {
      const payload = JSON.parse(letter.payload) as { events?: Array<{ oss?: { object?: { key?: string } } }> };
      for (const event of payload.events ?? []) {
        const pair = pairOf(event.oss?.object?.key ?? '', packagePrefix);
        if (pair) dead.add(pair.packageKey);
      }
    } catch {
      // A payload that is not JSON names no pair.
    }
  }
  const librariesByName = new Map<string, AlgoLib[]>();
  for (const library of snapshot.libraries) {
    const list = librariesByName.get(library.AlgoLibName) ?? [];
    list.push(library);
    librariesByName.set(library.AlgoLibName, list);
  }
  const deliveriesById = new Map<string, ReceivedDelivery[]>();
  const byType: Record<string, number> = {};
  for (const delivery of snapshot.deliveries) {
    const list = deliveriesById.get(delivery.id) ?? [];
    list.push(delivery);
    deliveriesById.set(delivery.id, list);
    byType[delivery.type] = (byType[delivery.type] ?? 0) + 1;
  }

  const verdict: Verdict = {
    byState: {},
    ok: 0,
    wrong: [],
    parked: [],
    lost: [],
    stuckPending: [],
    failed: 0,
    idMismatch: [],
    duplicates: [],
    orphans: [],
    invalidCreated: [],
    webhooks: {
      total: snapshot.deliveries.length,
      verified: snapshot.deliveries.filter((delivery) => delivery.verified).length,
      unverified: snapshot.deliveries.filter((delivery) => !delivery.verified).length,
      duplicates: snapshot.deliveries.filter((delivery) => delivery.duplicate).length,
      distinctIds: deliveriesById.size,
      maxPerId: Math.max(0, ...[...deliveriesById.values()].map((list) => list.length)),
      missing: [],
      byType,
    },
    claims: { names: 0, generations: 0, takeovers: 0 },
    versions: { streams: 0, updated: 0, downgrades: 0, notHighest: [], notRising: [], recordMismatch: [] },
    strays: snapshot.strays,
  };

  const verdicts = new Map<PlannedPair, PairVerdict>();
  for (const pair of pairs) {
    const status = snapshot.statuses.get(pair.statusKey);
    const state = status?.state ?? 'NONE';
    verdict.byState[state] = (verdict.byState[state] ?? 0) + 1;
    if (state === 'FAILED') verdict.failed += 1;
    let outcome: PairVerdict;
    if (meetsExpectation(pair, status)) outcome = 'ok';
    else if (isFinished(state)) outcome = 'wrong';
    else outcome = dead.has(pair.packageKey) ? 'parked' : 'lost';
    if (state === 'PENDING' && outcome === 'lost') verdict.stuckPending.push(describePair(pair, status));
    verdicts.set(pair, outcome);
  }
  judgeVersionStreams(pairs, snapshot, verdict, verdicts);
  // The two packages of a conflict: exactly one REGISTERED, the other CONFLICT.
  const groups = new Map<number, PlannedPair[]>();
  for (const pair of pairs)
    if (pair.kind === 'conflict') groups.set(pair.group, [...(groups.get(pair.group) ?? []), pair]);
  for (const group of groups.values()) {
    const states = group.map((pair) => snapshot.statuses.get(pair.statusKey)?.state);
    const registered = states.filter((state) => state === 'REGISTERED').length;
    const allFinished = states.every((state) => state === 'REGISTERED' || state === 'CONFLICT');
    if (registered > 1 || (allFinished && registered === 0)) for (const pair of group) verdicts.set(pair, 'wrong');
  }

  for (const pair of pairs) {
    const status = snapshot.statuses.get(pair.statusKey);
    const outcome = verdicts.get(pair);
    if (outcome === 'ok') verdict.ok += 1;
    else if (outcome === 'wrong') verdict.wrong.push(describePair(pair, status));
    else if (outcome === 'parked') verdict.parked.push(describePair(pair, status));
    else verdict.lost.push(describePair(pair, status));
    // An earlier release of a stream was REGISTERED for its time; the library has moved on since.
    const superseded =
      pair.kind === 'version' &&
      status?.change !== undefined &&
      status.version !== librariesByName.get(pair.name)?.[0]?.AlgoLibVersion;
    if (status?.state === 'REGISTERED' && !superseded) {
      const library = librariesByName.get(pair.name)?.[0];
      if (
        !library ||
        library.AlgoLibId !== status.algoLibId ||
        library.OssPath !== pair.packageKey ||
        library.OssBucket !== status.package.bucket
      ) {
        verdict.idMismatch.push(
          `${describePair(pair, status)}: status says ${status.algoLibId}, CityVisual has ${library?.AlgoLibId ?? 'none'} at ${library?.OssPath ?? '-'}`,
        );
      }
    }
    if (outcome === 'ok' && status) {
      const delivered = (deliveriesById.get(webhookIdOf(status)) ?? []).some(
        (delivery) => delivery.verified && delivery.status >= 200 && delivery.status < 300,
      );
      if (!delivered) verdict.webhooks.missing.push(describePair(pair, status));
    }
  }

  const pairsByName = new Map<string, PlannedPair[]>();
  for (const pair of pairs) pairsByName.set(pair.name, [...(pairsByName.get(pair.name) ?? []), pair]);
  for (const [name, libraries] of librariesByName) {
    if (libraries.length > 1)
      verdict.duplicates.push(`${name}: ${libraries.map((library) => library.AlgoLibId).join(', ')}`);
    const owners = pairsByName.get(name) ?? [];
    if (owners.some((pair) => isInvalidManifest(pair.kind))) verdict.invalidCreated.push(name);
    const accounted = owners.some((pair) => {
      const status = snapshot.statuses.get(pair.statusKey);
      return status?.state === 'REGISTERED' && libraries.some((library) => library.AlgoLibId === status.algoLibId);
    });
    if (!accounted && !owners.some((pair) => verdicts.get(pair) === 'parked')) verdict.orphans.push(name);
  }

  for (const generations of snapshot.claims.values()) {
    const count = generations.filter(Boolean).length;
    verdict.claims.names += 1;
    verdict.claims.generations += count;
    verdict.claims.takeovers += count - 1;
  }
  return verdict;
};

/**
 * Version streams: the library ends at the highest version that arrived (and was answered), every release is
 * REGISTERED or VERSION_DOWNGRADE, the REGISTERED ones rise in version in the order they were written, and the
 * library record agrees with CityVisual.
 */
const judgeVersionStreams = (
  pairs: readonly PlannedPair[],
  snapshot: Snapshot,
  verdict: Verdict,
  verdicts: Map<PlannedPair, PairVerdict>,
) => {
  const streams = new Map<number, PlannedPair[]>();
  for (const pair of pairs)
    if (pair.kind === 'version') streams.set(pair.group, [...(streams.get(pair.group) ?? []), pair]);
  for (const stream of streams.values()) {
    verdict.versions.streams += 1;
    const name = stream[0]?.name ?? '';
    const answered = stream
      .map((pair) => ({ pair, status: snapshot.statuses.get(pair.statusKey) }))
      .filter(
        (entry) =>
          entry.status !== undefined && (entry.status.state === 'REGISTERED' || entry.status.state === 'CONFLICT'),
      );
    for (const { pair, status } of answered) {
      if (status?.state === 'CONFLICT' && status.errors[0]?.code !== 'VERSION_DOWNGRADE') verdicts.set(pair, 'wrong');
      if (status?.state === 'CONFLICT') verdict.versions.downgrades += 1;
      if (status?.change === 'updated') verdict.versions.updated += 1;
    }
    // CityVisual's library only ever moves up: every update names the version it replaced, which is lower, and one
    // release at most created the library. (The order answers are *written* in is not the order CityVisual changed:
    // an interrupted create's answer may be finished after the next update.)
    const registered = answered.filter((entry) => entry.status?.state === 'REGISTERED');
    for (const { status } of registered) {
      const from = status?.previous?.version;
      if (status?.change === 'updated' && (from === undefined || semverCompare(from, status.version ?? '0.0.0') >= 0))
        verdict.versions.notRising.push(`${name}: ${status.version} updated from ${from ?? 'nothing'}`);
    }
    const created = registered.filter((entry) => entry.status?.change === 'created').length;
    if (created > 1) verdict.versions.notRising.push(`${name}: ${created} releases say they created the library`);
    const highest = answered
      .map((entry) => versionOf(entry.pair.packageKey))
      .sort(semverCompare)
      .at(-1);
    const library = snapshot.libraries.find((entry) => entry.AlgoLibName === name);
    if (highest !== undefined && library?.AlgoLibVersion !== highest)
      verdict.versions.notHighest.push(
        `${name}: library at ${library?.AlgoLibVersion ?? 'none'}, highest answered ${highest}`,
      );
    const record = snapshot.records.get(name);
    if (library && (record?.version !== library.AlgoLibVersion || record?.algoLibId !== library.AlgoLibId))
      verdict.versions.recordMismatch.push(
        `${name}: CityVisual ${library.AlgoLibId}@${library.AlgoLibVersion}, record ${record?.algoLibId ?? '-'}@${record?.version ?? '-'}`,
      );
  }
};

/** `library/x/x-1.1.0-rc.1.tar.gz` → `1.1.0-rc.1` */
const versionOf = (packageKey: string) =>
  /-(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\.tar\.gz$/.exec(packageKey)?.[1] ?? '0.0.0';
