/**
 * FC OSS trigger payloads → `ObjectEvent[]`. Accepts the native form (`{"events":[…]}`, every element, never just the
 * first), the EventBridge CloudEvents envelope (`specversion` + `data`), and a JSON array of such envelopes, which an
 * EventBridge-based trigger with a batch window delivers (BatchWindow: "the maximum number of events … in the batch
 * window", https://www.alibabacloud.com/help/en/functioncompute/fc/developer-reference/api-fc-2023-03-30-struct-batchwindow).
 * Unknown fields are allowed; the fields we read are checked.
 */

import * as z from 'zod/mini';
import { EventParseError } from './errors.ts';
import './zod.ts';

const RecordSchema = z.looseObject({
  eventName: z.string(),
  eventSource: z.optional(z.string()),
  eventTime: z.optional(z.string()),
  oss: z.looseObject({
    bucket: z.looseObject({ name: z.string().check(z.minLength(1)) }),
    object: z.looseObject({
      key: z.string().check(z.minLength(1)),
      size: z.optional(z.number().check(z.nonnegative())),
      eTag: z.optional(z.string()),
    }),
  }),
  responseElements: z.optional(z.looseObject({ requestId: z.optional(z.string()) })),
});

const NativeSchema = z.looseObject({ events: z.array(RecordSchema) });
const CloudEventSchema = z.looseObject({ specversion: z.string(), data: RecordSchema });
const CloudEventBatchSchema = z.array(CloudEventSchema);

export type ObjectEvent = {
  /** Without the `oss:` prefix the trigger configuration uses: `ObjectCreated:PutObject`. */
  eventName: string;
  bucket: string;
  key: string;
  size: number | undefined;
  etag: string | undefined;
  eventTime: string | undefined;
};

const toObjectEvent = (record: z.infer<typeof RecordSchema>): ObjectEvent => ({
  eventName: record.eventName.replace(/^oss:/, ''),
  bucket: record.oss.bucket.name,
  key: record.oss.object.key,
  size: record.oss.object.size,
  etag: record.oss.object.eTag,
  eventTime: record.eventTime,
});

const invalidPayload = (error: z.core.$ZodError) => {
  const issue = error.issues[0];
  return new EventParseError(
    `Expected an FC OSS event ({"events":[…]}), a CloudEvents envelope of one or an array of envelopes; failing at \`${issue?.path.join('.') || '(root)'}\`: ${issue?.message}`,
  );
};

/**
 * Parses the handler's event (a Buffer on FC) into one `ObjectEvent` per record (per envelope of a batch).
 *
 * @example
 * ```ts
 * parseObjectEvents(Buffer.from('{"events":[{"eventName":"ObjectCreated:PutObject","oss":{"bucket":{"name":"b"},"object":{"key":"library/a.tar.gz"}}}]}'));
 * // [{ eventName: 'ObjectCreated:PutObject', bucket: 'b', key: 'library/a.tar.gz', … }]
 * ```
 */
export const parseObjectEvents = (event: Buffer | string): ObjectEvent[] => {
  let json: unknown;
  try {
    json = JSON.parse(event.toString());
  } catch (cause) {
    throw new EventParseError('Expected the event to be JSON (an FC OSS trigger payload)', { cause });
  }
  if (Array.isArray(json)) {
    // A batch: every envelope is handled, in order; one that does not parse fails the batch, as a bad record of
    // events[] fails a native payload, naming its index.
    const batch = CloudEventBatchSchema.safeParse(json);
    if (batch.success) return batch.data.map((envelope) => toObjectEvent(envelope.data));
    throw invalidPayload(batch.error);
  }
  if (typeof json === 'object' && json !== null && 'specversion' in json) {
    const envelope = CloudEventSchema.safeParse(json);
    if (envelope.success) return [toObjectEvent(envelope.data.data)];
    throw invalidPayload(envelope.error);
  }
  const native = NativeSchema.safeParse(json);
  if (native.success) return native.data.events.map(toObjectEvent);
  throw invalidPayload(native.error);
};

/** The object-created operations that finish an object (a multipart part or an initiate does not). */
export const COMPLETING_EVENTS = new Set([
  'ObjectCreated:PutObject',
  'ObjectCreated:PostObject',
  'ObjectCreated:CompleteMultipartUpload',
  'ObjectCreated:CopyObject',
]);
