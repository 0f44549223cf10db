/**
 * How the function reaches OSS and CityVisual: signed requests over node:http (shared/oss-client.ts,
 * shared/rpc-client.ts), not ali-oss and pop-core, whose loading alone cost more than the cold-start budget
 * (docs/bench.md, "Cold start"). The bench builds a variant with the SDKs in this file's place (bench/sdk-transports.ts).
 */
import { API_VERSION, type RpcCall } from '../../shared/cityvisual.ts';
import type { Config } from '../../shared/config.ts';
import type { Credentials } from '../../shared/credentials.ts';
import { createOssStore, type ObjectStore } from '../../shared/object-store.ts';
import { createOssClient } from '../../shared/oss-client.ts';
import { createRpcClient } from '../../shared/rpc-client.ts';

/** A store per bucket over one OSS client (one pool of keep-alive sockets for both buckets). */
export const objectStores = (config: Config, credentials: () => Credentials): ((bucket: string) => ObjectStore) => {
  const client = createOssClient({
    endpoint: config.ossEndpoint,
    region: config.ossRegion,
    timeoutMs: config.ossTimeoutMs,
    credentials,
  });
  return (bucket) => createOssStore({ client, bucket });
};

/** CityVisual's signed RPC call. */
export const rpcCall = (config: Config, credentials: () => Credentials): RpcCall =>
  createRpcClient({ endpoint: config.cityVisual.endpoint, apiVersion: API_VERSION, credentials }).call;
