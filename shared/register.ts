import { createHash } from 'node:crypto';
/**
 * The pipeline, as orchestration over ports: one object-created event in, one answer out.
 *
 * event → pair keys → manifest (capped read) ∥ package HEAD → verify (verify-upload.ts) → under the name's claim
 * (name-claim.ts): what CityVisual has → decide (release-decision.ts) → CreateAlgoLib | ModifyAlgoLib | nothing →
 * answer: status document, notifications, library record (all inside the claim, so duplicates wait instead of
 * sending again).
 */

import { type Budget, budgetOf } from './budget.ts';
import type { AlgoLib, AlgoLibRegistry } from './cityvisual.ts';
import type { Config } from './config.ts';
import { DeadlineError, EventParseError, RemoteError } from './errors.ts';
import { type PairKeys, pairOf, statusKeyOf } from './keys.ts';
import { type LibraryRecord, libraryRecordKeyOf, nextLibraryRecord, readLibraryRecord } from './library-record.ts';
import type { Logger } from './log.ts';
import { MANIFEST_MAX_BYTES, type Manifest } from './manifest.ts';
import { type ClaimContext, type ClaimedUpload, withNameClaim } from './name-claim.ts';
import { boundedBy, type ObjectBytes, type ObjectInfo, type ObjectStore } from './object-store.ts';
import { COMPLETING_EVENTS, type ObjectEvent, parseObjectEvents } from './oss-event.ts';
import { type Candidate, type Decision, decideRelease } from './release-decision.ts';
import { type Deadline, withRetry } from './retry.ts';
import { isTerminal, type StatusDocument, type StatusError } from './status.ts';
import { verifyUpload } from './verify-upload.ts';
import type { Notifier } from './webhooks.ts';

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

export type RegisterOutcome =
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'written' | 'unchanged'; status: StatusDocument };

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
    rawStatuses: deps.statuses,
    packages: boundedBy(deps.packages, remainingMs, config.ossTimeoutMs),
    statuses: boundedBy(deps.statuses, remainingMs, config.ossTimeoutMs),
    log: deps.log.child({ key: event.key }),
  };
  return new Registration(bounded, pair, invocation, event.eventTime).execute();
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
type Release = { manifest: Manifest; manifestSha256: string; candidate: Candidate; described: Described };

const sameRecords = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

const parseStatus = (object: ObjectBytes | undefined): StatusDocument | undefined => {
  if (!object) return undefined;
  try {
    return JSON.parse(Buffer.from(object.bytes).toString('utf8')) as StatusDocument;
  } catch {
    return undefined;
  }
};

/** One event's registration; a class only to keep the shared context out of every signature. */
class Registration {
  public constructor(
    private readonly deps: RegisterDeps & { log: Logger; rawStatuses?: ObjectStore },
    private readonly pair: Pair,
    private readonly invocation: Invocation,
    /** When OSS says the object was written: tells a re-upload of identical bytes from a duplicate delivery. */
    private readonly eventTime: string | undefined,
  ) {}

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
      return this.underClaim(lock, upload, undefined, (context) =>
        context.answered || context.interrupted
          ? this.replayOr(identity, () => this.answer(status))
          : this.answer(status),
      );
    }
    const { manifest, manifestSha256 } = verified;
    this.log.info('package.verified', { outcome: 'ok', name: manifest.name, version: manifest.version });
    const release: Release = {
      manifest,
      manifestSha256,
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
      this.deps.rawStatuses ?? this.deps.statuses,
      () => this.retry('status-bucket.versioning', () => this.deps.statuses.versioning()),
      this.deps.now,
    );
    if (versioning === undefined) return;
    const bucket = this.deps.config.statusBucket;
    const message = `Expected the status bucket ${bucket} to be unversioned: its versioning is ${versioning}, and OSS ignores x-oss-forbid-overwrite there, so name claims cannot hold; use a bucket that never had versioning (STATUS_BUCKET)`;
    this.log.error('status-bucket.versioned', { outcome: 'failed', bucket, versioning });
    await this.write({
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
   * before us.
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
        this.generation = context.generation;
        this.record = isName ? { name: lock, current: record } : undefined;
        return work(context, record);
      },
    );
  }

  private generation = 0;
  /** Uploads whose dead holders this one walked past while claiming (kept in the record until answered). */
  private abandoned: ClaimContext['abandoned'] = [];
  /** The answer on record is for identical bytes uploaded before this event: this upload is new, not unfinished. */
  private reuploaded = false;
  /** This upload reached CityVisual before (an earlier run, or this one), so a matching library may be our doing. */
  private attempted = false;
  /** The library record this unit of work keeps up to date (names only). */
  private record: { name: string; current: LibraryRecord | undefined; manifestSha256?: string } | undefined;

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
      record?.history.some(isThisUpload) ||
      record?.unfinished?.some(isThisUpload);
    this.abandoned = context.abandoned;
    let unfinished = false;
    if (triedBefore) {
      const replayed = await this.replayIfAnswered(described);
      if (replayed) return replayed;
      unfinished = !this.reuploaded;
    }
    // No final answer yet: whatever CityVisual now shows for this very upload may be our own unfinished work.
    this.attempted = unfinished;
    if (this.record) this.record.manifestSha256 = release.manifestSha256;
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
    for (let round = 0; round < 2; round += 1) {
      const decision = decideRelease(
        {
          library,
          record,
          currentManifestSha256: await this.currentManifestSha256(library, record, candidate.version),
          interrupted: this.attempted,
        },
        candidate,
        config.versionPolicy,
      );
      this.log.info('release.decided', {
        outcome: decision.action,
        ...('code' in decision ? { code: decision.code } : {}),
      });
      let status: StatusDocument | undefined;
      try {
        status = await this.carryOut(decision, release, timeout);
      } catch (error) {
        if (!(error instanceof RemoteError && error.code === 'InvalidName.Duplicate' && decision.action === 'create'))
          return this.failed(described, error);
      }
      if (status) return this.answer(status);
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

  /** The manifest digest of the upload that made the library's current version, from our record or its status. */
  private async currentManifestSha256(
    library: AlgoLib | undefined,
    record: LibraryRecord | undefined,
    version: string,
  ) {
    // Only a re-upload of the current version needs to know what made it.
    if (!library || library.version !== version) return undefined;
    if (record?.version === library.version && record.package?.key === library.location.path)
      return record.manifestSha256;
    if (library.location.bucket !== this.pair.bucket) return undefined;
    const status = parseStatus(
      await this.retry('status.read', () =>
        this.deps.statuses.getBytes(statusKeyOf(library.location.path, this.deps.config.statusPrefix), 256 * 1024),
      ),
    );
    return status?.state === 'REGISTERED' && status.version === library.version ? status.manifest.sha256 : undefined;
  }

  /** Makes CityVisual match the decision; resolves to the answer to write (errors are CityVisual's). */
  private async carryOut(decision: Decision, release: Release, timeout: () => number): Promise<StatusDocument> {
    const { registry } = this.deps;
    const { described, manifest } = release;
    const location = { bucket: this.pair.bucket, path: this.pair.packageKey };
    if (decision.action === 'create' || decision.action === 'update') this.attempted = true;
    switch (decision.action) {
      case 'create': {
        const algoLibId = await this.retry('cityvisual.create', () => registry.create(manifest, location, timeout()));
        this.log.info('cityvisual.created', { outcome: 'created', algoLibId });
        return { ...described, state: 'REGISTERED', algoLibId, created: true, change: 'created' };
      }
      case 'update': {
        await this.retry('cityvisual.update', () => registry.update(decision.algoLibId, manifest, location, timeout()));
        this.log.info('cityvisual.updated', {
          outcome: 'updated',
          algoLibId: decision.algoLibId,
          from: decision.previous.version,
        });
        return {
          ...described,
          state: 'REGISTERED',
          algoLibId: decision.algoLibId,
          created: false,
          change: 'updated',
          previous: decision.previous,
        };
      }
      case 'unchanged':
        return {
          ...described,
          state: 'REGISTERED',
          algoLibId: decision.algoLibId,
          created: false,
          change: 'unchanged',
        };
      case 'resumed':
        return {
          ...described,
          state: 'REGISTERED',
          algoLibId: decision.algoLibId,
          created: false,
          change: decision.change,
          ...(decision.previous ? { previous: decision.previous } : {}),
        };
      case 'conflict':
        return { ...described, state: 'CONFLICT', errors: [{ code: decision.code, message: decision.message }] };
    }
  }

  /** One half is missing: say what we wait for, replacing only an answer about an earlier upload of this key. */
  private async pending(
    packageInfo: ObjectInfo | undefined,
    manifestObject: ObjectBytes | undefined,
  ): Promise<RegisterOutcome> {
    const waitingFor = manifestObject ? 'package' : 'manifest';
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
      waitingFor,
    };
    const { statuses } = this.deps;
    let written = await this.retry('status.write', () =>
      statuses.putIfAbsent(this.pair.statusKey, JSON.stringify(status)),
    );
    if (!written) {
      // An answer is already there: keep it if it is about the half we have (the other half's event is completing
      // this very upload), replace it if it is about an earlier upload of this key.
      const existing = parseStatus(
        await this.retry('status.read', () => statuses.getBytes(this.pair.statusKey, 256 * 1024)),
      );
      const stale =
        existing !== undefined &&
        (packageInfo ? existing.package.etag !== packageInfo.etag : existing.manifest.etag !== manifestObject?.etag);
      if (stale) {
        await this.retry('status.write', () => statuses.put(this.pair.statusKey, JSON.stringify(status)));
        written = true;
      }
    }
    this.log.info('status.pending', { outcome: written ? 'written' : 'exists', waitingFor });
    return { outcome: written ? 'written' : 'unchanged', status };
  }

  /** A permanent CityVisual error rejects the pair; a deployment fault or time running out fails the invocation. */
  private async failed(described: Described, error: unknown): Promise<RegisterOutcome> {
    const remote = error instanceof RemoteError ? error : undefined;
    const errors = [
      { code: remote?.code ?? 'InternalError', message: remote?.message ?? 'Unexpected error while registering' },
    ];
    if (remote && !remote.retryable && !remote.deployment)
      return this.answer({ ...described, state: 'REJECTED', errors });
    // FC runs a FAILED event again, and each run that fails too answers FAILED again: the webhook of that outcome (one
    // id per upload and state) is sent once, not once per run.
    const before = parseStatus(
      await this.retry(
        'status.read',
        () => this.deps.statuses.getBytes(this.pair.statusKey, 256 * 1024),
        this.invocation.budget.lastWrite,
      ),
    );
    const again =
      before?.state === 'FAILED' &&
      before.package.etag === described.package.etag &&
      before.manifest.etag === described.manifest.etag;
    const result = await this.answer(
      { ...described, state: 'FAILED', errors },
      again ? before.notifications : undefined,
    );
    throw new DeadlineError(
      `Registration of ${this.pair.packageKey} did not finish: ${errors[0]?.message}; FC will run this event again`,
      { cause: { error, result } },
    );
  }

  /**
   * When this upload already has its final answer (an earlier holder finished it), delivers only what that holder
   * could not and returns it; `undefined` when there is no such answer (the work is to be done).
   */
  private async replayIfAnswered(described: Pick<Described, 'package' | 'manifest'>) {
    const existing = parseStatus(
      await this.retry('status.read', () => this.deps.statuses.getBytes(this.pair.statusKey, 256 * 1024)),
    );
    if (
      !existing ||
      !isTerminal(existing.state) ||
      existing.state === 'FAILED' ||
      existing.package.etag !== described.package.etag ||
      existing.manifest.etag !== described.manifest.etag
    )
      return undefined;
    if (this.uploadedAfter(existing)) {
      this.reuploaded = true;
      return undefined;
    }
    this.log.info('status.replayed', {
      outcome: 'answered before',
      state: existing.state,
      algoLibId: existing.algoLibId,
    });
    const notifications = await this.notify(existing, existing.notifications);
    if (!notifications || sameRecords(notifications, existing.notifications)) {
      await this.writeRecord(existing, true);
      return { outcome: 'unchanged' as const, status: existing };
    }
    const updated = { ...existing, notifications };
    await this.write(updated);
    await this.writeRecord(updated, true);
    return { outcome: 'written' as const, status: updated };
  }

  /**
   * Identical bytes uploaded again have the same ETags as the upload already answered; only the time tells them
   * apart: an event written after the answer is a new upload that deserves its own answer (`unchanged`).
   */
  private uploadedAfter(answer: StatusDocument): boolean {
    const uploaded = this.eventTime ? Date.parse(this.eventTime) : Number.NaN;
    return Number.isFinite(uploaded) && uploaded > Date.parse(answer.updatedAt);
  }

  private async replayOr(identity: Identity, otherwise: () => Promise<RegisterOutcome>) {
    return (await this.replayIfAnswered(identity)) ?? otherwise();
  }

  /**
   * The answer: the terminal status first (publishers waiting see it at once), then notifications and their record
   * in the status, then the library record. All of it inside the claim, so a duplicate delivery waits for it.
   */
  private async answer(status: StatusDocument, previous?: StatusDocument['notifications']): Promise<RegisterOutcome> {
    if (!isTerminal(status.state)) throw new Error(`Expected a terminal state, got ${status.state}`);
    await this.write(status);
    this.log.info('status.written', {
      outcome: status.state,
      algoLibId: status.algoLibId,
      change: status.change,
      codes: status.errors.map((error) => error.code),
    });
    const notifications = await this.notify(status, previous);
    const final = notifications ? { ...status, notifications } : status;
    if (notifications) await this.write(final);
    await this.writeRecord(final, false);
    return { outcome: 'written', status: final };
  }

  /** Notifies, except for an unchanged re-publish unless the deployment asks for those too. */
  private notify(status: StatusDocument, previous: StatusDocument['notifications']) {
    if (status.change === 'unchanged' && !this.deps.config.notifyUnchanged) return Promise.resolve(undefined);
    return this.deps.notifier.notify(status, previous, this.invocation.budget.notify);
  }

  /** Status writes may use the reserve kept back for them, up to a second before FC's own timeout. */
  private write(status: StatusDocument) {
    const { budget } = this.invocation;
    return this.retry(
      'status.write',
      () => this.deps.statuses.put(this.pair.statusKey, JSON.stringify(status)),
      budget.lastWrite,
    );
  }

  /** Appends the answer to the library record (names only); `skipIfRecorded` for a replay already in it. */
  private async writeRecord(status: StatusDocument, skipIfRecorded: boolean) {
    if (!this.record) return;
    const { current, name } = this.record;
    if (
      skipIfRecorded &&
      current?.history.some(
        (upload) =>
          upload.packageKey === status.package.key &&
          upload.packageEtag === status.package.etag &&
          upload.manifestEtag === status.manifest.etag &&
          upload.state === status.state,
      )
    )
      return;
    const next = nextLibraryRecord(current, status, {
      name,
      statusKey: this.pair.statusKey,
      generation: this.generation,
      manifestSha256: this.record.manifestSha256,
      abandoned: this.abandoned,
    });
    const key = libraryRecordKeyOf(name, this.deps.config.statusPrefix);
    await this.retry(
      'record.write',
      () => this.deps.statuses.put(key, JSON.stringify(next)),
      this.invocation.budget.lastWrite,
    );
  }
}
