// The activations a conv/GEMM epilogue applies in registers (codes match assembly/simd.ts).
import { ArgumentError } from '../errors.js';

export type FusedActivation =
  | { kind: 'none' }
  | { kind: 'relu' }
  | { kind: 'clip'; min: number; max: number }
  | { kind: 'leakyRelu'; alpha: number };

/** [code, p0, p1] as the wasm epilogues take them. */
export function activationArgs(a: FusedActivation | undefined): [number, number, number] {
  if (!a || a.kind === 'none') return [0, 0, 0];
  switch (a.kind) {
    case 'relu':
      return [1, 0, 0];
    case 'clip':
      if (!(a.min <= a.max)) throw new ArgumentError(`clip activation needs min <= max, got min=${a.min} max=${a.max}`);
      return [2, a.min, a.max];
    case 'leakyRelu':
      if (!Number.isFinite(a.alpha)) throw new ArgumentError(`leakyRelu alpha must be finite, got ${a.alpha}`);
      return [3, a.alpha, 0];
    default:
      throw new ArgumentError(`unknown fused activation ${JSON.stringify(a)}; use none, relu, clip or leakyRelu`);
  }
}

/** The activation of one value, in float32 like the kernels' epilogue (for constant outputs). */
export function activateScalar(a: FusedActivation | undefined, v: number): number {
  const x = Math.fround(v);
  if (!a || a.kind === 'none') return x;
  if (a.kind === 'relu') return x > 0 ? x : 0;
  if (a.kind === 'clip') return Math.min(Math.max(x, Math.fround(a.min)), Math.fround(a.max));
  return x >= 0 ? x : Math.fround(x * Math.fround(a.alpha));
}
