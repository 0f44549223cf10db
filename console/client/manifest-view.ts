/**
 * A manifest shown as indented JSON, one line per value, with the lines that errors point at marked and the error
 * written under them. An error whose path names a key that is missing marks the nearest line that exists.
 */
import { h } from './dom.ts';

type Line = { path: string; depth: number; text: string };

const isContainer = (value: unknown): value is Record<string, unknown> | unknown[] =>
  typeof value === 'object' && value !== null;

/** The manifest's lines, each with the JSON path (`objects.0.fields.2.name`) of the value it starts. */
const linesOf = (value: unknown, path: string, depth: number, label: string, last: boolean, out: Line[]) => {
  const comma = last ? '' : ',';
  if (!isContainer(value)) {
    out.push({ path, depth, text: `${label}${JSON.stringify(value)}${comma}` });
    return;
  }
  const entries: Array<[string, unknown]> = Array.isArray(value)
    ? value.map((item, index) => [String(index), item])
    : Object.entries(value);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) {
    out.push({ path, depth, text: `${label}${open}${close}${comma}` });
    return;
  }
  out.push({ path, depth, text: `${label}${open}` });
  entries.forEach(([key, item], index) => {
    const childLabel = Array.isArray(value) ? '' : `${JSON.stringify(key)}: `;
    linesOf(item, path ? `${path}.${key}` : key, depth + 1, childLabel, index === entries.length - 1, out);
  });
  out.push({ path: `${path}\u0000end`, depth, text: `${close}${comma}` });
};

/** The line an error path lands on: itself, or its nearest ancestor that exists (a missing key's object). */
const landingPath = (path: string, present: Set<string>): string => {
  const parts = path.split('.');
  while (parts.length > 0 && !present.has(parts.join('.'))) parts.pop();
  return parts.join('.');
};

export type PathError = { code: string; message: string; path?: string };

/** The manifest text as a marked-up listing; text that is not JSON is shown as is, with the errors above it. */
export const manifestView = (text: string, errors: PathError[]): HTMLElement => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return h('pre', { class: 'manifest', tabindex: 0, 'aria-label': 'Manifest (not valid JSON)' }, text);
  }
  const lines: Line[] = [];
  linesOf(value, '', 0, '', true, lines);
  const present = new Set(lines.map((line) => line.path));
  const notes = new Map<string, PathError[]>();
  for (const error of errors) {
    if (error.path === undefined) continue;
    const at = landingPath(error.path, present);
    notes.set(at, [...(notes.get(at) ?? []), error]);
  }
  return h(
    'pre',
    { class: 'manifest', tabindex: 0, 'aria-label': 'Manifest with the errors marked' },
    lines.map((line) => {
      const here = notes.get(line.path) ?? [];
      const indent = '  '.repeat(line.depth);
      return [
        h(
          'span',
          { class: here.length > 0 ? 'line marked' : 'line', 'data-path': line.path.replace('\u0000end', '') },
          `${indent}${line.text}\n`,
        ),
        here.map((error) =>
          h('span', { class: 'line note', role: 'note' }, `${indent}  ↑ ${error.path}: ${error.message}\n`),
        ),
      ];
    }),
  );
};
