/** The OSS event record the emulator notifies for an object it stored (the record: platform/oss/event-record.ts). */
import { createHash } from 'node:crypto';
import { type OssEventRecord, objectCreatedRecord } from '../../platform/oss/event-record.ts';
import type { StoredObject } from './disk-store.ts';

export type ObjectCreatedEventName =
  | 'ObjectCreated:PutObject'
  | 'ObjectCreated:CopyObject'
  | 'ObjectCreated:CompleteMultipartUpload';

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

export const objectCreatedEvent = (input: ObjectCreatedInput): OssEventRecord => ({
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
