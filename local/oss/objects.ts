/** PutObject, GetObject, HeadObject, GetObjectMeta, DeleteObject and CopyObject. */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { crc64 } from '../../shared/crc64.ts';
import type { StoredObject } from './disk-store.ts';
import { ossErrors } from './errors.ts';
import {
  checkContentMd5,
  commitObject,
  copySourceOf,
  crcHeader,
  forbidsOverwrite,
  headerOf,
  newVersionId,
  nowToTheSecond,
  type Operation,
  type OssResponse,
  quoted,
  refuseOverwrite,
  storedHeadersOf,
  userMetaOf,
  versionHeader,
  writtenObjectHeaders,
} from './operation.ts';
import { element, text, xmlDocument } from './xml.ts';

const putObject: Operation = async (context) => {
  const { request, body, store, bucket } = context;
  const ifAbsent = forbidsOverwrite(context);
  refuseOverwrite(context, request.key, ifAbsent);
  checkContentMd5(request.headers, body);
  const versionId = newVersionId(context);
  const md5 = createHash('md5').update(body).digest();
  const object: StoredObject = {
    key: request.key,
    blob: await store.writeBlob(bucket, body),
    size: body.length,
    etag: md5.toString('hex').toUpperCase(),
    crc64: crc64(body),
    type: 'Normal',
    headers: storedHeadersOf(request.headers),
    userMeta: userMetaOf(request.headers),
    lastModified: nowToTheSecond(),
    ...(versionId === undefined ? {} : { versionId }),
  };
  const { previous } = await commitObject(context, object, ifAbsent);
  return {
    status: 200,
    headers: { ...writtenObjectHeaders(object), 'Content-MD5': md5.toString('base64') },
    created: { eventName: 'ObjectCreated:PutObject', object, previous },
  };
};

const getObject: Operation = ({ request, store, bucket }) => {
  const opened = store.open(bucket, request.key);
  if (opened === undefined) throw ossErrors.noSuchKey(request.key);
  const { object, fd } = opened;
  let streaming = false;
  try {
    const notModified = checkPreconditions(request.headers, object);
    if (notModified) return notModified;
    const standard = headerOf(request.headers, 'x-oss-range-behavior') === 'standard';
    const range = rangeOf(headerOf(request.headers, 'range'), object.size, standard);
    const headers = { ...objectHeaders(object), ...responseOverrides(request.query) };
    if (object.size === 0) return { status: 200, headers, body: Buffer.alloc(0) };
    streaming = true;
    if (range === undefined) return { status: 200, headers, body: { fd, start: 0, end: object.size - 1 } };
    return {
      status: 206,
      headers: { ...headers, 'Content-Range': `bytes ${range.start}-${range.end}/${object.size}` },
      body: { fd, ...range },
    };
  } finally {
    if (!streaming) closeSync(fd);
  }
};

const headObject: Operation = ({ request, store, bucket }) => {
  const object = store.get(bucket, request.key);
  if (object === undefined) throw ossErrors.noSuchKey(request.key);
  return (
    checkPreconditions(request.headers, object) ?? {
      status: 200,
      headers: { ...objectHeaders(object), 'Content-Length': String(object.size) },
    }
  );
};

/**
 * GetObjectMeta (`HEAD /<key>?objectMeta`): only the size, ETag, Last-Modified, CRC-64 and version id, as
 * https://www.alibabacloud.com/help/en/oss/developer-reference/getobjectmeta lists them (no Content-Type, no user
 * metadata; the CRC-64 per https://help.aliyun.com/en/oss/user-guide/check-data-transmission-integrity-by-using-crc-64).
 */
const getObjectMeta: Operation = ({ request, store, bucket }) => {
  const object = store.get(bucket, request.key);
  if (object === undefined) throw ossErrors.noSuchKey(request.key);
  return {
    status: 200,
    headers: {
      'Content-Length': String(object.size),
      ETag: quoted(object.etag),
      'Last-Modified': new Date(object.lastModified).toUTCString(),
      ...crcHeader(object.crc64),
      ...versionHeader(object),
    },
  };
};

/**
 * OSS answers 204 whether or not the key existed. In a versioned bucket the current version is replaced by a delete
 * marker (`x-oss-delete-marker: true` and the marker's version id); the emulator keeps no older versions, so the key
 * is simply gone.
 */
const deleteObject: Operation = (context) => {
  const { request, store, bucket } = context;
  store.delete(bucket, request.key);
  const markerId = newVersionId(context);
  return {
    status: 204,
    headers: markerId === undefined ? {} : { 'x-oss-delete-marker': 'true', 'x-oss-version-id': markerId },
  };
};

const copyObject: Operation = async (context) => {
  const { request, store, bucket } = context;
  const source = copySourceOf(headerOf(request.headers, 'x-oss-copy-source') ?? '');
  if (!context.bucketExists(source.bucket)) throw ossErrors.noSuchBucket(source.bucket);
  context.authorize(source.bucket, 'read', source.key);
  const ifAbsent = forbidsOverwrite(context);
  refuseOverwrite(context, request.key, ifAbsent);
  const versionId = newVersionId(context);
  const replaceMetadata = metadataDirectiveOf(request.headers) === 'REPLACE';
  const opened = store.open(source.bucket, source.key);
  if (opened === undefined) throw ossErrors.noSuchKey(source.key);
  const { crc64: sourceCrc64, versionId: _sourceVersion, ...copied } = opened.object;
  const object: StoredObject = {
    ...copied,
    key: request.key,
    blob: await store.writeBlob(bucket, createReadStream('', { fd: opened.fd })),
    headers: replaceMetadata ? storedHeadersOf(request.headers) : opened.object.headers,
    userMeta: replaceMetadata ? userMetaOf(request.headers) : opened.object.userMeta,
    lastModified: nowToTheSecond(),
    // "Objects created by copy operations such as CopyObject and UploadPartCopy may not have a CRC-64 value"
    // (https://help.aliyun.com/en/oss/user-guide/check-data-transmission-integrity-by-using-crc-64): either, by option.
    ...(context.omitCopyCrc64 || sourceCrc64 === undefined ? {} : { crc64: sourceCrc64 }),
    ...(versionId === undefined ? {} : { versionId }),
  };
  const { previous } = await commitObject(context, object, ifAbsent);
  return {
    status: 200,
    headers: { 'Content-Type': 'application/xml', ...writtenObjectHeaders(object) },
    body: xmlDocument(
      element('CopyObjectResult', [
        text('ETag', quoted(object.etag)),
        text('LastModified', new Date(object.lastModified).toISOString()),
      ]),
    ),
    created: { eventName: 'ObjectCreated:CopyObject', object, previous },
  };
};

export const objectOperations = {
  PutObject: putObject,
  GetObject: getObject,
  HeadObject: headObject,
  GetObjectMeta: getObjectMeta,
  DeleteObject: deleteObject,
  CopyObject: copyObject,
} satisfies Record<string, Operation>;

const objectHeaders = (object: StoredObject): Record<string, string> => ({
  ...object.headers,
  ...object.userMeta,
  ETag: quoted(object.etag),
  'Last-Modified': new Date(object.lastModified).toUTCString(),
  'Accept-Ranges': 'bytes',
  'x-oss-object-type': object.type,
  'x-oss-storage-class': 'Standard',
  ...crcHeader(object.crc64),
  ...versionHeader(object),
  // Only a simple upload's ETag is its MD5.
  ...(object.type === 'Normal' ? { 'Content-MD5': Buffer.from(object.etag, 'hex').toString('base64') } : {}),
});

/** `response-content-type` and friends override the stored headers of a GetObject response. */
const responseOverrides = (query: Map<string, string>) =>
  Object.fromEntries(
    ['content-type', 'content-language', 'expires', 'cache-control', 'content-disposition', 'content-encoding'].flatMap(
      (name) => {
        const value = query.get(`response-${name}`);
        return value === undefined ? [] : [[name, value]];
      },
    ),
  );

/** Throws 412 for a failed If-Match / If-Unmodified-Since; returns a 304 for If-None-Match / If-Modified-Since. */
const checkPreconditions = (headers: IncomingHttpHeaders, object: StoredObject): OssResponse | undefined => {
  const ifMatch = headerOf(headers, 'if-match');
  if (ifMatch !== undefined && !etagMatches(ifMatch, object.etag)) throw ossErrors.preconditionFailed('If-Match');
  const ifUnmodifiedSince = Date.parse(headerOf(headers, 'if-unmodified-since') ?? '');
  if (object.lastModified > ifUnmodifiedSince) throw ossErrors.preconditionFailed('If-Unmodified-Since');
  const ifNoneMatch = headerOf(headers, 'if-none-match');
  const ifModifiedSince = Date.parse(headerOf(headers, 'if-modified-since') ?? '');
  const unchanged =
    (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, object.etag)) || object.lastModified <= ifModifiedSince;
  if (!unchanged) return undefined;
  return {
    status: 304,
    headers: { ETag: quoted(object.etag), 'Last-Modified': new Date(object.lastModified).toUTCString() },
  };
};

const etagMatches = (condition: string, etag: string) =>
  condition
    .split(',')
    .map((candidate) => candidate.trim().replace(/^W\//, '').replace(/^"|"$/g, ''))
    .some((candidate) => candidate === '*' || candidate.toUpperCase() === etag);

/**
 * One `bytes=first-last`, `bytes=first-` or `bytes=-suffix` range, as OSS reads it
 * (https://help.aliyun.com/en/oss/how-to-obtain-oss-resources-by-segmenting-http-range-requests and the range
 * download pages of the SDK guides): by default a Range that does not parse, names several ranges, or reaches past
 * the object (its end included: `bytes=0-1000` of 1,000 bytes) is ignored and the whole object is sent with 200.
 * With `x-oss-range-behavior: standard` an end past the object is clamped (206) and a start past it is 416
 * InvalidRange.
 */
const rangeOf = (value: string | undefined, size: number, standard: boolean) => {
  const match = /^bytes=(\d*)-(\d*)$/.exec(value?.trim() ?? '');
  if (match === null) return undefined;
  const [first = '', last = ''] = match.slice(1);
  if (first === '') {
    const suffix = Number(last);
    if (last === '' || suffix === 0 || size === 0) return undefined;
    if (suffix > size && !standard) return undefined;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) {
    if (standard) throw ossErrors.invalidRange();
    return undefined;
  }
  if (last !== '' && Number(last) >= size && !standard) return undefined;
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
};

const metadataDirectiveOf = (headers: IncomingHttpHeaders) => {
  const directive = headerOf(headers, 'x-oss-metadata-directive') ?? 'COPY';
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw ossErrors.invalidArgument(
      `Expected x-oss-metadata-directive to be COPY or REPLACE, got "${directive}".`,
      'x-oss-metadata-directive',
      directive,
    );
  }
  return directive;
};
