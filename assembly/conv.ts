// Convolution kernels (NCHW, one image, one group at a time: the host loops over batch and groups).
//  - conv_panel_a4: convolution of any kernel size / dilation, stride 1 or 2 along W, over an
//    input the host has already zero-padded (pad2d), weights packed by pack_a4 as Cout x (Cin*KH*KW);
//    8-pixel patches are gathered into an L1 panel and fed to the GEMM tile (3x3 is its main customer).
//  - im2col + gemm_a4 for the rest (strided W), col2im for ConvTranspose.
//  - dwconv: depthwise (one input channel per output channel, any multiplier).
import { madd, activate, activate1, storeLanes } from './simd';
import { KC_A, PANEL, sliceA, tile_a4_8 } from './gemm';
import { fill_f32 } from './copy';
import { FEW_TAPS, few_tap_rows, splitRows, spconv_direct, spconv_direct_flat } from './sparse-direct';

/** Copies C planes of H x W into zero-padded planes of Hp x Wp with the image at (pt, pl). */
export function pad2d(x: usize, C: usize, H: usize, W: usize, pt: usize, pl: usize, Hp: usize, Wp: usize, xp: usize): void {
  // one fill for the whole padded block, then the rows: per-row fills cost more than they save
  // on the small planes of late layers (a bulk-memory call per 14-float row)
  memory.fill(xp, 0, (C * Hp * Wp) << 2);
  for (let c: usize = 0; c < C; c++) padRows(x + ((c * H * W) << 2), H, W, pt, pl, Hp, Wp, xp + ((c * Hp * Wp) << 2));
}

/** The image rows of one plane into the inside of its padded plane (the border is left as it is). */
// @ts-ignore: decorator
@inline function padRows(src: usize, H: usize, W: usize, pt: usize, pl: usize, Hp: usize, Wp: usize, plane: usize): void {
  const rowBytes = W << 2;
  let dst = plane + ((pt * Wp + pl) << 2);
  for (let h: usize = 0; h < H; h++) {
    if (rowBytes >= 256) {
      memory.copy(dst, src, rowBytes);
    } else {
      let i: usize = 0;
      for (; i + 16 <= rowBytes; i += 16) v128.store(dst + i, v128.load(src + i));
      for (; i < rowBytes; i += 4) store<f32>(dst + i, load<f32>(src + i));
    }
    src += rowBytes;
    dst += Wp << 2;
  }
}

/**
 * conv_panel_a4's list of patch-row offsets: up to CONV_MAX_K rows (longer patches work them out
 * per row), kept in PANEL past the KC_A rows of 32 bytes a gathered slice fills, so the module's
 * static data (and every session's wasm memory, which elastic artifacts record) stays as it was.
 */
const CONV_MAX_K: usize = 8192;
const CONV_OFFS: usize = PANEL + (KC_A << 5);

/**
 * Convolution with stride 1 or 2 along W (any stride sh along H, any kernel size and dilation) on a
 * padded input xp (Cin x Hp x Wp), weights packed by pack_a4 as Cout x (Cin*KH*KW).
 * For each block of 8 output pixels of a row, the K x 8 input patch is gathered (in slices of
 * at most KC_A rows) into the contiguous PANEL, then every 4-channel weight panel runs the GEMM tile over it:
 * an im2col of 8 pixels at a time that stays in L1 and is reused by all Cout/4 weight panels.
 * bias: 0 or ceil(Cout/4)*4 floats.
 */
export function conv_panel_a4(xp: usize, Cin: usize, Hp: usize, Wp: usize, w: usize, Cout: usize,
  KH: usize, KW: usize, sh: usize, sw: usize, dh: usize, dw: usize, y: usize, OH: usize, OW: usize,
  bias: usize, act: i32, p0: f32, p1: f32): void {
  const K = Cin * KH * KW;
  const KS = sliceA(K);
  const planeYB = (OH * OW) << 2;
  // the byte offset of each row k = (ci, kh, kw) of the patch from its block's first input pixel,
  // listed once: the gather is then a load of the offset and two (stride 1) or four (stride 2)
  // vector loads per row, where working out (ci, kh, kw) per row and block was most of a 3-channel
  // stem's time outside the multiply-adds (27 of its 87 µs)
  const listed = K <= CONV_MAX_K;
  if (listed) {
    let k: usize = 0;
    for (let ci: usize = 0; ci < Cin; ci++) {
      for (let kh: usize = 0; kh < KH; kh++) {
        for (let kw: usize = 0; kw < KW; kw++) store<u32>(CONV_OFFS + (k++ << 2), <u32>(((ci * Hp + kh * dh) * Wp + kw * dw) << 2));
      }
    }
  }
  for (let oh: usize = 0; oh < OH; oh++) {
    const row0 = xp + ((oh * sh * Wp) << 2);
    for (let ow: usize = 0; ow < OW; ow += 8) {
      const nv = min<usize>(8, OW - ow);
      const yo = y + ((oh * OW + ow) << 2);
      const base = row0 + ((ow * sw) << 2);
      // (ci, kh, kw) of the first row of the current K slice
      let ci: usize = 0, kh: usize = 0, kw: usize = 0;
      for (let k0: usize = 0; k0 < K; k0 += KS) {
        const kc = min<usize>(KS, K - k0);
        // gather the slice
        let d = PANEL;
        if (listed && nv == 8 && sw == 1) {
          for (let k = k0; k < k0 + kc; k++, d += 32) {
            const src = base + <usize>load<u32>(CONV_OFFS + (k << 2));
            v128.store(d, v128.load(src));
            v128.store(d, v128.load(src, 16), 16);
          }
        } else if (listed && nv == 8 && sw == 2) {
          // 8 pixels of stride 2: the even lanes of 16 consecutive floats
          for (let k = k0; k < k0 + kc; k++, d += 32) {
            const src = base + <usize>load<u32>(CONV_OFFS + (k << 2));
            v128.store(d, i32x4.shuffle(v128.load(src), v128.load(src, 16), 0, 2, 4, 6));
            v128.store(d, i32x4.shuffle(v128.load(src, 32), v128.load(src, 48), 0, 2, 4, 6), 16);
          }
        } else {
          for (let k: usize = 0; k < kc; k++) {
            const src = row0 + (((ci * Hp + kh * dh) * Wp + ow * sw + kw * dw) << 2);
            if (nv == 8 && sw == 1) {
              v128.store(d, v128.load(src));
              v128.store(d, v128.load(src, 16), 16);
            } else if (nv == 8 && sw == 2) {
              v128.store(d, i32x4.shuffle(v128.load(src), v128.load(src, 16), 0, 2, 4, 6));
              v128.store(d, i32x4.shuffle(v128.load(src, 32), v128.load(src, 48), 0, 2, 4, 6), 16);
            } else {
              v128.store(d, f32x4.splat(0));
              v128.store(d, f32x4.splat(0), 16);
              for (let j: usize = 0; j < nv; j++) store<f32>(d + (j << 2), load<f32>(src + ((j * sw) << 2)));
            }
            d += 32;
            if (++kw == KW) { kw = 0; if (++kh == KH) { kh = 0; ci++; } }
          }
        }
        const first = k0 == 0, last = k0 + kc >= K;
        for (let co: usize = 0; co < Cout; co += 4) {
          tile_a4_8(w + ((co * K + k0 * 4) << 2), kc, PANEL, yo + co * planeYB, planeYB,
            min<usize>(4, Cout - co), nv, first, last, bias ? bias + (co << 2) : 0, act, p0, p1);
        }
      }
    }
  }
}

/**
 * im2col for one image: col[(c*KH + kh)*KW + kw][oh*OW + ow] = x[c][oh*sh - pt + kh*dh][ow*sw - pl + kw*dw]
 * (zero outside the image). col must hold C*KH*KW*OH*OW floats.
 */
export function im2col(x: usize, C: usize, H: usize, W: usize, KH: usize, KW: usize,
  sh: usize, sw: usize, pt: usize, pl: usize, dh: usize, dw: usize, OH: usize, OW: usize, col: usize): void {
  im2col_ld(x, C, H, W, KH, KW, sh, sw, pt, pl, dh, dw, OH, OW, col, OH * OW);
}

/**
 * im2col with a row stride `ld` (floats), so the columns of several images sit side by side in
 * one [C·KH·KW, ld] matrix (least-squares reconstruction, src/fit/reconstruct.ts): row
 * (c·KH + kh)·KW + kw, columns oh·OW + ow.
 */
export function im2col_ld(x: usize, C: usize, H: usize, W: usize, KH: usize, KW: usize,
  sh: usize, sw: usize, pt: usize, pl: usize, dh: usize, dw: usize, OH: usize, OW: usize, col: usize, ld: usize): void {
  let r: usize = 0;
  for (let c: usize = 0; c < C; c++) {
    const plane = x + ((c * H * W) << 2);
    for (let kh: usize = 0; kh < KH; kh++) {
      for (let kw: usize = 0; kw < KW; kw++) {
        let d = col + ((r * ld) << 2);
        r++;
        for (let oh: usize = 0; oh < OH; oh++) {
          const ih = <isize>(oh * sh + kh * dh) - <isize>pt;
          if (ih < 0 || ih >= <isize>H) {
            memory.fill(d, 0, OW << 2);
            d += OW << 2;
            continue;
          }
          const row = plane + ((<usize>ih * W) << 2);
          let iw = <isize>(kw * dw) - <isize>pl;
          if (sw == 1 && iw >= 0 && iw + <isize>OW <= <isize>W) {
            memory.copy(d, row + (<usize>iw << 2), OW << 2);
            d += OW << 2;
            continue;
          }
          for (let ow: usize = 0; ow < OW; ow++) {
            store<f32>(d, iw >= 0 && iw < <isize>W ? load<f32>(row + (<usize>iw << 2)) : 0);
            d += 4;
            iw += <isize>sw;
          }
        }
      }
    }
  }
}

/**
 * col2im with accumulation, for ConvTranspose: y[c][oh][ow] += col[(c*KH + kh)*KW + kw][ih*W + iw]
 * where oh = ih*sh - pt + kh*dh, ow = iw*sw - pl + kw*dw (positions outside y are dropped).
 */
export function col2im_add(col: usize, C: usize, H: usize, W: usize, KH: usize, KW: usize,
  sh: usize, sw: usize, pt: usize, pl: usize, dh: usize, dw: usize, OH: usize, OW: usize, y: usize): void {
  let s = col;
  for (let c: usize = 0; c < C; c++) {
    const plane = y + ((c * OH * OW) << 2);
    for (let kh: usize = 0; kh < KH; kh++) {
      for (let kw: usize = 0; kw < KW; kw++) {
        for (let ih: usize = 0; ih < H; ih++) {
          const oh = <isize>(ih * sh + kh * dh) - <isize>pt;
          if (oh < 0 || oh >= <isize>OH) { s += W << 2; continue; }
          const row = plane + ((<usize>oh * OW) << 2);
          let ow = <isize>(kw * dw) - <isize>pl;
          for (let iw: usize = 0; iw < W; iw++) {
            if (ow >= 0 && ow < <isize>OW) {
              const p = row + (<usize>ow << 2);
              store<f32>(p, load<f32>(p) + load<f32>(s));
            }
            s += 4;
            ow += <isize>sw;
          }
        }
      }
    }
  }
}

/**
 * col2im for the ConvTranspose that upsamples without overlap: kernel KH x 2, stride KH x 2, no
 * pads, dilation or output padding (U-Net and FPN-style heads, PaddleOCR's detector). Every output
 * pixel then takes exactly one column value: row kh of output row ih * KH + kh interleaves the
 * column rows (c, kh, kw = 0) and (c, kh, kw = 1), which two shuffles do four pixels at a time,
 * with the bias and the activation, in one pass (instead of bias planes, a scatter-add, and an
 * activation pass). col: (C * KH * 2) x (H * W); y: C x (H * KH) x (2 * W).
 */
export function col2im_up2(col: usize, C: usize, H: usize, W: usize, KH: usize, y: usize, bias: usize, act: i32, p0: f32, p1: f32): void {
  const lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  const HW = H * W;
  for (let c: usize = 0; c < C; c++) {
    const bs: f32 = bias ? load<f32>(bias + (c << 2)) : 0;
    const bv = f32x4.splat(bs);
    for (let kh: usize = 0; kh < KH; kh++) {
      const a0 = col + ((((c * KH + kh) * 2) * HW) << 2);
      const b0 = a0 + (HW << 2);
      for (let ih: usize = 0; ih < H; ih++) {
        const a = a0 + ((ih * W) << 2), b = b0 + ((ih * W) << 2);
        const out = y + (((c * H * KH + ih * KH + kh) * 2 * W) << 2);
        let iw: usize = 0;
        for (; iw + 4 <= W; iw += 4) {
          const va = v128.load(a + (iw << 2)), vb = v128.load(b + (iw << 2));
          v128.store(out + (iw << 3), activate(f32x4.add(i32x4.shuffle(va, vb, 0, 4, 1, 5), bv), act, lo, hi));
          v128.store(out + (iw << 3), activate(f32x4.add(i32x4.shuffle(va, vb, 2, 6, 3, 7), bv), act, lo, hi), 16);
        }
        for (; iw < W; iw++) {
          store<f32>(out + (iw << 3), activate1(load<f32>(a + (iw << 2)) + bs, act, p0, p1));
          store<f32>(out + (iw << 3), activate1(load<f32>(b + (iw << 2)) + bs, act, p0, p1), 4);
        }
      }
    }
  }
}

/** bias + the nine stride-1 taps of 4 output pixels whose three input rows start at p0, p1, p2. */
// @ts-ignore: decorator
@inline function taps3x3(p0: usize, p1: usize, p2: usize, w0: v128, w1: v128, w2: v128, w3: v128, w4: v128, w5: v128,
  w6: v128, w7: v128, w8: v128, bv: v128): v128 {
  let a = madd(w0, v128.load(p0), bv);
  a = madd(w1, v128.load(p0, 4), a);
  a = madd(w2, v128.load(p0, 8), a);
  a = madd(w3, v128.load(p1), a);
  a = madd(w4, v128.load(p1, 4), a);
  a = madd(w5, v128.load(p1, 8), a);
  a = madd(w6, v128.load(p2), a);
  a = madd(w7, v128.load(p2, 4), a);
  return madd(w8, v128.load(p2, 8), a);
}

/** The last, partial group of 4 (from column ow) of `rows` consecutive stride-1 output rows of dw3x3_plane. */
// @ts-ignore: decorator
@inline function dw3x3Rows(r0: usize, rowB: usize, w0: v128, w1: v128, w2: v128, w3: v128, w4: v128, w5: v128, w6: v128, w7: v128, w8: v128,
  bv: v128, act: i32, lo: v128, hi: v128, y: usize, ow: usize, OW: usize, rows: usize, yStride: usize): void {
  const o = ow << 2;
  for (let i: usize = 0; i < rows; i++) {
    const a0 = r0 + i * rowB + o;
    const a = taps3x3(a0, a0 + rowB, a0 + 2 * rowB, w0, w1, w2, w3, w4, w5, w6, w7, w8, bv);
    storeLanes(y + ((i * yStride + ow) << 2), activate(a, act, lo, hi), <i32>(OW - ow));
  }
}

/**
 * One channel of a 3x3 undilated depthwise convolution: the nine weights stay in registers for
 * the whole plane, each output vector is nine fused taps with no loop or weight loads.
 * Stride 1: 4 pixels from unaligned loads; stride 2: the even lanes of two loads.
 */
export function dw3x3_plane(plane: usize, Wp: usize, w: usize, sh: usize, sw: usize, y: usize, OH: usize, OW: usize,
  bs: f32, act: i32, p0: f32, p1: f32): void {
  const w0 = v128.load32_splat(w), w1 = v128.load32_splat(w, 4), w2 = v128.load32_splat(w, 8);
  const w3 = v128.load32_splat(w, 12), w4 = v128.load32_splat(w, 16), w5 = v128.load32_splat(w, 20);
  const w6 = v128.load32_splat(w, 24), w7 = v128.load32_splat(w, 28), w8 = v128.load32_splat(w, 32);
  const bv = f32x4.splat(bs), lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  const rowB = Wp << 2;
  for (let oh: usize = 0; oh < OH; oh++) {
    const r0 = plane + ((oh * sh * Wp) << 2), r1 = r0 + rowB, r2 = r1 + rowB;
    const yrow = y + ((oh * OW) << 2);
    // the last group of a row may be partial: it is computed whole (reading a few floats past the
    // row, which the heap and the arena keep readable) and only its valid lanes are stored
    for (let ow: usize = 0; ow < OW; ow += 4) {
      let a: v128;
      if (sw == 1) {
        const o = ow << 2;
        a = taps3x3(r0 + o, r1 + o, r2 + o, w0, w1, w2, w3, w4, w5, w6, w7, w8, bv);
      } else {
        const o = ow << 3; // input columns 2*ow ..: taps are the even lanes, the odd lanes, the evens shifted by one
        let v0 = v128.load(r0 + o), v1 = v128.load(r0 + o, 16), v2 = v128.load(r0 + o, 32);
        let e = i32x4.shuffle(v0, v1, 0, 2, 4, 6), d = i32x4.shuffle(v0, v1, 1, 3, 5, 7);
        a = madd(w0, e, bv);
        a = madd(w1, d, a);
        a = madd(w2, i32x4.shuffle(e, v2, 1, 2, 3, 4), a);
        v0 = v128.load(r1 + o); v1 = v128.load(r1 + o, 16); v2 = v128.load(r1 + o, 32);
        e = i32x4.shuffle(v0, v1, 0, 2, 4, 6); d = i32x4.shuffle(v0, v1, 1, 3, 5, 7);
        a = madd(w3, e, a);
        a = madd(w4, d, a);
        a = madd(w5, i32x4.shuffle(e, v2, 1, 2, 3, 4), a);
        v0 = v128.load(r2 + o); v1 = v128.load(r2 + o, 16); v2 = v128.load(r2 + o, 32);
        e = i32x4.shuffle(v0, v1, 0, 2, 4, 6); d = i32x4.shuffle(v0, v1, 1, 3, 5, 7);
        a = madd(w6, e, a);
        a = madd(w7, d, a);
        a = madd(w8, i32x4.shuffle(e, v2, 1, 2, 3, 4), a);
      }
      a = activate(a, act, lo, hi);
      if (ow + 4 <= OW) v128.store(yrow + (ow << 2), a);
      else storeLanes(yrow + (ow << 2), a, <i32>(OW - ow));
    }
  }
}

/**
 * dw3x3_plane at stride 1, two output rows a step: they share two of their three input rows, so
 * each input vector loaded feeds up to six multiply-adds (12 loads for 18, instead of 9 for 9):
 * 0.71-0.93x the time of dw3x3_plane on 7x7 to 56x56 maps. A function of its own, so the stride-2
 * loops of dw3x3_plane keep their code (they ran 5-7% slower beside this one). An odd last row runs
 * dw3x3_plane.
 */
export function dw3x3_s1(plane: usize, Wp: usize, w: usize, y: usize, OH: usize, OW: usize,
  bs: f32, act: i32, p0: f32, p1: f32): void {
  const w0 = v128.load32_splat(w), w1 = v128.load32_splat(w, 4), w2 = v128.load32_splat(w, 8);
  const w3 = v128.load32_splat(w, 12), w4 = v128.load32_splat(w, 16), w5 = v128.load32_splat(w, 20);
  const w6 = v128.load32_splat(w, 24), w7 = v128.load32_splat(w, 28), w8 = v128.load32_splat(w, 32);
  const bv = f32x4.splat(bs), lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  const rowB = Wp << 2;
  let oh: usize = 0;
  // two output rows a step: they share two of their three input rows, so each input vector
  // loaded feeds up to six multiply-adds (12 loads for 18, instead of 9 for 9); whole groups of
  // 4 only, the row's tail below
  const OW4 = OW & ~3;
  for (; oh + 2 <= OH; oh += 2) {
    const r0 = plane + ((oh * Wp) << 2), r1 = r0 + rowB, r2 = r1 + rowB, r3 = r2 + rowB;
    const ya = y + ((oh * OW) << 2), yb = ya + (OW << 2);
    for (let ow: usize = 0; ow < OW4; ow += 4) {
      const o = ow << 2;
      let x0 = v128.load(r0 + o), x1 = v128.load(r0 + o, 4), x2 = v128.load(r0 + o, 8);
      let a = madd(w0, x0, bv);
      a = madd(w1, x1, a);
      a = madd(w2, x2, a);
      x0 = v128.load(r1 + o); x1 = v128.load(r1 + o, 4); x2 = v128.load(r1 + o, 8);
      a = madd(w3, x0, a);
      let b = madd(w0, x0, bv);
      a = madd(w4, x1, a);
      b = madd(w1, x1, b);
      a = madd(w5, x2, a);
      b = madd(w2, x2, b);
      x0 = v128.load(r2 + o); x1 = v128.load(r2 + o, 4); x2 = v128.load(r2 + o, 8);
      a = madd(w6, x0, a);
      b = madd(w3, x0, b);
      a = madd(w7, x1, a);
      b = madd(w4, x1, b);
      a = madd(w8, x2, a);
      b = madd(w5, x2, b);
      x0 = v128.load(r3 + o); x1 = v128.load(r3 + o, 4); x2 = v128.load(r3 + o, 8);
      b = madd(w6, x0, b);
      b = madd(w7, x1, b);
      b = madd(w8, x2, b);
      v128.store(ya + o, activate(a, act, lo, hi));
      v128.store(yb + o, activate(b, act, lo, hi));
    }
    if (OW4 < OW) dw3x3Rows(r0, rowB, w0, w1, w2, w3, w4, w5, w6, w7, w8, bv, act, lo, hi, ya, OW4, OW, 2, OW);
  }
  if (oh < OH) dw3x3_plane(plane + ((oh * Wp) << 2), Wp, w, 1, 1, y + ((oh * OW) << 2), 1, OW, bs, act, p0, p1);
}

/** acc + the 5 taps of one kernel row (weights at wk) over 4 pixels of one input row at r. */
// @ts-ignore: decorator
@inline function taps5(wk: usize, r: usize, acc: v128): v128 {
  acc = madd(v128.load32_splat(wk), v128.load(r), acc);
  acc = madd(v128.load32_splat(wk, 4), v128.load(r, 4), acc);
  acc = madd(v128.load32_splat(wk, 8), v128.load(r, 8), acc);
  acc = madd(v128.load32_splat(wk, 12), v128.load(r, 12), acc);
  return madd(v128.load32_splat(wk, 16), v128.load(r, 16), acc);
}

/**
 * dw5x5_plane at stride 1 along H too, two output rows a step: input row r feeds kernel row r of
 * the first output row and kernel row r - 1 of the second, so the six input rows are loaded once
 * for both (60 input loads and 50 weight broadcasts for 100 multiply-adds, instead of 150 loads).
 * An odd last row, and a row's last partial group, run dw5x5_plane.
 */
export function dw5x5_s1(plane: usize, Wp: usize, w: usize, y: usize, OH: usize, OW: usize,
  bs: f32, act: i32, p0: f32, p1: f32): void {
  const bv = f32x4.splat(bs), lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  const rowB = Wp << 2;
  let oh: usize = 0;
  for (; oh + 2 <= OH; oh += 2) {
    const r0 = plane + ((oh * Wp) << 2);
    const ya = y + ((oh * OW) << 2), yb = ya + (OW << 2);
    // a partial last group is computed whole (reading a few floats past the row, which the heap
    // and the arena keep readable) and only its valid lanes are stored
    for (let ow: usize = 0; ow < OW; ow += 8) {
      let a0 = bv, a1 = bv, b0 = bv, b1 = bv;
      let r = r0 + (ow << 2);
      // input row 0: the first output row's kernel row 0 only
      a0 = taps5(w, r, a0);
      a1 = taps5(w, r + 16, a1);
      r += rowB;
      // input rows 1-4: kernel row i of the first, i - 1 of the second
      for (let i: usize = 1; i < 5; i++) {
        a0 = taps5(w + i * 20, r, a0);
        a1 = taps5(w + i * 20, r + 16, a1);
        b0 = taps5(w + (i - 1) * 20, r, b0);
        b1 = taps5(w + (i - 1) * 20, r + 16, b1);
        r += rowB;
      }
      // input row 5: the second output row's kernel row 4 only
      b0 = taps5(w + 80, r, b0);
      b1 = taps5(w + 80, r + 16, b1);
      store8(ya + (ow << 2), activate(a0, act, lo, hi), activate(a1, act, lo, hi), OW - ow);
      store8(yb + (ow << 2), activate(b0, act, lo, hi), activate(b1, act, lo, hi), OW - ow);
    }
  }
  if (oh < OH) dw5x5_plane(plane + ((oh * Wp) << 2), Wp, w, 1, y + ((oh * OW) << 2), 1, OW, bs, act, p0, p1);
}

/** Stores the first min(8, n) floats of the pair (a, b) at p. */
// @ts-ignore: decorator
@inline function store8(p: usize, a: v128, b: v128, n: usize): void {
  if (n >= 8) {
    v128.store(p, a);
    v128.store(p, b, 16);
  } else if (n >= 4) {
    v128.store(p, a);
    storeLanes(p + 16, b, <i32>(n - 4));
  } else {
    storeLanes(p, a, <i32>n);
  }
}

/**
 * One channel of a 5x5 undilated depthwise convolution with stride 1 along W (MobileNetV3's and
 * PaddleOCR's large kernels): 8 pixels a step, the 25 taps unrolled (weights broadcast from
 * memory, constant offsets, no loop counters), and four accumulators (rows 0-2 and 3-4 of the
 * kernel for each 4 pixels) so the multiply-add chains are 15 and 10 long instead of one chain of
 * 25: the generic loop was bound by that latency.
 */
export function dw5x5_plane(plane: usize, Wp: usize, w: usize, sh: usize, y: usize, OH: usize, OW: usize,
  bs: f32, act: i32, p0: f32, p1: f32): void {
  const bv = f32x4.splat(bs), z = f32x4.splat(0), lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  const rowB = Wp << 2;
  for (let oh: usize = 0; oh < OH; oh++) {
    const r0 = plane + ((oh * sh * Wp) << 2);
    const yrow = y + ((oh * OW) << 2);
    // a partial last group is computed whole (reading a few floats past the row, which the heap
    // and the arena keep readable) and only its valid lanes are stored
    for (let ow: usize = 0; ow < OW; ow += 8) {
      let a0 = bv, b0 = bv, a1 = z, b1 = z;
      let r = r0 + (ow << 2);
      // kernel rows 0-2 into a0/b0, rows 3-4 into a1/b1 (the same weight broadcast twice per tap
      // is one load: nothing is stored in between)
      for (let kh: usize = 0; kh < 3; kh++) {
        a0 = taps5(w + kh * 20, r, a0);
        b0 = taps5(w + kh * 20, r + 16, b0);
        r += rowB;
      }
      for (let kh: usize = 3; kh < 5; kh++) {
        a1 = taps5(w + kh * 20, r, a1);
        b1 = taps5(w + kh * 20, r + 16, b1);
        r += rowB;
      }
      const a = activate(f32x4.add(a0, a1), act, lo, hi);
      const b = activate(f32x4.add(b0, b1), act, lo, hi);
      const yp = yrow + (ow << 2);
      if (ow + 8 <= OW) {
        v128.store(yp, a);
        v128.store(yp, b, 16);
      } else if (ow + 4 <= OW) {
        v128.store(yp, a);
        storeLanes(yp + 16, b, <i32>(OW - ow - 4));
      } else {
        storeLanes(yp, a, <i32>(OW - ow));
      }
    }
  }
}

/**
 * Depthwise convolution: output channel co reads input channel co / mult of x (C x H x W).
 * plane: 0 when x needs no padding (then H, W = Hp, Wp), else room for one Hp x Wp plane into which
 * each input channel is zero-padded (image at pt, pl) just before its output channels run, so the
 * plane is read from L1 and the scratch is one plane, not C. tmp: 0, or room for
 * (OH - 1) * Wp + OW + 4 floats (stride 1, rows under 28 pixels) for dw_sparse_plane's run over the
 * padded width. A channel with no kept tap needs no input at all; the others run dw_sparse_plane
 * (their kept taps only; at stride 2 along W only when there is a plane, to split by columns)
 * unless a 3x3 or 5x5 plane kernel fits and keeps most of the taps (see below).
 * w: Cout x KH x KW (unpacked). bias: 0 or Cout floats.
 * The plane kernels are vectorised along the output row: 8 and 4 pixels at a time for stride 1;
 * for stride 2, 4 pixels from two loads whose even lanes are picked by a shuffle; scalar for the rest.
 */
export function dwconv(x: usize, H: usize, W: usize, pt: usize, pl: usize, Hp: usize, Wp: usize, plane: usize, tmp: usize,
  w: usize, Cout: usize, mult: usize, KH: usize, KW: usize, sh: usize, sw: usize, dh: usize, dw: usize,
  y: usize, OH: usize, OW: usize, bias: usize, act: i32, p0: f32, p1: f32): void {
  const KK = KH * KW;
  // output rows whose window reaches into the zero rows above the image ([0, r0)) or below it
  // ([r1, OH)): there only the kernel rows over the image count, which on a map of a few rows is
  // most of the work (5x5 on 3 rows: 15 of 25 taps). Those rows run the tap list of just those
  // kernel rows, one row at a time; rows in between run as before.
  const reach = <isize>((KH - 1) * dh);
  const r0 = <isize>min((pt + sh - 1) / sh, OH);
  const last = <isize>(H + pt) - 1 - reach; // the last first-row of a window that ends on the image
  const r1 = last < 0 ? r0 : max(r0, min(<isize>OH, last / <isize>sh + 1));
  // a call per edge row (its tap list built, its blocks set up) pays where the taps it skips add
  // up: from about 400 kept tap-pixels an edge row, on rows of 28 pixels or more (shorter rows run
  // in 4-pixel steps, or as one run over the padded width, which per-row calls would lose). The
  // share of a channel's taps that are kept stands in for that share among the skipped ones.
  let skipped: usize = 0, edgeRows: usize = 0;
  for (let oh: isize = 0; oh < <isize>OH; oh++) {
    if (oh == r0) oh = r1;
    if (oh >= <isize>OH) break;
    skipped += (KH - dwKernelRows(oh, pt, sh, dh, H, KH)) * KW * OW;
    edgeRows++;
  }
  const trimEdges = edgeRows > 0 && OW >= 28 && KK <= DW_MAX_TAPS;
  let paddedChannel: isize = -1;
  // the layout the plane holds (0 plain, 1 column-split, -1 nothing yet): its border is zero for
  // it, so a channel in the same layout only copies its rows in
  let zeroBorder: i32 = -1;
  for (let co: usize = 0; co < Cout; co++) {
    const ci = co / mult;
    const wc = w + ((co * KK) << 2);
    const bs: f32 = bias ? load<f32>(bias + (co << 2)) : 0;
    const yplane = y + ((co * OH * OW) << 2);
    // counted and listed without branches: a pruned kernel's zeros fall at random, and a
    // mispredicted branch per tap cost more than the taps of a 10x10 map
    let kept: i32 = 0;
    for (let t: usize = 0; t < KK; t++) kept += <i32>(load<f32>(wc + (t << 2)) != 0);
    if (kept == 0) {
      fill_f32(yplane, activate1(bs, act, p0, p1), OH * OW); // no kept tap: the activated bias
      continue;
    }
    // the kept-tap list (dw_sparse_plane) sums only the kept taps, in blocks of up to 28 pixels; at
    // stride 2 along W it needs the column-split plane (pad2d_split), so a plane to pad into. Even
    // with every tap kept it beats the generic dw_plane (5x5 at stride 2, 7x7: 0.51-0.58x its
    // time). The 3x3 and 5x5 plane kernels keep the channels with more than 3/4 of their taps on
    // rows of 28 pixels or more (10 or more run over the padded width), more than half on shorter
    // rows: with every tap the list ran 0.78-0.97x their time on long rows but 1.16-1.39x on 7-14
    // pixel rows, and it added 3.5% to a dense MobileNetV3's cold start (its kernels compiled in a
    // first run as well as the plane kernels); at 50-60% of the taps it ran 0.69-0.84x their time
    // on long rows, 1.2x on 7-pixel rows. At stride 2 on rows under 28 pixels the 3x3 plane
    // kernel keeps every channel: the column-split copy the list reads cost more than the taps it
    // skips (128 channels of 14x14 at 20% of the taps: 15.3 -> 10.1 µs; 256 of 10x10: 17.4 -> 15.1)
    const flatTmp = sw == 1 && sh == 1 ? tmp : 0;
    const planeKernel = KH == KW && (KH == 3 || (KH == 5 && sw == 1)) && dh == 1 && dw == 1 && (sw == 1 || sw == 2);
    const longRows = OW >= 28 || (flatTmp != 0 && OW >= 10);
    const sparse = KK <= DW_MAX_TAPS && (sw == 1 || (sw == 2 && plane != 0))
      && (!planeKernel || (longRows ? <usize>kept * 4 <= KK * 3 : sw == 1 && <usize>kept * 2 <= KK));
    let src = x + ((ci * H * W) << 2);
    if (plane) {
      const split = sparse && sw == 2;
      const layout: i32 = split ? 1 : 0;
      if (paddedChannel != <isize>ci || zeroBorder != layout) {
        if (zeroBorder != layout) memory.fill(plane, 0, (Hp * Wp) << 2);
        zeroBorder = layout;
        if (split) splitRows(src, H, W, pt, pl, Hp, Wp, plane);
        else padRows(src, H, W, pt, pl, Hp, Wp, plane);
      }
      paddedChannel = <isize>ci;
      src = plane;
    }
    // the edge rows need the tap list, so a layout it reads: plain (stride 1) or column-split
    const edges = trimEdges && (sw == 1 || sparse) && skipped * <usize>kept >= 400 * edgeRows * KK;
    let first: usize = 0, rows = OH;
    if (edges) {
      for (let oh: isize = 0; oh < <isize>OH; oh++) {
        if (oh == r0) oh = r1;
        if (oh >= <isize>OH) break;
        const khLo = dwFirstKernelRow(oh, pt, sh, dh);
        dw_sparse_plane(src + ((<usize>oh * sh * Wp) << 2), Wp, wc, KH, KW, khLo, khLo + dwKernelRows(oh, pt, sh, dh, H, KH), sh, sw, dh, dw,
          yplane + ((<usize>oh * OW) << 2), 1, OW, bs, act, p0, p1, 0);
      }
      first = <usize>r0;
      rows = <usize>(r1 - r0);
      if (rows == 0) continue;
    }
    const srcRows = src + ((first * sh * Wp) << 2), yRows = yplane + ((first * OW) << 2);
    if (sparse) {
      dw_sparse_plane(srcRows, Wp, wc, KH, KW, 0, KH, sh, sw, dh, dw, yRows, rows, OW, bs, act, p0, p1, flatTmp);
      continue;
    }
    if (KH == 3 && KW == 3 && dh == 1 && dw == 1 && (sw == 1 || sw == 2)) {
      if (sw == 1 && sh == 1 && rows >= 2) dw3x3_s1(srcRows, Wp, wc, yRows, rows, OW, bs, act, p0, p1);
      else dw3x3_plane(srcRows, Wp, wc, sh, sw, yRows, rows, OW, bs, act, p0, p1);
      continue;
    }
    if (KH == 5 && KW == 5 && dh == 1 && dw == 1 && sw == 1) {
      if (sh == 1 && rows >= 2) dw5x5_s1(srcRows, Wp, wc, yRows, rows, OW, bs, act, p0, p1);
      else dw5x5_plane(srcRows, Wp, wc, sh, yRows, rows, OW, bs, act, p0, p1);
      continue;
    }
    dw_plane(srcRows, Wp, wc, KH, KW, sh, sw, dh, dw, yRows, rows, OW, bs, act, p0, p1);
  }
}

/** The first kernel row of output row oh's window on the image (0 <= oh * sh + kh * dh - pt). */
// @ts-ignore: decorator
@inline function dwFirstKernelRow(oh: isize, pt: usize, sh: usize, dh: usize): usize {
  const top = <isize>pt - oh * <isize>sh;
  return top > 0 ? <usize>((top + <isize>dh - 1) / <isize>dh) : 0;
}

/** How many kernel rows of output row oh's window fall on the image's H rows (from dwFirstKernelRow on). */
// @ts-ignore: decorator
@inline function dwKernelRows(oh: isize, pt: usize, sh: usize, dh: usize, H: usize, KH: usize): usize {
  const bottom = <isize>(H + pt) - 1 - oh * <isize>sh; // kh * dh may reach this far
  const hi = bottom < 0 ? 0 : min(<isize>KH, bottom / <isize>dh + 1);
  return <usize>max(0, hi - <isize>dwFirstKernelRow(oh, pt, sh, dh));
}

/**
 * One channel of a depthwise conv of any kernel size, stride and dilation (the sizes without a
 * plane kernel of their own). A function of its own (exported so binaryen keeps it out of dwconv):
 * V8 compiles each wasm function on its first call and optimizes it once it has run a while, on a
 * background thread; inlined, these loops made dwconv a 1.6 kB function whose optimized compile
 * (7-15 ms) held up those of the kernels a model's first run spends its time in.
 */
export function dw_plane(plane: usize, Wp: usize, wc: usize, KH: usize, KW: usize, sh: usize, sw: usize,
  dh: usize, dw: usize, yplane: usize, OH: usize, OW: usize, bs: f32, act: i32, p0: f32, p1: f32): void {
  const lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  const bv = f32x4.splat(bs);
  const rowStep = (dh * Wp) << 2, tapStep = dw << 2;
  for (let oh: usize = 0; oh < OH; oh++) {
    const rowBase = plane + ((oh * sh * Wp) << 2);
    const yrow = yplane + ((oh * OW) << 2);
    let ow: usize = 0;
    if (sw == 1) {
      for (; ow + 8 <= OW; ow += 8) {
        let a0 = bv, a1 = bv;
        let wp = wc;
        let row = rowBase + (ow << 2);
        for (let kh: usize = 0; kh < KH; kh++) {
          let p = row;
          for (let kw: usize = 0; kw < KW; kw++) {
            const wv = v128.load32_splat(wp);
            a0 = madd(wv, v128.load(p), a0);
            a1 = madd(wv, v128.load(p, 16), a1);
            wp += 4; p += tapStep;
          }
          row += rowStep;
        }
        v128.store(yrow + (ow << 2), activate(a0, act, lo, hi));
        v128.store(yrow + (ow << 2), activate(a1, act, lo, hi), 16);
      }
      for (; ow + 4 <= OW; ow += 4) {
        let a0 = bv;
        let wp = wc;
        let row = rowBase + (ow << 2);
        for (let kh: usize = 0; kh < KH; kh++) {
          let p = row;
          for (let kw: usize = 0; kw < KW; kw++) {
            a0 = madd(v128.load32_splat(wp), v128.load(p), a0);
            wp += 4; p += tapStep;
          }
          row += rowStep;
        }
        v128.store(yrow + (ow << 2), activate(a0, act, lo, hi));
      }
    } else if (sw == 2) {
      // the 4 outputs need input columns 2ow, 2ow+2, 2ow+4, 2ow+6 (+ tap offset): the even lanes of 8
      for (; ow + 4 <= OW; ow += 4) {
        let a0 = bv;
        let wp = wc;
        let row = rowBase + (ow << 3);
        for (let kh: usize = 0; kh < KH; kh++) {
          let p = row;
          for (let kw: usize = 0; kw < KW; kw++) {
            const even = i32x4.shuffle(v128.load(p), v128.load(p, 16), 0, 2, 4, 6);
            a0 = madd(v128.load32_splat(wp), even, a0);
            wp += 4; p += tapStep;
          }
          row += rowStep;
        }
        v128.store(yrow + (ow << 2), activate(a0, act, lo, hi));
      }
    }
    for (; ow < OW; ow++) {
      let acc: f32 = bs;
      let wp = wc;
      let row = rowBase + ((ow * sw) << 2);
      for (let kh: usize = 0; kh < KH; kh++) {
        let p = row;
        for (let kw: usize = 0; kw < KW; kw++) {
          acc += load<f32>(wp) * load<f32>(p);
          wp += 4; p += tapStep;
        }
        row += rowStep;
      }
      store<f32>(yrow + (ow << 2), activate1(acc, act, p0, p1));
    }
  }
}

/** Most taps a depthwise kernel may have for dw_sparse_plane (its tap list is static data). */
const DW_MAX_TAPS: usize = 64;
/** (byte offset, weight) pairs, the direct sparse conv's layout. */
const DW_TAPS: usize = memory.data(<i32>(DW_MAX_TAPS << 3), 16);
/** The tap list's CSR row (0, kept) and its bias, for spconv_direct. */
const DW_ROW_PTR: usize = memory.data(8, 16);
const DW_BIAS: usize = memory.data(4, 16);

/**
 * One channel of a pruned depthwise conv: its kept (non-zero) taps become a list of byte offsets
 * and weights, run as one output channel of the direct sparse conv (spconv_direct: blocks of 28
 * pixels, seven multiply-add chains; spconv_direct_flat when tmp is given: stride 1, short rows
 * as one run over the padded width), or with FEW_TAPS or fewer as rows of vectors (few_tap_rows),
 * so the cost follows the kept taps. Stride 2 along W reads a
 * column-split plane (pad2d_split): the tap's column 2 * ow + kw * dw is then at a fixed offset
 * plus ow. The taps are summed in dw_plane's order, zeros left out. Only kernel rows khLo..khHi-1
 * are listed: the rows of a window that fall on the zero rows above or below the image add
 * nothing. Exported, like dw_plane, so binaryen keeps it out of dwconv.
 */
export function dw_sparse_plane(plane: usize, Wp: usize, wc: usize, KH: usize, KW: usize, khLo: usize, khHi: usize,
  sh: usize, sw: usize, dh: usize, dw: usize, yplane: usize, OH: usize, OW: usize, bs: f32, act: i32, p0: f32, p1: f32, tmp: usize): void {
  const We = (Wp + 1) >> 1;
  let n: usize = 0;
  for (let kh = khLo; kh < khHi; kh++) {
    for (let kw: usize = 0; kw < KW; kw++) {
      // every tap is written at n, and n moves on past the kept ones (no branch on the weight)
      const wt = load<f32>(wc + ((kh * KW + kw) << 2));
      const c = kw * dw;
      const col = sw == 1 ? c : (c & 1) == 0 ? c >> 1 : We + (c >> 1);
      store<u32>(DW_TAPS + (n << 3), <u32>((kh * dh * Wp + col) << 2));
      store<f32>(DW_TAPS + (n << 3), wt, 4);
      n += <usize>(wt != 0);
    }
  }
  if (n <= FEW_TAPS) {
    few_tap_rows(DW_TAPS, n, plane, (sh * Wp) << 2, yplane, OH, OW, bs, act, p0, p1);
    return;
  }
  // one output channel of the direct sparse conv over the list (called, not inlined: the kernels
  // are compiled once, and a first run's baseline code stays small)
  store<u32>(DW_ROW_PTR, 0);
  store<u32>(DW_ROW_PTR, <u32>n, 4);
  store<f32>(DW_BIAS, bs);
  if (tmp) spconv_direct_flat(DW_ROW_PTR, DW_TAPS, 1, plane, OH, Wp, OW, yplane, 0, DW_BIAS, act, p0, p1, tmp);
  else spconv_direct(DW_ROW_PTR, DW_TAPS, 1, plane, OH, (sh * Wp) << 2, OW, yplane, 0, DW_BIAS, act, p0, p1);
}


/** y[c][i] = bias[c] for C planes of HW (bias 0: zeros). The ConvTranspose accumulator's start. */
export function fill_channels(y: usize, C: usize, HW: usize, bias: usize): void {
  for (let c: usize = 0; c < C; c++) {
    const v = bias ? load<f32>(bias + (c << 2)) : <f32>0;
    const vv = f32x4.splat(v);
    let p = y + ((c * HW) << 2);
    const end = p + (HW << 2);
    for (; p + 16 <= end; p += 16) v128.store(p, vv);
    for (; p < end; p += 4) store<f32>(p, v);
  }
}

/** Applies an epilogue activation in place to n floats (for kernels that cannot fuse it). */
export function activate_inplace(y: usize, n: usize, act: i32, p0: f32, p1: f32): void {
  const lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  let p = y;
  const end = y + (n << 2);
  for (; p + 16 <= end; p += 16) v128.store(p, activate(v128.load(p), act, lo, hi));
  for (; p < end; p += 4) store<f32>(p, activate1(load<f32>(p), act, p0, p1));
}
