// The one Backend interface, implemented by `wasm` (AssemblyScript → WASM SIMD) and `js` (pure TypeScript).
//
// Memory model (DESIGN.md): every tensor lives in one linear memory owned by the backend; the TS side holds
// only `{ptr, rows, cols}`. `ptr` is a byte offset, 16-byte aligned. Kernels take pointers and sizes,
// outputs first, sizes last, and have identical semantics in both backends.

/** A row-major f32 matrix in a backend's linear memory. */
export interface Tensor {
  readonly ptr: number;
  readonly rows: number;
  readonly cols: number;
  /** The backend that owns the memory; checked before any kernel runs. */
  readonly backend: Backend;
  /** The allocation's serial number: a handle kept past free() is refused even once its block is reused. */
  readonly id?: number;
}

/** Activation codes of `linear_act_forward` (the same numbers as assembly/activations.ts's ACT_*; test/abi.test.ts). */
export const ACT = { none: 0, relu: 1, sigmoid: 2, tanh: 3 } as const;
export type ActCode = (typeof ACT)[keyof typeof ACT];

/** Columns of a strip of `pack_strips` (assembly/gemm.ts's SW; test/abi.test.ts). */
export const STRIP_WIDTH = 24;
/** Floats of w(IN,OUT) packed by `pack_strips`: ⌈OUT/24⌉ strips of IN × 24. */
export const stripFloats = (IN: number, OUT: number): number => Math.ceil(OUT / STRIP_WIDTH) * STRIP_WIDTH * IN;

/** Noise codes of `gather_noise` (the same numbers as assembly/noise.ts's NOISE_*; test/abi.test.ts). */
export const NOISE = { none: 0, gaussian: 1, 'salt-pepper': 2, mask: 3 } as const;

/** The kernels, pointer-in / pointer-out. Every pointer is a byte offset into the backend's memory. */
export interface Kernels {
  // ---- GEMM ------------------------------------------------------------------------------------
  /** C(M,N) = op(A)·op(B) (+ C when accumulate≠0). op(A) is (M,K): A is (M,K), or (K,M) when transA.
   *  op(B) is (K,N): B is (K,N), or (N,K) when transB. Row-major, no strides. */
  gemm(c: number, a: number, b: number, M: number, N: number, K: number, transA: number, transB: number, accumulate: number): void;

  // ---- Linear layer (fused) ----------------------------------------------------------------------
  /** out(B,OUT) = x(B,IN)·w(IN,OUT) + b(OUT) */
  linear_forward(out: number, x: number, w: number, b: number, B: number, IN: number, OUT: number): void;
  /** out(B,OUT) = act(x(B,IN)·w(IN,OUT) + b(OUT)), act an ACT code (0 none, 1 relu, 2 sigmoid, 3 tanh), applied
   *  in the GEMM's write-back. Bit-identical to linear_forward followed by relu/sigmoid/tanh_forward. */
  linear_act_forward(out: number, x: number, w: number, b: number, B: number, IN: number, OUT: number, act: number): void;
  /** dw += xᵀ·dout; db += column sums of dout; dx = dout·wᵀ (skipped when dx = 0). */
  linear_backward(dx: number, dw: number, db: number, dout: number, x: number, w: number, B: number, IN: number, OUT: number): void;
  /** wp(⌈OUT/24⌉, IN, 24) = w(IN,OUT) in strips of 24 columns, each strip's IN rows contiguous, zero-padded past OUT:
   *  the layout linear_strips_forward streams (STRIP_WIDTH; stripFloats gives wp's size). */
  pack_strips(wp: number, w: number, IN: number, OUT: number): void;
  /** linear_act_forward with w also given as pack_strips wrote it (wp): the same bits while w is finite, faster for a
   *  handful of rows (predict). A k whose inputs are all +0 is left out (its row of w is not read: 0·Inf would be
   *  NaN, so finite weights only); one row streams w's rows, more rows wp's strips. */
  linear_strips_forward(out: number, x: number, wp: number, w: number, b: number, B: number, IN: number, OUT: number, act: number): void;
  /** out(B,N) = x(B,N) + b(N) broadcast over rows (out may equal x). */
  bias_add(out: number, x: number, b: number, B: number, N: number): void;
  /** out(N) (+)= column sums of x(B,N) (adds into out when accumulate≠0). */
  col_sum(out: number, x: number, B: number, N: number, accumulate: number): void;

  // ---- Conv2D / ConvTranspose2D (assembly/conv.ts), NCHW, weights as PyTorch -----------------------------
  // Geometry: x (C,H,W) → y (OC,OH,OW) per sample, kernel KH×KW, stride SH×SW, top/left pads PT, PL (the bottom
  // and right pads only set OH, OW). b = 0: no bias; db = 0: no bias gradient. scratch: `threads` ×
  // convScratchFloats / convTransposeScratchFloats (conv-scratch.ts) f32 elements, contents not kept between calls.
  /** y(B,OC,OH,OW) = act(conv(x(B,C,H,W), w(OC,C,KH,KW)) + b(OC)), act an ACT code applied in the write-back. */
  conv2d_forward(y: number, x: number, w: number, b: number, scratch: number, B: number, C: number, H: number, W: number, OC: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, PT: number, PL: number, act: number): void;
  /** dx(B,C,H,W) = ∂/∂x of Σ dy⊙conv(x, w): each dy element times each tap, added where forward read it (overwritten). */
  conv2d_backward_data(dx: number, dy: number, w: number, scratch: number, B: number, C: number, H: number, W: number, OC: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, PT: number, PL: number): void;
  /** dw(OC,C,KH,KW) += Σ_samples dy ⋆ x; db(OC) += Σ dy per channel. The same bits for any thread count. */
  conv2d_backward_weights(dw: number, db: number, dy: number, x: number, scratch: number, B: number, C: number, H: number, W: number, OC: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, PT: number, PL: number): void;
  /** Transposed: x (IC,IH,IW) → y (OC,OH,OW), w(IC,OC,KH,KW) (PyTorch's conv_transpose2d: conv2d's backward-data
   *  of the conv from y to x, whose pads are PT, PL). y = act(convT(x, w) + b(OC)). */
  conv_transpose2d_forward(y: number, x: number, w: number, b: number, scratch: number, B: number, IC: number, IH: number, IW: number, OC: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, PT: number, PL: number, act: number): void;
  /** dx(B,IC,IH,IW) = conv2d(dy, w) (overwritten). */
  conv_transpose2d_backward_data(dx: number, dy: number, w: number, scratch: number, B: number, IC: number, IH: number, IW: number, OC: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, PT: number, PL: number): void;
  /** dw(IC,OC,KH,KW) += Σ_samples x ⋆ dy; db(OC) += Σ dy per channel. The same bits for any thread count. */
  conv_transpose2d_backward_weights(dw: number, db: number, dy: number, x: number, scratch: number, B: number, IC: number, IH: number, IW: number, OC: number, OH: number, OW: number, KH: number, KW: number, SH: number, SW: number, PT: number, PL: number): void;

  // ---- Activations: forward and backward. y may equal x; dx may equal dy. -----------------------
  relu_forward(y: number, x: number, n: number): void;
  /** dx = dy·1[y>0] (y is the forward output) */
  relu_backward(dx: number, dy: number, y: number, n: number): void;
  tanh_forward(y: number, x: number, n: number): void;
  /** dx = dy·(1 − y²) */
  tanh_backward(dx: number, dy: number, y: number, n: number): void;
  sigmoid_forward(y: number, x: number, n: number): void;
  /** dx = dy·y·(1 − y) */
  sigmoid_backward(dx: number, dy: number, y: number, n: number): void;
  /** row-wise, numerically stable (subtract the row max) */
  softmax_forward(y: number, x: number, B: number, N: number): void;
  /** dx = y·(dy − Σ dy·y) per row */
  softmax_backward(dx: number, dy: number, y: number, B: number, N: number): void;

  // ---- Losses: value is a mean over the batch; gradients are of that mean. ----------------------
  /** mean over all B·N elements of (p − t)²; returns the loss */
  mse_loss(p: number, t: number, B: number, N: number): number;
  /** dp = 2(p − t)/(B·N) */
  mse_backward(dp: number, p: number, t: number, B: number, N: number): void;
  /** mean over all elements of −[t·log p + (1−t)·log(1−p)], p clamped to [1e-7, 1 − 1e-7] (as the reference) */
  bce_loss(p: number, t: number, B: number, N: number): number;
  /** dp = (p − t)/(p(1 − p))/(B·N), p clamped as in the loss */
  bce_backward(dp: number, p: number, t: number, B: number, N: number): void;
  /** Fused sigmoid + BCE backward: dz = (p − t)/(B·N), where p = sigmoid(z) is the forward output. */
  sigmoid_bce_backward(dz: number, p: number, t: number, B: number, N: number): void;
  /** mean over rows of −Σ t·log p (p clamped to [1e-7, 1]); p is a softmax output */
  softmax_ce_loss(p: number, t: number, B: number, N: number): number;
  /** Fused softmax + cross-entropy backward: dz = (p − t)/B */
  softmax_ce_backward(dz: number, p: number, t: number, B: number, N: number): void;

  // ---- Optimizers: one flat loop over a parameter block -----------------------------------------
  /** w −= lr·g */
  sgd_update(w: number, g: number, lr: number, n: number): void;
  /** v = mu·v + g; w −= lr·v */
  momentum_update(w: number, v: number, g: number, lr: number, mu: number, n: number): void;
  /** Adam (Kingma & Ba), bias-corrected with step t ≥ 1:
   *  m = b1·m + (1−b1)·g; v = b2·v + (1−b2)·g²; w −= lr·(m/(1−b1^t)) / (sqrt(v/(1−b2^t)) + eps) */
  adam_update(w: number, m: number, v: number, g: number, lr: number, beta1: number, beta2: number, eps: number, t: number, n: number): void;
  /** AdamW (decoupled weight decay, as torch.optim.AdamW): w ·= (1 − lr·decay), then the Adam step above. */
  adamw_update(w: number, m: number, v: number, g: number, lr: number, beta1: number, beta2: number, eps: number, decay: number, t: number, n: number): void;
  /** RMSprop (as torch.optim.RMSprop, not centered, no momentum): v = rho·v + (1−rho)·g²; w −= lr·g/(sqrt(v) + eps) */
  rmsprop_update(w: number, v: number, g: number, lr: number, rho: number, eps: number, n: number): void;
  /** g = scale·g + decay·w (gradient clipping by global norm, then L2 weight decay) */
  grad_scale_decay(g: number, w: number, scale: number, decay: number, n: number): void;
  /** Σ x² over x[0..n), in f64 (the squared global norm for clipping); fixed chunks, so the same bits for any thread count */
  sum_squares(x: number, n: number): number;

  // ---- Dropout -------------------------------------------------------------------------------------
  /** y = x·keep/(1 − rate), keep = u ≥ rate, u = (rand(c0 + i) >>> 8)·2^-24 from gather_noise's generator with
   *  keys (k0, k1) (assembly/dropout.ts). The forward pass on x and the backward pass on dy (same keys, same c0). */
  dropout_apply(y: number, x: number, rate: number, k0: number, k1: number, c0: number, n: number): void;

  // ---- Pooling and nearest upsampling (assembly/pool.ts) -------------------------------------------
  // NCHW: a batch row of C·H·W values is C planes, so each kernel takes N = B·C planes of H·W. A window of output
  // (oh, ow) starts at row oh·sh − pt, column ow·sw − pl and is clipped to the plane (the bottom / right pads only
  // set OH and OW). Sums are f32 from +0 in scan order, as PyTorch's CPU kernels; backward kernels write dx.
  /** y(N,OH,OW) = max of each kh×kw window of x(N,H,W); idx(N,OH,OW) (i32) = its plane index h·W + w. Max from −∞
   *  by `v > m || isnan(v)` (PyTorch): a tie keeps the first in scan order, a NaN wins (the last NaN). */
  maxpool2d_forward(y: number, idx: number, x: number, N: number, H: number, W: number, OH: number, OW: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number): void;
  /** dx(N,H,W) = 0, then dx[idx] += dy(N,OH,OW) in output order; idx as maxpool2d_forward wrote it (each index in
   *  its output's window: the 2×2 stride-2 path of the SIMD builds reads only those; indices outside the plane are
   *  skipped). */
  maxpool2d_backward(dx: number, dy: number, idx: number, N: number, H: number, W: number, OH: number, OW: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number): void;
  /** y(N,OH,OW) = window sum of x(N,H,W) / divisor: kh·kw when include≠0 (count_include_pad), else the elements
   *  inside the plane. */
  avgpool2d_forward(y: number, x: number, N: number, H: number, W: number, OH: number, OW: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, include: number): void;
  /** dx(N,H,W) = 0, then each window's elements += dy(N,OH,OW)/divisor, in output order. */
  avgpool2d_backward(dx: number, dy: number, N: number, H: number, W: number, OH: number, OW: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number, include: number): void;
  /** y(N,H·sh,W·sw)[r, c] = x(N,H,W)[r/sh, c/sw] (nearest, integer factors) */
  upsample2d_forward(y: number, x: number, N: number, H: number, W: number, sh: number, sw: number): void;
  /** dx(N,H,W) = the sum of each sh×sw block of dy(N,H·sh,W·sw) */
  upsample2d_backward(dx: number, dy: number, N: number, H: number, W: number, sh: number, sw: number): void;
  // Pixel shuffle: N groups of a space plane (H·r, W·r) ↔ its r² depth planes (H, W), the same values moved (depth
  // plane i·r + j, (h, w) is space (h·r + i, w·r + j), PyTorch's order); each is the other's backward.
  /** y(N,r²,H,W)[n, i·r + j, h, w] = x(N,H·r,W·r)[n, h·r + i, w·r + j] (nn.PixelUnshuffle, N = B·C in channels) */
  pixel_unshuffle(y: number, x: number, N: number, H: number, W: number, r: number): void;
  /** y(N,H·r,W·r)[n, h·r + i, w·r + j] = x(N,r²,H,W)[n, i·r + j, h, w] (nn.PixelShuffle, N = B·C out channels) */
  pixel_shuffle(y: number, x: number, N: number, H: number, W: number, r: number): void;

  // ---- Data pipeline -----------------------------------------------------------------------------
  /** dst(count,width) row r = noise(source row s), s = idx ? i32 idx[r] : row0 + r, of src(·,width). kind is a NOISE
   *  code (0 none: a plain gather, 1 gaussian clip(x + factor·z, 0, 1), 2 salt-pepper, 3 mask). The noise of element
   *  (s, j) depends only on (k0, k1, s, j): not on the batch, its order, or which thread draws it. */
  gather_noise(dst: number, src: number, idx: number, row0: number, count: number, width: number, kind: number, factor: number, k0: number, k1: number): void;

  // ---- Utilities ---------------------------------------------------------------------------------
  /** x[0..n) = value */
  fill(x: number, value: number, n: number): void;
  /** 1 if any of x[0..n) is NaN or ±Inf, else 0 */
  has_non_finite(x: number, n: number): number;
}

export const BACKEND_NAMES = ['wasm', 'js'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface Backend {
  readonly name: BackendName;
  /** 'relaxed-simd' | 'simd' | 'scalar' for wasm, 'js' for js */
  readonly variant: string;
  /** Kernel threads, the calling thread included (1 for js and for a single-threaded wasm backend). */
  readonly threads: number;
  /** Why fewer threads run than were asked for, e.g. "the page is not cross-origin isolated …". */
  readonly threadsNote?: string;
  /** Stops the backend's threads (a Node process exits without it too: the workers never keep it alive). */
  dispose(): void;
  readonly kernels: Kernels;
  /** The linear memory (for tests that assert it does not grow). */
  readonly memory: WebAssembly.Memory;

  /** Allocates a zero-filled rows×cols tensor, 16-byte aligned. May grow memory. */
  alloc(rows: number, cols: number): Tensor;
  free(t: Tensor): void;
  /** Number of live allocations (for leak tests). */
  readonly liveAllocations: number;
  /** Bytes still available for tensors (free blocks plus growth up to the 4 GiB wasm32 limit): an upper bound. */
  readonly availableBytes?: number;

  /** Copies data (length rows·cols) into t. */
  write(t: Tensor, data: ArrayLike<number>, offset?: number): void;
  /** Copies t out into a new Float32Array (or into `into`). */
  read(t: Tensor, into?: Float32Array): Float32Array;
  /** Copies rows `indices[start..start+count)` of src (each `t.cols` wide) into the first `count` rows of t. */
  gatherRows(t: Tensor, src: Float32Array, indices: ArrayLike<number>, start: number, count: number): void;
  /** A view of the heap as f32, re-derived when memory grew. Never cache it across an alloc. */
  heapF32(): Float32Array;
}
