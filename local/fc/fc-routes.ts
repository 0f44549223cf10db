/**
 * The FC 2.0 API's route table over the local deployment: InvokeFunction, as `@alicloud/fc2`'s
 * `invokeFunction(service, function, event, headers, qualifier)` calls it, and the management routes `algolib deploy`
 * uses (services, functions with code zips, triggers, async invoke config; `management-routes.ts`).
 */
import type { DeployedFunction, Deployment } from './deployment.ts';
import { errorResponse, FcApiError, type FcRequest, type FcResponse, type FcRoute } from './fc-http.ts';
import type { FailureKind, InvocationOutcome } from './instance-pool.ts';
import { createManagementRoutes, type ManagementOptions } from './management-routes.ts';

export const API_VERSION = '2016-08-15';
/**
 * The same FC 2.0 API under the version the docs now recommend (the Tea SDK `@alicloud/fc-open20210406`, paths
 * `/2021-04-06/…`, https://www.alibabacloud.com/help/en/fc/developer-reference/api-fc-open-2021-04-06-listservices);
 * it takes a version or alias as the `qualifier` query parameter instead of `service.qualifier`.
 */
export const API_VERSION_2021 = '2021-04-06';

export type InvocationTarget = { requestId: string; qualifier: string };

export type Invoker = {
  invokeAsync(fn: DeployedFunction, payload: Buffer, target: InvocationTarget): void;
  invokeSync(fn: DeployedFunction, payload: Buffer, target: InvocationTarget): Promise<InvocationOutcome>;
};

export const createFcRoutes = (deployment: Deployment, invoker: Invoker, management: ManagementOptions): FcRoute[] =>
  [API_VERSION, API_VERSION_2021].flatMap((version) => [
    {
      method: 'POST' as const,
      pattern: `/${version}/services/:service/functions/:function/invocations`,
      handle: (request: FcRequest) => invokeFunction(deployment, invoker, request),
    },
    ...createManagementRoutes(deployment, management, version),
  ]);

const invokeFunction = async (deployment: Deployment, invoker: Invoker, request: FcRequest): Promise<FcResponse> => {
  const qualified = request.query.get('qualifier');
  const serviceSegment = request.params.service ?? '';
  const { fn, qualifier } = findFunction(
    deployment,
    qualified && !serviceSegment.includes('.') ? `${serviceSegment}.${qualified}` : serviceSegment,
    request.params.function ?? '',
  );
  const target = { requestId: request.requestId, qualifier };
  const invocationType = String(request.headers['x-fc-invocation-type'] ?? 'Sync');
  if (invocationType.toLowerCase() === 'async') {
    invoker.invokeAsync(fn, request.body, target);
    return { status: 202 };
  }
  if (invocationType.toLowerCase() !== 'sync') {
    throw new FcApiError(
      400,
      'InvalidArgument',
      `Expected X-Fc-Invocation-Type to be Sync or Async, got ${invocationType}`,
    );
  }
  const outcome = await invoker.invokeSync(fn, request.body, target);
  if (outcome.ok) {
    return {
      status: 200,
      headers: { 'content-type': 'application/octet-stream', 'x-fc-invocation-duration': String(outcome.ms) },
      body: outcome.body,
    };
  }
  if (outcome.kind === 'closed') return errorResponse(503, 'ServiceUnavailable', outcome.error.errorMessage);
  // FC answers function errors with 200 and says so in X-Fc-Error-Type; fc2 therefore does not throw on them.
  return {
    status: 200,
    headers: {
      'content-type': 'application/json',
      'x-fc-error-type': fcErrorType(outcome.kind),
      'x-fc-invocation-duration': String(outcome.ms),
    },
    body: JSON.stringify(outcome.error),
  };
};

/** `svc` or `svc.LATEST` (fc2 appends the qualifier to the service name). Versions and aliases are not modelled. */
const findFunction = (deployment: Deployment, serviceSegment: string, functionName: string) => {
  const dot = serviceSegment.indexOf('.');
  const serviceName = dot < 0 ? serviceSegment : serviceSegment.slice(0, dot);
  const qualifier = dot < 0 ? 'LATEST' : serviceSegment.slice(dot + 1);
  const service = deployment.getService(serviceName);
  if (!service) throw new FcApiError(404, 'ServiceNotFound', `service '${serviceName}' does not exist`);
  if (qualifier !== 'LATEST') {
    const code = /^\d+$/.test(qualifier) ? 'VersionNotFound' : 'AliasNotFound';
    throw new FcApiError(
      404,
      code,
      `${code === 'VersionNotFound' ? 'version' : 'alias'} '${qualifier}' does not exist in service '${serviceName}'`,
    );
  }
  const fn = service.functions.get(functionName);
  if (!fn)
    throw new FcApiError(
      404,
      'FunctionNotFound',
      `function '${functionName}' does not exist in service '${serviceName}'`,
    );
  return { fn, qualifier };
};

/** The `X-Fc-Error-Type` FC sets for each way an invocation can fail. */
export const fcErrorType = (kind: FailureKind): string => {
  if (kind === 'handled') return 'HandledInvocationError';
  if (kind === 'initialization') return 'InitializationError';
  return 'UnhandledInvocationError';
};
