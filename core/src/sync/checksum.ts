// FNV-1a (32-bit) over a bulk transfer's bytes. It names one exact encoding of a snapshot:
// two origin nodes may encode the same state at the same log position differently, so a
// partial transfer resumes only against the same checksum, and a completed transfer whose
// bytes do not match is rejected before it is decoded. Not a cryptographic hash.
export function fnv1a32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
