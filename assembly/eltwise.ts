// Elementwise binary ops with numpy broadcasting: y = a (op) b over a 4-d output box.
// The host (src/kernels/eltwise.ts) computes the broadcast shape, collapses it to at most 4 dims
// and passes per-input element strides (0 along broadcast dims). The innermost dimension is
// vectorized when its strides are (1, 1), (1, 0) (b splat) or (0, 1) (a splat); other strides
// run a scalar gather loop. The last 1..3 elements of a row go through the same vector code with
// only their lanes stored (reads may run up to 12 bytes past a row, which the host heap allows;
// writes never do). y may equal a (or b) when that input has the output's shape.
import { storeLanes } from './simd';
import { vabs, vexp, vlog } from './vmath';

// Op codes (src/kernels/eltwise.ts keeps the same table).
export const ELTWISE_ADD: i32 = 0;
export const ELTWISE_SUB: i32 = 1;
export const ELTWISE_MUL: i32 = 2;
export const ELTWISE_DIV: i32 = 3;
export const ELTWISE_MAX: i32 = 4;
export const ELTWISE_MIN: i32 = 5;
export const ELTWISE_POW: i32 = 6;
export const ELTWISE_PRELU: i32 = 7; // a >= 0 ? a : a * b (b = slope)
// Comparisons and logic: booleans are held as 0 / 1 floats (NaN compares false, as in IEEE).
export const ELTWISE_GREATER: i32 = 8;
export const ELTWISE_LESS: i32 = 9;
export const ELTWISE_EQUAL: i32 = 10;
export const ELTWISE_GREATER_OR_EQUAL: i32 = 11;
export const ELTWISE_LESS_OR_EQUAL: i32 = 12;
export const ELTWISE_AND: i32 = 13;
export const ELTWISE_OR: i32 = 14;
export const ELTWISE_XOR: i32 = 15;
/** y = a != 0 ? b : y (Where's second step: y already holds the "else" values). */
export const ELTWISE_SELECT: i32 = 16;

/**
 * x^y with C powf's special cases (what onnxruntime returns): x^0 = 1 (even NaN^0), 1^y = 1 (even
 * 1^NaN), (-1)^±Inf = 1, (-x)^odd < 0, (<0)^non-integer = NaN.
 */
// @ts-ignore: decorator
@inline function vpow(x: v128, y: v128): v128 {
  let r = vexp(f32x4.mul(y, vlog(vabs(x))));
  const ay = vabs(y);
  const isInt = f32x4.eq(f32x4.nearest(y), y); // also +-Inf; never NaN
  // every f32 >= 2^24 is even; below, the integer's low bit tells
  const low = v128.and(i32x4.trunc_sat_f32x4_s(y), i32x4.splat(1));
  const odd = v128.and(v128.and(isInt, f32x4.lt(ay, f32x4.splat(16777216))), i32x4.eq(low, i32x4.splat(1)));
  // negative base (incl. -0, -Inf) and odd exponent: flip the sign
  r = v128.xor(r, v128.and(odd, v128.and(x, i32x4.splat(0x80000000))));
  // finite negative base with a non-integer exponent: NaN
  const bad = v128.andnot(v128.and(f32x4.lt(x, f32x4.splat(0)), f32x4.ne(x, f32x4.splat(<f32>-Infinity))), isInt);
  r = v128.bitselect(f32x4.splat(<f32>NaN), r, v128.and(bad, f32x4.eq(y, y)));
  const one = v128.or(v128.or(f32x4.eq(y, f32x4.splat(0)), f32x4.eq(x, f32x4.splat(1))),
    v128.and(f32x4.eq(x, f32x4.splat(-1)), f32x4.eq(ay, f32x4.splat(<f32>Infinity))));
  return v128.bitselect(f32x4.splat(1), r, one);
}

/** A mask (all ones or zeros per lane) as 1.0 / 0.0. */
// @ts-ignore: decorator
@inline function bool(m: v128): v128 {
  return v128.and(m, f32x4.splat(1));
}

/** One vector of op `op` (yv: the output's current values, read by SELECT only); `op` is a constant after inlining. */
// @ts-ignore: decorator
@inline function apply(op: i32, a: v128, b: v128, yv: v128 = f32x4.splat(0)): v128 {
  if (op >= ELTWISE_GREATER) {
    const z = f32x4.splat(0);
    if (op == ELTWISE_GREATER) return bool(f32x4.gt(a, b));
    if (op == ELTWISE_LESS) return bool(f32x4.lt(a, b));
    if (op == ELTWISE_EQUAL) return bool(f32x4.eq(a, b));
    if (op == ELTWISE_GREATER_OR_EQUAL) return bool(f32x4.ge(a, b));
    if (op == ELTWISE_LESS_OR_EQUAL) return bool(f32x4.le(a, b));
    if (op == ELTWISE_AND) return bool(v128.and(f32x4.ne(a, z), f32x4.ne(b, z)));
    if (op == ELTWISE_OR) return bool(v128.or(f32x4.ne(a, z), f32x4.ne(b, z)));
    if (op == ELTWISE_XOR) return bool(v128.xor(f32x4.ne(a, z), f32x4.ne(b, z)));
    return v128.bitselect(b, yv, f32x4.ne(a, z));
  }
  if (op == ELTWISE_ADD) return f32x4.add(a, b);
  if (op == ELTWISE_SUB) return f32x4.sub(a, b);
  if (op == ELTWISE_MUL) return f32x4.mul(a, b);
  if (op == ELTWISE_DIV) return f32x4.div(a, b);
  if (op == ELTWISE_MAX) return f32x4.max(a, b); // NaN-propagating, like Math.max
  if (op == ELTWISE_MIN) return f32x4.min(a, b);
  if (op == ELTWISE_PRELU) return v128.bitselect(a, f32x4.mul(a, b), f32x4.ge(a, f32x4.splat(0)));
  return vpow(a, b);
}

/** The output's current values where SELECT reads them (a partial last vector reads past the row, which the heap allows); nothing for the other ops. */
// @ts-ignore: decorator
@inline function cur(op: i32, y: usize): v128 {
  return op == ELTWISE_SELECT ? v128.load(y) : f32x4.splat(0);
}

/** One output row of n elements; sa/sb are the inputs' element strides along it. */
// @ts-ignore: decorator
@inline function row(op: i32, a: usize, sa: i32, b: usize, sb: i32, y: usize, n: usize): void {
  const end = y + (n << 2);
  if (sa == 1 && sb == 1) {
    for (; y + 16 <= end; y += 16, a += 16, b += 16) v128.store(y, apply(op, v128.load(a), v128.load(b), cur(op, y)));
    if (y < end) storeLanes(y, apply(op, v128.load(a), v128.load(b), cur(op, y)), <i32>((end - y) >> 2));
  } else if (sa == 1 && sb == 0) {
    const bv = v128.load32_splat(b);
    for (; y + 16 <= end; y += 16, a += 16) v128.store(y, apply(op, v128.load(a), bv, cur(op, y)));
    if (y < end) storeLanes(y, apply(op, v128.load(a), bv, cur(op, y)), <i32>((end - y) >> 2));
  } else if (sa == 0 && sb == 1) {
    const av = v128.load32_splat(a);
    for (; y + 16 <= end; y += 16, b += 16) v128.store(y, apply(op, av, v128.load(b), cur(op, y)));
    if (y < end) storeLanes(y, apply(op, av, v128.load(b), cur(op, y)), <i32>((end - y) >> 2));
  } else if (sa == 0 && sb == 0) {
    const av = v128.load32_splat(a), bv = v128.load32_splat(b);
    for (; y + 16 <= end; y += 16) v128.store(y, apply(op, av, bv, cur(op, y)));
    if (y < end) storeLanes(y, apply(op, av, bv, cur(op, y)), <i32>((end - y) >> 2));
  } else {
    // general strides: one element at a time (the host's collapsed shapes never need this)
    const da = <usize>sa << 2, db = <usize>sb << 2; // negative strides wrap mod 2^32 as intended
    for (; y < end; y += 4, a += da, b += db) {
      store<f32>(y, f32x4.extract_lane(apply(op, v128.load32_splat(a), v128.load32_splat(b), v128.load32_splat(y)), 0));
    }
  }
}

// @ts-ignore: decorator
@inline function box(op: i32, a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32,
  as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void {
  const n = <usize>d3;
  const rowB = n << 2;
  for (let i0 = 0; i0 < d0; i0++) {
    const a0 = a + (<usize>(i0 * as0) << 2), b0 = b + (<usize>(i0 * bs0) << 2);
    for (let i1 = 0; i1 < d1; i1++) {
      const a1 = a0 + (<usize>(i1 * as1) << 2), b1 = b0 + (<usize>(i1 * bs1) << 2);
      for (let i2 = 0; i2 < d2; i2++) {
        row(op, a1 + (<usize>(i2 * as2) << 2), as3, b1 + (<usize>(i2 * bs2) << 2), bs3, y, n);
        y += rowB;
      }
    }
  }
}

// One wasm function per op, reached through a table: the engine compiles a function on its first
// call (V8's lazy compilation), so a model pays for the ops it runs. One function holding every op
// (a switch over the inlined loops) was 32 kB of code that a cold start compiled on the first
// Add or Mul, 2-3 ms in V8's baseline compiler. A table call cannot be inlined back into a switch.
type BinaryFn = (a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32) => void;
function eltwise_add(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void { box(ELTWISE_ADD, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3); }
function eltwise_sub(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void { box(ELTWISE_SUB, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3); }
function eltwise_mul(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void { box(ELTWISE_MUL, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3); }
function eltwise_div(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void { box(ELTWISE_DIV, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3); }
function eltwise_max(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void { box(ELTWISE_MAX, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3); }
function eltwise_min(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void { box(ELTWISE_MIN, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3); }
function eltwise_pow(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void { box(ELTWISE_POW, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3); }
function eltwise_prelu(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void { box(ELTWISE_PRELU, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3); }
function eltwise_greater(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void { box(ELTWISE_GREATER, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3); }
function eltwise_less(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void { box(ELTWISE_LESS, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3); }
function eltwise_equal(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void { box(ELTWISE_EQUAL, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3); }
function eltwise_greater_or_equal(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void { box(ELTWISE_GREATER_OR_EQUAL, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3); }
function eltwise_less_or_equal(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void { box(ELTWISE_LESS_OR_EQUAL, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3); }
function eltwise_and(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void { box(ELTWISE_AND, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3); }
function eltwise_or(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void { box(ELTWISE_OR, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3); }
function eltwise_xor(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void { box(ELTWISE_XOR, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3); }
function eltwise_select(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void { box(ELTWISE_SELECT, a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3); }
/** Indexed by op code (the codes above run 0, 1, 2... in this order). */
const ELTWISE_OPS: StaticArray<BinaryFn> = [eltwise_add, eltwise_sub, eltwise_mul, eltwise_div, eltwise_max, eltwise_min, eltwise_pow, eltwise_prelu, eltwise_greater, eltwise_less, eltwise_equal, eltwise_greater_or_equal, eltwise_less_or_equal, eltwise_and, eltwise_or, eltwise_xor, eltwise_select];

/**
 * y[i0,i1,i2,i3] = a[i . as] (op) b[i . bs] over the box d0 x d1 x d2 x d3; y is contiguous.
 * Strides are in elements (0 broadcasts). An unknown op writes nothing.
 */
export function eltwise_binary4(op: i32, a: usize, b: usize, y: usize,
  d0: i32, d1: i32, d2: i32, d3: i32,
  as0: i32, as1: i32, as2: i32, as3: i32,
  bs0: i32, bs1: i32, bs2: i32, bs3: i32): void {
  if (d0 <= 0 || d1 <= 0 || d2 <= 0 || d3 <= 0) return;
  if (<u32>op < <u32>ELTWISE_OPS.length) unchecked(ELTWISE_OPS[op])(a, b, y, d0, d1, d2, d3, as0, as1, as2, as3, bs0, bs1, bs2, bs3);
}
