import { describe, expect, it } from 'vitest';
import { fitLine, fitText, widthOf } from '../../cli/fit.ts';
import { invokedAs } from '../../cli/invocation.ts';
import { progressFrame } from '../../cli/progress-line.ts';

const MiB = 1024 * 1024;

describe('widthOf', () => {
  it.each([
    [{ isTTY: true, columns: 120 }, 120],
    [{ isTTY: true, columns: 60 }, 80],
    [{ isTTY: false, columns: 200 }, 80],
    [{}, 80],
  ])('fits %o into %i columns (80 at least, 80 off a terminal)', (stream, width) => {
    expect(widthOf(stream)).toBe(width);
  });
});

describe('fitText', () => {
  it('continues an option description under its column', () => {
    const line = `  --timeout <s>      ${'Seconds to wait with --wait before giving up on the answer '.repeat(2).trim()}`;

    expect(fitLine(line, 80)).toEqual([
      '  --timeout <s>      Seconds to wait with --wait before giving up on the answer',
      '                     Seconds to wait with --wait before giving up on the answer',
    ]);
  });

  it('breaks a long example command with a shell continuation, every word intact', () => {
    const lines = fitLine(
      '  npx algolib publish dist/face-1.2.0.tar.gz --bucket my-algolibs --region oss-cn-hangzhou --wait --json',
      60,
    );

    expect(lines).toEqual([
      '  npx algolib publish dist/face-1.2.0.tar.gz --bucket \\',
      '      my-algolibs --region oss-cn-hangzhou --wait --json',
    ]);
  });

  it('reflows a paragraph instead of leaving a ragged line per source line', () => {
    const text = `${'word '.repeat(18).trim()}\nmore words here.\n\nOptions:`;

    expect(fitText(text, 40).split('\n')).toEqual([
      'word word word word word word word word',
      'word word word word word word word word',
      'word word more words here.',
      '',
      'Options:',
    ]);
  });

  it('continues the synopsis under its first argument', () => {
    const lines = fitLine('Usage: algolib publish <file.tar.gz> [--manifest <file>] [--bucket b] [--prefix p]', 50);

    expect(lines).toEqual([
      'Usage: algolib publish <file.tar.gz> [--manifest',
      '                       <file>] [--bucket b]',
      '                       [--prefix p]',
    ]);
  });
});

describe('invokedAs', () => {
  it.each([
    [{ npm_command: 'exec', npm_lifecycle_event: 'npx' }, '/root/.npm/_npx/1/node_modules/.bin/algolib', 'npx algolib'],
    [{ npm_command: 'start', npm_lifecycle_event: 'start' }, '/src/p/bin/algolib.js', 'npx algolib'],
    [{}, '/usr/local/bin/algolib', 'algolib'],
    [{}, '/src/p/bin/algolib.js', 'node bin/algolib.js'],
    [{}, '/elsewhere/bin/algolib.js', 'node /elsewhere/bin/algolib.js'],
  ])('%o running %s → %s', (env, script, expected) => {
    expect(invokedAs(env, script, '/src/p')).toBe(expected);
  });
});

describe('progressFrame', () => {
  const frame = (done: number, elapsedMs: number, width = 80, label = 'uploading face-detector-1.0.0.tar.gz') =>
    progressFrame({ label, done, total: 60 * MiB, elapsedMs }, width);

  it('shows no rate or time left before there is a second of progress to measure (no "0 B/s", no "NFs")', () => {
    expect(frame(0, 0)).toBe(`uploading face-detector-1.0.0.tar.gz [${'░'.repeat(26)}] 0% 0 B/60 MiB`);
    expect(frame(6 * MiB, 400)).not.toMatch(/B\/s|left|NaN|Infinity|NF/);
  });

  it('shows the rate and an honest time left once measured', () => {
    expect(frame(20 * MiB, 2_000, 100)).toBe(
      `uploading face-detector-1.0.0.tar.gz [${'█'.repeat(10)}${'░'.repeat(19)}] 33% 20/60 MiB 10 MiB/s 4s left`,
    );
  });

  it.each([80, 100, 120, 200])('never takes more than %i - 1 columns', (width) => {
    for (const done of [0, 1, 6.7 * MiB, 30 * MiB, 60 * MiB]) {
      for (const label of ['uploading a.tar.gz', `uploading ${'very-long-library-name-'.repeat(5)}1.0.0.tar.gz`]) {
        expect(frame(done, 3_000, width, label).length).toBeLessThanOrEqual(width - 1);
      }
    }
  });

  it('drops the rate before cutting the bytes, and shortens only a label that cannot fit', () => {
    const long = `uploading ${'x'.repeat(90)}.tar.gz`;

    expect(frame(30 * MiB, 3_000, 80, long)).toMatch(/^uploading x+… \[█{5}░{5}\] 50%$/);
  });
});
