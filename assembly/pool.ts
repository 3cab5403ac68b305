// Pooling, nearest upsampling and pixel shuffle over NCHW planes, each forward with its backward right under it.
//
// A batch row of C·H·W values is C planes of H·W, so every kernel takes N = B·C planes and treats each alone: the
// threaded backend cuts the planes into ranges, each output element is computed by one thread with these loops,
// and the bits do not depend on the thread count. Windows are as PyTorch / ONNX (floor mode): output (oh, ow) reads
// rows oh·sh − pt .. + kh and columns ow·sw − pl .. + kw, clipped to the plane (the bottom / right pads only set
// OH and OW, which the caller passes).
//
// Arithmetic as PyTorch 1.13's CPU kernels (aten/src/ATen/native/cpu/{MaxPool,AvgPool,UpSample}Kernel.cpp):
// sums are f32, from +0, in scan order (row-major over the window or block); max is `v > m || isnan(v)` from −∞,
// so a tie keeps the first maximum and a NaN wins (the last NaN in scan order: the output is NaN and its gradient
// goes there). Backward kernels write dx (zero, then add in output order). The SIMD fast paths (2×2 stride 2, ×2)
// keep that order per lane, so every build, and the js twin (src/backend/pool-js.ts), give the same bits.

// =====================================================================================================
// Helpers: the one scalar definition of each window, and the 2×2 pieces of the fast paths
// =====================================================================================================

// [0, 2, 4, 6]: the column offsets of four outputs at stride 2; 4.0f (bits 0x40800000); [0, 1, 2, 3]: at stride 1
const PK: usize = memory.data<i32>([0, 2, 4, 6, 0x40800000, 0, 0, 0, 0, 1, 2, 3], 16);

// @ts-ignore: decorator
@inline function is_2x2(H: usize, W: usize, OH: usize, OW: usize, kh: usize, kw: usize, sh: usize, sw: usize, pt: usize, pl: usize): bool {
  // every window inside the plane: no padding in any of them
  return kh == 2 && kw == 2 && sh == 2 && sw == 2 && pt == 0 && pl == 0 && OH * 2 <= H && OW * 2 <= W;
}

/** Max of the window from (h0, w0) (may start in the padding) into yo, its plane index into io; an empty window
 *  (only padding, which a layer refuses) gives −∞ and index −1. */
// @ts-ignore: decorator
@inline function max_at(yo: usize, io: usize, xp: usize, H: i32, W: i32, h0: i32, w0: i32, kh: i32, kw: i32): void {
  const hs = max(h0, 0), he = min(h0 + kh, H), ws = max(w0, 0), we = min(w0 + kw, W);
  let m: f32 = -Infinity;
  let mi: i32 = hs * W + ws; // PyTorch's start: a window of −∞ points at its first element
  if (hs >= he || ws >= we) mi = -1;
  for (let h = hs; h < he; h++) {
    for (let w = ws; w < we; w++) {
      const i = h * W + w;
      const v = load<f32>(xp + (<usize>i << 2));
      // branch-free (a select, not a jump): which element wins is data, and mispredicted jumps cost 4× here
      const take = (v > m) | (v != v);
      m = select<f32>(v, m, take);
      mi = select<i32>(i, mi, take);
    }
  }
  store<f32>(yo, m);
  store<i32>(io, mi);
}

/** The divisor of the window from (h0, w0): kh·kw with countIncludePad (floor mode: the window lies inside the
 *  padded plane), else the elements inside the plane (at least 1: an empty window averages to 0). */
// @ts-ignore: decorator
@inline function avg_div(H: i32, W: i32, h0: i32, w0: i32, kh: i32, kw: i32, include: i32): f32 {
  if (include) return <f32>(kh * kw);
  const dh = max(min(h0 + kh, H) - max(h0, 0), 0), dw = max(min(w0 + kw, W) - max(w0, 0), 0);
  return <f32>max(dh * dw, 1);
}

// @ts-ignore: decorator
@inline function avg_at(xp: usize, H: i32, W: i32, h0: i32, w0: i32, kh: i32, kw: i32, include: i32): f32 {
  const hs = max(h0, 0), he = min(h0 + kh, H), ws = max(w0, 0), we = min(w0 + kw, W);
  let s: f32 = 0;
  for (let h = hs; h < he; h++) for (let w = ws; w < we; w++) s += load<f32>(xp + (<usize>(h * W + w) << 2));
  return s / avg_div(H, W, h0, w0, kh, kw, include);
}

/** First output of the four-wide generic path (SIMD builds, strides 1 and 2): the outputs before it have windows
 *  that start left of the plane. */
// @ts-ignore: decorator
@inline function simd_from(sw: usize, pl: usize): usize {
  return (pl + sw - 1) / sw;
}

/** Whether outputs ow..ow+3 have every window column inside the plane, and (stride 2: two loads of four from each
 *  column start) every column the loads read. */
// @ts-ignore: decorator
@inline function simd_fits(ow: usize, W: usize, kw: usize, sw: usize, pl: usize): bool {
  return (ow + 3) * sw + kw + (sw - 1) <= W + pl;
}

/** Column j of four vectors from p (byte pointer): x[p + j·sw] for sw = 1 or 2. */
// @ts-ignore: decorator
@inline function load4(p: usize, sw: usize): v128 {
  if (sw == 1) return v128.load(p);
  return f32x4.shuffle(v128.load(p), v128.load(p, 16), 0, 2, 4, 6);
}

/** max_at for outputs (h0, w0 + j·sw), j = 0..3, every column inside the plane: the same scan per lane. */
// @ts-ignore: decorator
@inline function max4_at(yo: usize, io: usize, xp: usize, H: i32, W: i32, h0: i32, w0: i32, kh: i32, kw: i32, sw: usize): void {
  const hs = max(h0, 0), he = min(h0 + kh, H);
  const lane = v128.load(PK + (sw == 1 ? 32 : 0));
  let m = f32x4.splat(-Infinity);
  let mi = hs < he ? i32x4.add(i32x4.splat(hs * W + w0), lane) : i32x4.splat(-1);
  for (let h = hs; h < he; h++) {
    for (let dw = 0; dw < kw; dw++) {
      const i = h * W + w0 + dw;
      const v = load4(xp + (<usize>i << 2), sw);
      const take = v128.or(f32x4.gt(v, m), f32x4.ne(v, v));
      m = v128.bitselect(v, m, take);
      mi = v128.bitselect(i32x4.add(i32x4.splat(i), lane), mi, take);
    }
  }
  v128.store(yo, m);
  v128.store(io, mi);
}

/** avg_at for outputs (h0, w0 + j·sw), j = 0..3, every column inside the plane (so one divisor for the four). */
// @ts-ignore: decorator
@inline function avg4_at(xp: usize, H: i32, W: i32, h0: i32, w0: i32, kh: i32, kw: i32, include: i32, sw: usize): v128 {
  const hs = max(h0, 0), he = min(h0 + kh, H);
  let s = f32x4.splat(0);
  for (let h = hs; h < he; h++) for (let dw = 0; dw < kw; dw++) s = f32x4.add(s, load4(xp + (<usize>(h * W + w0 + dw) << 2), sw));
  return f32x4.div(s, f32x4.splat(avg_div(H, W, h0, w0, kh, kw, include)));
}

/** Sum of each 2×2 block of four: rows r0 and r1 (byte pointers), columns 2j, 2j + 1 for j = 0..3, in scan order
 *  from +0 (the same additions as the scalar loops). */
// @ts-ignore: decorator
@inline function sum2x2(r0: usize, r1: usize, zero: v128): v128 {
  const a0 = v128.load(r0), a1 = v128.load(r0, 16), b0 = v128.load(r1), b1 = v128.load(r1, 16);
  const s = f32x4.add(f32x4.add(zero, f32x4.shuffle(a0, a1, 0, 2, 4, 6)), f32x4.shuffle(a0, a1, 1, 3, 5, 7));
  return f32x4.add(f32x4.add(s, f32x4.shuffle(b0, b1, 0, 2, 4, 6)), f32x4.shuffle(b0, b1, 1, 3, 5, 7));
}

/** Zeroes what a 2×2 stride-2 backward leaves: columns 2·OW.. of rows 0..2·OH, and rows 2·OH.. (odd H, W). */
// @ts-ignore: decorator
@inline function zero_rest_2x2(dp: usize, H: usize, W: usize, OH: usize, OW: usize): void {
  if (OW * 2 < W) for (let h: usize = 0; h < OH * 2; h++) memory.fill(dp + ((h * W + OW * 2) << 2), 0, (W - OW * 2) << 2);
  if (OH * 2 < H) memory.fill(dp + ((OH * 2 * W) << 2), 0, ((H - OH * 2) * W) << 2);
}

// =====================================================================================================
// MaxPool2D
// =====================================================================================================

// x is (N,H,W); y and idx are (N,OH,OW): idx (i32) is the plane index h·W + w of each maximum, as PyTorch's
export function maxpool2d_forward(y: usize, idx: usize, x: usize, N: usize, H: usize, W: usize, OH: usize, OW: usize, kh: usize, kw: usize, sh: usize, sw: usize, pt: usize, pl: usize): void {
  const HW = H * W, OHW = OH * OW;
  const fast = ASC_FEATURE_SIMD && is_2x2(H, W, OH, OW, kh, kw, sh, sw, pt, pl);
  for (let n: usize = 0; n < N; n++) {
    const xp = x + ((n * HW) << 2), yp = y + ((n * OHW) << 2), ip = idx + ((n * OHW) << 2);
    for (let oh: usize = 0; oh < OH; oh++) {
      let ow: usize = 0;
      if (ASC_FEATURE_SIMD && fast) {
        const r0 = xp + ((oh * W * 2) << 2), r1 = r0 + (W << 2);
        const even = v128.load(PK), one = i32x4.splat(1), down = i32x4.splat(<i32>W);
        for (; ow + 4 <= OW; ow += 4) {
          const a0 = v128.load(r0 + (ow << 3)), a1 = v128.load(r0 + (ow << 3), 16);
          const b0 = v128.load(r1 + (ow << 3)), b1 = v128.load(r1 + (ow << 3), 16);
          const ia = i32x4.add(i32x4.splat(<i32>(oh * W * 2 + ow * 2)), even);
          // scan order: (0,0) (0,1) (1,0) (1,1); the first is the start (from −∞ it is taken whatever it is)
          let m = f32x4.shuffle(a0, a1, 0, 2, 4, 6);
          let mi = ia;
          let v = f32x4.shuffle(a0, a1, 1, 3, 5, 7);
          let take = v128.or(f32x4.gt(v, m), f32x4.ne(v, v));
          m = v128.bitselect(v, m, take);
          mi = v128.bitselect(i32x4.add(ia, one), mi, take);
          v = f32x4.shuffle(b0, b1, 0, 2, 4, 6);
          take = v128.or(f32x4.gt(v, m), f32x4.ne(v, v));
          m = v128.bitselect(v, m, take);
          mi = v128.bitselect(i32x4.add(ia, down), mi, take);
          v = f32x4.shuffle(b0, b1, 1, 3, 5, 7);
          take = v128.or(f32x4.gt(v, m), f32x4.ne(v, v));
          m = v128.bitselect(v, m, take);
          mi = v128.bitselect(i32x4.add(i32x4.add(ia, down), one), mi, take);
          v128.store(yp + ((oh * OW + ow) << 2), m);
          v128.store(ip + ((oh * OW + ow) << 2), mi);
        }
      }
      const h0 = <i32>(oh * sh) - <i32>pt;
      if (ASC_FEATURE_SIMD && !fast && (sw == 1 || sw == 2)) {
        // windows four at a time where all their columns are inside the plane; the edges one at a time
        for (const e = min(simd_from(sw, pl), OW); ow < e; ow++) {
          const o = (oh * OW + ow) << 2;
          max_at(yp + o, ip + o, xp, <i32>H, <i32>W, h0, <i32>(ow * sw) - <i32>pl, <i32>kh, <i32>kw);
        }
        for (; ow + 4 <= OW && simd_fits(ow, W, kw, sw, pl); ow += 4) {
          const o = (oh * OW + ow) << 2;
          max4_at(yp + o, ip + o, xp, <i32>H, <i32>W, h0, <i32>(ow * sw) - <i32>pl, <i32>kh, <i32>kw, sw);
        }
      }
      for (; ow < OW; ow++) {
        const o = (oh * OW + ow) << 2;
        max_at(yp + o, ip + o, xp, <i32>H, <i32>W, h0, <i32>(ow * sw) - <i32>pl, <i32>kh, <i32>kw);
      }
    }
  }
}

// dy and idx are (N,OH,OW), dx is (N,H,W): dx = 0, then dx[idx] += dy in output order (indices outside the plane
// are skipped)
export function maxpool2d_backward(dx: usize, dy: usize, idx: usize, N: usize, H: usize, W: usize, OH: usize, OW: usize, kh: usize, kw: usize, sh: usize, sw: usize, pt: usize, pl: usize): void {
  const HW = H * W, OHW = OH * OW;
  const fast = ASC_FEATURE_SIMD && is_2x2(H, W, OH, OW, kh, kw, sh, sw, pt, pl);
  for (let n: usize = 0; n < N; n++) {
    const dp = dx + ((n * HW) << 2), gp = dy + ((n * OHW) << 2), ip = idx + ((n * OHW) << 2);
    if (ASC_FEATURE_SIMD && fast) {
      // windows do not overlap: each dx element is 0 + dy where it was the argmax, else 0 (+0, as the scatter)
      const even = v128.load(PK), one = i32x4.splat(1), down = i32x4.splat(<i32>W), zero = f32x4.splat(0);
      for (let oh: usize = 0; oh < OH; oh++) {
        const r0 = dp + ((oh * W * 2) << 2), r1 = r0 + (W << 2);
        let ow: usize = 0;
        for (; ow + 4 <= OW; ow += 4) {
          const g = v128.load(gp + ((oh * OW + ow) << 2)), ii = v128.load(ip + ((oh * OW + ow) << 2));
          const ia = i32x4.add(i32x4.splat(<i32>(oh * W * 2 + ow * 2)), even);
          const a = f32x4.add(zero, v128.and(g, i32x4.eq(ii, ia)));
          const b = f32x4.add(zero, v128.and(g, i32x4.eq(ii, i32x4.add(ia, one))));
          const c = f32x4.add(zero, v128.and(g, i32x4.eq(ii, i32x4.add(ia, down))));
          const d = f32x4.add(zero, v128.and(g, i32x4.eq(ii, i32x4.add(i32x4.add(ia, down), one))));
          v128.store(r0 + (ow << 3), f32x4.shuffle(a, b, 0, 4, 1, 5));
          v128.store(r0 + (ow << 3), f32x4.shuffle(a, b, 2, 6, 3, 7), 16);
          v128.store(r1 + (ow << 3), f32x4.shuffle(c, d, 0, 4, 1, 5));
          v128.store(r1 + (ow << 3), f32x4.shuffle(c, d, 2, 6, 3, 7), 16);
        }
        for (; ow < OW; ow++) {
          // the window's four elements, then the scatter of this one output
          store<u64>(r0 + (ow << 3), 0);
          store<u64>(r1 + (ow << 3), 0);
          const i = load<i32>(ip + ((oh * OW + ow) << 2));
          if (<u32>i < <u32>HW) store<f32>(dp + (<usize>i << 2), load<f32>(dp + (<usize>i << 2)) + load<f32>(gp + ((oh * OW + ow) << 2)));
        }
      }
      zero_rest_2x2(dp, H, W, OH, OW);
      continue;
    }
    memory.fill(dp, 0, HW << 2);
    for (let o: usize = 0; o < OHW; o++) {
      const i = load<i32>(ip + (o << 2));
      if (<u32>i < <u32>HW) store<f32>(dp + (<usize>i << 2), load<f32>(dp + (<usize>i << 2)) + load<f32>(gp + (o << 2)));
    }
  }
}

// =====================================================================================================
// AvgPool2D: include = countIncludePad (PyTorch's count_include_pad, default true)
// =====================================================================================================

// x is (N,H,W), y is (N,OH,OW)
export function avgpool2d_forward(y: usize, x: usize, N: usize, H: usize, W: usize, OH: usize, OW: usize, kh: usize, kw: usize, sh: usize, sw: usize, pt: usize, pl: usize, include: i32): void {
  const HW = H * W, OHW = OH * OW;
  const fast = ASC_FEATURE_SIMD && is_2x2(H, W, OH, OW, kh, kw, sh, sw, pt, pl);
  for (let n: usize = 0; n < N; n++) {
    const xp = x + ((n * HW) << 2), yp = y + ((n * OHW) << 2);
    for (let oh: usize = 0; oh < OH; oh++) {
      let ow: usize = 0;
      if (ASC_FEATURE_SIMD && fast) {
        // no padding in any window: the divisor is 4 either way
        const r0 = xp + ((oh * W * 2) << 2), r1 = r0 + (W << 2);
        const zero = f32x4.splat(0), four = v128.load32_splat(PK, 16);
        for (; ow + 4 <= OW; ow += 4) v128.store(yp + ((oh * OW + ow) << 2), f32x4.div(sum2x2(r0 + (ow << 3), r1 + (ow << 3), zero), four));
      }
      const h0 = <i32>(oh * sh) - <i32>pt;
      if (ASC_FEATURE_SIMD && !fast && (sw == 1 || sw == 2)) {
        for (const e = min(simd_from(sw, pl), OW); ow < e; ow++) store<f32>(yp + ((oh * OW + ow) << 2), avg_at(xp, <i32>H, <i32>W, h0, <i32>(ow * sw) - <i32>pl, <i32>kh, <i32>kw, include));
        for (; ow + 4 <= OW && simd_fits(ow, W, kw, sw, pl); ow += 4)
          v128.store(yp + ((oh * OW + ow) << 2), avg4_at(xp, <i32>H, <i32>W, h0, <i32>(ow * sw) - <i32>pl, <i32>kh, <i32>kw, include, sw));
      }
      for (; ow < OW; ow++) store<f32>(yp + ((oh * OW + ow) << 2), avg_at(xp, <i32>H, <i32>W, h0, <i32>(ow * sw) - <i32>pl, <i32>kh, <i32>kw, include));
    }
  }
}

// dy is (N,OH,OW), dx is (N,H,W): dx = 0, then each window's elements += dy/divisor, in output order
export function avgpool2d_backward(dx: usize, dy: usize, N: usize, H: usize, W: usize, OH: usize, OW: usize, kh: usize, kw: usize, sh: usize, sw: usize, pt: usize, pl: usize, include: i32): void {
  const HW = H * W, OHW = OH * OW;
  const fast = ASC_FEATURE_SIMD && is_2x2(H, W, OH, OW, kh, kw, sh, sw, pt, pl);
  for (let n: usize = 0; n < N; n++) {
    const dp = dx + ((n * HW) << 2), gp = dy + ((n * OHW) << 2);
    if (ASC_FEATURE_SIMD && fast) {
      const zero = f32x4.splat(0), four = v128.load32_splat(PK, 16);
      for (let oh: usize = 0; oh < OH; oh++) {
        const r0 = dp + ((oh * W * 2) << 2), r1 = r0 + (W << 2);
        let ow: usize = 0;
        for (; ow + 4 <= OW; ow += 4) {
          const g = f32x4.add(zero, f32x4.div(v128.load(gp + ((oh * OW + ow) << 2)), four));
          const lo = f32x4.shuffle(g, g, 0, 0, 1, 1), hi = f32x4.shuffle(g, g, 2, 2, 3, 3);
          v128.store(r0 + (ow << 3), lo);
          v128.store(r0 + (ow << 3), hi, 16);
          v128.store(r1 + (ow << 3), lo);
          v128.store(r1 + (ow << 3), hi, 16);
        }
        for (; ow < OW; ow++) {
          const g: f32 = 0 + load<f32>(gp + ((oh * OW + ow) << 2)) / 4;
          store<f32>(r0 + (ow << 3), g);
          store<f32>(r0 + (ow << 3), g, 4);
          store<f32>(r1 + (ow << 3), g);
          store<f32>(r1 + (ow << 3), g, 4);
        }
      }
      zero_rest_2x2(dp, H, W, OH, OW);
      continue;
    }
    memory.fill(dp, 0, HW << 2);
    for (let oh: usize = 0; oh < OH; oh++) {
      const h0 = <i32>(oh * sh) - <i32>pt;
      const hs = max(h0, 0), he = min(h0 + <i32>kh, <i32>H);
      for (let ow: usize = 0; ow < OW; ow++) {
        const w0 = <i32>(ow * sw) - <i32>pl;
        const ws = max(w0, 0), we = min(w0 + <i32>kw, <i32>W);
        const g = load<f32>(gp + ((oh * OW + ow) << 2)) / avg_div(<i32>H, <i32>W, h0, w0, <i32>kh, <i32>kw, include);
        for (let h = hs; h < he; h++) {
          for (let w = ws; w < we; w++) {
            const p = dp + (<usize>(h * <i32>W + w) << 2);
            store<f32>(p, load<f32>(p) + g);
          }
        }
      }
    }
  }
}

// =====================================================================================================
// Upsample2D, nearest, integer factors: y[h, w] = x[h / sh, w / sw]
// =====================================================================================================

// x is (N,H,W), y is (N,H·sh,W·sw)
export function upsample2d_forward(y: usize, x: usize, N: usize, H: usize, W: usize, sh: usize, sw: usize): void {
  const OW = W * sw, rowBytes = OW << 2;
  for (let r: usize = 0; r < N * H; r++) {
    // input row r (plane r / H, row r % H) makes output rows r·sh .. r·sh + sh − 1 of the stacked planes
    const xr = x + ((r * W) << 2), yr = y + ((r * sh * OW) << 2);
    let w: usize = 0;
    if (ASC_FEATURE_SIMD && sw == 2) {
      for (; w + 4 <= W; w += 4) {
        const v = v128.load(xr + (w << 2));
        v128.store(yr + (w << 3), f32x4.shuffle(v, v, 0, 0, 1, 1));
        v128.store(yr + (w << 3), f32x4.shuffle(v, v, 2, 2, 3, 3), 16);
      }
    }
    for (; w < W; w++) {
      const v = load<f32>(xr + (w << 2));
      for (let j: usize = 0; j < sw; j++) store<f32>(yr + ((w * sw + j) << 2), v);
    }
    for (let i: usize = 1; i < sh; i++) memory.copy(yr + i * rowBytes, yr, rowBytes);
  }
}

// dy is (N,H·sh,W·sw), dx is (N,H,W): dx[h, w] = the sum of its sh×sw block of dy, in scan order from +0
export function upsample2d_backward(dx: usize, dy: usize, N: usize, H: usize, W: usize, sh: usize, sw: usize): void {
  const OW = W * sw;
  for (let r: usize = 0; r < N * H; r++) {
    const dr = dx + ((r * W) << 2), gr = dy + ((r * sh * OW) << 2);
    let w: usize = 0;
    if (ASC_FEATURE_SIMD && sh == 2 && sw == 2) {
      const zero = f32x4.splat(0);
      for (; w + 4 <= W; w += 4) v128.store(dr + (w << 2), sum2x2(gr + (w << 3), gr + ((OW + w * 2) << 2), zero));
    }
    for (; w < W; w++) {
      let s: f32 = 0;
      for (let i: usize = 0; i < sh; i++) for (let j: usize = 0; j < sw; j++) s += load<f32>(gr + ((i * OW + w * sw + j) << 2));
      store<f32>(dr + (w << 2), s);
    }
  }
}

// =====================================================================================================
// Pixel shuffle: space ↔ depth, a permutation (each kernel is the other's backward)
// =====================================================================================================
// A space plane of (H·r, W·r) and its r² depth planes of (H, W) hold the same H·W·r² values in one block of a
// batch row, so each kernel takes N such groups (PixelUnshuffle2D: N = B·C of its input's channels; PixelShuffle2D:
// N = B·C of its output's) and moves each alone. Depth plane i·r + j, element (h, w) is space element
// (h·r + i, w·r + j): PyTorch's nn.PixelUnshuffle / nn.PixelShuffle, ONNX's DepthToSpace mode CRD. A copy, so every
// build, any thread split and the js twin give the same bits. H and W are the depth side's (the smaller) sizes.

// x is (N,H·r,W·r), y is (N,r²,H,W): y[n, i·r + j, h, w] = x[n, h·r + i, w·r + j]
export function pixel_unshuffle(y: usize, x: usize, N: usize, H: usize, W: usize, r: usize): void {
  const HW = H * W, G = HW * r * r, SW = W * r;
  for (let n: usize = 0; n < N; n++) {
    const xp = x + ((n * G) << 2), yp = y + ((n * G) << 2);
    for (let i: usize = 0; i < r; i++) {
      for (let h: usize = 0; h < H; h++) {
        const xr = xp + (((h * r + i) * SW) << 2); // space row h·r + i: its column w·r + j goes to depth plane i·r + j
        const yr = yp + ((i * r * HW + h * W) << 2); // row h of depth plane i·r
        let w: usize = 0;
        if (ASC_FEATURE_SIMD && r == 2) {
          // four column pairs at a time: the even ones to plane 2i, the odd ones to plane 2i + 1
          for (; w + 4 <= W; w += 4) {
            const a = v128.load(xr + (w << 3)), b = v128.load(xr + (w << 3), 16);
            v128.store(yr + (w << 2), f32x4.shuffle(a, b, 0, 2, 4, 6));
            v128.store(yr + ((HW + w) << 2), f32x4.shuffle(a, b, 1, 3, 5, 7));
          }
        }
        for (let j: usize = 0; j < r; j++) {
          const yj = yr + ((j * HW) << 2);
          for (let v = w; v < W; v++) store<f32>(yj + (v << 2), load<f32>(xr + ((v * r + j) << 2)));
        }
      }
    }
  }
}

// x is (N,r²,H,W), y is (N,H·r,W·r): y[n, h·r + i, w·r + j] = x[n, i·r + j, h, w]
export function pixel_shuffle(y: usize, x: usize, N: usize, H: usize, W: usize, r: usize): void {
  const HW = H * W, G = HW * r * r, SW = W * r;
  for (let n: usize = 0; n < N; n++) {
    const xp = x + ((n * G) << 2), yp = y + ((n * G) << 2);
    for (let i: usize = 0; i < r; i++) {
      for (let h: usize = 0; h < H; h++) {
        const yr = yp + (((h * r + i) * SW) << 2); // space row h·r + i: its column w·r + j comes from depth plane i·r + j
        const xr = xp + ((i * r * HW + h * W) << 2); // row h of depth plane i·r
        let w: usize = 0;
        if (ASC_FEATURE_SIMD && r == 2) {
          // planes 2i and 2i + 1 interleaved, four of each at a time
          for (; w + 4 <= W; w += 4) {
            const a = v128.load(xr + (w << 2)), b = v128.load(xr + ((HW + w) << 2));
            v128.store(yr + (w << 3), f32x4.shuffle(a, b, 0, 4, 1, 5));
            v128.store(yr + (w << 3), f32x4.shuffle(a, b, 2, 6, 3, 7), 16);
          }
        }
        for (let j: usize = 0; j < r; j++) {
          const xj = xr + ((j * HW) << 2);
          for (let v = w; v < W; v++) store<f32>(yr + ((v * r + j) << 2), load<f32>(xj + (v << 2)));
        }
      }
    }
  }
}
