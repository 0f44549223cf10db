/**
 * The OSS event record: one element of the `events[]` array an FC OSS trigger delivers for a created object, built
 * here for everything that plays or drives OSS (the OSS emulator's notifications, `algolib replay`, the bench, the
 * soak, tests) and read by the FC emulator's trigger routing. The function never bundles this file: it parses the
 * same record with its own schema (`shared/oss-event.ts`), which reads only the fields it needs.
 */

/** One element of `events[]` exactly as OSS sends it for a created object. */
export type OssEventRecord = {
  /** Without the `oss:` prefix that trigger configurations use: `ObjectCreated:PutObject`. */
  eventName: string;
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

/**
 * Any record an OSS trigger may carry, as FC routes it: it reads the event name, the bucket and the key, and passes
 * every other field through untouched (a test or a hand-written payload may carry fewer than `OssEventRecord`).
 */
export type RoutableOssEventRecord = {
  eventName: string;
  oss: {
    bucket: { name: string; [field: string]: unknown };
    object: { key: string; [field: string]: unknown };
    [field: string]: unknown;
  };
  [field: string]: unknown;
};

export type ObjectCreatedRecordInput = {
  bucket: string;
  key: string;
  size: number;
  /** Upper-case hex without quotes, as OSS reports it. */
  etag: string;
  /** The OSS request id of the upload. */
  requestId: string;
  eventName?: string;
  /** Without the `oss-` prefix; default `cn-shanghai`. */
  region?: string;
  accountId?: string;
  /** Change in size; default `size` (a new key). */
  deltaSize?: number;
  eventTime?: Date;
  ruleId?: string;
  sourceIp?: string;
};

/**
 * One element of `events[]` exactly as an FC OSS trigger delivers it for a created object: what the OSS emulator
 * notifies, what `algolib replay` synthesises, and what tests and the soak re-deliver.
 *
 * @example
 * ```ts
 * JSON.stringify({ events: [objectCreatedRecord({ bucket: 'b', key: 'library/f/f-1.0.0.manifest.json', size: 900, etag: 'AB12…', requestId })] });
 * ```
 */
export const objectCreatedRecord = (input: ObjectCreatedRecordInput): OssEventRecord => {
  const region = input.region ?? 'cn-shanghai';
  const accountId = input.accountId ?? '1000000000000000';
  return {
    eventName: input.eventName ?? 'ObjectCreated:PutObject',
    eventSource: 'acs:oss',
    eventTime: (input.eventTime ?? new Date()).toISOString(),
    eventVersion: '1.0',
    oss: {
      bucket: { arn: `acs:oss:${region}:${accountId}:${input.bucket}`, name: input.bucket, ownerIdentity: accountId },
      object: { deltaSize: input.deltaSize ?? input.size, eTag: input.etag, key: input.key, size: input.size },
      ossSchemaVersion: '1.0',
      ruleId: input.ruleId ?? 'algolib',
    },
    region,
    requestParameters: { sourceIPAddress: input.sourceIp ?? '127.0.0.1' },
    responseElements: { requestId: input.requestId },
    userIdentity: { principalId: accountId },
  };
};
