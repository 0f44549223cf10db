/**
 * Manifest v1 (`<stem>.manifest.json`): the zod schema of docs/contracts.md "Manifest v1", the parser that turns
 * untrusted bytes into a manifest or a list of errors with JSON paths, and the mapping onto CreateAlgoLib's parameters.
 * The shipped JSON Schema (`schema/manifest-v1.schema.json`) is generated from `ManifestSchema`.
 */

import * as z from 'zod/mini';
import type { StatusError } from './status.ts';
import './zod.ts';

/** Manifests are untrusted input: anything larger is rejected before it is parsed (and never read past the cap). */
export const MANIFEST_MAX_BYTES = 256 * 1024;
const TEXT_MAX_BYTES = 64 * 1024;

/** A short rendering of an input for a message; never throws, however deep the input is nested. */
const show = (input: unknown): string => {
  if (input === undefined) return 'nothing';
  let json: string | undefined;
  try {
    json = JSON.stringify(input);
  } catch {
    // Nested deeper than the stack allows (JSON.parse takes 100,000 levels, JSON.stringify does not).
    return Array.isArray(input) ? 'a deeply nested array' : 'a deeply nested object';
  }
  if (json === undefined) return typeof input;
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
};

/** zod error option whose message reads "… to be <what>, got <input>"; `formatIssue` puts the path in front. */
const expected = (what: string) => ({
  error: (issue: { input?: unknown }) => `to be ${what}, got ${show(issue.input)}`,
});

const pattern = (regex: RegExp, what: string) =>
  z.string(expected(`a string ${what}`)).check(z.regex(regex, expected(what)));

const NAME = /^[A-Za-z][A-Za-z0-9_-]{1,63}$/;
// semver.org's own regular expression.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const CAPABILITY = /^[A-Z][A-Z0-9_]{0,31}$/;
const OBJ_TYPE = /^[a-z][a-z0-9_]{0,31}$/;
const STORE_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const INDEX_MODE = /^INDEX_[A-Z_]+$/;
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const FIELD_TYPE = /^[a-z][a-z0-9_]{0,31}$/;
const CRC64 = /^(0|[1-9]\d{0,19})$/;
const SHA256 = /^[0-9a-f]{64}$/;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * Video streams a library computes: CityVisual's DescribeAlgoLibs reference bounds `Capacity` to `[1, 50]`
 * (`hglakfs/cityvisual:cn.zh-CN/API参考/算法库/DescribeAlgoLibs.md`), and Create/ModifyAlgoLib refuse anything else.
 */
export const MAX_CAPACITY = 50;
const CAPACITY_RULE = `an integer from 1 to ${MAX_CAPACITY} (CityVisual's limit)`;

const bool = z.boolean(expected('true or false'));

/** Adds one issue per repeated value of `keyOf`, at the repeated element's path. */
const uniqueBy =
  <T>(keyOf: (item: T) => string, field: string) =>
  (items: T[], ctx: z.core.$RefinementCtx<T[]>) => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      const key = keyOf(item);
      if (seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: field ? [index, field] : [index],
          message: `to be unique, got ${show(key)} twice`,
        });
      }
      seen.add(key);
    });
  };

const FieldSchema = z
  .strictObject(
    {
      name: pattern(FIELD_NAME, 'matching ^[A-Za-z][A-Za-z0-9_]{0,63}$'),
      type: pattern(FIELD_TYPE, 'matching ^[a-z][a-z0-9_]{0,31}$'),
      mandatory: bool,
      isDatabaseField: bool,
      isSearchEngineField: bool,
      isMessageQueueField: bool,
    },
    expected('a field definition {name, type, mandatory, isDatabaseField, isSearchEngineField, isMessageQueueField}'),
  )
  .check(
    z.refine((field) => field.isDatabaseField || field.isSearchEngineField || field.isMessageQueueField, {
      message: 'to have at least one of isDatabaseField, isSearchEngineField, isMessageQueueField true',
    }),
  );

const ObjectConfigSchema = z.strictObject(
  {
    objType: pattern(OBJ_TYPE, 'matching ^[a-z][a-z0-9_]{0,31}$'),
    dbTableName: pattern(STORE_NAME, 'matching ^[a-z][a-z0-9_]{0,63}$'),
    indexName: pattern(STORE_NAME, 'matching ^[a-z][a-z0-9_]{0,63}$'),
    indexMode: pattern(INDEX_MODE, 'matching ^INDEX_[A-Z_]+$ (e.g. INDEX_PER_DAY)'),
    topicName: pattern(STORE_NAME, 'matching ^[a-z][a-z0-9_]{0,63}$'),
    fields: z
      .array(FieldSchema, expected('an array of field definitions'))
      .check(
        z.minLength(1, expected('an array of 1 to 256 fields')),
        z.maxLength(256, expected('an array of 1 to 256 fields')),
        z.superRefine(uniqueBy((field) => field.name, 'name')),
      ),
  },
  expected('an object config {objType, dbTableName, indexName, indexMode, topicName, fields}'),
);

const PackageSchema = z
  .strictObject(
    {
      size: z
        .int(expected('a positive integer (bytes)'))
        .check(
          z.gte(1, expected('a positive integer (bytes)')),
          z.lte(Number.MAX_SAFE_INTEGER, expected('a safe integer')),
        ),
      crc64: z.optional(
        pattern(CRC64, 'a decimal CRC-64/ECMA-182 value (as in x-oss-hash-crc64ecma)').check(
          // zod runs a refinement even when the pattern failed: BigInt('abc') would throw out of the parser.
          z.refine(
            (value) => !CRC64.test(value) || BigInt(value) <= UINT64_MAX,
            expected('at most 18446744073709551615'),
          ),
        ),
      ),
      sha256: z.optional(pattern(SHA256, '64 lowercase hex digits')),
    },
    expected('an object {size, crc64 and/or sha256} (algolib publish fills it)'),
  )
  .check(
    z.refine((pkg) => pkg.crc64 !== undefined || pkg.sha256 !== undefined, {
      message: 'to have `crc64` or `sha256` (or both)',
    }),
  );

export const ManifestSchema = z
  .strictObject(
    {
      $schema: z.optional(z.string(expected('a string'))),
      schemaVersion: z.literal(1, expected('1')),
      name: pattern(NAME, 'matching ^[A-Za-z][A-Za-z0-9_-]{1,63}$'),
      version: pattern(SEMVER, 'a semantic version such as 1.0.0 or 2.1.0-rc.1'),
      capabilities: z
        .array(pattern(CAPABILITY, 'matching ^[A-Z][A-Z0-9_]{0,31}$'), expected('an array of capability names'))
        .check(
          z.minLength(1, expected('an array of 1 to 16 capability names')),
          z.maxLength(16, expected('an array of 1 to 16 capability names')),
          z.superRefine(uniqueBy((name) => name, '')),
        ),
      capacity: z
        .int(expected(CAPACITY_RULE))
        .check(z.gte(1, expected(CAPACITY_RULE)), z.lte(MAX_CAPACITY, expected(CAPACITY_RULE))),
      objects: z
        .array(ObjectConfigSchema, expected('an array of object configs'))
        .check(
          z.minLength(1, expected('an array of 1 to 32 object configs')),
          z.maxLength(32, expected('an array of 1 to 32 object configs')),
          z.superRefine(uniqueBy((object) => object.objType, 'objType')),
        ),
      text: z.optional(
        z.string(expected('a string')).check(
          z.maxLength(TEXT_MAX_BYTES, expected('at most 64 KiB')),
          z.refine((text) => Buffer.byteLength(text) <= TEXT_MAX_BYTES, expected('at most 64 KiB of UTF-8')),
        ),
      ),
      package: PackageSchema,
    },
    expected('a JSON object'),
  )
  // zod/mini has no `.meta()`: this is what it did, minus the clone; `z.toJSONSchema` reads the global registry.
  .register(z.globalRegistry, {
    title: 'algolib manifest v1',
    description:
      'Sidecar manifest of a CityVisual algorithm library package (<stem>.manifest.json beside <stem>.tar.gz).',
  });

export type Manifest = z.infer<typeof ManifestSchema>;
export type ObjectConfig = Manifest['objects'][number];

export type ManifestResult = { ok: true; manifest: Manifest } | { ok: false; errors: StatusError[] };

/**
 * Errors kept per manifest. A hostile manifest of 200 KiB can carry 20,000 unknown keys; one error each would make a
 * 2 MB status document (more than the pipeline reads back, more than webhook receivers take).
 */
const MAX_ERRORS = 20;
/** Longest key shown in a path (an unknown key can be as long as the manifest). */
const MAX_KEY_CHARS = 64;

const segment = (key: PropertyKey): string => {
  const text = String(key);
  return text.length > MAX_KEY_CHARS ? `${text.slice(0, MAX_KEY_CHARS - 1)}…` : text;
};

const pathOf = (path: readonly PropertyKey[]): string => path.map(segment).join('.');

/** The first `MAX_ERRORS` errors; the last one kept says how many more there were. */
const capped = (errors: StatusError[]): StatusError[] => {
  if (errors.length <= MAX_ERRORS) return errors;
  const kept = errors.slice(0, MAX_ERRORS);
  const last = kept[MAX_ERRORS - 1] as StatusError;
  kept[MAX_ERRORS - 1] = { ...last, message: `${last.message} (and ${errors.length - MAX_ERRORS} more errors)` };
  return kept;
};

const formatIssue = (issue: z.core.$ZodIssue): StatusError[] => {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const path = pathOf([...issue.path, key]);
      return { code: 'MANIFEST_INVALID', path, message: `Expected no key \`${path}\`: manifest v1 does not define it` };
    });
  }
  const path = pathOf(issue.path);
  const message = `Expected \`${path || 'manifest'}\` ${issue.message}`;
  return [path ? { code: 'MANIFEST_INVALID', path, message } : { code: 'MANIFEST_INVALID', message }];
};

const decoder = new TextDecoder('utf-8', { fatal: true });

type Frame = { keys: Set<string>; key: string; expectKey: boolean } | { index: number };

/**
 * The path of the first key that appears twice in one object of `text` (valid JSON), or `undefined`. `JSON.parse`
 * keeps the last value silently while other parsers keep the first, so such a manifest means different things to
 * different readers. One pass with an explicit stack: linear, and deep nesting cannot overflow the call stack.
 */
const duplicateKeyPath = (text: string): string | undefined => {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    const top = stack.at(-1);
    if (char === '"') {
      const start = i;
      for (i += 1; i < text.length && text[i] !== '"'; i += 1) if (text[i] === '\\') i += 1;
      if (!top || !('keys' in top) || !top.expectKey) continue;
      const key = JSON.parse(text.slice(start, i + 1)) as string;
      if (top.keys.has(key)) {
        const parents = stack.slice(0, -1).map((frame) => ('keys' in frame ? frame.key : String(frame.index)));
        return pathOf([...parents, key]);
      }
      top.keys.add(key);
      top.key = key;
      top.expectKey = false;
    } else if (char === '{') stack.push({ keys: new Set(), key: '', expectKey: true });
    else if (char === '[') stack.push({ index: 0 });
    else if (char === '}' || char === ']') stack.pop();
    else if (char === ',' && top) {
      if ('keys' in top) top.expectKey = true;
      else top.index += 1;
    }
  }
  return undefined;
};

const invalid = (message: string): ManifestResult => ({ ok: false, errors: [{ code: 'MANIFEST_INVALID', message }] });

/**
 * Parses an untrusted manifest: size cap, UTF-8 (a leading BOM is allowed), JSON without repeated keys, then the
 * strict v1 schema.
 * Every error carries its JSON path (`objects.0.fields.2.name`).
 *
 * @example
 * ```ts
 * const result = parseManifest(await readFile('face-1.2.0.manifest.json'));
 * if (!result.ok) for (const e of result.errors) console.error(e.path, e.message);
 * ```
 */
export const parseManifest = (bytes: Uint8Array): ManifestResult => {
  if (bytes.byteLength > MANIFEST_MAX_BYTES) {
    return {
      ok: false,
      errors: [
        {
          code: 'MANIFEST_TOO_LARGE',
          message: `Expected the manifest to be at most ${MANIFEST_MAX_BYTES} bytes, got ${bytes.byteLength}`,
        },
      ],
    };
  }
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return invalid('Expected the manifest to be UTF-8 text');
  }
  let json: unknown;
  try {
    // TextDecoder already drops a leading UTF-8 BOM.
    json = JSON.parse(text);
  } catch (error) {
    return invalid(`Expected the manifest to be JSON: ${(error as Error).message}`);
  }
  const repeated = duplicateKeyPath(text);
  if (repeated !== undefined) {
    return {
      ok: false,
      errors: [
        {
          code: 'MANIFEST_INVALID',
          path: repeated,
          message: `Expected \`${repeated}\` once, got it twice: JSON readers disagree on which value counts`,
        },
      ],
    };
  }
  const result = ManifestSchema.safeParse(json);
  if (result.success) return { ok: true, manifest: result.data };
  return { ok: false, errors: capped(result.error.issues.flatMap(formatIssue)) };
};

/** The JSON Schema shipped in `schema/manifest-v1.schema.json`, generated from `ManifestSchema`. */
export const manifestJsonSchema = (): Record<string, unknown> => ({
  $id: 'urn:algolib-pipeline:manifest:v1',
  ...z.toJSONSchema(ManifestSchema, { io: 'input', target: 'draft-2020-12' }),
});

/**
 * CreateAlgoLib's manifest-derived parameters (the rest come from the event and the deployment config).
 *
 * @example
 * ```ts
 * algoLibParameters(manifest).CapabilityNames; // 'PERSON,FACE'
 * ```
 */
export const algoLibParameters = (
  manifest: Pick<Manifest, 'name' | 'version' | 'capabilities' | 'capacity' | 'objects' | 'text'>,
) => ({
  AlgoLibName: manifest.name,
  AlgoLibVersion: manifest.version,
  CapabilityNames: manifest.capabilities.join(','),
  Capacity: manifest.capacity,
  JsonText: JSON.stringify(manifest.objects),
  Text: manifest.text ?? JSON.stringify(manifest.objects, null, 2),
});
