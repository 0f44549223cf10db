/**
 * What a person reads in a chat group about one status, before any robot's format: a headline
 * (`face-detector 1.0.0 → 1.0.1 registered (AlgoLibId 36)`), the errors with their paths (a few, then "and N more"),
 * the status key and, when a console is configured, a link to the library's page. Built from the status document
 * alone, so nothing secret can be in it; any URL inside an error message is removed (a message names no endpoint).
 */
import { statusKeyOf } from './keys.ts';
import type { StatusDocument } from './status.ts';

export type ChatSummary = {
  /** Short, for notification previews and card headers; always starts with `algolib`, a keyword robots can require. */
  title: string;
  headline: string;
  /** How the state reads at a glance: good (registered), bad (rejected, conflict, failed), or neutral. */
  tone: 'good' | 'bad' | 'neutral';
  details: string[];
  statusKey: string;
  link?: { label: string; url: string };
};

export type ChatSummaryOptions = { statusPrefix: string; consoleUrl?: string | undefined };

/** Errors shown in full; the rest are counted. */
export const MAX_ERROR_LINES = 5;
const MAX_LINE_CHARS = 200;
const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s)\]>"']+/gi;

/** The package file name when the manifest gave no name (a rejection before it was read). */
const subjectOf = (status: StatusDocument): string => {
  if (status.name) return status.version ? `${status.name} ${status.version}` : status.name;
  return status.package.key.split('/').pop() ?? status.package.key;
};

const idOf = (status: StatusDocument) => (status.algoLibId ? ` (AlgoLibId ${status.algoLibId})` : '');

const headlineOf = (status: StatusDocument): string => {
  const subject = subjectOf(status);
  const errors = status.errors.length;
  switch (status.state) {
    case 'REGISTERED':
      if (status.change === 'updated' && status.previous && status.name && status.version) {
        return `${status.name} ${status.previous.version} → ${status.version} registered${idOf(status)}`;
      }
      if (status.change === 'unchanged') return `${subject} already registered, nothing changed${idOf(status)}`;
      if (status.change === 'created') return `${subject} registered as a new library${idOf(status)}`;
      return `${subject} registered${idOf(status)}`;
    case 'REJECTED':
      return `${subject} rejected: ${errors} ${errors === 1 ? 'error' : 'errors'}`;
    case 'CONFLICT':
      return `${subject} not registered: name conflict`;
    case 'FAILED':
      return `${subject} failed; FC runs it again`;
    case 'PENDING':
      return `${subject} waiting for the ${status.waitingFor ?? 'other file'}`;
  }
};

const toneOf = (status: StatusDocument): ChatSummary['tone'] => {
  if (status.state === 'REGISTERED') return 'good';
  return status.state === 'PENDING' ? 'neutral' : 'bad';
};

/** One line of an error: its path (or code) and message, without URLs, on one line and at most 200 chars. */
const errorLine = ({ code, message, path }: StatusDocument['errors'][number]): string => {
  const text = `${path ?? code}: ${message}`.replace(URL_PATTERN, '(link removed)').replace(/\s+/g, ' ').trim();
  return text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS - 1)}…` : text;
};

/**
 * The summary of a status for a chat message.
 *
 * @example
 * ```ts
 * chatSummaryOf(status, { statusPrefix: 'status/', consoleUrl: 'https://console.example.com' }).headline;
 * // 'face-detector 1.0.0 → 1.0.1 registered (AlgoLibId 36)'
 * ```
 */
export const chatSummaryOf = (status: StatusDocument, options: ChatSummaryOptions): ChatSummary => {
  const headline = headlineOf(status);
  // A registration's errors are notes; a person reads them only when something went wrong.
  const shown = status.state === 'REGISTERED' ? [] : status.errors;
  const details = shown.slice(0, MAX_ERROR_LINES).map(errorLine);
  if (shown.length > MAX_ERROR_LINES) details.push(`and ${shown.length - MAX_ERROR_LINES} more`);
  const summary: ChatSummary = {
    title: `algolib: ${headline}`,
    headline,
    tone: toneOf(status),
    details,
    statusKey: statusKeyOf(status.package.key, options.statusPrefix),
  };
  if (options.consoleUrl && status.name) {
    const base = options.consoleUrl.replace(/\/+$/, '');
    summary.link = { label: 'Open in the console', url: `${base}/libraries/${encodeURIComponent(status.name)}` };
  }
  return summary;
};
