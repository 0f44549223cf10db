/**
 * The function's clients time and keep their connections as the SDKs they replace do: shared/oss-client.ts as ali-oss
 * over urllib (a connect timer, then a response timer that covers the body, none on a streamed body; agentkeepalive's
 * sockets, freed no longer than the server's Keep-Alive), shared/rpc-client.ts as pop-core over httpx (the socket's
 * idle timeout and a read timer that covers the body). Each scenario runs through the SDK and through our client
 * against the same server on 127.0.0.1, and the two must fail (or succeed) alike: the same error fields, the same
 * classification. The timings are scenario inputs (a server that answers after twice the timeout), never asserted.
 */
import http from 'node:http';
import type { AddressInfo, LookupFunction, Socket } from 'node:net';
import RPCClient from '@alicloud/pop-core';
import OSS from 'ali-oss';
import urllib from 'urllib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION } from '../../shared/cityvisual.ts';
import { classifyCityVisualError } from '../../shared/cityvisual-errors.ts';
import { createOssClient, type OssClient } from '../../shared/oss-client.ts';
import { toOssError } from '../../shared/oss-errors.ts';
import { createRpcClient } from '../../shared/rpc-client.ts';

// Generous: every timer of a scenario runs in this one process, so a busy event loop delays them alike; 400 ms of slack
// keeps the half-late scenario from failing on a loaded machine (the timers are never asserted).
const TIMEOUT = 1000;
/** Twice the timeout: late enough that any timer of TIMEOUT fires first, whichever phase it covers. */
const LATE = 2 * TIMEOUT;

type Behaviour = 'slow-headers' | 'slow-body' | 'half-late' | 'cut-body' | 'keep-alive';
let behaviour: Behaviour = 'slow-headers';
let server: http.Server;
let endpoint: string;
const timers = new Set<NodeJS.Timeout>();
const later = (run: () => void, ms = LATE) => {
  const timer = setTimeout(() => {
    timers.delete(timer);
    run();
  }, ms);
  timers.add(timer);
};
/** Three fifths of the timeout: within it, but two of them are past it. */
const HALF_LATE = (3 * TIMEOUT) / 5;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const json = req.method === 'POST';
      const body = json ? '{"RequestId":"R","AlgoLibId":"1"}' : 'content of the object';
      const headers = { 'content-type': json ? 'application/json' : 'application/octet-stream', etag: '"E"' };
      if (behaviour === 'half-late') {
        later(() => res.writeHead(200, headers).end(body), HALF_LATE);
      } else if (behaviour === 'slow-headers') {
        later(() => res.writeHead(200, headers).end(body));
      } else if (behaviour === 'slow-body') {
        res.writeHead(200, headers);
        res.write(body.slice(0, 5));
        later(() => res.end(body.slice(5)));
      } else if (behaviour === 'cut-body') {
        res.writeHead(200, { ...headers, 'content-length': String(body.length * 4) });
        res.write(body, () => res.socket?.destroy());
      } else {
        res.writeHead(200, { ...headers, connection: 'keep-alive', 'keep-alive': 'timeout=2' }).end(body);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const timer of timers) clearTimeout(timer);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const credentials = { accessKeyId: 'AK', accessKeySecret: 'secret' };
/** A DNS lookup that never answers: the socket stays connecting, with no packet sent anywhere. */
const neverAnswers: LookupFunction = () => undefined;
/** A DNS lookup that answers 127.0.0.1 after HALF_LATE ms: the connect phase takes that long. */
const slowLookup = ((_host: string, options: { all?: boolean }, callback: (...answer: unknown[]) => void) => {
  // Node 20 asks for every address (`all`, for autoSelectFamily) or for one.
  later(
    () => (options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)),
    HALF_LATE,
  );
}) as unknown as LookupFunction;
const port = () => (server.address() as AddressInfo).port;

const aliOss = (options: { endpoint?: string; urllib?: unknown } = {}) =>
  new OSS({
    endpoint: options.endpoint ?? endpoint,
    region: 'oss-cn-shanghai',
    bucket: 'bkt',
    ...credentials,
    authorizationV4: true,
    timeout: TIMEOUT,
    ...(options.urllib ? { urllib: options.urllib } : {}),
  } as OSS.Options);

const ours = (options: { endpoint?: string; lookup?: LookupFunction } = {}): OssClient =>
  createOssClient({
    endpoint: options.endpoint ?? endpoint,
    region: 'oss-cn-shanghai',
    timeoutMs: TIMEOUT,
    credentials: () => credentials,
    ...(options.lookup ? { lookup: options.lookup } : {}),
  });

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: unknown) => error,
  );

/** The fields toOssError reads, and what it makes of them. */
const asOss = (error: unknown) => {
  if (error === 'resolved') return error;
  const e = error as { name?: string; code?: string; status?: number };
  const { code, retryable, httpStatus, deployment } = toOssError(error, 'GetObject', 'k.json');
  return { name: e.name, code: e.code, status: e.status, classified: { code, retryable, httpStatus, deployment } };
};

describe('the OSS client times requests as ali-oss (urllib) does', () => {
  it('a connect that does not complete: ConnectionTimeoutError, status -2', async () => {
    // ali-oss takes a urllib in its options: the same urllib, with the lookup that never answers.
    const viaUrllib = {
      request: (url: string, params: object) => urllib.request(url, { ...params, lookup: neverAnswers }),
    };
    const host = 'http://oss-never.invalid:9';
    const sdk = await failure(aliOss({ endpoint: host, urllib: viaUrllib }).head('k.json'));
    const client = ours({ endpoint: host, lookup: neverAnswers });
    const mine = await failure(client.send({ method: 'HEAD', bucket: 'bkt', key: 'k.json', successStatuses: [200] }));
    client.close();
    expect(asOss(mine)).toEqual(asOss(sdk));
    expect(asOss(mine)).toMatchObject({ name: 'ConnectionTimeoutError', status: -2 });
  });

  it('a connect and an answer each within the timeout, together past it: both succeed (two timers, not one)', async () => {
    behaviour = 'half-late';
    const viaUrllib = {
      request: (url: string, options: object) => urllib.request(url, { ...options, lookup: slowLookup }),
    };
    const host = `http://oss-slow.invalid:${port()}`;
    const sdk = await aliOss({ endpoint: host, urllib: viaUrllib }).get('k.json');
    const client = ours({ endpoint: host, lookup: slowLookup });
    const mine = await client.send({ method: 'GET', bucket: 'bkt', key: 'k.json', successStatuses: [200] });
    client.close();
    expect(mine.body?.toString()).toBe(Buffer.from(sdk.content as Buffer).toString());
  });

  it('headers later than the timeout: ResponseTimeoutError', async () => {
    behaviour = 'slow-headers';
    const sdk = await failure(aliOss().get('k.json'));
    const client = ours();
    const mine = await failure(client.send({ method: 'GET', bucket: 'bkt', key: 'k.json', successStatuses: [200] }));
    client.close();
    expect(asOss(mine)).toEqual(asOss(sdk));
    expect(asOss(mine)).toMatchObject({ name: 'ResponseTimeoutError', classified: { retryable: true } });
  });

  it('a body that ends later than the timeout: the response timer covers the body, so ResponseTimeoutError', async () => {
    behaviour = 'slow-body';
    const sdk = await failure(aliOss().get('k.json'));
    const client = ours();
    const mine = await failure(client.send({ method: 'GET', bucket: 'bkt', key: 'k.json', successStatuses: [200] }));
    client.close();
    expect(asOss(mine)).toEqual(asOss(sdk));
    expect(asOss(mine)).toMatchObject({ name: 'ResponseTimeoutError' });
  });

  it('a streamed body that ends later than the timeout: no timer once the headers came, both read it whole', async () => {
    behaviour = 'slow-body';
    const read = async (stream: AsyncIterable<Buffer>) => {
      let text = '';
      for await (const chunk of stream) text += chunk.toString();
      return text;
    };
    const sdk = await read((await aliOss().getStream('k.json')).stream as AsyncIterable<Buffer>);
    const client = ours();
    const response = await client.send(
      { method: 'GET', bucket: 'bkt', key: 'k.json', successStatuses: [200] },
      { stream: true },
    );
    const mine = await read(response.stream as AsyncIterable<Buffer>);
    client.close();
    expect(mine).toBe(sdk);
    expect(mine).toBe('content of the object');
  });

  it('frees keep-alive sockets as ali-oss does: agentkeepalive 3, idle no longer than the server keeps them', async () => {
    behaviour = 'keep-alive';
    const socketOf = (stream: unknown) =>
      (stream as { socket: Socket & { freeSocketKeepAliveTimeout?: number } }).socket;
    const agentOf = (stream: unknown) =>
      (stream as { req: { agent: { constructor: unknown; freeSocketKeepAliveTimeout: number; keepAlive: boolean } } })
        .req.agent;
    const { stream: sdkStream } = await aliOss().getStream('k.json');
    const client = ours();
    const { stream } = await client.send(
      { method: 'GET', bucket: 'bkt', key: 'k.json', successStatuses: [200] },
      { stream: true },
    );
    // urllib: `Keep-Alive: timeout=2` → 2 s less 500 ms for the network, under agentkeepalive's 15 s default.
    expect(socketOf(stream).freeSocketKeepAliveTimeout).toBe(1500);
    expect(socketOf(stream).freeSocketKeepAliveTimeout).toBe(socketOf(sdkStream).freeSocketKeepAliveTimeout);
    const [sdkAgent, agent] = [agentOf(sdkStream), agentOf(stream)];
    expect(agent.constructor).toBe(sdkAgent.constructor);
    expect([agent.keepAlive, agent.freeSocketKeepAliveTimeout]).toEqual([
      sdkAgent.keepAlive,
      sdkAgent.freeSocketKeepAliveTimeout,
    ]);
    for await (const _ of stream as AsyncIterable<Buffer>);
    for await (const _ of sdkStream as AsyncIterable<Buffer>);
    client.close();
  });

  it('a connection cut mid-body is retryable with ours (ali-oss reports it as a permanent UnknownError: see local/README.md)', async () => {
    behaviour = 'cut-body';
    const sdk = await failure(aliOss().get('k.json'));
    const client = ours();
    const mine = await failure(client.send({ method: 'GET', bucket: 'bkt', key: 'k.json', successStatuses: [200] }));
    client.close();
    expect(asOss(mine)).toMatchObject({ name: 'ResponseError', status: -1, classified: { retryable: true } });
    expect(asOss(sdk)).toMatchObject({ status: 200, classified: { retryable: false } });
  });
});

/** The fields classifyCityVisualError reads, and what it makes of them. */
const asRpc = (error: unknown) => {
  if (!(error instanceof Error)) return error;
  const { code, retryable, httpStatus, deployment } = classifyCityVisualError(error, 'CreateAlgoLib');
  return { name: error.name, classified: { code, retryable, httpStatus, deployment } };
};

type PopCore = { request<T>(action: string, params: object, opts: object): Promise<T> };
const popCore = (url: string) =>
  new (RPCClient as unknown as new (config: object, verbose: boolean) => PopCore)(
    { endpoint: url, apiVersion: API_VERSION, accessKeyId: credentials.accessKeyId, accessKeySecret: 'secret' },
    true,
  );
const params = { InstanceId: 'i', RegionId: 'cn-shanghai' };

describe('the RPC client times requests as pop-core (httpx) does', () => {
  it('a connect that does not complete: RequestTimeoutError', async () => {
    const host = 'http://cityvisual-never.invalid:9';
    // pop-core passes its options' agent to httpx: an agent whose sockets look their host up with `neverAnswers`.
    const agent = new http.Agent({ keepAlive: true, lookup: neverAnswers } as http.AgentOptions);
    const sdk = await failure(
      popCore(host).request('DescribeAlgoLibs', params, { method: 'POST', timeout: TIMEOUT, agent }),
    );
    agent.destroy();
    const client = createRpcClient({
      endpoint: host,
      apiVersion: API_VERSION,
      credentials: () => credentials,
      lookup: neverAnswers,
    });
    const mine = await failure(client.call('DescribeAlgoLibs', params, TIMEOUT));
    client.close();
    expect(asRpc(mine)).toEqual(asRpc(sdk));
    expect(asRpc(mine)).toMatchObject({ name: 'RequestTimeoutError', classified: { retryable: true } });
  });

  it('a connect and an answer each within the timeout, together past it: both succeed (two timers, not one)', async () => {
    behaviour = 'half-late';
    const host = `http://cityvisual-slow.invalid:${port()}`;
    const agent = new http.Agent({ keepAlive: true, lookup: slowLookup } as http.AgentOptions);
    const [sdk] = await popCore(host).request<[unknown]>('CreateAlgoLib', params, {
      method: 'POST',
      timeout: TIMEOUT,
      agent,
    });
    agent.destroy();
    const client = createRpcClient({
      endpoint: host,
      apiVersion: API_VERSION,
      credentials: () => credentials,
      lookup: slowLookup,
    });
    const [mine] = await client.call('CreateAlgoLib', params, TIMEOUT);
    client.close();
    expect(mine).toEqual(sdk);
  });

  for (const slow of ['slow-headers', 'slow-body'] as const) {
    it(`${slow === 'slow-headers' ? 'headers' : 'a body'} later than the timeout: RequestTimeoutError`, async () => {
      behaviour = slow;
      const sdk = await failure(
        popCore(endpoint).request('CreateAlgoLib', params, { method: 'POST', timeout: TIMEOUT }),
      );
      const client = createRpcClient({ endpoint, apiVersion: API_VERSION, credentials: () => credentials });
      const mine = await failure(client.call('CreateAlgoLib', params, TIMEOUT));
      client.close();
      expect(asRpc(mine)).toEqual(asRpc(sdk));
      expect(asRpc(mine)).toMatchObject({ name: 'RequestTimeoutError', classified: { code: 'RequestTimeout' } });
    });
  }
});
