/**
 * The pipeline, as pure orchestration over ports: one object-created event in, one status document out.
 *
 * event → pair keys → manifest (capped read) + package HEAD, in parallel → parse and verify → name claim →
 * CreateAlgoLib (retried; Duplicate resolved with DescribeAlgoLibs) → status document → webhooks.
 */

import type { AlgoLibRegistry } from './cityvisual.ts';
import type { Config } from './config.ts';
import { DeadlineError, EventParseError, RemoteError } from './errors.ts';
import { claimsPrefixOf, type PairKeys, pairOf, statusKeyOf } from './keys.ts';
import type { Logger } from './log.ts';
import { algoLibParameters, MANIFEST_MAX_BYTES, type Manifest, parseManifest } from './manifest.ts';
import { acquireNameClaim, type ClaimOutcome, readStatus } from './name-claim.ts';
import { boundedBy, type ObjectBytes, type ObjectInfo, type ObjectStore } from './object-store.ts';
import { COMPLETING_EVENTS, type ObjectEvent, parseObjectEvents } from './oss-event.ts';
import { type Deadline, withRetry } from './retry.ts';
import type { StatusDocument, StatusError } from './status.ts';
import { isTerminal } from './status.ts';
import type { Notifier } from './webhooks.ts';

export type RegisterDeps = {
  config: Config;
  /** The bucket the triggers watch. */
  packages: ObjectStore;
  /** The bucket status documents and claims are written to (usually the same bucket). */
  statuses: ObjectStore;
  registry: AlgoLibRegistry;
  notifier: Notifier;
  log: Logger;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random?: () => number;
};

export type Invocation = {
  /** FC request id: the owner of any name claim this invocation takes. */
  requestId: string;
  /** When work must stop (the FC deadline minus the reserve for the status write and webhooks). */
  deadline: Deadline;
  /** When FC kills this invocation: a claim taken now is dead after this. */
  hardDeadline: number;
};

export type RegisterOutcome =
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'written' | 'unchanged'; status: StatusDocument };

type Pair = {
  bucket: string;
  packageKey: string;
  manifestKey: string;
  statusKey: string;
};

/** The last second before FC's timeout is nobody's: a request still running then would be cut off by the kill. */
const RESERVE_FOR_LAST_WRITE_MS = 1_000;

/** The pair an event belongs to, or why the event is not ours to act on. */
const classify = (config: Config, event: ObjectEvent): { pair: PairKeys } | { reason: string } => {
  if (event.key.startsWith(config.statusPrefix))
    return { reason: 'key is under the status prefix (written by the pipeline)' };
  if (!COMPLETING_EVENTS.has(event.eventName))
    return { reason: `event ${event.eventName} does not complete an object` };
  if (event.bucket !== config.bucket) return { reason: `bucket ${event.bucket} is not the configured bucket` };
  const pair = pairOf(event.key, config.packagePrefix);
  if (!pair) return { reason: 'key is not a package or manifest under the package prefix' };
  // With an empty package prefix a package can be named like a claim (`.claims/face/000000.tar.gz`): its status
  // document would land on the claim of `face` and block (or forge) that name.
  if (statusKeyOf(pair.packageKey, config.statusPrefix).startsWith(claimsPrefixOf(config.statusPrefix)))
    return { reason: 'its status document would fall among the name claims' };
  return { pair };
};

/**
 * Handles one object-created event: pairs it, and registers the pair when both halves are there.
 * Throws only when the invocation should fail so FC runs it again (time ran out on transient errors).
 *
 * @example
 * ```ts
 * for (const event of parseObjectEvents(buffer)) await registerObject(deps, event, { requestId, deadline, hardDeadline });
 * ```
 */
export const registerObject = async (
  deps: RegisterDeps,
  event: ObjectEvent,
  invocation: Invocation,
): Promise<RegisterOutcome> => {
  const { config } = deps;
  const classified = classify(config, event);
  if ('reason' in classified) {
    const { reason } = classified;
    deps.log.info('event.ignored', {
      key: event.key,
      bucket: event.bucket,
      eventName: event.eventName,
      outcome: 'ignored',
      reason,
    });
    return { outcome: 'ignored', reason };
  }
  const keys = classified.pair;
  const pair: Pair = { bucket: event.bucket, ...keys, statusKey: statusKeyOf(keys.packageKey, config.statusPrefix) };
  const log = deps.log.child({ key: event.key });
  // No OSS call may wait past the moment this invocation must have written its answer.
  const remainingMs = () => invocation.hardDeadline - RESERVE_FOR_LAST_WRITE_MS - deps.now();
  const bounded = {
    ...deps,
    packages: boundedBy(deps.packages, remainingMs, config.ossTimeoutMs),
    statuses: boundedBy(deps.statuses, remainingMs, config.ossTimeoutMs),
  };
  const run = new Registration(bounded, pair, invocation, log);
  return run.execute(keys.half);
};

export type PayloadResult = {
  key: string;
  outcome: RegisterOutcome['outcome'];
  state: StatusDocument['state'] | undefined;
};

/**
 * Handles one FC payload: every object event in it, each on its own. A payload that does not parse is logged and
 * dropped (it never will parse, so failing would only make FC retry it); if any event could not finish, the first
 * such error is thrown after all were tried, so FC delivers the payload again.
 *
 * @example
 * ```ts
 * const results = await registerPayload(deps, event, { requestId: context.requestId, deadline, hardDeadline });
 * ```
 */
export const registerPayload = async (
  deps: RegisterDeps,
  payload: Buffer,
  invocation: Invocation,
): Promise<PayloadResult[]> => {
  let events: ObjectEvent[];
  try {
    events = parseObjectEvents(payload);
  } catch (error) {
    if (!(error instanceof EventParseError)) throw error;
    deps.log.error('event.invalid', { outcome: 'ignored', error: error.message });
    return [];
  }
  const results: PayloadResult[] = [];
  let failure: unknown;
  for (const event of events) {
    try {
      const result = await registerObject(deps, event, invocation);
      results.push({
        key: event.key,
        outcome: result.outcome,
        state: 'status' in result ? result.status.state : undefined,
      });
    } catch (error) {
      deps.log.error('event.failed', { key: event.key, outcome: 'retry', error });
      failure ??= error;
    }
  }
  if (failure) throw failure;
  return results;
};

const base = (pair: Pair, now: number) => ({
  schemaVersion: 1 as const,
  package: { bucket: pair.bucket, key: pair.packageKey },
  manifest: { key: pair.manifestKey },
  errors: [] as StatusError[],
  updatedAt: new Date(now).toISOString(),
});

/** One registration attempt; a class only to keep the shared context out of every signature. */
class Registration {
  public constructor(
    private readonly deps: RegisterDeps,
    private readonly pair: Pair,
    private readonly invocation: Invocation,
    private readonly log: Logger,
  ) {}

  private retry<T>(
    what: string,
    operation: () => Promise<T>,
    deadline: Deadline = this.invocation.deadline,
  ): Promise<T> {
    return withRetry(operation, {
      policy: this.deps.config.retry,
      deadline,
      sleep: this.deps.sleep,
      ...(this.deps.random ? { random: this.deps.random } : {}),
      onRetry: (error, attempt, delayMs) =>
        this.log.warn(`${what}.retry`, {
          outcome: 'retrying',
          code: error.code,
          attempt,
          delayMs,
          error: error.message,
        }),
    });
  }

  public async execute(half: 'package' | 'manifest'): Promise<RegisterOutcome> {
    const { packages } = this.deps;
    const [manifestObject, packageInfo] = await Promise.all([
      this.retry('manifest.read', () => packages.getBytes(this.pair.manifestKey, MANIFEST_MAX_BYTES)),
      this.retry('package.head', () => packages.head(this.pair.packageKey)),
    ]);
    const own = half === 'package' ? packageInfo : manifestObject;
    if (!own) {
      this.log.info('event.ignored', { outcome: 'ignored', reason: 'the object no longer exists' });
      return { outcome: 'ignored', reason: 'the object no longer exists' };
    }
    if (!manifestObject || !packageInfo)
      return this.pending(manifestObject ? 'package' : 'manifest', packageInfo, manifestObject);

    const identity = {
      package: { bucket: this.pair.bucket, key: this.pair.packageKey, size: packageInfo.size, etag: packageInfo.etag },
      manifest: { key: this.pair.manifestKey, etag: manifestObject.etag },
    };
    if (manifestObject.size > MANIFEST_MAX_BYTES) {
      return this.reject(identity, undefined, [
        {
          code: 'MANIFEST_TOO_LARGE',
          message: `Expected the manifest to be at most ${MANIFEST_MAX_BYTES} bytes, got ${manifestObject.size}`,
        },
      ]);
    }
    const parsed = parseManifest(manifestObject.bytes);
    if (!parsed.ok) return this.reject(identity, undefined, parsed.errors);
    const manifest = parsed.manifest;
    const integrityErrors = await this.verifyPackage(manifest, packageInfo);
    if (integrityErrors.length > 0) return this.reject(identity, manifest, integrityErrors);
    this.log.info('package.verified', { outcome: 'ok', name: manifest.name, version: manifest.version });
    return this.register(manifest, identity, packageInfo);
  }

  /** One half is missing: say what we wait for, without ever overwriting a status another event wrote. */
  private async pending(
    waitingFor: 'package' | 'manifest',
    packageInfo: ObjectInfo | undefined,
    manifestObject: ObjectBytes | undefined,
  ): Promise<RegisterOutcome> {
    const status: StatusDocument = {
      ...base(this.pair, this.deps.now()),
      state: 'PENDING',
      waitingFor,
      package: {
        bucket: this.pair.bucket,
        key: this.pair.packageKey,
        ...(packageInfo ? { size: packageInfo.size, etag: packageInfo.etag } : {}),
      },
      manifest: { key: this.pair.manifestKey, ...(manifestObject ? { etag: manifestObject.etag } : {}) },
    };
    const written = await this.retry('status.write', () =>
      this.deps.statuses.putIfAbsent(this.pair.statusKey, JSON.stringify(status)),
    );
    this.log.info('status.pending', { outcome: written ? 'written' : 'exists', waitingFor });
    return { outcome: written ? 'written' : 'unchanged', status };
  }

  private async verifyPackage(manifest: Manifest, info: ObjectInfo): Promise<StatusError[]> {
    const expected = manifest.package;
    if (expected.size !== info.size) {
      return [
        {
          code: 'PACKAGE_SIZE_MISMATCH',
          path: 'package.size',
          message: `Expected the package to be ${expected.size} bytes as the manifest says, got ${info.size}`,
        },
      ];
    }
    if (expected.crc64 !== undefined && info.crc64 !== undefined) {
      if (expected.crc64 === info.crc64) return [];
      return [
        {
          code: 'PACKAGE_CHECKSUM_MISMATCH',
          path: 'package.crc64',
          message: `Expected the package's CRC-64 to be ${expected.crc64} as the manifest says, OSS reports ${info.crc64}`,
        },
      ];
    }
    if (expected.sha256 === undefined) {
      // OSS leaves out the CRC-64 of some multipart objects; without a SHA-256 there is nothing left to check against.
      return [
        {
          code: 'PACKAGE_CHECKSUM_MISMATCH',
          path: 'package.crc64',
          message:
            'Expected OSS to report a CRC-64 for the package, it reports none: add package.sha256 to the manifest',
        },
      ];
    }
    const digest = await this.retry('package.sha256', () => this.deps.packages.sha256(this.pair.packageKey));
    if (digest?.sha256 === expected.sha256) return [];
    return [
      {
        code: 'PACKAGE_CHECKSUM_MISMATCH',
        path: 'package.sha256',
        message: `Expected the package's SHA-256 to be ${expected.sha256} as the manifest says, got ${digest?.sha256 ?? 'no object'}`,
      },
    ];
  }

  private async register(manifest: Manifest, identity: Identity, info: ObjectInfo): Promise<RegisterOutcome> {
    const claim = await this.claim(manifest.name, identity);
    if (claim.kind === 'done') return this.replay(claim.status);
    if (claim.kind === 'conflict') {
      return this.finish({
        ...this.described(identity, manifest, info),
        state: 'CONFLICT',
        errors: [
          {
            code: 'NAME_CONFLICT',
            message: `Expected the name \`${manifest.name}\` to be free or ours, it is registered for ${claim.holder.bucket}/${claim.holder.key}`,
          },
        ],
      });
    }
    this.log.info('claim.acquired', { outcome: 'owner', name: manifest.name, generation: claim.generation });
    return this.createAlgoLib(manifest, identity, info);
  }

  /** Takes the name claim, waiting (within the deadline) while another invocation holds it. */
  private async claim(name: string, identity: Identity): Promise<Exclude<ClaimOutcome, { kind: 'busy' }>> {
    const { statuses, now, sleep } = this.deps;
    let fromGeneration = 0;
    // Bounded by the deadline: every pass either returns or sleeps at least `pollMs`.
    for (let pollMs = 250; ; pollMs = Math.min(pollMs * 2, 2000)) {
      const outcome = await this.retry('claim', () =>
        acquireNameClaim(
          statuses,
          {
            name,
            owner: this.invocation.requestId,
            package: { bucket: identity.package.bucket, key: identity.package.key, etag: identity.package.etag },
            manifest: { key: identity.manifest.key, etag: identity.manifest.etag },
            expiresAt: this.invocation.hardDeadline,
            statusPrefix: this.deps.config.statusPrefix,
            fromGeneration,
          },
          now,
        ),
      );
      if (outcome.kind !== 'busy') return outcome;
      fromGeneration = outcome.generation;
      this.log.info('claim.busy', {
        outcome: 'waiting',
        name,
        holderStatus: outcome.holderStatusKey,
        until: new Date(outcome.expiresAt).toISOString(),
      });
      if (this.invocation.deadline.remaining() < pollMs) {
        throw new DeadlineError(
          `Expected the claim on \`${name}\` to be released before the deadline; FC will run this event again`,
        );
      }
      await sleep(pollMs);
    }
  }

  private async createAlgoLib(manifest: Manifest, identity: Identity, info: ObjectInfo): Promise<RegisterOutcome> {
    const { config, registry } = this.deps;
    const params = {
      ...algoLibParameters(manifest),
      InstanceId: config.cityVisual.instanceId,
      RegionId: config.cityVisual.regionId,
      OssBucket: this.pair.bucket,
      OssPath: this.pair.packageKey,
      OssEndpoint: config.cityVisual.oss.endpoint,
      OssAccessKeyId: config.cityVisual.oss.accessKeyId,
      OssAccessKeySecret: config.cityVisual.oss.accessKeySecret,
    };
    const described = this.described(identity, manifest, info);
    try {
      const algoLibId = await this.retry('cityvisual.create', () =>
        registry.create(params, this.attemptTimeout(config.cityVisual.timeoutMs)),
      );
      this.log.info('cityvisual.created', { outcome: 'created', algoLibId });
      return this.finish({ ...described, state: 'REGISTERED', algoLibId, created: true });
    } catch (error) {
      if (error instanceof RemoteError && error.code === 'InvalidName.Duplicate')
        return this.resolveDuplicate(manifest, described);
      return this.failed(described, error);
    }
  }

  /** CreateAlgoLib said the name exists: ours from an earlier attempt (same version and path), or someone else's. */
  private async resolveDuplicate(manifest: Manifest, described: Described): Promise<RegisterOutcome> {
    const { registry, config } = this.deps;
    let existing: Awaited<ReturnType<AlgoLibRegistry['findByName']>>;
    try {
      existing = await this.retry('cityvisual.describe', () =>
        registry.findByName(manifest.name, this.attemptTimeout(config.cityVisual.timeoutMs)),
      );
    } catch (error) {
      return this.failed(described, error);
    }
    if (!existing) {
      // Deleted between the two calls: nothing to resolve against; the next run creates it afresh.
      return this.failed(
        described,
        new RemoteError(
          { service: 'cityvisual', code: 'InvalidName.Duplicate', retryable: true },
          'CityVisual reported the name as taken but DescribeAlgoLibs does not list it',
        ),
      );
    }
    const ours =
      existing.version === manifest.version &&
      existing.ossPath === this.pair.packageKey &&
      existing.ossBucket === this.pair.bucket;
    this.log.info('cityvisual.duplicate', { outcome: ours ? 'ours' : 'conflict', algoLibId: existing.algoLibId });
    if (ours) return this.finish({ ...described, state: 'REGISTERED', algoLibId: existing.algoLibId, created: false });
    return this.finish({
      ...described,
      state: 'CONFLICT',
      errors: [
        {
          code: 'NAME_CONFLICT',
          message: `Expected the name \`${manifest.name}\` to be free or ours, it is library ${existing.algoLibId} (version ${existing.version}, ${existing.ossBucket}/${existing.ossPath})`,
        },
      ],
    });
  }

  /** A permanent CityVisual error rejects the pair; transient ones that outlast the deadline fail the invocation. */
  private async failed(described: Described, error: unknown): Promise<RegisterOutcome> {
    const remote = error instanceof RemoteError ? error : undefined;
    const errors = [
      { code: remote?.code ?? 'InternalError', message: remote?.message ?? 'Unexpected error while registering' },
    ];
    if (remote && !remote.retryable) return this.finish({ ...described, state: 'REJECTED', errors });
    const result = await this.finish({ ...described, state: 'FAILED', errors });
    throw new DeadlineError(
      `Registration of ${this.pair.packageKey} did not finish: ${errors[0]?.message}; FC will run this event again`,
      {
        cause: { error, result },
      },
    );
  }

  private reject(identity: Identity, manifest: Manifest | undefined, errors: StatusError[]): Promise<RegisterOutcome> {
    this.log.info('pair.rejected', { outcome: 'rejected', codes: errors.map((error) => error.code) });
    return this.finishOnce({
      ...base(this.pair, this.deps.now()),
      ...identity,
      ...(manifest ? { name: manifest.name, version: manifest.version } : {}),
      state: 'REJECTED',
      errors,
    });
  }

  /** The status fields every outcome past verification shares. */
  private described(identity: Identity, manifest: Manifest, info: ObjectInfo): Described {
    return {
      ...base(this.pair, this.deps.now()),
      name: manifest.name,
      version: manifest.version,
      package: { ...identity.package, ...(info.crc64 ? { crc64: info.crc64 } : {}) },
      manifest: identity.manifest,
    };
  }

  private attemptTimeout(timeoutMs: number) {
    return Math.max(1, Math.min(timeoutMs, this.invocation.deadline.remaining()));
  }

  /** A rejection is deterministic: a duplicate delivery finds it already written and only completes its webhooks. */
  private async finishOnce(status: StatusDocument): Promise<RegisterOutcome> {
    const existing = await this.retry('status.read', () => readStatus(this.deps.statuses, this.pair.statusKey));
    if (
      existing &&
      existing.state === status.state &&
      existing.package.etag === status.package.etag &&
      existing.manifest.etag === status.manifest.etag
    ) {
      return this.replay(existing);
    }
    return this.finish(status);
  }

  /** A duplicate of a pair that already has its answer: no CityVisual call, only webhooks not yet delivered. */
  private async replay(status: StatusDocument): Promise<RegisterOutcome> {
    this.log.info('status.replayed', { outcome: 'unchanged', state: status.state, algoLibId: status.algoLibId });
    const notifications = await this.deps.notifier.notify(status, status.notifications, this.notifyDeadline());
    if (!notifications || sameRecords(notifications, status.notifications)) return { outcome: 'unchanged', status };
    const updated = { ...status, notifications };
    await this.write(updated);
    return { outcome: 'written', status: updated };
  }

  /** Writes the terminal status first (publishers waiting see it at once), then delivers webhooks and records them. */
  private async finish(status: StatusDocument): Promise<RegisterOutcome> {
    if (!isTerminal(status.state)) throw new Error(`Expected a terminal state, got ${status.state}`);
    await this.write(status);
    this.log.info('status.written', {
      outcome: status.state,
      algoLibId: status.algoLibId,
      created: status.created,
      codes: status.errors.map((error) => error.code),
    });
    const notifications = await this.deps.notifier.notify(status, undefined, this.notifyDeadline());
    if (!notifications) return { outcome: 'written', status };
    const updated = { ...status, notifications };
    await this.write(updated);
    return { outcome: 'written', status: updated };
  }

  /** Status writes may use the reserve kept back for them, up to a second before FC's own timeout. */
  private write(status: StatusDocument) {
    return this.retry(
      'status.write',
      () => this.deps.statuses.put(this.pair.statusKey, JSON.stringify(status)),
      this.reserveDeadline(),
    );
  }

  /** Webhooks may use the reserve too, but leave the final status write a second of its own. */
  private notifyDeadline(): Deadline {
    const at = this.invocation.hardDeadline - 2 * RESERVE_FOR_LAST_WRITE_MS;
    return { at, remaining: () => at - this.deps.now() };
  }

  private reserveDeadline(): Deadline {
    const at = this.invocation.hardDeadline - RESERVE_FOR_LAST_WRITE_MS;
    return { at, remaining: () => at - this.deps.now() };
  }
}

type Identity = {
  package: { bucket: string; key: string; size: number; etag: string };
  manifest: { key: string; etag: string };
};

type Described = Omit<StatusDocument, 'state'>;

const sameRecords = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
