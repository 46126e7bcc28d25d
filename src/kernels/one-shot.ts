// Runs a packed layer once on host arrays: upload, run, download, free (tests, scripts, examples).
import type { Kernels } from '../wasm/kernels.js';
import { checkData, checkDims, sizeOf } from './check.js';

/** What a layer with packed weights offers the runtime: shapes, scratch, a run on pointers. */
export interface PackedLayer {
  outputDims(xDims: readonly number[]): number[];
  scratchFloats(xDims: readonly number[]): number;
  run(x: number, xDims: readonly number[], y: number, scratch: number): void;
  dispose(): void;
}

/** Runs `layer` on x and disposes it. `what` names the input in error messages. */
export function runOnce(k: Kernels, layer: PackedLayer, x: Float32Array, xDims: readonly number[], what: string): { data: Float32Array; dims: number[] } {
  try {
    checkDims(xDims, what, 4);
    checkData(x, xDims, what);
    const dims = layer.outputDims(xDims);
    const xp = k.upload(x);
    const yp = k.allocF32(sizeOf(dims));
    const sp = k.allocF32(layer.scratchFloats(xDims));
    try {
      layer.run(xp, xDims, yp, sp);
      return { data: k.download(yp, sizeOf(dims)), dims };
    } finally {
      k.free(xp, yp, sp);
    }
  } finally {
    layer.dispose();
  }
}
