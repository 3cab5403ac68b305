// CRC-32 (IEEE 802.3, the zlib / PNG / gzip one: reflected polynomial 0xEDB88320, initial and final XOR
// 0xFFFFFFFF), a byte at a time from a 256-entry table. The model file's checksum; ours so the browser entry
// needs no CommonJS package.

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** The CRC-32 of `bytes` as an unsigned 32-bit integer ("123456789" → 0xCBF43926). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
