/**
 * The local cloud: the OSS, CityVisual and FC emulators and a webhook receiver, wired the way the real services are
 * (OSS notifications → FC triggers → the register function → OSS and CityVisual with per-instance STS credentials),
 * all on 127.0.0.1. `algolib dev`, `npm start` and the integration tests run on it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { type CityVisualEmulator, startCityVisualEmulator } from './cityvisual/cityvisual-emulator.ts';
import { type FcEmulator, startFcEmulator } from './fc/fc-emulator.ts';
import { type OssEmulator, type OssObjectCreatedEvent, startOssEmulator } from './oss/oss-emulator.ts';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.ts';

/** What any client needs to reach the local cloud (DESIGN.md "Local cloud state file"). */
export type LocalCloudState = {
  oss: { endpoint: string; region: string; bucket: string; accessKeyId: string; accessKeySecret: string };
  cityvisual: { endpoint: string; accessKeyId: string; accessKeySecret: string; instanceId: string; regionId: string };
  fc: {
    endpoint: string;
    accountId: string;
    region: string;
    accessKeyId: string;
    accessKeySecret: string;
    serviceName: string;
    functionName: string;
  };
  webhook: { url: string; secret: string };
};

export type LocalCloudOptions = {
  /** Where objects and libraries persist; a fresh temporary folder (removed on close) when absent. */
  dataDir?: string;
  /** Where to write the state file; `false` writes none. Default `.algolib/dev.json`. */
  stateFile?: string | false;
  templatePath?: string;
  /** Template parameter values over the local ones (e.g. a shorter function timeout for a soak). */
  parameters?: Record<string, string>;
  /** Send webhooks to this receiver instead of starting the built-in one. */
  webhook?: { url: string; secret: string };
  /** FC emulator knobs for tests and chaos runs. */
  fc?: { asyncRetryBaseMs?: number; maxInstances?: number; crashRate?: number; seed?: number };
  log?: (entry: Record<string, unknown>) => void;
};

export type LocalCloud = {
  state: LocalCloudState;
  oss: OssEmulator;
  cityvisual: CityVisualEmulator;
  fc: FcEmulator;
  receiver: WebhookReceiver | undefined;
  /** Resolves when no invocation is queued, running or waiting for a retry. */
  idle(): Promise<void>;
  close(): Promise<void>;
};

export const DEFAULT_STATE_FILE = '.algolib/dev.json';
export const LOCAL_BUCKET = 'algolib-local';
export const LOCAL_REGION = 'oss-cn-shanghai';
export const LOCAL_INSTANCE_ID = 'cityvisual-local';
const PACKAGE_PREFIX = 'library/';
const STATUS_PREFIX = 'status/';

const accessKey = (prefix: string) => ({
  accessKeyId: `${prefix}${randomBytes(8).toString('hex')}`,
  accessKeySecret: randomBytes(18).toString('base64url'),
});

/** Reads a local cloud's state file; `undefined` when there is none. */
export const readStateFile = (path: string): LocalCloudState | undefined => {
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as LocalCloudState;
};

/** The project's root (where template.yml lives), found from this file whether it runs from source or the CLI bundle. */
export const projectRoot = (): string => {
  // __dirname exists in the CommonJS bundle and under vitest; the working directory is the fallback.
  const start = typeof __dirname === 'string' ? __dirname : process.cwd();
  for (let dir = start, depth = 0; depth < 6; dir = dirname(dir), depth += 1) {
    if (existsSync(join(dir, 'template.yml')) && existsSync(join(dir, 'package.json'))) return dir;
  }
  return process.cwd();
};

/**
 * Starts the whole local cloud on 127.0.0.1 with random ports.
 *
 * @example
 * ```ts
 * const cloud = await startLocalCloud({ stateFile: false });
 * // … upload with ali-oss to cloud.state.oss, then:
 * await cloud.idle();
 * await cloud.close();
 * ```
 */
export const startLocalCloud = async (options: LocalCloudOptions = {}): Promise<LocalCloud> => {
  const templatePath = resolve(options.templatePath ?? join(projectRoot(), 'template.yml'));
  const bundle = join(dirname(templatePath), 'dist/register/index.js');
  if (!existsSync(bundle)) throw new Error(`Expected the function bundle at ${bundle}: run \`npm run build\` first`);
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'algolib-local-'));
  mkdirSync(dataDir, { recursive: true });
  const log = options.log;
  const started: Array<{ close(): Promise<void> }> = [];
  const closeAll = async () => {
    for (const service of started.reverse()) await service.close();
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const publisher = accessKey('LTAIlocalpub');
    const cityVisualReader = accessKey('LTAIlocalcvr');
    const cityVisualApi = accessKey('LTAIlocalcv');
    const fcApi = accessKey('LTAIlocalfc');
    // FC dispatches what OSS notifies; FC starts after OSS, so the hook looks it up late.
    let fc: FcEmulator | undefined;
    const oss = await startOssEmulator({
      dataDir: join(dataDir, 'oss'),
      region: LOCAL_REGION,
      buckets: [LOCAL_BUCKET],
      credentials: [
        publisher,
        // CityVisual's key reads packages and nothing else, like the RAM policy we document for the cloud.
        { ...cityVisualReader, allow: { buckets: [LOCAL_BUCKET], read: [PACKAGE_PREFIX], write: [] } },
      ],
      onObjectCreated: (event: OssObjectCreatedEvent) => fc?.dispatchOssEvent(event),
      ...(log ? { log } : {}),
    });
    started.push(oss);
    const ossEndpointHost = new URL(oss.endpoint).host;
    const cityvisual = await startCityVisualEmulator({
      dataDir: join(dataDir, 'cityvisual'),
      instanceIds: [LOCAL_INSTANCE_ID],
      credentials: [cityVisualApi],
      ossAccess: (bucket, id, secret) => oss.checkAccess(bucket, id, secret),
      ossEndpoints: [ossEndpointHost],
      ...(log ? { log } : {}),
    });
    started.push(cityvisual);
    const receiver = options.webhook ? undefined : await startWebhookReceiver(log ? { log } : {});
    if (receiver) started.push(receiver);
    const webhook = options.webhook ?? {
      url: (receiver as WebhookReceiver).url,
      secret: (receiver as WebhookReceiver).secret,
    };

    fc = await startFcEmulator({
      templatePath,
      parameters: {
        BucketName: LOCAL_BUCKET,
        OssRegion: LOCAL_REGION,
        OssEndpoint: oss.endpoint,
        CityVisualEndpoint: cityvisual.endpoint,
        CityVisualInstanceId: LOCAL_INSTANCE_ID,
        CityVisualOssEndpoint: ossEndpointHost,
        CityVisualOssAccessKeyId: cityVisualReader.accessKeyId,
        CityVisualOssAccessKeySecret: cityVisualReader.accessKeySecret,
        WebhookEndpoints: JSON.stringify([{ url: webhook.url, secrets: [webhook.secret] }]),
        FunctionRoleArn: 'acs:ram::1234567890123456:role/algolib-function',
        TriggerRoleArn: 'acs:ram::1234567890123456:role/algolib-oss-trigger',
        OnFailureDestination: 'acs:mns:cn-shanghai:1234567890123456:/queues/algolib-failed/messages',
        ...options.parameters,
      },
      apiCredentials: [fcApi],
      // Each instance gets its own STS triplet, allowed only what the function's RAM policy allows.
      issueCredentials: () => {
        const triplet = { ...accessKey('STS.local'), securityToken: randomBytes(24).toString('base64url') };
        oss.addCredential({
          ...triplet,
          allow: { buckets: [LOCAL_BUCKET], read: [PACKAGE_PREFIX, STATUS_PREFIX], write: [STATUS_PREFIX] },
        });
        cityvisual.addCredential(triplet);
        return triplet;
      },
      ...options.fc,
      ...(log ? { log } : {}),
    });
    started.push(fc);

    const state: LocalCloudState = {
      oss: { endpoint: oss.endpoint, region: LOCAL_REGION, bucket: LOCAL_BUCKET, ...publisher },
      cityvisual: {
        endpoint: cityvisual.endpoint,
        ...cityVisualApi,
        instanceId: LOCAL_INSTANCE_ID,
        regionId: 'cn-shanghai',
      },
      fc: {
        endpoint: fc.endpoint,
        accountId: fc.accountId,
        region: fc.region,
        ...fcApi,
        serviceName: fc.serviceName,
        functionName: fc.functionName,
      },
      webhook,
    };
    const stateFile = options.stateFile === undefined ? DEFAULT_STATE_FILE : options.stateFile;
    if (stateFile) {
      mkdirSync(dirname(resolve(stateFile)), { recursive: true });
      writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    }
    const running = fc;
    return {
      state,
      oss,
      cityvisual,
      fc: running,
      receiver,
      idle: () => running.idle(),
      close: async () => {
        if (stateFile) rmSync(stateFile, { force: true });
        await closeAll();
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
};
