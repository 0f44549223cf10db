/**
 * CityVisual (`2018-10-30`) RPC emulator for the local cloud: a `node:http` server that the real
 * `@alicloud/pop-core` client and Alibaba's Tea client (`@alicloud/openapi-client`) talk to as if it were
 * `cityvisual.<region>.aliyuncs.com`.
 *
 * What it implements:
 * - RPC over GET (query) and POST (`application/x-www-form-urlencoded` body, merged over any query) on path `/`.
 * - Authentication as Alibaba's POP gateway (`rpc-auth.ts`): signature V1 (HMAC-SHA1 in the parameters, verified
 *   exactly as pop-core and Tea sign) and V3 (`Authorization: ACS3-HMAC-SHA256 …`, Action and Version in
 *   `x-acs-action` / `x-acs-version`, which the gateway accepts for RPC APIs: https://help.aliyun.com/document_detail/2593177.html),
 *   Timestamp / x-acs-date within ±15 minutes, SignatureNonce never reused per AccessKeyId while its time is valid,
 *   AccessKey pairs and STS triplets (`addCredential`, for the FC emulator).
 * - RAM: a credential may carry the `cityvisual:<Action>` patterns its policy allows (`actions`); any other Action
 *   → 403 `Forbidden.RAM`, the gateway's common code for a RAM denial.
 * - CreateAlgoLib, DescribeAlgoLibs, ModifyAlgoLib, DeleteAlgoLib with the documented error codes; the library table
 *   persists in `dataDir` across restarts and ids keep increasing.
 * - Errors as `{RequestId, HostId, Code, Message, Recommend}` with the HTTP status; success bodies carry `RequestId`;
 *   `content-type: application/json;charset=utf-8` and an `x-acs-request-id` header. A SignatureDoesNotMatch message
 *   ends with `server string to sign is:<string>` as the real gateway's does (SDKs parse it; see `rpc-auth.ts`).
 * - Seeded faults per Action (picked after authentication): `throttle` (400 Throttling.User), `throttle429`
 *   (429 Throttling), `unavailable` (503 ServiceUnavailable), `internal` (500 InternalError), `html502` (a gateway's
 *   HTML page), `slow` (wait `delayMs`, then serve: the action still happens if the client gave up), `commitThenDrop`
 *   (perform the action, then reset the connection without an answer).
 * - One log entry per request, `{service, action, code, status, ms, requestId, fault?}`, never a parameter value;
 *   `code` is `OK` on success, `BadGateway` for html502, and status 0 with `ConnectionDropped` / `ShuttingDown`
 *   when no answer was sent.
 *
 * Every gateway code it answers is in Alibaba's error center (product "Public",
 * https://error-center.alibabacloud.com/status/product/Public) or the common error tables of the RPC products
 * (https://help.aliyun.com/document_detail/51132.html); every CityVisual code is in the Action's own reference.
 * `InvalidVersion` and `InvalidAction.NotFound` are the gateway's observed answers (the SDKs' own tests expect them,
 * e.g. aliyun-openapi-cpp-sdk's `cs` test); the error center names the latter `InvalidApi.NotFound`.
 *
 * How it differs from the real service (choices where the docs are silent are marked "chosen"):
 * - JSON only: `Format` must be `JSON` (pop-core always sends it; a V3 request's Format follows its Accept header);
 *   the real default is XML. → 400 InvalidParameter.
 * - A missing required parameter answers 400 `Missing<Name>` (`MissingAlgoLibName`, `MissingAccessKeyId`, …);
 *   an empty value counts as missing (chosen). Unknown parameters are ignored.
 * - STS: a credential registered with a `securityToken` needs exactly that token: none → 400 `MissingSecurityToken`,
 *   another → 400 `InvalidSecurityToken.MismatchWithAccessKey`; tokens never expire here (no
 *   `InvalidSecurityToken.Expired`). Unknown AccessKeyId → 404 `InvalidAccessKeyId.NotFound`. SignatureMethod other
 *   than HMAC-SHA1, or a V3 algorithm other than ACS3-HMAC-SHA256 (SM3, RSA) → 400 `InvalidSignatureMethod`;
 *   SignatureVersion other than 1.0 → 400 `InvalidParameter`; a V3 Authorization without its parts, or leaving a
 *   common header (host, x-acs-*) unsigned → 400 `IncompleteSignature` (the V3 reference requires them signed).
 * - Timestamp: `YYYY-MM-DDThh:mm:ss[.sss]Z` only, else 400 `InvalidTimeStamp.Format`; out of window → 400 `InvalidTimeStamp.Expired`.
 * - Nonces are kept in memory (100 000 at most, oldest forgotten first) and are lost on restart.
 * - RAM: only Action patterns, no resources or conditions (CityVisual's RAM actions apply to `*`).
 * - `RegionId`, when sent, must equal the emulator's region (404 `InvalidRegionId.NotFound`, chosen).
 * - DescribeAlgoLibs' `AlgoLibName` is a case-insensitive substring filter (chosen, to force exact matching on the
 *   client); `CapabilityName` keeps libraries that have every listed capability; results are in id order.
 *   PageNumber < 1 or PageSize outside 1–100 → 400 InvalidParameter.
 * - Capacity must be an integer 1–50 (the DescribeAlgoLibs reference: `[1，50]`); CapabilityNames must all be in
 *   `capabilities`; JsonText must parse as JSON (400 InvalidParameter); AlgoLibName must match
 *   `^[A-Za-z][A-Za-z0-9_-]{1,63}$` (chosen pattern).
 * - ModifyAlgoLib needs AlgoLibId and every field of CreateAlgoLib but InstanceId, as its reference marks them
 *   required (the TS SDK's typings say optional: the stricter reading is emulated). UploadTime changes when the
 *   package (OssBucket, OssEndpoint, OssPath) or AlgoLibVersion changes (chosen). Modify and Delete accept an
 *   optional InstanceId that must then own the library.
 * - AlgoLibId is a decimal string ("1", "2", …). DeleteAlgoLib never answers 403 DependencyViolation (no job groups).
 * - Non-GET/POST → 403 UnsupportedHTTPMethod; a path other than `/` → 404 InvalidAction.NotFound; a body over 1 MiB → 413
 *   `RequestEntityTooLarge` (chosen: the gateway's limit and code are undocumented; no client of ours comes near it).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { createFaultInjector, type FaultInjector, type FaultPlan, type PickedFault } from '../faults.ts';
import { httpOrigin, listen, loopbackHost, readBody, shutdownController } from '../http-server.ts';
import { createAlgoLibActions, DEFAULT_CAPABILITIES, type OssAccessCheck } from './algo-lib-actions.ts';
import { type AlgoLib, openAlgoLibTable } from './algo-libs.ts';
import { createRpcAuthenticator, type RpcCredential, type RpcRequest } from './rpc-auth.ts';
import { invalidParameter, RpcError, required } from './rpc-error.ts';

export type { AlgoLib } from './algo-libs.ts';
export { signRpc } from './rpc-signature.ts';

export type CityVisualFaultKind =
  | 'throttle'
  | 'throttle429'
  | 'unavailable'
  | 'internal'
  | 'html502'
  | 'slow'
  | 'commitThenDrop';

export type CityVisualCredential = RpcCredential;

export type CityVisualEmulatorOptions = {
  host?: string;
  port?: number;
  /** The library table persists here (atomic write: temp + rename); absent → in memory. */
  dataDir?: string;
  regionId?: string;
  /** Known InstanceId values; others → 404 InvalidInstanceId.NotFound. */
  instanceIds: string[];
  credentials: CityVisualCredential[];
  /** Checks the OSS side of CreateAlgoLib: does OssBucket exist and can OssAccessKeyId/Secret read it? */
  ossAccess?: OssAccessCheck;
  /** Accepted OssEndpoint values; others → 404 InvalidOssEndpoint.NotFound. Absent = accept any non-empty. */
  ossEndpoints?: string[];
  /** Accepted capability names; others → 400 InvalidCapabilities.ValueNotSupported. */
  capabilities?: string[];
  /** One entry per request: `{service:'cityvisual', action, code, status, ms, requestId, fault?}`; never secrets. */
  log?: (entry: Record<string, unknown>) => void;
  faults?: FaultPlan<CityVisualFaultKind>;
  /** The clock of UploadTime (tests pin it); the gateway's time window always uses the real clock. */
  now?: () => Date;
};

export type CityVisualEmulator = {
  endpoint: string;
  port: number;
  /** Requests received per Action (`(none)` when absent), counted whatever answered them, and successful creations. */
  counters(): { requests: Record<string, number>; created: number };
  resetCounters(): void;
  faults: FaultInjector<CityVisualFaultKind>;
  /** A copy of the table. It holds no OssAccessKeySecret: the emulator never stores it. */
  libraries(): AlgoLib[];
  /** Registers an AccessKey pair or STS triplet (the FC emulator does this per function instance). */
  addCredential(credential: CityVisualCredential): void;
  /** Closes the server and every socket; in-flight slow requests are dropped. */
  close(): Promise<void>;
};

export const API_VERSION = '2018-10-30';
const MAX_BODY_BYTES = 1 << 20;

const actionNotFound = () =>
  new RpcError(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');

/** Faults that answer instead of the action, as the gateway or the service would. */
const FAULT_ERRORS: Partial<Record<CityVisualFaultKind, () => RpcError>> = {
  throttle: () => new RpcError(400, 'Throttling.User', 'Request was denied due to user flow control.'),
  throttle429: () => new RpcError(429, 'Throttling', 'Request was denied due to request throttling.'),
  unavailable: () =>
    new RpcError(503, 'ServiceUnavailable', 'The request has failed due to a temporary failure of the server.'),
  internal: () =>
    new RpcError(
      500,
      'InternalError',
      'The request processing has failed due to some unknown error, exception or failure.',
    ),
};

/** What a gateway in front of the service sends when the backend is gone: not JSON, so pop-core's parser throws. */
const BAD_GATEWAY_HTML =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>Tengine</center>\r\n</body>\r\n</html>\r\n';

/** Node's headers with one string each (a repeated header joined by `,`, as the SDKs join them when signing). */
const headersOf = (req: IncomingMessage): Record<string, string | undefined> =>
  Object.fromEntries(
    Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : value]),
  );

/**
 * The request as the gateway sees it: the query, plus a form body for POST (body wins on a repeated key); a V3
 * request names its Action and Version in `x-acs-action` / `x-acs-version` instead of parameters.
 */
const readRequest = async (req: IncomingMessage, method: 'GET' | 'POST'): Promise<RpcRequest> => {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const query = Object.fromEntries(url.searchParams);
  const headers = headersOf(req);
  const body =
    method === 'POST'
      ? await readBody(req, {
          maxBytes: MAX_BODY_BYTES,
          tooLarge: () => new RpcError(413, 'RequestEntityTooLarge', 'The request body is too large.'),
        })
      : Buffer.alloc(0);
  const form = (headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
    ? Object.fromEntries(new URLSearchParams(body.toString('utf8')))
    : {};
  const params: Record<string, string> = { ...query, ...form };
  if (headers.authorization?.startsWith('ACS3-')) {
    params.Action ??= headers['x-acs-action'] ?? '';
    params.Version ??= headers['x-acs-version'] ?? '';
    // V3 has no Format parameter: the answer's format follows Accept (the SDKs send application/json).
    params.Format ??= (headers.accept ?? '').includes('json') ? 'JSON' : 'XML';
  }
  // The raw path, still percent-encoded: V3 signs it as sent.
  return { method, path: (req.url ?? '/').split('?')[0] ?? '/', query, params, headers, body };
};

/** The method, unless it is one the gateway turns away (403 UnsupportedHTTPMethod, as the common error tables say). */
const methodOf = (req: IncomingMessage): 'GET' | 'POST' => {
  if (req.method !== 'GET' && req.method !== 'POST') {
    throw new RpcError(403, 'UnsupportedHTTPMethod', 'This http method is not supported.');
  }
  return req.method;
};

export const startCityVisualEmulator = async (o: CityVisualEmulatorOptions): Promise<CityVisualEmulator> => {
  const regionId = o.regionId ?? 'cn-shanghai';
  const hostId = `cityvisual.${regionId}.aliyuncs.com`;
  const log = o.log ?? (() => {});
  const table = openAlgoLibTable(o.dataDir);
  const auth = createRpcAuthenticator({ credentials: o.credentials });
  const faults = createFaultInjector<CityVisualFaultKind>(o.faults);
  const actions = createAlgoLibActions({
    table,
    instanceIds: new Set(o.instanceIds),
    capabilities: new Set(o.capabilities ?? DEFAULT_CAPABILITIES),
    ossEndpoints: o.ossEndpoints && new Set(o.ossEndpoints),
    ossAccess: o.ossAccess,
    now: o.now ?? (() => new Date()),
  });
  // No prototype: Action is client input, and `__proto__` must count like any other name.
  let requests: Record<string, number> = Object.create(null);
  let created = 0;
  // Aborted by close(): cuts short the stalls of `slow` faults so nothing is left running.
  const shutdown = shutdownController();

  /** Version, Format, Action and RegionId are checked after authentication (chosen order), then the Action runs. */
  const perform = (params: Record<string, string>, credential: RpcCredential) => {
    if (params.Version !== API_VERSION) {
      throw new RpcError(400, 'InvalidVersion', 'Specified parameter Version is not valid.');
    }
    if (params.Format?.toUpperCase() !== 'JSON') {
      throw invalidParameter('Format', 'JSON (the emulator does not answer XML)');
    }
    const action = params.Action ?? '';
    const handler = Object.hasOwn(actions, action) ? actions[action] : undefined;
    if (!handler) throw actionNotFound();
    auth.authorize(credential, action);
    if (params.RegionId !== undefined && params.RegionId !== regionId) {
      throw new RpcError(404, 'InvalidRegionId.NotFound', 'The specified RegionId does not exist.');
    }
    const body = handler(params);
    if (action === 'CreateAlgoLib') created += 1;
    return body;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const socket = req.socket;
    const requestId = randomUUID().toUpperCase();
    let action = '(none)';
    let fault: PickedFault<CityVisualFaultKind> | undefined;
    const finish = (status: number, code: string) =>
      log({
        service: 'cityvisual',
        action,
        code,
        status,
        ms: Math.round(performance.now() - started),
        requestId,
        ...(fault && { fault: fault.kind }),
      });
    // The client may have hung up (timeouts, slow faults): writing then must be a no-op, not a crash.
    res.on('error', () => {});
    const answer = (status: number, contentType: string, text: string) => {
      if (res.writableEnded || socket.destroyed) return;
      res.writeHead(status, {
        // After a 413 the rest of the body is unread: close rather than parse it as the next request.
        ...(status === 413 && { connection: 'close' }),
        'content-type': contentType,
        'content-length': Buffer.byteLength(text),
        'x-acs-request-id': requestId,
      });
      res.end(text);
    };

    try {
      let request: RpcRequest | undefined;
      try {
        request = await readRequest(req, methodOf(req));
      } finally {
        // Counted on receipt, whatever answers it (even a body too large), so tests can see attempts at once.
        action = request?.params.Action || (req.headers['x-acs-action'] as string | undefined) || '(none)';
        requests[action] = (requests[action] ?? 0) + 1;
      }
      const { params } = request;
      if (request.path !== '/') throw actionNotFound();
      required(params, 'Action');
      required(params, 'Version');
      const credential = auth.authenticate(request);

      fault = faults.pick(action);
      const faultError = fault && FAULT_ERRORS[fault.kind];
      if (faultError) throw faultError();
      if (fault?.kind === 'html502') {
        answer(502, 'text/html', BAD_GATEWAY_HTML);
        return finish(502, 'BadGateway');
      }
      if (fault?.kind === 'slow') await delay(fault.delayMs, undefined, { signal: shutdown.signal });

      const body = perform(params, credential);
      if (fault?.kind === 'commitThenDrop') {
        socket.destroy();
        return finish(0, 'ConnectionDropped');
      }
      answer(200, 'application/json;charset=utf-8', JSON.stringify({ RequestId: requestId, ...body }));
      finish(200, 'OK');
    } catch (error) {
      if (shutdown.signal.aborted) {
        socket.destroy();
        return finish(0, 'ShuttingDown');
      }
      // Only the name of an unexpected error: its message could quote a parameter value.
      const rpc =
        error instanceof RpcError
          ? error
          : new RpcError(
              500,
              'InternalError',
              `The request processing has failed (${(error as Error)?.name ?? 'unknown'}).`,
            );
      const recommend = `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(rpc.code)}&product=cityvisual&requestId=${requestId}`;
      const body = { RequestId: requestId, HostId: hostId, Code: rpc.code, Message: rpc.message, Recommend: recommend };
      if (fault?.kind === 'commitThenDrop') socket.destroy();
      else answer(rpc.status, 'application/json;charset=utf-8', JSON.stringify(body));
      finish(rpc.status, rpc.code);
    }
  };

  // handle() answers every error itself; the catch is a last resort so that a bug can never crash the host process.
  const server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
  const port = await listen(server, o.port ?? 0, loopbackHost(o.host ?? '127.0.0.1'));
  const { address } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    endpoint: httpOrigin(address, port),
    port,
    counters: () => ({ requests: { ...requests }, created }),
    resetCounters() {
      requests = Object.create(null);
      created = 0;
    },
    faults,
    libraries: () => table.list(),
    addCredential: (credential) => auth.addCredential(credential),
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        shutdown.abort();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
};
