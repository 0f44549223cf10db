/** The template checker: each structural and agreement problem found, with a message that says what to fix. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTemplate, type Finding } from '../../deploy/check-template.ts';

/** A template shaped like the project's, small enough to read; cases edit it with `edit`. */
const TEMPLATE = `ROSTemplateFormatVersion: '2015-09-01'
Transform: 'Aliyun::Serverless-2018-04-03'
Parameters:
  BucketName:
    Type: String
  PackagePrefix:
    Type: String
    Default: library/
  StatusPrefix:
    Type: String
    Default: status/
  ReaderSecret:
    Type: String
    NoEcho: true
  WebhookEndpoints:
    Type: String
    Default: '[]'
    NoEcho: true
Resources:
  algolib:
    Type: 'Aliyun::Serverless::Service'
    Properties:
      Description: Registers libraries.
      Role: acs:ram::1234567890123456:role/algolib-function
    register:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Runtime: nodejs20
        Handler: index.handler
        Initializer: index.initialize
        CodeUri: code
        Timeout: 60
        MemorySize: 256
        InstanceConcurrency: 10
        EnvironmentVariables:
          OSS_BUCKET: !Ref BucketName
          OSS_ENDPOINT: https://oss-cn-shanghai-internal.aliyuncs.com
          PACKAGE_PREFIX: !Ref PackagePrefix
          STATUS_PREFIX: !Ref StatusPrefix
          CITYVISUAL_ENDPOINT: https://cityvisual.cn-shanghai.aliyuncs.com
          CITYVISUAL_INSTANCE_ID: cityvisual-abc123
          CITYVISUAL_OSS_ENDPOINT: oss-cn-shanghai-internal.aliyuncs.com
          CITYVISUAL_OSS_ACCESS_KEY_ID: LTAIreadonly
          CITYVISUAL_OSS_ACCESS_KEY_SECRET: !Ref ReaderSecret
          WEBHOOK_ENDPOINTS: !Ref WebhookEndpoints
        AsyncConfiguration:
          Destination:
            OnFailure: acs:mns:cn-shanghai:1234567890123456:/queues/failed/messages
          MaxAsyncRetryAttempts: 2
      Events:
        package-uploaded:
          Type: OSS
          Properties:
            BucketName: !Ref BucketName
            Events: [oss:ObjectCreated:PutObject, oss:ObjectCreated:PostObject, oss:ObjectCreated:CompleteMultipartUpload, oss:ObjectCreated:CopyObject]
            Filter:
              Key:
                Prefix: !Ref PackagePrefix
                Suffix: .tar.gz
        manifest-uploaded:
          Type: OSS
          Properties:
            BucketName: !Ref BucketName
            Events: [oss:ObjectCreated:PutObject, oss:ObjectCreated:PostObject, oss:ObjectCreated:CompleteMultipartUpload, oss:ObjectCreated:CopyObject]
            Filter:
              Key:
                Prefix: !Ref PackagePrefix
                Suffix: .manifest.json
`;

const SECRET = 'reader-secret-value-1234';
const PARAMETERS = { BucketName: 'algolib-packages', ReaderSecret: SECRET };
const BUNDLE = 'exports.handler = async () => "ok";\nexports.initialize = () => {};\n';

let dir: string;
let cases = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'check-template-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** `text` with `from` replaced by `to`; a `from` that is not there is a broken test, not a passing one. */
const edit = (text: string, from: string, to: string): string => {
  if (!text.includes(from)) throw new Error(`The fixture template has no ${JSON.stringify(from)}`);
  return text.replace(from, to);
};

/** Checks `text` in its own folder, next to a `code/index.js` of `bundle` (none when undefined). */
const check = async (
  text: string,
  options: { bundle?: string | undefined; parameters?: Record<string, string> } = {},
) => {
  cases += 1;
  const folder = join(dir, `case-${cases}`);
  mkdirSync(folder);
  const bundle = 'bundle' in options ? options.bundle : BUNDLE;
  if (bundle !== undefined) {
    mkdirSync(join(folder, 'code'));
    writeFileSync(join(folder, 'code', 'index.js'), bundle);
  }
  writeFileSync(join(folder, 'template.yml'), text);
  return checkTemplate(join(folder, 'template.yml'), { parameters: options.parameters ?? PARAMETERS });
};

const rulesOf = (findings: Finding[]) => findings.map((finding) => `${finding.level} ${finding.rule}`);

describe('checkTemplate', () => {
  it('passes a template that agrees with FC and with the code', async () => {
    // Act
    const { findings, model } = await check(TEMPLATE);

    // Assert
    expect(findings).toEqual([]);
    expect(model?.services[0]?.functions[0]?.name).toBe('register');
  });

  it.each([
    [
      'a wrong ROSTemplateFormatVersion',
      edit(TEMPLATE, "ROSTemplateFormatVersion: '2015-09-01'", "ROSTemplateFormatVersion: '2020-01-01'"),
      'Expected `ROSTemplateFormatVersion` to be \'2015-09-01\', got "2020-01-01"',
    ],
    [
      'a missing Transform',
      edit(TEMPLATE, "Transform: 'Aliyun::Serverless-2018-04-03'\n", ''),
      "Expected `Transform` to be 'Aliyun::Serverless-2018-04-03', got nothing",
    ],
    [
      'a Timeout out of range',
      edit(TEMPLATE, 'Timeout: 60', 'Timeout: 0'),
      'Expected `Resources.algolib.register.Properties.Timeout` to be an integer from 1 to 86400, got 0',
    ],
    [
      'an InstanceConcurrency out of range',
      edit(TEMPLATE, 'InstanceConcurrency: 10', 'InstanceConcurrency: 101'),
      'Expected `Resources.algolib.register.Properties.InstanceConcurrency` to be an integer from 1 to 100, got 101',
    ],
    [
      'a misspelled trigger property',
      edit(
        TEMPLATE,
        '            Filter:\n              Key:\n                Prefix: !Ref PackagePrefix\n                Suffix: .tar.gz',
        '            Filterx: {}',
      ),
      'Unknown property `Filterx` in `Resources.algolib.register.Events.package-uploaded.Properties` (known: BucketName, Events, Filter, InvocationRole, Qualifier)',
    ],
    [
      'a parameter without a value',
      TEMPLATE,
      'Missing a value for parameter `ReaderSecret`: it has no Default, so pass one',
      { BucketName: 'algolib-packages' },
    ],
    [
      'a service property deploy cannot apply',
      edit(
        TEMPLATE,
        '      Description: Registers libraries.',
        '      Description: Registers libraries.\n      InternetAccess: false\n      TracingConfig: Enable',
      ),
      'Expected `Resources.algolib.Properties` to set only Description, Role, InternetAccess (what algolib deploy applies), got also TracingConfig: set those in the FC console and remove them here',
    ],
  ])('reports %s as a structure error', async (_case, text, message, parameters?: Record<string, string>) => {
    // Act
    const { findings } = await check(text, parameters ? { parameters } : {});

    // Assert
    expect(findings).toEqual([expect.objectContaining({ level: 'error', rule: 'structure', message })]);
  });

  it('accepts FC Node.js runtimes Funcraft does not know, warns off the bundle target, refuses the rest', async () => {
    // Act
    const node18 = await check(edit(TEMPLATE, 'Runtime: nodejs20', 'Runtime: nodejs18'));
    const node12 = await check(edit(TEMPLATE, 'Runtime: nodejs20', 'Runtime: nodejs12'));

    // Assert
    expect(rulesOf(node18.findings)).toEqual(['warning runtime']);
    expect(node12.findings).toEqual([
      {
        level: 'error',
        rule: 'runtime',
        path: 'Resources.algolib.register.Properties.Runtime',
        message:
          "Expected `Resources.algolib.register.Properties.Runtime` to be one of nodejs14, nodejs16, nodejs18, nodejs20 (FC's Node.js runtimes; Funcraft's list stops at nodejs12), got nodejs12",
      },
    ]);
  });

  it('refuses a MemorySize that is not one of FC sizes', async () => {
    // Act
    const { findings } = await check(edit(TEMPLATE, 'MemorySize: 256', 'MemorySize: 200'));

    // Assert
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'memory-size',
        message:
          'Expected `Resources.algolib.register.Properties.MemorySize` to be 128 to 3072 MB in steps of 64, or 4096, 8192, 16384, 32768, got 200',
      }),
    ]);
  });

  it('refuses oss:ObjectCreated:* (one event per multipart part) and unknown event names', async () => {
    // Act
    const wildcard = await check(
      edit(
        TEMPLATE,
        'Events: [oss:ObjectCreated:PutObject, oss:ObjectCreated:PostObject, oss:ObjectCreated:CompleteMultipartUpload, oss:ObjectCreated:CopyObject]',
        'Events: [oss:ObjectCreated:*]',
      ),
    );
    const misspelled = await check(
      edit(
        TEMPLATE,
        'oss:ObjectCreated:PostObject, oss:ObjectCreated:Complete',
        'oss:ObjectCreated:PostObjects, oss:ObjectCreated:Complete',
      ),
    );

    // Assert
    expect(wildcard.findings).toEqual([
      expect.objectContaining({
        level: 'error',
        rule: 'event-names',
        path: 'Resources.algolib.register.Events.package-uploaded.Properties.Events',
        message: expect.stringContaining('got oss:ObjectCreated:* (it fires once per part of a multipart upload)'),
      }),
    ]);
    expect(rulesOf(misspelled.findings)).toEqual(['error event-names', 'warning upload-events']);
    expect(misspelled.findings[0]?.message).toContain('got oss:ObjectCreated:PostObjects');
  });

  it('refuses two triggers that overlap on the bucket', async () => {
    // Act
    const { findings } = await check(edit(TEMPLATE, 'Suffix: .manifest.json', 'Suffix: .gz'));

    // Assert
    expect(findings).toContainEqual(
      expect.objectContaining({
        rule: 'overlapping-triggers',
        message:
          'Expected triggers package-uploaded and manifest-uploaded on bucket algolib-packages not to overlap, got a shared event type with overlapping Prefix and Suffix (OSS refuses this)',
      }),
    );
  });

  it('holds Handler and Initializer to what the bundle exports', async () => {
    // Act
    const noInitializer = await check(TEMPLATE, { bundle: 'exports.handler = async () => "ok";\n' });
    const noBundle = await check(TEMPLATE, { bundle: undefined });
    const broken = await check(TEMPLATE, { bundle: 'throw new Error("top-level boom");\n' });

    // Assert
    expect(noInitializer.findings).toEqual([
      expect.objectContaining({
        rule: 'bundle',
        path: 'Resources.algolib.register.Properties.Initializer',
        message: expect.stringMatching(
          /^Expected .*code\/index\.js to export a function `initialize` \(Initializer index\.initialize\), got exports handler$/,
        ),
      }),
    ]);
    expect(rulesOf(noBundle.findings)).toEqual(['error bundle', 'error bundle']);
    expect(noBundle.findings[0]?.message).toMatch(
      /\(index\.handler\) to name a module in .*code, got no index\.js there \(run `npm run build`\?\)$/,
    );
    expect(broken.findings[0]?.message).toMatch(/^Expected .*index\.js to load, got top-level boom$/);
  });

  it('requires every variable shared/config.ts requires', async () => {
    // Act
    const { findings } = await check(edit(TEMPLATE, '          CITYVISUAL_INSTANCE_ID: cityvisual-abc123\n', ''));

    // Assert
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'required-variables',
        path: 'Resources.algolib.register.Properties.EnvironmentVariables.CITYVISUAL_INSTANCE_ID',
        message:
          'Expected `Resources.algolib.register.Properties.EnvironmentVariables` to set CITYVISUAL_INSTANCE_ID, which shared/config.ts requires, got nothing',
      }),
    ]);
  });

  it('reports what loadConfig refuses without printing the secret it was given', async () => {
    // Arrange: plain http to a host that is not loopback, inside a NoEcho value that also holds a signing secret.
    const webhooks = JSON.stringify([
      { url: 'http://hooks.example.com/a', secrets: ['whsec_c2VjcmV0LXNpZ25pbmcta2V5'] },
    ]);

    // Act
    const { findings } = await check(TEMPLATE, { parameters: { ...PARAMETERS, WebhookEndpoints: webhooks } });

    // Assert
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'config',
        message:
          "Expected the function's environment to load with shared/config.ts, got: Environment variable WEBHOOK_ENDPOINTS must use https:// (plain http is allowed only for loopback addresses)",
      }),
    ]);
    expect(JSON.stringify(findings)).not.toMatch(/whsec_|hooks\.example/);
  });

  it('requires secret variables to come from NoEcho parameters', async () => {
    // Act
    const literal = await check(
      edit(
        TEMPLATE,
        'CITYVISUAL_OSS_ACCESS_KEY_SECRET: !Ref ReaderSecret',
        'CITYVISUAL_OSS_ACCESS_KEY_SECRET: written-here',
      ),
    );
    const echoed = await check(
      edit(TEMPLATE, '  ReaderSecret:\n    Type: String\n    NoEcho: true', '  ReaderSecret:\n    Type: String'),
    );

    // Assert
    expect(literal.findings).toEqual([
      expect.objectContaining({
        rule: 'secret-parameters',
        message:
          'Expected `Resources.algolib.register.Properties.EnvironmentVariables.CITYVISUAL_OSS_ACCESS_KEY_SECRET` to come from a NoEcho parameter (!Ref), got a value written in the template',
      }),
    ]);
    expect(echoed.findings[0]?.message).toMatch(/got parameter `ReaderSecret`, which is not NoEcho$/);
    expect(JSON.stringify(echoed.findings)).not.toContain(SECRET);
  });

  it('holds the triggers to the key conventions and the function bucket', async () => {
    // Act
    const prefix = await check(
      edit(
        TEMPLATE,
        'Prefix: !Ref PackagePrefix\n                Suffix: .tar.gz',
        'Prefix: incoming/\n                Suffix: .tar.gz',
      ),
    );
    const suffix = await check(edit(TEMPLATE, 'Suffix: .manifest.json', 'Suffix: .json'));
    const bucket = await check(
      edit(
        TEMPLATE,
        '            BucketName: !Ref BucketName\n            Events: [oss:ObjectCreated:PutObject',
        '            BucketName: another-bucket\n            Events: [oss:ObjectCreated:PutObject',
      ),
    );

    // Assert
    expect(prefix.findings).toEqual([
      expect.objectContaining({
        rule: 'trigger-keys',
        message:
          'Expected `Resources.algolib.register.Events.package-uploaded.Properties.Filter.Key.Prefix` to be PACKAGE_PREFIX ("library/"), got "incoming/"',
      }),
    ]);
    expect(suffix.findings.map((finding) => finding.message)).toEqual([
      'Expected `Resources.algolib.register.Events.manifest-uploaded.Properties.Filter.Key.Suffix` to be .tar.gz or .manifest.json, got ".json"',
      'Expected a trigger with Suffix .manifest.json (either half of a pair may arrive last), got none',
    ]);
    expect(bucket.findings).toEqual([
      expect.objectContaining({
        rule: 'trigger-bucket',
        message:
          "Expected `Resources.algolib.register.Events.package-uploaded.Properties.BucketName` to be the function's OSS_BUCKET (algolib-packages), got another-bucket",
      }),
    ]);
  });

  it('keeps the status prefix outside both triggers', async () => {
    // Act
    const { findings } = await check(TEMPLATE, { parameters: { ...PARAMETERS, StatusPrefix: 'library/status/' } });

    // Assert
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'status-prefix',
        message:
          'Expected STATUS_PREFIX ("library/status/") to lie outside PACKAGE_PREFIX ("library/"), got a prefix inside it',
      }),
    ]);
  });

  it('warns about an async config that drops or multiplies retries, and a Timeout too short for one attempt', async () => {
    // Act
    const { findings } = await check(
      edit(
        edit(
          edit(TEMPLATE, 'MaxAsyncRetryAttempts: 2', 'MaxAsyncRetryAttempts: 6'),
          '          Destination:\n            OnFailure: acs:mns:cn-shanghai:1234567890123456:/queues/failed/messages\n',
          '',
        ),
        'Timeout: 60',
        'Timeout: 10',
      ),
    );

    // Assert
    expect(findings.map(({ level, rule, message }) => `${level} ${rule}: ${message}`)).toEqual([
      'warning async-config: Expected `Resources.algolib.register.Properties.AsyncConfiguration.Destination.OnFailure` to be set, got nothing: FC discards an event whose retries are exhausted',
      "warning async-config: Expected `Resources.algolib.register.Properties.AsyncConfiguration.MaxAsyncRetryAttempts` to be at most 3 (the function retries transient errors itself, and FC's retries multiply them), got 6",
      'warning timeout-budget: Expected `Resources.algolib.register.Properties.Timeout` to exceed 15 s (one CityVisual attempt of CITYVISUAL_TIMEOUT_MS plus DEADLINE_RESERVE_MS), got 10 s',
    ]);
  });

  it('checks with stand-ins for parameters that have no value when asked to (offline, in CI)', async () => {
    // Arrange
    const folder = join(dir, 'placeholders');
    mkdirSync(join(folder, 'code'), { recursive: true });
    writeFileSync(join(folder, 'code', 'index.js'), BUNDLE);
    writeFileSync(join(folder, 'template.yml'), TEMPLATE);

    // Act
    const result = await checkTemplate(join(folder, 'template.yml'), { placeholders: true });

    // Assert
    expect(result.findings).toEqual([]);
    expect(result.placeholders).toEqual(['BucketName', 'ReaderSecret']);
  });
});
