// Argument checks shared by the kernel wrappers. Everything is checked on the host before a
// pointer reaches wasm, so a wrong size can never make a kernel read or write outside a buffer.
import { ShapeError } from '../errors.js';

declare global {
  /**
   * True only in the `edgeprune/runtime` bundles (scripts/build-dist.mjs defines
   * globalThis.EDGEPRUNE_RUNTIME, so the bundler drops what it guards). There every kernel is
   * driven by the runtime's ops and planner, which have already checked what a kernel would check
   * again: buffer sizes (requireFloats), the input dims a layer or plan was made for, weight, bias
   * and scale lengths the .epm decoder and the ops guarantee, use after dispose (the runtime never
   * disposes). Only such re-checks are guarded with `!globalThis.EDGEPRUNE_RUNTIME`; a check on a
   * value the model itself supplies (an attribute, a bias that may not match) runs everywhere.
   * Sources, tests, train, prune and the full entry run every check.
   */
  var EDGEPRUNE_RUNTIME: true | undefined;
}

export function checkDims(dims: readonly number[], what: string, rank?: number): void {
  if (!Array.isArray(dims)) throw new ShapeError(`${what}: dims must be an array of non-negative integers`);
  if (rank !== undefined && dims.length !== rank) throw new ShapeError(`${what}: expected ${rank} dims, got [${dims.join(', ')}]`);
  // indexed loops here and below: these run for every tensor a plan touches, in V8's interpreter
  // on a cold start, where each for-of step allocates an iterator result
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i];
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`${what}: dims must be non-negative integers, got [${dims.join(', ')}]`);
  }
}

export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < dims.length; i++) n *= dims[i];
  return n;
}

export function checkData(data: ArrayLike<number>, dims: readonly number[], what: string): void {
  const n = sizeOf(dims);
  if (data.length !== n) throw new ShapeError(`${what}: dims [${dims.join(', ')}] need ${n} elements but the data has ${data.length}`);
}

export function checkPositiveInts(values: readonly number[], what: string, min = 1): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < min) throw new ShapeError(`${what}: expected integers >= ${min}, got [${values.join(', ')}]`);
  }
}

export function fmt(dims: readonly number[]): string {
  return `[${dims.join(', ')}]`;
}
