/**
 * The function's OSS client: the five requests the register function makes (ranged GET, HEAD, conditional PUT, streamed
 * GET, GetBucketVersioning), signed with OSS's V4 signature and sent over node:http(s). It replaces ali-oss in the
 * function because loading ali-oss costs more than the whole cold-start budget (docs/bench.md, "Cold start"); the CLI
 * keeps ali-oss for multipart uploads and progress.
 *
 * It is held to ali-oss 6.23 (and urllib 2.44, its HTTP client) on four counts, each tested against the SDK itself:
 * the same request bytes, V4 signature included (test/unit/oss-client.test.ts, generated requests); the same error
 * fields for every answer shape (`name`, `code`, `status`, `requestId`, as ali-oss's `requestError` sets them, so
 * `toOssError` classifies both alike); the same timeouts (urllib's connect timer, then its response timer, both of
 * the request's `timeout`); the same keep-alive (agentkeepalive 3, ali-oss's agent, with urllib's adjustment to the
 * server's `Keep-Alive: timeout=`).
 *
 * Sources: ali-oss lib/common/utils/createRequest.js (headers), lib/common/signUtils.js (authorizationV4,
 * getCanonicalRequest), lib/common/client/getReqUrl.js (the URL), lib/client.js (requestError, the agents, the
 * User-Agent), lib/object.js and lib/common/object/*.js (successStatuses); urllib lib/urllib.js (startConnectTimer,
 * startResposneTimer, handleRequestError, the Keep-Alive adjustment in `done`).
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { extname } from 'node:path';
import AgentKeepalive from 'agentkeepalive';
import platform from 'platform';
import type { Credentials } from './credentials.ts';
import { header } from './object-store.ts';

/** The ali-oss version whose User-Agent the client sends (test/unit/oss-client.test.ts holds it to the package's). */
export const ALI_OSS_VERSION = '6.23.0';

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
  /** The statuses that are an answer, not an error (ali-oss's `successStatuses` of the operation). */
  successStatuses: readonly number[];
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

/**
 * What `mime.getType` (mime 2.6, ali-oss's) gives the extensions the pipeline reads and writes; any other extension asks
 * `mime` itself, loaded then (test/unit/oss-client.test.ts holds this table to `mime`).
 */
const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.gz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.zip': 'application/zip',
};

type MimeModule = { getType(path: string): string | null };
let mimeModule: MimeModule | undefined;

/**
 * The Content-Type ali-oss derives from a key when the caller sets none: `mime.getType(path.extname(key))`, `null` when
 * mime knows none (ali-oss then sends no Content-Type).
 *
 * @example
 * ```ts
 * await contentTypeOfKey('library/face/face-1.2.0.tar.gz'); // 'application/gzip'
 * ```
 */
export const contentTypeOfKey = async (key: string): Promise<string | null> => {
  const extension = extname(key);
  const known = CONTENT_TYPES[extension];
  if (known !== undefined) return known;
  if (extension === '') return null;
  mimeModule ??= ((await import('mime')) as unknown as { default: MimeModule }).default;
  return mimeModule.getType(extension);
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
 * const headers = signedOssHeaders({ method: 'HEAD', bucket: 'b', key: 'library/a.tar.gz', successStatuses: [200] }, { credentials, region: 'oss-cn-shanghai', date: ossV4Date(new Date()), ipEndpoint: false, userAgent }, 'application/gzip');
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
    const type = request.mime && request.mime.indexOf('/') > 0 ? request.mime : contentType;
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
export const ossRequestPath = (request: Pick<OssRequest, 'key' | 'subresource'>): string => {
  const object = request.key
    ? encodeURIComponent(request.key).replace(/%2F/g, '/').replace(/\+/g, '%2B').replace(/'/g, '%27')
    : '';
  const path = new URL(`/${object}`, 'http://oss.invalid').pathname;
  return `${path}${request.subresource ? `?${encodeURIComponent(request.subresource)}=` : ''}`;
};

/** The fields of ali-oss's errors that `toOssError` reads. */
export type OssClientError = Error & { code?: string; status?: number; requestId?: string | undefined };

const ossError = (name: string, message: string, fields: Omit<Partial<OssClientError>, 'name' | 'message'>) =>
  Object.assign(new Error(message), { name }, fields) as OssClientError;

const xmlField = (xml: string, tag: string) =>
  new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1]?.replace(/&lt;|&gt;|&amp;|&quot;|&apos;/g, (entity) => {
    return { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&apos;': "'" }[entity] as string;
  });

/**
 * ali-oss's requestError for an answer outside the operation's success statuses.
 *
 * @example
 * ```ts
 * ossErrorOf(404, { 'x-oss-request-id': 'R' }, Buffer.alloc(0)); // NoSuchKeyError, code NoSuchKey, status 404
 * ```
 */
export const ossErrorOf = (status: number, headers: http.IncomingHttpHeaders, body: Buffer): OssClientError => {
  const fromXml = (xml: string) => {
    if (!/<Error>/.test(xml)) {
      return ossError('Error', `Expected an OSS error document, got ${xml.slice(0, 80)}`, {
        status,
        requestId: header(headers, 'x-oss-request-id'),
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

export type OssResponse = {
  status: number;
  headers: http.IncomingHttpHeaders;
  body?: Buffer;
  stream?: http.IncomingMessage;
};

export type OssClientOptions = {
  endpoint: string;
  region: string;
  /** urllib's `timeout`: the connect timer's and then the response timer's (ali-oss's client-wide `timeout`). */
  timeoutMs: number;
  /** Read at every request, so rotated STS credentials are used as soon as the FC context carries them. */
  credentials: () => Credentials;
  /** For tests: the request time, and a DNS lookup (urllib's `lookup`). */
  now?: () => Date;
  lookup?: LookupFunction;
};

export type OssClient = {
  /**
   * One signed request. `stream: true` resolves at the response's headers with the body unread (ali-oss's getStream);
   * otherwise the body is read whole. `timeoutMs` overrides the client's for this request.
   */
  send(request: OssRequest, options?: { timeoutMs?: number; stream?: boolean }): Promise<OssResponse>;
  close(): void;
};

/**
 * ali-oss's User-Agent: `aliyun-sdk-nodejs/<version> <platform.description>`. `platform` is ali-oss's own dependency;
 * in the function's bundle it resolves to scripts/platform-shim.cjs (the same string on Linux without platform.js's
 * browser-detection table), as it does for ali-oss in the CLI's.
 */
export const ossUserAgent = (): string => `aliyun-sdk-nodejs/${ALI_OSS_VERSION} ${platform.description}`;

/** `Keep-Alive: timeout=5, max=100`: the server's idle limit, in seconds. */
const KEEP_ALIVE = /^timeout=(\d+)/i;

type KeepAliveSocket = import('node:net').Socket & { freeSocketKeepAliveTimeout?: number };

/**
 * Sends signed OSS requests over agentkeepalive sockets, timed as urllib times them: a connect timer from the request
 * until its socket connects (`ConnectionTimeoutError`, status -2; `SocketAssignTimeoutError` when no socket was
 * assigned), then a response timer until the body is read, or until the headers for a stream
 * (`ResponseTimeoutError`). Statuses outside the request's success statuses reject with `ossErrorOf`'s error; other
 * failures as urllib names them (`RequestError` before the socket connected, `ResponseError` after; status -1).
 *
 * @example
 * ```ts
 * const oss = createOssClient({ endpoint: 'https://oss-cn-shanghai.aliyuncs.com', region: 'oss-cn-shanghai', timeoutMs: 10_000, credentials });
 * const { headers } = await oss.send({ method: 'HEAD', bucket: 'b', key: 'library/a.tar.gz', successStatuses: [200, 304] });
 * ```
 */
export const createOssClient = (options: OssClientOptions): OssClient => {
  const endpoint = new URL(options.endpoint);
  const secure = endpoint.protocol === 'https:';
  const transport = secure ? https : http;
  // ali-oss's agents (lib/client.js): agentkeepalive 3 with its defaults, a free socket closed after 15 s idle.
  const agent = secure ? new AgentKeepalive.HttpsAgent() : new AgentKeepalive();
  const ipEndpoint = /^[\d.]+$|^\[[0-9a-f:]+\]$/i.test(endpoint.hostname);
  const now = options.now ?? (() => new Date());

  const send: OssClient['send'] = async (request, { timeoutMs = options.timeoutMs, stream = false } = {}) => {
    const contentType = request.key === undefined ? null : await contentTypeOfKey(request.key);
    const userAgent = ossUserAgent();
    const headers = signedOssHeaders(
      request,
      { credentials: options.credentials(), region: options.region, date: ossV4Date(now()), ipEndpoint, userAgent },
      contentType,
    );
    return new Promise<OssResponse>((resolve, reject) => {
      const outgoing = transport.request({
        agent,
        method: request.method,
        protocol: endpoint.protocol,
        hostname: ipEndpoint ? endpoint.hostname.replace(/^\[|\]$/g, '') : `${request.bucket}.${endpoint.hostname}`,
        port: endpoint.port || undefined,
        path: ossRequestPath(request),
        headers: ipEndpoint ? headers : { ...headers, host: `${request.bucket}.${endpoint.host}` },
        ...(options.lookup ? { lookup: options.lookup } : {}),
      });
      let connected = false;
      let settled = false;
      let timeoutError: OssClientError | undefined;
      let connectTimer: NodeJS.Timeout | undefined;
      let responseTimer: NodeJS.Timeout | undefined;
      const finish = (error: OssClientError | undefined, response?: OssResponse) => {
        clearTimeout(connectTimer);
        clearTimeout(responseTimer);
        if (settled) return;
        settled = true;
        if (error) reject(error);
        else resolve(response as OssResponse);
      };
      // urllib's abortRequest: the timer's error wins over the abort's own.
      const abort = (error: OssClientError) => {
        timeoutError ??= error;
        if (!outgoing.socket) finish(error);
        outgoing.destroy();
      };
      const startResponseTimer = () => {
        clearTimeout(connectTimer);
        responseTimer = setTimeout(
          () => abort(ossError('ResponseTimeoutError', `Response timeout for ${timeoutMs}ms`, {})),
          timeoutMs,
        );
      };
      connectTimer = setTimeout(() => {
        const assigned = Boolean(outgoing.socket);
        const name = assigned ? 'ConnectionTimeoutError' : 'SocketAssignTimeoutError';
        const message = `Connect timeout for ${timeoutMs}ms${assigned ? '' : ', working sockets is full'}`;
        abort(ossError(name, message, { status: -2, code: name }));
      }, timeoutMs);

      outgoing.once('socket', (socket: KeepAliveSocket) => {
        // urllib: the socket must outlive the response timer.
        if (socket.timeout && socket.timeout < timeoutMs) socket.setTimeout(timeoutMs + 500);
        if (socket.connecting) {
          socket.once('connect', () => {
            connected = true;
            startResponseTimer();
          });
        } else {
          connected = true;
          startResponseTimer();
        }
      });
      outgoing.on('error', (error: Error) => {
        if (timeoutError) return finish(timeoutError);
        const name = error.name === 'Error' ? (connected ? 'ResponseError' : 'RequestError') : error.name;
        finish(ossError(name, error.message, { status: -1, code: name, cause: error }));
      });
      outgoing.on('response', (response) => {
        const status = response.statusCode ?? 0;
        const ok = request.successStatuses.includes(status);
        // urllib's `done`: a free socket lives no longer than the server keeps it (its Keep-Alive, less 500 ms).
        const seconds = Number(KEEP_ALIVE.exec(header(response.headers, 'keep-alive') ?? '')?.[1] ?? 0);
        if (status >= 200 && response.headers.connection === 'keep-alive' && seconds > 0) {
          const serverTimeout = seconds * 1000 - 500;
          const socket = response.socket as KeepAliveSocket;
          if (serverTimeout < (agent as unknown as { freeSocketKeepAliveTimeout: number }).freeSocketKeepAliveTimeout)
            socket.freeSocketKeepAliveTimeout = serverTimeout;
        }
        if (ok && stream) {
          finish(undefined, { status, headers: response.headers, stream: response });
          return;
        }
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const body = Buffer.concat(chunks);
          if (timeoutError) finish(timeoutError);
          else if (ok) finish(undefined, { status, headers: response.headers, body });
          else finish(ossErrorOf(status, response.headers, body));
        });
        response.on('aborted', () => {
          if (timeoutError) return finish(timeoutError);
          // urllib: "Remote socket was terminated before `response.end()` was called", with the answer's status.
          finish(
            ossError('ResponseError', 'Remote socket was terminated before `response.end()` was called', {
              status: -1,
              code: 'ResponseError',
            }),
          );
        });
      });
      outgoing.end(request.body);
    });
  };

  return { send, close: () => agent.destroy() };
};
