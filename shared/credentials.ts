/**
 * An Alibaba Cloud AccessKey pair, with the STS token when the pair is temporary: what the function gets from FC's
 * context, what the CLI reads from `ALIBABA_CLOUD_*`, and what every client here signs with.
 */
export type Credentials = { accessKeyId: string; accessKeySecret: string; securityToken?: string | undefined };
