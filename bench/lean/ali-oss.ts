/**
 * Stands in for `ali-oss` in the bench's "lean clients" variant of the function: the calls shared/object-store.ts
 * makes (head, get with a Range, getStream, put), over bench/lean/oss-lean.ts, so that the adapter, its error
 * classification and the rest of the function stay as shipped and only what is loaded differs.
 */
import platform from 'platform';
import { createLeanOssClient, type LeanResponse } from './oss-lean.ts';

type Options = {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  accessKeySecret: string;
  stsToken?: string;
  timeout: number;
};
type CallOptions = { timeout?: number; headers?: Record<string, string>; mime?: string };

/** ali-oss's User-Agent: `aliyun-sdk-nodejs/<version> <platform.description>`. */
const USER_AGENT = `aliyun-sdk-nodejs/6.23.0 ${platform.description}`;

export default class LeanOss {
  public readonly options: Options;
  private readonly client: ReturnType<typeof createLeanOssClient>;

  public constructor(options: Options) {
    this.options = { ...options };
    this.client = createLeanOssClient({
      endpoint: options.endpoint,
      region: options.region,
      timeoutMs: options.timeout,
      userAgent: USER_AGENT,
      // Read at every request: shared/object-store.ts swaps rotated STS credentials into `options`.
      credentials: () => ({
        accessKeyId: this.options.accessKeyId,
        accessKeySecret: this.options.accessKeySecret,
        ...(this.options.stsToken ? { securityToken: this.options.stsToken } : {}),
      }),
    });
  }

  private limits(options: CallOptions | undefined) {
    return options?.timeout === undefined ? {} : { timeoutMs: options.timeout };
  }

  public async head(key: string, options?: CallOptions) {
    const response = await this.client.send({ method: 'HEAD', bucket: this.options.bucket, key }, this.limits(options));
    return { res: response, status: response.status };
  }

  public async get(key: string, options?: CallOptions) {
    const response: LeanResponse = await this.client.send(
      { method: 'GET', bucket: this.options.bucket, key, ...(options?.headers ? { headers: options.headers } : {}) },
      this.limits(options),
    );
    return { res: response, content: response.body };
  }

  public async getStream(key: string, options?: CallOptions) {
    const response = await this.client.send(
      { method: 'GET', bucket: this.options.bucket, key },
      { ...this.limits(options), stream: true },
    );
    return { res: response, stream: response.stream };
  }

  /** ali-oss's `getBucketVersioning(bucket)`: `{ versionStatus }` from `GET /?versioning`. */
  public async getBucketVersioning(bucket: string, options?: CallOptions) {
    const response = await this.client.send({ method: 'GET', bucket, subresource: 'versioning' }, this.limits(options));
    const versionStatus = /<Status>\s*(Enabled|Suspended)\s*<\/Status>/.exec(
      response.body?.toString('utf8') ?? '',
    )?.[1];
    return { res: response, versionStatus };
  }

  public async put(key: string, body: Buffer, options?: CallOptions) {
    const response = await this.client.send(
      {
        method: 'PUT',
        bucket: this.options.bucket,
        key,
        body,
        ...(options?.headers ? { headers: options.headers } : {}),
        ...(options?.mime ? { mime: options.mime } : {}),
      },
      this.limits(options),
    );
    return { res: response, name: key };
  }
}
