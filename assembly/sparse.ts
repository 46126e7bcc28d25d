// Sparse weights x dense activations (weight-stationary CSR SpMM, after Elsen et al., "Fast Sparse
// ConvNets"): Y (M x N) = W (M x K, CSR) * X (K x N, row-major) + bias[m], activation fused.
// N is cut into blocks of 16 pixels; for each block every output row runs over its non-zeros
// (k, w) and does acc[0..16) += w * X[k][n0..n0+16): one broadcast weight, one offset add, four
// vector loads and four multiply-adds per non-zero. Two output rows run together (8 independent
// accumulator chains hide the multiply-add latency; rows have different non-zero counts, so the
// longer one finishes alone).
//
// Two ways to reach the K x 16 column block of X:
//  - panel: copy it into the contiguous static PANEL (shared with gemm.ts; 64 KB = 1024 rows of 16
//    floats) where all M rows reuse it. Read in place, rows of X a feature map apart map to a
//    handful of L1 sets (56x56: a stride of 196 lines hits 16 of the 64 sets) and thrash; the
//    copy wins when the rows are dense enough to reuse each X row many times (measured: 50% zeros);
//  - in place: read X directly. Cheaper at high sparsity (no copy; some X rows go unused), and the
//    only option when K > 1024 (the block would not fit PANEL). The host picks (inPlace argument).
// The offsets in colOff are k * 64 (byte offsets of rows of the 16-float panel) either way, so they
// never depend on X's row stride; in place, each is turned into k * ldx * 4 (a shift and a multiply).
//
// The last block (N % 16 columns) is computed 16 wide on a zero-padded panel and only its valid
// columns are stored. Nothing here allocates; Y is written only in its N columns, and X is read
// only in its N columns (in place, the partial last block reads at most 60 bytes past a row,
// inside the heap's spare bytes).
import { madd, activate } from './simd';
import { PANEL } from './gemm';

/** Rows of 16 floats PANEL holds. */
const PANEL_K: usize = 1024;
const TMP = memory.data(64, 16);

// @ts-ignore: decorator
@inline function biasAt(bias: usize, m: usize): f32 {
  return bias ? load<f32>(bias + (m << 2)) : 0;
}

/** Address of the X row of a non-zero: in the panel (off = k * 64), or in place (k * ldx * 4). */
// @ts-ignore: decorator
@inline function rowAddr(xb: usize, off: usize, inPlace: bool, ldxB: usize): usize {
  return inPlace ? xb + (off >> 6) * ldxB : xb + off;
}

/** Stores 16 activated floats, or only the first nv (< 16) of them. */
// @ts-ignore: decorator
@inline function store16(yp: usize, a0: v128, a1: v128, a2: v128, a3: v128, nv: usize,
  act: i32, lo: v128, hi: v128): void {
  a0 = activate(a0, act, lo, hi);
  a1 = activate(a1, act, lo, hi);
  a2 = activate(a2, act, lo, hi);
  a3 = activate(a3, act, lo, hi);
  if (nv == 16) {
    v128.store(yp, a0); v128.store(yp, a1, 16); v128.store(yp, a2, 32); v128.store(yp, a3, 48);
    return;
  }
  v128.store(TMP, a0); v128.store(TMP, a1, 16); v128.store(TMP, a2, 32); v128.store(TMP, a3, 48);
  for (let j: usize = 0; j < nv; j++) store<f32>(yp + (j << 2), load<f32>(TMP + (j << 2)));
}

/** acc += w * 16 floats at p, for the non-zeros [j, jEnd) (byte indices) of one row. */
// @ts-ignore: decorator
@inline function row16(colOff: usize, values: usize, j: usize, jEnd: usize, xb: usize, inPlace: bool, ldxB: usize,
  yp: usize, bs: f32, nv: usize, act: i32, lo: v128, hi: v128): void {
  let a0 = f32x4.splat(bs), a1 = a0, a2 = a0, a3 = a0;
  while (j < jEnd) {
    const p = rowAddr(xb, <usize>load<u32>(colOff + j), inPlace, ldxB);
    const w = v128.load32_splat(values + j);
    a0 = madd(w, v128.load(p), a0);
    a1 = madd(w, v128.load(p, 16), a1);
    a2 = madd(w, v128.load(p, 32), a2);
    a3 = madd(w, v128.load(p, 48), a3);
    j += 4;
  }
  store16(yp, a0, a1, a2, a3, nv, act, lo, hi);
}

/** Two rows (non-zeros [ja, jaEnd) and [jb, jbEnd)) x 16 columns, into ya / yb. */
// @ts-ignore: decorator
@inline function rows2x16(colOff: usize, values: usize, ja: usize, jaEnd: usize, jb: usize, jbEnd: usize,
  xb: usize, inPlace: bool, ldxB: usize, ya: usize, yb: usize, ba: f32, bb: f32, nv: usize,
  act: i32, lo: v128, hi: v128): void {
  let a0 = f32x4.splat(ba), a1 = a0, a2 = a0, a3 = a0;
  let b0 = f32x4.splat(bb), b1 = b0, b2 = b0, b3 = b0;
  // the shared part: both rows step together
  const jaStop = ja + min<usize>(jaEnd - ja, jbEnd - jb);
  while (ja < jaStop) {
    const pa = rowAddr(xb, <usize>load<u32>(colOff + ja), inPlace, ldxB);
    const wa = v128.load32_splat(values + ja);
    const pb = rowAddr(xb, <usize>load<u32>(colOff + jb), inPlace, ldxB);
    const wb = v128.load32_splat(values + jb);
    a0 = madd(wa, v128.load(pa), a0);
    b0 = madd(wb, v128.load(pb), b0);
    a1 = madd(wa, v128.load(pa, 16), a1);
    b1 = madd(wb, v128.load(pb, 16), b1);
    a2 = madd(wa, v128.load(pa, 32), a2);
    b2 = madd(wb, v128.load(pb, 32), b2);
    a3 = madd(wa, v128.load(pa, 48), a3);
    b3 = madd(wb, v128.load(pb, 48), b3);
    ja += 4; jb += 4;
  }
  // the longer row's remainder (at most one of these loops runs)
  while (ja < jaEnd) {
    const pa = rowAddr(xb, <usize>load<u32>(colOff + ja), inPlace, ldxB);
    const wa = v128.load32_splat(values + ja);
    a0 = madd(wa, v128.load(pa), a0);
    a1 = madd(wa, v128.load(pa, 16), a1);
    a2 = madd(wa, v128.load(pa, 32), a2);
    a3 = madd(wa, v128.load(pa, 48), a3);
    ja += 4;
  }
  while (jb < jbEnd) {
    const pb = rowAddr(xb, <usize>load<u32>(colOff + jb), inPlace, ldxB);
    const wb = v128.load32_splat(values + jb);
    b0 = madd(wb, v128.load(pb), b0);
    b1 = madd(wb, v128.load(pb, 16), b1);
    b2 = madd(wb, v128.load(pb, 32), b2);
    b3 = madd(wb, v128.load(pb, 48), b3);
    jb += 4;
  }
  store16(ya, a0, a1, a2, a3, nv, act, lo, hi);
  store16(yb, b0, b1, b2, b3, nv, act, lo, hi);
}

/** All M rows over one block of nv (<= 16) columns whose X rows are at xb (panel or in place). */
// @ts-ignore: decorator
@inline function block16(rowPtr: usize, colOff: usize, values: usize, M: usize, xb: usize, inPlace: bool, ldxB: usize,
  yc: usize, ldyB: usize, nv: usize, bias: usize, act: i32, lo: v128, hi: v128): void {
  let m: usize = 0;
  for (; m + 2 <= M; m += 2) {
    const r = rowPtr + (m << 2);
    const r0 = <usize>load<u32>(r) << 2, r1 = <usize>load<u32>(r, 4) << 2, r2 = <usize>load<u32>(r, 8) << 2;
    rows2x16(colOff, values, r0, r1, r1, r2, xb, inPlace, ldxB, yc + m * ldyB, yc + (m + 1) * ldyB,
      biasAt(bias, m), biasAt(bias, m + 1), nv, act, lo, hi);
  }
  if (m < M) {
    const r = rowPtr + (m << 2);
    row16(colOff, values, <usize>load<u32>(r) << 2, <usize>load<u32>(r, 4) << 2, xb, inPlace, ldxB,
      yc + m * ldyB, biasAt(bias, m), nv, act, lo, hi);
  }
}

function blockPanel(rowPtr: usize, colOff: usize, values: usize, M: usize, yc: usize, ldyB: usize, nv: usize,
  bias: usize, act: i32, lo: v128, hi: v128): void {
  block16(rowPtr, colOff, values, M, PANEL, false, 0, yc, ldyB, nv, bias, act, lo, hi);
}

function blockInPlace(rowPtr: usize, colOff: usize, values: usize, M: usize, xb: usize, ldxB: usize,
  yc: usize, ldyB: usize, nv: usize, bias: usize, act: i32, lo: v128, hi: v128): void {
  block16(rowPtr, colOff, values, M, xb, true, ldxB, yc, ldyB, nv, bias, act, lo, hi);
}

/**
 * Y = W * X + bias with activation, W in CSR form:
 *  - rowPtr: M + 1 u32, the non-zeros of row m are entries rowPtr[m] .. rowPtr[m+1]-1;
 *  - colOff: per non-zero, k * 64 (its row k's byte offset in the 16-float panel);
 *  - values: per non-zero, the weight (f32).
 * X: K x N floats with row stride ldx; Y: M x N floats with row stride ldy (elements).
 * bias: 0 or M floats. act/p0/p1: an ACT_* code and its parameters (see simd.ts).
 * readInPlace: 1 reads X in place, 0 copies each column block into PANEL first (forced to 1 when K > 1024).
 */
export function spmm_csr(rowPtr: usize, colOff: usize, values: usize, M: usize, K: usize,
  x: usize, ldx: usize, N: usize, y: usize, ldy: usize, bias: usize, act: i32, p0: f32, p1: f32, readInPlace: i32): void {
  const ldxB = ldx << 2, ldyB = ldy << 2;
  const lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  const inPlace = readInPlace != 0 || K > PANEL_K;
  for (let n0: usize = 0; n0 < N; n0 += 16) {
    const nv = min<usize>(16, N - n0);
    const xb = x + (n0 << 2);
    const yc = y + (n0 << 2);
    if (inPlace) {
      blockInPlace(rowPtr, colOff, values, M, xb, ldxB, yc, ldyB, nv, bias, act, lo, hi);
      continue;
    }
    let s = xb, d = PANEL;
    const dEnd = PANEL + (K << 6);
    if (nv == 16) {
      while (d < dEnd) {
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
        v128.store(d, v128.load(s, 32), 32);
        v128.store(d, v128.load(s, 48), 48);
        s += ldxB; d += 64;
      }
    } else {
      const z = f32x4.splat(0);
      while (d < dEnd) {
        v128.store(d, z); v128.store(d, z, 16); v128.store(d, z, 32); v128.store(d, z, 48);
        for (let j: usize = 0; j < nv; j++) store<f32>(d + (j << 2), load<f32>(s + (j << 2)));
        s += ldxB; d += 64;
      }
    }
    blockPanel(rowPtr, colOff, values, M, yc, ldyB, nv, bias, act, lo, hi);
  }
}
