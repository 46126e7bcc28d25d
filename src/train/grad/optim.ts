// Optimizer steps over flat float32 parameter buffers on kernel pointers (assembly/optim.ts).
// Masked fine-tuning: pass a mask (one byte or one float per weight, nonzero = trainable) and the
// masked weights, and their optimizer state, are stored as exactly +0 after every step, whatever
// the gradient holds. applyMask zeroes them once up front if the weights are not zero already.
//
//   sgdUpdate   PyTorch SGD with dampening 0: g' = g + weightDecay * w; with momentum
//               v = momentum * v + g', g' = nesterov ? g' + momentum * v : v; w -= lr * g'.
//               (A zero-initialised velocity reproduces PyTorch's first step, v = g'.)
//   adamUpdate  Adam (coupled L2: g' = g + wd * w) or, by default, AdamW (decoupled: w *= 1 - lr * wd
//               before the step), with PyTorch's bias corrections for step t >= 1:
//               m = b1 m + (1 - b1) g', v = b2 v + (1 - b2) g'^2,
//               w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
//   gradSumSquares / clipGradNorm   global L2 norm over several gradients, and PyTorch's
//               clip_grad_norm_ (scale by maxNorm / (norm + 1e-6) when that is below 1).
import { ArgumentError } from '../../errors.js';
import type { Kernels } from '../../wasm/kernels.js';
import { checkCount, checkRange, has, requireBytes } from './check.js';

export interface ParamMask {
  ptr: number;
  /** 'u8': n bytes; 'f32': n floats. Nonzero = trainable, zero = pruned (kept at exactly 0). */
  kind: 'u8' | 'f32';
}

const MASK_CODE = { u8: 1, f32: 2 } as const;

function maskArgs(k: Kernels, mask: ParamMask | undefined, n: number, what: string): [number, number] {
  if (!mask || !has(mask.ptr)) return [0, 0];
  if (mask.kind !== 'u8' && mask.kind !== 'f32') throw new ArgumentError(`${what}: mask kind must be 'u8' or 'f32', got ${JSON.stringify(mask.kind)}`);
  if (mask.kind === 'u8') requireBytes(k, mask.ptr, n, `${what} mask (u8)`);
  else k.requireFloats(mask.ptr, n, `${what} mask (f32)`);
  return [mask.ptr, MASK_CODE[mask.kind]];
}

function finite(v: number, what: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ArgumentError(`${what} must be a finite number, got ${v}`);
}

export interface SgdBuffers {
  w: number;
  g: number;
  n: number;
  /** n floats (start at 0); required when momentum != 0. */
  velocity?: number;
}

export interface SgdOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export function sgdUpdate(k: Kernels, b: SgdBuffers, o: SgdOptions, mask?: ParamMask): void {
  const what = 'sgdUpdate';
  checkCount(b.n, `${what} n`);
  finite(o.lr, `${what} lr`);
  const momentum = o.momentum ?? 0;
  const wd = o.weightDecay ?? 0;
  checkRange(momentum, `${what} momentum`, 0, 1);
  finite(wd, `${what} weightDecay`);
  if (o.nesterov && momentum === 0) throw new ArgumentError(`${what}: nesterov needs a momentum > 0`);
  k.requireFloats(b.w, b.n, `${what} w`);
  k.requireFloats(b.g, b.n, `${what} g`);
  if (momentum !== 0) {
    if (!has(b.velocity)) throw new ArgumentError(`${what}: momentum ${momentum} needs a velocity buffer of n floats (zero-initialised)`);
    k.requireFloats(b.velocity, b.n, `${what} velocity`);
  }
  const [mp, mk] = maskArgs(k, mask, b.n, what);
  if (b.n === 0) return;
  k.fn.optim_sgd(b.w, b.g, momentum !== 0 ? b.velocity! : 0, b.n, o.lr, momentum, wd, o.nesterov ? 1 : 0, mp, mk);
}

export interface AdamBuffers {
  w: number;
  g: number;
  /** First and second moments, n floats each, zero-initialised. */
  m: number;
  v: number;
  n: number;
}

export interface AdamOptions {
  lr: number;
  /** Defaults 0.9, 0.999, 1e-8. */
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** 1 for the first update. */
  step: number;
  weightDecay?: number;
  /** true (default): AdamW's decoupled decay; false: Adam's L2 term added to the gradient. */
  decoupled?: boolean;
}

export function adamUpdate(k: Kernels, b: AdamBuffers, o: AdamOptions, mask?: ParamMask): void {
  const what = 'adamUpdate';
  checkCount(b.n, `${what} n`);
  finite(o.lr, `${what} lr`);
  const beta1 = o.beta1 ?? 0.9;
  const beta2 = o.beta2 ?? 0.999;
  const eps = o.eps ?? 1e-8;
  const wd = o.weightDecay ?? 0;
  checkRange(beta1, `${what} beta1`, 0, 1, { hi: true });
  checkRange(beta2, `${what} beta2`, 0, 1, { hi: true });
  finite(eps, `${what} eps`);
  finite(wd, `${what} weightDecay`);
  if (!(eps >= 0)) throw new ArgumentError(`${what}: eps must be >= 0, got ${eps}`);
  if (!Number.isInteger(o.step) || o.step < 1) throw new ArgumentError(`${what}: step must be an integer >= 1 (the number of this update), got ${o.step}`);
  k.requireFloats(b.w, b.n, `${what} w`);
  k.requireFloats(b.g, b.n, `${what} g`);
  k.requireFloats(b.m, b.n, `${what} m`);
  k.requireFloats(b.v, b.n, `${what} v`);
  const [mp, mk] = maskArgs(k, mask, b.n, what);
  if (b.n === 0) return;
  const bc1 = 1 - beta1 ** o.step;
  const bc2 = 1 - beta2 ** o.step;
  const decoupled = o.decoupled ?? true;
  k.fn.optim_adam(b.w, b.g, b.m, b.v, b.n, o.lr / bc1, 1 / Math.sqrt(bc2), beta1, beta2, eps,
    decoupled ? 1 - o.lr * wd : 1, decoupled ? 0 : wd, mp, mk);
}

/** w = mask ? w : 0 over n floats. */
export function applyMask(k: Kernels, w: number, n: number, mask: ParamMask): void {
  checkCount(n, 'applyMask n');
  k.requireFloats(w, n, 'applyMask w');
  const [mp, mk] = maskArgs(k, mask, n, 'applyMask');
  if (n === 0 || mp === 0) return;
  k.fn.optim_apply_mask(w, n, mp, mk);
}

export interface GradBuffer {
  ptr: number;
  n: number;
}

/** Sum of squares over all the buffers (f64 across blocks). */
export function gradSumSquares(k: Kernels, grads: readonly GradBuffer[]): number {
  let total = 0;
  for (const g of grads) {
    checkCount(g.n, 'gradSumSquares n');
    k.requireFloats(g.ptr, g.n, 'gradSumSquares gradient');
    if (g.n > 0) total += k.fn.optim_sumsq(g.ptr, g.n) as number;
  }
  return total;
}

/** Scales all the gradients so their global L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(k: Kernels, grads: readonly GradBuffer[], maxNorm: number): number {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) throw new ArgumentError(`clipGradNorm: maxNorm must be a positive number, got ${maxNorm}`);
  const norm = Math.sqrt(gradSumSquares(k, grads));
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const g of grads) if (g.n > 0) k.fn.optim_scale(g.ptr, g.n, coef);
  return norm;
}
