// Host side of assembly/linalg.ts: float64 Cholesky solves of the ridge-regularised normal
// equations, and the Gram products (XᵀX, XᵀY) formed by the f32 GEMM kernel and accumulated in f64.
import { ArgumentError, ShapeError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';

function f64View(k: Kernels): Float64Array {
  return new Float64Array(k.f32.buffer);
}

function uploadF64(k: Kernels, data: Float64Array): number {
  const p = k.heap.alloc(Math.max(8, data.length * 8));
  f64View(k).set(data, p >> 3);
  return p;
}

function downloadF64(k: Kernels, p: number, n: number): Float64Array {
  return f64View(k).slice(p >> 3, (p >> 3) + n);
}

/**
 * The Cholesky factor L (lower triangular, A = L·Lᵀ) of a symmetric positive-definite n×n
 * matrix given row-major (only its lower triangle is read). Returns undefined when A is not
 * positive definite (a pivot ≤ 0 or NaN).
 */
export function cholesky(k: Kernels, a: Float64Array, n: number): Float64Array | undefined {
  if (a.length !== n * n) throw new ShapeError(`cholesky: a ${n}x${n} matrix needs ${n * n} values, got ${a.length}`);
  const p = uploadF64(k, a);
  try {
    if ((k.fn.chol_f64(p, n) as number) !== 0) return undefined;
    const l = downloadF64(k, p, n * n);
    for (let i = 0; i < n; i++) l.fill(0, i * n + i + 1, (i + 1) * n);
    return l;
  } finally {
    k.free(p);
  }
}

/**
 * Solves A·X = B for symmetric positive-definite A (n×n, lower triangle read) and B [n, m], both
 * row-major float64: Cholesky, then forward and back substitution with the m right-hand sides
 * together. Returns X [n, m], or undefined when A is not positive definite.
 */
export function choleskySolve(k: Kernels, a: Float64Array, b: Float64Array, n: number, m: number): Float64Array | undefined {
  if (a.length !== n * n) throw new ShapeError(`choleskySolve: A needs ${n * n} values, got ${a.length}`);
  if (b.length !== n * m) throw new ShapeError(`choleskySolve: B [${n}, ${m}] needs ${n * m} values, got ${b.length}`);
  const pa = uploadF64(k, a);
  let pb = 0;
  try {
    if ((k.fn.chol_f64(pa, n) as number) !== 0) return undefined;
    pb = uploadF64(k, b);
    k.fn.trsm_lower_f64(pa, n, pb, m);
    k.fn.trsm_lower_t_f64(pa, n, pb, m);
    return downloadF64(k, pb, n * m);
  } finally {
    k.free(pa, pb);
  }
}

/** C = A·B for A [m, k] and B [k, n], float64 row-major, in wasm. */
export function gemmF64(k: Kernels, a: Float64Array, b: Float64Array, m: number, kk: number, n: number): Float64Array {
  if (a.length !== m * kk || b.length !== kk * n) throw new ShapeError(`gemmF64: A [${m}, ${kk}] and B [${kk}, ${n}] need ${m * kk} and ${kk * n} values, got ${a.length} and ${b.length}`);
  const pa = uploadF64(k, a);
  const pb = uploadF64(k, b);
  const pc = k.heap.alloc(Math.max(8, m * n * 8));
  try {
    k.fn.gemm_f64(pa, pb, pc, m, kk, n);
    return downloadF64(k, pc, m * n);
  } finally {
    k.free(pa, pb, pc);
  }
}

/**
 * Accumulates G += A·Aᵀ (f × f) and H += A·Ytᵀ (f × c) in float64 for A [f, P] and Yt [c, P]
 * already in wasm memory (f32, row-major). Each product is one call of the packed f32 GEMM
 * kernel, summing one chunk of positions in f32 (callers keep A near 4M floats, so a chunk holds
 * at most 4M/f positions); the chunks add up in f64.
 * Also accumulates Σ Y² per output (for held-out errors) and the row sums of A (feature means).
 */
export class GramAccumulator {
  readonly G: Float64Array;
  readonly H: Float64Array;
  readonly sums: Float64Array;
  /** Σ Y² per output. */
  readonly yy: Float64Array;
  positions = 0;

  constructor(
    private readonly k: Kernels,
    readonly f: number,
    readonly c: number,
    /** false: only the row sums are wanted (feature means for bias compensation). */
    private readonly products = true,
  ) {
    if (f < 1) throw new ArgumentError('GramAccumulator: at least one feature');
    this.G = new Float64Array(products ? f * f : 0);
    this.H = new Float64Array(products ? f * c : 0);
    this.sums = new Float64Array(f);
    this.yy = new Float64Array(products ? c : 0);
  }

  /**
   * Adds P positions: A [f, P] at pointer a and Yt [c, P] at pointer yt, both with row stride
   * `ld` floats (the columns may be a slice of wider matrices).
   */
  add(a: number, yt: number, P: number, ld = P): void {
    const { k, f, c } = this;
    if (P === 0) return;
    const view = k.f32;
    for (let i = 0; i < f; i++) {
      let s = 0;
      const base = (a >> 2) + i * ld;
      for (let p = 0; p < P; p++) s += view[base + p];
      this.sums[i] += s;
    }
    this.positions += P;
    if (!this.products) return;
    this.product(a, a, P, ld, f, this.G);
    this.product(a, yt, P, ld, c, this.H);
    const y = k.f32;
    for (let j = 0; j < c; j++) {
      const base = (yt >> 2) + j * ld;
      let yy = 0;
      for (let p = 0; p < P; p++) yy += y[base + p] * y[base + p];
      this.yy[j] += yy;
    }
  }

  /** out [f, n] += A [f, P] · Bᵀ for B [n, P] at pointer b (both with row stride ld). */
  private product(a: number, b: number, P: number, ld: number, n: number, out: Float64Array): void {
    const { k, f } = this;
    const packed = k.allocF32(Math.ceil(n / 8) * 8 * P);
    const y = k.allocF32(f * n);
    try {
      // logical B [K = P, N = n]: element (p, j) at b[j·ld + p]
      k.fn.pack_b8(b, 1, ld, P, n, packed);
      k.fn.gemm_b8(a, ld, f, n, P, packed, y, n, 0, 0, 0, 0);
      const part = k.f32.subarray(y >> 2, (y >> 2) + f * n);
      for (let i = 0; i < out.length; i++) out[i] += part[i];
    } finally {
      k.free(packed, y);
    }
  }
}
