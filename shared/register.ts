/**
 * The pipeline, as orchestration over ports: one object-created event in, one answer out.
 *
 * event → pair keys → manifest (capped read) ∥ package HEAD → verify (verify-upload.ts) → under the name's claim
 * (name-claim.ts): what CityVisual has → decide (release-decision.ts) → CreateAlgoLib | ModifyAlgoLib | nothing →
 * answer: status document, notifications, library record (all inside the claim, so duplicates wait instead of
 * sending again).
 */

import { createHash } from 'node:crypto';
import { type Budget, budgetOf } from './budget.ts';
import { type AlgoLib, type AlgoLibRegistry, sameFields } from './cityvisual.ts';
import type { Config } from './config.ts';
import { DeadlineError, EventParseError, RemoteError } from './errors.ts';
import { type PairKeys, pairOf, statusKeyOf } from './keys.ts';
import type { LibraryRecord } from './library-record.ts';
import type { Logger } from './log.ts';
import { MANIFEST_MAX_BYTES, type Manifest } from './manifest.ts';
import { type ClaimContext, type ClaimedUpload, withNameClaim } from './name-claim.ts';
import type { Notifier } from './notifier.ts';
import { boundedBy, type ObjectBytes, type ObjectInfo, type ObjectStore } from './object-store.ts';
import { COMPLETING_EVENTS, type ObjectEvent, parseObjectEvents } from './oss-event.ts';
import { createOutcomeWriter, type OutcomeWriter, type RegisterOutcome, readLibraryRecord } from './outcome.ts';
import { type Candidate, type Decision, decideRelease, ownedBy } from './release-decision.ts';
import { type Deadline, withRetry } from './retry.ts';
import type { StatusDocument, StatusError } from './status.ts';
import { verifyUpload } from './verify-upload.ts';

export type RegisterDeps = {
  config: Config;
  /** The bucket the triggers watch. */
  packages: ObjectStore;
  /** The bucket status documents, claims and library records are written to (usually the same bucket). */
  statuses: ObjectStore;
  registry: AlgoLibRegistry;
  notifier: Notifier;
  log: Logger;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random?: () => number;
};

export type Invocation = {
  /** FC request id: the owner of any claim this invocation takes. */
  requestId: string;
  budget: Budget;
};

/**
 * The invocation of an FC request that FC kills at `hardDeadline`.
 *
 * @example
 * ```ts
 * invocationOf(context.requestId, Date.now() + context.function.timeout * 1000, config, Date.now);
 * ```
 */
export const invocationOf = (
  requestId: string,
  hardDeadline: number,
  config: Pick<Config, 'deadlineReserveMs'>,
  now: () => number,
): Invocation => ({ requestId, budget: budgetOf(hardDeadline, config.deadlineReserveMs, now) });

/** How long an unversioned answer is trusted before the bucket is asked again (versioning can be turned on). */
const VERSIONING_TRUSTED_MS = 5 * 60_000;
const versioningSeen = new WeakMap<ObjectStore, number>();

/**
 * The status bucket's versioning, asked at most once per instance every few minutes while it is unversioned (the
 * answer is per bucket, not per event); a versioned answer is never cached, so fixing the bucket takes effect at once.
 */
const statusBucketVersioning = async (
  store: ObjectStore,
  ask: () => Promise<'Enabled' | 'Suspended' | undefined>,
  now: () => number,
) => {
  const seen = versioningSeen.get(store);
  if (seen !== undefined && now() - seen < VERSIONING_TRUSTED_MS) return undefined;
  const versioning = await ask();
  if (versioning === undefined) versioningSeen.set(store, now());
  return versioning;
};

export type { RegisterOutcome } from './outcome.ts';

type Pair = PairKeys & { bucket: string; statusKey: string };

/** The pair an event belongs to, or why the event is not ours to act on. */
const classify = (config: Config, event: ObjectEvent): { pair: PairKeys } | { reason: string } => {
  if (event.key.startsWith(config.statusPrefix))
    return { reason: 'key is under the status prefix (written by the pipeline)' };
  if (!COMPLETING_EVENTS.has(event.eventName))
    return { reason: `event ${event.eventName} does not complete an object` };
  if (event.bucket !== config.bucket) return { reason: `bucket ${event.bucket} is not the configured bucket` };
  const pair = pairOf(event.key, config.packagePrefix);
  if (!pair) return { reason: 'key is not a package or manifest under the package prefix' };
  // With an empty package prefix a package can be named like a claim or a record (`.claims/face/000000.tar.gz`):
  // its status document would land on what the pipeline keeps there and block (or forge) it.
  if (statusKeyOf(pair.packageKey, config.statusPrefix).startsWith(`${config.statusPrefix}.`))
    return { reason: 'its status document would fall among the name claims or library records' };
  return { pair };
};

/**
 * Handles one object-created event: pairs it, and registers the pair when both halves are there.
 * Throws only when the invocation should fail so FC runs it again (time ran out, or the deployment is at fault).
 *
 * @example
 * ```ts
 * for (const event of parseObjectEvents(buffer)) await registerObject(deps, event, invocation);
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
  const { budget } = invocation;
  // No OSS call may wait past the moment this invocation must have written its answer.
  const remainingMs = () => budget.lastWrite.remaining();
  const bounded = {
    ...deps,
    // The instance's own store (the bounded one is made per invocation): what the versioning answer is cached on.
    rawStatuses: deps.statuses,
    packages: boundedBy(deps.packages, remainingMs, config.ossTimeoutMs),
    statuses: boundedBy(deps.statuses, remainingMs, config.ossTimeoutMs),
    log: deps.log.child({ key: event.key }),
  };
  return new Registration(bounded, pair, invocation).execute();
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
 * const results = await registerPayload(deps, event, invocationOf(context.requestId, hardDeadline, config, Date.now));
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

/** The status fields every answer about this pair shares. */
type Identity = Pick<StatusDocument, 'package' | 'manifest'>;

/** The answer under construction: everything but what the decision adds. */
type Described = Omit<StatusDocument, 'state'>;

/** A verified upload and what the status document says of it. */
type Release = {
  manifest: Manifest;
  manifestSha256: string;
  candidate: Candidate;
  described: Described;
  /** When OSS says the later half was written. */
  uploadedAt: number | undefined;
};

/** The later of two Last-Modified times, when both are known. */
const latest = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : Math.max(a, b);

/** One event's registration; a class only to keep the shared context out of every signature. */
class Registration {
  private readonly outcomes: OutcomeWriter;

  public constructor(
    private readonly deps: RegisterDeps & { log: Logger; rawStatuses: ObjectStore },
    private readonly pair: Pair,
    private readonly invocation: Invocation,
  ) {
    this.outcomes = createOutcomeWriter({
      statuses: deps.statuses,
      notifier: deps.notifier,
      config: deps.config,
      budget: invocation.budget,
      log: deps.log,
      statusKey: pair.statusKey,
      retry: (what, operation, deadline) => this.retry(what, operation, deadline),
    });
  }

  private get log() {
    return this.deps.log;
  }

  private retry<T>(what: string, operation: () => Promise<T>, deadline: Deadline = this.invocation.budget.work) {
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

  public async execute(): Promise<RegisterOutcome> {
    const { packages } = this.deps;
    const { packageKey, manifestKey } = this.pair;
    const [manifestObject, packageInfo] = await Promise.all([
      this.retry('manifest.read', () => packages.getBytes(manifestKey, MANIFEST_MAX_BYTES)),
      this.retry('package.head', () => packages.head(packageKey)),
    ]);
    const own = this.pair.half === 'package' ? packageInfo : manifestObject;
    if (!own) {
      this.log.info('event.ignored', { outcome: 'ignored', reason: 'the object no longer exists' });
      return { outcome: 'ignored', reason: 'the object no longer exists' };
    }
    if (!manifestObject || !packageInfo) return this.pending(packageInfo, manifestObject);

    const identity: Identity = {
      package: { bucket: this.pair.bucket, key: packageKey, size: packageInfo.size, etag: packageInfo.etag },
      manifest: { key: manifestKey, etag: manifestObject.etag },
    };
    const upload: ClaimedUpload = {
      bucket: this.pair.bucket,
      key: packageKey,
      etag: packageInfo.etag,
      manifestKey,
      manifestEtag: manifestObject.etag,
    };
    const verified = await verifyUpload(manifestObject, packageInfo, () =>
      this.retry('package.digest', () => packages.digest(packageKey)),
    );
    await this.refuseVersionedStatusBucket(identity);
    if (!verified.ok) {
      this.log.info('pair.rejected', { outcome: 'rejected', codes: verified.errors.map((error) => error.code) });
      const { manifest } = verified;
      const status: StatusDocument = {
        ...this.base(identity),
        ...(manifest ? { name: manifest.name, version: manifest.version } : {}),
        state: 'REJECTED',
        errors: verified.errors,
      };
      // No name to hold (or none worth holding for a bad package): the package key is the lock.
      const lock = `.key-${createHash('sha256').update(this.pair.statusKey).digest('hex').slice(0, 32)}`;
      return this.underClaim(lock, upload, undefined, async (context) => {
        const uploadedAt = latest(packageInfo.lastModified, manifestObject.lastModified);
        const replayed =
          context.answered || context.interrupted
            ? await this.outcomes.replayIfAnswered(identity, uploadedAt)
            : undefined;
        return typeof replayed === 'object' ? replayed : this.outcomes.answer(status);
      });
    }
    const { manifest, manifestSha256 } = verified;
    this.log.info('package.verified', { outcome: 'ok', name: manifest.name, version: manifest.version });
    const release: Release = {
      manifest,
      manifestSha256,
      uploadedAt: latest(packageInfo.lastModified, manifestObject.lastModified),
      candidate: {
        name: manifest.name,
        version: manifest.version,
        bucket: this.pair.bucket,
        packageKey,
        manifestSha256,
      },
      described: {
        ...this.base(identity),
        name: manifest.name,
        version: manifest.version,
        package: { ...identity.package, ...(verified.crc64 ? { crc64: verified.crc64 } : {}) },
        manifest: { ...identity.manifest, sha256: manifestSha256 },
      },
    };
    const hint = await this.retry('record.read', () =>
      readLibraryRecord(this.deps.statuses, manifest.name, this.deps.config.statusPrefix),
    );
    return this.underClaim(manifest.name, upload, hint, (context, record) =>
      this.decideAndRegister(release, context, record),
    );
  }

  /**
   * OSS ignores `x-oss-forbid-overwrite` in a bucket whose versioning is Enabled or Suspended (PutObject reference),
   * so a claim there would always "succeed": refuse to claim, as a deployment fault (FAILED, FC retries).
   */
  private async refuseVersionedStatusBucket(identity: Identity) {
    const versioning = await statusBucketVersioning(
      this.deps.rawStatuses,
      () => this.retry('status-bucket.versioning', () => this.deps.statuses.versioning()),
      this.deps.now,
    );
    if (versioning === undefined) return;
    const bucket = this.deps.config.statusBucket;
    const message = `Expected the status bucket ${bucket} to be unversioned: its versioning is ${versioning}, and OSS ignores x-oss-forbid-overwrite there, so name claims cannot hold; use a bucket that never had versioning (STATUS_BUCKET)`;
    this.log.error('status-bucket.versioned', { outcome: 'failed', bucket, versioning });
    await this.outcomes.writeOnly({
      ...this.base(identity),
      state: 'FAILED',
      errors: [{ code: 'STATUS_BUCKET_VERSIONED', message }],
    });
    throw new DeadlineError(`${message}; FC will run this event again`);
  }

  private base(identity: Identity): Described {
    return {
      schemaVersion: 1,
      ...identity,
      errors: [] as StatusError[],
      updatedAt: new Date(this.deps.now()).toISOString(),
    };
  }

  /**
   * Runs `work` under the claim on `lock`. For a library name, `hint` (the record read before claiming) says where
   * the claims continue; under the claim the record is read again unless the hint was written by the holder just
   * before us, and the outcome writer keeps it up to date.
   */
  private async underClaim(
    lock: string,
    upload: ClaimedUpload,
    hint: LibraryRecord | undefined,
    work: (context: ClaimContext, record: LibraryRecord | undefined) => Promise<RegisterOutcome>,
  ): Promise<RegisterOutcome> {
    const { statuses, config, now, sleep } = this.deps;
    const isName = !lock.startsWith('.');
    return withNameClaim(
      {
        store: statuses,
        now,
        sleep,
        budget: this.invocation.budget,
        call: (what, operation) => this.retry(what, operation, this.invocation.budget.lastWrite),
        onBusy: (holder, generation) =>
          this.log.info('claim.busy', {
            outcome: 'waiting (expected: another invocation holds the name)',
            name: lock,
            generation,
            holder: holder.upload.key,
            until: holder.expiresAt,
          }),
      },
      {
        name: lock,
        owner: this.invocation.requestId,
        upload,
        statusPrefix: config.statusPrefix,
        fromGeneration: hint ? hint.generation + 1 : 0,
      },
      async (context) => {
        this.log.info('claim.acquired', { outcome: 'holder', name: lock, generation: context.generation });
        const record =
          !isName || (hint?.generation ?? -1) === context.generation - 1
            ? hint
            : await this.retry('record.read', () => readLibraryRecord(statuses, lock, config.statusPrefix));
        if (isName) {
          this.outcomes.keepRecord({
            name: lock,
            current: record,
            generation: context.generation,
            abandoned: context.abandoned,
          });
        }
        return work(context, record);
      },
    );
  }

  /** The decision and its CityVisual call, for a verified upload, under the name's claim. */
  private async decideAndRegister(
    release: Release,
    context: ClaimContext,
    record: LibraryRecord | undefined,
  ): Promise<RegisterOutcome> {
    const { candidate, described } = release;
    // Tried before: an earlier holder of this upload (finished or not), an answer to it in the record, or a dead
    // holder of it that a later holder saw.
    const isThisUpload = (upload: { packageKey: string; packageEtag?: string; manifestEtag?: string }) =>
      upload.packageKey === candidate.packageKey &&
      upload.packageEtag === described.package.etag &&
      upload.manifestEtag === described.manifest.etag;
    const triedBefore =
      context.answered ||
      context.interrupted ||
      record?.history.some(isThisUpload) === true ||
      record?.unfinished?.some(isThisUpload) === true;
    // Without a final answer, whatever CityVisual now shows for this very upload may be our own unfinished work
    // (unless the answer on record is for identical bytes uploaded before this event: then this upload is new).
    let attempted = false;
    if (triedBefore) {
      const replayed = await this.outcomes.replayIfAnswered(described, release.uploadedAt);
      if (typeof replayed === 'object') return replayed;
      attempted = replayed !== 'reuploaded';
    }
    const timeout = () =>
      this.invocation.budget.callTimeout(this.deps.config.cityVisual.timeoutMs, this.invocation.budget.work);
    const { registry, config } = this.deps;
    // Without a record of the name, CreateAlgoLib itself says whether the name is taken (InvalidName.Duplicate):
    // a first release costs no DescribeAlgoLibs. With one, CityVisual's current state is read first.
    let library: AlgoLib | undefined;
    try {
      library = record
        ? await this.retry('cityvisual.describe', () => registry.find(candidate.name, timeout()))
        : undefined;
    } catch (error) {
      return this.failed(described, error);
    }
    // CityVisual is the truth: a record behind the library it owns (a holder that answered but died before writing
    // the record) is brought up to what CityVisual has before this answer is appended to it.
    if (library && record && ownedBy(library, record, candidate) && record.version !== library.version) {
      const { manifestSha256: _stale, ...rest } = record;
      this.outcomes.keepRecord({
        name: candidate.name,
        current: {
          ...rest,
          algoLibId: library.algoLibId,
          version: library.version,
          package: { bucket: library.location.bucket, key: library.location.path },
        },
        generation: context.generation,
        abandoned: context.abandoned,
      });
    }
    for (let round = 0; round < 2; round += 1) {
      const current = await this.currentAnswer(library, record, candidate.version);
      const decision = decideRelease(
        {
          library,
          record,
          currentManifestSha256: current.manifestSha256,
          currentAnswered: current.answered,
          interrupted: attempted,
          sameFields: library !== undefined && sameFields(library, release.manifest),
        },
        candidate,
        config.versionPolicy,
      );
      this.log.info('release.decided', {
        outcome: decision.action,
        ...('code' in decision ? { code: decision.code } : {}),
      });
      // From the first create or update on, a library that matches this upload may be this run's own doing.
      if (decision.action === 'create' || decision.action === 'update') attempted = true;
      let status: StatusDocument | undefined;
      try {
        status = await this.carryOut(decision, release, timeout);
      } catch (error) {
        if (!(error instanceof RemoteError && error.code === 'InvalidName.Duplicate' && decision.action === 'create'))
          return this.failed(described, error);
      }
      if (status) return this.outcomes.answer(status);
      // The name exists after all (our earlier attempt, or someone else): decide again against what it is.
      try {
        library = await this.retry('cityvisual.describe', () => registry.find(candidate.name, timeout()));
      } catch (error) {
        return this.failed(described, error);
      }
      if (!library) break;
    }
    // Deleted between the two calls: nothing to resolve against; the next run creates it afresh.
    return this.failed(
      described,
      new RemoteError(
        { service: 'cityvisual', code: 'InvalidName.Duplicate', retryable: true },
        'CityVisual reported the name as taken but DescribeAlgoLibs does not list it',
      ),
    );
  }

  /**
   * Whether an answer (our record, or the REGISTERED status at the library's path) names the upload that made the
   * library's current version, and that upload's manifest digest when the answer has one (statuses of 0.1.0 have none).
   */
  private async currentAnswer(
    library: AlgoLib | undefined,
    record: LibraryRecord | undefined,
    version: string,
  ): Promise<{ answered: boolean; manifestSha256: string | undefined }> {
    const none = { answered: false, manifestSha256: undefined };
    // Only a re-upload of the current version needs to know what made it.
    if (!library || library.version !== version) return none;
    // A record brought up to CityVisual (no digest) answered no one: the status at the library's path may have.
    if (
      record?.version === library.version &&
      record.package?.key === library.location.path &&
      record.manifestSha256 !== undefined
    )
      return { answered: true, manifestSha256: record.manifestSha256 };
    if (library.location.bucket !== this.pair.bucket) return none;
    const status = await this.outcomes.statusOf(statusKeyOf(library.location.path, this.deps.config.statusPrefix));
    return status?.state === 'REGISTERED' && status.version === library.version
      ? { answered: true, manifestSha256: status.manifest.sha256 }
      : none;
  }

  /** Makes CityVisual match the decision; resolves to the answer to write (errors are CityVisual's). */
  private async carryOut(decision: Decision, release: Release, timeout: () => number): Promise<StatusDocument> {
    const { registry } = this.deps;
    const { described, manifest } = release;
    const location = { bucket: this.pair.bucket, path: this.pair.packageKey };
    const registered = (algoLibId: string, change: 'created' | 'updated' | 'unchanged'): StatusDocument => ({
      ...described,
      state: 'REGISTERED',
      algoLibId,
      created: change === 'created' && decision.action === 'create',
      change,
    });
    switch (decision.action) {
      case 'create': {
        const algoLibId = await this.retry('cityvisual.create', () => registry.create(manifest, location, timeout()));
        this.log.info('cityvisual.created', { outcome: 'created', algoLibId });
        return registered(algoLibId, 'created');
      }
      case 'update': {
        await this.retry('cityvisual.update', () => registry.update(decision.algoLibId, manifest, location, timeout()));
        this.log.info('cityvisual.updated', {
          outcome: 'updated',
          algoLibId: decision.algoLibId,
          from: decision.previous.version,
        });
        return { ...registered(decision.algoLibId, 'updated'), previous: decision.previous };
      }
      case 'unchanged':
        return registered(decision.algoLibId, 'unchanged');
      case 'resumed':
        return {
          ...registered(decision.algoLibId, decision.change),
          ...(decision.previous ? { previous: decision.previous } : {}),
        };
      case 'conflict':
        return { ...described, state: 'CONFLICT', errors: [{ code: decision.code, message: decision.message }] };
    }
  }

  /** One half is missing: say what we wait for. */
  private pending(packageInfo: ObjectInfo | undefined, manifestObject: ObjectBytes | undefined) {
    const status: StatusDocument = {
      ...this.base({
        package: {
          bucket: this.pair.bucket,
          key: this.pair.packageKey,
          ...(packageInfo ? { size: packageInfo.size, etag: packageInfo.etag } : {}),
        },
        manifest: { key: this.pair.manifestKey, ...(manifestObject ? { etag: manifestObject.etag } : {}) },
      }),
      state: 'PENDING',
      waitingFor: manifestObject ? 'package' : 'manifest',
    };
    return this.outcomes.pending(status, manifestObject ? 'manifest' : 'package');
  }

  /** A permanent CityVisual error rejects the pair; a deployment fault or time running out fails the invocation. */
  private async failed(described: Described, error: unknown): Promise<RegisterOutcome> {
    const remote = error instanceof RemoteError ? error : undefined;
    const errors = [
      { code: remote?.code ?? 'InternalError', message: remote?.message ?? 'Unexpected error while registering' },
    ];
    if (remote && !remote.retryable && !remote.deployment)
      return this.outcomes.answer({ ...described, state: 'REJECTED', errors });
    const result = await this.outcomes.answerFailed({ ...described, state: 'FAILED', errors });
    throw new DeadlineError(
      `Registration of ${this.pair.packageKey} did not finish: ${errors[0]?.message}; FC will run this event again`,
      { cause: { error, result } },
    );
  }
}
