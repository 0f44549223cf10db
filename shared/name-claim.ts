/**
 * The claim: one mechanism that runs a unit of work under a lock on a name (a library name, or a package key for
 * answers given before a name is known), so of any number of concurrent or repeated deliveries one works at a time
 * and the rest wait for it.
 *
 * OSS offers create-if-absent (`x-oss-forbid-overwrite`), not compare-and-swap, so a claim is never rewritten:
 * generation 0 is `status/.claims/<lock>/000000.json`; its holder releases it by writing `000000.released.json`
 * when its unit of work is over (answer, webhooks and records written), and the next holder writes generation 1,
 * exactly as atomic as the first. A claim carries its owner's FC deadline; a claim past it belongs to a dead
 * invocation and is skipped the same way. CityVisual's own `InvalidName.Duplicate` stays the backstop for the rare
 * case two holders overlap (a paused clock, a lost write).
 */
import type { Budget } from './budget.ts';
import { DeadlineError } from './errors.ts';
import { claimKeyOf } from './keys.ts';
import type { ObjectStore } from './object-store.ts';

/** The upload a claim is taken for: a package and its manifest, each as one upload (ETag). */
export type ClaimedUpload = { bucket: string; key: string; etag: string; manifestKey: string; manifestEtag: string };

export type NameClaim = {
  schemaVersion: 1;
  /** The library name (or `.key-…` for a package key). */
  name: string;
  /** FC request id of the holder. */
  owner: string;
  upload: ClaimedUpload;
  claimedAt: string;
  expiresAt: string;
};

/** What the unit of work is told about earlier holders. */
export type ClaimContext = {
  generation: number;
  /** An earlier holder worked on this very upload and did not finish (it died, or FC re-ran our request id). */
  interrupted: boolean;
  /** An earlier holder worked on this very upload and finished: its answer is already written. */
  answered: boolean;
  /** Other uploads whose holders died (their claims expired unreleased): their CityVisual call may have landed. */
  abandoned: ClaimedUpload[];
};

export type ClaimRequest = {
  name: string;
  owner: string;
  upload: ClaimedUpload;
  statusPrefix: string;
  /** Where to start looking (the generation after the last one known released): claims are never deleted. */
  fromGeneration?: number;
};

export type ClaimDeps = {
  store: ObjectStore;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  budget: Budget;
  /** Wraps each OSS call (retries; logging). */
  call: <T>(what: string, operation: () => Promise<T>) => Promise<T>;
  /** Told when a live holder makes us wait. */
  onBusy?: (holder: NameClaim, generation: number) => void;
};

/** More generations than this for one name means something is badly wrong. */
const MAX_GENERATIONS = 100_000;
const FIRST_POLL_MS = 100;
const MAX_POLL_MS = 1_000;

const parse = (bytes: Uint8Array | undefined): NameClaim | undefined => {
  if (!bytes) return undefined;
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as NameClaim;
  } catch {
    return undefined;
  }
};

const sameUpload = (a: ClaimedUpload, b: ClaimedUpload) =>
  a.bucket === b.bucket &&
  a.key === b.key &&
  a.etag === b.etag &&
  a.manifestKey === b.manifestKey &&
  a.manifestEtag === b.manifestEtag;

/** `status/.claims/face/000003.json` → `status/.claims/face/000003.released.json` */
export const releaseKeyOf = (claimKey: string): string => claimKey.replace(/\.json$/, '.released.json');

/**
 * Runs `work` while holding the claim on `request.name`, waiting (within the budget's work phase) while a live
 * invocation holds it, and releases the claim once `work` has written its answer. Throws `DeadlineError` when the
 * holder outlives our budget (FC runs the event again).
 *
 * @example
 * ```ts
 * const status = await withNameClaim(claimDeps, { name: 'face', owner: context.requestId, upload, statusPrefix: 'status/' },
 *   async ({ interrupted }) => registerUnderClaim(interrupted));
 * ```
 */
export const withNameClaim = async <T>(
  deps: ClaimDeps,
  request: ClaimRequest,
  work: (context: ClaimContext) => Promise<T>,
): Promise<T> => {
  const { store, now, budget, call } = deps;
  const body = (): NameClaim => ({
    schemaVersion: 1,
    name: request.name,
    owner: request.owner,
    upload: request.upload,
    claimedAt: new Date(now()).toISOString(),
    expiresAt: new Date(budget.hardDeadline).toISOString(),
  });
  let interrupted = false;
  let answered = false;
  const abandoned: ClaimedUpload[] = [];
  let pollMs = FIRST_POLL_MS;
  for (let generation = request.fromGeneration ?? 0; generation < MAX_GENERATIONS; ) {
    const key = claimKeyOf(request.name, generation, request.statusPrefix);
    const written = await call('claim.write', () => store.putIfAbsent(key, JSON.stringify(body())));
    const claim = written ? undefined : parse((await call('claim.read', () => store.getBytes(key, 64 * 1024)))?.bytes);
    if (claim?.owner === request.owner) {
      // Our own claim: FC re-running our request id after the instance died, or a write that answered with an error
      // on the wire but landed. Never carried on in place: another invocation may already be walking past it as
      // expired, and two holders would act at once. It is released (so nobody waits for it to expire) and the next
      // generation taken, which is as atomic as any claim.
      interrupted = true;
      await release(deps, key);
      generation += 1;
      pollMs = FIRST_POLL_MS;
      continue;
    }
    if (written) {
      let result: T;
      try {
        result = await work({ generation, interrupted, answered, abandoned });
      } catch (error) {
        // A DeadlineError comes after the answer (FAILED) was written: FC runs the event again, and the next holder
        // may start at once. Anything else may have left work half done: the claim stays until it expires.
        if (error instanceof DeadlineError) await release(deps, key);
        throw error;
      }
      await release(deps, key);
      return result;
    }
    const released =
      claim === undefined || (await call('claim.read', () => store.getBytes(releaseKeyOf(key), 1024))) !== undefined;
    const expired = claim !== undefined && !(Date.parse(claim.expiresAt) > now());
    if (claim && sameUpload(claim.upload, request.upload)) {
      if (released) answered = true;
      else if (expired) interrupted = true;
    } else if (claim && expired && !released) abandoned.push(claim.upload);
    if (released || expired) {
      generation += 1;
      pollMs = FIRST_POLL_MS;
      continue;
    }
    deps.onBusy?.(claim, generation);
    if (budget.work.remaining() < pollMs) {
      throw new DeadlineError(
        `Expected the claim on \`${request.name}\` to be released before the deadline; FC will run this event again`,
      );
    }
    await deps.sleep(pollMs);
    pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
  }
  throw new Error(`Expected fewer than ${MAX_GENERATIONS} claim generations for \`${request.name}\``);
};

/** Releases a claim; a release that cannot be written only makes the next holder wait for the claim's expiry. */
const release = async (deps: ClaimDeps, key: string) => {
  try {
    await deps.call('claim.release', () => deps.store.putIfAbsent(releaseKeyOf(key), '{}'));
  } catch {
    // Logged by `call`; the claim expires at the holder's FC deadline.
  }
};
