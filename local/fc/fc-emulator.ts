/**
 * Function Compute (FC 2.0) emulator for the local cloud, deployed to through the FC API as the real one is.
 *
 * What it implements:
 * - An in-memory deployment model (`deployment.ts`: service, function config, code folder, OSS triggers, async
 *   config), written by the FC management API (`management-routes.ts`: List/Create/Get/UpdateService,
 *   List/Create/Get/UpdateFunction with `code.zipFile`, Create/List/Get/Update/DeleteTrigger (lists paged as FC does,
 *   `listing.ts`),
 *   Put/GetFunctionAsyncInvokeConfig), which `algolib deploy` and the local cloud call with `@alicloud/fc2`. Code
 *   zips are unzipped into `codeDir` (`code-store.ts`) and instances run that copy; GetFunction answers FC's
 *   `codeChecksum` (CRC-64 of the zip). Started with a `templatePath`, it instead deploys that template's services
 *   and functions at start (each `CodeUri` a local folder, run in place), as the emulator's own tests do.
 *   Node.js runtimes only. An updated function gets fresh instances; its triggers and async config stay.
 * - Runs the function's code as FC does: each instance is a child process (`instance-runner.cjs`, forked with an IPC
 *   channel) that loads `Handler`'s module, runs `Initializer` once, then serves invocations with
 *   `handler(event: Buffer, context)`; both as FC's Node.js runtime runs them: a returned promise is awaited, anything
 *   else is waited on until it calls its callback (so a plain synchronous initializer fails the instance with
 *   `InitializationError` after `InitializationTimeout`; see `instance-runner.cjs` for the sources). The context carries
 *   `requestId`, `credentials` (one STS triplet per instance from `issueCredentials`), `function`, `service`
 *   (`qualifier: 'LATEST'`), `region`, `accountId` and a `logger` (debug/info/warn/error/log, FC's line prefix).
 *   Environment: `EnvironmentVariables` + `environmentOverrides` + `FC_FUNC_CODE_PATH`, `FC_REGION`, `FC_ACCOUNT_ID`,
 *   `FC_SERVICE_NAME`, `FC_FUNCTION_NAME`, `FC_FUNCTION_HANDLER`, `FC_FUNCTION_MEMORY_SIZE` and `PATH`.
 * - Up to `InstanceConcurrency` invocations per instance, up to `maxInstances` instances per function; the rest queue.
 * - `Timeout` and `InitializationTimeout`: the invocation fails (`FunctionTimeout` / `InitializationError`) and the
 *   instance is killed. A failed initializer fails the invocation with `InitializationError`; the instance is
 *   discarded and the next invocation starts a new one.
 * - Async invocations (OSS triggers, `X-Fc-Invocation-Type: Async`): at least once; a failed attempt (error, timeout,
 *   lost instance) is retried with the same request id (or a new one per retry with `asyncRetryRequestId: 'new'`:
 *   FC does not document which) up to `MaxAsyncRetryAttempts` (default 3) times, with
 *   exponential backoff and full jitter from `asyncRetryBaseMs`; an event older than `MaxAsyncEventAgeInSeconds`
 *   when its retry comes up is dropped; given-up events are dead letters addressed to `Destination.OnFailure`, recorded
 *   only if the service's role may send there (`rolePolicy`, `role-policy.ts`), else logged as `dead-letter-lost`.
 * - OSS triggers matched as FC does (`platform/fc/trigger-match.ts`): bucket, `Events` with `oss:` prefix and `*` wildcards
 *   against the payload's unprefixed `eventName`, key Prefix and Suffix. Overlapping triggers on one bucket (shared
 *   event type, overlapping prefix and suffix) are refused at deploy, as OSS refuses them.
 * - The FC HTTP API for `@alicloud/fc2`: `POST /2016-08-15/services/{service}[.LATEST]/functions/{fn}/invocations`.
 *   Async → 202 + `x-fc-request-id`; sync → 200 with the handler's result (`application/octet-stream`), or 200 with
 *   `x-fc-error-type` (`HandledInvocationError` for `callback(err)`; `UnhandledInvocationError` for throws,
 *   rejections, code that cannot be loaded, uncaught exceptions (`errorType: 'FunctionUnhandledError: Error'`),
 *   timeouts (`FunctionTimeout`) and lost instances; `InitializationError`) and FC's
 *   `{errorMessage, errorType, stackTrace}` JSON.
 *   The same routes under `/2021-04-06/` for the Tea SDK `@alicloud/fc-open20210406` (qualifier as `?qualifier=`,
 *   `triggerConfig` as JSON text), whose `ACS3-HMAC-SHA256` signature is verified by `acs3-signature.ts`.
 *   Every fc2 request is authenticated exactly as fc2 signs (`fc-signature.ts`): `FC <ak>:<HMAC-SHA256>`, Date within
 *   15 minutes, `x-fc-account-id` equal to the emulator's account, Content-MD5 equal to the body's. Errors are
 *   `{ErrorCode, ErrorMessage}` JSON: 403 `SignatureNotMatch`, 404 `ServiceNotFound` / `FunctionNotFound`.
 * - Chaos: with `crashRate`, a seeded draw per invocation kills its instance (SIGKILL) at a random point of it
 *   (a random fraction of the function's typical duration); if the invocation finishes first, the kill lands just
 *   before its answer is delivered (work done, answer lost). `stats().crashes` counts these kills and any other
 *   instance death under a running invocation (`process.exit`, OOM).
 * - One log entry per invocation attempt `{service:'fc', requestId, function, kind, attempt, outcome, ms}` (plus
 *   `failure` and `errorType` when it failed), per instance start, freeze, thaw and credential rotation, per dead
 *   letter (delivered or lost), and one per line the function
 *   prints (`{service:'fc', stream:'stdout'|'stderr', line}`; sent over IPC, so an invocation's lines are logged
 *   before its outcome). Payloads and credentials are never logged.
 * - Bundling: `instance-runner.cjs` is forked from `INSTANCE_RUNNER_PATH`, the folder of this module (or of the
 *   CommonJS bundle that inlined it, where esbuild warns that `import.meta` is empty; that is expected). Copy the
 *   runner next to the bundle.
 *
 * How it differs from real FC (choices where the docs are silent are marked "chosen"):
 * - No versions, aliases, VPC, NAS, layers, custom runtimes or HTTP triggers; a qualifier other than LATEST → 404
 *   `VersionNotFound` / `AliasNotFound` (chosen). Only InvokeFunction and the management calls above are served;
 *   other paths → 404 `PathNotSupported`. Services, functions and async configs cannot be deleted.
 * - MemorySize only caps the V8 heap (`--max-old-space-size`); CPU is not throttled. `maxInstances` is per function.
 * - An idle instance is frozen only with `freezeAfterIdleMs` (SIGSTOP/SIGCONT; its sockets are reset on next use after
 *   a thaw) and never reclaimed; it lives until it fails, times out, crashes or `close()`. STS triplets rotate only
 *   with `credentialRotationMs` (FC rotates them at an undocumented interval; its triplets live 36 h).
 * - A timeout kills the whole instance, so other invocations running on it fail too (`ProcessExited`, chosen name
 *   for FC's "Process exited unexpectedly before completing request").
 * - Async: no 429 throttling retries (the queue is unbounded), no payload size limit, no StatefulInvocation, no
 *   delivery to destinations: `deadLetters()` records what would have been sent to OnFailure (also when none is
 *   configured, where FC would discard the event). The event age is checked only when a retry comes up.
 * - Auth errors other than SignatureNotMatch use chosen codes: 403 `InvalidAuthorization`, `InvalidAccessKeyId`,
 *   `RequestTimeTooSkewed`, `AccessDenied` (account mismatch), `InvalidArgument` (403 no/bad Date, 400 Content-MD5).
 *   An STS key's `x-fc-security-token` is signed but not checked against a token. ACS3 (2021-04-06) requests are
 *   refused with the same FC codes; whether the 2021-04-06 gateway answers with other codes or body fields is not
 *   documented. The account header is checked for fc2 requests only.
 * - `x-fc-log-type: Tail` is ignored (no `x-fc-log-result`); the function's output goes to `log` instead.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTemplate } from '../../platform/fc/template.ts';
import { matchesOssTrigger } from '../../platform/fc/trigger-match.ts';
import type { RoutableOssEventRecord } from '../../platform/oss/event-record.ts';
import { createRandom } from '../faults.ts';
import { ACS3_ALGORITHM, verifyAcs3Request } from './acs3-signature.ts';
import { type AsyncJob, createAsyncQueue, type DeadLetter } from './async-queue.ts';
import { createCodeStore } from './code-store.ts';
import { createDeployment, type DeployedFunction, type Deployment, deployTemplate, functionKey } from './deployment.ts';
import { startFcHttpServer } from './fc-http.ts';
import { createFcRoutes, type InvocationTarget } from './fc-routes.ts';
import { verifyFcRequest } from './fc-signature.ts';
import { createFunctionPool, type FunctionPool, type InvocationOutcome } from './instance-pool.ts';
import { createInvocationLog, type InvocationRecord } from './invocation-log.ts';
import { destinationAction, isAllowed, type RamPolicy } from './role-policy.ts';

export type { DeadLetter } from './async-queue.ts';
export type { InvocationRecord } from './invocation-log.ts';

export type FcEmulatorOptions = {
  host?: string;
  port?: number;
  /** Deploy this template at start; without one the emulator starts empty and is deployed to through its API. */
  templatePath?: string;
  /** Values for the template's Parameters. */
  parameters?: Record<string, string>;
  /** Where code sent through the API is unzipped; a temporary folder (removed on close) when absent. */
  codeDir?: string;
  /** Merged over the function's EnvironmentVariables (local endpoints). */
  environmentOverrides?: Record<string, string>;
  accountId?: string;
  region?: string;
  /** Keys `@alicloud/fc2` clients may use. */
  apiCredentials: { accessKeyId: string; accessKeySecret: string }[];
  /** STS triplet handed to each new instance as context.credentials (the caller registers it with the OSS and CityVisual emulators). */
  issueCredentials: () => { accessKeyId: string; accessKeySecret: string; securityToken: string };
  /**
   * The RAM policy attached to a role ARN (the service's `Role`), or undefined when the role has none. When given,
   * a dead letter is delivered only if the service's role may send to the OnFailure destination (`role-policy.ts`);
   * otherwise it is lost and logged (`dead-letter-lost`), as on FC. Without it, every dead letter is recorded.
   */
  rolePolicy?: (roleArn: string) => RamPolicy | undefined;
  /**
   * Whether an async retry keeps the first attempt's request id (`keep`, default) or gets a new one (`new`). FC does
   * not document which; the function must be correct under both.
   */
  asyncRetryRequestId?: 'keep' | 'new';
  /**
   * Chaos, deterministic: kill (SIGKILL) the instance as soon as the function prints a line for which this returns
   * true, e.g. right after it logs that it took a name claim. Whatever runs on that instance fails as a crash.
   */
  crashWhen?: (line: string) => boolean;
  /** A replaced STS triplet expired (the caller unregisters it from the OSS and CityVisual emulators). */
  revokeCredentials?: (credentials: { accessKeyId: string; accessKeySecret: string; securityToken: string }) => void;
  /**
   * Replace each instance's STS triplet this often (ms); default: never. A replaced triplet expires once no
   * invocation that received it is still running, so a function must sign with the context of the request at hand.
   */
  credentialRotationMs?: number;
  /**
   * Freeze (SIGSTOP) an instance idle this long (ms), thaw it for its next invocation; default: never. After a thaw
   * the sockets it kept open are reset on their next use (ECONNRESET), as a frozen instance's keep-alive connections
   * are dropped by their peers.
   */
  freezeAfterIdleMs?: number;
  /** Backoff base between async retries (default 1000); doubles each retry, full jitter. */
  asyncRetryBaseMs?: number;
  /** Per function; default 4. */
  maxInstances?: number;
  /** Probability that an invocation's instance is killed at a random point of it; default 0. */
  crashRate?: number;
  seed?: number;
  log?: (entry: Record<string, unknown>) => void;
};

export type FcEmulator = {
  endpoint: string;
  port: number;
  accountId: string;
  region: string;
  /** The first service deployed and its first function (`''` while nothing is deployed). */
  readonly serviceName: string;
  readonly functionName: string;
  /**
   * Routes one OSS event record (an element of events[]) to every trigger whose bucket, event name and Prefix/Suffix
   * match, as an async invocation with payload {"events":[record]}. Returns how many triggers matched.
   */
  dispatchOssEvent(record: RoutableOssEventRecord): number;
  /** Returns the request id. */
  invokeAsync(payload: Buffer, options?: { functionName?: string }): string;
  invokeSync(
    payload: Buffer,
    options?: { functionName?: string },
  ): Promise<{ result: Buffer; error?: { errorType: string; errorMessage: string } }>;
  /** Resolves when nothing is queued, running or waiting for a retry. */
  idle(): Promise<void>;
  stats(): {
    invocations: number;
    succeeded: number;
    failed: number;
    retries: number;
    timeouts: number;
    crashes: number;
    instancesStarted: number;
    /** Dead letters FC could not deliver because the role may not send to the destination. */
    deadLettersLost: number;
    /** STS triplets replaced, instances frozen, and sockets marked to be reset after a thaw. */
    credentialsRotated: number;
    freezes: number;
    socketsReset: number;
    inFlight: number;
    queued: number;
  };
  deadLetters(): Array<{ requestId: string; payload: string; error: string; attempts: number; destination?: string }>;
  /** The newest invocation attempts first (at most 500), with the lines the function printed for each. */
  invocations(): InvocationRecord[];
  /** Stops the server, kills every instance, clears every timer. */
  close(): Promise<void>;
};

/** Where `instance-runner.cjs` is: next to this module, or next to the bundle that inlined it (copy it there). */
export const INSTANCE_RUNNER_PATH = join(
  // import.meta.url is empty in a CommonJS bundle; __dirname is then the bundle's folder.
  import.meta.url ? dirname(fileURLToPath(import.meta.url)) : __dirname,
  'instance-runner.cjs',
);

const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export const startFcEmulator = async (o: FcEmulatorOptions): Promise<FcEmulator> => {
  const accountId = o.accountId ?? '1234567890123456';
  const region = o.region ?? 'cn-shanghai';
  const crashRate = checkedRate(o.crashRate ?? 0);
  const maxInstances = checkedPositiveInteger('maxInstances', o.maxInstances ?? 4);
  const log = o.log ?? (() => {});

  const deployment = createDeployment();
  if (o.templatePath !== undefined) {
    deployTemplate(deployment, loadTemplate(o.templatePath, { parameters: o.parameters ?? {}, accountId, region }));
    if (!firstFunctionOf(deployment)) throw new Error(`Expected ${o.templatePath} to define at least one function`);
  }
  const temporaryCodeDir = o.codeDir === undefined ? mkdtempSync(join(tmpdir(), 'fc-emulator-code-')) : undefined;
  const codeDir = o.codeDir ?? (temporaryCodeDir as string);
  mkdirSync(codeDir, { recursive: true });

  const stats = {
    invocations: 0,
    succeeded: 0,
    failed: 0,
    retries: 0,
    timeouts: 0,
    crashes: 0,
    instancesStarted: 0,
    deadLettersLost: 0,
    credentialsRotated: 0,
    freezes: 0,
    socketsReset: 0,
  };
  /** Why FC could not deliver a dead letter to `destination` with the service's role, or undefined when it can. */
  const deliveryRefusal = (fn: DeployedFunction, destination: string | undefined): string | undefined => {
    if (o.rolePolicy === undefined || destination === undefined) return undefined;
    const role = deployment.getService(fn.serviceName)?.properties.Role;
    if (typeof role !== 'string' || role === '')
      return `service ${fn.serviceName} has no role to deliver to ${destination} with`;
    const action = destinationAction(destination);
    if (action === undefined) return `the destination ${destination} is of a kind FC cannot deliver to`;
    const policy = o.rolePolicy(role);
    if (policy === undefined || !isAllowed(policy, action, destination))
      return `role ${role} is not allowed ${action} on ${destination}`;
    return undefined;
  };
  const letters: DeadLetter[] = [];
  const invocationLog = createInvocationLog();
  const idle = createIdleTracker();
  // Separate streams, so that retry jitter does not shift the crash schedule of a seed.
  const crashRandom = createRandom(o.seed ?? 1);
  const jitterRandom = createRandom((o.seed ?? 1) ^ 0x5bd1e995);
  let closed = false;

  const pools = new Map<string, { fn: DeployedFunction; pool: FunctionPool }>();
  const retiring = new Set<Promise<void>>();
  const poolFor = (fn: DeployedFunction): FunctionPool => {
    const entry = pools.get(functionKey(fn));
    if (entry?.fn === fn) return entry.pool;
    // A redeployed function gets fresh instances; what ran on the old ones fails (and async retries it).
    if (entry) {
      const retired = entry.pool.close();
      retiring.add(retired);
      void retired.then(() => retiring.delete(retired));
    }
    const pool = createFunctionPool({
      fn,
      runnerPath: INSTANCE_RUNNER_PATH,
      env: instanceEnvironment(fn, o.environmentOverrides ?? {}, accountId, region),
      maxInstances,
      accountId,
      region,
      issueCredentials: o.issueCredentials,
      ...(o.revokeCredentials ? { revokeCredentials: o.revokeCredentials } : {}),
      ...(o.credentialRotationMs !== undefined
        ? { credentialRotationMs: checkedPositiveInteger('credentialRotationMs', o.credentialRotationMs) }
        : {}),
      ...(o.freezeAfterIdleMs !== undefined
        ? { freezeAfterIdleMs: checkedPositiveInteger('freezeAfterIdleMs', o.freezeAfterIdleMs) }
        : {}),
      drawCrash: () => (crashRate > 0 && crashRandom() < crashRate ? crashRandom() : undefined),
      ...(o.crashWhen ? { crashWhen: o.crashWhen } : {}),
      events: {
        instanceStarted(instanceId, pid) {
          stats.instancesStarted += 1;
          log({ service: 'fc', event: 'instance-started', function: functionKey(fn), instanceId, pid });
        },
        crashed: () => {
          stats.crashes += 1;
        },
        timedOut: () => {
          stats.timeouts += 1;
        },
        credentialsRotated: (instanceId) => {
          stats.credentialsRotated += 1;
          log({ service: 'fc', event: 'credentials-rotated', function: functionKey(fn), instanceId });
        },
        frozen: (instanceId) => {
          stats.freezes += 1;
          log({ service: 'fc', event: 'instance-frozen', function: functionKey(fn), instanceId });
        },
        thawed: (instanceId, stale) => {
          stats.socketsReset += stale;
          log({ service: 'fc', event: 'instance-thawed', function: functionKey(fn), instanceId, staleSockets: stale });
        },
        output: (stream, line, instanceId) => {
          invocationLog.output(line);
          log({ service: 'fc', stream, line, function: functionKey(fn), instanceId });
        },
      },
    });
    pools.set(functionKey(fn), { fn, pool });
    return pool;
  };

  const run = async (
    fn: DeployedFunction,
    payload: Buffer,
    target: InvocationTarget,
    kind: 'sync' | 'async',
    attempt: number,
  ) => {
    stats.invocations += 1;
    invocationLog.started({ requestId: target.requestId, function: functionKey(fn), kind, attempt });
    const outcome = await poolFor(fn).invoke({ requestId: target.requestId, payload, qualifier: target.qualifier });
    invocationLog.finished(
      target.requestId,
      outcome.ok ? 'succeeded' : 'failed',
      outcome.ms,
      outcome.ok ? undefined : outcome.error.errorType,
    );
    if (outcome.ok) stats.succeeded += 1;
    else if (outcome.kind !== 'closed') stats.failed += 1;
    log({
      service: 'fc',
      requestId: target.requestId,
      function: functionKey(fn),
      kind,
      attempt,
      outcome: outcome.ok ? 'succeeded' : 'failed',
      ms: outcome.ms,
      ...(outcome.ok ? {} : { failure: outcome.kind, errorType: outcome.error.errorType }),
    });
    return outcome;
  };

  const queue = createAsyncQueue({
    run: (job: AsyncJob) => {
      // What is deployed now: a retry of an event accepted before an update runs the updated function with its
      // async config, as on FC (the queue reads the retry budget from job.fn).
      job.fn = deployment.getFunction(job.fn.serviceName, job.fn.name) ?? job.fn;
      return run(job.fn, job.payload, job, 'async', job.attempts);
    },
    retryBaseMs: o.asyncRetryBaseMs ?? 1000,
    retryRequestId: o.asyncRetryRequestId ?? 'keep',
    newRequestId: randomUUID,
    random: jitterRandom,
    now: () => performance.now(),
    events: {
      retrying: () => {
        stats.retries += 1;
      },
      deadLettered(letter, job) {
        const refused = deliveryRefusal(job.fn, letter.destination);
        if (refused !== undefined) {
          stats.deadLettersLost += 1;
          log({
            service: 'fc',
            event: 'dead-letter-lost',
            requestId: letter.requestId,
            attempts: letter.attempts,
            destination: letter.destination,
            reason: refused,
          });
          return;
        }
        letters.push(letter);
        log({
          service: 'fc',
          event: 'dead-letter',
          requestId: letter.requestId,
          attempts: letter.attempts,
          destination: letter.destination,
        });
      },
      done(job, outcome) {
        const onSuccess = job.fn.asyncConfig.onSuccess;
        if (outcome === 'succeeded' && onSuccess)
          log({ service: 'fc', event: 'on-success', requestId: job.requestId, destination: onSuccess });
        idle.end();
      },
    },
  });

  const invokeAsync = (fn: DeployedFunction, payload: Buffer, target: InvocationTarget) => {
    if (closed) throw new Error('The FC emulator is closed');
    idle.begin();
    queue.enqueue({ requestId: target.requestId, fn, payload, qualifier: target.qualifier });
  };

  const invokeSync = async (
    fn: DeployedFunction,
    payload: Buffer,
    target: InvocationTarget,
  ): Promise<InvocationOutcome> => {
    if (closed) throw new Error('The FC emulator is closed');
    idle.begin();
    try {
      return await run(fn, payload, target, 'sync', 1);
    } finally {
      idle.end();
    }
  };

  const server = await startFcHttpServer({
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 0,
    routes: createFcRoutes(
      deployment,
      { invokeAsync, invokeSync },
      { accountId, region, code: createCodeStore(codeDir) },
    ),
    authenticate: (request) => {
      const secretOf = (id: string) =>
        o.apiCredentials.find((credential) => credential.accessKeyId === id)?.accessKeySecret;
      const check = { ...request, secretOf, now: Date.now(), maxSkewMs: MAX_CLOCK_SKEW_MS };
      // fc2 signs `FC <ak>:<sig>`; the Tea SDKs (fc-open20210406) sign with Alibaba's V3 `ACS3-HMAC-SHA256`.
      const authorization = String(request.headers.authorization ?? '');
      const result = authorization.startsWith(`${ACS3_ALGORITHM} `)
        ? verifyAcs3Request(check)
        : verifyFcRequest({ ...check, accountId });
      return 'accessKeyId' in result ? undefined : result;
    },
  });

  const functionNamed = (name?: string): DeployedFunction => {
    const [service] = deployment.services();
    const fn = name === undefined ? firstFunctionOf(deployment) : service?.functions.get(name);
    if (!fn)
      throw new Error(
        `Expected a function of service ${service?.name ?? '(none deployed)'}, got ${name ?? 'nothing'} (deployed: ${[...(service?.functions.keys() ?? [])].join(', ') || 'none'})`,
      );
    return fn;
  };

  return {
    endpoint: server.endpoint,
    port: server.port,
    accountId,
    region,
    get serviceName() {
      return deployment.services()[0]?.name ?? '';
    },
    get functionName() {
      return firstFunctionOf(deployment)?.name ?? '';
    },
    dispatchOssEvent(record) {
      assertOssRecord(record);
      const payload = Buffer.from(JSON.stringify({ events: [record] }));
      const matches = deployment.ossTriggers().filter(({ trigger }) => matchesOssTrigger(trigger, record));
      for (const { fn, trigger } of matches) {
        const requestId = randomUUID();
        invocationLog.triggered(requestId, `oss:${trigger.name}`, record.oss.object.key);
        invokeAsync(fn, payload, { requestId, qualifier: trigger.qualifier ?? 'LATEST' });
      }
      return matches.length;
    },
    invokeAsync(payload, options = {}) {
      const requestId = randomUUID();
      invokeAsync(functionNamed(options.functionName), payload, { requestId, qualifier: 'LATEST' });
      return requestId;
    },
    async invokeSync(payload, options = {}) {
      const outcome = await invokeSync(functionNamed(options.functionName), payload, {
        requestId: randomUUID(),
        qualifier: 'LATEST',
      });
      if (outcome.ok) return { result: outcome.body };
      if (outcome.kind === 'closed') throw new Error('The FC emulator closed during the invocation');
      return {
        result: Buffer.from(JSON.stringify(outcome.error)),
        error: { errorType: outcome.error.errorType ?? 'Error', errorMessage: outcome.error.errorMessage },
      };
    },
    idle: () => idle.whenIdle(),
    stats: () => ({
      ...stats,
      inFlight: [...pools.values()].reduce((sum, { pool }) => sum + pool.inFlight(), 0),
      queued: [...pools.values()].reduce((sum, { pool }) => sum + pool.queued(), 0),
    }),
    deadLetters: () => letters.map((letter) => ({ ...letter })),
    invocations: () => invocationLog.list(),
    async close() {
      if (closed) return;
      closed = true;
      queue.close();
      await server.close();
      await Promise.all([...[...pools.values()].map(({ pool }) => pool.close()), ...retiring]);
      idle.close();
      if (temporaryCodeDir) rmSync(temporaryCodeDir, { recursive: true, force: true });
    },
  };
};

const firstFunctionOf = (deployment: Deployment): DeployedFunction | undefined => {
  const [service] = deployment.services();
  const [fn] = service ? service.functions.values() : [];
  return fn;
};

/** FC's own variables win over the function's, as on FC; PATH so that the code can spawn tools. */
const instanceEnvironment = (
  fn: DeployedFunction,
  overrides: Record<string, string>,
  accountId: string,
  region: string,
) => ({
  PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
  ...fn.environmentVariables,
  ...overrides,
  FC_FUNC_CODE_PATH: fn.codeDir,
  FC_REGION: region,
  FC_ACCOUNT_ID: accountId,
  FC_SERVICE_NAME: fn.serviceName,
  FC_FUNCTION_NAME: fn.name,
  FC_FUNCTION_HANDLER: fn.handler,
  FC_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
});

/** Counts work that is not finished (queued, running, waiting for a retry) and wakes `idle()` callers at zero. */
const createIdleTracker = () => {
  let outstanding = 0;
  let closed = false;
  let waiters: Array<() => void> = [];
  const releaseAll = () => {
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  };
  return {
    begin: () => {
      outstanding += 1;
    },
    end: () => {
      outstanding -= 1;
      if (outstanding === 0) releaseAll();
    },
    whenIdle: () =>
      outstanding === 0 || closed ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve)),
    /** After close nothing will finish any more: wake everyone, now and later. */
    close: () => {
      closed = true;
      releaseAll();
    },
  };
};

const assertOssRecord = (record: RoutableOssEventRecord) => {
  const ok =
    typeof record?.eventName === 'string' &&
    typeof record.oss?.bucket?.name === 'string' &&
    typeof record.oss?.object?.key === 'string';
  if (!ok) throw new TypeError('Expected an OSS event record with eventName, oss.bucket.name and oss.object.key');
};

const checkedRate = (rate: number) => {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`Expected \`crashRate\` to be a number from 0 to 1, got ${rate}`);
  return rate;
};

const checkedPositiveInteger = (name: string, value: number) => {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`Expected \`${name}\` to be a positive integer, got ${value}`);
  return value;
};
