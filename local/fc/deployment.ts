/**
 * What the local FC has deployed: services, function configurations with their code folder, OSS triggers and async
 * configuration. Written by the FC API routes (`management-routes.ts`: what `algolib deploy` sends), or all at once
 * from a template (`deployTemplate`, for an emulator started on a template file), through the same `put…` methods.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type {
  AsyncConfigurationModel,
  FunctionModel,
  OssTriggerModel,
  TemplateModel,
} from '../../platform/fc/template.ts';
import { ossTriggersOverlap } from '../../platform/fc/trigger-match.ts';
import { PipelineError } from '../../shared/errors.ts';

export type DeployedFunction = {
  serviceName: string;
  name: string;
  description?: string;
  runtime: string;
  handler: string;
  initializer?: string;
  /** Seconds; FC's default 3 when an initializer is configured without one. */
  initializationTimeout: number;
  /** Absolute folder holding the code (`index.js` for `index.handler`). */
  codeDir: string;
  /** FC's `codeChecksum` (CRC-64 of the zip) and size, for code sent through the API. */
  codeChecksum?: string;
  codeSize?: number;
  timeout: number;
  memorySize: number;
  instanceConcurrency: number;
  environmentVariables: Record<string, string>;
  /** FC's defaults (3 retries, 86400 s) when the function has no AsyncConfiguration. */
  asyncConfig: AsyncConfigurationModel;
  /** False while `asyncConfig` holds only the defaults (GetFunctionAsyncInvokeConfig then answers 404). */
  asyncConfigured: boolean;
  triggers: OssTriggerModel[];
};

export type DeployedService = {
  name: string;
  properties: Record<string, unknown>;
  functions: Map<string, DeployedFunction>;
};

export type Deployment = {
  services(): DeployedService[];
  getService(name: string): DeployedService | undefined;
  getFunction(serviceName: string, functionName: string): DeployedFunction | undefined;
  putService(name: string, properties: Record<string, unknown>): DeployedService;
  /** Creates or replaces a function of an existing service. */
  putFunction(fn: DeployedFunction): void;
  /** Creates or replaces (by name) an OSS trigger of an existing function; refuses one that overlaps another. */
  putTrigger(serviceName: string, functionName: string, trigger: OssTriggerModel): void;
  /** False when the function has no such trigger. */
  deleteTrigger(serviceName: string, functionName: string, triggerName: string): boolean;
  putAsyncConfig(serviceName: string, functionName: string, config: AsyncConfigurationModel): void;
  /** Every OSS trigger with the function it invokes, in deployment order. */
  ossTriggers(): Array<{ fn: DeployedFunction; trigger: OssTriggerModel }>;
};

/** The local FC cannot run what it was given (a runtime other than Node.js, code that is not on this machine). */
export class DeploymentError extends PipelineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DeploymentError';
  }
}

export const functionKey = (fn: Pick<DeployedFunction, 'serviceName' | 'name'>): string =>
  `${fn.serviceName}/${fn.name}`;

export const createDeployment = (): Deployment => {
  const services = new Map<string, DeployedService>();
  const putService = (name: string, properties: Record<string, unknown>) => {
    const existing = services.get(name);
    const service = { name, properties, functions: existing?.functions ?? new Map<string, DeployedFunction>() };
    services.set(name, service);
    return service;
  };
  const existing = (serviceName: string, functionName: string): DeployedFunction => {
    const fn = services.get(serviceName)?.functions.get(functionName);
    if (!fn) throw new DeploymentError(`Function ${serviceName}/${functionName} does not exist`);
    return fn;
  };
  const allTriggers = () =>
    [...services.values()].flatMap((service) =>
      [...service.functions.values()].flatMap((fn) => fn.triggers.map((trigger) => ({ fn, trigger }))),
    );
  return {
    services: () => [...services.values()],
    getService: (name) => services.get(name),
    getFunction: (serviceName, functionName) => services.get(serviceName)?.functions.get(functionName),
    putService,
    putFunction(fn) {
      const service = services.get(fn.serviceName);
      if (!service)
        throw new DeploymentError(
          `Cannot deploy function ${functionKey(fn)}: service ${fn.serviceName} does not exist`,
        );
      assertRunnable(fn);
      const others = [...services.values()]
        .flatMap((s) => [...s.functions.values()])
        .filter((other) => functionKey(other) !== functionKey(fn))
        .flatMap((other) => other.triggers.map((trigger) => ({ fn: other, trigger })));
      assertNoOverlap(fn, others);
      service.functions.set(fn.name, fn);
    },
    putTrigger(serviceName, functionName, trigger) {
      const fn = existing(serviceName, functionName);
      const others = allTriggers().filter((entry) => !(entry.fn === fn && entry.trigger.name === trigger.name));
      assertNoOverlap({ ...fn, triggers: [trigger] }, others);
      const index = fn.triggers.findIndex((candidate) => candidate.name === trigger.name);
      // In place: a trigger is not the function's code or configuration, so its instances keep running.
      fn.triggers = index < 0 ? [...fn.triggers, trigger] : fn.triggers.map((t, i) => (i === index ? trigger : t));
    },
    deleteTrigger(serviceName, functionName, triggerName) {
      const fn = existing(serviceName, functionName);
      const kept = fn.triggers.filter((trigger) => trigger.name !== triggerName);
      if (kept.length === fn.triggers.length) return false;
      fn.triggers = kept;
      return true;
    },
    putAsyncConfig(serviceName, functionName, config) {
      const fn = existing(serviceName, functionName);
      // In place, like triggers: queued retries read the function's current async config.
      fn.asyncConfig = config;
      fn.asyncConfigured = true;
    },
    ossTriggers: allTriggers,
  };
};

/** Deploys every service and function of a resolved template. */
export const deployTemplate = (deployment: Deployment, model: TemplateModel): void => {
  for (const service of model.services) {
    deployment.putService(service.name, service.properties);
    for (const fn of service.functions) deployment.putFunction(toDeployedFunction(service.name, fn));
  }
};

const toDeployedFunction = (serviceName: string, fn: FunctionModel): DeployedFunction => {
  const deployed: DeployedFunction = {
    serviceName,
    name: fn.name,
    runtime: fn.runtime,
    handler: fn.handler,
    initializationTimeout: fn.initializationTimeout ?? 3,
    codeDir: fn.codeUri,
    timeout: fn.timeout,
    memorySize: fn.memorySize,
    instanceConcurrency: fn.instanceConcurrency,
    environmentVariables: { ...fn.environmentVariables },
    asyncConfig: fn.asyncConfiguration ?? { maxAsyncRetryAttempts: 3, maxAsyncEventAgeInSeconds: 86400 },
    asyncConfigured: fn.asyncConfiguration !== undefined,
    triggers: fn.triggers,
  };
  if (fn.description !== undefined) deployed.description = fn.description;
  if (fn.initializer !== undefined) deployed.initializer = fn.initializer;
  return deployed;
};

const assertRunnable = (fn: DeployedFunction) => {
  if (!/^nodejs\d+$/.test(fn.runtime)) {
    throw new DeploymentError(
      `Expected \`Runtime\` of ${functionKey(fn)} to be a Node.js runtime (nodejs20, …), got ${fn.runtime}: the local FC runs only Node.js`,
    );
  }
  if (!isAbsolute(fn.codeDir) || !existsSync(fn.codeDir) || !statSync(fn.codeDir).isDirectory()) {
    throw new DeploymentError(
      `Expected \`CodeUri\` of ${functionKey(fn)} to be a folder on this machine, got ${fn.codeDir} (build the function first?)`,
    );
  }
};

const assertNoOverlap = (fn: DeployedFunction, existing: Array<{ fn: DeployedFunction; trigger: OssTriggerModel }>) => {
  const seen = [...existing];
  for (const trigger of fn.triggers) {
    const clash = seen.find((other) => ossTriggersOverlap(other.trigger, trigger));
    if (clash) {
      throw new DeploymentError(
        `Cannot specify overlapping prefix and suffix with same event type: trigger ${trigger.name} of ${functionKey(fn)} and trigger ${clash.trigger.name} of ${functionKey(clash.fn)} on bucket ${trigger.bucketName}`,
      );
    }
    seen.push({ fn, trigger });
  }
};
