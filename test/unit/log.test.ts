import { describe, expect, it } from 'vitest';
import { createLogger, scrub } from '../../shared/log.ts';

describe('scrub', () => {
  it.each([
    ['a form parameter', 'x=1&OssAccessKeySecret=abcdef&y=2', 'x=1&OssAccessKeySecret=***&y=2'],
    ['a JSON field', '{"accessKeySecret":"abcdef","a":1}', '{"accessKeySecret":"***","a":1}'],
    ['a signature', 'Signature=Zm9vYmFy%3D', 'Signature=***'],
    ['a known secret anywhere', 'failed with token tok-123456 inside', 'failed with token *** inside'],
  ])('masks %s', (_case, input, output) => {
    // Act / Assert
    expect(scrub(input, ['tok-123456'])).toBe(output);
  });
});

describe('createLogger', () => {
  it('writes one JSON line per call with the base fields, the step and the outcome, secrets masked', () => {
    // Arrange
    const lines: string[] = [];
    const log = createLogger(
      { requestId: 'req-1' },
      () => ['s3cr3t-value'],
      (line) => lines.push(line),
    );

    // Act
    log
      .child({ key: 'library/a.tar.gz' })
      .warn('cityvisual.create.retry', { outcome: 'retrying', error: new Error('denied for s3cr3t-value') });

    // Assert
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'warn',
      requestId: 'req-1',
      key: 'library/a.tar.gz',
      step: 'cityvisual.create.retry',
      outcome: 'retrying',
      error: { name: 'Error', message: 'denied for ***' },
    });
  });
});
