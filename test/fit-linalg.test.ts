// The float64 linear algebra of least-squares reconstruction (assembly/linalg.ts), against plain
// float64 TypeScript references, in both builds; the Gram accumulation and strided im2col behind it.
import { describe, expect, it } from 'vitest';
import { cholesky, choleskySolve, gemmF64, GramAccumulator } from '../src/fit/linalg.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { rng } from './util/rng.js';

/** A = XXᵀ + 0.1 I for a random n × (n + 3) X: symmetric positive definite. */
function spd(n: number, seed: number): Float64Array {
  const r = rng(seed);
  const m = n + 3;
  const X = Float64Array.from({ length: n * m }, () => r() * 2 - 1);
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let p = 0; p < m; p++) s += X[i * m + p] * X[j * m + p];
      A[i * n + j] = A[j * n + i] = s + (i === j ? 0.1 : 0);
    }
  }
  return A;
}

/** Cholesky–Banachiewicz in plain float64. */
function refCholesky(A: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = i === j ? Math.sqrt(s) : s / L[j * n + j];
    }
  }
  return L;
}

describe.each(FLAVORS)('linalg (%s)', (flavor) => {
  it.each([1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 63, 130])('Cholesky of an SPD matrix of order %i matches the float64 reference', async (n) => {
    const k = await kernels(flavor);
    const A = spd(n, n);
    const L = cholesky(k, A, n)!;
    const R = refCholesky(A, n);
    let maxL = 0;
    for (const v of R) maxL = Math.max(maxL, Math.abs(v));
    for (let i = 0; i < n * n; i++) expect(Math.abs(L[i] - R[i])).toBeLessThanOrEqual(1e-12 * maxL);
    // and L·Lᵀ reproduces A
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < n; q++) s += L[i * n + q] * L[j * n + q];
        expect(Math.abs(s - A[i * n + j])).toBeLessThanOrEqual(1e-11 * Math.max(1, Math.abs(A[i * n + i])));
      }
    }
  });

  it.each([[1, 1], [5, 3], [33, 7], [150, 10]])('solves A·X = B (n=%i, %i right-hand sides) to a float64 residual', async (n, m) => {
    const k = await kernels(flavor);
    const A = spd(n, 100 + n);
    const r = rng(n * 7 + m);
    const B = Float64Array.from({ length: n * m }, () => r() * 2 - 1);
    const X = choleskySolve(k, A, B, n, m)!;
    // reference: forward and back substitution with the reference factor
    const L = refCholesky(A, n);
    const Z = Float64Array.from(B);
    for (let c = 0; c < m; c++) {
      for (let i = 0; i < n; i++) {
        let s = Z[i * m + c];
        for (let j = 0; j < i; j++) s -= L[i * n + j] * Z[j * m + c];
        Z[i * m + c] = s / L[i * n + i];
      }
      for (let i = n - 1; i >= 0; i--) {
        let s = Z[i * m + c];
        for (let j = i + 1; j < n; j++) s -= L[j * n + i] * Z[j * m + c];
        Z[i * m + c] = s / L[i * n + i];
      }
    }
    let scale = 0;
    for (const v of Z) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < n * m; i++) expect(Math.abs(X[i] - Z[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, scale));
  });

  it.each([[1, 1, 1], [3, 5, 2], [17, 9, 13], [40, 33, 7]])('gemm_f64 %i x %i · %i columns matches float64 sums', async (m, kk, n) => {
    const k = await kernels(flavor);
    const r = rng(m * 100 + kk * 10 + n);
    const A = Float64Array.from({ length: m * kk }, () => r() * 2 - 1);
    const B = Float64Array.from({ length: kk * n }, () => r() * 2 - 1);
    A[0] = 0; // the kernel skips zero coefficients
    const C = gemmF64(k, A, B, m, kk, n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < kk; p++) s += A[i * kk + p] * B[p * n + j];
        expect(Math.abs(C[i * n + j] - s)).toBeLessThanOrEqual(1e-13 * kk);
      }
    }
  });

  it('reports a matrix that is not positive definite', async () => {
    const k = await kernels(flavor);
    expect(cholesky(k, Float64Array.of(1, 2, 2, 1), 2)).toBeUndefined();
    expect(choleskySolve(k, Float64Array.of(0, 0, 0, 1), Float64Array.of(1, 1), 2, 1)).toBeUndefined();
    expect(cholesky(k, Float64Array.of(Number.NaN), 1)).toBeUndefined();
  });

  it('accumulates A·Aᵀ, A·Ytᵀ, row sums and Σ Y² in float64 over column slices of strided matrices', async () => {
    const k = await kernels(flavor);
    const f = 13;
    const c = 5;
    const P = 300;
    const r = rng(3);
    const A = Float32Array.from({ length: f * P }, () => r() * 2 - 1);
    const Y = Float32Array.from({ length: c * P }, () => r() * 2 - 1);
    const acc = new GramAccumulator(k, f, c);
    const pa = k.upload(A);
    const py = k.upload(Y);
    // columns [0, 120) and [120, 300) in two calls, each with row stride P
    acc.add(pa, py, 120, P);
    acc.add(pa + 120 * 4, py + 120 * 4, 180, P);
    k.free(pa, py);
    for (let i = 0; i < f; i++) {
      let s = 0;
      for (let p = 0; p < P; p++) s += A[i * P + p];
      expect(acc.sums[i]).toBeCloseTo(s, 4);
      for (let j = 0; j < f; j++) {
        let g = 0;
        for (let p = 0; p < P; p++) g += A[i * P + p] * A[j * P + p];
        expect(Math.abs(acc.G[i * f + j] - g)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(g)));
      }
      for (let o = 0; o < c; o++) {
        let h = 0;
        for (let p = 0; p < P; p++) h += A[i * P + p] * Y[o * P + p];
        expect(Math.abs(acc.H[i * c + o] - h)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(h)));
      }
    }
    for (let o = 0; o < c; o++) {
      let yy = 0;
      for (let p = 0; p < P; p++) yy += Y[o * P + p] ** 2;
      expect(acc.yy[o]).toBeCloseTo(yy, 3);
    }
    expect(acc.positions).toBe(P);
  });

  it.each([
    [2, 7, 6, 3, 2, 2, 1, 1, 0, 1, 2],
    [3, 5, 9, 3, 3, 1, 2, 1, 1, 1, 1],
    [1, 4, 4, 1, 1, 1, 1, 0, 0, 1, 1],
  ])('im2col_ld (C=%i H=%i W=%i KH=%i KW=%i ...) writes one image\'s columns at its offset with the row stride', async (...geom) => {
    const k = await kernels(flavor);
    const [C, H, W, KH, KW, sh, sw, pt, pl, dh, dw] = geom;
    const OH = Math.floor((H + 2 * pt - dh * (KH - 1) - 1) / sh) + 1;
    const OW = Math.floor((W + 2 * pl - dw * (KW - 1) - 1) / sw) + 1;
    const x = Float32Array.from({ length: C * H * W }, (_, i) => i + 1);
    const ld = 3 * OH * OW;
    const rows = C * KH * KW;
    const col = k.allocF32(rows * ld);
    k.f32.fill(-7, col >> 2, (col >> 2) + rows * ld);
    const px = k.upload(x);
    k.fn.im2col_ld(px, C, H, W, KH, KW, sh, sw, pt, pl, dh, dw, OH, OW, col + OH * OW * 4, ld);
    const got = k.download(col, rows * ld);
    k.free(px, col);
    for (let c = 0; c < C; c++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const row = (c * KH + kh) * KW + kw;
      for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
        const ih = oh * sh - pt + kh * dh;
        const iw = ow * sw - pl + kw * dw;
        const want = ih >= 0 && ih < H && iw >= 0 && iw < W ? x[(c * H + ih) * W + iw] : 0;
        expect(got[row * ld + OH * OW + oh * OW + ow]).toBe(want);
      }
      // the other images' columns are untouched
      expect(got[row * ld]).toBe(-7);
      expect(got[row * ld + 2 * OH * OW]).toBe(-7);
    }
  });
});
