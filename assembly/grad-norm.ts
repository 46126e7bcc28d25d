// Training-mode BatchNormalization and the softmax cross-entropy loss.
//  - grad_bn_train_fwd: batch statistics per channel over N x HW (mean, biased variance with the
//    corrected two-pass sum), y = (x - mean) * invstd * gamma + beta, running statistics updated
//    PyTorch's way (new = (1 - momentum) * old + momentum * batch, the unbiased variance for the
//    running var), mean and invstd saved for the backward;
//  - grad_bn_bwd: dgamma, dbeta and dx from the saved statistics (the full batch-statistics
//    gradient: dx = gamma*invstd * (dy - mean(dy) - xhat * mean(dy * xhat)));
//  - grad_softmax_ce: mean cross-entropy of softmax(logits) against integer labels, and
//    dlogits = (softmax - onehot) / rows.
// Sums run in f32 vectors within a plane (or a row) and in f64 across planes.
import { madd } from './simd';
import { hsum, vexp } from './vmath';

/** Sum of n floats at p. */
// @ts-ignore: decorator
@inline function sumRow(p: usize, n: usize): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) { a0 = f32x4.add(a0, v128.load(p)); a1 = f32x4.add(a1, v128.load(p, 16)); p += 32; }
  for (; i + 4 <= n; i += 4) { a0 = f32x4.add(a0, v128.load(p)); p += 16; }
  let s = hsum(f32x4.add(a0, a1));
  for (; i < n; i++) { s += load<f32>(p); p += 4; }
  return s;
}

// Two results of a pass over one plane, returned through statics (no allocation).
let S1: f64 = 0;
let S2: f64 = 0;

/** S1 += sum (x - m), S2 += sum (x - m)^2 over n floats at p. */
// @ts-ignore: decorator
@inline function centeredSums(p: usize, n: usize, m: f32): void {
  const mv = f32x4.splat(m);
  let a = f32x4.splat(0), b = f32x4.splat(0), c = f32x4.splat(0), d = f32x4.splat(0);
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) {
    const d0 = f32x4.sub(v128.load(p), mv), d1 = f32x4.sub(v128.load(p, 16), mv);
    a = f32x4.add(a, d0); b = madd(d0, d0, b);
    c = f32x4.add(c, d1); d = madd(d1, d1, d);
    p += 32;
  }
  for (; i + 4 <= n; i += 4) {
    const d0 = f32x4.sub(v128.load(p), mv);
    a = f32x4.add(a, d0); b = madd(d0, d0, b);
    p += 16;
  }
  let s1 = hsum(f32x4.add(a, c)), s2 = hsum(f32x4.add(b, d));
  for (; i < n; i++) { const e = load<f32>(p) - m; s1 += e; s2 += e * e; p += 4; }
  S1 += <f64>s1;
  S2 += <f64>s2;
}

/** S1 += sum dy, S2 += sum dy * (x - m) over n floats. */
// @ts-ignore: decorator
@inline function gradSums(x: usize, g: usize, n: usize, m: f32): void {
  const mv = f32x4.splat(m);
  let a = f32x4.splat(0), b = f32x4.splat(0), c = f32x4.splat(0), d = f32x4.splat(0);
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) {
    const g0 = v128.load(g), g1 = v128.load(g, 16);
    a = f32x4.add(a, g0); b = madd(g0, f32x4.sub(v128.load(x), mv), b);
    c = f32x4.add(c, g1); d = madd(g1, f32x4.sub(v128.load(x, 16), mv), d);
    x += 32; g += 32;
  }
  for (; i + 4 <= n; i += 4) {
    const g0 = v128.load(g);
    a = f32x4.add(a, g0); b = madd(g0, f32x4.sub(v128.load(x), mv), b);
    x += 16; g += 16;
  }
  let s1 = hsum(f32x4.add(a, c)), s2 = hsum(f32x4.add(b, d));
  for (; i < n; i++) { const gv = load<f32>(g); s1 += gv; s2 += gv * (load<f32>(x) - m); x += 4; g += 4; }
  S1 += <f64>s1;
  S2 += <f64>s2;
}

/** out = x * a + b over n floats (out may be x). */
// @ts-ignore: decorator
@inline function affine(x: usize, n: usize, a: f32, b: f32, out: usize): void {
  const av = f32x4.splat(a), bv = f32x4.splat(b);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) { v128.store(out, madd(v128.load(x), av, bv)); x += 16; out += 16; }
  for (; i < n; i++) { store<f32>(out, load<f32>(x) * a + b); x += 4; out += 4; }
}

/**
 * BatchNormalization, training mode, over x: N x C x HW (M = N*HW >= 1 values per channel).
 * gamma, beta: C floats. runMean / runVar: C floats updated in place (0 to skip; M >= 2 for the
 * unbiased variance, which the host checks). saveMean / saveInvStd: C floats written. y may be x.
 */
export function grad_bn_train_fwd(x: usize, N: usize, C: usize, HW: usize, gamma: usize, beta: usize,
  runMean: usize, runVar: usize, momentum: f32, eps: f32, y: usize, saveMean: usize, saveInvStd: usize): void {
  const M = <f64>(N * HW);
  const planeB = (C * HW) << 2;
  for (let c: usize = 0; c < C; c++) {
    const base = (c * HW) << 2;
    let total: f64 = 0;
    for (let n: usize = 0; n < N; n++) total += <f64>sumRow(x + base + n * planeB, HW);
    const mean0 = <f32>(total / M);
    S1 = 0; S2 = 0;
    for (let n: usize = 0; n < N; n++) centeredSums(x + base + n * planeB, HW, mean0);
    // corrected two-pass: the deviations' own mean fixes the rounding of mean0
    const corr = S1 / M;
    let variance = S2 / M - corr * corr;
    if (variance < 0) variance = 0;
    const mean = <f64>mean0 + corr;
    const invstd = 1.0 / Math.sqrt(variance + <f64>eps);
    const g = <f64>load<f32>(gamma + (c << 2)), b = <f64>load<f32>(beta + (c << 2));
    const a = <f32>(g * invstd), sh = <f32>(b - mean * g * invstd);
    for (let n: usize = 0; n < N; n++) affine(x + base + n * planeB, HW, a, sh, y + base + n * planeB);
    store<f32>(saveMean + (c << 2), <f32>mean);
    store<f32>(saveInvStd + (c << 2), <f32>invstd);
    const mom = <f64>momentum;
    if (runMean) {
      const q = runMean + (c << 2);
      store<f32>(q, <f32>((1 - mom) * <f64>load<f32>(q) + mom * mean));
    }
    if (runVar) {
      const q = runVar + (c << 2);
      const unbiased = M > 1 ? variance * M / (M - 1) : variance;
      store<f32>(q, <f32>((1 - mom) * <f64>load<f32>(q) + mom * unbiased));
    }
  }
}

/**
 * BatchNormalization backward (training mode, batch statistics) over N x C x HW.
 * dgamma[c] = sum dy * xhat, dbeta[c] = sum dy (overwritten; 0 pointers skip them);
 * dx = gamma*invstd * (dy - dbeta/M - xhat * dgamma/M) (dx may be dy).
 */
export function grad_bn_bwd(x: usize, dy: usize, N: usize, C: usize, HW: usize, gamma: usize,
  saveMean: usize, saveInvStd: usize, dx: usize, dgamma: usize, dbeta: usize): void {
  const M = <f64>(N * HW);
  const planeB = (C * HW) << 2;
  for (let c: usize = 0; c < C; c++) {
    const base = (c * HW) << 2;
    const mean = load<f32>(saveMean + (c << 2));
    const is = <f64>load<f32>(saveInvStd + (c << 2));
    S1 = 0; S2 = 0;
    for (let n: usize = 0; n < N; n++) gradSums(x + base + n * planeB, dy + base + n * planeB, HW, mean);
    const sdy = S1, sdyx = S2; // sum dy, sum dy * (x - mean)
    if (dbeta) store<f32>(dbeta + (c << 2), <f32>sdy);
    if (dgamma) store<f32>(dgamma + (c << 2), <f32>(sdyx * is));
    if (!dx) continue;
    const g = <f64>load<f32>(gamma + (c << 2));
    // dx = k1*dy + k2*(x - mean) + k3
    const k1 = g * is;
    const k2 = -g * is * is * is * sdyx / M;
    const k3 = -g * is * sdy / M;
    const v1 = f32x4.splat(<f32>k1), v2 = f32x4.splat(<f32>k2);
    const c0 = <f32>(k3 - k2 * <f64>mean);
    const v0 = f32x4.splat(c0);
    const f1 = <f32>k1, f2 = <f32>k2;
    for (let n: usize = 0; n < N; n++) {
      let xp = x + base + n * planeB, gp = dy + base + n * planeB, op = dx + base + n * planeB;
      let i: usize = 0;
      for (; i + 4 <= HW; i += 4) {
        v128.store(op, madd(v128.load(gp), v1, madd(v128.load(xp), v2, v0)));
        xp += 16; gp += 16; op += 16;
      }
      for (; i < HW; i++) { store<f32>(op, load<f32>(gp) * f1 + (load<f32>(xp) * f2 + c0)); xp += 4; gp += 4; op += 4; }
    }
  }
}

/** First row whose label is outside [0, classes), or -1 when all are valid. labels: rows i32. */
export function grad_ce_check_labels(labels: usize, rows: usize, classes: usize): i32 {
  for (let r: usize = 0; r < rows; r++) {
    const l = load<i32>(labels + (r << 2));
    if (l < 0 || <usize>l >= classes) return <i32>r;
  }
  return -1;
}

/**
 * Softmax cross-entropy over rows x classes logits with i32 labels (checked by the host).
 * Returns the summed loss (f64); dlogits (0 to skip; may be logits) = (softmax - onehot) * gscale.
 */
export function grad_softmax_ce(logits: usize, labels: usize, rows: usize, classes: usize, dlogits: usize, gscale: f32): f64 {
  let loss: f64 = 0;
  for (let r: usize = 0; r < rows; r++) {
    const x = logits + ((r * classes) << 2);
    const lab = <usize>load<i32>(labels + (r << 2));
    const xl = load<f32>(x + (lab << 2));
    // max
    let mv = f32x4.splat(-Infinity);
    let i: usize = 0;
    for (; i + 4 <= classes; i += 4) mv = f32x4.max(mv, v128.load(x + (i << 2)));
    let m = max<f32>(max<f32>(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max<f32>(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    for (; i < classes; i++) m = max<f32>(m, load<f32>(x + (i << 2)));
    // exp(x - max): summed, and stored in dlogits
    const mm = f32x4.splat(m);
    const d = dlogits ? dlogits + ((r * classes) << 2) : 0;
    let sv = f32x4.splat(0);
    i = 0;
    for (; i + 4 <= classes; i += 4) {
      const e = vexp(f32x4.sub(v128.load(x + (i << 2)), mm));
      sv = f32x4.add(sv, e);
      if (d) v128.store(d + (i << 2), e);
    }
    let s = hsum(sv);
    for (; i < classes; i++) {
      const e = f32x4.extract_lane(vexp(f32x4.splat(load<f32>(x + (i << 2)) - m)), 0);
      s += e;
      if (d) store<f32>(d + (i << 2), e);
    }
    loss += Math.log(<f64>s) + <f64>m - <f64>xl;
    if (d) {
      const k: f32 = gscale / s, kv = f32x4.splat(k);
      i = 0;
      for (; i + 4 <= classes; i += 4) v128.store(d + (i << 2), f32x4.mul(v128.load(d + (i << 2)), kv));
      for (; i < classes; i++) store<f32>(d + (i << 2), load<f32>(d + (i << 2)) * k);
      store<f32>(d + (lab << 2), load<f32>(d + (lab << 2)) - gscale);
    }
  }
  return loss;
}
