/**
 * The function's transports over the SDKs it shipped with before (ali-oss for OSS, @alicloud/pop-core for CityVisual),
 * in functions/register/transports.ts's place: the bench's "SDK clients" variant, so that what loading the SDKs costs
 * is measured against the same function. Also the pop-core half of the tests that hold shared/rpc-client.ts to
 * pop-core through the same registry.
 */
import RPCClient from '@alicloud/pop-core';
import { createAliOssStore } from '../platform/oss/ali-oss-store.ts';
import { API_VERSION, type RpcCall } from '../shared/cityvisual.ts';
import type { Config } from '../shared/config.ts';
import type { Credentials } from '../shared/credentials.ts';
import type { ObjectStore } from '../shared/object-store.ts';

export const objectStores =
  (config: Config, credentials: () => Credentials): ((bucket: string) => ObjectStore) =>
  (bucket) =>
    createAliOssStore({
      endpoint: config.ossEndpoint,
      region: config.ossRegion,
      bucket,
      timeoutMs: config.ossTimeoutMs,
      credentials,
    });

type PopCore = { request<T>(action: string, params: object, opts: object): Promise<T> };

/**
 * pop-core's verbose `request` as an `RpcCall`: POST, the given timeout, parameters as given.
 *
 * @example
 * ```ts
 * const call = popCoreCall(endpoint, () => credentials);
 * const [body] = await call('DescribeAlgoLibs', { InstanceId: 'i', RegionId: 'cn-shanghai' }, 10_000);
 * ```
 */
export const popCoreCall = (endpoint: string, credentials: () => Credentials): RpcCall => {
  const client = new (RPCClient as unknown as new (config: object, verbose: boolean) => PopCore)(
    {
      endpoint,
      apiVersion: API_VERSION,
      credentialsProvider: {
        getCredentials: async () => {
          const { accessKeyId, accessKeySecret, securityToken } = credentials();
          return { accessKeyId, accessKeySecret, securityToken };
        },
      },
    },
    true,
  );
  return (action, params, timeoutMs) =>
    client.request(action, params, { method: 'POST', timeout: timeoutMs, formatParams: false });
};

export const rpcCall = (config: Config, credentials: () => Credentials): RpcCall =>
  popCoreCall(config.cityVisual.endpoint, credentials);
