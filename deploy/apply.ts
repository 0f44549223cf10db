/**
 * Carries out a plan through the `FcApi` port, in the order FC needs: services, then functions (code uploaded only
 * when its checksum changed), then trigger deletions (pruned ones, and the first half of a replace, so that a new
 * trigger never overlaps the one it replaces on the bucket), then trigger creates and updates, then async configs.
 * Unchanged resources and triggers that merely would be deleted are not touched.
 */
import type { DesiredFunction, DesiredState } from './desired-state.ts';
import type { FcApi } from './fc-api.ts';
import { type Plan, type ResourcePlan, willChange } from './plan.ts';

/** The FC calls made, in order, e.g. `UpdateFunction algolib/register`. */
export type AppliedStep = { operation: string; id: string };

/**
 * Applies `plan`, computed from `desired`, and returns the calls made. Stops at the first FC error (an `FcApiError`);
 * what was applied before it stays, and the next plan shows the rest.
 *
 * @example
 * ```ts
 * const steps = await applyPlan(api, await planDeployment(api, desired, { prune: true }), desired);
 * ```
 */
export const applyPlan = async (api: FcApi, plan: Plan, desired: DesiredState): Promise<AppliedStep[]> => {
  const steps: AppliedStep[] = [];
  const changing = plan.resources.filter(willChange);
  for (const phase of PHASES) {
    for (const resource of changing) {
      const operation = phase(api, resource, desired);
      if (!operation) continue;
      await operation.run();
      steps.push({ operation: operation.name, id: resource.id });
    }
  }
  return steps;
};

type Operation = { name: string; run: () => Promise<void> };
type Phase = (api: FcApi, resource: ResourcePlan, desired: DesiredState) => Operation | undefined;

const findFunction = (desired: DesiredState, resource: ResourcePlan): DesiredFunction => {
  const fn = desired.services
    .find((service) => service.name === resource.service)
    ?.functions.find((candidate) => candidate.name === resource.function);
  if (!fn) throw new Error(`Expected the plan's ${resource.type} ${resource.id} to be in the desired state`);
  return fn;
};

const servicePhase: Phase = (api, resource, desired) => {
  if (resource.type !== 'service') return undefined;
  const config = desired.services.find((service) => service.name === resource.service)?.config;
  if (!config) throw new Error(`Expected service ${resource.id} to be in the desired state`);
  return resource.action === 'create'
    ? { name: 'CreateService', run: () => api.createService(resource.service, config) }
    : { name: 'UpdateService', run: () => api.updateService(resource.service, config) };
};

const functionPhase: Phase = (api, resource, desired) => {
  if (resource.type !== 'function') return undefined;
  const fn = findFunction(desired, resource);
  if (resource.action === 'create') {
    return { name: 'CreateFunction', run: () => api.createFunction(fn.service, fn.name, fn.config, fn.code.zip) };
  }
  // Uploading the same zip again would restart nothing but cost the upload.
  const codeChanged = resource.changes.some((change) => change.field === 'code');
  return {
    name: 'UpdateFunction',
    run: () => api.updateFunction(fn.service, fn.name, fn.config, codeChanged ? fn.code.zip : undefined),
  };
};

const triggerDeletePhase: Phase = (api, resource) => {
  if (resource.type !== 'trigger' || (resource.action !== 'delete' && resource.action !== 'replace')) return undefined;
  const { service, function: fn = '', trigger = '' } = resource;
  return { name: 'DeleteTrigger', run: () => api.deleteTrigger(service, fn, trigger) };
};

const triggerWritePhase: Phase = (api, resource, desired) => {
  if (resource.type !== 'trigger' || resource.action === 'delete') return undefined;
  const fn = findFunction(desired, resource);
  const spec = fn.triggers.find((trigger) => trigger.triggerName === resource.trigger);
  if (!spec) throw new Error(`Expected trigger ${resource.id} to be in the desired state`);
  return resource.action === 'update'
    ? { name: 'UpdateTrigger', run: () => api.updateTrigger(fn.service, fn.name, spec) }
    : { name: 'CreateTrigger', run: () => api.createTrigger(fn.service, fn.name, spec) };
};

const asyncPhase: Phase = (api, resource, desired) => {
  if (resource.type !== 'async-config') return undefined;
  const fn = findFunction(desired, resource);
  const config = fn.asyncConfig;
  if (!config) throw new Error(`Expected an async config for ${resource.id} in the desired state`);
  return { name: 'PutFunctionAsyncInvokeConfig', run: () => api.putAsyncConfig(fn.service, fn.name, config) };
};

const PHASES: Phase[] = [servicePhase, functionPhase, triggerDeletePhase, triggerWritePhase, asyncPhase];
