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

// w, m, v, g are (n); t ≥ 1 is the step number. Adam is AdamW with no decay (w·1 is exact: the same bits).
export function adam_update(w: usize, m: usize, v: usize, g: usize, lr: f32, beta1: f32, beta2: f32, eps: f32, t: f64, n: usize): void {
  adamw_update(w, m, v, g, lr, beta1, beta2, eps, 0, t, n);
}

// =====================================================================================================
// AdamW (Loshchilov & Hutter 2019, as torch.optim.AdamW): decoupled weight decay λ, applied to the weight
// before the Adam step: w ·= (1 − lr·λ); then m, v and w as Adam above (the same corrections).
// =====================================================================================================

// w, m, v, g are (n); t ≥ 1 is the step number
export function adamw_update(w: usize, m: usize, v: usize, g: usize, lr: f32, beta1: f32, beta2: f32, eps: f32, decay: f32, t: f64, n: usize): void {
  const c1 = <f32>(1.0 / (1.0 - Math.pow(<f64>beta1, t)));
  const c2 = <f32>(1.0 / (1.0 - Math.pow(<f64>beta2, t)));
  const d1: f32 = 1.0 - beta1;
  const d2: f32 = 1.0 - beta2;
  const keep: f32 = 1.0 - lr * decay;
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const vb1 = f32x4.splat(beta1), vb2 = f32x4.splat(beta2), vd1 = f32x4.splat(d1), vd2 = f32x4.splat(d2);
    const vc1 = f32x4.splat(c1), vc2 = f32x4.splat(c2), vl = f32x4.splat(lr), ve = f32x4.splat(eps), vk = f32x4.splat(keep);
    for (; i + 4 <= n; i += 4) {
      const o = i << 2;
      const vg = v128.load(g + o);
      const nm = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vd1, vg));
      const nv = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(vd2, f32x4.mul(vg, vg)));
      v128.store(m + o, nm);
      v128.store(v + o, nv);
      const den = f32x4.add(f32x4.sqrt(f32x4.mul(nv, vc2)), ve);
      v128.store(w + o, f32x4.sub(f32x4.mul(v128.load(w + o), vk), f32x4.div(f32x4.mul(vl, f32x4.mul(nm, vc1)), den)));
    }
  }
  for (; i < n; i++) {
    const o = i << 2;
    const vg = load<f32>(g + o);
    const nm = beta1 * load<f32>(m + o) + d1 * vg;
    const nv = beta2 * load<f32>(v + o) + d2 * (vg * vg);
    store<f32>(m + o, nm);
    store<f32>(v + o, nv);
    store<f32>(w + o, load<f32>(w + o) * keep - (lr * (nm * c1)) / (sqrt<f32>(nv * c2) + eps));
  }
}

// =====================================================================================================
// RMSprop (Hinton's lecture 6e, as torch.optim.RMSprop with centered=False, momentum=0):
// v = ρ·v + (1−ρ)·g²; w −= lr·g/(√v + ε). (PyTorch calls ρ alpha; Keras calls it rho.)
// =====================================================================================================

// w, v, g are (n)
export function rmsprop_update(w: usize, v: usize, g: usize, lr: f32, rho: f32, eps: f32, n: usize): void {
  const d: f32 = 1.0 - rho;
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const vr = f32x4.splat(rho), vd = f32x4.splat(d), vl = f32x4.splat(lr), ve = f32x4.splat(eps);
    for (; i + 4 <= n; i += 4) {
      const o = i << 2;
      const vg = v128.load(g + o);
      const nv = f32x4.add(f32x4.mul(vr, v128.load(v + o)), f32x4.mul(vd, f32x4.mul(vg, vg)));
      v128.store(v + o, nv);
      v128.store(w + o, f32x4.sub(v128.load(w + o), f32x4.div(f32x4.mul(vl, vg), f32x4.add(f32x4.sqrt(nv), ve))));
    }
  }
  for (; i < n; i++) {
    const o = i << 2;
    const vg = load<f32>(g + o);
    const nv = rho * load<f32>(v + o) + d * (vg * vg);
    store<f32>(v + o, nv);
    store<f32>(w + o, load<f32>(w + o) - (lr * vg) / (sqrt<f32>(nv) + eps));
  }
}

// =====================================================================================================
// Before an update: clipping by global norm and L2 weight decay, one pass over the gradients.
// g = scale·g + λ·w, as PyTorch's clip_grad_norm_ (g ·= max_norm/(‖g‖ + 1e-6) when that is < 1) followed by the
// weight_decay of torch.optim.SGD/RMSprop (g += λ·w). The global norm is sum_squares (assembly/loss.ts: fixed
// chunks, the same bits for any thread count). A separate pass because the norm needs every gradient first.
// =====================================================================================================

// g, w are (n)
export function grad_scale_decay(g: usize, w: usize, scale: f32, decay: f32, n: usize): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const vs = f32x4.splat(scale), vd = f32x4.splat(decay);
    for (; i + 4 <= n; i += 4) {
      const o = i << 2;
      v128.store(g + o, f32x4.add(f32x4.mul(vs, v128.load(g + o)), f32x4.mul(vd, v128.load(w + o))));
    }
  }
  for (; i < n; i++) {
    const o = i << 2;
    store<f32>(g + o, scale * load<f32>(g + o) + decay * load<f32>(w + o));
  }
}
