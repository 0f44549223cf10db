/**
 * The deploy plan: what Function Compute has (read through the `FcApi` port) against what the template wants
 * (`DesiredState`), per resource create / update / replace / unchanged, and for an update the fields that change.
 * Triggers FC has but the template does not are deleted only when pruning is asked for; otherwise the plan says it
 * would delete them. Secret values never enter a plan: a secret field carries `secret: true` and no values.
 */
import type { DesiredFunction, DesiredService, DesiredState } from './desired-state.ts';
import type { AsyncConfig, FcApi, FunctionConfig, FunctionState, TriggerSpec, TriggerState } from './fc-api.ts';

export type PlanAction = 'create' | 'update' | 'replace' | 'unchanged' | 'delete' | 'would-delete';

export type PlanValue = string | number | boolean | string[];

/**
 * One field: `to` only when it is new, `from` and `to` when it changes, `removed` when it goes away. A secret field
 * has neither value.
 */
export type FieldChange = { field: string; from?: PlanValue; to?: PlanValue; removed?: true; secret?: true };

export type ResourceType = 'service' | 'function' | 'trigger' | 'async-config';

export type ResourcePlan = {
  type: ResourceType;
  /** `algolib`, `algolib/register`, `algolib/register/package-uploaded`. */
  id: string;
  service: string;
  function?: string;
  trigger?: string;
  action: PlanAction;
  changes: FieldChange[];
};

export type Plan = { resources: ResourcePlan[] };

export type PlanOptions = {
  /** Delete triggers that are no longer in the template (`--yes`). */
  prune: boolean;
};

/**
 * Reads what FC has for every resource of `desired` and diffs it.
 *
 * @example
 * ```ts
 * const plan = await planDeployment(api, desired, { prune: false });
 * plan.resources.filter((resource) => resource.action !== 'unchanged'); // what an apply would change
 * ```
 */
export const planDeployment = async (api: FcApi, desired: DesiredState, options: PlanOptions): Promise<Plan> => {
  const resources: ResourcePlan[] = [];
  for (const service of desired.services) resources.push(...(await planService(api, service, options)));
  return { resources };
};

/** True when applying calls FC for `resource` (a trigger that merely would be deleted is left alone). */
export const willChange = (resource: ResourcePlan): boolean =>
  resource.action !== 'unchanged' && resource.action !== 'would-delete';

/** How many resources each action touches. */
export const countActions = (plan: Plan): Record<PlanAction, number> => {
  const counts: Record<PlanAction, number> = {
    create: 0,
    update: 0,
    replace: 0,
    unchanged: 0,
    delete: 0,
    'would-delete': 0,
  };
  for (const resource of plan.resources) counts[resource.action] += 1;
  return counts;
};

const planService = async (api: FcApi, service: DesiredService, options: PlanOptions): Promise<ResourcePlan[]> => {
  const actual = await api.getService(service.name);
  const own: ResourcePlan = {
    type: 'service',
    id: service.name,
    service: service.name,
    ...diffRecord(actual, { ...service.config }, new Set()),
  };
  // A service FC does not have yet has no functions either: nothing under it to read.
  const functions = await Promise.all(
    service.functions.map(async (fn) => planFunction(fn, actual ? await readFunction(api, fn) : undefined, options)),
  );
  return [own, ...functions.flat()];
};

/** What FC has for a function; undefined when it has no such function. */
type ActualFunction = { state: FunctionState; triggers: TriggerState[]; asyncConfig: AsyncConfig | undefined };

const readFunction = async (api: FcApi, fn: DesiredFunction): Promise<ActualFunction | undefined> => {
  const [state, triggers, asyncConfig] = await Promise.all([
    api.getFunction(fn.service, fn.name),
    api.listTriggers(fn.service, fn.name),
    fn.asyncConfig ? api.getAsyncConfig(fn.service, fn.name) : Promise.resolve(undefined),
  ]);
  return state && { state, triggers, asyncConfig };
};

const planFunction = (
  fn: DesiredFunction,
  actual: ActualFunction | undefined,
  options: PlanOptions,
): ResourcePlan[] => {
  const triggers = actual?.triggers ?? [];
  const desiredNames = new Set(fn.triggers.map((trigger) => trigger.triggerName));
  const orphans = triggers.filter((trigger) => !desiredNames.has(trigger.triggerName));
  return [
    functionPlan(fn, diffFunction(actual?.state, fn)),
    ...fn.triggers.map((trigger) => {
      const state = triggers.find((candidate) => candidate.triggerName === trigger.triggerName);
      return triggerPlan(fn, trigger.triggerName, diffTrigger(state, trigger));
    }),
    ...orphans.map((trigger) =>
      triggerPlan(fn, trigger.triggerName, { action: options.prune ? 'delete' : 'would-delete', changes: [] }),
    ),
    ...(fn.asyncConfig
      ? [
          asyncPlan(
            fn,
            diffRecord(actual?.asyncConfig && asyncFields(actual.asyncConfig), asyncFields(fn.asyncConfig), new Set()),
          ),
        ]
      : []),
  ];
};

type Diff = { action: PlanAction; changes: FieldChange[] };

const functionPlan = (fn: DesiredFunction, diff: Diff): ResourcePlan => ({
  type: 'function',
  id: `${fn.service}/${fn.name}`,
  service: fn.service,
  function: fn.name,
  ...diff,
});

const triggerPlan = (fn: DesiredFunction, trigger: string, diff: Diff): ResourcePlan => ({
  type: 'trigger',
  id: `${fn.service}/${fn.name}/${trigger}`,
  service: fn.service,
  function: fn.name,
  trigger,
  ...diff,
});

const asyncPlan = (fn: DesiredFunction, diff: Diff): ResourcePlan => ({
  type: 'async-config',
  id: `${fn.service}/${fn.name}`,
  service: fn.service,
  function: fn.name,
  ...diff,
});

// ---------------------------------------------------------------------------------------------------------------
// Diffs

type Fields = Record<string, PlanValue>;

/** Field by field, in `desired`'s order; `actual` undefined means the resource is new. */
const diffRecord = (actual: Fields | undefined, desired: Fields, secret: Set<string>): Diff => {
  if (!actual) {
    return {
      action: 'create',
      changes: Object.entries(desired).map(([field, to]) =>
        secret.has(field) ? { field, secret: true } : { field, to },
      ),
    };
  }
  const changes: FieldChange[] = [];
  for (const [field, to] of Object.entries(desired)) {
    const from = actual[field];
    if (same(from, to)) continue;
    if (secret.has(field)) changes.push({ field, secret: true });
    else changes.push(from === undefined ? { field, to } : { field, from, to });
  }
  for (const field of Object.keys(actual)) {
    if (!(field in desired))
      changes.push(secret.has(field) ? { field, removed: true, secret: true } : { field, removed: true });
  }
  return { action: changes.length === 0 ? 'unchanged' : 'update', changes };
};

const same = (a: PlanValue | undefined, b: PlanValue | undefined): boolean =>
  Array.isArray(a) && Array.isArray(b) ? a.length === b.length && a.every((item, index) => item === b[index]) : a === b;

const CONFIG_FIELDS = [
  'description',
  'runtime',
  'handler',
  'initializer',
  'initializationTimeout',
  'timeout',
  'memorySize',
  'instanceConcurrency',
] as const satisfies ReadonlyArray<keyof FunctionConfig>;

/** The function's fields flattened: `environmentVariables.NAME` per variable, `code` as its checksum. */
const functionFields = (config: FunctionConfig, codeChecksum: string): Fields => ({
  ...Object.fromEntries(CONFIG_FIELDS.map((field) => [field, config[field]])),
  ...Object.fromEntries(
    Object.keys(config.environmentVariables)
      .sort()
      .map((name) => [`environmentVariables.${name}`, config.environmentVariables[name] ?? '']),
  ),
  code: codeChecksum,
});

const diffFunction = (state: FunctionState | undefined, fn: DesiredFunction): Diff => {
  const secret = new Set([...fn.secretVariables].map((name) => `environmentVariables.${name}`));
  const desired = functionFields(fn.config, fn.code.checksum);
  // A removed variable shows no old value either (it may have been a secret under another name).
  return diffRecord(state && functionFields(state, state.codeChecksum), desired, secret);
};

const triggerFields = (
  spec: Pick<TriggerSpec, 'invocationRole' | 'qualifier'>,
  events: string[],
  prefix: string,
  suffix: string,
): Fields => ({
  invocationRole: spec.invocationRole,
  qualifier: spec.qualifier || 'LATEST',
  events: [...events].sort(),
  'filter.key.prefix': prefix,
  'filter.key.suffix': suffix,
});

const diffTrigger = (state: TriggerState | undefined, spec: TriggerSpec): Diff => {
  const { events, filter } = spec.triggerConfig;
  const desired = triggerFields(spec, events, filter.key.prefix, filter.key.suffix);
  if (!state)
    return diffRecord(undefined, { triggerType: spec.triggerType, sourceArn: spec.sourceArn, ...desired }, new Set());
  const config = readOssTriggerConfig(state.triggerConfig);
  const diff = diffRecord(
    {
      triggerType: state.triggerType,
      sourceArn: state.sourceArn,
      ...triggerFields(state, config.events, config.prefix, config.suffix),
    },
    { triggerType: spec.triggerType, sourceArn: spec.sourceArn, ...desired },
    new Set(),
  );
  // FC cannot change a trigger's type or source (the bucket): such a trigger is deleted and created again.
  const fixed = diff.changes.some((change) => change.field === 'triggerType' || change.field === 'sourceArn');
  return fixed ? { ...diff, action: 'replace' } : diff;
};

/** An OSS triggerConfig as FC answers it; tolerant of the capitalised `Key`/`Prefix` some tools write. */
const readOssTriggerConfig = (value: unknown): { events: string[]; prefix: string; suffix: string } => {
  const config = asRecord(value);
  const filter = asRecord(config.filter ?? config.Filter);
  const key = asRecord(filter.key ?? filter.Key);
  const events = Array.isArray(config.events) ? config.events.map(String) : [];
  return { events, prefix: String(key.prefix ?? key.Prefix ?? ''), suffix: String(key.suffix ?? key.Suffix ?? '') };
};

const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

const asyncFields = (config: AsyncConfig): Fields => ({
  maxAsyncRetryAttempts: config.maxAsyncRetryAttempts,
  maxAsyncEventAgeInSeconds: config.maxAsyncEventAgeInSeconds,
  'destinationConfig.onFailure': config.onFailure,
  'destinationConfig.onSuccess': config.onSuccess,
});
