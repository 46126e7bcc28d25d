// BatchNormalization in training mode, on kernel pointers (x: [N, C, ...spatial], statistics per C).
//   batchNormTrainForward: batch mean and biased variance per channel, y = (x - mean) / sqrt(var + eps)
//     * gamma + beta; running statistics updated like PyTorch: running = (1 - momentum) * running +
//     momentum * batch, with the unbiased variance (M / (M - 1)) for the running var (M = N * spatial).
//     momentum is PyTorch's (0.1 by default); ONNX's attribute is 1 - momentum. Saves mean and
//     1 / sqrt(var + eps) (C floats each) for the backward.
//   batchNormBackward: needs the forward input x, gamma and the two saved vectors. dgamma = sum dy *
//     xhat, dbeta = sum dy and dx (the full batch-statistics gradient) are all OVERWRITTEN; each
//     is optional.
// y may be x and dx may be dy (in place).
import { ArgumentError, ShapeError } from '../../errors.js';
import { checkDims, fmt, sizeOf } from '../../kernels/check.js';
import type { Kernels } from '../../wasm/kernels.js';
import { checkRange, has } from './check.js';

export interface BatchNormTrainArgs {
  x: number;
  /** [N, C, ...spatial] (rank >= 2). */
  dims: readonly number[];
  gamma: number;
  beta: number;
  /** C floats each, updated in place; omit to leave running statistics alone. */
  runningMean?: number;
  runningVar?: number;
  /** PyTorch convention, default 0.1. */
  momentum?: number;
  /** Default 1e-5. */
  eps?: number;
}

export interface BatchNormTrainOutputs {
  y: number;
  /** C floats: the batch mean. */
  saveMean: number;
  /** C floats: 1 / sqrt(batch var + eps). */
  saveInvStd: number;
}

function geometry(dims: readonly number[], what: string): { N: number; C: number; HW: number } {
  checkDims(dims, `${what} input`);
  if (dims.length < 2) throw new ShapeError(`${what}: input must be [N, C, ...], got ${fmt(dims)}`);
  return { N: dims[0], C: dims[1], HW: sizeOf(dims.slice(2)) };
}

export function batchNormTrainForward(k: Kernels, a: BatchNormTrainArgs, out: BatchNormTrainOutputs): void {
  const what = 'batchNormTrainForward';
  const { N, C, HW } = geometry(a.dims, what);
  const momentum = a.momentum ?? 0.1;
  const eps = a.eps ?? 1e-5;
  checkRange(momentum, `${what} momentum`, 0, 1);
  if (!(eps > 0) || !Number.isFinite(eps)) throw new ArgumentError(`${what}: eps must be a positive number, got ${eps}`);
  const M = N * HW;
  const updating = has(a.runningMean) || has(a.runningVar);
  if (M < 1 || (updating && M < 2)) {
    throw new ShapeError(`${what}: input ${fmt(a.dims)} has ${M} value(s) per channel; training-mode statistics need at least 2 (use a larger batch)`);
  }
  const n = sizeOf(a.dims);
  k.requireFloats(a.x, n, `${what} x`);
  k.requireFloats(out.y, n, `${what} y`);
  k.requireFloats(a.gamma, C, `${what} gamma`);
  k.requireFloats(a.beta, C, `${what} beta`);
  if (has(a.runningMean)) k.requireFloats(a.runningMean, C, `${what} runningMean`);
  if (has(a.runningVar)) k.requireFloats(a.runningVar, C, `${what} runningVar`);
  k.requireFloats(out.saveMean, C, `${what} saveMean`);
  k.requireFloats(out.saveInvStd, C, `${what} saveInvStd`);
  if (C === 0) return;
  k.fn.grad_bn_train_fwd(a.x, N, C, HW, a.gamma, a.beta, a.runningMean ?? 0, a.runningVar ?? 0, momentum, eps, out.y, out.saveMean, out.saveInvStd);
}

export interface BatchNormBackwardArgs {
  x: number;
  dims: readonly number[];
  dy: number;
  gamma: number;
  saveMean: number;
  saveInvStd: number;
}

export interface BatchNormGrads {
  dx?: number;
  dgamma?: number;
  dbeta?: number;
}

export function batchNormBackward(k: Kernels, a: BatchNormBackwardArgs, out: BatchNormGrads): void {
  const what = 'batchNormBackward';
  const { N, C, HW } = geometry(a.dims, what);
  const n = sizeOf(a.dims);
  if (N * HW < 1) throw new ShapeError(`${what}: input ${fmt(a.dims)} has no values per channel`);
  k.requireFloats(a.x, n, `${what} x`);
  k.requireFloats(a.dy, n, `${what} dy`);
  k.requireFloats(a.gamma, C, `${what} gamma`);
  k.requireFloats(a.saveMean, C, `${what} saveMean`);
  k.requireFloats(a.saveInvStd, C, `${what} saveInvStd`);
  if (has(out.dx)) k.requireFloats(out.dx, n, `${what} dx`);
  if (has(out.dgamma)) k.requireFloats(out.dgamma, C, `${what} dgamma`);
  if (has(out.dbeta)) k.requireFloats(out.dbeta, C, `${what} dbeta`);
  if (C === 0) return;
  k.fn.grad_bn_bwd(a.x, a.dy, N, C, HW, a.gamma, a.saveMean, a.saveInvStd, out.dx ?? 0, out.dgamma ?? 0, out.dbeta ?? 0);
}
