// Host side of the pooling kernels: ONNX attribute handling, output shapes, checks, calls.
// Inputs are NCHW (rank 4) or NCL (rank 3, run as H = 1). Every batch image and channel is one
// plane for the kernels.
import { ArgumentError, ShapeError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { checkData, checkDims, fmt, sizeOf } from './check.js';

export type AutoPad = 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';

/** ONNX MaxPool / AveragePool attributes (spatial arrays have one entry per spatial axis). */
export interface PoolAttrs {
  kernelShape: readonly number[];
  /** Default 1 per axis. */
  strides?: readonly number[];
  /** ONNX order: all begins, then all ends ([top, left, bottom, right] in 2-D). Default 0. */
  pads?: readonly number[];
  /** MaxPool only. Default 1 per axis. */
  dilations?: readonly number[];
  /** Default 'NOTSET' (explicit pads). */
  autoPad?: AutoPad;
  ceilMode?: boolean | number;
  /** AveragePool only. */
  countIncludePad?: boolean | number;
}

/** Resolved 2-D geometry (1-D inputs get H = 1 and a 1-tall kernel). */
export interface Pool2dGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  /** [top, left, bottom, right] actually applied. */
  pads: [number, number, number, number];
  OH: number;
  OW: number;
  /** Output dims in the input's rank. */
  outDims: number[];
}

/**
 * Output length of one pooled axis with explicit pads. With ceil_mode the last window may run
 * past the padded input, but it must start inside the input or its begin padding (the
 * onnxruntime / PyTorch rule). Returns a value < 1 when the window does not fit.
 */
export function poolOutputSize(inSize: number, kernel: number, stride: number, dilation: number, padBegin: number, padEnd: number, ceilMode: boolean): number {
  const span = (kernel - 1) * dilation + 1;
  const room = inSize + padBegin + padEnd - span;
  if (room < 0) return 0;
  let out = (ceilMode ? Math.ceil(room / stride) : Math.floor(room / stride)) + 1;
  if (ceilMode && (out - 1) * stride >= inSize + padBegin) out--;
  return out;
}

/**
 * auto_pad resolution for one axis: output size and [begin, end] pads. SAME_*: out = ceil(in / stride)
 * and total padding (out - 1) * stride + (kernel - 1) * dilation + 1 - in, the odd one at the end
 * (SAME_UPPER) or the beginning (SAME_LOWER). VALID: no padding.
 */
export function poolAutoPad(inSize: number, kernel: number, stride: number, dilation: number, autoPad: 'SAME_UPPER' | 'SAME_LOWER' | 'VALID'): { out: number; begin: number; end: number } {
  if (autoPad === 'VALID') return { out: poolOutputSize(inSize, kernel, stride, dilation, 0, 0, false), begin: 0, end: 0 };
  const out = Math.ceil(inSize / stride);
  const total = Math.max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - inSize);
  const small = Math.floor(total / 2);
  return autoPad === 'SAME_UPPER' ? { out, begin: small, end: total - small } : { out, begin: total - small, end: small };
}

function intList(v: readonly number[] | undefined, n: number, dflt: number, min: number, what: string, attr: string): number[] {
  if (v === undefined) return new Array<number>(n).fill(dflt);
  if (!Array.isArray(v) || v.length !== n) throw new ArgumentError(`${what}: ${attr} must have ${n} values (one per spatial axis${attr === 'pads' ? ', begins then ends' : ''}), got ${JSON.stringify(v)}`);
  for (const x of v) {
    if (!Number.isInteger(x) || x < min) {
      const hint = attr === 'strides' ? ' (a stride of 0 or less never advances the window)' : '';
      throw new ArgumentError(`${what}: ${attr} must be integers >= ${min}, got ${fmt(v)}${hint}`);
    }
  }
  return [...v];
}

/** Checks the attributes against the input dims and resolves pads and the output shape. */
export function pool2dGeometry(xDims: readonly number[], attrs: PoolAttrs, what = 'Pool'): Pool2dGeometry {
  if (!globalThis.EDGEPRUNE_RUNTIME) checkDims(xDims, `${what} input`); // the runtime's dims are checked (runtime/specialize.ts)
  if (xDims.length !== 3 && xDims.length !== 4) throw new ShapeError(`${what}: input must be N x C x H x W (or N x C x L), got ${fmt(xDims)}`);
  if (!globalThis.EDGEPRUNE_RUNTIME && (!attrs || !Array.isArray(attrs.kernelShape))) throw new ArgumentError(`${what}: kernelShape is required (one size per spatial axis)`);
  const sp = xDims.length - 2;
  const kernel = intList(attrs.kernelShape, sp, 1, 1, what, 'kernelShape');
  const strides = intList(attrs.strides, sp, 1, 1, what, 'strides');
  const dil = intList(attrs.dilations, sp, 1, 1, what, 'dilations');
  const autoPad = attrs.autoPad ?? 'NOTSET';
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) throw new ArgumentError(`${what}: unknown autoPad '${autoPad}'; use NOTSET, SAME_UPPER, SAME_LOWER or VALID`);
  const padsIn = intList(attrs.pads, 2 * sp, 0, 0, what, 'pads');
  if (autoPad !== 'NOTSET' && padsIn.some((p) => p !== 0)) throw new ArgumentError(`${what}: explicit pads ${fmt(padsIn)} cannot be combined with autoPad ${autoPad}; drop one of them`);
  const ceil = !!attrs.ceilMode;
  const outSp: number[] = [];
  const begin: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < sp; i++) {
    const inSize = xDims[2 + i];
    if (autoPad === 'NOTSET') {
      if (padsIn[i] >= kernel[i] || padsIn[i + sp] >= kernel[i]) {
        throw new ArgumentError(`${what}: pads ${fmt(padsIn)} must be smaller than the kernel ${fmt(kernel)} on each axis (a window made only of padding has no value)`);
      }
      begin.push(padsIn[i]);
      end.push(padsIn[i + sp]);
      outSp.push(poolOutputSize(inSize, kernel[i], strides[i], dil[i], padsIn[i], padsIn[i + sp], ceil));
    } else {
      const r = poolAutoPad(inSize, kernel[i], strides[i], dil[i], autoPad);
      begin.push(r.begin);
      end.push(r.end);
      outSp.push(r.out);
    }
    if (outSp[i] < 1 && inSize > 0) {
      const span = (kernel[i] - 1) * dil[i] + 1;
      throw new ShapeError(`${what}: kernel ${fmt(kernel)} (span ${span} with dilation ${dil[i]}) is larger than the padded input ${inSize} + ${begin[i]} + ${end[i]} on spatial axis ${i} of ${fmt(xDims)}; use a smaller kernel or more padding`);
    }
    if (inSize === 0) outSp[i] = 0;
  }
  const [N, C] = xDims;
  const two = sp === 2;
  return {
    N,
    C,
    H: two ? xDims[2] : 1,
    W: xDims[xDims.length - 1],
    KH: two ? kernel[0] : 1,
    KW: kernel[sp - 1],
    sh: two ? strides[0] : 1,
    sw: strides[sp - 1],
    dh: two ? dil[0] : 1,
    dw: dil[sp - 1],
    pads: two ? [begin[0], begin[1], end[0], end[1]] : [0, begin[0], 0, end[0]],
    OH: two ? outSp[0] : 1,
    OW: outSp[sp - 1],
    outDims: [N, C, ...outSp],
  };
}

/** Output dims of MaxPool / AveragePool (what the graph engine allocates). */
export function poolOutputShape(xDims: readonly number[], attrs: PoolAttrs): number[] {
  return pool2dGeometry(xDims, attrs).outDims;
}

/** MaxPool on pointers: x holds sizeOf(xDims) floats, y receives sizeOf(output dims). Returns the output dims. */
export function maxPoolRun(k: Kernels, x: number, xDims: readonly number[], y: number, attrs: PoolAttrs): number[] {
  return checkedPool(k, 'max', x, xDims, y, attrs);
}

/** The pointer-level runs: buffers re-checked (outside edgeprune/runtime), then the prepared kernel call. */
function checkedPool(k: Kernels, kind: 'max' | 'avg', x: number, xDims: readonly number[], y: number, attrs: PoolAttrs): number[] {
  const what = kind === 'max' ? 'MaxPool' : 'AveragePool';
  const { outDims, run } = preparePool(k, kind, xDims, attrs);
  if (!globalThis.EDGEPRUNE_RUNTIME) {
    k.requireFloats(x, sizeOf(xDims), `${what} input`);
    k.requireFloats(y, sizeOf(outDims), `${what} output`);
  }
  run(x, y);
  return outDims;
}

/**
 * MaxPool or AveragePool over xDims, planned once: the returned run(x, y) only calls the kernel
 * (the runtime's executors, whose buffers the planner sized; the geometry is checked here).
 */
export function poolPrepared(k: Kernels, kind: 'max' | 'avg', xDims: readonly number[], attrs: PoolAttrs): (x: number, y: number) => void {
  return preparePool(k, kind, xDims, attrs).run;
}

/** The geometry of a pool over xDims (checked) and its kernel call. */
function preparePool(k: Kernels, kind: 'max' | 'avg', xDims: readonly number[], attrs: PoolAttrs): { outDims: number[]; run: (x: number, y: number) => void } {
  const what = kind === 'max' ? 'MaxPool' : 'AveragePool';
  const g = pool2dGeometry(xDims, attrs, what);
  const outDims = g.outDims;
  if (kind === 'avg' && (g.dh !== 1 || g.dw !== 1)) throw new ArgumentError(`AveragePool: dilations ${fmt(attrs.dilations ?? [])} are not supported; only 1 (use MaxPool for dilated windows)`);
  if (sizeOf(outDims) === 0) return { outDims, run: () => {} };
  const [pt, pl, pb, pr] = g.pads;
  const P = g.N * g.C;
  if (kind === 'max') {
    const fn = k.fn.pool_max2d;
    return { outDims, run: (x, y) => void fn(x, P, g.H, g.W, g.KH, g.KW, g.sh, g.sw, pt, pl, g.dh, g.dw, y, g.OH, g.OW) };
  }
  const fn = k.fn.pool_avg2d;
  const cip = attrs.countIncludePad ? 1 : 0;
  return { outDims, run: (x, y) => void fn(x, P, g.H, g.W, g.KH, g.KW, g.sh, g.sw, pt, pl, pb, pr, cip, y, g.OH, g.OW) };
}

/** AveragePool on pointers. Returns the output dims. */
export function averagePoolRun(k: Kernels, x: number, xDims: readonly number[], y: number, attrs: PoolAttrs): number[] {
  return checkedPool(k, 'avg', x, xDims, y, attrs);
}

/** Output dims of GlobalAveragePool / GlobalMaxPool: N x C x 1 x ... x 1. */
export function globalPoolOutputShape(xDims: readonly number[], what = 'GlobalPool'): number[] {
  if (!globalThis.EDGEPRUNE_RUNTIME) checkDims(xDims, `${what} input`); // the runtime's dims are checked (runtime/specialize.ts)
  if (xDims.length < 3) throw new ShapeError(`${what}: input must be N x C x spatial..., got ${fmt(xDims)}`);
  return [xDims[0], xDims[1], ...xDims.slice(2).map(() => 1)];
}

function globalRun(k: Kernels, fn: 'pool_global_avg' | 'pool_global_max', what: string, x: number, xDims: readonly number[], y: number): number[] {
  const out = globalPoolOutputShape(xDims, what);
  const P = xDims[0] * xDims[1];
  if (!globalThis.EDGEPRUNE_RUNTIME) {
    k.requireFloats(x, sizeOf(xDims), `${what} input`);
    k.requireFloats(y, P, `${what} output`);
  }
  if (P === 0) return out;
  const HW = sizeOf(xDims.slice(2));
  if (HW === 0) throw new ShapeError(`${what}: input ${fmt(xDims)} has an empty spatial extent; there is nothing to pool`);
  k.fn[fn](x, P, HW, y);
  return out;
}

export function globalAveragePoolRun(k: Kernels, x: number, xDims: readonly number[], y: number): number[] {
  return globalRun(k, 'pool_global_avg', 'GlobalAveragePool', x, xDims, y);
}

export function globalMaxPoolRun(k: Kernels, x: number, xDims: readonly number[], y: number): number[] {
  return globalRun(k, 'pool_global_max', 'GlobalMaxPool', x, xDims, y);
}

type Tensor = { data: Float32Array; dims: number[] };

function oneShot(k: Kernels, X: Float32Array, xDims: readonly number[], outDims: number[], what: string, run: (x: number, y: number) => number[]): Tensor {
  checkData(X, xDims, `${what} input`);
  const x = k.upload(X);
  let y = 0;
  try {
    y = k.allocF32(sizeOf(outDims));
    const dims = run(x, y);
    return { data: k.download(y, sizeOf(dims)), dims };
  } finally {
    k.free(x, y);
  }
}

/** One-shot MaxPool on a host array. */
export function maxPool(k: Kernels, X: Float32Array, xDims: readonly number[], attrs: PoolAttrs): Tensor {
  const out = pool2dGeometry(xDims, attrs, 'MaxPool').outDims;
  return oneShot(k, X, xDims, out, 'MaxPool', (x, y) => maxPoolRun(k, x, xDims, y, attrs));
}

/** One-shot AveragePool on a host array. */
export function averagePool(k: Kernels, X: Float32Array, xDims: readonly number[], attrs: PoolAttrs): Tensor {
  const out = pool2dGeometry(xDims, attrs, 'AveragePool').outDims;
  return oneShot(k, X, xDims, out, 'AveragePool', (x, y) => averagePoolRun(k, x, xDims, y, attrs));
}

export function globalAveragePool(k: Kernels, X: Float32Array, xDims: readonly number[]): Tensor {
  const out = globalPoolOutputShape(xDims, 'GlobalAveragePool');
  return oneShot(k, X, xDims, out, 'GlobalAveragePool', (x, y) => globalAveragePoolRun(k, x, xDims, y));
}

export function globalMaxPool(k: Kernels, X: Float32Array, xDims: readonly number[]): Tensor {
  const out = globalPoolOutputShape(xDims, 'GlobalMaxPool');
  return oneShot(k, X, xDims, out, 'GlobalMaxPool', (x, y) => globalMaxPoolRun(k, x, xDims, y));
}
