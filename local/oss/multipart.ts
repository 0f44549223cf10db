/**
 * InitiateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload, ListParts and
 * ListMultipartUploads. Uploads in progress live in memory and their parts as unreferenced blobs, so a restart forgets
 * them (the store deletes the parts at start-up), where real OSS would keep them until aborted or expired by a
 * lifecycle rule.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream } from 'node:fs';
import { crc64, updateCrc64 } from '../../shared/crc64.ts';
import type { DiskStore, StoredObject } from './disk-store.ts';
import { ossErrors } from './errors.ts';
import { listedParts, listedUploads } from './multipart-listing.ts';
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
  type OperationContext,
  quoted,
  refuseOverwrite,
  storedHeadersOf,
  userMetaOf,
  writtenObjectHeaders,
} from './operation.ts';
import { element, text, unescapeXml, xmlDocument } from './xml.ts';

export type Part = {
  blob: string;
  size: number;
  md5: Buffer;
  /** Absent for a part copied without one (UploadPartCopy with `omitCopyCrc64`). */
  crc64: string | undefined;
  lastModified: number;
};

export type Upload = {
  uploadId: string;
  bucket: string;
  key: string;
  /** When InitiateMultipartUpload ran, in milliseconds (ListMultipartUploads shows it and orders by it). */
  initiated: number;
  headers: Record<string, string>;
  userMeta: Record<string, string>;
  parts: Map<number, Part>;
};

const MIN_PART_SIZE = 100 * 1024;
const MAX_PART_NUMBER = 10_000;

export const createMultipartOperations = (store: DiskStore) => {
  const uploads = new Map<string, Upload>();

  const uploadOf = ({ request, bucket }: OperationContext) => {
    const uploadId = request.query.get('uploadId') ?? '';
    const upload = uploads.get(uploadId);
    if (upload === undefined || upload.bucket !== bucket || upload.key !== request.key) {
      throw ossErrors.noSuchUpload(uploadId);
    }
    return { uploadId, upload };
  };

  const discardParts = (upload: Upload) =>
    Promise.all([...upload.parts.values()].map((part) => store.discardBlob(upload.bucket, part.blob)));

  const initiate: Operation = (context) => {
    const { request, bucket } = context;
    refuseOverwrite(context, request.key, forbidsOverwrite(context));
    const uploadId = randomBytes(16).toString('hex').toUpperCase();
    uploads.set(uploadId, {
      uploadId,
      initiated: Date.now(),
      bucket,
      key: request.key,
      headers: storedHeadersOf(request.headers),
      userMeta: userMetaOf(request.headers),
      parts: new Map(),
    });
    return {
      status: 200,
      headers: { 'Content-Type': 'application/xml' },
      body: xmlDocument(
        element('InitiateMultipartUploadResult', [
          text('Bucket', bucket),
          text('Key', request.key),
          text('UploadId', uploadId),
        ]),
      ),
    };
  };

  const uploadPart: Operation = async (context) => {
    const { request, body, bucket } = context;
    const { uploadId } = uploadOf(context);
    const partNumber = partNumberOf(request.query.get('partNumber') ?? '');
    checkContentMd5(request.headers, body);
    const part: Part = {
      blob: await store.writeBlob(bucket, body),
      size: body.length,
      md5: createHash('md5').update(body).digest(),
      crc64: crc64(body),
      lastModified: nowToTheSecond(),
    };
    await keepPart(bucket, uploadId, partNumber, part);
    return {
      status: 200,
      headers: { ETag: quoted(hex(part.md5)), ...crcHeader(part.crc64) },
    };
  };

  /** Adds a written part to its upload, replacing a part of the same number; discards it if the upload is gone. */
  const keepPart = async (bucket: string, uploadId: string, partNumber: number, part: Part) => {
    const upload = uploads.get(uploadId);
    if (upload === undefined) {
      // Aborted or completed while this part was being written.
      await store.discardBlob(bucket, part.blob);
      throw ossErrors.noSuchUpload(uploadId);
    }
    const replaced = upload.parts.get(partNumber);
    upload.parts.set(partNumber, part);
    if (replaced !== undefined) await store.discardBlob(upload.bucket, replaced.blob);
  };

  /**
   * UploadPartCopy (https://www.alibabacloud.com/help/en/oss/developer-reference/uploadpartcopy): a part copied from
   * `x-oss-copy-source`, optionally the `x-oss-copy-source-range` of it; answers `<CopyPartResult>`.
   */
  const uploadPartCopy: Operation = async (context) => {
    const { request, bucket } = context;
    const { uploadId } = uploadOf(context);
    const partNumber = partNumberOf(request.query.get('partNumber') ?? '');
    const source = copySourceOf(headerOf(request.headers, 'x-oss-copy-source') ?? '');
    if (!context.bucketExists(source.bucket)) throw ossErrors.noSuchBucket(source.bucket);
    context.authorize(source.bucket, 'read', source.key);
    const opened = store.open(source.bucket, source.key);
    if (opened === undefined) throw ossErrors.noSuchKey(source.key);
    const range = copyRangeOf(headerOf(request.headers, 'x-oss-copy-source-range'), opened.object.size);
    const chunks: Buffer[] = [];
    if (range.end >= range.start) {
      for await (const chunk of createReadStream('', { fd: opened.fd, start: range.start, end: range.end }))
        chunks.push(chunk as Buffer);
    } else {
      closeSync(opened.fd);
    }
    const bytes = Buffer.concat(chunks);
    const part: Part = {
      blob: await store.writeBlob(bucket, bytes),
      size: bytes.length,
      md5: createHash('md5').update(bytes).digest(),
      crc64: context.omitCopyCrc64 ? undefined : crc64(bytes),
      lastModified: nowToTheSecond(),
    };
    await keepPart(bucket, uploadId, partNumber, part);
    return {
      status: 200,
      headers: { 'Content-Type': 'application/xml', ETag: quoted(hex(part.md5)), ...crcHeader(part.crc64) },
      body: xmlDocument(
        element('CopyPartResult', [
          text('LastModified', new Date(part.lastModified).toISOString()),
          text('ETag', quoted(hex(part.md5))),
        ]),
      ),
    };
  };

  const complete: Operation = async (context) => {
    const { request, bucket } = context;
    const { uploadId, upload } = uploadOf(context);
    const parts = chosenParts(upload, parseCompleteRequest(context.body.toString('utf8')));
    const ifAbsent = forbidsOverwrite(context);
    refuseOverwrite(context, request.key, ifAbsent);
    const versionId = newVersionId(context);
    // Taken out while the parts are joined, so that a concurrent Complete or Abort finds no upload.
    uploads.delete(uploadId);
    try {
      let crc = 0n;
      const blob = await store.writeBlob(
        bucket,
        joinParts(store, bucket, parts, (chunk) => {
          crc = updateCrc64(crc, chunk);
        }),
      );
      const object: StoredObject = {
        key: request.key,
        blob,
        size: parts.reduce((total, part) => total + part.size, 0),
        etag: multipartEtag(parts),
        // "the CRC-64 value for the entire object is returned only if all of its parts have a CRC-64 value"
        // (https://help.aliyun.com/en/oss/user-guide/check-data-transmission-integrity-by-using-crc-64)
        ...(parts.every((part) => part.crc64 !== undefined) ? { crc64: crc.toString() } : {}),
        type: 'Multipart',
        headers: upload.headers,
        userMeta: upload.userMeta,
        lastModified: nowToTheSecond(),
        ...(versionId === undefined ? {} : { versionId }),
      };
      const { previous } = await commitObject(context, object, ifAbsent);
      await discardParts(upload);
      return {
        status: 200,
        headers: { 'Content-Type': 'application/xml', ...writtenObjectHeaders(object) },
        body: xmlDocument(
          element('CompleteMultipartUploadResult', [
            text(
              'Location',
              `http://${bucket}.${context.region}.aliyuncs.com/${encodeURIComponent(request.key).replace(/%2F/g, '/')}`,
            ),
            text('Bucket', bucket),
            text('Key', request.key),
            text('ETag', quoted(object.etag)),
          ]),
        ),
        created: { eventName: 'ObjectCreated:CompleteMultipartUpload', object, previous },
      };
    } catch (error) {
      // E.g. the key was taken meanwhile (forbid-overwrite): the upload stays, as on OSS, so it can be aborted.
      uploads.set(uploadId, upload);
      throw error;
    }
  };

  const abort: Operation = async (context) => {
    const { uploadId, upload } = uploadOf(context);
    uploads.delete(uploadId);
    await discardParts(upload);
    return { status: 204 };
  };

  const listParts: Operation = (context) => listedParts(context, uploadOf(context).upload);

  const listMultipartUploads: Operation = (context) =>
    listedUploads(
      context,
      [...uploads.values()].filter((upload) => upload.bucket === context.bucket),
    );

  return {
    InitiateMultipartUpload: initiate,
    UploadPart: uploadPart,
    UploadPartCopy: uploadPartCopy,
    CompleteMultipartUpload: complete,
    AbortMultipartUpload: abort,
    ListParts: listParts,
    ListMultipartUploads: listMultipartUploads,
  } satisfies Record<string, Operation>;
};

/**
 * `x-oss-copy-source-range: bytes=first-last` (both inclusive, within the source); absent: the whole source.
 * Anything else is refused with InvalidArgument rather than guessed.
 */
const copyRangeOf = (value: string | undefined, size: number) => {
  if (value === undefined) return { start: 0, end: size - 1 };
  const match = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  const start = Number(match?.[1]);
  const end = Number(match?.[2]);
  if (match === null || end < start || end >= size) {
    throw ossErrors.invalidArgument(
      `Expected x-oss-copy-source-range to be bytes=<first>-<last> within the ${size}-byte source, got "${value}".`,
      'x-oss-copy-source-range',
      value,
    );
  }
  return { start, end };
};

const partNumberOf = (value: string) => {
  const partNumber = Number(value);
  if (!/^\d+$/.test(value) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
    throw ossErrors.invalidArgument(
      `Expected partNumber to be an integer from 1 to ${MAX_PART_NUMBER}, got "${value}".`,
      'partNumber',
      value,
    );
  }
  return partNumber;
};

type RequestedPart = { partNumber: number; etag: string };

/** The `<CompleteMultipartUpload><Part><PartNumber/><ETag/></Part>…` body; ETags may be quoted or not. */
const parseCompleteRequest = (xml: string): RequestedPart[] => {
  const malformed = () =>
    ossErrors.malformedXml(
      'The XML you provided was not well-formed: expected <CompleteMultipartUpload> with <Part><PartNumber/><ETag/></Part> elements.',
    );
  if (!/<CompleteMultipartUpload>[\s\S]*<\/CompleteMultipartUpload>/.test(xml)) throw malformed();
  const parts = [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map(([, inner = '']) => {
    const partNumber = /<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(inner)?.[1];
    const etag = /<ETag>([\s\S]*?)<\/ETag>/.exec(inner)?.[1];
    if (partNumber === undefined || etag === undefined) throw malformed();
    return { partNumber: Number(partNumber), etag: unescapeXml(etag).trim().replace(/^"|"$/g, '').toUpperCase() };
  });
  if (parts.length === 0) throw malformed();
  return parts;
};

/** The uploaded parts a Complete request names, checked the way OSS checks them. */
const chosenParts = (upload: Upload, requested: RequestedPart[]) =>
  requested.map(({ partNumber, etag }, index) => {
    if (index > 0 && partNumber <= (requested[index - 1] as RequestedPart).partNumber)
      throw ossErrors.invalidPartOrder();
    const part = upload.parts.get(partNumber);
    if (part === undefined)
      throw ossErrors.invalidPart(
        `One or more of the specified parts could not be found: part ${partNumber} was not uploaded.`,
      );
    if (hex(part.md5) !== etag) {
      throw ossErrors.invalidPart(
        `One or more of the specified parts could not be found: part ${partNumber} has ETag "${hex(part.md5)}", not "${etag}".`,
      );
    }
    if (index < requested.length - 1 && part.size < MIN_PART_SIZE) throw ossErrors.entityTooSmall(partNumber);
    return part;
  });

async function* joinParts(store: DiskStore, bucket: string, parts: Part[], onChunk: (chunk: Buffer) => void) {
  for (const part of parts) {
    for await (const chunk of store.readBlob(bucket, part.blob)) {
      onChunk(chunk as Buffer);
      yield chunk as Buffer;
    }
  }
}

/** OSS's multipart ETag: the MD5 of the parts' binary MD5s, then `-<number of parts>`. */
const multipartEtag = (parts: Part[]) =>
  `${hex(
    createHash('md5')
      .update(Buffer.concat(parts.map((part) => part.md5)))
      .digest(),
  )}-${parts.length}`;

const hex = (digest: Buffer) => digest.toString('hex').toUpperCase();
