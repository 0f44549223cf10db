/**
 * Manifest v1 (`<stem>.manifest.json`): the zod schema of docs/contracts.md "Manifest v1", the parser that turns
 * untrusted bytes into a manifest or a list of errors with JSON paths, and the mapping onto CreateAlgoLib's parameters.
 * The shipped JSON Schema (`schema/manifest-v1.schema.json`) is generated from `ManifestSchema`.
 */

import * as z from 'zod/mini';
import { describeJsonError } from './json-syntax.ts';
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

/** Attaches the JSON Schema `description` (zod/mini has no `.meta()`; `z.toJSONSchema` reads the global registry). */
const described = <T extends z.core.$ZodType>(schema: T, description: string): T => {
  z.globalRegistry.add(schema, { description });
  return schema;
};

/**
 * A string that must match `regex`, whose rule is said in words (`rule` completes "Expected `x` to …"): people read
 * "start with a letter" faster than `^[A-Za-z]`.
 */
const pattern = (regex: RegExp, rule: string) =>
  z
    .string(expected(`a string and ${rule.replace(/^be /, '')}`))
    .check(z.regex(regex, { error: (issue: { input?: unknown }) => `to ${rule}, got ${show(issue.input)}` }));

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

/** The forms of `name` and `version`, for tools that guess them (`algolib init` reads them from a file name). */
export const NAME_PATTERN = NAME;
export const VERSION_PATTERN = SEMVER;

/** The rules of the patterns above, in words (they complete "Expected `x` to …"). */
const RULES = {
  name: 'start with a letter and contain only letters, digits, `_` and `-`, 2–64 characters',
  version: 'be a semantic version such as 1.0.0 or 2.1.0-rc.1',
  capability: 'start with an upper-case letter and contain only upper-case letters, digits and `_`, 1–32 characters',
  lowerName32: 'start with a lower-case letter and contain only lower-case letters, digits and `_`, 1–32 characters',
  lowerName64: 'start with a lower-case letter and contain only lower-case letters, digits and `_`, 1–64 characters',
  indexMode: 'be `INDEX_` followed by upper-case letters and `_` (e.g. INDEX_PER_DAY)',
  fieldName: 'start with a letter and contain only letters, digits and `_`, 1–64 characters',
  crc64: 'be a decimal CRC-64/ECMA-182 value (as in x-oss-hash-crc64ecma)',
  sha256: 'be 64 lowercase hex digits',
} as const;

const bool = (description: string) => described(z.boolean(expected('true or false')), description);

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

/** An array of 1 to `max` elements, each `keyOf` unique (a repeat is reported at `field` of the repeated element). */
const uniqueArray = <T extends z.core.$ZodType>(
  element: T,
  nouns: { type: string; count: string },
  max: number,
  keyOf: (item: z.output<T>) => string,
  field: string,
) =>
  z
    .array(element, expected(`an array of ${nouns.type}`))
    .check(
      z.minLength(1, expected(`an array of 1 to ${max} ${nouns.count}`)),
      z.maxLength(max, expected(`an array of 1 to ${max} ${nouns.count}`)),
      z.superRefine(uniqueBy(keyOf, field)),
    );

const FieldSchema = described(
  z
    .strictObject(
      {
        name: described(
          pattern(FIELD_NAME, RULES.fieldName),
          `The field's name, unique in its object. It must ${RULES.fieldName}.`,
        ),
        type: described(
          pattern(FIELD_TYPE, RULES.lowerName32),
          `The field's type as CityVisual names it, e.g. string, long, float. It must ${RULES.lowerName32}.`,
        ),
        mandatory: bool('Whether every result must carry this field.'),
        isDatabaseField: bool('Stored in the database table (dbTableName).'),
        isSearchEngineField: bool('Indexed in the search engine (indexName).'),
        isMessageQueueField: bool('Sent on the message queue topic (topicName).'),
      },
      expected('a field definition {name, type, mandatory, isDatabaseField, isSearchEngineField, isMessageQueueField}'),
    )
    .check(
      z.refine((field) => field.isDatabaseField || field.isSearchEngineField || field.isMessageQueueField, {
        message: 'to have at least one of isDatabaseField, isSearchEngineField, isMessageQueueField true',
      }),
    ),
  'One field of the object; at least one of isDatabaseField, isSearchEngineField, isMessageQueueField is true.',
);

const ObjectConfigSchema = described(
  z.strictObject(
    {
      objType: described(
        pattern(OBJ_TYPE, RULES.lowerName32),
        `The object type the library outputs, unique in the manifest, e.g. face. It must ${RULES.lowerName32}.`,
      ),
      dbTableName: described(
        pattern(STORE_NAME, RULES.lowerName64),
        `The database table results of this type go to. It must ${RULES.lowerName64}.`,
      ),
      indexName: described(
        pattern(STORE_NAME, RULES.lowerName64),
        `The search-engine index results of this type go to. It must ${RULES.lowerName64}.`,
      ),
      indexMode: described(
        pattern(INDEX_MODE, RULES.indexMode),
        'How the index is partitioned: `INDEX_` followed by upper-case letters and `_`, e.g. INDEX_PER_DAY.',
      ),
      topicName: described(
        pattern(STORE_NAME, RULES.lowerName64),
        `The message-queue topic results of this type go to. It must ${RULES.lowerName64}.`,
      ),
      fields: described(
        uniqueArray(FieldSchema, { type: 'field definitions', count: 'fields' }, 256, (field) => field.name, 'name'),
        'The fields of a result of this type: 1 to 256, names unique.',
      ),
    },
    expected('an object config {objType, dbTableName, indexName, indexMode, topicName, fields}'),
  ),
  'One object type the library outputs and where its results are stored, indexed and sent.',
);

/** Why `package` is there and who writes it: the JSON Schema's description, and `algolib validate`'s note. */
export const PACKAGE_DESCRIPTION =
  'Integrity of the package file: filled by `algolib publish` from the file it uploads, so leave it out (fields ' +
  'you state are checked against the file instead). The function requires it: it compares size and CRC-64 with ' +
  'what OSS reports, or the SHA-256 by reading the object.';

const PackageSchema = described(
  z
    .strictObject(
      {
        size: described(
          z
            .int(expected('a positive integer (bytes)'))
            .check(
              z.gte(1, expected('a positive integer (bytes)')),
              z.lte(Number.MAX_SAFE_INTEGER, expected('a safe integer')),
            ),
          'Size of the package file in bytes.',
        ),
        crc64: described(
          z.optional(
            pattern(CRC64, RULES.crc64).check(
              // zod runs a refinement even when the pattern failed: BigInt('abc') would throw out of the parser.
              z.refine(
                (value) => !CRC64.test(value) || BigInt(value) <= UINT64_MAX,
                expected('at most 18446744073709551615'),
              ),
            ),
          ),
          'CRC-64/ECMA-182 of the package file as a decimal string, the value OSS reports in x-oss-hash-crc64ecma.',
        ),
        sha256: described(
          z.optional(pattern(SHA256, RULES.sha256)),
          'SHA-256 of the package file, 64 lowercase hex digits.',
        ),
      },
      expected('an object {size, crc64 and/or sha256} (algolib publish fills it)'),
    )
    .check(
      z.refine((pkg) => pkg.crc64 !== undefined || pkg.sha256 !== undefined, {
        message: 'to have `crc64` or `sha256` (or both)',
      }),
    ),
  PACKAGE_DESCRIPTION,
);

export const ManifestSchema = z
  .strictObject(
    {
      $schema: described(
        z.optional(z.string(expected('a string'))),
        'Where editors find this schema, e.g. ./node_modules/algolib-pipeline/schema/manifest-v1.schema.json (ignored by the pipeline).',
      ),
      schemaVersion: described(z.literal(1, expected('1')), 'The manifest format: 1.'),
      name: described(
        pattern(NAME, RULES.name),
        `The library's name in CityVisual (AlgoLibName) and the folder of its packages. It must ${RULES.name}.`,
      ),
      version: described(
        pattern(SEMVER, RULES.version),
        'The library version (AlgoLibVersion): a semantic version such as 1.0.0 or 2.1.0-rc.1.',
      ),
      capabilities: described(
        uniqueArray(
          described(
            pattern(CAPABILITY, RULES.capability),
            `A capability name, e.g. FACE. It must ${RULES.capability}.`,
          ),
          { type: 'capability names', count: 'capability names' },
          16,
          (name) => name,
          '',
        ),
        'What the library detects (CapabilityNames): 1 to 16 unique capability names, e.g. ["FACE", "PERSON"].',
      ),
      capacity: described(
        z
          .int(expected(CAPACITY_RULE))
          .check(z.gte(1, expected(CAPACITY_RULE)), z.lte(MAX_CAPACITY, expected(CAPACITY_RULE))),
        `How many streams the library processes at once (Capacity): ${CAPACITY_RULE}.`,
      ),
      objects: described(
        uniqueArray(
          ObjectConfigSchema,
          { type: 'object configs', count: 'object configs' },
          32,
          (object) => object.objType,
          'objType',
        ),
        'The object types the library outputs (JsonText): 1 to 32, objType unique.',
      ),
      text: described(
        z.optional(
          z.string(expected('a string')).check(
            z.maxLength(TEXT_MAX_BYTES, expected('at most 64 KiB')),
            z.refine((text) => Buffer.byteLength(text) <= TEXT_MAX_BYTES, expected('at most 64 KiB of UTF-8')),
          ),
        ),
        'Free text for CityVisual (Text), at most 64 KiB of UTF-8; default: `objects` as indented JSON.',
      ),
      package: PackageSchema,
    },
    expected('a JSON object'),
  )
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

type SchemaDef = {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  element?: z.core.$ZodType;
  innerType?: z.core.$ZodType;
};

const defOf = (schema: z.core.$ZodType | undefined): SchemaDef | undefined => {
  let def = schema?._zod.def as SchemaDef | undefined;
  // `optional(x)`: the keys are x's.
  while (def?.type === 'optional' && def.innerType) def = def.innerType._zod.def as SchemaDef;
  return def;
};

/** The keys the schema defines for the object at `path` (array indexes step into the element schema). */
const knownKeysAt = (path: readonly PropertyKey[]): string[] => {
  let def = defOf(ManifestSchema);
  for (const segment of path) {
    if (def?.type === 'object') def = defOf(def.shape?.[String(segment)]);
    else if (def?.type === 'array') def = defOf(def.element);
    else return [];
  }
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
};

/** Edit distance counting a swap of two neighbours as one edit (`sha265`), giving up (Infinity) past `limit`. */
const distance = (a: string, b: string, limit: number): number => {
  if (Math.abs(a.length - b.length) > limit) return Number.POSITIVE_INFINITY;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      let best = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (before[j - 2] as number) + 1);
      }
      current.push(best);
    }
    if (Math.min(...current) > limit) return Number.POSITIVE_INFINITY;
    before = previous;
    previous = current;
  }
  return previous[b.length] as number;
};

/**
 * The known key an unknown one was probably meant to be (`capabilites` → `capabilities`, `Capacity` → `capacity`):
 * the nearest by edit distance, ignoring case, within a quarter of the key's length (at least 1, at most 3).
 */
const nearKey = (key: string, known: string[]): string | undefined => {
  if (key.length > MAX_KEY_CHARS) return undefined;
  const limit = Math.min(3, Math.max(1, Math.floor(key.length / 4)));
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const d = distance(key.toLowerCase(), candidate.toLowerCase(), limit);
    if (d <= limit && (!best || d < best.distance)) best = { key: candidate, distance: d };
  }
  return best?.key;
};

/**
 * The errors of one zod issue. `hints` is how many more errors will be kept (see `capped`): only those get a near-key
 * suggestion, so 20,000 unknown keys cost 20 suggestions, not 20,000.
 */
const formatIssue = (issue: z.core.$ZodIssue, hints: number): StatusError[] => {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(issue.path);
    return issue.keys.map((key, index) => {
      const path = pathOf([...issue.path, key]);
      const near = index < hints ? nearKey(key, known) : undefined;
      const hint = near === undefined ? '' : `; did you mean \`${near}\`?`;
      return {
        code: 'MANIFEST_INVALID',
        path,
        message: `Expected no key \`${path}\`: manifest v1 does not define it${hint}`,
      };
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
    return invalid(`Expected the manifest to be JSON, got a syntax error at ${describeJsonError(text, error)}`);
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
  const errors: StatusError[] = [];
  for (const issue of result.error.issues) errors.push(...formatIssue(issue, MAX_ERRORS - errors.length));
  return { ok: false, errors: capped(errors) };
};

/**
 * The schema's identifier. A URN, not a URL: it names the schema wherever the file is (in this repository, in
 * `node_modules/algolib-pipeline/schema/` of a library's repository) without promising a download address that no
 * one hosts; a manifest points editors at the file itself with `$schema` (a relative path, written by `algolib init`).
 */
export const MANIFEST_SCHEMA_ID = 'urn:algolib-pipeline:manifest:v1';

/** Where a manifest's `$schema` can point when the CLI is installed in the library's repository. */
export const INSTALLED_SCHEMA_PATH = 'node_modules/algolib-pipeline/schema/manifest-v1.schema.json';

/**
 * The JSON Schema shipped in `schema/manifest-v1.schema.json`, generated from `ManifestSchema`, for editors: it is the
 * function's schema except that nothing in `package` is required, because `algolib publish` fills it in from the
 * file it uploads (the function's own parse, `parseManifest`, still requires it: it reads what publish uploaded).
 *
 * @example
 * ```ts
 * writeFileSync('schema/manifest-v1.schema.json', JSON.stringify(manifestJsonSchema(), null, 2));
 * ```
 */
export const manifestJsonSchema = (): Record<string, unknown> => {
  const schema = z.toJSONSchema(ManifestSchema, { io: 'input', target: 'draft-2020-12' }) as unknown as {
    required: string[];
    properties: { package: { required?: string[] } };
  } & Record<string, unknown>;
  schema.required = schema.required.filter((key) => key !== 'package');
  delete schema.properties.package.required;
  return {
    $id: MANIFEST_SCHEMA_ID,
    $comment: `Reference it from a manifest with "$schema": the path of this file relative to the manifest, e.g. "./${INSTALLED_SCHEMA_PATH}" when the CLI is installed in the repository (algolib init writes it).`,
    ...schema,
  };
};

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
