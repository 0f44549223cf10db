/**
 * Which cloud a command talks to, and with what credentials: the real one (flags plus the standard
 * `ALIBABA_CLOUD_*` variables) or the running local cloud (`--local`, through its state file: `--state-file`, or
 * the one `findStateFile` finds from the working folder). A command never starts a local cloud of its own: without
 * a running one it stops with a line that says how to start it. Planning is separate from opening so a command can
 * report every usage and configuration error before it reads files.
 */
import { relative } from 'node:path';
import type { LocalCloudState } from '../local/cloud.ts';
import type { Credentials } from '../shared/credentials.ts';
import { parsePrefix } from './args.ts';
import { CliError, type RemoteContext, rememberSecret, UsageError } from './errors.ts';
import { hint } from './invocation.ts';
import { findStateFile } from './local-state.ts';
import type { Output } from './output.ts';

/** The default region, as OSS names it (`oss-cn-shanghai`, `--region`) and as FC names it (`cn-shanghai`). */
export const DEFAULT_OSS_REGION = 'oss-cn-shanghai';
export const DEFAULT_FC_REGION = 'cn-shanghai';
export const DEFAULT_STATUS_PREFIX = 'status/';

export type OssSettings = Credentials & { endpoint: string; region: string; bucket: string };

export type FcSettings = Credentials & {
  endpoint: string;
  accountId: string;
  region: string;
  serviceName: string;
  functionName: string;
};

export type TargetValues = {
  local?: boolean | undefined;
  'state-file'?: string | undefined;
  region?: string | undefined;
  endpoint?: string | undefined;
  bucket?: string | undefined;
  'status-prefix'?: string | undefined;
  'account-id'?: string | undefined;
  'fc-region'?: string | undefined;
  'fc-endpoint'?: string | undefined;
  service?: string | undefined;
  function?: string | undefined;
};

/** Where a command will go, decided from flags, variables and the state file, before anything is started. */
export type TargetPlan =
  | { kind: 'cloud'; oss: OssSettings; fc: FcSettings | undefined; statusPrefix: string; flags: string[] }
  | {
      kind: 'local';
      stateFile: string;
      state: LocalCloudState;
      /** Overrides of the state file's bucket and function names. */
      bucket: string | undefined;
      serviceName: string | undefined;
      functionName: string | undefined;
      statusPrefix: string;
      flags: string[];
    };

/** An opened target: settings to sign with, how to explain errors, and what to close. */
export type Target = {
  oss: OssSettings;
  fc: FcSettings | undefined;
  statusPrefix: string;
  /** The flags that reach this target again, for the commands the CLI suggests (`--local --state-file x`). */
  flags: string[];
  /** For error lines: where credentials came from and how to fix an endpoint nobody answers at. */
  context(service: RemoteContext['service']): RemoteContext;
  close(): Promise<void>;
};

const CREDENTIAL_VARIABLES = 'ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET';
const CREDENTIAL_PAIR = 'ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET';
const CLOUD_ONLY_FLAGS = ['region', 'endpoint', 'account-id', 'fc-region', 'fc-endpoint'] as const;

/** The credentials in the standard variables; a missing one is a one-line `CliError` naming the variable. */
export const credentialsFromEnv = (env: Record<string, string | undefined>): Credentials => {
  for (const name of ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET'] as const) {
    if (!env[name]?.trim()) {
      throw new CliError(
        `Missing credentials: ${name} is not set. Set ${CREDENTIAL_VARIABLES} (plus ALIBABA_CLOUD_SECURITY_TOKEN for STS credentials), or use --local for the local cloud`,
      );
    }
  }
  const securityToken = env.ALIBABA_CLOUD_SECURITY_TOKEN?.trim() || undefined;
  return {
    accessKeyId: (env.ALIBABA_CLOUD_ACCESS_KEY_ID as string).trim(),
    accessKeySecret: (env.ALIBABA_CLOUD_ACCESS_KEY_SECRET as string).trim(),
    securityToken,
  };
};

/** For error lines: the variables the cloud credentials came from. */
export const credentialsSource = (credentials: Credentials): string =>
  `${CREDENTIAL_PAIR}${credentials.securityToken ? '/ALIBABA_CLOUD_SECURITY_TOKEN' : ''}`;

/** An account id, which FC endpoints are named after: digits. `flag` says where it came from, for the message. */
export const parseAccountId = (command: string, flag: string, raw: string | undefined): string => {
  if (!raw || !/^\d+$/.test(raw)) {
    throw new UsageError(
      `Expected ${flag} to be your Alibaba Cloud account id (digits), got ${raw || 'nothing'}`,
      command,
    );
  }
  return raw;
};

/** An FC region id (`cn-shanghai`: OSS's region id without `oss-`). */
export const parseFcRegion = (command: string, flag: string, raw: string): string => {
  if (!/^[a-z]+-[a-z0-9-]+$/.test(raw)) {
    throw new UsageError(
      `Expected \`--${flag}\` to be an FC region id such as ${DEFAULT_FC_REGION}, got ${raw}`,
      command,
    );
  }
  return raw;
};

/** `--local` takes everything from the state file: a flag of the cloud target beside it is a usage error. */
export const refuseCloudFlags = (command: string, values: object, cloudFlags: readonly string[]): void => {
  const given = values as Record<string, unknown>;
  const cloudFlag = cloudFlags.find((flag) => given[flag] !== undefined);
  if (cloudFlag) {
    throw new UsageError(
      `Expected \`--${cloudFlag}\` only for the cloud target; --local takes everything from the state file`,
      command,
    );
  }
};

/** FC's public endpoint for an account in a region. */
export const fcEndpointOf = (accountId: string, region: string): string =>
  `https://${accountId}.${region}.fc.aliyuncs.com`;

/** An http(s) endpoint; `localhost` becomes 127.0.0.1 because ali-oss would put the bucket in front of the host name. */
const parseEndpoint = (command: string, flag: string, raw: string): string => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(
      `Expected \`--${flag}\` to be an http(s) URL such as https://oss-cn-shanghai.aliyuncs.com, got ${raw}`,
      command,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`Expected \`--${flag}\` to be an http(s) URL, got ${raw}`, command);
  }
  if (url.hostname === 'localhost') url.hostname = '127.0.0.1';
  return url.origin;
};

const parseRegion = (command: string, raw: string | undefined): string => {
  const region = raw ?? DEFAULT_OSS_REGION;
  if (!/^oss-[a-z]+-[a-z0-9-]+$/.test(region)) {
    throw new UsageError(
      `Expected \`--region\` to be an OSS region id such as oss-cn-shanghai, got ${region}`,
      command,
    );
  }
  return region;
};

const parseBucket = (command: string, raw: string | undefined): string | undefined => {
  if (raw === undefined) return undefined;
  // ali-oss refuses other names before sending anything, with a message that does not say which flag to fix.
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(raw)) {
    throw new UsageError(
      `Expected \`--bucket\` to be a bucket name (3-63 lowercase letters, digits and hyphens), got ${raw}`,
      command,
    );
  }
  return raw;
};

const cloudFc = (command: string, values: TargetValues, credentials: Credentials, ossRegion: string): FcSettings => {
  const accountId = parseAccountId(command, '`--account-id`', values['account-id']);
  const region = parseFcRegion(command, 'fc-region', values['fc-region'] ?? ossRegion.replace(/^oss-/, ''));
  return {
    ...credentials,
    accountId,
    region,
    endpoint: parseEndpoint(command, 'fc-endpoint', values['fc-endpoint'] ?? fcEndpointOf(accountId, region)),
    serviceName: values.service ?? 'algolib',
    functionName: values.function ?? 'register',
  };
};

const loadLocalCloud = () => import('../local/cloud.ts');

/** Every secret of a local cloud's state, so no message can print one. */
export const rememberStateSecrets = (state: LocalCloudState): void => {
  for (const secret of [
    state.oss.accessKeySecret,
    state.fc.accessKeySecret,
    state.cityvisual.accessKeySecret,
    state.webhook.secret,
  ]) {
    rememberSecret(secret);
  }
};

/** The local cloud's state file, or `undefined` when there is none; a file that does not parse is a one-line error. */
export const readState = async (stateFile: string): Promise<LocalCloudState | undefined> => {
  const { readStateFile } = await loadLocalCloud();
  try {
    return readStateFile(stateFile);
  } catch (error) {
    throw new CliError(
      `Cannot read the local cloud state file ${stateFile}: it is not valid JSON (delete it and start \`algolib dev\` again)`,
      {
        cause: error,
      },
    );
  }
};

/**
 * Decides the target from the flags and the environment; throws a `UsageError` or a `CliError` (exit 2) when they do
 * not describe one. `needsFc` asks for the Function Compute settings too (replay).
 *
 * @example
 * ```ts
 * const plan = await planTarget('status', values, process.env, { needsFc: false });
 * const target = await openTarget(plan, out);
 * ```
 */
export const planTarget = async (
  command: string,
  values: TargetValues,
  env: Record<string, string | undefined>,
  { needsFc }: { needsFc: boolean },
): Promise<TargetPlan> => {
  const statusPrefix = parsePrefix(command, 'status-prefix', values['status-prefix'], DEFAULT_STATUS_PREFIX, false);
  const bucket = parseBucket(command, values.bucket);
  // --state-file names a local cloud, so it implies --local.
  if (values.local || values['state-file'] !== undefined) {
    refuseCloudFlags(command, values, CLOUD_ONLY_FLAGS);
    const explicit = values['state-file'];
    const stateFile = explicit ?? (await locateState(env));
    const state = await readState(stateFile);
    if (!state) {
      throw new CliError(
        `No local cloud state file at ${stateFile}: is \`${hint(`dev --state-file ${stateFile}`)}\` running? Start it (in another terminal), or fix --state-file`,
      );
    }
    const flags = [
      '--local',
      // A found state file is found again from here; a named one has to be named again.
      ...(explicit === undefined ? [] : ['--state-file', explicit]),
      ...(bucket ? ['--bucket', bucket] : []),
    ];
    return {
      kind: 'local',
      stateFile,
      state,
      bucket,
      serviceName: values.service,
      functionName: values.function,
      statusPrefix,
      flags,
    };
  }
  if (!bucket)
    throw new UsageError(
      'Expected `--bucket <name>` (the bucket the pipeline watches), or --local for the local cloud',
      command,
    );
  const region = parseRegion(command, values.region);
  const endpoint = parseEndpoint(command, 'endpoint', values.endpoint ?? `https://${region}.aliyuncs.com`);
  const credentials = credentialsFromEnv(env);
  const flags = [
    '--bucket',
    bucket,
    ...(region === DEFAULT_OSS_REGION ? [] : ['--region', region]),
    ...(values.endpoint ? ['--endpoint', endpoint] : []),
  ];
  return {
    kind: 'cloud',
    oss: { ...credentials, endpoint, region, bucket },
    fc: needsFc ? cloudFc(command, values, credentials, region) : undefined,
    statusPrefix,
    flags,
  };
};

/**
 * The state file of the running local cloud for `--local` without `--state-file`; none running is a one-line
 * `CliError` (exit 2) that says where it looked and how to start one.
 */
export const locateState = async (env: Record<string, string | undefined>): Promise<string> => {
  const found = await findStateFile(process.cwd(), env);
  if (found.found) return relative(process.cwd(), found.stateFile) || found.stateFile;
  const stale = found.stale.length > 0 ? ` (not answering, left by a stopped run: ${found.stale.join(', ')})` : '';
  throw new CliError(
    `No running local cloud: looked for ${found.looked.join(', then ')}${stale}. Start one with \`${hint('dev')}\` in another terminal (it keeps running), or pass --state-file`,
  );
};

/** The plan for a local cloud this process already runs (the demo's, which asked for one), with every default. */
export const planFor = (state: LocalCloudState): TargetPlan => ({
  kind: 'local',
  stateFile: '(none: started by this command)',
  state,
  bucket: undefined,
  serviceName: undefined,
  functionName: undefined,
  statusPrefix: DEFAULT_STATUS_PREFIX,
  flags: ['--local'],
});

/** The local cloud's FC API: where it answers and the key to sign with (from the state file). */
export const localFcAccess = (state: LocalCloudState) => ({
  endpoint: state.fc.endpoint,
  accountId: state.fc.accountId,
  region: state.fc.region,
  accessKeyId: state.fc.accessKeyId,
  accessKeySecret: state.fc.accessKeySecret,
});

const fromState = (state: LocalCloudState, plan: Extract<TargetPlan, { kind: 'local' }>) => ({
  oss: {
    endpoint: state.oss.endpoint,
    region: state.oss.region,
    bucket: plan.bucket ?? state.oss.bucket,
    accessKeyId: state.oss.accessKeyId,
    accessKeySecret: state.oss.accessKeySecret,
    securityToken: undefined,
  },
  fc: {
    ...localFcAccess(state),
    serviceName: plan.serviceName ?? state.fc.serviceName,
    functionName: plan.functionName ?? state.fc.functionName,
  },
});

/** Opens a planned target: the settings to sign with, and how to explain what goes wrong. */
export const openTarget = async (plan: TargetPlan, _out: Output): Promise<Target> => {
  if (plan.kind === 'cloud') {
    for (const secret of [plan.oss.accessKeySecret, plan.oss.securityToken]) rememberSecret(secret);
    const credentialsFrom = credentialsSource(plan.oss);
    return {
      oss: plan.oss,
      fc: plan.fc,
      statusPrefix: plan.statusPrefix,
      flags: plan.flags,
      context: (service) => ({
        service,
        endpoint: service === 'OSS' ? plan.oss.endpoint : (plan.fc?.endpoint ?? ''),
        bucket: plan.oss.bucket,
        credentialsFrom,
        endpointFix:
          service === 'OSS' ? 'check --endpoint and --region' : 'check --fc-endpoint, --fc-region and --account-id',
        bucketFix: 'check --bucket and --region',
      }),
      close: async () => {},
    };
  }
  const { state } = plan;
  rememberStateSecrets(state);
  const settings = fromState(state, plan);
  const where = `the state file ${plan.stateFile}`;
  return {
    ...settings,
    statusPrefix: plan.statusPrefix,
    flags: plan.flags,
    context: (service) => ({
      service,
      endpoint: service === 'OSS' ? settings.oss.endpoint : settings.fc.endpoint,
      bucket: settings.oss.bucket,
      credentialsFrom: where,
      endpointFix: `is \`${hint('dev')}\` still running? Start it again, or delete the stale state file ${plan.stateFile}`,
      bucketFix: `check --bucket (the local cloud's bucket is ${state.oss.bucket})`,
    }),
    close: async () => {},
  };
};
