// int8-weight GEMM kernels: int8 weights (symmetric, one scale per output channel) times float
// activations that are quantized on the fly to int16, multiplied with i32x4.dot_i16x8_s
// (8 multiply-adds per instruction, exact in i32) and scaled back to float once per K slice:
//     y[m][n] = sw[m] · sx[n] · Σ_k q[m][k] · xq[k][n]   (+ bias, activation)
// The activation scale sx is taken per output column (qgemm_a4: per pixel) or per input row
// (qgemm_b8: per batch row) and per K slice: sx = max_k |x| / 32767 over the slice, so each
// activation is off by at most sx / 2 (≈ 1.5e-5 of the largest one), far below the weights' int8
// step. Overflow cannot happen: a slice has at most QKP = 256 pairs, and
// 256 · 2 · 127 · 32768 < 2^31. A NaN activation makes its column's (row's) outputs NaN.
//
// Two shapes, the same as the float kernels in gemm.ts:
//  - qgemm_a4: Y[M x N] = W[M x K] · X[K x N] (1x1 conv over pixels, conv over im2col columns),
//    W packed as int16 pairs [ceil(M/4)][ceil(K/2)][4 rows][2 k] (pre-widened: the 4 per-row
//    splats are plain loads), X quantized slice by slice into a static panel of int16 pairs.
//  - qgemm_b8: C[M x N] = A[M x K] · W (Linear; batch-1 is a GEMV), W packed as int8 pairs
//    [ceil(N/8)][ceil(K/2)][8 cols][2 k] (1 byte per weight, widened by v128.load8x8_s), A rows
//    quantized into a static buffer.
// The host (src/kernels/quant.ts) packs the weights; nothing here allocates.
import { activate, activate1, madd } from './simd';

/** Most k pairs in one slice (see the overflow bound above). */
const QKP: usize = 256;
const QMAX: f32 = 32767;

/** Static scratch: quantized X panels (QSUB panels of QKP pairs x 8 columns x 2 int16 = 32 KB), their column scales. */
const QSUB: usize = 4;
const QPANEL: usize = memory.data(<i32>(QSUB * QKP * 32), 64);
const QSCALE: usize = memory.data(<i32>(QSUB * 8 * 4), 16);
/** Static scratch: quantized A rows (QMC rows x QKP pairs x 2 int16 = 64 KB) and their scales. */
const QMC: usize = 64;
const QA: usize = memory.data(<i32>(QMC * QKP * 4), 64);
const QAS: usize = memory.data(<i32>(QMC * 4), 16);
const QTMP: usize = memory.data(64, 16);

/** Pairs per slice that split `kp` pairs into the fewest equal slices of at most QKP. */
// @ts-ignore: decorator
@inline function slicePairs(kp: usize): usize {
  const n = (kp + QKP - 1) / QKP;
  return (kp + n - 1) / n;
}

/**
 * round(x · inv) as int32 lanes, half to even, for |x · inv| ≤ 32767 (what the scales ensure):
 * adding 1.5 · 2^23 leaves the rounded integer in the low mantissa bits, so one add and one
 * integer subtract replace nearest + trunc_sat (which V8 lowers to a fix-up sequence on x64).
 * A NaN lane gives garbage, but its column's scale is NaN too, so its outputs are NaN anyway.
 */
// @ts-ignore: decorator
@inline function quant4(x: v128, inv: v128): v128 {
  return i32x4.sub(madd(x, inv, f32x4.splat(12582912.0)), i32x4.splat(0x4b400000));
}

/** [a0 a1 a2 a3] and [b0 b1 b2 b3] (int32) → int16 pairs [a0 b0 a1 b1 a2 b2 a3 b3] (saturating). */
// @ts-ignore: decorator
@inline function pairs(a: v128, b: v128): v128 {
  const n = i16x8.narrow_i32x4_s(a, b);
  return i8x16.shuffle(n, n, 0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15);
}

/** The scale of a max |x| and its inverse: (m / 32767, 32767 / m), and (0, 0) when m == 0. */
// @ts-ignore: decorator
@inline function scaleOf(m: v128): v128 {
  return f32x4.div(m, f32x4.splat(QMAX));
}
// @ts-ignore: decorator
@inline function invOf(m: v128): v128 {
  // m == 0: every x is 0 and any inverse works; 0 keeps 0 · inv away from 0 · Inf = NaN
  const inv = f32x4.div(f32x4.splat(QMAX), m);
  return v128.and(inv, f32x4.ne(m, f32x4.splat(0)));
}

// ---- X (K x N, row-major) → int16 pair panels ---------------------------------------------------

/**
 * Quantizes rows [0, krows) x columns [0, nv) of X (rows ldB bytes apart) into a panel of kpc
 * pairs x 8 columns of int16 pairs at d (rows krows..2·kpc-1 and columns nv..7 are zeros), and
 * the 8 column scales at sc.
 */
function qpanel8(d: usize, sc: usize, src: usize, ldB: usize, krows: usize, kpc: usize, nv: usize): void {
  const zero = f32x4.splat(0);
  let m0 = zero, m1 = zero;
  if (nv == 8) {
    for (let k: usize = 0, p = src; k < krows; k++, p += ldB) {
      m0 = f32x4.max(m0, f32x4.abs(v128.load(p)));
      m1 = f32x4.max(m1, f32x4.abs(v128.load(p, 16)));
    }
  } else {
    for (let k: usize = 0, p = src; k < krows; k++, p += ldB) {
      rowCopy(QTMP, p, nv);
      m0 = f32x4.max(m0, f32x4.abs(v128.load(QTMP)));
      m1 = f32x4.max(m1, f32x4.abs(v128.load(QTMP, 16)));
    }
  }
  v128.store(sc, scaleOf(m0));
  v128.store(sc, scaleOf(m1), 16);
  const i0 = invOf(m0), i1 = invOf(m1);
  const full = krows >> 1; // pairs with both rows present
  let p = src;
  if (nv == 8) {
    for (let kp: usize = 0; kp < full; kp++) {
      const r0 = p, r1 = p + ldB;
      v128.store(d, pairs(quant4(v128.load(r0), i0), quant4(v128.load(r1), i0)));
      v128.store(d, pairs(quant4(v128.load(r0, 16), i1), quant4(v128.load(r1, 16), i1)), 16);
      p += ldB << 1; d += 32;
    }
    if (full < kpc) {
      if (krows & 1) {
        v128.store(d, pairs(quant4(v128.load(p), i0), i32x4.splat(0)));
        v128.store(d, pairs(quant4(v128.load(p, 16), i1), i32x4.splat(0)), 16);
      } else {
        v128.store(d, i32x4.splat(0));
        v128.store(d, i32x4.splat(0), 16);
      }
      d += 32;
      for (let kp = full + 1; kp < kpc; kp++, d += 32) {
        v128.store(d, i32x4.splat(0));
        v128.store(d, i32x4.splat(0), 16);
      }
    }
    return;
  }
  // a partial panel: each row goes through a zero-padded 8-float copy
  for (let kp: usize = 0; kp < kpc; kp++) {
    const k = kp << 1;
    rowCopy(QTMP, p, k < krows ? nv : 0);
    rowCopy(QTMP + 32, p + ldB, k + 1 < krows ? nv : 0);
    v128.store(d, pairs(quant4(v128.load(QTMP), i0), quant4(v128.load(QTMP + 32), i0)));
    v128.store(d, pairs(quant4(v128.load(QTMP, 16), i1), quant4(v128.load(QTMP + 32, 16), i1)), 16);
    p += ldB << 1; d += 32;
  }
}

/** 8 floats at d: the first n from src, the rest zero. */
// @ts-ignore: decorator
@inline function rowCopy(d: usize, src: usize, n: usize): void {
  v128.store(d, f32x4.splat(0));
  v128.store(d, f32x4.splat(0), 16);
  for (let j: usize = 0; j < n; j++) store<f32>(d + (j << 2), load<f32>(src + (j << 2)));
}

// ---- epilogue ---------------------------------------------------------------------------------

/** Adds (or stores, on the first slice) 8 finished floats v0|v1 at c, bias and activation on the last slice. */
// @ts-ignore: decorator
@inline function finish8(c: usize, v0: v128, v1: v128, nv: usize, first: bool, last: bool,
  b0: v128, b1: v128, act: i32, lo: v128, hi: v128, p0: f32, p1: f32): void {
  if (nv == 8) {
    if (!first) { v0 = f32x4.add(v0, v128.load(c)); v1 = f32x4.add(v1, v128.load(c, 16)); }
    if (last) { v0 = activate(f32x4.add(v0, b0), act, lo, hi); v1 = activate(f32x4.add(v1, b1), act, lo, hi); }
    v128.store(c, v0); v128.store(c, v1, 16);
    return;
  }
  if (last) { v0 = f32x4.add(v0, b0); v1 = f32x4.add(v1, b1); }
  v128.store(QTMP, v0); v128.store(QTMP, v1, 16);
  for (let j: usize = 0; j < nv; j++) {
    let v = load<f32>(QTMP + (j << 2));
    if (!first) v += load<f32>(c + (j << 2));
    if (last) v = activate1(v, act, p0, p1);
    store<f32>(c + (j << 2), v);
  }
}

// ---- qgemm_a4: packed int8 weights x activation columns ----------------------------------------

/** 4 weight rows x 8 columns over kpc pairs; s0|s1 = the 8 column scales. */
// @ts-ignore: decorator
@inline function tileQ4x8(w: usize, sw: usize, kpc: usize, b: usize, s0: v128, s1: v128, c: usize, ldcB: usize, mv: usize, nv: usize,
  first: bool, last: bool, bias: usize, act: i32, p0: f32, p1: f32): void {
  let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a10 = i32x4.splat(0), a11 = i32x4.splat(0);
  let a20 = i32x4.splat(0), a21 = i32x4.splat(0), a30 = i32x4.splat(0), a31 = i32x4.splat(0);
  const bEnd = b + (kpc << 5);
  while (b < bEnd) {
    const x0 = v128.load(b), x1 = v128.load(b, 16);
    let wv = v128.load32_splat(w);
    a00 = i32x4.add(a00, i32x4.dot_i16x8_s(wv, x0)); a01 = i32x4.add(a01, i32x4.dot_i16x8_s(wv, x1));
    wv = v128.load32_splat(w, 4);
    a10 = i32x4.add(a10, i32x4.dot_i16x8_s(wv, x0)); a11 = i32x4.add(a11, i32x4.dot_i16x8_s(wv, x1));
    wv = v128.load32_splat(w, 8);
    a20 = i32x4.add(a20, i32x4.dot_i16x8_s(wv, x0)); a21 = i32x4.add(a21, i32x4.dot_i16x8_s(wv, x1));
    wv = v128.load32_splat(w, 12);
    a30 = i32x4.add(a30, i32x4.dot_i16x8_s(wv, x0)); a31 = i32x4.add(a31, i32x4.dot_i16x8_s(wv, x1));
    w += 16; b += 32;
  }
  const lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  rowA(c, sw, 0, mv, a00, a01, s0, s1, nv, first, last, bias, act, lo, hi, p0, p1);
  rowA(c + ldcB, sw, 1, mv, a10, a11, s0, s1, nv, first, last, bias, act, lo, hi, p0, p1);
  rowA(c + 2 * ldcB, sw, 2, mv, a20, a21, s0, s1, nv, first, last, bias, act, lo, hi, p0, p1);
  rowA(c + 3 * ldcB, sw, 3, mv, a30, a31, s0, s1, nv, first, last, bias, act, lo, hi, p0, p1);
}

// @ts-ignore: decorator
@inline function rowA(c: usize, sw: usize, r: usize, mv: usize, a0: v128, a1: v128, s0: v128, s1: v128, nv: usize,
  first: bool, last: bool, bias: usize, act: i32, lo: v128, hi: v128, p0: f32, p1: f32): void {
  if (r >= mv) return;
  const s = v128.load32_splat(sw + (r << 2));
  const v0 = f32x4.mul(f32x4.convert_i32x4_s(a0), f32x4.mul(s, s0));
  const v1 = f32x4.mul(f32x4.convert_i32x4_s(a1), f32x4.mul(s, s1));
  let bv = f32x4.splat(0);
  if (last && bias) bv = v128.load32_splat(bias + (r << 2));
  finish8(c, v0, v1, nv, first, last, bv, bv, act, lo, hi, p0, p1);
}

/**
 * Y (M x N, row stride ldy) = diag(sw) · W (M x K, int8) · X (K x N, row stride ldx) (+ bias[M]),
 * activation. wp: int16 pairs [ceil(M/4)][ceil(K/2)][4][2]; sw, bias: ceil(M/4)·4 floats (bias 0 = none).
 */
export function qgemm_a4(wp: usize, sw: usize, M: usize, K: usize, x: usize, ldx: usize, N: usize,
  y: usize, ldy: usize, bias: usize, act: i32, p0: f32, p1: f32): void {
  const ldxB = ldx << 2, ldyB = ldy << 2;
  const KP = (K + 1) >> 1;
  const SP = slicePairs(KP);
  for (let kp0: usize = 0; kp0 < KP; kp0 += SP) {
    const kpc = min<usize>(SP, KP - kp0);
    const first = kp0 == 0, last = kp0 + kpc >= KP;
    const k0 = kp0 << 1;
    const krows = min<usize>(kpc << 1, K - k0);
    const sub = max<usize>(1, min<usize>(QSUB, (QSUB * QKP) / kpc));
    for (let j0: usize = 0; j0 < N; j0 += sub << 3) {
      const jn = min<usize>(N, j0 + (sub << 3));
      const nsub = (jn - j0 + 7) >> 3;
      for (let s: usize = 0; s < nsub; s++) {
        const j = j0 + (s << 3);
        qpanel8(QPANEL + s * (kpc << 5), QSCALE + (s << 5), x + k0 * ldxB + (j << 2), ldxB, krows, kpc, min<usize>(8, jn - j));
      }
      for (let i0: usize = 0; i0 < M; i0 += 4) {
        const w = wp + ((i0 * KP + (kp0 << 2)) << 2);
        const mv = min<usize>(4, M - i0);
        const bi = bias ? bias + (i0 << 2) : 0;
        for (let s: usize = 0; s < nsub; s++) {
          const sc = QSCALE + (s << 5);
          tileQ4x8(w, sw + (i0 << 2), kpc, QPANEL + s * (kpc << 5), v128.load(sc), v128.load(sc, 16),
            y + i0 * ldyB + ((j0 + (s << 3)) << 2), ldyB, mv, min<usize>(8, jn - j0 - (s << 3)), first, last, bi, act, p0, p1);
        }
      }
    }
  }
}

// ---- qgemm_b8: activation rows x packed int8 weights (Linear) -----------------------------------

/** Quantizes krows floats at src into 2·kpc int16 at d (zero padded), the row's scale at sc. */
function qrow(d: usize, sc: usize, src: usize, krows: usize, kpc: usize): void {
  let m = f32x4.splat(0);
  let k: usize = 0;
  for (; k + 4 <= krows; k += 4) m = f32x4.max(m, f32x4.abs(v128.load(src + (k << 2))));
  for (; k < krows; k++) m = f32x4.max(m, f32x4.abs(v128.load32_splat(src + (k << 2))));
  // horizontal max (NaN-propagating)
  m = f32x4.max(m, v128.shuffle<f32>(m, m, 2, 3, 0, 1));
  m = f32x4.max(m, v128.shuffle<f32>(m, m, 1, 0, 3, 2));
  store<f32>(sc, f32x4.extract_lane(scaleOf(m), 0));
  const inv = invOf(m);
  k = 0;
  for (; k + 8 <= krows; k += 8) {
    const a = quant4(v128.load(src + (k << 2)), inv);
    const b = quant4(v128.load(src + (k << 2), 16), inv);
    v128.store(d + (k << 1), i16x8.narrow_i32x4_s(a, b));
  }
  for (; k < krows; k++) {
    const q = i32x4.extract_lane(quant4(v128.load32_splat(src + (k << 2)), inv), 0);
    store<i16>(d + (k << 1), <i16>(q > 32767 ? 32767 : q < -32767 ? -32767 : q));
  }
  for (; k < (kpc << 1); k++) store<i16>(d + (k << 1), 0);
}

/** 4 quantized A rows (rowB bytes apart, scales at as) x one 8-column int8 panel over kpc pairs. */
// @ts-ignore: decorator
@inline function tileB8x4(a: usize, rowB: usize, as: usize, kpc: usize, b: usize, s0: v128, s1: v128, c: usize, ldcB: usize, nv: usize,
  first: bool, last: bool, b0: v128, b1: v128, act: i32, p0: f32, p1: f32): void {
  let a00 = i32x4.splat(0), a01 = i32x4.splat(0), a10 = i32x4.splat(0), a11 = i32x4.splat(0);
  let a20 = i32x4.splat(0), a21 = i32x4.splat(0), a30 = i32x4.splat(0), a31 = i32x4.splat(0);
  const r1 = a + rowB, r2 = a + 2 * rowB, r3 = a + 3 * rowB;
  for (let kp: usize = 0; kp < kpc; kp++) {
    const w0 = v128.load8x8_s(b), w1 = v128.load8x8_s(b, 8);
    const o = kp << 2;
    let xv = v128.load32_splat(a + o);
    a00 = i32x4.add(a00, i32x4.dot_i16x8_s(xv, w0)); a01 = i32x4.add(a01, i32x4.dot_i16x8_s(xv, w1));
    xv = v128.load32_splat(r1 + o);
    a10 = i32x4.add(a10, i32x4.dot_i16x8_s(xv, w0)); a11 = i32x4.add(a11, i32x4.dot_i16x8_s(xv, w1));
    xv = v128.load32_splat(r2 + o);
    a20 = i32x4.add(a20, i32x4.dot_i16x8_s(xv, w0)); a21 = i32x4.add(a21, i32x4.dot_i16x8_s(xv, w1));
    xv = v128.load32_splat(r3 + o);
    a30 = i32x4.add(a30, i32x4.dot_i16x8_s(xv, w0)); a31 = i32x4.add(a31, i32x4.dot_i16x8_s(xv, w1));
    b += 16;
  }
  const lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  rowB8(c, as, a00, a01, s0, s1, nv, first, last, b0, b1, act, lo, hi, p0, p1);
  rowB8(c + ldcB, as + 4, a10, a11, s0, s1, nv, first, last, b0, b1, act, lo, hi, p0, p1);
  rowB8(c + 2 * ldcB, as + 8, a20, a21, s0, s1, nv, first, last, b0, b1, act, lo, hi, p0, p1);
  rowB8(c + 3 * ldcB, as + 12, a30, a31, s0, s1, nv, first, last, b0, b1, act, lo, hi, p0, p1);
}

/** One quantized A row x one panel: two accumulator pairs over alternate pairs hide the add latency. */
// @ts-ignore: decorator
@inline function tileB8x1(a: usize, as: usize, kpc: usize, b: usize, s0: v128, s1: v128, c: usize, nv: usize,
  first: bool, last: bool, b0: v128, b1: v128, act: i32, p0: f32, p1: f32): void {
  let a00 = i32x4.splat(0), a01 = i32x4.splat(0), d00 = i32x4.splat(0), d01 = i32x4.splat(0);
  let kp: usize = 0;
  for (; kp + 2 <= kpc; kp += 2) {
    const xv = v128.load32_splat(a), xw = v128.load32_splat(a, 4);
    a00 = i32x4.add(a00, i32x4.dot_i16x8_s(xv, v128.load8x8_s(b)));
    a01 = i32x4.add(a01, i32x4.dot_i16x8_s(xv, v128.load8x8_s(b, 8)));
    d00 = i32x4.add(d00, i32x4.dot_i16x8_s(xw, v128.load8x8_s(b, 16)));
    d01 = i32x4.add(d01, i32x4.dot_i16x8_s(xw, v128.load8x8_s(b, 24)));
    a += 8; b += 32;
  }
  if (kp < kpc) {
    const xv = v128.load32_splat(a);
    a00 = i32x4.add(a00, i32x4.dot_i16x8_s(xv, v128.load8x8_s(b)));
    a01 = i32x4.add(a01, i32x4.dot_i16x8_s(xv, v128.load8x8_s(b, 8)));
  }
  rowB8(c, as, i32x4.add(a00, d00), i32x4.add(a01, d01), s0, s1, nv, first, last, b0, b1, act, f32x4.splat(p0), f32x4.splat(p1), p0, p1);
}

// @ts-ignore: decorator
@inline function rowB8(c: usize, as: usize, a0: v128, a1: v128, s0: v128, s1: v128, nv: usize, first: bool, last: bool,
  b0: v128, b1: v128, act: i32, lo: v128, hi: v128, p0: f32, p1: f32): void {
  const s = v128.load32_splat(as);
  const v0 = f32x4.mul(f32x4.convert_i32x4_s(a0), f32x4.mul(s, s0));
  const v1 = f32x4.mul(f32x4.convert_i32x4_s(a1), f32x4.mul(s, s1));
  finish8(c, v0, v1, nv, first, last, b0, b1, act, lo, hi, p0, p1);
}

/**
 * C (M x N, row stride ldc) = A (M x K floats, row stride lda) · W (K x N int8) · diag(sw)
 * (+ bias[N]), activation. bp: int8 pairs [ceil(N/8)][ceil(K/2)][8][2]; sw, bias: ceil(N/8)·8
 * floats (bias 0 = none).
 */
export function qgemm_b8(a: usize, lda: usize, M: usize, N: usize, K: usize, bp: usize, sw: usize,
  c: usize, ldc: usize, bias: usize, act: i32, p0: f32, p1: f32): void {
  const ldaB = lda << 2, ldcB = ldc << 2;
  const KP = (K + 1) >> 1;
  const SP = slicePairs(KP);
  for (let kp0: usize = 0; kp0 < KP; kp0 += SP) {
    const kpc = min<usize>(SP, KP - kp0);
    const first = kp0 == 0, last = kp0 + kpc >= KP;
    const k0 = kp0 << 1;
    const krows = min<usize>(kpc << 1, K - k0);
    const rowB = kpc << 2;
    for (let i0: usize = 0; i0 < M; i0 += QMC) {
      const rows = min<usize>(QMC, M - i0);
      for (let r: usize = 0; r < rows; r++) qrow(QA + r * rowB, QAS + (r << 2), a + (i0 + r) * ldaB + (k0 << 2), krows, kpc);
      for (let j0: usize = 0; j0 < N; j0 += 8) {
        const panel = bp + ((j0 * KP + (kp0 << 3)) << 1);
        const nv = min<usize>(8, N - j0);
        const s0 = v128.load(sw + (j0 << 2)), s1 = v128.load(sw + (j0 << 2), 16);
        let b0 = f32x4.splat(0), b1 = f32x4.splat(0);
        if (last && bias) { b0 = v128.load(bias + (j0 << 2)); b1 = v128.load(bias + (j0 << 2), 16); }
        const cj = c + i0 * ldcB + (j0 << 2);
        let r: usize = 0;
        for (; r + 4 <= rows; r += 4) {
          tileB8x4(QA + r * rowB, rowB, QAS + (r << 2), kpc, panel, s0, s1, cj + r * ldcB, ldcB, nv, first, last, b0, b1, act, p0, p1);
        }
        for (; r < rows; r++) {
          tileB8x1(QA + r * rowB, QAS + (r << 2), kpc, panel, s0, s1, cj + r * ldcB, nv, first, last, b0, b1, act, p0, p1);
        }
      }
    }
  }
}
