// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib/PNG): detects truncation and
// bit flips in an artifact before anything in it is trusted. Slicing-by-8 (eight 256-entry
// tables, 8 KB) over aligned 32-bit words: eight bytes a step.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  // table k: the CRC of a byte followed by k zero bytes
  for (let k = 1; k < 8; k++) for (let i = 0; i < 256; i++) t[k * 256 + i] = (t[(k - 1) * 256 + i] >>> 8) ^ t[t[(k - 1) * 256 + i] & 0xff];
  return t;
})();

/** CRC-32 of bytes (unsigned). */
export function crc32(bytes: Uint8Array): number {
  const t = TABLES;
  let c = 0xffffffff;
  let i = 0;
  // bytes one at a time up to a 4-byte boundary of the buffer, then two aligned words a step
  // (little-endian hosts: every engine edgeprune runs on), then the tail
  const lead = Math.min(bytes.length, (4 - (bytes.byteOffset & 3)) & 3);
  for (; i < lead; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  const pairs = (bytes.length - lead) >>> 3;
  if (LITTLE_ENDIAN && pairs > 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset + lead, pairs * 2);
    for (let j = 0; j < words.length; j += 2) {
      const a = words[j] ^ c;
      const b = words[j + 1];
      c = t[1792 + (a & 0xff)] ^ t[1536 + ((a >>> 8) & 0xff)] ^ t[1280 + ((a >>> 16) & 0xff)] ^ t[1024 + (a >>> 24)]
        ^ t[768 + (b & 0xff)] ^ t[512 + ((b >>> 8) & 0xff)] ^ t[256 + ((b >>> 16) & 0xff)] ^ t[b >>> 24];
    }
    i += pairs * 8;
  }
  for (; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
