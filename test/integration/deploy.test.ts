/**
 * `algolib deploy` end to end against the FC emulator, through the real @alicloud/fc2 requests (signed, verified):
 * an empty FC, then the local cloud, which deploys itself through the same code.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OSS from 'ali-oss';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { deploy } from '../../cli/deploy.ts';
import { CliError } from '../../cli/errors.ts';
import { zipCode } from '../../deploy/code-zip.ts';
import { type LocalCloud, startLocalCloud } from '../../local/cloud.ts';
import { type FcEmulator, startFcEmulator } from '../../local/fc/fc-emulator.ts';
import { TEMPLATE_PARAMETERS } from '../fixtures/template-parameters.ts';

// @alicloud/fc2 ships no types: the part these tests call.
type Fc2 = {
  invokeFunction(service: string, fn: string, event: string): Promise<{ data: unknown }>;
  getFunction(service: string, fn: string): Promise<{ data: { codeChecksum: string } }>;
  listTriggers(service: string, fn: string): Promise<{ data: { triggers: Array<{ triggerName: string }> } }>;
};
const FCClient = createRequire(import.meta.url)('@alicloud/fc2') as new (
  accountId: string,
  config: { accessKeyID: string; accessKeySecret: string; region: string; endpoint: string; timeout?: number },
) => Fc2;

const projectTemplate = fileURLToPath(new URL('../../template.yml', import.meta.url));
const API_KEY = { accessKeyId: 'LTAI-deploy-test', accessKeySecret: 'deploy-test-secret' };
const PARAMETERS = TEMPLATE_PARAMETERS;

/**
 * A stub of the register function that answers with its version and the environment it was given. Its initializer is
 * async, a form FC's runtime awaits (a plain sync one would be waited on until InitializationTimeout).
 */
const stubBundle = (version: string) => `exports.initialize = async () => {};
exports.handler = async () => JSON.stringify({ version: ${JSON.stringify(version)}, ossRegion: process.env.OSS_REGION, statusPrefix: process.env.STATUS_PREFIX });
`;

let work: string;

/** A project folder: a copy of template.yml (optionally edited) next to a stub bundle in dist/register. */
const project = (name: string, version = 'v1') => {
  const dir = join(work, name);
  mkdirSync(join(dir, 'dist', 'register'), { recursive: true });
  copyFileSync(projectTemplate, join(dir, 'template.yml'));
  writeFileSync(join(dir, 'dist', 'register', 'index.js'), stubBundle(version));
  writeFileSync(join(dir, 'parameters.json'), JSON.stringify(PARAMETERS));
  return {
    template: join(dir, 'template.yml'),
    parameters: join(dir, 'parameters.json'),
    code: join(dir, 'dist', 'register'),
    setVersion: (next: string) => writeFileSync(join(dir, 'dist', 'register', 'index.js'), stubBundle(next)),
    /** Edits the template copy; a `from` that is not there fails the test rather than passing it. */
    edit: (from: string, to: string) => {
      const text = readFileSync(join(dir, 'template.yml'), 'utf8');
      if (!text.includes(from)) throw new Error(`template.yml has no ${JSON.stringify(from)}`);
      writeFileSync(join(dir, 'template.yml'), text.replace(from, to));
    },
  };
};

type Run = { code: number; stdout: string; stderr: string; json: Record<string, unknown> & { plan?: PlanEntry[] } };
type PlanEntry = { type: string; id: string; action: string; changes: unknown[] };

/** Runs `algolib deploy` in this process and captures what it prints. */
const run = async (argv: string[], env: Record<string, string>): Promise<Run> => {
  let stdout = '';
  let stderr = '';
  const capture =
    (append: (text: string) => void) =>
    (chunk: unknown, ...rest: unknown[]) => {
      append(String(chunk));
      const done = rest.find((item) => typeof item === 'function') as (() => void) | undefined;
      done?.();
      return true;
    };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture((text) => (stdout += text)) as never);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture((text) => (stderr += text)) as never);
  try {
    const code = await deploy.run(argv, env);
    return { code, stdout, stderr, json: stdout.trim().startsWith('{') ? JSON.parse(stdout) : {} };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
};

const changedOf = (result: Run) =>
  (result.json.plan ?? [])
    .filter((entry) => entry.action !== 'unchanged')
    .map(({ id, action, changes }) => ({ id, action, changes }));

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'algolib-deploy-'));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('algolib deploy against an empty FC', () => {
  let fc: FcEmulator;
  let client: Fc2;
  const env = {
    ALIBABA_CLOUD_ACCESS_KEY_ID: API_KEY.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: API_KEY.accessKeySecret,
  };
  const app = () => project('cloud');
  let files: ReturnType<typeof project>;
  const argv = (...extra: string[]) => [
    '--template',
    files.template,
    '--parameters-file',
    files.parameters,
    '--no-build',
    '--account-id',
    fc.accountId,
    '--region',
    fc.region,
    '--endpoint',
    fc.endpoint,
    '--json',
    ...extra,
  ];
  const invoke = async () => JSON.parse(String((await client.invokeFunction('algolib', 'register', '{}')).data));
  const triggerNames = async () =>
    (await client.listTriggers('algolib', 'register')).data.triggers.map((trigger) => trigger.triggerName);

  beforeAll(async () => {
    files = app();
    fc = await startFcEmulator({
      apiCredentials: [API_KEY],
      issueCredentials: () => ({ accessKeyId: 'STS.deploy', accessKeySecret: 'sts-secret', securityToken: 'token' }),
    });
    client = new FCClient(fc.accountId, {
      accessKeyID: API_KEY.accessKeyId,
      accessKeySecret: API_KEY.accessKeySecret,
      region: fc.region,
      endpoint: fc.endpoint,
      timeout: 10_000,
    });
  });

  afterAll(async () => {
    await fc?.close();
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('creates everything, and a plan right after shows nothing to do', async () => {
    // Act
    const applied = await run(argv(), env);
    const replanned = await run(argv('--plan'), env);

    // Assert
    expect(applied.code).toBe(0);
    expect(applied.json.plan?.map((entry) => `${entry.action} ${entry.type} ${entry.id}`)).toEqual([
      'create service algolib',
      'create function algolib/register',
      'create trigger algolib/register/package-uploaded',
      'create trigger algolib/register/manifest-uploaded',
      'create async-config algolib/register',
    ]);
    expect(replanned.code).toBe(0);
    expect(changedOf(replanned)).toEqual([]);
    expect(replanned.stderr).toContain('Nothing to do: Function Compute already matches the template.');
    expect((await client.getFunction('algolib', 'register')).data.codeChecksum).toBe(zipCode(files.code).checksum);
    expect(await invoke()).toEqual({ version: 'v1', ossRegion: 'oss-cn-shanghai', statusPrefix: 'status/' });
    expect(`${applied.stdout}${applied.stderr}${replanned.stdout}`).not.toContain(
      PARAMETERS.CityVisualOssAccessKeySecret,
    );
  });

  it('plans exactly the environment value that changed, applies it, and the next invocation sees it', async () => {
    // Arrange
    files.edit('OSS_REGION: !Ref OssRegion', 'OSS_REGION: oss-cn-hangzhou');

    // Act
    const planned = await run(argv('--plan'), env);
    const before = await invoke();
    const applied = await run(argv(), env);

    // Assert
    expect(changedOf(planned)).toEqual([
      {
        id: 'algolib/register',
        action: 'update',
        changes: [{ field: 'environmentVariables.OSS_REGION', from: 'oss-cn-shanghai', to: 'oss-cn-hangzhou' }],
      },
    ]);
    expect(before.ossRegion).toBe('oss-cn-shanghai');
    expect(applied.code).toBe(0);
    expect(applied.json.applied).toEqual([{ operation: 'UpdateFunction', id: 'algolib/register' }]);
    expect((await invoke()).ossRegion).toBe('oss-cn-hangzhou');
  });

  it('deploys changed code by its checksum, and the next invocation runs it', async () => {
    // Arrange
    const before = (await client.getFunction('algolib', 'register')).data.codeChecksum;
    files.setVersion('v2');
    const checksum = zipCode(files.code).checksum;

    // Act
    const applied = await run(argv(), env);

    // Assert
    expect(changedOf(applied)).toEqual([
      { id: 'algolib/register', action: 'update', changes: [{ field: 'code', from: before, to: checksum }] },
    ]);
    expect((await client.getFunction('algolib', 'register')).data.codeChecksum).toBe(checksum);
    expect((await invoke()).version).toBe('v2');
  });

  it('prunes a trigger that left the template only with --yes', async () => {
    // Arrange: renamed in the template, so the old one is no longer there and the new one overlaps it on the bucket.
    files.edit('manifest-uploaded:', 'manifest-arrived:');

    // Act
    const planned = await run(argv('--plan'), env);
    const refused = await run(argv(), env).catch((error: unknown) => error);
    const keptNames = await triggerNames();
    const pruned = await run(argv('--yes'), env);

    // Assert
    expect(changedOf(planned)).toEqual([
      expect.objectContaining({ id: 'algolib/register/manifest-arrived', action: 'create' }),
      { id: 'algolib/register/manifest-uploaded', action: 'would-delete', changes: [] },
    ]);
    expect(planned.stderr).toContain('would delete (pass --yes)');
    expect(refused).toBeInstanceOf(CliError);
    expect(refused).toMatchObject({ exitCode: 2 });
    expect((refused as Error).message).toMatch(
      /^Function Compute rejected CreateTrigger of trigger algolib\/register\/manifest-arrived \(400 InvalidArgument\): Cannot specify overlapping prefix and suffix with same event type/,
    );
    // FC lists triggers in alphabetical order (ListTriggers pages by name), not in the order they were made.
    expect(keptNames).toEqual(['manifest-uploaded', 'package-uploaded']);
    expect(pruned.code).toBe(0);
    expect(pruned.json.applied).toEqual([
      { operation: 'DeleteTrigger', id: 'algolib/register/manifest-uploaded' },
      { operation: 'CreateTrigger', id: 'algolib/register/manifest-arrived' },
    ]);
    expect(await triggerNames()).toEqual(['manifest-arrived', 'package-uploaded']);
  });

  it('explains refused credentials in one line and exits 2', async () => {
    // Act
    const error = await run(argv('--plan'), { ...env, ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'wrong-secret' }).catch(
      (e: unknown) => e,
    );

    // Assert
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ exitCode: 2 });
    expect((error as Error).message).toBe(
      `Function Compute refused the request (403 SignatureNotMatch): the AccessKey secret does not belong to the AccessKey ID: check ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET`,
    );
  });

  it('names the setting to fix when nothing answers at the endpoint', async () => {
    // Arrange: a port that was just free, so nothing listens there.
    const closed = await startFcEmulator({
      apiCredentials: [API_KEY],
      issueCredentials: () => ({ accessKeyId: 'STS.x', accessKeySecret: 'x', securityToken: 'x' }),
    });
    const endpoint = closed.endpoint;
    await closed.close();
    const argvAt = argv('--plan').map((value) => (value === fc.endpoint ? endpoint : value));

    // Act
    const error = await run(argvAt, env).catch((e: unknown) => e);

    // Assert
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ exitCode: 2 });
    expect((error as Error).message).toBe(
      `Function Compute at ${endpoint} refused the connection (ECONNREFUSED): check --endpoint, --region and --account-id`,
    );
  });

  it('fails the plan with exit 1 when the template does not check out, before reaching FC', async () => {
    // Arrange
    const broken = project('broken');
    broken.edit('Runtime: nodejs20', 'Runtime: nodejs12');

    // Act
    const result = await run(
      [
        '--template',
        broken.template,
        '--parameters-file',
        broken.parameters,
        '--no-build',
        '--account-id',
        fc.accountId,
        '--endpoint',
        'http://127.0.0.1:9',
        '--plan',
      ],
      env,
    );

    // Assert
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('error: Resources.algolib.register.Properties.Runtime: Expected');
    expect(result.stdout).toContain('does not check out: 1 error.');
  });
});

describe('algolib deploy --check', () => {
  it('checks the project template offline, with stand-ins for the parameters it was not given', async () => {
    // Act
    const result = await run(['--check', '--no-build', '--template', projectTemplate, '--json'], {});

    // Assert
    expect(result.code).toBe(0);
    expect(result.json).toMatchObject({ ok: true, findings: [] });
    expect(result.json.placeholders).toContain('BucketName');
  });

  it('says the bucket was not checked when it has no credentials to ask OSS with', async () => {
    // Act
    const result = await run(
      ['--check', '--no-build', '--template', projectTemplate, '--parameter', 'BucketName=my-algolibs'],
      {},
    );

    // Assert
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('did not check that bucket my-algolibs has no versioning (no credentials)');
  });
});

describe('algolib deploy --local', () => {
  let cloud: LocalCloud;
  let stateFile: string;

  beforeAll(async () => {
    stateFile = join(work, 'local', 'dev.json');
    cloud = await startLocalCloud({ stateFile, fc: { asyncRetryBaseMs: 20 } });
  });

  afterAll(async () => {
    await cloud?.close();
  });

  it('finds the local cloud deployed by the same code: nothing to do', async () => {
    // Act
    const result = await run(
      ['--local', '--state-file', stateFile, '--plan', '--no-build', '--template', projectTemplate, '--json'],
      {},
    );

    // Assert
    expect(result.code).toBe(0);
    expect(changedOf(result)).toEqual([]);
    expect(result.json.target).toMatchObject({ kind: 'local', endpoint: cloud.state.fc.endpoint });
  });

  it('redeploys changed code into the running local cloud, and the next invocation runs it', async () => {
    // Arrange: the project's template beside a stub bundle, so only the code differs.
    const files = project('local', 'local-v2');
    const { endpoint, accountId, region, accessKeyId, accessKeySecret, serviceName, functionName } = cloud.state.fc;
    const client = new FCClient(accountId, {
      accessKeyID: accessKeyId,
      accessKeySecret,
      region,
      endpoint,
      timeout: 10_000,
    });

    // Act
    const result = await run(
      ['--local', '--state-file', stateFile, '--no-build', '--template', files.template, '--json'],
      {},
    );
    const answer = JSON.parse(String((await client.invokeFunction(serviceName, functionName, '{}')).data));

    // Assert
    expect(result.code).toBe(0);
    expect(changedOf(result)).toEqual([
      { id: 'algolib/register', action: 'update', changes: [expect.objectContaining({ field: 'code' })] },
    ]);
    expect(answer).toEqual({ version: 'local-v2', ossRegion: 'oss-cn-shanghai', statusPrefix: 'status/' });
  });

  it('says so when no local cloud is running', async () => {
    // Act
    const error = await run(['--local', '--state-file', join(work, 'none.json'), '--plan', '--no-build'], {}).catch(
      (e: unknown) => e,
    );

    // Assert
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toMatch(/^No local cloud is running: there is no state file at .*none\.json/);
  });

  // Last: versioning, once enabled, cannot be turned off in this cloud.
  it('--check checks out while the status bucket never had versioning, and refuses it once Enabled or Suspended', async () => {
    // Arrange
    const check = () =>
      run(['--check', '--local', '--state-file', stateFile, '--no-build', '--template', projectTemplate, '--json'], {});
    const { endpoint, region, bucket, accessKeyId, accessKeySecret } = cloud.state.oss;
    const owner = new OSS({ endpoint, region, bucket, accessKeyId, accessKeySecret }) as unknown as {
      putBucketVersioning(bucket: string, status: string): Promise<{ status: number }>;
    };

    // Act
    const before = await check();
    await owner.putBucketVersioning(bucket, 'Enabled');
    const enabled = await check();
    await owner.putBucketVersioning(bucket, 'Suspended');
    const suspended = await check();

    // Assert
    expect(before.code).toBe(0);
    expect(before.json).toMatchObject({ ok: true, findings: [] });
    expect(enabled.code).toBe(1);
    expect(enabled.json.findings).toEqual([
      {
        level: 'error',
        rule: 'status-bucket',
        path: 'Parameters.BucketName',
        message: expect.stringMatching(
          new RegExp(
            `^Expected the status bucket ${bucket} never to have had versioning enabled, got Enabled: OSS ignores x-oss-forbid-overwrite`,
          ),
        ),
      },
    ]);
    expect(enabled.stderr).toContain('does not check out: 1 error.');
    expect(suspended.code).toBe(1);
    expect(JSON.stringify(suspended.json.findings)).toContain('got Suspended');
  });
});
