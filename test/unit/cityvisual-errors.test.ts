import { describe, expect, it } from 'vitest';
import { classifyCityVisualError } from '../../shared/cityvisual.ts';

const apiError = (code: string, status: number) => ({
  name: `${code}Error`,
  code,
  message: `message, URL: http://127.0.0.1/?OssAccessKeySecret=canary`,
  data: { Code: code, Message: 'The message.', RequestId: 'REQ-1' },
  entry: { response: { statusCode: status } },
});

describe('classifyCityVisualError', () => {
  it.each([
    ['Throttling.User', 400, true],
    ['Throttling', 429, true],
    ['ServiceUnavailable', 503, true],
    ['InternalError', 500, true],
    ['SomethingNew', 502, true],
    ['InvalidName.Duplicate', 400, false],
    ['InvalidCapacity.ValueNotSupported', 400, false],
    ['InvalidOssBucket.NotFound', 404, false],
    ['InvalidOssBucket.ValueUnauthorized', 403, false],
    ['InvalidName.Malformed', 400, false],
    ['InvalidAccessKeyId.NotFound', 404, false],
    ['SignatureDoesNotMatch', 400, false],
  ])('classifies API error %s (HTTP %i) as retryable=%s', (code, status, retryable) => {
    // Act
    const error = classifyCityVisualError(apiError(code, status), 'CreateAlgoLib');

    // Assert
    expect(error).toMatchObject({ service: 'cityvisual', code, retryable, httpStatus: status });
    expect(error.message).not.toContain('canary');
    expect(error.message).not.toContain('URL');
  });

  it.each([
    ['a non-JSON body', { name: 'SyntaxError', message: 'Unexpected <', text: '<html>' }, 'InvalidResponse'],
    [
      'a timeout',
      Object.assign(new Error('ReadTimeout(3000). POST http://x/ failed.'), { name: 'RequestTimeoutError' }),
      'RequestTimeout',
    ],
    ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'ECONNRESET'],
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      'ECONNREFUSED',
    ],
  ])('treats %s as retryable', (_case, thrown, code) => {
    // Act
    const error = classifyCityVisualError(thrown, 'CreateAlgoLib');

    // Assert
    expect(error).toMatchObject({ code, retryable: true });
  });

  it('treats a TypeError (a bug on our side) as permanent', () => {
    // Act / Assert
    expect(classifyCityVisualError(new TypeError('x is undefined'), 'CreateAlgoLib').retryable).toBe(false);
  });
});
