/**
 * InitiateMultipartUpload, UploadPart, CompleteMultipartUpload and AbortMultipartUpload. Uploads in progress live in
 * memory and their parts as unreferenced blobs, so a restart forgets them (the store deletes the parts at start-up),
 * where real OSS would keep them until aborted or expired by a lifecycle rule.
 */
import { createHash, randomBytes } from 'node:crypto';
import { crc64, updateCrc64 } from '../../shared/crc64';
import { ossErrors } from './errors';
import {
  checkContentMd5,
  commitObject,
  forbidsOverwrite,
  nowToTheSecond,
  type Operation,
  type OperationContext,
  quoted,
  refuseOverwrite,
  storedHeadersOf,
  userMetaOf,
} from './operation';
import type { ObjectStore, StoredObject } from './store';
import { element, text, unescapeXml, xmlDocument } from './xml';

type Part = { blob: string; size: number; md5: Buffer };

type Upload = {
  bucket: string;
  key: string;
  headers: Record<string, string>;
  userMeta: Record<string, string>;
  parts: Map<number, Part>;
};

const MIN_PART_SIZE = 100 * 1024;
const MAX_PART_NUMBER = 10_000;

export const createMultipartOperations = (store: ObjectStore) => {
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
    refuseOverwrite(context, request.key, forbidsOverwrite(request.headers));
    const uploadId = randomBytes(16).toString('hex').toUpperCase();
    uploads.set(uploadId, {
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
    };
    const upload = uploads.get(uploadId);
    if (upload === undefined) {
      // Aborted or completed while this part was being written.
      await store.discardBlob(bucket, part.blob);
      throw ossErrors.noSuchUpload(uploadId);
    }
    const replaced = upload.parts.get(partNumber);
    upload.parts.set(partNumber, part);
    if (replaced !== undefined) await store.discardBlob(bucket, replaced.blob);
    return {
      status: 200,
      headers: { ETag: quoted(hex(part.md5)), 'x-oss-hash-crc64ecma': crc64(body) },
    };
  };

  const complete: Operation = async (context) => {
    const { request, bucket } = context;
    const { uploadId, upload } = uploadOf(context);
    const parts = chosenParts(upload, parseCompleteRequest(context.body.toString('utf8')));
    const ifAbsent = forbidsOverwrite(request.headers);
    refuseOverwrite(context, request.key, ifAbsent);
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
        crc64: crc.toString(),
        type: 'Multipart',
        headers: upload.headers,
        userMeta: upload.userMeta,
        lastModified: nowToTheSecond(),
      };
      const { previous } = await commitObject(context, object, ifAbsent);
      await discardParts(upload);
      return {
        status: 200,
        headers: { 'Content-Type': 'application/xml', ETag: quoted(object.etag), 'x-oss-hash-crc64ecma': object.crc64 },
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

  return {
    InitiateMultipartUpload: initiate,
    UploadPart: uploadPart,
    CompleteMultipartUpload: complete,
    AbortMultipartUpload: abort,
  } satisfies Record<string, Operation>;
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

async function* joinParts(store: ObjectStore, bucket: string, parts: Part[], onChunk: (chunk: Buffer) => void) {
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
