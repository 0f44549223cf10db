import { describe, expect, it } from 'vitest';
import { libraryDetail, libraryNameOf, libraryRows, type RegistryObjects } from '../../console/registry.ts';
import { scrubSecrets } from '../../console/server.ts';
import { createInvocationLog } from '../../local/fc/invocation-log.ts';
import type { LibraryRecord } from '../../shared/library-record.ts';
import type { StatusDocument } from '../../shared/status.ts';
import { sampleStatus } from '../fixtures/status-document.ts';

type Overrides = { [K in keyof StatusDocument]?: StatusDocument[K] | undefined };

/** A status document of `name@version`; an override of `undefined` removes the field. */
const statusOf = (name: string, version: string, overrides: Overrides = {}): [string, StatusDocument] => {
  const packageKey = `library/${name}/${name}-${version}.tar.gz`;
  const document: Record<string, unknown> = {
    ...sampleStatus({
      name,
      version,
      errors: [],
      package: { bucket: 'b', key: packageKey },
      manifest: { key: packageKey.replace(/\.tar\.gz$/, '.manifest.json') },
    }),
    ...overrides,
  };
  for (const [field, value] of Object.entries(document)) if (value === undefined) delete document[field];
  return [`status/library/${name}/${name}-${version}.json`, document as StatusDocument];
};

const objects = (statuses: Array<[string, StatusDocument]>, records: LibraryRecord[] = []): RegistryObjects => ({
  statuses: new Map(statuses),
  records: new Map(records.map((record) => [record.name, record])),
});

describe('libraryRows', () => {
  it('derives a library from its status documents alone: the newest upload state, the newest registered version', () => {
    // Arrange
    const registry = objects([
      statusOf('face', '1.0.0', { algoLibId: '7', updatedAt: '2026-12-01T00:00:00.000Z' }),
      statusOf('face', '1.1.0', {
        state: 'REJECTED',
        algoLibId: undefined,
        errors: [{ code: 'MANIFEST_INVALID', message: 'm', path: 'capacity' }],
        updatedAt: '2026-12-02T00:00:00.000Z',
      }),
    ]);

    // Act
    const rows = libraryRows(registry);

    // Assert
    expect(rows).toEqual([
      {
        name: 'face',
        version: '1.0.0',
        algoLibId: '7',
        state: 'REJECTED',
        change: undefined,
        updatedAt: '2026-12-02T00:00:00.000Z',
        uploads: 2,
        source: 'status',
      },
    ]);
  });

  it('takes the current version from the library record and sorts libraries by newest activity', () => {
    // Arrange
    const record: LibraryRecord = {
      schemaVersion: 1,
      name: 'face',
      algoLibId: '7',
      version: '1.1.0',
      latest: {
        version: '1.1.0',
        packageKey: 'library/face/face-1.1.0.tar.gz',
        statusKey: 'status/library/face/face-1.1.0.json',
        state: 'REGISTERED',
        change: 'updated',
        at: '2026-12-03T00:00:00.000Z',
      },
      history: [],
      generation: 0,
      updatedAt: '2026-12-03T00:00:00.000Z',
    };
    const registry = objects(
      [
        statusOf('face', '1.1.0', { change: 'updated', updatedAt: '2026-12-03T00:00:00.000Z' }),
        statusOf('plate', '2.0.0', { updatedAt: '2026-12-04T00:00:00.000Z' }),
      ],
      [record],
    );

    // Act
    const rows = libraryRows(registry);

    // Assert
    expect(rows.map((row) => [row.name, row.version, row.change, row.source])).toEqual([
      ['plate', '2.0.0', undefined, 'status'],
      ['face', '1.1.0', 'updated', 'record'],
    ]);
  });
});

describe('libraryDetail', () => {
  it("merges status documents with the record's history, newest first, and marks history-only uploads", () => {
    // Arrange
    const registry = objects(
      [statusOf('face', '1.1.0', { updatedAt: '2026-12-02T00:00:00.000Z' })],
      [
        {
          schemaVersion: 1,
          name: 'face',
          latest: {
            version: '1.1.0',
            packageKey: 'library/face/face-1.1.0.tar.gz',
            statusKey: 'status/library/face/face-1.1.0.json',
            state: 'REGISTERED',
            at: '2026-12-02T00:00:00.000Z',
          },
          history: [
            {
              version: '1.0.0',
              packageKey: 'library/face/face-1.0.0.tar.gz',
              statusKey: 'status/library/face/face-1.0.0.json',
              state: 'CONFLICT',
              codes: ['NAME_CONFLICT'],
              at: '2026-12-01T00:00:00.000Z',
            },
          ],
          generation: 0,
          updatedAt: '2026-12-02T00:00:00.000Z',
        },
      ],
    );

    // Act
    const detail = libraryDetail('face', registry);

    // Assert
    expect(detail?.uploads.map((u) => [u.version, u.state, u.detailed, u.errors.map((e) => e.code)])).toEqual([
      ['1.1.0', 'REGISTERED', true, []],
      ['1.0.0', 'CONFLICT', false, ['NAME_CONFLICT']],
    ]);
    expect(libraryDetail('nothing', registry)).toBeUndefined();
  });

  it('names a library whose manifest never parsed after its folder, and its version after the file name', () => {
    // Arrange
    const [key, document] = statusOf('face', '2.0.0', { state: 'REJECTED', name: undefined, version: undefined });

    // Act
    const detail = libraryDetail('face', objects([[key, document]]));

    // Assert
    expect(libraryNameOf(document)).toBe('face');
    expect(detail?.uploads[0]?.version).toBe('2.0.0');
  });
});

describe('scrubSecrets', () => {
  it('replaces every secret of 8 characters or more, wherever it appears', () => {
    expect(
      scrubSecrets('{"a":"s3cretValue","b":"x s3cretValue y","c":"short"}', ['s3cretValue', 'short', undefined]),
    ).toBe('{"a":"[redacted]","b":"x [redacted] y","c":"short"}');
  });
});

describe('createInvocationLog', () => {
  it('gives each line to the running attempt it names, and keeps the trigger of each request', () => {
    // Arrange
    const log = createInvocationLog(2);
    log.triggered('req-a', 'oss:manifest-uploaded', 'library/a/a-1.0.0.manifest.json');
    log.started({ requestId: 'req-a', function: 'algolib/register', kind: 'async', attempt: 1 });
    log.started({ requestId: 'req-b', function: 'algolib/register', kind: 'sync', attempt: 1 });

    // Act
    log.output('2026-12-06T00:00:00.000Z req-b [info] hello');
    log.output('{"requestId":"req-a","step":"done"}');
    log.output('a line that names no request');
    log.finished('req-a', 'failed', 12, 'FunctionTimeout');
    log.started({ requestId: 'req-c', function: 'algolib/register', kind: 'sync', attempt: 1 });

    // Assert
    // The newest two attempts, newest first; req-a's was dropped by the bound, and the line naming no request had two
    // candidates, so it went nowhere.
    expect(log.list().map((entry) => entry.requestId)).toEqual(['req-c', 'req-b']);
    expect(log.list()[1]).toMatchObject({
      trigger: 'InvokeFunction',
      lines: ['2026-12-06T00:00:00.000Z req-b [info] hello'],
    });
  });

  it('records the outcome, duration and error type of an attempt', () => {
    // Arrange
    const log = createInvocationLog();
    log.triggered('req-a', 'oss:package-uploaded', 'library/a/a-1.0.0.tar.gz');
    log.started({ requestId: 'req-a', function: 'algolib/register', kind: 'async', attempt: 2 });

    // Act
    log.output('only one attempt runs, so this is its line');
    log.finished('req-a', 'failed', 40, 'FunctionTimeout');

    // Assert
    expect(log.list()).toEqual([
      {
        requestId: 'req-a',
        function: 'algolib/register',
        trigger: 'oss:package-uploaded',
        key: 'library/a/a-1.0.0.tar.gz',
        kind: 'async',
        attempt: 2,
        startedAt: expect.any(String),
        outcome: 'failed',
        ms: 40,
        errorType: 'FunctionTimeout',
        lines: ['only one attempt runs, so this is its line'],
      },
    ]);
  });
});
