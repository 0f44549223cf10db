/**
 * The lean OSS client against ali-oss, on generated requests: both send to one recording server on 127.0.0.1, the
 * lean one at the time ali-oss signed, and the two requests must be the same bytes (method, path, every header in
 * order, body). Then the error fields toOssError reads, for each answer shape ali-oss turns into an error.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import OSS from 'ali-oss';
import fc from 'fast-check';
import mime from 'mime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALI_OSS_VERSION,
  contentTypeOfKey,
  createOssClient,
  type OssRequest,
  ossErrorOf,
  ossUserAgent,
} from '../../shared/oss-client.ts';
import { toOssError } from '../../shared/oss-errors.ts';
import { closedPort, type RecordedRequest as Recorded, startRecordingServer } from '../fakes/recording-server.ts';

const require = createRequire(import.meta.url);

let server: Awaited<ReturnType<typeof startRecordingServer>>;
let endpoint: string;
let recorded: Recorded[];
const answer = (next: { status: number; headers: Record<string, string>; body: string }) => server.answer(next);

beforeAll(async () => {
  server = await startRecordingServer({ status: 200 });
  endpoint = server.url;
  recorded = server.recorded;
});
afterAll(() => server.close());

/** Header names lower-cased (HTTP names are case-insensitive; urllib and node:http case them differently). */
const normalized = (request: Recorded) => ({
  ...request,
  rawHeaders: request.rawHeaders.map((value, index) => (index % 2 === 0 ? value.toLowerCase() : value)),
});

const dateOf = (request: Recorded): Date => {
  const index = request.rawHeaders.findIndex((name) => name.toLowerCase() === 'x-oss-date');
  const value = request.rawHeaders[index + 1] as string;
  const [, y, mo, d, h, mi, s] = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(value) as RegExpExecArray;
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
};

const userAgent = () =>
  (new OSS({ region: 'oss-cn-shanghai', accessKeyId: 'a', accessKeySecret: 'b' }) as unknown as { userAgent: string })
    .userAgent;

/** Keys as users name files: spaces, `+`, `%`, CJK, slashes, `.` and `..` segments, and the pipeline's own suffixes. */
const keyPart = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.constantFrom('a b', 'a+b', '100%', '人脸检测', 'face detector+v2', '%2F', 'x~y', "it's (1)*!", '.', '..', '%2e'),
);
const keyArb = fc
  .tuple(
    fc.array(keyPart, { minLength: 1, maxLength: 3 }), // The pipeline's suffixes, and others whose Content-Type comes from `mime` (the client's table does not list them).
    fc.constantFrom('.tar.gz', '.manifest.json', '.json', '.TAR.GZ', '.tgz', '.txt', '.bin', '', '.weird', '.yaml'),
  )
  .map(([parts, suffix]) => `${parts.join('/')}${suffix}`)
  .filter((key) => !key.startsWith('/') && !/[\ud800-\udfff]/.test(key));
const credentialsArb = fc.record({
  accessKeyId: fc.stringMatching(/^[A-Za-z0-9.]{4,24}$/),
  accessKeySecret: fc.stringMatching(/^[A-Za-z0-9+/=]{8,40}$/),
  securityToken: fc.option(fc.stringMatching(/^[A-Za-z0-9+/=]{20,120}$/), { nil: undefined }),
});
const bucketArb = fc.stringMatching(/^[a-z0-9][a-z0-9-]{2,20}[a-z0-9]$/);

type Operation = 'head' | 'range' | 'stream' | 'put-if-absent' | 'versioning';

/** One operation as shared/object-store.ts calls ali-oss, and the same as an OssRequest. */
const viaAliOss = async (client: OSS, operation: Operation, key: string, body: string, maxBytes: number) => {
  if (operation === 'head') await client.head(key, { timeout: 5000 });
  if (operation === 'range') await client.get(key, { headers: { Range: `bytes=0-${maxBytes}` }, timeout: 5000 });
  if (operation === 'stream') {
    const { stream } = await client.getStream(key, { timeout: 5000 });
    for await (const _ of stream as AsyncIterable<Buffer>);
  }
  if (operation === 'put-if-absent') {
    await client.put(key, Buffer.from(body), {
      headers: { 'x-oss-forbid-overwrite': 'true' },
      timeout: 5000,
      mime: 'application/json',
    } as OSS.PutObjectOptions);
  }
  if (operation === 'versioning') {
    // In ali-oss 6.23 (lib/bucket.js) but not in @types/ali-oss.
    const versioned = client as unknown as {
      getBucketVersioning(bucket: string): Promise<unknown>;
      options: { bucket: string };
    };
    await versioned.getBucketVersioning(versioned.options.bucket);
  }
};
const asRequest = (operation: Operation, bucket: string, key: string, body: string, maxBytes: number): OssRequest => {
  if (operation === 'head') return { method: 'HEAD', bucket, key, successStatuses: [200, 304] };
  if (operation === 'range') {
    return { method: 'GET', bucket, key, headers: { Range: `bytes=0-${maxBytes}` }, successStatuses: [200, 206, 304] };
  }
  if (operation === 'stream') return { method: 'GET', bucket, key, successStatuses: [200, 206, 304] };
  if (operation === 'put-if-absent') {
    return {
      method: 'PUT',
      bucket,
      key,
      headers: { 'x-oss-forbid-overwrite': 'true' },
      body: Buffer.from(body),
      mime: 'application/json',
      successStatuses: [200],
    };
  }
  return { method: 'GET', bucket, subresource: 'versioning', successStatuses: [200] };
};

describe('the OSS client sends what ali-oss sends', () => {
  it("names itself as ali-oss does (its version, then platform.js's description of Node)", async () => {
    const { version } = JSON.parse(readFileSync(require.resolve('ali-oss/package.json'), 'utf8')) as {
      version: string;
    };
    expect(ALI_OSS_VERSION).toBe(version);
    expect(ossUserAgent()).toBe(userAgent());
  });

  it("types keys as ali-oss's mime does: the client's table agrees with mime, and mime answers the rest", async () => {
    const keys = [
      'a.json',
      'a.tar.gz',
      'a.tgz',
      'a.tar',
      'a.zip',
      'a.TAR.GZ',
      'a.txt',
      'a.bin',
      'a',
      'a.weird',
      'x/.json',
    ];
    for (const key of keys) expect(await contentTypeOfKey(key)).toBe(mime.getType(extname(key)));
  });

  it('the same bytes (V4 signature included) for every operation, key, bucket and credential set', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Operation>('head', 'range', 'stream', 'put-if-absent', 'versioning'),
        bucketArb,
        keyArb,
        credentialsArb,
        fc.constantFrom('oss-cn-shanghai', 'oss-cn-hangzhou', 'cn-beijing'),
        fc.string({ maxLength: 200 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        async (operation, bucket, key, credentials, region, body, maxBytes) => {
          answer(
            operation === 'versioning'
              ? {
                  status: 200,
                  headers: { 'content-type': 'application/xml' },
                  body: '<?xml version="1.0" encoding="UTF-8"?><VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>',
                }
              : { status: 200, headers: { etag: '"E"' }, body: 'content' },
          );
          recorded.length = 0;
          const client = new OSS({
            endpoint,
            region,
            bucket,
            accessKeyId: credentials.accessKeyId,
            accessKeySecret: credentials.accessKeySecret,
            ...(credentials.securityToken
              ? { stsToken: credentials.securityToken, refreshSTSTokenInterval: Number.MAX_SAFE_INTEGER }
              : {}),
            authorizationV4: true,
            timeout: 10_000,
          });
          await viaAliOss(client, operation, key, body, maxBytes);
          const sdk = recorded[0] as Recorded;
          const lean = createOssClient({
            endpoint,
            region,
            timeoutMs: 10_000,
            credentials: () => credentials,
            now: () => dateOf(sdk),
          });
          try {
            const response = await lean.send(asRequest(operation, bucket, key, body, maxBytes), {
              stream: operation === 'stream',
            });
            if (response.stream) for await (const _ of response.stream);
          } finally {
            lean.close();
          }
          expect(normalized(recorded[1] as Recorded)).toEqual(normalized(sdk));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('the OSS client fails as ali-oss does', () => {
  const xml = (code: string, extra = '') =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>m &amp; n</Message><RequestId>RID</RequestId>${extra}</Error>`;
  const shapes: Array<{
    name: string;
    status: number;
    headers: Record<string, string>;
    body: string;
    method: 'GET' | 'HEAD' | 'PUT';
  }> = [
    { name: 'a 404 HEAD (no body)', status: 404, headers: {}, body: '', method: 'HEAD' },
    { name: 'a 404 GET with NoSuchKey', status: 404, headers: {}, body: xml('NoSuchKey'), method: 'GET' },
    { name: 'a 409 FileAlreadyExists', status: 409, headers: {}, body: xml('FileAlreadyExists'), method: 'PUT' },
    {
      name: 'a 403 SignatureDoesNotMatch',
      status: 403,
      headers: {},
      body: xml('SignatureDoesNotMatch'),
      method: 'GET',
    },
    { name: 'a 412 HEAD (no body)', status: 412, headers: {}, body: '', method: 'HEAD' },
    { name: 'a 503 ServiceUnavailable', status: 503, headers: {}, body: xml('ServiceUnavailable'), method: 'PUT' },
    { name: 'a 500 without a body', status: 500, headers: {}, body: '', method: 'HEAD' },
    {
      name: 'a 403 HEAD with x-oss-err',
      status: 403,
      headers: { 'x-oss-err': Buffer.from(xml('AccessDenied')).toString('base64') },
      body: '',
      method: 'HEAD',
    },
    {
      name: 'a 429 with a condition',
      status: 429,
      headers: {},
      body: xml('Throttling', '<Condition>c</Condition>'),
      method: 'GET',
    },
  ];
  for (const shape of shapes) {
    it(`classifies ${shape.name} the same`, async () => {
      answer({ status: shape.status, headers: { 'x-oss-request-id': 'RID', ...shape.headers }, body: shape.body });
      const client = new OSS({
        endpoint,
        region: 'oss-cn-shanghai',
        bucket: 'bkt',
        accessKeyId: 'a',
        accessKeySecret: 's',
        authorizationV4: true,
      });
      const sdkError = await (shape.method === 'HEAD'
        ? client.head('k.json')
        : shape.method === 'PUT'
          ? client.put('k.json', Buffer.from('{}'))
          : client.get('k.json')
      ).then(
        () => undefined,
        (error: unknown) => error,
      );
      const leanError = ossErrorOf(
        shape.status,
        { 'x-oss-request-id': 'RID', ...shape.headers },
        Buffer.from(shape.method === 'HEAD' ? '' : shape.body),
      );
      const fields = (error: unknown) => {
        const e = error as { name?: string; code?: string; status?: number; requestId?: string };
        return { name: e.name, code: e.code, status: e.status, requestId: e.requestId };
      };
      expect(fields(leanError)).toEqual(fields(sdkError));
      const classified = (error: unknown) => {
        const { service, code, retryable, httpStatus, deployment, message } = toOssError(error, 'GetObject', 'k.json');
        return { service, code, retryable, httpStatus, deployment, message };
      };
      expect(classified(leanError)).toEqual(classified(sdkError));
    });
  }

  it('names a refused connection as ali-oss does (RequestError, status -1)', async () => {
    const url = await closedPort();
    const sdk = new OSS({
      endpoint: url,
      region: 'oss-cn-shanghai',
      bucket: 'bkt',
      accessKeyId: 'a',
      accessKeySecret: 's',
      authorizationV4: true,
    });
    const sdkError = await sdk.head('k.json').then(
      () => undefined,
      (error: unknown) => error,
    );
    const lean = createOssClient({
      endpoint: url,
      region: 'oss-cn-shanghai',
      timeoutMs: 5000,
      credentials: () => ({ accessKeyId: 'a', accessKeySecret: 's' }),
    });
    const leanError = await lean
      .send({ method: 'HEAD', bucket: 'bkt', key: 'k.json', successStatuses: [200, 304] })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    lean.close();
    const classified = (error: unknown) => {
      const { service, code, retryable, httpStatus, deployment, message } = toOssError(error, 'HeadObject', 'k.json');
      return { service, code, retryable, httpStatus, deployment, message };
    };
    expect(classified(leanError)).toEqual(classified(sdkError));
  });
});
