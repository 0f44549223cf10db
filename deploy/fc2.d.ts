// The part of @alicloud/fc2 2.6.6 (it ships no typings) that deploy/fc-api.ts constructs; shapes from lib/client.js.
declare module '@alicloud/fc2' {
  type FcClientConfig = {
    accessKeyID: string;
    accessKeySecret: string;
    securityToken?: string;
    region: string;
    /** Replaces `http(s)://<account>.<region>.fc.aliyuncs.com`. */
    endpoint?: string;
    timeout?: number;
    secure?: boolean;
    internal?: boolean;
  };

  type FcResponse = { headers: Record<string, string | string[] | undefined>; data: unknown };

  class FCClient {
    public constructor(accountId: string, config: FcClientConfig);
    public invokeFunction(
      serviceName: string,
      functionName: string,
      event: string | Buffer,
      headers?: Record<string, string>,
      qualifier?: string,
    ): Promise<FcResponse>;
  }

  export = FCClient;
}
