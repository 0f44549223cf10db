/**
 * `algolib deploy`: builds the function, checks template.yml offline (`deploy/check-template.ts`), then plans
 * against Function Compute through `@alicloud/fc2` and applies: service, function (code by checksum), OSS
 * triggers, async config. `--local` does the same against the running local cloud, whose FC emulator serves the
 * same API; the local cloud itself deploys through this code path at start.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { checkStatusBucket } from '../deploy/check-bucket.ts';
import { checkTemplate, type Finding } from '../deploy/check-template.ts';
import { createFc2Client, createFcApi, FcApiError } from '../deploy/fc-api.ts';
import { type Plan, willChange } from '../deploy/plan.ts';
import { planLines, planSummary } from '../deploy/plan-text.ts';
import { type DeployRequest, runDeploy } from '../deploy/run-deploy.ts';
import type { LocalCloudState } from '../local/cloud.ts';
import { createAliOssStore } from '../platform/oss/ali-oss-store.ts';
import type { Credentials } from '../shared/credentials.ts';
import { COMMON_OPTIONS, expectPositionals, type Parsed, parseCommandArgs } from './args.ts';
import type { Command, Env } from './command.ts';
import {
  CliError,
  explainFileError,
  explainRemoteError,
  type RemoteContext,
  rememberSecret,
  UsageError,
} from './errors.ts';
import { hint } from './invocation.ts';
import { createOutput, type Output } from './output.ts';
import {
  credentialsFromEnv,
  credentialsSource,
  DEFAULT_FC_REGION,
  DEFAULT_OSS_REGION,
  fcEndpointOf,
  localFcAccess,
  locateState,
  parseAccountId,
  parseFcRegion,
  readState,
  refuseCloudFlags,
  rememberStateSecrets,
} from './target.ts';

const OPTIONS = {
  ...COMMON_OPTIONS,
  check: { type: 'boolean' },
  plan: { type: 'boolean' },
  yes: { type: 'boolean' },
  json: { type: 'boolean' },
  'no-build': { type: 'boolean' },
  template: { type: 'string' },
  parameter: { type: 'string', multiple: true },
  'parameters-file': { type: 'string' },
  local: { type: 'boolean' },
  'state-file': { type: 'string' },
  region: { type: 'string' },
  'account-id': { type: 'string' },
  endpoint: { type: 'string' },
} as const;

const CLOUD_ONLY_FLAGS = ['region', 'account-id', 'endpoint'] as const;

const usage = `Usage: algolib deploy [--check | --plan] [--yes] [--parameter Name=Value …] [--parameters-file f.json]
                      [--template template.yml] [--no-build] [--json]
                      [--account-id id] [--region r] [--endpoint url] | [--local [--state-file f]]

Deploys template.yml to Function Compute: builds the function (node scripts/build.mjs), checks the template
offline against FC and against the code, reads what FC has (service, function, triggers, async config), prints
the plan (per resource create / update / unchanged, and the fields that change; the code by its CRC-64
checksum) and applies it. A second run right after changes nothing. NoEcho parameters are never printed.

Options:
  --check                    Only check the template (offline) and, given credentials or --local, that the
                             status bucket never had versioning enabled; exit 0 when it checks out, 1 when not.
                             Parameters without a value are checked with a stand-in.
  --plan                     Print the plan and change nothing.
  --yes                      Also delete triggers that are no longer in the template (otherwise the plan lists
                             them as "would delete").
  --parameter <Name=Value>   A template parameter (repeatable; over --parameters-file).
  --parameters-file <f>      A JSON object of parameter values: {"BucketName": "my-algolibs", …}.
  --template <f>             The template (default template.yml).
  --no-build                 Deploy CodeUri as it is (default: run scripts/build.mjs beside the template first).
  --json                     Print the findings, the plan and what was applied as JSON on stdout.
Target (cloud):
  --account-id <id>          Your Alibaba Cloud account id (or ALIBABA_CLOUD_ACCOUNT_ID).
  --region <r>               FC region (default cn-shanghai); the bucket must be in it.
  --endpoint <url>           FC endpoint (default https://<account-id>.<region>.fc.aliyuncs.com).
  Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN (STS);
  the RAM policy they need is deploy/ram/deployer-policy.json. --check reads the bucket's
  versioning at https://<OssRegion>.aliyuncs.com.
Target (local):
  --local                    The running local cloud of \`algolib dev\`, with the parameter values it uses
                             (--parameter still overrides them). The next invocation runs what was deployed.
  --state-file <f>           Its state file (default: the running one, found as \`algolib publish --local\` finds it); implies --local.
  --debug                    Print stack traces of unexpected errors.
  -h, --help                 Show this help.

Exit codes: 0 planned or applied (or the template checks out), 1 the template (or the bucket) does not check out,
2 usage, configuration or a Function Compute error.

Examples:
  algolib deploy --check
  algolib deploy --plan --parameters-file deploy/parameters.json --account-id 1234567890123456
  algolib deploy --parameters-file deploy/parameters.json --account-id 1234567890123456 --yes
  algolib deploy --local                                  (after a code change, with \`algolib dev\` running)`;

type Values = Parsed<typeof OPTIONS>['values'];

/** Where the plan goes: FC's endpoint and credentials, and how to explain errors reaching it. */
type FcTarget = Credentials & {
  kind: 'cloud' | 'local';
  endpoint: string;
  accountId: string;
  region: string;
  context: RemoteContext;
};

// ---------------------------------------------------------------------------------------------------------------
// Flags

const parseParameterFlags = (raw: readonly string[]): Record<string, string> =>
  Object.fromEntries(
    raw.map((item) => {
      const match = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/s.exec(item);
      if (!match)
        throw new UsageError(
          `Expected \`--parameter\` to be Name=Value (e.g. BucketName=my-algolibs), got ${item}`,
          'deploy',
        );
      return [match[1] as string, match[2] as string];
    }),
  );

const readParametersFile = (file: string): Record<string, string> => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw explainFileError(error, file, 'parameters file');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`Expected the parameters file ${file} to be JSON, got text that does not parse`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError(
      `Expected the parameters file ${file} to be a JSON object of parameter values, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`,
    );
  }
  return Object.fromEntries(
    Object.entries(parsed).map(([name, value]) => {
      if (!['string', 'number', 'boolean'].includes(typeof value)) {
        throw new CliError(
          `Expected parameter ${name} in ${file} to be a string, number or boolean, got ${value === null ? 'null' : typeof value}`,
        );
      }
      return [name, String(value)];
    }),
  );
};

const checkFlags = (values: Values) => {
  if (values.check && (values.plan || values.yes))
    throw new UsageError('Expected `--check` alone: it only checks the template (no --plan, no --yes)', 'deploy');
  const local = values.local || values['state-file'] !== undefined;
  if (local) refuseCloudFlags('deploy', values, CLOUD_ONLY_FLAGS);
};

// ---------------------------------------------------------------------------------------------------------------
// Target

const cloudTarget = (values: Values, env: Env): FcTarget => {
  const region = parseFcRegion('deploy', 'region', values.region ?? DEFAULT_FC_REGION);
  const accountId = parseAccountId(
    'deploy',
    '`--account-id` (or ALIBABA_CLOUD_ACCOUNT_ID)',
    values['account-id'] ?? env.ALIBABA_CLOUD_ACCOUNT_ID?.trim(),
  );
  const endpoint = values.endpoint ?? fcEndpointOf(accountId, region);
  if (!/^https?:\/\/[^/\s]+\/?$/.test(endpoint))
    throw new UsageError(`Expected \`--endpoint\` to be an http(s) URL without a path, got ${endpoint}`, 'deploy');
  const credentials = credentialsFromEnv(env);
  for (const secret of [credentials.accessKeySecret, credentials.securityToken]) rememberSecret(secret);
  return {
    kind: 'cloud',
    endpoint: endpoint.replace(/\/$/, ''),
    accountId,
    region,
    ...credentials,
    context: {
      service: 'Function Compute',
      endpoint,
      credentialsFrom: credentialsSource(credentials),
      endpointFix: 'check --endpoint, --region and --account-id',
      bucketFix: 'check the BucketName parameter',
    },
  };
};

/** The running local cloud's state and the parameter values it deploys with; its module loads only for --local. */
const readLocalCloud = async (
  stateFile: string,
): Promise<{ state: LocalCloudState; parameters: Record<string, string> }> => {
  const { localParameters } = await import('../local/cloud.ts');
  const state = await readState(stateFile);
  if (!state)
    throw new CliError(
      `No local cloud is running: there is no state file at ${stateFile}. Start one with \`${hint('dev')}\`, then deploy into it`,
    );
  rememberStateSecrets(state);
  return { state, parameters: localParameters(state) };
};

const localTarget = (state: LocalCloudState, stateFile: string): FcTarget => ({
  kind: 'local',
  ...localFcAccess(state),
  context: {
    service: 'Function Compute',
    endpoint: state.fc.endpoint,
    credentialsFrom: `the state file ${stateFile}`,
    endpointFix: `is \`algolib dev\` still running? Start it again, or delete the stale state file ${stateFile}`,
    bucketFix: `the local cloud's bucket is ${state.oss.bucket}`,
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Steps

/** `node scripts/build.mjs` beside the template, its output on stderr (stdout may be reserved for --json). */
const build = async (templatePath: string, out: Output) => {
  const root = dirname(templatePath);
  const script = join(root, 'scripts', 'build.mjs');
  if (!existsSync(script)) {
    throw new CliError(
      `Cannot build the function: there is no ${script} beside the template (build it yourself and pass --no-build)`,
    );
  }
  out.note(`building: node ${join('scripts', 'build.mjs')}`);
  const code = await new Promise<number | null>((done, fail) => {
    const child = spawn(process.execPath, [script], { cwd: root, stdio: ['ignore', 2, 2] });
    child.once('error', fail);
    child.once('exit', (exitCode) => done(exitCode));
  });
  if (code !== 0)
    throw new CliError(`The build failed (node scripts/build.mjs exited with ${code}): fix it, then deploy again`);
};

const findingLine = (finding: Finding) => `${finding.level}: ${finding.path}: ${finding.message}`;

const explainDeployError = (error: unknown, target: FcTarget): unknown => {
  if (!(error instanceof FcApiError)) return error;
  // No answer, or bad credentials: the CLI's common explanations name the setting to fix.
  const credentials = error.status === 403 && error.permission === undefined && error.code !== 'AccessDenied';
  const remote =
    error.status === undefined || credentials ? explainRemoteError(error.cause, target.context) : undefined;
  return remote ?? new CliError(error.message, { cause: error });
};

const planHeader = (target: FcTarget, templatePath: string) =>
  `Plan for ${target.kind === 'local' ? 'the local cloud' : 'Function Compute'} at ${target.endpoint} (account ${target.accountId}, ${target.region}), ${templatePath}:`;

const closingLines = (plan: Plan, applied: boolean, prune: boolean): string[] => {
  const changes = plan.resources.filter(willChange);
  const pending = plan.resources.filter((resource) => resource.action === 'would-delete');
  const lines: string[] = [];
  if (changes.length === 0) lines.push('Nothing to do: Function Compute already matches the template.');
  else if (applied) lines.push(`Applied ${changes.length} change${changes.length === 1 ? '' : 's'}.`);
  else lines.push('Run again without --plan to apply.');
  if (pending.length > 0 && !prune)
    lines.push(
      `${pending.length} trigger${pending.length === 1 ? ' is' : 's are'} not in the template; pass --yes to delete ${pending.length === 1 ? 'it' : 'them'}.`,
    );
  return lines;
};

// ---------------------------------------------------------------------------------------------------------------

/** Runs the checker and prints its findings; NoEcho values are registered so that nothing prints them later. */
const checkStep = async (
  templatePath: string,
  parameters: Record<string, string>,
  target: FcTarget | undefined,
  out: Output,
) => {
  const checked = await checkTemplate(templatePath, {
    parameters,
    ...(target ? { accountId: target.accountId, region: target.region } : {}),
    // Only a check without a target may stand in for missing values: a plan must deploy real ones.
    placeholders: target === undefined,
  });
  for (const name of checked.model?.noEcho ?? []) rememberSecret(checked.model?.parameters[name]);
  for (const finding of checked.findings) out.say(findingLine(finding));
  if (checked.placeholders.length > 0) {
    out.note(`checked with stand-in values for ${checked.placeholders.join(', ')} (no value given)`);
  }
  return checked;
};

/** Where the status bucket's versioning is read: the local cloud's OSS, or the region's public OSS endpoint. */
type BucketAccess = {
  endpoint: string;
  region: string;
  credentials: Credentials;
};

const bucketAccessOf = (
  parameters: Record<string, string>,
  localCloud: { state: LocalCloudState } | undefined,
  env: Env,
): BucketAccess | undefined => {
  if (localCloud) {
    const { endpoint, region, accessKeyId, accessKeySecret } = localCloud.state.oss;
    return { endpoint, region, credentials: { accessKeyId, accessKeySecret } };
  }
  if (!env.ALIBABA_CLOUD_ACCESS_KEY_ID?.trim() || !env.ALIBABA_CLOUD_ACCESS_KEY_SECRET?.trim()) return undefined;
  const region = parameters.OssRegion ?? DEFAULT_OSS_REGION;
  return { endpoint: `https://${region}.aliyuncs.com`, region, credentials: credentialsFromEnv(env) };
};

/**
 * Checks that the status bucket (BucketName) never had versioning enabled, when there is a way to ask OSS: the
 * local cloud, or credentials. Its findings are printed like the template's.
 */
const bucketStep = async (
  parameters: Record<string, string>,
  placeholders: string[],
  access: BucketAccess | undefined,
  out: Output,
): Promise<Finding[]> => {
  const bucket = parameters.BucketName;
  if (bucket === undefined || placeholders.includes('BucketName')) return [];
  if (access === undefined) {
    out.note(
      `did not check that bucket ${bucket} has no versioning (no credentials): set ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET, or use --local`,
    );
    return [];
  }
  const store = createAliOssStore({
    endpoint: access.endpoint,
    region: access.region,
    bucket,
    timeoutMs: 10_000,
    credentials: () => access.credentials,
  });
  const findings = await checkStatusBucket(bucket, () => store.versioning());
  for (const finding of findings) out.say(findingLine(finding));
  return findings;
};

const verdict = (templatePath: string, findings: Finding[]): string => {
  const errors = findings.filter((finding) => finding.level === 'error').length;
  const warnings = findings.length - errors;
  const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  if (errors > 0) return `${templatePath} does not check out: ${plural(errors, 'error')}.`;
  return `${templatePath} checks out${warnings ? ` (${plural(warnings, 'warning')})` : ''}.`;
};

/** Plans and (unless only planning) applies through fc2; an FC error becomes its one line. */
const deployStep = async (request: Omit<DeployRequest, 'api' | 'region' | 'accountId'>, target: FcTarget) => {
  try {
    const api = createFcApi(await createFc2Client(target));
    return await runDeploy({ ...request, api, region: target.region, accountId: target.accountId });
  } catch (error) {
    throw explainDeployError(error, target);
  }
};

export const deploy: Command = {
  usage,
  run: async (argv, env) => {
    const { values, positionals } = parseCommandArgs('deploy', argv, OPTIONS);
    expectPositionals('deploy', positionals, []);
    checkFlags(values);
    const out = createOutput({ json: values.json ?? false });
    const templatePath = resolve(values.template ?? 'template.yml');
    if (!existsSync(templatePath)) {
      throw new CliError(
        `Cannot read the template ${templatePath}: it does not exist (run from the project's folder, or pass --template)`,
      );
    }
    // parseArgs gives a `multiple` option as an array; the shared Parsed type does not model that.
    const flagParameters = parseParameterFlags((values.parameter as unknown as string[] | undefined) ?? []);
    const fileParameters = values['parameters-file'] ? readParametersFile(values['parameters-file']) : {};
    const goesLocal = values.local || values['state-file'] !== undefined;
    // The running local cloud's state file, found from any folder as for the other --local commands.
    const stateFile = values['state-file'] ?? (goesLocal ? await locateState(env) : '');
    // Everything that can be wrong with the command line or the environment, before building anything.
    const localCloud = goesLocal ? await readLocalCloud(stateFile) : undefined;
    const local = localCloud ? localTarget(localCloud.state, stateFile) : undefined;
    const target = values.check ? undefined : (local ?? cloudTarget(values, env));
    const parameters = { ...localCloud?.parameters, ...fileParameters, ...flagParameters };

    if (!values['no-build']) await build(templatePath, out);
    const checked = await checkStep(templatePath, parameters, target, out);
    const { placeholders } = checked;
    const findings = [...checked.findings];
    // Only --check asks OSS: a plan reaches FC alone, and the function itself refuses a versioned status bucket.
    if (values.check && checked.model && !findings.some((finding) => finding.level === 'error')) {
      const access = bucketAccessOf(checked.model.parameters, localCloud, env);
      findings.push(...(await bucketStep(checked.model.parameters, placeholders, access, out)));
    }
    const ok = !findings.some((finding) => finding.level === 'error');
    if (!ok || !target) {
      out.say(verdict(templatePath, findings));
      if (values.json) out.json({ template: templatePath, ok, findings, placeholders });
      return ok ? 0 : 1;
    }

    const prune = values.yes ?? false;
    const outcome = await deployStep({ templatePath, parameters, apply: !values.plan, prune }, target);
    out.say(planHeader(target, templatePath));
    for (const line of planLines(outcome.plan)) out.say(line);
    out.say(`${planSummary(outcome.plan)}.`);
    for (const line of closingLines(outcome.plan, outcome.steps !== undefined, prune)) out.say(line);
    if (values.json) {
      const { kind, endpoint, accountId, region } = target;
      out.json({
        template: templatePath,
        target: { kind, endpoint, accountId, region },
        findings,
        plan: outcome.plan.resources,
        applied: outcome.steps ?? null,
      });
    }
    return 0;
  },
};
