import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { crc64, updateCrc64 } from '../../shared/crc64.ts';

// An independent implementation (emscripten build of the C reference) to check ours against.
const reference = createRequire(import.meta.url)('crc64-ecma182.js') as { crc64(data: Buffer): string };

describe('crc64', () => {
  it('gives the CRC-64/XZ check value for "123456789"', () => {
    // Act / Assert
    expect(crc64(Buffer.from('123456789'))).toBe('11051210869376104954');
  });

  it('gives 0 for no bytes, as OSS reports for an empty object', () => {
    // Act / Assert
    expect(crc64(new Uint8Array())).toBe('0');
  });

  it.each([1, 7, 4096, 1_000_003])('agrees with crc64-ecma182.js on %i random bytes', (size) => {
    // Arrange
    const data = randomBytes(size);

    // Act / Assert
    expect(crc64(data)).toBe(reference.crc64(data));
  });

  it('gives the same value streamed in chunks as in one piece', () => {
    // Arrange
    const data = randomBytes(100_000);

    // Act
    let streamed = 0n;
    for (let offset = 0; offset < data.length; offset += 4093)
      streamed = updateCrc64(streamed, data.subarray(offset, offset + 4093));

    // Assert
    expect(streamed.toString()).toBe(crc64(data));
  });
});
