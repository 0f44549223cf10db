/**
 * The lean RPC call against pop-core, on generated requests: both POST to one recording server on 127.0.0.1, the
 * lean one with the Timestamp and SignatureNonce pop-core used, and the two requests must be the same bytes (path,
 * every header in order, the signed form body). Then the error fields classifyCityVisualError reads.
 */
import RPCClient from '@alicloud/pop-core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION } from '../../shared/cityvisual.ts';
import { classifyCityVisualError } from '../../shared/cityvisual-errors.ts';
import type { Credentials } from '../../shared/credentials.ts';
import { createRpcClient } from '../../shared/rpc-client.ts';
import { closedPort, type RecordedRequest, startRecordingServer } from '../fakes/recording-server.ts';

let server: Awaited<ReturnType<typeof startRecordingServer>>;
let endpoint: string;
let recorded: RecordedRequest[];
const answer = (status: number, body: string) =>
  server.answer({ status, headers: { 'content-type': 'application/json' }, body });

beforeAll(async () => {
  server = await startRecordingServer({ status: 200 });
  endpoint = server.url;
  recorded = server.recorded;
});
afterAll(() => server.close());

type PopCore = { request<T>(action: string, params: object, opts: object): Promise<T> };
const popCore = (credentials: Credentials): PopCore =>
  new (RPCClient as unknown as new (config: object, verbose: boolean) => PopCore)(
    {
      endpoint,
      apiVersion: API_VERSION,
      credentialsProvider: { getCredentials: async () => credentials },
    },
    true,
  );

const field = (body: Buffer, name: string) => new URLSearchParams(body.toString('utf8')).get(name) ?? '';

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('人脸 检测+v2', '100% sure', "it's (1)*!~", 'a&b=c', '{"k":"v"}'),
);
const paramsOf = {
  CreateAlgoLib: fc.record({
    AlgoLibName: text,
    AlgoLibVersion: fc.stringMatching(/^\d{1,3}\.\d{1,3}\.\d{1,3}$/),
    CapabilityNames: text,
    Capacity: fc.integer({ min: 0, max: 10_000 }),
    InstanceId: text,
    JsonText: text,
    Text: text,
    OssAccessKeyId: text,
    OssAccessKeySecret: text,
    OssBucket: text,
    OssEndpoint: text,
    OssPath: text,
    RegionId: text,
  }),
  ModifyAlgoLib: fc.record({ AlgoLibId: fc.integer({ min: 1 }).map(String), AlgoLibVersion: text, JsonText: text }),
  DescribeAlgoLibs: fc.record({
    InstanceId: text,
    RegionId: text,
    AlgoLibName: text,
    PageNumber: fc.integer({ min: 1, max: 100 }),
    PageSize: fc.constant(100),
  }),
};
const credentialsArb = fc.record({
  accessKeyId: fc.stringMatching(/^[A-Za-z0-9.]{4,24}$/),
  accessKeySecret: fc.stringMatching(/^[A-Za-z0-9+/=]{8,40}$/),
  securityToken: fc.option(fc.stringMatching(/^[A-Za-z0-9+/=]{20,120}$/), { nil: undefined }),
});

describe('the lean RPC call sends what pop-core sends', () => {
  it('the same bytes (HMAC-SHA1 signature included) for the three actions', async () => {
    answer(200, '{"RequestId":"R","AlgoLibId":36}');
    await fc.assert(
      fc.asyncProperty(
        fc
          .constantFrom('CreateAlgoLib', 'ModifyAlgoLib', 'DescribeAlgoLibs' as const)
          .chain((action) =>
            fc.tuple(fc.constant(action), paramsOf[action] as fc.Arbitrary<Record<string, string | number>>),
          ),
        credentialsArb,
        fc.integer({ min: 100, max: 60_000 }),
        async ([action, params], credentials, timeoutMs) => {
          recorded.length = 0;
          const [sdkBody] = await popCore(credentials).request<[unknown, unknown]>(action, params, {
            method: 'POST',
            timeout: timeoutMs,
            formatParams: false,
          });
          const sdk = recorded[0] as RecordedRequest;
          const lean = createRpcClient({
            endpoint,
            apiVersion: API_VERSION,
            credentials: () => credentials,
            now: () => new Date(field(sdk.body, 'Timestamp')),
            nonce: () => field(sdk.body, 'SignatureNonce'),
          });
          const [leanBody] = await lean.call(action, params, timeoutMs);
          lean.close();
          expect(recorded[1]).toEqual(sdk);
          expect(String((leanBody as { AlgoLibId: unknown }).AlgoLibId)).toBe(
            String((sdkBody as { AlgoLibId: unknown }).AlgoLibId),
          );
        },
      ),
      { numRuns: 120 },
    );
  });
});

describe('the lean RPC call fails as pop-core does', () => {
  const shapes = [
    {
      name: 'an API error (InvalidParameter, 400)',
      status: 400,
      body: '{"Code":"InvalidParameter","Message":"m","RequestId":"R"}',
    },
    { name: 'throttling (400)', status: 400, body: '{"Code":"Throttling.User","Message":"m","RequestId":"R"}' },
    { name: 'an internal error (500)', status: 500, body: '{"Code":"InternalError","Message":"m","RequestId":"R"}' },
    { name: 'a gateway page that is not JSON (502)', status: 502, body: '<html>bad gateway</html>' },
    { name: 'an id past 2^53', status: 200, body: '{"RequestId":"R","AlgoLibId":12345678901234567890}' },
    { name: 'a 5xx with an empty object', status: 503, body: '{}' },
  ];
  for (const shape of shapes) {
    it(`answers ${shape.name} the same`, async () => {
      answer(shape.status, shape.body);
      const credentials = { accessKeyId: 'ak', accessKeySecret: 'sk' };
      const settle = async (run: () => Promise<[unknown, { response: { statusCode: number } }]>) => {
        try {
          const [body, entry] = await run();
          return { ok: String((body as { AlgoLibId?: unknown }).AlgoLibId), status: entry.response.statusCode };
        } catch (error) {
          const { service, code, retryable, httpStatus, deployment, message } = classifyCityVisualError(
            error,
            'CreateAlgoLib',
          );
          return { service, code, retryable, httpStatus, deployment, message: message.replace(/URL: \S+/, '') };
        }
      };
      const sdk = await settle(() =>
        popCore(credentials).request('CreateAlgoLib', { A: 1 }, { method: 'POST', timeout: 5000, formatParams: false }),
      );
      const lean = createRpcClient({ endpoint, apiVersion: API_VERSION, credentials: () => credentials });
      const ours = await settle(() => lean.call('CreateAlgoLib', { A: 1 }, 5000));
      lean.close();
      expect(ours).toEqual(sdk);
    });
  }

  it('names a refused connection the same', async () => {
    const url = await closedPort();
    const credentials = { accessKeyId: 'ak', accessKeySecret: 'sk' };
    const sdk = new (RPCClient as unknown as new (config: object, verbose: boolean) => PopCore)(
      { endpoint: url, apiVersion: API_VERSION, credentialsProvider: { getCredentials: async () => credentials } },
      true,
    );
    const classify = (error: unknown) => {
      const { service, code, retryable, httpStatus } = classifyCityVisualError(error, 'DescribeAlgoLibs');
      return { service, code, retryable, httpStatus };
    };
    const sdkError = await sdk.request('DescribeAlgoLibs', {}, { method: 'POST', timeout: 5000 }).catch(classify);
    const lean = createRpcClient({ endpoint: url, apiVersion: API_VERSION, credentials: () => credentials });
    const leanError = await lean.call('DescribeAlgoLibs', {}, 5000).catch(classify);
    lean.close();
    expect(leanError).toEqual(sdkError);
  });
});
