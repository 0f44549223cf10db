/**
 * The lean RPC call against the CityVisual emulator (which checks the RPC signature as the gateway does), side by
 * side with pop-core: CreateAlgoLib, DescribeAlgoLibs and ModifyAlgoLib answer the same, and an API error and a
 * wrong secret classify the same.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import RPCClient from '@alicloud/pop-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CityVisualEmulator, startCityVisualEmulator } from '../../local/cityvisual/cityvisual-emulator.ts';
import { API_VERSION } from '../../shared/cityvisual.ts';
import { classifyCityVisualError } from '../../shared/cityvisual-errors.ts';
import { createRpcClient } from '../../shared/rpc-client.ts';
import { OSS_ENDPOINT, OSS_READER, ossAccess } from '../fixtures/cityvisual-reader.ts';

const INSTANCE = 'cityvisual-lean01';
const USER = { accessKeyId: 'LTAI-lean-user', accessKeySecret: 'lean-user-secret' };
const OSS = OSS_READER;

let emulator: CityVisualEmulator;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'rpc-lean-'));
  emulator = await startCityVisualEmulator({
    instanceIds: [INSTANCE],
    credentials: [USER],
    ossAccess,
    ossEndpoints: [OSS_ENDPOINT],
    dataDir,
  });
});
afterAll(async () => {
  await emulator?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const createParams = (name: string) => ({
  InstanceId: INSTANCE,
  AlgoLibName: name,
  AlgoLibVersion: '1.0.0',
  CapabilityNames: 'PERSON,FACE',
  Capacity: 30,
  JsonText: '[{"objType":"person","dbTableName":"person_offline_result"}]',
  Text: '人脸 detector + 100%',
  OssAccessKeyId: OSS.accessKeyId,
  OssAccessKeySecret: OSS.accessKeySecret,
  OssBucket: OSS.bucket,
  OssEndpoint: OSS_ENDPOINT,
  OssPath: `library/${name}/${name}-1.0.0.tar.gz`,
  RegionId: 'cn-shanghai',
});

type Call = (action: string, params: Record<string, string | number>) => Promise<Record<string, unknown>>;

const popCoreCall =
  (secret = USER.accessKeySecret): Call =>
  (action, params) =>
    new RPCClient({
      endpoint: emulator.endpoint,
      apiVersion: API_VERSION,
      accessKeyId: USER.accessKeyId,
      accessKeySecret: secret,
    }).request<Record<string, unknown>>(action, params, { method: 'POST', timeout: 5000, formatParams: false });
const leanCall =
  (secret = USER.accessKeySecret): Call =>
  async (action, params) => {
    const client = createRpcClient({
      endpoint: emulator.endpoint,
      apiVersion: API_VERSION,
      credentials: () => ({ accessKeyId: USER.accessKeyId, accessKeySecret: secret }),
    });
    try {
      const [body] = await client.call(action, params, 5000);
      return body;
    } finally {
      client.close();
    }
  };

/** What a caller sees: the body without its request id, or the classified error. */
const outcome = async (run: () => Promise<Record<string, unknown>>) => {
  try {
    const { RequestId: _id, ...body } = await run();
    return {
      body: JSON.parse(
        JSON.stringify(body, (_key, value) =>
          typeof value === 'object' && value?.constructor?.name === 'BigNumber' ? String(value) : value,
        ),
      ),
    };
  } catch (error) {
    const { service, code, retryable, httpStatus, deployment } = classifyCityVisualError(error, 'CreateAlgoLib');
    return { error: { service, code, retryable, httpStatus, deployment } };
  }
};

describe('the lean RPC call answers as pop-core does', () => {
  it('creates, finds and modifies libraries, names with CJK, spaces, + and %', async () => {
    const results: Record<string, unknown[]> = {};
    for (const [name, call] of [
      ['pop-core', popCoreCall()],
      ['lean', leanCall()],
    ] as const) {
      const library = `lean_${name.replace('-', '_')}`;
      const created = await outcome(() => call('CreateAlgoLib', createParams(library)));
      const id = String((created.body as { AlgoLibId?: unknown } | undefined)?.AlgoLibId);
      const found = await outcome(() =>
        call('DescribeAlgoLibs', {
          InstanceId: INSTANCE,
          RegionId: 'cn-shanghai',
          AlgoLibName: library,
          PageNumber: 1,
          PageSize: 100,
        }),
      );
      const again = await outcome(() => call('CreateAlgoLib', createParams(library)));
      const modified = await outcome(() =>
        call('ModifyAlgoLib', {
          InstanceId: INSTANCE,
          AlgoLibId: id,
          AlgoLibVersion: '1.0.1',
          RegionId: 'cn-shanghai',
        }),
      );
      results[name] = [
        Object.keys(created.body ?? {}),
        (found.body as { TotalCount?: number } | undefined)?.TotalCount,
        again,
        Object.keys(modified.body ?? modified.error ?? {}),
      ];
    }
    expect(results.lean).toEqual(results['pop-core']);
    expect(results.lean?.[1]).toBe(1);
    expect(results.lean?.[2]).toMatchObject({ error: { service: 'cityvisual' } });
  });

  it('classifies a wrong secret the same', async () => {
    const sdk = await outcome(() => popCoreCall('wrong-secret')('DescribeAlgoLibs', { InstanceId: INSTANCE }));
    const lean = await outcome(() => leanCall('wrong-secret')('DescribeAlgoLibs', { InstanceId: INSTANCE }));
    expect(lean).toEqual(sdk);
    expect(lean.error?.code).toMatch(/Signature/);
  });
});
