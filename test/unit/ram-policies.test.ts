/** deploy/ram held against the code: each policy grants what its principal calls, and nothing else. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createFcApi, type Fc2Client, type FcApi, FcApiError } from '../../deploy/fc-api.ts';

type Statement = { Effect: string; Action: string | string[]; Resource?: string[]; Principal?: { Service: string[] } };
type Policy = { Version: string; Statement: Statement[] };

const folder = fileURLToPath(new URL('../../deploy/ram/', import.meta.url));
const policy = (name: string) => JSON.parse(readFileSync(`${folder}${name}`, 'utf8')) as Policy;
const actionsOf = (document: Policy) => document.Statement.flatMap((statement) => [statement.Action].flat());
/** `${name}` as the policies write it (built, so it does not read as a mistyped template string). */
const ph = (name: string) => ['$', '{', name, '}'].join('');
const PACKAGE_OBJECTS = `acs:oss:*:${ph('AccountId')}:${ph('BucketName')}/${ph('PackagePrefix')}*`;
const STATUS_OBJECTS = `acs:oss:*:${ph('AccountId')}:${ph('BucketName')}/${ph('StatusPrefix')}*`;
const THE_BUCKET = `acs:oss:*:${ph('AccountId')}:${ph('BucketName')}`;
const PLACEHOLDERS = [
  'AccountId',
  'Region',
  'BucketName',
  'PackagePrefix',
  'StatusPrefix',
  'ServiceName',
  'FunctionName',
  'FunctionRoleName',
  'TriggerRoleName',
  'OnFailureQueueName',
];

/** The FC operations `algolib deploy` can call: every FcApi method, made to fail so that it names its operation. */
const deployOperations = async (): Promise<string[]> => {
  const client = new Proxy({} as Fc2Client, {
    get: () => async () => {
      throw Object.assign(new Error('GET /x failed with 403. requestid: r, message: denied.'), {
        code: 'AccessDenied',
      });
    },
  });
  const api = createFcApi(client);
  const spec = {
    triggerName: 't',
    triggerType: 'oss' as const,
    sourceArn: 'acs:oss:cn-shanghai:1:b',
    invocationRole: '',
    qualifier: 'LATEST',
    triggerConfig: { events: [], filter: { key: { prefix: '', suffix: '' } } },
  };
  const config = {
    description: '',
    runtime: 'nodejs20',
    handler: 'index.handler',
    initializer: '',
    initializationTimeout: 3,
    timeout: 3,
    memorySize: 128,
    instanceConcurrency: 1,
    environmentVariables: {},
  };
  const async = { maxAsyncRetryAttempts: 0, maxAsyncEventAgeInSeconds: 1, onSuccess: '', onFailure: '' };
  const calls: Record<keyof FcApi, () => Promise<unknown>> = {
    getService: () => api.getService('s'),
    createService: () => api.createService('s', { description: '', role: '', internetAccess: true }),
    updateService: () => api.updateService('s', { description: '', role: '', internetAccess: true }),
    getFunction: () => api.getFunction('s', 'f'),
    createFunction: () => api.createFunction('s', 'f', config, new Uint8Array(1)),
    updateFunction: () => api.updateFunction('s', 'f', config),
    listTriggers: () => api.listTriggers('s', 'f'),
    createTrigger: () => api.createTrigger('s', 'f', spec),
    updateTrigger: () => api.updateTrigger('s', 'f', spec),
    deleteTrigger: () => api.deleteTrigger('s', 'f', 't'),
    getAsyncConfig: () => api.getAsyncConfig('s', 'f'),
    putAsyncConfig: () => api.putAsyncConfig('s', 'f', async),
  };
  const operations: string[] = [];
  for (const call of Object.values(calls)) {
    const error = await call().catch((e: unknown) => e);
    if (error instanceof FcApiError) operations.push(error.operation);
  }
  return operations;
};

describe('deploy/ram', () => {
  it('holds valid RAM policy documents that use only the documented placeholders', () => {
    // Arrange
    const files = readdirSync(folder).filter((file) => file.endsWith('.json'));

    // Assert
    expect(files.sort()).toEqual([
      'cityvisual-read-key-policy.json',
      'deployer-policy.json',
      'function-role-policy.json',
      'function-role-trust.json',
      'trigger-role-policy.json',
      'trigger-role-trust.json',
    ]);
    for (const file of files) {
      const text = readFileSync(`${folder}${file}`, 'utf8');
      expect(policy(file).Version, file).toBe('1');
      const used = [...text.matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]);
      for (const name of used) expect(PLACEHOLDERS, `${file} uses ${ph(name ?? '')}`).toContain(name);
    }
  });

  it('lets the deployer make exactly the FC calls algolib deploy makes, pass the two roles and read the bucket versioning', async () => {
    // Act
    const operations = await deployOperations();

    // Assert
    expect(operations).toHaveLength(12);
    expect(actionsOf(policy('deployer-policy.json')).sort()).toEqual(
      [...operations.map((operation) => `fc:${operation}`), 'ram:PassRole', 'oss:GetBucketVersioning'].sort(),
    );
    // `deploy --check` refuses a versioned status bucket (deploy/check-bucket.ts).
    expect(policy('deployer-policy.json').Statement).toContainEqual(
      expect.objectContaining({ Action: ['oss:GetBucketVersioning'], Resource: [THE_BUCKET] }),
    );
  });

  it('lets the function read packages, read and write under the status prefix, read the bucket versioning, call CityVisual, and send dead letters to its queue', () => {
    // Arrange
    const statements = policy('function-role-policy.json').Statement;

    // Assert
    expect(statements.map(({ Action, Resource }) => [Action, Resource])).toEqual([
      [['oss:GetObject'], [PACKAGE_OBJECTS]],
      [['oss:GetObject', 'oss:PutObject'], [STATUS_OBJECTS]],
      [['oss:GetBucketVersioning'], [THE_BUCKET]],
      [['cityvisual:CreateAlgoLib', 'cityvisual:ModifyAlgoLib', 'cityvisual:DescribeAlgoLibs'], ['*']],
      // FC delivers the OnFailure dead letter with the service role (result-callback docs): MNS SendMessage.
      [['mns:SendMessage'], [`acs:mns:*:${ph('AccountId')}:/queues/${ph('OnFailureQueueName')}/messages`]],
    ]);
    expect(
      policy('cityvisual-read-key-policy.json').Statement.map(({ Action, Resource }) => [Action, Resource]),
    ).toEqual([[['oss:GetObject'], [PACKAGE_OBJECTS]]]);
  });

  it('lets OSS invoke the function and nothing else, and trusts the right services', () => {
    // Assert
    expect(actionsOf(policy('trigger-role-policy.json'))).toEqual(['fc:InvokeFunction']);
    expect(policy('function-role-trust.json').Statement[0]?.Principal?.Service).toEqual(['fc.aliyuncs.com']);
    expect(policy('trigger-role-trust.json').Statement[0]?.Principal?.Service).toEqual(['oss.aliyuncs.com']);
  });
});
