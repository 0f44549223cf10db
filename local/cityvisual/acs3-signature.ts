/**
 * Alibaba Cloud signature V3 (`ACS3-HMAC-SHA256`), which the POP gateway accepts for RPC and ROA APIs alike
 * ("V3 request structure and signature", https://help.aliyun.com/document_detail/2593177.html; the example there is
 * ECS RunInstances, an RPC API), computed as `@alicloud/openapi-util@0.3.3` `getAuthorization` does.
 */
import { createHash, createHmac } from 'node:crypto';
import { encodeRfc3986 } from './rpc-signature.ts';

export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';

/** What the gateway needs of a request to recompute its V3 signature. */
export type Acs3Request = {
  method: string;
  /** The path as sent (already percent-encoded), `/` for RPC. */
  path: string;
  /** The decoded query parameters. */
  query: Record<string, string>;
  /** Lowercase header names, as Node gives them. */
  headers: Record<string, string | undefined>;
  body: Buffer;
};

export type Acs3Authorization = { accessKeyId: string; signedHeaders: string[]; signature: string };

/** `hex(sha256(bytes))`: the HashedRequestPayload and the `x-acs-content-sha256` header. */
export const sha256Hex = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Parses `ACS3-HMAC-SHA256 Credential=<AK>,SignedHeaders=<a;b>,Signature=<hex>`; `undefined` when a part is missing.
 * The algorithm is returned apart so that an unsupported one can be told from a malformed header.
 */
export const parseAcs3Authorization = (
  header: string,
): { algorithm: string; authorization: Acs3Authorization | undefined } => {
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  const fields = new Map(
    header
      .slice(space + 1)
      .split(',')
      .map((part) => {
        const equals = part.indexOf('=');
        return [part.slice(0, equals).trim(), part.slice(equals + 1).trim()] as const;
      }),
  );
  const accessKeyId = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (space < 0 || !accessKeyId || !signedHeaders || !signature) return { algorithm, authorization: undefined };
  return { algorithm, authorization: { accessKeyId, signedHeaders: signedHeaders.split(';'), signature } };
};

/**
 * The V3 string to sign: `ACS3-HMAC-SHA256\n` + hex(sha256(CanonicalRequest)), where CanonicalRequest is
 * method, path, the sorted and encoded query, `name:value` of each signed header, the signed header names, and the
 * hash of the body as received (the server's own, not the client's `x-acs-content-sha256`).
 */
export const acs3StringToSign = (request: Acs3Request, signedHeaders: readonly string[]): string => {
  const query = Object.keys(request.query)
    .sort()
    .map((key) => `${encodeRfc3986(key)}=${encodeRfc3986(request.query[key] ?? '')}`)
    .join('&');
  const names = [...signedHeaders].map((name) => name.toLowerCase()).sort();
  const headers = names.map((name) => `${name}:${(request.headers[name] ?? '').trim()}\n`).join('');
  const canonical = [request.method, request.path, query, headers, names.join(';'), sha256Hex(request.body)].join('\n');
  return `${ACS3_ALGORITHM}\n${sha256Hex(canonical)}`;
};

/**
 * Signs a string to sign with an AccessKey secret: hex(HMAC-SHA256(secret, stringToSign)).
 *
 * @example
 * const signature = signAcs3(acs3StringToSign(request, ['host', 'x-acs-action', …]), accessKeySecret);
 */
export const signAcs3 = (stringToSign: string, accessKeySecret: string): string =>
  createHmac('sha256', accessKeySecret).update(stringToSign, 'utf8').digest('hex');
