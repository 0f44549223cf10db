/** ListObjects (v1: marker / NextMarker) and ListObjectsV2 (`list-type=2`: continuation-token / start-after). */

import { compareKeys, type StoredObject } from './disk-store.ts';
import { ossErrors } from './errors.ts';
import { type Operation, type OperationContext, quoted } from './operation.ts';
import { element, text, xmlDocument } from './xml.ts';

type Page = { objects: StoredObject[]; prefixes: string[]; truncated: boolean; last: string | undefined };

/**
 * The entries after `after` under `prefix`, keys that contain `delimiter` past the prefix rolled up into common
 * prefixes; each object or common prefix counts toward `maxKeys`, as in OSS.
 */
const listPage = (
  sorted: StoredObject[],
  { prefix, delimiter, after, maxKeys }: { prefix: string; delimiter: string; after: string; maxKeys: number },
): Page => {
  const page: Page = { objects: [], prefixes: [], truncated: false, last: undefined };
  for (const object of sorted) {
    if (!object.key.startsWith(prefix) || compareKeys(object.key, after) <= 0) continue;
    const cut = delimiter === '' ? -1 : object.key.indexOf(delimiter, prefix.length);
    const commonPrefix = cut < 0 ? undefined : object.key.slice(0, cut + delimiter.length);
    // A common prefix already returned (on this page or, as the marker, on the previous one) is not repeated.
    if (commonPrefix !== undefined && (commonPrefix === page.last || compareKeys(commonPrefix, after) <= 0)) continue;
    if (page.objects.length + page.prefixes.length === maxKeys) return { ...page, truncated: true };
    if (commonPrefix === undefined) page.objects.push(object);
    else page.prefixes.push(commonPrefix);
    page.last = commonPrefix ?? object.key;
  }
  return page;
};

const listObjects: Operation = (context) => {
  const parameters = listParameters(context.request.query);
  const marker = context.request.query.get('marker') ?? '';
  const page = listPage(context.store.list(context.bucket), { ...parameters, after: marker });
  const { encode } = parameters;
  return listResult([
    text('Name', context.bucket),
    text('Prefix', encode(parameters.prefix)),
    text('Marker', encode(marker)),
    text('MaxKeys', parameters.maxKeys),
    text('Delimiter', encode(parameters.delimiter)),
    ...encodingTypeElement(parameters.encodingType),
    text('IsTruncated', page.truncated),
    ...(page.truncated && page.last !== undefined ? [text('NextMarker', encode(page.last))] : []),
    ...entries(context, page, encode, true),
  ]);
};

const listObjectsV2: Operation = (context) => {
  const { query } = context.request;
  const parameters = listParameters(query);
  const token = query.get('continuation-token');
  const startAfter = query.get('start-after');
  const page = listPage(context.store.list(context.bucket), {
    ...parameters,
    after: token === undefined ? (startAfter ?? '') : decodeToken(token),
  });
  const { encode } = parameters;
  return listResult([
    text('Name', context.bucket),
    text('Prefix', encode(parameters.prefix)),
    ...(token === undefined ? [] : [text('ContinuationToken', token)]),
    ...(startAfter === undefined ? [] : [text('StartAfter', encode(startAfter))]),
    text('MaxKeys', parameters.maxKeys),
    text('Delimiter', encode(parameters.delimiter)),
    ...encodingTypeElement(parameters.encodingType),
    text('IsTruncated', page.truncated),
    ...(page.truncated && page.last !== undefined ? [text('NextContinuationToken', encodeToken(page.last))] : []),
    text('KeyCount', page.objects.length + page.prefixes.length),
    ...entries(context, page, encode, query.get('fetch-owner') === 'true'),
  ]);
};

export const listingOperations = {
  ListObjects: listObjects,
  ListObjectsV2: listObjectsV2,
} satisfies Record<string, Operation>;

const listParameters = (query: Map<string, string>) => {
  const maxKeysText = query.get('max-keys') ?? '100';
  const maxKeys = Number(maxKeysText);
  if (!/^\d+$/.test(maxKeysText) || maxKeys > 1000) {
    throw ossErrors.invalidArgument(
      `Expected max-keys to be an integer from 0 to 1000, got "${maxKeysText}".`,
      'max-keys',
      maxKeysText,
    );
  }
  const encodingType = query.get('encoding-type');
  if (encodingType !== undefined && encodingType !== 'url') {
    throw ossErrors.invalidArgument(
      `Expected encoding-type to be url, got "${encodingType}".`,
      'encoding-type',
      encodingType,
    );
  }
  return {
    prefix: query.get('prefix') ?? '',
    delimiter: query.get('delimiter') ?? '',
    maxKeys,
    encodingType,
    // With encoding-type=url, keys, prefixes, markers and the delimiter are percent-encoded (space as %20).
    encode: encodingType === 'url' ? encodeURIComponent : (value: string) => value,
  };
};

const encodingTypeElement = (encodingType: string | undefined) =>
  encodingType === undefined ? [] : [text('EncodingType', encodingType)];

const entries = (context: OperationContext, page: Page, encode: (value: string) => string, withOwner: boolean) => {
  // ali-oss's v1 list() reads Contents/Owner/ID unguarded, so v1 always carries an Owner.
  const owner = element('Owner', [text('ID', context.accountId), text('DisplayName', context.accountId)]);
  return [
    ...page.objects.map((object) =>
      element('Contents', [
        text('Key', encode(object.key)),
        text('LastModified', new Date(object.lastModified).toISOString()),
        text('ETag', quoted(object.etag)),
        text('Type', object.type),
        text('Size', object.size),
        text('StorageClass', 'Standard'),
        ...(withOwner ? [owner] : []),
      ]),
    ),
    ...page.prefixes.map((prefix) => element('CommonPrefixes', [text('Prefix', encode(prefix))])),
  ];
};

const listResult = (children: string[]) => ({
  status: 200,
  headers: { 'Content-Type': 'application/xml' },
  body: xmlDocument(element('ListBucketResult', children)),
});

/** Continuation tokens are opaque to clients; this one is the last key or common prefix returned, base64url-encoded. */
const encodeToken = (last: string) => Buffer.from(last, 'utf8').toString('base64url');

const decodeToken = (token: string) => {
  if (!/^[A-Za-z0-9_-]*$/.test(token)) {
    throw ossErrors.invalidArgument(
      `Expected a continuation-token from a previous listing, got "${token}".`,
      'continuation-token',
      token,
    );
  }
  return Buffer.from(token, 'base64url').toString('utf8');
};
