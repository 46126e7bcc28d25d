// A Gemm/MatMul layer with sparse constant weights: y[rows, N] = x[rows, K] · W[K, N] + bias,
// activation fused, zeros of W skipped. Few rows (a batch-1 Linear) run the CSR SpMV of
// assembly/spmv.ts once per row; 16 rows and more run the 16-column SpMM of assembly/sparse.ts on
// transposed operands (Y^T = W^T · X^T), where its column blocks are full.
import { ShapeError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { activationArgs, type FusedActivation } from './activation.js';
import { checkData, checkDims } from './check.js';
import { denseToCsr, PackedSparseLinear } from './sparse.js';

/** From this many rows the transposed SpMM beats one SpMV per row. */
export const SPMM_MIN_ROWS = 16;

export interface SparseGemmOptions {
  /** W given as N x K (torch Linear, ONNX Gemm transB=1) instead of K x N. */
  transposed?: boolean;
  bias?: Float32Array;
  activation?: FusedActivation;
  /** Multiplies the weights of output n by outputScale[n] (a folded BatchNormalization or Gemm alpha). */
  outputScale?: Float32Array;
}

/** Rows of W^T (N x K, one per output), scaled, as a dense row-major copy. */
function outputRows(w: Float32Array, K: number, N: number, opts: SparseGemmOptions): Float32Array {
  const rows = new Float32Array(N * K);
  for (let n = 0; n < N; n++) {
    const s = opts.outputScale ? opts.outputScale[n] : 1;
    for (let c = 0; c < K; c++) rows[n * K + c] = (opts.transposed ? w[n * K + c] : w[c * N + n]) * s;
  }
  return rows;
}

export class PackedSparseGemm {
  readonly K: number;
  readonly N: number;
  readonly nnz: number;
  readonly density: number;
  private readonly k: Kernels;
  private readonly act: [number, number, number];
  /** The CSR arrays, kept (nnz-sized) to build the SpMM's packing if a large batch comes. */
  private readonly csr: { rowPtr: Int32Array; cols: Int32Array; vals: Float32Array };
  private readonly opts: SparseGemmOptions;
  private rowPtr = 0;
  private colOff = 0;
  private values = 0;
  private bias = 0;
  private spmm: PackedSparseLinear | undefined;
  private disposed = false;

  constructor(k: Kernels, w: Float32Array, K: number, N: number, opts: SparseGemmOptions = {}) {
    // the runtime's Gemm and MatMul pass K x N decoded weights, N bias values and N output scales
    if (!globalThis.EDGEPRUNE_RUNTIME) {
      checkDims([K, N], 'SparseGemm weights', 2);
      checkData(w, [K, N], 'SparseGemm weights');
    }
    if (K === 0 || N === 0) throw new ShapeError(`SparseGemm weights [${K}, ${N}] have an empty dimension`);
    if (!globalThis.EDGEPRUNE_RUNTIME) {
      if (opts.bias && opts.bias.length !== N) throw new ShapeError(`SparseGemm bias has ${opts.bias.length} values but the layer has ${N} outputs`);
      if (opts.outputScale && opts.outputScale.length !== N) throw new ShapeError(`SparseGemm output scale has ${opts.outputScale.length} values but the layer has ${N} outputs`);
    }
    this.k = k;
    this.K = K;
    this.N = N;
    this.opts = opts;
    this.act = activationArgs(opts.activation);
    const csr = denseToCsr(outputRows(w, K, N, opts), N, K);
    this.nnz = csr.vals.length;
    this.density = this.nnz / (K * N);
    this.csr = csr;
    const { rowPtr, vals } = csr;
    const offs = csr.cols.map((c) => c * 4); // byte offsets: the SpMV loop only adds
    this.rowPtr = k.uploadI32(rowPtr);
    this.colOff = k.uploadI32(offs);
    this.values = k.upload(vals);
    this.bias = opts.bias ? k.upload(opts.bias) : 0;
  }

  /** Floats of scratch run() needs for this many rows. */
  scratchFloats(rows: number): number {
    return rows < SPMM_MIN_ROWS ? 0 : rows * (this.K + this.N);
  }

  /** x: rows x K floats; y: rows x N floats; scratch: scratchFloats(rows) floats. */
  run(x: number, rows: number, y: number, scratch = 0): void {
    if (!globalThis.EDGEPRUNE_RUNTIME) {
      if (this.disposed) throw new ShapeError('SparseGemm: used after dispose()');
      if (!Number.isInteger(rows) || rows < 0) throw new ShapeError(`SparseGemm: rows must be a non-negative integer, got ${rows}`);
    }
    if (rows === 0) return;
    const k = this.k;
    const { K, N } = this;
    if (!globalThis.EDGEPRUNE_RUNTIME) {
      k.requireFloats(x, rows * K, 'SparseGemm input');
      k.requireFloats(y, rows * N, 'SparseGemm output');
    }
    if (rows < SPMM_MIN_ROWS) {
      const [code, p0, p1] = this.act;
      for (let r = 0; r < rows; r++) k.fn.spmv_csr(this.rowPtr, this.colOff, this.values, N, x + r * K * 4, y + r * N * 4, this.bias, code, p0, p1);
      return;
    }
    if (!globalThis.EDGEPRUNE_RUNTIME) k.requireFloats(scratch, this.scratchFloats(rows), 'SparseGemm scratch');
    // the SpMM on transposed operands, packed the first time a large batch comes
    this.spmm ??= new PackedSparseLinear(k, this.denseRows(), N, K, { bias: this.opts.bias, activation: this.opts.activation });
    const xT = scratch;
    const yT = scratch + rows * K * 4;
    k.fn.transpose_2d(x, xT, rows, K);
    this.spmm.run(xT, rows, yT);
    k.fn.transpose_2d(yT, y, N, rows);
  }

  private denseRows(): Float32Array {
    const { rowPtr, cols, vals } = this.csr;
    const rows = new Float32Array(this.N * this.K);
    for (let n = 0; n < this.N; n++) for (let j = rowPtr[n]; j < rowPtr[n + 1]; j++) rows[n * this.K + cols[j]] = vals[j];
    return rows;
  }

  dispose(): void {
    this.k.free(this.rowPtr, this.colOff, this.values, this.bias);
    this.spmm?.dispose();
    this.disposed = true;
  }
}
