/**
 * How anything CityVisual's RPC client throws (shared/rpc-client.ts, pop-core, a Tea SDK) becomes a `RemoteError`:
 * retry, permanent, or a fault of the deployment with what to fix. Imports no client, so each can use it without
 * loading another.
 */
import { RemoteError } from './errors.ts';

/** Codes that say "try again later", whatever the HTTP status (throttling is 400 in some products, 429 in others). */
const RETRYABLE_CODE =
  /^(Throttling(\..*)?|Rejected\.Throttling|ServiceUnavailable|InternalError|System\.Busy|Operation\.Blocking|SignatureNonceUsed)$/;
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EPIPE',
  'ENOTFOUND',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

type PopCoreError = {
  name?: string;
  code?: string;
  message?: string;
  /** pop-core: the body; Tea (`@alicloud/openapi-client`): the body plus `statusCode`. */
  data?: { Code?: string; Message?: string; RequestId?: string; statusCode?: number };
  entry?: { response?: { statusCode?: number } };
};

/**
 * Codes that say the deployment, not the package, is at fault: the caller's RAM permissions, AccessKey, STS token,
 * signature or clock, and the deployment's own CityVisual/OSS settings. Each maps to what to fix.
 * Sources: the POP gateway's public error codes (Alibaba API error center, product "Public":
 * https://error-center.alibabacloud.com/status/product/Public, and https://help.aliyun.com/document_detail/53438.html:
 * InvalidAccessKeyId.NotFound/.Inactive, InvalidSecurityToken.Expired/.MismatchWithAccessKey/.Malformed,
 * MissingSecurityToken, SignatureDoesNotMatch, IncompleteSignature, InvalidSignatureMethod, InvalidTimeStamp.*,
 * Forbidden.AccessKeyDisabled); the common 403s of the ECS and PolarDB error tables
 * (https://help.aliyun.com/document_detail/51132.html: Forbidden.RAM, Forbidden.NotSupportRAM, ActionUnauthorized,
 * Forbidden.SubUser, Forbidden.Unauthorized); `NoPermission` with `AccessDeniedDetail`, the newer gateway's RAM denial
 * (RAM DecodeDiagnosticMessage reference; `@alicloud/openapi-client` reads `AccessDeniedDetail`); and CreateAlgoLib's
 * own InvalidOssBucket.*, InvalidOssEndpoint.NotFound, InvalidInstanceId.NotFound, which name deployment settings.
 */
const DEPLOYMENT_FAULTS: ReadonlyArray<[RegExp, (action: string) => string]> = [
  [
    /^(Forbidden\.RAM|Forbidden\.NotSupportRAM|Forbidden\.SubUser|Forbidden\.Unauthorized|Forbidden|NoPermission|ActionUnauthorized)$/,
    (action) => `the function's role needs cityvisual:${action}`,
  ],
  [
    /^(InvalidAccessKeyId(\..+)?|Forbidden\.AccessKeyDisabled)$/,
    () => "the function's AccessKey is unknown or disabled: check the function's role",
  ],
  [
    /^(InvalidSecurityToken(\..+)?|MissingSecurityToken)$/,
    () => "the STS token of the function's role is missing, expired or not the AccessKey's: check the function's role",
  ],
  [
    /^(SignatureDoesNotMatch|IncompleteSignature|InvalidSignatureMethod)$/,
    () => "the request's signature was refused: the AccessKey secret does not belong to the AccessKey ID",
  ],
  [/^InvalidTimeStamp\..+$/, () => "the function's clock is more than 15 minutes off the gateway's"],
  [
    /^InvalidOssBucket\.(ValueUnauthorized|NotFound)$/,
    () => 'the CityVisual read key cannot read the package bucket: check deploy/ram/cityvisual-read-key-policy.json',
  ],
  [/^InvalidOssEndpoint\.NotFound$/, () => 'the OSS endpoint handed to CityVisual is wrong: check OssEndpoint'],
  [
    /^Invalid(InstanceId|RegionId)\.NotFound$/,
    () => 'check the CityVisualInstanceId and CityVisualRegionId parameters',
  ],
];

/**
 * What to fix when `code` says the deployment is at fault, or `undefined` when the code may be the package's.
 *
 * @example
 * ```ts
 * deploymentFault('Forbidden.RAM', 'CreateAlgoLib'); // "the function's role needs cityvisual:CreateAlgoLib"
 * deploymentFault('InvalidName.Duplicate', 'CreateAlgoLib'); // undefined
 * ```
 */
export const deploymentFault = (code: string, action: string): string | undefined =>
  DEPLOYMENT_FAULTS.find(([pattern]) => pattern.test(code))?.[1](action);

/**
 * The gateway echoes its string to sign in a SignatureDoesNotMatch message (`… server string to sign is:POST&%2F&…`),
 * and for a POST that string holds every parameter, OssAccessKeySecret included: it never reaches our messages.
 */
const SERVER_STRING_TO_SIGN = /\s*server string to sign is:[\s\S]*$/;

/**
 * Turns anything pop-core (or Tea) throws into a `RemoteError`: API errors keep CityVisual's code; throttling, 5xx,
 * non-JSON bodies, network errors and timeouts are retryable; RAM, credential, signature and deployment-setting codes
 * are `deployment` faults (not retryable at once, never the package's fault); the rest (`Invalid*`, `*.NotFound`, …)
 * are permanent. The message never contains the request URL (pop-core appends it, and a GET's URL carries secrets)
 * nor the gateway's echoed string to sign.
 *
 * @example
 * ```ts
 * try { await client.request('CreateAlgoLib', params, opts); }
 * catch (error) { throw classifyCityVisualError(error, 'CreateAlgoLib'); }
 * ```
 */
export const classifyCityVisualError = (error: unknown, action: string): RemoteError => {
  const e = (error ?? {}) as PopCoreError;
  const status = e.entry?.response?.statusCode ?? e.data?.statusCode;
  if (e.data && typeof e.data.Code === 'string') {
    const code = e.data.Code;
    const requestId = e.data.RequestId ? ` (request id ${e.data.RequestId})` : '';
    const fix = deploymentFault(code, action);
    if (fix !== undefined) {
      return new RemoteError(
        { service: 'cityvisual', code, retryable: false, httpStatus: status, deployment: true },
        `CityVisual ${action} refused: ${code} — ${fix}${requestId}`,
        { cause: error },
      );
    }
    const retryable = RETRYABLE_CODE.test(code) || (status !== undefined && status >= 500);
    const message = (e.data.Message ?? 'no message').replace(SERVER_STRING_TO_SIGN, '');
    return new RemoteError(
      { service: 'cityvisual', code, retryable, httpStatus: status },
      `CityVisual ${action} failed: ${code}: ${message}${requestId}`,
      { cause: error },
    );
  }
  if (e.name === 'SyntaxError') {
    // json-bigint throws a plain object for a body that is not JSON (a gateway's HTML 502 page).
    return new RemoteError(
      { service: 'cityvisual', code: 'InvalidResponse', retryable: true },
      `CityVisual ${action} answered with a body that is not JSON`,
    );
  }
  if (e.name === 'RequestTimeoutError') {
    return new RemoteError(
      { service: 'cityvisual', code: 'RequestTimeout', retryable: true },
      `CityVisual ${action} timed out (the outcome is unknown)`,
      {
        cause: error,
      },
    );
  }
  const code = typeof e.code === 'string' && e.code ? e.code : (e.name ?? 'UnknownError');
  // An error we cannot place is treated as transient: a wrong REJECTED is never retried, a wrong FAILED is.
  return new RemoteError(
    { service: 'cityvisual', code, retryable: NETWORK_CODES.has(code) || !(error instanceof TypeError) },
    `CityVisual ${action} failed: ${code}`,
    { cause: error },
  );
};
