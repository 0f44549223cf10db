import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import RPCClient from '@alicloud/pop-core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CityVisualCredential,
  type CityVisualEmulator,
  type CityVisualEmulatorOptions,
  type CityVisualFaultKind,
  signRpc,
  startCityVisualEmulator,
} from '../../local/cityvisual/cityvisual-emulator.ts';
import { rpcStringToSign } from '../../local/cityvisual/rpc-signature.ts';
import { classifyCityVisualError } from '../../shared/cityvisual-errors.ts';
import { OSS_ENDPOINT, OSS_READER, ossAccess } from '../fixtures/cityvisual-reader.ts';

const INSTANCE = 'cityvisual-test01';
const OTHER_INSTANCE = 'cityvisual-test02';
const USER: CityVisualCredential = { accessKeyId: 'LTAI-emulator-user', accessKeySecret: 'user-secret-never-logged' };
const OSS = OSS_READER;

const createParams = (overrides: Record<string, string | number> = {}) => ({
  InstanceId: INSTANCE,
  AlgoLibName: 'person_detector',
  AlgoLibVersion: '1.0.0',
  CapabilityNames: 'PERSON,FACE',
  Capacity: 30,
  JsonText: '[{"objType":"person","dbTableName":"person_offline_result"}]',
  Text: 'person detector',
  OssAccessKeyId: OSS.accessKeyId,
  OssAccessKeySecret: OSS.accessKeySecret,
  OssBucket: OSS.bucket,
  OssEndpoint: OSS_ENDPOINT,
  OssPath: 'library/person_detector-1.0.0.tar.gz',
  ...overrides,
});

/** ModifyAlgoLib's parameters: AlgoLibId plus every field of CreateAlgoLib but InstanceId, as its reference says. */
const modifyParams = (AlgoLibId: string, overrides: Record<string, string | number> = {}) => {
  const { InstanceId: _instance, ...fields } = createParams();
  return { AlgoLibId, ...fields, ...overrides };
};

type Json = Record<string, unknown>;
type DescribeResult = {
  TotalCount: number;
  PageNumber: number;
  PageSize: number;
  AlgoLibs: { AlgoLib: Array<Json & { AlgoLibId: string; AlgoLibName: string }> };
};
/** What pop-core throws: API errors carry `data` and `entry`; network errors a system `code`; bad JSON neither. */
type PopError = { name: string; code?: string; data?: Json; entry?: { response: { statusCode: number } } };

let emulator: CityVisualEmulator | undefined;
const logs: Json[] = [];

const start = async (options: Partial<CityVisualEmulatorOptions> = {}) => {
  emulator = await startCityVisualEmulator({
    instanceIds: [INSTANCE, OTHER_INSTANCE],
    credentials: [USER],
    ossAccess,
    ossEndpoints: [OSS_ENDPOINT],
    log: (entry) => logs.push(entry),
    ...options,
  });
  return emulator;
};

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  logs.length = 0;
});

const clientOf = (target: CityVisualEmulator, credential: CityVisualCredential = USER, apiVersion = '2018-10-30') =>
  new RPCClient({ endpoint: target.endpoint, apiVersion, ...credential });

const post = <T = Json>(client: RPCClient, action: string, params: object, timeout = 5_000) =>
  client.request<T & { RequestId: string }>(action, params, { method: 'POST', timeout });

const rejectionOf = async (promise: Promise<unknown>): Promise<PopError> => {
  try {
    await promise;
  } catch (error) {
    return error as PopError;
  }
  throw new Error('Expected the request to be rejected, but it succeeded');
};

const apiError = (error: PopError) => ({ status: error.entry?.response.statusCode, code: error.code });

/** A request signed by hand, to control the nonce and the Timestamp that pop-core would pick itself. */
const signedPost = async (
  target: CityVisualEmulator,
  overrides: Record<string, string> = {},
  secret = USER.accessKeySecret,
) => {
  const params = {
    Action: 'DescribeAlgoLibs',
    Format: 'JSON',
    Version: '2018-10-30',
    AccessKeyId: USER.accessKeyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: randomUUID(),
    Timestamp: `${new Date().toISOString().slice(0, 19)}Z`,
    InstanceId: INSTANCE,
    ...overrides,
  };
  const body = new URLSearchParams({ ...params, Signature: signRpc('POST', params, secret) });
  const response = await fetch(`${target.endpoint}/`, { method: 'POST', body });
  return { status: response.status, body: (await response.json()) as Json, params };
};

describe('CityVisual emulator', () => {
  it('creates libraries over POST and lets the client find one by exact name among substring matches, page by page', async () => {
    // Arrange
    const client = clientOf(await start());
    const names = ['person_detector_v2', 'person_detector', 'old_person_detector', 'vehicle_detector'];
    const ids: string[] = [];
    for (const name of names)
      ids.push(
        (await post<{ AlgoLibId: string }>(client, 'CreateAlgoLib', createParams({ AlgoLibName: name }))).AlgoLibId,
      );

    // Act
    const found: DescribeResult['AlgoLibs']['AlgoLib'] = [];
    let total = Number.POSITIVE_INFINITY;
    for (let page = 1; found.length < total && page <= 10; page++) {
      const result = await post<DescribeResult>(client, 'DescribeAlgoLibs', {
        InstanceId: INSTANCE,
        AlgoLibName: 'person_detector',
        PageNumber: page,
        PageSize: 2,
      });
      total = result.TotalCount;
      found.push(...result.AlgoLibs.AlgoLib);
    }
    const exact = found.filter((lib) => lib.AlgoLibName === 'person_detector');

    // Assert
    expect(ids).toEqual(['1', '2', '3', '4']);
    expect(total).toBe(3);
    expect(exact).toEqual([
      {
        AlgoLibId: ids[1],
        AlgoLibName: 'person_detector',
        AlgoLibVersion: '1.0.0',
        CapabilityNames: 'PERSON,FACE',
        Capacity: 30,
        JsonText: '[{"objType":"person","dbTableName":"person_offline_result"}]',
        Text: 'person detector',
        OssAccessKeyId: OSS.accessKeyId,
        OssBucket: OSS.bucket,
        OssEndpoint: OSS_ENDPOINT,
        OssPath: 'library/person_detector-1.0.0.tar.gz',
        UploadTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      },
    ]);
    expect(emulator?.counters()).toEqual({ requests: { CreateAlgoLib: 4, DescribeAlgoLibs: 2 }, created: 4 });
  });

  it('accepts a GET request signed over the query string', async () => {
    // Arrange
    const client = clientOf(await start());

    // Act
    const created = await client.request<{ AlgoLibId: string }>('CreateAlgoLib', createParams(), { timeout: 5_000 });
    const described = await client.request<DescribeResult>(
      'DescribeAlgoLibs',
      { InstanceId: INSTANCE, AlgoLibId: created.AlgoLibId },
      { timeout: 5_000 },
    );

    // Assert
    expect(described.AlgoLibs.AlgoLib.map((lib) => lib.AlgoLibName)).toEqual(['person_detector']);
  });

  it('answers InvalidName.Duplicate with HTTP 400 for a name taken in the same instance, but not in another one', async () => {
    // Arrange
    const client = clientOf(await start());
    await post(client, 'CreateAlgoLib', createParams());

    // Act
    const duplicate = await rejectionOf(post(client, 'CreateAlgoLib', createParams({ AlgoLibVersion: '1.0.1' })));
    const elsewhere = await post(client, 'CreateAlgoLib', createParams({ InstanceId: OTHER_INSTANCE }));

    // Assert
    expect(duplicate.code).toBe('InvalidName.Duplicate');
    expect(duplicate.entry?.response.statusCode).toBe(400);
    expect(duplicate.data).toMatchObject({
      Code: 'InvalidName.Duplicate',
      Message: 'The specified name already exists.',
    });
    expect(Object.keys(duplicate.data ?? {}).sort()).toEqual(['Code', 'HostId', 'Message', 'Recommend', 'RequestId']);
    expect(elsewhere).toHaveProperty('AlgoLibId', '2');
    expect(emulator?.libraries()).toHaveLength(2);
  });

  it.each([
    ['a name that starts with a digit', { AlgoLibName: '1person' }, 400, 'InvalidName.Malformed'],
    ['a one-letter name', { AlgoLibName: 'p' }, 400, 'InvalidName.Malformed'],
    ['a capacity of 0', { Capacity: 0 }, 400, 'InvalidCapacity.ValueNotSupported'],
    [
      'a capacity over 50 (the reference bounds it to [1, 50])',
      { Capacity: 51 },
      400,
      'InvalidCapacity.ValueNotSupported',
    ],
    ['a fractional capacity', { Capacity: '2.5' }, 400, 'InvalidCapacity.ValueNotSupported'],
    ['an unknown capability', { CapabilityNames: 'PERSON,UNICORN' }, 400, 'InvalidCapabilities.ValueNotSupported'],
    ['a JsonText that is not JSON', { JsonText: '[{objType:person}]' }, 400, 'InvalidParameter'],
    ['an empty AlgoLibName', { AlgoLibName: '' }, 400, 'MissingAlgoLibName'],
    ['an unknown instance', { InstanceId: 'cityvisual-nope' }, 404, 'InvalidInstanceId.NotFound'],
    ['an unknown OSS endpoint', { OssEndpoint: 'oss-mars-1.aliyuncs.com' }, 404, 'InvalidOssEndpoint.NotFound'],
    ['a bucket that does not exist', { OssBucket: 'no-such-bucket' }, 404, 'InvalidOssBucket.NotFound'],
    [
      'an OSS secret that cannot read the bucket',
      { OssAccessKeySecret: 'wrong' },
      403,
      'InvalidOssBucket.ValueUnauthorized',
    ],
    ['another region', { RegionId: 'cn-beijing' }, 404, 'InvalidRegionId.NotFound'],
  ])('rejects CreateAlgoLib with %s', async (_case, overrides, status, code) => {
    // Arrange
    const client = clientOf(await start());

    // Act
    const error = await rejectionOf(post(client, 'CreateAlgoLib', createParams(overrides)));

    // Assert
    expect(apiError(error)).toEqual({ status, code });
    expect(emulator?.counters()).toEqual({ requests: { CreateAlgoLib: 1 }, created: 0 });
  });

  it('rejects CreateAlgoLib without Text as MissingText', async () => {
    // Arrange
    const client = clientOf(await start());
    const { Text: _omitted, ...params } = createParams();

    // Act
    const error = await rejectionOf(post(client, 'CreateAlgoLib', params));

    // Assert
    expect(apiError(error)).toEqual({ status: 400, code: 'MissingText' });
  });

  it.each([
    ['a PageSize over 100', { InstanceId: INSTANCE, PageSize: 101 }, 400, 'InvalidParameter'],
    ['a PageNumber of 0', { InstanceId: INSTANCE, PageNumber: 0 }, 400, 'InvalidParameter'],
    ['no InstanceId', {}, 400, 'MissingInstanceId'],
    ['an unknown InstanceId', { InstanceId: 'cityvisual-nope' }, 404, 'InvalidInstanceId.NotFound'],
  ])('rejects DescribeAlgoLibs with %s', async (_case, params, status, code) => {
    // Arrange
    const client = clientOf(await start());

    // Act
    const error = await rejectionOf(post(client, 'DescribeAlgoLibs', params));

    // Assert
    expect(apiError(error)).toEqual({ status, code });
  });

  it('rejects an unknown AccessKeyId with 404 and a wrong secret with SignatureDoesNotMatch', async () => {
    // Arrange
    const target = await start();
    const stranger = clientOf(target, { accessKeyId: 'LTAI-stranger', accessKeySecret: USER.accessKeySecret });
    const wrongSecret = clientOf(target, { accessKeyId: USER.accessKeyId, accessKeySecret: 'not-the-secret' });

    // Act
    const unknownKey = await rejectionOf(post(stranger, 'DescribeAlgoLibs', { InstanceId: INSTANCE }));
    const badSignature = await rejectionOf(post(wrongSecret, 'DescribeAlgoLibs', { InstanceId: INSTANCE }));

    // Assert
    expect(apiError(unknownKey)).toEqual({ status: 404, code: 'InvalidAccessKeyId.NotFound' });
    expect(apiError(badSignature)).toEqual({ status: 400, code: 'SignatureDoesNotMatch' });
  });

  it('rejects a request whose SignatureNonce was already used', async () => {
    // Arrange
    const target = await start();
    const nonce = { SignatureNonce: randomUUID() };

    // Act
    const first = await signedPost(target, nonce);
    const replay = await signedPost(target, nonce);

    // Assert
    expect(first.status).toBe(200);
    expect(replay).toMatchObject({ status: 400, body: { Code: 'SignatureNonceUsed' } });
  });

  it('rejects a Timestamp more than 15 minutes old, and a malformed one', async () => {
    // Arrange
    const target = await start();
    const twentyMinutesAgo = `${new Date(Date.now() - 20 * 60_000).toISOString().slice(0, 19)}Z`;

    // Act
    const stale = await signedPost(target, { Timestamp: twentyMinutesAgo });
    const malformed = await signedPost(target, { Timestamp: '2016/02/23 12:46:24' });

    // Assert
    expect(stale).toMatchObject({ status: 400, body: { Code: 'InvalidTimeStamp.Expired' } });
    expect(malformed).toMatchObject({ status: 400, body: { Code: 'InvalidTimeStamp.Format' } });
  });

  it('accepts an STS triplet registered at run time only with its own SecurityToken', async () => {
    // Arrange
    const target = await start();
    const sts = { accessKeyId: 'STS.function-1', accessKeySecret: 'sts-secret', securityToken: 'token-1' };
    target.addCredential(sts);

    // Act
    const accepted = await post<DescribeResult>(clientOf(target, sts), 'DescribeAlgoLibs', { InstanceId: INSTANCE });
    const wrongToken = await rejectionOf(
      post(clientOf(target, { ...sts, securityToken: 'token-2' }), 'DescribeAlgoLibs', { InstanceId: INSTANCE }),
    );
    const noToken = await rejectionOf(
      post(
        clientOf(target, { accessKeyId: sts.accessKeyId, accessKeySecret: sts.accessKeySecret }),
        'DescribeAlgoLibs',
        {
          InstanceId: INSTANCE,
        },
      ),
    );

    // Assert
    expect(accepted.TotalCount).toBe(0);
    expect(apiError(wrongToken)).toEqual({ status: 400, code: 'InvalidSecurityToken.MismatchWithAccessKey' });
    expect(apiError(noToken)).toEqual({ status: 400, code: 'MissingSecurityToken' });
  });

  it('rejects an unknown Version with InvalidVersion and an unknown Action with 404', async () => {
    // Arrange
    const target = await start();

    // Act
    const version = await rejectionOf(
      post(clientOf(target, USER, '2019-01-01'), 'DescribeAlgoLibs', { InstanceId: INSTANCE }),
    );
    const action = await rejectionOf(post(clientOf(target), 'ListAlgoLibs', { InstanceId: INSTANCE }));

    // Assert
    expect(apiError(version)).toEqual({ status: 400, code: 'InvalidVersion' });
    expect(apiError(action)).toEqual({ status: 404, code: 'InvalidAction.NotFound' });
  });

  it('modifies every field of a library; DescribeAlgoLibs then shows the new fields and a new UploadTime', async () => {
    // Arrange
    let now = new Date('2026-03-01T10:00:00.000Z');
    const client = clientOf(await start({ now: () => now }));
    const { AlgoLibId } = await post<{ AlgoLibId: string }>(client, 'CreateAlgoLib', createParams());
    now = new Date('2026-03-02T11:30:15.000Z');

    // Act
    const modified = await post(
      client,
      'ModifyAlgoLib',
      modifyParams(AlgoLibId, {
        AlgoLibVersion: '1.0.1',
        Capacity: 40,
        CapabilityNames: 'PERSON',
        JsonText: '[{"objType":"person"}]',
        Text: 'person detector 1.0.1',
        OssPath: 'library/person_detector-1.0.1.tar.gz',
      }),
    );
    const described = await post<DescribeResult>(client, 'DescribeAlgoLibs', { InstanceId: INSTANCE, AlgoLibId });

    // Assert
    expect(Object.keys(modified)).toEqual(['RequestId']);
    expect(described.AlgoLibs.AlgoLib).toEqual([
      {
        AlgoLibId,
        AlgoLibName: 'person_detector',
        AlgoLibVersion: '1.0.1',
        CapabilityNames: 'PERSON',
        Capacity: 40,
        JsonText: '[{"objType":"person"}]',
        Text: 'person detector 1.0.1',
        OssAccessKeyId: OSS.accessKeyId,
        OssBucket: OSS.bucket,
        OssEndpoint: OSS_ENDPOINT,
        OssPath: 'library/person_detector-1.0.1.tar.gz',
        UploadTime: '2026-03-02T11:30:15Z',
      },
    ]);
  });

  it('keeps UploadTime when a modify changes neither the package nor the version', async () => {
    // Arrange
    let now = new Date('2026-03-01T10:00:00.000Z');
    const client = clientOf(await start({ now: () => now }));
    const { AlgoLibId } = await post<{ AlgoLibId: string }>(client, 'CreateAlgoLib', createParams());
    now = new Date('2026-03-02T10:00:00.000Z');

    // Act
    await post(client, 'ModifyAlgoLib', modifyParams(AlgoLibId, { Capacity: 12 }));

    // Assert
    expect(emulator?.libraries()).toMatchObject([{ Capacity: 12, UploadTime: '2026-03-01T10:00:00Z' }]);
  });

  it.each([
    ['an unknown AlgoLibId', { AlgoLibId: '999' }, 404, 'InvalidAlgoLibId.NotFound'],
    ['the name of another library', { AlgoLibName: 'face_detector' }, 400, 'InvalidName.Duplicate'],
    ['a malformed name', { AlgoLibName: '9lives' }, 400, 'InvalidName.Malformed'],
    ['a capacity over 50', { Capacity: 51 }, 400, 'InvalidCapacity.ValueNotSupported'],
    ['a capacity of 0', { Capacity: 0 }, 400, 'InvalidCapacity.ValueNotSupported'],
    ['an unknown capability', { CapabilityNames: 'UNICORN' }, 400, 'InvalidCapabilities.ValueNotSupported'],
    ['a bucket that does not exist', { OssBucket: 'no-such-bucket' }, 404, 'InvalidOssBucket.NotFound'],
    [
      'an OSS secret that cannot read the bucket',
      { OssAccessKeySecret: 'no' },
      403,
      'InvalidOssBucket.ValueUnauthorized',
    ],
    ['an unknown OSS endpoint', { OssEndpoint: 'oss-mars-1.aliyuncs.com' }, 404, 'InvalidOssEndpoint.NotFound'],
    ['no OssPath (the reference marks every field required)', { OssPath: '' }, 400, 'MissingOssPath'],
  ])(
    'refuses ModifyAlgoLib with %s, with its documented code, and changes nothing',
    async (_case, overrides, status, code) => {
      // Arrange
      const client = clientOf(await start());
      const { AlgoLibId } = await post<{ AlgoLibId: string }>(client, 'CreateAlgoLib', createParams());
      await post(client, 'CreateAlgoLib', createParams({ AlgoLibName: 'face_detector' }));
      const before = emulator?.libraries();

      // Act
      const error = await rejectionOf(
        post(client, 'ModifyAlgoLib', modifyParams(AlgoLibId, { AlgoLibVersion: '2.0.0', ...overrides })),
      );

      // Assert
      expect(apiError(error)).toEqual({ status, code });
      expect(emulator?.libraries()).toEqual(before);
    },
  );

  it('lets ModifyAlgoLib keep its own name', async () => {
    // Arrange
    const client = clientOf(await start());
    const { AlgoLibId } = await post<{ AlgoLibId: string }>(client, 'CreateAlgoLib', createParams());

    // Act
    await post(client, 'ModifyAlgoLib', modifyParams(AlgoLibId, { AlgoLibVersion: '1.1.0' }));

    // Assert
    expect(emulator?.libraries()).toMatchObject([{ AlgoLibName: 'person_detector', AlgoLibVersion: '1.1.0' }]);
  });

  it('deletes a library once, then answers InvalidAlgoLibId.NotFound', async () => {
    // Arrange
    const client = clientOf(await start());
    const { AlgoLibId } = await post<{ AlgoLibId: string }>(client, 'CreateAlgoLib', createParams());

    // Act
    const deleted = await post(client, 'DeleteAlgoLib', { AlgoLibId });
    const again = await rejectionOf(post(client, 'DeleteAlgoLib', { AlgoLibId }));

    // Assert
    expect(Object.keys(deleted)).toEqual(['RequestId']);
    expect(apiError(again)).toEqual({ status: 404, code: 'InvalidAlgoLibId.NotFound' });
    expect(emulator?.libraries()).toEqual([]);
  });

  it('keeps the libraries across a restart on the same dataDir, and ids keep increasing', async () => {
    // Arrange
    const dataDir = await mkdtemp(join(tmpdir(), 'cityvisual-emulator-'));
    try {
      const first = await start({ dataDir });
      await post(clientOf(first), 'CreateAlgoLib', createParams({ AlgoLibName: 'first_lib' }));
      const { AlgoLibId } = await post<{ AlgoLibId: string }>(clientOf(first), 'CreateAlgoLib', createParams());
      await post(clientOf(first), 'DeleteAlgoLib', { AlgoLibId });
      await first.close();

      // Act
      const second = await start({ dataDir });
      const created = await post<{ AlgoLibId: string }>(clientOf(second), 'CreateAlgoLib', createParams());

      // Assert
      expect(created.AlgoLibId).toBe('3');
      expect(second.libraries().map((lib) => [lib.AlgoLibId, lib.AlgoLibName])).toEqual([
        ['1', 'first_lib'],
        ['3', 'person_detector'],
      ]);
    } finally {
      await emulator?.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('answers a key whose RAM policy lacks the action with 403 Forbidden.RAM, and lets it call what it may', async () => {
    // Arrange
    const target = await start();
    const reader = {
      accessKeyId: 'STS.reader',
      accessKeySecret: 'reader-secret',
      securityToken: 'tok',
      actions: ['cityvisual:Describe*'],
    };
    target.addCredential(reader);
    const client = clientOf(target, reader);

    // Act
    const refused = await rejectionOf(post(client, 'CreateAlgoLib', createParams()));
    const described = await post<DescribeResult>(client, 'DescribeAlgoLibs', { InstanceId: INSTANCE });

    // Assert
    expect(apiError(refused)).toEqual({ status: 403, code: 'Forbidden.RAM' });
    expect(refused.data?.Message).toBe(
      "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
    );
    expect(described.TotalCount).toBe(0);
    expect(target.libraries()).toEqual([]);
  });

  it('turns a role without cityvisual:CreateAlgoLib into a deployment fault that names the action', async () => {
    // Arrange
    const target = await start();
    const role = {
      accessKeyId: 'STS.role',
      accessKeySecret: 'role-secret',
      securityToken: 'tok',
      actions: ['cityvisual:DescribeAlgoLibs'],
    };
    target.addCredential(role);
    const client = clientOf(target, role);

    // Act
    const refused = classifyCityVisualError(
      await rejectionOf(post(client, 'CreateAlgoLib', createParams())),
      'CreateAlgoLib',
    );

    // Assert
    expect(refused).toMatchObject({
      service: 'cityvisual',
      code: 'Forbidden.RAM',
      retryable: false,
      deployment: true,
      httpStatus: 403,
    });
    expect(refused.message).toMatch(
      /^CityVisual CreateAlgoLib refused: Forbidden\.RAM — the function's role needs cityvisual:CreateAlgoLib \(request id [0-9A-F-]+\)$/,
    );
    expect(target.libraries()).toEqual([]);
  });

  it('answers a method other than GET and POST with 403 UnsupportedHTTPMethod', async () => {
    // Arrange
    const target = await start();

    // Act
    const response = await fetch(`${target.endpoint}/?Action=DescribeAlgoLibs`, { method: 'PUT', body: 'x' });

    // Assert
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ Code: 'UnsupportedHTTPMethod' });
  });

  it('ends a SignatureDoesNotMatch message with the string it signed, as the SDKs that parse it expect', async () => {
    // Arrange
    const target = await start();

    // Act
    const refused = await signedPost(target, {}, 'not-the-secret');

    // Assert
    const message = String(refused.body.Message);
    expect(refused).toMatchObject({ status: 400, body: { Code: 'SignatureDoesNotMatch' } });
    expect(message).toBe(
      `Specified signature is not matched with our calculation. server string to sign is:${rpcStringToSign('POST', refused.params)}`,
    );
    // aliyun-python-sdk-core (aliyunsdkcore/client.py) compares message.split(':')[1] with its own string to sign.
    expect(message.split(':')[1]).toBe(rpcStringToSign('POST', refused.params));
  });

  it.each<[CityVisualFaultKind, number, string]>([
    ['throttle', 400, 'Throttling.User'],
    ['throttle429', 429, 'Throttling'],
    ['unavailable', 503, 'ServiceUnavailable'],
    ['internal', 500, 'InternalError'],
  ])('answers the %s fault with HTTP %i %s and does not perform the action', async (kind, status, code) => {
    // Arrange
    const client = clientOf(await start({ faults: { seed: 7, rules: [{ action: 'CreateAlgoLib', kind, times: 1 }] } }));

    // Act
    const faulted = await rejectionOf(post(client, 'CreateAlgoLib', createParams()));
    const retried = await post(client, 'CreateAlgoLib', createParams());

    // Assert
    expect(apiError(faulted)).toEqual({ status, code });
    expect(retried).toHaveProperty('AlgoLibId', '1');
    expect(emulator?.counters()).toEqual({ requests: { CreateAlgoLib: 2 }, created: 1 });
    expect(emulator?.faults.injected()).toEqual({ [`CreateAlgoLib:${kind}`]: 1 });
  });

  it('answers html502 with a page pop-core cannot parse, so it throws a plain SyntaxError object', async () => {
    // Arrange
    const client = clientOf(await start({ faults: { rules: [{ action: '*', kind: 'html502', times: 1 }] } }));

    // Act
    const error = await rejectionOf(post(client, 'DescribeAlgoLibs', { InstanceId: INSTANCE }));

    // Assert
    expect(error).not.toBeInstanceOf(Error);
    expect(error.name).toBe('SyntaxError');
    expect(error.code).toBeUndefined();
    expect(error.data).toBeUndefined();
  });

  it('serves a slow request after the client timed out, so the library exists although the client saw a timeout', async () => {
    // Arrange
    const target = await start({
      faults: { rules: [{ action: 'CreateAlgoLib', kind: 'slow', delayMs: 600, times: 1 }] },
    });
    const client = clientOf(target);

    // Act
    const error = await rejectionOf(post(client, 'CreateAlgoLib', createParams(), 200));
    for (let attempt = 0; attempt < 100 && target.counters().created === 0; attempt++) await delay(20);
    const retried = await rejectionOf(post(client, 'CreateAlgoLib', createParams()));

    // Assert
    expect(error.name).toBe('RequestTimeoutError');
    expect(target.libraries().map((lib) => lib.AlgoLibName)).toEqual(['person_detector']);
    expect(apiError(retried)).toEqual({ status: 400, code: 'InvalidName.Duplicate' });
  });

  it('performs a commitThenDrop request and resets the connection: the client fails, yet the library exists', async () => {
    // Arrange
    const target = await start({ faults: { rules: [{ action: 'CreateAlgoLib', kind: 'commitThenDrop', times: 1 }] } });

    // Act
    const error = await rejectionOf(post(clientOf(target), 'CreateAlgoLib', createParams()));

    // Assert
    expect(error.data).toBeUndefined();
    expect(error.code).toBe('ECONNRESET');
    expect(target.libraries().map((lib) => lib.AlgoLibId)).toEqual(['1']);
    expect(target.counters()).toEqual({ requests: { CreateAlgoLib: 1 }, created: 1 });
    expect(logs).toMatchObject([{ action: 'CreateAlgoLib', code: 'ConnectionDropped', fault: 'commitThenDrop' }]);
  });

  it('closes with a slow request in flight: the client sees the connection reset and nothing is left waiting', async () => {
    // Arrange
    const target = await start({ faults: { rules: [{ action: '*', kind: 'slow', delayMs: 60_000 }] } });
    const pending = rejectionOf(post(clientOf(target), 'DescribeAlgoLibs', { InstanceId: INSTANCE }, 120_000));
    for (let attempt = 0; attempt < 100 && !target.counters().requests.DescribeAlgoLibs; attempt++) await delay(10);

    // Act
    await target.close();
    const error = await pending;

    // Assert
    expect(error.code).toBe('ECONNRESET');
    expect(logs).toMatchObject([{ action: 'DescribeAlgoLibs', code: 'ShuttingDown', fault: 'slow' }]);
  });

  it('counts every request per Action, whatever answered it, until the counters are reset', async () => {
    // Arrange
    const target = await start({ faults: { rules: [{ action: 'DescribeAlgoLibs', kind: 'throttle', times: 1 }] } });
    const client = clientOf(target);

    // Act
    await rejectionOf(post(client, 'DescribeAlgoLibs', { InstanceId: INSTANCE }));
    await rejectionOf(post(client, 'DescribeAlgoLibs', {}));
    await post(client, 'DescribeAlgoLibs', { InstanceId: INSTANCE });
    await rejectionOf(post(client, 'DeleteAlgoLib', { AlgoLibId: '1' }));
    const counted = target.counters();
    target.resetCounters();

    // Assert
    expect(counted).toEqual({ requests: { DescribeAlgoLibs: 3, DeleteAlgoLib: 1 }, created: 0 });
    expect(target.counters()).toEqual({ requests: {}, created: 0 });
  });

  it('never returns, logs or stores a secret, a signature or a security token', async () => {
    // Arrange
    const dataDir = await mkdtemp(join(tmpdir(), 'cityvisual-emulator-'));
    try {
      const target = await start({ dataDir });
      const sts = {
        accessKeyId: 'STS.function-1',
        accessKeySecret: 'sts-secret-never-logged',
        securityToken: 'sts-token-never-logged',
      };
      target.addCredential(sts);
      const client = clientOf(target, sts);
      await post(client, 'CreateAlgoLib', createParams());
      await rejectionOf(post(client, 'CreateAlgoLib', createParams()));

      // Act
      const described = await post(client, 'DescribeAlgoLibs', { InstanceId: INSTANCE });
      const exposed = JSON.stringify([
        described,
        target.libraries(),
        logs,
        await readFile(join(dataDir, 'cityvisual-algolibs.json'), 'utf8'),
        // The changes since the table file was written (the library created above is there).
        await readFile(join(dataDir, 'cityvisual-algolibs.journal'), 'utf8'),
      ]);

      // Assert
      for (const secret of [
        OSS.accessKeySecret,
        sts.accessKeySecret,
        sts.securityToken,
        'Signature',
        'OssAccessKeySecret',
      ]) {
        expect(exposed).not.toContain(secret);
      }
      expect(logs).toHaveLength(3);
      for (const entry of logs) {
        expect(Object.keys(entry).sort()).toEqual(['action', 'code', 'ms', 'requestId', 'service', 'status']);
      }
    } finally {
      await emulator?.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
