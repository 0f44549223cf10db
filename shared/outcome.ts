/**
 * The outcome writer: the one place an answer is written. A terminal status first (publishers waiting see it at
 * once), then the notifications and their record in the status, then the library record (names only) — all inside
 * the claim, so a duplicate delivery waits for it instead of notifying again. Also the PENDING note of a half-pair,
 * and the replay of an answer an earlier holder already wrote.
 */
import type { Budget } from './budget.ts';
import type { Config } from './config.ts';
import { DeadlineError } from './errors.ts';
import { type LibraryRecord, libraryRecordKeyOf, nextLibraryRecord } from './library-record.ts';
import type { Logger } from './log.ts';
import type { ClaimedUpload } from './name-claim.ts';
import type { Notifier } from './notifier.ts';
import type { ObjectBytes, ObjectStore } from './object-store.ts';
import type { Deadline } from './retry.ts';
import { isTerminal, type StatusDocument } from './status.ts';

export type RegisterOutcome =
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'written' | 'unchanged'; status: StatusDocument };

/** The library record kept by this unit of work (names only), and what it adds to it. */
export type RecordKeeping = {
  name: string;
  current: LibraryRecord | undefined;
  generation: number;
  abandoned: readonly ClaimedUpload[];
};

export type OutcomeWriterDeps = {
  statuses: ObjectStore;
  notifier: Notifier;
  config: Pick<Config, 'notifyUnchanged' | 'statusPrefix'>;
  budget: Budget;
  log: Logger;
  /** The status document of the pair. */
  statusKey: string;
  /** Wraps each call in the one retry policy, bounded by `deadline`. */
  retry: <T>(what: string, operation: () => Promise<T>, deadline?: Deadline) => Promise<T>;
};

/** Which upload an answer is for. */
type Identity = Pick<StatusDocument, 'package' | 'manifest'>;

const STATUS_READ_BYTES = 256 * 1024;

const parseStatus = (object: ObjectBytes | undefined): StatusDocument | undefined => {
  if (!object) return undefined;
  try {
    return JSON.parse(Buffer.from(object.bytes).toString('utf8')) as StatusDocument;
  } catch {
    return undefined;
  }
};

const sameRecords = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

const sameUpload = (a: Identity, b: Identity) =>
  a.package.key === b.package.key && a.package.etag === b.package.etag && a.manifest.etag === b.manifest.etag;

/**
 * The writer of one pair's answers.
 *
 * @example
 * ```ts
 * const outcomes = createOutcomeWriter({ statuses, notifier, config, budget, log, statusKey, retry });
 * outcomes.keepRecord({ name: 'face', current: record, generation: 3, abandoned: [] });
 * await outcomes.answer({ ...described, state: 'REGISTERED', algoLibId: '36', change: 'created' });
 * ```
 */
export const createOutcomeWriter = (deps: OutcomeWriterDeps) => {
  const { statuses, statusKey, retry, budget, log } = deps;
  let keeping: RecordKeeping | undefined;

  /** Status writes may use the reserve kept back for them, up to a second before FC's own timeout. */
  /**
   * Past the last-write deadline FC has killed this invocation, or should have: its claim has expired and another
   * holder may be at work, so nothing more is written (a late write would put back an older answer or record).
   */
  const stillOurs = (what: string) => {
    if (budget.lastWrite.remaining() <= 0)
      throw new DeadlineError(`Expected to write the ${what} before the invocation's deadline; FC will run it again`);
  };

  const write = (status: StatusDocument) => {
    stillOurs('status');
    return retry('status.write', () => statuses.put(statusKey, JSON.stringify(status)), budget.lastWrite);
  };

  const read = async (deadline: Deadline = budget.work) =>
    parseStatus(await retry('status.read', () => statuses.getBytes(statusKey, STATUS_READ_BYTES), deadline));

  /** Notifies, except for an unchanged re-publish unless the deployment asks for those too. */
  const notify = (status: StatusDocument, previous: StatusDocument['notifications']) => {
    if (status.change === 'unchanged' && !deps.config.notifyUnchanged) return Promise.resolve(undefined);
    return deps.notifier.notify(status, previous, budget.notify);
  };

  /** Appends the answer to the library record (names only); `skipIfRecorded` for a replay already in it. */
  const writeRecord = async (status: StatusDocument, skipIfRecorded: boolean) => {
    if (!keeping) return;
    const { current, name } = keeping;
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
      statusKey,
      generation: keeping.generation,
      abandoned: keeping.abandoned,
    });
    const key = libraryRecordKeyOf(name, deps.config.statusPrefix);
    stillOurs('library record');
    await retry('record.write', () => statuses.put(key, JSON.stringify(next)), budget.lastWrite);
  };

  /**
   * Identical bytes uploaded again have the same ETags as the upload already answered; only the time tells them
   * apart: objects OSS says were written after the answer are a new upload that deserves its own answer
   * (`unchanged`). Last-Modified is to the second, so an upload in the same second as the answer reads as the
   * duplicate it most likely is. (An event's own `eventTime` is not used: a re-delivery may carry a later one.)
   */
  const uploadedAfter = (answer: StatusDocument, uploadedAt: number | undefined): boolean =>
    uploadedAt !== undefined && uploadedAt > Date.parse(answer.updatedAt);

  const answer = async (status: StatusDocument, previous?: StatusDocument['notifications']) => {
    if (!isTerminal(status.state)) throw new Error(`Expected a terminal state, got ${status.state}`);
    await write(status);
    log.info('status.written', {
      outcome: status.state,
      algoLibId: status.algoLibId,
      change: status.change,
      codes: status.errors.map((error) => error.code),
    });
    const notifications = await notify(status, previous);
    const final = notifications ? { ...status, notifications } : status;
    if (notifications) await write(final);
    await writeRecord(final, false);
    return { outcome: 'written' as const, status: final };
  };

  return {
    /** From now on, answers are also appended to this library record. */
    keepRecord(record: RecordKeeping) {
      keeping = record;
    },

    /** The terminal answer, notified and recorded. */
    answer,

    /**
     * A FAILED answer (FC runs the event again). Each run that fails too answers FAILED again: the webhook of that
     * outcome (one id per upload and state) is sent once, not once per run.
     */
    async answerFailed(status: StatusDocument) {
      const before = await read(budget.lastWrite);
      const again = before?.state === 'FAILED' && sameUpload(before, status);
      return answer(status, again ? before.notifications : undefined);
    },

    /** A FAILED status for a deployment fault found before any claim: written, not notified (FC retries soon). */
    writeOnly: write,

    /**
     * When this upload already has its final answer (an earlier holder finished it), delivers only what that holder
     * could not and returns it. `'reuploaded'` when the answer is for identical bytes uploaded before this event (this
     * upload is new and must be decided), `undefined` when there is no final answer (the work is to be done).
     */
    async replayIfAnswered(
      identity: Identity,
      uploadedAt?: number,
    ): Promise<RegisterOutcome | 'reuploaded' | undefined> {
      const existing = await read();
      if (!existing || !isTerminal(existing.state) || existing.state === 'FAILED' || !sameUpload(existing, identity))
        return undefined;
      if (uploadedAfter(existing, uploadedAt)) return 'reuploaded';
      log.info('status.replayed', { outcome: 'answered before', state: existing.state, algoLibId: existing.algoLibId });
      const notifications = await notify(existing, existing.notifications);
      if (!notifications || sameRecords(notifications, existing.notifications)) {
        await writeRecord(existing, true);
        return { outcome: 'unchanged', status: existing };
      }
      const updated = { ...existing, notifications };
      await write(updated);
      await writeRecord(updated, true);
      return { outcome: 'written', status: updated };
    },

    /**
     * One half is missing: says what we wait for, replacing only an answer about an earlier upload of this key (an
     * answer about the half we have is the other half's event completing this very upload).
     */
    async pending(status: StatusDocument, have: 'package' | 'manifest'): Promise<RegisterOutcome> {
      let written = await retry('status.write', () => statuses.putIfAbsent(statusKey, JSON.stringify(status)));
      if (!written) {
        const existing = await read();
        const stale =
          existing !== undefined &&
          (have === 'package'
            ? existing.package.etag !== status.package.etag
            : existing.manifest.etag !== status.manifest.etag);
        if (stale) {
          await write(status);
          written = true;
        }
      }
      log.info('status.pending', { outcome: written ? 'written' : 'exists', waitingFor: status.waitingFor });
      return { outcome: written ? 'written' : 'unchanged', status };
    },

    /** The status document of another package key (what made a library's current version). */
    async statusOf(key: string) {
      return parseStatus(await retry('status.read', () => statuses.getBytes(key, STATUS_READ_BYTES)));
    },
  };
};

export type OutcomeWriter = ReturnType<typeof createOutcomeWriter>;

/** Reads a record; `undefined` when there is none or it is not one (a record is never trusted blindly). */
export const readLibraryRecord = async (
  store: ObjectStore,
  name: string,
  statusPrefix: string,
): Promise<LibraryRecord | undefined> => {
  const object = await store.getBytes(libraryRecordKeyOf(name, statusPrefix), 1024 * 1024);
  if (!object) return undefined;
  try {
    const record = JSON.parse(Buffer.from(object.bytes).toString('utf8')) as LibraryRecord;
    return record && record.schemaVersion === 1 && record.name === name ? record : undefined;
  } catch {
    return undefined;
  }
};
