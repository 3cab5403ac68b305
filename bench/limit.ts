// The machine's WASM SIMD ceiling: a register-only loop of f32x4 multiply-adds on 12 independent
// accumulators (no memory traffic, enough independent chains to cover the FP pipes' latency). Built twice by
// bench/limit.js: without relaxed SIMD it is f32x4.mul + f32x4.add (2 instructions, 8 flops), with it
// f32x4.relaxed_madd (one FMA on x86-FMA3 / ARM, 8 flops). The GEMM figures are reported as a fraction of
// the ceiling of the same build.

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Flops of one loop iteration: 12 accumulators × 4 lanes × (mul + add). */
export const FLOPS_PER_ITER: i32 = 96;

/** Runs n iterations; a and b should keep the accumulators finite and normal (e.g. a = 0.999, b = 0.001). */
export function run(n: i32, a: f32, b: f32): f32 {
  const va = f32x4.splat(a);
  const vb = f32x4.splat(b);
  let x0 = f32x4.splat(0.10), x1 = f32x4.splat(0.11), x2 = f32x4.splat(0.12), x3 = f32x4.splat(0.13);
  let x4 = f32x4.splat(0.14), x5 = f32x4.splat(0.15), x6 = f32x4.splat(0.16), x7 = f32x4.splat(0.17);
  let x8 = f32x4.splat(0.18), x9 = f32x4.splat(0.19), x10 = f32x4.splat(0.20), x11 = f32x4.splat(0.21);
  for (let i = 0; i < n; i++) {
    x0 = madd(x0, va, vb); x1 = madd(x1, va, vb); x2 = madd(x2, va, vb); x3 = madd(x3, va, vb);
    x4 = madd(x4, va, vb); x5 = madd(x5, va, vb); x6 = madd(x6, va, vb); x7 = madd(x7, va, vb);
    x8 = madd(x8, va, vb); x9 = madd(x9, va, vb); x10 = madd(x10, va, vb); x11 = madd(x11, va, vb);
  }
  // fold every accumulator into the result so none is dead code
  let s = f32x4.add(f32x4.add(f32x4.add(x0, x1), f32x4.add(x2, x3)), f32x4.add(f32x4.add(x4, x5), f32x4.add(x6, x7)));
  s = f32x4.add(s, f32x4.add(f32x4.add(x8, x9), f32x4.add(x10, x11)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}
