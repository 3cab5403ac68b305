// Linear layer Z = X·W + b (DESIGN.md): forward fused with the bias (and, in linear_act_forward, with the
// activation that follows), backward dW = Xᵀ·∇, db = Σ_rows ∇,
// dX = ∇·Wᵀ, plus the bias broadcast and column sum they are built from.

import { gemm_block, pack_strips_cols, strips_block, GEMM_SCRATCH as SCRATCH, ADD, BIAS, STORE } from './gemm';
import { ACT_NONE } from './activations';

// =====================================================================================================
// Forward / backward
// =====================================================================================================

// x is (B,IN), w is (IN,OUT), b is (OUT), out is (B,OUT)
export function linear_forward(out: usize, x: usize, w: usize, b: usize, B: usize, IN: usize, OUT: usize): void {
  // the bias is added in the GEMM's write-back: no second pass over out
  gemm_block(out, x, w, b, <i32>B, <i32>OUT, <i32>IN, 0, 0, BIAS, ACT_NONE, 0, <i32>B, 0, <i32>OUT, SCRATCH);
}

// x is (B,IN), w is (IN,OUT), b is (OUT), out is (B,OUT); act: ACT_NONE 0, ACT_RELU 1, ACT_SIGMOID 2, ACT_TANH 3
export function linear_act_forward(out: usize, x: usize, w: usize, b: usize, B: usize, IN: usize, OUT: usize, act: i32): void {
  // out = act(x·w + b): bias and activation in the GEMM's write-back, bit-identical to linear_forward + *_forward
  gemm_block(out, x, w, b, <i32>B, <i32>OUT, <i32>IN, 0, 0, BIAS, act, 0, <i32>B, 0, <i32>OUT, SCRATCH);
}

// dout is (B,OUT), x is (B,IN), w is (IN,OUT); dw (IN,OUT) and db (OUT) accumulate, dx (B,IN) is overwritten
export function linear_backward(dx: usize, dw: usize, db: usize, dout: usize, x: usize, w: usize, B: usize, IN: usize, OUT: usize): void {
  gemm_block(dw, x, dout, 0, <i32>IN, <i32>OUT, <i32>B, 1, 0, ADD, ACT_NONE, 0, <i32>IN, 0, <i32>OUT, SCRATCH); // dW += Xᵀ·∇
  col_sum(db, dout, B, OUT, 1); // db += Σ_rows ∇
  if (dx != 0) gemm_block(dx, dout, w, 0, <i32>B, <i32>IN, <i32>OUT, 0, 1, STORE, ACT_NONE, 0, <i32>B, 0, <i32>IN, SCRATCH); // dX = ∇·Wᵀ
}

// =====================================================================================================
// Inference on weights packed once (gemm.ts, strips): for a handful of rows
// =====================================================================================================

// w is (IN,OUT), wp is (⌈OUT/24⌉,IN,24): w in strips of 24 columns, each strip's rows contiguous, zero-padded
export function pack_strips(wp: usize, w: usize, IN: usize, OUT: usize): void {
  pack_strips_cols(wp, w, <i32>IN, <i32>OUT, 0, <i32>OUT);
}

// x is (B,IN), wp is (⌈OUT/24⌉,IN,24) (pack_strips of w), w is (IN,OUT), b is (OUT), out is (B,OUT): out = act(x·w + b),
// the bits of linear_act_forward while w is finite (its rows whose inputs are all +0 are not read: ZERO_SKIP); one
// row streams w's rows, more rows wp's strips
export function linear_strips_forward(out: usize, x: usize, wp: usize, w: usize, b: usize, B: usize, IN: usize, OUT: usize, act: i32): void {
  strips_block(out, x, wp, w, b, <i32>B, <i32>OUT, <i32>IN, act, 0, <i32>OUT, SCRATCH);
}

// linear_strips_forward for the columns [j0, j1) of out (j0 a multiple of 24): a thread's strips, with its scratch
export function linear_strips_cols(out: usize, x: usize, wp: usize, w: usize, b: usize, B: usize, IN: usize, OUT: usize, act: i32, j0: i32, j1: i32, scratch: usize): void {
  strips_block(out, x, wp, w, b, <i32>B, <i32>OUT, <i32>IN, act, j0, j1, scratch);
}

// =====================================================================================================
// Bias broadcast and column sum
// =====================================================================================================

// x is (B,N), b is (N), out is (B,N) (may be x)
export function bias_add(out: usize, x: usize, b: usize, B: usize, N: usize): void {
  const row = N << 2;
  for (let r: usize = 0; r < B; r++) {
    const xo = x + r * row;
    const oo = out + r * row;
    let j: usize = 0;
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= N; j += 4) {
        const o = j << 2;
        v128.store(oo + o, f32x4.add(v128.load(xo + o), v128.load(b + o)));
      }
    }
    for (; j < N; j++) {
      const o = j << 2;
      store<f32>(oo + o, load<f32>(xo + o) + load<f32>(b + o));
    }
  }
}

// x is (B,N), out is (N): out (+)= Σ_rows x
export function col_sum(out: usize, x: usize, B: usize, N: usize, accumulate: i32): void {
  col_sum_cols(out, x, <i32>B, <i32>N, accumulate, 0, <i32>N);
}

// x is (B,N), out is (N): columns [j0, j1) of out (+)= Σ_rows x. Each column sums its rows in order, whatever the
// column range: threads that split the columns give the one-thread result bit for bit.
export function col_sum_cols(out: usize, x: usize, B: i32, N: i32, accumulate: i32, j0: i32, j1: i32): void {
  if (j1 <= j0) return;
  const o0 = <usize>j0 << 2;
  if (!accumulate) memory.fill(out + o0, 0, <usize>(j1 - j0) << 2);
  const row = <usize>N << 2;
  // row by row into out: out stays in L1 and x is read once, in order
  for (let r = 0; r < B; r++) {
    const xo = x + <usize>r * row;
    let j = j0;
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= j1; j += 4) {
        const o = <usize>j << 2;
        v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(xo + o)));
      }
    }
    for (; j < j1; j++) {
      const o = <usize>j << 2;
      store<f32>(out + o, load<f32>(out + o) + load<f32>(xo + o));
    }
  }
}
