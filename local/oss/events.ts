/** The record an FC OSS trigger delivers for a created object: one element of the payload's `events` array. */
import { createHash } from 'node:crypto';
import { objectCreatedRecord } from '../../shared/oss-event';
import type { StoredObject } from './store';

export type ObjectCreatedEventName =
  | 'ObjectCreated:PutObject'
  | 'ObjectCreated:CopyObject'
  | 'ObjectCreated:CompleteMultipartUpload';

export type OssObjectCreatedEvent = {
  /** Without the `oss:` prefix that trigger configurations use. */
  eventName: ObjectCreatedEventName;
  eventSource: 'acs:oss';
  /** ISO 8601 with milliseconds, e.g. `2022-08-13T06:45:43.000Z`. */
  eventTime: string;
  eventVersion: '1.0';
  oss: {
    bucket: { arn: string; name: string; ownerIdentity: string };
    /** `eTag` is upper-case hex without quotes; `deltaSize` is the change in size (the size for a new key). */
    object: { deltaSize: number; eTag: string; key: string; size: number };
    ossSchemaVersion: '1.0';
    ruleId: string;
  };
  /** Without the `oss-` prefix, e.g. `cn-shanghai`. */
  region: string;
  requestParameters: { sourceIPAddress: string };
  /** The OSS request id of the request that created the object. */
  responseElements: { requestId: string };
  userIdentity: { principalId: string };
};

export type ObjectCreatedInput = {
  eventName: ObjectCreatedEventName;
  bucket: string;
  object: StoredObject;
  previous: StoredObject | undefined;
  /** Without the `oss-` prefix. */
  region: string;
  accountId: string;
  requestId: string;
  sourceIp: string;
};

export const objectCreatedEvent = (input: ObjectCreatedInput): OssObjectCreatedEvent => ({
  ...objectCreatedRecord({
    bucket: input.bucket,
    key: input.object.key,
    size: input.object.size,
    etag: input.object.etag,
    requestId: input.requestId,
    region: input.region,
    accountId: input.accountId,
    deltaSize: input.object.size - (input.previous?.size ?? 0),
    eventTime: new Date(input.object.lastModified),
    // Real rule ids are 40 hex characters naming the bucket's notification rule: derive a stable one per bucket.
    ruleId: createHash('sha1').update(`oss-emulator:${input.bucket}`).digest('hex'),
    sourceIp: input.sourceIp,
  }),
  eventName: input.eventName,
});
