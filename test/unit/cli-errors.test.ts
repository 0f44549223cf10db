import { describe, expect, it } from 'vitest';
import {
  CliError,
  explainFileError,
  explainRemoteError,
  type RemoteContext,
  redact,
  rememberSecret,
} from '../../cli/errors.ts';

const context: RemoteContext = {
  service: 'OSS',
  endpoint: 'https://oss-cn-shanghai.aliyuncs.com',
  bucket: 'my-algolibs',
  credentialsFrom: 'ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET',
  endpointFix: 'check --endpoint and --region',
  bucketFix: 'check --bucket and --region',
};

/** Errors shaped as ali-oss and fc2 throw them. */
const sdkError = (fields: Record<string, unknown>) =>
  Object.assign(new Error(String(fields.message ?? 'failed')), fields);

describe('explainRemoteError', () => {
  it.each([
    [
      'a refused connection (ali-oss keeps the code in the message)',
      sdkError({
        name: 'RequestError',
        code: 'RequestError',
        status: -1,
        message: 'connect ECONNREFUSED 127.0.0.1:1, PUT http://127.0.0.1:1/a -1',
      }),
      'OSS at https://oss-cn-shanghai.aliyuncs.com refused the connection (ECONNREFUSED): check --endpoint and --region',
    ],
    [
      'an unknown host',
      sdkError({ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND nowhere' }),
      'Cannot resolve the host of OSS at https://oss-cn-shanghai.aliyuncs.com (ENOTFOUND): check --endpoint and --region',
    ],
    [
      'a wrong secret',
      sdkError({ name: 'SignatureDoesNotMatchError', code: 'SignatureDoesNotMatch', status: 403 }),
      'OSS refused the request (403 SignatureDoesNotMatch): the AccessKey secret does not belong to the AccessKey ID: check ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    ],
    [
      'an unknown AccessKey ID',
      sdkError({ code: 'InvalidAccessKeyId', status: 403 }),
      'OSS refused the request (403 InvalidAccessKeyId): the AccessKey ID is unknown: check ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    ],
    [
      'a key without permission',
      sdkError({ code: 'AccessDenied', status: 403 }),
      'OSS refused the request (403 AccessDenied): the credentials from ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET may not do this in bucket my-algolibs: check the RAM policy of the key (or role)',
    ],
    [
      'a missing bucket',
      sdkError({ code: 'NoSuchBucket', status: 404 }),
      'Bucket my-algolibs does not exist at https://oss-cn-shanghai.aliyuncs.com (NoSuchBucket): check --bucket and --region',
    ],
  ])('explains %s in one line', (_case, error, line) => {
    const explained = explainRemoteError(error, context);

    expect(explained).toBeInstanceOf(CliError);
    expect(explained?.message).toBe(line);
    expect(explained?.exitCode).toBe(2);
    expect(explained?.cause).toBe(error);
  });

  it('reads the code of an fc2 error', () => {
    const error = sdkError({
      name: 'FCSignatureNotMatchError',
      code: 'SignatureNotMatch',
      message: 'POST /services/a failed with 403',
    });

    expect(explainRemoteError(error, { ...context, service: 'Function Compute' })?.message).toBe(
      'Function Compute refused the request (403 SignatureNotMatch): the AccessKey secret does not belong to the AccessKey ID: check ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET',
    );
  });

  it('leaves errors it does not know to the caller', () => {
    expect(explainRemoteError(sdkError({ code: 'InternalError', status: 500 }), context)).toBeUndefined();
  });
});

describe('explainFileError', () => {
  it('names the file and the fix for a missing file', () => {
    const error = explainFileError(
      Object.assign(new Error('ENOENT'), { code: 'ENOENT' }),
      'dist/a-1.0.0.tar.gz',
      'package file',
    );

    expect(error.message).toMatch(
      /^Cannot read the package file dist\/a-1\.0\.0\.tar\.gz: it does not exist \(check the path; it is relative to .+\)$/,
    );
  });
});

describe('redact', () => {
  it('masks remembered secrets and secret-looking parameters', () => {
    rememberSecret('s3cr3t-value');

    expect(redact('failed with s3cr3t-value and AccessKeySecret=abc&x=1')).toBe(
      'failed with *** and AccessKeySecret=***&x=1',
    );
  });
});
