// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib/PNG): detects truncation and
// bit flips in an artifact before anything in it is trusted. Table-driven, one byte per step:
// fast enough for model-sized inputs without a wasm dependency.

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of bytes (unsigned). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
