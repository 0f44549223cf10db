/**
 * Name claims: at most one invocation at a time calls CreateAlgoLib for a library name.
 *
 * OSS offers create-if-absent (`x-oss-forbid-overwrite`), not compare-and-swap, so a claim is never rewritten:
 * generation 0 is `status/.claims/<name>/000000.json`, and an expired or released claim is replaced by writing the
 * next generation, which is exactly as atomic as the first claim. A claim names its owner (the FC request id), the
 * package it is for and a deadline (the owner's FC timeout, after which FC has killed it). Whether the holder is done
 * is read from the holder's status document, so finishing needs no extra write. CityVisual's own
 * `InvalidName.Duplicate` stays the backstop for the rare case two owners overlap (a paused clock, a lost write).
 */
import { claimKeyOf, statusKeyOf } from './keys.ts';
import type { ObjectStore } from './object-store.ts';
import type { StatusDocument } from './status.ts';
import { isTerminal } from './status.ts';

export type NameClaim = {
  schemaVersion: 1;
  name: string;
  owner: string;
  package: { bucket: string; key: string; etag: string };
  manifest: { key: string; etag: string };
  claimedAt: string;
  expiresAt: string;
};

export type ClaimOutcome =
  /** We hold generation `generation`: call CreateAlgoLib. */
  | { kind: 'owner'; generation: number }
  /** This pair already reached a final answer: replay it, call nothing. */
  | { kind: 'done'; status: StatusDocument }
  /** Another package registered the name. */
  | { kind: 'conflict'; holder: NameClaim['package'] }
  /** Someone else holds a live claim until `expiresAt`; wait for its status, then ask again from `generation`. */
  | { kind: 'busy'; generation: number; expiresAt: number; holderStatusKey: string };

export type ClaimRequest = {
  name: string;
  owner: string;
  package: NameClaim['package'];
  manifest: NameClaim['manifest'];
  expiresAt: number;
  statusPrefix: string;
  /** Start at this generation (after a wait) instead of 0. */
  fromGeneration?: number;
};

/** More generations than this for one name means something is badly wrong (each one is a failed registration). */
const MAX_GENERATIONS = 1000;

const readJson = async <T>(store: ObjectStore, key: string): Promise<T | undefined> => {
  const object = await store.getBytes(key, 64 * 1024);
  if (!object) return undefined;
  try {
    return JSON.parse(Buffer.from(object.bytes).toString('utf8')) as T;
  } catch {
    return undefined;
  }
};

/** Reads the status document at `key`, or `undefined` when there is none (or it is unreadable). */
export const readStatus = (store: ObjectStore, key: string) => readJson<StatusDocument>(store, key);

const samePair = (status: StatusDocument, request: ClaimRequest) =>
  status.package.etag === request.package.etag && status.manifest.etag === request.manifest.etag;

/**
 * Decides what a holder's status means for us: `undefined` means the holder is still at work (or crashed),
 * `'released'` means its attempt ended without taking the name, otherwise our outcome.
 */
const judgeHolder = (
  claim: NameClaim,
  holderStatus: StatusDocument | undefined,
  request: ClaimRequest,
): ClaimOutcome | 'released' | undefined => {
  if (!holderStatus || !isTerminal(holderStatus.state)) return undefined;
  const samePackage = claim.package.bucket === request.package.bucket && claim.package.key === request.package.key;
  if (holderStatus.state === 'REGISTERED') {
    return samePackage ? { kind: 'done', status: holderStatus } : { kind: 'conflict', holder: claim.package };
  }
  // The same pair was already rejected (bad manifest, bad package, name taken): that answer stands.
  if (samePackage && holderStatus.state !== 'FAILED' && samePair(holderStatus, request))
    return { kind: 'done', status: holderStatus };
  return 'released';
};

/**
 * Claims `request.name` for `request.owner`, or says why not.
 *
 * @example
 * ```ts
 * const outcome = await acquireNameClaim(statuses, { name: 'face', owner: context.requestId, package, manifest, expiresAt, statusPrefix: 'status/' }, Date.now);
 * if (outcome.kind === 'owner') await registry.create(params, timeoutMs);
 * ```
 */
export const acquireNameClaim = async (
  store: ObjectStore,
  request: ClaimRequest,
  now: () => number,
): Promise<ClaimOutcome> => {
  const body: NameClaim = {
    schemaVersion: 1,
    name: request.name,
    owner: request.owner,
    package: request.package,
    manifest: request.manifest,
    claimedAt: new Date(now()).toISOString(),
    expiresAt: new Date(request.expiresAt).toISOString(),
  };
  for (let generation = request.fromGeneration ?? 0; generation < MAX_GENERATIONS; generation += 1) {
    const key = claimKeyOf(request.name, generation, request.statusPrefix);
    if (await store.putIfAbsent(key, JSON.stringify(body))) return { kind: 'owner', generation };
    const claim = await readJson<NameClaim>(store, key);
    if (!claim) continue;
    const holderStatusKey = statusKeyOf(claim.package.key, request.statusPrefix);
    const verdict = judgeHolder(claim, await readStatus(store, holderStatusKey), request);
    // Our own claim: a write that answered with an error on the wire but landed, or FC retrying our request id after
    // the instance died. If that earlier run already reached the answer, keep it; otherwise carry on as the owner.
    if (claim.owner === request.owner)
      return verdict && verdict !== 'released' ? verdict : { kind: 'owner', generation };
    if (verdict === 'released') continue;
    if (verdict) return verdict;
    const expiresAt = Date.parse(claim.expiresAt);
    if (!(expiresAt > now())) continue;
    return { kind: 'busy', generation, expiresAt, holderStatusKey };
  }
  throw new Error(`Expected fewer than ${MAX_GENERATIONS} claim generations for \`${request.name}\``);
};
