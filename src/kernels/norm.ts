// Host side of BatchNormalization (inference) and LayerNormalization.
import { ArgumentError, ShapeError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { checkData, checkDims, fmt, sizeOf } from './check.js';

type Tensor = { data: Float32Array; dims: number[] };

export interface BatchNormParams {
  scale: Float32Array; // gamma
  bias: Float32Array; // beta
  mean: Float32Array;
  variance: Float32Array;
  /** Default 1e-5 (ONNX). */
  epsilon?: number;
}

/** Folds BatchNormalization parameters into y = x * scale[c] + shift[c] (in float64, rounded once). */
export function foldBatchNorm(p: BatchNormParams, C?: number): { scale: Float32Array; shift: Float32Array } {
  const n = C ?? p.scale?.length;
  const eps = p.epsilon ?? 1e-5;
  if (!Number.isFinite(eps) || eps < 0) throw new ArgumentError(`BatchNormalization: epsilon must be a finite number >= 0, got ${eps}`);
  for (const [name, v] of [['scale', p.scale], ['bias', p.bias], ['mean', p.mean], ['variance', p.variance]] as const) {
    if (!globalThis.EDGEPRUNE_RUNTIME && !(v instanceof Float32Array)) throw new ArgumentError(`BatchNormalization: ${name} must be a Float32Array of one value per channel`);
    if (v.length !== n) throw new ShapeError(`BatchNormalization: ${name} has ${v.length} values but the input has ${n} channels; pass one value per channel`);
  }
  const scale = new Float32Array(n);
  const shift = new Float32Array(n);
  for (let c = 0; c < n; c++) {
    const s = p.scale[c] / Math.sqrt(p.variance[c] + eps);
    scale[c] = s;
    shift[c] = p.bias[c] - p.mean[c] * s;
  }
  return { scale, shift };
}

/** [N, C, inner] of a BatchNormalization input (N x C x D1 x ...; rank 1 means C only). */
export function batchNormShape(xDims: readonly number[]): { N: number; C: number; inner: number } {
  if (!globalThis.EDGEPRUNE_RUNTIME) checkDims(xDims, 'BatchNormalization input'); // the runtime's dims are checked (runtime/specialize.ts)
  if (xDims.length === 0) throw new ShapeError('BatchNormalization: input must have a channel axis (N x C x ...), got a scalar');
  if (xDims.length === 1) return { N: 1, C: xDims[0], inner: 1 };
  return { N: xDims[0], C: xDims[1], inner: sizeOf(xDims.slice(2)) };
}

/**
 * BatchNormalization (inference) on pointers: y = x * scale[c] + shift[c]. scale and shift hold
 * C floats each (see foldBatchNorm). y may equal x. Returns the output dims (= input dims).
 */
export function batchNormRun(k: Kernels, x: number, xDims: readonly number[], scale: number, shift: number, y: number): number[] {
  const { N, C, inner } = batchNormShape(xDims);
  const n = sizeOf(xDims);
  if (!globalThis.EDGEPRUNE_RUNTIME) checkPerChannel(k, 'BatchNormalization', x, y, n, C, ['scale', scale], ['shift', shift]);
  if (n > 0) k.fn.norm_batch(x, N, C, inner, scale, shift, y);
  return [...xDims];
}

/** Buffer checks of the per-channel normalizations: x and y of n floats, two parameters of C floats. */
function checkPerChannel(k: Kernels, op: string, x: number, y: number, n: number, C: number, ...params: [string, number][]): void {
  k.requireFloats(x, n, `${op} input`);
  k.requireFloats(y, n, `${op} output`);
  for (const [name, p] of params) k.requireFloats(p, C, `${op} ${name} (one per channel, C = ${C})`);
}

/**
 * InstanceNormalization on pointers: each (n, c) plane of x (N x C x spatial, rank >= 3)
 * normalized by its own mean and variance, then y = z * scale[c] + bias[c]. y may equal x.
 */
export function instanceNormRun(k: Kernels, x: number, xDims: readonly number[], scale: number, bias: number, y: number, epsilon = 1e-5): number[] {
  if (xDims.length < 3) throw new ShapeError(`InstanceNormalization: input must be N x C x spatial (rank >= 3), got ${fmt(xDims)}`);
  const { N, C, inner } = batchNormShape(xDims);
  const n = sizeOf(xDims);
  if (!globalThis.EDGEPRUNE_RUNTIME) checkPerChannel(k, 'InstanceNormalization', x, y, n, C, ['scale', scale], ['bias', bias]);
  if (n > 0) k.fn.norm_instance(x, N, C, inner, scale, bias, epsilon, y);
  return [...xDims];
}

/** One-shot BatchNormalization (inference) on a host array. */
export function batchNorm(k: Kernels, X: Float32Array, xDims: readonly number[], p: BatchNormParams): Tensor {
  checkData(X, xDims, 'BatchNormalization input');
  const { C } = batchNormShape(xDims);
  const { scale, shift } = foldBatchNorm(p, C);
  const x = k.upload(X);
  const s = k.upload(scale);
  const b = k.upload(shift);
  let y = 0;
  try {
    y = k.allocF32(X.length);
    const dims = batchNormRun(k, x, xDims, s, b, y);
    return { data: k.download(y, X.length), dims };
  } finally {
    k.free(x, s, b, y);
  }
}

/** rows x D of a LayerNormalization over axes [axis, rank). */
export function layerNormShape(xDims: readonly number[], axis = -1): { rows: number; D: number; axis: number } {
  checkDims(xDims, 'LayerNormalization input');
  const r = xDims.length;
  if (!Number.isInteger(axis) || axis < -r || axis >= r) throw new ArgumentError(`LayerNormalization: axis ${axis} is out of range for rank ${r} (${fmt(xDims)}); use -${r}..${r - 1}`);
  const a = axis < 0 ? axis + r : axis;
  return { rows: sizeOf(xDims.slice(0, a)), D: sizeOf(xDims.slice(a)), axis: a };
}

/**
 * LayerNormalization on pointers: each of the rows (product of dims before `axis`) of D floats
 * becomes (x - mean) / sqrt(var + epsilon) * gamma + beta. gamma: D floats; beta: D floats or 0.
 */
export function layerNormRun(k: Kernels, x: number, xDims: readonly number[], gamma: number, beta: number, y: number, axis = -1, epsilon = 1e-5): number[] {
  const { rows, D } = layerNormShape(xDims, axis);
  if (!Number.isFinite(epsilon) || epsilon < 0) throw new ArgumentError(`LayerNormalization: epsilon must be a finite number >= 0, got ${epsilon}`);
  const n = rows * D;
  if (!globalThis.EDGEPRUNE_RUNTIME) {
    k.requireFloats(x, n, 'LayerNormalization input');
    k.requireFloats(y, n, 'LayerNormalization output');
    k.requireFloats(gamma, D, `LayerNormalization scale (${D} values: the normalized dims)`);
    if (beta !== 0) k.requireFloats(beta, D, `LayerNormalization bias (${D} values: the normalized dims)`);
  }
  if (n > 0) k.fn.norm_layer(x, rows, D, gamma, beta, epsilon, y);
  return [...xDims];
}

function expandParam(v: Float32Array | undefined, D: number, what: string): Float32Array | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof Float32Array)) throw new ArgumentError(`LayerNormalization: ${what} must be a Float32Array`);
  if (v.length === D) return v;
  if (v.length === 1) return new Float32Array(D).fill(v[0]);
  throw new ShapeError(`LayerNormalization: ${what} has ${v.length} values but the normalized dims hold ${D}; pass ${D} values (or 1 to broadcast)`);
}

export interface LayerNormOptions {
  /** First normalized axis (default -1: the last). */
  axis?: number;
  /** Default 1e-5. */
  epsilon?: number;
}

/** One-shot LayerNormalization on a host array; gamma (and beta) hold D values, or 1 to broadcast. */
export function layerNorm(k: Kernels, X: Float32Array, xDims: readonly number[], gamma: Float32Array, beta?: Float32Array, opts: LayerNormOptions = {}): Tensor {
  checkData(X, xDims, 'LayerNormalization input');
  const { D } = layerNormShape(xDims, opts.axis ?? -1);
  const g = expandParam(gamma, D, 'scale');
  if (g === undefined) throw new ArgumentError('LayerNormalization: scale (gamma) is required');
  const b = expandParam(beta, D, 'bias');
  const x = k.upload(X);
  const gp = k.upload(g);
  const bp = b ? k.upload(b) : 0;
  let y = 0;
  try {
    y = k.allocF32(X.length);
    const dims = layerNormRun(k, x, xDims, gp, bp, y, opts.axis ?? -1, opts.epsilon ?? 1e-5);
    return { data: k.download(y, X.length), dims };
  } finally {
    k.free(x, gp, bp, y);
  }
}

export interface LrnOptions {
  /** Channels in the window (odd in every model seen; even sizes reach one more channel up). */
  size: number;
  alpha?: number;
  beta?: number;
  bias?: number;
}

/** Checks LRN's input [N, C, ...] and options; returns [N, C, pixels per channel]. */
export function lrnShape(xDims: readonly number[], opts: LrnOptions): [number, number, number] {
  if (xDims.length < 3) throw new ShapeError(`LRN: input ${fmt(xDims)} needs at least 3 dims [N, C, D1, ...]`);
  if (!Number.isInteger(opts.size) || opts.size < 1) throw new ArgumentError(`LRN: size ${opts.size} must be a positive integer (the channels in the window)`);
  const bias = opts.bias ?? 1;
  if (!(bias > 0)) throw new ArgumentError(`LRN: bias ${bias} must be positive (it is raised to the power -beta)`);
  return [xDims[0], xDims[1], sizeOf(xDims.slice(2))];
}

/**
 * Local response normalization across channels (AlexNet, GoogLeNet): y = x / (bias + alpha / size *
 * the sum of x^2 over the window)^beta, on pointers (y must not be x). ONNX defaults: alpha 1e-4,
 * beta 0.75, bias 1.
 */
export function lrnRun(k: Kernels, x: number, xDims: readonly number[], y: number, opts: LrnOptions): void {
  const [N, C, HW] = lrnShape(xDims, opts);
  if (!globalThis.EDGEPRUNE_RUNTIME) {
    k.requireFloats(x, N * C * HW, 'LRN input');
    k.requireFloats(y, N * C * HW, 'LRN output');
  }
  if (N * C * HW > 0) k.fn.lrn(x, N, C, HW, opts.size, opts.alpha ?? 1e-4, opts.beta ?? 0.75, opts.bias ?? 1, y);
}
