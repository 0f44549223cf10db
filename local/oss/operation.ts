/**
 * What every operation handler shares: the context it runs in, the response it returns, and the header rules of
 * object writes (Content-MD5, x-oss-forbid-overwrite, stored headers and user metadata).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Access } from './credentials.ts';
import type { DiskStore, StoredObject } from './disk-store.ts';
import { ossErrors } from './errors.ts';
import type { ObjectCreatedEventName } from './events.ts';
import type { OssRequest } from './request.ts';

export type OperationContext = {
  request: OssRequest;
  bucket: string;
  body: Buffer;
  store: DiskStore;
  /** As configured, e.g. `oss-cn-shanghai`. */
  region: string;
  /** The bucket owner's account, shown as the Owner of listed objects. */
  accountId: string;
  bucketExists(bucket: string): boolean;
  /** Throws AccessDenied unless the request's credential may `access` `key` in `bucket`. */
  authorize(bucket: string, access: Access, key: string): void;
  /** Leave `x-oss-hash-crc64ecma` off objects made by CopyObject and parts made by UploadPartCopy. */
  omitCopyCrc64: boolean;
};

/** A body from a blob descriptor is streamed (`end` inclusive) and counted in `bytesServed`. */
export type ResponseBody = string | Buffer | { fd: number; start: number; end: number };

export type OssResponse = {
  status: number;
  headers?: Record<string, string>;
  body?: ResponseBody;
  /** Set when the operation created an object, so that the emulator notifies `onObjectCreated`. */
  created?: { eventName: ObjectCreatedEventName; object: StoredObject; previous: StoredObject | undefined };
};

export type Operation = (context: OperationContext) => OssResponse | Promise<OssResponse>;

export const headerOf = (headers: IncomingHttpHeaders, name: string) => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

/**
 * `x-oss-forbid-overwrite`: absent or `false` overwrites, `true` refuses to; OSS rejects any other value. The PutObject
 * reference (https://www.alibabacloud.com/help/en/oss/developer-reference/putobject, also the doc comment of
 * `ForbidOverwrite` in the official Go SDK v2): "When versioning is enabled or suspended for the bucket to which you
 * want to upload the object, the x-oss-forbid-overwrite header does not take effect", so a versioned bucket
 * overwrites whatever the header says (its value is still checked).
 */
export const forbidsOverwrite = (context: Pick<OperationContext, 'request' | 'store' | 'bucket'>) => {
  const value = headerOf(context.request.headers, 'x-oss-forbid-overwrite');
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return context.store.versioning(context.bucket) === undefined;
  throw ossErrors.invalidArgument(
    `Expected x-oss-forbid-overwrite to be true or false, got "${value}".`,
    'x-oss-forbid-overwrite',
    value,
    '0017-00000279',
  );
};

/**
 * The version id a write gets: a fresh one while versioning is Enabled, `null` while Suspended (the "null version"
 * of https://www.alibabacloud.com/help/en/oss/user-guide/manage-objects-in-a-versioning-suspended-bucket), none in a
 * bucket that never had versioning.
 */
export const newVersionId = (context: Pick<OperationContext, 'store' | 'bucket'>): string | undefined => {
  const status = context.store.versioning(context.bucket);
  if (status === undefined) return undefined;
  return status === 'Suspended' ? 'null' : `CAEQ${randomBytes(24).toString('base64url')}`;
};

/** `x-oss-version-id` for an object of a versioned bucket, nothing otherwise. */
export const versionHeader = (object: Pick<StoredObject, 'versionId'>): Record<string, string> =>
  object.versionId === undefined ? {} : { 'x-oss-version-id': object.versionId };

/** `x-oss-hash-crc64ecma` when the object has one (copies may not). */
export const crcHeader = (crc64: string | undefined): Record<string, string> =>
  crc64 === undefined ? {} : { 'x-oss-hash-crc64ecma': crc64 };

/** What OSS answers a write (PutObject, CopyObject, CompleteMultipartUpload) with: the object's ETag, CRC, version. */
export const writtenObjectHeaders = (
  object: Pick<StoredObject, 'etag' | 'crc64' | 'versionId'>,
): Record<string, string> => ({
  ETag: quoted(object.etag),
  ...crcHeader(object.crc64),
  ...versionHeader(object),
});

export const checkContentMd5 = (headers: IncomingHttpHeaders, body: Buffer) => {
  const contentMd5 = headerOf(headers, 'content-md5');
  if (contentMd5 === undefined) return;
  if (createHash('md5').update(body).digest('base64') !== contentMd5) throw ossErrors.invalidDigest(contentMd5);
};

/** The standard headers OSS keeps with an object and returns on GET and HEAD. */
const STORED_HEADERS = [
  'content-type',
  'content-encoding',
  'content-disposition',
  'content-language',
  'cache-control',
  'expires',
];

export const storedHeadersOf = (headers: IncomingHttpHeaders) => {
  const stored: Record<string, string> = { 'content-type': 'application/octet-stream' };
  for (const name of STORED_HEADERS) {
    const value = headerOf(headers, name);
    if (value !== undefined) stored[name] = value;
  }
  return stored;
};

export const userMetaOf = (headers: IncomingHttpHeaders) =>
  Object.fromEntries(
    Object.keys(headers)
      .filter((name) => name.startsWith('x-oss-meta-'))
      .map((name) => [name, headerOf(headers, name) ?? '']),
  );

export const quoted = (etag: string) => `"${etag}"`;

/** OSS keeps Last-Modified to the second. */
export const nowToTheSecond = () => Math.floor(Date.now() / 1000) * 1000;

/** Commits a freshly written object, or discards its blob and answers 409 when `ifAbsent` finds the key taken. */
export const commitObject = async (
  context: OperationContext,
  object: StoredObject,
  ifAbsent: boolean,
): Promise<{ previous: StoredObject | undefined }> => {
  const result = context.store.commit(context.bucket, object, { ifAbsent });
  if (!result.committed) {
    await context.store.discardBlob(context.bucket, object.blob);
    throw ossErrors.fileAlreadyExists(object.key);
  }
  return { previous: result.previous };
};

/** Fails fast, before a body is stored, when the key is taken and overwriting is forbidden; commit checks again. */
export const refuseOverwrite = (context: OperationContext, key: string, ifAbsent: boolean) => {
  if (ifAbsent && context.store.get(context.bucket, key) !== undefined) throw ossErrors.fileAlreadyExists(key);
};

/** `x-oss-copy-source: /<bucket>/<url-encoded key>` as ali-oss sends it. */
export const copySourceOf = (value: string) => {
  const match = /^\/?([^/]+)\/(.+)$/.exec(value);
  if (match === null || value.includes('?')) {
    throw ossErrors.invalidArgument(
      `Expected x-oss-copy-source to be /<bucket>/<url-encoded key> (versions are not emulated), got "${value}".`,
      'x-oss-copy-source',
      value,
    );
  }
  const [bucket = '', encodedKey = ''] = match.slice(1);
  try {
    return { bucket, key: decodeURIComponent(encodedKey) };
  } catch {
    throw ossErrors.invalidArgument(
      `Expected a URL-encoded key in x-oss-copy-source, got "${value}".`,
      'x-oss-copy-source',
      value,
    );
  }
};
