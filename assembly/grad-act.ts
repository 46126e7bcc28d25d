// Elementwise backward kernels: the ReLU family and Dropout. All run 4 floats at a time; the last
// 1..3 elements are scalar. dx may be the same buffer as dy (in place).
//  - grad_act: dx = dy * f'(t) for relu (t > 0), clip (p0 < t < p1) and leakyRelu (t > 0 ? 1 : p0).
//    t is the forward input or output: for these three (leakyRelu with p0 > 0) both give the same mask.
//  - grad_dropout_fwd: keep[i] = hash(key, i) >= threshold (a counter-based generator: the mask is a
//    pure function of seed, step and the element index, the same on every host and build);
//    y = keep ? x * scale : 0 with mask[i] = keep (u8 0/1).
//  - grad_dropout_bwd: dx = mask ? dy * scale : 0.
import { ACT_CLIP, ACT_LEAKY, ACT_RELU } from './simd';

/** dx = dy * act'(t) over n floats. act: ACT_RELU, ACT_CLIP (p0 = min, p1 = max) or ACT_LEAKY (p0 = alpha). */
export function grad_act(act: i32, t: usize, dy: usize, dx: usize, n: usize, p0: f32, p1: f32): void {
  const zero = f32x4.splat(0), lo = f32x4.splat(p0), hi = f32x4.splat(p1);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const o = i << 2;
    const tv = v128.load(t + o), g = v128.load(dy + o);
    let r: v128;
    if (act == ACT_RELU) r = v128.and(g, f32x4.gt(tv, zero));
    else if (act == ACT_CLIP) r = v128.and(g, v128.and(f32x4.gt(tv, lo), f32x4.lt(tv, hi)));
    else if (act == ACT_LEAKY) r = v128.bitselect(g, f32x4.mul(g, lo), f32x4.gt(tv, zero));
    else r = g;
    v128.store(dx + o, r);
  }
  for (; i < n; i++) {
    const o = i << 2;
    const tv = load<f32>(t + o), g = load<f32>(dy + o);
    let r: f32 = g;
    if (act == ACT_RELU) r = tv > 0 ? g : 0;
    else if (act == ACT_CLIP) r = tv > p0 && tv < p1 ? g : 0;
    else if (act == ACT_LEAKY) r = tv > 0 ? g : g * p0;
    store<f32>(dx + o, r);
  }
}

// @ts-ignore: decorator
@inline function fmix(h: u32): u32 {
  h ^= h >>> 16;
  h *= 0x85ebca6b;
  h ^= h >>> 13;
  h *= 0xc2b2ae35;
  h ^= h >>> 16;
  return h;
}

// @ts-ignore: decorator
@inline function vfmix(h: v128): v128 {
  h = v128.xor(h, i32x4.shr_u(h, 16));
  h = i32x4.mul(h, i32x4.splat(0x85ebca6b));
  h = v128.xor(h, i32x4.shr_u(h, 13));
  h = i32x4.mul(h, i32x4.splat(0xc2b2ae35));
  h = v128.xor(h, i32x4.shr_u(h, 16));
  return h;
}

const GOLDEN: u32 = 0x9e3779b9;

/** The generator key of a (seed, step) pair. */
// @ts-ignore: decorator
@inline function dropoutKey(seed: u32, step: u32): u32 {
  return fmix(seed * GOLDEN ^ fmix(step + 0x632be5ab));
}

/**
 * Dropout forward over n floats: element i is kept when (hash(key, i) >>> 8) >= threshold
 * (threshold = round(p * 2^24)), then scaled by `scale` (1 / (1 - p)). mask: n bytes (1 kept, 0 dropped).
 * Returns the number of kept elements.
 */
export function grad_dropout_fwd(x: usize, n: usize, threshold: u32, scale: f32, seed: u32, step: u32, mask: usize, y: usize): u32 {
  const key = dropoutKey(seed, step);
  const kv = i32x4.splat(<i32>key), gv = i32x4.splat(<i32>GOLDEN);
  const tv = i32x4.splat(<i32>threshold), sv = f32x4.splat(scale), one = i32x4.splat(1);
  let counter = i32x4(0, 1, 2, 3);
  let kept = i32x4.splat(0);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const h = vfmix(v128.xor(i32x4.mul(counter, gv), kv));
    const keep = i32x4.ge_s(i32x4.shr_u(h, 8), tv);
    const o = i << 2;
    v128.store(y + o, v128.and(f32x4.mul(v128.load(x + o), sv), keep));
    const bits = v128.and(keep, one);
    kept = i32x4.add(kept, bits);
    const b16 = i16x8.narrow_i32x4_u(bits, bits);
    v128.store32_lane(mask + i, i8x16.narrow_i16x8_u(b16, b16), 0);
    counter = i32x4.add(counter, i32x4.splat(4));
  }
  let count: u32 = <u32>(i32x4.extract_lane(kept, 0) + i32x4.extract_lane(kept, 1) + i32x4.extract_lane(kept, 2) + i32x4.extract_lane(kept, 3));
  for (; i < n; i++) {
    const h = fmix((<u32>i * GOLDEN) ^ key);
    const keep = (h >>> 8) >= threshold;
    store<f32>(y + (i << 2), keep ? load<f32>(x + (i << 2)) * scale : 0);
    store<u8>(mask + i, keep ? 1 : 0);
    if (keep) count++;
  }
  return count;
}

/** Dropout backward over n floats: dx = mask[i] ? dy * scale : 0 (mask: n bytes). */
export function grad_dropout_bwd(dy: usize, mask: usize, n: usize, scale: f32, dx: usize): void {
  const sv = f32x4.splat(scale), zero = i32x4.splat(0);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const m = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(mask + i)));
    const o = i << 2;
    v128.store(dx + o, v128.andnot(f32x4.mul(v128.load(dy + o), sv), i32x4.eq(m, zero)));
  }
  for (; i < n; i++) {
    store<f32>(dx + (i << 2), load<u8>(mask + i) ? load<f32>(dy + (i << 2)) * scale : 0);
  }
}
