// Overflow-checked shape arithmetic: every element count or byte size computed from dims (shape
// inference, folding, planning) goes through here before anything is allocated, so a hostile or
// absurd shape becomes a typed error naming where it came from — never a RangeError from a typed
// array constructor, a crashed process, or a size that wraps when it reaches a 32-bit kernel.
import { OutOfMemoryError, ShapeError } from '../errors.js';

/** wasm32 addresses 4 GiB: no tensor, arena or block can be larger. */
export const WASM32_BYTES = 2 ** 32;
/** Kernels take dims and counts as i32: a larger dim would wrap on the way in. */
export const MAX_DIM = 2 ** 31 - 1;

/**
 * Elements of a tensor of these dims; a product past 2^53 (where doubles stop being exact) is
 * clamped there, which is over every limit below. Dims are assumed valid (see checkDims).
 */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  // indexed (here and in checkDims): called for every value of every plan, in V8's interpreter on a
  // cold start, where each for-of step allocates an iterator result
  for (let i = 0; i < dims.length; i++) n = Math.min(n * dims[i], Number.MAX_SAFE_INTEGER);
  return n;
}

/**
 * Checks dims before anything of that shape is allocated: each a non-negative safe integer no
 * larger than a kernel can index, and the whole tensor within wasm32 memory. `where` names the
 * tensor ("node 'conv3' (Conv) output 'y'"). Returns the element count.
 */
export function checkDims(dims: readonly number[], where: string, elementBytes = 4): number {
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i];
    if (!Number.isSafeInteger(d) || d < 0) throw new ShapeError(`${where} has dims [${dims.join(', ')}]: ${d} is not a non-negative integer; the model's shapes are inconsistent (check its input dims or re-export it)`);
    if (d > MAX_DIM) throw new ShapeError(`${where} has dims [${dims.join(', ')}]: ${d} is over the ${MAX_DIM} a dim can be; the model's shapes are inconsistent (check its input dims or re-export it)`);
  }
  const n = elementCount(dims);
  if (n * elementBytes > WASM32_BYTES) {
    throw new OutOfMemoryError(`${where} has dims [${dims.join(', ')}]: ${n} elements need ${n * elementBytes} bytes, over the 4 GiB a WebAssembly memory holds; use a smaller batch or smaller input dims`, { neededBytes: n * elementBytes, limitBytes: WASM32_BYTES });
  }
  return n;
}

/** Checks a byte count computed from dims (scratch, tables) the same way. */
export function checkBytes(bytes: number, where: string): number {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new ShapeError(`${where} needs ${bytes} bytes, which is not a byte count; the model's shapes are inconsistent`);
  if (bytes > WASM32_BYTES) throw new OutOfMemoryError(`${where} needs ${bytes} bytes, over the 4 GiB a WebAssembly memory holds; use a smaller batch or smaller input dims`, { neededBytes: bytes, limitBytes: WASM32_BYTES });
  return bytes;
}
