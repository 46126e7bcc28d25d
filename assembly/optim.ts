// Optimizer updates over flat parameter buffers, 4 floats at a time, with an optional mask that
// keeps pruned weights exactly zero: where the mask is 0 the weight and the optimizer state
// (velocity, Adam moments) are stored as +0 after every update, whatever the gradient holds.
// mask: 0 for none, else n bytes (maskKind MASK_U8, nonzero = trainable) or n floats
// (MASK_F32, nonzero = trainable).
//  - optim_sgd: PyTorch SGD (dampening 0): g' = g + wd*w; with momentum buf = momentum*buf + g'
//    and g' = nesterov ? g' + momentum*buf : buf; w -= lr * g'.
//  - optim_adam: Adam / AdamW. The host folds the bias corrections and the decay into scalars:
//    w = w*decay - stepSize * m / (sqrt(v) * invSqrtBc2 + eps) with g' = g + l2*w,
//    m = b1*m + (1-b1)*g', v = b2*v + (1-b2)*g'^2 (stepSize = lr / (1 - b1^t), invSqrtBc2 =
//    1 / sqrt(1 - b2^t), decay = 1 - lr*wd for AdamW, l2 = wd for Adam's coupled L2).
//  - optim_sumsq / optim_scale: the global norm for gradient clipping, and g *= s.
//  - optim_apply_mask: w = mask ? w : 0.
import { madd } from './simd';

export const MASK_NONE: i32 = 0;
export const MASK_U8: i32 = 1;
export const MASK_F32: i32 = 2;

/** All-ones lanes where the mask keeps element i..i+3. */
// @ts-ignore: decorator
@inline function keep4(mask: usize, kind: i32, i: usize): v128 {
  if (kind == MASK_U8) {
    const m = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(mask + i)));
    return v128.not(i32x4.eq(m, i32x4.splat(0)));
  }
  return f32x4.ne(v128.load(mask + (i << 2)), f32x4.splat(0));
}

// @ts-ignore: decorator
@inline function keep1(mask: usize, kind: i32, i: usize): bool {
  if (kind == MASK_U8) return load<u8>(mask + i) != 0;
  return load<f32>(mask + (i << 2)) != 0;
}

/** SGD with optional momentum (buf: n floats, or 0 when momentum is 0), weight decay, Nesterov and mask. */
export function optim_sgd(w: usize, g: usize, buf: usize, n: usize, lr: f32, momentum: f32, wd: f32,
  nesterov: i32, mask: usize, maskKind: i32): void {
  const lrv = f32x4.splat(-lr), mv = f32x4.splat(momentum), wdv = f32x4.splat(wd);
  const useMom = momentum != 0 && buf != 0;
  const masked = mask != 0 && maskKind != MASK_NONE;
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const o = i << 2;
    let wv = v128.load(w + o);
    let gv = madd(wdv, wv, v128.load(g + o));
    let bv = f32x4.splat(0);
    if (useMom) {
      bv = madd(mv, v128.load(buf + o), gv);
      gv = nesterov ? madd(mv, bv, gv) : bv;
    }
    wv = madd(lrv, gv, wv);
    if (masked) {
      const k = keep4(mask, maskKind, i);
      wv = v128.and(wv, k);
      bv = v128.and(bv, k);
    }
    v128.store(w + o, wv);
    if (useMom) v128.store(buf + o, bv);
  }
  for (; i < n; i++) {
    const o = i << 2;
    let wv = load<f32>(w + o);
    let gv = wd * wv + load<f32>(g + o);
    let bv: f32 = 0;
    if (useMom) {
      bv = momentum * load<f32>(buf + o) + gv;
      gv = nesterov ? momentum * bv + gv : bv;
    }
    wv = -lr * gv + wv;
    if (masked && !keep1(mask, maskKind, i)) { wv = 0; bv = 0; }
    store<f32>(w + o, wv);
    if (useMom) store<f32>(buf + o, bv);
  }
}

/** Adam / AdamW step over n floats (m, v: n floats each). See the header for the scalars. */
export function optim_adam(w: usize, g: usize, m: usize, v: usize, n: usize, stepSize: f32, invSqrtBc2: f32,
  beta1: f32, beta2: f32, eps: f32, decay: f32, l2: f32, mask: usize, maskKind: i32): void {
  const b1 = f32x4.splat(beta1), c1 = f32x4.splat(<f32>1 - beta1);
  const b2 = f32x4.splat(beta2), c2 = f32x4.splat(<f32>1 - beta2);
  const sv = f32x4.splat(stepSize), iv = f32x4.splat(invSqrtBc2), ev = f32x4.splat(eps);
  const dv = f32x4.splat(decay), lv = f32x4.splat(l2);
  const masked = mask != 0 && maskKind != MASK_NONE;
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const o = i << 2;
    let wv = v128.load(w + o);
    const gv = madd(lv, wv, v128.load(g + o));
    let mv = madd(b1, v128.load(m + o), f32x4.mul(c1, gv));
    let vv = madd(b2, v128.load(v + o), f32x4.mul(c2, f32x4.mul(gv, gv)));
    const den = madd(f32x4.sqrt(vv), iv, ev);
    wv = f32x4.sub(f32x4.mul(wv, dv), f32x4.div(f32x4.mul(sv, mv), den));
    if (masked) {
      const k = keep4(mask, maskKind, i);
      wv = v128.and(wv, k);
      mv = v128.and(mv, k);
      vv = v128.and(vv, k);
    }
    v128.store(w + o, wv);
    v128.store(m + o, mv);
    v128.store(v + o, vv);
  }
  for (; i < n; i++) {
    const o = i << 2;
    let wv = load<f32>(w + o);
    const gv = l2 * wv + load<f32>(g + o);
    let mv = beta1 * load<f32>(m + o) + (<f32>1 - beta1) * gv;
    let vv = beta2 * load<f32>(v + o) + (<f32>1 - beta2) * (gv * gv);
    const den = Mathf.sqrt(vv) * invSqrtBc2 + eps;
    wv = wv * decay - (stepSize * mv) / den;
    if (masked && !keep1(mask, maskKind, i)) { wv = 0; mv = 0; vv = 0; }
    store<f32>(w + o, wv);
    store<f32>(m + o, mv);
    store<f32>(v + o, vv);
  }
}

/** Sum of squares of n floats (f32 vectors per block of 4096, f64 across blocks). */
export function optim_sumsq(g: usize, n: usize): f64 {
  let total: f64 = 0;
  let i: usize = 0;
  while (i < n) {
    const end = min<usize>(n, i + 4096);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    for (; i + 8 <= end; i += 8) {
      const v0 = v128.load(g + (i << 2)), v1 = v128.load(g + (i << 2), 16);
      a0 = madd(v0, v0, a0); a1 = madd(v1, v1, a1);
    }
    a0 = f32x4.add(a0, a1);
    let s: f64 = <f64>f32x4.extract_lane(a0, 0) + <f64>f32x4.extract_lane(a0, 1) + <f64>f32x4.extract_lane(a0, 2) + <f64>f32x4.extract_lane(a0, 3);
    for (; i < end; i++) { const x = <f64>load<f32>(g + (i << 2)); s += x * x; }
    total += s;
  }
  return total;
}

/** g *= s over n floats. */
export function optim_scale(g: usize, n: usize, s: f32): void {
  const sv = f32x4.splat(s);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) v128.store(g + (i << 2), f32x4.mul(v128.load(g + (i << 2)), sv));
  for (; i < n; i++) store<f32>(g + (i << 2), load<f32>(g + (i << 2)) * s);
}

/** w = mask ? w : +0 over n floats. */
export function optim_apply_mask(w: usize, n: usize, mask: usize, maskKind: i32): void {
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) v128.store(w + (i << 2), v128.and(v128.load(w + (i << 2)), keep4(mask, maskKind, i)));
  for (; i < n; i++) if (!keep1(mask, maskKind, i)) store<f32>(w + (i << 2), 0);
}
