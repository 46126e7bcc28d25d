// Dense GEMM micro-kernels: C (M x N) = A (M x K) * B (K x N) + bias, then activation.
// Two shapes of the same 4x8 register tile (8 v128 accumulators: V8 has 16 xmm registers):
//  - gemm_b8: B is packed weights (Linear / Gemm), A rows are broadcast with load32_splat;
//  - gemm_a4: A is packed weights (Conv as Cout x Cin*KH*KW), B rows are activations loaded as vectors.
// K is blocked (KC, KC_A) so a panel slice stays in L1; partial sums are accumulated in C.
// Nothing here allocates: the host passes every buffer; TMP (32 bytes) and PANEL (64 KB) are static data.
import { madd, activate, activate1, storeLanes } from './simd';

export const KC: usize = 256;
/** Largest K slice of the packed-A kernels; K is split into equal slices of at most this many rows. */
export const KC_A: usize = 512;

/** The slice length that splits K into the fewest equal slices of at most KC_A rows. */
// @ts-ignore: decorator
@inline export function sliceA(K: usize): usize {
  const n = (K + KC_A - 1) / KC_A;
  return (K + n - 1) / n;
}
const MC: usize = 64;
const TMP = memory.data(32, 16);

// @ts-ignore: decorator
@inline function finishRow(c: usize, v0: v128, v1: v128, nv: usize, first: bool, last: bool,
  b0: v128, b1: v128, act: i32, lo: v128, hi: v128, p0: f32, p1: f32): void {
  if (nv == 8) {
    if (!first) { v0 = f32x4.add(v0, v128.load(c)); v1 = f32x4.add(v1, v128.load(c, 16)); }
    if (last) { v0 = activate(f32x4.add(v0, b0), act, lo, hi); v1 = activate(f32x4.add(v1, b1), act, lo, hi); }
    v128.store(c, v0); v128.store(c, v1, 16);
    return;
  }
  finishPartialRow(c, v0, v1, nv, first, last, b0, b1, act, p0, p1);
}

/**
 * finishRow for a row of fewer than 8 columns (the last panel of a row). Not inlined: the tiles
 * inline finishRow 4 times, and V8 optimizes a wasm function on a background thread once it has
 * run a while, in time roughly proportional to its size; with these rare paths inlined the panel
 * kernels were 3 kB functions whose optimized code came too late for most of a cold first run.
 */
function finishPartialRow(c: usize, v0: v128, v1: v128, nv: usize, first: bool, last: bool,
  b0: v128, b1: v128, act: i32, p0: f32, p1: f32): void {
  v128.store(TMP, f32x4.add(v0, b0)); v128.store(TMP, f32x4.add(v1, b1), 16);
  // bias is added above only when `last`; undo otherwise by re-storing raw sums
  if (!last) { v128.store(TMP, v0); v128.store(TMP, v1, 16); }
  for (let j: usize = 0; j < nv; j++) {
    let v = load<f32>(TMP + (j << 2));
    if (!first) v += load<f32>(c + (j << 2));
    if (last) v = activate1(v, act, p0, p1);
    store<f32>(c + (j << 2), v);
  }
}

/** 4 rows of A (broadcast) x one packed 8-column panel of B. */
function tile_b8_4(a: usize, lda: usize, kc: usize, b: usize, c: usize, ldc: usize, nv: usize,
  first: bool, last: bool, bias: usize, act: i32, p0: f32, p1: f32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
  for (let k: usize = 0; k < kc; k++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let av = v128.load32_splat(a0);
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
    av = v128.load32_splat(a1);
    c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
    av = v128.load32_splat(a2);
    c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
    av = v128.load32_splat(a3);
    c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
    a0 += 4; a1 += 4; a2 += 4; a3 += 4; b += 32;
  }
  let bv0 = f32x4.splat(0), bv1 = f32x4.splat(0);
  if (last && bias) { bv0 = v128.load(bias); bv1 = v128.load(bias, 16); }
  const lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  finishRow(c, c00, c01, nv, first, last, bv0, bv1, act, lo, hi, p0, p1);
  finishRow(c + ldc, c10, c11, nv, first, last, bv0, bv1, act, lo, hi, p0, p1);
  finishRow(c + 2 * ldc, c20, c21, nv, first, last, bv0, bv1, act, lo, hi, p0, p1);
  finishRow(c + 3 * ldc, c30, c31, nv, first, last, bv0, bv1, act, lo, hi, p0, p1);
}

/** 1 row of A x one packed 8-column panel of B (the M % 4 tail, and batch-1 Linear). */
function tile_b8_1(a: usize, kc: usize, b: usize, c: usize, nv: usize,
  first: bool, last: bool, bias: usize, act: i32, p0: f32, p1: f32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), d00 = f32x4.splat(0), d01 = f32x4.splat(0);
  let k: usize = 0;
  // two independent accumulator pairs hide the add latency of a single chain
  for (; k + 2 <= kc; k += 2) {
    const av = v128.load32_splat(a), aw = v128.load32_splat(a, 4);
    c00 = madd(av, v128.load(b), c00); c01 = madd(av, v128.load(b, 16), c01);
    d00 = madd(aw, v128.load(b, 32), d00); d01 = madd(aw, v128.load(b, 48), d01);
    a += 8; b += 64;
  }
  if (k < kc) {
    const av = v128.load32_splat(a);
    c00 = madd(av, v128.load(b), c00); c01 = madd(av, v128.load(b, 16), c01);
  }
  c00 = f32x4.add(c00, d00); c01 = f32x4.add(c01, d01);
  let bv0 = f32x4.splat(0), bv1 = f32x4.splat(0);
  if (last && bias) { bv0 = v128.load(bias); bv1 = v128.load(bias, 16); }
  finishRow(c, c00, c01, nv, first, last, bv0, bv1, act, f32x4.splat(p0), f32x4.splat(p1), p0, p1);
}

/**
 * C = A * Bpacked (+ bias[N]) with activation. A: M x K floats with row stride lda (elements).
 * bp: pack_b8 output. bias: 0 or ceil(N/8)*8 floats. C: row stride ldc (elements).
 */
export function gemm_b8(a: usize, lda: usize, M: usize, N: usize, K: usize, bp: usize,
  c: usize, ldc: usize, bias: usize, act: i32, p0: f32, p1: f32): void {
  const ldaB = lda << 2, ldcB = ldc << 2;
  for (let k0: usize = 0; k0 < K; k0 += KC) {
    const kc = min<usize>(KC, K - k0);
    const first = k0 == 0, last = k0 + kc >= K;
    // MC rows of A (MC x KC = 64 KB) stay in L2 while every 8-column panel of B passes through L1
    for (let i0: usize = 0; i0 < M; i0 += MC) {
      const iEnd = min<usize>(M, i0 + MC);
      for (let j0: usize = 0; j0 < N; j0 += 8) {
        const panel = bp + ((j0 * K + k0 * 8) << 2);
        const nv = min<usize>(8, N - j0);
        const bj = bias ? bias + (j0 << 2) : 0;
        let i = i0;
        for (; i + 4 <= iEnd; i += 4) {
          tile_b8_4(a + i * ldaB + (k0 << 2), ldaB, kc, panel, c + i * ldcB + (j0 << 2), ldcB, nv,
            first, last, bj, act, p0, p1);
        }
        for (; i < iEnd; i++) {
          tile_b8_1(a + i * ldaB + (k0 << 2), kc, panel, c + i * ldcB + (j0 << 2), nv, first, last, bj, act, p0, p1);
        }
      }
    }
  }
}

// ---- packed-A (weights) x row-major B (activations) -------------------------------------------

// @ts-ignore: decorator
@inline function finishRowsA(c: usize, ldc: usize, mv: usize, r: usize, v0: v128, v1: v128, nv: usize,
  first: bool, last: bool, bias: usize, act: i32, lo: v128, hi: v128, p0: f32, p1: f32): void {
  if (r >= mv) return;
  let bv = f32x4.splat(0);
  if (last && bias) bv = v128.load32_splat(bias + (r << 2));
  finishRow(c + r * ldc, v0, v1, nv, first, last, bv, bv, act, lo, hi, p0, p1);
}

/** 4 packed weight rows x 8 activation columns, B packed as kc rows of 8 (a PANEL). */
export function tile_a4_8(w: usize, kc: usize, b: usize, c: usize, ldc: usize, mv: usize, nv: usize,
  first: bool, last: bool, bias: usize, act: i32, p0: f32, p1: f32): void {
  tileA4x8(w, kc, b, c, ldc, mv, nv, first, last, bias, act, p0, p1);
}

/**
 * Every 4-row weight panel of A over `nsub` consecutive packed B panels (columns 8s..8s+7 of C
 * for panel s): one call per K slice and column block of gemm_a4. A function of its own (exported
 * so binaryen does not inline it into gemm_a4): V8 first runs wasm in baseline (Liftoff) code and
 * swaps in optimized code only for calls made after a function tiers up, so a layer made of many
 * calls gets the fast code part-way through its first run, where one big function would not.
 */
export function panels_a4_8(ap: usize, M: usize, K: usize, k0: usize, kc: usize, b: usize, nsub: usize, c: usize, ldcB: usize,
  nvLast: usize, first: bool, last: bool, bias: usize, act: i32, p0: f32, p1: f32): void {
  const panelB = kc << 5;
  for (let i0: usize = 0; i0 < M; i0 += 4) {
    const w = ap + ((i0 * K + k0 * 4) << 2);
    const ci = c + i0 * ldcB;
    const mv = min<usize>(4, M - i0);
    const bi = bias ? bias + (i0 << 2) : 0;
    for (let s: usize = 0; s < nsub; s++) {
      tileA4x8(w, kc, b + s * panelB, ci + (s << 5), ldcB, mv, s + 1 == nsub ? nvLast : 8, first, last, bi, act, p0, p1);
    }
  }
}

// @ts-ignore: decorator
@inline function tileA4x8(w: usize, kc: usize, b: usize, c: usize, ldc: usize, mv: usize, nv: usize,
  first: bool, last: bool, bias: usize, act: i32, p0: f32, p1: f32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const bEnd = b + (kc << 5);
  while (b < bEnd) { // one induction variable fewer than a k counter
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let wv = v128.load32_splat(w);
    c00 = madd(wv, b0, c00); c01 = madd(wv, b1, c01);
    wv = v128.load32_splat(w, 4);
    c10 = madd(wv, b0, c10); c11 = madd(wv, b1, c11);
    wv = v128.load32_splat(w, 8);
    c20 = madd(wv, b0, c20); c21 = madd(wv, b1, c21);
    wv = v128.load32_splat(w, 12);
    c30 = madd(wv, b0, c30); c31 = madd(wv, b1, c31);
    w += 16; b += 32;
  }
  const lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  finishRowsA(c, ldc, mv, 0, c00, c01, nv, first, last, bias, act, lo, hi, p0, p1);
  finishRowsA(c, ldc, mv, 1, c10, c11, nv, first, last, bias, act, lo, hi, p0, p1);
  finishRowsA(c, ldc, mv, 2, c20, c21, nv, first, last, bias, act, lo, hi, p0, p1);
  finishRowsA(c, ldc, mv, 3, c30, c31, nv, first, last, bias, act, lo, hi, p0, p1);
}

/**
 * C (M x N) = Apacked (M x K) * B (K x N, row stride ldb) (+ bias[M]) with activation.
 * ap: pack_a4 output. bias: 0 or ceil(M/4)*4 floats. C: row stride ldc (elements).
 */
export function gemm_a4(ap: usize, M: usize, K: usize, b: usize, ldb: usize, N: usize,
  c: usize, ldc: usize, bias: usize, act: i32, p0: f32, p1: f32): void {
  const ldbB = ldb << 2, ldcB = ldc << 2;
  const KS = sliceA(K);
  for (let k0: usize = 0; k0 < K; k0 += KS) {
    const kc = min<usize>(KS, K - k0);
    const first = k0 == 0, last = k0 + kc >= K;
    // As many 8-column panels as fit in PANEL (up to PANEL_SUB) are packed together: each weight
    // panel then runs over all of them, and each visit to the (page-scattered) rows of B and C
    // covers up to PANEL_SUB * 32 contiguous bytes.
    const sub = max<usize>(1, min<usize>(PANEL_SUB, PANEL_ROWS / kc));
    for (let j0: usize = 0; j0 < N; j0 += sub * 8) {
      // Copy KC x 8 slices of B into contiguous panels: B rows are often a whole feature map
      // apart, a stride that maps every row to the same few L1 sets and thrashes them.
      const jn = min<usize>(N, j0 + sub * 8);
      for (let j = j0; j < jn; j += 8) {
        pack_panel8(PANEL + ((j - j0) * kc << 2), b + k0 * ldbB + (j << 2), ldbB, kc, min<usize>(8, jn - j));
      }
      const nsub = (jn - j0 + 7) >> 3;
      const nvLast = jn - j0 - ((nsub - 1) << 3);
      panels_a4_8(ap, M, K, k0, kc, PANEL, nsub, c + (j0 << 2), ldcB, nvLast, first, last, bias, act, p0, p1);
    }
  }
}

/**
 * y (M) = Apacked (M x K) x (K floats) (+ bias[M]) with activation: gemm_a4 for one column (a 1x1
 * conv on a 1x1 map, the squeeze-and-excitation layers of MobileNetV3 and EfficientNet), which
 * would pack every K slice of x into 8-column panels of which 7 columns are zeros. Four weight
 * rows a vector (the pack_a4 layout), four chains over k. bias: 0 or ceil(M/4)*4 floats.
 */
export function gemv_a4(ap: usize, M: usize, K: usize, x: usize, y: usize, bias: usize, act: i32, p0: f32, p1: f32): void {
  const lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  let w = ap;
  for (let i0: usize = 0; i0 < M; i0 += 4) {
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    let k: usize = 0;
    for (; k + 4 <= K; k += 4) {
      const xk = x + (k << 2);
      a0 = madd(v128.load(w), v128.load32_splat(xk), a0);
      a1 = madd(v128.load(w, 16), v128.load32_splat(xk, 4), a1);
      a2 = madd(v128.load(w, 32), v128.load32_splat(xk, 8), a2);
      a3 = madd(v128.load(w, 48), v128.load32_splat(xk, 12), a3);
      w += 64;
    }
    for (; k < K; k++) {
      a0 = madd(v128.load(w), v128.load32_splat(x + (k << 2)), a0);
      w += 16;
    }
    let v = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
    if (bias) v = f32x4.add(v, v128.load(bias + (i0 << 2)));
    storeLanes(y + (i0 << 2), activate(v, act, lo, hi), <i32>min<usize>(4, M - i0));
  }
}

/** Static panels of B (KC_A x 8 x PANEL_SUB floats, 64 KB) shared by gemm_a4 and the conv kernels: static data, not an allocation. */
const PANEL_SUB: usize = 4;
const PANEL_ROWS: usize = KC_A * PANEL_SUB;
export const PANEL: usize = memory.data(<i32>(KC_A * 32 * PANEL_SUB), 64);

/** Copies kc rows of nv (<= 8) floats, rows ldbB bytes apart, into a panel at d, zero-filling columns nv..7. */
// @ts-ignore: decorator
@inline function pack_panel8(d: usize, src: usize, ldbB: usize, kc: usize, nv: usize): void {
  if (nv == 8) {
    for (let k: usize = 0; k < kc; k++) {
      v128.store(d, v128.load(src));
      v128.store(d, v128.load(src, 16), 16);
      src += ldbB; d += 32;
    }
    return;
  }
  for (let k: usize = 0; k < kc; k++) {
    v128.store(d, f32x4.splat(0));
    v128.store(d, f32x4.splat(0), 16);
    for (let j: usize = 0; j < nv; j++) store<f32>(d + (j << 2), load<f32>(src + (j << 2)));
    src += ldbB; d += 32;
  }
}
