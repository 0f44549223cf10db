/**
 * Alibaba Cloud's V3 request signature (`ACS3-HMAC-SHA256`), which the Tea SDKs (`@alicloud/openapi-client` 0.4,
 * used by `@alicloud/fc-open20210406`) sign FC 2.0 ROA calls with. Computed exactly as
 * `@alicloud/openapi-util` 0.3 `getAuthorization` does (dist/client.js), which follows the "Request syntax and
 * signature method V3" reference (https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature):
 *
 * ```
 * CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HashedPayload
 * StringToSign     = ACS3-HMAC-SHA256 \n hex(sha256(CanonicalRequest))
 * Authorization    = ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<a;b;c>,Signature=hex(hmac-sha256(secret, StringToSign))
 * ```
 * CanonicalURI is the percent-encoded path as sent; CanonicalQueryString the parameters sorted by name, each
 * `name=value` with the value percent-encoded (RFC 3986: also `!'()*`); CanonicalHeaders every signed header
 * (`host`, `content-type`, `x-acs-*`), lower-cased, sorted, `name:trimmed value\n`; HashedPayload is
 * `x-acs-content-sha256`, the hex SHA-256 of the body, which is checked against the body received.
 */
import { createHash, createHmac } from 'node:crypto';
import { type FcAuthFailure, sameText, type VerifyFcRequestInput } from './fc-signature.ts';

export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';

/** What fc2's verification takes, less the account header (the Tea SDK sends none unless asked). */
export type VerifyAcs3Input = Omit<VerifyFcRequestInput, 'accountId'>;

/** RFC 3986 percent-encoding, as openapi-util's `encode`. */
const encode = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** The canonical request openapi-util hashes, from what was received. */
export const acs3CanonicalRequest = (
  input: Pick<VerifyAcs3Input, 'method' | 'rawPath' | 'query' | 'headers'>,
  signedHeaders: string[],
  hashedPayload: string,
): string => {
  const names = [...new Set(input.query.keys())].sort();
  const canonicalQuery = names.map((name) => `${name}=${encode(input.query.get(name) ?? '')}`).join('&');
  const canonicalHeaders = signedHeaders
    .map((name) => {
      const value = input.headers[name];
      return `${name}:${(Array.isArray(value) ? value.join(',') : (value ?? '')).trim()}\n`;
    })
    .join('');
  return [input.method, input.rawPath, canonicalQuery, canonicalHeaders, signedHeaders.join(';'), hashedPayload].join(
    '\n',
  );
};

/**
 * Checks an `ACS3-HMAC-SHA256` Authorization, `x-acs-date` and `x-acs-content-sha256`. Returns the AccessKeyId, or the
 * FC error to answer with (FC's own codes: 403 `SignatureNotMatch`, `InvalidAccessKeyId`, `RequestTimeTooSkewed`).
 */
export const verifyAcs3Request = (input: VerifyAcs3Input): { accessKeyId: string } | FcAuthFailure => {
  const header = (name: string) => {
    const value = input.headers[name];
    return Array.isArray(value) ? value.join(',') : value;
  };
  const match = /^ACS3-HMAC-SHA256 Credential=([^,\s]+),SignedHeaders=([^,\s]*),Signature=([0-9a-f]+)$/.exec(
    header('authorization') ?? '',
  );
  if (!match) {
    return denied(
      'InvalidAuthorization',
      'Expected `Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<names>,Signature=<hex>`',
    );
  }
  const [, accessKeyId = '', signed = '', signature = ''] = match;
  const date = Date.parse(header('x-acs-date') ?? '');
  if (Number.isNaN(date)) return denied('InvalidArgument', 'Expected an `x-acs-date` header (ISO 8601, UTC)');
  if (Math.abs(input.now - date) > input.maxSkewMs) {
    return denied(
      'RequestTimeTooSkewed',
      `The request x-acs-date ${header('x-acs-date')} is more than 15 minutes away`,
    );
  }
  const secret = input.secretOf(accessKeyId);
  if (secret === undefined) return denied('InvalidAccessKeyId', `The AccessKeyId ${accessKeyId} does not exist`);
  const hashedPayload = header('x-acs-content-sha256') ?? '';
  if (hashedPayload !== sha256Hex(input.body)) {
    return {
      status: 400,
      code: 'InvalidArgument',
      message: 'The x-acs-content-sha256 you specified does not match the request body',
    };
  }
  const signedHeaders = signed.split(';');
  const required = ['host', 'x-acs-date', 'x-acs-content-sha256'];
  const unsigned = required.filter((name) => !signedHeaders.includes(name));
  if (unsigned.length > 0)
    return denied('InvalidAuthorization', `Expected SignedHeaders to include ${unsigned.join(', ')}`);
  const canonicalRequest = acs3CanonicalRequest(input, signedHeaders, hashedPayload);
  const stringToSign = `${ACS3_ALGORITHM}\n${sha256Hex(canonicalRequest)}`;
  const expected = createHmac('sha256', secret).update(stringToSign).digest('hex');
  if (!sameText(expected, signature)) {
    return denied(
      'SignatureNotMatch',
      `The request signature we calculated does not match the signature you provided. Check your access key and signing method. CanonicalRequest: ${JSON.stringify(canonicalRequest)}`,
    );
  }
  return { accessKeyId };
};

const denied = (code: string, message: string): FcAuthFailure => ({ status: 403, code, message });
