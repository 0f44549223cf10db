/**
 * What only the local cloud can show, read from its emulators in this process: FC invocation attempts with the
 * function's lines, dead letters (and the pair each would replay), the CityVisual library table, and the webhook
 * receiver's deliveries with their verification result. Shaped for the page: nothing a credential could hide in
 * (no OSS AccessKey id, no payload or webhook body beyond the fields shown).
 */
import type { LocalCloud } from '../local/cloud.ts';
import { MANIFEST_SUFFIX, PACKAGE_SUFFIX } from '../shared/keys.ts';
import type { DeadLetterView, LocalPanels } from './local-panels-types.ts';

export type LocalSources = {
  fc: Pick<LocalCloud['fc'], 'invocations' | 'deadLetters'>;
  cityvisual: Pick<LocalCloud['cityvisual'], 'libraries'>;
  receiver: Pick<NonNullable<LocalCloud['receiver']>, 'deliveries'> | undefined;
};

const MAX_ROWS = 100;

/** The object key of the OSS event a dead letter carries, if it carries one. */
const keyOfPayload = (payload: string): string | undefined => {
  try {
    const parsed = JSON.parse(payload) as { events?: Array<{ oss?: { object?: { key?: unknown } } }> };
    const key = parsed.events?.[0]?.oss?.object?.key;
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined;
  }
};

const packageKeyOf = (key: string | undefined): string | undefined => {
  if (key?.endsWith(PACKAGE_SUFFIX)) return key;
  if (key?.endsWith(MANIFEST_SUFFIX)) return `${key.slice(0, -MANIFEST_SUFFIX.length)}${PACKAGE_SUFFIX}`;
  return undefined;
};

const fieldOf = (body: unknown, field: 'name' | 'version' | 'state'): string | undefined => {
  const data = (body as { data?: Record<string, unknown> } | undefined)?.data;
  const value = data?.[field];
  return typeof value === 'string' ? value : undefined;
};

/**
 * The four local panels, newest first, at most 100 rows each.
 *
 * @example
 * ```ts
 * localPanels(cloud).deadLetters[0]?.packageKey; // 'library/face/face-1.2.0.tar.gz'
 * ```
 */
export const localPanels = (sources: LocalSources): LocalPanels => ({
  invocations: sources.fc.invocations().slice(0, MAX_ROWS),
  deadLetters: sources.fc
    .deadLetters()
    .reverse()
    .slice(0, MAX_ROWS)
    .map((letter): DeadLetterView => {
      const key = keyOfPayload(letter.payload);
      return {
        requestId: letter.requestId,
        error: letter.error,
        attempts: letter.attempts,
        destination: letter.destination,
        key,
        packageKey: packageKeyOf(key),
      };
    }),
  libraries: sources.cityvisual
    .libraries()
    .reverse()
    .slice(0, MAX_ROWS)
    .map((library) => ({
      algoLibId: library.AlgoLibId,
      name: library.AlgoLibName,
      version: library.AlgoLibVersion,
      capabilities: library.CapabilityNames,
      capacity: library.Capacity,
      ossBucket: library.OssBucket,
      ossPath: library.OssPath,
      uploadTime: library.UploadTime,
      instanceId: library.InstanceId,
    })),
  deliveries: (sources.receiver?.deliveries() ?? [])
    .reverse()
    .slice(0, MAX_ROWS)
    .map((delivery) => ({
      id: delivery.id,
      type: delivery.type,
      verified: delivery.verified,
      duplicate: delivery.duplicate,
      status: delivery.status,
      receivedAt: delivery.receivedAt,
      name: fieldOf(delivery.body, 'name'),
      version: fieldOf(delivery.body, 'version'),
      state: fieldOf(delivery.body, 'state'),
    })),
  receiver: sources.receiver !== undefined,
});
