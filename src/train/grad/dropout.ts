// Dropout (inverted, as in PyTorch) on kernel pointers.
//   dropoutForward: element i is kept with probability 1 - p; y = kept ? x / (1 - p) : 0 and
//     mask[i] = kept (one byte, 1 or 0). The choice is a counter-based hash of (seed, step, i):
//     the same seed and step give the same mask on every host and both builds; pass the training
//     step (or any counter) so every batch draws a fresh mask. p = 1 drops everything (y = 0).
//   dropoutBackward: dx = mask ? dy / (1 - p) : 0 (OVERWRITTEN; dx may be dy). Needs the mask.
import type { Kernels } from '../../wasm/kernels.js';
import { checkCount, checkRange, requireBytes } from './check.js';

function scaleOf(p: number): number {
  return p >= 1 ? 0 : 1 / (1 - p);
}

function checkSeed(v: number, what: string): void {
  checkCount(v, what);
  if (v > 0xffffffff) checkRange(v, what, 0, 0xffffffff);
}

/** Returns the number of kept elements. mask: n bytes. y may be x. */
export function dropoutForward(k: Kernels, x: number, n: number, p: number, seed: number, step: number, mask: number, y: number): number {
  checkCount(n, 'dropoutForward n');
  checkRange(p, 'dropoutForward p', 0, 1);
  checkSeed(seed, 'dropoutForward seed');
  checkSeed(step, 'dropoutForward step');
  k.requireFloats(x, n, 'dropoutForward x');
  k.requireFloats(y, n, 'dropoutForward y');
  requireBytes(k, mask, n, 'dropoutForward mask (u8)');
  if (n === 0) return 0;
  const threshold = Math.min(2 ** 24, Math.round(p * 2 ** 24));
  return (k.fn.grad_dropout_fwd(x, n, threshold, scaleOf(p), seed >>> 0, step >>> 0, mask, y) as number) >>> 0;
}

export function dropoutBackward(k: Kernels, dy: number, mask: number, n: number, p: number, dx: number): void {
  checkCount(n, 'dropoutBackward n');
  checkRange(p, 'dropoutBackward p', 0, 1);
  k.requireFloats(dy, n, 'dropoutBackward dy');
  k.requireFloats(dx, n, 'dropoutBackward dx');
  requireBytes(k, mask, n, 'dropoutBackward mask (u8)');
  if (n === 0) return;
  k.fn.grad_dropout_bwd(dy, mask, n, scaleOf(p), dx);
}
