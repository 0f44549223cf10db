/**
 * The instances of one function: child processes running `instance-runner.cjs`, each initialised once, each serving
 * up to `InstanceConcurrency` invocations, at most `maxInstances` of them; further invocations wait in a queue.
 * Enforces `Timeout` and `InitializationTimeout` by killing the instance, as FC does, and kills instances on purpose
 * when the crash plan says so. Every invocation settles with an outcome; nothing here throws at the caller.
 *
 * Like FC, it can rotate an instance's STS credentials (`credentialRotationMs`: each invocation's context carries the
 * triplet current at its dispatch; a replaced triplet expires once no invocation that received it is still running,
 * so a function that kept an old one fails) and freeze an idle instance (`freezeAfterIdleMs`: SIGSTOP, SIGCONT when
 * the next invocation comes; its open sockets are reset on their next use, see `instance-runner.cjs`). FC documents
 * that context credentials are temporary and that idle instances are frozen; how often it rotates is not documented.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { DeployedFunction } from './deployment.ts';

/** FC's error body: `{"errorMessage", "errorType", "stackTrace"}`. */
export type FcErrorBody = { errorMessage: string; errorType?: string; stackTrace?: string[] };

/**
 * `handled`: callback(err). `unhandled`: a throw, a rejection, an uncaught exception, code that cannot be loaded.
 * `initialization`: the initializer failed or timed out. `timeout`: the handler outlived `Timeout`. `crash`: the
 * instance died under the invocation. `closed`: the emulator shut down.
 */
export type FailureKind = 'handled' | 'unhandled' | 'initialization' | 'timeout' | 'crash' | 'closed';

export type InvocationOutcome =
  | { ok: true; body: Buffer; ms: number }
  | { ok: false; kind: FailureKind; error: FcErrorBody; ms: number };

export type InvocationRequest = { requestId: string; payload: Buffer; qualifier: string };

export type InstanceCredentials = { accessKeyId: string; accessKeySecret: string; securityToken: string };

export type FunctionPoolOptions = {
  fn: DeployedFunction;
  runnerPath: string;
  /** The instance's whole environment. */
  env: Record<string, string>;
  maxInstances: number;
  accountId: string;
  region: string;
  issueCredentials: () => InstanceCredentials;
  /** A replaced triplet is no longer valid (it expired); undefined: triplets never expire. */
  revokeCredentials?: (credentials: InstanceCredentials) => void;
  /** Replace each instance's triplet this often; undefined: never. */
  credentialRotationMs?: number;
  /** Freeze an instance after it has been idle this long; undefined: never. */
  freezeAfterIdleMs?: number;
  /** Per dispatched invocation: undefined, or the fraction of a typical invocation after which to kill the instance. */
  drawCrash: () => number | undefined;
  /** Kill the instance as soon as the function prints a line for which this is true. */
  crashWhen?: (line: string) => boolean;
  events: {
    instanceStarted(instanceId: string, pid: number | undefined): void;
    crashed(): void;
    timedOut(): void;
    output(stream: 'stdout' | 'stderr', line: string, instanceId: string): void;
    credentialsRotated?(instanceId: string): void;
    frozen?(instanceId: string): void;
    /** `stale`: the open sockets that will be reset on their next use. */
    thawed?(instanceId: string, stale: number): void;
  };
};

export type FunctionPool = {
  invoke(request: InvocationRequest): Promise<InvocationOutcome>;
  /** Invocations assigned to an instance (running, or waiting for its initializer). */
  inFlight(): number;
  queued(): number;
  /** Fails whatever is queued or running with `closed`, kills every instance and waits until they are gone. */
  close(): Promise<void>;
};

type Pending = {
  request: InvocationRequest;
  id: string;
  resolve: (outcome: InvocationOutcome) => void;
  enqueuedAt: number;
  startedAt?: number;
  timer?: NodeJS.Timeout;
  crashTimer?: NodeJS.Timeout;
  crashPlanned: boolean;
  /** The triplet its context carried. */
  credentials?: InstanceCredentials;
};

type Instance = {
  id: string;
  child: ChildProcess;
  state: 'starting' | 'ready' | 'dead';
  assigned: Map<string, Pending>;
  initTimer?: NodeJS.Timeout;
  /** The triplet new invocations get, and how many running invocations got each triplet still valid. */
  credentials: InstanceCredentials;
  credentialUsers: Map<InstanceCredentials, number>;
  /**
   * The triplet the newest invocation was given: the one the function's code signs with now (it keeps the latest
   * context's credentials), so it stays valid until a newer one is handed out, even with no invocation of its own
   * running. Real STS credentials outlive their rotation (they expire on their own, later); expiring a replaced triplet
   * only once nobody can still be signing with it is as strict as the emulator can be without being wrong.
   */
  lastHanded?: InstanceCredentials;
  rotationTimer?: NodeJS.Timeout;
  idleTimer?: NodeJS.Timeout;
  frozen: boolean;
  fatalError?: FcErrorBody;
  /** Unfinished last line per stream. */
  partial: { stdout: string; stderr: string };
  gone: Promise<void>;
};

type RunnerMessage =
  | { type: 'initialized' }
  | { type: 'initFailed'; phase: 'load' | 'initializer'; error: FcErrorBody }
  | { type: 'result'; id: string; body: string }
  | { type: 'failed'; id: string; kind: 'handled' | 'unhandled'; error: FcErrorBody }
  | { type: 'fatal'; error: FcErrorBody }
  | { type: 'output'; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'thawed'; stale: number };

/** Before any invocation finished, crash points are drawn within this many milliseconds. */
const INITIAL_TYPICAL_MS = 50;

export const createFunctionPool = (options: FunctionPoolOptions): FunctionPool => {
  const { fn, events } = options;
  const queue: Pending[] = [];
  const instances: Instance[] = [];
  const stillGoing = new Set<Promise<void>>();
  let nextInstance = 1;
  let nextInvocation = 1;
  let typicalMs = INITIAL_TYPICAL_MS;
  let closed = false;

  const settle = (instance: Instance | undefined, pending: Pending, outcome: InvocationOutcome) => {
    clearTimeout(pending.timer);
    clearTimeout(pending.crashTimer);
    instance?.assigned.delete(pending.id);
    if (instance && pending.credentials) releaseCredentials(instance, pending.credentials);
    if (instance) scheduleFreeze(instance);
    if (outcome.ok && pending.startedAt !== undefined) {
      typicalMs = 0.7 * typicalMs + 0.3 * (performance.now() - pending.startedAt);
    }
    pending.resolve(outcome);
  };

  const failure = (pending: Pending, kind: FailureKind, error: FcErrorBody): InvocationOutcome => ({
    ok: false,
    kind,
    error,
    ms: Math.round(performance.now() - pending.enqueuedAt),
  });

  const stillUsable = (instance: Instance, credentials: InstanceCredentials) =>
    credentials === instance.credentials ||
    credentials === instance.lastHanded ||
    (instance.credentialUsers.get(credentials) ?? 0) > 0;

  /**
   * Expires `credentials` once nothing can sign with them any more (replaced, not the newest handed out, unused),
   * one rotation interval later: the instance learns of a newer triplet only when its next invocation starts, and a
   * request signed just before may still be on its way. Real STS credentials live on well past their replacement.
   */
  const expireIfUnused = (instance: Instance, credentials: InstanceCredentials | undefined) => {
    if (!credentials || !instance.credentialUsers.has(credentials) || stillUsable(instance, credentials)) return;
    const expire = () => {
      if (!instance.credentialUsers.has(credentials) || stillUsable(instance, credentials)) return;
      instance.credentialUsers.delete(credentials);
      options.revokeCredentials?.(credentials);
    };
    if (!options.credentialRotationMs) return expire();
    setTimeout(expire, options.credentialRotationMs).unref();
  };

  /** An invocation that got `credentials` ended: a replaced triplet nobody can sign with any more expires. */
  const releaseCredentials = (instance: Instance, credentials: InstanceCredentials) => {
    instance.credentialUsers.set(credentials, Math.max(0, (instance.credentialUsers.get(credentials) ?? 1) - 1));
    expireIfUnused(instance, credentials);
  };

  const rotateCredentials = (instance: Instance) => {
    if (instance.state !== 'ready') return;
    const replaced = instance.credentials;
    instance.credentials = options.issueCredentials();
    instance.credentialUsers.set(instance.credentials, 0);
    events.credentialsRotated?.(instance.id);
    expireIfUnused(instance, replaced);
  };

  const scheduleFreeze = (instance: Instance) => {
    clearTimeout(instance.idleTimer);
    if (options.freezeAfterIdleMs === undefined || instance.state !== 'ready' || instance.assigned.size > 0) return;
    instance.idleTimer = setTimeout(() => {
      if (instance.state !== 'ready' || instance.assigned.size > 0 || instance.frozen) return;
      instance.frozen = true;
      instance.child.kill('SIGSTOP');
      events.frozen?.(instance.id);
    }, options.freezeAfterIdleMs);
  };

  const thaw = (instance: Instance) => {
    clearTimeout(instance.idleTimer);
    if (!instance.frozen) return;
    instance.frozen = false;
    instance.child.kill('SIGCONT');
    send(instance, { type: 'thaw' });
  };

  /** Takes the instance out of service and fails everything on it; the process is killed if still alive. */
  const lose = (instance: Instance, kind: FailureKind, error: FcErrorBody) => {
    if (instance.state === 'dead') return;
    instance.state = 'dead';
    clearTimeout(instance.initTimer);
    clearInterval(instance.rotationTimer);
    clearTimeout(instance.idleTimer);
    instances.splice(instances.indexOf(instance), 1);
    for (const pending of [...instance.assigned.values()]) settle(instance, pending, failure(pending, kind, error));
    if (instance.child.exitCode === null && instance.child.signalCode === null) instance.child.kill('SIGKILL');
    pump();
  };

  const processExited = (detail: string): FcErrorBody => ({
    errorMessage: `Process exited unexpectedly before completing request (${detail})`,
    errorType: 'ProcessExited',
  });

  const dispatch = (instance: Instance, pending: Pending) => {
    thaw(instance);
    pending.startedAt = performance.now();
    pending.credentials = instance.credentials;
    instance.credentialUsers.set(pending.credentials, (instance.credentialUsers.get(pending.credentials) ?? 0) + 1);
    const previous = instance.lastHanded;
    instance.lastHanded = pending.credentials;
    expireIfUnused(instance, previous);
    send(instance, {
      type: 'invoke',
      id: pending.id,
      payload: pending.request.payload.toString('base64'),
      requestId: pending.request.requestId,
      qualifier: pending.request.qualifier,
      credentials: pending.credentials,
    });
    pending.timer = setTimeout(() => {
      events.timedOut();
      settle(
        instance,
        pending,
        failure(pending, 'timeout', {
          errorMessage: `Function timed out after ${fn.timeout} seconds`,
          errorType: 'FunctionTimeout',
        }),
      );
      lose(instance, 'crash', processExited('the instance was killed after another request timed out'));
    }, fn.timeout * 1000);
    const crashAt = options.drawCrash();
    if (crashAt !== undefined) {
      pending.crashPlanned = true;
      pending.crashTimer = setTimeout(() => crash(instance), crashAt * typicalMs);
    }
  };

  const crash = (instance: Instance) => {
    events.crashed();
    lose(instance, 'crash', processExited('instance lost: injected crash'));
  };

  const onOutput = (instance: Instance, stream: 'stdout' | 'stderr', text: string) => {
    const lines = (instance.partial[stream] + text).split('\n');
    instance.partial[stream] = lines.pop() ?? '';
    for (const line of lines) {
      events.output(stream, line, instance.id);
      if (options.crashWhen?.(line) && instance.state !== 'dead') crash(instance);
    }
  };

  const flushOutput = (instance: Instance) => {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (instance.partial[stream] !== '') events.output(stream, instance.partial[stream], instance.id);
      instance.partial[stream] = '';
    }
  };

  const onMessage = (instance: Instance, message: RunnerMessage) => {
    if (message.type === 'output') return onOutput(instance, message.stream, message.text);
    if (instance.state === 'dead') return;
    switch (message.type) {
      case 'thawed':
        events.thawed?.(instance.id, message.stale);
        return;
      case 'initialized':
        instance.state = 'ready';
        clearTimeout(instance.initTimer);
        if (options.credentialRotationMs !== undefined) {
          instance.rotationTimer = setInterval(() => rotateCredentials(instance), options.credentialRotationMs);
        }
        for (const pending of instance.assigned.values()) dispatch(instance, pending);
        scheduleFreeze(instance);
        return;
      case 'initFailed':
        // FC reports code that cannot be loaded ("Cannot find module", "Handler 'x' missing on module 'y'") as an
        // unhandled invocation error, and only a failing initializer as InitializationError.
        if (message.phase === 'load') lose(instance, 'unhandled', message.error);
        else lose(instance, 'initialization', { ...message.error, errorType: 'InitializationError' });
        return;
      case 'fatal':
        // The exit follows; remember why, so the invocations on this instance report it.
        instance.fatalError = {
          ...message.error,
          errorType: `FunctionUnhandledError: ${message.error.errorType ?? 'Error'}`,
        };
        return;
      case 'result':
      case 'failed': {
        const pending = instance.assigned.get(message.id);
        if (!pending) return;
        // A planned crash that the invocation outran still happens, just before the answer: the work is done
        // but the caller never hears of it, which is exactly the case idempotency has to survive.
        if (pending.crashPlanned) return crash(instance);
        const outcome: InvocationOutcome =
          message.type === 'result'
            ? {
                ok: true,
                body: Buffer.from(message.body, 'base64'),
                ms: Math.round(performance.now() - pending.enqueuedAt),
              }
            : failure(pending, message.kind, message.error);
        settle(instance, pending, outcome);
        pump();
        return;
      }
    }
  };

  const onExit = (instance: Instance, code: number | null, signal: NodeJS.Signals | null) => {
    if (instance.state === 'dead') return;
    if (instance.state === 'starting') {
      lose(instance, 'initialization', {
        ...(instance.fatalError ?? processExited(`exit code ${code}, signal ${signal}`)),
        errorType: 'InitializationError',
      });
      return;
    }
    if (instance.assigned.size > 0) events.crashed();
    lose(
      instance,
      instance.fatalError ? 'unhandled' : 'crash',
      instance.fatalError ?? processExited(`exit code ${code}, signal ${signal}`),
    );
  };

  const send = (instance: Instance, message: Record<string, unknown>) => {
    instance.child.send(message, (error) => {
      if (error) lose(instance, 'crash', processExited(`IPC failed: ${error.message}`));
    });
  };

  const spawn = (firstRequest: InvocationRequest): Instance => {
    const id = `${fn.serviceName}/${fn.name}#${nextInstance++}`;
    const child = fork(options.runnerPath, [], {
      cwd: fn.codeDir,
      env: options.env,
      // Not the parent's flags (vitest's loaders); a heap cap in the spirit of MemorySize.
      execArgv: [`--max-old-space-size=${Math.max(fn.memorySize, 64)}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const gone = new Promise<void>((resolve) => {
      child.once('close', () => {
        flushOutput(instance);
        resolve();
      });
      // Only a process that never started has no 'close' to wait for.
      child.once('error', () => {
        if (child.pid === undefined) resolve();
      });
    });
    const credentials = options.issueCredentials();
    const instance: Instance = {
      id,
      child,
      state: 'starting',
      credentials,
      credentialUsers: new Map([[credentials, 0]]),
      frozen: false,
      assigned: new Map(),
      partial: { stdout: '', stderr: '' },
      gone,
    };
    stillGoing.add(gone);
    void gone.then(() => stillGoing.delete(gone));
    child.on('message', (message) => onMessage(instance, message as RunnerMessage));
    child.on('exit', (code, signal) => onExit(instance, code, signal));
    child.on('error', (error) => lose(instance, 'crash', processExited(error.message)));
    // Output that bypasses process.stdout (a child process of the function, native code) still arrives by pipe.
    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = child[stream];
      if (readable) createInterface({ input: readable }).on('line', (line) => events.output(stream, line, id));
    }
    const initSeconds = fn.initializer ? fn.initializationTimeout : fn.timeout;
    instance.initTimer = setTimeout(() => {
      events.timedOut();
      lose(instance, 'initialization', {
        errorMessage: `${fn.initializer ? 'Initializer' : 'Loading the code'} timed out after ${initSeconds} seconds`,
        errorType: 'InitializationError',
      });
    }, initSeconds * 1000);
    send(instance, {
      type: 'init',
      codeDir: fn.codeDir,
      handler: fn.handler,
      initializer: fn.initializer,
      context: baseContext(firstRequest, credentials),
    });
    instances.push(instance);
    events.instanceStarted(id, child.pid);
    return instance;
  };

  /** The context fields shared by every invocation on one instance (FC hands each instance its STS credentials). */
  const baseContext = (firstRequest: InvocationRequest, credentials: InstanceCredentials) => ({
    requestId: firstRequest.requestId,
    credentials,
    function: {
      name: fn.name,
      handler: fn.handler,
      memory: fn.memorySize,
      timeout: fn.timeout,
      initializer: fn.initializer ?? '',
      initializationTimeout: fn.initializationTimeout,
    },
    service: { name: fn.serviceName, logProject: '', logStore: '', qualifier: firstRequest.qualifier, versionId: '' },
    region: options.region,
    accountId: options.accountId,
  });

  const instanceWithRoom = (request: InvocationRequest): Instance | undefined =>
    instances.find((instance) => instance.assigned.size < fn.instanceConcurrency) ??
    (instances.length < options.maxInstances ? spawn(request) : undefined);

  const pump = () => {
    while (!closed && queue.length > 0) {
      const head = queue[0];
      const instance = head && instanceWithRoom(head.request);
      if (!head || !instance) return;
      queue.shift();
      clearTimeout(instance.idleTimer);
      instance.assigned.set(head.id, head);
      if (instance.state === 'ready') dispatch(instance, head);
    }
  };

  return {
    invoke: (request) =>
      new Promise<InvocationOutcome>((resolve) => {
        const pending: Pending = {
          request,
          id: String(nextInvocation++),
          resolve,
          enqueuedAt: performance.now(),
          crashPlanned: false,
        };
        if (closed) return resolve(failure(pending, 'closed', { errorMessage: 'The FC emulator is closed' }));
        queue.push(pending);
        pump();
      }),
    inFlight: () => instances.reduce((sum, instance) => sum + instance.assigned.size, 0),
    queued: () => queue.length,
    async close() {
      closed = true;
      const error = { errorMessage: 'The FC emulator is closed' };
      for (const pending of queue.splice(0)) settle(undefined, pending, failure(pending, 'closed', error));
      for (const instance of [...instances]) lose(instance, 'closed', error);
      await Promise.all(stillGoing);
    },
  };
};
