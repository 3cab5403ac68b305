// Optimizers: one flat loop over a parameter block (parameters, gradients and state are each one contiguous
// block, so a whole model steps in one call). Elementwise: a range split is a sub-range of [0, n).

// =====================================================================================================
// SGD, momentum
// =====================================================================================================

// w −= lr·g; w, g are (n)
export function sgd_update(w: usize, g: usize, lr: f32, n: usize): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const vl = f32x4.splat(lr);
    for (; i + 4 <= n; i += 4) {
      const o = i << 2;
      v128.store(w + o, f32x4.sub(v128.load(w + o), f32x4.mul(vl, v128.load(g + o))));
    }
  }
  for (; i < n; i++) {
    const o = i << 2;
    store<f32>(w + o, load<f32>(w + o) - lr * load<f32>(g + o));
  }
}

// v = mu·v + g; w −= lr·v; w, v, g are (n)
export function momentum_update(w: usize, v: usize, g: usize, lr: f32, mu: f32, n: usize): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const vl = f32x4.splat(lr), vm = f32x4.splat(mu);
    for (; i + 4 <= n; i += 4) {
      const o = i << 2;
      const nv = f32x4.add(f32x4.mul(vm, v128.load(v + o)), v128.load(g + o));
      v128.store(v + o, nv);
      v128.store(w + o, f32x4.sub(v128.load(w + o), f32x4.mul(vl, nv)));
    }
  }
  for (; i < n; i++) {
    const o = i << 2;
    const nv = mu * load<f32>(v + o) + load<f32>(g + o);
    store<f32>(v + o, nv);
    store<f32>(w + o, load<f32>(w + o) - lr * nv);
  }
}

// =====================================================================================================
// Adam (Kingma & Ba 2015, Algorithm 1): m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
// w −= lr·m̂/(√v̂ + ε) with m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t). The corrections are computed once, in f64.
// =====================================================================================================

// w, m, v, g are (n); t ≥ 1 is the step number
export function adam_update(w: usize, m: usize, v: usize, g: usize, lr: f32, beta1: f32, beta2: f32, eps: f32, t: f64, n: usize): void {
  const c1 = <f32>(1.0 / (1.0 - Math.pow(<f64>beta1, t)));
  const c2 = <f32>(1.0 / (1.0 - Math.pow(<f64>beta2, t)));
  const d1: f32 = 1.0 - beta1;
  const d2: f32 = 1.0 - beta2;
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const vb1 = f32x4.splat(beta1), vb2 = f32x4.splat(beta2), vd1 = f32x4.splat(d1), vd2 = f32x4.splat(d2);
    const vc1 = f32x4.splat(c1), vc2 = f32x4.splat(c2), vl = f32x4.splat(lr), ve = f32x4.splat(eps);
    for (; i + 4 <= n; i += 4) {
      const o = i << 2;
      const vg = v128.load(g + o);
      const nm = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vd1, vg));
      const nv = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(vd2, f32x4.mul(vg, vg)));
      v128.store(m + o, nm);
      v128.store(v + o, nv);
      const den = f32x4.add(f32x4.sqrt(f32x4.mul(nv, vc2)), ve);
      v128.store(w + o, f32x4.sub(v128.load(w + o), f32x4.div(f32x4.mul(vl, f32x4.mul(nm, vc1)), den)));
    }
  }
  for (; i < n; i++) {
    const o = i << 2;
    const vg = load<f32>(g + o);
    const nm = beta1 * load<f32>(m + o) + d1 * vg;
    const nv = beta2 * load<f32>(v + o) + d2 * (vg * vg);
    store<f32>(m + o, nm);
    store<f32>(v + o, nv);
    store<f32>(w + o, load<f32>(w + o) - (lr * (nm * c1)) / (sqrt<f32>(nv * c2) + eps));
  }
}
