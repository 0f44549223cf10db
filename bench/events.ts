/** OSS trigger payloads for the bench's own deliveries (kept apart from fixtures.ts: no SDK is loaded with it). */

/** What the bench knows of an uploaded object: enough to build the OSS event of its upload. */
export type Uploaded = { key: string; size: number; etag: string };

/** The FC OSS trigger payload of one upload, as the OSS emulator sends it (`{"events":[record]}`). */
export const ossEventOf = (bucket: string, object: Uploaded): Buffer =>
  Buffer.from(JSON.stringify({ events: [ossRecordOf(bucket, object)] }));

export const ossRecordOf = (bucket: string, object: Uploaded) => ({
  eventName: 'ObjectCreated:PutObject',
  eventSource: 'acs:oss',
  eventTime: new Date().toISOString(),
  eventVersion: '1.0',
  oss: {
    bucket: { arn: `acs:oss:cn-shanghai:1000000000000000:${bucket}`, name: bucket, ownerIdentity: '1000000000000000' },
    object: { deltaSize: object.size, eTag: object.etag, key: object.key, size: object.size },
    ossSchemaVersion: '1.0',
    ruleId: 'bench',
  },
  region: 'cn-shanghai',
  requestParameters: { sourceIPAddress: '127.0.0.1' },
  responseElements: { requestId: 'bench' },
  userIdentity: { principalId: '1000000000000000' },
});
