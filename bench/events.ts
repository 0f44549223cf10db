/** OSS trigger payloads for the bench's own deliveries (kept apart from fixtures.ts: no SDK is loaded with it). */
import { objectCreatedRecord } from '../platform/oss/event-record.ts';

/** What the bench knows of an uploaded object: enough to build the OSS event of its upload. */
export type Uploaded = { key: string; size: number; etag: string };

/** The FC OSS trigger payload of one upload, as the OSS emulator sends it (`{"events":[record]}`). */
export const ossEventOf = (bucket: string, object: Uploaded): Buffer =>
  Buffer.from(JSON.stringify({ events: [ossRecordOf(bucket, object)] }));

export const ossRecordOf = (bucket: string, object: Uploaded) =>
  objectCreatedRecord({
    bucket,
    key: object.key,
    size: object.size,
    etag: object.etag,
    requestId: 'bench',
    ruleId: 'bench',
  });
