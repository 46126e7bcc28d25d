// Checks shared by the gradient wrappers (on top of src/kernels/check.ts): everything is checked on
// the host before a pointer reaches wasm, so a wrong size never lets a kernel touch memory outside
// a buffer.
import { ArgumentError, ShapeError } from '../../errors.js';
import type { Kernels } from '../../wasm/kernels.js';

/** Throws unless `p` lies in a live kernel block with at least `n` bytes from p on (any alignment). */
export function requireBytes(k: Kernels, p: number, n: number, what: string): void {
  const size = k.heap.bytesFrom(p);
  if (size === undefined) throw new ShapeError(`${what}: pointer ${p} is not a live kernel buffer (nor inside one)`);
  if (size < n) throw new ShapeError(`${what}: buffer holds ${size} bytes but ${n} are needed`);
}

/** A non-negative integer count (rows, elements, classes...). */
export function checkCount(v: number, what: string, min = 0): void {
  if (!Number.isInteger(v) || v < min) throw new ShapeError(`${what} must be an integer >= ${min}, got ${v}`);
}

/** A finite number within [lo, hi] (inclusive unless open is set). */
export function checkRange(v: number, what: string, lo: number, hi: number, open: { lo?: boolean; hi?: boolean } = {}): void {
  const okLo = open.lo ? v > lo : v >= lo;
  const okHi = open.hi ? v < hi : v <= hi;
  if (typeof v !== 'number' || !Number.isFinite(v) || !okLo || !okHi) {
    throw new ArgumentError(`${what} must be a number in ${open.lo ? '(' : '['}${lo}, ${hi}${open.hi ? ')' : ']'}, got ${v}`);
  }
}

/** Optional pointer: undefined / 0 mean none. */
export function has(p: number | undefined): p is number {
  return p !== undefined && p !== 0;
}
