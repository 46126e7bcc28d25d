// Dense float64 linear algebra for least-squares reconstruction (src/fit/reconstruct.ts) (the
// strided im2col that feeds it, im2col_ld, is in conv.ts). Matrices are row-major; every pointer is a byte offset.
//  - chol_f64(a, n): in-place Cholesky A = L·Lᵀ of a symmetric positive-definite n×n matrix. The
//    lower triangle is read and overwritten with L (the strict upper triangle is not touched).
//    Returns 0, or j + 1 when the pivot of column j is not positive (A is not positive definite).
//    Cholesky–Banachiewicz (row by row, every entry one dot product of two contiguous row
//    prefixes), four rows at a time so each row of L read from memory serves four dot products.
//  - trsm_lower_f64(l, n, b, m): B ← L⁻¹·B for B [n, m] (forward substitution, m right-hand
//    sides; row i of B loses L[i][j]·row j for j < i: rows of L are read contiguously).
//  - trsm_lower_t_f64(l, n, b, m): B ← L⁻ᵀ·B (back substitution, right-looking: once row j of
//    the solution is final, every earlier row loses L[j][i]·row j, again a contiguous row of L).
//  - gemm_f64(a, b, c, m, k, n): C = A·B in float64 (held-out errors of candidate refits).

// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, n: i32): f64 {
  let s0 = f64x2.splat(0);
  let s1 = f64x2.splat(0);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const o = <usize>k << 3;
    s0 = f64x2.add(s0, f64x2.mul(v128.load(a + o), v128.load(b + o)));
    s1 = f64x2.add(s1, f64x2.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
  }
  s0 = f64x2.add(s0, s1);
  let s = f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1);
  for (; k < n; k++) s += load<f64>(a + (<usize>k << 3)) * load<f64>(b + (<usize>k << 3));
  return s;
}

export function chol_f64(a: usize, n: i32): i32 {
  const rowB = <usize>n << 3;
  for (let i0 = 0; i0 < n; i0 += 4) {
    const rows = min(4, n - i0);
    const r0 = a + <usize>i0 * rowB;
    if (rows == 4) {
      const r1 = r0 + rowB, r2 = r1 + rowB, r3 = r2 + rowB;
      for (let j = 0; j < i0; j++) {
        const rj = a + <usize>j * rowB;
        // four dot products of length j sharing row j
        let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
        let k = 0;
        for (; k + 2 <= j; k += 2) {
          const o = <usize>k << 3;
          const v = v128.load(rj + o);
          s0 = f64x2.add(s0, f64x2.mul(v128.load(r0 + o), v));
          s1 = f64x2.add(s1, f64x2.mul(v128.load(r1 + o), v));
          s2 = f64x2.add(s2, f64x2.mul(v128.load(r2 + o), v));
          s3 = f64x2.add(s3, f64x2.mul(v128.load(r3 + o), v));
        }
        let d0 = f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1);
        let d1 = f64x2.extract_lane(s1, 0) + f64x2.extract_lane(s1, 1);
        let d2 = f64x2.extract_lane(s2, 0) + f64x2.extract_lane(s2, 1);
        let d3 = f64x2.extract_lane(s3, 0) + f64x2.extract_lane(s3, 1);
        if (k < j) {
          const o = <usize>k << 3;
          const v = load<f64>(rj + o);
          d0 += load<f64>(r0 + o) * v;
          d1 += load<f64>(r1 + o) * v;
          d2 += load<f64>(r2 + o) * v;
          d3 += load<f64>(r3 + o) * v;
        }
        const ljj = load<f64>(rj + (<usize>j << 3));
        const o = <usize>j << 3;
        store<f64>(r0 + o, (load<f64>(r0 + o) - d0) / ljj);
        store<f64>(r1 + o, (load<f64>(r1 + o) - d1) / ljj);
        store<f64>(r2 + o, (load<f64>(r2 + o) - d2) / ljj);
        store<f64>(r3 + o, (load<f64>(r3 + o) - d3) / ljj);
      }
    } else {
      for (let r = 0; r < rows; r++) {
        const ri = r0 + <usize>r * rowB;
        for (let j = 0; j < i0; j++) {
          const rj = a + <usize>j * rowB;
          const o = <usize>j << 3;
          store<f64>(ri + o, (load<f64>(ri + o) - dot(ri, rj, j)) / load<f64>(rj + o));
        }
      }
    }
    // the diagonal block
    for (let j = i0; j < i0 + rows; j++) {
      const rj = a + <usize>j * rowB;
      const o = <usize>j << 3;
      const s = load<f64>(rj + o) - dot(rj, rj, j);
      if (!(s > 0)) return j + 1;
      const ljj = Math.sqrt(s);
      store<f64>(rj + o, ljj);
      for (let i = j + 1; i < i0 + rows; i++) {
        const ri = a + <usize>i * rowB;
        store<f64>(ri + o, (load<f64>(ri + o) - dot(ri, rj, j)) / ljj);
      }
    }
  }
  return 0;
}

/** row y (m floats64) -= c · row x */
// @ts-ignore: decorator
@inline function axpy(y: usize, x: usize, c: f64, m: i32): void {
  const cv = f64x2.splat(c);
  let k = 0;
  for (; k + 2 <= m; k += 2) {
    const o = <usize>k << 3;
    v128.store(y + o, f64x2.sub(v128.load(y + o), f64x2.mul(cv, v128.load(x + o))));
  }
  if (k < m) {
    const o = <usize>k << 3;
    store<f64>(y + o, load<f64>(y + o) - c * load<f64>(x + o));
  }
}

// @ts-ignore: decorator
@inline function scaleRow(y: usize, c: f64, m: i32): void {
  for (let k = 0; k < m; k++) {
    const o = <usize>k << 3;
    store<f64>(y + o, load<f64>(y + o) * c);
  }
}

export function trsm_lower_f64(l: usize, n: i32, b: usize, m: i32): void {
  const rowL = <usize>n << 3;
  const rowB = <usize>m << 3;
  for (let i = 0; i < n; i++) {
    const li = l + <usize>i * rowL;
    const bi = b + <usize>i * rowB;
    for (let j = 0; j < i; j++) {
      const c = load<f64>(li + (<usize>j << 3));
      if (c != 0) axpy(bi, b + <usize>j * rowB, c, m);
    }
    scaleRow(bi, 1.0 / load<f64>(li + (<usize>i << 3)), m);
  }
}

export function trsm_lower_t_f64(l: usize, n: i32, b: usize, m: i32): void {
  const rowL = <usize>n << 3;
  const rowB = <usize>m << 3;
  for (let j = n - 1; j >= 0; j--) {
    const lj = l + <usize>j * rowL;
    const bj = b + <usize>j * rowB;
    scaleRow(bj, 1.0 / load<f64>(lj + (<usize>j << 3)), m);
    for (let i = 0; i < j; i++) {
      const c = load<f64>(lj + (<usize>i << 3));
      if (c != 0) axpy(b + <usize>i * rowB, bj, c, m);
    }
  }
}


/** C [m, n] = A [m, k] · B [k, n], float64 row-major (row i of C accumulates a[i][p]·row p of B). */
export function gemm_f64(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32): void {
  const rowB = <usize>n << 3;
  for (let i = 0; i < m; i++) {
    const ci = c + <usize>i * rowB;
    memory.fill(ci, 0, rowB);
    const ai = a + ((<usize>i * <usize>k) << 3);
    for (let p = 0; p < k; p++) {
      const s = load<f64>(ai + (<usize>p << 3));
      if (s != 0) axpy(ci, b + <usize>p * rowB, -s, n);
    }
  }
}
