/**
 * PutBucketVersioning and GetBucketVersioning (`?versioning`), in the XML of their references:
 * https://www.alibabacloud.com/help/en/oss/developer-reference/putbucketversioning and
 * https://www.alibabacloud.com/help/en/oss/developer-reference/getbucketversioning. What versioning changes for
 * writes (`x-oss-version-id`, x-oss-forbid-overwrite ignored) lives in `operation.ts`.
 */
import { ossErrors } from './errors.ts';
import type { Operation } from './operation.ts';
import { element, text, xmlDocument } from './xml.ts';

/** `<VersioningConfiguration><Status>Enabled|Suspended</Status></VersioningConfiguration>` */
const putBucketVersioning: Operation = ({ body, store, bucket }) => {
  const xml = body.toString('utf8');
  const status =
    /<VersioningConfiguration(?:\s[^>]*)?>\s*<Status>\s*(\w*)\s*<\/Status>\s*<\/VersioningConfiguration>/.exec(
      xml,
    )?.[1];
  if (status !== 'Enabled' && status !== 'Suspended') {
    throw ossErrors.malformedXml(
      `The XML you provided was not well-formed: expected <VersioningConfiguration><Status>Enabled or Suspended</Status></VersioningConfiguration>, got ${status === undefined ? 'no Status' : `"${status}"`}.`,
    );
  }
  store.setVersioning(bucket, status);
  return { status: 200 };
};

/** A bucket whose versioning was never enabled answers the configuration without a Status element. */
const getBucketVersioning: Operation = ({ store, bucket }) => {
  const status = store.versioning(bucket);
  return {
    status: 200,
    headers: { 'Content-Type': 'application/xml' },
    body: xmlDocument(
      status === undefined
        ? '<VersioningConfiguration xmlns="http://doc.oss-cn-hangzhou.aliyuncs.com"/>'
        : element('VersioningConfiguration', [text('Status', status)]),
    ),
  };
};

export const versioningOperations = {
  PutBucketVersioning: putBucketVersioning,
  GetBucketVersioning: getBucketVersioning,
} satisfies Record<string, Operation>;
