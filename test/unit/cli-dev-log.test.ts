import picocolors from 'picocolors';
import { describe, expect, it } from 'vitest';
import { classifyLogEntry, devLogPrinter } from '../../cli/dev-log.ts';
import type { Output } from '../../cli/output.ts';

const ESC = '\u001b';

const functionLine = (fields: Record<string, unknown>) => ({
  service: 'fc',
  stream: 'stdout',
  line: JSON.stringify({ time: '2026-12-01T00:00:00.000Z', level: 'info', requestId: 'r', ...fields }),
});

const claimTaken = {
  service: 'oss',
  op: 'PutObject',
  bucket: 'algolib-local',
  key: 'status/.claims/face/000000.json',
  status: 409,
  code: 'FileAlreadyExists',
  ms: 1,
};

describe('classifyLogEntry', () => {
  it.each([
    ['a claim already taken', claimTaken, 'expected'],
    [
      'a status not written yet',
      { service: 'oss', op: 'GetObject', key: 'status/library/a/a-1.0.0.json', status: 404, code: 'NoSuchKey' },
      'expected',
    ],
    ['claim.busy', functionLine({ step: 'claim.busy', outcome: 'waiting' }), 'expected'],
    ['status.replayed', functionLine({ step: 'status.replayed', outcome: 'unchanged' }), 'expected'],
    ['a registration', functionLine({ step: 'status.written', outcome: 'REGISTERED' }), 'outcome'],
    ['a refusal', functionLine({ step: 'status.written', outcome: 'REJECTED' }), 'problem'],
    ['a delivered webhook', functionLine({ step: 'webhook.delivery', delivered: true }), 'outcome'],
    ['an undelivered webhook', functionLine({ step: 'webhook.delivery', delivered: false }), 'problem'],
    ['a warning of the function', functionLine({ level: 'warn', step: 'cityvisual.retry' }), 'problem'],
    ['a stack on stderr', { service: 'fc', stream: 'stderr', line: 'TypeError: x is undefined' }, 'problem'],
    ['an OSS 503', { service: 'oss', op: 'PutObject', key: 'library/a.tar.gz', status: 503 }, 'problem'],
    ['an OSS 403', { service: 'oss', op: 'PutObject', key: 'library/a.tar.gz', status: 403 }, 'problem'],
    ['an upload', { service: 'oss', op: 'PutObject', key: 'library/a.tar.gz', status: 200 }, 'routine'],
    ['a finished invocation', { service: 'fc', kind: 'async', outcome: 'succeeded' }, 'outcome'],
    ['a failed invocation', { service: 'fc', kind: 'async', outcome: 'failed' }, 'problem'],
    ['an unverified webhook', { service: 'webhook', verified: false, status: 401 }, 'problem'],
  ])('%s is %s', (_what, entry, meaning) => {
    expect(classifyLogEntry(entry).meaning).toBe(meaning);
  });
});

describe('devLogPrinter', () => {
  const capture = (colors: boolean) => {
    const lines: string[] = [];
    const out = {
      colors: picocolors.createColors(colors),
      note: (line: string) => lines.push(line),
    } as unknown as Output;
    return { lines, out };
  };

  it('marks an expected outcome in words, and dims it on a terminal', () => {
    const { lines, out } = capture(true);

    devLogPrinter(out, { quiet: false, filter: undefined })(claimTaken);

    expect(lines).toHaveLength(1);
    expect(lines[0]?.startsWith(`${ESC}[2m`)).toBe(true);
    expect(lines[0]?.endsWith(`${ESC}[22m`)).toBe(true);
    expect(lines[0]).toContain('409 FileAlreadyExists');
    expect(lines[0]).toContain('(expected: the claim is already held; ');
  });

  it('colours problems red and outcomes green on a terminal, and nothing without one', () => {
    const terminal = capture(true);
    const pipe = capture(false);
    for (const { out } of [terminal, pipe]) {
      const print = devLogPrinter(out, { quiet: false, filter: undefined });
      print({ service: 'oss', op: 'PutObject', key: 'library/a.tar.gz', status: 503 });
      print(functionLine({ step: 'status.written', outcome: 'REGISTERED' }));
    }

    expect(terminal.lines[0]?.startsWith(`${ESC}[31m`)).toBe(true);
    expect(terminal.lines[1]?.startsWith(`${ESC}[32m`)).toBe(true);
    expect(pipe.lines.join('')).not.toContain(ESC);
  });

  it('keeps only outcomes and problems with --quiet, and only matching lines with --filter', () => {
    const quiet = capture(false);
    const filtered = capture(false);
    const entries = [
      claimTaken,
      { service: 'oss', op: 'PutObject', key: 'library/road/road-1.0.0.tar.gz', status: 200 },
      functionLine({ step: 'status.written', key: 'library/face/face-1.0.0.tar.gz', outcome: 'REGISTERED' }),
      { service: 'oss', op: 'GetObject', key: 'library/road/x', status: 500 },
    ];
    for (const entry of entries) {
      devLogPrinter(quiet.out, { quiet: true, filter: undefined })(entry);
      devLogPrinter(filtered.out, { quiet: false, filter: 'ROAD' })(entry);
    }

    expect(quiet.lines.map((line) => line.split(' ').slice(1).join(' ').trim())).toEqual([
      'fc         status.written library/face/face-1.0.0.tar.gz REGISTERED',
      'oss        GetObject library/road/x 500',
    ]);
    expect(filtered.lines).toHaveLength(2);
    expect(filtered.lines.every((line) => line.includes('road'))).toBe(true);
  });
});
