// Host side of Resize (ONNX opset 11-19 semantics without roi / tf_crop_and_resize / cubic /
// antialias): the last two axes are resized, every other axis must keep its size.
// Coordinates are computed here, in float32 in the same order of operations as onnxruntime's CPU
// kernel, into per-output-row and per-output-column tables; the wasm kernels only gather.
import { ArgumentError, ShapeError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { checkData, checkDims, fmt, sizeOf } from './check.js';

export const RESIZE_MODES = ['nearest', 'linear'] as const;
export const COORDINATE_TRANSFORMATION_MODES = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn'] as const;
export const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;

export type ResizeMode = (typeof RESIZE_MODES)[number];
export type CoordinateTransformationMode = (typeof COORDINATE_TRANSFORMATION_MODES)[number];
export type NearestMode = (typeof NEAREST_MODES)[number];

export interface ResizeOptions {
  /** One factor per input axis (ONNX `scales`); only the last two may differ from 1. */
  scales?: readonly number[];
  /** One output size per input axis (ONNX `sizes`); give either scales or sizes. */
  sizes?: readonly number[];
  /** ONNX `mode`, default 'nearest'. */
  mode?: ResizeMode;
  /** ONNX `coordinate_transformation_mode`, default 'half_pixel'. */
  coordinateTransformationMode?: CoordinateTransformationMode;
  /** ONNX `nearest_mode`, default 'round_prefer_floor' (used by mode 'nearest' only). */
  nearestMode?: NearestMode;
}

const f = Math.fround;

function checkOneOf<T extends string>(value: T | undefined, allowed: readonly T[], fallback: T, what: string): T {
  if (value === undefined) return fallback;
  // the runtime's Resize has named the node for an unsupported value already
  if (!globalThis.EDGEPRUNE_RUNTIME && !allowed.includes(value)) {
    throw new ArgumentError(`Resize: unsupported ${what} '${String(value)}'; supported: ${allowed.join(', ')}`);
  }
  return value;
}

/**
 * Output dims of Resize from scales (ONNX rounding: floor(in * scale)) or sizes, with the same
 * checks the kernels rely on: exactly one of the two, one entry per axis, positive scales,
 * and only the last two axes resized. Also returns the per-axis scale the coordinate transform uses
 * (the given scale, or out / in when sizes were given).
 */
export function resizeShape(dims: readonly number[], scales?: readonly number[], sizes?: readonly number[]): { dims: number[]; scales: number[] } {
  if (!globalThis.EDGEPRUNE_RUNTIME) checkDims(dims, 'Resize input'); // the runtime's dims are checked (runtime/specialize.ts)
  const rank = dims.length;
  if (rank === 0) throw new ShapeError('Resize: the input is a scalar; give it at least one axis');
  const hasScales = scales !== undefined && scales.length > 0;
  const hasSizes = sizes !== undefined && sizes.length > 0;
  if (hasScales && hasSizes) throw new ArgumentError('Resize: scales and sizes are both given; give exactly one of them (ONNX: leave the other input empty)');
  if (!hasScales && !hasSizes) throw new ArgumentError('Resize: neither scales nor sizes is given; give one of them with one entry per input axis');
  const firstResized = Math.max(0, rank - 2);
  const out: number[] = [];
  const used: number[] = [];
  if (scales !== undefined && hasScales) {
    if (scales.length !== rank) throw new ShapeError(`Resize: scales [${scales.join(', ')}] has ${scales.length} entries but the input ${fmt(dims)} has ${rank} axes; give one per axis`);
    for (let i = 0; i < rank; i++) {
      const s = scales[i];
      if (typeof s !== 'number' || !Number.isFinite(s) || !(s > 0)) {
        throw new ArgumentError(`Resize: scale ${s} for axis ${i} is not a positive finite number; every scale must be > 0`);
      }
      const sf = f(s); // ONNX scales are a float tensor
      if (i < firstResized && sf !== 1) {
        throw new ArgumentError(`Resize: scales [${scales.join(', ')}] resize axis ${i}; only the last two axes (H, W) can be resized, give 1 for the others`);
      }
      out.push(Math.floor(dims[i] * sf));
      used.push(sf);
    }
  } else if (sizes !== undefined) {
    if (sizes.length !== rank) throw new ShapeError(`Resize: sizes [${sizes.join(', ')}] has ${sizes.length} entries but the input ${fmt(dims)} has ${rank} axes; give one per axis`);
    for (let i = 0; i < rank; i++) {
      const s = sizes[i];
      if (!Number.isInteger(s) || s < 0) throw new ArgumentError(`Resize: size ${s} for axis ${i} is not a non-negative integer`);
      if (i < firstResized && s !== dims[i]) {
        throw new ArgumentError(`Resize: sizes [${sizes.join(', ')}] change axis ${i} (${dims[i]} -> ${s}); only the last two axes (H, W) can be resized, keep the others at the input size`);
      }
      out.push(s);
      used.push(dims[i] > 0 ? f(f(s) / f(dims[i])) : 1);
    }
  }
  return { dims: out, scales: used };
}

/** Output dims of Resize (see resizeShape). */
export function resizeOutputDims(dims: readonly number[], scales?: readonly number[], sizes?: readonly number[]): number[] {
  return resizeShape(dims, scales, sizes).dims;
}

/**
 * Source coordinate (float32, onnxruntime's order of operations) of output index x on one axis.
 * An axis whose scale is exactly 1 maps every index to itself, as in onnxruntime: the spec's
 * formulas agree except for tf_half_pixel_for_nn, which would shift an unresized axis by half a pixel.
 */
function originalCoordinate(mode: CoordinateTransformationMode, x: number, scale: number, outLen: number, inLen: number): number {
  const xr = f(x);
  if (scale === 1) return xr;
  switch (mode) {
    case 'half_pixel':
      return f(f(f(xr + 0.5) / scale) - 0.5);
    case 'pytorch_half_pixel':
      return outLen > 1 ? f(f(f(xr + 0.5) / scale) - 0.5) : 0;
    case 'align_corners':
      return outLen === 1 ? 0 : f(f(xr * f(inLen - 1)) / f(outLen - 1));
    case 'asymmetric':
      return f(xr / scale);
    case 'tf_half_pixel_for_nn':
      return f(f(xr + 0.5) / scale);
  }
}

function nearestIndex(mode: NearestMode, c: number): number {
  switch (mode) {
    case 'round_prefer_floor':
      return c === Math.trunc(c) + 0.5 ? Math.floor(c) : roundHalfAway(c);
    case 'round_prefer_ceil':
      return roundHalfAway(c);
    case 'floor':
      return Math.floor(c);
    case 'ceil':
      return Math.ceil(c);
  }
}

function roundHalfAway(c: number): number {
  return c < 0 ? -Math.round(-c) : Math.round(c);
}

/** Per-output-index source indices (nearest) on one axis. */
function nearestAxis(ctm: CoordinateTransformationMode, nm: NearestMode, scale: number, outLen: number, inLen: number): Int32Array {
  const idx = new Int32Array(outLen);
  for (let i = 0; i < outLen; i++) {
    const n = nearestIndex(nm, originalCoordinate(ctm, i, scale, outLen, inLen));
    idx[i] = Math.min(Math.max(n, 0), inLen - 1);
  }
  return idx;
}

/** Per-output-index (i0, i1, weight of i1) on one axis for linear interpolation, edge-clamped. */
function linearAxis(ctm: CoordinateTransformationMode, scale: number, outLen: number, inLen: number): { i0: Int32Array; i1: Int32Array; w: Float32Array } {
  const i0 = new Int32Array(outLen);
  const i1 = new Int32Array(outLen);
  const w = new Float32Array(outLen);
  for (let i = 0; i < outLen; i++) {
    const c = Math.max(0, Math.min(originalCoordinate(ctm, i, scale, outLen, inLen), inLen - 1));
    const a = Math.min(Math.trunc(c), inLen - 1);
    const b = Math.min(a + 1, inLen - 1);
    i0[i] = a;
    i1[i] = b;
    w[i] = a === b ? 0 : f(c - a);
  }
  return { i0, i1, w };
}

/** Everything a Resize call needs besides the data: shapes and the kernel's index/weight table. */
export interface ResizePlan {
  inDims: number[];
  outDims: number[];
  mode: ResizeMode;
  planes: number;
  H: number;
  W: number;
  OH: number;
  OW: number;
  /** 32-bit words for the kernel (int offsets and float weights share one buffer). */
  table: ArrayBuffer;
  /** Words of `table` plus the kernel's scratch (linear: 2 * OW floats). */
  tableWords: number;
}

/** Computes output dims and the kernel tables once (pure arithmetic on shapes and attributes). */
export function resizePlan(dims: readonly number[], opts: ResizeOptions): ResizePlan {
  const mode = checkOneOf(opts.mode, RESIZE_MODES, 'nearest', 'mode');
  const ctm = checkOneOf(opts.coordinateTransformationMode, COORDINATE_TRANSFORMATION_MODES, 'half_pixel', 'coordinate_transformation_mode');
  const nm = checkOneOf(opts.nearestMode, NEAREST_MODES, 'round_prefer_floor', 'nearest_mode');
  const shape = resizeShape(dims, opts.scales, opts.sizes);
  const rank = dims.length;
  const H = rank >= 2 ? dims[rank - 2] : 1;
  const W = dims[rank - 1];
  const OH = rank >= 2 ? shape.dims[rank - 2] : 1;
  const OW = shape.dims[rank - 1];
  const sH = rank >= 2 ? shape.scales[rank - 2] : 1;
  const sW = shape.scales[rank - 1];
  const planes = sizeOf(dims.slice(0, Math.max(0, rank - 2)));
  const outN = planes * OH * OW;
  if (outN > 0 && (H === 0 || W === 0)) {
    throw new ShapeError(`Resize: input ${fmt(dims)} is empty along a resized axis but the output ${fmt(shape.dims)} is not; there is nothing to interpolate from`);
  }
  let table: ArrayBuffer;
  let tableWords: number;
  if (outN === 0) {
    table = new ArrayBuffer(0);
    tableWords = 0;
  } else if (mode === 'nearest') {
    table = new ArrayBuffer(4 * (OH + OW));
    const u = new Uint32Array(table);
    const ry = nearestAxis(ctm, nm, sH, OH, H);
    const rx = nearestAxis(ctm, nm, sW, OW, W);
    for (let i = 0; i < OH; i++) u[i] = ry[i] * W * 4;
    for (let i = 0; i < OW; i++) u[OH + i] = rx[i] * 4;
    tableWords = OH + OW;
  } else {
    table = new ArrayBuffer(4 * 3 * (OH + OW));
    const u = new Uint32Array(table);
    const fl = new Float32Array(table);
    const ly = linearAxis(ctm, sH, OH, H);
    const lx = linearAxis(ctm, sW, OW, W);
    for (let i = 0; i < OH; i++) {
      u[i] = ly.i0[i] * W * 4;
      u[OH + i] = ly.i1[i] * W * 4;
      fl[2 * OH + i] = ly.w[i];
    }
    const c = 3 * OH;
    for (let i = 0; i < OW; i++) {
      u[c + i] = lx.i0[i] * 4;
      u[c + OW + i] = lx.i1[i] * 4;
      fl[c + 2 * OW + i] = lx.w[i];
    }
    tableWords = 3 * (OH + OW) + 2 * OW;
  }
  return { inDims: [...dims], outDims: shape.dims, mode, planes, H, W, OH, OW, table, tableWords };
}

/**
 * Resize on kernel pointers: x holds sizeOf(dims) floats, y receives sizeOf(output) floats.
 * Pass a plan from resizePlan(dims, opts) to skip recomputing the tables. Returns the output dims.
 */
export function resizeRun(k: Kernels, x: number, dims: readonly number[], y: number, opts: ResizeOptions | ResizePlan): number[] {
  const plan = 'table' in opts ? opts : resizePlan(dims, opts);
  if (plan.inDims.length !== dims.length || plan.inDims.some((d, i) => d !== dims[i])) {
    throw new ShapeError(`Resize: the plan was made for input ${fmt(plan.inDims)} but the input is ${fmt(dims)}; make a plan for this shape`);
  }
  k.requireFloats(x, sizeOf(dims), 'Resize input');
  k.requireFloats(y, sizeOf(plan.outDims), 'Resize output');
  if (plan.tableWords === 0) return plan.outDims;
  const t = k.heap.alloc(plan.tableWords * 4);
  try {
    k.i32.set(new Int32Array(plan.table), t >> 2);
    const fn = plan.mode === 'nearest' ? k.fn.resize_nearest_f32 : k.fn.resize_linear_f32;
    fn(x, plan.planes, plan.H, plan.W, y, plan.OH, plan.OW, t);
  } finally {
    k.free(t);
  }
  return plan.outDims;
}

/** One-shot Resize on a host array. */
export function resize(k: Kernels, data: Float32Array, dims: readonly number[], opts: ResizeOptions): { data: Float32Array; dims: number[] } {
  checkDims(dims, 'Resize input');
  checkData(data, dims, `Resize input ${fmt(dims)}`);
  const plan = resizePlan(dims, opts);
  const n = sizeOf(plan.outDims);
  const x = k.upload(data);
  const y = k.allocF32(n);
  try {
    resizeRun(k, x, dims, y, plan);
    return { data: k.download(y, n), dims: plan.outDims };
  } finally {
    k.free(x, y);
  }
}
