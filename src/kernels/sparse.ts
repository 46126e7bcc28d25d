// Host side of the sparse-weight kernel (assembly/sparse.ts): Y[M x N] = W[M x K] · X[K x N] + bias
// with W stored as CSR (zeros dropped once, at pack time) and X dense, row-major. Serves a Linear
// layer applied to N column vectors, a 1x1 conv (K = Cin, N = H·W) or a conv over im2col columns.
import { ArgumentError, ShapeError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { activationArgs, type FusedActivation } from './activation.js';
import { checkData, checkDims } from './check.js';

/**
 * Below this density 'auto' reads X in place rather than copying it into panels. bench/sparse.ts
 * (64x576x3136, this 2-core VM): the copy wins up to 90% zeros, reading in place wins at 95%.
 */
export const IN_PLACE_BELOW_DENSITY = 0.08;

export interface SparseLinearOptions {
  /** M values, one per output row. */
  bias?: Float32Array;
  activation?: FusedActivation;
}

export interface SparseRunOptions {
  /**
   * How the kernel reaches X: 'panel' copies each 16-column block into a contiguous panel (best on
   * denser weights, and robust to row strides that alias in L1), 'inPlace' reads X directly (best
   * at high sparsity, the only way when K > 1024). Default 'auto': in place when density < IN_PLACE_BELOW_DENSITY.
   */
  access?: 'auto' | 'panel' | 'inPlace';
  /** Row stride of X in floats (default N). */
  ldx?: number;
  /** Row stride of Y in floats (default N). */
  ldy?: number;
}

/**
 * A weight matrix W (M x K) packed once as CSR: row pointers, per non-zero the byte offset of its
 * row k in the kernel's 16-float column panel (k · 64, so the inner loop only adds) and the value.
 * Owns its wasm blocks until dispose().
 */
export class PackedSparseLinear {
  readonly M: number;
  readonly K: number;
  /** Number of non-zero weights kept. */
  readonly nnz: number;
  /** nnz / (M · K). */
  readonly density: number;
  private readonly k: Kernels;
  private readonly act: [number, number, number];
  private rowPtr: number;
  private colOff: number;
  private values: number;
  private bias: number;

  constructor(k: Kernels, w: Float32Array, M: number, K: number, opts: SparseLinearOptions = {}) {
    checkDims([M, K], 'SparseLinear weights [M, K]', 2);
    checkData(w, [M, K], 'SparseLinear weights');
    if (M === 0 || K === 0) throw new ShapeError(`SparseLinear weights [${M}, ${K}] have an empty dimension`);
    if (opts.bias && opts.bias.length !== M) throw new ShapeError(`SparseLinear bias has ${opts.bias.length} values but the layer has ${M} outputs`);
    this.k = k;
    this.M = M;
    this.K = K;
    this.act = activationArgs(opts.activation);
    let nnz = 0;
    for (let i = 0; i < w.length; i++) if (w[i] !== 0) nnz++;
    const rowPtr = new Int32Array(M + 1);
    const offs = new Int32Array(nnz);
    const vals = new Float32Array(nnz);
    let j = 0;
    for (let m = 0; m < M; m++) {
      rowPtr[m] = j;
      const row = m * K;
      for (let c = 0; c < K; c++) {
        const v = w[row + c];
        if (v !== 0) {
          offs[j] = c * 64;
          vals[j] = v;
          j++;
        }
      }
    }
    rowPtr[M] = j;
    this.nnz = nnz;
    this.density = nnz / (M * K);
    this.rowPtr = k.uploadI32(rowPtr);
    this.colOff = k.uploadI32(offs);
    this.values = k.upload(vals);
    this.bias = opts.bias ? k.upload(opts.bias) : 0;
  }

  /**
   * x: K x N floats at pointer x (row stride ldx, default N); writes M x N floats at y (row stride
   * ldy, default N).
   */
  run(x: number, N: number, y: number, opts: SparseRunOptions = {}): void {
    if (this.rowPtr === 0) throw new ShapeError('SparseLinear: used after dispose()');
    if (!Number.isInteger(N) || N < 0) throw new ShapeError(`SparseLinear: column count N must be a non-negative integer, got ${N}`);
    const ldx = opts.ldx ?? N;
    const ldy = opts.ldy ?? N;
    if (!Number.isInteger(ldx) || ldx < N) throw new ShapeError(`SparseLinear: X row stride ldx must be an integer >= N (${N}), got ${ldx}`);
    if (!Number.isInteger(ldy) || ldy < N) throw new ShapeError(`SparseLinear: Y row stride ldy must be an integer >= N (${N}), got ${ldy}`);
    if (N === 0) return;
    this.k.requireFloats(x, (this.K - 1) * ldx + N, 'SparseLinear input');
    this.k.requireFloats(y, (this.M - 1) * ldy + N, 'SparseLinear output');
    const access = opts.access ?? 'auto';
    if (access !== 'auto' && access !== 'panel' && access !== 'inPlace') throw new ArgumentError(`SparseLinear: access must be 'auto', 'panel' or 'inPlace', got ${String(access)}`);
    const inPlace = access === 'inPlace' || (access === 'auto' && this.density < IN_PLACE_BELOW_DENSITY) ? 1 : 0;
    const [code, p0, p1] = this.act;
    this.k.fn.spmm_csr(this.rowPtr, this.colOff, this.values, this.M, this.K, x, ldx, N, y, ldy, this.bias, code, p0, p1, inPlace);
  }

  dispose(): void {
    this.k.free(this.rowPtr, this.colOff, this.values, this.bias);
    this.rowPtr = 0;
    this.colOff = 0;
    this.values = 0;
    this.bias = 0;
  }
}

/** One-shot Y = W · X (+ bias, activation) on host arrays (tests, scripts). Packs W on every call. */
export function spmm(k: Kernels, W: Float32Array, M: number, K: number, X: Float32Array, N: number, opts: SparseLinearOptions & Pick<SparseRunOptions, 'access'> = {}): Float32Array {
  checkDims([M, K, N], 'spmm M, K, N', 3);
  checkData(W, [M, K], 'spmm W [M, K]');
  checkData(X, [K, N], 'spmm X [K, N]');
  const layer = new PackedSparseLinear(k, W, M, K, opts);
  const x = k.upload(X);
  const y = k.allocF32(M * N);
  try {
    layer.run(x, N, y, { access: opts.access });
    return k.download(y, M * N);
  } finally {
    k.free(x, y);
    layer.dispose();
  }
}
