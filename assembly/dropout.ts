// Dropout (inverted): y = x·keep/(1 − rate), keep = u ≥ rate, with u drawn per element from noise.ts's
// counter-based generator: u = (rand(c) >>> 8)·2^-24 for the element's counter c = c0 + i (u32, wrapping) and the
// keys (k0, k1) of one (layer, step). The mask is a pure function of (keys, c): the backward pass calls the same
// kernel on dy to get dx = dy·keep/(1 − rate) (no mask stored), and a sub-range (pointers + 4·lo, c0 + lo) gives
// the same bits as the whole call, which is how the threads split it. A dropped element is +0 (even a NaN one).
// The js twin (src/backend/js.ts) draws the same integers, so the two agree bit for bit.

import { INV24, NI, rand4, randu } from './noise';

// y, x are (n); y may equal x
export function dropout_apply(y: usize, x: usize, rate: f32, k0: u32, k1: u32, c0: u32, n: usize): void {
  const scale = <f32>(1.0 / (1.0 - <f64>rate));
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const kv0 = i32x4.splat(k0), kv1 = i32x4.splat(k1), rv = f32x4.splat(rate), sv = f32x4.splat(scale);
    const inv = f32x4.splat(INV24), four = i32x4.splat(4);
    let c = i32x4.add(i32x4.splat(c0), v128.load(NI)); // the counters of lanes 0..3
    for (; i + 4 <= n; i += 4) {
      const o = i << 2;
      const u = f32x4.mul(f32x4.convert_i32x4_s(i32x4.shr_u(rand4(c, kv0, kv1), 8)), inv);
      v128.store(y + o, v128.and(f32x4.mul(v128.load(x + o), sv), f32x4.ge(u, rv)));
      c = i32x4.add(c, four);
    }
  }
  for (; i < n; i++) {
    const o = i << 2;
    const u = <f32>(randu(c0 + <u32>i, k0, k1) >>> 8) * INV24;
    store<f32>(y + o, u >= rate ? load<f32>(x + o) * scale : 0);
  }
}
