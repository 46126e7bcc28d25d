// Host side of the elementwise unary kernels (assembly/unary.ts): y = op(x), in place allowed.
import { ArgumentError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { checkData, checkDims, fmt, sizeOf } from './check.js';

export type UnaryOp =
  | 'relu'
  | 'leakyRelu'
  | 'clip'
  | 'sigmoid'
  | 'hardSigmoid'
  | 'hardSwish'
  | 'tanh'
  | 'gelu'
  | 'geluTanh'
  | 'erf'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'neg'
  | 'abs'
  // activations exporters write as several nodes (src/runtime/fuse-elementwise.ts), in one pass
  // with the nodes' own f32 operations and order; t = min(max(x + 3, 0), 6), c = params.c
  | 'silu' // x * sigmoid(x)
  | 'xHardSigmoid' // x * hardSigmoid(x; alpha, beta)
  | 'hardSwishDiv' // (x * t) / c
  | 'hardSwishMul' // (x * t) * c
  | 'hardSwishDivFirst' // x * (t / c)
  | 'hardSwishMulFirst' // x * (t * c)
  | 'affine' // x * alpha + beta, rounded after each (PP-LCNetV3's learnable affine blocks)
  | 'softplus'
  | 'elu'
  | 'selu'
  | 'celu'
  | 'softsign'
  | 'sign'
  | 'floor'
  | 'ceil'
  | 'round' // halves to even
  | 'reciprocal'
  | 'mish'
  | 'thresholdedRelu'
  // booleans as 0 / 1 floats
  | 'not' // x == 0
  | 'toBool' // x != 0 (NaN is true)
  // ONNX QuantizeLinear / DequantizeLinear, integers held as floats (params scale, zeroPoint)
  | 'quantizeU8' // clamp(nearest(x / scale) + zeroPoint, 0, 255), halves to even
  | 'quantizeI8' // the same, clamped to [-128, 127]
  | 'dequantize' // (x - zeroPoint) * scale
  | 'fakeQuantU8' // dequantize(quantizeU8(x)) with the same scale and zero point
  | 'fakeQuantI8';

/** Op codes of unary_apply (assembly/unary.ts). */
export const UNARY_OPS: Readonly<Record<UnaryOp, number>> = {
  relu: 0,
  leakyRelu: 1,
  clip: 2,
  sigmoid: 3,
  hardSigmoid: 4,
  hardSwish: 5,
  tanh: 6,
  gelu: 7,
  geluTanh: 8,
  erf: 9,
  exp: 10,
  log: 11,
  sqrt: 12,
  neg: 13,
  abs: 14,
  silu: 15,
  xHardSigmoid: 16,
  hardSwishDiv: 17,
  hardSwishMul: 18,
  hardSwishDivFirst: 19,
  hardSwishMulFirst: 20,
  affine: 21,
  softplus: 22,
  elu: 23,
  selu: 24,
  celu: 25,
  softsign: 26,
  sign: 27,
  floor: 28,
  ceil: 29,
  round: 30,
  reciprocal: 31,
  mish: 32,
  thresholdedRelu: 33,
  not: 34,
  toBool: 35,
  quantizeU8: 36,
  quantizeI8: 37,
  dequantize: 38,
  fakeQuantU8: 39,
  fakeQuantI8: 40,
};

/**
 * Attributes, with ONNX defaults: leakyRelu alpha = 0.01; hardSigmoid alpha = 0.2, beta = 0.5;
 * clip min = -Infinity, max = +Infinity; elu, celu and thresholdedRelu alpha = 1; selu alpha =
 * 1.6732632, gamma (in beta) = 1.050701. Other ops take none.
 */
export interface UnaryParams {
  alpha?: number;
  beta?: number;
  min?: number;
  max?: number;
  /** The constant the hardSwish* forms divide or multiply by. */
  c?: number;
  /** quantize / dequantize: the scale (finite, non-zero) and the zero point (an integer of the type's range). */
  scale?: number;
  zeroPoint?: number;
}

/** ONNX Selu's defaults (float32 values of the constants in the spec). */
export const SELU_ALPHA = 1.67326319217681884765625;
export const SELU_GAMMA = 1.05070102214813232421875;

/** [code, p0, p1] as unary_apply takes them; throws ArgumentError for an unknown op or bad attribute. */
export function unaryArgs(op: UnaryOp, params: UnaryParams = {}): [number, number, number] {
  if (!globalThis.EDGEPRUNE_RUNTIME && (typeof op !== 'string' || !Object.prototype.hasOwnProperty.call(UNARY_OPS, op))) {
    throw new ArgumentError(`unknown unary op ${JSON.stringify(op)}; use one of ${Object.keys(UNARY_OPS).join(', ')}`);
  }
  const code = UNARY_OPS[op];
  const finite = (name: string, v: number): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ArgumentError(`${op}: ${name} must be a finite number, got ${v}`);
    return v;
  };
  if (op === 'affine') return [code, finite('alpha', params.alpha ?? 1), finite('beta', params.beta ?? 0)];
  if (code >= UNARY_OPS.quantizeU8 && code <= UNARY_OPS.fakeQuantI8) {
    const scale = finite('scale', params.scale ?? 1);
    if (scale === 0) throw new ArgumentError(`${op}: scale must not be 0`);
    return [code, scale, finite('zeroPoint', params.zeroPoint ?? 0)];
  }
  if (code >= UNARY_OPS.hardSwishDiv && code <= UNARY_OPS.hardSwishMulFirst) return [code, finite('c', params.c ?? 6), 0];
  switch (op) {
    case 'elu':
    case 'thresholdedRelu':
      return [code, finite('alpha', params.alpha ?? 1), 0];
    case 'celu': {
      const a = finite('alpha', params.alpha ?? 1);
      if (a === 0) throw new ArgumentError('celu: alpha must not be 0 (it divides x)');
      return [code, a, 0];
    }
    case 'selu':
      return [code, finite('alpha', params.alpha ?? SELU_ALPHA), finite('gamma', params.beta ?? SELU_GAMMA)];
    case 'leakyRelu':
      return [code, finite('alpha', params.alpha ?? 0.01), 0];
    case 'hardSigmoid':
    case 'xHardSigmoid':
      return [code, finite('alpha', params.alpha ?? 0.2), finite('beta', params.beta ?? 0.5)];
    case 'clip': {
      const lo = params.min ?? -Infinity;
      const hi = params.max ?? Infinity;
      if (typeof lo !== 'number' || typeof hi !== 'number' || !(lo <= hi)) {
        throw new ArgumentError(`clip needs min <= max (either may be omitted or infinite), got min=${lo} max=${hi}`);
      }
      return [code, lo, hi];
    }
    default:
      return [code, 0, 0];
  }
}

/**
 * y = op(x) on kernel buffers: x and y hold sizeOf(dims) floats each; y may be x (in place).
 */
export function unaryRun(k: Kernels, op: UnaryOp, x: number, y: number, dims: readonly number[], params?: UnaryParams): void {
  const run = unaryPrepared(k, op, dims, params); // the op's own errors first
  if (!globalThis.EDGEPRUNE_RUNTIME) {
    checkDims(dims, `${op} dims`);
    k.requireFloats(x, sizeOf(dims), `${op} input ${fmt(dims)}`);
    k.requireFloats(y, sizeOf(dims), `${op} output ${fmt(dims)}`);
  }
  run(x, y);
}

/**
 * y = op(x) over `dims`, planned once: the returned run(x, y) only calls the kernel (the runtime's
 * executors, whose buffers the planner sized; the op and its parameters are checked here).
 */
export function unaryPrepared(k: Kernels, op: UnaryOp, dims: readonly number[], params?: UnaryParams,
  then?: { alpha: number; beta: number }): (x: number, y: number) => void {
  const [code, p0, p1] = unaryArgs(op, params);
  const n = sizeOf(dims);
  if (n === 0) return () => {};
  // a hard-swish form then x * alpha + beta, in one pass (the plan's fused chains)
  if (then && code >= UNARY_OPS.hardSwishDiv && code <= UNARY_OPS.hardSwishMulFirst) {
    const fa = k.fn.unary_hswish_affine;
    return (x, y) => void fa(code, x, y, n, p0, then.alpha, then.beta);
  }
  const fn = k.fn.unary_apply;
  return (x, y) => void fn(code, x, y, n, p0, p1);
}

/** One-shot y = op(x) on a host array (tests, scripts). */
export function unary(k: Kernels, op: UnaryOp, data: Float32Array, dims: readonly number[], params?: UnaryParams): { data: Float32Array; dims: number[] } {
  unaryArgs(op, params);
  checkDims(dims, `${op} dims`);
  checkData(data, dims, `${op} input`);
  const n = data.length;
  const x = k.upload(data);
  const y = k.allocF32(n);
  try {
    unaryRun(k, op, x, y, dims, params);
    return { data: k.download(y, n), dims: [...dims] };
  } finally {
    k.free(x, y);
  }
}
