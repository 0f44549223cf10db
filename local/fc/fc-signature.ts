/**
 * FC 2.0 API request signatures, computed exactly as `@alicloud/fc2` 2.6.6 does (`lib/helper.js`, `lib/client.js`):
 *
 * ```
 * Authorization: FC <AccessKeyId>:base64(HMAC-SHA256(secret, StringToSign))
 * StringToSign = METHOD \n Content-MD5 \n Content-Type \n Date \n CanonicalizedFCHeaders Resource [\n sorted k=v queries]
 * ```
 * CanonicalizedFCHeaders is every `x-fc-*` header, lower-cased and sorted, each as `name:value\n`. Resource is the
 * unescaped path including `/2016-08-15`. Queries are signed only on `/proxy/` paths (HTTP triggers).
 * fc2's Content-MD5 is base64 of the *hex* MD5 digest, not of the raw digest.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export type FcHeaders = Record<string, string | undefined>;

/** fc2's `composeStringToSign`. `headers` keys must be lower-case. */
export const composeStringToSign = (
  method: string,
  resource: string,
  headers: FcHeaders,
  queries?: Record<string, string | string[]>,
): string => {
  const fcHeaders = Object.keys(headers)
    .filter((key) => key.startsWith('x-fc-'))
    .sort()
    .map((key) => `${key}:${headers[key]}\n`)
    .join('');
  const base = `${method}\n${headers['content-md5'] ?? ''}\n${headers['content-type'] ?? ''}\n${headers.date}\n${fcHeaders}${resource}`;
  if (!queries) return base;
  const params = Object.entries(queries)
    .flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).map((v) => `${key}=${v}`))
    .sort();
  return `${base}\n${params.join('\n')}`;
};

/** `FC <AccessKeyId>:<signature>` for the given string to sign. */
export const signFc = (accessKeyId: string, accessKeySecret: string, stringToSign: string): string =>
  `FC ${accessKeyId}:${createHmac('sha256', accessKeySecret).update(stringToSign, 'utf8').digest('base64')}`;

/** fc2's Content-MD5 of a body. */
export const fcContentMd5 = (body: Buffer): string =>
  Buffer.from(createHash('md5').update(body).digest('hex'), 'utf8').toString('base64');

export type FcAuthFailure = { status: number; code: string; message: string };

export type VerifyFcRequestInput = {
  method: string;
  /** Request path without the query string, still percent-encoded as received. */
  rawPath: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  secretOf: (accessKeyId: string) => string | undefined;
  accountId: string;
  now: number;
  maxSkewMs: number;
};

/**
 * Checks an FC API request's Authorization, Date, account and Content-MD5. Returns the AccessKeyId, or the FC error
 * to answer with.
 */
export const verifyFcRequest = (input: VerifyFcRequestInput): { accessKeyId: string } | FcAuthFailure => {
  const headers = flatten(input.headers);
  const match = /^FC ([^:\s]+):(\S+)$/.exec(headers.authorization ?? '');
  if (!match)
    return denied(403, 'InvalidAuthorization', 'Expected an `Authorization: FC <AccessKeyId>:<Signature>` header');
  const [, accessKeyId = '', signature = ''] = match;
  const date = Date.parse(headers.date ?? '');
  if (Number.isNaN(date))
    return denied(
      403,
      'InvalidArgument',
      'Expected a `Date` header in RFC 1123 format (fc2 sends `new Date().toUTCString()`)',
    );
  if (Math.abs(input.now - date) > input.maxSkewMs) {
    return denied(
      403,
      'RequestTimeTooSkewed',
      `The request Date ${headers.date} is more than 15 minutes away from the server time`,
    );
  }
  const secret = input.secretOf(accessKeyId);
  if (secret === undefined) return denied(403, 'InvalidAccessKeyId', `The AccessKeyId ${accessKeyId} does not exist`);
  const resource = safeDecode(input.rawPath);
  const queries = resource.includes('/proxy/') ? Object.fromEntries(input.query) : undefined;
  const stringToSign = composeStringToSign(input.method, resource, headers, queries);
  const expected = signFc(accessKeyId, secret, stringToSign).slice(`FC ${accessKeyId}:`.length);
  if (!sameText(expected, signature)) {
    return denied(
      403,
      'SignatureNotMatch',
      `The request signature we calculated does not match the signature you provided. Check your access key and signing method. StringToSign: ${JSON.stringify(stringToSign)}`,
    );
  }
  const accountId = headers['x-fc-account-id'];
  if (accountId !== undefined && accountId !== input.accountId) {
    return denied(
      403,
      'AccessDenied',
      `The request is for account ${accountId}, this endpoint serves account ${input.accountId}`,
    );
  }
  const md5 = headers['content-md5'];
  if (
    md5 !== undefined &&
    md5 !== fcContentMd5(input.body) &&
    md5 !== createHash('md5').update(input.body).digest('base64')
  ) {
    return denied(400, 'InvalidArgument', 'The Content-MD5 you specified does not match the request body');
  }
  return { accessKeyId };
};

const denied = (status: number, code: string, message: string): FcAuthFailure => ({ status, code, message });

const flatten = (headers: IncomingHttpHeaders): FcHeaders =>
  Object.fromEntries(
    Object.entries(headers).map(([key, value]) => [key, Array.isArray(value) ? value.join(', ') : value]),
  );

const safeDecode = (path: string): string => {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
};

/** Constant-time comparison of two signatures. */
export const sameText = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};
