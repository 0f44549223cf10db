/**
 * How an OSS client's error becomes a `RemoteError` that says whether a retry can help, and what to fix when the
 * deployment is at fault. Reads the fields ali-oss's `requestError` sets (`name`, `code`, `status`, `requestId`), which
 * shared/oss-client.ts sets alike; imports no client, so either can use it without loading the other.
 */
import { RemoteError } from './errors.ts';

export type OssErrorFields = { name?: string; code?: string; status?: number; message?: string; requestId?: string };

const RETRYABLE_OSS_CODES = new Set([
  'RequestError',
  'ResponseTimeoutError',
  'ConnectionTimeoutError',
  'ServiceUnavailable',
  'InternalError',
]);

/**
 * Codes by which OSS refuses the caller's credentials rather than its request; they come with 403, and any other 403
 * (AccessDenied and its kind) is a permission refusal as well. Source: "How to troubleshoot 403 status codes",
 * https://www.alibabacloud.com/help/en/oss/how-to-troubleshoot-403-status-code-when-you-access-oss, and the error
 * center's 0002-* entries (e.g. https://help.aliyun.com/en/oss/user-guide/0002-00000008).
 */
const CREDENTIAL_OSS_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidSecurityToken',
  'AccessKeyIdAndSecurityTokenNotMatch',
  'SecurityTokenExpired',
]);

/** The RAM action an operation needs (https://www.alibabacloud.com/help/en/oss/user-guide/ram-policy-overview). */
const RAM_ACTIONS: Record<string, string> = {
  HeadObject: 'oss:GetObject',
  GetObject: 'oss:GetObject',
  PutObject: 'oss:PutObject',
  GetBucketVersioning: 'oss:GetBucketVersioning',
};

const deploymentFix = (code: string, operation: string) =>
  CREDENTIAL_OSS_CODES.has(code)
    ? "the function's credentials were refused (check the service role FC runs it with)"
    : `the function's role needs ${RAM_ACTIONS[operation] ?? `the permission for ${operation}`}`;

/**
 * Wraps an ali-oss error. Network errors (status -1/-2), timeouts, 429 and 5xx are retryable. A refusal of the
 * caller (403, or a credential code) is a fault of the deployment, not of the package: `deployment: true`, not
 * retryable at once, and a message that names the refused operation and the permission to grant (never a secret).
 *
 * @example
 * ```ts
 * toOssError({ status: 403, code: 'AccessDenied' }, 'PutObject', 'status/a.json').message;
 * // "OSS PutObject status/a.json refused: AccessDenied (HTTP 403) — the function's role needs oss:PutObject"
 * ```
 */
export const toOssError = (error: unknown, operation: string, key: string): RemoteError => {
  const e = (error ?? {}) as OssErrorFields;
  const code = e.code || e.name || 'UnknownError';
  const status = typeof e.status === 'number' ? e.status : undefined;
  const detail = e.requestId ? `, request id ${e.requestId}` : '';
  const httpStatus = status && status > 0 ? ` (HTTP ${status}${detail})` : detail ? ` (${detail.slice(2)})` : '';
  if (status === 403 || CREDENTIAL_OSS_CODES.has(code)) {
    return new RemoteError(
      { service: 'oss', code, retryable: false, httpStatus: status, deployment: true },
      `OSS ${operation} ${key} refused: ${code}${httpStatus} — ${deploymentFix(code, operation)}`,
      { cause: error },
    );
  }
  const retryable =
    RETRYABLE_OSS_CODES.has(code) || status === undefined || status < 0 || status >= 500 || status === 429;
  return new RemoteError(
    { service: 'oss', code, retryable, httpStatus: status },
    `OSS ${operation} ${key} failed: ${code}${httpStatus}`,
    { cause: error },
  );
};

/** Whether an OSS client's error says the object is not there (HTTP 404, with a body or without). */
export const isNotFound = (error: unknown): boolean => (error as OssErrorFields | undefined)?.status === 404;

/**
 * Runs one OSS operation of a store adapter; whatever it throws leaves as `toOssError`'s `RemoteError`.
 *
 * @example
 * ```ts
 * await withOssErrors('HeadObject', key, () => client.head(key));
 * ```
 */
export const withOssErrors = async <T>(operation: string, key: string, run: () => Promise<T>): Promise<T> => {
  try {
    return await run();
  } catch (error) {
    throw toOssError(error, operation, key);
  }
};
