/**
 * The FC emulator driven by Alibaba's Tea SDK for the FC 2.0 API version the docs recommend,
 * `@alicloud/fc-open20210406`: paths under `/2021-04-06/`, requests signed with `ACS3-HMAC-SHA256` by
 * `@alicloud/openapi-client`, which this project's code never uses. Whatever it sends is verified and answered as FC
 * answers it.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as FcOpenModule from '@alicloud/fc-open20210406';
import type * as OpenApiModule from '@alicloud/openapi-client';
import type * as TeaUtilModule from '@alicloud/tea-util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FcEmulator, startFcEmulator } from '../../local/fc/fc-emulator.ts';

const require = createRequire(import.meta.url);
const FcOpen = require('@alicloud/fc-open20210406') as typeof FcOpenModule;
const OpenApi = require('@alicloud/openapi-client') as typeof OpenApiModule;
const TeaUtil = require('@alicloud/tea-util') as typeof TeaUtilModule;
const Client = FcOpen.default;

const fixtureTemplate = fileURLToPath(new URL('../fixtures/fc/template.yml', import.meta.url));
const API_KEY = { accessKeyId: 'LTAI-fc-open', accessKeySecret: 'fc-open-secret' };

let stateDir: string;
let fc: FcEmulator | undefined;

beforeEach(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'fc-open-'));
  mkdirSync(join(stateDir, 'echo'));
  fc = await startFcEmulator({
    templatePath: fixtureTemplate,
    parameters: { BucketName: 'fixtures', StateDir: stateDir },
    apiCredentials: [API_KEY],
    issueCredentials: () => ({ accessKeyId: 'STS.open', accessKeySecret: 'sts-secret', securityToken: 'sts-token' }),
    asyncRetryBaseMs: 20,
  });
});

afterEach(async () => {
  await fc?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

const clientFor = (emulator: FcEmulator, secret = API_KEY.accessKeySecret) =>
  new Client(
    new OpenApi.Config({
      accessKeyId: API_KEY.accessKeyId,
      accessKeySecret: secret,
      endpoint: new URL(emulator.endpoint).host,
      protocol: 'http',
      regionId: 'cn-shanghai',
    }),
  );

describe('FC emulator: @alicloud/fc-open20210406 (Tea SDK, ACS3-HMAC-SHA256, /2021-04-06/)', () => {
  it('answers getService and getFunction with the FC 2.0 fields', async () => {
    // Arrange
    const client = clientFor(fc as FcEmulator);

    // Act
    const service = await client.getService('fixtures', new FcOpen.GetServiceRequest({}));
    const fn = await client.getFunction('fixtures', 'echo', new FcOpen.GetFunctionRequest({}));

    // Assert
    expect(service.statusCode).toBe(200);
    expect(service.body).toMatchObject({ serviceName: 'fixtures', description: 'Fixture functions.' });
    expect(fn.body).toMatchObject({
      functionName: 'echo',
      runtime: 'nodejs20',
      handler: 'index.echo',
      initializer: 'index.initialize',
      initializationTimeout: 5,
      timeout: 10,
    });
  });

  it('invokes synchronously and asynchronously, with the qualifier as a query parameter', async () => {
    // Arrange
    const client = clientFor(fc as FcEmulator);

    // Act
    const sync = await client.invokeFunction(
      'fixtures',
      'echo',
      new FcOpen.InvokeFunctionRequest({ body: Buffer.from('{"hello":"tea"}'), qualifier: 'LATEST' }),
    );
    const queued = await client.invokeFunctionWithOptions(
      'fixtures',
      'flaky',
      new FcOpen.InvokeFunctionRequest({ body: Buffer.from('{"key":"tea","failTimes":0}') }),
      new FcOpen.InvokeFunctionHeaders({ xFcInvocationType: 'Async' }),
      new TeaUtil.RuntimeOptions({}),
    );
    await (fc as FcEmulator).idle();

    // Assert
    const echo = JSON.parse(sync.body.toString('utf8'));
    expect(echo.event).toBe('{"hello":"tea"}');
    expect(echo.context.service.qualifier).toBe('LATEST');
    expect(queued.statusCode).toBe(202);
    expect(queued.headers['x-fc-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect((fc as FcEmulator).stats()).toMatchObject({ succeeded: 2, failed: 0 });
  });

  it('lists services, functions and triggers with limit, prefix and nextToken', async () => {
    // Arrange
    const client = clientFor(fc as FcEmulator);

    // Act
    const services = await client.listServices(new FcOpen.ListServicesRequest({ limit: 10 }));
    const first = await client.listFunctions('fixtures', new FcOpen.ListFunctionsRequest({ limit: 2 }));
    const second = await client.listFunctions(
      'fixtures',
      new FcOpen.ListFunctionsRequest({ limit: 2, nextToken: first.body.nextToken }),
    );
    const prefixed = await client.listFunctions('fixtures', new FcOpen.ListFunctionsRequest({ prefix: 'sl' }));
    const triggers = await client.listTriggers('fixtures', 'echo', new FcOpen.ListTriggersRequest({}));

    // Assert
    expect(services.body.services?.map((s) => s.serviceName)).toEqual(['fixtures']);
    expect(first.body.functions?.map((f) => f.functionName)).toEqual(['async-init', 'broken-init']);
    expect(first.body.nextToken).toBe('echo');
    expect(second.body.functions?.map((f) => f.functionName)).toEqual(['echo', 'expiring']);
    expect(prefixed.body.functions?.map((f) => f.functionName)).toEqual(['sleepy']);
    expect(triggers.body.triggers?.map((t) => [t.triggerName, t.triggerType])).toEqual([['uploads', 'oss']]);
  });

  it('verifies the ACS3 signature: a wrong secret is refused with 403 SignatureNotMatch', async () => {
    // Arrange
    const client = clientFor(fc as FcEmulator, 'not-the-secret');

    // Act
    const refused = client.getService('fixtures', new FcOpen.GetServiceRequest({}));

    // Assert
    await expect(refused).rejects.toMatchObject({ data: { statusCode: 403, ErrorCode: 'SignatureNotMatch' } });
    expect((fc as FcEmulator).stats().invocations).toBe(0);
  });
});
