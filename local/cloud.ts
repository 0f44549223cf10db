/**
 * The local cloud: the OSS, CityVisual and FC emulators and a webhook receiver, wired the way the real services are
 * (OSS notifications → FC triggers → the register function → OSS and CityVisual with per-instance STS credentials),
 * all on 127.0.0.1. `algolib dev`, `npm start` and the integration tests run on it.
 *
 * The FC emulator starts empty and `template.yml` is deployed into it by `algolib deploy`'s own code (`runDeploy`,
 * fc2 against the emulator's API) with the local parameter values (`localParameters`), so the local cloud runs what a
 * cloud deployment would; `algolib deploy --local` redeploys into a running one the same way.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createFc2Client, createFcApi } from '../deploy/fc-api.ts';
import functionRolePolicy from '../deploy/ram/function-role-policy.json' with { type: 'json' };
import { runDeploy } from '../deploy/run-deploy.ts';
import type { OssEventRecord } from '../platform/oss/event-record.ts';
import type { ChatRobotKind } from '../shared/config.ts';
import { type ChatRobotReceiver, startChatRobotReceiver } from './chat-robot-receiver.ts';
import { type CityVisualEmulator, startCityVisualEmulator } from './cityvisual/cityvisual-emulator.ts';
import { type FcEmulator, type FcEmulatorOptions, startFcEmulator } from './fc/fc-emulator.ts';
import type { RamPolicy } from './fc/role-policy.ts';
import { type OssEmulator, startOssEmulator } from './oss/oss-emulator.ts';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.ts';

/** What any client needs to reach the local cloud (docs/contracts.md "The local cloud's state file"). */
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
  /** Written by `algolib dev` once its console is up. */
  console?: { url: string };
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
  /** Also start a chat robot of this kind and notify it (CHAT_ROBOTS), as `algolib dev --chat <kind>` does. */
  chat?: ChatRobotKind;
  /**
   * FC emulator knobs for tests and chaos runs. `rolePolicy` replaces the function role's policy (by default
   * `deploy/ram/function-role-policy.json` with this cloud's values), e.g. to show what a role without
   * `mns:SendMessage` does to dead letters. The local cloud runs FC as the cloud may: each instance's STS triplet
   * rotates every `credentialRotationMs` (default 5000) and an instance idle for `freezeAfterIdleMs` (default 2000)
   * is frozen; `asyncRetryRequestId` is `keep` unless given.
   */
  fc?: Pick<
    FcEmulatorOptions,
    | 'asyncRetryBaseMs'
    | 'maxInstances'
    | 'crashRate'
    | 'seed'
    | 'rolePolicy'
    | 'asyncRetryRequestId'
    | 'crashWhen'
    | 'credentialRotationMs'
    | 'freezeAfterIdleMs'
  >;
  /** Use these credentials instead of random ones (e.g. recognisable canaries for a leak scan); each one is optional. */
  credentials?: Partial<LocalCloudCredentials>;
  log?: (entry: Record<string, unknown>) => void;
};

type AccessKey = { accessKeyId: string; accessKeySecret: string };

/** Every credential the local cloud hands out. */
export type LocalCloudCredentials = {
  /** The publisher's OSS key (the state file's `oss`). */
  publisher: AccessKey;
  /** The read-only OSS key the function passes to CreateAlgoLib. */
  cityVisualReader: AccessKey;
  /** The CityVisual API key (the state file's `cityvisual`). */
  cityVisualApi: AccessKey;
  /** The FC API key (the state file's `fc`). */
  fcApi: AccessKey;
  /** Called once per FC instance for its STS triplet. */
  sts: () => AccessKey & { securityToken: string };
  /** The built-in webhook receiver's `whsec_` secret (ignored when `webhook` is given). */
  webhookSecret: string;
};

export type LocalCloud = {
  state: LocalCloudState;
  oss: OssEmulator;
  cityvisual: CityVisualEmulator;
  fc: FcEmulator;
  receiver: WebhookReceiver | undefined;
  /** The chat robot started with `chat`; its `messages()` are what the group would read. */
  robot: ChatRobotReceiver | undefined;
  /** Resolves when no invocation is queued, running or waiting for a retry. */
  idle(): Promise<void>;
  close(): Promise<void>;
};

export const DEFAULT_STATE_FILE = '.algolib/dev.json';
export const LOCAL_BUCKET = 'algolib-local';
export const LOCAL_REGION = 'oss-cn-shanghai';
export const LOCAL_INSTANCE_ID = 'cityvisual-local';
/** Short enough that a test run or a soak sees rotations and freezes, long enough to cost nothing. */
const LOCAL_CREDENTIAL_ROTATION_MS = 5_000;
const LOCAL_FREEZE_AFTER_IDLE_MS = 2_000;
const PACKAGE_PREFIX = 'library/';
const STATUS_PREFIX = 'status/';

const accessKey = (prefix: string) => ({
  accessKeyId: `${prefix}${randomBytes(8).toString('hex')}`,
  accessKeySecret: randomBytes(18).toString('base64url'),
});

/**
 * The read-only OSS key handed to CityVisual, derived from the FC API secret (in the state file), so that
 * `algolib deploy --local` can give the function the same key without the state file carrying one more secret.
 */
const derivedReaderKey = (fcApiSecret: string) => {
  const derive = (purpose: string) => createHmac('sha256', fcApiSecret).update(`algolib-local:${purpose}`).digest();
  return {
    accessKeyId: `LTAIlocalcvr${derive('cityvisual-reader-id').toString('hex').slice(0, 16)}`,
    accessKeySecret: derive('cityvisual-reader-secret').toString('base64url').slice(0, 24),
  };
};

/** The parts of the state the local parameter values come from. */
export type LocalParameterSource = {
  oss: Pick<LocalCloudState['oss'], 'endpoint' | 'region' | 'bucket'>;
  cityvisual: Pick<LocalCloudState['cityvisual'], 'endpoint' | 'instanceId' | 'regionId'>;
  fc: Pick<LocalCloudState['fc'], 'accountId' | 'region' | 'accessKeySecret'>;
  webhook: LocalCloudState['webhook'];
};

/**
 * The values of template.yml's parameters for a local cloud: its emulators' endpoints, bucket and instance, its
 * webhook receiver, and stand-in role and destination ARNs in its account.
 *
 * @example
 * ```ts
 * const parameters = localParameters(readStateFile('.algolib/dev.json') as LocalCloudState);
 * parameters.BucketName; // 'algolib-local'
 * ```
 */
export const localParameters = (state: LocalParameterSource): Record<string, string> => {
  const reader = derivedReaderKey(state.fc.accessKeySecret);
  const account = state.fc.accountId;
  return {
    BucketName: state.oss.bucket,
    OssRegion: state.oss.region,
    OssEndpoint: state.oss.endpoint,
    CityVisualEndpoint: state.cityvisual.endpoint,
    CityVisualRegionId: state.cityvisual.regionId,
    CityVisualInstanceId: state.cityvisual.instanceId,
    CityVisualOssEndpoint: new URL(state.oss.endpoint).host,
    CityVisualOssAccessKeyId: reader.accessKeyId,
    CityVisualOssAccessKeySecret: reader.accessKeySecret,
    WebhookEndpoints: JSON.stringify([{ url: state.webhook.url, secrets: [state.webhook.secret] }]),
    FunctionRoleArn: `acs:ram::${account}:role/algolib-function`,
    TriggerRoleArn: `acs:ram::${account}:role/algolib-oss-trigger`,
    OnFailureDestination: `acs:mns:${state.fc.region}:${account}:/queues/algolib-failed/messages`,
  };
};

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
    const given = options.credentials ?? {};
    const publisher = given.publisher ?? accessKey('LTAIlocalpub');
    const cityVisualApi = given.cityVisualApi ?? accessKey('LTAIlocalcv');
    const fcApi = given.fcApi ?? accessKey('LTAIlocalfc');
    // Derived unless given: localParameters (and so `algolib deploy --local`) derives the same one.
    const cityVisualReader = given.cityVisualReader ?? derivedReaderKey(fcApi.accessKeySecret);
    const stsTriplet =
      given.sts ?? (() => ({ ...accessKey('STS.local'), securityToken: randomBytes(24).toString('base64url') }));
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
      onObjectCreated: (event: OssEventRecord) => fc?.dispatchOssEvent(event),
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
    const receiver = options.webhook
      ? undefined
      : await startWebhookReceiver({
          ...(log ? { log } : {}),
          ...(given.webhookSecret ? { secret: given.webhookSecret } : {}),
        });
    if (receiver) started.push(receiver);
    const webhook = options.webhook ?? {
      url: (receiver as WebhookReceiver).url,
      secret: (receiver as WebhookReceiver).secret,
    };

    const robot = options.chat
      ? await startChatRobotReceiver({ kind: options.chat, ...(log ? { log } : {}) })
      : undefined;
    if (robot) started.push(robot);
    const chatRobots = robot
      ? JSON.stringify([{ kind: robot.kind, url: robot.url, ...(robot.secret ? { secret: robot.secret } : {}) }])
      : undefined;

    // The parameters deployed (set below); the function role's policy is resolved against them when FC needs it.
    let deployed: Record<string, string> = {};
    fc = await startFcEmulator({
      codeDir: join(dataDir, 'fc'),
      // FC delivers dead letters with the service's role: the policy deploy/ram documents for it, with our values.
      rolePolicy: (roleArn) =>
        roleArn === deployed.FunctionRoleArn ? resolvePolicy(functionRolePolicy, deployed, fc?.accountId) : undefined,
      apiCredentials: [fcApi],
      // Each instance gets its own STS triplet, allowed only what the function's RAM policy allows.
      issueCredentials: () => {
        const triplet = stsTriplet();
        oss.addCredential({
          ...triplet,
          allow: {
            buckets: [LOCAL_BUCKET],
            read: [PACKAGE_PREFIX, STATUS_PREFIX],
            write: [STATUS_PREFIX],
            // The function asks whether its status bucket is versioned (x-oss-forbid-overwrite would not hold).
            bucketActions: ['GetBucketVersioning'],
          },
        });
        cityvisual.addCredential(triplet);
        return triplet;
      },
      // An expired triplet: the same id now needs a secret and token nobody has, so requests signed with it fail.
      revokeCredentials: ({ accessKeyId }) => {
        const expired = { accessKeyId, accessKeySecret: randomBytes(18).toString('base64url') };
        const token = randomBytes(24).toString('base64url');
        oss.addCredential({ ...expired, securityToken: token, allow: { buckets: [], read: [], write: [] } });
        cityvisual.addCredential({ ...expired, securityToken: token });
      },
      credentialRotationMs: LOCAL_CREDENTIAL_ROTATION_MS,
      freezeAfterIdleMs: LOCAL_FREEZE_AFTER_IDLE_MS,
      ...options.fc,
      ...(log ? { log } : {}),
    });
    started.push(fc);
    deployed = {
      ...localParameters({
        oss: { endpoint: oss.endpoint, region: LOCAL_REGION, bucket: LOCAL_BUCKET },
        cityvisual: { endpoint: cityvisual.endpoint, instanceId: LOCAL_INSTANCE_ID, regionId: 'cn-shanghai' },
        fc: { accountId: fc.accountId, region: fc.region, accessKeySecret: fcApi.accessKeySecret },
        webhook,
      }),
      // The reader key may have been given rather than derived.
      CityVisualOssAccessKeyId: cityVisualReader.accessKeyId,
      CityVisualOssAccessKeySecret: cityVisualReader.accessKeySecret,
      ...(chatRobots ? { ChatRobots: chatRobots } : {}),
      ...options.parameters,
    };
    await deployLocally(fc, { templatePath, fcApi, parameters: deployed, ...(log ? { log } : {}) });

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
      robot,
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

/**
 * A deploy/ram policy with its `${Name}` placeholders filled from the deployed parameters (docs/deploy.md lists them):
 * AccountId, BucketName, PackagePrefix, StatusPrefix, and OnFailureQueueName from OnFailureDestination's queue.
 */
const resolvePolicy = (policy: RamPolicy, parameters: Record<string, string>, accountId = ''): RamPolicy => {
  const values: Record<string, string> = {
    AccountId: accountId,
    BucketName: parameters.BucketName ?? '',
    PackagePrefix: parameters.PackagePrefix ?? 'library/',
    StatusPrefix: parameters.StatusPrefix ?? 'status/',
    OnFailureQueueName: /\/queues\/([^/]+)\//.exec(parameters.OnFailureDestination ?? '')?.[1] ?? '',
  };
  return JSON.parse(
    JSON.stringify(policy).replace(/\$\{(\w+)\}/g, (placeholder, name: string) => values[name] ?? placeholder),
  ) as RamPolicy;
};

/** Deploys the template into the (empty) FC emulator through its API, exactly as `algolib deploy --local` would. */
const deployLocally = async (
  fc: FcEmulator,
  input: {
    templatePath: string;
    fcApi: { accessKeyId: string; accessKeySecret: string };
    parameters: Record<string, string>;
    log?: (entry: Record<string, unknown>) => void;
  },
) => {
  const target = { endpoint: fc.endpoint, accountId: fc.accountId, region: fc.region };
  const api = createFcApi(await createFc2Client({ ...target, ...input.fcApi }));
  const { plan, desired } = await runDeploy({
    templatePath: input.templatePath,
    parameters: input.parameters,
    region: fc.region,
    accountId: fc.accountId,
    api,
    apply: true,
    prune: true,
  });
  const codeChecksums = desired.services.flatMap((service) => service.functions.map((fn) => fn.code.checksum));
  input.log?.({ service: 'fc', event: 'deployed', resources: plan.resources.length, codeChecksums });
};
