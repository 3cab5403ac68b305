// Utilities: fill, and the non-finite check the training loop runs on losses and gradients.

// x is (n): x[0..n) = value
export function fill(x: usize, value: f32, n: usize): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const v = f32x4.splat(value);
    for (; i + 4 <= n; i += 4) v128.store(x + (i << 2), v);
  }
  for (; i < n; i++) store<f32>(x + (i << 2), value);
}

const EXP: i32 = 0x7f800000; // an f32's exponent bits: all ones for NaN and ±Inf

// the lanes of v that are NaN or ±Inf: all ones there, 0 elsewhere
// @ts-ignore: decorator
@inline export function non_finite4(v: v128): v128 {
  const mask = i32x4.splat(EXP);
  return i32x4.eq(v128.and(v, mask), mask);
}

// x is (n): 1 if any element is NaN or ±Inf (exponent bits all ones), else 0
export function has_non_finite(x: usize, n: usize): i32 {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    let bad = i32x4.splat(0);
    // no early exit: a branch per vector costs more than finishing a scan that is almost always clean
    for (; i + 4 <= n; i += 4) bad = v128.or(bad, non_finite4(v128.load(x + (i << 2))));
    if (v128.any_true(bad)) return 1;
  }
  for (; i < n; i++) if ((load<i32>(x + (i << 2)) & EXP) == EXP) return 1;
  return 0;
}
