/**
 * Stands in for `@alicloud/pop-core` in the bench's "lean clients" variant of the function: `request(action, params,
 * { method: 'POST', timeout })` with verbose answers, over bench/lean/rpc-lean.ts, so that the adapter in
 * shared/cityvisual.ts and its error classification stay as shipped.
 */
import { createLeanRpcClient } from './rpc-lean.ts';

type Config = {
  endpoint: string;
  apiVersion: string;
  credentialsProvider: {
    getCredentials(): Promise<{ accessKeyId: string; accessKeySecret: string; securityToken?: string }>;
  };
};

export default class LeanRpcClient {
  private readonly client: ReturnType<typeof createLeanRpcClient>;
  private credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string } | undefined;
  private readonly provider: Config['credentialsProvider'];

  public constructor(config: Config) {
    this.provider = config.credentialsProvider;
    this.client = createLeanRpcClient({
      endpoint: config.endpoint,
      apiVersion: config.apiVersion,
      credentials: () => this.credentials ?? { accessKeyId: '', accessKeySecret: '' },
    });
  }

  public async request<T>(action: string, params: Record<string, string | number>, opts: { timeout?: number }) {
    // pop-core asks the provider before every request.
    this.credentials = await this.provider.getCredentials();
    return (await this.client.call(action, params, opts.timeout ?? 3000)) as T;
  }
}
