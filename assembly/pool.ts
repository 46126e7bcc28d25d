// 2-D pooling over NCHW planes (the host passes P = N*C planes; planes are independent).
//  - pool_max2d: MaxPool with kernel, strides, pads (top/left; bottom/right only bound the output
//    size, which the host computes) and dilations. Out-of-image taps are ignored.
//  - pool_avg2d: AveragePool with count_include_pad. Taps outside the image are skipped; the divisor
//    is the number of in-image taps (count_include_pad=0), or the window clipped to the padded
//    extent [-pt, H+pb) x [-pl, W+pr) (count_include_pad=1): so a ceil_mode window that runs past
//    the padded input counts only its padded part, as onnxruntime and the ONNX reference do.
//  - pool_global_avg / pool_global_max: one value per plane.
// Each output row splits into border columns (bounds-checked, scalar) and interior columns whose
// whole window row is inside the image; the interior is vectorized 4 outputs at a time when the
// W stride is 1 or 2 (stride 2 de-interleaves two loads with a shuffle; the last, partial vector
// reads past its window row, at most 32 bytes, inside the heap's spare bytes, and stores only its
// lanes). The vector max is pmax
// (one maxps; wasm's f32x4.max lowers to eight dependent instructions on x64) with the NaN lanes
// tracked apart and OR-ed in at the end: a NaN tap still makes its window NaN, as f32.max does.

import { storeLanes } from './simd';

const NEG_MAX: f32 = -3.4028234663852886e38; // what onnxruntime gives an empty max window

// @ts-ignore: decorator
@inline function firstTap(start: isize, d: isize): isize {
  // smallest k >= 0 with start + k*d >= 0
  return start >= 0 ? 0 : (-start + d - 1) / d;
}

// @ts-ignore: decorator
@inline function endTap(start: isize, d: isize, K: isize, n: isize): isize {
  // one past the largest k < K with start + k*d <= n - 1
  const room = n - 1 - start;
  if (room < 0) return 0;
  const e = room / d + 1;
  return e < K ? e : K;
}

// @ts-ignore: decorator
@inline function loadStride2(p: usize): v128 {
  return v128.shuffle<f32>(v128.load(p), v128.load(p, 16), 0, 2, 4, 6);
}

/** Columns [A, B) of the output whose whole window row lies inside the image. */
// @ts-ignore: decorator
@inline function interiorStart(pl: isize, sw: isize, OW: isize): isize {
  const a = (pl + sw - 1) / sw;
  return a < OW ? a : OW;
}

// @ts-ignore: decorator
@inline function interiorEnd(W: isize, pl: isize, KW: isize, dw: isize, sw: isize, OW: isize, A: isize): isize {
  const num = W - 1 + pl - (KW - 1) * dw;
  let b: isize = num >= 0 ? num / sw + 1 : 0;
  if (b > OW) b = OW;
  return b < A ? A : b;
}

/**
 * MaxPool 2-D. x: P planes of H x W; y: P planes of OH x OW.
 * Window of output (oh, ow) starts at (oh*sh - pt, ow*sw - pl) with taps every (dh, dw).
 */
export function pool_max2d(x: usize, P: usize, H: usize, W: usize, KH: usize, KW: usize,
  sh: usize, sw: usize, pt: usize, pl: usize, dh: usize, dw: usize, y: usize, OH: usize, OW: usize): void {
  const iH = <isize>H, iW = <isize>W, iKH = <isize>KH, iKW = <isize>KW;
  const isw = <isize>sw, idh = <isize>dh, idw = <isize>dw, ipl = <isize>pl;
  const A = interiorStart(ipl, isw, <isize>OW);
  const B = interiorEnd(iW, ipl, iKW, idw, isw, <isize>OW, A);
  const rowB = W << 2, dwB = dw << 2;
  const neg = f32x4.splat(NEG_MAX);
  for (let p: usize = 0; p < P; p++) {
    const plane = x + ((p * H * W) << 2);
    const yplane = y + ((p * OH * OW) << 2);
    for (let oh: usize = 0; oh < OH; oh++) {
      const hs = <isize>(oh * sh) - <isize>pt;
      const kh0 = firstTap(hs, idh), kh1 = endTap(hs, idh, iKH, iH);
      const yrow = yplane + ((oh * OW) << 2);
      let ow: isize = 0;
      // left border, then interior, then right border
      for (let pass = 0; pass < 3; pass++) {
        const end: isize = pass == 0 ? A : pass == 1 ? B : <isize>OW;
        if (pass == 1) {
          if (sw == 2 && KW == 2 && dw == 1 && KH <= 2 && kh1 > kh0) {
            // the common 2x2 stride-2 window (or 1x2): per row two loads hold four windows' pairs,
            // one max of the even and odd lanes reduces them; rows fixed per output row, no tap loop
            const rowA = plane + <usize>((hs + kh0 * idh) * iW << 2);
            const rowB = kh1 - kh0 == 2 ? rowA + <usize>(idh * iW << 2) : rowA;
            for (; ow < end; ow += 4) {
              const col = <usize>((ow * isw - ipl) << 2);
              const a = v128.load(rowA + col), b = v128.load(rowA + col, 16);
              const c = v128.load(rowB + col), d = v128.load(rowB + col, 16);
              const e = f32x4.pmax(v128.shuffle<f32>(a, b, 0, 2, 4, 6), v128.shuffle<f32>(c, d, 0, 2, 4, 6));
              const o = f32x4.pmax(v128.shuffle<f32>(a, b, 1, 3, 5, 7), v128.shuffle<f32>(c, d, 1, 3, 5, 7));
              // NaN columns of both rows, folded like the values: window w covers columns 2w and 2w + 1
              const p = v128.or(f32x4.ne(a, a), f32x4.ne(c, c)), q = v128.or(f32x4.ne(b, b), f32x4.ne(d, d));
              const win = v128.or(v128.shuffle<f32>(p, q, 0, 2, 4, 6), v128.shuffle<f32>(p, q, 1, 3, 5, 7));
              storeLanes(yrow + (<usize>ow << 2), v128.or(f32x4.pmax(e, o), win), <i32>(end - ow));
            }
            ow = end;
          } else if (sw == 1 || sw == 2) {
            for (; ow < end; ow += 4) {
              let m0 = neg, nan = f32x4.splat(0);
              const col = (ow * isw - ipl) << 2;
              for (let kh = kh0; kh < kh1; kh++) {
                let q = plane + <usize>((hs + kh * idh) * iW << 2) + <usize>col;
                for (let kw: usize = 0; kw < KW; kw++) {
                  const v = sw == 1 ? v128.load(q) : loadStride2(q);
                  m0 = f32x4.pmax(m0, v);
                  nan = v128.or(nan, f32x4.ne(v, v));
                  q += dwB;
                }
              }
              storeLanes(yrow + (<usize>ow << 2), v128.or(m0, nan), <i32>(end - ow));
            }
            ow = end;
          }
          for (; ow < end; ow++) {
            let m: f32 = NEG_MAX;
            const col = (ow * isw - ipl) << 2;
            for (let kh = kh0; kh < kh1; kh++) {
              let q = plane + <usize>((hs + kh * idh) * iW << 2) + <usize>col;
              for (let kw: usize = 0; kw < KW; kw++) { m = max<f32>(m, load<f32>(q)); q += dwB; }
            }
            store<f32>(yrow + (<usize>ow << 2), m);
          }
        } else {
          for (; ow < end; ow++) {
            const ws = ow * isw - ipl;
            const kw0 = firstTap(ws, idw), kw1 = endTap(ws, idw, iKW, iW);
            let m: f32 = NEG_MAX;
            for (let kh = kh0; kh < kh1; kh++) {
              const row = plane + <usize>(hs + kh * idh) * rowB;
              for (let kw = kw0; kw < kw1; kw++) m = max<f32>(m, load<f32>(row + (<usize>(ws + kw * idw) << 2)));
            }
            store<f32>(yrow + (<usize>ow << 2), m);
          }
        }
      }
    }
  }
}

/**
 * AveragePool 2-D (no dilation). x: P planes of H x W; y: P planes of OH x OW.
 * pb/pr: bottom/right pads (used for the count_include_pad divisor). include_pad: 0 or 1.
 */
export function pool_avg2d(x: usize, P: usize, H: usize, W: usize, KH: usize, KW: usize,
  sh: usize, sw: usize, pt: usize, pl: usize, pb: usize, pr: usize, include_pad: i32,
  y: usize, OH: usize, OW: usize): void {
  const iH = <isize>H, iW = <isize>W, iKH = <isize>KH, iKW = <isize>KW;
  const isw = <isize>sw, ipl = <isize>pl;
  const hLim = iH + <isize>pb, wLim = iW + <isize>pr;
  const A = interiorStart(ipl, isw, <isize>OW);
  const B = interiorEnd(iW, ipl, iKW, 1, isw, <isize>OW, A);
  const rowB = W << 2;
  for (let p: usize = 0; p < P; p++) {
    const plane = x + ((p * H * W) << 2);
    const yplane = y + ((p * OH * OW) << 2);
    for (let oh: usize = 0; oh < OH; oh++) {
      const hs = <isize>(oh * sh) - <isize>pt;
      const kh0 = firstTap(hs, 1), kh1 = endTap(hs, 1, iKH, iH);
      const rowsIn = kh1 > kh0 ? kh1 - kh0 : 0;
      const rowsPad = (hs + iKH < hLim ? hs + iKH : hLim) - hs;
      const rowsDiv = include_pad ? rowsPad : rowsIn;
      const yrow = yplane + ((oh * OW) << 2);
      let ow: isize = 0;
      for (let pass = 0; pass < 3; pass++) {
        const end: isize = pass == 0 ? A : pass == 1 ? B : <isize>OW;
        if (pass == 1) {
          // interior columns: all KW taps are in the image, so the divisor is rowsDiv * KW
          const div = <f32>(rowsDiv * iKW);
          if (sw == 1 || sw == 2) {
            const dv = f32x4.splat(div);
            for (; ow + 4 <= end; ow += 4) {
              let s0 = f32x4.splat(0);
              const col = (ow * isw - ipl) << 2;
              for (let kh = kh0; kh < kh1; kh++) {
                let q = plane + <usize>(hs + kh) * rowB + <usize>col;
                if (sw == 1) {
                  for (let kw: usize = 0; kw < KW; kw++) { s0 = f32x4.add(s0, v128.load(q)); q += 4; }
                } else {
                  for (let kw: usize = 0; kw < KW; kw++) { s0 = f32x4.add(s0, loadStride2(q)); q += 4; }
                }
              }
              v128.store(yrow + (<usize>ow << 2), div > 0 ? f32x4.div(s0, dv) : f32x4.splat(0));
            }
          }
          for (; ow < end; ow++) {
            let s: f32 = 0;
            const col = (ow * isw - ipl) << 2;
            for (let kh = kh0; kh < kh1; kh++) {
              let q = plane + <usize>(hs + kh) * rowB + <usize>col;
              for (let kw: usize = 0; kw < KW; kw++) { s += load<f32>(q); q += 4; }
            }
            store<f32>(yrow + (<usize>ow << 2), div > 0 ? s / div : 0);
          }
        } else {
          for (; ow < end; ow++) {
            const ws = ow * isw - ipl;
            const kw0 = firstTap(ws, 1), kw1 = endTap(ws, 1, iKW, iW);
            let s: f32 = 0;
            for (let kh = kh0; kh < kh1; kh++) {
              const row = plane + <usize>(hs + kh) * rowB;
              for (let kw = kw0; kw < kw1; kw++) s += load<f32>(row + (<usize>(ws + kw) << 2));
            }
            const colsIn = kw1 > kw0 ? kw1 - kw0 : 0;
            const colsPad = (ws + iKW < wLim ? ws + iKW : wLim) - ws;
            const div = <f32>(include_pad ? rowsPad * colsPad : rowsIn * colsIn);
            store<f32>(yrow + (<usize>ow << 2), div > 0 ? s / div : 0);
          }
        }
      }
    }
  }
}

/** GlobalAveragePool: y[p] = mean of plane p (HW floats). */
export function pool_global_avg(x: usize, P: usize, HW: usize, y: usize): void {
  const inv: f32 = HW > 0 ? <f32>1 / <f32>HW : 0;
  for (let p: usize = 0; p < P; p++) {
    let q = x + ((p * HW) << 2);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    let i: usize = 0;
    for (; i + 8 <= HW; i += 8) {
      a0 = f32x4.add(a0, v128.load(q));
      a1 = f32x4.add(a1, v128.load(q, 16));
      q += 32;
    }
    if (i + 4 <= HW) { a0 = f32x4.add(a0, v128.load(q)); q += 16; i += 4; }
    a0 = f32x4.add(a0, a1);
    let s: f32 = (f32x4.extract_lane(a0, 0) + f32x4.extract_lane(a0, 1)) + (f32x4.extract_lane(a0, 2) + f32x4.extract_lane(a0, 3));
    for (; i < HW; i++) { s += load<f32>(q); q += 4; }
    store<f32>(y + (p << 2), HW > 0 ? s * inv : <f32>NaN);
  }
}

/** GlobalMaxPool: y[p] = max of plane p (HW floats). */
export function pool_global_max(x: usize, P: usize, HW: usize, y: usize): void {
  for (let p: usize = 0; p < P; p++) {
    let q = x + ((p * HW) << 2);
    let a0 = f32x4.splat(NEG_MAX), a1 = f32x4.splat(NEG_MAX);
    let i: usize = 0;
    for (; i + 8 <= HW; i += 8) {
      a0 = f32x4.max(a0, v128.load(q));
      a1 = f32x4.max(a1, v128.load(q, 16));
      q += 32;
    }
    if (i + 4 <= HW) { a0 = f32x4.max(a0, v128.load(q)); q += 16; i += 4; }
    a0 = f32x4.max(a0, a1);
    let m = max<f32>(max<f32>(f32x4.extract_lane(a0, 0), f32x4.extract_lane(a0, 1)), max<f32>(f32x4.extract_lane(a0, 2), f32x4.extract_lane(a0, 3)));
    for (; i < HW; i++) { m = max<f32>(m, load<f32>(q)); q += 4; }
    store<f32>(y + (p << 2), m);
  }
}
