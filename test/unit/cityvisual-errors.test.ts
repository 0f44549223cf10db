import { describe, expect, it } from 'vitest';
import { parseAlgoLibItem } from '../../shared/cityvisual.ts';
import { classifyCityVisualError, deploymentFault } from '../../shared/cityvisual-errors.ts';
import { RemoteError } from '../../shared/errors.ts';

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
    ['InvalidName.Malformed', 400, false],
    ['InvalidAlgoLibId.NotFound', 404, false],
  ])('classifies API error %s (HTTP %i) as retryable=%s', (code, status, retryable) => {
    // Act
    const error = classifyCityVisualError(apiError(code, status), 'CreateAlgoLib');

    // Assert
    expect(error).toMatchObject({ service: 'cityvisual', code, retryable, httpStatus: status, deployment: false });
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
  it.each([
    ['Forbidden.RAM', 403, "the function's role needs cityvisual:CreateAlgoLib"],
    ['NoPermission', 403, "the function's role needs cityvisual:CreateAlgoLib"],
    ['Forbidden.NotSupportRAM', 403, "the function's role needs cityvisual:CreateAlgoLib"],
    ['ActionUnauthorized', 403, "the function's role needs cityvisual:CreateAlgoLib"],
    ['InvalidAccessKeyId.NotFound', 404, 'AccessKey is unknown or disabled'],
    ['InvalidAccessKeyId.Inactive', 400, 'AccessKey is unknown or disabled'],
    ['Forbidden.AccessKeyDisabled', 403, 'AccessKey is unknown or disabled'],
    ['InvalidSecurityToken.Expired', 400, 'STS token'],
    ['InvalidSecurityToken.MismatchWithAccessKey', 400, 'STS token'],
    ['InvalidSecurityToken.Malformed', 400, 'STS token'],
    ['MissingSecurityToken', 400, 'STS token'],
    ['SignatureDoesNotMatch', 400, 'secret does not belong'],
    ['IncompleteSignature', 400, 'secret does not belong'],
    ['InvalidSignatureMethod', 400, 'secret does not belong'],
    ['InvalidTimeStamp.Expired', 400, 'clock'],
    ['InvalidOssBucket.ValueUnauthorized', 403, 'cityvisual-read-key-policy.json'],
    ['InvalidOssBucket.NotFound', 404, 'read key'],
    ['InvalidOssEndpoint.NotFound', 404, 'OssEndpoint'],
    ['InvalidInstanceId.NotFound', 404, 'CityVisualInstanceId'],
  ])(
    'classifies %s (HTTP %i) as a fault of the deployment, naming the refused action and the fix',
    (code, status, fix) => {
      // Act
      const error = classifyCityVisualError(apiError(code, status), 'CreateAlgoLib');

      // Assert
      expect(error).toMatchObject({
        service: 'cityvisual',
        code,
        retryable: false,
        deployment: true,
        httpStatus: status,
      });
      expect(error.message).toMatch(new RegExp(`^CityVisual CreateAlgoLib refused: ${code.replace('.', '\\.')} — `));
      expect(error.message).toContain(fix);
      expect(error.message).toContain('REQ-1');
      expect(error.message).not.toContain('canary');
    },
  );

  it('names the action that was refused', () => {
    // Act
    const error = classifyCityVisualError(apiError('Forbidden.RAM', 403), 'ModifyAlgoLib');

    // Assert
    expect(error.message).toBe(
      "CityVisual ModifyAlgoLib refused: Forbidden.RAM — the function's role needs cityvisual:ModifyAlgoLib (request id REQ-1)",
    );
  });

  it('reads the status of a Tea (@alicloud/openapi-client) error from its data', () => {
    // Arrange: Tea puts the HTTP status into `data.statusCode` and has no `entry`.
    const tea = { code: 'Forbidden.RAM', data: { Code: 'Forbidden.RAM', Message: 'm', statusCode: 403 } };

    // Act / Assert
    expect(classifyCityVisualError(tea, 'DescribeAlgoLibs')).toMatchObject({ httpStatus: 403, deployment: true });
  });

  it('never repeats the string to sign that the gateway echoes (it holds every parameter)', () => {
    // Arrange
    const echoed = {
      ...apiError('InvalidParameter', 400),
      data: {
        Code: 'InvalidParameter',
        Message: 'Specified parameter is invalid. server string to sign is:POST&%2F&OssAccessKeySecret%3Dcanary',
      },
    };
    const signature = {
      ...apiError('SignatureDoesNotMatch', 400),
      data: {
        Code: 'SignatureDoesNotMatch',
        Message:
          'Specified signature is not matched with our calculation. server string to sign is:POST&%2F&OssAccessKeySecret%3Dcanary',
      },
    };

    // Act
    const messages = [echoed, signature].map((error) => classifyCityVisualError(error, 'CreateAlgoLib').message);

    // Assert
    expect(messages[0]).toBe('CityVisual CreateAlgoLib failed: InvalidParameter: Specified parameter is invalid.');
    for (const message of messages) expect(message).not.toContain('canary');
  });
});

describe('deploymentFault', () => {
  it.each(['InvalidName.Duplicate', 'InvalidCapacity.ValueNotSupported', 'InvalidName.Malformed', 'Throttling.User'])(
    'leaves %s to the package or to a retry',
    (code) => {
      // Act / Assert
      expect(deploymentFault(code, 'CreateAlgoLib')).toBeUndefined();
    },
  );
});

describe('parseAlgoLibItem', () => {
  const item = {
    AlgoLibId: 36,
    AlgoLibName: 'face',
    AlgoLibVersion: '1.0.0',
    OssBucket: 'packages',
    OssPath: 'library/face-1.0.0.tar.gz',
  };

  it('reads a DescribeAlgoLibs item, the id as a string whatever its JSON type', () => {
    // Act / Assert
    expect(parseAlgoLibItem(item)).toEqual({
      algoLibId: '36',
      name: 'face',
      version: '1.0.0',
      location: { bucket: 'packages', path: 'library/face-1.0.0.tar.gz' },
      fields: {},
    });
    expect(parseAlgoLibItem({ ...item, AlgoLibId: '37' }).algoLibId).toBe('37');
  });

  it.each([
    ['without AlgoLibId (as in the reference example)', { ...item, AlgoLibId: undefined }],
    ['with a null AlgoLibId', { ...item, AlgoLibId: null }],
    ['with an empty AlgoLibId', { ...item, AlgoLibId: '' }],
    ['with an object for AlgoLibId', { ...item, AlgoLibId: { id: 1 } }],
    ['without AlgoLibName', { ...item, AlgoLibName: undefined }],
  ])('refuses an item %s as a retryable InvalidResponse, never the id "undefined"', (_case, bad) => {
    // Act
    let thrown: unknown;
    try {
      parseAlgoLibItem(bad);
    } catch (error) {
      thrown = error;
    }

    // Assert
    expect(thrown).toBeInstanceOf(RemoteError);
    expect(thrown).toMatchObject({ service: 'cityvisual', code: 'InvalidResponse', retryable: true });
  });
});
