// Backward of broadcasting Add (and Sub), on kernel pointers. For y = a + b with numpy broadcasting,
// da = dy summed over the axes along which a was broadcast (and over the leading axes a lacks),
// laid out with a's dims; the same for b (times -1 for y = a - b). An input with the output's dims
// gets dy itself: when its gradient buffer is dy nothing runs, otherwise dy is copied.
// The sums run the [outer, R, inner] reduce_sum kernel of the inference reductions
// (src/kernels/reduce.ts plans the passes). Needs nothing saved from the forward.
// Gradients are OVERWRITTEN.
import { ShapeError } from '../../errors.js';
import { broadcastShape } from '../../kernels/eltwise.js';
import { checkDims, fmt, sizeOf } from '../../kernels/check.js';
import { reducePlan } from '../../kernels/reduce.js';
import type { Kernels } from '../../wasm/kernels.js';
import { has } from './check.js';

function reducedAxes(dyDims: readonly number[], dims: readonly number[], what: string): number[] {
  checkDims(dyDims, `${what} dy`);
  checkDims(dims, `${what} target`);
  const b = broadcastShape(dims, dyDims);
  if (b.length !== dyDims.length || b.some((d, i) => d !== dyDims[i])) {
    throw new ShapeError(`${what}: an input of dims ${fmt(dims)} cannot broadcast to the output dims ${fmt(dyDims)}`);
  }
  const lead = dyDims.length - dims.length;
  const axes: number[] = [];
  for (let i = 0; i < dyDims.length; i++) {
    const d = i < lead ? 1 : dims[i - lead];
    if (d === 1 && (dyDims[i] !== 1 || i < lead)) axes.push(i);
  }
  return axes;
}

/** Floats of scratch sumToShape needs. */
export function sumToShapeScratchFloats(dyDims: readonly number[], dims: readonly number[]): number {
  const axes = reducedAxes(dyDims, dims, 'sumToShape');
  return reducePlan(dyDims, { axes, keepdims: true, noopWithEmptyAxes: true }).scratchFloats;
}

/**
 * out (sizeOf(dims) floats) = scale * dy summed down to `dims` (dims broadcast to dyDims).
 * scratch: sumToShapeScratchFloats(dyDims, dims) floats (0 when that is 0).
 */
export function sumToShape(k: Kernels, dy: number, dyDims: readonly number[], dims: readonly number[], out: number, scratch: number, scale = 1): void {
  const what = 'sumToShape';
  const axes = reducedAxes(dyDims, dims, what);
  const plan = reducePlan(dyDims, { axes, keepdims: true, noopWithEmptyAxes: true }, what);
  const nIn = sizeOf(dyDims);
  const nOut = sizeOf(dims);
  k.requireFloats(dy, nIn, `${what} dy ${fmt(dyDims)}`);
  k.requireFloats(out, nOut, `${what} output ${fmt(dims)}`);
  if (plan.scratchFloats > 0) k.requireFloats(scratch, plan.scratchFloats, `${what} scratch (see sumToShapeScratchFloats)`);
  if (nOut === 0) return;
  if (plan.identity) {
    if (out !== dy) k.f32.copyWithin(out >> 2, dy >> 2, (dy >> 2) + nIn);
    if (scale !== 1) k.fn.optim_scale(out, nOut, scale);
    return;
  }
  let src = dy;
  plan.passes.forEach((p, j) => {
    const last = j === plan.passes.length - 1;
    const dst = last ? out : scratch;
    k.fn.reduce_sum(src, p.outer, p.R, p.inner, last ? scale : 1, dst);
    src = dst;
  });
}

export interface AddOperand {
  dims: readonly number[];
  /** Where its gradient goes (sizeOf(dims) floats); omit (or 0) when it needs none. */
  grad?: number;
}

/** Floats of scratch addBackward needs. */
export function addBackwardScratchFloats(outDims: readonly number[], aDims: readonly number[], bDims: readonly number[]): number {
  return Math.max(sumToShapeScratchFloats(outDims, aDims), sumToShapeScratchFloats(outDims, bDims));
}

/** Gradients of y = a + b (or a - b with subtract) given dy of dims outDims. */
export function addBackward(k: Kernels, dy: number, outDims: readonly number[], a: AddOperand, b: AddOperand, scratch: number, subtract = false): void {
  const out = broadcastShape(a.dims, b.dims);
  if (out.length !== outDims.length || out.some((d, i) => d !== outDims[i])) {
    throw new ShapeError(`addBackward: inputs ${fmt(a.dims)} and ${fmt(b.dims)} broadcast to ${fmt(out)}, not to the dy dims ${fmt(outDims)}`);
  }
  if (has(a.grad)) sumToShape(k, dy, outDims, a.dims, a.grad, scratch, 1);
  if (has(b.grad)) sumToShape(k, dy, outDims, b.dims, b.grad, scratch, subtract ? -1 : 1);
}
