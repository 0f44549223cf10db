/**
 * The local OSS: an HTTP server on 127.0.0.1 that the real ali-oss client talks to as if it were Alibaba Cloud OSS.
 *
 * What it implements
 * - Addressing as ali-oss does it against an IP endpoint (Host `<bucket>.oss-<region>.aliyuncs.com`, path `/<key>`),
 *   path style (`/<bucket>/<key>`) when Host is an IP or localhost, and the Tea SDKs' `ip` host model (Host
 *   `<ip:port>/<bucket>`); a Host naming another region is refused.
 * - V1 (`OSS AccessKeyId:Signature`), V2 (`OSS2 AccessKeyId:…,Signature:…`) and V4 (`OSS4-HMAC-SHA256`) header
 *   signatures, STS security tokens, the 15-minute clock window, and per-key allow rules (buckets, readable and
 *   writable key prefixes, bucket-level actions).
 * - PutObject (Content-MD5, x-oss-forbid-overwrite, user metadata, chunked bodies), GetObject (Range with the cloud's
 *   default behaviour and `x-oss-range-behavior: standard`, If-* headers, response-* overrides), HeadObject,
 *   GetObjectMeta, DeleteObject, CopyObject (metadata directive, forbid-overwrite), ListObjects v1 and v2 (prefix,
 *   delimiter, paging, encoding-type=url), multipart uploads (initiate, parts, UploadPartCopy, complete, abort,
 *   ListParts, ListMultipartUploads) and bucket versioning (Put/GetBucketVersioning, `x-oss-version-id` on writes,
 *   x-oss-forbid-overwrite ignored once versioning is Enabled or Suspended, as the PutObject reference says).
 * - ETag (upper-case MD5, or the multipart `<md5 of part md5s>-<parts>`), `x-oss-hash-crc64ecma` (CRC-64/ECMA-182 of
 *   the whole object, also on ranged GETs; left off copies with `omitCopyCrc64`, as OSS may), `x-oss-request-id` on
 *   every response, the OSS error XML and `x-oss-ec` header (`x-oss-err` instead of a body on HEAD).
 * - Objects and the versioning state persist in `dataDir` across restarts (atomic writes); `onObjectCreated`
 *   receives the FC OSS trigger record of every PutObject, CopyObject and CompleteMultipartUpload; seeded faults; one
 *   log entry per request.
 *
 * How it differs from OSS (local/README.md has the sources)
 * - Any other API (bucket management, ACLs, tagging, symlinks, AppendObject, PostObject, DeleteMultipleObjects, URL
 *   signatures) answers 501 NotImplemented after authentication. A versioned bucket keeps only the current version:
 *   no ListObjectVersions, no `versionId` parameter (refused), a delete leaves no older version behind. No storage
 *   classes, encryption, lifecycle rules, callbacks or image processing.
 * - Multipart uploads in progress are kept in memory: a restart forgets them and deletes their parts.
 * - Request bodies are buffered in memory; there is no object size limit.
 * - A signed V4 payload hash (`x-oss-content-sha256` other than UNSIGNED-PAYLOAD) is not compared with the body.
 * - The V4 canonical query gives a parameter with an empty value as its bare name, as the official Go SDK v2 and
 *   Python oss2 V4 signers do. ali-oss 6.23 signs `name=` instead for an empty query value that is not a
 *   sub-resource (e.g. `listV2({ prefix: '' })` with V4), so the emulator answers SignatureDoesNotMatch, as real OSS
 *   presumably does (not verified against the live service): leave empty parameters out.
 * - `<EC>` / `x-oss-ec` are given only where the code was verified (NoSuchKey, NoSuchBucket, InvalidAccessKeyId,
 *   SignatureDoesNotMatch, FileAlreadyExists, bad x-oss-forbid-overwrite). A wrong STS token answers
 *   InvalidSecurityToken, a wrong endpoint, V4 scope or missing permission AccessDenied: both are in OSS's list of 403
 *   codes (https://www.alibabacloud.com/help/en/oss/how-to-troubleshoot-403-status-code-when-you-access-oss), their EC
 *   values are not given.
 * - Faults are applied once the request body has been read and before anything else (even the bucket check), so a
 *   faulted request never changes state; `slow` waits `delayMs` and then serves the request normally.
 * - `onObjectCreated` is called synchronously just before the response is sent, exactly once per object creation;
 *   real OSS delivers events asynchronously and at least once. A subscriber that throws does not fail the request
 *   (the log entry gets `notifyError`). The record's `principalId` is always the account id.
 * - Allow rules are prefix lists, not RAM policies: a listing needs its `prefix` to lie under a readable prefix.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, readSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { OssEventRecord } from '../../platform/oss/event-record.ts';
import { createFaultInjector, type FaultInjector, type FaultPlan, type PickedFault } from '../faults.ts';
import { closeServer, httpOrigin, listen, loopbackHost, readBody, shutdownController } from '../http-server.ts';
import {
  type Access,
  createCredentialRegistry,
  isAllowed,
  mayCallBucketAction,
  mayReadBucket,
  type OssCredential,
} from './credentials.ts';
import { openDiskStore } from './disk-store.ts';
import { OssError, ossErrors, renderError } from './errors.ts';
import { objectCreatedEvent } from './events.ts';
import { listingOperations } from './listing.ts';
import { createMultipartOperations } from './multipart.ts';
import { objectOperations } from './objects.ts';
import type { Operation, OperationContext, OssResponse } from './operation.ts';
import { OPERATIONS, type OperationName, type OssRequest, parseRequest } from './request.ts';
import { authenticate } from './signature.ts';
import { versioningOperations } from './versioning.ts';

export type { OssCredential } from './credentials.ts';

export type OssFaultKind = 'unavailable' | 'reset' | 'slow' | 'internal';

export type OssEmulatorOptions = {
  /** Default '127.0.0.1'; only loopback addresses are accepted. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Objects persist here across restarts; if absent, a fresh temporary directory that close() removes. */
  dataDir?: string;
  /** Default 'oss-cn-shanghai': ali-oss derives the Host from it, and V4 scopes name it without 'oss-'. */
  region?: string;
  /** Used in event ARNs and as list Owner; default '1000000000000000'. */
  accountId?: string;
  /** The buckets that exist (3–63 lower-case letters, digits and hyphens). */
  buckets: string[];
  credentials: OssCredential[];
  /** Called after each successful PutObject, CopyObject and CompleteMultipartUpload. */
  onObjectCreated?: (event: OssEventRecord) => void;
  /**
   * One JSON-able entry per request: {service:'oss', op, bucket, key, status, ms, requestId}, plus `code` for errors,
   * `fault` when one was injected (status 0: reset), `error` for unexpected failures, `notifyError`. `op` is
   * 'Unknown' for a request that could not be routed. No secrets, signatures or Authorization headers.
   */
  log?: (entry: Record<string, unknown>) => void;
  faults?: FaultPlan<OssFaultKind>;
  /**
   * Leave `x-oss-hash-crc64ecma` off objects made by CopyObject and parts made by UploadPartCopy (and so off an
   * object completed from such a part), as OSS may: "Objects created by copy operations such as CopyObject and
   * UploadPartCopy may not have a CRC-64 value" (https://help.aliyun.com/en/oss/user-guide/check-data-transmission-integrity-by-using-crc-64).
   * Default false: copies keep the source's CRC-64.
   */
  omitCopyCrc64?: boolean;
};

export type OssEmulator = {
  /** 'http://127.0.0.1:PORT' */
  endpoint: string;
  port: number;
  region: string;
  /** Requests received per operation name (faulted and failed ones included), and GetObject body bytes sent. */
  counters(): { requests: Record<string, number>; bytesServed: number };
  resetCounters(): void;
  faults: FaultInjector<OssFaultKind>;
  /** For the CityVisual emulator: could this key pair read this bucket? */
  checkAccess(bucket: string, accessKeyId: string, accessKeySecret: string): 'ok' | 'no-bucket' | 'unauthorized';
  /** Registers a key, e.g. a fresh STS triplet per FC instance; replaces a key with the same id. */
  addCredential(credential: OssCredential): void;
  /** Closes the server and every socket; nothing is left running. */
  close(): Promise<void>;
};

type EmulatedOperation = Exclude<OperationName, 'Unsupported'>;

/** What an operation needs: access to its key (a listing: to its prefix), or a bucket-level permission. */
const ACCESS: Record<EmulatedOperation, Access | 'bucket'> = {
  PutObject: 'write',
  GetObject: 'read',
  HeadObject: 'read',
  GetObjectMeta: 'read',
  DeleteObject: 'write',
  CopyObject: 'write',
  ListObjects: 'read',
  ListObjectsV2: 'read',
  InitiateMultipartUpload: 'write',
  UploadPart: 'write',
  UploadPartCopy: 'write',
  CompleteMultipartUpload: 'write',
  AbortMultipartUpload: 'write',
  ListParts: 'write',
  ListMultipartUploads: 'read',
  PutBucketVersioning: 'bucket',
  GetBucketVersioning: 'bucket',
};

const DEFAULT_ACCOUNT_ID = '1000000000000000';
/** Bodies up to this size are read in one synchronous call and sent whole; larger ones are streamed. */
const SMALL_BODY_BYTES = 64 * 1024;

/**
 * Starts the emulator.
 *
 * @example
 * const oss = await startOssEmulator({ buckets: ['packages'], credentials: [{ accessKeyId: 'ak', accessKeySecret: 'sk' }] });
 * const client = new OSS({ endpoint: oss.endpoint, region: oss.region, bucket: 'packages', accessKeyId: 'ak', accessKeySecret: 'sk' });
 */
export const startOssEmulator = async (options: OssEmulatorOptions): Promise<OssEmulator> => {
  const host = loopbackHost(options.host ?? '127.0.0.1');
  const region = checkedRegion(options.region ?? 'oss-cn-shanghai');
  const buckets = checkedBuckets(options.buckets);
  const accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'oss-emulator-')));
  const store = await openDiskStore(dataDir, buckets);
  const credentials = createCredentialRegistry(options.credentials);
  const faults = createFaultInjector<OssFaultKind>(options.faults);
  const operations: Record<EmulatedOperation, Operation> = {
    ...objectOperations,
    ...listingOperations,
    ...createMultipartOperations(store),
    ...versioningOperations,
  };
  const shutdown = shutdownController();
  let requests: Record<string, number> = {};
  let bytesServed = 0;

  /** Everything after the body is read: region, bucket, signature, permission, then the operation itself. */
  const perform = async (request: OssRequest, body: Buffer) => {
    if (request.hostRegion !== undefined && request.hostRegion !== region) {
      throw ossErrors.accessDenied(
        `The bucket you are attempting to access must be addressed using the specified endpoint: expected ${region}.aliyuncs.com, got ${request.hostRegion}.aliyuncs.com (check the client's region option).`,
        { Endpoint: `${region}.aliyuncs.com` },
      );
    }
    const { bucket } = request;
    if (bucket !== undefined && !buckets.includes(bucket)) throw ossErrors.noSuchBucket(bucket);
    const credential = authenticate(request, {
      findCredential: credentials.find,
      region: standardRegion(region),
      now: Date.now(),
    });
    if (bucket === undefined || request.op === 'Unsupported') throw notImplemented(request);
    const authorize = (target: string, access: Access, key: string) => {
      if (!isAllowed(credential, target, access, key)) {
        throw ossErrors.accessDenied(
          `You have no right to access this resource: AccessKey ${credential.accessKeyId} may not ${access} "${key}" in bucket ${target}.`,
        );
      }
    };
    const access = ACCESS[request.op];
    if (access === 'bucket') {
      if (!mayCallBucketAction(credential, bucket, request.op)) {
        throw ossErrors.accessDenied(
          `You have no right to access this resource: AccessKey ${credential.accessKeyId} may not call ${request.op} on bucket ${bucket}.`,
        );
      }
    } else {
      const listing = ['ListObjects', 'ListObjectsV2', 'ListMultipartUploads'].includes(request.op);
      authorize(bucket, access, listing ? (request.query.get('prefix') ?? '') : request.key);
    }
    const context: OperationContext = {
      request,
      bucket,
      body,
      store,
      region,
      accountId,
      bucketExists: (name) => buckets.includes(name),
      authorize,
      omitCopyCrc64: options.omitCopyCrc64 ?? false,
    };
    return { bucket, response: await operations[request.op](context) };
  };

  /** Tells the subscriber. The object is stored whatever it does, so a failure is returned for the log, not thrown. */
  const notify = (created: Created, bucket: string, req: IncomingMessage, requestId: string) => {
    try {
      options.onObjectCreated?.(
        objectCreatedEvent({
          ...created,
          bucket,
          region: standardRegion(region),
          accountId,
          requestId,
          sourceIp: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
        }),
      );
      return undefined;
    } catch (error) {
      return messageOf(error);
    }
  };

  /** Returns whether the fault answered the request (or dropped it) itself. */
  const applyFault = async (fault: PickedFault<OssFaultKind>, req: IncomingMessage) => {
    switch (fault.kind) {
      case 'reset':
        req.socket.destroy();
        return true;
      case 'unavailable':
        throw ossErrors.serviceUnavailable();
      case 'internal':
        throw ossErrors.internalError();
      case 'slow':
        await delay(fault.delayMs, undefined, { signal: shutdown.signal });
        return false;
    }
  };

  const send = async (res: ServerResponse, response: OssResponse) => {
    const { body } = response;
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
      const payload = body ?? '';
      // A HEAD response's own Content-Length (the object's size) wins over the empty payload's.
      res.writeHead(response.status, { 'Content-Length': String(Buffer.byteLength(payload)), ...response.headers });
      res.end(payload);
      return;
    }
    const length = body.end - body.start + 1;
    res.writeHead(response.status, { ...response.headers, 'Content-Length': String(length) });
    if (length <= SMALL_BODY_BYTES) {
      // Manifests, statuses and claims: one read, instead of a read stream's round trips through the thread pool.
      const bytes = Buffer.allocUnsafe(Math.max(length, 0));
      let read = 0;
      try {
        while (read < length) {
          const n = readSync(body.fd, bytes, read, length - read, body.start + read);
          if (n === 0) break;
          read += n;
        }
      } finally {
        closeSync(body.fd);
      }
      bytesServed += read;
      res.end(bytes.subarray(0, read));
      return;
    }
    const stream = createReadStream('', { fd: body.fd, start: body.start, end: body.end });
    stream.on('data', (chunk) => {
      bytesServed += chunk.length;
    });
    await pipeline(stream, res);
  };

  const sendError = (
    res: ServerResponse,
    error: OssError,
    method: string,
    bucket: string | undefined,
    requestId: string,
  ) => {
    const xml = renderError(
      error,
      requestId,
      bucket === undefined ? `${region}.aliyuncs.com` : `${bucket}.${region}.aliyuncs.com`,
    );
    const headers: Record<string, string> = {
      'Content-Type': 'application/xml',
      ...(error.details.ec === undefined ? {} : { 'x-oss-ec': error.details.ec }),
    };
    if (method === 'HEAD') {
      // HEAD responses have no body: OSS puts the error document, base64-encoded, in x-oss-err.
      res.writeHead(error.status, {
        ...headers,
        'Content-Length': '0',
        'x-oss-err': Buffer.from(xml).toString('base64'),
      });
      res.end();
      return;
    }
    res.writeHead(error.status, { ...headers, 'Content-Length': String(Buffer.byteLength(xml)) });
    res.end(xml);
  };

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const requestId = randomBytes(12).toString('hex').toUpperCase();
    const entry: Record<string, unknown> = { service: 'oss', op: 'Unknown', requestId };
    res.setHeader('x-oss-request-id', requestId);
    res.setHeader('Server', 'AliyunOSS');
    res.on('close', () =>
      options.log?.({
        ...entry,
        status: res.headersSent ? res.statusCode : 0,
        ms: Math.round(performance.now() - started),
      }),
    );
    let request: OssRequest | undefined;
    try {
      request = parseRequest(req);
      Object.assign(entry, { op: request.op, bucket: request.bucket, key: request.key });
      requests[request.op] = (requests[request.op] ?? 0) + 1;
      const body = await readBody(req);
      const fault = faults.pick(request.op);
      if (fault !== undefined) {
        entry.fault = fault.kind;
        if (await applyFault(fault, req)) return;
      }
      const { bucket, response } = await perform(request, body);
      const notifyError = response.created && notify(response.created, bucket, req, requestId);
      if (notifyError !== undefined) entry.notifyError = notifyError;
      await send(res, response);
    } catch (error) {
      if (res.headersSent || req.socket.destroyed) {
        res.destroy();
        return;
      }
      const ossError = error instanceof OssError ? error : ossErrors.internalError();
      if (!(error instanceof OssError)) entry.error = messageOf(error);
      entry.code = ossError.code;
      sendError(res, ossError, req.method ?? 'GET', request?.bucket, requestId);
    }
  };

  const server = createServer((req, res) => void serve(req, res));
  const port = await listen(server, options.port ?? 0, host);

  return {
    endpoint: httpOrigin(host, port),
    port,
    region,
    counters: () => ({ requests: { ...requests }, bytesServed }),
    resetCounters: () => {
      requests = {};
      bytesServed = 0;
    },
    faults,
    checkAccess(bucket, accessKeyId, accessKeySecret) {
      if (!buckets.includes(bucket)) return 'no-bucket';
      const credential = credentials.find(accessKeyId);
      const ok = credential?.accessKeySecret === accessKeySecret && mayReadBucket(credential, bucket);
      return ok ? 'ok' : 'unauthorized';
    },
    addCredential: credentials.add,
    async close() {
      shutdown.abort();
      await closeServer(server);
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
};

type Created = NonNullable<OssResponse['created']>;

const notImplemented = (request: OssRequest) => {
  const path = request.bucket === undefined ? '/' : request.key === '' ? '/<bucket>' : '/<bucket>/<key>';
  const query = request.query.size === 0 ? '' : `?${[...request.query.keys()].join('&')}`;
  return ossErrors.notImplemented(
    `The OSS emulator implements ${OPERATIONS.join(', ')}; got ${request.method} ${path}${query}.`,
  );
};

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

const standardRegion = (region: string) => region.replace(/^oss-/, '');

const checkedRegion = (region: string) => {
  if (!/^oss-[a-z0-9-]+$/.test(region))
    throw new Error(`Expected \`region\` to look like "oss-cn-shanghai", got "${region}"`);
  return region;
};

const checkedBuckets = (buckets: string[]) => {
  const invalid = buckets.find((bucket) => !/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket));
  if (invalid !== undefined) {
    throw new Error(`Expected bucket names of 3 to 63 lower-case letters, digits and hyphens, got "${invalid}"`);
  }
  return buckets;
};
