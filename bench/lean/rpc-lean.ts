/**
 * A lean RPC client for CityVisual's three actions (CreateAlgoLib, ModifyAlgoLib, DescribeAlgoLibs): what
 * `@alicloud/pop-core` 1.8's `request(action, params, { method: 'POST', timeout, formatParams: false })` sends (the
 * same form body with the same HMAC-SHA1 signature, the same headers: test/unit/rpc-lean.test.ts compares the two on
 * generated requests), resolving to pop-core's verbose answer `[body, entry]` and failing with the fields
 * `classifyCityVisualError` reads (`name`, `code`, `data`, `entry`), so the adapter over it stays as it is.
 *
 * Not shipped: measured in the bench as the cold-start alternative to pop-core (docs/bench.md, "Cold start").
 *
 * Sources: @alicloud/pop-core lib/rpc.js (request, normalize, canonicalize, encode, timestamp), lib/helper.js
 * (DEFAULT_UA, DEFAULT_CLIENT), httpx lib/index.js (timeouts, error names).
 */
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { arch, platform } from 'node:os';
import JSONbig from 'json-bigint';
import type { Credentials } from '../../shared/credentials.ts';

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

export type LeanRpcOptions = {
  endpoint: string;
  apiVersion: string;
  credentials: () => Credentials;
  /** For tests: the request time and nonce. */
  now?: () => Date;
  nonce?: () => string;
};

/**
 * `call(action, params, timeoutMs)`: one signed POST; resolves to `[body, entry]` as pop-core's verbose `request`.
 *
 * @example
 * ```ts
 * const rpc = createLeanRpcClient({ endpoint: 'https://cityvisual.cn-shanghai.aliyuncs.com', apiVersion: '2018-10-30', credentials });
 * const [body] = await rpc.call('DescribeAlgoLibs', { InstanceId: 'i', RegionId: 'cn-shanghai' }, 10_000);
 * ```
 */
export const createLeanRpcClient = (options: LeanRpcOptions) => {
  const endpoint = options.endpoint.endsWith('/') ? options.endpoint.slice(0, -1) : options.endpoint;
  const url = new URL(`${endpoint}/`);
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
      const request = transport.request({
        agent,
        method: 'POST',
        host: url.hostname,
        port: url.port || (url.protocol === 'https:' ? 443 : 80),
        path: '/',
        headers: rpcHeaders(action, options.apiVersion),
      });
      const timer = setTimeout(() => {
        const error = Object.assign(new Error(`ReadTimeout(${timeoutMs}). POST ${url.href} failed.`), {
          name: 'RequestTimeoutError',
          code: 'RequestTimeout',
        });
        request.destroy(error);
      }, timeoutMs);
      request.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          clearTimeout(timer);
          const entry: RpcEntry = {
            url: url.href,
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
              Object.assign(new Error(`${String(json.Message)}, URL: ${url.href}`), {
                name: `${String(json.Code)}Error`,
                data: json,
                code: json.Code,
                url: url.href,
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
