/**
 * Which OSS trigger fires for an OSS event record, decided the way FC's native OSS trigger does: same bucket, an
 * event type listed on the trigger (`oss:ObjectCreated:*` covers every ObjectCreated action), key starting with the
 * filter's Prefix and ending with its Suffix. No regex, case-sensitive.
 */
import type { RoutableOssEventRecord } from '../oss/event-record.ts';
import type { OssTriggerModel } from './template.ts';

export type OssTriggerFilter = Pick<OssTriggerModel, 'bucketName' | 'events' | 'filter'>;

/**
 * True when `record` fires `trigger`.
 *
 * @example
 * ```ts
 * matchesOssTrigger({ bucketName: 'b', events: ['oss:ObjectCreated:*'], filter: { prefix: 'library/', suffix: '.json' } },
 *   { eventName: 'ObjectCreated:PutObject', oss: { bucket: { name: 'b' }, object: { key: 'library/a.json' } } }); // true
 * ```
 */
export const matchesOssTrigger = (trigger: OssTriggerFilter, record: RoutableOssEventRecord): boolean =>
  record.oss.bucket.name === trigger.bucketName &&
  trigger.events.some((configured) => matchesEventName(configured, record.eventName)) &&
  record.oss.object.key.startsWith(trigger.filter.prefix) &&
  record.oss.object.key.endsWith(trigger.filter.suffix);

/** `oss:ObjectCreated:*` / `oss:ObjectCreated:PutObject` (trigger config) against `ObjectCreated:PutObject` (payload). */
export const matchesEventName = (configured: string, eventName: string): boolean => {
  const [group, action] = withoutOssPrefix(configured).split(':');
  const [eventGroup, eventAction] = withoutOssPrefix(eventName).split(':');
  return group === eventGroup && (action === '*' || action === eventAction);
};

// The payload has no prefix; tolerate one anyway so an EventBridge-style `type` routes the same way.
const withoutOssPrefix = (name: string) => name.replace(/^oss:/, '');

/**
 * True when OSS would refuse both triggers on one bucket: a shared event type and overlapping Prefix and Suffix
 * (OSS: "Cannot specify overlapping prefix and suffix with same event type"). Native triggers cannot fan one event
 * out, so the emulator refuses such a deployment too.
 */
export const ossTriggersOverlap = (a: OssTriggerFilter, b: OssTriggerFilter): boolean =>
  a.bucketName === b.bucketName &&
  a.events.some((x) => b.events.some((y) => matchesEventName(x, y) || matchesEventName(y, x))) &&
  (a.filter.prefix.startsWith(b.filter.prefix) || b.filter.prefix.startsWith(a.filter.prefix)) &&
  (a.filter.suffix.endsWith(b.filter.suffix) || b.filter.suffix.endsWith(a.filter.suffix));
