// 2:4 semi-structured sparse weights x dense activations: in every group of 4 consecutive input
// channels a row keeps at most 2 weights. Stored compactly: per group two f32 weights and one byte
// with their two 2-bit positions in the group (i0 | i1 << 2; a group with fewer non-zeros stores
// zeros). Y (M x N) = W (M x K) * X (K x N) + bias[m], activation fused.
// The panel scheme of sparse.ts (28-pixel blocks of X copied K chunk by K chunk into PANEL, one
// output row x 7 accumulators). Per group: one index byte, then per weight a broadcast, a panel
// address (group base + position * 112) and 7 loads + multiply-adds; a test between the 2 weights
// keeps V8 from hoisting all 14 loads (which would spill). Every row has the same
// number of groups, and no per-non-zero offsets are stored: 4.5 bytes per kept weight against
// CSR's 8. Nothing here allocates.
import { madd } from './simd';
import { PANEL } from './gemm';
import { PANEL_W, PANEL_ROW_BYTES, PANEL_BYTES, biasAt, copyPanels, panelGroup, accIn28, store28 } from './sparse';

// @ts-ignore: decorator
@inline function nmRow28(vp: usize, ip: usize, ipEnd: usize, xb: usize, yp: usize, nv: usize, first: bool, last: bool, bs: f32,
  act: i32, lo: v128, hi: v128): void {
  let a0: v128, a1: v128, a2: v128, a3: v128, a4: v128, a5: v128, a6: v128;
  if (first) {
    a0 = f32x4.splat(bs); a1 = a0; a2 = a0; a3 = a0; a4 = a0; a5 = a0; a6 = a0;
  } else {
    const s = accIn28(yp, nv);
    a0 = v128.load(s); a1 = v128.load(s, 16); a2 = v128.load(s, 32); a3 = v128.load(s, 48);
    a4 = v128.load(s, 64); a5 = v128.load(s, 80); a6 = v128.load(s, 96);
  }
  let pg = xb;
  // Per group: weight 0, a test, weight 1. The test (p1 == 0) is never true (p1 >= PANEL > 0) but
  // splits the body into two basic blocks of 7 loads each, so V8 does not hoist all 14 loads (which
  // would spill); should it ever be taken, the outer loop finishes the group correctly.
  while (true) {
    let p1: usize = 1;
    while (ip < ipEnd) {
      const b = <usize>load<u8>(ip);
      const p = pg + (b & 3) * PANEL_ROW_BYTES;
      const w = v128.load32_splat(vp);
      a0 = madd(w, v128.load(p), a0);
      a1 = madd(w, v128.load(p, 16), a1);
      a2 = madd(w, v128.load(p, 32), a2);
      a3 = madd(w, v128.load(p, 48), a3);
      a4 = madd(w, v128.load(p, 64), a4);
      a5 = madd(w, v128.load(p, 80), a5);
      a6 = madd(w, v128.load(p, 96), a6);
      p1 = pg + (b >> 2) * PANEL_ROW_BYTES;
      if (p1 == 0) break;
      const v = v128.load32_splat(vp, 4);
      a0 = madd(v, v128.load(p1), a0);
      a1 = madd(v, v128.load(p1, 16), a1);
      a2 = madd(v, v128.load(p1, 32), a2);
      a3 = madd(v, v128.load(p1, 48), a3);
      a4 = madd(v, v128.load(p1, 64), a4);
      a5 = madd(v, v128.load(p1, 80), a5);
      a6 = madd(v, v128.load(p1, 96), a6);
      ip++; vp += 8; pg += PANEL_ROW_BYTES << 2;
    }
    if (p1 != 0) break;
    const v = v128.load32_splat(vp, 4);
    a0 = madd(v, v128.load(p1), a0);
    a1 = madd(v, v128.load(p1, 16), a1);
    a2 = madd(v, v128.load(p1, 32), a2);
    a3 = madd(v, v128.load(p1, 48), a3);
    a4 = madd(v, v128.load(p1, 64), a4);
    a5 = madd(v, v128.load(p1, 80), a5);
    a6 = madd(v, v128.load(p1, 96), a6);
    ip++; vp += 8; pg += PANEL_ROW_BYTES << 2;
  }
  store28(yp, nv, last, act, lo, hi, a0, a1, a2, a3, a4, a5, a6);
}

/**
 * Y = W * X + bias with activation, W 2:4 sparse: G = ceil(K / 4) groups per row;
 *  - vals: M x G x 2 f32 (the kept weights of each group, zero where a group keeps fewer);
 *  - idx: M x G bytes, i0 | i1 << 2 (positions 0..3 in the group; positions past K hold weight 0).
 * K is processed in chunks of kc rows (kc % 4 == 0, kc * 112 <= 65536).
 * X: K x N floats, row stride ldx; Y: M x N floats, row stride ldy. bias: 0 or M floats.
 */
export function spmm_nm24(vals: usize, idx: usize, M: usize, K: usize, kc: usize, x: usize, ldx: usize, N: usize,
  y: usize, ldy: usize, bias: usize, act: i32, p0: f32, p1: f32): void {
  if (kc == 0 || (kc & 3) != 0 || kc * PANEL_ROW_BYTES > PANEL_BYTES) unreachable();
  const lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  const ldxB = ldx << 2, ldyB = ldy << 2;
  const groups = (K + 3) >> 2;
  const pstride = kc * PANEL_ROW_BYTES;
  const GM = panelGroup(kc);
  for (let n0: usize = 0; n0 < N; n0 += GM * PANEL_W) {
    const G = min<usize>(GM, (N - n0 + PANEL_W - 1) / PANEL_W);
    const nvLast = N - n0 - (G - 1) * PANEL_W < PANEL_W ? N - n0 - (G - 1) * PANEL_W : PANEL_W;
    const yc = y + (n0 << 2);
    for (let k0: usize = 0; k0 < K; k0 += kc) {
      const kn = min<usize>(kc, K - k0);
      copyPanels(x + k0 * ldxB + (n0 << 2), ldxB, kn, (kn + 3) & ~3, G, nvLast, pstride);
      const first = k0 == 0, last = k0 + kn >= K;
      const g0 = k0 >> 2, gn = (kn + 3) >> 2;
      for (let g: usize = 0; g < G; g++) {
        const xb = PANEL + g * pstride, yg = yc + g * PANEL_ROW_BYTES, nv = g + 1 == G ? nvLast : PANEL_W;
        for (let m: usize = 0; m < M; m++) {
          const gi = m * groups + g0;
          const ip = idx + gi;
          const yp = yg + m * ldyB;
          if (first) nmRow28(vals + (gi << 3), ip, ip + gn, xb, yp, nv, true, last, biasAt(bias, m), act, lo, hi);
          else nmRow28(vals + (gi << 3), ip, ip + gn, xb, yp, nv, false, last, 0, act, lo, hi);
        }
      }
    }
  }
}
