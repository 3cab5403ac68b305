// Linear memory shared by both backends: a first-fit allocator over a WebAssembly.Memory, plus the copies in
// and out. The wasm backend runs its kernels on it; the js backend runs plain TypeScript kernels on the same
// kind of memory, so both keep the one pointer-based interface.

import type { Backend, Tensor } from './backend.js';
import { SimdnetError, check } from '../errors.js';

const PAGE = 65536;
const MAX_PAGES = 65536; // 4 GiB, the wasm32 limit
const ALIGN = 16;

export class Heap {
  /** live ptr → its byte size and the allocation's serial number (a block handed out again gets a new id) */
  private blocks = new Map<number, { size: number; id: number }>();
  private serial = 0;
  private free: Array<[number, number]> = []; // [ptr, size], sorted by ptr, coalesced
  private top: number; // first byte never handed out
  private f32: Float32Array;

  /** maxPages: the memory's declared maximum (a shared memory may get less than 4 GiB). */
  constructor(readonly memory: WebAssembly.Memory, base: number, private readonly maxPages = MAX_PAGES) {
    this.top = align(Math.max(base, ALIGN));
    this.f32 = new Float32Array(memory.buffer);
  }

  get liveAllocations(): number {
    return this.blocks.size;
  }

  /** Allocates `bytes` zero-filled bytes, 16-aligned; grows memory when needed. */
  alloc(bytes: number, what = 'tensor'): number {
    // checked before align(): sizes past 2³² would wrap in 32-bit arithmetic and hand out a small block
    check(bytes >= 0, `${what}: expected a byte size ≥ 0, got ${bytes}`);
    if (!(bytes <= this.maxPages * PAGE - this.top) && !this.free.some(([, avail]) => avail >= bytes)) throw this.tooBig(bytes, what);
    const size = align(Math.max(bytes, ALIGN));
    for (let i = 0; i < this.free.length; i++) {
      const [ptr, avail] = this.free[i];
      if (avail < size) continue;
      if (avail === size) this.free.splice(i, 1);
      else this.free[i] = [ptr + size, avail - size];
      this.blocks.set(ptr, { size, id: ++this.serial });
      this.heapF32().fill(0, ptr >>> 2, (ptr + size) >>> 2);
      return ptr;
    }
    const ptr = this.top;
    const end = ptr + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      const current = have / PAGE;
      if (current + pages > this.maxPages) throw this.tooBig(bytes, what);
      try {
        this.memory.grow(Math.max(pages, Math.min(current, this.maxPages - current))); // at least double: fewer grows
      } catch {
        try {
          this.memory.grow(pages);
        } catch (e) {
          throw new SimdnetError(`${what}: could not grow WASM memory by ${pages} pages (${(e as Error).message})`, 'E_MEMORY');
        }
      }
    }
    this.top = end;
    this.blocks.set(ptr, { size, id: ++this.serial });
    return ptr; // fresh memory from grow() is zero
  }

  /** Bytes that can still be handed out: free blocks plus what memory can grow to (an upper bound). */
  get available(): number {
    return this.maxPages * PAGE - this.top + this.free.reduce((n, [, size]) => n + size, 0);
  }

  isLive(ptr: number): boolean {
    return this.blocks.has(ptr);
  }

  /** The serial number of the live allocation at ptr (undefined when none). */
  idOf(ptr: number): number | undefined {
    return this.blocks.get(ptr)?.id;
  }

  private tooBig(bytes: number, what: string): SimdnetError {
    const limit = this.maxPages === MAX_PAGES ? '4 GiB' : mib(this.maxPages * PAGE);
    return new SimdnetError(`${what} needs ${mib(bytes)} but WASM linear memory is limited to ${limit} (${mib(this.maxPages * PAGE - this.top)} left)`, 'E_MEMORY');
  }

  release(ptr: number): void {
    const size = this.blocks.get(ptr)?.size;
    check(size !== undefined, `free: pointer ${ptr} is not a live allocation (double free or a tensor of another backend?)`);
    this.blocks.delete(ptr);
    let i = 0;
    while (i < this.free.length && this.free[i][0] < ptr) i++;
    this.free.splice(i, 0, [ptr, size]);
    // coalesce with the next and the previous block
    if (i + 1 < this.free.length && ptr + size === this.free[i + 1][0]) {
      this.free[i][1] += this.free[i + 1][1];
      this.free.splice(i + 1, 1);
    }
    if (i > 0 && this.free[i - 1][0] + this.free[i - 1][1] === ptr) {
      this.free[i - 1][1] += this.free[i][1];
      this.free.splice(i, 1);
    }
  }

  /** The heap as f32, re-derived only when memory grew (growth detaches old views). */
  heapF32(): Float32Array {
    if (this.f32.buffer !== this.memory.buffer) this.f32 = new Float32Array(this.memory.buffer);
    return this.f32;
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN; // not `& ~15`: that wraps past 2³¹
}

/** A byte count for messages: "1.5 MiB", "9.3 GiB". */
export function mib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

let backendCount = 0;

/** The memory-management half of a Backend, shared by wasm and js. */
export abstract class HeapBackend implements Pick<Backend, 'alloc' | 'free' | 'write' | 'read' | 'gatherRows' | 'heapF32' | 'liveAllocations' | 'memory' | 'dispose'> {
  protected readonly heap: Heap;

  /** Which backend instance this is, for messages about tensors passed to the wrong one. */
  private readonly serial = ++backendCount;

  constructor(readonly memory: WebAssembly.Memory, base: number, maxPages?: number) {
    this.heap = new Heap(memory, base, maxPages);
  }

  /** Releases what the backend holds outside its memory (the wasm backend's threads); tensors stay readable. */
  dispose(): void {}

  get liveAllocations(): number {
    return this.heap.liveAllocations;
  }

  /** Bytes still available for tensors (free blocks plus growth up to 4 GiB): an upper bound. */
  get availableBytes(): number {
    return this.heap.available;
  }

  /** e.g. "wasm backend #2 (simd)" */
  toString(): string {
    const self = this as unknown as Backend;
    return `${self.name} backend #${this.serial} (${self.variant})`;
  }

  alloc(rows: number, cols: number): Tensor {
    check(Number.isInteger(rows) && rows >= 0 && Number.isInteger(cols) && cols >= 0, `alloc: expected non-negative integer shape, got (${rows}, ${cols})`, 'E_SHAPE');
    const ptr = this.heap.alloc(rows * cols * 4, `a (${rows}, ${cols}) tensor`);
    return { ptr, rows, cols, backend: this as unknown as Backend, id: this.heap.idOf(ptr) };
  }

  free(t: Tensor): void {
    this.own(t, 'free');
    this.heap.release(t.ptr);
  }

  write(t: Tensor, data: ArrayLike<number>, offset = 0): void {
    this.own(t, 'write');
    const n = t.rows * t.cols;
    check(data?.length - offset >= n, () => `write: expected ${n} values for a (${t.rows}, ${t.cols}) tensor, got ${data?.length === undefined ? typeof data : data.length - offset}`, 'E_SHAPE');
    const heap = this.heapF32();
    const base = t.ptr >>> 2;
    if (data instanceof Float32Array) heap.set(data.subarray(offset, offset + n), base); // a memcpy
    else for (let i = 0; i < n; i++) heap[base + i] = data[offset + i];
  }

  read(t: Tensor, into?: Float32Array): Float32Array {
    this.own(t, 'read');
    const n = t.rows * t.cols;
    const out = into ?? new Float32Array(n);
    check(out.length >= n, () => `read: destination has ${out.length} values, need ${n}`, 'E_SHAPE');
    const heap = this.heapF32();
    const base = t.ptr >>> 2;
    out.set(heap.subarray(base, base + n));
    return out;
  }

  gatherRows(t: Tensor, src: Float32Array, indices: ArrayLike<number>, start: number, count: number): void {
    this.own(t, 'gatherRows');
    check(count <= t.rows, () => `gatherRows: ${count} rows do not fit a tensor of ${t.rows} rows`, 'E_SHAPE');
    const w = t.cols;
    const heap = this.heapF32();
    let dst = t.ptr >>> 2;
    for (let r = 0; r < count; r++) {
      const s = indices[start + r] * w;
      check(s >= 0 && s + w <= src.length, () => `gatherRows: row ${indices[start + r]} is outside the source (${src.length / w} rows)`, 'E_SHAPE');
      for (let j = 0; j < w; j++) heap[dst + j] = src[s + j];
      dst += w;
    }
  }

  heapF32(): Float32Array {
    return this.heap.heapF32();
  }

  protected own(t: Tensor, op: string): void {
    if (t?.backend !== (this as unknown)) {
      if (!t?.backend) throw new SimdnetError(`${op}: expected a tensor of this ${this}, got something of no backend (not a tensor?)`);
      throw new SimdnetError(`${op}: the tensor belongs to the ${t.backend}, not to this ${this}; tensors cannot move between backends (read it out and write it in)`);
    }
    // a freed block handed out again is another tensor: the id tells a stale handle from its successor
    if (!this.heap.isLive(t.ptr) || (t.id !== undefined && this.heap.idOf(t.ptr) !== t.id))
      throw new SimdnetError(`${op}: the (${t.rows}, ${t.cols}) tensor was freed (was its model disposed?)`, 'E_DISPOSED');
  }
}
