// Conv2d backward kernels (NCHW, one image and one group per call; the host, src/train/grad/conv.ts,
// loops over the batch and the groups and picks the path):
//  - grad_im2col_rows8: the im2col matrix of a zero-padded input, written straight as B8 panels
//    (grad-pack.ts), i.e. transposed: 8 patch rows side by side per output pixel. With dY packed
//    as A4 panels, gemm_packed then accumulates dW (Cout x Cin*KH*KW) += dY · im2col(X)ᵀ.
//  - grad_conv_flip_weights: W (Cout x Cin x KH x KW) -> W' (Cin x Cout x KH x KW) rotated by 180
//    degrees: for stride 1, dX is the forward convolution of the padded dY with W' (run by the
//    forward conv_panel_a4 kernel, no column buffer).
//  - grad_dw_filter / grad_dw_input: depthwise (one input channel per group) weight and input
//    gradients, vectorized along output rows; grad_dw_filter3x3 keeps the nine tap sums of a 3x3
//    stride-1 filter in registers for one pass over dY.
//  - grad_bias_nchw: db[c] = sum over the batch and the pixels of dY.
// Nothing here allocates.
import { madd } from './simd';
import { hsum } from './vmath';

// @ts-ignore: decorator
@inline function loadStride2(p: usize): v128 {
  return v128.shuffle<f32>(v128.load(p), v128.load(p, 16), 0, 2, 4, 6);
}

// @ts-ignore: decorator
@inline function tr4store(r0: v128, r1: v128, r2: v128, r3: v128, d: usize, step: usize): void {
  const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
  const t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
  v128.store(d, v128.shuffle<i64>(t0, t2, 0, 2));
  v128.store(d + step, v128.shuffle<i64>(t0, t2, 1, 3));
  v128.store(d + 2 * step, v128.shuffle<i64>(t1, t3, 0, 2));
  v128.store(d + 3 * step, v128.shuffle<i64>(t1, t3, 1, 3));
}

/** Byte offset in the padded input of patch row k = (c, kh, kw). */
// @ts-ignore: decorator
@inline function patchOffset(k: usize, KH: usize, KW: usize, Hp: usize, Wp: usize, dh: usize, dw: usize): usize {
  const kk = KH * KW;
  const c = k / kk, r = k - c * kk;
  const kh = r / KW, kw = r - kh * KW;
  return ((c * Hp + kh * dh) * Wp + kw * dw) << 2;
}

// @ts-ignore: decorator
@inline function loadPix(p: usize, sw: usize): v128 {
  return sw == 1 ? v128.load(p) : loadStride2(p);
}

/**
 * B8 panels of im2col(xp)ᵀ for a padded input xp (C x Hp x Wp): panel k/8, row p = oh*OW + ow,
 * lane k%8 holds xp[c][oh*sh + kh*dh][ow*sw + kw*dw] for patch row k = (c*KH + kh)*KW + kw.
 * dst holds ceil(C*KH*KW / 8) * OH*OW * 8 floats. Stride 1 or 2 along W runs 4 pixels at a time.
 */
export function grad_im2col_rows8(xp: usize, C: usize, Hp: usize, Wp: usize, KH: usize, KW: usize,
  sh: usize, sw: usize, dh: usize, dw: usize, OH: usize, OW: usize, dst: usize): void {
  const K = C * KH * KW;
  const P = OH * OW;
  for (let k0: usize = 0; k0 < K; k0 += 8) {
    const kv = min<usize>(8, K - k0);
    // offsets of the panel's 8 rows (rows past K repeat row k0 and are zeroed below)
    const o0 = patchOffset(k0, KH, KW, Hp, Wp, dh, dw);
    const o1 = kv > 1 ? patchOffset(k0 + 1, KH, KW, Hp, Wp, dh, dw) : o0;
    const o2 = kv > 2 ? patchOffset(k0 + 2, KH, KW, Hp, Wp, dh, dw) : o0;
    const o3 = kv > 3 ? patchOffset(k0 + 3, KH, KW, Hp, Wp, dh, dw) : o0;
    const o4 = kv > 4 ? patchOffset(k0 + 4, KH, KW, Hp, Wp, dh, dw) : o0;
    const o5 = kv > 5 ? patchOffset(k0 + 5, KH, KW, Hp, Wp, dh, dw) : o0;
    const o6 = kv > 6 ? patchOffset(k0 + 6, KH, KW, Hp, Wp, dh, dw) : o0;
    const o7 = kv > 7 ? patchOffset(k0 + 7, KH, KW, Hp, Wp, dh, dw) : o0;
    const panel = dst + ((k0 * P) << 2);
    for (let oh: usize = 0; oh < OH; oh++) {
      const row = xp + ((oh * sh * Wp) << 2);
      let d = panel + ((oh * OW) << 5);
      let ow: usize = 0;
      if (kv == 8 && sw <= 2) {
        for (; ow + 4 <= OW; ow += 4) {
          const s = row + ((ow * sw) << 2);
          tr4store(loadPix(s + o0, sw), loadPix(s + o1, sw), loadPix(s + o2, sw), loadPix(s + o3, sw), d, 32);
          tr4store(loadPix(s + o4, sw), loadPix(s + o5, sw), loadPix(s + o6, sw), loadPix(s + o7, sw), d + 16, 32);
          d += 128;
        }
      }
      for (; ow < OW; ow++) {
        const s = row + ((ow * sw) << 2);
        store<f32>(d, load<f32>(s + o0));
        store<f32>(d, kv > 1 ? load<f32>(s + o1) : 0, 4);
        store<f32>(d, kv > 2 ? load<f32>(s + o2) : 0, 8);
        store<f32>(d, kv > 3 ? load<f32>(s + o3) : 0, 12);
        store<f32>(d, kv > 4 ? load<f32>(s + o4) : 0, 16);
        store<f32>(d, kv > 5 ? load<f32>(s + o5) : 0, 20);
        store<f32>(d, kv > 6 ? load<f32>(s + o6) : 0, 24);
        store<f32>(d, kv > 7 ? load<f32>(s + o7) : 0, 28);
        d += 32;
      }
    }
  }
}

/**
 * W' [ci][co][kh][kw] = W [co][ci][KH-1-kh][KW-1-kw] for one group (W: Cout x Cin x KH x KW).
 * dst holds Cin * Cout * KH * KW floats.
 */
export function grad_conv_flip_weights(w: usize, Cout: usize, Cin: usize, KH: usize, KW: usize, dst: usize): void {
  const KK = KH * KW;
  for (let co: usize = 0; co < Cout; co++) {
    for (let ci: usize = 0; ci < Cin; ci++) {
      const s = w + (((co * Cin + ci) * KK) << 2);
      const d = dst + (((ci * Cout + co) * KK) << 2);
      for (let t: usize = 0; t < KK; t++) store<f32>(d + ((KK - 1 - t) << 2), load<f32>(s + (t << 2)));
    }
  }
}

/**
 * Depthwise weight gradient for one image: for output channel co (reading padded input plane
 * co / mult of xp, planes Hp x Wp) dWf[co][kh][kw] (+)= sum_{oh,ow} dy[co][oh][ow] *
 * xp[co/mult][oh*sh + kh*dh][ow*sw + kw*dw]. accumulate: 0 overwrites, 1 adds.
 */
export function grad_dw_filter(xp: usize, Hp: usize, Wp: usize, dy: usize, Cout: usize, mult: usize,
  KH: usize, KW: usize, sh: usize, sw: usize, dh: usize, dw: usize, OH: usize, OW: usize, dwf: usize, accumulate: i32): void {
  const P = OH * OW;
  for (let co: usize = 0; co < Cout; co++) {
    const plane = xp + (((co / mult) * Hp * Wp) << 2);
    const dyp = dy + ((co * P) << 2);
    for (let kh: usize = 0; kh < KH; kh++) {
      for (let kw: usize = 0; kw < KW; kw++) {
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
        let s: f32 = 0;
        for (let oh: usize = 0; oh < OH; oh++) {
          const xr = plane + ((((oh * sh + kh * dh) * Wp) + kw * dw) << 2);
          const gr = dyp + ((oh * OW) << 2);
          let ow: usize = 0;
          if (sw == 1) {
            for (; ow + 8 <= OW; ow += 8) {
              a0 = madd(v128.load(gr + (ow << 2)), v128.load(xr + (ow << 2)), a0);
              a1 = madd(v128.load(gr + (ow << 2), 16), v128.load(xr + (ow << 2), 16), a1);
            }
            for (; ow + 4 <= OW; ow += 4) a0 = madd(v128.load(gr + (ow << 2)), v128.load(xr + (ow << 2)), a0);
          } else if (sw == 2) {
            for (; ow + 4 <= OW; ow += 4) a0 = madd(v128.load(gr + (ow << 2)), loadStride2(xr + (ow << 3)), a0);
          }
          for (; ow < OW; ow++) s += load<f32>(gr + (ow << 2)) * load<f32>(xr + ((ow * sw) << 2));
        }
        const q = dwf + (((co * KH + kh) * KW + kw) << 2);
        const v = hsum(f32x4.add(a0, a1)) + s;
        store<f32>(q, accumulate ? load<f32>(q) + v : v);
      }
    }
  }
}

/**
 * grad_dw_filter for 3x3 kernels at stride 1 (any dilation): the nine taps' sums stay in registers
 * while one pass over the rows loads each dY vector once (nine shifted input loads per vector).
 * The last partial vector of a row has its lanes past OW zeroed in both factors (its reads may run
 * up to 12 bytes past a row or the buffer, which the heap keeps readable).
 */
export function grad_dw_filter3x3(xp: usize, Hp: usize, Wp: usize, dy: usize, Cout: usize, mult: usize,
  dh: usize, dw: usize, OH: usize, OW: usize, dwf: usize, accumulate: i32): void {
  const P = OH * OW;
  const r1 = (dh * Wp) << 2, r2 = r1 << 1, c1 = dw << 2, c2 = c1 << 1;
  const tail = OW & 3;
  const tailMask = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(<i32>tail));
  for (let co: usize = 0; co < Cout; co++) {
    const plane = xp + (((co / mult) * Hp * Wp) << 2);
    const dyp = dy + ((co * P) << 2);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0), a4 = f32x4.splat(0), a5 = f32x4.splat(0);
    let a6 = f32x4.splat(0), a7 = f32x4.splat(0), a8 = f32x4.splat(0);
    for (let oh: usize = 0; oh < OH; oh++) {
      let q = plane + ((oh * Wp) << 2);
      let g = dyp + ((oh * OW) << 2);
      const gEnd = g + ((OW - tail) << 2);
      for (; g < gEnd; g += 16, q += 16) {
        const gv = v128.load(g);
        a0 = madd(gv, v128.load(q), a0);
        a1 = madd(gv, v128.load(q + c1), a1);
        a2 = madd(gv, v128.load(q + c2), a2);
        a3 = madd(gv, v128.load(q + r1), a3);
        a4 = madd(gv, v128.load(q + r1 + c1), a4);
        a5 = madd(gv, v128.load(q + r1 + c2), a5);
        a6 = madd(gv, v128.load(q + r2), a6);
        a7 = madd(gv, v128.load(q + r2 + c1), a7);
        a8 = madd(gv, v128.load(q + r2 + c2), a8);
      }
      if (tail) {
        // lanes past the row read whatever follows: zero both factors so no NaN or Inf gets in
        const m = tailMask;
        const gv = v128.and(v128.load(g), m);
        a0 = madd(gv, v128.and(v128.load(q), m), a0);
        a1 = madd(gv, v128.and(v128.load(q + c1), m), a1);
        a2 = madd(gv, v128.and(v128.load(q + c2), m), a2);
        a3 = madd(gv, v128.and(v128.load(q + r1), m), a3);
        a4 = madd(gv, v128.and(v128.load(q + r1 + c1), m), a4);
        a5 = madd(gv, v128.and(v128.load(q + r1 + c2), m), a5);
        a6 = madd(gv, v128.and(v128.load(q + r2), m), a6);
        a7 = madd(gv, v128.and(v128.load(q + r2 + c1), m), a7);
        a8 = madd(gv, v128.and(v128.load(q + r2 + c2), m), a8);
      }
    }
    const d = dwf + ((co * 9) << 2);
    if (accumulate) {
      store<f32>(d, load<f32>(d) + hsum(a0)); store<f32>(d, load<f32>(d, 4) + hsum(a1), 4); store<f32>(d, load<f32>(d, 8) + hsum(a2), 8);
      store<f32>(d, load<f32>(d, 12) + hsum(a3), 12); store<f32>(d, load<f32>(d, 16) + hsum(a4), 16); store<f32>(d, load<f32>(d, 20) + hsum(a5), 20);
      store<f32>(d, load<f32>(d, 24) + hsum(a6), 24); store<f32>(d, load<f32>(d, 28) + hsum(a7), 28); store<f32>(d, load<f32>(d, 32) + hsum(a8), 32);
    } else {
      store<f32>(d, hsum(a0)); store<f32>(d, hsum(a1), 4); store<f32>(d, hsum(a2), 8);
      store<f32>(d, hsum(a3), 12); store<f32>(d, hsum(a4), 16); store<f32>(d, hsum(a5), 20);
      store<f32>(d, hsum(a6), 24); store<f32>(d, hsum(a7), 28); store<f32>(d, hsum(a8), 32);
    }
  }
}

/**
 * Depthwise input gradient for one image: dx[ci] (C planes of H x W, overwritten) gathers
 * w[co][kh][kw] * dy[co][oh][ow] at (oh*sh - pt + kh*dh, ow*sw - pl + kw*dw) for the mult output
 * channels co of input channel ci. plane: scratch of Hp * Wp floats (one padded plane, reused).
 */
export function grad_dw_input(dy: usize, C: usize, mult: usize, OH: usize, OW: usize, w: usize, KH: usize, KW: usize,
  sh: usize, sw: usize, dh: usize, dw: usize, pt: usize, pl: usize, H: usize, W: usize, Hp: usize, Wp: usize,
  plane: usize, dx: usize): void {
  const P = OH * OW;
  for (let ci: usize = 0; ci < C; ci++) {
    memory.fill(plane, 0, (Hp * Wp) << 2);
    for (let m: usize = 0; m < mult; m++) {
      const co = ci * mult + m;
      const dyp = dy + ((co * P) << 2);
      for (let kh: usize = 0; kh < KH; kh++) {
        for (let kw: usize = 0; kw < KW; kw++) {
          const wt = load<f32>(w + (((co * KH + kh) * KW + kw) << 2));
          const wv = f32x4.splat(wt);
          for (let oh: usize = 0; oh < OH; oh++) {
            const dr = plane + ((((oh * sh + kh * dh) * Wp) + kw * dw) << 2);
            const gr = dyp + ((oh * OW) << 2);
            let ow: usize = 0;
            if (sw == 1) {
              for (; ow + 4 <= OW; ow += 4) {
                const p = dr + (ow << 2);
                v128.store(p, madd(wv, v128.load(gr + (ow << 2)), v128.load(p)));
              }
            }
            for (; ow < OW; ow++) {
              const p = dr + ((ow * sw) << 2);
              store<f32>(p, load<f32>(p) + wt * load<f32>(gr + (ow << 2)));
            }
          }
        }
      }
    }
    // the image part of the padded plane is the gradient
    const rowB = W << 2;
    for (let h: usize = 0; h < H; h++) {
      memory.copy(dx + (((ci * H + h) * W) << 2), plane + ((((h + pt) * Wp) + pl) << 2), rowB);
    }
  }
}

/** db[c] = sum over n < N and i < P of dy[n][c][i] (overwrites; partial sums per plane in f32, the planes in f64). */
export function grad_bias_nchw(dy: usize, N: usize, C: usize, P: usize, db: usize): void {
  for (let c: usize = 0; c < C; c++) {
    let total: f64 = 0;
    for (let n: usize = 0; n < N; n++) {
      let p = dy + (((n * C + c) * P) << 2);
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
      let i: usize = 0;
      for (; i + 8 <= P; i += 8) { a0 = f32x4.add(a0, v128.load(p)); a1 = f32x4.add(a1, v128.load(p, 16)); p += 32; }
      for (; i + 4 <= P; i += 4) { a0 = f32x4.add(a0, v128.load(p)); p += 16; }
      let s = hsum(f32x4.add(a0, a1));
      for (; i < P; i++) { s += load<f32>(p); p += 4; }
      total += <f64>s;
    }
    store<f32>(db + (c << 2), <f32>total);
  }
}
