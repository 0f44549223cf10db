/**
 * `algolib dev`'s log: one compact line per emulator request, function step or invocation, each with a meaning:
 * a problem (red), an outcome (green), an expected outcome that reads like an error but is how the pipeline works
 * (dim, and said so in words: a claim already taken, a status not written yet), or routine. `--quiet` keeps
 * outcomes and problems; `--filter` keeps lines that contain a text.
 */
import type { Output } from './output.ts';

/** Fields every log line leads with, in this order; the rest follow as key=value. */
const LEADING_FIELDS = [
  'op',
  'action',
  'event',
  'kind',
  'function',
  'bucket',
  'key',
  'id',
  'type',
  'status',
  'code',
  'outcome',
  'fault',
];
const QUIET_FIELDS = new Set(['service', 'requestId', 'line', 'stream', 'instanceId', 'ms']);

const compact = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** The function's own JSON log line (`{time, level, requestId, step, …}`) as fields, or `undefined` for plain text. */
const functionLogOf = (line: string): Record<string, unknown> | undefined => {
  try {
    const parsed = JSON.parse(line) as unknown;
    if (typeof parsed !== 'object' || parsed === null || !('step' in parsed)) return undefined;
    const { time: _time, requestId: _requestId, level, step, ...rest } = parsed as Record<string, unknown>;
    return { event: step, ...(level === 'info' ? {} : { level }), ...rest };
  } catch {
    return undefined;
  }
};

/** One emulator log entry as a short line: `12:00:01 oss        PutObject algolib-local library/a.tar.gz 200 3ms`. */
export const formatLogEntry = (entry: Record<string, unknown>): string => {
  const time = new Date().toISOString().slice(11, 19);
  const service = String(entry.service ?? 'local').padEnd(10);
  if (typeof entry.line === 'string') {
    // Output of the function inside an FC instance: its JSON log lines get the same compact form, anything else as is.
    const fields = functionLogOf(entry.line);
    if (!fields) return `${time} ${service} ${entry.stream === 'stderr' ? '! ' : ''}${entry.line}`;
    return formatFields(time, service, fields);
  }
  return formatFields(time, service, entry);
};

const formatFields = (time: string, service: string, entry: Record<string, unknown>): string => {
  const lead = LEADING_FIELDS.filter((field) => entry[field] !== undefined && entry[field] !== '').map((field) =>
    compact(entry[field]),
  );
  const rest = Object.entries(entry)
    .filter(([field, value]) => value !== undefined && !LEADING_FIELDS.includes(field) && !QUIET_FIELDS.has(field))
    .map(([field, value]) => `${field}=${compact(value)}`);
  const ms = typeof entry.ms === 'number' ? [`${entry.ms}ms`] : [];
  return [time, service, ...lead, ...rest, ...ms].join(' ');
};

export type Meaning = 'problem' | 'outcome' | 'expected' | 'routine';

export type Classified = { meaning: Meaning; because?: string };

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** What an emulator request means, from its status and code. */
const requestMeaning = (entry: Record<string, unknown>): Classified => {
  const status = typeof entry.status === 'number' ? entry.status : 0;
  const code = text(entry.code);
  const key = text(entry.key);
  if (status === 0 || status >= 500) return { meaning: 'problem' };
  // The claim is an object written only if absent: the second writer's 409 is how it learns the name is taken.
  if (status === 409 && code === 'FileAlreadyExists' && key.includes('/.claims/'))
    return { meaning: 'expected', because: 'the claim is already held; this invocation reads who holds it' };
  if (status === 404 && code === 'NoSuchKey' && (entry.op === 'GetObject' || entry.op === 'HeadObject'))
    return { meaning: 'expected', because: 'not written yet' };
  if (status === 412) return { meaning: 'expected', because: 'a conditional write found a newer object' };
  if (status >= 400) return { meaning: 'problem' };
  return { meaning: 'routine' };
};

/** What the function's own step means. */
const stepMeaning = (fields: Record<string, unknown>): Classified => {
  const step = text(fields.event);
  if (fields.level === 'error' || fields.level === 'warn') return { meaning: 'problem' };
  if (step === 'claim.busy')
    return { meaning: 'expected', because: 'another delivery of this name is working; this one waits for it' };
  if (step === 'status.replayed') return { meaning: 'expected', because: 'already answered; nothing to do again' };
  if (step === 'status.written') return { meaning: fields.outcome === 'REGISTERED' ? 'outcome' : 'problem' };
  if (step === 'webhook.delivery') return { meaning: fields.delivered === true ? 'outcome' : 'problem' };
  if (step.startsWith('cityvisual.')) return { meaning: 'outcome' };
  return { meaning: 'routine' };
};

/**
 * The meaning of one log entry (and why, for an expected one).
 *
 * @example
 * ```ts
 * classifyLogEntry({ service: 'oss', op: 'PutObject', key: 'status/.claims/face/000000.json', status: 409, code: 'FileAlreadyExists' });
 * // { meaning: 'expected', because: 'the claim is already held; …' }
 * ```
 */
export const classifyLogEntry = (entry: Record<string, unknown>): Classified => {
  if (typeof entry.line === 'string') {
    const fields = functionLogOf(entry.line);
    if (fields) return stepMeaning(fields);
    return { meaning: entry.stream === 'stderr' ? 'problem' : 'routine' };
  }
  switch (entry.service) {
    case 'oss':
      return requestMeaning(entry);
    case 'cityvisual': {
      const status = typeof entry.status === 'number' ? entry.status : 0;
      if (status >= 200 && status < 300) return { meaning: 'routine' };
      return { meaning: 'problem' };
    }
    case 'webhook':
      return { meaning: entry.verified === false ? 'problem' : 'outcome' };
    case 'chat-robot':
      return { meaning: entry.accepted === false || entry.verified === false ? 'problem' : 'outcome' };
    case 'fc':
      if (entry.outcome === 'failed' || entry.event === 'dead-letter') return { meaning: 'problem' };
      if (entry.outcome === 'succeeded') return { meaning: 'outcome' };
      return { meaning: 'routine' };
    default:
      return { meaning: 'routine' };
  }
};

export type LogFilter = {
  /** Only outcomes and problems. */
  quiet: boolean;
  /** Only lines containing this text (case-insensitive). */
  filter: string | undefined;
};

/**
 * The printer `algolib dev` gives the local cloud: formats, classifies, filters and colours each entry.
 *
 * @example
 * ```ts
 * startLocalCloud({ log: devLogPrinter(out, { quiet: false, filter: 'face' }) });
 * ```
 */
export const devLogPrinter =
  (out: Output, { quiet, filter }: LogFilter) =>
  (entry: Record<string, unknown>): void => {
    const { meaning, because } = classifyLogEntry(entry);
    if (quiet && (meaning === 'routine' || meaning === 'expected')) return;
    const line = `${formatLogEntry(entry)}${because ? ` (expected: ${because})` : ''}`;
    if (filter !== undefined && !line.toLowerCase().includes(filter.toLowerCase())) return;
    const { dim, green, red } = out.colors;
    const paint = meaning === 'problem' ? red : meaning === 'outcome' ? green : meaning === 'expected' ? dim : String;
    out.note(paint(line));
  };
