/**
 * What Function Compute should hold after a deploy, in the FC API's own terms: a resolved template model turned into
 * service and function configurations, code zips with their checksums, OSS trigger specs (source ARN, triggerConfig
 * JSON) and async configs. The plan diffs this against what FC has; apply sends it.
 */

import {
  type FunctionModel,
  type OssTriggerModel,
  TemplateError,
  type TemplateModel,
} from '../platform/fc/template.ts';
import { SECRET_VARIABLES } from '../shared/config.ts';
import { type CodeZip, zipCode } from './code-zip.ts';
import type { AsyncConfig, FunctionConfig, ServiceConfig, TriggerSpec } from './fc-api.ts';

export type DesiredFunction = {
  service: string;
  name: string;
  config: FunctionConfig;
  code: CodeZip;
  triggers: TriggerSpec[];
  /** Undefined when the template has no AsyncConfiguration: FC's is then left as it is. */
  asyncConfig: AsyncConfig | undefined;
  /** Environment variables whose values are secrets (NoEcho parameters, the config's secret variables). */
  secretVariables: Set<string>;
};

export type DesiredService = { name: string; config: ServiceConfig; functions: DesiredFunction[] };

export type DesiredState = { services: DesiredService[] };

export type DesiredStateTarget = { region: string; accountId: string };

/** Service properties deploy sends; the others (Policies, VpcConfig, LogConfig, …) it cannot apply, so it refuses. */
const MANAGED_SERVICE_PROPERTIES = ['Description', 'Role', 'InternetAccess'];

/**
 * The FC resources a resolved template describes. Each distinct `CodeUri` is zipped once.
 *
 * @example
 * ```ts
 * const desired = desiredStateOf(loadTemplate('template.yml', { parameters }), { region: 'cn-shanghai', accountId });
 * desired.services[0]?.functions[0]?.code.checksum; // '7327495012382736123'
 * ```
 */
export const desiredStateOf = (
  model: TemplateModel,
  target: DesiredStateTarget,
  zip: (dir: string) => CodeZip = zipCode,
): DesiredState => {
  const zips = new Map<string, CodeZip>();
  const zipOnce = (dir: string) => {
    const cached = zips.get(dir) ?? zip(dir);
    zips.set(dir, cached);
    return cached;
  };
  const secrets = [...model.noEcho].map((name) => model.parameters[name] ?? '').filter((value) => value !== '');
  return {
    services: model.services.map((service) => ({
      name: service.name,
      config: serviceConfigOf(service.name, service.properties),
      functions: service.functions.map((fn) => {
        const path = `Resources.${service.name}.${fn.name}.Properties`;
        if (fn.codeUri.startsWith('oss://')) {
          throw new TemplateError(
            `${path}.CodeUri`,
            `Expected \`${path}.CodeUri\` to be a local folder (algolib deploy uploads the code itself), got ${fn.codeUri}`,
          );
        }
        return {
          service: service.name,
          name: fn.name,
          config: functionConfigOf(fn),
          code: zipOnce(fn.codeUri),
          triggers: fn.triggers.map((trigger) => triggerSpecOf(trigger, target)),
          asyncConfig: asyncConfigOf(fn),
          secretVariables: secretVariablesOf(fn.environmentVariables, secrets),
        };
      }),
    })),
  };
};

/** The service's FC configuration; a property deploy cannot apply is a `TemplateError` (the checker reports it too). */
export const serviceConfigOf = (name: string, properties: Record<string, unknown>): ServiceConfig => {
  const path = `Resources.${name}.Properties`;
  const unmanaged = Object.keys(properties).filter((key) => !MANAGED_SERVICE_PROPERTIES.includes(key));
  if (unmanaged.length > 0) {
    throw new TemplateError(
      path,
      `Expected \`${path}\` to set only ${MANAGED_SERVICE_PROPERTIES.join(', ')} (what algolib deploy applies), got also ${unmanaged.join(', ')}: set those in the FC console and remove them here`,
    );
  }
  const internetAccess = properties.InternetAccess;
  if (internetAccess !== undefined && ![true, false, 'true', 'false'].includes(internetAccess as never)) {
    throw new TemplateError(
      `${path}.InternetAccess`,
      `Expected \`${path}.InternetAccess\` to be true or false, got ${JSON.stringify(internetAccess)}`,
    );
  }
  return {
    description: typeof properties.Description === 'string' ? properties.Description : '',
    role: typeof properties.Role === 'string' ? properties.Role : '',
    internetAccess: internetAccess === undefined || internetAccess === true || internetAccess === 'true',
  };
};

const functionConfigOf = (fn: FunctionModel): FunctionConfig => ({
  description: fn.description ?? '',
  runtime: fn.runtime,
  handler: fn.handler,
  initializer: fn.initializer ?? '',
  // FC's default; sent explicitly so that removing the template's value resets it.
  initializationTimeout: fn.initializationTimeout ?? 3,
  timeout: fn.timeout,
  memorySize: fn.memorySize,
  instanceConcurrency: fn.instanceConcurrency,
  environmentVariables: { ...fn.environmentVariables },
});

/**
 * FC's OSS trigger: the bucket as a source ARN in the function's region and account, the filter in FC's lower-case
 * `triggerConfig` shape.
 */
export const triggerSpecOf = (trigger: OssTriggerModel, target: DesiredStateTarget): TriggerSpec => ({
  triggerName: trigger.name,
  triggerType: 'oss',
  sourceArn: `acs:oss:${target.region}:${target.accountId}:${trigger.bucketName}`,
  invocationRole: trigger.invocationRole ?? '',
  qualifier: trigger.qualifier ?? 'LATEST',
  triggerConfig: {
    events: [...trigger.events],
    filter: { key: { prefix: trigger.filter.prefix, suffix: trigger.filter.suffix } },
  },
});

const asyncConfigOf = (fn: FunctionModel): AsyncConfig | undefined => {
  const config = fn.asyncConfiguration;
  if (!config) return undefined;
  return {
    maxAsyncRetryAttempts: config.maxAsyncRetryAttempts,
    maxAsyncEventAgeInSeconds: config.maxAsyncEventAgeInSeconds,
    onSuccess: config.onSuccess ?? '',
    onFailure: config.onFailure ?? '',
  };
};

const secretVariablesOf = (environment: Record<string, string>, secrets: string[]): Set<string> =>
  new Set(
    Object.entries(environment)
      .filter(
        ([name, value]) =>
          (SECRET_VARIABLES as readonly string[]).includes(name) || secrets.some((secret) => value.includes(secret)),
      )
      .map(([name]) => name),
  );
