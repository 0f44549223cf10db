/**
 * What an FC instance of the register function gets on the local cloud, for running the handler in a process of our
 * own: the environment FC would set (template.yml resolved with the local cloud's values, as `startLocalCloud` does)
 * and an STS triplet with the permissions the FC emulator's triplets get (read `library/` and `status/`, write
 * `status/`; the same key at CityVisual).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { LOCAL_BUCKET, LOCAL_INSTANCE_ID, LOCAL_REGION, type LocalCloud } from '../local/cloud.ts';
import { loadTemplate } from '../platform/fc/template.ts';

export type FunctionSetup = {
  env: Record<string, string>;
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken: string };
  timeoutSeconds: number;
  memorySize: number;
  instanceConcurrency: number;
};

const key = (prefix: string) => ({
  accessKeyId: `${prefix}${randomBytes(8).toString('hex')}`,
  accessKeySecret: randomBytes(18).toString('base64url'),
});

export const functionSetup = (cloud: LocalCloud, root: string, options: { webhooks: boolean }): FunctionSetup => {
  // CreateAlgoLib is handed a read-only key, as cloud.ts hands it the one it made at start (not in the state file).
  const reader = key('LTAIbenchcvr');
  cloud.oss.addCredential({ ...reader, allow: { buckets: [LOCAL_BUCKET], read: ['library/'], write: [] } });
  const credentials = { ...key('STS.bench'), securityToken: randomBytes(24).toString('base64url') };
  cloud.oss.addCredential({
    ...credentials,
    allow: {
      buckets: [LOCAL_BUCKET],
      read: ['library/', 'status/'],
      write: ['status/'],
      bucketActions: ['GetBucketVersioning'],
    },
  });
  cloud.cityvisual.addCredential(credentials);

  const { state } = cloud;
  const model = loadTemplate(join(root, 'template.yml'), {
    parameters: {
      BucketName: LOCAL_BUCKET,
      OssRegion: LOCAL_REGION,
      OssEndpoint: state.oss.endpoint,
      CityVisualEndpoint: state.cityvisual.endpoint,
      CityVisualInstanceId: LOCAL_INSTANCE_ID,
      CityVisualOssEndpoint: new URL(state.oss.endpoint).host,
      CityVisualOssAccessKeyId: reader.accessKeyId,
      CityVisualOssAccessKeySecret: reader.accessKeySecret,
      WebhookEndpoints: JSON.stringify(
        options.webhooks ? [{ url: state.webhook.url, secrets: [state.webhook.secret] }] : [],
      ),
      FunctionRoleArn: 'acs:ram::1234567890123456:role/algolib-function',
      TriggerRoleArn: 'acs:ram::1234567890123456:role/algolib-oss-trigger',
      OnFailureDestination: 'acs:mns:cn-shanghai:1234567890123456:/queues/algolib-failed/messages',
    },
    accountId: '1234567890123456',
    region: 'cn-shanghai',
  });
  const fn = model.services[0]?.functions[0];
  if (!fn) throw new Error('Expected template.yml to define the register function');
  return {
    env: { ...fn.environmentVariables },
    credentials,
    timeoutSeconds: fn.timeout,
    memorySize: fn.memorySize,
    instanceConcurrency: fn.instanceConcurrency,
  };
};
