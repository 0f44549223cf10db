/**
 * The function's configuration: one zod schema over the environment, read once in `initialize`.
 * Nothing else reads `process.env`. A missing or malformed variable fails start-up with the variable's name.
 */

import * as z from 'zod/mini';
import { ConfigError } from './errors.ts';
import { REGISTRATION_STATES, TERMINAL_STATES } from './status.ts';
import './zod.ts';

const text = z.string().check(z.trim(), z.minLength(1, 'must not be empty'));
const url = text.check(z.refine((value) => /^https?:\/\/[^/\s]+/.test(value), 'must be an http(s) URL'));
const prefix = z.string().check(
  z.trim(),
  z.refine((value) => value === '' || value.endsWith('/'), 'must be empty or end with "/"'),
);
const positiveInt = (fallback: number) => z._default(z.coerce.number().check(z.int(), z.positive()), fallback);

/** One webhook endpoint; several secrets sign each message during a rotation. */
const WebhookEndpointSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  secrets: z
    .array(z.string().check(z.regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, 'must be whsec_ followed by base64')))
    .check(z.minLength(1)),
});

const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

// zod/mini's transform context has no `addIssue`: the issue is pushed as classic's `addIssue` would record it.
const parseJson = z.transform((raw: string, ctx) => {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    ctx.issues.push({ code: 'custom', message: 'must be a JSON array of {"url","secrets"}', input: raw });
    return z.NEVER;
  }
});

const webhookEndpoints = z
  .pipe(z.pipe(z._default(z.string(), '[]'), parseJson), z.array(WebhookEndpointSchema))
  .check(
    z.refine(
      (endpoints) =>
        endpoints.every(
          ({ url }) => url.startsWith('https://') || LOOPBACK_HOST.test(new URL(url).host.replace(/:\d+$/, '')),
        ),
      'must use https:// (plain http is allowed only for loopback addresses)',
    ),
  );

export type ChatRobotKind = 'dingtalk' | 'wecom' | 'lark';

/**
 * The hosts each robot's webhook URL is documented on (DingTalk `https://oapi.dingtalk.com/robot/send?access_token=…`,
 * WeCom `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`, Lark `https://open.feishu.cn/open-apis/bot/v2/hook/…`
 * or `https://open.larksuite.com/…`); any other host is refused at start-up, loopback aside (the local cloud).
 */
export const CHAT_ROBOT_HOSTS: Record<ChatRobotKind, readonly string[]> = {
  dingtalk: ['oapi.dingtalk.com'],
  wecom: ['qyapi.weixin.qq.com'],
  lark: ['open.feishu.cn', 'open.larksuite.com'],
};

/** One chat robot; `secret` is DingTalk's 加签 `SEC…` or Lark's 签名校验 secret (WeCom signs nothing). */
const ChatRobotSchema = z.strictObject({
  kind: z.enum(['dingtalk', 'wecom', 'lark']),
  url: z.url({ protocol: /^https?$/ }),
  secret: z.optional(text),
  states: z.optional(z.array(z.enum(REGISTRATION_STATES)).check(z.minLength(1))),
});

/** The first thing wrong with a robot's entry, naming its host but never its path or query (they carry the token). */
const chatRobotProblem = (robot: z.infer<typeof ChatRobotSchema>, index: number): string | undefined => {
  const url = new URL(robot.url);
  const hostname = url.hostname;
  const loopback = LOOPBACK_HOST.test(url.host.replace(/:\d+$/, ''));
  const official = CHAT_ROBOT_HOSTS[robot.kind];
  if (!loopback && !official.includes(hostname)) {
    return `entry ${index}: expected the host of a ${robot.kind} robot to be ${official.join(' or ')} (or a loopback address), got ${hostname}`;
  }
  if (!loopback && url.protocol !== 'https:') return `entry ${index}: must use https://`;
  if (robot.kind === 'wecom' && robot.secret !== undefined) {
    return `entry ${index}: a wecom robot takes no secret (the key in its URL is the credential)`;
  }
  return undefined;
};

const chatRobots = z.pipe(
  z.pipe(
    z.pipe(
      z._default(z.string(), '[]'),
      z.transform((raw: string, ctx) => {
        try {
          return JSON.parse(raw) as unknown;
        } catch {
          ctx.issues.push({ code: 'custom', message: 'must be a JSON array of {"kind","url","secret"?}', input: raw });
          return z.NEVER;
        }
      }),
    ),
    z.array(ChatRobotSchema),
  ),
  z.transform((robots, ctx) => {
    const problem = robots.map(chatRobotProblem).find((found) => found !== undefined);
    if (problem === undefined) return robots;
    ctx.issues.push({ code: 'custom', message: problem, input: robots });
    return z.NEVER;
  }),
);

/** Absent or empty: no console links in chat messages. */
const consoleUrl = z.pipe(
  z.optional(z.string()),
  z.transform((raw: string | undefined, ctx) => {
    const value = raw?.trim();
    if (!value) return undefined;
    if (!/^https?:\/\/[^/\s]+/.test(value)) {
      ctx.issues.push({ code: 'custom', message: 'must be an http(s) URL', input: raw });
      return z.NEVER;
    }
    return value;
  }),
);

const splitList = z.transform((raw: string) =>
  raw
    .split(',')
    .map((state) => state.trim())
    .filter(Boolean),
);

const webhookStates = z.pipe(
  z.pipe(z._default(z.string(), TERMINAL_STATES.join(',')), splitList),
  z.array(z.enum(REGISTRATION_STATES)),
);

export const ConfigSchema = z.object({
  OSS_BUCKET: text,
  OSS_REGION: z._default(text, 'oss-cn-shanghai'),
  OSS_ENDPOINT: url,
  STATUS_BUCKET: z.optional(text),
  PACKAGE_PREFIX: z._default(prefix, 'library/'),
  STATUS_PREFIX: z._default(prefix.check(z.refine((value) => value !== '', 'must not be empty')), 'status/'),
  CITYVISUAL_ENDPOINT: url,
  CITYVISUAL_REGION_ID: z._default(text, 'cn-shanghai'),
  CITYVISUAL_INSTANCE_ID: text,
  CITYVISUAL_OSS_ENDPOINT: text,
  CITYVISUAL_OSS_ACCESS_KEY_ID: text,
  CITYVISUAL_OSS_ACCESS_KEY_SECRET: text,
  /** Per-attempt timeout of a CityVisual call. */
  CITYVISUAL_TIMEOUT_MS: positiveInt(10_000),
  /** Per-attempt timeout of an OSS call. */
  OSS_TIMEOUT_MS: positiveInt(10_000),
  /** Retry policy: first backoff cap, overall cap, and attempts at most (each bounded by the deadline anyway). */
  RETRY_BASE_MS: positiveInt(200),
  RETRY_MAX_DELAY_MS: positiveInt(5_000),
  RETRY_MAX_ATTEMPTS: positiveInt(8),
  /** Time kept back at the end of an invocation for the status write and webhooks. */
  DEADLINE_RESERVE_MS: positiveInt(5_000),
  WEBHOOK_ENDPOINTS: webhookEndpoints,
  WEBHOOK_STATES: webhookStates,
  WEBHOOK_TIMEOUT_MS: positiveInt(10_000),
  /** `upgrade`: a newer version of an owned library updates it; `create-only`: one version per name, ever. */
  VERSION_POLICY: z._default(z.enum(['upgrade', 'create-only']), 'upgrade'),
  /** Whether an identical re-publish (`change: "unchanged"`) is notified too. */
  NOTIFY_UNCHANGED: z._default(z.enum(['true', 'false']), 'false'),
  CHAT_ROBOTS: chatRobots,
  /** The console's base URL; chat messages link to `<CONSOLE_URL>/libraries/<name>`. */
  CONSOLE_URL: consoleUrl,
});

type Env = z.infer<typeof ConfigSchema>;

export type WebhookEndpoint = z.infer<typeof WebhookEndpointSchema>;

export type ChatRobot = z.infer<typeof ChatRobotSchema>;

export type Config = {
  bucket: string;
  statusBucket: string;
  ossRegion: string;
  ossEndpoint: string;
  ossTimeoutMs: number;
  packagePrefix: string;
  statusPrefix: string;
  cityVisual: {
    endpoint: string;
    regionId: string;
    instanceId: string;
    timeoutMs: number;
    /** What CreateAlgoLib is told about the package's OSS location and read key. */
    oss: { endpoint: string; accessKeyId: string; accessKeySecret: string };
  };
  retry: { baseMs: number; maxDelayMs: number; maxAttempts: number };
  deadlineReserveMs: number;
  webhooks: { endpoints: WebhookEndpoint[]; states: Env['WEBHOOK_STATES']; timeoutMs: number };
  versionPolicy: Env['VERSION_POLICY'];
  notifyUnchanged: boolean;
  chatRobots: ChatRobot[];
  consoleUrl: string | undefined;
};

const toConfig = (env: Env): Config => ({
  bucket: env.OSS_BUCKET,
  statusBucket: env.STATUS_BUCKET ?? env.OSS_BUCKET,
  ossRegion: env.OSS_REGION,
  ossEndpoint: env.OSS_ENDPOINT,
  ossTimeoutMs: env.OSS_TIMEOUT_MS,
  packagePrefix: env.PACKAGE_PREFIX,
  statusPrefix: env.STATUS_PREFIX,
  cityVisual: {
    endpoint: env.CITYVISUAL_ENDPOINT,
    regionId: env.CITYVISUAL_REGION_ID,
    instanceId: env.CITYVISUAL_INSTANCE_ID,
    timeoutMs: env.CITYVISUAL_TIMEOUT_MS,
    oss: {
      endpoint: env.CITYVISUAL_OSS_ENDPOINT,
      accessKeyId: env.CITYVISUAL_OSS_ACCESS_KEY_ID,
      accessKeySecret: env.CITYVISUAL_OSS_ACCESS_KEY_SECRET,
    },
  },
  retry: { baseMs: env.RETRY_BASE_MS, maxDelayMs: env.RETRY_MAX_DELAY_MS, maxAttempts: env.RETRY_MAX_ATTEMPTS },
  deadlineReserveMs: env.DEADLINE_RESERVE_MS,
  webhooks: { endpoints: env.WEBHOOK_ENDPOINTS, states: env.WEBHOOK_STATES, timeoutMs: env.WEBHOOK_TIMEOUT_MS },
  versionPolicy: env.VERSION_POLICY,
  notifyUnchanged: env.NOTIFY_UNCHANGED === 'true',
  chatRobots: env.CHAT_ROBOTS,
  consoleUrl: env.CONSOLE_URL,
});

/** The variables whose values are secrets: never printed, even in a config error. */
export const SECRET_VARIABLES = ['CITYVISUAL_OSS_ACCESS_KEY_SECRET', 'WEBHOOK_ENDPOINTS', 'CHAT_ROBOTS'] as const;

/**
 * Reads the configuration from an environment; throws `ConfigError` naming the first bad variable.
 *
 * @example
 * ```ts
 * const config = loadConfig(process.env); // in initialize(), once per instance
 * ```
 */
export const loadConfig = (env: Record<string, string | undefined>): Config => {
  const result = ConfigSchema.safeParse(env);
  if (result.success) return toConfig(result.data);
  const issue = result.error.issues[0];
  const variable = String(issue?.path[0] ?? 'environment');
  const problem = issue?.code === 'invalid_type' && env[variable] === undefined ? 'is required' : issue?.message;
  // zod messages never echo the input value, so a secret variable's value cannot leak through them.
  throw new ConfigError(variable, `Environment variable ${variable} ${problem}`);
};

/** The variables `loadConfig` requires (no default); the template test checks that template.yml sets each. */
export const REQUIRED_VARIABLES = Object.entries(ConfigSchema.shape)
  .filter(([, schema]) => !schema.safeParse(undefined).success)
  .map(([name]) => name);
