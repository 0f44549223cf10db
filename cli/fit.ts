/**
 * Text that fits the terminal: help texts and banners are written for 80 columns or more and wrapped here to the
 * terminal's width (at least 80, and 80 when the output is not a terminal), continuation lines indented under the
 * text they continue, and long example commands broken with a shell continuation (` \`) so they still paste.
 */

/** The width to fit: the terminal's columns, never under 80; 80 for a pipe or a file. */
export const widthOf = (stream: { isTTY?: boolean; columns?: number }): number =>
  stream.isTTY && typeof stream.columns === 'number' && stream.columns > 80 ? stream.columns : 80;

// An option or a row: its text column starts after the first run of two or more spaces past the label.
const COLUMN = /^(\s*\S.*?\s{2,})\S/;
// An example command line: indented, starts with the command (or a variable assignment before it).
const COMMAND = /^\s+(?:[A-Z_]+=\S* )*(?:npx|node|npm|algolib) /;

const wrapWords = (words: string[], first: string, next: string, width: number, joiner: string): string[] => {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of words) {
    const candidate = empty ? `${line}${word}` : `${line} ${word}`;
    if (!empty && candidate.length + joiner.length > width) {
      lines.push(`${line}${joiner}`);
      line = `${next}${word}`;
    } else {
      line = candidate;
    }
    empty = false;
  }
  lines.push(line);
  return lines;
};

/** One line wrapped to `width`. */
export const fitLine = (line: string, width: number): string[] => {
  if (line.length <= width) return [line];
  const indent = /^\s*/.exec(line)?.[0] ?? '';
  if (COMMAND.test(line)) {
    // Commands keep every word intact and end each broken line with a shell continuation.
    return wrapWords(line.trim().split(/\s+/), indent, `${indent}    `, width, ' \\');
  }
  if (line.startsWith('Usage: ')) {
    // Continue the synopsis under its first argument.
    const args = line.search(/ [[<]/);
    const hanging = ' '.repeat(args > 0 && args < width / 2 ? args + 1 : 'Usage: '.length);
    return wrapWords(line.trim().split(/\s+/), '', hanging, width, '');
  }
  const column = COLUMN.exec(line)?.[1];
  const hanging = column !== undefined && column.length < width / 2 ? ' '.repeat(column.length) : indent;
  const head = column !== undefined && column.length < width / 2 ? column : indent;
  return wrapWords(line.slice(head.length).trim().split(/\s+/), head, hanging, width, '');
};

/** A line of prose: it starts at the margin and is not a heading (`Options:`) or the synopsis. */
const isProse = (line: string): boolean => /^\S/.test(line) && !line.endsWith(':') && !line.startsWith('Usage: ');

/**
 * The text's logical lines: a paragraph's lines joined into one, and an option's description continued on an
 * indented line joined to the option, so wrapping reflows them instead of leaving ragged ends.
 */
const logicalLines = (text: string): string[] => {
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    const previous = lines.at(-1);
    const column = previous === undefined ? undefined : COLUMN.exec(previous)?.[1];
    const indent = /^\s*/.exec(line)?.[0].length ?? 0;
    if (previous !== undefined && isProse(previous) && isProse(line)) {
      lines[lines.length - 1] = `${previous} ${line}`;
    } else if (previous !== undefined && column !== undefined && indent === column.length && line.trim() !== '') {
      lines[lines.length - 1] = `${previous} ${line.trim()}`;
    } else {
      lines.push(line);
    }
  }
  return lines;
};

/**
 * `text` with every line wrapped to `width` columns (a single word longer than the width is left whole).
 *
 * @example
 * ```ts
 * fitText(command.usage, widthOf(process.stdout));
 * ```
 */
export const fitText = (text: string, width: number): string =>
  logicalLines(text)
    .flatMap((line) => fitLine(line, width))
    .join('\n');
