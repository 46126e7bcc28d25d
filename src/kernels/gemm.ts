// Host side of the GEMM kernels: pack once, check, call.
import { ShapeError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { activationArgs, type FusedActivation } from './activation.js';
import { checkData, checkDims, fmt, sizeOf } from './check.js';
import { scaleCols, scaleRows } from './output-scale.js';

export interface LinearOptions {
  /** W given as N x K (torch Linear, ONNX Gemm transB=1) instead of K x N. */
  transposed?: boolean;
  bias?: Float32Array;
  activation?: FusedActivation;
  /** Multiplies the weights of output n by outputScale[n] before packing (a folded BatchNormalization or Gemm alpha). */
  outputScale?: Float32Array;
}

/** Floats a pack_b8 panel set of K x N takes. */
export function packedB8Floats(K: number, N: number): number {
  return Math.ceil(N / 8) * 8 * K;
}

/**
 * A Linear/Gemm layer with its weights packed once: y[M, N] = x[M, K] · W + bias, activation fused.
 * Owns its wasm blocks until dispose().
 */
export class PackedLinear {
  readonly K: number;
  readonly N: number;
  private readonly k: Kernels;
  private packed: number;
  private bias: number;
  private readonly act: [number, number, number];

  constructor(k: Kernels, w: Float32Array, K: number, N: number, opts: LinearOptions = {}) {
    // the runtime's Gemm and MatMul pass K x N decoded weights and, as bias, N values
    if (!globalThis.EDGEPRUNE_RUNTIME) {
      checkDims([K, N], 'Linear weights', 2);
      checkData(w, [K, N], 'Linear weights');
    }
    if (K === 0) throw new ShapeError('Linear: K (input features) must be at least 1');
    this.k = k;
    this.K = K;
    this.N = N;
    this.act = activationArgs(opts.activation);
    const src = k.upload(w);
    if (opts.outputScale) {
      if (opts.transposed) scaleRows(k, src, N, K, opts.outputScale, 'Linear');
      else scaleCols(k, src, K, N, opts.outputScale, 'Linear');
    }
    this.packed = k.allocF32(packedB8Floats(K, N));
    // element (k, n) of the logical K x N matrix: at k*N + n, or n*K + k when given transposed
    if (opts.transposed) k.fn.pack_b8(src, 1, K, K, N, this.packed);
    else k.fn.pack_b8(src, N, 1, K, N, this.packed);
    k.free(src);
    this.bias = 0;
    if (opts.bias) {
      if (!globalThis.EDGEPRUNE_RUNTIME && opts.bias.length !== N) throw new ShapeError(`Linear bias has ${opts.bias.length} values but the layer has ${N} outputs`);
      const padded = new Float32Array(Math.ceil(N / 8) * 8);
      padded.set(opts.bias);
      this.bias = k.upload(padded);
    }
  }

  /** x: M x K floats at pointer x (row stride K); writes M x N floats at y. */
  run(x: number, M: number, y: number): void {
    if (!globalThis.EDGEPRUNE_RUNTIME) {
      if (!Number.isInteger(M) || M < 0) throw new ShapeError(`Linear: row count must be a non-negative integer, got ${M}`);
      if (this.packed === 0) throw new ShapeError('Linear: used after dispose()');
      this.k.requireFloats(x, M * this.K, 'Linear input');
      this.k.requireFloats(y, M * this.N, 'Linear output');
    }
    if (M === 0 || this.N === 0) return;
    const [code, p0, p1] = this.act;
    this.k.fn.gemm_b8(x, this.K, M, this.N, this.K, this.packed, y, this.N, this.bias, code, p0, p1);
  }

  dispose(): void {
    this.k.free(this.packed, this.bias);
    this.packed = 0;
    this.bias = 0;
  }
}

export interface GemmOptions extends LinearOptions {
  /** A given as K x M. */
  transA?: boolean;
}

/** One-shot C = op(A) · op(B) + bias on host arrays (tests, scripts). Packs B on every call. */
export function gemm(k: Kernels, A: Float32Array, B: Float32Array, M: number, K: number, N: number, opts: GemmOptions = {}): Float32Array {
  checkDims([M, K, N], 'gemm M, K, N', 3);
  checkData(A, [M, K], `gemm A (${opts.transA ? 'K x M' : 'M x K'})`);
  let a = A;
  if (opts.transA) {
    a = new Float32Array(M * K);
    for (let i = 0; i < M; i++) for (let j = 0; j < K; j++) a[i * K + j] = A[j * M + i];
  }
  if (K === 0) throw new ShapeError('gemm: K must be at least 1 (an empty inner dimension has no product to compute)');
  const lin = new PackedLinear(k, B, K, N, opts);
  const x = k.upload(a);
  const y = k.allocF32(M * N);
  try {
    lin.run(x, M, y);
    return k.download(y, M * N);
  } finally {
    k.free(x, y);
    lin.dispose();
  }
}

/** numpy-style matmul shapes: returns [batch dims of the result, M, K, N, and how to drop 1-D axes]. */
export function matmulShape(aDims: readonly number[], bDims: readonly number[]) {
  if (!globalThis.EDGEPRUNE_RUNTIME) {
    // the runtime's dims are checked (runtime/specialize.ts)
    checkDims(aDims, 'MatMul A');
    checkDims(bDims, 'MatMul B');
  }
  if (aDims.length === 0 || bDims.length === 0) throw new ShapeError('MatMul: scalars are not matrices; give A and B at least one dimension');
  const a = aDims.length === 1 ? [1, aDims[0]] : [...aDims];
  const b = bDims.length === 1 ? [bDims[0], 1] : [...bDims];
  const M = a[a.length - 2];
  const K = a[a.length - 1];
  const N = b[b.length - 1];
  if (b[b.length - 2] !== K) throw new ShapeError(`MatMul: A ${fmt(aDims)} and B ${fmt(bDims)} disagree on the inner dimension (${K} vs ${b[b.length - 2]})`);
  const aBatch = a.slice(0, -2);
  const bBatch = b.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const batch: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = aBatch[aBatch.length - rank + i] ?? 1;
    const db = bBatch[bBatch.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new ShapeError(`MatMul: batch dimensions of A ${fmt(aDims)} and B ${fmt(bDims)} do not broadcast`);
    batch.push(Math.max(da, db));
  }
  const out = [...batch];
  if (aDims.length > 1) out.push(M);
  if (bDims.length > 1) out.push(N);
  return { batch, aBatch, bBatch, M, K, N, out };
}

/** Offset (in matrices) of batch index `idx` of the broadcast batch into an operand with batch dims `own`. */
function batchOffset(idx: number, batch: number[], own: number[]): number {
  let off = 0;
  let stride = 1;
  let rem = idx;
  const lead = batch.length - own.length;
  const coords: number[] = new Array(batch.length);
  for (let i = batch.length - 1; i >= 0; i--) {
    coords[i] = rem % batch[i];
    rem = Math.floor(rem / batch[i]);
  }
  for (let i = own.length - 1; i >= 0; i--) {
    const c = own[i] === 1 ? 0 : coords[i + lead];
    off += c * stride;
    stride *= own[i];
  }
  return off;
}

/**
 * Batched MatMul with numpy broadcasting, on pointers: A and B hold sizeOf(aDims) / sizeOf(bDims)
 * floats, Y receives sizeOf(out) floats; `scratch` holds packedB8Floats(K, N) floats.
 */
export function matmulRun(k: Kernels, a: number, aDims: readonly number[], b: number, bDims: readonly number[], y: number, scratch: number): number[] {
  const s = matmulShape(aDims, bDims);
  if (!globalThis.EDGEPRUNE_RUNTIME) {
    k.requireFloats(a, sizeOf(aDims), 'MatMul A');
    k.requireFloats(b, sizeOf(bDims), 'MatMul B');
    k.requireFloats(y, sizeOf(s.out), 'MatMul output');
    k.requireFloats(scratch, packedB8Floats(s.K, s.N), 'MatMul scratch');
  }
  const { M, K, N } = s;
  const count = sizeOf(s.batch);
  if (K === 0) {
    k.fn.fill_f32(y, 0, sizeOf(s.out));
    return s.out;
  }
  let packedFor = -1;
  for (let i = 0; i < count; i++) {
    const bi = batchOffset(i, s.batch, s.bBatch);
    if (bi !== packedFor) {
      k.fn.pack_b8(b + bi * K * N * 4, N, 1, K, N, scratch);
      packedFor = bi;
    }
    const ai = batchOffset(i, s.batch, s.aBatch);
    k.fn.gemm_b8(a + ai * M * K * 4, K, M, N, K, scratch, y + i * M * N * 4, N, 0, 0, 0, 0);
  }
  return s.out;
}

/** One-shot batched MatMul on host arrays. */
export function matmul(k: Kernels, A: Float32Array, aDims: readonly number[], B: Float32Array, bDims: readonly number[]): { data: Float32Array; dims: number[] } {
  checkData(A, aDims, 'MatMul A');
  checkData(B, bDims, 'MatMul B');
  const s = matmulShape(aDims, bDims);
  const a = k.upload(A);
  const b = k.upload(B);
  const y = k.allocF32(sizeOf(s.out));
  const scratch = k.allocF32(packedB8Floats(s.K, s.N));
  try {
    const dims = matmulRun(k, a, aDims, b, bDims, y, scratch);
    return { data: k.download(y, sizeOf(dims)), dims };
  } finally {
    k.free(a, b, y, scratch);
  }
}
