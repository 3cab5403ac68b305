// The js twin of assembly/noise.ts's gather_noise (being written).

export function gatherNoiseJs(f32: Float32Array, i32: Int32Array, dst: number, src: number, idx: number, row0: number, count: number, width: number, _kind: number, _factor: number, _k0: number, _k1: number): void {
  for (let r = 0; r < count; r++) {
    const s = idx ? i32[(idx >>> 2) + r] : row0 + r;
    f32.copyWithin((dst >>> 2) + r * width, (src >>> 2) + s * width, (src >>> 2) + (s + 1) * width);
  }
}
