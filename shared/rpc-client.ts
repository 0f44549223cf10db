/**
 * The function's RPC client for CityVisual's three actions (CreateAlgoLib, ModifyAlgoLib, DescribeAlgoLibs): what
 * `@alicloud/pop-core` 1.8's `request(action, params, { method: 'POST', timeout, formatParams: false })` sends (the
 * same form body with the same HMAC-SHA1 signature, the same headers: test/unit/rpc-client.test.ts compares the two on
 * generated requests), timed as httpx (pop-core's HTTP client) times it, resolving to pop-core's verbose answer
 * `[body, entry]` and failing with the fields `classifyCityVisualError` reads (`name`, `code`, `data`, `entry`). It
 * replaces pop-core in the function because loading pop-core costs a third of the cold-start budget (docs/bench.md).
 *
 * Sources: @alicloud/pop-core lib/rpc.js (request, normalize, canonicalize, encode, timestamp, the keep-alive agent),
 * lib/helper.js (DEFAULT_UA, DEFAULT_CLIENT), httpx 2.3 lib/index.js (request: the socket timeout and the read timer;
 * read: the rest of the read timer).
 */
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { arch, platform } from 'node:os';
import JSONbig from 'json-bigint';
import type { Credentials } from './credentials.ts';

/** pop-core's version, which its User-Agent and x-sdk-client headers name. */
export const POP_CORE_VERSION = '1.8.0';

/** pop-core's `encode`: RFC 3986 (encodeURIComponent plus `!'()*`). */
const encode = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** `2026-12-06T23:30:00Z`: pop-core's Timestamp (seconds, no milliseconds). */
export const rpcTimestamp = (at: Date): string => `${at.toISOString().slice(0, 19)}Z`;

export type RpcSigning = {
  action: string;
  params: Record<string, string | number>;
  apiVersion: string;
  credentials: Credentials;
  timestamp: string;
  nonce: string;
};

/**
 * The POST body pop-core sends: every parameter (Action, Format, Timestamp, Version, the signature fields, then the
 * caller's, later keys winning), sorted by key and RFC 3986-encoded, then `Signature` (HMAC-SHA1 over
 * `POST&%2F&<encoded canonical query>` with `<secret>&`).
 *
 * @example
 * ```ts
 * const body = rpcPostBody({ action: 'DescribeAlgoLibs', params: { InstanceId: 'i' }, apiVersion: '2018-10-30', credentials, timestamp: rpcTimestamp(new Date()), nonce: 'n' });
 * ```
 */
export const rpcPostBody = (signing: RpcSigning): string => {
  const { credentials } = signing;
  const action = signing.action.slice(0, 1).toUpperCase() + signing.action.slice(1);
  const all: Record<string, string | number> = {
    Action: action,
    Format: 'JSON',
    Timestamp: signing.timestamp,
    Version: signing.apiVersion,
  };
  const signed = Boolean(credentials.accessKeyId && credentials.accessKeySecret);
  if (signed) {
    all.SignatureMethod = 'HMAC-SHA1';
    all.SignatureVersion = '1.0';
    all.SignatureNonce = signing.nonce;
    all.AccessKeyId = credentials.accessKeyId;
    if (credentials.securityToken) all.SecurityToken = credentials.securityToken;
  }
  Object.assign(all, signing.params);
  const pairs = Object.keys(all)
    .sort()
    .map((key) => `${encode(key)}=${encode(String(all[key]))}`);
  const canonical = pairs.join('&');
  if (!signed) return canonical;
  const signature = createHmac('sha1', `${credentials.accessKeySecret}&`)
    .update(`POST&${encode('/')}&${encode(canonical)}`)
    .digest('base64');
  return `${canonical}&Signature=${encode(signature)}`;
};

/** The headers pop-core sends with a POST, in its order. */
export const rpcHeaders = (action: string, apiVersion: string): Record<string, string> => ({
  'x-sdk-client': `Node.js(${process.version}), @alicloud/pop-core: ${POP_CORE_VERSION}`,
  'user-agent': `AlibabaCloud (${platform()}; ${arch()}) Node.js/${process.version} Core/${POP_CORE_VERSION}`,
  'x-acs-action': action,
  'x-acs-version': apiVersion,
  'content-type': 'application/x-www-form-urlencoded',
});

export type RpcEntry = { url: string; response: { statusCode: number; headers: http.IncomingHttpHeaders } };

/** The answers pop-core accepts as success codes (a body whose `Code` is one of these is not an error). */
const SUCCESS_CODES = new Set<unknown>([200, '200', 'OK', 'Success', 'success']);

export type RpcClientOptions = {
  endpoint: string;
  apiVersion: string;
  /** Read at every request, so rotated STS credentials are used as soon as the FC context carries them. */
  credentials: () => Credentials;
  /** For tests: the request time and nonce, and a DNS lookup. */
  now?: () => Date;
  nonce?: () => string;
  lookup?: LookupFunction;
};

export type RpcClient = {
  /** One signed POST; resolves to `[body, entry]` as pop-core's verbose `request`. */
  call<T = Record<string, unknown>>(
    action: string,
    params: Record<string, string | number>,
    timeoutMs: number,
  ): Promise<[T, RpcEntry]>;
  close(): void;
};

/** httpx's `append`: the error's name and message prefixed (`RequestTimeout` + `Error`). */
const timeoutError = (message: string) => Object.assign(new Error(message), { name: 'RequestTimeoutError' });

/**
 * Sends signed POSTs over one keep-alive agent (pop-core's: node's Agent, keepAlive, keepAliveMsecs 3000), timed as
 * httpx times pop-core's `timeout`: the socket's idle timeout (`RequestTimeoutError`, "ConnectTimeout") from the
 * start, and a read timer from the socket's connection (at once on a reused socket) until the body is read
 * (`RequestTimeoutError`, "ReadTimeout"). An answer whose `Code` is not a success code rejects as pop-core does.
 *
 * @example
 * ```ts
 * const rpc = createRpcClient({ endpoint: 'https://cityvisual.cn-shanghai.aliyuncs.com', apiVersion: '2018-10-30', credentials });
 * const [body] = await rpc.call('DescribeAlgoLibs', { InstanceId: 'i', RegionId: 'cn-shanghai' }, 10_000);
 * ```
 */
export const createRpcClient = (options: RpcClientOptions): RpcClient => {
  const endpoint = options.endpoint.endsWith('/') ? options.endpoint.slice(0, -1) : options.endpoint;
  const url = new URL(`${endpoint}/`);
  const href = `${endpoint}/`;
  const transport = url.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({ keepAlive: true, keepAliveMsecs: 3000 });
  const now = options.now ?? (() => new Date());
  const nonce = options.nonce ?? (() => randomBytes(16).toString('hex'));

  const call = <T = Record<string, unknown>>(
    action: string,
    params: Record<string, string | number>,
    timeoutMs: number,
  ): Promise<[T, RpcEntry]> =>
    new Promise((resolve, reject) => {
      const body = rpcPostBody({
        action,
        params,
        apiVersion: options.apiVersion,
        credentials: options.credentials(),
        timestamp: rpcTimestamp(now()),
        nonce: nonce(),
      });
      let settled = false;
      let readTimer: NodeJS.Timeout | undefined;
      const fail = (error: Error) => {
        clearTimeout(readTimer);
        if (settled) return;
        settled = true;
        reject(error);
      };
      const request = transport.request({
        agent,
        method: 'POST',
        host: url.hostname,
        port: url.port || (url.protocol === 'https:' ? 443 : 80),
        path: '/',
        headers: rpcHeaders(action, options.apiVersion),
        // httpx passes its connect timeout as the socket's idle timeout, for the whole exchange.
        timeout: timeoutMs,
        ...(options.lookup ? { lookup: options.lookup } : {}),
      });
      const startReadTimer = () => {
        readTimer = setTimeout(() => {
          request.destroy();
          fail(timeoutError(`ReadTimeout(${timeoutMs}). POST ${href} failed.`));
        }, timeoutMs);
        readTimer.unref();
      };
      request.once('socket', (socket) => {
        if (socket.connecting) socket.once('connect', startReadTimer);
        else startReadTimer();
      });
      request.on('timeout', () => {
        request.destroy();
        fail(timeoutError(`ConnectTimeout: Connect ${href} failed.`));
      });
      request.on('error', (error) => {
        error.message += `POST ${href} failed.`;
        fail(error);
      });
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(readTimer);
          if (settled) return;
          settled = true;
          const entry: RpcEntry = {
            url: href,
            response: { statusCode: response.statusCode ?? 0, headers: response.headers },
          };
          let json: Record<string, unknown>;
          try {
            json = JSONbig.parse(Buffer.concat(chunks).toString('utf8'));
          } catch (error) {
            reject(error);
            return;
          }
          if (json.Code && !SUCCESS_CODES.has(json.Code)) {
            reject(
              Object.assign(new Error(`${String(json.Message)}, URL: ${href}`), {
                name: `${String(json.Code)}Error`,
                data: json,
                code: json.Code,
                url: href,
                entry,
              }),
            );
            return;
          }
          resolve([json as T, entry]);
        });
      });
      request.end(body);
    });

  return { call, close: () => agent.destroy() };
};
