import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { algoLibParameters, MANIFEST_MAX_BYTES, manifestJsonSchema, parseManifest } from '../../shared/manifest.ts';
import { validManifest } from '../fakes/register-deps.ts';

const bytes = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
const errorsOf = (value: unknown) => {
  const result = parseManifest(bytes(value));
  return result.ok ? [] : result.errors;
};

describe('parseManifest', () => {
  it('accepts the documented example', () => {
    // Arrange
    const manifest = validManifest();

    // Act
    const result = parseManifest(bytes(manifest));

    // Assert
    expect(result).toEqual({ ok: true, manifest });
  });

  it('accepts the shipped sample once its package is filled in', () => {
    // Arrange
    const sample = JSON.parse(readFileSync('examples/face-detector-1.0.0.manifest.json', 'utf8'));

    // Act
    const result = parseManifest(bytes({ ...sample, package: { size: 423, crc64: '1' } }));

    // Assert
    expect(result.ok).toBe(true);
  });

  it.each([1, 50])('accepts a capacity of %i (CityVisual bounds Capacity to [1, 50])', (capacity) => {
    // Act / Assert
    expect(errorsOf(validManifest({ capacity }))).toEqual([]);
  });

  it.each([0, 51, 10_000, 2.5])("rejects a capacity of %s, saying CityVisual's limit in words", (capacity) => {
    // Act / Assert
    expect(errorsOf(validManifest({ capacity }))).toEqual([
      {
        code: 'MANIFEST_INVALID',
        path: 'capacity',
        message: `Expected \`capacity\` to be an integer from 1 to 50 (CityVisual's limit), got ${capacity}`,
      },
    ]);
  });

  it('pins the errors of a manifest wrong in every field', () => {
    // Arrange
    const manifest = {
      schemaVersion: 2,
      name: '9lives',
      version: '1.0',
      capabilities: ['face', 'FACE', 'FACE'],
      capacity: 100,
      objects: [
        {
          objType: 'Face',
          dbTableName: 'x',
          indexName: 'y',
          indexMode: 'DAILY',
          topicName: 'z',
          fields: [
            {
              name: 'a',
              type: 'string',
              mandatory: 'yes',
              isDatabaseField: false,
              isSearchEngineField: false,
              isMessageQueueField: false,
            },
            {
              name: 'a',
              type: 'string',
              mandatory: true,
              isDatabaseField: true,
              isSearchEngineField: true,
              isMessageQueueField: true,
            },
            {
              name: '1b',
              type: 'String',
              mandatory: true,
              isDatabaseField: true,
              isSearchEngineField: true,
              isMessageQueueField: true,
            },
          ],
        },
      ],
      package: { size: 0 },
      surprise: 1,
    };

    // Act
    const errors = errorsOf(manifest);

    // Assert
    expect(errors.map((error) => `${error.path}: ${error.message}`)).toMatchInlineSnapshot(`
      [
        "schemaVersion: Expected \`schemaVersion\` to be 1, got 2",
        "name: Expected \`name\` to start with a letter and contain only letters, digits, \`_\` and \`-\`, 2–64 characters, got "9lives"",
        "version: Expected \`version\` to be a semantic version such as 1.0.0 or 2.1.0-rc.1, got "1.0"",
        "capabilities.0: Expected \`capabilities.0\` to start with an upper-case letter and contain only upper-case letters, digits and \`_\`, 1–32 characters, got "face"",
        "capabilities.2: Expected \`capabilities.2\` to be unique, got "FACE" twice",
        "capacity: Expected \`capacity\` to be an integer from 1 to 50 (CityVisual's limit), got 100",
        "objects.0.objType: Expected \`objects.0.objType\` to start with a lower-case letter and contain only lower-case letters, digits and \`_\`, 1–32 characters, got "Face"",
        "objects.0.indexMode: Expected \`objects.0.indexMode\` to be \`INDEX_\` followed by upper-case letters and \`_\` (e.g. INDEX_PER_DAY), got "DAILY"",
        "objects.0.fields.0.mandatory: Expected \`objects.0.fields.0.mandatory\` to be true or false, got "yes"",
        "objects.0.fields.2.name: Expected \`objects.0.fields.2.name\` to start with a letter and contain only letters, digits and \`_\`, 1–64 characters, got "1b"",
        "objects.0.fields.2.type: Expected \`objects.0.fields.2.type\` to start with a lower-case letter and contain only lower-case letters, digits and \`_\`, 1–32 characters, got "String"",
        "package.size: Expected \`package.size\` to be a positive integer (bytes), got 0",
        "package: Expected \`package\` to have \`crc64\` or \`sha256\` (or both)",
        "surprise: Expected no key \`surprise\`: manifest v1 does not define it",
      ]
    `);
    expect(errors.every((error) => error.code === 'MANIFEST_INVALID')).toBe(true);
  });

  it.each([
    [
      'a field with no is…Field true',
      {
        objects: [
          {
            ...validManifest().objects[0],
            fields: [
              {
                name: 'a',
                type: 'string',
                mandatory: true,
                isDatabaseField: false,
                isSearchEngineField: false,
                isMessageQueueField: false,
              },
            ],
          },
        ],
      },
      'objects.0.fields.0',
    ],
    [
      'a repeated field name',
      {
        objects: [
          {
            ...validManifest().objects[0],
            fields: [validManifest().objects[0]?.fields[0], validManifest().objects[0]?.fields[0]],
          },
        ],
      },
      'objects.0.fields.1.name',
    ],
    ['a repeated objType', { objects: [validManifest().objects[0], validManifest().objects[0]] }, 'objects.1.objType'],
    ['a package with neither checksum', { package: { size: 10 } }, 'package'],
    ['a CRC-64 past 2^64', { package: { size: 10, crc64: '18446744073709551616' } }, 'package.crc64'],
    ['an upper-case SHA-256', { package: { size: 10, sha256: 'A'.repeat(64) } }, 'package.sha256'],
    ['a __proto__ key', JSON.parse('{"__proto__": {"polluted": true}}'), '__proto__'],
    [
      'a constructor key in a field',
      { objects: [{ ...validManifest().objects[0], constructor: 1 }] },
      'objects.0.constructor',
    ],
    ['no objects', { objects: [] }, 'objects'],
    [
      '33 objects',
      { objects: Array.from({ length: 33 }, (_, i) => ({ ...validManifest().objects[0], objType: `o${i}` })) },
      'objects',
    ],
  ])('rejects %s at its path', (_case, overrides, path) => {
    // Arrange
    const manifest = { ...validManifest(), ...overrides };

    // Act
    const errors = errorsOf(manifest);

    // Assert
    expect(errors.map((error) => error.path)).toContain(path);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['not JSON', '{"name": '],
    ['not an object', '[1, 2]'],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
  ])('rejects a manifest that is %s with one clear error', (_case, input) => {
    // Arrange
    const input_ = typeof input === 'string' ? Buffer.from(input) : input;

    // Act
    const result = parseManifest(input_);

    // Assert
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors).toHaveLength(1);
  });

  it.each([
    ['capabilites', {}, 'capabilites', 'capabilities'],
    ['Capacity', {}, 'Capacity', 'capacity'],
    ['schema_version', {}, 'schema_version', 'schemaVersion'],
    ['objtype in an object config', { objIndex: 0 }, 'objects.0.objtype', 'objType'],
    ['mandtory in a field', { fieldIndex: 0 }, 'objects.0.fields.0.mandtory', 'mandatory'],
    ['sha265 in package', { inPackage: true }, 'package.sha265', 'sha256'],
  ])('suggests the near key for the unknown key %s', (_case, where, path, near) => {
    // Arrange
    const manifest = validManifest();
    const key = path.split('.').at(-1) as string;
    const target: Record<string, unknown> =
      'objIndex' in where
        ? (manifest.objects[0] as unknown as Record<string, unknown>)
        : 'fieldIndex' in where
          ? (manifest.objects[0]?.fields[0] as unknown as Record<string, unknown>)
          : 'inPackage' in where
            ? (manifest.package as unknown as Record<string, unknown>)
            : (manifest as unknown as Record<string, unknown>);
    target[key] = 'x';

    // Act
    const errors = errorsOf(manifest);

    // Assert
    expect(errors).toContainEqual({
      code: 'MANIFEST_INVALID',
      path,
      message: `Expected no key \`${path}\`: manifest v1 does not define it; did you mean \`${near}\`?`,
    });
  });

  it('suggests nothing for an unknown key far from every known one', () => {
    // Act
    const errors = errorsOf(validManifest({ extra: true, capabilitiesAndMore: 1 }));

    // Assert
    expect(errors.map((error) => error.message)).toEqual([
      'Expected no key `extra`: manifest v1 does not define it',
      'Expected no key `capabilitiesAndMore`: manifest v1 does not define it',
    ]);
  });

  it('says the rule in words for a value of the wrong type, too', () => {
    // Act
    const errors = errorsOf(validManifest({ name: 5, version: undefined }));

    // Assert
    expect(errors.map((error) => error.message)).toMatchInlineSnapshot(`
      [
        "Expected \`name\` to be a string and start with a letter and contain only letters, digits, \`_\` and \`-\`, 2–64 characters, got 5",
        "Expected \`version\` to be a string and a semantic version such as 1.0.0 or 2.1.0-rc.1, got nothing",
      ]
    `);
  });

  it.each([
    ['a missing value', '{\n  "schemaVersion": 1,\n  "name": ,\n}', 'line 3, column 11: expected a value, got `,`'],
    [
      'a trailing comma',
      '{\n  "schemaVersion": 1,\n  "capabilities": ["FACE",]\n}',
      'line 3, column 27: expected a value, got `]` (a comma before `]`?)',
    ],
    [
      'an unclosed string',
      '{\n  "name": "face\n}',
      'line 2, column 16: expected the string to close with `"` before a line break (write \\n for one)',
    ],
    [
      'a cut-off file',
      '{\n  "objects": [\n    {',
      'line 3, column 6: expected a property name in double quotes, got the end of the file',
    ],
  ])('gives line and column for %s', (_case, text, where) => {
    // Act
    const errors = errorsOf(text);

    // Assert
    expect(errors).toEqual([
      { code: 'MANIFEST_INVALID', message: `Expected the manifest to be JSON, got a syntax error at ${where}` },
    ]);
  });

  it('accepts a UTF-8 byte-order mark', () => {
    // Arrange
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes(validManifest())]);

    // Act
    const result = parseManifest(withBom);

    // Assert
    expect(result.ok).toBe(true);
  });

  it.each([
    ['at the top', (json: string) => `${json.slice(0, -1)},"capacity":40}`, 'capacity'],
    ['spelled with an escape', (json: string) => `${json.slice(0, -1)},"c\\u0061pacity":40}`, 'capacity'],
    [
      'inside a field of an object config',
      (json: string) => json.replace('"type":"string"', '"type":"string","type":"long"'),
      'objects.0.fields.0.type',
    ],
    [
      'in the second of two fields',
      (json: string) => json.replace('"name":"fileId"', '"name":"fileId","name":"fileId"'),
      'objects.0.fields.1.name',
    ],
  ])('rejects a manifest whose raw JSON repeats a key %s (soak seed 1, pair 79)', (_case, edit, path) => {
    // Arrange: JSON.parse keeps the last value; another reader may keep the first.
    const json = edit(JSON.stringify(validManifest()));

    // Act
    const errors = errorsOf(json);

    // Assert
    expect(errors).toEqual([
      {
        code: 'MANIFEST_INVALID',
        path,
        message: `Expected \`${path}\` once, got it twice: JSON readers disagree on which value counts`,
      },
    ]);
  });

  it('accepts the same key in different objects and key-like strings in values', () => {
    // Arrange: every field has a `name`; a value that looks like a key is not one.
    const manifest = validManifest({ text: '{"name":"a","name":"b"}', $schema: 'x","name":"y' });

    // Act
    const result = parseManifest(bytes(manifest));

    // Assert
    expect(result.ok).toBe(true);
  });

  it.each(['abc', '1.5', 'ffffffffffffffff', '-1'])(
    'rejects the CRC-64 %j at its path instead of throwing from the parser (fuzz seed 20261129)',
    (crc64) => {
      // Arrange: the range check ran BigInt() on what the pattern had already refused.
      const manifest = validManifest({ package: { size: 3, crc64 } });

      // Act
      const errors = errorsOf(manifest);

      // Assert
      expect(errors).toEqual([
        {
          code: 'MANIFEST_INVALID',
          path: 'package.crc64',
          message: `Expected \`package.crc64\` to be a decimal CRC-64/ECMA-182 value (as in x-oss-hash-crc64ecma), got ${JSON.stringify(crc64)}`,
        },
      ]);
    },
  );

  it.each([
    ['an array', '['.repeat(100_000) + ']'.repeat(100_000), 'a deeply nested array'],
    ['an object', `${'{"a":'.repeat(40_000)}0${'}'.repeat(40_000)}`, 'a deeply nested object'],
  ])(
    'rejects %s nested 40,000+ deep at its path instead of overflowing the stack (fuzz seed 20261129)',
    (_case, nested, shown) => {
      // Arrange: JSON.parse takes it; rendering it for the message with JSON.stringify threw RangeError.
      const json = JSON.stringify(validManifest()).replace('"capacity":30', `"capacity":${nested}`);

      // Act
      const errors = errorsOf(json);

      // Assert
      expect(errors).toEqual([
        {
          code: 'MANIFEST_INVALID',
          path: 'capacity',
          message: `Expected \`capacity\` to be an integer from 1 to 50 (CityVisual's limit), got ${shown}`,
        },
      ]);
    },
  );

  it('lists at most 20 errors and shortens keys longer than 64 characters in paths', () => {
    // Arrange
    const manifest: Record<string, unknown> = validManifest({ ['x'.repeat(100_000)]: 1 });
    for (let i = 0; i < 100; i += 1) manifest[`k${i}`] = 0;

    // Act
    const errors = errorsOf(manifest);

    // Assert
    expect(errors).toHaveLength(20);
    expect(errors[0]).toEqual({
      code: 'MANIFEST_INVALID',
      path: `${'x'.repeat(63)}…`,
      message: `Expected no key \`${'x'.repeat(63)}…\`: manifest v1 does not define it`,
    });
    expect(errors[19]?.message).toBe('Expected no key `k18`: manifest v1 does not define it (and 81 more errors)');
  });

  it('rejects a manifest over 256 KiB before parsing it', () => {
    // Arrange
    const big = Buffer.alloc(MANIFEST_MAX_BYTES + 1, 0x20);

    // Act
    const result = parseManifest(big);

    // Assert
    expect(result).toEqual({
      ok: false,
      errors: [{ code: 'MANIFEST_TOO_LARGE', message: `Expected the manifest to be at most 262144 bytes, got 262145` }],
    });
  });

  it('measures text in UTF-8 bytes, not characters', () => {
    // Arrange: 30,000 three-byte characters are 90,000 bytes.
    const manifest = validManifest({ text: '检'.repeat(30_000) });

    // Act
    const errors = errorsOf(manifest);

    // Assert
    expect(errors.map((error) => error.path)).toEqual(['text']);
  });
});

describe('algoLibParameters', () => {
  it('joins capabilities and serialises objects as JsonText and indented Text', () => {
    // Arrange
    const manifest = validManifest() as Parameters<typeof algoLibParameters>[0];

    // Act
    const params = algoLibParameters(manifest);

    // Assert
    expect(params.CapabilityNames).toBe('FACE,PERSON');
    expect(JSON.parse(params.JsonText)).toEqual(manifest.objects);
    expect(params.Text).toContain('\n  ');
  });

  it('uses the manifest text when given', () => {
    // Arrange
    const manifest = validManifest({ text: 'person offline config' }) as Parameters<typeof algoLibParameters>[0];

    // Act / Assert
    expect(algoLibParameters(manifest).Text).toBe('person offline config');
  });
});

describe('manifest JSON Schema', () => {
  type Node = { properties?: Record<string, Node>; items?: Node; description?: string; required?: string[] };
  const schema = () => manifestJsonSchema() as Node & { $id: string };

  it('describes every field, at every level', () => {
    // Arrange
    const undescribed: string[] = [];
    const walk = (node: Node, path: string) => {
      if (!node.description) undescribed.push(path || '(root)');
      for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, path ? `${path}.${key}` : key);
      if (node.items) walk(node.items, `${path}[]`);
    };

    // Act
    walk(schema(), '');

    // Assert
    expect(undescribed).toEqual([]);
  });

  it('leaves `package` to algolib publish, while the function still requires it', () => {
    // Arrange
    const { package: _filledByPublish, ...withoutPackage } = validManifest();

    // Act
    const jsonSchema = schema();
    const parsed = parseManifest(bytes(withoutPackage));

    // Assert
    expect(jsonSchema.required).not.toContain('package');
    expect(jsonSchema.properties?.package?.required).toBeUndefined();
    expect(jsonSchema.properties?.package?.description).toMatch(/filled by `algolib publish`/);
    expect(parsed.ok ? [] : parsed.errors.map((error) => error.path)).toEqual(['package']);
  });

  it('is identified by a URN that does not depend on where the file is', () => {
    expect(schema().$id).toBe('urn:algolib-pipeline:manifest:v1');
  });

  it('matches the zod schema it is generated from (run `npm run schema` after changing the schema)', () => {
    // Arrange
    const shipped = JSON.parse(readFileSync('schema/manifest-v1.schema.json', 'utf8'));

    // Act
    const generated = JSON.parse(JSON.stringify(manifestJsonSchema()));

    // Assert
    expect(shipped).toEqual(generated);
  });
});
