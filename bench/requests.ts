/**
 * Requests and bytes per registration, from the emulators' counters and request logs: the function's requests are
 * every OSS request but the publisher's uploads (PUTs under library/), and every CityVisual request.
 */

import { type LocalCloud, startLocalCloud } from '../local/cloud.ts';
import type { RoutableOssEventRecord } from '../platform/oss/event-record.ts';
import type { StatusDocument } from '../shared/status.ts';
import { ossRecordOf, type Uploaded } from './events.ts';
import { createPublisher, newPair, type Pair } from './fixtures.ts';

export type RequestCount = {
  scenario: string;
  webhooks: boolean;
  /** OSS + CityVisual requests the function made. */
  requests: number;
  oss: Record<string, number>;
  cityvisual: Record<string, number>;
  webhookDeliveries: number;
  /** GetObject body bytes OSS served to the function, and the part of them that was the package. */
  bytesServed: number;
  packageBytesRead: number;
  packageSize: number;
  state: string | undefined;
  created: boolean | undefined;
  change: StatusDocument['change'];
};

type LogEntry = Record<string, unknown>;

const classOf = (op: string, key: string): string => {
  const what = key.startsWith('status/.claims/')
    ? key.endsWith('.released.json')
      ? 'claim release'
      : 'claim'
    : key.startsWith('status/.libraries/')
      ? 'library record'
      : key.startsWith('status/')
        ? 'status'
        : key.endsWith('.manifest.json')
          ? 'manifest'
          : key.endsWith('.tar.gz')
            ? 'package'
            : 'other';
  return `${op} ${what}`;
};

const startCloud = async (webhooks: boolean, log: LogEntry[]) =>
  startLocalCloud({
    stateFile: false,
    fc: { asyncRetryBaseMs: 20 },
    ...(webhooks ? {} : { parameters: { WebhookEndpoints: '[]' } }),
    log: (entry) => log.push(entry),
  });

/** Runs `act` on a quiet cloud and counts what the function did until the cloud is idle again. */
const measure = async (
  cloud: LocalCloud,
  log: LogEntry[],
  scenario: string,
  webhooks: boolean,
  pair: Pair,
  act: () => Promise<unknown>,
): Promise<RequestCount> => {
  await cloud.idle();
  log.length = 0;
  cloud.oss.resetCounters();
  cloud.cityvisual.resetCounters();
  const deliveriesBefore = cloud.receiver?.deliveries().length ?? 0;
  await act();
  await cloud.idle();
  const oss: Record<string, number> = {};
  let manifestGets = 0;
  let packageGets = 0;
  for (const entry of log) {
    if (entry.service !== 'oss') continue;
    const op = String(entry.op);
    const key = String(entry.key ?? '');
    // The publisher's own upload is not the function's work.
    if (op === 'PutObject' && key.startsWith('library/')) continue;
    const label = classOf(op, key);
    oss[label] = (oss[label] ?? 0) + 1;
    if (label === 'GetObject manifest') manifestGets += 1;
    if (label === 'GetObject package') packageGets += 1;
  }
  const cityvisual = cloud.cityvisual.counters().requests;
  const { bytesServed } = cloud.oss.counters();
  const status = await createPublisher(cloud.state).getJson<StatusDocument>(pair.statusKey);
  const ossTotal = Object.values(oss).reduce((sum, count) => sum + count, 0);
  const cvTotal = Object.values(cityvisual).reduce((sum, count) => sum + count, 0);
  return {
    scenario,
    webhooks,
    requests: ossTotal + cvTotal,
    oss,
    cityvisual: { ...cityvisual },
    webhookDeliveries: (cloud.receiver?.deliveries().length ?? 0) - deliveriesBefore,
    bytesServed,
    // Only GetObject serves bytes: with no package GET none of them was the package; otherwise the rest of the
    // bytes after the manifest reads (the only other GETs on these paths) were.
    packageBytesRead: packageGets === 0 ? 0 : bytesServed - manifestGets * pair.manifestBytes.length,
    packageSize: pair.packageBytes.length,
    state: status?.state,
    created: status?.created,
    change: status?.change,
  };
};

/** The request-count scenarios, on one local cloud with webhooks configured and one without. */
export const measureRequests = async (): Promise<RequestCount[]> => {
  const results: RequestCount[] = [];
  for (const webhooks of [true, false]) {
    const log: LogEntry[] = [];
    const cloud = await startCloud(webhooks, log);
    try {
      const publisher = createPublisher(cloud.state);
      const bucket = cloud.state.oss.bucket;
      const tag = webhooks ? 'wh' : 'nowh';
      const run = (scenario: string, pair: Pair, act: () => Promise<unknown>) =>
        measure(cloud, log, scenario, webhooks, pair, act).then((result) => results.push(result));

      // The clean path, package first (as the CLI uploads): the package's event finds no manifest and writes
      // PENDING; the manifest's event registers. A 1 MiB package, so a read of it could not hide in the bytes.
      const clean = newPair(`req${tag}`, 1, { packageBytes: 1 << 20 });
      await run('package event (manifest not there yet → PENDING)', clean, () =>
        publisher.put(clean.packageKey, clean.packageBytes),
      );
      let manifest: Uploaded | undefined;
      await run('manifest event: the registration (clean path)', clean, async () => {
        manifest = await publisher.put(clean.manifestKey, clean.manifestBytes);
      });
      await run('duplicate delivery of the registered manifest event', clean, async () =>
        cloud.fc.dispatchOssEvent(ossRecordOf(bucket, manifest as Uploaded) as RoutableOssEventRecord),
      );

      // A release of a registered library: 1.0.1 of the clean pair's name, from the same folder (ModifyAlgoLib).
      const update = newPair(`req${tag}`, 1, { packageBytes: 1 << 20, version: '1.0.1' });
      await publisher.put(update.packageKey, update.packageBytes);
      await cloud.idle();
      await run('manifest event: a new version of a registered library (update)', update, () =>
        publisher.put(update.manifestKey, update.manifestBytes),
      );

      if (!webhooks) continue;
      // CreateAlgoLib commits, then the connection drops: the retry gets InvalidName.Duplicate, DescribeAlgoLibs
      // finds our own library, and the pair is REGISTERED with created: false.
      const dropped = newPair(`req${tag}`, 2, { packageBytes: 1 << 20 });
      await publisher.put(dropped.packageKey, dropped.packageBytes);
      await cloud.idle();
      cloud.cityvisual.faults.set({ rules: [{ action: 'CreateAlgoLib', kind: 'commitThenDrop', times: 1 }] });
      await run('Duplicate resolution (CreateAlgoLib commitThenDrop)', dropped, () =>
        publisher.put(dropped.manifestKey, dropped.manifestBytes),
      );
      cloud.cityvisual.faults.set({ rules: [] });

      // Without a CRC-64 in the manifest, the package is read once, whole, for its SHA-256.
      const digest = newPair(`req${tag}`, 3, { packageBytes: 1 << 20, digests: ['sha256'] });
      await publisher.put(digest.packageKey, digest.packageBytes);
      await cloud.idle();
      await run('manifest event, manifest with sha256 and no crc64', digest, () =>
        publisher.put(digest.manifestKey, digest.manifestBytes),
      );
    } finally {
      await cloud.close();
    }
  }
  return results;
};
