/** toOssError: how an ali-oss error becomes a RemoteError — transient, permanent, or a fault of the deployment. */
import { describe, expect, it } from 'vitest';
import { toOssError } from '../../shared/oss-errors.ts';

describe('toOssError', () => {
  it.each([
    ['AccessDenied', 403, 'PutObject', "the function's role needs oss:PutObject"],
    ['AccessDenied', 403, 'HeadObject', "the function's role needs oss:GetObject"],
    ['AccessDenied', 403, 'GetBucketVersioning', "the function's role needs oss:GetBucketVersioning"],
    [
      'InvalidAccessKeyId',
      403,
      'GetObject',
      "the function's credentials were refused (check the service role FC runs it with)",
    ],
    [
      'SignatureDoesNotMatch',
      403,
      'PutObject',
      "the function's credentials were refused (check the service role FC runs it with)",
    ],
    [
      'InvalidSecurityToken',
      403,
      'PutObject',
      "the function's credentials were refused (check the service role FC runs it with)",
    ],
    [
      'AccessKeyIdAndSecurityTokenNotMatch',
      403,
      'GetObject',
      "the function's credentials were refused (check the service role FC runs it with)",
    ],
    [
      'SecurityTokenExpired',
      400,
      'GetObject',
      "the function's credentials were refused (check the service role FC runs it with)",
    ],
  ])('makes %s (HTTP %i) on %s a fault of the deployment, not retried at once', (code, status, operation, fix) => {
    // Act
    const error = toOssError({ code, status, requestId: 'REQ1', message: 'secret-ish text' }, operation, 'status/a');

    // Assert
    expect(error).toMatchObject({ service: 'oss', code, deployment: true, retryable: false, httpStatus: status });
    expect(error.message).toBe(`OSS ${operation} status/a refused: ${code} (HTTP ${status}, request id REQ1) — ${fix}`);
  });

  it.each([
    ['ServiceUnavailable', 503, true],
    ['InternalError', 500, true],
    ['RequestError', -1, true],
    ['ResponseTimeoutError', -2, true],
    ['Throttling', 429, true],
    ['InvalidArgument', 400, false],
    ['NoSuchBucket', 404, false],
  ])('keeps %s (HTTP %i) a failure of the request: retryable %s, not the deployment', (code, status, retryable) => {
    // Act
    const error = toOssError({ code, status }, 'GetObject', 'library/p.tar.gz');

    // Assert
    expect(error).toMatchObject({ code, retryable, deployment: false });
    expect(error.message).toMatch(/^OSS GetObject library\/p\.tar\.gz failed: /);
  });

  it('never repeats the SDK message, which may quote what was signed', () => {
    // Act
    const error = toOssError(
      { code: 'SignatureDoesNotMatch', status: 403, message: 'StringToSign: PUT\n\nx-oss-security-token:tok' },
      'PutObject',
      'status/a',
    );

    // Assert
    expect(error.message).not.toContain('tok');
    expect(error.message).not.toContain('StringToSign');
  });
});
