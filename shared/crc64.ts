/**
 * CRC-64/ECMA-182 as OSS reports it in `x-oss-hash-crc64ecma` (the CRC-64/XZ variant: reflected polynomial
 * 0xC96C5795D7870F42, initial value and final XOR all ones), computed incrementally so a file can be streamed.
 *
 * Hand-written rather than taken from `crc64-ecma182.js` (the npm package, an emscripten build that allocates
 * per call): this is 40 lines on two 32-bit tables and runs several hundred MB/s. The tests check it against that
 * package as an independent implementation.
 *
 * @example
 * ```ts
 * let crc = 0n;
 * for await (const chunk of createReadStream(file)) crc = updateCrc64(crc, chunk);
 * crc.toString(); // '11051210869376104954' for "123456789"
 * ```
 */

const POLY_HI = 0xc96c5795;
const POLY_LO = 0xd7870f42;

// Table of the reflected polynomial, split into high and low 32-bit halves (BigInt per byte is ~50× slower).
const TABLE_HI = new Uint32Array(256);
const TABLE_LO = new Uint32Array(256);
for (let n = 0; n < 256; n += 1) {
  let hi = 0;
  let lo = n;
  for (let bit = 0; bit < 8; bit += 1) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi >>>= 1;
    if (carry) {
      hi = (hi ^ POLY_HI) >>> 0;
      lo = (lo ^ POLY_LO) >>> 0;
    }
  }
  TABLE_HI[n] = hi;
  TABLE_LO[n] = lo;
}

/** Continues a CRC-64 over `data`; start with `0n` (the CRC of nothing). */
export const updateCrc64 = (previous: bigint, data: Uint8Array): bigint => {
  let hi = ~Number((previous >> 32n) & 0xffffffffn) >>> 0;
  let lo = ~Number(previous & 0xffffffffn) >>> 0;
  for (let i = 0; i < data.length; i += 1) {
    const index = (lo ^ (data[i] as number)) & 0xff;
    lo = ((lo >>> 8) | ((hi & 0xff) << 24)) >>> 0;
    hi >>>= 8;
    hi = (hi ^ (TABLE_HI[index] as number)) >>> 0;
    lo = (lo ^ (TABLE_LO[index] as number)) >>> 0;
  }
  return (BigInt(~hi >>> 0) << 32n) | BigInt(~lo >>> 0);
};

/** CRC-64 of one buffer as the decimal string OSS uses. */
export const crc64 = (data: Uint8Array): string => updateCrc64(0n, data).toString();
