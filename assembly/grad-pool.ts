// Pooling for training (P = N*C independent planes, geometry resolved by the host like the
// forward pooling in assembly/pool.ts):
//  - grad_maxpool2d_fwd: MaxPool that also stores, per output, the i32 offset inside its input
//    plane (ih*W + iw) of the value it picked (the first maximum in window order; NaN wins, as in
//    PyTorch; -1 for a window with no tap inside the image, whose output is -Infinity);
//  - grad_maxpool2d_bwd: dx = 0, then dx[plane][idx] += dy for every output;
//  - grad_avgpool2d_bwd: each output's dy / divisor spread over its in-image taps, with the divisor
//    rules of pool_avg2d (count_include_pad);
//  - grad_global_avg_bwd: dx[p][i] = dy[p] / HW.
// Interior columns of the max pool (whole window row inside the image) run 4 outputs at a time
// for W strides 1 and 2.

// @ts-ignore: decorator
@inline function firstTap(start: isize, d: isize): isize {
  if (start >= 0) return 0;
  return d == 1 ? -start : (-start + d - 1) / d;
}

// @ts-ignore: decorator
@inline function endTap(start: isize, d: isize, K: isize, n: isize): isize {
  const room = n - 1 - start;
  if (room < 0) return 0;
  const e = (d == 1 ? room : room / d) + 1;
  return e < K ? e : K;
}

// @ts-ignore: decorator
@inline function loadStride2(p: usize): v128 {
  return v128.shuffle<f32>(v128.load(p), v128.load(p, 16), 0, 2, 4, 6);
}

/** Four 2x2 stride-2 windows whose top-left taps are at plane offsets o, o+2, o+4, o+6 (rows W apart). */
// @ts-ignore: decorator
@inline function pool2x2x4(plane: usize, o: i32, W: i32, rowB: usize, lane: v128, y: usize, idx: usize): void {
  const q = plane + (<usize>o << 2);
  const a = v128.load(q), b = v128.load(q, 16);
  const c = v128.load(q + rowB), d = v128.load(q + rowB, 16);
  let m = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
  let bi = i32x4.add(i32x4.splat(o), lane);
  const i1 = i32x4.add(bi, i32x4.splat(1)), i2 = i32x4.add(bi, i32x4.splat(W)), i3 = i32x4.add(i2, i32x4.splat(1));
  // take a candidate that is greater, or NaN, unless the current maximum is NaN already
  let v = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
  let t = v128.andnot(v128.or(f32x4.gt(v, m), f32x4.ne(v, v)), f32x4.ne(m, m));
  m = v128.bitselect(v, m, t); bi = v128.bitselect(i1, bi, t);
  v = v128.shuffle<f32>(c, d, 0, 2, 4, 6);
  t = v128.andnot(v128.or(f32x4.gt(v, m), f32x4.ne(v, v)), f32x4.ne(m, m));
  m = v128.bitselect(v, m, t); bi = v128.bitselect(i2, bi, t);
  v = v128.shuffle<f32>(c, d, 1, 3, 5, 7);
  t = v128.andnot(v128.or(f32x4.gt(v, m), f32x4.ne(v, v)), f32x4.ne(m, m));
  m = v128.bitselect(v, m, t); bi = v128.bitselect(i3, bi, t);
  v128.store(y, m);
  v128.store(idx, bi);
}

/**
 * MaxPool 2-D with argmax. x: P planes of H x W; y: P planes of OH x OW; idx: P planes of OH x OW i32.
 * Window of output (oh, ow) starts at (oh*sh - pt, ow*sw - pl) with taps every (dh, dw).
 */
export function grad_maxpool2d_fwd(x: usize, P: usize, H: usize, W: usize, KH: usize, KW: usize,
  sh: usize, sw: usize, pt: usize, pl: usize, dh: usize, dw: usize, y: usize, idx: usize, OH: usize, OW: usize): void {
  const iH = <isize>H, iW = <isize>W, iKW = <isize>KW, iKH = <isize>KH;
  const isw = <isize>sw, idh = <isize>dh, idw = <isize>dw, ipl = <isize>pl;
  // interior columns [A, B): every tap of the window row is inside the image
  let A: isize = (ipl + isw - 1) / isw;
  if (A > <isize>OW) A = <isize>OW;
  const num = iW - 1 + ipl - (iKW - 1) * idw;
  let B: isize = num >= 0 ? num / isw + 1 : 0;
  if (B > <isize>OW) B = <isize>OW;
  if (B < A) B = A;
  const lane = i32x4(0, <i32>sw, <i32>(2 * sw), <i32>(3 * sw));
  const none = i32x4.splat(-1);
  const rowB = W << 2;
  for (let p: usize = 0; p < P; p++) {
    const plane = x + ((p * H * W) << 2);
    const yplane = y + ((p * OH * OW) << 2);
    const iplane = idx + ((p * OH * OW) << 2);
    for (let oh: usize = 0; oh < OH; oh++) {
      const hs = <isize>(oh * sh) - <isize>pt;
      const kh0 = firstTap(hs, idh), kh1 = endTap(hs, idh, iKH, iH);
      const yrow = yplane + ((oh * OW) << 2);
      const irow = iplane + ((oh * OW) << 2);
      let ow: isize = 0;
      const fast2x2 = KH == 2 && KW == 2 && sh == 2 && sw == 2 && dh == 1 && dw == 1 && hs >= 0 && hs + 1 < iH;
      for (let pass = 0; pass < 3; pass++) {
        const end: isize = pass == 0 ? A : pass == 1 ? B : <isize>OW;
        if (pass == 1 && fast2x2) {
          // 2x2 windows at stride 2 (the classic CNN pool): 4 outputs from 2 x 8 inputs, the
          // four candidates of each window de-interleaved by shuffles, compared in window order.
          // A row's last 1..3 outputs are redone as the last 4 of the interior (same values).
          const base = <i32>(hs * iW - ipl);
          for (; ow + 4 <= end; ow += 4) pool2x2x4(plane, base + <i32>(ow * 2), <i32>W, rowB, lane, yrow + (<usize>ow << 2), irow + (<usize>ow << 2));
          if (ow < end && end - A >= 4) {
            ow = end - 4;
            pool2x2x4(plane, base + <i32>(ow * 2), <i32>W, rowB, lane, yrow + (<usize>ow << 2), irow + (<usize>ow << 2));
            ow = end;
          }
          for (let o = base + <i32>(ow * 2); ow < end; ow++, o += 2) {
            const q = plane + (<usize>o << 2);
            let m = load<f32>(q);
            let bi = o;
            let v = load<f32>(q, 4);
            if (m == m && (v > m || v != v)) { m = v; bi = o + 1; }
            v = load<f32>(q + rowB);
            if (m == m && (v > m || v != v)) { m = v; bi = o + <i32>W; }
            v = load<f32>(q + rowB, 4);
            if (m == m && (v > m || v != v)) { m = v; bi = o + <i32>W + 1; }
            store<f32>(yrow + (<usize>ow << 2), m);
            store<i32>(irow + (<usize>ow << 2), bi);
          }
        } else if (pass == 1 && (sw == 1 || sw == 2)) {
          for (; ow + 4 <= end; ow += 4) {
            let m = f32x4.splat(-Infinity);
            let bi = none;
            const ws = ow * isw - ipl;
            for (let kh = kh0; kh < kh1; kh++) {
              const r = (hs + kh * idh) * iW;
              for (let kw: isize = 0; kw < iKW; kw++) {
                const col = ws + kw * idw;
                const q = plane + (<usize>(r + col) << 2);
                const v = sw == 1 ? v128.load(q) : loadStride2(q);
                const take = v128.or(v128.or(f32x4.gt(v, m), f32x4.ne(v, v)), i32x4.eq(bi, none));
                // once a lane holds NaN it keeps it (nothing compares greater)
                const keepNaN = f32x4.ne(m, m);
                const t = v128.andnot(take, keepNaN);
                m = v128.bitselect(v, m, t);
                bi = v128.bitselect(i32x4.add(i32x4.splat(<i32>(r + col)), lane), bi, t);
              }
            }
            v128.store(yrow + (<usize>ow << 2), m);
            v128.store(irow + (<usize>ow << 2), bi);
          }
        }
        for (; ow < end; ow++) {
          const ws = ow * isw - ipl;
          const kw0 = firstTap(ws, idw), kw1 = endTap(ws, idw, iKW, iW);
          let m: f32 = -Infinity;
          let bi: i32 = -1;
          for (let kh = kh0; kh < kh1; kh++) {
            const r = (hs + kh * idh) * iW;
            for (let kw = kw0; kw < kw1; kw++) {
              const o = r + ws + kw * idw;
              const v = load<f32>(plane + (<usize>o << 2));
              if (bi < 0 || (m == m && (v > m || v != v))) { m = v; bi = <i32>o; }
            }
          }
          store<f32>(yrow + (<usize>ow << 2), m);
          store<i32>(irow + (<usize>ow << 2), bi);
        }
      }
    }
  }
}

/** dx (P planes of HW, overwritten) = scatter-add of dy (P planes of OHW) at the stored offsets. */
export function grad_maxpool2d_bwd(dy: usize, idx: usize, P: usize, HW: usize, OHW: usize, dx: usize): void {
  memory.fill(dx, 0, (P * HW) << 2);
  for (let p: usize = 0; p < P; p++) {
    const plane = dx + ((p * HW) << 2);
    const g = dy + ((p * OHW) << 2), ix = idx + ((p * OHW) << 2);
    for (let i: usize = 0; i < OHW; i++) {
      const o = load<i32>(ix + (i << 2));
      if (o < 0) continue;
      const q = plane + (<usize>o << 2);
      store<f32>(q, load<f32>(q) + load<f32>(g + (i << 2)));
    }
  }
}

/**
 * AveragePool backward (no dilation): dx (P planes of H x W, overwritten) receives dy[o] / divisor(o)
 * at every in-image tap of window o. pb/pr, include_pad: as pool_avg2d.
 */
export function grad_avgpool2d_bwd(dy: usize, P: usize, H: usize, W: usize, KH: usize, KW: usize,
  sh: usize, sw: usize, pt: usize, pl: usize, pb: usize, pr: usize, include_pad: i32,
  dx: usize, OH: usize, OW: usize): void {
  memory.fill(dx, 0, (P * H * W) << 2);
  const iH = <isize>H, iW = <isize>W, iKH = <isize>KH, iKW = <isize>KW;
  const hLim = iH + <isize>pb, wLim = iW + <isize>pr;
  for (let p: usize = 0; p < P; p++) {
    const plane = dx + ((p * H * W) << 2);
    const g = dy + ((p * OH * OW) << 2);
    for (let oh: usize = 0; oh < OH; oh++) {
      const hs = <isize>(oh * sh) - <isize>pt;
      const kh0 = firstTap(hs, 1), kh1 = endTap(hs, 1, iKH, iH);
      const rowsIn = kh1 > kh0 ? kh1 - kh0 : 0;
      const rowsPad = (hs + iKH < hLim ? hs + iKH : hLim) - hs;
      for (let ow: usize = 0; ow < OW; ow++) {
        const ws = <isize>(ow * sw) - <isize>pl;
        const kw0 = firstTap(ws, 1), kw1 = endTap(ws, 1, iKW, iW);
        const colsIn = kw1 > kw0 ? kw1 - kw0 : 0;
        const colsPad = (ws + iKW < wLim ? ws + iKW : wLim) - ws;
        const div = <f32>(include_pad ? rowsPad * colsPad : rowsIn * colsIn);
        if (!(div > 0)) continue;
        const v = load<f32>(g + ((oh * OW + ow) << 2)) / div;
        for (let kh = kh0; kh < kh1; kh++) {
          const r = (hs + kh) * iW + ws;
          for (let kw = kw0; kw < kw1; kw++) {
            const q = plane + (<usize>(r + kw) << 2);
            store<f32>(q, load<f32>(q) + v);
          }
        }
      }
    }
  }
}

/** GlobalAveragePool backward: dx[p][i] = dy[p] / HW for P planes of HW. */
export function grad_global_avg_bwd(dy: usize, P: usize, HW: usize, dx: usize): void {
  const inv: f32 = <f32>1 / <f32>HW;
  for (let p: usize = 0; p < P; p++) {
    const v = load<f32>(dy + (p << 2)) * inv;
    const vv = f32x4.splat(v);
    let q = dx + ((p * HW) << 2);
    const end = q + (HW << 2);
    for (; q + 16 <= end; q += 16) v128.store(q, vv);
    for (; q < end; q += 4) store<f32>(q, v);
  }
}
