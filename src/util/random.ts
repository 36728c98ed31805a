// Seeded values that are the same on every machine.

/**
 * n deterministic N(0,1)-like values (xorshift32 from 0x9e3779b9, Box-Muller): the same on every
 * machine. The WGSL demo page's sample input and `vovc bench`'s input.
 */
export function seededNormal(n: number): Float32Array {
  const out = new Float32Array(n);
  let s = 0x9e3779b9;
  for (let b = 0; b < n; b += 4096) s = fillNormal(out, b, Math.min(n, b + 4096), s);
  return out;
}

/**
 * out[begin..end) from the xorshift32 state `s`; returns the next state. The state stays in a
 * local (a closure's variable would box every update) and the work comes in blocks, so that V8
 * optimizes this after a few calls.
 */
function fillNormal(out: Float32Array, begin: number, end: number, s: number): number {
  for (let i = begin; i < end; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const a = (s + 1) / 4294967297;
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const b = (s + 1) / 4294967297;
    out[i] = Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * b);
  }
  return s;
}
