import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonSyntaxError } from '../../shared/json-syntax.ts';

const parses = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

describe('jsonSyntaxError', () => {
  it.each([
    ['{"name": }', 1, 10, 'expected a value, got `}`'],
    ['{"a":1,}', 1, 8, 'expected a property name in double quotes, got `}` (a comma before `}`?)'],
    ['{"a" 1}', 1, 6, 'expected `:` after the property name, got `1`'],
    ['{\n  "a": tru\n}', 2, 8, 'expected a value, got `tru`'],
    ['{"a":1}x', 1, 8, 'expected nothing after the JSON value, got `x`'],
    ['[1,\n2,,3]', 2, 3, 'expected a value, got `,`'],
    ['{"a":"\\q"}', 1, 7, 'expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u after `\\`, got `q`'],
    ['"\\u12"', 1, 2, 'expected 4 hex digits after `\\u`'],
    ['{"a":1 "b":2}', 1, 8, 'expected `,` or `}`, got `"`'],
    ['', 1, 1, 'expected a value, got the end of the file'],
    ['\uFEFF{}', 1, 1, 'expected a value, got a byte-order mark (U+FEFF)'],
    ['{"a":\u00A01}', 1, 6, 'expected a value, got the invisible character U+00A0'],
  ])('places the error in %j at line %i, column %i', (text, line, column, message) => {
    // Act
    const error = jsonSyntaxError(text);

    // Assert
    expect(parses(text)).toBe(false);
    expect(error).toMatchObject({ line, column, message });
  });

  it('finds nothing wrong in JSON nested 100,000 deep (no recursion)', () => {
    expect(jsonSyntaxError(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toBeUndefined();
  });

  it('agrees with JSON.parse on valid JSON and on JSON with one character changed', () => {
    // Arrange: mutations of real JSON are mostly near-misses, where a scanner and the parser could disagree.
    const mutated = fc
      .tuple(fc.jsonValue(), fc.nat(), fc.constantFrom('', ',', '}', ']', '"', ':', ' ', '\n', '\\', 'x', '0', '-'))
      .map(([value, at, char]) => {
        const text = JSON.stringify(value, null, at % 3);
        const i = at % (text.length + 1);
        return at % 2 === 0 ? text.slice(0, i) + char + text.slice(i + 1) : text.slice(0, i) + char + text.slice(i);
      });

    // Act / Assert
    fc.assert(
      fc.property(mutated, (text) => (jsonSyntaxError(text) === undefined) === parses(text)),
      { numRuns: 1000, seed: 20261206 },
    );
  });
});
