import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRpcAuthenticator, type RpcCredential, type RpcRequest } from '../../local/cityvisual/rpc-auth.ts';
import { RpcError } from '../../local/cityvisual/rpc-error.ts';
import { signRpc } from '../../local/cityvisual/rpc-signature.ts';

const NOW = Date.parse('2026-03-01T10:00:00Z');
const USER: RpcCredential = { accessKeyId: 'LTAI-user', accessKeySecret: 'user-secret' };

const hex = (text: string) => createHash('sha256').update(text).digest('hex');
const enc = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Signs a V3 request by the steps of the V3 reference (https://help.aliyun.com/document_detail/2593177.html),
 * written here independently of the emulator's code.
 */
const v3Request = (
  options: {
    body?: string;
    query?: Record<string, string>;
    secret?: string;
    algorithm?: string;
    unsigned?: string[];
    nonce?: string;
    headers?: Record<string, string>;
  } = {},
): RpcRequest => {
  const body = options.body ?? 'InstanceId=cityvisual-1&AlgoLibName=face%20detector';
  const query = options.query ?? { RegionId: 'cn-shanghai' };
  const headers: Record<string, string> = {
    host: '127.0.0.1:8080',
    'x-acs-action': 'DescribeAlgoLibs',
    'x-acs-version': '2018-10-30',
    'x-acs-date': '2026-03-01T10:00:00Z',
    'x-acs-signature-nonce': options.nonce ?? 'nonce-1',
    'x-acs-content-sha256': hex(body),
    'content-type': 'application/x-www-form-urlencoded',
    ...options.headers,
  };
  const signed = Object.keys(headers)
    .filter((name) => !(options.unsigned ?? []).includes(name))
    .sort();
  const canonical = [
    'POST',
    '/',
    Object.keys(query)
      .sort()
      .map((key) => `${enc(key)}=${enc(query[key] ?? '')}`)
      .join('&'),
    signed.map((name) => `${name}:${headers[name]}\n`).join(''),
    signed.join(';'),
    hex(body),
  ].join('\n');
  const stringToSign = `ACS3-HMAC-SHA256\n${hex(canonical)}`;
  const signature = createHmac('sha256', options.secret ?? USER.accessKeySecret)
    .update(stringToSign)
    .digest('hex');
  headers.authorization = `${options.algorithm ?? 'ACS3-HMAC-SHA256'} Credential=${USER.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${signature}`;
  return { method: 'POST', path: '/', query, params: {}, headers, body: Buffer.from(body) };
};

const codeOf = (act: () => unknown) => {
  try {
    act();
  } catch (error) {
    if (error instanceof RpcError) return { status: error.status, code: error.code, message: error.message };
    throw error;
  }
  return undefined;
};

describe('createRpcAuthenticator with signature V3 (ACS3-HMAC-SHA256)', () => {
  const authenticator = () => createRpcAuthenticator({ credentials: [USER], now: () => NOW });

  it('accepts a request signed by the steps of the reference', () => {
    // Act / Assert
    expect(authenticator().authenticate(v3Request())).toMatchObject({ accessKeyId: USER.accessKeyId });
  });

  it('recomputes the body hash itself: a body changed after signing does not match', () => {
    // Arrange
    const request = { ...v3Request(), body: Buffer.from('InstanceId=cityvisual-2') };

    // Act
    const refused = codeOf(() => authenticator().authenticate(request));

    // Assert
    expect(refused).toMatchObject({ status: 400, code: 'SignatureDoesNotMatch' });
    expect(refused?.message).toMatch(
      /^Specified signature is not matched with our calculation\. server string to sign is:ACS3-HMAC-SHA256\n[0-9a-f]{64}$/,
    );
  });

  it.each([
    ['a wrong secret', { secret: 'not-it' }, 400, 'SignatureDoesNotMatch'],
    ['an unsigned x-acs-action', { unsigned: ['x-acs-action'] }, 400, 'IncompleteSignature'],
    ['an unsigned host', { unsigned: ['host'] }, 400, 'IncompleteSignature'],
    ['another algorithm', { algorithm: 'ACS3-HMAC-SM3' }, 400, 'InvalidSignatureMethod'],
    ['an old x-acs-date', { headers: { 'x-acs-date': '2026-03-01T09:30:00Z' } }, 400, 'InvalidTimeStamp.Expired'],
  ])('refuses %s with %i %s', (_case, options, status, code) => {
    // Act / Assert
    expect(codeOf(() => authenticator().authenticate(v3Request(options)))).toMatchObject({ status, code });
  });

  it('refuses an Authorization header without a signature as IncompleteSignature', () => {
    // Arrange
    const request = v3Request();
    request.headers.authorization = `ACS3-HMAC-SHA256 Credential=${USER.accessKeyId},SignedHeaders=host`;

    // Act / Assert
    expect(codeOf(() => authenticator().authenticate(request))).toMatchObject({ code: 'IncompleteSignature' });
  });

  it('refuses a nonce used twice by the same key', () => {
    // Arrange
    const auth = authenticator();
    auth.authenticate(v3Request({ nonce: 'once' }));

    // Act / Assert
    expect(codeOf(() => auth.authenticate(v3Request({ nonce: 'once' })))).toMatchObject({ code: 'SignatureNonceUsed' });
  });

  it('wants the STS token of a temporary key in x-acs-security-token', () => {
    // Arrange
    const auth = createRpcAuthenticator({ credentials: [{ ...USER, securityToken: 'tok' }], now: () => NOW });

    // Act / Assert
    expect(codeOf(() => auth.authenticate(v3Request()))).toMatchObject({ code: 'MissingSecurityToken' });
    expect(
      codeOf(() => auth.authenticate(v3Request({ nonce: 'n2', headers: { 'x-acs-security-token': 'other' } }))),
    ).toMatchObject({ code: 'InvalidSecurityToken.MismatchWithAccessKey' });
    expect(auth.authenticate(v3Request({ nonce: 'n3', headers: { 'x-acs-security-token': 'tok' } }))).toBeDefined();
  });
});

describe('createRpcAuthenticator with signature V1 (HMAC-SHA1)', () => {
  const v1Request = (overrides: Record<string, string> = {}, secret = USER.accessKeySecret): RpcRequest => {
    const params = {
      Action: 'DescribeAlgoLibs',
      Version: '2018-10-30',
      Format: 'JSON',
      AccessKeyId: USER.accessKeyId,
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
      SignatureNonce: 'nonce-1',
      Timestamp: '2026-03-01T10:00:00Z',
      InstanceId: 'cityvisual-1',
      ...overrides,
    };
    const signed = { ...params, Signature: signRpc('POST', params, secret) };
    return { method: 'POST', path: '/', query: {}, params: signed, headers: {}, body: Buffer.alloc(0) };
  };
  const auth = () => createRpcAuthenticator({ credentials: [USER], now: () => NOW });

  it.each([
    ['HMAC-SHA256 as SignatureMethod', { SignatureMethod: 'HMAC-SHA256' }, 400, 'InvalidSignatureMethod'],
    ['2.0 as SignatureVersion', { SignatureVersion: '2.0' }, 400, 'InvalidParameter'],
    ['no SignatureNonce', { SignatureNonce: '' }, 400, 'MissingSignatureNonce'],
    ['an unknown AccessKeyId', { AccessKeyId: 'LTAI-nobody' }, 404, 'InvalidAccessKeyId.NotFound'],
  ])('refuses %s with %i %s', (_case, overrides, status, code) => {
    // Act / Assert
    expect(codeOf(() => auth().authenticate(v1Request(overrides)))).toMatchObject({ status, code });
  });

  it('ends a mismatch message with the string to sign, which holds no raw colon (the Python SDK splits on it)', () => {
    // Act
    const refused = codeOf(() => auth().authenticate(v1Request({}, 'wrong')));

    // Assert
    expect(refused).toMatchObject({ status: 400, code: 'SignatureDoesNotMatch' });
    expect(refused?.message.split(':')).toHaveLength(2);
    expect(refused?.message.split(':')[1]).toMatch(/^POST&%2F&AccessKeyId%3DLTAI-user%26Action%3DDescribeAlgoLibs%26/);
  });
});

describe('authorize', () => {
  const auth = createRpcAuthenticator({ credentials: [] });

  it.each([
    [undefined, 'CreateAlgoLib', true],
    [['cityvisual:CreateAlgoLib'], 'CreateAlgoLib', true],
    [['cityvisual:*'], 'ModifyAlgoLib', true],
    [['*'], 'ModifyAlgoLib', true],
    [['cityvisual:Describe*'], 'DescribeAlgoLibs', true],
    [['cityvisual:Describe*'], 'CreateAlgoLib', false],
    [['cityvisual:CreateAlgoLib', 'cityvisual:DescribeAlgoLibs'], 'ModifyAlgoLib', false],
    [[], 'DescribeAlgoLibs', false],
    [['oss:*'], 'DescribeAlgoLibs', false],
  ])('with actions %j lets %s through: %s', (actions, action, allowed) => {
    // Arrange
    const credential = { ...USER, ...(actions && { actions }) };

    // Act
    const refused = codeOf(() => auth.authorize(credential, action));

    // Assert
    expect(refused).toEqual(
      allowed
        ? undefined
        : {
            status: 403,
            code: 'Forbidden.RAM',
            message: "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
          },
    );
  });
});
