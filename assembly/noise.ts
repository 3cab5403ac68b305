// Batch gather with input noise: the data pipeline's kernel (being written; see the Kernels interface).

// dst is (count,width); source row of r is s = idx ? idx[r] : row0 + r (idx an i32 array), src is (·,width)
export function gather_noise(dst: usize, src: usize, idx: usize, row0: i32, count: i32, width: i32, kind: i32, factor: f32, k0: u32, k1: u32): void {
  for (let r = 0; r < count; r++) {
    const s = idx ? load<i32>(idx + (<usize>r << 2)) : row0 + r;
    memory.copy(dst + (<usize>(r * width) << 2), src + (<usize>(s * width) << 2), <usize>width << 2);
  }
}
