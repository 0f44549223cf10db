/**
 * The FC entry (functions/register/index.ts) with its real wiring: the real config loader, ali-oss and pop-core
 * adapters, and the logger on stdout. Nothing here reaches a network: every endpoint is a 127.0.0.1 port that was
 * just closed, and the events that get past classification find OSS refusing the connection.
 * (What the pipeline does with a reachable cloud: register.test.ts over fakes, test/integration over the local cloud.)
 */
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigSchema } from '../../shared/config.ts';
import type { FcContext } from '../../shared/fc-context.ts';
import { TEST_ENV } from '../fakes/register-deps.ts';

const STS_SECRET = 'canary-sts-secret';
const STS_TOKEN = 'canary-sts-token';

/** A loopback port nothing listens on: bound, then closed, so a connection to it is refused at once. */
const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('Expected a TCP address');
  return address.port;
};

const contextOf = (requestId: string, timeout = 60): FcContext => ({
  requestId,
  credentials: { accessKeyId: 'STS.canary', accessKeySecret: STS_SECRET, securityToken: STS_TOKEN },
  function: { name: 'register', timeout, memory: 256 },
  region: 'cn-shanghai',
});

const payloadOf = (...events: Array<{ bucket: string; key: string }>) =>
  Buffer.from(
    JSON.stringify({
      events: events.map(({ bucket, key }) => ({
        eventName: 'ObjectCreated:PutObject',
        eventTime: '2026-11-29T06:45:43.000Z',
        oss: { bucket: { name: bucket }, object: { key, eTag: '0B3F2C8D6F1A4E5B9C7D8E2F1A3B4C5D', size: 1800 } },
      })),
    }),
  );

/** A fresh copy of the entry module (its wiring is per instance, as in FC), with the environment `env`. */
const loadEntry = async (env: Record<string, string | undefined>) => {
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.resetModules();
  return import('../../functions/register/index.ts');
};

/** What `initialize` rejects with (each loaded copy of the module has its own error classes: compared by name). */
const startUp = async (entry: Awaited<ReturnType<typeof loadEntry>>): Promise<unknown> => {
  try {
    await entry.initialize(contextOf('init-1'));
  } catch (error) {
    return error;
  }
  return undefined;
};

let lines: string[];

beforeEach(async () => {
  lines = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  const port = await closedPort();
  // Every variable the function reads is stubbed, so a variable set on this machine cannot leak in.
  for (const name of Object.keys(ConfigSchema.shape)) vi.stubEnv(name, undefined);
  vi.stubEnv('OSS_ENDPOINT', `http://127.0.0.1:${port}`);
  vi.stubEnv('CITYVISUAL_ENDPOINT', `http://127.0.0.1:${port}`);
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

const env = (overrides: Record<string, string | undefined> = {}) => ({
  ...TEST_ENV,
  OSS_ENDPOINT: process.env.OSS_ENDPOINT,
  CITYVISUAL_ENDPOINT: process.env.CITYVISUAL_ENDPOINT,
  ...overrides,
});

describe('initialize', () => {
  it('fails start-up with a ConfigError naming a missing variable', async () => {
    // Arrange
    const entry = await loadEntry(env({ CITYVISUAL_INSTANCE_ID: undefined }));

    // Act
    const error = await startUp(entry);

    // Assert
    expect(error).toMatchObject({
      name: 'ConfigError',
      variable: 'CITYVISUAL_INSTANCE_ID',
      message: 'Environment variable CITYVISUAL_INSTANCE_ID is required',
    });
  });

  it('names a malformed secret variable without echoing its value', async () => {
    // Arrange
    const entry = await loadEntry(env({ WEBHOOK_ENDPOINTS: '[{"url":"https://h.example","secrets":["whsec_oops' }));

    // Act
    const error = await startUp(entry);

    // Assert
    expect(error).toMatchObject({ name: 'ConfigError', variable: 'WEBHOOK_ENDPOINTS' });
    expect(String(error)).not.toContain('whsec_oops');
  });

  it('reads the environment once: a variable changed after start-up is not seen', async () => {
    // Arrange
    const entry = await loadEntry(env());
    await entry.initialize(contextOf('init-1'));
    vi.stubEnv('OSS_BUCKET', 'another-bucket');

    // Act
    const answer = await entry.handler(
      payloadOf({ bucket: 'another-bucket', key: 'library/a/a-1.0.0.tar.gz' }),
      contextOf('req-1'),
    );

    // Assert: still the bucket of start-up, so the event for the other one is ignored.
    expect(JSON.parse(answer)).toEqual({ results: [{ key: 'library/a/a-1.0.0.tar.gz', outcome: 'ignored' }] });
  });
});

describe('handler', () => {
  it('answers JSON {results: [{key, outcome, state?}]} with one result per event of the payload', async () => {
    // Arrange: neither event is the function's to act on, so no call leaves the process.
    const entry = await loadEntry(env());
    await entry.initialize(contextOf('init-1'));
    const payload = payloadOf(
      { bucket: 'someone-else', key: 'library/face/face-1.2.0.tar.gz' },
      { bucket: 'algolib-packages', key: 'status/library/face/face-1.2.0.json' },
    );

    // Act
    const answer = await entry.handler(payload, contextOf('req-1'));

    // Assert
    expect(JSON.parse(answer)).toEqual({
      results: [
        { key: 'library/face/face-1.2.0.tar.gz', outcome: 'ignored' },
        { key: 'status/library/face/face-1.2.0.json', outcome: 'ignored' },
      ],
    });
    const ignored = lines.map((line) => JSON.parse(line)).filter((entry) => entry.step === 'event.ignored');
    expect(ignored).toHaveLength(2);
    expect(ignored[0]).toMatchObject({ requestId: 'req-1', level: 'info', outcome: 'ignored' });
  });

  it('wires itself when FC calls the handler without the initializer', async () => {
    // Arrange
    const entry = await loadEntry(env());

    // Act
    const answer = await entry.handler(
      payloadOf({ bucket: 'someone-else', key: 'library/a/a-1.0.0.tar.gz' }),
      contextOf('req-1'),
    );

    // Assert
    expect(JSON.parse(answer)).toEqual({ results: [{ key: 'library/a/a-1.0.0.tar.gz', outcome: 'ignored' }] });
  });

  it('drops a payload that does not parse with one log line, and answers no results', async () => {
    // Arrange
    const entry = await loadEntry(env());
    await entry.initialize(contextOf('init-1'));

    // Act
    const answer = await entry.handler(Buffer.from('{"not":"an OSS event"}'), contextOf('req-1'));

    // Assert
    expect(JSON.parse(answer)).toEqual({ results: [] });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      level: 'error',
      requestId: 'req-1',
      step: 'event.invalid',
      outcome: 'ignored',
    });
  });

  it('fails the invocation (so FC retries) when OSS cannot be reached, and logs no secret', async () => {
    // Arrange: short back-offs (the retry policy's attempts run out well inside 3 s); OSS refuses every connection.
    const entry = await loadEntry(env({ DEADLINE_RESERVE_MS: '1000', RETRY_BASE_MS: '10', RETRY_MAX_DELAY_MS: '50' }));
    await entry.initialize(contextOf('init-1', 3));

    // Act
    const run = entry.handler(
      payloadOf({ bucket: 'algolib-packages', key: 'library/face/face-1.2.0.manifest.json' }),
      contextOf('req-1', 3),
    );

    // Assert
    await expect(run).rejects.toThrow();
    // The wired ali-oss client was used (and retried), then the event failed as a whole.
    expect(lines.some((line) => line.includes('"step":"manifest.read.retry"'))).toBe(true);
    expect(lines.some((line) => line.includes('"step":"event.failed"'))).toBe(true);
    const output = lines.join('\n');
    for (const secret of [STS_SECRET, STS_TOKEN, TEST_ENV.CITYVISUAL_OSS_ACCESS_KEY_SECRET]) {
      expect(output).not.toContain(secret);
    }
  });
});
