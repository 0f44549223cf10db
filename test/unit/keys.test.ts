import { describe, expect, it } from 'vitest';
import { claimKeyOf, pairOf, statusKeyOf } from '../../shared/keys.ts';

describe('pairOf', () => {
  it.each([
    ['library/face/face-1.2.0.tar.gz', 'package'],
    ['library/face/face-1.2.0.manifest.json', 'manifest'],
  ] as const)('derives both halves from %s', (key, half) => {
    // Act
    const pair = pairOf(key, 'library/');

    // Assert
    expect(pair).toEqual({
      packageKey: 'library/face/face-1.2.0.tar.gz',
      manifestKey: 'library/face/face-1.2.0.manifest.json',
      half,
    });
  });

  it.each([
    ['outside the prefix', 'incoming/face-1.2.0.tar.gz'],
    ['another suffix', 'library/face/face-1.2.0.zip'],
    ['a bare suffix', 'library/.tar.gz'],
    ['a bare suffix in a folder', 'library/face/.manifest.json'],
  ])('returns undefined for a key %s', (_case, key) => {
    // Act / Assert
    expect(pairOf(key, 'library/')).toBeUndefined();
  });

  it('accepts every key with an empty prefix', () => {
    // Act / Assert
    expect(pairOf('face.tar.gz', '')?.manifestKey).toBe('face.manifest.json');
  });
});

describe('statusKeyOf', () => {
  it('maps a package key to its status object as docs/contracts.md says', () => {
    // Act / Assert
    expect(statusKeyOf('library/face/face-1.2.0.tar.gz', 'status/')).toBe('status/library/face/face-1.2.0.json');
  });
});

describe('claimKeyOf', () => {
  it('puts claims under the status prefix, one object per generation', () => {
    // Act / Assert
    expect(claimKeyOf('face', 12, 'status/')).toBe('status/.claims/face/000012.json');
  });
});
