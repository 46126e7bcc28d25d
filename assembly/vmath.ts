// SIMD transcendentals shared by the kernels (unary activations, Pow, softmax). Each maps one
// v128 of four f32 to four results; accuracy is checked in test/unary.test.ts against float64 Math:
// exp/log/tanh/sigmoid ~1e-7 relative, erf ~2e-7 absolute; Inf, NaN and +-0 behave like Math.
import { madd } from './simd';

// @ts-ignore: decorator
@inline function splat(v: f32): v128 {
  return f32x4.splat(v);
}

// @ts-ignore: decorator
@inline export function vabs(x: v128): v128 {
  return v128.and(x, i32x4.splat(0x7fffffff));
}

/** e^x: 2^n * p(r), r = x - n ln2 (Cody-Waite), p the Cephes expf polynomial. */
// @ts-ignore: decorator
@inline export function vexp(x: v128): v128 {
  // e^88.8 overflows to Inf and e^-104.5 (< half the least subnormal) rounds to exactly 0;
  // NaN passes the clamp: pmax / pmin with x first return x when it is NaN (one maxps / minps
  // each, where f32x4.max / min lower to eight dependent instructions on x64)
  x = f32x4.pmin(f32x4.pmax(x, splat(-104.5)), splat(88.8));
  const fx = f32x4.nearest(f32x4.mul(x, splat(1.44269504088896341)));
  let r = madd(fx, splat(-0.693359375), x);
  r = madd(fx, splat(2.12194440e-4), r);
  const z = f32x4.mul(r, r);
  let p = splat(1.9875691500e-4);
  p = madd(p, r, splat(1.3981999507e-3));
  p = madd(p, r, splat(8.3334519073e-3));
  p = madd(p, r, splat(4.1665795894e-2));
  p = madd(p, r, splat(1.6666665459e-1));
  p = madd(p, r, splat(5.0000001201e-1));
  p = madd(p, z, f32x4.add(r, splat(1)));
  // n in [-151, 128]: two factors 2^n1 * 2^n2 keep both exponents normal (subnormal results, e^88.7)
  const n = i32x4.trunc_sat_f32x4_s(fx);
  const n1 = i32x4.shr_s(n, 1);
  const n2 = i32x4.sub(n, n1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(n2, i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/** ln x (Cephes logf): x = m 2^e with m in [sqrt(1/2), sqrt 2). log(0) = -Inf, log(<0) = NaN. */
// @ts-ignore: decorator
@inline export function vlog(x: v128): v128 {
  // subnormals: scale by 2^23 first so the exponent field is meaningful
  const sub = f32x4.lt(x, splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, splat(8388608.0)), x, sub);
  let e = f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_u(xs, 23), i32x4.splat(126)));
  e = f32x4.sub(e, v128.and(sub, splat(23)));
  const m = v128.or(v128.and(xs, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000)); // [0.5, 1)
  const small = f32x4.lt(m, splat(0.707106781186547524));
  e = f32x4.sub(e, v128.and(small, splat(1)));
  const t = f32x4.sub(f32x4.add(m, v128.and(small, m)), splat(1));
  const z = f32x4.mul(t, t);
  let p = splat(7.0376836292e-2);
  p = madd(p, t, splat(-1.1514610310e-1));
  p = madd(p, t, splat(1.1676998740e-1));
  p = madd(p, t, splat(-1.2420140846e-1));
  p = madd(p, t, splat(1.4249322787e-1));
  p = madd(p, t, splat(-1.6668057665e-1));
  p = madd(p, t, splat(2.0000714765e-1));
  p = madd(p, t, splat(-2.4999993993e-1));
  p = madd(p, t, splat(3.3333331174e-1));
  let y = f32x4.mul(f32x4.mul(p, t), z);
  y = madd(e, splat(-2.12194440e-4), y);
  y = madd(z, splat(-0.5), y);
  let r = f32x4.add(t, y);
  r = madd(e, splat(0.693359375), r);
  // special values, in increasing priority
  r = v128.bitselect(splat(<f32>Infinity), r, f32x4.eq(x, splat(<f32>Infinity)));
  r = v128.bitselect(splat(<f32>-Infinity), r, f32x4.eq(x, splat(0)));
  r = v128.bitselect(splat(<f32>NaN), r, f32x4.lt(x, splat(0)));
  return v128.bitselect(x, r, f32x4.ne(x, x));
}

/** 1 / (1 + e^-x): e^-x overflows to Inf for x < -88 and the quotient goes to 0, never NaN. */
// @ts-ignore: decorator
@inline export function vsigmoid(x: v128): v128 {
  return f32x4.div(splat(1), f32x4.add(splat(1), vexp(f32x4.neg(x))));
}

/** tanh: odd polynomial (Cephes tanhf) for |x| < 0.625, else 1 - 2 / (e^2|x| + 1) with x's sign. */
// @ts-ignore: decorator
@inline export function vtanh(x: v128): v128 {
  const ax = vabs(x);
  const e2 = vexp(f32x4.add(ax, ax));
  let big = f32x4.sub(splat(1), f32x4.div(splat(2), f32x4.add(e2, splat(1))));
  big = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  const z = f32x4.mul(x, x);
  let p = splat(-5.70498872745e-3);
  p = madd(p, z, splat(2.06390887954e-2));
  p = madd(p, z, splat(-5.37397155531e-2));
  p = madd(p, z, splat(1.33314422036e-1));
  p = madd(p, z, splat(-3.33332819422e-1));
  const small = madd(f32x4.mul(p, z), x, x);
  return v128.bitselect(small, big, f32x4.lt(ax, splat(0.625)));
}

/** erf: odd rational x P(x^2) / Q(x^2) on [-4, 4] (erf is +-1 in f32 beyond), |error| ~2e-7. */
// @ts-ignore: decorator
@inline export function verf(x: v128): v128 {
  const xc = f32x4.pmin(f32x4.pmax(x, splat(-4)), splat(4)); // NaN passes (x first)
  const z = f32x4.mul(xc, xc);
  let p = splat(-2.72614225801306e-10);
  p = madd(p, z, splat(2.77068142495902e-08));
  p = madd(p, z, splat(-2.10102402082508e-06));
  p = madd(p, z, splat(-5.69250639462346e-05));
  p = madd(p, z, splat(-7.34990630326855e-04));
  p = madd(p, z, splat(-2.95459980854025e-03));
  p = madd(p, z, splat(-1.60960333262415e-02));
  p = f32x4.mul(p, xc);
  let q = splat(-1.45660718464996e-05);
  q = madd(q, z, splat(-2.13374055278905e-04));
  q = madd(q, z, splat(-1.68282697438203e-03));
  q = madd(q, z, splat(-7.37332916720468e-03));
  q = madd(q, z, splat(-1.42647390514189e-02));
  // exactly +-1 from |x| = 4 on (erfc(4) < half an ulp of 1), so 0.5 x (1 + erf) is exactly 0 for x << 0
  const one = v128.or(splat(1), v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(one, f32x4.div(p, q), f32x4.ge(vabs(x), splat(4)));
}

/** Sum of the four lanes. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}
