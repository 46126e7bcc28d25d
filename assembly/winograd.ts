// Winograd F(2x2, 3x3) for 3x3, stride-1, undilated convolutions (Lavin & Gray, 2015).
// Each 2x2 output tile costs 16 multiply-adds per (input, output) channel pair instead of 36,
// a 2.25x cut in arithmetic; the transforms are adds only. Per block of 8 tiles (two runs of 4
// along a tile row, from the same row or from two):
//   input transform  V[e][ci][8] = (Bᵀ d B)[e]      (written straight in GEMM panel layout)
//   16 GEMMs         M[e][co][8] = U[e] · V[e]      (the 4x8 register tile of gemm.ts)
//   output transform y = Aᵀ M A  (+ bias, activation)
// U[e] = (G g Gᵀ)[e] is computed once per layer by winograd_f23_weights and packed by pack_a4.
// Nothing here allocates: V and M are scratch blocks the host passes.
import { activate, activate1 } from './simd';
import { sliceA, tile_a4_8 } from './gemm';

const TMP = memory.data(64, 16);

/**
 * U[e][co][ci] = (G g Gᵀ)[e] for each 3x3 kernel g = w[co][ci], with G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1].
 * dst holds 16 * Cout * Cin floats.
 */
export function winograd_f23_weights(w: usize, Cout: usize, Cin: usize, dst: usize): void {
  const plane = (Cout * Cin) << 2;
  for (let co: usize = 0; co < Cout; co++) {
    for (let ci: usize = 0; ci < Cin; ci++) {
      const g = w + (((co * Cin + ci) * 9) << 2);
      const o = dst + ((co * Cin + ci) << 2);
      // t = G g (4x3), then U = t Gᵀ (4x4)
      for (let r: usize = 0; r < 4; r++) {
        let t0: f32, t1: f32, t2: f32;
        const c0 = load<f32>(g), c1 = load<f32>(g, 12), c2 = load<f32>(g, 24); // column 0 of g
        const d0 = load<f32>(g, 4), d1 = load<f32>(g, 16), d2 = load<f32>(g, 28); // column 1
        const e0 = load<f32>(g, 8), e1 = load<f32>(g, 20), e2 = load<f32>(g, 32); // column 2
        if (r == 0) { t0 = c0; t1 = d0; t2 = e0; }
        else if (r == 1) { t0 = 0.5 * (c0 + c1 + c2); t1 = 0.5 * (d0 + d1 + d2); t2 = 0.5 * (e0 + e1 + e2); }
        else if (r == 2) { t0 = 0.5 * (c0 - c1 + c2); t1 = 0.5 * (d0 - d1 + d2); t2 = 0.5 * (e0 - e1 + e2); }
        else { t0 = c2; t1 = d2; t2 = e2; }
        store<f32>(o + (r * 4 + 0) * plane, t0);
        store<f32>(o + (r * 4 + 1) * plane, 0.5 * (t0 + t1 + t2));
        store<f32>(o + (r * 4 + 2) * plane, 0.5 * (t0 - t1 + t2));
        store<f32>(o + (r * 4 + 3) * plane, t2);
      }
    }
  }
}

// One row of 4 tiles: the 12 input floats at p hold columns 2j..2j+3 of tiles j = 0..3;
// returns the row's (d Bᵀ-columns) transform t0..t3 with lanes = tiles.
// t0 = d0 - d2, t1 = d1 + d2, t2 = d2 - d1, t3 = d1 - d3.
// @ts-ignore: decorator
@inline function rowT(p: usize, c: i32): v128 {
  const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32);
  const d0 = i32x4.shuffle(v0, v1, 0, 2, 4, 6); // x0 x2 x4 x6
  const d1 = i32x4.shuffle(v0, v1, 1, 3, 5, 7); // x1 x3 x5 x7
  const d2 = i32x4.shuffle(d0, v2, 1, 2, 3, 4); // x2 x4 x6 x8
  if (c == 0) return f32x4.sub(d0, d2);
  if (c == 1) return f32x4.add(d1, d2);
  if (c == 2) return f32x4.sub(d2, d1);
  const d3 = i32x4.shuffle(d1, v2, 1, 2, 3, 5); // x3 x5 x7 x9
  return f32x4.sub(d1, d3);
}

/** Bᵀ d B for 4 tiles at once (lanes = tiles); writes V[e] lanes at v + e * eStride. */
// @ts-ignore: decorator
@inline function inputTransform4(p: usize, rowB: usize, v: usize, eStride: usize): void {
  // Per column c of the row transform, combine the 4 rows: V0 = t0 - t2, V1 = t1 + t2, V2 = t2 - t1, V3 = t1 - t3.
  // The rows' loads repeat per c; V8 keeps them in registers or L1, and the column loop stays small.
  for (let c: i32 = 0; c < 4; c++) {
    const t0 = rowT(p, c), t1 = rowT(p + rowB, c), t2 = rowT(p + 2 * rowB, c), t3 = rowT(p + 3 * rowB, c);
    const o = v + <usize>c * eStride;
    v128.store(o, f32x4.sub(t0, t2));
    v128.store(o + 4 * eStride, f32x4.add(t1, t2));
    v128.store(o + 8 * eStride, f32x4.sub(t2, t1));
    v128.store(o + 12 * eStride, f32x4.sub(t1, t3));
  }
}

// @ts-ignore: decorator
@inline function m(mp: usize, e: usize, eStride: usize): v128 {
  return v128.load(mp + e * eStride);
}

/** Writes `n` (<= 8) floats of the pair (lo, hi) to y, through TMP when short. */
// @ts-ignore: decorator
@inline function storeN(y: usize, lo: v128, hi: v128, n: usize): void {
  if (n >= 8) { v128.store(y, lo); v128.store(y, hi, 16); return; }
  v128.store(TMP, lo); v128.store(TMP, hi, 16);
  for (let i: usize = 0; i < n; i++) store<f32>(y + (i << 2), load<f32>(TMP + (i << 2)));
}

/**
 * Output transform of 4 tiles (lanes): y = Aᵀ M A with Aᵀ = [1 1 1 0; 0 1 -1 -1], + bias b and the
 * activation, from the 16 M vectors at mp (mE bytes apart) to two output rows at dst (the second
 * when twoRows), cnt valid columns.
 */
// @ts-ignore: decorator
@inline function outputTransform4(mp: usize, mE: usize, b: v128, act: i32, lo: v128, hi: v128, dst: usize, OW: usize, cnt: usize, twoRows: bool): void {
  const s00 = f32x4.add(f32x4.add(m(mp, 0, mE), m(mp, 4, mE)), m(mp, 8, mE));
  const s01 = f32x4.add(f32x4.add(m(mp, 1, mE), m(mp, 5, mE)), m(mp, 9, mE));
  const s02 = f32x4.add(f32x4.add(m(mp, 2, mE), m(mp, 6, mE)), m(mp, 10, mE));
  const s03 = f32x4.add(f32x4.add(m(mp, 3, mE), m(mp, 7, mE)), m(mp, 11, mE));
  const s10 = f32x4.sub(f32x4.sub(m(mp, 4, mE), m(mp, 8, mE)), m(mp, 12, mE));
  const s11 = f32x4.sub(f32x4.sub(m(mp, 5, mE), m(mp, 9, mE)), m(mp, 13, mE));
  const s12 = f32x4.sub(f32x4.sub(m(mp, 6, mE), m(mp, 10, mE)), m(mp, 14, mE));
  const s13 = f32x4.sub(f32x4.sub(m(mp, 7, mE), m(mp, 11, mE)), m(mp, 15, mE));
  const y00 = activate(f32x4.add(f32x4.add(f32x4.add(s00, s01), s02), b), act, lo, hi);
  const y01 = activate(f32x4.add(f32x4.sub(f32x4.sub(s01, s02), s03), b), act, lo, hi);
  const y10 = activate(f32x4.add(f32x4.add(f32x4.add(s10, s11), s12), b), act, lo, hi);
  const y11 = activate(f32x4.add(f32x4.sub(f32x4.sub(s11, s12), s13), b), act, lo, hi);
  storeN(dst, i32x4.shuffle(y00, y01, 0, 4, 1, 5), i32x4.shuffle(y00, y01, 2, 6, 3, 7), cnt);
  if (twoRows) storeN(dst + (OW << 2), i32x4.shuffle(y10, y11, 0, 4, 1, 5), i32x4.shuffle(y10, y11, 2, 6, 3, 7), cnt);
}


/**
 * 3x3 stride-1 convolution by Winograd F(2x2, 3x3) on a padded input xp (Cin x Hp x Wp) with
 * Hp >= 2*ceil(OH/2) + 2 and Wp >= 8*ceil(ceil(OW/2)/4) + 4 (extra zero columns let the input
 * transform read whole vectors). u: U[e] packed by pack_a4, 16 blocks of ceil(Cout/4)*4*Cin floats.
 * v: 16*Cin*8 floats of scratch; mb: 16*ceil(Cout/4)*4*8 floats of scratch.
 * bias: 0 or ceil(Cout/4)*4 floats.
 */
export function conv3x3_f23(xp: usize, Cin: usize, Hp: usize, Wp: usize, u: usize, Cout: usize,
  y: usize, OH: usize, OW: usize, v: usize, mb: usize, bias: usize, act: i32, p0: f32, p1: f32): void {
  // a tile row runs in blocks of 8 tiles; where its last block would be half empty or less (a
  // row of 4, 10 or 12 tiles), the tiles run in runs of 4 paired across rows instead (f23_groups).
  // Otherwise the blocks stay in their rows (f23_rows: the same work, and 6-8% faster measured on
  // rows of 10 and 80 pixels, for reasons V8's code generation keeps to itself)
  const TW = (OW + 1) >> 1;
  if ((TW & 7) != 0 && (TW & 7) <= 4) f23_groups(xp, Cin, Hp, Wp, u, Cout, y, OH, OW, v, mb, bias, act, p0, p1);
  else f23_rows(xp, Cin, Hp, Wp, u, Cout, y, OH, OW, v, mb, bias, act, p0, p1);
}

/**
 * conv3x3_f23 in blocks of 8 tiles along each tile row (Wp >= 16*ceil(ceil(OW/2)/8) + 4). Exported,
 * like f23_groups, so binaryen keeps each a function of its own: V8 compiles a function on its first
 * call, so a model compiles only the one its maps use.
 */
export function f23_rows(xp: usize, Cin: usize, Hp: usize, Wp: usize, u: usize, Cout: usize,
  y: usize, OH: usize, OW: usize, v: usize, mb: usize, bias: usize, act: i32, p0: f32, p1: f32): void {
  const CoutP = (Cout + 3) & ~3;
  const vE = (Cin * 32);        // bytes between V[e] blocks
  const mE = (CoutP * 32);      // bytes between M[e] blocks
  const uE = (CoutP * Cin) << 2; // bytes between U[e] blocks
  const rowB = Wp << 2, planeB = (Hp * Wp) << 2, planeY = (OH * OW) << 2;
  const TH = (OH + 1) >> 1, TW = (OW + 1) >> 1;
  const KS = sliceA(Cin);
  const lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  for (let th: usize = 0; th < TH; th++) {
    for (let tw0: usize = 0; tw0 < TW; tw0 += 8) {
      // 1. input transform of 8 tiles, for every input channel
      const src = xp + ((th * 2 * Wp + tw0 * 2) << 2);
      for (let ci: usize = 0; ci < Cin; ci++) {
        const p = src + ci * planeB;
        const vp = v + ci * 32;
        inputTransform4(p, rowB, vp, vE);
        inputTransform4(p + 32, rowB, vp + 16, vE);
      }
      // 2. sixteen GEMMs: M[e] (Cout x 8) = U[e] (Cout x Cin) · V[e] (Cin x 8)
      for (let e: usize = 0; e < 16; e++) {
        for (let k0: usize = 0; k0 < Cin; k0 += KS) {
          const kc = min<usize>(KS, Cin - k0);
          const first = k0 == 0, last = k0 + kc >= Cin;
          for (let co: usize = 0; co < Cout; co += 4) {
            tile_a4_8(u + e * uE + ((co * Cin + k0 * 4) << 2), kc, v + e * vE + k0 * 32, mb + e * mE + co * 32, 32,
              4, 8, first, last, 0, 0, 0, 0);
          }
        }
      }
      // 3. output transform: y = Aᵀ M A with Aᵀ = [1 1 1 0; 0 1 -1 -1], 4 tiles per vector
      const oh: usize = th * 2;
      const ow: usize = tw0 * 2;
      const n = min<usize>(16, OW - ow); // valid output columns of this block
      const twoRows = oh + 1 < OH;
      for (let co: usize = 0; co < Cout; co++) {
        const b = f32x4.splat(bias ? load<f32>(bias + (co << 2)) : 0);
        const y0 = y + co * planeY + ((oh * OW + ow) << 2);
        for (let j: usize = 0; j < 8; j += 4) {
          if (j * 2 >= n) break;
          const mp = mb + co * 32 + (j << 2);
          const cnt = min<usize>(8, n - j * 2);
          outputTransform4(mp, mE, b, act, lo, hi, y0 + ((j * 2) << 2), OW, cnt, twoRows);
        }
      }
    }
  }
}

/** conv3x3_f23 in runs of 4 tiles, two to a block, in row-major order across tile rows. */
export function f23_groups(xp: usize, Cin: usize, Hp: usize, Wp: usize, u: usize, Cout: usize,
  y: usize, OH: usize, OW: usize, v: usize, mb: usize, bias: usize, act: i32, p0: f32, p1: f32): void {
  const CoutP = (Cout + 3) & ~3;
  const vE = (Cin * 32);        // bytes between V[e] blocks
  const mE = (CoutP * 32);      // bytes between M[e] blocks
  const uE = (CoutP * Cin) << 2; // bytes between U[e] blocks
  const rowB = Wp << 2, planeB = (Hp * Wp) << 2, planeY = (OH * OW) << 2;
  const TH = (OH + 1) >> 1, TW = (OW + 1) >> 1;
  // a block is two groups of 4 tiles, each group within one tile row: the groups go in row-major
  // order, so a row of 4 tiles (a 7x7 map) fills half a block, not a block of 8 with 4 idle
  const GW = (TW + 3) >> 2; // groups per tile row
  const groups = TH * GW;
  const KS = sliceA(Cin);
  const lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  for (let g0: usize = 0; g0 < groups; g0 += 2) {
    // 1. input transform of the block's tiles, for every input channel (both halves per channel:
    // side by side in one tile row they share cache lines)
    const src0 = xp + ((((g0 / GW) * 2 * Wp) + ((g0 % GW) << 3)) << 2);
    // an odd last group runs twice (the same tiles, written twice): no branch in the loops
    const g1 = min(g0 + 1, groups - 1);
    const src1 = xp + ((((g1 / GW) * 2 * Wp) + ((g1 % GW) << 3)) << 2);
    for (let ci: usize = 0; ci < Cin; ci++) {
      inputTransform4(src0 + ci * planeB, rowB, v + ci * 32, vE);
      inputTransform4(src1 + ci * planeB, rowB, v + ci * 32 + 16, vE);
    }
    // 2. sixteen GEMMs: M[e] (Cout x 8) = U[e] (Cout x Cin) · V[e] (Cin x 8)
    for (let e: usize = 0; e < 16; e++) {
      for (let k0: usize = 0; k0 < Cin; k0 += KS) {
        const kc = min<usize>(KS, Cin - k0);
        const first = k0 == 0, last = k0 + kc >= Cin;
        for (let co: usize = 0; co < Cout; co += 4) {
          tile_a4_8(u + e * uE + ((co * Cin + k0 * 4) << 2), kc, v + e * vE + k0 * 32, mb + e * mE + co * 32, 32,
            4, 8, first, last, 0, 0, 0, 0);
        }
      }
    }
    // 3. output transform: y = Aᵀ M A with Aᵀ = [1 1 1 0; 0 1 -1 -1], 4 tiles per vector
    const oh0: usize = (g0 / GW) * 2, ow0: usize = (g0 % GW) << 3;
    const oh1: usize = (g1 / GW) * 2, ow1: usize = (g1 % GW) << 3;
    for (let co: usize = 0; co < Cout; co++) {
      const b = f32x4.splat(bias ? load<f32>(bias + (co << 2)) : 0);
      for (let h: usize = 0; h < 2; h++) {
        const oh = h ? oh1 : oh0, ow = h ? ow1 : ow0;
        const cnt = min<usize>(8, OW - ow); // valid output columns of this run of tiles
        const dst = y + co * planeY + ((oh * OW + ow) << 2);
        const mp = mb + co * 32 + (h << 4);
        outputTransform4(mp, mE, b, act, lo, hi, dst, OW, cnt, oh + 1 < OH);
      }
    }
  }
}
