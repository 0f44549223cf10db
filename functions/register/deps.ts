/** Wires the ports of the register function from its config: built once per instance, in `initialize`. */
import { createPopCoreRegistry } from '../../shared/cityvisual.ts';
import type { Config } from '../../shared/config.ts';
import { createLogger, type Logger } from '../../shared/log.ts';
import { type Credentials, createOssStore } from '../../shared/object-store.ts';
import type { RegisterDeps } from '../../shared/register.ts';
import { createWebhookNotifier } from '../../shared/webhooks.ts';

/** Every value that must never reach a log line, read when the line is written. */
const secretsOf = (config: Config, credentials: () => Credentials) => () => {
  const { accessKeySecret, securityToken } = credentials();
  return [
    config.cityVisual.oss.accessKeySecret,
    accessKeySecret,
    ...(securityToken ? [securityToken] : []),
    ...config.webhooks.endpoints.flatMap((endpoint) => endpoint.secrets),
  ];
};

export const createLog = (config: Config, credentials: () => Credentials, fields: Record<string, unknown>): Logger =>
  createLogger(fields, secretsOf(config, credentials));

export const createDeps = (
  config: Config,
  credentials: () => Credentials,
): Omit<RegisterDeps, 'log' | 'notifier'> & {
  notifierFor(log: Logger): RegisterDeps['notifier'];
} => {
  const store = (bucket: string) =>
    createOssStore({
      endpoint: config.ossEndpoint,
      region: config.ossRegion,
      bucket,
      timeoutMs: config.ossTimeoutMs,
      credentials,
    });
  const packages = store(config.bucket);
  return {
    config,
    packages,
    statuses: config.statusBucket === config.bucket ? packages : store(config.statusBucket),
    registry: createPopCoreRegistry({
      endpoint: config.cityVisual.endpoint,
      instanceId: config.cityVisual.instanceId,
      regionId: config.cityVisual.regionId,
      oss: config.cityVisual.oss,
      credentials,
    }),
    notifierFor: (log) =>
      createWebhookNotifier({
        endpoints: config.webhooks.endpoints,
        states: config.webhooks.states,
        timeoutMs: config.webhooks.timeoutMs,
        log,
      }),
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
};
