// Shared SIMD helpers. Both builds compile this file; ASC_FEATURE_RELAXED_SIMD is a
// compile-time constant, so each build keeps exactly one branch of `madd`.

/** a * b + c, fused (relaxed build) or as mul + add (plain SIMD128 build). */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/**
 * A sparse record read as one 8-byte load (u32 byte offset, then f32 weight): its weight
 * broadcast. The sparse inner loops are bound by loads (about two vector loads a cycle), and one
 * load here instead of an offset load and a weight splat made them 4-8% faster.
 */
// @ts-ignore: decorator
@inline export function recordWeight(e: u64): v128 {
  return f32x4.splat(reinterpret<f32>(<u32>(e >> 32)));
}

/** The byte offset of a record read by recordWeight's load. */
// @ts-ignore: decorator
@inline export function recordOffset(e: u64): usize {
  return <usize><u32>e;
}

/** Activation codes understood by every fused epilogue. Others run as a separate unary pass. */
export const ACT_NONE: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_CLIP: i32 = 2; // min(max(x, p0), p1): Relu6, Clip
export const ACT_LEAKY: i32 = 3; // x >= 0 ? x : p0 * x

/** Applies an epilogue activation to one vector. `lo`/`hi`/`alpha` are pre-splatted. */
// @ts-ignore: decorator
@inline export function activate(v: v128, act: i32, lo: v128, hi: v128): v128 {
  // pmax / pmin are one maxps / minps each (f32x4.max lowers to eight dependent instructions on
  // x64, to order NaN and -0); kept first, a NaN stays NaN, and + 0 turns max(-0, 0)'s -0 into +0
  if (act == ACT_RELU) return f32x4.add(f32x4.pmax(v, f32x4.splat(0)), f32x4.splat(0));
  if (act == ACT_CLIP) return f32x4.pmin(f32x4.add(f32x4.pmax(v, lo), f32x4.splat(0)), hi);
  if (act == ACT_LEAKY) {
    // lo holds alpha for LeakyRelu.
    const neg = f32x4.mul(v, lo);
    return v128.bitselect(v, neg, f32x4.ge(v, f32x4.splat(0)));
  }
  return v;
}

/** Scalar twin of `activate` for tails. */
// @ts-ignore: decorator
@inline export function activate1(v: f32, act: i32, p0: f32, p1: f32): f32 {
  if (act == ACT_RELU) return v > 0 ? v : 0;
  if (act == ACT_CLIP) return v < p0 ? p0 : v > p1 ? p1 : v;
  if (act == ACT_LEAKY) return v >= 0 ? v : v * p0;
  return v;
}

/** Stores the first `n` (0..4) lanes of `v` at `ptr`. */
// @ts-ignore: decorator
@inline export function storeLanes(ptr: usize, v: v128, n: i32): void {
  if (n >= 4) { v128.store(ptr, v); return; }
  if (n > 0) store<f32>(ptr, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(ptr, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(ptr, f32x4.extract_lane(v, 2), 8);
}

/** Stores lane r (0..3) of `v` at `ptr`. */
// @ts-ignore: decorator
@inline export function storeLane(ptr: usize, v: v128, r: i32): void {
  if (r == 0) store<f32>(ptr, f32x4.extract_lane(v, 0));
  else if (r == 1) store<f32>(ptr, f32x4.extract_lane(v, 1));
  else if (r == 2) store<f32>(ptr, f32x4.extract_lane(v, 2));
  else store<f32>(ptr, f32x4.extract_lane(v, 3));
}
