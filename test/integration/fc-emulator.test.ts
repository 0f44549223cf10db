import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { zipCode } from '../../deploy/code-zip.ts';
import { type FcEmulator, type FcEmulatorOptions, startFcEmulator } from '../../local/fc/fc-emulator.ts';
import type { RoutableOssEventRecord } from '../../platform/oss/event-record.ts';
import { crc64 } from '../../shared/crc64.ts';
import { TEMPLATE_PARAMETERS } from '../fixtures/template-parameters.ts';

// @alicloud/fc2 ships no types: describe the part these tests use.
/** fc2 parses JSON answers; the fields these tests read. */
type FcData = {
  codeChecksum?: string;
  triggers?: Array<{ triggerName: string }>;
  services?: Array<{ serviceName: string }>;
  functions?: Array<{ functionName: string }>;
  nextToken?: string;
  [field: string]: unknown;
};
type FcResult = Promise<{ headers: Record<string, string>; data: FcData }>;
type ListOptions = { limit?: number; prefix?: string; startKey?: string; nextToken?: string };
type FcClient = {
  createService(serviceName: string, options?: object): FcResult;
  getService(serviceName: string): FcResult;
  updateService(serviceName: string, options: object): FcResult;
  createFunction(serviceName: string, options: object): FcResult;
  getFunction(serviceName: string, functionName: string): FcResult;
  updateFunction(serviceName: string, functionName: string, options: object): FcResult;
  createTrigger(serviceName: string, functionName: string, options: object): FcResult;
  getTrigger(serviceName: string, functionName: string, triggerName: string): FcResult;
  listTriggers(serviceName: string, functionName: string, options?: ListOptions): FcResult;
  listServices(options?: ListOptions): FcResult;
  listFunctions(serviceName: string, options?: ListOptions): FcResult;
  updateTrigger(serviceName: string, functionName: string, triggerName: string, options: object): FcResult;
  deleteTrigger(serviceName: string, functionName: string, triggerName: string): FcResult;
  getFunctionAsyncConfig(serviceName: string, functionName: string, qualifier?: string): FcResult;
  putFunctionAsyncConfig(
    serviceName: string,
    functionName: string,
    qualifier: string | undefined,
    options: object,
  ): FcResult;
  invokeFunction(
    serviceName: string,
    functionName: string,
    event: string | Buffer,
    headers?: Record<string, string>,
    qualifier?: string,
  ): Promise<{ headers: Record<string, string>; data: unknown }>;
};
type FcClientConfig = {
  accessKeyID: string;
  accessKeySecret: string;
  region: string;
  endpoint: string;
  timeout?: number;
};
const FCClient = createRequire(import.meta.url)('@alicloud/fc2') as new (
  accountId: string,
  config: FcClientConfig,
) => FcClient;

const fixtureTemplate = fileURLToPath(new URL('../fixtures/fc/template.yml', import.meta.url));
const fixtureCode = fileURLToPath(new URL('../fixtures/fc/functions', import.meta.url));
const projectTemplate = fileURLToPath(new URL('../../template.yml', import.meta.url));
const API_KEY = { accessKeyId: 'LTAI-fc-test', accessKeySecret: 'fc-test-secret' };

let stateDir: string;
let logs: Array<Record<string, unknown>>;
let issued: number;
const running: FcEmulator[] = [];

const start = async (overrides: Partial<FcEmulatorOptions> = {}) => {
  const emulator = await startFcEmulator({
    templatePath: fixtureTemplate,
    parameters: { BucketName: 'fixtures', StateDir: stateDir },
    environmentOverrides: { OVERRIDDEN: 'from-emulator' },
    apiCredentials: [API_KEY],
    issueCredentials: () => {
      issued += 1;
      return { accessKeyId: `STS.fixture${issued}`, accessKeySecret: 'sts-secret', securityToken: 'sts-token' };
    },
    asyncRetryBaseMs: 20,
    log: (entry) => logs.push(entry),
    ...overrides,
  });
  running.push(emulator);
  return emulator;
};

const json = (buffer: Buffer) => JSON.parse(buffer.toString('utf8'));
const payload = (value: unknown) => Buffer.from(JSON.stringify(value));
const readState = (key: string) => JSON.parse(readFileSync(join(stateDir, `${key}.json`), 'utf8'));
const echoFiles = () => readdirSync(join(stateDir, 'echo')).filter((name) => name.endsWith('.json'));
const readEcho = (requestId: string) => JSON.parse(readFileSync(join(stateDir, 'echo', `${requestId}.json`), 'utf8'));

const ossRecord = (
  key: string,
  eventName = 'ObjectCreated:PutObject',
  bucket = 'fixtures',
): RoutableOssEventRecord => ({
  eventName,
  eventSource: 'acs:oss',
  eventTime: '2026-11-29T12:00:00.000Z',
  eventVersion: '1.0',
  oss: {
    bucket: { arn: `acs:oss:cn-shanghai:1234567890123456:${bucket}`, name: bucket, ownerIdentity: '1234567890123456' },
    object: { deltaSize: 12, eTag: '0CC175B9C0F1B6A831C399E269772661', key, size: 12 },
    ossSchemaVersion: '1.0',
  },
  region: 'cn-shanghai',
});

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const instancePids = () =>
  logs.filter((entry) => entry.event === 'instance-started').map((entry) => entry.pid as number);

beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'fc-emulator-'));
  mkdirSync(join(stateDir, 'echo'));
  logs = [];
  issued = 0;
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((emulator) => emulator.close()));
  rmSync(stateDir, { recursive: true, force: true });
});

describe('FC emulator: running the code', () => {
  it('passes the event as a Buffer and the context fields FC documents', async () => {
    // Arrange
    const fc = await start();

    // Act
    const { result, error } = await fc.invokeSync(payload({ hello: 'world' }));

    // Assert
    expect(error).toBeUndefined();
    const echo = json(result);
    expect(echo.event).toBe('{"hello":"world"}');
    expect(echo.eventIsBuffer).toBe(true);
    expect(echo.context).toEqual({
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      credentials: { accessKeyId: 'STS.fixture1', accessKeySecret: 'sts-secret', securityToken: 'sts-token' },
      function: {
        name: 'echo',
        handler: 'index.echo',
        memory: 128,
        timeout: 10,
        initializer: 'index.initialize',
        initializationTimeout: 5,
      },
      service: { name: 'fixtures', logProject: '', logStore: '', qualifier: 'LATEST', versionId: '' },
      region: 'cn-shanghai',
      accountId: '1234567890123456',
      loggerMethods: ['debug', 'info', 'warn', 'error', 'log'],
    });
    expect(echo.env).toEqual({
      GREETING: 'hello, world',
      BUCKET_ARN: 'acs:oss:cn-shanghai::fixtures',
      OVERRIDDEN: 'from-emulator',
      FC_FUNC_CODE_PATH: fixtureCode,
    });
    expect(fc.serviceName).toBe('fixtures');
    expect(fc.functionName).toBe('echo');
  });

  it("forwards the function's output and logs one entry per invocation", async () => {
    const fc = await start();

    const echo = json((await fc.invokeSync(payload({}))).result);

    const requestId = echo.context.requestId;
    expect(logs).toContainEqual(
      expect.objectContaining({ service: 'fc', stream: 'stdout', line: `echo ${requestId}` }),
    );
    expect(logs).toContainEqual(
      expect.objectContaining({
        stream: 'stdout',
        line: expect.stringMatching(/Z [0-9a-f-]{36} \[INFO\] initialized instance$/),
      }),
    );
    expect(logs).toContainEqual(
      expect.objectContaining({
        service: 'fc',
        requestId,
        kind: 'sync',
        attempt: 1,
        outcome: 'succeeded',
        ms: expect.any(Number),
      }),
    );
    expect(JSON.stringify(logs)).not.toContain('sts-secret');
  });

  it('runs the initializer once per instance', async () => {
    // Arrange: echo serves one invocation at a time, so two at once need two instances.
    const fc = await start({ maxInstances: 2 });

    // Act
    const concurrent = await Promise.all([fc.invokeSync(payload(1)), fc.invokeSync(payload(2))]);
    const later = await fc.invokeSync(payload(3));

    // Assert
    const echoes = [...concurrent, later].map(({ result }) => json(result));
    expect(echoes.map((echo) => echo.initCount)).toEqual([1, 1, 1]);
    expect(new Set(echoes.map((echo) => echo.pid)).size).toBe(2);
    expect(fc.stats().instancesStarted).toBe(2);
    expect(issued).toBe(2);
  });

  it('fails with InitializationError when the initializer throws, and starts a new instance next time', async () => {
    const fc = await start();

    const first = await fc.invokeSync(payload({}), { functionName: 'broken-init' });
    const second = await fc.invokeSync(payload({}), { functionName: 'broken-init' });

    expect(first.error).toEqual({ errorType: 'InitializationError', errorMessage: 'cannot reach the database' });
    expect(second.error?.errorType).toBe('InitializationError');
    expect(fc.stats()).toMatchObject({ instancesStarted: 2, failed: 2, succeeded: 0 });
  });

  it('waits for a callback-style initializer to call back and awaits an async one before the first invocation', async () => {
    const fc = await start();

    const callbackStyle = await fc.invokeSync(payload('callback'));
    const asyncStyle = await fc.invokeSync(payload('async'), { functionName: 'async-init' });

    expect(json(callbackStyle.result).initCount).toBe(1);
    expect(json(asyncStyle.result).initCount).toBe(1);
    expect([callbackStyle.error, asyncStyle.error]).toEqual([undefined, undefined]);
  });

  it('fails the instance with InitializationError after InitializationTimeout when a sync initializer never calls back', async () => {
    const fc = await start();

    const outcome = await fc.invokeSync(payload({}), { functionName: 'sync-init' });

    expect(outcome.error).toEqual({
      errorType: 'InitializationError',
      errorMessage: 'Initializer timed out after 1 seconds',
    });
    expect(fc.stats()).toMatchObject({ instancesStarted: 1, timeouts: 1, failed: 1, succeeded: 0 });
    expect(logs.some((entry) => String(entry.line).includes('never calling back'))).toBe(true);
  });

  it('runs at most InstanceConcurrency × maxInstances invocations at once and queues the rest', async () => {
    // Arrange: gate allows 2 per instance, 2 instances → 4. Each invocation blocks until the test releases it.
    const fc = await start({ maxInstances: 2 });
    const gateDir = join(stateDir, 'g1');
    mkdirSync(join(gateDir, 'inflight'), { recursive: true });
    const inFlightMarkers = () => readdirSync(join(gateDir, 'inflight')).length;

    // Act
    const calls = Array.from({ length: 10 }, () => fc.invokeSync(payload({ gate: 'g1' }), { functionName: 'gate' }));
    for (let poll = 0; poll < 500 && inFlightMarkers() < 4; poll++) await sleep(10);
    const blocked = { markers: inFlightMarkers(), stats: fc.stats() };
    // Give a would-be fifth invocation a chance to show up before releasing.
    for (let poll = 0; poll < 10; poll++) {
      await sleep(10);
      expect(inFlightMarkers()).toBeLessThanOrEqual(4);
    }
    writeFileSync(join(gateDir, 'release'), '');
    const results = (await Promise.all(calls)).map(({ result }) => json(result));

    // Assert
    expect(blocked.markers).toBe(4);
    expect(blocked.stats).toMatchObject({ inFlight: 4, queued: 6 });
    expect(Math.max(...results.map((r) => r.observed))).toBe(4);
    expect(new Set(results.map((r) => r.pid)).size).toBe(2);
    expect(fc.stats()).toMatchObject({ invocations: 10, succeeded: 10, instancesStarted: 2, inFlight: 0, queued: 0 });
  });

  it('kills an instance whose invocation outlives Timeout', async () => {
    const fc = await start();

    const timedOut = await fc.invokeSync(payload({ key: 'sync-timeout', sleepTimes: 1 }), { functionName: 'sleepy' });
    const next = await fc.invokeSync(payload({ key: 'sync-timeout', sleepTimes: 1 }), { functionName: 'sleepy' });

    expect(timedOut.error).toEqual({
      errorType: 'FunctionTimeout',
      errorMessage: 'Function timed out after 1 seconds',
    });
    expect(json(next.result).attempts).toBe(2);
    expect(fc.stats()).toMatchObject({ timeouts: 1, instancesStarted: 2 });
    // The kill is sent at once; give the OS a moment to reap the process before looking.
    for (let poll = 0; poll < 100 && instancePids().filter(isAlive).length > 1; poll++) await sleep(10);
    expect(instancePids().filter(isAlive)).toEqual([json(next.result).pid]);
  });
});

describe('FC emulator: async invocations', () => {
  it('delivers a matching OSS record as {"events":[record]} and ignores the rest', async () => {
    // Arrange
    const fc = await start();
    const record = ossRecord('incoming/a b/人脸.json');

    // Act
    const matched = fc.dispatchOssEvent(record);
    const ignored = [
      fc.dispatchOssEvent(ossRecord('incoming/a.json', 'ObjectCreated:PostObject')),
      fc.dispatchOssEvent(ossRecord('incoming/a.json', 'ObjectCreated:PutObject', 'other-bucket')),
      fc.dispatchOssEvent(ossRecord('incoming/a.tar.gz')),
      fc.dispatchOssEvent(ossRecord('status/incoming/a.json')),
    ];
    await fc.idle();

    // Assert
    expect(matched).toBe(1);
    expect(ignored).toEqual([0, 0, 0, 0]);
    const [file] = echoFiles();
    expect(echoFiles()).toHaveLength(1);
    expect(JSON.parse(readEcho(file?.replace('.json', '') ?? '').event)).toEqual({ events: [record] });
  });

  it('retries a failed invocation with the same request id until it succeeds', async () => {
    const fc = await start();

    const requestId = fc.invokeAsync(payload({ key: 'retry', failTimes: 2 }), { functionName: 'flaky' });
    await fc.idle();

    expect(readState('retry')).toEqual({ attempts: 3, requestIds: [requestId, requestId, requestId] });
    expect(fc.stats()).toMatchObject({ invocations: 3, failed: 2, succeeded: 1, retries: 2 });
    expect(fc.deadLetters()).toEqual([]);
    const attempts = logs.filter((entry) => entry.requestId === requestId && entry.kind === 'async');
    expect(attempts.map((entry) => [entry.attempt, entry.outcome])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'succeeded'],
    ]);
  });

  it('gives every retry a new request id with asyncRetryRequestId: new (FC does not document which it does)', async () => {
    const fc = await start({ asyncRetryRequestId: 'new' });

    const requestId = fc.invokeAsync(payload({ key: 'new-ids', failTimes: 2 }), { functionName: 'flaky' });
    await fc.idle();

    const { attempts, requestIds } = readState('new-ids');
    expect(attempts).toBe(3);
    expect(requestIds[0]).toBe(requestId);
    expect(new Set(requestIds).size).toBe(3);
    const logged = logs.filter((entry) => entry.kind === 'async').map((entry) => [entry.requestId, entry.attempt]);
    expect(logged).toEqual(requestIds.map((id: string, index: number) => [id, index + 1]));
  });

  it('kills the instance the moment the function prints a line crashWhen picks, and retries the event', async () => {
    const fc = await start({ crashWhen: (line) => line.includes('echo ') && issued === 1 });

    fc.invokeAsync(payload('crash-me'));
    await fc.idle();

    expect(fc.stats()).toMatchObject({ crashes: 1, retries: 1, succeeded: 1, instancesStarted: 2 });
  });

  it('sends the event to the OnFailure destination once MaxAsyncRetryAttempts are spent', async () => {
    const fc = await start();
    const event = JSON.stringify({ key: 'exhausted', failTimes: 99 });

    const requestId = fc.invokeAsync(Buffer.from(event), { functionName: 'flaky' });
    await fc.idle();

    expect(fc.deadLetters()).toEqual([
      {
        requestId,
        payload: event,
        error: 'Error: flaky failure 3 of 99',
        attempts: 3,
        destination: 'acs:mns:cn-shanghai:1234567890123456:/queues/fixtures-failed/messages',
      },
    ]);
    expect(readState('exhausted').attempts).toBe(3);
    expect(fc.stats()).toMatchObject({ retries: 2, failed: 3 });
  });

  it("delivers a dead letter only when the service's role may mns:SendMessage to the queue; otherwise logs it lost", async () => {
    // Arrange: the fixture service's role, with and without the right to send to its OnFailure queue.
    const role = 'acs:ram::1234567890123456:role/fixtures-fn';
    const cityVisualOnly = { Statement: [{ Effect: 'Allow', Action: ['cityvisual:*'], Resource: ['*'] }] };
    const canSend = {
      Statement: [
        ...cityVisualOnly.Statement,
        {
          Effect: 'Allow',
          Action: ['mns:SendMessage'],
          Resource: ['acs:mns:*:1234567890123456:/queues/fixtures-failed/messages'],
        },
      ],
    };
    const allowed = await start({ rolePolicy: (arn) => (arn === role ? canSend : undefined) });
    const refused = await start({ rolePolicy: (arn) => (arn === role ? cityVisualOnly : undefined) });

    // Act
    allowed.invokeAsync(payload({ key: 'allowed', failTimes: 99 }), { functionName: 'flaky' });
    const lostId = refused.invokeAsync(payload({ key: 'refused', failTimes: 99 }), { functionName: 'flaky' });
    await Promise.all([allowed.idle(), refused.idle()]);

    // Assert
    expect(allowed.deadLetters()).toHaveLength(1);
    expect(allowed.stats().deadLettersLost).toBe(0);
    expect(refused.deadLetters()).toEqual([]);
    expect(refused.stats().deadLettersLost).toBe(1);
    expect(logs.find((entry) => entry.event === 'dead-letter-lost')).toEqual({
      service: 'fc',
      event: 'dead-letter-lost',
      requestId: lostId,
      attempts: 3,
      destination: 'acs:mns:cn-shanghai:1234567890123456:/queues/fixtures-failed/messages',
      reason: `role ${role} is not allowed mns:SendMessage on acs:mns:cn-shanghai:1234567890123456:/queues/fixtures-failed/messages`,
    });
  });

  it('retries a timed-out invocation on a new instance', async () => {
    const fc = await start();

    fc.invokeAsync(payload({ key: 'async-timeout', sleepTimes: 1 }), { functionName: 'sleepy' });
    await fc.idle();

    expect(readState('async-timeout').attempts).toBe(2);
    expect(fc.stats()).toMatchObject({ timeouts: 1, retries: 1, succeeded: 1, instancesStarted: 2 });
    expect(fc.deadLetters()).toEqual([]);
  });

  it('drops an event older than MaxAsyncEventAgeInSeconds when its retry comes up', async () => {
    const fc = await start();

    const requestId = fc.invokeAsync(payload({ key: 'expired', sleepTimes: 9 }), { functionName: 'expiring' });
    await fc.idle();

    expect(fc.deadLetters()).toEqual([
      expect.objectContaining({
        requestId,
        attempts: 1,
        error: expect.stringMatching(/^Event expired: older than MaxAsyncEventAgeInSeconds \(1 s\)/),
      }),
    ]);
    expect(fc.deadLetters()[0]).not.toHaveProperty('destination');
  });

  it('redelivers invocations whose instance was killed by crash injection', async () => {
    // Arrange: echo allows 8 retries; with a 30% crash rate every event still gets through.
    const fc = await start({ crashRate: 0.3, seed: 7 });
    const keys = Array.from({ length: 8 }, (_, i) => `incoming/crash-${i}.json`);

    // Act
    for (const key of keys) fc.dispatchOssEvent(ossRecord(key));
    await fc.idle();

    // Assert
    const delivered = echoFiles().map(
      (file) => JSON.parse(readEcho(file.replace('.json', '')).event).events[0].oss.object.key,
    );
    expect(delivered.sort()).toEqual([...keys].sort());
    const stats = fc.stats();
    expect(stats.crashes).toBeGreaterThan(0);
    expect(stats.retries).toBe(stats.crashes);
    expect(stats.succeeded).toBe(8);
    expect(fc.deadLetters()).toEqual([]);
  });
});

/** An fc2 client signing with the emulator's API key (or a wrong secret). */
const clientFor = (fc: FcEmulator, accessKeySecret = API_KEY.accessKeySecret) =>
  new FCClient(fc.accountId, {
    accessKeyID: API_KEY.accessKeyId,
    accessKeySecret,
    region: fc.region,
    endpoint: fc.endpoint,
    timeout: 10_000,
  });

describe('FC emulator: HTTP API for @alicloud/fc2', () => {
  it('invokes synchronously and returns the handler result', async () => {
    const fc = await start();
    const client = clientFor(fc);

    const plain = await client.invokeFunction('fixtures', 'echo', '{"via":"fc2"}');
    const qualified = await client.invokeFunction('fixtures', 'echo', Buffer.from('{}'), {}, 'LATEST');
    const empty = await client.invokeFunction('fixtures', 'echo', '');

    const echo = JSON.parse(plain.data as string);
    expect(echo.event).toBe('{"via":"fc2"}');
    expect(echo.context.requestId).toBe(plain.headers['x-fc-request-id']);
    expect(JSON.parse(qualified.data as string).context.service.qualifier).toBe('LATEST');
    expect(JSON.parse(empty.data as string).event).toBe('');
  });

  it('invokes asynchronously: 202 with the request id the function then sees', async () => {
    const fc = await start();

    const response = await clientFor(fc).invokeFunction('fixtures', 'echo', '{"async":true}', {
      'x-fc-invocation-type': 'Async',
    });
    await fc.idle();

    const requestId = response.headers['x-fc-request-id'] ?? '';
    expect(readEcho(requestId).event).toBe('{"async":true}');
  });

  it('answers function errors with 200 and X-Fc-Error-Type', async () => {
    const fc = await start();
    const client = clientFor(fc);

    const handled = await client.invokeFunction('fixtures', 'flaky', JSON.stringify({ key: 'http', failTimes: 1 }));
    const init = await client.invokeFunction('fixtures', 'broken-init', '{}');

    expect(handled.headers['x-fc-error-type']).toBe('HandledInvocationError');
    expect(handled.data).toMatchObject({ errorMessage: 'flaky failure 1 of 1', errorType: 'Error' });
    expect(init.headers['x-fc-error-type']).toBe('InitializationError');
  });

  it('rejects a wrong secret, a stale Date and unknown names the way FC does', async () => {
    const fc = await start();
    const client = clientFor(fc);

    await expect(clientFor(fc, 'wrong-secret').invokeFunction('fixtures', 'echo', '{}')).rejects.toMatchObject({
      code: 'SignatureNotMatch',
      message: expect.stringContaining('failed with 403'),
    });
    await expect(
      client.invokeFunction('fixtures', 'echo', '{}', { date: new Date(Date.now() - 20 * 60_000).toUTCString() }),
    ).rejects.toMatchObject({ code: 'RequestTimeTooSkewed' });
    await expect(client.invokeFunction('nope', 'echo', '{}')).rejects.toMatchObject({ code: 'ServiceNotFound' });
    await expect(client.invokeFunction('fixtures', 'nope', '{}')).rejects.toMatchObject({ code: 'FunctionNotFound' });
    expect(fc.stats().invocations).toBe(0);
  });
});

describe('FC emulator: lifecycle', () => {
  it('close() leaves no instance process behind, even with invocations running', async () => {
    // Arrange
    const fc = await start({ maxInstances: 2 });
    await Promise.all([fc.invokeSync(payload(1)), fc.invokeSync(payload(2))]);
    mkdirSync(join(stateDir, 'g2', 'inflight'), { recursive: true });
    fc.invokeAsync(payload({ gate: 'g2' }), { functionName: 'gate' });
    const blocked = () => readdirSync(join(stateDir, 'g2', 'inflight')).length > 0;
    for (let poll = 0; poll < 500 && !blocked(); poll++) await sleep(10);
    expect(instancePids()).toHaveLength(3);

    // Act
    await fc.close();

    // Assert
    expect(instancePids().filter(isAlive)).toEqual([]);
    await expect(fc.idle()).resolves.toBeUndefined();
    expect(fc.stats()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it("runs the project's template.yml (with a stub bundle in place of dist/register)", async () => {
    // Arrange: the real template next to a stub bundle that reports its environment.
    const dir = join(stateDir, 'project');
    mkdirSync(join(dir, 'dist', 'register'), { recursive: true });
    copyFileSync(projectTemplate, join(dir, 'template.yml'));
    writeFileSync(
      join(dir, 'dist', 'register', 'index.js'),
      `let initialized = 0;
exports.initialize = async () => { initialized += 1; };
exports.handler = async (event, context) => {
  require('node:fs').writeFileSync(process.env.STUB_OUT, JSON.stringify({ event: event.toString(), initialized, bucket: process.env.OSS_BUCKET, endpoint: process.env.OSS_ENDPOINT, timeout: context.function.timeout }));
};`,
    );
    const fc = await start({
      templatePath: join(dir, 'template.yml'),
      parameters: TEMPLATE_PARAMETERS,
      environmentOverrides: { OSS_ENDPOINT: 'http://127.0.0.1:9', STUB_OUT: join(dir, 'out.json') },
    });
    const manifest = ossRecord('library/face/face-1.2.0.manifest.json', 'ObjectCreated:PutObject', 'algolib-packages');

    // Act
    const matched = fc.dispatchOssEvent(manifest);
    const statusWrite = fc.dispatchOssEvent(
      ossRecord('status/library/face/face-1.2.0.json', 'ObjectCreated:PutObject', 'algolib-packages'),
    );
    await fc.idle();

    // Assert
    expect([fc.serviceName, fc.functionName]).toEqual(['algolib', 'register']);
    expect([matched, statusWrite]).toEqual([1, 0]);
    expect(JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'))).toEqual({
      event: JSON.stringify({ events: [manifest] }),
      initialized: 1,
      bucket: 'algolib-packages',
      endpoint: 'http://127.0.0.1:9',
      timeout: 60,
    });
  });
});

describe('FC emulator: management API for @alicloud/fc2', () => {
  const startEmpty = async () => {
    const emulator = await startFcEmulator({
      codeDir: join(stateDir, 'code'),
      apiCredentials: [API_KEY],
      issueCredentials: () => ({ accessKeyId: 'STS.empty', accessKeySecret: 'sts-secret', securityToken: 'sts-token' }),
      log: (entry) => logs.push(entry),
    });
    running.push(emulator);
    return emulator;
  };
  /** A code folder whose handler answers with `answer` and where it runs from. */
  const codeZip = (answer: string) => {
    const dir = mkdtempSync(join(stateDir, 'src-'));
    writeFileSync(
      join(dir, 'index.js'),
      `exports.handler = async () => JSON.stringify({ answer: ${JSON.stringify(answer)}, dir: __dirname, greeting: process.env.GREETING });\n`,
    );
    return Buffer.from(zipCode(dir).zip).toString('base64');
  };
  const functionOptions = (answer: string) => ({
    functionName: 'hello',
    runtime: 'nodejs20',
    handler: 'index.handler',
    timeout: 10,
    memorySize: 128,
    environmentVariables: { GREETING: 'hi' },
    code: { zipFile: codeZip(answer) },
  });
  const ossTrigger = (name: string, suffix: string, bucket = 'fixtures') => ({
    triggerName: name,
    triggerType: 'oss',
    sourceArn: `acs:oss:cn-shanghai:1234567890123456:${bucket}`,
    invocationRole: 'acs:ram::1234567890123456:role/oss-invoke',
    triggerConfig: { events: ['oss:ObjectCreated:PutObject'], filter: { key: { prefix: 'in/', suffix } } },
  });

  it('starts empty, takes a service and a function from a zip, and runs the unzipped copy', async () => {
    // Arrange
    const fc = await startEmpty();
    const client = clientFor(fc);

    // Act
    await client.createService('svc', { description: 'd', role: 'acs:ram::1234567890123456:role/fn' });
    const created = await client.createFunction('svc', functionOptions('one'));
    const answer = JSON.parse((await client.invokeFunction('svc', 'hello', '{}')).data as string);

    // Assert
    expect([fc.serviceName, fc.functionName]).toEqual(['svc', 'hello']);
    expect((await client.getService('svc')).data).toEqual({
      serviceName: 'svc',
      description: 'd',
      role: 'acs:ram::1234567890123456:role/fn',
      internetAccess: true,
    });
    expect(created.data).toMatchObject({
      functionName: 'hello',
      runtime: 'nodejs20',
      timeout: 10,
      environmentVariables: { GREETING: 'hi' },
    });
    expect(created.data.codeChecksum).toBe(crc64(Buffer.from(functionOptions('one').code.zipFile, 'base64')));
    expect(answer).toEqual({
      answer: 'one',
      dir: join(stateDir, 'code', 'svc', 'hello', created.data.codeChecksum ?? ''),
      greeting: 'hi',
    });
  });

  it('updates a function: new code and configuration on fresh instances, triggers and async config kept', async () => {
    // Arrange
    const fc = await startEmpty();
    const client = clientFor(fc);
    await client.createService('svc');
    await client.createFunction('svc', functionOptions('one'));
    await client.createTrigger('svc', 'hello', ossTrigger('uploads', '.json'));
    await client.putFunctionAsyncConfig('svc', 'hello', undefined, {
      maxAsyncRetryAttempts: 1,
      maxAsyncEventAgeInSeconds: 60,
    });
    await client.invokeFunction('svc', 'hello', '{}');

    // Act
    const { functionName: _name, ...update } = functionOptions('two');
    await client.updateFunction('svc', 'hello', { ...update, environmentVariables: { GREETING: 'hello' } });
    const answer = JSON.parse((await client.invokeFunction('svc', 'hello', '{}')).data as string);

    // Assert
    expect(answer).toMatchObject({ answer: 'two', greeting: 'hello' });
    expect(fc.stats().instancesStarted).toBe(2);
    expect((await client.listTriggers('svc', 'hello')).data.triggers?.map((t) => t.triggerName)).toEqual(['uploads']);
    expect((await client.getFunctionAsyncConfig('svc', 'hello')).data).toMatchObject({
      maxAsyncRetryAttempts: 1,
      maxAsyncEventAgeInSeconds: 60,
    });
  });

  it('routes OSS events to triggers created through the API, and no longer once deleted', async () => {
    // Arrange
    const fc = await startEmpty();
    const client = clientFor(fc);
    await client.createService('svc');
    await client.createFunction('svc', functionOptions('one'));

    // Act
    const created = await client.createTrigger('svc', 'hello', ossTrigger('uploads', '.json'));
    const matched = fc.dispatchOssEvent(ossRecord('in/a.json'));
    await client.updateTrigger('svc', 'hello', 'uploads', {
      triggerConfig: ossTrigger('uploads', '.txt').triggerConfig,
    });
    const afterUpdate = [fc.dispatchOssEvent(ossRecord('in/a.json')), fc.dispatchOssEvent(ossRecord('in/a.txt'))];
    await client.deleteTrigger('svc', 'hello', 'uploads');
    const afterDelete = fc.dispatchOssEvent(ossRecord('in/a.txt'));
    await fc.idle();

    // Assert
    expect(created.data).toEqual({ ...ossTrigger('uploads', '.json'), qualifier: '' });
    expect([matched, ...afterUpdate, afterDelete]).toEqual([1, 0, 1, 0]);
    await expect(client.getTrigger('svc', 'hello', 'uploads')).rejects.toMatchObject({ code: 'TriggerNotFound' });
  });

  it('lists services, functions and triggers as FC 2.0 pages them: prefix, limit, nextToken, startKey', async () => {
    // Arrange
    const fc = await startEmpty();
    const client = clientFor(fc);
    for (const name of ['beta', 'alpha', 'gamma', 'alphabet']) await client.createService(name);
    for (const name of ['f-two', 'f-one', 'g-three'])
      await client.createFunction('alpha', { ...functionOptions(name), functionName: name });
    await client.createTrigger('alpha', 'f-one', ossTrigger('t-b', '.b'));
    await client.createTrigger('alpha', 'f-one', ossTrigger('t-a', '.a'));
    const names = (data: FcData) => [
      ...(data.services ?? []).map((s) => s.serviceName),
      ...(data.functions ?? []).map((f) => f.functionName),
      ...(data.triggers ?? []).map((t) => t.triggerName),
    ];

    // Act
    const all = (await client.listServices()).data;
    const first = (await client.listServices({ limit: 2 })).data;
    const second = (await client.listServices({ limit: 2, nextToken: first.nextToken as string })).data;
    const prefixed = (await client.listServices({ prefix: 'alpha' })).data;
    const fromKey = (await client.listServices({ startKey: 'b' })).data;
    const functions = (await client.listFunctions('alpha', { prefix: 'f-' })).data;
    const triggers = (await client.listTriggers('alpha', 'f-one', { limit: 1 })).data;

    // Assert
    expect(names(all)).toEqual(['alpha', 'alphabet', 'beta', 'gamma']);
    expect(all.nextToken).toBeUndefined();
    expect(all.services?.[0]).toEqual({ serviceName: 'alpha', description: '', role: '', internetAccess: true });
    expect([names(first), first.nextToken]).toEqual([['alpha', 'alphabet'], 'beta']);
    expect([names(second), second.nextToken]).toEqual([['beta', 'gamma'], undefined]);
    expect(names(prefixed)).toEqual(['alpha', 'alphabet']);
    expect(names(fromKey)).toEqual(['beta', 'gamma']);
    expect(names(functions)).toEqual(['f-one', 'f-two']);
    expect(functions.functions?.[0]).toMatchObject({
      functionName: 'f-one',
      runtime: 'nodejs20',
      handler: 'index.handler',
    });
    expect([names(triggers), triggers.nextToken]).toEqual([['t-a'], 't-b']);
    await expect(client.listFunctions('nope')).rejects.toMatchObject({ code: 'ServiceNotFound' });
    await expect(client.listServices({ limit: 0 })).rejects.toMatchObject({ code: 'InvalidArgument' });
  });

  it("answers FC's codes for what does not exist or already does", async () => {
    // Arrange
    const fc = await startEmpty();
    const client = clientFor(fc);

    // Act / Assert
    await expect(client.getService('svc')).rejects.toMatchObject({
      code: 'ServiceNotFound',
      message: expect.stringContaining('failed with 404'),
    });
    await client.createService('svc');
    await expect(client.createService('svc')).rejects.toMatchObject({
      code: 'ServiceAlreadyExists',
      message: expect.stringContaining('failed with 409'),
    });
    await expect(client.getFunction('svc', 'hello')).rejects.toMatchObject({ code: 'FunctionNotFound' });
    await client.createFunction('svc', functionOptions('one'));
    await expect(client.createFunction('svc', functionOptions('one'))).rejects.toMatchObject({
      code: 'FunctionAlreadyExists',
    });
    await expect(client.getFunctionAsyncConfig('svc', 'hello')).rejects.toMatchObject({ code: 'AsyncConfigNotExists' });
    await expect(client.getTrigger('svc', 'hello', 'nope')).rejects.toMatchObject({ code: 'TriggerNotFound' });
  });

  it.each([
    [
      'a runtime the local FC cannot run',
      () => ({ ...baseFunction(), runtime: 'python3' }),
      /Expected `Runtime` of svc\/hello to be a Node.js runtime/,
    ],
    [
      'no code',
      () => ({ ...baseFunction(), code: undefined }),
      /Expected `code` with a `zipFile` to create a function, got nothing/,
    ],
    [
      'bytes that are not a zip',
      () => ({ ...baseFunction(), code: { zipFile: Buffer.from('not a zip').toString('base64') } }),
      /Expected `code.zipFile` to be a base64 zip archive/,
    ],
    [
      'a zip whose entry climbs out of its folder',
      () => ({
        ...baseFunction(),
        code: { zipFile: Buffer.from(zipSync({ '../evil.js': Buffer.from('x') })).toString('base64') },
      }),
      /Expected the zip's entries to stay inside the code folder, got "..\/evil.js"/,
    ],
    [
      'a memory size FC does not offer',
      () => ({ ...baseFunction(), memorySize: 200 }),
      /Expected `memorySize` to be a multiple of 64 MB, got 200/,
    ],
  ])('refuses to create a function with %s (400 InvalidArgument)', async (_case, options, message) => {
    // Arrange
    const fc = await startEmpty();
    const client = clientFor(fc);
    await client.createService('svc');

    // Act / Assert
    await expect(client.createFunction('svc', options())).rejects.toMatchObject({
      code: 'InvalidArgument',
      message: expect.stringMatching(message),
    });
    expect(fc.functionName).toBe('');
  });

  it.each([
    [
      'a bucket in another region',
      () => ({ ...ossTrigger('t', '.json'), sourceArn: 'acs:oss:cn-beijing:1234567890123456:fixtures' }),
      /Expected `sourceArn` in region cn-shanghai and account 1234567890123456/,
    ],
    [
      'a trigger type it does not model',
      () => ({ ...ossTrigger('t', '.json'), triggerType: 'timer' }),
      /Expected `triggerType` to be oss/,
    ],
    [
      'event names that are not OSS events',
      () => ({ ...ossTrigger('t', '.json'), triggerConfig: { events: ['PutObject'] } }),
      /Expected `triggerConfig.events` to be a non-empty list/,
    ],
    [
      'a filter that overlaps another trigger',
      () => ossTrigger('second', '.json'),
      /Cannot specify overlapping prefix and suffix with same event type/,
    ],
  ])('refuses a trigger with %s (400 InvalidArgument)', async (_case, options, message) => {
    // Arrange
    const fc = await startEmpty();
    const client = clientFor(fc);
    await client.createService('svc');
    await client.createFunction('svc', functionOptions('one'));
    await client.createTrigger('svc', 'hello', ossTrigger('first', '.json'));

    // Act / Assert
    await expect(client.createTrigger('svc', 'hello', options())).rejects.toMatchObject({
      code: 'InvalidArgument',
      message: expect.stringMatching(message),
    });
  });

  it('verifies the signature of management calls as of invocations', async () => {
    // Arrange
    const fc = await startEmpty();

    // Act / Assert
    await expect(clientFor(fc, 'wrong-secret').createService('svc')).rejects.toMatchObject({
      code: 'SignatureNotMatch',
    });
    expect(fc.serviceName).toBe('');
  });

  const baseFunction = () => ({
    functionName: 'hello',
    runtime: 'nodejs20',
    handler: 'index.handler',
    code: { zipFile: codeZip('x') } as { zipFile: string } | undefined,
  });
});
