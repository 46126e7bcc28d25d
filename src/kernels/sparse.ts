// Host side of the sparse-weight kernels (assembly/sparse*.ts): Y[M x N] = W[M x K] · X[K x N] + bias
// with W packed once (zeros dropped) and X dense, row-major. Serves a Linear layer applied to N
// column vectors, a 1x1 conv (K = Cin, N = H·W) or a conv over im2col columns. Three formats:
//   PackedSparseLinear        unstructured (CSR), any sparsity pattern;
//   PackedBlockSparseLinear   1x4 blocks: 4 consecutive input channels of one row kept or dropped together;
//   PackedNMSparseLinear      2:4: at most 2 non-zeros in every group of 4 consecutive input channels.
// All three run the panel scheme of assembly/sparse.ts (28-column blocks of X copied, K_CHUNK rows
// at a time, into L1-sized panels); CSR and 1x4 also have an in-place kernel (16-column blocks read
// where they are, two rows at a time) for sparser weights and narrow X. sparseCostRatio predicts
// each one's time against our dense kernel on the same operands.
import { ArgumentError, ShapeError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { activationArgs, type FusedActivation } from './activation.js';
import { checkData, checkDims } from './check.js';

/** Columns per panel block (assembly/sparse.ts PANEL_W) and bytes per panel row. */
const PANEL_W = 28;
const PANEL_ROW_BYTES = PANEL_W * 4;
/** Columns per in-place block. */
const IN_PLACE_W = 16;
/**
 * Most rows of X per panel chunk: 192 x 112 bytes = 21 KB, so a panel stays in L1 next to the
 * stream of weights, and 3 of them (3 adjacent 28-column blocks, one visit per row of X) fit the
 * kernel's 64 KB scratch. Each chunk costs every output row a visit (its partial sums loaded and
 * stored, a loop exit mispredicted), so longer chunks win while the panel fits L1: against chunks
 * of 96, both kernels in one process (64x576x3136, relaxed, fastest of 25), CSR 0-12% faster at
 * 50-90% zeros, 1x4 blocks 5-16%, 2:4 1-2%, never slower (also at K = 256 and 1152, N = 784).
 * Unchunked (576 rows, 63 KB, past L1) is 5-16% slower than 96.
 */
export const K_CHUNK = 192;

/**
 * Below this density 'auto' reads X in place rather than copying it into panels: where the two
 * fitted lines of sparseCostRatio cross (bench/sparse.ts, 64x576x3136: the panel wins at 80%
 * zeros and below, in place from 90%).
 */
export const IN_PLACE_BELOW_DENSITY = 0.14;

export interface SparseLinearOptions {
  /** M values, one per output row. */
  bias?: Float32Array;
  activation?: FusedActivation;
}

export interface SparseRunOptions {
  /**
   * How the CSR kernel reaches X: 'panel' copies 28-column blocks, up to K_CHUNK rows at a time,
   * into a contiguous panel (best on denser weights, robust to row strides that alias in L1),
   * 'inPlace' reads 16-column blocks directly (best on sparse weights and fewer than 28 columns).
   * Default 'auto': in place when density < IN_PLACE_BELOW_DENSITY or N < 28. The 1x4 format
   * does the same by its blockDensity (in place only when K % 4 == 0); 2:4 always uses the panel.
   */
  access?: 'auto' | 'panel' | 'inPlace';
  /** Row stride of X in floats (default N). */
  ldx?: number;
  /** Row stride of Y in floats (default N). */
  ldy?: number;
}

export type SparseFormat = 'csr' | 'block1x4' | '2:4';

/** Columns the dense GEMM pads its blocks to (gemm_a4's 8-column panels). */
const DENSE_W = 8;

/**
 * Predicted time of the sparse kernel / time of our dense kernel (gemm_a4) on the same operands,
 * for weights with this share of non-zeros: for 'csr' the density, for 'block1x4' the share of
 * weights in kept blocks (PackedBlockSparseLinear.blockDensity), for '2:4' anything (a 2:4 layer
 * multiplies half its weights whatever its actual zeros). columns: N, the pixels or rows the layer
 * runs over; the kernels pad it to whole blocks (28 columns; 16 in place), the dense GEMM to
 * multiples of 8. Below 1 the sparse kernel is predicted faster. It predicts what access 'auto'
 * runs.
 *
 * Fitted on bench/sparse.ts, Y[64 x 3136] = W[64 x 576] · X[576 x 3136], relaxed build, 2 runs on
 * a 2-core AMD EPYC (Zen 5) VM (medians of 15 interleaved rounds each; speed-up = dense time /
 * sparse time):
 *   csr panel     50%: 1.58 1.51   70%: 2.55 2.44   80%: 3.53 3.51
 *   csr in place  90%: 5.34 5.42   95%: 10.32 10.49
 *   1x4 panel     80%: 3.14 (CSR on the same weights 3.17)   1x4 in place 90%: 5.33 (5.44)
 *   2:4           1.53 (CSR 1.60)
 * as lines in the density d: csr panel 0.04 + 1.21 d, in place 0.006 + 1.8 d; 1x4 the same as
 * CSR (on the older CPU 1x4 was 5-10% faster); 2:4 0.7. 'auto' switches to in place below
 * IN_PLACE_BELOW_DENSITY (0.14; on this CPU the panel is still 8% faster at 90% zeros). The
 * simd build's speed-ups are within a few percent. The older CPU of the same VM type read 20-30%
 * lower (csr panel 0.147 + 1.387 d, in place 0.010 + 2.36 d, 2:4 0.78): sparse was still faster
 * than dense from 50% zeros there, so this fit picks no kernel that is slower on either. Expect
 * about 15% error: the VM's spread, and shapes whose X fits in cache or whose rows hold very few
 * non-zeros.
 */
export function sparseCostRatio(format: SparseFormat, density: number, columns = 3136): number {
  // the runtime's kernel choice passes a density in [0, 1], at least one column and a known format
  if (!globalThis.EDGEPRUNE_RUNTIME) {
    if (!(density >= 0 && density <= 1)) throw new ArgumentError(`sparseCostRatio: density must be in [0, 1], got ${density}`);
    if (!(columns >= 1)) throw new ArgumentError(`sparseCostRatio: columns must be >= 1, got ${columns}`);
  }
  let r: number;
  let width = PANEL_W;
  switch (format) {
    case 'csr':
      // what access 'auto' runs
      if (density < IN_PLACE_BELOW_DENSITY || columns < PANEL_W) {
        r = 0.006 + 1.8 * density;
        width = IN_PLACE_W;
      } else {
        r = 0.04 + 1.21 * density;
      }
      break;
    case 'block1x4':
      // as fast as CSR at the same density on this CPU (the blocks save index bytes)
      if (density < IN_PLACE_BELOW_DENSITY || columns < PANEL_W) {
        r = 0.006 + 1.8 * density;
        width = IN_PLACE_W;
      } else {
        r = 0.04 + 1.21 * density;
      }
      break;
    case '2:4':
      r = 0.7;
      break;
    default:
      throw new ArgumentError(`sparseCostRatio: unknown format ${String(format)}; use 'csr', 'block1x4' or '2:4'`);
  }
  // both pay for whole blocks, the sparse kernel's and the dense GEMM's (3136 columns pad neither)
  const padded = (w: number) => Math.ceil(columns / w) * w;
  return (r * padded(width)) / padded(DENSE_W);
}

/** Rows per K chunk: K cut into equal chunks of at most K_CHUNK rows, rounded up to a multiple of `multiple`. */
function chunkRows(K: number, multiple: number): number {
  const n = Math.ceil(K / K_CHUNK);
  const kc = Math.ceil(K / n);
  return Math.ceil(kc / multiple) * multiple;
}

/** Checks shared by the three formats' constructors. */
function checkWeights(what: string, w: Float32Array, M: number, K: number, opts: SparseLinearOptions): void {
  // the runtime's sparse conv and Gemm have checked the layer (checkConvLayer, PackedSparseGemm) before packing it here
  if (globalThis.EDGEPRUNE_RUNTIME) return;
  checkDims([M, K], `${what} weights [M, K]`, 2);
  checkData(w, [M, K], `${what} weights`);
  if (M === 0 || K === 0) throw new ShapeError(`${what} weights [${M}, ${K}] have an empty dimension`);
  if (opts.bias && opts.bias.length !== M) throw new ShapeError(`${what} bias has ${opts.bias.length} values but the layer has ${M} outputs`);
}

/** What the formats share: shape, non-zero count, bias, activation, the run() argument checks. */
abstract class SparseLinearBase {
  readonly M: number;
  readonly K: number;
  /** Number of non-zero weights. */
  readonly nnz: number;
  /** nnz / (M · K). */
  readonly density: number;
  protected readonly k: Kernels;
  protected readonly act: [number, number, number];
  protected bias: number;
  protected disposed = false;
  private readonly what: string;

  protected constructor(what: string, k: Kernels, w: Float32Array, M: number, K: number, opts: SparseLinearOptions) {
    checkWeights(what, w, M, K, opts);
    this.what = what;
    this.k = k;
    this.M = M;
    this.K = K;
    this.act = activationArgs(opts.activation);
    let nnz = 0;
    for (let i = 0; i < w.length; i++) if (w[i] !== 0) nnz++;
    this.nnz = nnz;
    this.density = nnz / (M * K);
    this.bias = opts.bias ? k.upload(opts.bias) : 0;
  }

  /** Validates run()'s arguments; returns [ldx, ldy], or undefined when there is nothing to do (N = 0). */
  protected checkRun(x: number, N: number, y: number, opts: SparseRunOptions): [number, number] | undefined {
    const what = this.what;
    const ldx = opts.ldx ?? N;
    const ldy = opts.ldy ?? N;
    // the runtime runs these layers on whole planned tensors, with the default strides and access
    if (!globalThis.EDGEPRUNE_RUNTIME) {
      if (this.disposed) throw new ShapeError(`${what}: used after dispose()`);
      if (!Number.isInteger(N) || N < 0) throw new ShapeError(`${what}: column count N must be a non-negative integer, got ${N}`);
      if (!Number.isInteger(ldx) || ldx < N) throw new ShapeError(`${what}: X row stride ldx must be an integer >= N (${N}), got ${ldx}`);
      if (!Number.isInteger(ldy) || ldy < N) throw new ShapeError(`${what}: Y row stride ldy must be an integer >= N (${N}), got ${ldy}`);
      const access = opts.access ?? 'auto';
      if (access !== 'auto' && access !== 'panel' && access !== 'inPlace') throw new ArgumentError(`${what}: access must be 'auto', 'panel' or 'inPlace', got ${String(access)}`);
    }
    if (N === 0) return undefined;
    if (!globalThis.EDGEPRUNE_RUNTIME) {
      this.k.requireFloats(x, (this.K - 1) * ldx + N, `${what} input`);
      this.k.requireFloats(y, (this.M - 1) * ldy + N, `${what} output`);
    }
    return [ldx, ldy];
  }

  protected release(...ptrs: number[]): void {
    if (this.disposed) return;
    this.k.free(this.bias, ...ptrs);
    this.bias = 0;
    this.disposed = true;
  }
}

/**
 * A weight matrix W (M x K) packed once as chunked CSR: per K chunk and row, 8-byte records
 * (byte offset of the X row within the chunk, weight). The offsets are scaled for the kernel that
 * runs (panel rows of 112 bytes, or ldx * 4 in place, so the inner loop only adds) and rewritten
 * from wasm memory when the access mode or ldx changes between runs (O(nnz), once per change).
 * Owns its wasm blocks until dispose().
 */

/**
 * The kernels' non-zero stream: for each chunk of kc rows of K and each output row, that row's
 * records in the chunk, one after another; a record is the offset of its first column (relative
 * to the chunk start, times `scale`: bytes in the panel or in X) and `width` values (1 for CSR,
 * 4 for 1x4 blocks). rowPtr[c * M + m] is the first record of row m in chunk c.
 * rowStart: CSR row starts over the units (non-zeros or blocks); col(t): unit t's first column.
 */
function chunkedRecords(M: number, K: number, kc: number, scale: number, rowStart: Int32Array, width: number,
  col: (t: number) => number, put: (recF: Float32Array, at: number, t: number) => void): { rowPtr: Int32Array; rec: Int32Array } {
  const nChunks = Math.ceil(K / kc);
  const rowPtr = new Int32Array(nChunks * M + 1);
  const rec = new Int32Array(rowStart[M] * (1 + width));
  const recF = new Float32Array(rec.buffer);
  const next = rowStart.slice(0, M); // per row, the first unit not yet written
  let j = 0;
  for (let c = 0; c < nChunks; c++) {
    const k0 = c * kc;
    const k1 = Math.min(K, k0 + kc);
    for (let m = 0; m < M; m++) {
      rowPtr[c * M + m] = j;
      let t = next[m];
      for (const end = rowStart[m + 1]; t < end && col(t) < k1; t++, j++) {
        rec[(1 + width) * j] = (col(t) - k0) * scale;
        put(recF, (1 + width) * j + 1, t);
      }
      next[m] = t;
    }
  }
  rowPtr[nChunks * M] = j;
  return { rowPtr, rec };
}

/** CSR of a dense row-major M x K matrix: row starts (M + 1), column of each non-zero, its value. */
export function denseToCsr(w: Float32Array, M: number, K: number): { rowPtr: Int32Array; cols: Int32Array; vals: Float32Array } {
  let nnz = 0;
  for (let i = 0; i < M * K; i++) if (w[i] !== 0) nnz++;
  const rowPtr = new Int32Array(M + 1);
  const cols = new Int32Array(nnz);
  const vals = new Float32Array(nnz);
  let j = 0;
  for (let m = 0; m < M; m++) {
    rowPtr[m] = j;
    for (let c = 0; c < K; c++) {
      const v = w[m * K + c];
      if (v !== 0) {
        cols[j] = c;
        vals[j++] = v;
      }
    }
  }
  rowPtr[M] = j;
  return { rowPtr, cols, vals };
}

export class PackedSparseLinear extends SparseLinearBase {
  private rowPtr: number;
  private records: number;
  /** How the records are encoded now: in place or not, chunk rows, offset scale (bytes per k). */
  private enc = { inPlace: false, kc: 0, scale: 0 };

  constructor(k: Kernels, w: Float32Array, M: number, K: number, opts: SparseLinearOptions = {}) {
    super('SparseLinear', k, w, M, K, opts);
    const { rowPtr: rowStart, cols, vals } = denseToCsr(w, M, K);
    // room for the most chunks either encoding uses
    this.rowPtr = k.heap.alloc((Math.ceil(K / chunkRows(K, 1)) * M + 1) * 4);
    this.records = k.heap.alloc(Math.max(1, this.nnz) * 8);
    // the panel encoding; an in-place run re-encodes for its ldx (once, then only when ldx changes)
    this.write(rowStart, cols, vals, false, chunkRows(K, 1), PANEL_ROW_BYTES);
  }

  /** Rewrites rowPtr and the records for this access mode (in place: one chunk, offsets k * ldx * 4). */
  private encode(inPlace: boolean, ldx: number): void {
    const kc = inPlace ? this.K : chunkRows(this.K, 1);
    const scale = inPlace ? ldx * 4 : PANEL_ROW_BYTES;
    const e = this.enc;
    if (e.inPlace === inPlace && e.kc === kc && e.scale === scale) return;
    const [rowStart, cols, vals] = this.read();
    this.write(rowStart, cols, vals, inPlace, kc, scale);
  }

  /** The non-zeros back from wasm memory, row-major: row starts, columns, values. */
  private read(): [Int32Array, Int32Array, Float32Array] {
    const { M, K } = this;
    const { kc, scale } = this.enc;
    const nChunks = Math.ceil(K / kc);
    const i32 = this.k.i32;
    const f32 = this.k.f32;
    const rp = this.rowPtr >> 2;
    const rec = this.records >> 2;
    const rowStart = new Int32Array(M + 1);
    for (let m = 0; m < M; m++) {
      let n = 0;
      for (let c = 0; c < nChunks; c++) n += i32[rp + c * M + m + 1] - i32[rp + c * M + m];
      rowStart[m + 1] = rowStart[m] + n;
    }
    const cols = new Int32Array(this.nnz);
    const vals = new Float32Array(this.nnz);
    const next = rowStart.slice(0, M);
    for (let c = 0; c < nChunks; c++) {
      for (let m = 0; m < M; m++) {
        for (let j = i32[rp + c * M + m]; j < i32[rp + c * M + m + 1]; j++) {
          cols[next[m]] = c * kc + (i32[rec + 2 * j] >>> 0) / scale;
          vals[next[m]++] = f32[rec + 2 * j + 1];
        }
      }
    }
    return [rowStart, cols, vals];
  }

  private write(rowStart: Int32Array, cols: Int32Array, vals: Float32Array, inPlace: boolean, kc: number, scale: number): void {
    const { rowPtr, rec } = chunkedRecords(this.M, this.K, kc, scale, rowStart, 1, (t) => cols[t], (recF, at, t) => (recF[at] = vals[t]));
    this.k.i32.set(rowPtr, this.rowPtr >> 2);
    this.k.i32.set(rec, this.records >> 2);
    this.enc = { inPlace, kc, scale };
  }

  /**
   * x: K x N floats at pointer x (row stride ldx, default N); writes M x N floats at y (row stride
   * ldy, default N).
   */
  run(x: number, N: number, y: number, opts: SparseRunOptions = {}): void {
    const strides = this.checkRun(x, N, y, opts);
    if (!strides) return;
    const [ldx, ldy] = strides;
    const access = opts.access ?? 'auto';
    const inPlace = access === 'inPlace' || (access === 'auto' && (this.density < IN_PLACE_BELOW_DENSITY || N < PANEL_W));
    // (in the runtime X is a whole tensor in wasm memory, so its rows span less than 4 GiB)
    if (!globalThis.EDGEPRUNE_RUNTIME && inPlace && ldx * 4 * (this.K - 1) > 0xffffffff) throw new ShapeError(`SparseLinear: X of ${this.K} rows ${ldx} floats apart is too large to read in place; use access: 'panel'`);
    this.encode(inPlace, ldx);
    const [code, p0, p1] = this.act;
    this.k.fn.spmm_csr(this.rowPtr, this.records, this.M, this.K, this.enc.kc, x, ldx, N, y, ldy, this.bias, code, p0, p1, inPlace ? 1 : 0);
  }

  dispose(): void {
    this.release(this.rowPtr, this.records);
    this.rowPtr = 0;
    this.records = 0;
  }
}

/**
 * W (M x K) packed once in 1x4 blocks: the input channels are cut into aligned groups of 4
 * (k = 4g .. 4g+3) and a row keeps a group when any of its 4 weights is non-zero (zeros inside a
 * kept block are stored). Block CSR: 20-byte records (offset of row 4g of X, 4 weights), chunked
 * over K for the panel kernel; in place (sparse blocks or fewer than 28 columns, and K % 4 == 0)
 * the offsets are rewritten for ldx as in PackedSparseLinear. Meant for weights pruned in 1x4
 * blocks (prune_block_l1_1x4); on unstructured zeros it keeps nearly every block.
 */
export class PackedBlockSparseLinear extends SparseLinearBase {
  /** Kept 1x4 blocks. */
  readonly blocks: number;
  /** blocks * 4 / (M · K): the share of weights the kernel multiplies (what sparseCostRatio takes). */
  readonly blockDensity: number;
  private rowPtr: number;
  private records: number;
  private enc = { inPlace: false, kc: 0, scale: 0 };

  constructor(k: Kernels, w: Float32Array, M: number, K: number, opts: SparseLinearOptions = {}) {
    super('BlockSparseLinear', k, w, M, K, opts);
    const G = Math.ceil(K / 4);
    const rowStart = new Int32Array(M + 1);
    const groups: number[] = [];
    const vals: number[] = [];
    for (let m = 0; m < M; m++) {
      rowStart[m] = groups.length;
      for (let g = 0; g < G; g++) {
        const c1 = Math.min(K, 4 * g + 4);
        let keep = false;
        for (let c = 4 * g; c < c1; c++) if (w[m * K + c] !== 0) keep = true;
        if (!keep) continue;
        groups.push(g);
        for (let i = 0; i < 4; i++) vals.push(4 * g + i < K ? w[m * K + 4 * g + i] : 0);
      }
    }
    rowStart[M] = groups.length;
    this.blocks = groups.length;
    this.blockDensity = (this.blocks * 4) / (M * K);
    this.rowPtr = k.heap.alloc((Math.ceil(K / chunkRows(K, 4)) * M + 1) * 4);
    this.records = k.heap.alloc(Math.max(1, this.blocks) * 20);
    this.write(rowStart, Int32Array.from(groups), Float32Array.from(vals), false, chunkRows(K, 4), PANEL_ROW_BYTES);
  }

  /** The kept blocks back from wasm memory, row-major: row starts, group indices, 4 weights each. */
  private read(): [Int32Array, Int32Array, Float32Array] {
    const { M, K } = this;
    const { kc, scale } = this.enc;
    const nChunks = Math.ceil(K / kc);
    const i32 = this.k.i32;
    const f32 = this.k.f32;
    const rp = this.rowPtr >> 2;
    const rec = this.records >> 2;
    const rowStart = new Int32Array(M + 1);
    for (let m = 0; m < M; m++) {
      let n = 0;
      for (let c = 0; c < nChunks; c++) n += i32[rp + c * M + m + 1] - i32[rp + c * M + m];
      rowStart[m + 1] = rowStart[m] + n;
    }
    const groups = new Int32Array(this.blocks);
    const vals = new Float32Array(this.blocks * 4);
    const next = rowStart.slice(0, M);
    for (let c = 0; c < nChunks; c++) {
      for (let m = 0; m < M; m++) {
        for (let j = i32[rp + c * M + m]; j < i32[rp + c * M + m + 1]; j++) {
          const t = next[m]++;
          groups[t] = (c * kc + (i32[rec + 5 * j] >>> 0) / scale) / 4;
          for (let i = 0; i < 4; i++) vals[4 * t + i] = f32[rec + 5 * j + 1 + i];
        }
      }
    }
    return [rowStart, groups, vals];
  }

  private write(rowStart: Int32Array, groups: Int32Array, vals: Float32Array, inPlace: boolean, kc: number, scale: number): void {
    const put = (recF: Float32Array, at: number, t: number) => {
      for (let i = 0; i < 4; i++) recF[at + i] = vals[4 * t + i];
    };
    const { rowPtr, rec } = chunkedRecords(this.M, this.K, kc, scale, rowStart, 4, (t) => 4 * groups[t], put);
    this.k.i32.set(rowPtr, this.rowPtr >> 2);
    this.k.i32.set(rec, this.records >> 2);
    this.enc = { inPlace, kc, scale };
  }

  /**
   * Same contract as PackedSparseLinear.run. access 'auto' reads X in place when blockDensity <
   * IN_PLACE_BELOW_DENSITY or N < 28; in place needs K % 4 == 0 (else the panel runs).
   */
  run(x: number, N: number, y: number, opts: SparseRunOptions = {}): void {
    const strides = this.checkRun(x, N, y, opts);
    if (!strides) return;
    const [ldx, ldy] = strides;
    const access = opts.access ?? 'auto';
    const inPlace = this.K % 4 === 0 && (access === 'inPlace' || (access === 'auto' && (this.blockDensity < IN_PLACE_BELOW_DENSITY || N < PANEL_W)));
    if (inPlace && ldx * 4 * (this.K - 1) > 0xffffffff) throw new ShapeError(`BlockSparseLinear: X of ${this.K} rows ${ldx} floats apart is too large to read in place; use access: 'panel'`);
    const kc = inPlace ? this.K : chunkRows(this.K, 4);
    const scale = inPlace ? ldx * 4 : PANEL_ROW_BYTES;
    const e = this.enc;
    if (e.inPlace !== inPlace || e.kc !== kc || e.scale !== scale) {
      const [rowStart, groups, vals] = this.read();
      this.write(rowStart, groups, vals, inPlace, kc, scale);
    }
    const [code, p0, p1] = this.act;
    if (inPlace) this.k.fn.spmm_bsr1x4_inplace(this.rowPtr, this.records, this.M, this.K, x, ldx, N, y, ldy, this.bias, code, p0, p1);
    else this.k.fn.spmm_bsr1x4(this.rowPtr, this.records, this.M, this.K, kc, x, ldx, N, y, ldy, this.bias, code, p0, p1);
  }

  dispose(): void {
    this.release(this.rowPtr, this.records);
    this.rowPtr = 0;
    this.records = 0;
  }
}

/**
 * W (M x K) packed once as 2:4 sparse: every aligned group of 4 input channels of a row holds at
 * most 2 non-zeros (prune_nm with N = 2, M = 4), stored as 2 weights and one byte of 2-bit positions
 * per group (4.5 bytes per kept weight). Throws a ShapeError naming the first group with more.
 */
export class PackedNMSparseLinear extends SparseLinearBase {
  private valsPtr: number;
  private idxPtr: number;
  private readonly kc: number;

  constructor(k: Kernels, w: Float32Array, M: number, K: number, opts: SparseLinearOptions = {}) {
    super('NMSparseLinear', k, w, M, K, opts);
    const G = Math.ceil(K / 4);
    const vals = new Float32Array(M * G * 2);
    const idx = new Uint8Array(Math.ceil((M * G) / 4) * 4);
    for (let m = 0; m < M; m++) {
      for (let g = 0; g < G; g++) {
        const pos: number[] = [];
        for (let i = 0; i < 4 && 4 * g + i < K; i++) if (w[m * K + 4 * g + i] !== 0) pos.push(i);
        if (pos.length > 2) throw new ShapeError(`NMSparseLinear: weights are not 2:4 sparse: row ${m}, input channels ${4 * g}..${Math.min(K, 4 * g + 4) - 1} hold ${pos.length} non-zeros (at most 2 per group of 4); prune them 2:4 first (prune_nm) or use PackedSparseLinear`);
        // unused slots: weight 0 at a position inside K (the panel rows past K are zero anyway)
        while (pos.length < 2) pos.push(pos.length ? (pos[0] === 0 ? 1 : 0) : 0);
        const gi = m * G + g;
        for (let s = 0; s < 2; s++) vals[2 * gi + s] = 4 * g + pos[s] < K ? w[m * K + 4 * g + pos[s]] : 0;
        idx[gi] = pos[0] | (pos[1] << 2);
      }
    }
    this.kc = chunkRows(K, 4);
    this.valsPtr = k.upload(vals);
    this.idxPtr = k.uploadI32(new Int32Array(idx.buffer));
  }

  /** Same contract as PackedSparseLinear.run (access is ignored: always the panel kernel). */
  run(x: number, N: number, y: number, opts: SparseRunOptions = {}): void {
    const strides = this.checkRun(x, N, y, opts);
    if (!strides) return;
    const [ldx, ldy] = strides;
    const [code, p0, p1] = this.act;
    this.k.fn.spmm_nm24(this.valsPtr, this.idxPtr, this.M, this.K, this.kc, x, ldx, N, y, ldy, this.bias, code, p0, p1);
  }

  dispose(): void {
    this.release(this.valsPtr, this.idxPtr);
    this.valsPtr = 0;
    this.idxPtr = 0;
  }
}

type AnySparseLinear = PackedSparseLinear | PackedBlockSparseLinear | PackedNMSparseLinear;

/**
 * One-shot Y = W · X (+ bias, activation) on host arrays (tests, scripts). Packs W on every call,
 * in the given format (default 'csr').
 */
export function spmm(k: Kernels, W: Float32Array, M: number, K: number, X: Float32Array, N: number,
  opts: SparseLinearOptions & Pick<SparseRunOptions, 'access'> & { format?: SparseFormat } = {}): Float32Array {
  checkDims([M, K, N], 'spmm M, K, N', 3);
  checkData(W, [M, K], 'spmm W [M, K]');
  checkData(X, [K, N], 'spmm X [K, N]');
  const format = opts.format ?? 'csr';
  let layer: AnySparseLinear;
  if (format === 'csr') layer = new PackedSparseLinear(k, W, M, K, opts);
  else if (format === 'block1x4') layer = new PackedBlockSparseLinear(k, W, M, K, opts);
  else if (format === '2:4') layer = new PackedNMSparseLinear(k, W, M, K, opts);
  else throw new ArgumentError(`spmm: unknown format ${String(format)}; use 'csr', 'block1x4' or '2:4'`);
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
