// Normalization, softmax and reduction kernels (f32). Shapes are flattened by the host:
//  - norm_batch: BatchNormalization inference, y = x*scale[c] + shift[c] over N x C x HW;
//  - norm_layer: LayerNormalization over the last D elements of each of `rows` rows;
//  - softmax_last / softmax_axis: (Log)Softmax over the last axis, or over the middle of [outer, A, inner];
//  - reduce_sum / reduce_max: over the middle of [outer, R, inner] (inner == 1: along contiguous rows,
//    else vectorized across `inner`).
// Every kernel may run in place (y == x). Reads may run up to 12 bytes past a buffer end (the
// host heap keeps 16 spare bytes); writes never do.
import { madd, storeLanes } from './simd';
import { hsum, vexp, vlog } from './vmath';

const NEG_INF: f32 = -Infinity;

// @ts-ignore: decorator
@inline function exp1(x: f32): f32 {
  return f32x4.extract_lane(vexp(f32x4.splat(x)), 0);
}

/** Sum of n floats at p (two vector accumulators + scalar tail). */
// @ts-ignore: decorator
@inline function rowSum(p: usize, n: usize): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) {
    a0 = f32x4.add(a0, v128.load(p));
    a1 = f32x4.add(a1, v128.load(p, 16));
    p += 32;
  }
  if (i + 4 <= n) { a0 = f32x4.add(a0, v128.load(p)); p += 16; i += 4; }
  let s = hsum(f32x4.add(a0, a1));
  for (; i < n; i++) { s += load<f32>(p); p += 4; }
  return s;
}

/**
 * max (or, with isMin, min) of two vectors; the flags are constants after inlining. passNaN: pmax /
 * pmin (one maxps / minps; f32x4.max / min lower to eight dependent instructions on x64), which may
 * pass over a NaN in b: only for callers whose result is NaN anyway (softmax's shift).
 */
// @ts-ignore: decorator
@inline function vext(a: v128, b: v128, isMin: bool, passNaN: bool = false): v128 {
  if (passNaN) return isMin ? f32x4.pmin(a, b) : f32x4.pmax(a, b);
  return isMin ? f32x4.min(a, b) : f32x4.max(a, b);
}

// @ts-ignore: decorator
@inline function sext(a: f32, b: f32, isMin: bool): f32 {
  return isMin ? min<f32>(a, b) : max<f32>(a, b);
}

/** Max (isMin: min) of n floats at p (-Infinity, or +Infinity, when n == 0). NaN propagates unless passNaN (see vext). */
// @ts-ignore: decorator
@inline function rowExt(p: usize, n: usize, isMin: bool, passNaN: bool = false): f32 {
  const init: f32 = isMin ? Infinity : NEG_INF;
  let a0 = f32x4.splat(init), a1 = f32x4.splat(init);
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) {
    a0 = vext(a0, v128.load(p), isMin, passNaN);
    a1 = vext(a1, v128.load(p, 16), isMin, passNaN);
    p += 32;
  }
  if (i + 4 <= n) { a0 = vext(a0, v128.load(p), isMin, passNaN); p += 16; i += 4; }
  const v = vext(a0, a1, isMin, passNaN);
  let m = sext(sext(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1), isMin), sext(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3), isMin), isMin);
  for (; i < n; i++) { m = sext(m, load<f32>(p), isMin); p += 4; }
  return m;
}

/**
 * Max of n floats at p (-Infinity when n == 0), the shift of a softmax row: a NaN may be passed
 * over here, but it reaches the row's sum and makes the whole row NaN all the same.
 */
// @ts-ignore: decorator
@inline function rowMax(p: usize, n: usize): f32 {
  return rowExt(p, n, false, true);
}

// ---- BatchNormalization ------------------------------------------------------------------------

/** y[n][c][i] = x[n][c][i] * scale[c] + shift[c]; x, y: N x C x HW; scale, shift: C floats. */
export function norm_batch(x: usize, N: usize, C: usize, HW: usize, scale: usize, shift: usize, y: usize): void {
  for (let n: usize = 0; n < N; n++) {
    for (let c: usize = 0; c < C; c++) {
      const s = load<f32>(scale + (c << 2)), b = load<f32>(shift + (c << 2));
      const sv = f32x4.splat(s), bv = f32x4.splat(b);
      const off = ((n * C + c) * HW) << 2;
      let p = x + off, q = y + off;
      let i: usize = 0;
      for (; i + 8 <= HW; i += 8) {
        const v0 = v128.load(p), v1 = v128.load(p, 16);
        v128.store(q, madd(v0, sv, bv));
        v128.store(q, madd(v1, sv, bv), 16);
        p += 32; q += 32;
      }
      for (; i + 4 <= HW; i += 4) {
        v128.store(q, madd(v128.load(p), sv, bv));
        p += 16; q += 16;
      }
      for (; i < HW; i++) { store<f32>(q, load<f32>(p) * s + b); p += 4; q += 4; }
    }
  }
}

// ---- LayerNormalization ------------------------------------------------------------------------

/**
 * One row of D floats: y = (x - mean) / sqrt(var + eps) * gamma + beta, with gamma and beta per
 * element (arrays at g and b, b = 0 for none) or, with perChannel, the scalars gs and bs.
 * Corrected two-pass moments (mean, then the sum of deviations and of their squares), so large
 * means do not cancel the variance away. perChannel is a constant after inlining.
 */
// @ts-ignore: decorator
@inline function normRow(xr: usize, yr: usize, D: usize, eps: f32, g: usize, b: usize, gs: f32, bs: f32, perChannel: bool): void {
  const invD: f32 = <f32>1 / <f32>D;
  const zero = f32x4.splat(0);
  const mean = rowSum(xr, D) * invD;
  // second pass: deviations from the first mean
  const mv = f32x4.splat(mean);
  let s1 = zero, s2 = zero, t1 = zero, t2 = zero;
  let p = xr;
  let i: usize = 0;
  for (; i + 8 <= D; i += 8) {
    const d0 = f32x4.sub(v128.load(p), mv), d1 = f32x4.sub(v128.load(p, 16), mv);
    s1 = f32x4.add(s1, d0); s2 = madd(d0, d0, s2);
    t1 = f32x4.add(t1, d1); t2 = madd(d1, d1, t2);
    p += 32;
  }
  if (i + 4 <= D) {
    const d0 = f32x4.sub(v128.load(p), mv);
    s1 = f32x4.add(s1, d0); s2 = madd(d0, d0, s2);
    p += 16; i += 4;
  }
  let sd = hsum(f32x4.add(s1, t1)), sq = hsum(f32x4.add(s2, t2));
  for (; i < D; i++) { const d = load<f32>(p) - mean; sd += d; sq += d * d; p += 4; }
  // the mean is kept as mean + corr (two floats): x - mean is exact for x near the mean, so
  // (x - mean) - corr stays accurate even when |mean| is large against the spread
  const corr = sd * invD;
  let variance = sq * invD - corr * corr;
  if (variance < 0) variance = 0;
  const rstd: f32 = <f32>1 / Mathf.sqrt(variance + eps);
  // third pass: normalize, scale, shift
  const cv = f32x4.splat(corr), rs = f32x4.splat(rstd), gv = f32x4.splat(gs), bv = f32x4.splat(bs);
  p = xr;
  let q = yr;
  i = 0;
  for (; i + 4 <= D; i += 4) {
    const z = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(p), mv), cv), rs);
    if (perChannel) v128.store(q, madd(z, gv, bv));
    else v128.store(q, madd(z, v128.load(g), b ? v128.load(b) : zero));
    p += 16; q += 16; g += 16; b += 16;
  }
  for (; i < D; i++) {
    const z = ((load<f32>(p) - mean) - corr) * rstd;
    let v: f32;
    if (perChannel) v = z * gs + bs;
    else {
      v = z * load<f32>(g);
      if (b) v += load<f32>(b);
    }
    store<f32>(q, v);
    p += 4; q += 4; g += 4; b += 4;
  }
}

/** Per row of D floats: y = (x - mean) / sqrt(var + eps) * gamma + beta. gamma: D floats; beta: D floats or 0 for none. */
export function norm_layer(x: usize, rows: usize, D: usize, gamma: usize, beta: usize, eps: f32, y: usize): void {
  if (D == 0) return;
  for (let r: usize = 0; r < rows; r++) normRow(x + ((r * D) << 2), y + ((r * D) << 2), D, eps, gamma, beta, 0, 0, false);
}

/**
 * InstanceNormalization: per (n, c) plane of HW floats, y = (x - mean) / sqrt(var + eps) *
 * scale[c] + bias[c]; x, y: N x C x HW; scale, bias: C floats.
 */
export function norm_instance(x: usize, N: usize, C: usize, HW: usize, scale: usize, bias: usize, eps: f32, y: usize): void {
  if (HW == 0) return;
  for (let n: usize = 0; n < N; n++) {
    for (let c: usize = 0; c < C; c++) {
      const off = ((n * C + c) * HW) << 2;
      normRow(x + off, y + off, HW, eps, 0, 0, load<f32>(scale + (c << 2)), load<f32>(bias + (c << 2)), true);
    }
  }
}

// ---- Softmax / LogSoftmax ----------------------------------------------------------------------

/** (Log)Softmax over each contiguous row of D floats (rows x D). log: 0 softmax, 1 log-softmax. */
export function softmax_last(x: usize, rows: usize, D: usize, y: usize, log: i32): void {
  for (let r: usize = 0; r < rows; r++) {
    const xr = x + ((r * D) << 2), yr = y + ((r * D) << 2);
    const m = rowMax(xr, D);
    const mv = f32x4.splat(m);
    // exp(x - max), summed; stored for softmax only
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    let p = xr, q = yr;
    let i: usize = 0;
    for (; i + 8 <= D; i += 8) {
      const e0 = vexp(f32x4.sub(v128.load(p), mv)), e1 = vexp(f32x4.sub(v128.load(p, 16), mv));
      a0 = f32x4.add(a0, e0); a1 = f32x4.add(a1, e1);
      if (!log) { v128.store(q, e0); v128.store(q, e1, 16); }
      p += 32; q += 32;
    }
    for (; i + 4 <= D; i += 4) {
      const e0 = vexp(f32x4.sub(v128.load(p), mv));
      a0 = f32x4.add(a0, e0);
      if (!log) v128.store(q, e0);
      p += 16; q += 16;
    }
    let s = hsum(f32x4.add(a0, a1));
    for (; i < D; i++) {
      const e = exp1(load<f32>(p) - m);
      s += e;
      if (!log) store<f32>(q, e);
      p += 4; q += 4;
    }
    if (log) {
      const lse = Mathf.log(s), lv = f32x4.splat(lse);
      p = xr; q = yr; i = 0;
      for (; i + 4 <= D; i += 4) {
        v128.store(q, f32x4.sub(f32x4.sub(v128.load(p), mv), lv));
        p += 16; q += 16;
      }
      for (; i < D; i++) { store<f32>(q, (load<f32>(p) - m) - lse); p += 4; q += 4; }
    } else {
      const inv: f32 = <f32>1 / s, iv = f32x4.splat(inv);
      q = yr; i = 0;
      for (; i + 4 <= D; i += 4) { v128.store(q, f32x4.mul(v128.load(q), iv)); q += 16; }
      for (; i < D; i++) { store<f32>(q, load<f32>(q) * inv); q += 4; }
    }
  }
}

/**
 * (Log)Softmax over the middle axis of [outer, A, inner], vectorized across `inner` (4 columns at
 * a time; the last partial vector computes garbage lanes from neighbouring memory and stores
 * only the valid ones).
 */
export function softmax_axis(x: usize, outer: usize, A: usize, inner: usize, y: usize, log: i32): void {
  const stride = inner << 2;
  for (let o: usize = 0; o < outer; o++) {
    const xo = x + ((o * A * inner) << 2), yo = y + ((o * A * inner) << 2);
    for (let i: usize = 0; i < inner; i += 4) {
      const nv = <i32>min<usize>(4, inner - i);
      const xc = xo + (i << 2), yc = yo + (i << 2);
      let m = f32x4.splat(NEG_INF);
      let p = xc;
      for (let a: usize = 0; a < A; a++) { m = vext(m, v128.load(p), false, true); p += stride; } // as rowMax
      let s = f32x4.splat(0);
      p = xc;
      let q = yc;
      for (let a: usize = 0; a < A; a++) {
        const e = vexp(f32x4.sub(v128.load(p), m));
        s = f32x4.add(s, e);
        if (!log) storeLanes(q, e, nv);
        p += stride; q += stride;
      }
      if (log) {
        let lse = f32x4.splat(0);
        lse = f32x4.replace_lane(lse, 0, Mathf.log(f32x4.extract_lane(s, 0)));
        lse = f32x4.replace_lane(lse, 1, Mathf.log(f32x4.extract_lane(s, 1)));
        lse = f32x4.replace_lane(lse, 2, Mathf.log(f32x4.extract_lane(s, 2)));
        lse = f32x4.replace_lane(lse, 3, Mathf.log(f32x4.extract_lane(s, 3)));
        p = xc; q = yc;
        for (let a: usize = 0; a < A; a++) {
          storeLanes(q, f32x4.sub(f32x4.sub(v128.load(p), m), lse), nv);
          p += stride; q += stride;
        }
      } else {
        const inv = f32x4.div(f32x4.splat(1), s);
        q = yc;
        for (let a: usize = 0; a < A; a++) {
          storeLanes(q, f32x4.mul(v128.load(q), inv), nv);
          q += stride;
        }
      }
    }
  }
}

// ---- Reductions --------------------------------------------------------------------------------

/** y[o][i] = scale * sum_r x[o][r][i] over [outer, R, inner]. R == 0 gives 0 * scale. */
export function reduce_sum(x: usize, outer: usize, R: usize, inner: usize, scale: f32, y: usize): void {
  if (inner == 1) {
    for (let o: usize = 0; o < outer; o++) store<f32>(y + (o << 2), rowSum(x + ((o * R) << 2), R) * scale);
    return;
  }
  const stride = inner << 2, sv = f32x4.splat(scale);
  for (let o: usize = 0; o < outer; o++) {
    const xo = x + ((o * R * inner) << 2), yo = y + ((o * inner) << 2);
    let i: usize = 0;
    for (; i + 8 <= inner; i += 8) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
      let p = xo + (i << 2);
      for (let r: usize = 0; r < R; r++) {
        a0 = f32x4.add(a0, v128.load(p)); a1 = f32x4.add(a1, v128.load(p, 16));
        p += stride;
      }
      v128.store(yo + (i << 2), f32x4.mul(a0, sv));
      v128.store(yo + (i << 2), f32x4.mul(a1, sv), 16);
    }
    for (; i < inner; i += 4) {
      let a0 = f32x4.splat(0);
      let p = xo + (i << 2);
      for (let r: usize = 0; r < R; r++) { a0 = f32x4.add(a0, v128.load(p)); p += stride; }
      storeLanes(yo + (i << 2), f32x4.mul(a0, sv), <i32>min<usize>(4, inner - i));
    }
  }
}

/** y[o][i] = max_r (isMin: min_r) x[o][r][i] over [outer, R, inner]. R == 0 gives -Infinity (+Infinity). NaN propagates. */
// @ts-ignore: decorator
@inline function reduceExt(x: usize, outer: usize, R: usize, inner: usize, y: usize, isMin: bool): void {
  if (inner == 1) {
    for (let o: usize = 0; o < outer; o++) store<f32>(y + (o << 2), rowExt(x + ((o * R) << 2), R, isMin));
    return;
  }
  const stride = inner << 2;
  const init: f32 = isMin ? Infinity : NEG_INF;
  for (let o: usize = 0; o < outer; o++) {
    const xo = x + ((o * R * inner) << 2), yo = y + ((o * inner) << 2);
    let i: usize = 0;
    for (; i + 8 <= inner; i += 8) {
      let a0 = f32x4.splat(init), a1 = f32x4.splat(init);
      let p = xo + (i << 2);
      for (let r: usize = 0; r < R; r++) {
        a0 = vext(a0, v128.load(p), isMin); a1 = vext(a1, v128.load(p, 16), isMin);
        p += stride;
      }
      v128.store(yo + (i << 2), a0);
      v128.store(yo + (i << 2), a1, 16);
    }
    for (; i < inner; i += 4) {
      let a0 = f32x4.splat(init);
      let p = xo + (i << 2);
      for (let r: usize = 0; r < R; r++) { a0 = vext(a0, v128.load(p), isMin); p += stride; }
      storeLanes(yo + (i << 2), a0, <i32>min<usize>(4, inner - i));
    }
  }
}

/** y[o][i] = max_r x[o][r][i] over [outer, R, inner]. R == 0 gives -Infinity. NaN propagates. */
export function reduce_max(x: usize, outer: usize, R: usize, inner: usize, y: usize): void {
  reduceExt(x, outer, R, inner, y, false);
}

/** y[o][i] = min_r x[o][r][i] over [outer, R, inner]. R == 0 gives +Infinity. NaN propagates. */
export function reduce_min(x: usize, outer: usize, R: usize, inner: usize, y: usize): void {
  reduceExt(x, outer, R, inner, y, true);
}

/**
 * ArgMax (isMin: ArgMin) along R of [outer, R, inner]: y[o][i] = the index r of the largest
 * (smallest) x[o][r][i], as a float. Ties keep the first index, or with last the last one. Four
 * inner positions a vector; a partial vector reads past its row (the heap allows it) and stores
 * only its lanes. R must be at least 1.
 */
export function arg_extreme(x: usize, outer: usize, R: usize, inner: usize, y: usize, isMin: i32, last: i32): void {
  const rowB = inner << 2;
  for (let o: usize = 0; o < outer; o++) {
    const xo = x + ((o * R * inner) << 2), yo = y + ((o * inner) << 2);
    for (let i: usize = 0; i < inner; i += 4) {
      let p = xo + (i << 2);
      let best = v128.load(p);
      let idx = f32x4.splat(0);
      for (let r: usize = 1; r < R; r++) {
        p += rowB;
        const v = v128.load(p);
        const better = isMin ? (last ? f32x4.le(v, best) : f32x4.lt(v, best)) : (last ? f32x4.ge(v, best) : f32x4.gt(v, best));
        best = v128.bitselect(v, best, better);
        idx = v128.bitselect(f32x4.splat(<f32>r), idx, better);
      }
      storeLanes(yo + (i << 2), idx, <i32>min<usize>(4, inner - i));
    }
  }
}


/**
 * CumSum along R of [outer, R, inner]: y[o][r][i] = the sum of x[o][s][i] over s <= r (exclusive:
 * s < r; reverse: s >= r, or s > r), added in order along the axis as onnxruntime adds them. Four
 * inner positions a vector; a partial vector reads past its row (the heap allows it) and stores
 * only its lanes. y may be x: each value is read before its place is written.
 */
export function cumsum(x: usize, outer: usize, R: usize, inner: usize, y: usize, exclusive: i32, reverse: i32): void {
  const rowB: usize = inner << 2;
  const step: usize = reverse ? 0 - rowB : rowB; // wraps: p += step walks back
  for (let o: usize = 0; o < outer; o++) {
    const first = ((o * R + (reverse ? R - 1 : 0)) * inner) << 2;
    if (inner == 1) {
      let p: usize = first;
      let acc: f32 = 0;
      for (let t: usize = 0; t < R; t++) {
        const v = load<f32>(x + p);
        if (exclusive) { store<f32>(y + p, acc); acc += v; } else { acc += v; store<f32>(y + p, acc); }
        p += step;
      }
      continue;
    }
    for (let i: usize = 0; i < inner; i += 4) {
      const n = <i32>min<usize>(4, inner - i);
      let p: usize = first + (i << 2);
      let acc = f32x4.splat(0);
      for (let t: usize = 0; t < R; t++) {
        const v = v128.load(x + p);
        if (exclusive) { storeLanes(y + p, acc, n); acc = f32x4.add(acc, v); } else { acc = f32x4.add(acc, v); storeLanes(y + p, acc, n); }
        p += step;
      }
    }
  }
}

/**
 * LRN across channels of [N, C, HW]: y = x / (bias + alpha / size * s)^beta, s the sum of x^2 over
 * the channels c - floor((size - 1) / 2) .. c + ceil((size - 1) / 2) that exist. The power is
 * exp(-beta * ln(.)) (the base is at least bias > 0). Four pixels a vector; a partial vector reads
 * past its plane (the heap allows it) and stores only its lanes. y must not be x.
 */
export function lrn(x: usize, N: usize, C: usize, HW: usize, size: usize, alpha: f32, beta: f32, bias: f32, y: usize): void {
  const lo = (size - 1) >> 1, hi = size - 1 - lo;
  const planeB = HW << 2;
  const scale = f32x4.splat(alpha / <f32>size), b = f32x4.splat(bias), nb = f32x4.splat(-beta);
  for (let n: usize = 0; n < N; n++) {
    const xn = x + n * C * planeB, yn = y + n * C * planeB;
    for (let c: usize = 0; c < C; c++) {
      const c0 = c >= lo ? c - lo : 0, c1 = min<usize>(C - 1, c + hi);
      for (let i: usize = 0; i < HW; i += 4) {
        const off = i << 2;
        let s = f32x4.splat(0);
        for (let j = c0; j <= c1; j++) {
          const v = v128.load(xn + j * planeB + off);
          s = madd(v, v, s);
        }
        const d = vexp(f32x4.mul(nb, vlog(madd(scale, s, b))));
        storeLanes(yn + c * planeB + off, f32x4.mul(v128.load(xn + c * planeB + off), d), <i32>min<usize>(4, HW - i));
      }
    }
  }
}
