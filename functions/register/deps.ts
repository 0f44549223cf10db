/** Wires the ports of the register function from its config: built once per instance, in `initialize`. */
import { chatRobotChannel } from '../../shared/chat-robots.ts';
import { createRegistry } from '../../shared/cityvisual.ts';
import type { Config } from '../../shared/config.ts';
import type { Credentials } from '../../shared/credentials.ts';
import { createLogger, type Logger } from '../../shared/log.ts';
import { createNotifier } from '../../shared/notifier.ts';
import { createRateWindow } from '../../shared/rate-window.ts';
import type { RegisterDeps } from '../../shared/register.ts';
import { webhookChannel } from '../../shared/webhooks.ts';
import { objectStores, rpcCall } from './transports.ts';

/** The parts of a robot's URL that are its credential: query values and the hook id at the end of the path. */
const tokensOf = (url: string): string[] => {
  const parsed = new URL(url);
  const parts = [...parsed.searchParams.values(), parsed.pathname.split('/').pop() ?? ''];
  // Short values (`send`, a port) are not credentials, and scrubbing them would mangle ordinary log text.
  return parts.filter((part) => part.length >= 16);
};

/** Every value that must never reach a log line, read when the line is written. */
const secretsOf = (config: Config, credentials: () => Credentials) => () => {
  const { accessKeySecret, securityToken } = credentials();
  return [
    config.cityVisual.oss.accessKeySecret,
    accessKeySecret,
    ...(securityToken ? [securityToken] : []),
    ...config.webhooks.endpoints.flatMap((endpoint) => endpoint.secrets),
    // A robot's URL carries its token (DingTalk access_token, WeCom key, Lark hook id): as secret as its secret.
    ...config.chatRobots.flatMap((robot) => [
      robot.url,
      ...tokensOf(robot.url),
      ...(robot.secret ? [robot.secret] : []),
    ]),
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
  const store = objectStores(config, credentials);
  const packages = store(config.bucket);
  // One slot book per instance: a robot's rate limit holds across the invocations this instance serves.
  const rateWindow = createRateWindow();
  const channels = [
    ...config.webhooks.endpoints.map((endpoint) => webhookChannel(endpoint, { states: config.webhooks.states })),
    ...config.chatRobots.map((robot) =>
      chatRobotChannel(robot, { statusPrefix: config.statusPrefix, consoleUrl: config.consoleUrl, rateWindow }),
    ),
  ];
  return {
    config,
    packages,
    statuses: config.statusBucket === config.bucket ? packages : store(config.statusBucket),
    registry: createRegistry({
      call: rpcCall(config, credentials),
      instanceId: config.cityVisual.instanceId,
      regionId: config.cityVisual.regionId,
      oss: config.cityVisual.oss,
    }),
    notifierFor: (log) => createNotifier({ channels, timeoutMs: config.webhooks.timeoutMs, log }),
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
};
