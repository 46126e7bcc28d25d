// Host side of ReduceSum / ReduceMean / ReduceMax over any set of axes (ONNX semantics).
// The plan drops size-1 axes, merges adjacent reduced (and adjacent kept) axes, then runs one
// [outer, R, inner] reduction per reduced group, biggest shrink first: the first pass goes
// from x into a scratch buffer, later passes reduce the scratch in place, the last writes y.
// Mean is Sum with the final pass scaled by 1 / (number of reduced elements). SumSquare, L2
// and L1 square (or take |x| of) the input into the scratch first and sum that; L2 takes the
// square root of the result.
import { ArgumentError, ShapeError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { checkData, checkDims, fmt, sizeOf } from './check.js';
import { binaryRun } from './eltwise.js';
import { unaryRun } from './unary.js';

type Tensor = { data: Float32Array; dims: number[] };

export type ReduceOp = 'sum' | 'mean' | 'max' | 'min' | 'sumSquare' | 'l2' | 'l1';

const ONNX_NAMES: Record<ReduceOp, string> = { sum: 'ReduceSum', mean: 'ReduceMean', max: 'ReduceMax', min: 'ReduceMin', sumSquare: 'ReduceSumSquare', l2: 'ReduceL2', l1: 'ReduceL1' };

/** Ops that transform every input element (x², |x|) before summing: the scratch holds the transformed input. */
function transforms(op: ReduceOp): boolean {
  return op === 'sumSquare' || op === 'l2' || op === 'l1';
}

/** Floats of scratch reduceRun needs for op on an input of n elements. */
export function reduceScratchFloats(op: ReduceOp, plan: ReducePlan, n: number): number {
  return transforms(op) ? Math.max(plan.scratchFloats, n) : plan.scratchFloats;
}

export interface ReduceOptions {
  /** Axes to reduce (negative counts from the end). Empty or missing: all axes, unless noopWithEmptyAxes. */
  axes?: readonly number[];
  /** Default true. */
  keepdims?: boolean;
  /** With empty axes, return the input unchanged (ONNX noop_with_empty_axes=1). */
  noopWithEmptyAxes?: boolean;
}

export interface ReducePass {
  outer: number;
  R: number;
  inner: number;
}

export interface ReducePlan {
  outDims: number[];
  /** Sorted, non-negative reduced axes. */
  axes: number[];
  passes: ReducePass[];
  /** Floats the scratch buffer needs (0 when at most one pass runs). */
  scratchFloats: number;
  /** Number of input elements reduced into each output (Mean divides by it). */
  count: number;
  /** The output is a copy of the input (nothing, or only size-1 axes, to reduce). */
  identity: boolean;
}

/** Normalizes ONNX axes: each in [-rank, rank), no duplicates; returns them sorted and non-negative. */
export function normalizeAxes(axes: readonly number[], rank: number, what = 'Reduce'): number[] {
  if (!globalThis.EDGEPRUNE_RUNTIME && !Array.isArray(axes)) throw new ArgumentError(`${what}: axes must be an array of integers`);
  const seen = new Set<number>();
  for (const a of axes) {
    if (!Number.isInteger(a) || a < -rank || a >= rank) throw new ArgumentError(`${what}: axis ${a} is out of range for rank ${rank}; use -${rank}..${rank - 1}`);
    const n = a < 0 ? a + rank : a;
    if (seen.has(n)) throw new ArgumentError(`${what}: axis ${n} appears twice in axes ${fmt(axes)}; list each axis once`);
    seen.add(n);
  }
  return [...seen].sort((x, y) => x - y);
}

/** Output shape and the pass sequence of a reduction. */
export function reducePlan(dims: readonly number[], opts: ReduceOptions = {}, what = 'Reduce'): ReducePlan {
  if (!globalThis.EDGEPRUNE_RUNTIME) checkDims(dims, `${what} input`); // the runtime's dims are checked (runtime/specialize.ts)
  const rank = dims.length;
  const keepdims = opts.keepdims ?? true;
  let axes = normalizeAxes(opts.axes ?? [], rank, what);
  if (axes.length === 0) {
    if (opts.noopWithEmptyAxes) return { outDims: [...dims], axes: [], passes: [], scratchFloats: 0, count: 1, identity: true };
    axes = dims.map((_, i) => i);
  }
  const red = new Set(axes);
  const outDims: number[] = [];
  dims.forEach((d, i) => {
    if (!red.has(i)) outDims.push(d);
    else if (keepdims) outDims.push(1);
  });
  // groups of adjacent same-kind axes, size-1 axes dropped
  const groups: { size: number; reduced: boolean }[] = [];
  let count = 1;
  dims.forEach((d, i) => {
    const r = red.has(i);
    if (r) count *= d;
    if (d === 1) return;
    const last = groups[groups.length - 1];
    if (last && last.reduced === r) last.size *= d;
    else groups.push({ size: d, reduced: r });
  });
  const order = groups.map((g, i) => i).filter((i) => groups[i].reduced);
  // an empty reduced axis first (its pass produces the output straight away), then biggest shrink first
  order.sort((a, b) => (groups[a].size === 0 ? -1 : groups[b].size === 0 ? 1 : groups[b].size - groups[a].size));
  const cur = groups.map((g) => g.size);
  const passes: ReducePass[] = [];
  let scratchFloats = 0;
  for (const [j, gi] of order.entries()) {
    const outer = sizeOf(cur.slice(0, gi));
    const inner = sizeOf(cur.slice(gi + 1));
    passes.push({ outer, R: cur[gi], inner });
    cur[gi] = 1;
    if (j < order.length - 1) scratchFloats = Math.max(scratchFloats, outer * inner);
  }
  return { outDims, axes, passes, scratchFloats, count, identity: passes.length === 0 };
}

/**
 * Reduction on pointers: x holds sizeOf(dims) floats, y receives sizeOf(plan.outDims), scratch
 * holds plan.scratchFloats floats (0 is fine when that is 0). Returns the output dims.
 */
export function reduceRun(k: Kernels, op: ReduceOp, x: number, dims: readonly number[], y: number, scratch: number, opts: ReduceOptions = {}): number[] {
  if (!globalThis.EDGEPRUNE_RUNTIME && !Object.prototype.hasOwnProperty.call(ONNX_NAMES, op)) throw new ArgumentError(`Reduce: unknown operation '${op}'; use ${Object.keys(ONNX_NAMES).join(', ')}`);
  const what = ONNX_NAMES[op];
  const plan = reducePlan(dims, opts, what);
  const nIn = sizeOf(dims);
  const nOut = sizeOf(plan.outDims);
  // noop_with_empty_axes returns the input as it is; an empty input has nothing to transform
  const pre = transforms(op) && plan.axes.length > 0 && nIn > 0;
  if (!globalThis.EDGEPRUNE_RUNTIME) {
    k.requireFloats(x, nIn, `${what} input`);
    k.requireFloats(y, nOut, `${what} output`);
    const s = reduceScratchFloats(op, plan, nIn);
    if (s > 0) k.requireFloats(scratch, s, `${what} scratch (see reduceScratchFloats())`);
  }
  if (plan.identity && !pre) {
    if (x !== y) k.fn.copy_f32(y, x, nIn);
    return plan.outDims;
  }
  let src = x;
  if (pre) {
    // only size-1 axes to reduce: the transformed input is the result
    src = plan.identity ? y : scratch;
    if (op === 'l1') unaryRun(k, 'abs', x, src, dims);
    else binaryRun(k, 'mul', x, dims, x, dims, src);
  }
  plan.passes.forEach((p, j) => {
    const last = j === plan.passes.length - 1;
    const dst = last ? y : scratch;
    if (p.outer * p.inner > 0) {
      if (op === 'max') k.fn.reduce_max(src, p.outer, p.R, p.inner, dst);
      else if (op === 'min') k.fn.reduce_min(src, p.outer, p.R, p.inner, dst);
      else k.fn.reduce_sum(src, p.outer, p.R, p.inner, last && op === 'mean' ? 1 / plan.count : 1, dst);
    }
    src = dst;
  });
  if (op === 'l2' && pre) unaryRun(k, 'sqrt', y, y, plan.outDims);
  return plan.outDims;
}

/** One-shot reduction on a host array. */
export function reduce(k: Kernels, op: ReduceOp, X: Float32Array, dims: readonly number[], opts: ReduceOptions = {}): Tensor {
  checkData(X, dims, 'Reduce input');
  const plan = reducePlan(dims, opts);
  const x = k.upload(X);
  let y = 0;
  let s = 0;
  try {
    y = k.allocF32(sizeOf(plan.outDims));
    const floats = reduceScratchFloats(op, plan, X.length);
    s = floats > 0 ? k.allocF32(floats) : 0;
    const out = reduceRun(k, op, x, dims, y, s, opts);
    return { data: k.download(y, sizeOf(out)), dims: out };
  } finally {
    k.free(x, y, s);
  }
}

export const reduceSum = (k: Kernels, X: Float32Array, dims: readonly number[], opts: ReduceOptions = {}): Tensor => reduce(k, 'sum', X, dims, opts);
export const reduceMean = (k: Kernels, X: Float32Array, dims: readonly number[], opts: ReduceOptions = {}): Tensor => reduce(k, 'mean', X, dims, opts);
export const reduceMax = (k: Kernels, X: Float32Array, dims: readonly number[], opts: ReduceOptions = {}): Tensor => reduce(k, 'max', X, dims, opts);

export interface ArgOptions {
  /** The axis to search (negative counts from the end); default 0. */
  axis?: number;
  /** Default true. */
  keepdims?: boolean;
  /** Ties give the last index instead of the first. */
  selectLastIndex?: boolean;
}

/** Output dims and the [outer, R, inner] view of an ArgMax / ArgMin. */
export function argPlan(dims: readonly number[], opts: ArgOptions = {}, what = 'ArgMax'): { outDims: number[]; outer: number; R: number; inner: number } {
  const rank = dims.length;
  const axis = opts.axis ?? 0;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) throw new ArgumentError(`${what}: axis ${axis} is out of range for rank ${rank}; use -${rank}..${rank - 1}`);
  const a = axis < 0 ? axis + rank : axis;
  if (dims[a] === 0) throw new ShapeError(`${what}: axis ${a} of ${fmt(dims)} is empty, so it has no largest or smallest value`);
  const outDims = opts.keepdims ?? true ? dims.map((d, i) => (i === a ? 1 : d)) : dims.filter((_, i) => i !== a);
  return { outDims, outer: sizeOf(dims.slice(0, a)), R: dims[a], inner: sizeOf(dims.slice(a + 1)) };
}

/**
 * ArgMax (or with min, ArgMin) on pointers: y receives the indices as floats, exact below 2^24
 * (edgeprune computes in float32; ONNX's int64 indices have the same values). Returns the output dims.
 */
export function argRun(k: Kernels, min: boolean, x: number, dims: readonly number[], y: number, opts: ArgOptions = {}): number[] {
  const what = min ? 'ArgMin' : 'ArgMax';
  const p = argPlan(dims, opts, what);
  if (!globalThis.EDGEPRUNE_RUNTIME) {
    k.requireFloats(x, sizeOf(dims), `${what} input`);
    k.requireFloats(y, sizeOf(p.outDims), `${what} output`);
  }
  if (p.outer * p.inner > 0) k.fn.arg_extreme(x, p.outer, p.R, p.inner, y, min ? 1 : 0, opts.selectLastIndex ? 1 : 0);
  return p.outDims;
}


export interface CumSumOptions {
  /** The axis to sum along (negative counts from the end). */
  axis: number;
  /** Each output leaves out its own element (a running sum of what came before). */
  exclusive?: boolean;
  /** Sum from the end of the axis towards its start. */
  reverse?: boolean;
}

/** The [outer, R, inner] view of a CumSum along `axis` of dims. */
export function cumSumPlan(dims: readonly number[], axis: number): { outer: number; R: number; inner: number } {
  const rank = dims.length;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) throw new ArgumentError(`CumSum: axis ${axis} is out of range for rank ${rank}; use -${rank}..${rank - 1}`);
  const a = axis < 0 ? axis + rank : axis;
  return { outer: sizeOf(dims.slice(0, a)), R: dims[a], inner: sizeOf(dims.slice(a + 1)) };
}

/** CumSum on pointers (y may be x), summing in order along the axis as onnxruntime does. */
export function cumSumRun(k: Kernels, x: number, dims: readonly number[], y: number, opts: CumSumOptions): void {
  const p = cumSumPlan(dims, opts.axis);
  if (!globalThis.EDGEPRUNE_RUNTIME) {
    k.requireFloats(x, sizeOf(dims), 'CumSum input');
    k.requireFloats(y, sizeOf(dims), 'CumSum output');
  }
  if (p.outer * p.R * p.inner > 0) k.fn.cumsum(x, p.outer, p.R, p.inner, y, opts.exclusive ? 1 : 0, opts.reverse ? 1 : 0);
}
