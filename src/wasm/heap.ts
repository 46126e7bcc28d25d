// A first-fit allocator over the kernels' linear memory, run from the host. Kernels never
// allocate: everything they touch is a block handed out here (or a later static memory plan).
import { ArgumentError, OutOfMemoryError } from '../errors.js';

const ALIGN = 64; // a cache line: every block starts on one, so v128 loads never straddle pages of a block start
const PAGE = 65536;
/** wasm32 memory holds 65536 pages: one page short of 4 GiB is the most a heap can span. */
export const MAX_HEAP_BYTES = 4 * 1024 * 1024 * 1024 - PAGE;

interface Block {
  ptr: number;
  bytes: number;
}

export class Heap {
  private readonly memory: WebAssembly.Memory;
  private readonly start: number;
  private free: Block[] = []; // sorted by ptr, coalesced
  private readonly used = new Map<number, number>(); // ptr -> bytes
  private starts: number[] = []; // live block starts, sorted (for interior-pointer lookups)
  private top: number;
  /**
   * The most wasm memory (bytes, page-rounded) this heap may grow its memory to: a block that
   * would need more throws OutOfMemoryError before memory.grow runs. A session sets its
   * memoryBudget here; tools that use the kernels directly keep the wasm32 maximum.
   */
  limit = MAX_HEAP_BYTES;

  constructor(memory: WebAssembly.Memory, heapBase: number) {
    this.memory = memory;
    this.start = roundUp(heapBase, ALIGN);
    this.top = this.start;
  }

  /** Returns a 64-byte-aligned block of at least `bytes` bytes. Contents are unspecified. */
  alloc(bytes: number): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new ArgumentError(`alloc: byte count must be a non-negative integer, got ${bytes}`);
    if (bytes > MAX_HEAP_BYTES) throw new OutOfMemoryError(`a block of ${bytes} bytes is over the 4 GiB a WebAssembly memory holds; use a smaller batch or model`, { neededBytes: bytes, limitBytes: MAX_HEAP_BYTES });
    const size = Math.max(ALIGN, roundUp(bytes, ALIGN));
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i];
      if (b.bytes >= size) {
        if (b.bytes === size) this.free.splice(i, 1);
        else this.free[i] = { ptr: b.ptr + size, bytes: b.bytes - size };
        this.markUsed(b.ptr, size);
        return b.ptr;
      }
    }
    const ptr = this.top;
    // spare bytes past the end keep a kernel's vector reads past a partial row inside memory
    // (the widest is the stride-2 depthwise tail: 36 bytes)
    this.ensure(ptr + size + 64);
    this.top = ptr + size;
    this.markUsed(ptr, size);
    return ptr;
  }

  private markUsed(ptr: number, size: number): void {
    this.used.set(ptr, size);
    this.starts.splice(lowerBound(this.starts, ptr), 0, ptr);
  }

  /** Returns a block to the heap. Freeing 0 is a no-op; freeing anything else not allocated throws. */
  release(ptr: number): void {
    if (ptr === 0) return;
    const size = this.used.get(ptr);
    if (size === undefined) throw new ArgumentError(`release: ${ptr} is not a live block of this heap`);
    this.used.delete(ptr);
    this.starts.splice(lowerBound(this.starts, ptr), 1);
    let lo = 0;
    let hi = this.free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.free[mid].ptr < ptr) lo = mid + 1;
      else hi = mid;
    }
    this.free.splice(lo, 0, { ptr, bytes: size });
    // coalesce with neighbours
    if (lo + 1 < this.free.length && this.free[lo].ptr + this.free[lo].bytes === this.free[lo + 1].ptr) {
      this.free[lo].bytes += this.free[lo + 1].bytes;
      this.free.splice(lo + 1, 1);
    }
    if (lo > 0 && this.free[lo - 1].ptr + this.free[lo - 1].bytes === this.free[lo].ptr) {
      this.free[lo - 1].bytes += this.free[lo].bytes;
      this.free.splice(lo, 1);
      lo--;
    }
    // give the topmost free block back to the bump pointer
    const last = this.free[this.free.length - 1];
    if (last && last.ptr + last.bytes === this.top) {
      this.top = last.ptr;
      this.free.pop();
    }
  }

  /** Size in bytes of a live block, or undefined. */
  sizeOf(ptr: number): number | undefined {
    return this.used.get(ptr);
  }

  /**
   * Bytes from `ptr` to the end of the live block that contains it (ptr may point inside a block,
   * as tensors in a session's arena do), or undefined when no live block contains it.
   */
  bytesFrom(ptr: number): number | undefined {
    const i = lowerBound(this.starts, ptr + 1) - 1;
    if (i < 0) return undefined;
    const start = this.starts[i];
    const end = start + this.used.get(start)!;
    return ptr < end ? end - ptr : undefined;
  }

  /** The blocks handed out, as [ptr, bytes], in address order (src/compile/ images only these). */
  liveBlocks(): [number, number][] {
    return this.starts.map((p) => [p, this.used.get(p)!]);
  }

  /** Bytes currently handed out. */
  get liveBytes(): number {
    let s = 0;
    for (const v of this.used.values()) s += v;
    return s;
  }

  /** Bytes of wasm memory (whole pages) the heap spans now: its static data, live and free blocks. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Grows memory to hold `end` bytes; checks the wasm32 maximum and `limit` before growing. */
  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    const needed = Math.max(have, roundUp(end, PAGE));
    if (needed > MAX_HEAP_BYTES) throw new OutOfMemoryError(`kernels need ${needed} bytes of wasm memory, over the 4 GiB wasm32 limit; use a smaller batch or model`, { neededBytes: needed, limitBytes: MAX_HEAP_BYTES });
    if (needed > this.limit) throw new OutOfMemoryError(`kernels need ${needed} bytes of wasm memory, over the limit of ${this.limit} bytes; use a smaller batch or model, or raise the limit`, { neededBytes: needed, limitBytes: this.limit });
    if (end <= have) return;
    try {
      this.memory.grow((needed - have) / PAGE);
    } catch (e) {
      throw new OutOfMemoryError(`cannot grow wasm memory to ${needed} bytes (${(e as Error).message}); free sessions you no longer use or use a smaller batch`, { neededBytes: needed });
    }
  }
}

/** First index i with a[i] >= v (a sorted ascending). */
function lowerBound(a: number[], v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function roundUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
