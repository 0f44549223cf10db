/**
 * Alibaba Cloud RPC signature V1 (HMAC-SHA1), byte for byte as `@alicloud/pop-core@1.8.0` computes it
 * (`lib/rpc.js`: `encode`, `normalize`, `canonicalize`, then `kitx.sha1(toSign, secret + '&', 'base64')`).
 */
import { createHmac } from 'node:crypto';

/** RFC 3986 percent-encoding: `encodeURIComponent` plus `! ' ( ) *`, so a space is `%20`, `+` is `%2B`, `~` stays. */
export const encodeRfc3986 = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * The canonical query string: every parameter but `Signature`, sorted by raw key with JavaScript's default
 * (UTF-16 code unit) order as pop-core does, then `enc(key)=enc(value)` joined by `&`.
 */
export const canonicalizeRpc = (params: Record<string, string>): string =>
  Object.keys(params)
    .filter((key) => key !== 'Signature')
    .sort()
    .map((key) => `${encodeRfc3986(key)}=${encodeRfc3986(params[key] ?? '')}`)
    .join('&');

/**
 * Signs RPC parameters; returns the base64 `Signature` (not yet percent-encoded). A `Signature` key in `params` is ignored.
 *
 * @example
 * const Signature = signRpc('POST', params, accessKeySecret);
 * const body = `${canonicalizeRpc(params)}&Signature=${encodeRfc3986(Signature)}`;
 */
export const signRpc = (method: 'GET' | 'POST', params: Record<string, string>, accessKeySecret: string): string =>
  createHmac('sha1', `${accessKeySecret}&`).update(rpcStringToSign(method, params), 'utf8').digest('base64');

/**
 * The V1 string to sign, `METHOD&%2F&enc(canonical query)`: what the gateway echoes after
 * `server string to sign is:` in a SignatureDoesNotMatch message.
 *
 * @example
 * rpcStringToSign('GET', { Action: 'DescribeRegions' }); // 'GET&%2F&Action%3DDescribeRegions'
 */
export const rpcStringToSign = (method: 'GET' | 'POST', params: Record<string, string>): string =>
  `${method}&${encodeRfc3986('/')}&${encodeRfc3986(canonicalizeRpc(params))}`;
