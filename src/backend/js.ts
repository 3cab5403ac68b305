// The pure-TypeScript backend: the same kernels as assembly/, written plainly on a Float32Array view of a
// WebAssembly.Memory. It is the readable reference and the benchmark baseline, so it stays simple (no tricks
// beyond the i-k-j loop order that any JS programmer would write).

import { ACT, STRIP_WIDTH, type Backend, type Kernels } from './backend.js';
import { HeapBackend } from './heap.js';
import { convJsKernels } from './conv-js.js';
import { gatherNoiseJs, rand } from './noise-js.js';
import { avgpool2dBackward, avgpool2dForward, maxpool2dBackward, maxpool2dForward, pixelShuffle, pixelUnshuffle, upsample2dBackward, upsample2dForward } from './pool-js.js';

const EPS_BCE = 1e-7;
const INV24 = 1 / 16777216; // 2^-24

/** The js kernels over one memory. Pointers are byte offsets; `f()` re-derives the view after growth. */
function jsKernels(f: () => Float32Array): Kernels {
  const k: Kernels = {
    // ---- GEMM ----------------------------------------------------------------------------------------
    gemm(c, a, b, M, N, K, transA, transB, accumulate) {
      // op(A) is (M,K), op(B) is (K,N), C is (M,N)
      const h = f();
      const C = c >>> 2, A = a >>> 2, B = b >>> 2;
      if (!accumulate) h.fill(0, C, C + M * N);
      for (let i = 0; i < M; i++) {
        const ci = C + i * N;
        for (let p = 0; p < K; p++) {
          const aip = transA ? h[A + p * M + i] : h[A + i * K + p];
          if (aip === 0) continue;
          if (transB) for (let j = 0; j < N; j++) h[ci + j] += aip * h[B + j * K + p];
          else {
            const bp = B + p * N;
            for (let j = 0; j < N; j++) h[ci + j] += aip * h[bp + j];
          }
        }
      }
    },

    // ---- Linear --------------------------------------------------------------------------------------
    linear_forward(out, x, w, b, Bn, IN, OUT) {
      // x is (B,IN), w is (IN,OUT), b is (OUT), out is (B,OUT)
      k.gemm(out, x, w, Bn, OUT, IN, 0, 0, 0);
      k.bias_add(out, out, b, Bn, OUT);
    },
    linear_act_forward(out, x, w, b, Bn, IN, OUT, act) {
      // out = act(x·w + b): plainly, the linear layer then the activation in place
      k.linear_forward(out, x, w, b, Bn, IN, OUT);
      const n = Bn * OUT;
      if (act === ACT.relu) k.relu_forward(out, out, n);
      else if (act === ACT.sigmoid) k.sigmoid_forward(out, out, n);
      else if (act === ACT.tanh) k.tanh_forward(out, out, n);
      else if (act !== ACT.none) throw new RangeError(`linear_act_forward: unknown activation code ${act}, expected 0-3`);
    },
    linear_backward(dx, dw, db, dout, x, w, Bn, IN, OUT) {
      // dout is (B,OUT); dw (IN,OUT) += xᵀ·dout; db (OUT) += colsum(dout); dx (B,IN) = dout·wᵀ
      k.gemm(dw, x, dout, IN, OUT, Bn, 1, 0, 1);
      k.col_sum(db, dout, Bn, OUT, 1);
      if (dx !== 0) k.gemm(dx, dout, w, Bn, IN, OUT, 0, 1, 0);
    },
    pack_strips(wp, w, IN, OUT) {
      // w is (IN,OUT), wp is (⌈OUT/24⌉,IN,24): strip s holds columns 24s.. of every row, zero-padded
      const h = f();
      const P = wp >>> 2, W = w >>> 2, S = STRIP_WIDTH;
      for (let s0 = 0; s0 < OUT; s0 += S) {
        const strip = P + (s0 / S) * IN * S;
        for (let p = 0; p < IN; p++) for (let j = 0; j < S; j++) h[strip + p * S + j] = s0 + j < OUT ? h[W + p * OUT + s0 + j] : 0;
      }
    },
    linear_strips_forward(out, x, wp, _w, b, Bn, IN, OUT, act) {
      // linear_act_forward with w read from its strips: the same loops, the same order
      const h = f();
      const O = out >>> 2, X = x >>> 2, P = wp >>> 2, S = STRIP_WIDTH;
      h.fill(0, O, O + Bn * OUT);
      for (let i = 0; i < Bn; i++) {
        const oi = O + i * OUT;
        for (let p = 0; p < IN; p++) {
          const xip = h[X + i * IN + p];
          if (xip === 0) continue;
          for (let j = 0; j < OUT; j++) h[oi + j] += xip * h[P + Math.floor(j / S) * IN * S + p * S + (j % S)];
        }
      }
      k.bias_add(out, out, b, Bn, OUT);
      const n = Bn * OUT;
      if (act === ACT.relu) k.relu_forward(out, out, n);
      else if (act === ACT.sigmoid) k.sigmoid_forward(out, out, n);
      else if (act === ACT.tanh) k.tanh_forward(out, out, n);
      else if (act !== ACT.none) throw new RangeError(`linear_strips_forward: unknown activation code ${act}, expected 0-3`);
    },
    bias_add(out, x, b, Bn, N) {
      // x, out are (B,N), b is (N)
      const h = f();
      const O = out >>> 2, X = x >>> 2, Bb = b >>> 2;
      for (let i = 0; i < Bn; i++) for (let j = 0; j < N; j++) h[O + i * N + j] = h[X + i * N + j] + h[Bb + j];
    },
    col_sum(out, x, Bn, N, accumulate) {
      // x is (B,N), out is (N)
      const h = f();
      const O = out >>> 2, X = x >>> 2;
      if (!accumulate) h.fill(0, O, O + N);
      for (let i = 0; i < Bn; i++) for (let j = 0; j < N; j++) h[O + j] += h[X + i * N + j];
    },

    // ---- Conv2D / ConvTranspose2D (conv-js.ts) ------------------------------------------------------------
    ...convJsKernels(f, (y, n, act) => {
      if (act === ACT.relu) k.relu_forward(y, y, n);
      else if (act === ACT.sigmoid) k.sigmoid_forward(y, y, n);
      else if (act === ACT.tanh) k.tanh_forward(y, y, n);
    }),

    // ---- Activations ---------------------------------------------------------------------------------
    relu_forward(y, x, n) {
      const h = f();
      const Y = y >>> 2, X = x >>> 2;
      for (let i = 0; i < n; i++) h[Y + i] = Math.max(h[X + i], 0); // NaN stays NaN, as in wasm's f32 max
    },
    relu_backward(dx, dy, y, n) {
      const h = f();
      const DX = dx >>> 2, DY = dy >>> 2, Y = y >>> 2;
      for (let i = 0; i < n; i++) h[DX + i] = h[Y + i] > 0 ? h[DY + i] : 0;
    },
    tanh_forward(y, x, n) {
      const h = f();
      const Y = y >>> 2, X = x >>> 2;
      for (let i = 0; i < n; i++) h[Y + i] = Math.tanh(h[X + i]);
    },
    tanh_backward(dx, dy, y, n) {
      const h = f();
      const DX = dx >>> 2, DY = dy >>> 2, Y = y >>> 2;
      for (let i = 0; i < n; i++) h[DX + i] = h[DY + i] * (1 - h[Y + i] * h[Y + i]);
    },
    sigmoid_forward(y, x, n) {
      const h = f();
      const Y = y >>> 2, X = x >>> 2;
      for (let i = 0; i < n; i++) h[Y + i] = 1 / (1 + Math.exp(-h[X + i]));
    },
    sigmoid_backward(dx, dy, y, n) {
      const h = f();
      const DX = dx >>> 2, DY = dy >>> 2, Y = y >>> 2;
      for (let i = 0; i < n; i++) h[DX + i] = h[DY + i] * h[Y + i] * (1 - h[Y + i]);
    },
    softmax_forward(y, x, Bn, N) {
      // x, y are (B,N); each row is normalised after subtracting its max
      const h = f();
      for (let r = 0; r < Bn; r++) {
        const X = (x >>> 2) + r * N, Y = (y >>> 2) + r * N;
        let max = -Infinity;
        for (let j = 0; j < N; j++) if (h[X + j] > max) max = h[X + j];
        let sum = 0;
        for (let j = 0; j < N; j++) sum += h[Y + j] = Math.exp(h[X + j] - max);
        for (let j = 0; j < N; j++) h[Y + j] /= sum;
      }
    },
    softmax_backward(dx, dy, y, Bn, N) {
      const h = f();
      for (let r = 0; r < Bn; r++) {
        const DX = (dx >>> 2) + r * N, DY = (dy >>> 2) + r * N, Y = (y >>> 2) + r * N;
        let dot = 0;
        for (let j = 0; j < N; j++) dot += h[DY + j] * h[Y + j];
        for (let j = 0; j < N; j++) h[DX + j] = h[Y + j] * (h[DY + j] - dot);
      }
    },

    // ---- Losses --------------------------------------------------------------------------------------
    mse_loss(p, t, Bn, N) {
      const h = f();
      const P = p >>> 2, T = t >>> 2, n = Bn * N;
      let sum = 0;
      for (let i = 0; i < n; i++) sum += (h[P + i] - h[T + i]) ** 2;
      return sum / n;
    },
    mse_backward(dp, p, t, Bn, N) {
      const h = f();
      const DP = dp >>> 2, P = p >>> 2, T = t >>> 2, n = Bn * N;
      for (let i = 0; i < n; i++) h[DP + i] = (2 * (h[P + i] - h[T + i])) / n;
    },
    bce_loss(p, t, Bn, N) {
      const h = f();
      const P = p >>> 2, T = t >>> 2, n = Bn * N;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const q = clamp(h[P + i], EPS_BCE, 1 - EPS_BCE);
        sum -= h[T + i] * Math.log(q) + (1 - h[T + i]) * Math.log(1 - q);
      }
      return sum / n;
    },
    bce_backward(dp, p, t, Bn, N) {
      const h = f();
      const DP = dp >>> 2, P = p >>> 2, T = t >>> 2, n = Bn * N;
      for (let i = 0; i < n; i++) {
        const q = clamp(h[P + i], EPS_BCE, 1 - EPS_BCE);
        h[DP + i] = (q - h[T + i]) / (q * (1 - q)) / n;
      }
    },
    sigmoid_bce_backward(dz, p, t, Bn, N) {
      const h = f();
      const DZ = dz >>> 2, P = p >>> 2, T = t >>> 2, n = Bn * N;
      for (let i = 0; i < n; i++) h[DZ + i] = (h[P + i] - h[T + i]) / n;
    },
    softmax_ce_loss(p, t, Bn, N) {
      const h = f();
      const P = p >>> 2, T = t >>> 2;
      let sum = 0;
      for (let i = 0; i < Bn * N; i++) sum -= h[T + i] * Math.log(Math.min(Math.max(h[P + i], EPS_BCE), 1)); // 0·log(NaN) is NaN: no skipped terms
      return sum / Bn;
    },
    softmax_ce_backward(dz, p, t, Bn, N) {
      const h = f();
      const DZ = dz >>> 2, P = p >>> 2, T = t >>> 2;
      for (let i = 0; i < Bn * N; i++) h[DZ + i] = (h[P + i] - h[T + i]) / Bn;
    },

    // ---- Optimizers ----------------------------------------------------------------------------------
    sgd_update(w, g, lr, n) {
      const h = f();
      const W = w >>> 2, G = g >>> 2;
      for (let i = 0; i < n; i++) h[W + i] -= lr * h[G + i];
    },
    momentum_update(w, v, g, lr, mu, n) {
      const h = f();
      const W = w >>> 2, V = v >>> 2, G = g >>> 2;
      for (let i = 0; i < n; i++) {
        h[V + i] = mu * h[V + i] + h[G + i];
        h[W + i] -= lr * h[V + i];
      }
    },
    adam_update(w, m, v, g, lr, beta1, beta2, eps, t, n) {
      const h = f();
      const W = w >>> 2, M = m >>> 2, V = v >>> 2, G = g >>> 2;
      const c1 = 1 - Math.pow(beta1, t), c2 = 1 - Math.pow(beta2, t);
      for (let i = 0; i < n; i++) {
        const gi = h[G + i];
        h[M + i] = beta1 * h[M + i] + (1 - beta1) * gi;
        h[V + i] = beta2 * h[V + i] + (1 - beta2) * gi * gi;
        h[W + i] -= (lr * (h[M + i] / c1)) / (Math.sqrt(h[V + i] / c2) + eps);
      }
    },

    adamw_update(w, m, v, g, lr, beta1, beta2, eps, decay, t, n) {
      // the decoupled decay first (as torch.optim.AdamW), then Adam
      const h = f();
      const W = w >>> 2, keep = 1 - Math.fround(lr) * Math.fround(decay);
      for (let i = 0; i < n; i++) h[W + i] *= keep;
      k.adam_update(w, m, v, g, lr, beta1, beta2, eps, t, n);
    },
    rmsprop_update(w, v, g, lr, rho, eps, n) {
      const h = f();
      const W = w >>> 2, V = v >>> 2, G = g >>> 2;
      for (let i = 0; i < n; i++) {
        const gi = h[G + i];
        h[V + i] = rho * h[V + i] + (1 - rho) * gi * gi;
        h[W + i] -= (lr * gi) / (Math.sqrt(h[V + i]) + eps);
      }
    },
    grad_scale_decay(g, w, scale, decay, n) {
      const h = f();
      const G = g >>> 2, W = w >>> 2;
      for (let i = 0; i < n; i++) h[G + i] = scale * h[G + i] + decay * h[W + i];
    },
    sum_squares(x, n) {
      const h = f();
      const X = x >>> 2;
      let sum = 0;
      for (let i = 0; i < n; i++) sum += h[X + i] * h[X + i];
      return sum;
    },

    // ---- Dropout -------------------------------------------------------------------------------------
    dropout_apply(y, x, rate, k0, k1, c0, n) {
      // the same draws as the kernel, compared in f32 (u is exact), so the same bits
      const h = f();
      const Y = y >>> 2, X = x >>> 2, r = Math.fround(rate), scale = Math.fround(1 / (1 - r));
      for (let i = 0; i < n; i++) h[Y + i] = (rand(c0 + i, k0, k1) >>> 8) * INV24 >= r ? h[X + i] * scale : 0;
    },

    // ---- Pooling and upsampling (pool-js.ts) -----------------------------------------------------------
    maxpool2d_forward(y, idx, x, N, H, W, OH, OW, kh, kw, sh, sw, pt, pl) {
      const h = f();
      maxpool2dForward(h, new Int32Array(h.buffer), y, idx, x, N, H, W, OH, OW, kh, kw, sh, sw, pt, pl);
    },
    maxpool2d_backward(dx, dy, idx, N, H, W, OH, OW) {
      const h = f();
      maxpool2dBackward(h, new Int32Array(h.buffer), dx, dy, idx, N, H, W, OH, OW);
    },
    avgpool2d_forward(y, x, N, H, W, OH, OW, kh, kw, sh, sw, pt, pl, include) {
      avgpool2dForward(f(), y, x, N, H, W, OH, OW, kh, kw, sh, sw, pt, pl, include);
    },
    avgpool2d_backward(dx, dy, N, H, W, OH, OW, kh, kw, sh, sw, pt, pl, include) {
      avgpool2dBackward(f(), dx, dy, N, H, W, OH, OW, kh, kw, sh, sw, pt, pl, include);
    },
    upsample2d_forward(y, x, N, H, W, sh, sw) {
      upsample2dForward(f(), y, x, N, H, W, sh, sw);
    },
    upsample2d_backward(dx, dy, N, H, W, sh, sw) {
      upsample2dBackward(f(), dx, dy, N, H, W, sh, sw);
    },
    pixel_unshuffle(y, x, N, H, W, r) {
      pixelUnshuffle(f(), y, x, N, H, W, r);
    },
    pixel_shuffle(y, x, N, H, W, r) {
      pixelShuffle(f(), y, x, N, H, W, r);
    },

    // ---- Data pipeline -------------------------------------------------------------------------------
    gather_noise(dst, src, idx, row0, count, width, kind, factor, k0, k1) {
      const h = f();
      gatherNoiseJs(h, new Int32Array(h.buffer), dst, src, idx, row0, count, width, kind, factor, k0, k1);
    },

    // ---- Utilities -----------------------------------------------------------------------------------
    fill(x, value, n) {
      f().fill(value, x >>> 2, (x >>> 2) + n);
    },
    has_non_finite(x, n) {
      const h = f();
      const X = x >>> 2;
      for (let i = 0; i < n; i++) if (!Number.isFinite(h[X + i])) return 1;
      return 0;
    },
  };
  return k;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

class JsBackend extends HeapBackend implements Backend {
  readonly name = 'js' as const;
  readonly variant = 'js';
  readonly threads = 1;
  readonly kernels: Kernels;

  constructor() {
    super(new WebAssembly.Memory({ initial: 16, maximum: 65536 }), 16);
    this.kernels = jsKernels(() => this.heapF32());
  }
}

export async function createJsBackend(): Promise<Backend> {
  return new JsBackend();
}
