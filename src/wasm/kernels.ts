// The instantiated kernel module: its exports, its memory and the host-side heap over it.
import { ShapeError } from '../errors.js';
import { Heap } from './heap.js';

type Ptr = number;

/** Raw exports of assembly/index.ts. Every pointer is a byte offset into `memory`. */
export interface KernelExports {
  memory: WebAssembly.Memory;
  flavor_relaxed: WebAssembly.Global;
  /** Absent in builds older than the check: read with care. */
  abi_version?: WebAssembly.Global;
  /** The build's id (scripts/build-wasm.mjs): absent before compiled models existed. */
  build_id?: WebAssembly.Global;
  heap_base(): Ptr;
  [kernel: string]: unknown;
}

export class Kernels {
  readonly flavor: 'simd' | 'relaxed';
  readonly heap: Heap;
  /** The build_id global: compiled models run only on the build they were recorded with. */
  readonly buildId: number;
  /** The wasm functions, typed loosely: src/kernels/* wrap each one with checks. */
  readonly fn: Record<string, (...args: number[]) => number | void>;
  private readonly memory: WebAssembly.Memory;
  private f32View = new Float32Array(0);
  private i32View = new Int32Array(0);

  constructor(exports: KernelExports, flavor: 'simd' | 'relaxed') {
    this.flavor = flavor;
    this.memory = exports.memory;
    this.fn = exports as unknown as Record<string, (...args: number[]) => number | void>;
    this.heap = new Heap(this.memory, exports.heap_base());
    this.buildId = exports.build_id instanceof WebAssembly.Global ? (exports.build_id.value as number) : 0;
  }

  /** A Float32Array over all of memory; re-created after memory.grow detached the old one. */
  get f32(): Float32Array {
    if (this.f32View.buffer !== this.memory.buffer) this.f32View = new Float32Array(this.memory.buffer);
    return this.f32View;
  }

  get i32(): Int32Array {
    if (this.i32View.buffer !== this.memory.buffer) this.i32View = new Int32Array(this.memory.buffer);
    return this.i32View;
  }

  /** Allocates room for `n` floats (at least one vector more is always readable past the end). */
  allocF32(n: number): Ptr {
    return this.heap.alloc(n * 4);
  }

  /** Copies `data` into a new block and returns its pointer. */
  upload(data: Float32Array): Ptr {
    const p = this.allocF32(data.length);
    this.f32.set(data, p >> 2);
    return p;
  }

  uploadI32(data: Int32Array | number[]): Ptr {
    const p = this.heap.alloc(data.length * 4);
    this.i32.set(data, p >> 2);
    return p;
  }

  /** Copies `n` floats out of wasm memory. */
  download(p: Ptr, n: number): Float32Array {
    return this.f32.slice(p >> 2, (p >> 2) + n);
  }

  /** Writes into an existing block after checking that it is big enough. */
  write(p: Ptr, data: Float32Array): void {
    this.requireFloats(p, data.length, 'write');
    this.f32.set(data, p >> 2);
  }

  /**
   * Throws unless `p` lies in a live block with room for at least `n` floats from p on. A re-check
   * of what the planner guarantees: a no-op in edgeprune/runtime (src/kernels/check.ts).
   */
  requireFloats(p: Ptr, n: number, what: string): void {
    if (globalThis.EDGEPRUNE_RUNTIME) return;
    const size = this.heap.bytesFrom(p);
    if (size === undefined) throw new ShapeError(`${what}: pointer ${p} is not a live kernel buffer (nor inside one)`);
    if (p % 4 !== 0) throw new ShapeError(`${what}: pointer ${p} is not float-aligned`);
    if (size < n * 4) throw new ShapeError(`${what}: buffer holds ${size / 4} floats but ${n} are needed`);
  }

  free(...ptrs: Ptr[]): void {
    for (const p of ptrs) this.heap.release(p);
  }
}
