/** The deploy plan and its apply, over an in-memory Function Compute: what changes, what is printed, what is called. */
import { describe, expect, it } from 'vitest';
import { applyPlan } from '../../deploy/apply.ts';
import { type DesiredState, desiredStateOf } from '../../deploy/desired-state.ts';
import { createFcApi, type Fc2Client, FcApiError, toFcApiError } from '../../deploy/fc-api.ts';
import { planDeployment } from '../../deploy/plan.ts';
import { planLines, planSummary } from '../../deploy/plan-text.ts';
import { loadTemplate } from '../../platform/fc/template.ts';
import { crc64 } from '../../shared/crc64.ts';
import { createMemoryFcApi } from '../fakes/memory-fc-api.ts';

const ACCOUNT = '1234567890123456';
const REGION = 'cn-shanghai';
const PARAMETERS = {
  BucketName: 'algolib-packages',
  CityVisualInstanceId: 'cityvisual-abc123',
  CityVisualOssAccessKeyId: 'LTAIreadonly',
  CityVisualOssAccessKeySecret: 'reader-secret-value',
  FunctionRoleArn: `acs:ram::${ACCOUNT}:role/algolib-function`,
  TriggerRoleArn: `acs:ram::${ACCOUNT}:role/algolib-oss-trigger`,
  OnFailureDestination: `acs:mns:cn-shanghai:${ACCOUNT}:/queues/algolib-failed/messages`,
};

/** The project's template.yml with `parameters` over the sample ones, and `code` as the zip of its CodeUri. */
const desired = (parameters: Record<string, string> = {}, code = 'code v1'): DesiredState => {
  const bytes = Buffer.from(code);
  const model = loadTemplate('template.yml', {
    parameters: { ...PARAMETERS, ...parameters },
    accountId: ACCOUNT,
    region: REGION,
  });
  return desiredStateOf(model, { region: REGION, accountId: ACCOUNT }, () => ({
    zip: bytes,
    checksum: crc64(bytes),
    files: 1,
  }));
};

/** An FC that already holds what `state` describes. */
const deployed = async (state: DesiredState = desired()) => {
  const api = createMemoryFcApi();
  await applyPlan(api, await planDeployment(api, state, { prune: false }), state);
  api.calls.length = 0;
  return api;
};

const changed = (plan: Awaited<ReturnType<typeof planDeployment>>) =>
  plan.resources
    .filter((resource) => resource.action !== 'unchanged')
    .map(({ type, id, action, changes }) => ({ type, id, action, changes }));

describe('planDeployment', () => {
  it('creates every resource on an empty FC, with secret values left out', async () => {
    // Arrange
    const api = createMemoryFcApi();

    // Act
    const plan = await planDeployment(api, desired(), { prune: false });

    // Assert
    expect(plan.resources.map(({ type, id, action }) => `${action} ${type} ${id}`)).toEqual([
      'create service algolib',
      'create function algolib/register',
      'create trigger algolib/register/package-uploaded',
      'create trigger algolib/register/manifest-uploaded',
      'create async-config algolib/register',
    ]);
    const fn = plan.resources[1];
    expect(fn?.changes).toContainEqual({ field: 'environmentVariables.OSS_BUCKET', to: 'algolib-packages' });
    expect(fn?.changes).toContainEqual({
      field: 'environmentVariables.CITYVISUAL_OSS_ACCESS_KEY_SECRET',
      secret: true,
    });
    expect(fn?.changes).toContainEqual({ field: 'environmentVariables.WEBHOOK_ENDPOINTS', secret: true });
    expect(plan.resources[2]?.changes).toContainEqual({
      field: 'sourceArn',
      to: `acs:oss:${REGION}:${ACCOUNT}:algolib-packages`,
    });
    expect(JSON.stringify(plan)).not.toContain('reader-secret-value');
  });

  it('shows nothing to do right after an apply, and applying it calls nothing', async () => {
    // Arrange
    const api = await deployed();

    // Act
    const plan = await planDeployment(api, desired(), { prune: false });
    const steps = await applyPlan(api, plan, desired());

    // Assert
    expect(changed(plan)).toEqual([]);
    expect(steps).toEqual([]);
    expect(api.calls).toEqual([]);
    expect(planSummary(plan)).toBe('5 unchanged');
  });

  it('shows exactly the environment value that changed, and updates the function without uploading code', async () => {
    // Arrange
    const api = await deployed();
    const next = desired({ OssEndpoint: 'https://oss-cn-hangzhou-internal.aliyuncs.com' });

    // Act
    const plan = await planDeployment(api, next, { prune: false });
    await applyPlan(api, plan, next);

    // Assert
    expect(changed(plan)).toEqual([
      {
        type: 'function',
        id: 'algolib/register',
        action: 'update',
        changes: [
          {
            field: 'environmentVariables.OSS_ENDPOINT',
            from: 'https://oss-cn-shanghai-internal.aliyuncs.com',
            to: 'https://oss-cn-hangzhou-internal.aliyuncs.com',
          },
        ],
      },
    ]);
    expect(api.calls).toEqual(['UpdateFunction algolib/register']);
    expect(api.functions.get('algolib/register')?.environmentVariables.OSS_ENDPOINT).toBe(
      'https://oss-cn-hangzhou-internal.aliyuncs.com',
    );
  });

  it('says a secret changed without printing either value', async () => {
    // Arrange
    const api = await deployed();

    // Act
    const plan = await planDeployment(api, desired({ CityVisualOssAccessKeySecret: 'rotated-secret-value' }), {
      prune: false,
    });
    const text = planLines(plan).join('\n');

    // Assert
    expect(changed(plan)[0]?.changes).toEqual([
      { field: 'environmentVariables.CITYVISUAL_OSS_ACCESS_KEY_SECRET', secret: true },
    ]);
    expect(text).toContain('environmentVariables.CITYVISUAL_OSS_ACCESS_KEY_SECRET: (secret, changed)');
    expect(text).not.toMatch(/reader-secret-value|rotated-secret-value/);
  });

  it('diffs the code by its checksum and uploads it only when it changed', async () => {
    // Arrange
    const api = await deployed();
    const next = desired({}, 'code v2');

    // Act
    const plan = await planDeployment(api, next, { prune: false });
    await applyPlan(api, plan, next);

    // Assert
    expect(changed(plan)).toEqual([
      {
        type: 'function',
        id: 'algolib/register',
        action: 'update',
        changes: [{ field: 'code', from: crc64(Buffer.from('code v1')), to: crc64(Buffer.from('code v2')) }],
      },
    ]);
    expect(api.calls).toEqual(['UpdateFunction algolib/register (code)']);
    expect(api.functions.get('algolib/register')?.codeChecksum).toBe(crc64(Buffer.from('code v2')));
  });

  it('updates a trigger whose filter changed, field by field', async () => {
    // Arrange: the package prefix moves; the triggers and the function's PACKAGE_PREFIX follow it.
    const api = await deployed();

    // Act
    const plan = await planDeployment(api, desired({ PackagePrefix: 'algolibs/' }), { prune: false });
    await applyPlan(api, plan, desired({ PackagePrefix: 'algolibs/' }));

    // Assert
    expect(changed(plan).map(({ id, action, changes }) => [id, action, changes.map((change) => change.field)])).toEqual(
      [
        ['algolib/register', 'update', ['environmentVariables.PACKAGE_PREFIX']],
        ['algolib/register/package-uploaded', 'update', ['filter.key.prefix']],
        ['algolib/register/manifest-uploaded', 'update', ['filter.key.prefix']],
      ],
    );
    expect(api.calls).toEqual([
      'UpdateFunction algolib/register',
      'UpdateTrigger algolib/register/package-uploaded',
      'UpdateTrigger algolib/register/manifest-uploaded',
    ]);
  });

  it('replaces a trigger whose bucket changed (FC cannot change a source), deleting before creating', async () => {
    // Arrange
    const api = await deployed();
    const next = desired({ BucketName: 'algolib-other' });

    // Act
    const plan = await planDeployment(api, next, { prune: false });
    await applyPlan(api, plan, next);

    // Assert
    expect(plan.resources.find((resource) => resource.id === 'algolib/register/package-uploaded')).toMatchObject({
      action: 'replace',
      changes: [
        {
          field: 'sourceArn',
          from: `acs:oss:${REGION}:${ACCOUNT}:algolib-packages`,
          to: `acs:oss:${REGION}:${ACCOUNT}:algolib-other`,
        },
      ],
    });
    expect(api.calls).toEqual([
      'UpdateFunction algolib/register',
      'DeleteTrigger algolib/register/package-uploaded',
      'DeleteTrigger algolib/register/manifest-uploaded',
      'CreateTrigger algolib/register/package-uploaded',
      'CreateTrigger algolib/register/manifest-uploaded',
    ]);
  });

  it('lists a trigger that is not in the template as "would delete" and deletes it only when pruning', async () => {
    // Arrange
    const api = await deployed();
    const [packageTrigger] = desired().services[0]?.functions[0]?.triggers ?? [];
    await api.createTrigger('algolib', 'register', {
      ...(packageTrigger as NonNullable<typeof packageTrigger>),
      triggerName: 'legacy',
    });
    api.calls.length = 0;

    // Act
    const kept = await planDeployment(api, desired(), { prune: false });
    await applyPlan(api, kept, desired());
    const pruned = await planDeployment(api, desired(), { prune: true });
    await applyPlan(api, pruned, desired());

    // Assert
    expect(changed(kept)).toEqual([
      { type: 'trigger', id: 'algolib/register/legacy', action: 'would-delete', changes: [] },
    ]);
    expect(planLines(kept).join('\n')).toContain('would delete (pass --yes)');
    expect(changed(pruned)).toEqual([
      { type: 'trigger', id: 'algolib/register/legacy', action: 'delete', changes: [] },
    ]);
    expect(api.calls).toEqual(['DeleteTrigger algolib/register/legacy']);
    expect(api.triggers.get('algolib/register')?.map((trigger) => trigger.triggerName)).toEqual([
      'package-uploaded',
      'manifest-uploaded',
    ]);
  });

  it('updates the async config and the service role', async () => {
    // Arrange
    const api = await deployed();
    const next = desired({
      FunctionRoleArn: `acs:ram::${ACCOUNT}:role/algolib-function-v2`,
      OnFailureDestination: `acs:mns:cn-shanghai:${ACCOUNT}:/queues/other/messages`,
    });

    // Act
    const plan = await planDeployment(api, next, { prune: false });
    await applyPlan(api, plan, next);

    // Assert
    expect(
      changed(plan).map(({ type, action, changes }) => [type, action, changes.map((change) => change.field)]),
    ).toEqual([
      ['service', 'update', ['role']],
      ['async-config', 'update', ['destinationConfig.onFailure']],
    ]);
    expect(api.calls).toEqual(['UpdateService algolib', 'PutFunctionAsyncInvokeConfig algolib/register']);
  });
});

describe('planLines', () => {
  it('prints one line per resource and one per changed field', async () => {
    // Arrange
    const api = await deployed();

    // Act
    const lines = planLines(await planDeployment(api, desired({ StatusPrefix: 'state/' }), { prune: false }));

    // Assert
    expect(lines).toMatchInlineSnapshot(`
      [
        "  service       algolib                                  unchanged",
        "  function      algolib/register                         update",
        "      environmentVariables.STATUS_PREFIX: "status/" → "state/"",
        "  trigger       algolib/register/package-uploaded        unchanged",
        "  trigger       algolib/register/manifest-uploaded       unchanged",
        "  async-config  algolib/register                         unchanged",
      ]
    `);
  });
});

describe('createFcApi over fc2', () => {
  /** An fc2 client whose every call fails the way fc2 throws for an FC error answer. */
  const failingClient = (status: number, code: string, message: string): Fc2Client => {
    const fail = async () => {
      throw Object.assign(
        new Error(`GET /services/algolib failed with ${status}. requestid: 5f0e-1, message: ${message}.`),
        { name: `FC${code}Error`, code },
      );
    };
    return new Proxy({} as Fc2Client, { get: () => fail });
  };

  it('reads a missing resource as undefined', async () => {
    // Arrange
    const api = createFcApi(failingClient(404, 'ServiceNotFound', "service 'algolib' does not exist"));

    // Act / Assert
    await expect(api.getService('algolib')).resolves.toBeUndefined();
    await expect(api.listTriggers('algolib', 'register')).resolves.toEqual([]);
  });

  it('names the RAM action a 403 says is missing, in one line', async () => {
    // Arrange
    const api = createFcApi(
      failingClient(
        403,
        'AccessDenied',
        "the caller is not authorized to perform 'fc:CreateService' on resource 'acs:fc:cn-shanghai:1234567890123456:services/algolib'",
      ),
    );

    // Act
    const error = await api
      .createService('algolib', { description: '', role: '', internetAccess: true })
      .catch((e: unknown) => e);

    // Assert
    expect(error).toBeInstanceOf(FcApiError);
    expect(error).toMatchObject({ status: 403, code: 'AccessDenied', permission: 'fc:CreateService' });
    expect((error as Error).message).toMatchInlineSnapshot(
      `"Function Compute denied CreateService of service algolib (403 AccessDenied): the credentials lack fc:CreateService; grant it (see deploy/ram/deployer-policy.json)"`,
    );
  });

  it.each([
    [
      400,
      'InvalidArgument',
      'Function Compute rejected CreateTrigger of trigger algolib/register/t (400 InvalidArgument): bad filter',
    ],
    [
      404,
      'FunctionNotFound',
      'Function Compute found no trigger algolib/register/t for CreateTrigger (404 FunctionNotFound): bad filter',
    ],
    [
      500,
      'InternalServerError',
      'Function Compute failed CreateTrigger of trigger algolib/register/t (500 InternalServerError): bad filter',
    ],
  ])('explains a %i in one line', (status, code, expected) => {
    // Arrange
    const thrown = Object.assign(new Error(`POST /x failed with ${status}. requestid: r, message: bad filter.`), {
      code,
    });

    // Act
    const error = toFcApiError('CreateTrigger', 'trigger algolib/register/t', thrown);

    // Assert
    expect(error.message).toBe(expected);
    expect(error.message).not.toContain('\n');
  });
});
