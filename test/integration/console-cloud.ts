/**
 * A local cloud with its console, for the console's API tests and browser tests: canary credentials (so a leak of
 * any secret into a response is found), a template copy whose function gives up fast (one CityVisual attempt, so a
 * CityVisual outage becomes a dead letter in well under a second), and helpers to publish pairs with the real SDK.
 */
import OSS from 'ali-oss';
import { startLocalConsole } from '../../cli/console.ts';
import type { ConsoleServer } from '../../console/server.ts';
import { type LocalCloud, projectRoot, startLocalCloud } from '../../local/cloud.ts';
import { createRandom } from '../../local/faults.ts';
import { type Canaries, createCanaries } from '../../proving/canary.ts';
import { type SoakTemplate, writeSoakTemplate } from '../../proving/soak-template.ts';
import { crc64 } from '../../shared/crc64.ts';
import { statusKeyOf } from '../../shared/keys.ts';
import { validManifest } from '../fakes/register-deps.ts';

/** The README's budget for the first load of the page: HTML + CSS + script, uncompressed. */
export const PAGE_WEIGHT_BUDGET_BYTES = 150 * 1024;

export type ConsoleCloud = {
  cloud: LocalCloud;
  console: ConsoleServer;
  canaries: Canaries;
  client: OSS;
  close(): Promise<void>;
};

export const startConsoleCloud = async (): Promise<ConsoleCloud> => {
  const canaries = createCanaries(createRandom(14));
  const template: SoakTemplate = writeSoakTemplate(projectRoot(), {
    timeoutSeconds: 10,
    environment: { RETRY_MAX_ATTEMPTS: '1', RETRY_BASE_MS: '10', CITYVISUAL_TIMEOUT_MS: '2000' },
  });
  const cloud = await startLocalCloud({
    stateFile: false,
    templatePath: template.path,
    credentials: canaries.credentials,
    fc: { asyncRetryBaseMs: 20 },
  });
  const console = await startLocalConsole(cloud, {
    pollMs: 300,
    minRefreshMs: 0,
    secrets: () => [...canaries.labelled().keys()],
  });
  const { endpoint, region, bucket, accessKeyId, accessKeySecret } = cloud.state.oss;
  const client = new OSS({ endpoint, region, bucket, accessKeyId, accessKeySecret, authorizationV4: true });
  return {
    cloud,
    console,
    canaries,
    client,
    close: async () => {
      await console.close();
      await cloud.close();
      template.remove();
    },
  };
};

let sequence = 0;

/** The pair of library `name` at `version`; `overrides` go into the manifest (`{ capacity: 0 }` makes it invalid). */
export const pairNamed = (name: string, version = '1.0.0', overrides: Record<string, unknown> = {}) => {
  const bytes = Buffer.from(`package ${name} ${version}`);
  const packageKey = `library/${name}/${name}-${version}.tar.gz`;
  return {
    name,
    version,
    bytes,
    packageKey,
    manifestKey: packageKey.replace(/\.tar\.gz$/, '.manifest.json'),
    statusKey: statusKeyOf(packageKey, 'status/'),
    manifest: validManifest({ name, version, package: { size: bytes.length, crc64: crc64(bytes) }, ...overrides }),
  };
};

/** A fresh library name (`<stem>-<n>`) and its pair, so tests share one cloud without sharing names. */
export const newPair = (stem: string, version = '1.0.0', overrides: Record<string, unknown> = {}) => {
  sequence += 1;
  return pairNamed(`${stem}-${sequence}`, version, overrides);
};

export type Pair = ReturnType<typeof newPair>;

/** Uploads the package, then the manifest, as `algolib publish` does. */
export const upload = async (client: OSS, pair: Pair) => {
  await client.put(pair.packageKey, pair.bytes);
  await client.put(pair.manifestKey, Buffer.from(JSON.stringify(pair.manifest, null, 2)));
};

/** Uploads `pair` while CityVisual is down, so every attempt fails and FC dead-letters the event; then restores it. */
export const uploadIntoDeadLetter = async (cloud: LocalCloud, client: OSS, pair: Pair) => {
  cloud.cityvisual.faults.set({ rules: [{ action: 'CreateAlgoLib', kind: 'unavailable' }] });
  try {
    await upload(client, pair);
    await cloud.idle();
  } finally {
    cloud.cityvisual.faults.set({ rules: [] });
  }
};
