import { describe, expect, it } from 'vitest';
import { COMMON_OPTIONS, parseCommandArgs, parsePrefix, parseSeconds, parseSize } from '../../cli/args.ts';
import { UsageError } from '../../cli/errors.ts';

const usageMessage = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('Expected a UsageError');
};

describe('parseCommandArgs', () => {
  it('turns an unknown flag into a usage error for the command', () => {
    expect(usageMessage(() => parseCommandArgs('status', ['--nope'], COMMON_OPTIONS))).toMatchInlineSnapshot(
      `"Unknown option '--nope'"`,
    );
  });

  it('turns a missing option value into a usage error', () => {
    expect(usageMessage(() => parseCommandArgs('status', ['--x'], { x: { type: 'string' } }))).toMatch(
      /^Option '--x <value>' argument missing/,
    );
  });
});

describe('option values', () => {
  it.each([
    ['30', 30_000],
    ['0.5', 500],
    [undefined, 300_000],
  ])('reads --timeout %s as %i ms', (raw, ms) => {
    expect(parseSeconds('publish', 'timeout', raw, 300)).toBe(ms);
  });

  it.each(['abc', '0', '-1', ''])('refuses --timeout %j', (raw) => {
    expect(usageMessage(() => parseSeconds('publish', 'timeout', raw, 300))).toBe(
      `Expected \`--timeout\` to be a positive number of seconds, got ${raw}`,
    );
  });

  it.each([
    ['8MiB', 8 * 1024 * 1024],
    ['512k', 512 * 1024],
    ['1.5 MB', 1.5 * 1024 * 1024],
    ['102400', 102_400],
  ])('reads --part-size %s as %i bytes', (raw, bytes) => {
    expect(parseSize('publish', 'part-size', raw, 1, 100 * 1024)).toBe(bytes);
  });

  it('refuses a part size under the minimum', () => {
    expect(usageMessage(() => parseSize('publish', 'part-size', '1KiB', 1, 102_400))).toMatchInlineSnapshot(
      `"Expected \`--part-size\` to be a size of at least 102400 bytes (e.g. 512KiB, 8MiB), got 1KiB"`,
    );
  });

  it.each([
    ['library/', true],
    ['', true],
    ['library', false],
    ['/library/', false],
  ])('accepts the prefix %j: %s', (raw, ok) => {
    const parse = () => parsePrefix('publish', 'prefix', raw, 'library/');
    if (ok) expect(parse()).toBe(raw);
    else expect(usageMessage(parse)).toMatch(/^Expected `--prefix` to be empty or a key prefix ending with "\/"/);
  });
});
