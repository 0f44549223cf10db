/**
 * Where a JSON text stops being JSON, as `line L, column C: what was expected, got what`. V8's `JSON.parse` messages
 * give a character offset for some mistakes and none for others ("Unexpected token '}', "…" is not valid JSON"),
 * which is no help in a 200-line manifest; this scanner walks the grammar (RFC 8259) without building values and names
 * the first place it breaks. It keeps its own stack, so nesting as deep as JSON.parse takes cannot overflow the call
 * stack.
 */

export type JsonSyntaxError = { line: number; column: number; offset: number; message: string };

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;

/** How a character reads in a message: `}`, or a word for the invisible ones. */
const describe = (char: string | undefined): string => {
  if (char === undefined) return 'the end of the file';
  if (char === '\n' || char === '\r') return 'a line break';
  if (char === '\t') return 'a tab';
  const code = `U+${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0').toUpperCase()}`;
  if (char === '\uFEFF') return `a byte-order mark (${code})`;
  // Control, format and space characters other than the space itself are invisible in a message: name them.
  if (/[\p{C}\p{Z}]/u.test(char) && char !== ' ') return `the invisible character ${code}`;
  return `\`${char}\``;
};

const positionOf = (text: string, offset: number, message: string): JsonSyntaxError => {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i += 1) {
    if (text[i] === '\n') {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1, offset, message };
};

/** End offset of the string starting at `start` (a `"`), or an error at the offending character. */
const scanString = (text: string, start: number): number | { at: number; message: string } => {
  for (let i = start + 1; i < text.length; i += 1) {
    const char = text[i] as string;
    if (char === '"') return i + 1;
    if (char < ' ') {
      return { at: i, message: `expected the string to close with \`"\` before ${describe(char)} (write \\n for one)` };
    }
    if (char !== '\\') continue;
    const escaped = text[i + 1];
    if (escaped === 'u') {
      HEX4.lastIndex = i + 2;
      if (!HEX4.test(text)) return { at: i, message: 'expected 4 hex digits after `\\u`' };
      i += 5;
    } else if (escaped !== undefined && ESCAPES.has(escaped)) {
      i += 1;
    } else {
      return {
        at: i,
        message: `expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u after \`\\\`, got ${describe(escaped)}`,
      };
    }
  }
  return { at: text.length, message: 'expected the string to close with `"`, got the end of the file' };
};

type Mode = 'value' | 'key' | 'after';

/**
 * The first syntax error of `text`, or `undefined` when it is valid JSON.
 *
 * @example
 * ```ts
 * jsonSyntaxError('{\n  "name": ,\n}');
 * // { line: 2, column: 11, offset: 12, message: 'expected a value, got `,`' }
 * ```
 */
export const jsonSyntaxError = (text: string): JsonSyntaxError | undefined => {
  const closers: string[] = [];
  let mode: Mode = 'value';
  let i = 0;
  const fail = (at: number, message: string) => positionOf(text, at, message);
  while (true) {
    while (i < text.length && WHITESPACE.has(text[i] as string)) i += 1;
    const char = text[i];
    if (mode === 'after') {
      const closer = closers.at(-1);
      if (closer === undefined) {
        return char === undefined ? undefined : fail(i, `expected nothing after the JSON value, got ${describe(char)}`);
      }
      if (char === ',') {
        mode = closer === '}' ? 'key' : 'value';
        i += 1;
      } else if (char === closer) {
        closers.pop();
        i += 1;
      } else {
        return fail(i, `expected \`,\` or \`${closer}\`, got ${describe(char)}`);
      }
      continue;
    }
    if (mode === 'key') {
      if (char !== '"') {
        const trailing = char === '}' ? ' (a comma before `}`?)' : '';
        return fail(i, `expected a property name in double quotes, got ${describe(char)}${trailing}`);
      }
      const end = scanString(text, i);
      if (typeof end !== 'number') return fail(end.at, end.message);
      i = end;
      while (i < text.length && WHITESPACE.has(text[i] as string)) i += 1;
      if (text[i] !== ':') return fail(i, `expected \`:\` after the property name, got ${describe(text[i])}`);
      i += 1;
      mode = 'value';
      continue;
    }
    // mode === 'value'
    if (char === '{' || char === '[') {
      i += 1;
      while (i < text.length && WHITESPACE.has(text[i] as string)) i += 1;
      const closer = char === '{' ? '}' : ']';
      if (text[i] === closer) {
        i += 1;
        mode = 'after';
      } else {
        closers.push(closer);
        mode = char === '{' ? 'key' : 'value';
      }
      continue;
    }
    if (char === '"') {
      const end = scanString(text, i);
      if (typeof end !== 'number') return fail(end.at, end.message);
      i = end;
      mode = 'after';
      continue;
    }
    const literal = ['true', 'false', 'null'].find((word) => text.startsWith(word, i));
    if (literal) {
      i += literal.length;
      mode = 'after';
      continue;
    }
    NUMBER.lastIndex = i;
    if (char !== undefined && NUMBER.test(text)) {
      i = NUMBER.lastIndex;
      mode = 'after';
      continue;
    }
    const trailing = char === ']' ? ' (a comma before `]`?)' : '';
    // A bare word (`tru`, `yes`, `undefined`, an unquoted string) reads better whole than as its first letter.
    const word = /[A-Za-z_$][\w$]*/y;
    word.lastIndex = i;
    const got = word.test(text) ? `\`${text.slice(i, word.lastIndex)}\`` : describe(char);
    return fail(i, `expected a value, got ${got}${trailing}`);
  }
};

/**
 * `JSON.parse`'s failure on `text` as one line with a position, for people: `line 2, column 11: expected a value,
 * got `,``. Falls back to V8's own message if the scanner finds nothing wrong (it should not happen).
 *
 * @example
 * ```ts
 * try { JSON.parse(text) } catch (error) { console.error(describeJsonError(text, error)) }
 * ```
 */
export const describeJsonError = (text: string, error: unknown): string => {
  const found = jsonSyntaxError(text);
  if (found) return `line ${found.line}, column ${found.column}: ${found.message}`;
  return error instanceof Error ? error.message : String(error);
};
