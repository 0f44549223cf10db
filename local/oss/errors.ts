/**
 * OSS service errors: the code, HTTP status and EC that real OSS answers, plus the extra XML fields it adds.
 * EC values are given only where they were verified against OSS documentation or SDK fixtures; elsewhere the `<EC>`
 * element and `x-oss-ec` header are left out rather than invented.
 */
import { element, text, xmlDocument } from './xml.ts';

export type OssErrorDetails = {
  ec?: string;
  /** Extra elements of the error XML, e.g. `Key`, `BucketName`, `StringToSign`. */
  fields?: Record<string, string>;
};

export class OssError extends Error {
  override readonly name = 'OssError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: OssErrorDetails = {},
  ) {
    super(message);
  }
}

/** OSS rejects a request whose date is further than this from the server clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export const ossErrors = {
  noSuchBucket: (bucket: string) =>
    new OssError(404, 'NoSuchBucket', 'The specified bucket does not exist.', {
      ec: '0015-00000101',
      fields: { BucketName: bucket },
    }),
  noSuchKey: (key: string) =>
    new OssError(404, 'NoSuchKey', 'The specified key does not exist.', { ec: '0026-00000001', fields: { Key: key } }),
  noSuchUpload: (uploadId: string) =>
    new OssError(
      404,
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      {
        fields: { UploadId: uploadId },
      },
    ),
  invalidAccessKeyId: (accessKeyId: string) =>
    new OssError(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.', {
      ec: '0002-00000902',
      fields: { OSSAccessKeyId: accessKeyId },
    }),
  invalidSecurityToken: (message: string) => new OssError(403, 'InvalidSecurityToken', message),
  signatureDoesNotMatch: (accessKeyId: string, signatureProvided: string, stringToSign: string) =>
    new OssError(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      {
        ec: '0002-00000040',
        fields: { OSSAccessKeyId: accessKeyId, SignatureProvided: signatureProvided, StringToSign: stringToSign },
      },
    ),
  requestTimeTooSkewed: (requestTime: number, serverTime: number) =>
    new OssError(
      403,
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
      {
        fields: {
          RequestTime: new Date(requestTime).toISOString(),
          ServerTime: new Date(serverTime).toISOString(),
          MaxAllowedSkewMilliseconds: String(MAX_CLOCK_SKEW_MS),
        },
      },
    ),
  accessDenied: (message: string, fields: Record<string, string> = {}) =>
    new OssError(403, 'AccessDenied', message, { fields }),
  fileAlreadyExists: (key: string) =>
    new OssError(409, 'FileAlreadyExists', 'The object you specified already exists and can not be overwritten.', {
      ec: '0026-00000002',
      fields: { Key: key },
    }),
  invalidArgument: (message: string, name: string, value: string, ec?: string) =>
    new OssError(400, 'InvalidArgument', message, {
      ...(ec === undefined ? {} : { ec }),
      fields: { ArgumentName: name, ArgumentValue: value },
    }),
  invalidDigest: (contentMd5: string) =>
    new OssError(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.', {
      fields: { 'Content-MD5': contentMd5 },
    }),
  invalidRange: () => new OssError(416, 'InvalidRange', 'The requested range cannot be satisfied.'),
  invalidObjectName: (message: string) => new OssError(400, 'InvalidObjectName', message),
  invalidUri: (message: string) => new OssError(400, 'InvalidURI', message),
  malformedXml: (message: string) => new OssError(400, 'MalformedXML', message),
  invalidPart: (message: string) => new OssError(400, 'InvalidPart', message),
  invalidPartOrder: () =>
    new OssError(
      400,
      'InvalidPartOrder',
      'The list of parts was not in ascending order. Parts must be ordered by part number.',
    ),
  entityTooSmall: (partNumber: number) =>
    new OssError(
      400,
      'EntityTooSmall',
      `Your proposed upload is smaller than the minimum allowed size: part ${partNumber} is under 100 KB and is not the last part.`,
    ),
  preconditionFailed: (condition: string) =>
    new OssError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold.', {
      fields: { Condition: condition },
    }),
  notImplemented: (message: string) => new OssError(501, 'NotImplemented', message),
  serviceUnavailable: () => new OssError(503, 'ServiceUnavailable', 'Please reduce your request rate.'),
  internalError: () => new OssError(500, 'InternalError', 'We encountered an internal error. Please try again.'),
};

/** The `<Error>` document, in the element order OSS uses. */
export const renderError = (error: OssError, requestId: string, hostId: string) =>
  xmlDocument(
    element('Error', [
      text('Code', error.code),
      text('Message', error.message),
      text('RequestId', requestId),
      text('HostId', hostId),
      ...Object.entries(error.details.fields ?? {}).map(([name, value]) => text(name, value)),
      ...(error.details.ec === undefined ? [] : [text('EC', error.details.ec)]),
    ]),
  );
