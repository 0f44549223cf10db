/** In-memory FcApi: what Function Compute would hold after each call, and the calls in the order they came. */

import type {
  AsyncConfig,
  FcApi,
  FunctionConfig,
  FunctionState,
  ServiceConfig,
  TriggerSpec,
  TriggerState,
} from '../../deploy/fc-api.ts';
import { crc64 } from '../../shared/crc64.ts';

export type MemoryFcApi = FcApi & {
  services: Map<string, ServiceConfig>;
  /** By `service/function`. */
  functions: Map<string, FunctionState & { zip: Uint8Array }>;
  triggers: Map<string, TriggerState[]>;
  asyncConfigs: Map<string, AsyncConfig>;
  /** `CreateFunction algolib/register`, `UpdateFunction algolib/register (code)`, … */
  calls: string[];
};

const key = (service: string, fn: string) => `${service}/${fn}`;

export const createMemoryFcApi = (): MemoryFcApi => {
  const services = new Map<string, ServiceConfig>();
  const functions = new Map<string, FunctionState & { zip: Uint8Array }>();
  const triggers = new Map<string, TriggerState[]>();
  const asyncConfigs = new Map<string, AsyncConfig>();
  const calls: string[] = [];

  const existingFunction = (service: string, fn: string) => {
    const found = functions.get(key(service, fn));
    if (!found) throw new Error(`FunctionNotFound: ${key(service, fn)}`);
    return found;
  };
  const store = (service: string, fn: string, config: FunctionConfig, zip: Uint8Array) => {
    functions.set(key(service, fn), {
      ...config,
      environmentVariables: { ...config.environmentVariables },
      codeChecksum: crc64(zip),
      zip,
    });
  };
  const stateOf = (trigger: TriggerSpec): TriggerState => ({
    ...trigger,
    triggerConfig: JSON.parse(JSON.stringify(trigger.triggerConfig)),
  });

  return {
    services,
    functions,
    triggers,
    asyncConfigs,
    calls,
    getService: async (service) => {
      const found = services.get(service);
      return found && { ...found };
    },
    createService: async (service, config) => {
      calls.push(`CreateService ${service}`);
      if (services.has(service)) throw new Error(`ServiceAlreadyExists: ${service}`);
      services.set(service, { ...config });
    },
    updateService: async (service, config) => {
      calls.push(`UpdateService ${service}`);
      services.set(service, { ...config });
    },
    getFunction: async (service, fn) => {
      const found = functions.get(key(service, fn));
      if (!found) return undefined;
      const { zip: _zip, ...state } = found;
      return { ...state, environmentVariables: { ...state.environmentVariables } };
    },
    createFunction: async (service, fn, config, zip) => {
      calls.push(`CreateFunction ${key(service, fn)}`);
      if (!services.has(service)) throw new Error(`ServiceNotFound: ${service}`);
      store(service, fn, config, zip);
    },
    updateFunction: async (service, fn, config, zip) => {
      calls.push(`UpdateFunction ${key(service, fn)}${zip ? ' (code)' : ''}`);
      store(service, fn, config, zip ?? existingFunction(service, fn).zip);
    },
    listTriggers: async (service, fn) => (triggers.get(key(service, fn)) ?? []).map((trigger) => ({ ...trigger })),
    createTrigger: async (service, fn, trigger) => {
      calls.push(`CreateTrigger ${key(service, fn)}/${trigger.triggerName}`);
      existingFunction(service, fn);
      const list = triggers.get(key(service, fn)) ?? [];
      if (list.some((t) => t.triggerName === trigger.triggerName))
        throw new Error(`TriggerAlreadyExists: ${trigger.triggerName}`);
      triggers.set(key(service, fn), [...list, stateOf(trigger)]);
    },
    updateTrigger: async (service, fn, trigger) => {
      calls.push(`UpdateTrigger ${key(service, fn)}/${trigger.triggerName}`);
      const list = triggers.get(key(service, fn)) ?? [];
      triggers.set(
        key(service, fn),
        list.map((t) =>
          t.triggerName === trigger.triggerName
            ? { ...stateOf(trigger), sourceArn: t.sourceArn, triggerType: t.triggerType }
            : t,
        ),
      );
    },
    deleteTrigger: async (service, fn, name) => {
      calls.push(`DeleteTrigger ${key(service, fn)}/${name}`);
      triggers.set(
        key(service, fn),
        (triggers.get(key(service, fn)) ?? []).filter((t) => t.triggerName !== name),
      );
    },
    getAsyncConfig: async (service, fn) => {
      const found = asyncConfigs.get(key(service, fn));
      return found && { ...found };
    },
    putAsyncConfig: async (service, fn, config) => {
      calls.push(`PutFunctionAsyncInvokeConfig ${key(service, fn)}`);
      asyncConfigs.set(key(service, fn), { ...config });
    },
  };
};
