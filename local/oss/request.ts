/** Reads what an HTTP request asks of OSS: the bucket, the key, the query and the operation it names. */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { ossErrors } from './errors.ts';
import { isSignedSubresource, queryPairs } from './signature.ts';

export const OPERATIONS = [
  'PutObject',
  'GetObject',
  'HeadObject',
  'DeleteObject',
  'CopyObject',
  'ListObjects',
  'ListObjectsV2',
  'GetObjectMeta',
  'InitiateMultipartUpload',
  'UploadPart',
  'UploadPartCopy',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
  'ListParts',
  'ListMultipartUploads',
  'PutBucketVersioning',
  'GetBucketVersioning',
] as const;

/** An emulated operation, or `Unsupported` for any other OSS API (answered 501 NotImplemented). */
export type OperationName = (typeof OPERATIONS)[number] | 'Unsupported';

export type OssRequest = {
  op: OperationName;
  method: string;
  /** From the Host header's first label, or from the first path segment when Host is an IP or localhost. */
  bucket: string | undefined;
  /** URL-decoded object key; '' for bucket-level requests. */
  key: string;
  /** Decoded query parameters ('+' read as a space). */
  query: Map<string, string>;
  /** The query string as received, which V4 signatures canonicalise. */
  rawQuery: string;
  headers: IncomingHttpHeaders;
  /** The region named by a `<bucket>.oss-<region>[-internal].aliyuncs.com` Host, if the Host has that shape. */
  hostRegion: string | undefined;
};

/** Throws InvalidURI / InvalidObjectName for requests OSS could not even route. */
export const parseRequest = (req: IncomingMessage): OssRequest => {
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  const path = queryStart < 0 ? url : url.slice(0, queryStart);
  const rawQuery = queryStart < 0 ? '' : url.slice(queryStart + 1);
  const { bucket, key, hostRegion } = locate(req.headers.host ?? '', path);
  if (key.startsWith('/') || key.startsWith('\\') || Buffer.byteLength(key) > 1023) {
    throw ossErrors.invalidObjectName(
      'The specified object is not valid: expected 1 to 1023 bytes of UTF-8 not starting with "/" or "\\".',
    );
  }
  const query = new Map(queryPairs(rawQuery));
  const method = (req.method ?? 'GET').toUpperCase();
  // Without a bucket the request is a service-level one such as ListBuckets, which is not emulated.
  const op = bucket === undefined ? 'Unsupported' : operationOf(method, key !== '', query, req.headers);
  return { op, method, bucket, key, query, rawQuery, headers: req.headers, hostRegion };
};

const locate = (host: string, path: string) => {
  // The Tea OSS SDKs' `ip` host model sends `Host: <ip:port>/<bucket>` and the path `/<bucket>/<key>`
  // (@alicloud/oss-util getHost), so only what precedes a slash names the host.
  const hostname = (host.split('/')[0] ?? '')
    .replace(/:\d+$/, '')
    .replace(/^\[|\]$/g, '')
    .toLowerCase();
  const segments = path.split('/').slice(1);
  if (hostname === '' || hostname === 'localhost' || isIP(hostname) !== 0) {
    // Path style: /<bucket>/<key>
    const [bucket, ...keySegments] = segments;
    return {
      bucket: bucket ? decodePath(bucket) : undefined,
      key: decodePath(keySegments.join('/')),
      hostRegion: undefined,
    };
  }
  // Virtual-hosted style, what ali-oss sends even to an IP endpoint: Host <bucket>.<region>.aliyuncs.com, path /<key>
  const [bucket, ...rest] = hostname.split('.');
  const hostRegion = /^(oss-[a-z0-9-]+?)(?:-internal)?\.aliyuncs\.com$/.exec(rest.join('.'))?.[1];
  return { bucket, key: decodePath(segments.join('/')), hostRegion };
};

const decodePath = (encoded: string) => {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw ossErrors.invalidUri(`Expected a percent-encoded UTF-8 path, got "${encoded}".`);
  }
};

/** `METHOD level sub-resources` → operation; `response-*` overrides on GetObject are not part of the route. */
const ROUTES: Record<string, OperationName> = {
  'GET bucket ': 'ListObjects',
  'GET bucket continuation-token': 'ListObjectsV2',
  'GET bucket uploads': 'ListMultipartUploads',
  'PUT bucket versioning': 'PutBucketVersioning',
  'GET bucket versioning': 'GetBucketVersioning',
  'PUT object ': 'PutObject',
  'PUT object partNumber&uploadId': 'UploadPart',
  'GET object ': 'GetObject',
  'HEAD object ': 'HeadObject',
  'HEAD object objectMeta': 'GetObjectMeta',
  'GET object uploadId': 'ListParts',
  'DELETE object ': 'DeleteObject',
  'DELETE object uploadId': 'AbortMultipartUpload',
  'POST object uploads': 'InitiateMultipartUpload',
  'POST object uploadId': 'CompleteMultipartUpload',
};

const operationOf = (method: string, hasKey: boolean, query: Map<string, string>, headers: IncomingHttpHeaders) => {
  const subresources = [...query.keys()]
    .filter((name) => isSignedSubresource(name) && !(method === 'GET' && name.startsWith('response-')))
    .sort();
  const route = ROUTES[`${method} ${hasKey ? 'object' : 'bucket'} ${subresources.join('&')}`] ?? 'Unsupported';
  const listV2 = query.get('list-type') === '2';
  const copySource = headers['x-oss-copy-source'] !== undefined;
  if (route === 'ListObjects' && listV2) return 'ListObjectsV2';
  if (route === 'ListObjectsV2' && !listV2) return 'Unsupported';
  if (route === 'PutObject' && copySource) return 'CopyObject';
  if (route === 'UploadPart' && copySource) return 'UploadPartCopy';
  return route;
};
