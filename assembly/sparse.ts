// Sparse weights x dense activations (weight-stationary SpMM, after Elsen et al., "Fast Sparse
// ConvNets"): Y (M x N) = W (M x K, sparse) * X (K x N, row-major) + bias[m], activation fused.
// This file holds the CSR kernel and the pieces the block (sparse_block.ts) and N:M
// (sparse_nm.ts) kernels share. Every kernel keeps its accumulators in registers over a block of
// pixels and, per non-zero, does one broadcast of the weight, one address add and one vector load
// plus one multiply-add per 4 pixels of the block. The CSR records (u32 offset, f32 weight) are
// read with one 8-byte load each (recordWeight in simd.ts).
//
// What the inner loops compile to (V8 TurboFan, x64; checked with node --print-wasm-code) decides
// the shapes:
//  - V8 keeps 15 xmm registers. Within a basic block it issues every load before the multiply-adds
//    that use them, so a loop body with L vector loads and A accumulators needs L + A + 1 registers
//    or it spills, and a spilled accumulator puts a store/reload on the multiply-add chain (that
//    made the first version of this kernel run at half speed).
//  - A multiply-add has 4 cycles of latency, so fewer than ~7 independent accumulators leave the
//    FMA units idle; and loads, not multiply-adds, bound these loops (about 2 vector loads per
//    cycle), so wider blocks (fewer weight/offset loads per multiply-add) are faster.
//  - Each loop exit test is a basic-block boundary: loads after it are not hoisted above it.
// Hence two kernels:
//  - panel (denser weights; the only one of the block and N:M formats): blocks of 28 pixels (7
//    vectors: 7 accumulators + 7 loads + the weight = 15 registers, the widest one-row loop that
//    does not spill) of X are copied, a chunk of the host's K_CHUNK (192) rows of K at a time, into
//    contiguous panels small enough to stay in L1 (the rows of Y carry the partial sums between
//    chunks). As many adjacent blocks as PANEL holds, up to 4 (3 at 192 rows), are copied per visit
//    to a row of X (336-448 contiguous bytes): X streams from
//    memory, and longer runs per row stream faster. Read in place, rows of X a feature map apart
//    map to a few L1 sets and one TLB entry each, and are re-read from L2 for every non-zero.
//  - in place (CSR on sparser weights, or fewer than 28 columns): blocks of 16 pixels (one cache
//    line per row of X) read where they are, two output rows at a time (8 accumulators; each row's
//    own exit test splits the body into halves of 4 loads). With few non-zeros per row the panel
//    copy is not paid back; one line per row access measured faster in place than 28 or 32 pixels.
// Offsets in the non-zero stream are pre-scaled by the host: (k - chunk start) * PANEL_ROW_BYTES for
// the panel kernel, (k - chunk start) * ldx * 4 in place, so the inner loop only adds.
//
// Partial blocks (N not a multiple of the block) are computed full width and only their valid
// columns stored (the panel is zero-padded; in place, a partial block reads at most 60 bytes past a
// row of X, inside the heap's spare bytes, and those lanes are dropped). Nothing here allocates
// (PANEL, shared with gemm.ts, and SP_TMP are static data); Y is written only in its N columns.
import { madd, activate, recordOffset, recordWeight } from './simd';
import { PANEL } from './gemm';

/** Pixels per panel row: 7 vectors, the most accumulators a one-row loop keeps in registers. */
export const PANEL_W: usize = 28;
export const PANEL_ROW_BYTES: usize = PANEL_W << 2;
/** PANEL's size (gemm.ts): the host keeps a chunk's rows (rounded up to 4) * PANEL_ROW_BYTES within it. */
export const PANEL_BYTES: usize = 65536;
/** Pixels per in-place block: one 64-byte line per row of X. */
export const IN_PLACE_W: usize = 16;

/** Scratch for partial blocks: up to 32 floats. */
export const SP_TMP: usize = memory.data(128, 16);

// @ts-ignore: decorator
@inline export function biasAt(bias: usize, m: usize): f32 {
  return bias ? load<f32>(bias + (m << 2)) : 0;
}

/** Most 28-column blocks copied per visit to a row of X (longer runs per row stream faster from memory). */
const GROUP_MAX: usize = 4;

/** How many panels of kc rows fit in PANEL, at most GROUP_MAX. */
// @ts-ignore: decorator
@inline export function panelGroup(kc: usize): usize {
  return min<usize>(GROUP_MAX, PANEL_BYTES / (kc * PANEL_ROW_BYTES));
}

/**
 * Copies kn rows (ldxB bytes apart) of G adjacent 28-column blocks of X at src into G panels
 * pstride bytes apart in PANEL (PANEL_ROW_BYTES per row): one visit per row of X for all G blocks.
 * The last block holds nvLast <= 28 columns (the rest zero-filled); rows kn..kPad-1 of every
 * panel are zero-filled (the block formats read whole groups of 4 rows).
 */
export function copyPanels(src: usize, ldxB: usize, kn: usize, kPad: usize, G: usize, nvLast: usize, pstride: usize): void {
  const gFull = nvLast == PANEL_W ? G : G - 1;
  const z = f32x4.splat(0);
  let d = PANEL;
  const dEnd = PANEL + kn * PANEL_ROW_BYTES;
  while (d < dEnd) {
    let s = src, e = d;
    for (let g: usize = 0; g < gFull; g++) {
      v128.store(e, v128.load(s));
      v128.store(e, v128.load(s, 16), 16);
      v128.store(e, v128.load(s, 32), 32);
      v128.store(e, v128.load(s, 48), 48);
      v128.store(e, v128.load(s, 64), 64);
      v128.store(e, v128.load(s, 80), 80);
      v128.store(e, v128.load(s, 96), 96);
      s += PANEL_ROW_BYTES; e += pstride;
    }
    if (gFull < G) {
      v128.store(e, z); v128.store(e, z, 16); v128.store(e, z, 32); v128.store(e, z, 48);
      v128.store(e, z, 64); v128.store(e, z, 80); v128.store(e, z, 96);
      for (let j: usize = 0; j < nvLast; j++) store<f32>(e + (j << 2), load<f32>(s + (j << 2)));
    }
    src += ldxB; d += PANEL_ROW_BYTES;
  }
  for (let g: usize = 0; g < G; g++) {
    for (let r = kn; r < kPad; r++) {
      const e = PANEL + g * pstride + r * PANEL_ROW_BYTES;
      v128.store(e, z); v128.store(e, z, 16); v128.store(e, z, 32); v128.store(e, z, 48);
      v128.store(e, z, 64); v128.store(e, z, 80); v128.store(e, z, 96);
    }
  }
}

/** Reads the first nv floats at p into SP_TMP (zeros after them), for a partial block's partial sums. */
// @ts-ignore: decorator
@inline export function partialIn(p: usize, nv: usize): usize {
  const z = f32x4.splat(0);
  for (let i: usize = 0; i < 128; i += 16) v128.store(SP_TMP + i, z);
  for (let j: usize = 0; j < nv; j++) store<f32>(SP_TMP + (j << 2), load<f32>(p + (j << 2)));
  return SP_TMP;
}

/** Copies the first nv floats of SP_TMP to p. */
// @ts-ignore: decorator
@inline export function partialOut(p: usize, nv: usize): void {
  for (let j: usize = 0; j < nv; j++) store<f32>(p + (j << 2), load<f32>(SP_TMP + (j << 2)));
}

/**
 * The epilogue of one output row over a 28-pixel block: activation on the last K chunk, then all
 * 28 columns or only nv of them.
 */
// @ts-ignore: decorator
@inline export function store28(yp: usize, nv: usize, last: bool, act: i32, lo: v128, hi: v128,
  a0: v128, a1: v128, a2: v128, a3: v128, a4: v128, a5: v128, a6: v128): void {
  if (last) {
    a0 = activate(a0, act, lo, hi); a1 = activate(a1, act, lo, hi); a2 = activate(a2, act, lo, hi);
    a3 = activate(a3, act, lo, hi); a4 = activate(a4, act, lo, hi); a5 = activate(a5, act, lo, hi);
    a6 = activate(a6, act, lo, hi);
  }
  const d = nv == PANEL_W ? yp : SP_TMP;
  v128.store(d, a0); v128.store(d, a1, 16); v128.store(d, a2, 32); v128.store(d, a3, 48);
  v128.store(d, a4, 64); v128.store(d, a5, 80); v128.store(d, a6, 96);
  if (nv != PANEL_W) partialOut(yp, nv);
}

/** Where a row's partial sums over a 28-pixel block start: Y itself, or SP_TMP for a partial block. */
// @ts-ignore: decorator
@inline export function accIn28(yp: usize, nv: usize): usize {
  return nv == PANEL_W ? yp : partialIn(yp, nv);
}

// ---------------------------------------------------------------------------------------------
// CSR, panel: one row x 28 pixels.

/** acc[0..28) (+)= sum over the records [q, qEnd) of w * panel row; first: start from the bias, else from Y. */
// @ts-ignore: decorator
@inline function csrRow28(q: usize, qEnd: usize, xb: usize, yp: usize, nv: usize, first: bool, last: bool, bs: f32,
  act: i32, lo: v128, hi: v128): void {
  let a0: v128, a1: v128, a2: v128, a3: v128, a4: v128, a5: v128, a6: v128;
  if (first) {
    a0 = f32x4.splat(bs); a1 = a0; a2 = a0; a3 = a0; a4 = a0; a5 = a0; a6 = a0;
  } else {
    const s = accIn28(yp, nv);
    a0 = v128.load(s); a1 = v128.load(s, 16); a2 = v128.load(s, 32); a3 = v128.load(s, 48);
    a4 = v128.load(s, 64); a5 = v128.load(s, 80); a6 = v128.load(s, 96);
  }
  while (q < qEnd) {
    const e = load<u64>(q);
    const p = xb + recordOffset(e);
    const w = recordWeight(e);
    a0 = madd(w, v128.load(p), a0);
    a1 = madd(w, v128.load(p, 16), a1);
    a2 = madd(w, v128.load(p, 32), a2);
    a3 = madd(w, v128.load(p, 48), a3);
    a4 = madd(w, v128.load(p, 64), a4);
    a5 = madd(w, v128.load(p, 80), a5);
    a6 = madd(w, v128.load(p, 96), a6);
    q += 8;
  }
  store28(yp, nv, last, act, lo, hi, a0, a1, a2, a3, a4, a5, a6);
}

/** Rows of one chunk over one 28-column panel at xb. */
// @ts-ignore: decorator
@inline function csrPanelRows(cp: usize, nz: usize, M: usize, xb: usize, yc: usize, ldyB: usize, nv: usize,
  first: bool, last: bool, bias: usize, act: i32, lo: v128, hi: v128): void {
  for (let m: usize = 0; m < M; m++) {
    const r = cp + (m << 2);
    const q = nz + (<usize>load<u32>(r) << 3), qEnd = nz + (<usize>load<u32>(r, 4) << 3);
    const yp = yc + m * ldyB;
    // two copies of the loop: the prologue/epilogue differ, the loop is the same
    if (first) csrRow28(q, qEnd, xb, yp, nv, true, last, biasAt(bias, m), act, lo, hi);
    else csrRow28(q, qEnd, xb, yp, nv, false, last, 0, act, lo, hi);
  }
}

function csrPanel(rowPtr: usize, nz: usize, M: usize, K: usize, kc: usize, x: usize, ldxB: usize, N: usize,
  y: usize, ldyB: usize, bias: usize, act: i32, lo: v128, hi: v128): void {
  const pstride = kc * PANEL_ROW_BYTES;
  const GM = panelGroup(kc);
  for (let n0: usize = 0; n0 < N; n0 += GM * PANEL_W) {
    const G = min<usize>(GM, (N - n0 + PANEL_W - 1) / PANEL_W);
    const nvLast = N - n0 - (G - 1) * PANEL_W < PANEL_W ? N - n0 - (G - 1) * PANEL_W : PANEL_W;
    const yc = y + (n0 << 2);
    let cp = rowPtr;
    for (let k0: usize = 0; k0 < K; k0 += kc) {
      const kn = min<usize>(kc, K - k0);
      copyPanels(x + k0 * ldxB + (n0 << 2), ldxB, kn, kn, G, nvLast, pstride);
      const first = k0 == 0, last = k0 + kn >= K;
      for (let g: usize = 0; g < G; g++) {
        csrPanelRows(cp, nz, M, PANEL + g * pstride, yc + g * PANEL_ROW_BYTES, ldyB, g + 1 == G ? nvLast : PANEL_W,
          first, last, bias, act, lo, hi);
      }
      cp += M << 2;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// CSR, in place: two rows x 16 pixels.

// @ts-ignore: decorator
@inline export function store16(yp: usize, nv: usize, last: bool, act: i32, lo: v128, hi: v128,
  a0: v128, a1: v128, a2: v128, a3: v128): void {
  if (last) {
    a0 = activate(a0, act, lo, hi); a1 = activate(a1, act, lo, hi);
    a2 = activate(a2, act, lo, hi); a3 = activate(a3, act, lo, hi);
  }
  const d = nv == IN_PLACE_W ? yp : SP_TMP;
  v128.store(d, a0); v128.store(d, a1, 16); v128.store(d, a2, 32); v128.store(d, a3, 48);
  if (nv != IN_PLACE_W) partialOut(yp, nv);
}

// @ts-ignore: decorator
@inline export function accIn16(yp: usize, nv: usize): usize {
  return nv == IN_PLACE_W ? yp : partialIn(yp, nv);
}

/**
 * Rows a and b (records [qa, qaEnd) and [qb, qbEnd)) x 16 pixels at xb. While both have non-zeros
 * the loop alternates them, and each row's exit test sits between the halves (4 loads each); the
 * longer row then finishes alone.
 */
// @ts-ignore: decorator
@inline function csrRows2x16(qa: usize, qaEnd: usize, qb: usize, qbEnd: usize, xb: usize, ya: usize, yb: usize,
  nv: usize, first: bool, last: bool, ba: f32, bb: f32, act: i32, lo: v128, hi: v128): void {
  let a0: v128, a1: v128, a2: v128, a3: v128, b0: v128, b1: v128, b2: v128, b3: v128;
  if (first) {
    a0 = f32x4.splat(ba); a1 = a0; a2 = a0; a3 = a0;
    b0 = f32x4.splat(bb); b1 = b0; b2 = b0; b3 = b0;
  } else {
    let s = accIn16(ya, nv);
    a0 = v128.load(s); a1 = v128.load(s, 16); a2 = v128.load(s, 32); a3 = v128.load(s, 48);
    s = accIn16(yb, nv);
    b0 = v128.load(s); b1 = v128.load(s, 16); b2 = v128.load(s, 32); b3 = v128.load(s, 48);
  }
  if (qa < qaEnd && qb < qbEnd) {
    while (true) {
      const e = load<u64>(qa);
      let p = xb + recordOffset(e);
      let w = recordWeight(e);
      a0 = madd(w, v128.load(p), a0);
      a1 = madd(w, v128.load(p, 16), a1);
      a2 = madd(w, v128.load(p, 32), a2);
      a3 = madd(w, v128.load(p, 48), a3);
      qa += 8;
      if (qa >= qaEnd) break;
      const e2 = load<u64>(qb);
      p = xb + recordOffset(e2);
      w = recordWeight(e2);
      b0 = madd(w, v128.load(p), b0);
      b1 = madd(w, v128.load(p, 16), b1);
      b2 = madd(w, v128.load(p, 32), b2);
      b3 = madd(w, v128.load(p, 48), b3);
      qb += 8;
      if (qb >= qbEnd) break;
    }
  }
  while (qa < qaEnd) {
    const e = load<u64>(qa);
    const p = xb + recordOffset(e);
    const w = recordWeight(e);
    a0 = madd(w, v128.load(p), a0);
    a1 = madd(w, v128.load(p, 16), a1);
    a2 = madd(w, v128.load(p, 32), a2);
    a3 = madd(w, v128.load(p, 48), a3);
    qa += 8;
  }
  while (qb < qbEnd) {
    const e = load<u64>(qb);
    const p = xb + recordOffset(e);
    const w = recordWeight(e);
    b0 = madd(w, v128.load(p), b0);
    b1 = madd(w, v128.load(p, 16), b1);
    b2 = madd(w, v128.load(p, 32), b2);
    b3 = madd(w, v128.load(p, 48), b3);
    qb += 8;
  }
  store16(ya, nv, last, act, lo, hi, a0, a1, a2, a3);
  store16(yb, nv, last, act, lo, hi, b0, b1, b2, b3);
}

/** One row x 16 pixels (the odd row out). */
// @ts-ignore: decorator
@inline function csrRow16(q: usize, qEnd: usize, xb: usize, yp: usize, nv: usize, first: bool, last: bool, bs: f32,
  act: i32, lo: v128, hi: v128): void {
  let a0: v128, a1: v128, a2: v128, a3: v128;
  if (first) {
    a0 = f32x4.splat(bs); a1 = a0; a2 = a0; a3 = a0;
  } else {
    const s = accIn16(yp, nv);
    a0 = v128.load(s); a1 = v128.load(s, 16); a2 = v128.load(s, 32); a3 = v128.load(s, 48);
  }
  while (q < qEnd) {
    const e = load<u64>(q);
    const p = xb + recordOffset(e);
    const w = recordWeight(e);
    a0 = madd(w, v128.load(p), a0);
    a1 = madd(w, v128.load(p, 16), a1);
    a2 = madd(w, v128.load(p, 32), a2);
    a3 = madd(w, v128.load(p, 48), a3);
    q += 8;
  }
  store16(yp, nv, last, act, lo, hi, a0, a1, a2, a3);
}

function csrInPlace(rowPtr: usize, nz: usize, M: usize, K: usize, kc: usize, x: usize, ldxB: usize, N: usize,
  y: usize, ldyB: usize, bias: usize, act: i32, lo: v128, hi: v128): void {
  for (let n0: usize = 0; n0 < N; n0 += IN_PLACE_W) {
    const nv = min<usize>(IN_PLACE_W, N - n0);
    const yc = y + (n0 << 2);
    let cp = rowPtr;
    for (let k0: usize = 0; k0 < K; k0 += kc) {
      const xb = x + k0 * ldxB + (n0 << 2);
      const first = k0 == 0, last = k0 + kc >= K;
      let m: usize = 0;
      for (; m + 2 <= M; m += 2) {
        const r = cp + (m << 2);
        const q0 = nz + (<usize>load<u32>(r) << 3), q1 = nz + (<usize>load<u32>(r, 4) << 3), q2 = nz + (<usize>load<u32>(r, 8) << 3);
        const ya = yc + m * ldyB;
        if (first) csrRows2x16(q0, q1, q1, q2, xb, ya, ya + ldyB, nv, true, last, biasAt(bias, m), biasAt(bias, m + 1), act, lo, hi);
        else csrRows2x16(q0, q1, q1, q2, xb, ya, ya + ldyB, nv, false, last, 0, 0, act, lo, hi);
      }
      if (m < M) {
        const r = cp + (m << 2);
        const q0 = nz + (<usize>load<u32>(r) << 3), q1 = nz + (<usize>load<u32>(r, 4) << 3);
        csrRow16(q0, q1, xb, yc + m * ldyB, nv, first, last, biasAt(bias, m), act, lo, hi);
      }
      cp += M << 2;
    }
  }
}

/**
 * Y = W * X + bias with activation, W in chunked CSR form:
 *  - K is cut into chunks of kc rows (the last may be shorter); rowPtr holds ceil(K / kc) * M + 1
 *    u32 record indices, chunk-major: the records of row m in chunk c are
 *    rowPtr[c * M + m] .. rowPtr[c * M + m + 1] - 1;
 *  - nz: 8-byte records (u32 offset, f32 weight), the offset (k - c * kc) * S with S =
 *    PANEL_ROW_BYTES (112) for the panel kernel, ldx * 4 in place.
 * X: K x N floats with row stride ldx; Y: M x N floats with row stride ldy (elements).
 * bias: 0 or M floats. act/p0/p1: an ACT_* code and its parameters (see simd.ts).
 * inPlace: 0 copies 28-column blocks into PANEL (kc * 112 <= 65536 required), 1 reads X in place.
 */
export function spmm_csr(rowPtr: usize, nz: usize, M: usize, K: usize, kc: usize, x: usize, ldx: usize, N: usize,
  y: usize, ldy: usize, bias: usize, act: i32, p0: f32, p1: f32, inPlace: i32): void {
  if (kc == 0) unreachable();
  const lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  if (inPlace) {
    csrInPlace(rowPtr, nz, M, K, kc, x, ldx << 2, N, y, ldy << 2, bias, act, lo, hi);
  } else {
    if (kc * PANEL_ROW_BYTES > PANEL_BYTES) unreachable();
    csrPanel(rowPtr, nz, M, K, kc, x, ldx << 2, N, y, ldy << 2, bias, act, lo, hi);
  }
}
