// Convolution kernels (NCHW, one image, one group at a time: the host loops over batch and groups).
//  - conv_direct_a4: stride-1-along-W convolution of any kernel size / dilation over an input that
//    the host has already zero-padded (pad2d), weights packed by pack_a4 as Cout x (Cin*KH*KW).
//    Same 4x8 register tile as gemm_a4, but B vectors are read straight from shifted input rows,
//    so no im2col buffer is written (the "direct" fast path; 3x3 is its main customer).
//  - im2col + gemm_a4 for the rest (strided W), col2im for ConvTranspose.
//  - dwconv: depthwise (one input channel per output channel, any multiplier).
import { madd, activate, activate1 } from './simd';

const TMP = memory.data(64, 16);

/** Copies C planes of H x W into zero-padded planes of Hp x Wp with the image at (pt, pl). */
export function pad2d(x: usize, C: usize, H: usize, W: usize, pt: usize, pl: usize, Hp: usize, Wp: usize, xp: usize): void {
  const planeP = Hp * Wp;
  for (let c: usize = 0; c < C; c++) {
    const src = x + ((c * H * W) << 2);
    const dst = xp + ((c * planeP) << 2);
    memory.fill(dst, 0, (pt * Wp) << 2);
    for (let h: usize = 0; h < H; h++) {
      const row = dst + (((pt + h) * Wp) << 2);
      memory.fill(row, 0, pl << 2);
      memory.copy(row + (pl << 2), src + ((h * W) << 2), W << 2);
      memory.fill(row + ((pl + W) << 2), 0, (Wp - pl - W) << 2);
    }
    const below = pt + H;
    memory.fill(dst + ((below * Wp) << 2), 0, ((Hp - below) * Wp) << 2);
  }
}

// @ts-ignore: decorator
@inline function storeRow8(y: usize, v0: v128, v1: v128, bias: f32, act: i32, lo: v128, hi: v128): void {
  const bv = f32x4.splat(bias);
  v128.store(y, activate(f32x4.add(v0, bv), act, lo, hi));
  v128.store(y, activate(f32x4.add(v1, bv), act, lo, hi), 16);
}

/** 4 output channels x 8 output pixels, any KW and dilation. */
function direct_tile(x: usize, Cin: usize, KH: usize, KW: usize, planeP: usize, rowStepB: usize, colStepB: usize,
  wp: usize, yo: usize, planeY: usize, mv: usize, b0s: f32, b1s: f32, b2s: f32, b3s: f32, act: i32, lo: v128, hi: v128): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let plane = x;
  for (let ci: usize = 0; ci < Cin; ci++) {
    let row = plane;
    for (let kh: usize = 0; kh < KH; kh++) {
      let p = row;
      for (let kw: usize = 0; kw < KW; kw++) {
        const x0 = v128.load(p), x1 = v128.load(p, 16);
        let wv = v128.load32_splat(wp);
        c00 = madd(wv, x0, c00); c01 = madd(wv, x1, c01);
        wv = v128.load32_splat(wp, 4);
        c10 = madd(wv, x0, c10); c11 = madd(wv, x1, c11);
        wv = v128.load32_splat(wp, 8);
        c20 = madd(wv, x0, c20); c21 = madd(wv, x1, c21);
        wv = v128.load32_splat(wp, 12);
        c30 = madd(wv, x0, c30); c31 = madd(wv, x1, c31);
        wp += 16; p += colStepB;
      }
      row += rowStepB;
    }
    plane += planeP;
  }
  storeRow8(yo, c00, c01, b0s, act, lo, hi);
  if (mv > 1) storeRow8(yo + planeY, c10, c11, b1s, act, lo, hi);
  if (mv > 2) storeRow8(yo + 2 * planeY, c20, c21, b2s, act, lo, hi);
  if (mv > 3) storeRow8(yo + 3 * planeY, c30, c31, b3s, act, lo, hi);
}

/**
 * The 3-wide, undilated case (3x3 convs): the three taps of a kernel row use immediate load offsets
 * instead of a 3-trip loop, which V8 would otherwise spend a compare-and-branch on every 8 FMAs.
 */
function direct3_tile(x: usize, Cin: usize, KH: usize, planeP: usize, rowStepB: usize,
  wp: usize, yo: usize, planeY: usize, mv: usize, b0s: f32, b1s: f32, b2s: f32, b3s: f32, act: i32, lo: v128, hi: v128): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let plane = x;
  for (let ci: usize = 0; ci < Cin; ci++) {
    let p = plane;
    for (let kh: usize = 0; kh < KH; kh++) {
      let x0 = v128.load(p), x1 = v128.load(p, 16);
      let wv = v128.load32_splat(wp);
      c00 = madd(wv, x0, c00); c01 = madd(wv, x1, c01);
      wv = v128.load32_splat(wp, 4);
      c10 = madd(wv, x0, c10); c11 = madd(wv, x1, c11);
      wv = v128.load32_splat(wp, 8);
      c20 = madd(wv, x0, c20); c21 = madd(wv, x1, c21);
      wv = v128.load32_splat(wp, 12);
      c30 = madd(wv, x0, c30); c31 = madd(wv, x1, c31);
      x0 = v128.load(p, 4); x1 = v128.load(p, 20);
      wv = v128.load32_splat(wp, 16);
      c00 = madd(wv, x0, c00); c01 = madd(wv, x1, c01);
      wv = v128.load32_splat(wp, 20);
      c10 = madd(wv, x0, c10); c11 = madd(wv, x1, c11);
      wv = v128.load32_splat(wp, 24);
      c20 = madd(wv, x0, c20); c21 = madd(wv, x1, c21);
      wv = v128.load32_splat(wp, 28);
      c30 = madd(wv, x0, c30); c31 = madd(wv, x1, c31);
      x0 = v128.load(p, 8); x1 = v128.load(p, 24);
      wv = v128.load32_splat(wp, 32);
      c00 = madd(wv, x0, c00); c01 = madd(wv, x1, c01);
      wv = v128.load32_splat(wp, 36);
      c10 = madd(wv, x0, c10); c11 = madd(wv, x1, c11);
      wv = v128.load32_splat(wp, 40);
      c20 = madd(wv, x0, c20); c21 = madd(wv, x1, c21);
      wv = v128.load32_splat(wp, 44);
      c30 = madd(wv, x0, c30); c31 = madd(wv, x1, c31);
      wp += 48; p += rowStepB;
    }
    plane += planeP;
  }
  storeRow8(yo, c00, c01, b0s, act, lo, hi);
  if (mv > 1) storeRow8(yo + planeY, c10, c11, b1s, act, lo, hi);
  if (mv > 2) storeRow8(yo + 2 * planeY, c20, c21, b2s, act, lo, hi);
  if (mv > 3) storeRow8(yo + 3 * planeY, c30, c31, b3s, act, lo, hi);
}

/**
 * Direct convolution, stride 1 along W (any stride sh along H), on a padded input xp (Cin x Hp x Wp).
 * w: pack_a4 of the weights viewed as Cout x (Cin*KH*KW). y: Cout x OH x OW.
 * bias: 0 or ceil(Cout/4)*4 floats.
 */
export function conv_direct_a4(xp: usize, Cin: usize, Hp: usize, Wp: usize, w: usize, Cout: usize,
  KH: usize, KW: usize, sh: usize, dh: usize, dw: usize, y: usize, OH: usize, OW: usize,
  bias: usize, act: i32, p0: f32, p1: f32): void {
  const K = Cin * KH * KW;
  const planeP = (Hp * Wp) << 2, rowStepB = (dh * Wp) << 2, colStepB = dw << 2;
  const planeY = (OH * OW) << 2;
  const lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  for (let oh: usize = 0; oh < OH; oh++) {
    const xrow0 = xp + ((oh * sh * Wp) << 2);
    for (let co: usize = 0; co < Cout; co += 4) {
      const wpanel = w + ((co * K) << 2);
      const mv = min<usize>(4, Cout - co);
      let b0s: f32 = 0, b1s: f32 = 0, b2s: f32 = 0, b3s: f32 = 0;
      if (bias) {
        b0s = load<f32>(bias + (co << 2)); b1s = load<f32>(bias + (co << 2), 4);
        b2s = load<f32>(bias + (co << 2), 8); b3s = load<f32>(bias + (co << 2), 12);
      }
      const yrow = y + co * planeY + ((oh * OW) << 2);
      let ow: usize = 0;
      for (; ow + 8 <= OW; ow += 8) {
        const yo = yrow + (ow << 2);
        const x0 = xrow0 + (ow << 2);
        if (KW == 3 && dw == 1) {
          direct3_tile(x0, Cin, KH, planeP, rowStepB, wpanel, yo, planeY, mv, b0s, b1s, b2s, b3s, act, lo, hi);
        } else {
          direct_tile(x0, Cin, KH, KW, planeP, rowStepB, colStepB, wpanel, yo, planeY, mv, b0s, b1s, b2s, b3s, act, lo, hi);
        }
      }
      // W tail: one output pixel at a time, the 4 output channels share one vector
      for (; ow < OW; ow++) {
        let acc = f32x4.splat(0);
        let wp = wpanel;
        let plane = xrow0 + (ow << 2);
        for (let ci: usize = 0; ci < Cin; ci++) {
          let row = plane;
          for (let kh: usize = 0; kh < KH; kh++) {
            let p = row;
            for (let kw: usize = 0; kw < KW; kw++) {
              acc = madd(v128.load(wp), v128.load32_splat(p), acc);
              wp += 16; p += colStepB;
            }
            row += rowStepB;
          }
          plane += planeP;
        }
        v128.store(TMP, acc);
        const yo = yrow + (ow << 2);
        for (let r: usize = 0; r < mv; r++) {
          let v = load<f32>(TMP + (r << 2));
          if (bias) v += load<f32>(bias + ((co + r) << 2));
          store<f32>(yo + r * planeY, activate1(v, act, p0, p1));
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
  let d = col;
  for (let c: usize = 0; c < C; c++) {
    const plane = x + ((c * H * W) << 2);
    for (let kh: usize = 0; kh < KH; kh++) {
      for (let kw: usize = 0; kw < KW; kw++) {
        for (let oh: usize = 0; oh < OH; oh++) {
          const ih = <isize>(oh * sh + kh * dh) - <isize>pt;
          if (ih < 0 || ih >= <isize>H) {
            memory.fill(d, 0, OW << 2);
            d += OW << 2;
            continue;
          }
          const row = plane + ((<usize>ih * W) << 2);
          let iw = <isize>(kw * dw) - <isize>pl;
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
 * Depthwise convolution on a padded input xp (Cin x Hp x Wp): output channel co reads input
 * channel co / mult. w: Cout x KH x KW (unpacked). bias: 0 or Cout floats.
 */
export function dwconv(xp: usize, Hp: usize, Wp: usize, w: usize, Cout: usize, mult: usize,
  KH: usize, KW: usize, sh: usize, sw: usize, dh: usize, dw: usize, y: usize, OH: usize, OW: usize,
  bias: usize, act: i32, p0: f32, p1: f32): void {
  const lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  const KK = KH * KW;
  for (let co: usize = 0; co < Cout; co++) {
    const plane = xp + (((co / mult) * Hp * Wp) << 2);
    const wc = w + ((co * KK) << 2);
    const bs: f32 = bias ? load<f32>(bias + (co << 2)) : 0;
    const yplane = y + ((co * OH * OW) << 2);
    for (let oh: usize = 0; oh < OH; oh++) {
      const rowBase = plane + ((oh * sh * Wp) << 2);
      const yrow = yplane + ((oh * OW) << 2);
      let ow: usize = 0;
      if (sw == 1) {
        for (; ow + 8 <= OW; ow += 8) {
          let a0 = f32x4.splat(bs), a1 = f32x4.splat(bs);
          let wp = wc;
          let row = rowBase + (ow << 2);
          for (let kh: usize = 0; kh < KH; kh++) {
            let p = row;
            for (let kw: usize = 0; kw < KW; kw++) {
              const wv = v128.load32_splat(wp);
              a0 = madd(wv, v128.load(p), a0);
              a1 = madd(wv, v128.load(p, 16), a1);
              wp += 4; p += dw << 2;
            }
            row += (dh * Wp) << 2;
          }
          v128.store(yrow + (ow << 2), activate(a0, act, lo, hi));
          v128.store(yrow + (ow << 2), activate(a1, act, lo, hi), 16);
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
            wp += 4; p += dw << 2;
          }
          row += (dh * Wp) << 2;
        }
        store<f32>(yrow + (ow << 2), activate1(acc, act, p0, p1));
      }
    }
  }
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
