// Block-sparse weights (1x4 blocks: 4 consecutive input channels k..k+3 of one output row share one
// index) x dense activations: Y (M x N) = W (M x K) * X (K x N) + bias[m], activation fused.
// The two schemes of sparse.ts: panel (28-pixel blocks of X copied K chunk by K chunk into PANEL,
// one output row x 7 accumulators) and in place (16-pixel blocks, two output rows x 4
// accumulators). Per kept block one offset load, then for each of its 4 weights a broadcast and
// one load + multiply-add per 4 pixels on the next row of X. The 4 steps run as an inner loop: its
// exit tests keep V8 from hoisting all the loads of a block above its multiply-adds (which would
// spill). Against CSR at the same density this saves 3 of every 4 offset loads, and in the panel a
// block's 4 rows are contiguous. Nothing here allocates.
import { madd } from './simd';
import { PANEL } from './gemm';
import { PANEL_W, PANEL_ROW_BYTES, PANEL_BYTES, IN_PLACE_W, biasAt, copyPanels, panelGroup, accIn28, store28, store16 } from './sparse';

/** Bytes per kept block: u32 offset, 4 x f32 weight. */
const REC: usize = 20;

// @ts-ignore: decorator
@inline function bsrRow28(q: usize, qEnd: usize, xb: usize, yp: usize, nv: usize, first: bool, last: bool, bs: f32,
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
    let p = xb + <usize>load<u32>(q);
    let wq = q + 4;
    q += REC;
    do {
      const w = v128.load32_splat(wq);
      a0 = madd(w, v128.load(p), a0);
      a1 = madd(w, v128.load(p, 16), a1);
      a2 = madd(w, v128.load(p, 32), a2);
      a3 = madd(w, v128.load(p, 48), a3);
      a4 = madd(w, v128.load(p, 64), a4);
      a5 = madd(w, v128.load(p, 80), a5);
      a6 = madd(w, v128.load(p, 96), a6);
      p += PANEL_ROW_BYTES; wq += 4;
    } while (wq < q);
  }
  store28(yp, nv, last, act, lo, hi, a0, a1, a2, a3, a4, a5, a6);
}

/** Rows a and b x 16 pixels in place; each row's blocks step over 4 rows of X (stride ldxB). */
// @ts-ignore: decorator
@inline function bsrRows2x16(qa: usize, qaEnd: usize, qb: usize, qbEnd: usize, xb: usize, ldxB: usize, ya: usize, yb: usize,
  nv: usize, ba: f32, bb: f32, act: i32, lo: v128, hi: v128): void {
  let a0 = f32x4.splat(ba), a1 = a0, a2 = a0, a3 = a0;
  let b0 = f32x4.splat(bb), b1 = b0, b2 = b0, b3 = b0;
  if (qa < qaEnd && qb < qbEnd) {
    while (true) {
      let p = xb + <usize>load<u32>(qa);
      let wq = qa + 4;
      qa += REC;
      do {
        const w = v128.load32_splat(wq);
        a0 = madd(w, v128.load(p), a0);
        a1 = madd(w, v128.load(p, 16), a1);
        a2 = madd(w, v128.load(p, 32), a2);
        a3 = madd(w, v128.load(p, 48), a3);
        p += ldxB; wq += 4;
      } while (wq < qa);
      if (qa >= qaEnd) break;
      p = xb + <usize>load<u32>(qb);
      wq = qb + 4;
      qb += REC;
      do {
        const w = v128.load32_splat(wq);
        b0 = madd(w, v128.load(p), b0);
        b1 = madd(w, v128.load(p, 16), b1);
        b2 = madd(w, v128.load(p, 32), b2);
        b3 = madd(w, v128.load(p, 48), b3);
        p += ldxB; wq += 4;
      } while (wq < qb);
      if (qb >= qbEnd) break;
    }
  }
  while (qa < qaEnd) {
    let p = xb + <usize>load<u32>(qa);
    let wq = qa + 4;
    qa += REC;
    do {
      const w = v128.load32_splat(wq);
      a0 = madd(w, v128.load(p), a0);
      a1 = madd(w, v128.load(p, 16), a1);
      a2 = madd(w, v128.load(p, 32), a2);
      a3 = madd(w, v128.load(p, 48), a3);
      p += ldxB; wq += 4;
    } while (wq < qa);
  }
  while (qb < qbEnd) {
    let p = xb + <usize>load<u32>(qb);
    let wq = qb + 4;
    qb += REC;
    do {
      const w = v128.load32_splat(wq);
      b0 = madd(w, v128.load(p), b0);
      b1 = madd(w, v128.load(p, 16), b1);
      b2 = madd(w, v128.load(p, 32), b2);
      b3 = madd(w, v128.load(p, 48), b3);
      p += ldxB; wq += 4;
    } while (wq < qb);
  }
  store16(ya, nv, true, act, lo, hi, a0, a1, a2, a3);
  store16(yb, nv, true, act, lo, hi, b0, b1, b2, b3);
}

/**
 * In place: like spmm_bsr1x4 with one chunk (rowPtr: M + 1 block indices) and offsets k * ldx * 4;
 * K % 4 == 0 (a last partial block would read rows of X past K). Blocks of 16 columns, two rows at
 * a time.
 */
export function spmm_bsr1x4_inplace(rowPtr: usize, blocks: usize, M: usize, K: usize, x: usize, ldx: usize, N: usize,
  y: usize, ldy: usize, bias: usize, act: i32, p0: f32, p1: f32): void {
  if ((K & 3) != 0) unreachable();
  const lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  const ldxB = ldx << 2, ldyB = ldy << 2;
  for (let n0: usize = 0; n0 < N; n0 += IN_PLACE_W) {
    const nv = min<usize>(IN_PLACE_W, N - n0);
    const xb = x + (n0 << 2), yc = y + (n0 << 2);
    for (let m: usize = 0; m < M; m += 2) {
      const r = rowPtr + (m << 2);
      const q0 = blocks + <usize>load<u32>(r) * REC, q1 = blocks + <usize>load<u32>(r, 4) * REC;
      const ya = yc + m * ldyB;
      if (m + 1 < M) {
        const q2 = blocks + <usize>load<u32>(r, 8) * REC;
        bsrRows2x16(q0, q1, q1, q2, xb, ldxB, ya, ya + ldyB, nv, biasAt(bias, m), biasAt(bias, m + 1), act, lo, hi);
      } else {
        bsrRow16(q0, q1, xb, ldxB, ya, nv, biasAt(bias, m), act, lo, hi);
      }
    }
  }
}

/** One row x 16 pixels in place (the odd row out). */
// @ts-ignore: decorator
@inline function bsrRow16(q: usize, qEnd: usize, xb: usize, ldxB: usize, yp: usize, nv: usize, bs: f32,
  act: i32, lo: v128, hi: v128): void {
  let a0 = f32x4.splat(bs), a1 = a0, a2 = a0, a3 = a0;
  while (q < qEnd) {
    let p = xb + <usize>load<u32>(q);
    let wq = q + 4;
    q += REC;
    do {
      const w = v128.load32_splat(wq);
      a0 = madd(w, v128.load(p), a0);
      a1 = madd(w, v128.load(p, 16), a1);
      a2 = madd(w, v128.load(p, 32), a2);
      a3 = madd(w, v128.load(p, 48), a3);
      p += ldxB; wq += 4;
    } while (wq < q);
  }
  store16(yp, nv, true, act, lo, hi, a0, a1, a2, a3);
}

/**
 * Y = W * X + bias with activation, W in chunked block-CSR form (1x4 blocks aligned to k % 4 == 0):
 *  - K is cut into chunks of kc rows (kc % 4 == 0, kc rounded up to 4 times 112 bytes <= 65536);
 *    rowPtr holds ceil(K / kc) * M + 1 u32 block indices, chunk-major (as spmm_csr);
 *  - blocks: 20-byte records (u32 (k - chunk start) * 112, f32 w[k], w[k+1], w[k+2], w[k+3]);
 *    weights of a last, partial block past K are 0 (the panel rows past K are zero-filled).
 * X: K x N floats, row stride ldx; Y: M x N floats, row stride ldy. bias: 0 or M floats.
 */
export function spmm_bsr1x4(rowPtr: usize, blocks: usize, M: usize, K: usize, kc: usize, x: usize, ldx: usize, N: usize,
  y: usize, ldy: usize, bias: usize, act: i32, p0: f32, p1: f32): void {
  if (kc == 0 || (kc & 3) != 0 || kc * PANEL_ROW_BYTES > PANEL_BYTES) unreachable();
  const lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  const ldxB = ldx << 2, ldyB = ldy << 2;
  const pstride = kc * PANEL_ROW_BYTES;
  const GM = panelGroup(kc);
  for (let n0: usize = 0; n0 < N; n0 += GM * PANEL_W) {
    const G = min<usize>(GM, (N - n0 + PANEL_W - 1) / PANEL_W);
    const nvLast = N - n0 - (G - 1) * PANEL_W < PANEL_W ? N - n0 - (G - 1) * PANEL_W : PANEL_W;
    const yc = y + (n0 << 2);
    let cp = rowPtr;
    for (let k0: usize = 0; k0 < K; k0 += kc) {
      const kn = min<usize>(kc, K - k0);
      copyPanels(x + k0 * ldxB + (n0 << 2), ldxB, kn, (kn + 3) & ~3, G, nvLast, pstride);
      const first = k0 == 0, last = k0 + kn >= K;
      for (let g: usize = 0; g < G; g++) {
        const xb = PANEL + g * pstride, yg = yc + g * PANEL_ROW_BYTES, nv = g + 1 == G ? nvLast : PANEL_W;
        for (let m: usize = 0; m < M; m++) {
          const r = cp + (m << 2);
          const q = blocks + <usize>load<u32>(r) * REC, qEnd = blocks + <usize>load<u32>(r, 4) * REC;
          const yp = yg + m * ldyB;
          if (first) bsrRow28(q, qEnd, xb, yp, nv, true, last, biasAt(bias, m), act, lo, hi);
          else bsrRow28(q, qEnd, xb, yp, nv, false, last, 0, act, lo, hi);
        }
      }
      cp += M << 2;
    }
  }
}
