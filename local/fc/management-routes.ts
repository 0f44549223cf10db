/**
 * The FC 2.0 management API (2016-08-15) over the local deployment, as `@alicloud/fc2` calls it and as far as
 * `algolib deploy` needs it: services (list, create, get, update), functions with code zips (list, create, get,
 * update), OSS triggers (create, list, get, update, delete) and async invoke config (put, get). The list calls page
 * as FC documents (`listing.ts`: limit, prefix, startKey, nextToken). Bodies and answers use FC's
 * JSON field names; errors are FC's codes (404 `ServiceNotFound` / `FunctionNotFound` / `TriggerNotFound` /
 * `AsyncConfigNotExists`, 409 `…AlreadyExists`, 400 `InvalidArgument` with an "Expected X, got Y" message).
 *
 * How it differs from FC (chosen): only OSS triggers; only Node.js runtimes; the role is checked for its ARN shape,
 * not for whether it can be passed; no versions, aliases, VPC, NAS, log config or OSS-hosted code; no
 * `createdTime`/`lastModifiedTime`; services and functions cannot be deleted.
 */
import type { AsyncConfigurationModel, OssTriggerModel } from '../../platform/fc/template.ts';
import type { CodeStore } from './code-store.ts';
import { type DeployedFunction, type Deployment, DeploymentError } from './deployment.ts';
import { FcApiError, type FcRequest, type FcResponse, type FcRoute } from './fc-http.ts';
import { listPage } from './listing.ts';

export type ManagementOptions = {
  accountId: string;
  region: string;
  code: CodeStore;
};

const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const ROLE_ARN = /^acs:ram::\d+:role\/[A-Za-z0-9._@-]+$/;

/**
 * The management routes for `deployment` under one API version's prefix (`/2016-08-15` for fc2, `/2021-04-06` for
 * `@alicloud/fc-open20210406`); their paths follow fc2's (`/services/:service/functions/:function/…`).
 *
 * @example
 * ```ts
 * const routes = [...createManagementRoutes(deployment, { accountId, region, code: createCodeStore(dir) }), …];
 * ```
 */
export const createManagementRoutes = (
  deployment: Deployment,
  options: ManagementOptions,
  apiVersion = '2016-08-15',
): FcRoute[] => {
  const services = `/${apiVersion}/services`;
  const service = `${services}/:service`;
  const functions = `${service}/functions`;
  const fn = `${functions}/:function`;
  const triggers = `${fn}/triggers`;
  const route = (method: FcRoute['method'], pattern: string, handle: (request: FcRequest) => FcResponse) => ({
    method,
    pattern,
    handle: (request: FcRequest) => {
      try {
        return handle(request);
      } catch (error) {
        // The deployment refuses what FC would refuse (overlapping triggers, a runtime it cannot run): a bad request.
        if (error instanceof DeploymentError) throw new FcApiError(400, 'InvalidArgument', error.message);
        throw error;
      }
    },
  });
  const handlers = createHandlers(deployment, options, apiVersion);
  return [
    route('GET', services, handlers.listServices),
    route('POST', services, handlers.createService),
    route('GET', service, handlers.getService),
    route('PUT', service, handlers.updateService),
    route('GET', functions, handlers.listFunctions),
    route('POST', functions, handlers.createFunction),
    route('GET', fn, handlers.getFunction),
    route('PUT', fn, handlers.updateFunction),
    route('POST', triggers, handlers.createTrigger),
    route('GET', triggers, handlers.listTriggers),
    route('GET', `${triggers}/:trigger`, handlers.getTrigger),
    route('PUT', `${triggers}/:trigger`, handlers.updateTrigger),
    route('DELETE', `${triggers}/:trigger`, handlers.deleteTrigger),
    route('PUT', `${fn}/async-invoke-config`, handlers.putAsyncConfig),
    route('GET', `${fn}/async-invoke-config`, handlers.getAsyncConfig),
  ];
};

const createHandlers = (deployment: Deployment, options: ManagementOptions, apiVersion: string) => {
  const findService = (request: FcRequest) => {
    const name = serviceNameOf(request);
    const found = deployment.getService(name);
    if (!found) throw new FcApiError(404, 'ServiceNotFound', `service '${name}' does not exist`);
    return found;
  };
  const findFunction = (request: FcRequest): DeployedFunction => {
    const found = findService(request).functions.get(request.params.function ?? '');
    if (!found) {
      throw new FcApiError(
        404,
        'FunctionNotFound',
        `function '${request.params.function}' does not exist in service '${serviceNameOf(request)}'`,
      );
    }
    return found;
  };
  const findTrigger = (request: FcRequest) => {
    const fn = findFunction(request);
    const trigger = fn.triggers.find((candidate) => candidate.name === request.params.trigger);
    if (!trigger) {
      throw new FcApiError(
        404,
        'TriggerNotFound',
        `trigger '${request.params.trigger}' does not exist in function '${fn.serviceName}/${fn.name}'`,
      );
    }
    return { fn, trigger };
  };
  const triggerJson = (trigger: OssTriggerModel) => {
    const config = {
      events: trigger.events,
      filter: { key: { prefix: trigger.filter.prefix, suffix: trigger.filter.suffix } },
    };
    return {
      triggerName: trigger.name,
      triggerType: 'oss',
      sourceArn: `acs:oss:${options.region}:${options.accountId}:${trigger.bucketName}`,
      invocationRole: trigger.invocationRole ?? '',
      qualifier: trigger.qualifier ?? '',
      // 2021-04-06 carries the config as JSON text (the Tea SDK's Trigger model types `triggerConfig` as a string
      // and refuses an object: @alicloud/fc-open20210406 dist/client.js ListTriggersResponseBodyTriggers), 2016-08-15
      // as an object (fc2).
      triggerConfig: apiVersion === '2021-04-06' ? JSON.stringify(config) : config,
    };
  };

  return {
    createService(request: FcRequest): FcResponse {
      const body = jsonBody(request);
      const name = nameField(body.serviceName, 'serviceName');
      if (deployment.getService(name))
        throw new FcApiError(409, 'ServiceAlreadyExists', `service '${name}' already exists`);
      return ok(serviceJson(deployment.putService(name, serviceProperties({}, body))));
    },
    getService: (request: FcRequest) => ok(serviceJson(findService(request))),
    updateService(request: FcRequest): FcResponse {
      const current = findService(request);
      return ok(
        serviceJson(deployment.putService(current.name, serviceProperties(current.properties, jsonBody(request)))),
      );
    },
    createFunction(request: FcRequest): FcResponse {
      const service = findService(request);
      const body = jsonBody(request);
      const name = nameField(body.functionName, 'functionName');
      if (service.functions.has(name))
        throw new FcApiError(
          409,
          'FunctionAlreadyExists',
          `function '${name}' already exists in service '${service.name}'`,
        );
      if (body.code === undefined) throw invalid('Expected `code` with a `zipFile` to create a function, got nothing');
      const created = functionFrom(service.name, name, undefined, body, options.code);
      deployment.putFunction(created);
      return ok(functionJson(created));
    },
    getFunction: (request: FcRequest) => ok(functionJson(findFunction(request))),
    updateFunction(request: FcRequest): FcResponse {
      const current = findFunction(request);
      const updated = functionFrom(current.serviceName, current.name, current, jsonBody(request), options.code);
      deployment.putFunction(updated);
      return ok(functionJson(updated));
    },
    createTrigger(request: FcRequest): FcResponse {
      const fn = findFunction(request);
      const body = jsonBody(request);
      const name = nameField(body.triggerName, 'triggerName');
      if (fn.triggers.some((trigger) => trigger.name === name)) {
        throw new FcApiError(
          409,
          'TriggerAlreadyExists',
          `trigger '${name}' already exists in function '${fn.serviceName}/${fn.name}'`,
        );
      }
      if (body.triggerType !== 'oss')
        throw invalid(
          `Expected \`triggerType\` to be oss (the only trigger the local FC models), got ${show(body.triggerType)}`,
        );
      const trigger = triggerFrom(name, bucketOfSourceArn(body.sourceArn, options), undefined, body);
      deployment.putTrigger(fn.serviceName, fn.name, trigger);
      return ok(triggerJson(trigger));
    },
    listTriggers(request: FcRequest): FcResponse {
      const page = listPage(findFunction(request).triggers, (trigger) => trigger.name, request.query);
      return ok({ triggers: page.items.map(triggerJson), ...nextTokenOf(page) });
    },
    listServices(request: FcRequest): FcResponse {
      const page = listPage(deployment.services(), (s) => s.name, request.query);
      return ok({ services: page.items.map(serviceJson), ...nextTokenOf(page) });
    },
    listFunctions(request: FcRequest): FcResponse {
      const page = listPage([...findService(request).functions.values()], (fn) => fn.name, request.query);
      return ok({ functions: page.items.map(functionJson), ...nextTokenOf(page) });
    },
    getTrigger: (request: FcRequest) => ok(triggerJson(findTrigger(request).trigger)),
    updateTrigger(request: FcRequest): FcResponse {
      const { fn, trigger } = findTrigger(request);
      const body = jsonBody(request);
      if (body.sourceArn !== undefined && bucketOfSourceArn(body.sourceArn, options) !== trigger.bucketName) {
        throw invalid(
          "Expected `sourceArn` to stay as it is (FC cannot move a trigger to another bucket), got another bucket's ARN",
        );
      }
      const updated = triggerFrom(trigger.name, trigger.bucketName, trigger, body);
      deployment.putTrigger(fn.serviceName, fn.name, updated);
      return ok(triggerJson(updated));
    },
    deleteTrigger(request: FcRequest): FcResponse {
      const { fn, trigger } = findTrigger(request);
      deployment.deleteTrigger(fn.serviceName, fn.name, trigger.name);
      return { status: 204 };
    },
    putAsyncConfig(request: FcRequest): FcResponse {
      const fn = findFunction(request);
      const config = asyncConfigFrom(jsonBody(request));
      deployment.putAsyncConfig(fn.serviceName, fn.name, config);
      return ok(asyncJson(fn.serviceName, fn.name, config));
    },
    getAsyncConfig(request: FcRequest): FcResponse {
      const fn = findFunction(request);
      if (!fn.asyncConfigured) {
        throw new FcApiError(
          404,
          'AsyncConfigNotExists',
          `async invoke config of function '${fn.serviceName}/${fn.name}' does not exist`,
        );
      }
      return ok(asyncJson(fn.serviceName, fn.name, fn.asyncConfig));
    },
  };
};

// ---------------------------------------------------------------------------------------------------------------
// Requests and answers

type Body = Record<string, unknown>;

const ok = (value: unknown): FcResponse => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});

/** FC's list answers carry `nextToken` only while more follow. */
const nextTokenOf = (page: { nextToken?: string }) =>
  page.nextToken === undefined ? {} : { nextToken: page.nextToken };

const invalid = (message: string) => new FcApiError(400, 'InvalidArgument', message);

const show = (value: unknown): string => (value === undefined ? 'nothing' : JSON.stringify(value));

/** `svc` or `svc.LATEST`; a qualifier names a version or alias, which the local FC does not model. */
const serviceNameOf = (request: FcRequest): string => {
  const segment = request.params.service ?? '';
  const [name = '', qualifier] = segment.split('.');
  if (qualifier !== undefined && qualifier !== 'LATEST') {
    throw new FcApiError(
      404,
      /^\d+$/.test(qualifier) ? 'VersionNotFound' : 'AliasNotFound',
      `qualifier '${qualifier}' does not exist in service '${name}'`,
    );
  }
  return name;
};

const jsonBody = (request: FcRequest): Body => {
  if (request.body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body.toString('utf8'));
  } catch {
    throw invalid('Expected a JSON request body, got text that does not parse');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw invalid('Expected a JSON object as the request body');
  return parsed as Body;
};

const nameField = (value: unknown, field: string): string => {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw invalid(
      `Expected \`${field}\` to be 1-128 letters, digits, "-" and "_", not starting with a digit or "-", got ${show(value)}`,
    );
  }
  return value;
};

const stringField = (value: unknown, field: string, fallback: string): string => {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') throw invalid(`Expected \`${field}\` to be a string, got ${show(value)}`);
  return value;
};

const integerField = (value: unknown, field: string, min: number, max: number, fallback: number): number => {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`Expected \`${field}\` to be an integer from ${min} to ${max}, got ${show(value)}`);
  }
  return value;
};

// ---------------------------------------------------------------------------------------------------------------
// Services

const serviceProperties = (current: Record<string, unknown>, body: Body): Record<string, unknown> => {
  const role = stringField(body.role, 'role', typeof current.Role === 'string' ? current.Role : '');
  if (role !== '' && !ROLE_ARN.test(role))
    throw invalid(`Expected \`role\` to be a RAM role ARN (acs:ram::<account>:role/<name>), got ${show(role)}`);
  const internetAccess = body.internetAccess ?? current.InternetAccess ?? true;
  if (typeof internetAccess !== 'boolean')
    throw invalid(`Expected \`internetAccess\` to be true or false, got ${show(internetAccess)}`);
  return {
    ...current,
    Description: stringField(
      body.description,
      'description',
      typeof current.Description === 'string' ? current.Description : '',
    ),
    Role: role,
    InternetAccess: internetAccess,
  };
};

const serviceJson = (service: { name: string; properties: Record<string, unknown> }) => ({
  serviceName: service.name,
  description: typeof service.properties.Description === 'string' ? service.properties.Description : '',
  role: typeof service.properties.Role === 'string' ? service.properties.Role : '',
  internetAccess: service.properties.InternetAccess !== false && service.properties.InternetAccess !== 'false',
});

// ---------------------------------------------------------------------------------------------------------------
// Functions

/** A new function from `body`, or `current` with what `body` sets (FC's update keeps what it does not mention). */
const functionFrom = (
  serviceName: string,
  name: string,
  current: DeployedFunction | undefined,
  body: Body,
  store: CodeStore,
): DeployedFunction => {
  const code = body.code === undefined ? undefined : storeCode(serviceName, name, body.code, store);
  const codeDir = code?.codeDir ?? current?.codeDir;
  if (codeDir === undefined) throw invalid('Expected `code` with a `zipFile`, got nothing');
  const runtime = stringField(body.runtime, 'runtime', current?.runtime ?? '');
  const handler = stringField(body.handler, 'handler', current?.handler ?? '');
  if (!/^[^.\s]+\.[^.\s]+$/.test(handler))
    throw invalid(`Expected \`handler\` to be <module>.<export> such as index.handler, got ${show(handler)}`);
  const initializer = stringField(body.initializer, 'initializer', current?.initializer ?? '');
  const memorySize = integerField(body.memorySize, 'memorySize', 128, 32768, current?.memorySize ?? 128);
  if (memorySize % 64 !== 0) throw invalid(`Expected \`memorySize\` to be a multiple of 64 MB, got ${memorySize}`);
  const fn: DeployedFunction = {
    serviceName,
    name,
    runtime,
    handler,
    initializationTimeout: integerField(
      body.initializationTimeout,
      'initializationTimeout',
      1,
      300,
      current?.initializationTimeout ?? 3,
    ),
    codeDir,
    timeout: integerField(body.timeout, 'timeout', 1, 86400, current?.timeout ?? 3),
    memorySize,
    instanceConcurrency: integerField(
      body.instanceConcurrency,
      'instanceConcurrency',
      1,
      100,
      current?.instanceConcurrency ?? 1,
    ),
    environmentVariables: environmentFrom(body.environmentVariables, current?.environmentVariables ?? {}),
    // Configuration, not code: it stays with the function across updates.
    asyncConfig: current?.asyncConfig ?? { maxAsyncRetryAttempts: 3, maxAsyncEventAgeInSeconds: 86400 },
    asyncConfigured: current?.asyncConfigured ?? false,
    triggers: current?.triggers ?? [],
  };
  const description = stringField(body.description, 'description', current?.description ?? '');
  if (description !== '') fn.description = description;
  if (initializer !== '') fn.initializer = initializer;
  const checksum = code?.checksum ?? current?.codeChecksum;
  if (checksum !== undefined) fn.codeChecksum = checksum;
  const size = code?.size ?? current?.codeSize;
  if (size !== undefined) fn.codeSize = size;
  return fn;
};

const storeCode = (serviceName: string, name: string, code: unknown, store: CodeStore) => {
  const zipFile = typeof code === 'object' && code !== null ? (code as Body).zipFile : undefined;
  if (typeof zipFile !== 'string' || zipFile === '') {
    throw invalid(
      `Expected \`code.zipFile\` to be a base64 zip (the local FC does not read code from OSS), got ${show(Object.keys((code as Body) ?? {}))}`,
    );
  }
  return store.store(serviceName, name, Buffer.from(zipFile, 'base64'));
};

const environmentFrom = (value: unknown, current: Record<string, string>): Record<string, string> => {
  if (value === undefined || value === null) return { ...current };
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid(`Expected \`environmentVariables\` to be an object of strings, got ${show(value)}`);
  const entries = Object.entries(value as Body);
  const bad = entries.find(([, v]) => typeof v !== 'string');
  // The variable's name only: its value may be a secret.
  if (bad) throw invalid(`Expected \`environmentVariables.${bad[0]}\` to be a string, got a ${typeof bad[1]}`);
  return Object.fromEntries(entries) as Record<string, string>;
};

const functionJson = (fn: DeployedFunction) => ({
  functionName: fn.name,
  description: fn.description ?? '',
  runtime: fn.runtime,
  handler: fn.handler,
  initializer: fn.initializer ?? '',
  initializationTimeout: fn.initializationTimeout,
  timeout: fn.timeout,
  memorySize: fn.memorySize,
  instanceConcurrency: fn.instanceConcurrency,
  environmentVariables: fn.environmentVariables,
  codeChecksum: fn.codeChecksum ?? '',
  codeSize: fn.codeSize ?? 0,
});

// ---------------------------------------------------------------------------------------------------------------
// Triggers

/** `acs:oss:<region>:<account>:<bucket>` in this FC's region and account → the bucket. */
const bucketOfSourceArn = (value: unknown, options: ManagementOptions): string => {
  const match =
    typeof value === 'string' ? /^acs:oss:([^:]+):(\d+):([a-z0-9][a-z0-9-]{1,61}[a-z0-9])$/.exec(value) : null;
  if (!match) throw invalid(`Expected \`sourceArn\` to be acs:oss:<region>:<account-id>:<bucket>, got ${show(value)}`);
  const [, region, account, bucket = ''] = match;
  if (region !== options.region || account !== options.accountId) {
    throw invalid(
      `Expected \`sourceArn\` in region ${options.region} and account ${options.accountId} (a trigger's bucket must be in its function's region), got ${show(value)}`,
    );
  }
  return bucket;
};

const triggerFrom = (
  name: string,
  bucketName: string,
  current: OssTriggerModel | undefined,
  body: Body,
): OssTriggerModel => {
  const config = body.triggerConfig === undefined && current ? undefined : ossTriggerConfig(body.triggerConfig);
  const trigger: OssTriggerModel = {
    name,
    type: 'OSS',
    bucketName,
    events: config?.events ?? current?.events ?? [],
    filter: config?.filter ?? current?.filter ?? { prefix: '', suffix: '' },
  };
  const role = stringField(body.invocationRole, 'invocationRole', current?.invocationRole ?? '');
  if (role !== '' && !ROLE_ARN.test(role))
    throw invalid(`Expected \`invocationRole\` to be a RAM role ARN, got ${show(role)}`);
  if (role !== '') trigger.invocationRole = role;
  const qualifier = stringField(body.qualifier, 'qualifier', current?.qualifier ?? '');
  if (qualifier !== '' && qualifier !== 'LATEST')
    throw invalid(
      `Expected \`qualifier\` to be LATEST (the local FC has no versions or aliases), got ${show(qualifier)}`,
    );
  if (qualifier !== '') trigger.qualifier = qualifier;
  return trigger;
};

/** FC's OSS triggerConfig: `{ events: ['oss:ObjectCreated:PutObject'], filter: { key: { prefix, suffix } } }`. */
const ossTriggerConfig = (value: unknown): Pick<OssTriggerModel, 'events' | 'filter'> => {
  const parsed = typeof value === 'string' ? parseJsonText(value) : value;
  const config = typeof parsed === 'object' && parsed !== null ? (parsed as Body) : {};
  const events = config.events;
  if (
    !Array.isArray(events) ||
    events.length === 0 ||
    !events.every((e) => typeof e === 'string' && /^oss:[A-Za-z]+:[A-Za-z*]+$/.test(e))
  ) {
    throw invalid(
      `Expected \`triggerConfig.events\` to be a non-empty list like ["oss:ObjectCreated:PutObject"], got ${show(events)}`,
    );
  }
  const filter = typeof config.filter === 'object' && config.filter !== null ? (config.filter as Body) : {};
  const key = typeof filter.key === 'object' && filter.key !== null ? (filter.key as Body) : {};
  return {
    events: events as string[],
    filter: {
      prefix: stringField(key.prefix, 'triggerConfig.filter.key.prefix', ''),
      suffix: stringField(key.suffix, 'triggerConfig.filter.key.suffix', ''),
    },
  };
};

const parseJsonText = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    throw invalid('Expected `triggerConfig` to be JSON, got text that does not parse');
  }
};

// ---------------------------------------------------------------------------------------------------------------
// Async invoke config

const asyncConfigFrom = (body: Body): AsyncConfigurationModel => {
  const destinations =
    typeof body.destinationConfig === 'object' && body.destinationConfig !== null
      ? (body.destinationConfig as Body)
      : {};
  const destination = (value: unknown, field: string) => {
    if (value === undefined || value === null) return undefined;
    const target = typeof value === 'object' ? (value as Body).destination : undefined;
    if (typeof target !== 'string' || !/^acs:[a-z]+:/.test(target))
      throw invalid(`Expected \`${field}.destination\` to be an ARN (acs:mns:…, acs:fc:…), got ${show(target)}`);
    return target;
  };
  const config: AsyncConfigurationModel = {
    maxAsyncRetryAttempts: integerField(body.maxAsyncRetryAttempts, 'maxAsyncRetryAttempts', 0, 8, 3),
    maxAsyncEventAgeInSeconds: integerField(
      body.maxAsyncEventAgeInSeconds,
      'maxAsyncEventAgeInSeconds',
      1,
      604800,
      86400,
    ),
  };
  const onSuccess = destination(destinations.onSuccess, 'destinationConfig.onSuccess');
  const onFailure = destination(destinations.onFailure, 'destinationConfig.onFailure');
  if (onSuccess !== undefined) config.onSuccess = onSuccess;
  if (onFailure !== undefined) config.onFailure = onFailure;
  return config;
};

const asyncJson = (service: string, fn: string, config: AsyncConfigurationModel) => ({
  service,
  function: fn,
  qualifier: 'LATEST',
  maxAsyncRetryAttempts: config.maxAsyncRetryAttempts,
  maxAsyncEventAgeInSeconds: config.maxAsyncEventAgeInSeconds,
  destinationConfig: {
    onSuccess: config.onSuccess === undefined ? null : { destination: config.onSuccess },
    onFailure: config.onFailure === undefined ? null : { destination: config.onFailure },
  },
  statefulInvocation: false,
});
