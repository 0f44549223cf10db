/**
 * Verifies OSS request signatures: V1 (`OSS AccessKeyId:Signature`, HMAC-SHA1), V2 (`OSS2 AccessKeyId:…,Signature:…`,
 * HMAC-SHA256 over every query parameter; the default of the Tea OSS SDK `@alicloud/oss-client`) and V4
 * (`OSS4-HMAC-SHA256`), plus the STS security token and the 15-minute clock window. Canonical forms follow ali-oss
 * 6.23 (`lib/common/signUtils.js`), the official Go SDK v2 signer (whose published test vectors pin them in
 * test/unit/oss-signature.test.ts), and for V2 Python oss2's `ProviderAuthV2` (oss2/auth.py).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { OssCredential } from './credentials.ts';
import { MAX_CLOCK_SKEW_MS, ossErrors } from './errors.ts';

export type SignedRequest = {
  method: string;
  headers: IncomingHttpHeaders;
  bucket: string | undefined;
  /** Decoded object key, '' for bucket-level requests. */
  key: string;
  /** The query string as received, without '?'. */
  rawQuery: string;
};

export type AuthenticateOptions = {
  findCredential: (accessKeyId: string) => OssCredential | undefined;
  /** Region without the `oss-` prefix, e.g. `cn-shanghai`: what a V4 credential scope must name. */
  region: string;
  now: number;
};

/** Query parameters that V1 signs (the Go SDK v2 list); any `x-oss-*` parameter is signed too. */
const SIGNED_SUBRESOURCES = new Set([
  'acl',
  'bucketInfo',
  'location',
  'stat',
  'delete',
  'append',
  'tagging',
  'objectMeta',
  'uploads',
  'uploadId',
  'partNumber',
  'security-token',
  'position',
  'response-content-type',
  'response-content-language',
  'response-expires',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'restore',
  'callback',
  'callback-var',
  'versions',
  'versioning',
  'versionId',
  'sequential',
  'continuation-token',
  'regionList',
  'cloudboxes',
  'symlink',
]);

export const isSignedSubresource = (name: string) => SIGNED_SUBRESOURCES.has(name) || name.startsWith('x-oss-');

const V4_ALGORITHM = 'OSS4-HMAC-SHA256';

/** Checks the request's signature and returns the credential that signed it; throws an `OssError` otherwise. */
export const authenticate = (request: SignedRequest, options: AuthenticateOptions): OssCredential => {
  const authorization = headerOf(request, 'authorization');
  if (authorization === undefined) {
    throw ossErrors.accessDenied(
      'You have no right to access this resource: anonymous requests are refused, expected an Authorization header.',
    );
  }
  if (authorization.startsWith(`${V4_ALGORITHM} `)) return verifyV4(request, authorization, options);
  if (authorization.startsWith('OSS2 ')) return verifyV2(request, authorization, options);
  if (authorization.startsWith('OSS ')) return verifyV1(request, authorization, options);
  throw ossErrors.invalidArgument(
    'Authorization header is invalid: expected "OSS <AccessKeyId>:<Signature>", "OSS2 AccessKeyId:…" or "OSS4-HMAC-SHA256 Credential=…".',
    'Authorization',
    authorization.split(' ')[0] ?? '',
  );
};

const verifyV1 = (request: SignedRequest, authorization: string, options: AuthenticateOptions) => {
  const credentials = authorization.slice('OSS '.length);
  const separator = credentials.lastIndexOf(':');
  if (separator <= 0) {
    throw ossErrors.invalidArgument(
      'Authorization header is invalid: expected "OSS <AccessKeyId>:<Signature>".',
      'Authorization',
      'OSS',
    );
  }
  const accessKeyId = credentials.slice(0, separator);
  const signature = credentials.slice(separator + 1);
  const credential = credentialFor(request, accessKeyId, options);
  // OSS uses x-oss-date when present, else Date; ali-oss only ever sends x-oss-date.
  const date = headerOf(request, 'x-oss-date') ?? headerOf(request, 'date');
  checkClock(date === undefined ? Number.NaN : Date.parse(date), options.now);
  const stringToSign = v1StringToSign(request, date ?? '');
  const expected = createHmac('sha1', credential.accessKeySecret).update(stringToSign, 'utf8').digest('base64');
  if (!safeEqual(signature, expected)) throw ossErrors.signatureDoesNotMatch(accessKeyId, signature, stringToSign);
  return credential;
};

const v1StringToSign = (request: SignedRequest, date: string) => {
  const ossHeaders = Object.keys(request.headers)
    .filter((name) => name.startsWith('x-oss-'))
    .sort()
    .map((name) => `${name}:${(headerOf(request, name) ?? '').trim()}`);
  return [
    request.method,
    headerOf(request, 'content-md5') ?? '',
    headerOf(request, 'content-type') ?? '',
    date,
    ...ossHeaders,
    v1Resource(request),
  ].join('\n');
};

const v1Resource = (request: SignedRequest) => {
  const path = request.bucket === undefined ? '/' : `/${request.bucket}/${request.key}`;
  const subresources = [...new Map(queryPairs(request.rawQuery)).entries()]
    .filter(([name]) => isSignedSubresource(name))
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([name, value]) => (value === '' ? name : `${name}=${value}`));
  return subresources.length === 0 ? path : `${path}?${subresources.join('&')}`;
};

/**
 * V2: `OSS2 AccessKeyId:<id>[,AdditionalHeaders:<h1;h2>],Signature:<base64 HMAC-SHA256>` over
 * `VERB\nContent-MD5\nContent-Type\nDate\n<x-oss-* and additional headers>\n…<additional names>\n<resource>`, the
 * resource being `/<bucket>/<key>` with every byte outside RFC 3986's unreserved set percent-encoded (`/` too) and
 * every query parameter, encoded the same way and sorted.
 */
const verifyV2 = (request: SignedRequest, authorization: string, options: AuthenticateOptions) => {
  const fields = new Map(
    authorization
      .slice('OSS2 '.length)
      .split(',')
      .map((field) => {
        const separator = field.indexOf(':');
        return [field.slice(0, separator).trim(), field.slice(separator + 1).trim()] as const;
      }),
  );
  const accessKeyId = fields.get('AccessKeyId');
  const signature = fields.get('Signature');
  if (!accessKeyId || !signature) {
    throw ossErrors.invalidArgument(
      'Authorization header is invalid: expected "OSS2 AccessKeyId:<AccessKeyId>,[AdditionalHeaders:<h1;h2>,]Signature:<Signature>".',
      'Authorization',
      'OSS2',
    );
  }
  const additionalHeaders = (fields.get('AdditionalHeaders') ?? '')
    .split(';')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '')
    .sort();
  const credential = credentialFor(request, accessKeyId, options);
  const date = headerOf(request, 'x-oss-date') ?? headerOf(request, 'date');
  checkClock(date === undefined ? Number.NaN : Date.parse(date), options.now);
  const signedHeaders = Object.keys(request.headers)
    .filter((name) => name.startsWith('x-oss-') || additionalHeaders.includes(name))
    .sort()
    .map((name) => `${name}:${(headerOf(request, name) ?? '').trim()}\n`)
    .join('');
  const path = request.bucket === undefined ? '/' : `/${request.bucket}/${request.key}`;
  const query = v4CanonicalQuery(request.rawQuery);
  const stringToSign = [
    request.method,
    headerOf(request, 'content-md5') ?? '',
    headerOf(request, 'content-type') ?? '',
    date ?? '',
    `${signedHeaders}${additionalHeaders.join(';')}`,
    `${encodeRfc3986(path)}${query === '' ? '' : `?${query}`}`,
  ].join('\n');
  const expected = createHmac('sha256', credential.accessKeySecret).update(stringToSign, 'utf8').digest('base64');
  if (!safeEqual(signature, expected)) throw ossErrors.signatureDoesNotMatch(accessKeyId, signature, stringToSign);
  return credential;
};

type V4Authorization = {
  accessKeyId: string;
  date: string;
  region: string;
  product: string;
  additionalHeaders: string[];
  signature: string;
};

const verifyV4 = (request: SignedRequest, authorization: string, options: AuthenticateOptions) => {
  const parsed = parseV4(authorization);
  const credential = credentialFor(request, parsed.accessKeyId, options);
  const timestamp = headerOf(request, 'x-oss-date') ?? '';
  checkClock(parseV4Timestamp(timestamp), options.now);
  checkScope(parsed, timestamp, options.region);
  const stringToSign = v4StringToSign(request, parsed, timestamp);
  const expected = v4Signature(credential.accessKeySecret, parsed, stringToSign);
  if (!safeEqual(parsed.signature, expected)) {
    throw ossErrors.signatureDoesNotMatch(parsed.accessKeyId, parsed.signature, stringToSign);
  }
  return credential;
};

const parseV4 = (authorization: string): V4Authorization => {
  const fields = new Map(
    authorization
      .slice(V4_ALGORITHM.length + 1)
      .split(',')
      .map((field) => {
        const separator = field.indexOf('=');
        return [field.slice(0, separator).trim(), field.slice(separator + 1).trim()] as const;
      }),
  );
  const [accessKeyId, date, region, product, terminator, ...rest] = (fields.get('Credential') ?? '').split('/');
  const signature = fields.get('Signature');
  if (
    !accessKeyId ||
    !date ||
    !region ||
    !product ||
    terminator !== 'aliyun_v4_request' ||
    rest.length > 0 ||
    !signature
  ) {
    throw ossErrors.invalidArgument(
      'Authorization header is invalid: expected "OSS4-HMAC-SHA256 Credential=<AccessKeyId>/<yyyymmdd>/<region>/oss/aliyun_v4_request,[AdditionalHeaders=<h1;h2>,]Signature=<hex>".',
      'Authorization',
      V4_ALGORITHM,
    );
  }
  const additionalHeaders = (fields.get('AdditionalHeaders') ?? '').split(';').filter((name) => name !== '');
  return {
    accessKeyId,
    date,
    region,
    product,
    additionalHeaders: additionalHeaders.map((name) => name.toLowerCase()),
    signature,
  };
};

const parseV4Timestamp = (timestamp: string) => {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(timestamp);
  if (!match) return Number.NaN;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return Date.UTC(year, month - 1, day, hour, minute, second);
};

const checkScope = (parsed: V4Authorization, timestamp: string, region: string) => {
  if (parsed.date !== timestamp.slice(0, 8)) {
    throw ossErrors.accessDenied(
      `Invalid credential date: expected ${timestamp.slice(0, 8)} (from x-oss-date), got ${parsed.date}.`,
    );
  }
  if (parsed.region !== region) {
    throw ossErrors.accessDenied(
      `Invalid signing region in Authorization header: expected ${region}, got ${parsed.region}.`,
    );
  }
  if (parsed.product !== 'oss') {
    throw ossErrors.accessDenied(
      `Invalid signing product in Authorization header: expected oss, got ${parsed.product}.`,
    );
  }
};

const v4StringToSign = (
  request: SignedRequest,
  parsed: Pick<V4Authorization, 'date' | 'region' | 'product' | 'additionalHeaders'>,
  timestamp: string,
) => {
  const canonicalRequest = v4CanonicalRequest(request, parsed.additionalHeaders);
  return [
    V4_ALGORITHM,
    timestamp,
    `${parsed.date}/${parsed.region}/${parsed.product}/aliyun_v4_request`,
    createHash('sha256').update(canonicalRequest, 'utf8').digest('hex'),
  ].join('\n');
};

const v4CanonicalRequest = (request: SignedRequest, additionalHeaders: string[]) => {
  const path = request.bucket === undefined ? '/' : `/${request.bucket}/${request.key}`;
  const signedHeaders = Object.keys(request.headers)
    .filter((name) => isDefaultV4Header(name) || additionalHeaders.includes(name))
    .sort();
  return [
    request.method,
    encodeRfc3986(path).replace(/%2F/g, '/'),
    v4CanonicalQuery(request.rawQuery),
    signedHeaders.map((name) => `${name}:${(headerOf(request, name) ?? '').trim()}\n`).join(''),
    additionalHeaders.join(';'),
    headerOf(request, 'x-oss-content-sha256') ?? 'UNSIGNED-PAYLOAD',
  ].join('\n');
};

const isDefaultV4Header = (name: string) =>
  name === 'content-type' || name === 'content-md5' || name.startsWith('x-oss-');

/** Every parameter, decoded then re-encoded strictly, sorted, with a bare name when the value is empty. */
const v4CanonicalQuery = (rawQuery: string) =>
  queryPairs(rawQuery)
    .map(([name, value]) => [encodeRfc3986(name), encodeRfc3986(value)] as const)
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([name, value]) => (value === '' ? name : `${name}=${value}`))
    .join('&');

/** Derived signing keys by secret and scope: four of a request's five HMACs, the same for a key all day. */
const signingKeys = new Map<string, Buffer>();
const SIGNING_KEYS_KEPT = 1024;

const v4Signature = (
  secret: string,
  scope: Pick<V4Authorization, 'date' | 'region' | 'product'>,
  stringToSign: string,
) => {
  const cacheKey = [secret, scope.date, scope.region, scope.product].join('\n');
  let signingKey = signingKeys.get(cacheKey);
  if (!signingKey) {
    signingKey = [scope.date, scope.region, scope.product, 'aliyun_v4_request'].reduce<Buffer | string>(
      (key, part) => createHmac('sha256', key).update(part, 'utf8').digest(),
      `aliyun_v4${secret}`,
    ) as Buffer;
    if (signingKeys.size >= SIGNING_KEYS_KEPT) signingKeys.clear();
    signingKeys.set(cacheKey, signingKey);
  }
  return createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
};

const credentialFor = (request: SignedRequest, accessKeyId: string, options: AuthenticateOptions) => {
  const credential = options.findCredential(accessKeyId);
  if (credential === undefined) throw ossErrors.invalidAccessKeyId(accessKeyId);
  const token = headerOf(request, 'x-oss-security-token');
  if (credential.securityToken === undefined && token !== undefined) {
    throw ossErrors.invalidSecurityToken(
      `The security token you provided is invalid: AccessKey ${accessKeyId} is a long-term key, expected no x-oss-security-token.`,
    );
  }
  if (credential.securityToken !== undefined && (token === undefined || !safeEqual(token, credential.securityToken))) {
    throw ossErrors.invalidSecurityToken(
      `The security token you provided is invalid: expected the x-oss-security-token issued with STS AccessKey ${accessKeyId}, got ${token === undefined ? 'none' : 'another one'}.`,
    );
  }
  return credential;
};

const checkClock = (requestTime: number, now: number) => {
  if (Number.isNaN(requestTime)) {
    throw ossErrors.accessDenied('OSS authentication requires a valid Date: expected an x-oss-date (or Date) header.');
  }
  if (Math.abs(now - requestTime) > MAX_CLOCK_SKEW_MS) throw ossErrors.requestTimeTooSkewed(requestTime, now);
};

const headerOf = (request: SignedRequest, name: string) => {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

/** Decoded `[name, value]` pairs of a raw query string, '+' read as a space as OSS does. */
export const queryPairs = (rawQuery: string): Array<[string, string]> =>
  rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const separator = pair.indexOf('=');
      return separator < 0
        ? [decodeQueryPart(pair), '']
        : [decodeQueryPart(pair.slice(0, separator)), decodeQueryPart(pair.slice(separator + 1))];
    });

const decodeQueryPart = (part: string) => {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    throw ossErrors.invalidUri(`Expected a percent-encoded query string, got "${part}".`);
  }
};

const encodeRfc3986 = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);

const compareStrings = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const safeEqual = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};
