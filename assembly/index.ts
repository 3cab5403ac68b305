// simdnet kernels: the exports are the `Kernels` interface of src/backend/backend.ts (same names, same
// argument order: pointers as byte offsets, outputs first, sizes last), plus heap_base for the allocator.
// One source, three builds (asconfig.json): simd, relaxed (FMA via relaxed_madd) and scalar; every v128 path
// sits behind `if (ASC_FEATURE_SIMD)` so the scalar build compiles without it.

import { GEMM_SCRATCH, GEMM_SCRATCH_BYTES } from './gemm';
import { LOSS_CHUNK } from './loss';

export { gemm } from './gemm';
export { linear_forward, linear_act_forward, linear_backward, bias_add, col_sum, pack_strips, linear_strips_forward } from './linear';
export {
  conv2d_forward, conv2d_backward_data, conv2d_backward_weights,
  conv_transpose2d_forward, conv_transpose2d_backward_data, conv_transpose2d_backward_weights,
} from './conv';
export {
  relu_forward, relu_backward, tanh_forward, tanh_backward, sigmoid_forward, sigmoid_backward,
  softmax_forward, softmax_backward,
} from './activations';
export {
  mse_loss, mse_backward, bce_loss, bce_backward, sigmoid_bce_backward, softmax_ce_loss, softmax_ce_backward, sum_squares,
} from './loss';
export { sgd_update, momentum_update, adam_update, adamw_update, rmsprop_update, grad_scale_decay } from './optim';
export { fill, has_non_finite } from './util';
export { gather_noise } from './noise';
export { dropout_apply } from './dropout';
export {
  maxpool2d_forward, maxpool2d_backward, avgpool2d_forward, avgpool2d_backward, upsample2d_forward, upsample2d_backward,
  pixel_unshuffle, pixel_shuffle,
} from './pool';
// the pieces a thread runs (src/backend/threads.ts): a block of a GEMM, a range of weight strips (packed, or used),
// a column range of a column sum, chunked loss sums, the scaled loss gradients with the whole batch's scale, the conv weight gradients by channels
export { gemm_block } from './gemm';
export { col_sum_cols, linear_strips_cols } from './linear';
export { pack_strips_cols } from './gemm';
export { conv2d_backward_weights_cols, conv_transpose2d_backward_weights_cols } from './conv';
export { loss_sums, diff_scaled, bce_backward_scaled } from './loss';
// test hooks: the exp/log approximations alone, for test/kernels.test.ts's error bounds; the conv kernels' scratch
// size (src/backend/conv-scratch.ts copies it, test/conv-kernels.test.ts compares the two)
export { exp_forward, log_forward } from './math';
export { conv2d_scratch } from './conv';

/** The static GEMM scratch of the calling thread's exported kernels, and the bytes each further thread needs. */
export function gemm_scratch(): usize {
  return GEMM_SCRATCH;
}
export function gemm_scratch_bytes(): usize {
  return GEMM_SCRATCH_BYTES;
}
export function loss_chunk(): usize {
  return LOSS_CHUNK;
}

/** First byte above the static data (incl. the GEMM scratch): where the TS allocator may start. */
export function heap_base(): usize {
  return __heap_base;
}
