/**
 * Hostile manifests and events for the fuzz properties: arbitrary bytes and JSON, and valid manifests mutated the
 * ways publishers, tools and attackers get them wrong (wrong types, hostile keys, deep nesting, huge strings, unicode,
 * repeated keys, byte-order marks, invalid UTF-8, over-size).
 */
import fc from 'fast-check';
import { MANIFEST_MAX_BYTES } from '../../shared/manifest.ts';
import { validManifest } from '../fakes/register-deps.ts';

/** One seed for every fuzz file, so a failure names a run anyone can replay; `FUZZ_SEED=n npx vitest run test/fuzz` tries another. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_261_129);

/** Keys that pollute prototypes, shadow builtins or are simply unexpected. */
export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', ' name'),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.nat({ max: 4_000 }).map((length) => `k${'é'.repeat(length)}`),
);

/** Values of every JSON type, unicode (lone surrogates included) and huge strings. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(0, -1, 1.5, 1e308, -0, 10_001, Number.MAX_SAFE_INTEGER + 2, '', '1', 'true', null, true, [], {}),
  fc.nat({ max: 80_000 }).map((length) => 'x'.repeat(length)),
);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path into a JSON value (objects' keys and arrays' indexes), the root included. */
const pathsOf = (value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> => {
  const paths = [prefix];
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) paths.push(...pathsOf(item, [...prefix, index]));
  } else if (value && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...prefix, key]));
  return paths;
};

const VALID = validManifest() as unknown as Json;
const VALID_PATHS = pathsOf(VALID);

/** Sets an own, enumerable property even for `__proto__`, so JSON.stringify writes it as a key. */
const define = (target: object, key: string | number, value: unknown) =>
  Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });

type Mutation =
  | { op: 'set'; path: number; value: unknown }
  | { op: 'delete'; path: number }
  | { op: 'add'; path: number; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), path: fc.nat(), value: hostileValue }),
  fc.record({ op: fc.constant('delete' as const), path: fc.nat() }),
  fc.record({ op: fc.constant('add' as const), path: fc.nat(), key: hostileKey, value: hostileValue }),
);

/** Applies mutations to a deep copy of the valid manifest. */
const mutate = (mutations: Mutation[]): unknown => {
  let root: unknown = structuredClone(VALID);
  for (const change of mutations) {
    const path = VALID_PATHS[change.path % VALID_PATHS.length] as Array<string | number>;
    if (path.length === 0) {
      if (change.op === 'set') root = change.value;
      continue;
    }
    let parent: unknown = root;
    for (const step of path.slice(0, -1)) parent = (parent as Record<string | number, unknown> | null)?.[step];
    if (!parent || typeof parent !== 'object') continue;
    const last = path.at(-1) as string | number;
    if (change.op === 'set') define(parent, last, change.value);
    else if (change.op === 'delete') delete (parent as Record<string | number, unknown>)[last];
    else {
      const target = (parent as Record<string | number, unknown>)[last];
      if (target && typeof target === 'object' && !Array.isArray(target)) define(target, change.key, change.value);
    }
  }
  return root;
};

/** A valid manifest with one to four structural mutations, as JSON text. */
export const mutatedManifestText: fc.Arbitrary<string> = fc
  .array(mutation, { minLength: 1, maxLength: 4 })
  .map((mutations) => JSON.stringify(mutate(mutations)) ?? 'undefined');

const utf8 = (text: string) => Buffer.from(text, 'utf8');

const INVALID_UTF8 = [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]];

type TextEdit = (text: string, at: number, extra: number) => Buffer;

/** Edits of the raw text, where a parser's leniency shows: `at` picks a position, `extra` a size or a variant. */
const TEXT_EDITS: Record<string, TextEdit> = {
  bom: (text, _at, extra) =>
    Buffer.concat([...Array.from({ length: 1 + (extra % 3) }, () => Buffer.from([0xef, 0xbb, 0xbf])), utf8(text)]),
  invalidUtf8: (text, at, extra) => {
    const bytes = utf8(text);
    const cut = at % (bytes.length + 1);
    return Buffer.concat([
      bytes.subarray(0, cut),
      Buffer.from(INVALID_UTF8[extra % INVALID_UTF8.length] as number[]),
      bytes.subarray(cut),
    ]);
  },
  repeatKey: (text, at) => {
    const keys = [...text.matchAll(/"([A-Za-z$]+)":/g)];
    const match = keys[at % Math.max(1, keys.length)];
    if (!match || match.index === undefined) return utf8(text);
    // The repeated key goes right after the original's opening quote position's object: `"k":…,"k":…` in one object.
    return utf8(`${text.slice(0, match.index)}"${match[1]}":0,${text.slice(match.index)}`);
  },
  truncate: (text, at) => utf8(text.slice(0, at % (text.length + 1))),
  deepNesting: (text, _at, extra) => {
    const depth = 1 + (extra % 20_000);
    return utf8(text.replace('"capacity":30', `"capacity":${'['.repeat(depth)}${']'.repeat(depth)}`));
  },
  deepObjects: (text, _at, extra) => {
    const depth = 1 + (extra % 5_000);
    return utf8(text.replace('"capacity":30', `"capacity":${'{"a":'.repeat(depth)}0${'}'.repeat(depth)}`));
  },
  oversize: (text, _at, extra) =>
    utf8(text.replace(/}$/, `${' '.repeat(MANIFEST_MAX_BYTES - text.length + (extra % 3))}}`)),
  protoInObject: (text, at) => {
    const braces = [...text.matchAll(/\{/g)];
    const brace = braces[at % braces.length];
    if (!brace || brace.index === undefined) return utf8(text);
    return utf8(`${text.slice(0, brace.index + 1)}"__proto__":{"polluted":true},${text.slice(brace.index + 1)}`);
  },
  replaceChar: (text, at, extra) => {
    const cut = at % Math.max(1, text.length);
    return utf8(`${text.slice(0, cut)}${String.fromCodePoint(extra % 0x10ffff)}${text.slice(cut + 1)}`);
  },
};

/** A manifest's bytes, hostile in one of many ways (most of them invalid, some still valid). */
export const hostileManifestBytes: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.jsonValue({ maxDepth: 4 }).map((value) => utf8(JSON.stringify(value))),
  mutatedManifestText.map(utf8),
  fc
    .tuple(
      fc.oneof(fc.constant(JSON.stringify(VALID)), mutatedManifestText),
      fc.constantFrom(...Object.keys(TEXT_EDITS)),
      fc.nat(),
      fc.nat(),
    )
    .map(([text, edit, at, extra]) => (TEXT_EDITS[edit] as TextEdit)(text, at, extra)),
);

/** The prototype's own property names and a few builtins, to compare before and after a run. */
export const prototypeFingerprint = () => ({
  names: Object.getOwnPropertyNames(Object.prototype).sort().join(','),
  arrayNames: Object.getOwnPropertyNames(Array.prototype).sort().join(','),
  toString: Object.prototype.toString,
  polluted: ({} as Record<string, unknown>).polluted,
});
