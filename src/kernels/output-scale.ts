// Folding a per-output-channel scale into weights, in wasm (a BatchNormalization after a conv or
// linear layer: the planner passes its scale here and its shift in the bias). A JS loop over every
// weight would cost ~100 ns an element before V8 optimises it: most of a cold start.
import { ShapeError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';

/** w (uploaded, M rows of K) *= scale[row]. The runtime's scales come from a checked BatchNormalization or Gemm alpha. */
export function scaleRows(k: Kernels, w: number, M: number, K: number, scale: Float32Array, what: string): void {
  if (!globalThis.EDGEPRUNE_RUNTIME && scale.length !== M) throw new ShapeError(`${what}: output scale has ${scale.length} values for ${M} output channels`);
  const s = k.upload(scale);
  k.fn.scale_rows(w, M, K, s);
  k.free(s);
}

/** w (uploaded, M rows of N) *= scale[column]. */
export function scaleCols(k: Kernels, w: number, M: number, N: number, scale: Float32Array, what: string): void {
  if (!globalThis.EDGEPRUNE_RUNTIME && scale.length !== N) throw new ShapeError(`${what}: column scale has ${scale.length} values for ${N} columns`);
  const s = k.upload(scale);
  k.fn.scale_cols(w, M, N, s);
  k.free(s);
}
