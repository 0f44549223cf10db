/** Test wiring of `registerObject`: memory stores, a memory registry, a recording notifier and a virtual clock. */

import { SAMPLE_OBJECTS } from '../../samples/manifest-objects.ts';
import { loadConfig } from '../../shared/config.ts';
import { crc64 } from '../../shared/crc64.ts';
import { createLogger } from '../../shared/log.ts';
import type { ObjectEvent } from '../../shared/oss-event.ts';
import { type Invocation, invocationOf, type RegisterDeps } from '../../shared/register.ts';
import { createMemoryRegistry } from './memory-registry.ts';
import { createMemoryStore } from './memory-store.ts';
import { createRecordingNotifier } from './recording-notifier.ts';

export const TEST_ENV = {
  OSS_BUCKET: 'algolib-packages',
  OSS_ENDPOINT: 'http://127.0.0.1:1',
  CITYVISUAL_ENDPOINT: 'http://127.0.0.1:2',
  CITYVISUAL_INSTANCE_ID: 'cityvisual-test',
  CITYVISUAL_OSS_ENDPOINT: 'oss-cn-shanghai-internal.aliyuncs.com',
  CITYVISUAL_OSS_ACCESS_KEY_ID: 'LTAIreadonly',
  CITYVISUAL_OSS_ACCESS_KEY_SECRET: 'canary-oss-read-secret',
};

/** A clock that only moves when someone sleeps: retries and waits cost no real time. */
export const createVirtualClock = (start = Date.parse('2026-11-29T12:00:00.000Z')) => {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    sleep: async (ms: number) => {
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
};

export const createTestDeps = (env: Record<string, string> = {}) => {
  const clock = createVirtualClock();
  const store = createMemoryStore(clock.now);
  const registry = createMemoryRegistry();
  const notifier = createRecordingNotifier();
  const lines: string[] = [];
  const config = loadConfig({ ...TEST_ENV, ...env });
  const deps: RegisterDeps = {
    config,
    packages: store,
    statuses: store,
    registry,
    notifier,
    log: createLogger(
      { requestId: 'test' },
      () => [config.cityVisual.oss.accessKeySecret],
      (line) => lines.push(line),
    ),
    now: clock.now,
    sleep: clock.sleep,
    random: () => 0.5,
  };
  /** An invocation starting now with FC's `timeoutSeconds` and the config's reserve. */
  const invocation = (requestId: string, timeoutSeconds = 60): Invocation => {
    return invocationOf(requestId, clock.now() + timeoutSeconds * 1000, config, clock.now);
  };
  return { deps, store, registry, notifier, clock, lines, invocation, config };
};

export const PACKAGE_KEY = 'library/face/face-1.2.0.tar.gz';
export const MANIFEST_KEY = 'library/face/face-1.2.0.manifest.json';
export const STATUS_KEY = 'status/library/face/face-1.2.0.json';
export const PACKAGE_BYTES = Buffer.from('face-1.2.0 package bytes: not really a tarball, but bytes are bytes');

export const validManifest = (overrides: Record<string, unknown> = {}) => ({
  schemaVersion: 1,
  name: 'face',
  version: '1.2.0',
  capabilities: ['FACE', 'PERSON'],
  capacity: 30,
  objects: structuredClone(SAMPLE_OBJECTS),
  package: { size: PACKAGE_BYTES.length, crc64: crc64(PACKAGE_BYTES) },
  ...overrides,
});

export const objectEvent = (key: string, overrides: Partial<ObjectEvent> = {}): ObjectEvent => ({
  eventName: 'ObjectCreated:PutObject',
  bucket: 'algolib-packages',
  key,
  size: undefined,
  etag: undefined,
  eventTime: undefined,
  ...overrides,
});
