/**
 * A lean OSS client for the register function: the five requests it makes (ranged GET, HEAD, conditional PUT,
 * streamed GET, GetBucketVersioning), signed with OSS's V4 signature and sent with node:http(s), built to send what
 * `ali-oss` 6.23 sends for the same calls (the same headers, the same V4 signature: test/unit/oss-lean.test.ts
 * compares the two on generated requests) and to fail with the fields `toOssError` classifies (`name`, `code`,
 * `status`, `requestId`, as ali-oss's `requestError` sets them).
 *
 * Not shipped: measured in the bench as the cold-start alternative to ali-oss (docs/bench.md, "Cold start"); see the
 * report there for what is proven and what is not.
 *
 * Sources: ali-oss lib/common/utils/createRequest.js (headers), lib/common/signUtils.js (authorizationV4,
 * getCanonicalRequest), lib/common/client/getReqUrl.js (the URL), lib/client.js (requestError).
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { extname } from 'node:path';
import { updateCrc64 } from '../../shared/crc64.ts';
import type { Credentials } from '../../shared/credentials.ts';
import type { CallLimits, ObjectStore } from '../../shared/object-store.ts';

export type OssRequest = {
  method: 'GET' | 'HEAD' | 'PUT';
  bucket: string;
  /** The object's key; absent for a bucket request (GetBucketVersioning). */
  key?: string;
  /** Sub-resources without a value (`versioning`), as ali-oss's `subres`. */
  subresource?: string;
  /** Extra request headers, in the order the caller gives them (ali-oss copies them after its own). */
  headers?: Record<string, string>;
  body?: Buffer;
  /** ali-oss's `mime` option: a content type, used when no Content-Type header is given. */
  mime?: string;
};

export type OssSigningContext = {
  credentials: Credentials;
  /** `oss-cn-shanghai` or `cn-shanghai`: the signing region is the standard one (without `oss-`). */
  region: string;
  /** The request time as ali-oss formats it for V4: `yyyymmddTHHMMSSZ`. */
  date: string;
  /** Whether the endpoint's host is an IP address: ali-oss then names the bucket in the Host header. */
  ipEndpoint: boolean;
  userAgent: string;
};

/** The content types ali-oss's `mime.getType` gives the extensions the pipeline writes and reads. */
const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.gz': 'application/gzip',
  '.tgz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.txt': 'text/plain',
  '.xml': 'application/xml',
  '.zip': 'application/zip',
  '.yml': 'text/yaml',
  '.yaml': 'text/yaml',
};

/**
 * The Content-Type ali-oss derives from a key's extension (`mime.getType(path.extname(key))`) for the extensions in
 * `CONTENT_TYPES`; `null` when the key has no extension; `undefined` for any other extension (ask `mime`).
 */
export const contentTypeOfKey = (key: string): string | null | undefined => {
  const extension = extname(key).toLowerCase();
  if (extension === '') return null;
  return CONTENT_TYPES[extension];
};

/** RFC 3986 encoding as ali-oss's encodeString (encodeURIComponent plus `!'()*`). */
const encodeString = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** V4 signing key for a secret, day and region (four HMACs), kept per (secret, day, region). */
const signingKeys = new Map<string, Buffer>();
const signingKey = (secret: string, day: string, region: string): Buffer => {
  const id = `${day}\n${region}\n${secret}`;
  const known = signingKeys.get(id);
  if (known) return known;
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const key = hmac(hmac(hmac(hmac(`aliyun_v4${secret}`, day), region), 'oss'), 'aliyun_v4_request');
  if (signingKeys.size > 16) signingKeys.clear();
  signingKeys.set(id, key);
  return key;
};

/** `yyyymmddTHHMMSSZ`, the x-oss-date of a V4 request. */
export const ossV4Date = (at: Date): string => `${at.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;

/**
 * The headers of a request, in ali-oss's order, with its V4 `authorization`; `contentType` is what ali-oss's `mime`
 * would give when the caller sets none (see `contentTypeOfKey`).
 *
 * @example
 * ```ts
 * const headers = signedOssHeaders({ method: 'HEAD', bucket: 'b', key: 'library/a.tar.gz' }, { credentials, region: 'oss-cn-shanghai', date: ossV4Date(new Date()), ipEndpoint: false, userAgent }, 'application/gzip');
 * ```
 */
export const signedOssHeaders = (
  request: OssRequest,
  context: OssSigningContext,
  contentType: string | null,
): Record<string, string> => {
  const headers: Record<string, string> = {
    'x-oss-date': context.date,
    'x-oss-content-sha256': 'UNSIGNED-PAYLOAD',
    'User-Agent': context.userAgent,
  };
  if (context.credentials.securityToken) headers['x-oss-security-token'] = context.credentials.securityToken;
  Object.assign(headers, request.headers);
  const hasType = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type');
  if (!hasType) {
    const type = request.mime?.includes('/') && request.mime.indexOf('/') > 0 ? request.mime : contentType;
    if (type) headers['Content-Type'] = type;
  }
  if (request.body) {
    headers['Content-MD5'] = createHash('md5').update(request.body).digest('base64');
    headers['Content-Length'] = String(request.body.length);
  }
  // Canonical request (signUtils.getCanonicalRequest): lower-cased headers, those signed being content-type,
  // content-md5 and every x-oss-*, sorted.
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value;
  const signed = Object.keys(lower)
    .filter((name) => name === 'content-type' || name === 'content-md5' || name.startsWith('x-oss-'))
    .sort();
  const region = context.region.replace(/^oss-/, '');
  const day = context.date.split('T')[0] as string;
  const canonical = [
    request.method,
    encodeString(`/${request.bucket}/${request.key ?? ''}`).replace(/%2F/g, '/'),
    request.subresource ? encodeString(request.subresource) : '',
    signed.map((name) => `${name}:${(lower[name] as string).trim()}\n`).join(''),
    '',
    lower['x-oss-content-sha256'] ?? 'UNSIGNED-PAYLOAD',
  ].join('\n');
  const scope = `${day}/${region}/oss/aliyun_v4_request`;
  const stringToSign = [
    'OSS4-HMAC-SHA256',
    context.date,
    scope,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  const signature = createHmac('sha256', signingKey(context.credentials.accessKeySecret, day, region))
    .update(stringToSign)
    .digest('hex');
  headers.authorization = `OSS4-HMAC-SHA256 Credential=${context.credentials.accessKeyId}/${scope},Signature=${signature}`;
  if (context.ipEndpoint) headers.host = `${request.bucket}.${context.region}.aliyuncs.com`;
  return headers;
};

/**
 * The request path ali-oss sends (getReqUrl: `_escape`, then `+` as `%2B`; urllib's `url.parse` then escapes the `'`
 * that encodeURIComponent leaves, and its WHATWG URL drops `.` segments and resolves `..` ones, so a key
 * `./a b.tar.gz` is requested as `/a%20b.tar.gz` while the signature names the key as given).
 */
export const ossRequestPath = (request: OssRequest): string => {
  const object = request.key
    ? encodeURIComponent(request.key).replace(/%2F/g, '/').replace(/\+/g, '%2B').replace(/'/g, '%27')
    : '';
  const path = new URL(`/${object}`, 'http://oss.invalid').pathname;
  return `${path}${request.subresource ? `?${encodeURIComponent(request.subresource)}=` : ''}`;
};

/** The fields of ali-oss's errors that `toOssError` reads. */
export type LeanOssError = Error & { code?: string; status?: number; requestId?: string | undefined };

const ossError = (name: string, message: string, fields: Omit<Partial<LeanOssError>, 'name' | 'message'>) =>
  Object.assign(new Error(message), { name }, fields) as LeanOssError;

const xmlField = (xml: string, tag: string) =>
  new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1]?.replace(/&lt;|&gt;|&amp;|&quot;|&apos;/g, (entity) => {
    return { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&apos;': "'" }[entity] as string;
  });

/** `Last-Modified` as epoch ms (the same reading as shared/object-store.ts's). */
const lastModifiedOf = (headers: http.IncomingHttpHeaders): number | undefined => {
  const value = Date.parse(header(headers, 'last-modified') ?? '');
  return Number.isFinite(value) ? value : undefined;
};

const header = (headers: http.IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** ali-oss's requestError for an answer outside the success statuses. */
export const ossErrorOf = (status: number, headers: http.IncomingHttpHeaders, body: Buffer): LeanOssError => {
  const fromXml = (xml: string) => {
    if (!/<Error>/.test(xml)) {
      return ossError('Error', `Expected an OSS error document, got ${xml.slice(0, 80)}`, {
        status,
        requestId: headers['x-oss-request-id'] as string | undefined,
      });
    }
    const code = xmlField(xml, 'Code');
    const condition = xmlField(xml, 'Condition');
    const message = `${xmlField(xml, 'Message') ?? `unknow request error, status: ${status}`}${condition ? ` (condition: ${condition})` : ''}`;
    return ossError(code ? `${code}Error` : 'UnknownError', message, {
      status,
      ...(code === undefined ? {} : { code }),
      ...(xmlField(xml, 'RequestId') === undefined ? {} : { requestId: xmlField(xml, 'RequestId') }),
    });
  };
  if (body.length > 0) return fromXml(body.toString('utf8'));
  // Without a body (a HEAD), ali-oss names the request by the x-oss-request-id header, whatever else it found.
  const requestId = header(headers, 'x-oss-request-id');
  const encoded = header(headers, 'x-oss-err');
  const error =
    status === 404
      ? ossError('NoSuchKeyError', 'Object not exists', { status, code: 'NoSuchKey' })
      : status === 412
        ? ossError('PreconditionFailedError', 'Pre condition failed', { status, code: 'PreconditionFailed' })
        : encoded
          ? fromXml(Buffer.from(encoded, 'base64').toString('utf8'))
          : ossError('UnknownError', `Unknow error, status: ${status}`, { status });
  error.requestId = requestId;
  return error;
};

export type LeanResponse = {
  status: number;
  headers: http.IncomingHttpHeaders;
  body?: Buffer;
  stream?: http.IncomingMessage;
};

export type LeanOssClientOptions = {
  endpoint: string;
  region: string;
  timeoutMs: number;
  credentials: () => Credentials;
  userAgent: string;
  /** For tests: the request time. */
  now?: () => Date;
};

/**
 * Sends signed OSS requests over keep-alive sockets. `stream: true` resolves at the response's headers with the body
 * unread (getStream); otherwise the body is read whole. Statuses outside 200–299 reject with `ossErrorOf`'s error;
 * network errors as ali-oss's urllib names them (`RequestError`, status -1; `ConnectionTimeoutError`, status -2;
 * `ResponseTimeoutError`).
 *
 * @example
 * ```ts
 * const oss = createLeanOssClient({ endpoint: 'https://oss-cn-shanghai.aliyuncs.com', region: 'oss-cn-shanghai', timeoutMs: 10_000, credentials, userAgent });
 * const { headers } = await oss.send({ method: 'HEAD', bucket: 'b', key: 'library/a.tar.gz' });
 * ```
 */
export const createLeanOssClient = (options: LeanOssClientOptions) => {
  const endpoint = new URL(options.endpoint);
  const secure = endpoint.protocol === 'https:';
  const transport = secure ? https : http;
  const agent = new transport.Agent({ keepAlive: true });
  const ipEndpoint = /^[\d.]+$|^\[[0-9a-f:]+\]$/i.test(endpoint.hostname);
  const now = options.now ?? (() => new Date());

  const send = (
    request: OssRequest,
    { timeoutMs = options.timeoutMs, stream = false }: { timeoutMs?: number; stream?: boolean } = {},
  ) =>
    new Promise<LeanResponse>((resolve, reject) => {
      const contentType = request.key === undefined ? null : (contentTypeOfKey(request.key) ?? null);
      const headers = signedOssHeaders(
        request,
        {
          credentials: options.credentials(),
          region: options.region,
          date: ossV4Date(now()),
          ipEndpoint,
          userAgent: options.userAgent,
        },
        contentType,
      );
      const host = ipEndpoint ? endpoint.host : `${request.bucket}.${endpoint.host}`;
      const outgoing = transport.request({
        agent,
        method: request.method,
        protocol: endpoint.protocol,
        hostname: ipEndpoint ? endpoint.hostname.replace(/^\[|\]$/g, '') : `${request.bucket}.${endpoint.hostname}`,
        port: endpoint.port || undefined,
        path: ossRequestPath(request),
        headers: ipEndpoint ? headers : { ...headers, host },
      });
      let connected = false;
      const timer = setTimeout(() => {
        outgoing.destroy(
          connected
            ? ossError('ResponseTimeoutError', `Response timeout for ${timeoutMs}ms`, {})
            : ossError('ConnectionTimeoutError', `Connect timeout for ${timeoutMs}ms`, {
                status: -2,
                code: 'ConnectionTimeoutError',
              }),
        );
      }, timeoutMs);
      outgoing.on('socket', (socket) => {
        if (!socket.connecting) connected = true;
        else socket.once('connect', () => (connected = true));
      });
      outgoing.on('error', (error: LeanOssError) => {
        clearTimeout(timer);
        if (error.name.endsWith('TimeoutError')) reject(error);
        else reject(ossError('RequestError', error.message, { status: -1, code: 'RequestError', cause: error }));
      });
      outgoing.on('response', (response) => {
        const status = response.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        if (ok && stream) {
          clearTimeout(timer);
          resolve({ status, headers: response.headers, stream: response });
          return;
        }
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => outgoing.destroy(error));
        response.on('end', () => {
          clearTimeout(timer);
          const body = Buffer.concat(chunks);
          if (ok) resolve({ status, headers: response.headers, body });
          else reject(ossErrorOf(status, response.headers, body));
        });
      });
      outgoing.end(request.body);
    });

  return { send, close: () => agent.destroy() };
};

const unquote = (etag: string | undefined) => (etag ?? '').replace(/^"|"$/g, '');

export type LeanOssStoreOptions = {
  client: ReturnType<typeof createLeanOssClient>;
  bucket: string;
  /** `toOssError` of shared/object-store.ts (passed in, so that this module does not load ali-oss). */
  toError: (error: unknown, operation: string, key: string) => Error;
};

/**
 * The `ObjectStore` port over the lean client, call for call what `createOssStore` does over ali-oss.
 *
 * @example
 * ```ts
 * const store = createLeanOssStore({ client: createLeanOssClient(options), bucket, toError: toOssError });
 * ```
 */
export const createLeanOssStore = ({ client, bucket, toError }: LeanOssStoreOptions): ObjectStore => {
  const call = async <T>(operation: string, key: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw toError(error, operation, key);
    }
  };
  const orMissing = async <T>(run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (error) {
      if ((error as LeanOssError).status === 404) return undefined;
      throw error;
    }
  };
  const put = (key: string, body: string, limits: CallLimits | undefined, headers?: Record<string, string>) =>
    client.send(
      {
        method: 'PUT',
        bucket,
        key,
        body: Buffer.from(body),
        mime: 'application/json',
        ...(headers ? { headers } : {}),
      },
      { ...(limits?.timeoutMs === undefined ? {} : { timeoutMs: limits.timeoutMs }) },
    );
  const limit = (limits: CallLimits | undefined) =>
    limits?.timeoutMs === undefined ? {} : { timeoutMs: limits.timeoutMs };
  return {
    head: (key, limits) =>
      call('HeadObject', key, () =>
        orMissing(async () => {
          const { headers } = await client.send({ method: 'HEAD', bucket, key }, limit(limits));
          return {
            size: Number(header(headers, 'content-length')),
            etag: unquote(header(headers, 'etag')),
            crc64: header(headers, 'x-oss-hash-crc64ecma'),
            lastModified: lastModifiedOf(headers),
          };
        }),
      ),
    getBytes: (key, maxBytes, limits) =>
      call('GetObject', key, () =>
        orMissing(async () => {
          const { headers, body } = await client.send(
            { method: 'GET', bucket, key, headers: { Range: `bytes=0-${maxBytes}` } },
            limit(limits),
          );
          const buffer = body ?? Buffer.alloc(0);
          const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
          const total = header(headers, 'content-range')?.match(/\/(\d+)$/)?.[1];
          return {
            bytes,
            size: total ? Number(total) : bytes.byteLength,
            etag: unquote(header(headers, 'etag')),
            lastModified: lastModifiedOf(headers),
          };
        }),
      ),
    digest: (key, limits) =>
      call('GetObject', key, async () => {
        const response = await orMissing(() =>
          client.send({ method: 'GET', bucket, key }, { ...limit(limits), stream: true }),
        );
        if (!response?.stream) return undefined;
        const hash = createHash('sha256');
        let crc = 0n;
        let size = 0;
        for await (const chunk of response.stream as AsyncIterable<Buffer>) {
          hash.update(chunk);
          crc = updateCrc64(crc, chunk);
          size += chunk.length;
        }
        return { size, sha256: hash.digest('hex'), crc64: crc.toString() };
      }),
    versioning: (limits) =>
      call('GetBucketVersioning', bucket, async () => {
        const { body } = await client.send({ method: 'GET', bucket, subresource: 'versioning' }, limit(limits));
        // <VersioningConfiguration><Status>Enabled|Suspended</Status></VersioningConfiguration>; no Status: never enabled.
        const status = /<Status>\s*(Enabled|Suspended)\s*<\/Status>/.exec(body?.toString('utf8') ?? '')?.[1];
        return status === 'Enabled' || status === 'Suspended' ? status : undefined;
      }),
    putIfAbsent: (key, body, limits) =>
      call('PutObject', key, async () => {
        try {
          await put(key, body, limits, { 'x-oss-forbid-overwrite': 'true' });
          return true;
        } catch (error) {
          if ((error as LeanOssError).code === 'FileAlreadyExists') return false;
          throw error;
        }
      }),
    put: (key, body, limits) =>
      call('PutObject', key, async () => {
        await put(key, body, limits);
      }),
  };
};
