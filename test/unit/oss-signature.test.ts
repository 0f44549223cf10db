import { describe, expect, it } from 'vitest';
import type { OssCredential } from '../../local/oss/credentials.ts';
import { authenticate, type SignedRequest } from '../../local/oss/signature.ts';

// Test vectors published with the official Go SDK v2 (oss/signer/signer_test.go): an independent implementation of
// the signatures that real OSS verifies, so the emulator does not merely agree with ali-oss.
const V4_QUERY = '%2Bparam1=value3&%2Bparam2=&param1=value1&param2=&%7Cparam1=value4&%7Cparam2=';
const V4_HEADERS = {
  'x-oss-head1': 'value',
  abc: 'value',
  zabc: 'value',
  xyz: 'value',
  'content-type': 'text/plain',
  'x-oss-content-sha256': 'UNSIGNED-PAYLOAD',
};

const LONG_TERM: OssCredential = { accessKeyId: 'ak', accessKeySecret: 'sk' };
const STS: OssCredential = { accessKeyId: 'ak', accessKeySecret: 'sk', securityToken: 'token' };

const verify = (request: SignedRequest, credential: OssCredential, now: string, region = 'cn-hangzhou') =>
  authenticate(request, {
    findCredential: (id) => (id === credential.accessKeyId ? credential : undefined),
    region,
    now: Date.parse(now),
  });

const v1Request = (rawQuery: string, signature: string): SignedRequest => ({
  method: 'PUT',
  bucket: 'examplebucket',
  key: 'nelson',
  rawQuery,
  headers: {
    'content-md5': 'eB5eJF1ptWaXm4bijSPyxw==',
    'content-type': 'text/html',
    'x-oss-meta-author': 'alice',
    'x-oss-meta-magic': 'abracadabra',
    'x-oss-date': 'Wed, 28 Dec 2022 10:27:41 GMT',
    authorization: `OSS ak:${signature}`,
  },
});

const v4Request = (
  timestamp: string,
  authorization: string,
  extraHeaders: Record<string, string> = {},
): SignedRequest => ({
  method: 'PUT',
  bucket: 'bucket',
  key: '1234+-/123/1.txt',
  rawQuery: V4_QUERY,
  headers: { ...V4_HEADERS, ...extraHeaders, 'x-oss-date': timestamp, authorization },
});

describe('OSS signature verification', () => {
  it.each([
    ['an object', '', 'kSHKmLxlyEAKtZPkJhG9bZb5k7M='],
    ['a sub-resource', 'acl', '/afkugFbmWDQ967j1vr6zygBLQk='],
  ])('accepts the Go SDK V1 vector for %s', (_, rawQuery, signature) => {
    // Arrange
    const request = v1Request(rawQuery, signature);

    // Act
    const credential = verify(request, LONG_TERM, '2022-12-28T10:27:41Z');

    // Assert
    expect(credential).toBe(LONG_TERM);
  });

  it.each([
    [
      'a long-term key',
      LONG_TERM,
      '20231216T162057Z',
      'OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe',
      {},
    ],
    [
      'an STS token',
      STS,
      '20231217T034736Z',
      'OSS4-HMAC-SHA256 Credential=ak/20231217/cn-hangzhou/oss/aliyun_v4_request,Signature=b94a3f999cf85bcdc00d332fbd3734ba03e48382c36fa4d5af5df817395bd9ea',
      { 'x-oss-security-token': 'token' },
    ],
    [
      'additional headers',
      LONG_TERM,
      '20231216T172512Z',
      'OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=abc;zabc,Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f',
      {},
    ],
  ])('accepts the Go SDK V4 vector with %s', (_, credential, timestamp, authorization, extraHeaders) => {
    // Arrange
    const request = v4Request(timestamp, authorization, extraHeaders);
    const now = timestamp.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z');

    // Act
    const verified = verify(request, credential, now);

    // Assert
    expect(verified).toBe(credential);
  });

  it('explains a mismatch with the string it signed', () => {
    // Arrange
    const request = v1Request('', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=');

    // Act
    const failure = () => verify(request, LONG_TERM, '2022-12-28T10:27:41Z');

    // Assert
    expect(failure).toThrow(
      expect.objectContaining({
        status: 403,
        code: 'SignatureDoesNotMatch',
        details: expect.objectContaining({
          fields: expect.objectContaining({
            StringToSign:
              'PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\nx-oss-meta-magic:abracadabra\n/examplebucket/nelson',
          }),
        }),
      }),
    );
  });

  it('refuses a request signed more than 15 minutes ago', () => {
    // Arrange
    const request = v1Request('', 'kSHKmLxlyEAKtZPkJhG9bZb5k7M=');

    // Act
    const failure = () => verify(request, LONG_TERM, '2022-12-28T10:42:42Z');

    // Assert
    expect(failure).toThrow(expect.objectContaining({ status: 403, code: 'RequestTimeTooSkewed' }));
  });

  it('refuses a V4 scope naming another region', () => {
    // Arrange
    const request = v4Request(
      '20231216T162057Z',
      'OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe',
    );

    // Act
    const failure = () => verify(request, LONG_TERM, '2023-12-16T16:20:57Z', 'cn-shanghai');

    // Assert
    expect(failure).toThrow(
      expect.objectContaining({
        code: 'AccessDenied',
        message: 'Invalid signing region in Authorization header: expected cn-shanghai, got cn-hangzhou.',
      }),
    );
  });
});
