import { describe, expect, it } from 'vitest';
import type { AlgoLib } from '../../shared/cityvisual.ts';
import type { LibraryRecord } from '../../shared/library-record.ts';
import { type Candidate, decideRelease, folderOf, type NameState } from '../../shared/release-decision.ts';

const candidate = (version: string, overrides: Partial<Candidate> = {}): Candidate => ({
  name: 'face',
  version,
  bucket: 'b',
  packageKey: `library/face/face-${version}.tar.gz`,
  manifestSha256: `sha-${version}`,
  ...overrides,
});

const library = (version: string, path = `library/face/face-${version}.tar.gz`, bucket = 'b'): AlgoLib => ({
  algoLibId: '36',
  name: 'face',
  version,
  location: { bucket, path },
});

const record = (version: string, overrides: Partial<LibraryRecord> = {}): LibraryRecord => {
  const packageKey = `library/face/face-${version}.tar.gz`;
  const upload = { version, packageKey, statusKey: `status/${packageKey}`, state: 'REGISTERED' as const, at: 't' };
  return {
    schemaVersion: 1,
    name: 'face',
    algoLibId: '36',
    version,
    package: { bucket: 'b', key: packageKey },
    manifestSha256: `sha-${version}`,
    owner: { bucket: 'b', folder: 'library/face/' },
    latest: upload,
    history: [upload],
    generation: 0,
    updatedAt: 't',
    ...overrides,
  };
};

const state = (overrides: Partial<NameState> = {}): NameState => ({
  library: undefined,
  record: undefined,
  currentManifestSha256: undefined,
  currentAnswered: false,
  interrupted: false,
  sameFields: false,
  ...overrides,
});

describe('decideRelease', () => {
  describe('first of its name', () => {
    it('creates when CityVisual has no library of that name', () => {
      expect(decideRelease(state(), candidate('1.0.0'), 'upgrade')).toEqual({ action: 'create' });
    });
  });

  describe('a newer version from the owning folder', () => {
    it.each([
      ['1.0.0', '1.0.1'],
      ['1.0.0', '1.1.0'],
      ['1.9.0', '1.10.0'],
      ['1.0.0-rc.1', '1.0.0'],
      ['1.0.0-alpha', '1.0.0-alpha.1'],
      ['1.0.0-alpha.1', '1.0.0-beta'],
      ['1.0.0-beta.2', '1.0.0-beta.11'],
      ['1.0.0-rc.1', '1.0.0-rc.1.1'],
    ])('updates %s → %s (semver precedence)', (from, to) => {
      const decision = decideRelease(
        state({ library: library(from), record: record(from), currentManifestSha256: `sha-${from}` }),
        candidate(to),
        'upgrade',
      );
      expect(decision).toEqual({
        action: 'update',
        algoLibId: '36',
        previous: { version: from, packageKey: `library/face/face-${from}.tar.gz` },
      });
    });

    it('updates a library whose record was lost (the folder still owns it)', () => {
      expect(decideRelease(state({ library: library('1.0.0') }), candidate('2.0.0'), 'upgrade')).toMatchObject({
        action: 'update',
      });
    });
  });

  describe('the same version, same content', () => {
    it('is unchanged, with no CityVisual call', () => {
      const decision = decideRelease(
        state({ library: library('1.2.0'), record: record('1.2.0'), currentManifestSha256: 'sha-1.2.0' }),
        candidate('1.2.0'),
        'upgrade',
      );
      expect(decision).toEqual({ action: 'unchanged', algoLibId: '36' });
    });
  });

  describe('the same version, other content', () => {
    it.each([
      ['another manifest', candidate('1.2.0', { manifestSha256: 'sha-other' })],
      ['another file name', candidate('1.2.0', { packageKey: 'library/face/face-1.2.0-fixed.tar.gz' })],
    ])('is VERSION_EXISTS with %s', (_case, upload) => {
      const decision = decideRelease(
        state({ library: library('1.2.0'), record: record('1.2.0'), currentManifestSha256: 'sha-1.2.0' }),
        upload,
        'upgrade',
      );
      expect(decision).toEqual({
        action: 'conflict',
        code: 'VERSION_EXISTS',
        message: 'face@1.2.0 is already registered from b/library/face/face-1.2.0.tar.gz; publish a new version',
      });
    });

    it('is VERSION_EXISTS when what made the version is unknown and this upload was never tried', () => {
      expect(decideRelease(state({ library: library('1.2.0') }), candidate('1.2.0'), 'upgrade')).toMatchObject({
        code: 'VERSION_EXISTS',
      });
    });

    it("resumes this release's own lost run when nothing records what made the version but CityVisual lists exactly its fields (soak seeds 1208, 1211)", () => {
      expect(
        decideRelease(state({ library: library('1.2.0'), sameFields: true }), candidate('1.2.0'), 'upgrade'),
      ).toEqual({ action: 'resumed', algoLibId: '36', change: 'created' });
    });

    it('is unchanged when an answer without a digest (a 0.1.0 status) names the version and CityVisual lists exactly its fields', () => {
      expect(
        decideRelease(
          state({ library: library('1.2.0'), currentAnswered: true, sameFields: true }),
          candidate('1.2.0'),
          'upgrade',
        ),
      ).toEqual({ action: 'unchanged', algoLibId: '36' });
    });

    it('trusts a known digest over matching fields (another package at the same key)', () => {
      expect(
        decideRelease(
          state({ library: library('1.2.0'), currentManifestSha256: 'sha-other', sameFields: true }),
          candidate('1.2.0'),
          'upgrade',
        ),
      ).toMatchObject({ code: 'VERSION_EXISTS' });
    });

    it('is VERSION_EXISTS for a build-metadata variant of the registered version', () => {
      expect(decideRelease(state({ library: library('1.2.0') }), candidate('1.2.0+build.7'), 'upgrade')).toMatchObject({
        code: 'VERSION_EXISTS',
      });
    });
  });

  describe('an interrupted run of this very upload', () => {
    it('resumes a create that reached CityVisual', () => {
      expect(
        decideRelease(state({ library: library('1.2.0'), interrupted: true }), candidate('1.2.0'), 'upgrade'),
      ).toEqual({ action: 'resumed', algoLibId: '36', change: 'created' });
    });

    it('resumes an update that reached CityVisual, naming the version it replaced', () => {
      expect(
        decideRelease(
          state({ library: library('1.3.0'), record: record('1.2.0'), interrupted: true }),
          candidate('1.3.0'),
          'upgrade',
        ),
      ).toEqual({
        action: 'resumed',
        algoLibId: '36',
        change: 'updated',
        previous: { version: '1.2.0', packageKey: 'library/face/face-1.2.0.tar.gz' },
      });
    });

    it('never resumes over a known different content', () => {
      expect(
        decideRelease(
          state({ library: library('1.2.0'), currentManifestSha256: 'sha-other', interrupted: true }),
          candidate('1.2.0'),
          'upgrade',
        ),
      ).toMatchObject({ code: 'VERSION_EXISTS' });
    });
  });

  describe('an older version', () => {
    it.each([
      ['1.0.1', '1.0.0'],
      ['1.0.0', '1.0.0-rc.1'],
      ['2.0.0', '1.99.99'],
    ])('is VERSION_DOWNGRADE when %s is registered and %s arrives', (current, older) => {
      expect(
        decideRelease(state({ library: library(current), record: record(current) }), candidate(older), 'upgrade'),
      ).toEqual({
        action: 'conflict',
        code: 'VERSION_DOWNGRADE',
        message: `face@${older} is older than the registered ${current} (b/library/face/face-${current}.tar.gz); a rollback is a new version`,
      });
    });
  });

  describe('another owner', () => {
    it.each([
      ['another folder', library('1.0.0', 'library/other/face-1.0.0.tar.gz')],
      ['another bucket', library('1.0.0', 'library/face/face-1.0.0.tar.gz', 'elsewhere')],
      ['a sub-folder', library('1.0.0', 'library/face/old/face-1.0.0.tar.gz')],
    ])('is NAME_CONFLICT when the library lives in %s', (_case, existing) => {
      const decision = decideRelease(state({ library: existing }), candidate('2.0.0'), 'upgrade');
      expect(decision).toMatchObject({ action: 'conflict', code: 'NAME_CONFLICT' });
      expect(decision).toHaveProperty('message', expect.stringContaining(existing.location.path));
    });

    it('is NAME_CONFLICT when the library is not the one this pipeline created (recreated by hand)', () => {
      const decision = decideRelease(
        state({ library: library('1.0.0'), record: record('1.0.0', { algoLibId: '7' }) }),
        candidate('2.0.0'),
        'upgrade',
      );
      expect(decision).toMatchObject({ action: 'conflict', code: 'NAME_CONFLICT' });
    });
  });

  describe('VERSION_POLICY=create-only', () => {
    it('is VERSION_POLICY for any other version', () => {
      expect(
        decideRelease(state({ library: library('1.0.0'), record: record('1.0.0') }), candidate('1.0.1'), 'create-only'),
      ).toMatchObject({ action: 'conflict', code: 'VERSION_POLICY' });
    });

    it('still answers an identical re-publish as unchanged', () => {
      expect(
        decideRelease(
          state({ library: library('1.0.0'), record: record('1.0.0'), currentManifestSha256: 'sha-1.0.0' }),
          candidate('1.0.0'),
          'create-only',
        ),
      ).toMatchObject({ action: 'unchanged' });
    });
  });
});

describe('folderOf', () => {
  it('is the key up to its last slash', () => {
    expect(folderOf('library/face/face-1.2.0.tar.gz')).toBe('library/face/');
    expect(folderOf('face-1.2.0.tar.gz')).toBe('');
  });
});
