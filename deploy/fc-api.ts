/**
 * The part of the Function Compute 2.0 API (2016-08-15) that `algolib deploy` reads and writes: the `FcApi` port, its
 * adapter over `@alicloud/fc2`, and `FcApiError`, which turns whatever fc2 throws into one line that names the
 * operation, the resource, FC's status and code, and, for a 403, the RAM action that is missing.
 *
 * Reads answer `undefined` (or `[]`) for a resource that does not exist, so a plan can say "create".
 */
import { PipelineError } from '../shared/errors.ts';

export type ServiceConfig = { description: string; role: string; internetAccess: boolean };

export type FunctionConfig = {
  description: string;
  runtime: string;
  handler: string;
  /** `''` for none (an update needs a value to clear one). */
  initializer: string;
  initializationTimeout: number;
  timeout: number;
  memorySize: number;
  instanceConcurrency: number;
  environmentVariables: Record<string, string>;
};

export type FunctionState = FunctionConfig & { codeChecksum: string };

/** FC's OSS `triggerConfig`. */
export type OssTriggerConfig = { events: string[]; filter: { key: { prefix: string; suffix: string } } };

export type TriggerSpec = {
  triggerName: string;
  triggerType: 'oss';
  /** `acs:oss:<region>:<account>:<bucket>` */
  sourceArn: string;
  invocationRole: string;
  qualifier: string;
  triggerConfig: OssTriggerConfig;
};

/** A trigger as FC lists it; a trigger this project did not create may have any type and config. */
export type TriggerState = {
  triggerName: string;
  triggerType: string;
  sourceArn: string;
  invocationRole: string;
  qualifier: string;
  triggerConfig: unknown;
};

export type AsyncConfig = {
  maxAsyncRetryAttempts: number;
  maxAsyncEventAgeInSeconds: number;
  onSuccess: string;
  onFailure: string;
};

export type FcApi = {
  getService(service: string): Promise<ServiceConfig | undefined>;
  createService(service: string, config: ServiceConfig): Promise<void>;
  updateService(service: string, config: ServiceConfig): Promise<void>;
  getFunction(service: string, fn: string): Promise<FunctionState | undefined>;
  createFunction(service: string, fn: string, config: FunctionConfig, zip: Uint8Array): Promise<void>;
  /** Without `zip` the code stays as it is. */
  updateFunction(service: string, fn: string, config: FunctionConfig, zip?: Uint8Array): Promise<void>;
  listTriggers(service: string, fn: string): Promise<TriggerState[]>;
  createTrigger(service: string, fn: string, trigger: TriggerSpec): Promise<void>;
  updateTrigger(service: string, fn: string, trigger: TriggerSpec): Promise<void>;
  deleteTrigger(service: string, fn: string, trigger: string): Promise<void>;
  getAsyncConfig(service: string, fn: string): Promise<AsyncConfig | undefined>;
  putAsyncConfig(service: string, fn: string, config: AsyncConfig): Promise<void>;
};

/** A Function Compute API call failed; the message is the one line to print. */
export class FcApiError extends PipelineError {
  public readonly operation: string;
  public readonly resource: string;
  /** FC's HTTP status; undefined when no answer came (network). */
  public readonly status: number | undefined;
  public readonly code: string;
  /** For a 403: the RAM action FC says is missing (`fc:CreateService`, `ram:PassRole`), when it says. */
  public readonly permission: string | undefined;
  public constructor(
    fields: { operation: string; resource: string; status: number | undefined; code: string; permission?: string },
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'FcApiError';
    this.operation = fields.operation;
    this.resource = fields.resource;
    this.status = fields.status;
    this.code = fields.code;
    this.permission = fields.permission;
  }
}

type Fc2Response = { headers: Record<string, unknown>; data: unknown };

/** The methods of `@alicloud/fc2` 2.6.6's client this adapter calls, with its argument order (lib/client.js). */
export type Fc2Client = {
  getService(service: string): Promise<Fc2Response>;
  createService(service: string, options: object): Promise<Fc2Response>;
  updateService(service: string, options: object): Promise<Fc2Response>;
  getFunction(service: string, fn: string): Promise<Fc2Response>;
  createFunction(service: string, options: object): Promise<Fc2Response>;
  updateFunction(service: string, fn: string, options: object): Promise<Fc2Response>;
  listTriggers(service: string, fn: string, options?: object): Promise<Fc2Response>;
  createTrigger(service: string, fn: string, options: object): Promise<Fc2Response>;
  updateTrigger(service: string, fn: string, trigger: string, options: object): Promise<Fc2Response>;
  deleteTrigger(service: string, fn: string, trigger: string): Promise<Fc2Response>;
  getFunctionAsyncConfig(service: string, fn: string, qualifier?: string): Promise<Fc2Response>;
  putFunctionAsyncConfig(
    service: string,
    fn: string,
    qualifier: string | undefined,
    options: object,
  ): Promise<Fc2Response>;
  invokeFunction(service: string, fn: string, event: string, headers?: Record<string, string>): Promise<Fc2Response>;
};

export type Fc2Settings = {
  endpoint: string;
  accountId: string;
  region: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string | undefined;
};

/**
 * An fc2 client for `settings`; fc2 is loaded on first use (its module graph is large).
 *
 * @example
 * ```ts
 * const api = createFcApi(await createFc2Client({ endpoint, accountId, region, accessKeyId, accessKeySecret }));
 * ```
 */
export const createFc2Client = async (settings: Fc2Settings, timeoutMs = 60_000): Promise<Fc2Client> => {
  const { default: FCClient } = await import('@alicloud/fc2');
  const client = new FCClient(settings.accountId, {
    accessKeyID: settings.accessKeyId,
    accessKeySecret: settings.accessKeySecret,
    ...(settings.securityToken ? { securityToken: settings.securityToken } : {}),
    region: settings.region,
    endpoint: settings.endpoint,
    timeout: timeoutMs,
  });
  // fc2 ships no typings; the project's declaration lists only what the CLI invokes, so name the rest here.
  return client as unknown as Fc2Client;
};

/** fc2 pages triggers; a function has a handful, so a few pages are plenty and the loop stays bounded. */
const MAX_TRIGGER_PAGES = 20;

/**
 * The `FcApi` port over an fc2 client.
 *
 * @example
 * ```ts
 * const api = createFcApi(client);
 * await api.getFunction('algolib', 'register'); // { runtime: 'nodejs20', …, codeChecksum: '…' } or undefined
 * ```
 */
export const createFcApi = (client: Fc2Client): FcApi => {
  const call = async <T>(operation: string, resource: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw toFcApiError(operation, resource, error);
    }
  };
  /** A read that answers `undefined` for 404 (the resource, or its parent, does not exist). */
  const read = async <T>(operation: string, resource: string, run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await call(operation, resource, run);
    } catch (error) {
      if (error instanceof FcApiError && error.status === 404) return undefined;
      throw error;
    }
  };
  const fnLabel = (service: string, fn: string) => `function ${service}/${fn}`;
  return {
    getService: (service) =>
      read('GetService', `service ${service}`, async () => toServiceConfig((await client.getService(service)).data)),
    createService: async (service, config) => {
      await call('CreateService', `service ${service}`, () => client.createService(service, { ...config }));
    },
    updateService: async (service, config) => {
      await call('UpdateService', `service ${service}`, () => client.updateService(service, { ...config }));
    },
    getFunction: (service, fn) =>
      read('GetFunction', fnLabel(service, fn), async () =>
        toFunctionState((await client.getFunction(service, fn)).data),
      ),
    createFunction: async (service, fn, config, zip) => {
      await call('CreateFunction', fnLabel(service, fn), () =>
        client.createFunction(service, { functionName: fn, ...config, code: { zipFile: base64(zip) } }),
      );
    },
    updateFunction: async (service, fn, config, zip) => {
      await call('UpdateFunction', fnLabel(service, fn), () =>
        client.updateFunction(service, fn, { ...config, ...(zip ? { code: { zipFile: base64(zip) } } : {}) }),
      );
    },
    listTriggers: async (service, fn) =>
      (await read('ListTriggers', fnLabel(service, fn), () => listAllTriggers(client, service, fn))) ?? [],
    createTrigger: async (service, fn, trigger) => {
      await call('CreateTrigger', `trigger ${service}/${fn}/${trigger.triggerName}`, () =>
        client.createTrigger(service, fn, { ...trigger }),
      );
    },
    updateTrigger: async (service, fn, trigger) => {
      // FC cannot change a trigger's type or source; the rest is updatable.
      const { invocationRole, qualifier, triggerConfig } = trigger;
      await call('UpdateTrigger', `trigger ${service}/${fn}/${trigger.triggerName}`, () =>
        client.updateTrigger(service, fn, trigger.triggerName, { invocationRole, qualifier, triggerConfig }),
      );
    },
    deleteTrigger: async (service, fn, trigger) => {
      await call('DeleteTrigger', `trigger ${service}/${fn}/${trigger}`, () =>
        client.deleteTrigger(service, fn, trigger),
      );
    },
    getAsyncConfig: (service, fn) =>
      read('GetFunctionAsyncInvokeConfig', `async config of ${service}/${fn}`, async () =>
        toAsyncConfig((await client.getFunctionAsyncConfig(service, fn)).data),
      ),
    putAsyncConfig: async (service, fn, config) => {
      await call('PutFunctionAsyncInvokeConfig', `async config of ${service}/${fn}`, () =>
        client.putFunctionAsyncConfig(service, fn, undefined, {
          maxAsyncRetryAttempts: config.maxAsyncRetryAttempts,
          maxAsyncEventAgeInSeconds: config.maxAsyncEventAgeInSeconds,
          destinationConfig: {
            ...(config.onSuccess ? { onSuccess: { destination: config.onSuccess } } : {}),
            ...(config.onFailure ? { onFailure: { destination: config.onFailure } } : {}),
          },
        }),
      );
    },
  };
};

const listAllTriggers = async (client: Fc2Client, service: string, fn: string): Promise<TriggerState[]> => {
  const triggers: TriggerState[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_TRIGGER_PAGES; page += 1) {
    const { data } = await client.listTriggers(service, fn, { limit: 100, ...(nextToken ? { nextToken } : {}) });
    const body = record(data);
    for (const trigger of Array.isArray(body.triggers) ? body.triggers : []) triggers.push(toTriggerState(trigger));
    nextToken = text(body.nextToken) || undefined;
    if (!nextToken) return triggers;
  }
  return triggers;
};

const base64 = (zip: Uint8Array) => Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength).toString('base64');

// ---------------------------------------------------------------------------------------------------------------
// FC's JSON → the port's types. FC omits empty fields and may send null; both read as FC's defaults.

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

const integer = (value: unknown, fallback: number): number =>
  typeof value === 'number' && Number.isFinite(value) ? value : fallback;

const toServiceConfig = (data: unknown): ServiceConfig => {
  const body = record(data);
  return {
    description: text(body.description),
    role: text(body.role),
    internetAccess: body.internetAccess !== false,
  };
};

const toFunctionState = (data: unknown): FunctionState => {
  const body = record(data);
  const environment = record(body.environmentVariables);
  return {
    description: text(body.description),
    runtime: text(body.runtime),
    handler: text(body.handler),
    initializer: text(body.initializer),
    initializationTimeout: integer(body.initializationTimeout, 3),
    timeout: integer(body.timeout, 3),
    memorySize: integer(body.memorySize, 128),
    instanceConcurrency: integer(body.instanceConcurrency, 1),
    environmentVariables: Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, String(value)])),
    codeChecksum: text(body.codeChecksum),
  };
};

const toTriggerState = (data: unknown): TriggerState => {
  const body = record(data);
  let triggerConfig = body.triggerConfig;
  // FC 2.0 answers with an object; some gateways pass the JSON string through as sent.
  if (typeof triggerConfig === 'string') {
    try {
      triggerConfig = JSON.parse(triggerConfig) as unknown;
    } catch {
      // Keep the string: the plan shows it as a change rather than failing.
    }
  }
  return {
    triggerName: text(body.triggerName),
    triggerType: text(body.triggerType),
    sourceArn: text(body.sourceArn),
    invocationRole: text(body.invocationRole),
    qualifier: text(body.qualifier),
    triggerConfig,
  };
};

const toAsyncConfig = (data: unknown): AsyncConfig => {
  const body = record(data);
  const destinations = record(body.destinationConfig);
  return {
    maxAsyncRetryAttempts: integer(body.maxAsyncRetryAttempts, 3),
    maxAsyncEventAgeInSeconds: integer(body.maxAsyncEventAgeInSeconds, 86400),
    onSuccess: text(record(destinations.onSuccess).destination),
    onFailure: text(record(destinations.onFailure).destination),
  };
};

// ---------------------------------------------------------------------------------------------------------------
// Errors

type Fc2Error = { name?: unknown; code?: unknown; message?: unknown };

// fc2 puts neither the status nor FC's message in fields: `GET /services/x failed with 404. requestid: …, message: ….`
const FC2_MESSAGE = /failed with (\d{3})\. requestid: [^,]*, message: (.*)\.$/s;
// FC names the action it refused: "… is not authorized to perform 'fc:CreateService' on resource …".
const PERMISSION = /\b((?:fc|ram|oss|mns|log|eventbridge|cityvisual):[A-Za-z*]+)\b/;

/** `error` (from fc2, or a network failure) as one `FcApiError` line for `operation` on `resource`. */
export const toFcApiError = (operation: string, resource: string, error: unknown): FcApiError => {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as Fc2Error;
  const raw = text(fields.message) || String(error);
  const match = FC2_MESSAGE.exec(raw);
  const status = match ? Number(match[1]) : undefined;
  const detail = (match?.[2] ?? raw).trim();
  const code = text(fields.code) || text(fields.name).replace(/^FC(.+)Error$/, '$1') || 'Error';
  const permission = status === 403 ? PERMISSION.exec(detail)?.[1] : undefined;
  const head = `${operation} of ${resource}`;
  const message = (() => {
    if (status === undefined) return `Function Compute did not answer ${head} (${code}): ${detail}`;
    if (status === 403 && permission) {
      return `Function Compute denied ${head} (403 ${code}): the credentials lack ${permission}; grant it (see deploy/ram/deployer-policy.json)`;
    }
    if (status === 403) return `Function Compute denied ${head} (403 ${code}): ${detail}`;
    if (status === 404) return `Function Compute found no ${resource} for ${operation} (404 ${code}): ${detail}`;
    if (status === 400) return `Function Compute rejected ${head} (400 ${code}): ${detail}`;
    return `Function Compute failed ${head} (${status} ${code}): ${detail}`;
  })();
  return new FcApiError({ operation, resource, status, code, ...(permission ? { permission } : {}) }, message, {
    cause: error,
  });
};
