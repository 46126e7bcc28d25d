// Elementwise unary activations and math (y[i] = f(x[i]), in place when y == x); the SIMD
// transcendentals live in vmath.ts.
//
// Every op runs one v128 loop; the last 1..3 elements go through the same vector code on one
// (over-)read vector and only their lanes are stored, so an element's result never depends on
// where it sits in the buffer. Reading up to 16 bytes past the end is allowed by the host heap;
// nothing is ever written past n elements. Nothing here allocates.
//
// Accuracy (checked by test/unary.test.ts against float64 Math): exp/log/tanh/sigmoid ~1e-7
// relative, erf ~2e-7 absolute. Inf, NaN and +-0 behave like Math (NaN in -> NaN out).
import { madd, storeLanes } from './simd';
import { vabs, verf, vexp, vlog, vsigmoid, vtanh } from './vmath';

// Op codes (src/kernels/unary.ts keeps the same table).
export const UNARY_RELU: i32 = 0;
export const UNARY_LEAKY_RELU: i32 = 1; // p0 = alpha
export const UNARY_CLIP: i32 = 2; // p0 = min, p1 = max
export const UNARY_SIGMOID: i32 = 3;
export const UNARY_HARD_SIGMOID: i32 = 4; // p0 = alpha, p1 = beta
export const UNARY_HARD_SWISH: i32 = 5;
export const UNARY_TANH: i32 = 6;
export const UNARY_GELU: i32 = 7; // exact: 0.5 x (1 + erf(x / sqrt 2))
export const UNARY_GELU_TANH: i32 = 8; // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
export const UNARY_ERF: i32 = 9;
export const UNARY_EXP: i32 = 10;
export const UNARY_LOG: i32 = 11;
export const UNARY_SQRT: i32 = 12;
export const UNARY_NEG: i32 = 13;
export const UNARY_ABS: i32 = 14;
// Activations that exporters write as several nodes, computed in one pass with the same f32
// operations in the same order as those nodes (src/runtime/fuse-elementwise.ts finds them), so
// fusing them changes no bit of the result. t = min(max(x + 3, 0), 6), c = p0:
export const UNARY_SILU: i32 = 15; // Mul(x, Sigmoid(x))
export const UNARY_X_HARD_SIGMOID: i32 = 16; // Mul(x, HardSigmoid(x)), p0 = alpha, p1 = beta
export const UNARY_HSWISH_DIV: i32 = 17; // Div(Mul(x, t), c)
export const UNARY_HSWISH_MUL: i32 = 18; // Mul(Mul(x, t), c)
export const UNARY_HSWISH_DIV_FIRST: i32 = 19; // Mul(x, Div(t, c))
export const UNARY_HSWISH_MUL_FIRST: i32 = 20; // Mul(x, Mul(t, c))
export const UNARY_AFFINE: i32 = 21; // Add(Mul(x, p0), p1): two roundings, never a fused multiply-add
// More activations and math of the ONNX set.
export const UNARY_SOFTPLUS: i32 = 22; // log(1 + e^x) = max(x, 0) + log(1 + e^-|x|)
export const UNARY_ELU: i32 = 23; // p0 = alpha
export const UNARY_SELU: i32 = 24; // p0 = alpha, p1 = gamma
export const UNARY_CELU: i32 = 25; // p0 = alpha
export const UNARY_SOFTSIGN: i32 = 26; // x / (1 + |x|)
export const UNARY_SIGN: i32 = 27; // -1, 1, or x itself (±0, NaN)
export const UNARY_FLOOR: i32 = 28;
export const UNARY_CEIL: i32 = 29;
export const UNARY_ROUND: i32 = 30; // halves to even
export const UNARY_RECIPROCAL: i32 = 31;
export const UNARY_MISH: i32 = 32; // x tanh(softplus(x))
export const UNARY_THRESHOLDED_RELU: i32 = 33; // p0 = alpha: x where x > alpha (or NaN), else 0
// Booleans held as 0 / 1 floats (see eltwise.ts):
export const UNARY_NOT: i32 = 34; // x == 0 ? 1 : 0
export const UNARY_TO_BOOL: i32 = 35; // Cast to bool: x != 0 ? 1 : 0 (NaN is true)
// ONNX QuantizeLinear / DequantizeLinear on integers held as floats; p0 = scale, p1 = zero point.
// Quantize: clamp(nearest(x / scale) + zero point) to the type's range (onnxruntime's order of
// operations: a division, rounding half to even); NaN stays NaN.
export const UNARY_QUANTIZE_U8: i32 = 36; // [0, 255]
export const UNARY_QUANTIZE_I8: i32 = 37; // [-128, 127]
export const UNARY_DEQUANTIZE: i32 = 38; // (x - zero point) * scale
// QuantizeLinear then DequantizeLinear with the same scale and zero point (fake quantization), in
// one pass with both nodes' own operations
export const UNARY_FAKE_QUANT_U8: i32 = 39;
export const UNARY_FAKE_QUANT_I8: i32 = 40;

// @ts-ignore: decorator
@inline function splat(v: f32): v128 {
  return f32x4.splat(v);
}

// @ts-ignore: decorator
@inline function softplus(x: v128): v128 {
  return f32x4.add(relu(x), vlog(f32x4.add(splat(1), vexp(f32x4.neg(vabs(x))))));
}

/** e^x - 1 where x < 0, else x (ELU's shape before alpha). */
// @ts-ignore: decorator
@inline function eluCore(x: v128, alpha: v128): v128 {
  return v128.bitselect(f32x4.mul(alpha, f32x4.sub(vexp(x), splat(1))), x, f32x4.lt(x, splat(0)));
}

// pmax / pmin are one maxps / minps each (f32x4.max and min lower to eight dependent instructions
// on x64, to order NaN and -0); with the operand first a NaN stays NaN, and + 0 turns -0 into +0

/** max(x, 0), as f32x4.max gives it. */
// @ts-ignore: decorator
@inline function relu(x: v128): v128 {
  return f32x4.add(f32x4.pmax(x, splat(0)), splat(0));
}

/** x clamped to [0, 1]. */
// @ts-ignore: decorator
@inline function unit(x: v128): v128 {
  return f32x4.add(f32x4.pmax(f32x4.pmin(x, splat(1)), splat(0)), splat(0));
}

/** QuantizeLinear of one vector: clamp(nearest(x / scale) + zero point, lo, hi), NaN kept. */
// @ts-ignore: decorator
@inline function quantize(x: v128, scale: v128, zp: v128, lo: f32, hi: f32): v128 {
  const q = f32x4.add(f32x4.nearest(f32x4.div(x, scale)), zp);
  return f32x4.pmin(f32x4.pmax(q, splat(lo)), splat(hi));
}

/** One vector of op `op`; p0/p1 are the splatted parameters. `op` is a constant after inlining. */
// @ts-ignore: decorator
@inline function apply(op: i32, x: v128, p0: v128, p1: v128): v128 {
  if (op == UNARY_RELU) return relu(x);
  if (op == UNARY_LEAKY_RELU) return v128.bitselect(x, f32x4.mul(x, p0), f32x4.ge(x, splat(0)));
  if (op == UNARY_CLIP) return f32x4.pmin(f32x4.add(f32x4.pmax(x, p0), splat(0)), p1);
  if (op == UNARY_SIGMOID) return vsigmoid(x);
  if (op == UNARY_HARD_SIGMOID) return unit(madd(x, p0, p1));
  if (op == UNARY_HARD_SWISH) {
    const g = unit(madd(x, splat(<f32>(1.0 / 6.0)), splat(0.5)));
    return f32x4.mul(x, g);
  }
  if (op == UNARY_TANH) return vtanh(x);
  if (op == UNARY_GELU) {
    const h = f32x4.mul(x, splat(0.5));
    return madd(h, verf(f32x4.mul(x, splat(<f32>0.70710678118654752))), h);
  }
  if (op == UNARY_GELU_TANH) {
    // 0.5 (1 + tanh u) = sigmoid(2u): no 1 + (-1) cancellation for negative x
    const x3 = f32x4.mul(f32x4.mul(x, x), x);
    const u2 = f32x4.mul(madd(x3, splat(0.044715), x), splat(<f32>1.5957691216057308)); // 2 sqrt(2/pi)
    return f32x4.mul(x, vsigmoid(u2));
  }
  if (op == UNARY_ERF) return verf(x);
  if (op == UNARY_EXP) return vexp(x);
  if (op == UNARY_LOG) return vlog(x);
  if (op == UNARY_SQRT) return f32x4.sqrt(x);
  if (op == UNARY_NEG) return f32x4.neg(x);
  if (op == UNARY_ABS) return vabs(x);
  if (op == UNARY_SILU) return f32x4.mul(x, vsigmoid(x));
  if (op == UNARY_AFFINE) return f32x4.add(f32x4.mul(x, p0), p1);
  if (op == UNARY_X_HARD_SIGMOID) return f32x4.mul(x, unit(madd(x, p0, p1)));
  if (op == UNARY_SOFTPLUS) return softplus(x);
  if (op == UNARY_ELU) return eluCore(x, p0);
  if (op == UNARY_SELU) return f32x4.mul(p1, eluCore(x, p0));
  if (op == UNARY_CELU) {
    const neg = f32x4.mul(p0, f32x4.sub(vexp(f32x4.div(x, p0)), splat(1)));
    return f32x4.add(f32x4.max(x, splat(0)), f32x4.min(neg, splat(0)));
  }
  if (op == UNARY_SOFTSIGN) return f32x4.div(x, f32x4.add(splat(1), vabs(x)));
  if (op == UNARY_SIGN) {
    const s = v128.bitselect(splat(1), x, f32x4.gt(x, splat(0)));
    return v128.bitselect(splat(-1), s, f32x4.lt(x, splat(0)));
  }
  if (op == UNARY_FLOOR) return f32x4.floor(x);
  if (op == UNARY_CEIL) return f32x4.ceil(x);
  if (op == UNARY_ROUND) return f32x4.nearest(x);
  if (op == UNARY_RECIPROCAL) return f32x4.div(splat(1), x);
  if (op == UNARY_MISH) return f32x4.mul(x, vtanh(softplus(x)));
  if (op == UNARY_NOT) return v128.and(f32x4.eq(x, splat(0)), splat(1));
  if (op == UNARY_TO_BOOL) return v128.and(f32x4.ne(x, splat(0)), splat(1));
  if (op == UNARY_THRESHOLDED_RELU) return v128.and(x, v128.or(f32x4.gt(x, p0), f32x4.ne(x, x))); // NaN stays NaN
  if (op == UNARY_QUANTIZE_U8) return quantize(x, p0, p1, 0, 255);
  if (op == UNARY_QUANTIZE_I8) return quantize(x, p0, p1, -128, 127);
  if (op == UNARY_DEQUANTIZE) return f32x4.mul(f32x4.sub(x, p1), p0);
  if (op == UNARY_FAKE_QUANT_U8) return f32x4.mul(f32x4.sub(quantize(x, p0, p1, 0, 255), p1), p0);
  if (op == UNARY_FAKE_QUANT_I8) return f32x4.mul(f32x4.sub(quantize(x, p0, p1, -128, 127), p1), p0);
  if (op >= UNARY_HSWISH_DIV) {
    // pmax / pmin (one instruction each, min / max lower to eight) give what max / min give:
    // x + 3 is never -0, and a NaN x makes the product NaN whatever the clamp gives
    const t = f32x4.pmin(f32x4.pmax(f32x4.add(x, splat(3)), splat(0)), splat(6));
    if (op == UNARY_HSWISH_DIV) return f32x4.div(f32x4.mul(x, t), p0);
    if (op == UNARY_HSWISH_MUL) return f32x4.mul(f32x4.mul(x, t), p0);
    if (op == UNARY_HSWISH_DIV_FIRST) return f32x4.mul(x, f32x4.div(t, p0));
    return f32x4.mul(x, f32x4.mul(t, p0));
  }
  return x;
}

// @ts-ignore: decorator
@inline function run(op: i32, x: usize, y: usize, n: usize, p0: f32, p1: f32): void {
  const v0 = splat(p0), v1 = splat(p1);
  const end = x + (n << 2);
  let px = x, py = y;
  for (; px + 16 <= end; px += 16, py += 16) v128.store(py, apply(op, v128.load(px), v0, v1));
  if (px < end) storeLanes(py, apply(op, v128.load(px), v0, v1), <i32>((end - px) >> 2));
}

// One wasm function per op, reached through a table: the engine compiles a function on its first
// call (V8's lazy compilation), so a model pays for the ops it runs. One function holding every op
// (a switch over the inlined loops) was 26 kB of code that a cold start compiled on the first
// activation, ~1 ms in V8's baseline compiler. A table call cannot be inlined back into a switch.
type UnaryFn = (x: usize, y: usize, n: usize, p0: f32, p1: f32) => void;
function unary_relu(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_RELU, x, y, n, p0, p1); }
function unary_leaky_relu(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_LEAKY_RELU, x, y, n, p0, p1); }
function unary_clip(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_CLIP, x, y, n, p0, p1); }
function unary_sigmoid(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_SIGMOID, x, y, n, p0, p1); }
function unary_hard_sigmoid(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_HARD_SIGMOID, x, y, n, p0, p1); }
function unary_hard_swish(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_HARD_SWISH, x, y, n, p0, p1); }
function unary_tanh(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_TANH, x, y, n, p0, p1); }
function unary_gelu(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_GELU, x, y, n, p0, p1); }
function unary_gelu_tanh(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_GELU_TANH, x, y, n, p0, p1); }
function unary_erf(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_ERF, x, y, n, p0, p1); }
function unary_exp(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_EXP, x, y, n, p0, p1); }
function unary_log(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_LOG, x, y, n, p0, p1); }
function unary_sqrt(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_SQRT, x, y, n, p0, p1); }
function unary_neg(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_NEG, x, y, n, p0, p1); }
function unary_abs(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_ABS, x, y, n, p0, p1); }
function unary_silu(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_SILU, x, y, n, p0, p1); }
function unary_x_hard_sigmoid(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_X_HARD_SIGMOID, x, y, n, p0, p1); }
function unary_hswish_div(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_HSWISH_DIV, x, y, n, p0, p1); }
function unary_hswish_mul(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_HSWISH_MUL, x, y, n, p0, p1); }
function unary_hswish_div_first(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_HSWISH_DIV_FIRST, x, y, n, p0, p1); }
function unary_hswish_mul_first(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_HSWISH_MUL_FIRST, x, y, n, p0, p1); }
function unary_affine(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_AFFINE, x, y, n, p0, p1); }
function unary_softplus(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_SOFTPLUS, x, y, n, p0, p1); }
function unary_elu(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_ELU, x, y, n, p0, p1); }
function unary_selu(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_SELU, x, y, n, p0, p1); }
function unary_celu(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_CELU, x, y, n, p0, p1); }
function unary_softsign(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_SOFTSIGN, x, y, n, p0, p1); }
function unary_sign(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_SIGN, x, y, n, p0, p1); }
function unary_floor(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_FLOOR, x, y, n, p0, p1); }
function unary_ceil(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_CEIL, x, y, n, p0, p1); }
function unary_round(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_ROUND, x, y, n, p0, p1); }
function unary_reciprocal(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_RECIPROCAL, x, y, n, p0, p1); }
function unary_mish(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_MISH, x, y, n, p0, p1); }
function unary_thresholded_relu(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_THRESHOLDED_RELU, x, y, n, p0, p1); }
function unary_not(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_NOT, x, y, n, p0, p1); }
function unary_to_bool(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_TO_BOOL, x, y, n, p0, p1); }
function unary_quantize_u8(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_QUANTIZE_U8, x, y, n, p0, p1); }
function unary_quantize_i8(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_QUANTIZE_I8, x, y, n, p0, p1); }
function unary_dequantize(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_DEQUANTIZE, x, y, n, p0, p1); }
function unary_fake_quant_u8(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_FAKE_QUANT_U8, x, y, n, p0, p1); }
function unary_fake_quant_i8(x: usize, y: usize, n: usize, p0: f32, p1: f32): void { run(UNARY_FAKE_QUANT_I8, x, y, n, p0, p1); }
/** Indexed by op code (the codes above run 0, 1, 2... in this order). */
const UNARY_OPS: StaticArray<UnaryFn> = [unary_relu, unary_leaky_relu, unary_clip, unary_sigmoid, unary_hard_sigmoid, unary_hard_swish, unary_tanh, unary_gelu, unary_gelu_tanh, unary_erf, unary_exp, unary_log, unary_sqrt, unary_neg, unary_abs, unary_silu, unary_x_hard_sigmoid, unary_hswish_div, unary_hswish_mul, unary_hswish_div_first, unary_hswish_mul_first, unary_affine, unary_softplus, unary_elu, unary_selu, unary_celu, unary_softsign, unary_sign, unary_floor, unary_ceil, unary_round, unary_reciprocal, unary_mish, unary_thresholded_relu, unary_not, unary_to_bool, unary_quantize_u8, unary_quantize_i8, unary_dequantize, unary_fake_quant_u8, unary_fake_quant_i8];

/**
 * A hard-swish chain (op UNARY_HSWISH_DIV .. UNARY_HSWISH_MUL_FIRST, constant c) followed by an
 * affine block: y = hswish(x) * a + b, each operation rounded as its node rounds it (PP-LCNetV3
 * puts a learnable affine block after every activation: PaddleOCR v4's recogniser has 28). A loop
 * per form, so each one is as tight as the plain hard-swish ops'.
 */
export function unary_hswish_affine(op: i32, x: usize, y: usize, n: usize, c: f32, a: f32, b: f32): void {
  if (op == UNARY_HSWISH_DIV) hswishAffine(UNARY_HSWISH_DIV, x, y, n, c, a, b);
  else if (op == UNARY_HSWISH_MUL) hswishAffine(UNARY_HSWISH_MUL, x, y, n, c, a, b);
  else if (op == UNARY_HSWISH_DIV_FIRST) hswishAffine(UNARY_HSWISH_DIV_FIRST, x, y, n, c, a, b);
  else if (op == UNARY_HSWISH_MUL_FIRST) hswishAffine(UNARY_HSWISH_MUL_FIRST, x, y, n, c, a, b);
}

// @ts-ignore: decorator
@inline function hswishAffine(op: i32, x: usize, y: usize, n: usize, c: f32, a: f32, b: f32): void {
  const vc = splat(c), va = splat(a), vb = splat(b);
  const end = x + (n << 2);
  let px = x, py = y;
  for (; px + 16 <= end; px += 16, py += 16) v128.store(py, f32x4.add(f32x4.mul(apply(op, v128.load(px), vc, vc), va), vb));
  if (px < end) storeLanes(py, f32x4.add(f32x4.mul(apply(op, v128.load(px), vc, vc), va), vb), <i32>((end - px) >> 2));
}

/**
 * y[i] = op(x[i]) for i < n; y may equal x. p0/p1: LeakyRelu alpha; Clip min, max;
 * HardSigmoid alpha, beta; ignored by the other ops. An unknown op writes nothing.
 */
export function unary_apply(op: i32, x: usize, y: usize, n: usize, p0: f32, p1: f32): void {
  if (<u32>op < <u32>UNARY_OPS.length) unchecked(UNARY_OPS[op])(x, y, n, p0, p1);
}
