import picocolors from 'picocolors';
import { describe, expect, it } from 'vitest';
import { outcomeLines, statusLines } from '../../cli/status-view.ts';
import { sampleStatus } from '../fixtures/status-document.ts';

const plain = picocolors.createColors(false);
const registered = (overrides: Parameters<typeof sampleStatus>[0]) => sampleStatus({ errors: [], ...overrides });

describe('outcomeLines of a REGISTERED upload', () => {
  it.each([
    [{ change: 'created' as const }, 'registered face@1.2.0: AlgoLibId 36 (created)'],
    [
      {
        change: 'updated' as const,
        created: false,
        previous: { version: '1.1.0', packageKey: 'library/face/face-1.1.0.tar.gz' },
      },
      'updated face 1.1.0 → 1.2.0: AlgoLibId 36',
    ],
    [
      { change: 'unchanged' as const, created: false },
      'already registered, unchanged: face@1.2.0, AlgoLibId 36 (nothing to do)',
    ],
    // Status documents from before `change` existed keep today's wording.
    [{ created: true }, 'registered face@1.2.0: AlgoLibId 36 (created)'],
    [{ created: false }, 'registered face@1.2.0: AlgoLibId 36 (already registered: an identical library existed)'],
  ])('%o → %s', (overrides, line) => {
    expect(outcomeLines(registered(overrides), plain)).toEqual([line]);
  });
});

describe('statusLines', () => {
  it('says what an update replaced', () => {
    const lines = statusLines(
      registered({
        change: 'updated',
        created: false,
        previous: { version: '1.1.0', packageKey: 'library/face/face-1.1.0.tar.gz' },
      }),
      'status/library/face/face-1.2.0.json',
      plain,
    );

    expect(lines).toContain(
      '  change         updated from 1.1.0 (oss://algolib-packages/library/face/face-1.1.0.tar.gz)',
    );
  });

  it('says an unchanged upload is already registered', () => {
    const lines = statusLines(registered({ change: 'unchanged', created: false }), 'status/x.json', plain);

    expect(lines).toContain('  change         unchanged (already registered)');
  });
});
