/**
 * One deploy, the same for the cloud and the local cloud: resolve the template, zip the code, read what Function
 * Compute has, plan, and (unless only planning) apply. `algolib deploy` and `startLocalCloud` both call this with an
 * fc2-backed `FcApi`, so the local FC is configured through exactly the requests the real one gets.
 */

import { loadTemplate, type TemplateModel } from '../platform/fc/template.ts';
import { type AppliedStep, applyPlan } from './apply.ts';
import { type DesiredState, desiredStateOf } from './desired-state.ts';
import type { FcApi } from './fc-api.ts';
import { type Plan, planDeployment } from './plan.ts';

export type DeployRequest = {
  templatePath: string;
  parameters: Record<string, string>;
  /** FC's region and account: the triggers' source ARN and `ALIYUN::Region`/`ALIYUN::AccountId`. */
  region: string;
  accountId: string;
  api: FcApi;
  /** False: plan only. */
  apply: boolean;
  /** Delete triggers that are no longer in the template. */
  prune: boolean;
};

export type DeployOutcome = {
  model: TemplateModel;
  desired: DesiredState;
  plan: Plan;
  /** The FC calls an apply made; undefined when only planning. */
  steps: AppliedStep[] | undefined;
};

/**
 * Plans, and applies unless `apply` is false.
 *
 * @example
 * ```ts
 * const { plan } = await runDeploy({ templatePath: 'template.yml', parameters, region: 'cn-shanghai', accountId, api, apply: false, prune: false });
 * ```
 */
export const runDeploy = async (request: DeployRequest): Promise<DeployOutcome> => {
  const target = { region: request.region, accountId: request.accountId };
  const model = loadTemplate(request.templatePath, { parameters: request.parameters, ...target });
  const desired = desiredStateOf(model, target);
  const plan = await planDeployment(request.api, desired, { prune: request.prune });
  const steps = request.apply ? await applyPlan(request.api, plan, desired) : undefined;
  return { model, desired, plan, steps };
};
