/**
 * The two listings of multipart uploads in progress, in the XML shapes of their references:
 * ListParts (`GET /<key>?uploadId=…`, https://www.alibabacloud.com/help/en/oss/developer-reference/listparts) and
 * ListMultipartUploads (`GET /?uploads`, https://www.alibabacloud.com/help/en/oss/developer-reference/listmultipartuploads).
 */

import { compareKeys } from './disk-store.ts';
import { ossErrors } from './errors.ts';
import type { Part, Upload } from './multipart.ts';
import { type OperationContext, type OssResponse, quoted } from './operation.ts';
import { element, text, xmlDocument } from './xml.ts';

const MAX_LISTED = 1000;

/** The parts after `part-number-marker`, at most `max-parts` (1–1000, default 1000), by part number. */
export const listedParts = ({ request, bucket }: OperationContext, upload: Upload): OssResponse => {
  const { query } = request;
  const maxParts = boundedCount(query.get('max-parts'), 'max-parts');
  const markerText = query.get('part-number-marker') ?? '0';
  if (!/^\d+$/.test(markerText)) {
    throw ossErrors.invalidArgument(
      `Expected part-number-marker to be a part number, got "${markerText}".`,
      'part-number-marker',
      markerText,
    );
  }
  const marker = Number(markerText);
  const encode = encoderOf(query.get('encoding-type'));
  const after = [...upload.parts.entries()].filter(([partNumber]) => partNumber > marker).sort(([a], [b]) => a - b);
  const page = after.slice(0, maxParts);
  const truncated = after.length > page.length;
  const last = page.at(-1)?.[0];
  return xmlResult(
    element('ListPartsResult', [
      text('Bucket', bucket),
      ...encodingTypeElement(query.get('encoding-type')),
      text('Key', encode(upload.key)),
      text('UploadId', upload.uploadId),
      text('PartNumberMarker', marker),
      ...(last === undefined ? [] : [text('NextPartNumberMarker', last)]),
      text('MaxParts', maxParts),
      text('IsTruncated', truncated),
      ...page.map(([partNumber, part]) => partElement(partNumber, part)),
    ]),
  );
};

const partElement = (partNumber: number, part: Part) =>
  element('Part', [
    text('PartNumber', partNumber),
    text('LastModified', new Date(part.lastModified).toISOString()),
    text('ETag', quoted(part.md5.toString('hex').toUpperCase())),
    ...(part.crc64 === undefined ? [] : [text('HashCrc64ecma', part.crc64)]),
    text('Size', part.size),
  ]);

/**
 * The bucket's uploads in progress under `prefix`, by key and then upload id, after `key-marker` (and, for that key,
 * after `upload-id-marker`); keys with `delimiter` past the prefix are rolled up into common prefixes. Each upload
 * or common prefix counts toward `max-uploads` (1–1000, default 1000).
 */
export const listedUploads = ({ request, bucket }: OperationContext, uploads: Upload[]): OssResponse => {
  const { query } = request;
  const maxUploads = boundedCount(query.get('max-uploads'), 'max-uploads');
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const keyMarker = query.get('key-marker') ?? '';
  const uploadIdMarker = query.get('upload-id-marker') ?? '';
  const encode = encoderOf(query.get('encoding-type'));
  const sorted = [...uploads].sort(
    (a, b) => compareKeys(a.key, b.key) || (a.uploadId < b.uploadId ? -1 : a.uploadId > b.uploadId ? 1 : 0),
  );
  const isAfterMarker = (upload: Upload) => {
    const order = compareKeys(upload.key, keyMarker);
    return order > 0 || (order === 0 && uploadIdMarker !== '' && upload.uploadId > uploadIdMarker);
  };
  const listed: Upload[] = [];
  const prefixes: string[] = [];
  let truncated = false;
  let last: Upload | string | undefined;
  for (const upload of sorted) {
    if (!upload.key.startsWith(prefix) || !isAfterMarker(upload)) continue;
    const cut = delimiter === '' ? -1 : upload.key.indexOf(delimiter, prefix.length);
    const commonPrefix = cut < 0 ? undefined : upload.key.slice(0, cut + delimiter.length);
    if (commonPrefix !== undefined && (prefixes.includes(commonPrefix) || compareKeys(commonPrefix, keyMarker) <= 0))
      continue;
    if (listed.length + prefixes.length === maxUploads) {
      truncated = true;
      break;
    }
    if (commonPrefix === undefined) listed.push(upload);
    else prefixes.push(commonPrefix);
    last = commonPrefix ?? upload;
  }
  const nextKeyMarker = typeof last === 'string' ? last : (last?.key ?? '');
  const nextUploadIdMarker = typeof last === 'string' || last === undefined ? '' : last.uploadId;
  return xmlResult(
    element('ListMultipartUploadsResult', [
      text('Bucket', bucket),
      ...encodingTypeElement(query.get('encoding-type')),
      text('KeyMarker', encode(keyMarker)),
      text('UploadIdMarker', uploadIdMarker),
      text('NextKeyMarker', encode(nextKeyMarker)),
      text('NextUploadIdMarker', nextUploadIdMarker),
      text('Delimiter', encode(delimiter)),
      text('Prefix', encode(prefix)),
      text('MaxUploads', maxUploads),
      text('IsTruncated', truncated),
      ...listed.map((upload) =>
        element('Upload', [
          text('Key', encode(upload.key)),
          text('UploadId', upload.uploadId),
          text('Initiated', new Date(upload.initiated).toISOString()),
        ]),
      ),
      ...prefixes.map((commonPrefix) => element('CommonPrefixes', [text('Prefix', encode(commonPrefix))])),
    ]),
  );
};

const boundedCount = (value: string | undefined, name: string) => {
  if (value === undefined) return MAX_LISTED;
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < 1 || count > MAX_LISTED) {
    throw ossErrors.invalidArgument(
      `Expected ${name} to be an integer from 1 to ${MAX_LISTED}, got "${value}".`,
      name,
      value,
    );
  }
  return count;
};

const encoderOf = (encodingType: string | undefined) => {
  if (encodingType !== undefined && encodingType !== 'url') {
    throw ossErrors.invalidArgument(
      `Expected encoding-type to be url, got "${encodingType}".`,
      'encoding-type',
      encodingType,
    );
  }
  return encodingType === 'url' ? encodeURIComponent : (value: string) => value;
};

const encodingTypeElement = (encodingType: string | undefined) =>
  encodingType === undefined ? [] : [text('EncodingType', encodingType)];

const xmlResult = (root: string): OssResponse => ({
  status: 200,
  headers: { 'Content-Type': 'application/xml' },
  body: xmlDocument(root),
});
