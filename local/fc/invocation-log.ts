/**
 * The FC emulator's recent invocation attempts, for the console: request id, what triggered it, kind, attempt,
 * duration, outcome, and the lines the function printed for that request. Bounded (the newest `max` attempts, at
 * most `MAX_LINES` lines each), so a long-running `algolib dev` does not grow without end. Real FC keeps the same
 * facts in SLS (its request log and the function's own lines, both keyed by request id); this is the local stand-in.
 */

export type InvocationRecord = {
  requestId: string;
  function: string;
  /** `oss:<trigger name>` for an OSS notification, `InvokeFunction` for an API call. */
  trigger: string;
  /** The object key of an OSS-triggered invocation. */
  key?: string;
  kind: 'sync' | 'async';
  attempt: number;
  startedAt: string;
  outcome: 'running' | 'succeeded' | 'failed';
  ms?: number;
  errorType?: string;
  lines: string[];
};

export type InvocationLog = {
  /** Remembers what triggered a request id (called before it is queued). */
  triggered(requestId: string, trigger: string, key?: string): void;
  started(input: { requestId: string; function: string; kind: 'sync' | 'async'; attempt: number }): void;
  finished(requestId: string, outcome: 'succeeded' | 'failed', ms: number, errorType?: string): void;
  /** A line the function printed: it goes to the running attempt whose request id it names (FC's logger prefix). */
  output(line: string): void;
  /** Copies, newest first. */
  list(): InvocationRecord[];
};

const MAX_LINES = 200;
const MAX_TRIGGERS = 1000;

export const createInvocationLog = (max = 500): InvocationLog => {
  const records: InvocationRecord[] = [];
  const triggers = new Map<string, { trigger: string; key?: string }>();
  const running = () => records.filter((record) => record.outcome === 'running');
  const current = (requestId: string) =>
    records.findLast((record) => record.requestId === requestId && record.outcome === 'running');
  return {
    triggered(requestId, trigger, key) {
      triggers.set(requestId, key === undefined ? { trigger } : { trigger, key });
      // Map order is insertion order: drop the oldest once the bound is passed.
      if (triggers.size > MAX_TRIGGERS) triggers.delete(triggers.keys().next().value as string);
    },
    started(input) {
      const source = triggers.get(input.requestId) ?? { trigger: 'InvokeFunction' };
      records.push({ ...input, ...source, startedAt: new Date().toISOString(), outcome: 'running', lines: [] });
      if (records.length > max) records.splice(0, records.length - max);
    },
    finished(requestId, outcome, ms, errorType) {
      const record = current(requestId);
      if (!record) return;
      record.outcome = outcome;
      record.ms = ms;
      if (errorType !== undefined) record.errorType = errorType;
    },
    output(line) {
      const open = running();
      // A line without a request id (plain console.log) belongs to the one attempt running, when there is one.
      const owner = open.find((record) => line.includes(record.requestId)) ?? (open.length === 1 ? open[0] : undefined);
      if (owner && owner.lines.length < MAX_LINES) owner.lines.push(line);
    },
    list: () => records.map((record) => ({ ...record, lines: [...record.lines] })).reverse(),
  };
};
