import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadTemplate, parseTemplate, TemplateError } from '../../platform/fc/template.ts';
import { TEMPLATE_PARAMETERS } from '../fixtures/template-parameters.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtureTemplate = fileURLToPath(new URL('../fixtures/fc/template.yml', import.meta.url));

/** A one-function template; `functionProperties` and `extra` are spliced in as YAML lines. */
const template = ({ parameters = '', functionProperties = '', events = '' } = {}) => `
ROSTemplateFormatVersion: '2015-09-01'
Transform: 'Aliyun::Serverless-2018-04-03'
Parameters:
  Bucket:
    Type: String
  Prefix:
    Type: String
    Default: library/
${parameters}
Resources:
  svc:
    Type: 'Aliyun::Serverless::Service'
    fn:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Runtime: nodejs20
        Handler: index.handler
        CodeUri: code
${functionProperties}
${events}
`;

const parse = (text: string, parameters: Record<string, string> = { Bucket: 'b' }) =>
  parseTemplate(text, { baseDir: '/srv/app', parameters, accountId: '1234567890123456', region: 'cn-shanghai' });

const firstFunction = (text: string, parameters?: Record<string, string>) => {
  const fn = parse(text, parameters).services[0]?.functions[0];
  if (!fn) throw new Error('no function');
  return fn;
};

const errorOf = (run: () => unknown): TemplateError => {
  try {
    run();
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error('Expected a TemplateError');
};

describe('parseTemplate', () => {
  it('applies FC defaults and resolves CodeUri against the template folder', () => {
    // Act
    const fn = firstFunction(template());

    // Assert
    expect(fn).toEqual({
      name: 'fn',
      runtime: 'nodejs20',
      handler: 'index.handler',
      codeUri: '/srv/app/code',
      timeout: 3,
      memorySize: 128,
      instanceConcurrency: 1,
      environmentVariables: {},
      triggers: [],
    });
  });

  it('resolves !Ref, !Sub (with its literal escape), !Join and !GetAtt short forms', () => {
    const fn = firstFunction(
      template({
        functionProperties: `
        EnvironmentVariables:
          BUCKET: !Ref Bucket
          PREFIX: !Ref Prefix
          GREETING: !Sub 'bucket \${Bucket} in \${ALIYUN::Region}, literal \${!Bucket}'
          SUB_LIST: !Sub ['\${Who}@\${Bucket}', { Who: !Ref Prefix }]
          JOINED: !Join ['/', [!Ref Bucket, x, 1]]
          SERVICE_ARN: !GetAtt svc.ARN
          FUNCTION_ARN: !GetAtt [svc, fn, Arn]`,
      }),
    );

    expect(fn.environmentVariables).toEqual({
      BUCKET: 'b',
      PREFIX: 'library/',
      GREETING: `bucket b in cn-shanghai, literal \${Bucket}`,
      SUB_LIST: 'library/@b',
      JOINED: 'b/x/1',
      SERVICE_ARN: 'acs:fc:cn-shanghai:1234567890123456:services/svc',
      FUNCTION_ARN: 'acs:fc:cn-shanghai:1234567890123456:services/svc/functions/fn',
    });
  });

  it('resolves the long forms Ref, Fn::Sub and Fn::Join', () => {
    const fn = firstFunction(
      template({
        functionProperties: `
        EnvironmentVariables:
          A: { Ref: Bucket }
          B: { 'Fn::Sub': '\${Prefix}x' }
          C: { 'Fn::Join': ['-', [{ Ref: Bucket }, z]] }`,
      }),
    );

    expect(fn.environmentVariables).toEqual({ A: 'b', B: 'library/x', C: 'b-z' });
  });

  it('prefers a given parameter value over the Default', () => {
    const fn = firstFunction(
      template({ functionProperties: '        EnvironmentVariables: { PREFIX: !Ref Prefix }' }),
      { Bucket: 'b', Prefix: 'incoming/' },
    );

    expect(fn.environmentVariables).toEqual({ PREFIX: 'incoming/' });
  });

  it('reports a parameter that has neither a value nor a Default', () => {
    const error = errorOf(() => parse(template(), {}));

    expect(error.path).toBe('Parameters.Bucket');
    expect(error.message).toMatchInlineSnapshot(
      `"Missing a value for parameter \`Bucket\`: it has no Default, so pass one"`,
    );
  });

  it('rejects a value for a parameter the template does not declare', () => {
    expect(() => parse(template(), { Bucket: 'b', Bukcet: 'typo' })).toThrowErrorMatchingInlineSnapshot(
      `[TemplateError: Unknown parameter(s) \`Bukcet\`: the template declares Bucket, Prefix]`,
    );
  });

  it('flags NoEcho parameters and keeps their values out of error messages', () => {
    const parameters = `
  Secret:
    Type: String
    NoEcho: true`;
    const text = template({ parameters, functionProperties: '        Timeout: !Ref Secret' });

    expect(parse(template({ parameters }), { Bucket: 'b', Secret: 's3cr3t' }).noEcho).toEqual(new Set(['Secret']));
    expect(errorOf(() => parse(text, { Bucket: 'b', Secret: 's3cr3t' })).message).toMatchInlineSnapshot(
      `"Expected \`Resources.svc.fn.Properties.Timeout\` to be an integer from 1 to 86400, got "***""`,
    );
  });

  it('names unknown function properties', () => {
    const text = template({ functionProperties: '        Timeuot: 60\n        Foo: 1' });

    expect(() => parse(text)).toThrowErrorMatchingInlineSnapshot(
      `[TemplateError: Unknown properties \`Timeuot\`, \`Foo\` in \`Resources.svc.fn.Properties\` (known: Handler, Runtime, CodeUri, Initializer, InitializationTimeout, Description, Timeout, MemorySize, EnvironmentVariables, InstanceType, InstanceConcurrency, InstanceLifecycleConfig, Layers, CAPort, CustomContainerConfig, AsyncConfiguration)]`,
    );
  });

  it('names unknown OSS trigger properties, which fun validate lets through', () => {
    const events = `
      Events:
        up:
          Type: OSS
          Properties:
            BucketName: !Ref Bucket
            Events: [oss:ObjectCreated:PutObject]
            Filterx: { Key: { Prefix: a/, Suffix: .json } }`;

    expect(errorOf(() => parse(template({ events }))).message).toMatchInlineSnapshot(
      `"Unknown property \`Filterx\` in \`Resources.svc.fn.Events.up.Properties\` (known: BucketName, Events, Filter, InvocationRole, Qualifier)"`,
    );
  });

  it.each([
    ['Timeout: 0', 'Expected `Resources.svc.fn.Properties.Timeout` to be an integer from 1 to 86400, got 0'],
    [
      'InstanceConcurrency: 101',
      'Expected `Resources.svc.fn.Properties.InstanceConcurrency` to be an integer from 1 to 100, got 101',
    ],
    [
      'AsyncConfiguration: { MaxAsyncRetryAttempts: 9 }',
      'Expected `Resources.svc.fn.Properties.AsyncConfiguration.MaxAsyncRetryAttempts` to be an integer from 0 to 8, got 9',
    ],
    [
      'EnvironmentVariables: { A: !Ref Nope }',
      'Expected `Nope` in Resources.svc.fn.Properties.EnvironmentVariables.A to name a parameter, got an unknown reference',
    ],
    ['EnvironmentVariables: { A: !Bogus x }', 'Expected valid template YAML: Unresolved tag: !Bogus'],
  ])('rejects %s', (line, message) => {
    expect(() => parse(template({ functionProperties: `        ${line}` }))).toThrow(message);
  });

  it('fills AsyncConfiguration defaults and reads destinations', () => {
    const fn = firstFunction(
      template({
        functionProperties: '        AsyncConfiguration: { Destination: { OnFailure: acs:mns:::/queues/q/messages } }',
      }),
    );

    expect(fn.asyncConfiguration).toEqual({
      maxAsyncRetryAttempts: 3,
      maxAsyncEventAgeInSeconds: 86400,
      onFailure: 'acs:mns:::/queues/q/messages',
    });
  });
});

describe('loadTemplate', () => {
  it('resolves the fixture template with its CodeUri next to it', () => {
    const model = loadTemplate(fixtureTemplate, {
      parameters: { BucketName: 'fixtures', StateDir: '/tmp/state' },
      region: 'cn-shanghai',
    });

    const echo = model.services[0]?.functions.find((fn) => fn.name === 'echo');
    expect(echo?.codeUri).toBe(fileURLToPath(new URL('../fixtures/fc/functions', import.meta.url)));
    expect(echo?.environmentVariables.BUCKET_ARN).toBe('acs:oss:cn-shanghai::fixtures');
    expect(model.noEcho).toEqual(new Set(['ApiSecret']));
  });

  it("resolves the project's template.yml", () => {
    // Arrange
    const parameters = TEMPLATE_PARAMETERS;

    // Act
    const model = loadTemplate(`${root}/template.yml`, { parameters });

    // Assert
    expect(model.noEcho).toEqual(new Set(['CityVisualOssAccessKeySecret', 'WebhookEndpoints', 'ChatRobots']));
    expect(model.services).toHaveLength(1);
    const service = model.services[0];
    expect(service?.name).toBe('algolib');
    expect(service?.properties).toEqual({
      Description: 'Registers CityVisual algorithm libraries uploaded to OSS.',
      Role: 'acs:ram::1234567890123456:role/algolib-function',
    });
    const trigger = (name: string, suffix: string) => ({
      name,
      type: 'OSS',
      bucketName: 'algolib-packages',
      events: [
        'oss:ObjectCreated:PutObject',
        'oss:ObjectCreated:PostObject',
        'oss:ObjectCreated:CompleteMultipartUpload',
        'oss:ObjectCreated:CopyObject',
      ],
      filter: { prefix: 'library/', suffix },
      invocationRole: TEMPLATE_PARAMETERS.TriggerRoleArn,
    });
    expect(service?.functions).toEqual([
      {
        name: 'register',
        description: 'Pairs package and manifest, verifies them, calls CreateAlgoLib once per name, writes the status.',
        runtime: 'nodejs20',
        handler: 'index.handler',
        initializer: 'index.initialize',
        initializationTimeout: 10,
        codeUri: `${root}dist/register`,
        timeout: 60,
        memorySize: 256,
        instanceConcurrency: 10,
        environmentVariables: {
          OSS_BUCKET: 'algolib-packages',
          OSS_REGION: 'oss-cn-shanghai',
          OSS_ENDPOINT: 'https://oss-cn-shanghai-internal.aliyuncs.com',
          PACKAGE_PREFIX: 'library/',
          STATUS_PREFIX: 'status/',
          CITYVISUAL_ENDPOINT: 'https://cityvisual.cn-shanghai.aliyuncs.com',
          CITYVISUAL_REGION_ID: 'cn-shanghai',
          CITYVISUAL_INSTANCE_ID: TEMPLATE_PARAMETERS.CityVisualInstanceId,
          CITYVISUAL_OSS_ENDPOINT: 'oss-cn-shanghai-internal.aliyuncs.com',
          CITYVISUAL_OSS_ACCESS_KEY_ID: TEMPLATE_PARAMETERS.CityVisualOssAccessKeyId,
          CITYVISUAL_OSS_ACCESS_KEY_SECRET: TEMPLATE_PARAMETERS.CityVisualOssAccessKeySecret,
          WEBHOOK_ENDPOINTS: '[]',
          VERSION_POLICY: 'upgrade',
          CHAT_ROBOTS: '[]',
          CONSOLE_URL: '',
        },
        asyncConfiguration: {
          maxAsyncRetryAttempts: 2,
          maxAsyncEventAgeInSeconds: 86400,
          onFailure: 'acs:mns:cn-shanghai:1234567890123456:/queues/algolib-failed/messages',
        },
        triggers: [trigger('package-uploaded', '.tar.gz'), trigger('manifest-uploaded', '.manifest.json')],
      },
    ]);
  });

  it("names the project template's parameters that have no Default", () => {
    expect(errorOf(() => loadTemplate(`${root}/template.yml`)).message).toBe(
      'Missing a value for parameter `BucketName`: it has no Default, so pass one',
    );
  });
});
