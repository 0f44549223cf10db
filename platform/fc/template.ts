/**
 * Funcraft `template.yml` (Transform `Aliyun::Serverless-2018-04-03`) → a typed, resolved model of its services,
 * functions and OSS triggers. One loader backs the local FC emulator, the template checker and `algolib deploy`.
 *
 * - YAML with the ROS short tags `!Ref`, `!Sub`, `!GetAtt`, `!Join` and their long forms (`Ref`, `Fn::Sub`, …).
 * - Parameters: given values over `Default`; a parameter with neither is an error naming it; `NoEcho` names are
 *   returned in `noEcho` so callers can keep their values out of logs.
 * - Strict: unknown keys in a service, function, async configuration or trigger are errors naming them (stricter than
 *   `fun validate`, which lets an OSS trigger's `Filterx` typo through).
 * - Only `Aliyun::Serverless::Service` resources with nested `Aliyun::Serverless::Function`s and `OSS` events are
 *   modelled; anything else is rejected rather than silently ignored.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument, type Tags } from 'yaml';
import { PipelineError } from '../../shared/errors.ts';

export type OssTriggerModel = {
  name: string;
  type: 'OSS';
  bucketName: string;
  /** With the `oss:` prefix, as configured: `oss:ObjectCreated:PutObject`, `oss:ObjectCreated:*`. */
  events: string[];
  filter: { prefix: string; suffix: string };
  invocationRole?: string;
  qualifier?: string;
};

export type AsyncConfigurationModel = {
  maxAsyncRetryAttempts: number;
  maxAsyncEventAgeInSeconds: number;
  onSuccess?: string;
  onFailure?: string;
};

export type FunctionModel = {
  name: string;
  description?: string;
  runtime: string;
  handler: string;
  initializer?: string;
  initializationTimeout?: number;
  /** Absolute path (resolved against the template's folder), or an `oss://` URI kept as written. */
  codeUri: string;
  timeout: number;
  memorySize: number;
  instanceConcurrency: number;
  environmentVariables: Record<string, string>;
  asyncConfiguration?: AsyncConfigurationModel;
  triggers: OssTriggerModel[];
};

export type ServiceModel = { name: string; properties: Record<string, unknown>; functions: FunctionModel[] };

export type TemplateModel = {
  services: ServiceModel[];
  /** Every parameter's resolved value (given or default). */
  parameters: Record<string, string>;
  /** Names of `NoEcho` parameters: never print their values. */
  noEcho: Set<string>;
};

export type TemplateOptions = {
  /** Values for the template's Parameters; unknown names are an error (a typo would otherwise fall back silently). */
  parameters?: Record<string, string>;
  /** Values of `ALIYUN::AccountId` / `ALIYUN::Region`, and for `!GetAtt <resource>.ARN`. */
  accountId?: string;
  region?: string;
  /**
   * A stand-in for a parameter that has neither a given value nor a Default (an offline check without the real
   * values); without it such a parameter is an error.
   */
  missingParameter?: (name: string) => string;
};

/** The template is malformed or cannot be resolved; `path` points at the offending node (`Resources.a.b.Properties`). */
export class TemplateError extends PipelineError {
  public readonly path: string;
  public constructor(path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TemplateError';
    this.path = path;
  }
}

const SERVICE_TYPE = 'Aliyun::Serverless::Service';
const FUNCTION_TYPE = 'Aliyun::Serverless::Function';
const TOP_LEVEL_KEYS = words(
  'ROSTemplateFormatVersion Transform Description Parameters Resources Outputs Metadata Conditions Mappings',
);
const PARAMETER_KEYS = words(
  'Type Default Description NoEcho AllowedValues AllowedPattern ConstraintDescription Label MinLength MaxLength MinValue MaxValue',
);
const SERVICE_KEYS = words('Description Role Policies InternetAccess VpcConfig LogConfig NasConfig TracingConfig');
const FUNCTION_KEYS = words(
  'Handler Runtime CodeUri Initializer InitializationTimeout Description Timeout MemorySize EnvironmentVariables InstanceType InstanceConcurrency InstanceLifecycleConfig Layers CAPort CustomContainerConfig AsyncConfiguration',
);
const ASYNC_KEYS = words('Destination MaxAsyncRetryAttempts MaxAsyncEventAgeInSeconds StatefulInvocation');
const OSS_TRIGGER_KEYS = words('BucketName Events Filter InvocationRole Qualifier');

/** FC's documented defaults where the template is silent. */
const DEFAULTS = {
  timeout: 3,
  memorySize: 128,
  instanceConcurrency: 1,
  maxAsyncRetryAttempts: 3,
  maxAsyncEventAgeInSeconds: 86400,
};

/**
 * Reads and resolves a template file. `CodeUri` is resolved against the template's folder.
 *
 * @example
 * ```ts
 * const model = loadTemplate('template.yml', { parameters: { BucketName: 'b' } });
 * model.services[0]?.functions[0]?.timeout; // 60
 * ```
 */
export const loadTemplate = (templatePath: string, options: TemplateOptions = {}): TemplateModel =>
  parseTemplate(readFileSync(templatePath, 'utf8'), { ...options, baseDir: dirname(resolve(templatePath)) });

/** Resolves template text; `baseDir` anchors relative `CodeUri`s. */
export const parseTemplate = (text: string, options: TemplateOptions & { baseDir: string }): TemplateModel => {
  const root = expectObject(parseYaml(text), 'template');
  expectKnownKeys(root, TOP_LEVEL_KEYS, 'template');
  if (root.ROSTemplateFormatVersion !== '2015-09-01') {
    throw new TemplateError(
      'ROSTemplateFormatVersion',
      `Expected \`ROSTemplateFormatVersion\` to be '2015-09-01', got ${show(root.ROSTemplateFormatVersion)}`,
    );
  }
  if (root.Transform !== 'Aliyun::Serverless-2018-04-03') {
    throw new TemplateError(
      'Transform',
      `Expected \`Transform\` to be 'Aliyun::Serverless-2018-04-03', got ${show(root.Transform)}`,
    );
  }
  const { values, noEcho } = resolveParameters(root.Parameters, options.parameters ?? {}, options.missingParameter);
  const resources = expectObject(root.Resources, 'Resources');
  const context: ResolveContext = {
    parameters: values,
    resources,
    accountId: options.accountId,
    region: options.region,
  };
  try {
    const services = Object.entries(resources).map(([name, resource]) =>
      toService(name, resource, context, options.baseDir),
    );
    return { services, parameters: values, noEcho };
  } catch (error) {
    throw scrubbed(
      error,
      [...noEcho].map((name) => values[name] ?? ''),
    );
  }
};

/** A NoEcho value used where it does not fit would otherwise be quoted in the error message. */
const scrubbed = (error: unknown, secrets: string[]): unknown => {
  if (!(error instanceof TemplateError)) return error;
  const message = secrets
    .filter((secret) => secret.length >= 3)
    .reduce((text, secret) => text.split(secret).join('***'), error.message);
  return message === error.message ? error : new TemplateError(error.path, message);
};

// ---------------------------------------------------------------------------------------------------------------
// YAML and intrinsic functions

const shortTag = (tag: string, key: string, collection?: 'seq'): Tags[number] =>
  collection
    ? { tag, collection, resolve: (node) => ({ [key]: node.toJSON() }) }
    : { tag, resolve: (value: string) => ({ [key]: key === 'Fn::GetAtt' ? value.split('.') : value }) };

const CUSTOM_TAGS: Tags = [
  shortTag('!Ref', 'Ref'),
  shortTag('!Sub', 'Fn::Sub'),
  shortTag('!Sub', 'Fn::Sub', 'seq'),
  shortTag('!GetAtt', 'Fn::GetAtt'),
  shortTag('!GetAtt', 'Fn::GetAtt', 'seq'),
  shortTag('!Join', 'Fn::Join', 'seq'),
];

const parseYaml = (text: string): unknown => {
  const doc = parseDocument(text, { customTags: CUSTOM_TAGS, logLevel: 'silent' });
  // An unknown tag is only a warning to `yaml`; here it would silently become a plain string.
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw new TemplateError('template', `Expected valid template YAML: ${problem.message}`);
  return doc.toJS();
};

type ResolveContext = {
  parameters: Record<string, string>;
  resources: Record<string, unknown>;
  accountId: string | undefined;
  region: string | undefined;
};

const INTRINSICS = ['Ref', 'Fn::Sub', 'Fn::GetAtt', 'Fn::Join'] as const;

/** Replaces every intrinsic function in `value` by its string result, depth first. */
const resolveIntrinsics = (value: unknown, context: ResolveContext, path: string): unknown => {
  if (Array.isArray(value)) return value.map((item, index) => resolveIntrinsics(item, context, `${path}.${index}`));
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  const intrinsic = INTRINSICS.find((name) => keys.length === 1 && keys[0] === name);
  if (intrinsic) {
    const argument = resolveIntrinsics(value[intrinsic], context, `${path}.${intrinsic}`);
    return applyIntrinsic(intrinsic, argument, context, path);
  }
  return Object.fromEntries(keys.map((key) => [key, resolveIntrinsics(value[key], context, `${path}.${key}`)]));
};

const applyIntrinsic = (
  name: (typeof INTRINSICS)[number],
  argument: unknown,
  context: ResolveContext,
  path: string,
) => {
  switch (name) {
    case 'Ref':
      return resolveRef(expectString(argument, `${path}.Ref`), context, path);
    case 'Fn::Sub':
      return resolveSub(argument, context, path);
    case 'Fn::GetAtt':
      return resolveGetAtt(argument, context, path);
    case 'Fn::Join':
      return resolveJoin(argument, path);
  }
};

const resolveRef = (name: string, context: ResolveContext, path: string): string => {
  const parameter = context.parameters[name];
  if (parameter !== undefined) return parameter;
  if (name === 'ALIYUN::AccountId' && context.accountId) return context.accountId;
  if (name === 'ALIYUN::Region' && context.region) return context.region;
  throw new TemplateError(path, `Expected \`${name}\` in ${path} to name a parameter, got an unknown reference`);
};

const resolveSub = (argument: unknown, context: ResolveContext, path: string): string => {
  const [template, variables] = Array.isArray(argument) ? argument : [argument, {}];
  const text = expectString(template, `${path}.Fn::Sub`);
  const locals = expectObject(variables ?? {}, `${path}.Fn::Sub.1`);
  // `${!Literal}` is the escape for a literal `${Literal}`.
  return text.replace(/\$\{(!?)([^}]+)\}/g, (_match, bang: string, name: string) => {
    if (bang) return `\${${name}}`;
    const local = locals[name];
    if (local !== undefined) return expectString(local, `${path}.Fn::Sub.1.${name}`);
    return name.includes('.') ? resolveGetAtt(name.split('.'), context, path) : resolveRef(name, context, path);
  });
};

/** Only the ARN attributes of services and functions: the rest needs a real stack. */
const resolveGetAtt = (argument: unknown, context: ResolveContext, path: string): string => {
  const parts = Array.isArray(argument) ? argument.map((part) => expectString(part, `${path}.Fn::GetAtt`)) : [];
  const attribute = parts.at(-1);
  const [serviceName, functionName] = parts.slice(0, -1);
  const service = serviceName === undefined ? undefined : context.resources[serviceName];
  const known =
    isObject(service) &&
    service.Type === SERVICE_TYPE &&
    (attribute === 'ARN' || attribute === 'Arn') &&
    (parts.length === 2 || (parts.length === 3 && isObject(service[functionName ?? ''])));
  if (!known) {
    throw new TemplateError(
      path,
      `Expected \`Fn::GetAtt\` in ${path} to be <Service>.ARN or <Service>.<Function>.ARN, got ${show(argument)}`,
    );
  }
  if (!context.accountId || !context.region) {
    throw new TemplateError(path, `Cannot resolve \`Fn::GetAtt\` in ${path} without an accountId and a region`);
  }
  const arn = `acs:fc:${context.region}:${context.accountId}:services/${serviceName}`;
  return functionName === undefined ? arn : `${arn}/functions/${functionName}`;
};

const resolveJoin = (argument: unknown, path: string): string => {
  const [separator, items] = Array.isArray(argument) ? argument : [];
  if (typeof separator !== 'string' || !Array.isArray(items)) {
    throw new TemplateError(
      path,
      `Expected \`Fn::Join\` in ${path} to be [separator, [values…]], got ${show(argument)}`,
    );
  }
  return items.map((item, index) => scalarString(item, `${path}.Fn::Join.1.${index}`)).join(separator);
};

// ---------------------------------------------------------------------------------------------------------------
// Parameters

const resolveParameters = (
  declared: unknown,
  given: Record<string, string>,
  missing?: (name: string) => string,
): { values: Record<string, string>; noEcho: Set<string> } => {
  const parameters = expectObject(declared ?? {}, 'Parameters');
  const unknown = Object.keys(given).filter((name) => !(name in parameters));
  if (unknown.length > 0) {
    throw new TemplateError(
      'Parameters',
      `Unknown parameter(s) ${unknown.map((n) => `\`${n}\``).join(', ')}: the template declares ${Object.keys(parameters).join(', ') || 'none'}`,
    );
  }
  const values: Record<string, string> = {};
  const noEcho = new Set<string>();
  for (const [name, raw] of Object.entries(parameters)) {
    const path = `Parameters.${name}`;
    const declaration = expectObject(raw, path);
    expectKnownKeys(declaration, PARAMETER_KEYS, path);
    if (declaration.NoEcho === true || declaration.NoEcho === 'true') noEcho.add(name);
    const value =
      given[name] ??
      (declaration.Default === undefined ? missing?.(name) : scalarString(declaration.Default, `${path}.Default`));
    if (value === undefined) {
      throw new TemplateError(path, `Missing a value for parameter \`${name}\`: it has no Default, so pass one`);
    }
    checkAllowed(name, declaration, value, noEcho.has(name));
    values[name] = value;
  }
  return { values, noEcho };
};

const checkAllowed = (name: string, declaration: Record<string, unknown>, value: string, secret: boolean) => {
  const shown = secret ? '(a NoEcho value)' : JSON.stringify(value);
  const allowed = declaration.AllowedValues;
  if (Array.isArray(allowed) && !allowed.map(String).includes(value)) {
    throw new TemplateError(
      `Parameters.${name}`,
      `Expected parameter \`${name}\` to be one of ${allowed.join(', ')}, got ${shown}`,
    );
  }
  const pattern = declaration.AllowedPattern;
  if (typeof pattern === 'string' && !new RegExp(`^(?:${pattern})$`).test(value)) {
    throw new TemplateError(`Parameters.${name}`, `Expected parameter \`${name}\` to match ${pattern}, got ${shown}`);
  }
};

// ---------------------------------------------------------------------------------------------------------------
// Resources

const toService = (name: string, resource: unknown, context: ResolveContext, baseDir: string): ServiceModel => {
  const path = `Resources.${name}`;
  const node = expectObject(resource, path);
  if (node.Type !== SERVICE_TYPE) {
    throw new TemplateError(
      path,
      `Expected \`${path}.Type\` to be '${SERVICE_TYPE}' (the only resource type modelled), got ${show(node.Type)}`,
    );
  }
  const properties = expectObject(
    resolveIntrinsics(node.Properties ?? {}, context, `${path}.Properties`),
    `${path}.Properties`,
  );
  expectKnownKeys(properties, SERVICE_KEYS, `${path}.Properties`);
  const functions = Object.entries(node)
    .filter(([key]) => key !== 'Type' && key !== 'Properties')
    .map(([functionName, fn]) => toFunction(functionName, fn, `${path}.${functionName}`, context, baseDir));
  return { name, properties, functions };
};

const toFunction = (
  name: string,
  resource: unknown,
  path: string,
  context: ResolveContext,
  baseDir: string,
): FunctionModel => {
  const node = expectObject(resource, path);
  if (node.Type !== FUNCTION_TYPE) {
    throw new TemplateError(path, `Expected \`${path}.Type\` to be '${FUNCTION_TYPE}', got ${show(node.Type)}`);
  }
  expectKnownKeys(node, ['Type', 'Properties', 'Events'], path);
  const at = `${path}.Properties`;
  const p = expectObject(resolveIntrinsics(node.Properties, context, at), at);
  expectKnownKeys(p, FUNCTION_KEYS, at);
  const codeUri = expectString(p.CodeUri, `${at}.CodeUri`);
  const model: FunctionModel = {
    name,
    runtime: expectString(p.Runtime, `${at}.Runtime`),
    handler: expectString(p.Handler, `${at}.Handler`),
    codeUri: codeUri.startsWith('oss://') || isAbsolute(codeUri) ? codeUri : resolve(baseDir, codeUri),
    timeout: optionalInteger(p.Timeout, `${at}.Timeout`, 1, 86400) ?? DEFAULTS.timeout,
    memorySize: optionalInteger(p.MemorySize, `${at}.MemorySize`, 64, 32768) ?? DEFAULTS.memorySize,
    instanceConcurrency:
      optionalInteger(p.InstanceConcurrency, `${at}.InstanceConcurrency`, 1, 100) ?? DEFAULTS.instanceConcurrency,
    environmentVariables: toEnvironment(p.EnvironmentVariables, `${at}.EnvironmentVariables`),
    triggers: toTriggers(node.Events, `${path}.Events`, context),
  };
  if (p.Description !== undefined) model.description = expectString(p.Description, `${at}.Description`);
  if (p.Initializer !== undefined) model.initializer = expectString(p.Initializer, `${at}.Initializer`);
  const initializationTimeout = optionalInteger(p.InitializationTimeout, `${at}.InitializationTimeout`, 1, 300);
  if (initializationTimeout !== undefined) model.initializationTimeout = initializationTimeout;
  if (p.AsyncConfiguration !== undefined)
    model.asyncConfiguration = toAsyncConfiguration(p.AsyncConfiguration, `${at}.AsyncConfiguration`);
  return model;
};

const toEnvironment = (value: unknown, path: string): Record<string, string> =>
  Object.fromEntries(
    Object.entries(expectObject(value ?? {}, path)).map(([key, v]) => [key, scalarString(v, `${path}.${key}`)]),
  );

const toAsyncConfiguration = (value: unknown, path: string): AsyncConfigurationModel => {
  const node = expectObject(value, path);
  expectKnownKeys(node, ASYNC_KEYS, path);
  const destination = expectObject(node.Destination ?? {}, `${path}.Destination`);
  expectKnownKeys(destination, ['OnSuccess', 'OnFailure'], `${path}.Destination`);
  const model: AsyncConfigurationModel = {
    maxAsyncRetryAttempts:
      optionalInteger(node.MaxAsyncRetryAttempts, `${path}.MaxAsyncRetryAttempts`, 0, 8) ??
      DEFAULTS.maxAsyncRetryAttempts,
    maxAsyncEventAgeInSeconds:
      optionalInteger(node.MaxAsyncEventAgeInSeconds, `${path}.MaxAsyncEventAgeInSeconds`, 1, 604800) ??
      DEFAULTS.maxAsyncEventAgeInSeconds,
  };
  if (destination.OnSuccess !== undefined)
    model.onSuccess = expectString(destination.OnSuccess, `${path}.Destination.OnSuccess`);
  if (destination.OnFailure !== undefined)
    model.onFailure = expectString(destination.OnFailure, `${path}.Destination.OnFailure`);
  return model;
};

const toTriggers = (value: unknown, path: string, context: ResolveContext): OssTriggerModel[] =>
  Object.entries(expectObject(value ?? {}, path)).map(([name, event]) => {
    const node = expectObject(event, `${path}.${name}`);
    expectKnownKeys(node, ['Type', 'Properties'], `${path}.${name}`);
    if (node.Type !== 'OSS') {
      throw new TemplateError(
        `${path}.${name}`,
        `Expected \`${path}.${name}.Type\` to be 'OSS' (the only trigger type modelled), got ${show(node.Type)}`,
      );
    }
    const at = `${path}.${name}.Properties`;
    return toOssTrigger(name, expectObject(resolveIntrinsics(node.Properties, context, at), at), at);
  });

const toOssTrigger = (name: string, p: Record<string, unknown>, path: string): OssTriggerModel => {
  expectKnownKeys(p, OSS_TRIGGER_KEYS, path);
  const events = p.Events;
  if (
    !Array.isArray(events) ||
    events.length === 0 ||
    !events.every((e) => typeof e === 'string' && /^oss:[A-Za-z]+:[A-Za-z*]+$/.test(e))
  ) {
    throw new TemplateError(
      `${path}.Events`,
      `Expected \`${path}.Events\` to be a non-empty list like oss:ObjectCreated:PutObject, got ${show(events)}`,
    );
  }
  const filter = expectObject(p.Filter ?? {}, `${path}.Filter`);
  expectKnownKeys(filter, ['Key'], `${path}.Filter`);
  const key = expectObject(filter.Key ?? {}, `${path}.Filter.Key`);
  expectKnownKeys(key, ['Prefix', 'Suffix'], `${path}.Filter.Key`);
  const trigger: OssTriggerModel = {
    name,
    type: 'OSS',
    bucketName: expectString(p.BucketName, `${path}.BucketName`),
    events: events as string[],
    filter: {
      prefix: key.Prefix === undefined ? '' : scalarString(key.Prefix, `${path}.Filter.Key.Prefix`),
      suffix: key.Suffix === undefined ? '' : scalarString(key.Suffix, `${path}.Filter.Key.Suffix`),
    },
  };
  if (p.InvocationRole !== undefined) trigger.invocationRole = expectString(p.InvocationRole, `${path}.InvocationRole`);
  if (p.Qualifier !== undefined) trigger.qualifier = expectString(p.Qualifier, `${path}.Qualifier`);
  return trigger;
};

// ---------------------------------------------------------------------------------------------------------------
// Checks

function words(list: string): string[] {
  return list.split(' ');
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const show = (value: unknown): string => (value === undefined ? 'nothing' : JSON.stringify(value));

const expectObject = (value: unknown, path: string): Record<string, unknown> => {
  if (!isObject(value)) throw new TemplateError(path, `Expected \`${path}\` to be a mapping, got ${show(value)}`);
  return value;
};

const expectString = (value: unknown, path: string): string => {
  if (typeof value !== 'string' || value === '') {
    throw new TemplateError(path, `Expected \`${path}\` to be a non-empty string, got ${show(value)}`);
  }
  return value;
};

/** YAML turns `1` and `true` into numbers and booleans; FC's strings-only fields take them as written. */
const scalarString = (value: unknown, path: string): string => {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TemplateError(path, `Expected \`${path}\` to be a string, got ${show(value)}`);
};

const optionalInteger = (value: unknown, path: string, min: number, max: number): number | undefined => {
  if (value === undefined) return undefined;
  // Parameters are strings, so `Timeout: !Ref Timeout` arrives as "60".
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw new TemplateError(path, `Expected \`${path}\` to be an integer from ${min} to ${max}, got ${show(value)}`);
  }
  return number;
};

const expectKnownKeys = (node: Record<string, unknown>, known: readonly string[], path: string) => {
  const unknown = Object.keys(node).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new TemplateError(
      path,
      `Unknown propert${unknown.length === 1 ? 'y' : 'ies'} ${unknown.map((k) => `\`${k}\``).join(', ')} in \`${path}\` (known: ${known.join(', ')})`,
    );
  }
};
