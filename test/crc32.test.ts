// The artifact checksum (slicing-by-8) against a bit-at-a-time CRC-32 and zlib's known check value.
import { describe, expect, it } from 'vitest';
import { crc32 } from '../src/format/crc32.js';

function bitwise(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('crc32', () => {
  it('"123456789" gives the standard check value 0xCBF43926', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('every length from 0 to 40 and a long buffer, at odd offsets, as the bitwise CRC gives', () => {
    const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 131 + (i >> 3) * 7) & 255);
    for (let n = 0; n <= 40; n++) for (const at of [0, 1, 3]) expect(crc32(data.subarray(at, at + n)), `${n} bytes at ${at}`).toBe(bitwise(data.subarray(at, at + n)));
    expect(crc32(data.subarray(1))).toBe(bitwise(data.subarray(1)));
  });
});
