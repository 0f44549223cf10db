/**
 * A client this project does not use: Alibaba's Tea OpenAPI client (`@alicloud/openapi-client`, what the generated
 * `@alicloud/cityvisual20181030` SDK is built on) drives the CityVisual emulator in RPC style, once with the classic
 * signature (HMAC-SHA1, SignatureVersion 1.0) and once with V3 (`ACS3-HMAC-SHA256`), which the gateway accepts for
 * RPC APIs too (https://help.aliyun.com/document_detail/2593177.html).
 */
import * as OpenApi from '@alicloud/openapi-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CityVisualCredential,
  type CityVisualEmulator,
  startCityVisualEmulator,
} from '../../local/cityvisual/cityvisual-emulator.ts';
import { classifyCityVisualError } from '../../shared/cityvisual-errors.ts';
import { OSS_ENDPOINT, OSS_READER, ossAccess } from '../fixtures/cityvisual-reader.ts';

const INSTANCE = 'cityvisual-tea01';
const USER: CityVisualCredential = { accessKeyId: 'LTAI-tea-user', accessKeySecret: 'tea-secret-never-logged' };
const OSS = OSS_READER;

// A CommonJS module whose default export is the class: Node's interop may hand over the whole `exports` object.
const ClientClass = ((OpenApi.default as unknown as { default?: typeof OpenApi.default }).default ??
  OpenApi.default) as typeof OpenApi.default;

/** `signatureAlgorithm: 'v2'` makes callApi take the classic RPC path (doRPCRequest); unset, it signs with V3. */
const STYLES = [
  ['the classic signature (HMAC-SHA1, 1.0)', 'v2'],
  ['signature V3 (ACS3-HMAC-SHA256)', undefined],
] as const;

type TeaError = { code?: string; message?: string; data?: Record<string, unknown> & { statusCode?: number } };

let emulator: CityVisualEmulator | undefined;

const start = async () => {
  emulator = await startCityVisualEmulator({
    instanceIds: [INSTANCE],
    credentials: [USER],
    ossAccess,
    ossEndpoints: [OSS_ENDPOINT],
  });
  return emulator;
};

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

const teaClient = (target: CityVisualEmulator, signatureAlgorithm: string | undefined, credential = USER) =>
  new ClientClass(
    new OpenApi.Config({
      accessKeyId: credential.accessKeyId,
      accessKeySecret: credential.accessKeySecret,
      ...(credential.securityToken && { securityToken: credential.securityToken, type: 'sts' }),
      endpoint: new URL(target.endpoint).host,
      protocol: 'http',
      regionId: 'cn-shanghai',
      ...(signatureAlgorithm && { signatureAlgorithm }),
    }),
  );

/**
 * One RPC call as the generated SDK makes it: POST to `/`; parameters in the query, or in a form body (CreateAlgoLib
 * and ModifyAlgoLib, so that OssAccessKeySecret stays out of the URL).
 */
const call = async <T = Record<string, unknown>>(
  client: InstanceType<typeof ClientClass>,
  action: string,
  params: Record<string, string | number>,
  where: 'query' | 'body' = 'query',
): Promise<T> => {
  const values = Object.fromEntries(Object.entries(params).map(([key, value]) => [key, String(value)]));
  const response = await client.callApi(
    new OpenApi.Params({
      action,
      version: '2018-10-30',
      protocol: 'HTTP',
      pathname: '/',
      method: 'POST',
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    }),
    new OpenApi.OpenApiRequest(where === 'query' ? { query: values } : { body: values }),
    { autoretry: false, readTimeout: 5_000, connectTimeout: 5_000 } as never,
  );
  return response.body as T;
};

const rejectionOf = async (promise: Promise<unknown>): Promise<TeaError> => {
  try {
    await promise;
  } catch (error) {
    return error as TeaError;
  }
  throw new Error('Expected the request to be rejected, but it succeeded');
};

const createParams = (overrides: Record<string, string | number> = {}) => ({
  InstanceId: INSTANCE,
  AlgoLibName: 'face_detector',
  AlgoLibVersion: '1.0.0',
  CapabilityNames: 'FACE',
  Capacity: 30,
  JsonText: '[{"objType":"face"}]',
  Text: 'face detector',
  OssAccessKeyId: OSS.accessKeyId,
  OssAccessKeySecret: OSS.accessKeySecret,
  OssBucket: OSS.bucket,
  OssEndpoint: OSS_ENDPOINT,
  OssPath: 'library/face_detector-1.0.0.tar.gz',
  RegionId: 'cn-shanghai',
  ...overrides,
});

type Described = { TotalCount: number; AlgoLibs: { AlgoLib: Array<Record<string, unknown>> } };

describe.each(STYLES)('the Tea OpenAPI client with %s', (_style, signatureAlgorithm) => {
  it('creates, describes and modifies a library', async () => {
    // Arrange
    const client = teaClient(await start(), signatureAlgorithm);

    // Act
    const created = await call<{ AlgoLibId: string }>(client, 'CreateAlgoLib', createParams(), 'body');
    const { InstanceId: _instance, ...fields } = createParams({
      AlgoLibVersion: '1.0.1',
      Capacity: 40,
      OssPath: 'library/face_detector-1.0.1.tar.gz',
    });
    await call(client, 'ModifyAlgoLib', { AlgoLibId: created.AlgoLibId, ...fields }, 'body');
    const described = await call<Described>(client, 'DescribeAlgoLibs', {
      InstanceId: INSTANCE,
      AlgoLibName: 'face_detector',
      PageSize: 100,
    });

    // Assert
    expect(created.AlgoLibId).toBe('1');
    expect(described.TotalCount).toBe(1);
    expect(described.AlgoLibs.AlgoLib[0]).toMatchObject({
      AlgoLibId: '1',
      AlgoLibName: 'face_detector',
      AlgoLibVersion: '1.0.1',
      Capacity: 40,
      OssPath: 'library/face_detector-1.0.1.tar.gz',
    });
  });

  it('accepts an STS triplet with its own token', async () => {
    // Arrange
    const target = await start();
    const sts = { accessKeyId: 'STS.tea-role', accessKeySecret: 'sts-secret', securityToken: 'sts-token-1' };
    target.addCredential(sts);

    // Act
    const described = await call<Described>(teaClient(target, signatureAlgorithm, sts), 'DescribeAlgoLibs', {
      InstanceId: INSTANCE,
    });

    // Assert
    expect(described.TotalCount).toBe(0);
  });

  it('refuses a wrong secret with SignatureDoesNotMatch, ending with the server string to sign', async () => {
    // Arrange
    const client = teaClient(await start(), signatureAlgorithm, { ...USER, accessKeySecret: 'not-the-secret' });

    // Act
    const error = await rejectionOf(call(client, 'DescribeAlgoLibs', { InstanceId: INSTANCE }));

    // Assert
    expect(error).toMatchObject({ code: 'SignatureDoesNotMatch', data: { statusCode: 400 } });
    expect(String(error.data?.Message)).toMatch(
      signatureAlgorithm === 'v2'
        ? /^Specified signature is not matched with our calculation\. server string to sign is:POST&%2F&AccessKeyId%3D/
        : /^Specified signature is not matched with our calculation\. server string to sign is:ACS3-HMAC-SHA256\n[0-9a-f]{64}$/,
    );
  });

  it('answers a key without cityvisual:CreateAlgoLib with 403 Forbidden.RAM, a deployment fault', async () => {
    // Arrange
    const target = await start();
    const reader = {
      accessKeyId: 'LTAI-tea-reader',
      accessKeySecret: 'reader-secret',
      actions: ['cityvisual:Describe*'],
    };
    target.addCredential(reader);
    const client = teaClient(target, signatureAlgorithm, reader);

    // Act
    const error = await rejectionOf(call(client, 'CreateAlgoLib', createParams(), 'body'));

    // Assert
    expect(error).toMatchObject({ code: 'Forbidden.RAM', data: { statusCode: 403 } });
    expect(classifyCityVisualError(error, 'CreateAlgoLib')).toMatchObject({ deployment: true, httpStatus: 403 });
    expect(target.libraries()).toEqual([]);
  });
});
