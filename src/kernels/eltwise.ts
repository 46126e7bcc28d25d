// Host side of the broadcasting binary kernels (assembly/eltwise.ts): shape rules, the collapse of
// a broadcast into at most 4 strided dims, and the calls to eltwise_binary4.
import { ArgumentError, ShapeError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { checkData, checkDims, fmt, sizeOf } from './check.js';

/**
 * Comparisons and logic give booleans as 0 / 1 floats; 'select' is y = a != 0 ? b : y (Where's
 * second step, over a y that holds the other values).
 */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min' | 'pow' | 'prelu'
  | 'greater' | 'less' | 'equal' | 'greaterOrEqual' | 'lessOrEqual' | 'and' | 'or' | 'xor' | 'select';

/** Op codes of eltwise_binary4 (assembly/eltwise.ts). */
export const BINARY_OPS: Readonly<Record<BinaryOp, number>> = {
  add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, pow: 6, prelu: 7,
  greater: 8, less: 9, equal: 10, greaterOrEqual: 11, lessOrEqual: 12, and: 13, or: 14, xor: 15, select: 16,
};

export function binaryCode(op: BinaryOp): number {
  if (!globalThis.EDGEPRUNE_RUNTIME && (typeof op !== 'string' || !Object.prototype.hasOwnProperty.call(BINARY_OPS, op))) {
    throw new ArgumentError(`unknown binary op ${JSON.stringify(op)}; use one of ${Object.keys(BINARY_OPS).join(', ')}`);
  }
  return BINARY_OPS[op];
}

/** numpy broadcasting: dims align on the right; each pair is equal or one of them is 1. */
export function broadcastShape(aDims: readonly number[], bDims: readonly number[]): number[] {
  if (!globalThis.EDGEPRUNE_RUNTIME) {
    // the runtime's dims are checked (runtime/specialize.ts)
    checkDims(aDims, 'broadcast: first shape');
    checkDims(bDims, 'broadcast: second shape');
  }
  const rank = Math.max(aDims.length, bDims.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = aDims[aDims.length - rank + i] ?? 1;
    const db = bDims[bDims.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `shapes ${fmt(aDims)} and ${fmt(bDims)} do not broadcast: axis ${i - rank} has ${da} vs ${db}; ` +
          'aligned from the right, each pair of sizes must be equal or one of them 1 (reshape or expand an input)',
      );
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** A broadcast collapsed to the fewest dims: output dims and each input's element strides (0 = broadcast). */
export interface BroadcastPlan {
  out: number[];
  dims: number[];
  aStrides: number[];
  bStrides: number[];
}

function contiguousStrides(dims: readonly number[], rank: number): number[] {
  const padded = [...new Array<number>(rank - dims.length).fill(1), ...dims];
  const s = new Array<number>(rank).fill(0);
  let acc = 1;
  for (let i = rank - 1; i >= 0; i--) {
    s[i] = padded[i] === 1 ? 0 : acc;
    acc *= padded[i];
  }
  return s;
}

/**
 * Drops size-1 output dims and merges neighbours that both inputs walk the same way (both
 * contiguous across them, or both broadcasting). The result has at least 4 dims (leading 1s).
 */
export function planBroadcast(aDims: readonly number[], bDims: readonly number[]): BroadcastPlan {
  const out = broadcastShape(aDims, bDims);
  const rank = out.length;
  const as = contiguousStrides(aDims, rank);
  const bs = contiguousStrides(bDims, rank);
  const dims: number[] = [];
  const aStrides: number[] = [];
  const bStrides: number[] = [];
  for (let i = rank - 1; i >= 0; i--) {
    if (out[i] === 1) continue;
    const j = dims.length - 1; // innermost kept dim is at the front (built backwards)
    if (j >= 0 && as[i] === aStrides[0] * dims[0] && bs[i] === bStrides[0] * dims[0]) {
      dims[0] *= out[i];
      continue;
    }
    dims.unshift(out[i]);
    aStrides.unshift(as[i]);
    bStrides.unshift(bs[i]);
  }
  while (dims.length < 4) {
    dims.unshift(1);
    aStrides.unshift(0);
    bStrides.unshift(0);
  }
  return { out, dims, aStrides, bStrides };
}

/**
 * y = op(a, b) with broadcasting, planned once for these dims: the returned run(a, b, y) only calls
 * the kernel (the runtime's executors, whose buffers the planner sized and placed).
 */
export function binaryPrepared(k: Kernels, op: BinaryOp, aDims: readonly number[], bDims: readonly number[]): (a: number, b: number, y: number) => void {
  const code = binaryCode(op);
  const plan = planBroadcast(aDims, bDims);
  const { dims, aStrides: as, bStrides: bs } = plan;
  const fn = k.fn.eltwise_binary4;
  if (sizeOf(plan.out) === 0) return () => {};
  if (dims.length === 4) return (a, b, y) => void fn(code, a, b, y, dims[0], dims[1], dims[2], dims[3], as[0], as[1], as[2], as[3], bs[0], bs[1], bs[2], bs[3]);
  return (a, b, y) => void binaryRun(k, op, a, aDims, b, bDims, y);
}

/**
 * y = a (op) b with numpy broadcasting, on kernel buffers holding sizeOf(aDims), sizeOf(bDims) and
 * sizeOf(output) floats. y may be a or b when that input has the output's shape. Returns the output dims.
 */
export function binaryRun(k: Kernels, op: BinaryOp, a: number, aDims: readonly number[], b: number, bDims: readonly number[], y: number): number[] {
  const code = binaryCode(op);
  const plan = planBroadcast(aDims, bDims);
  const n = sizeOf(plan.out);
  // the runtime's planner writes over an input only when it is not broadcast (inPlaceInput)
  if (!globalThis.EDGEPRUNE_RUNTIME && ((y === a && sizeOf(aDims) !== n) || (y === b && sizeOf(bDims) !== n))) {
    throw new ArgumentError(`${op}: the output buffer is an input that is broadcast (${fmt(y === a ? aDims : bDims)} to ${fmt(plan.out)}); write to a separate buffer`);
  }
  if (!globalThis.EDGEPRUNE_RUNTIME) {
    k.requireFloats(a, sizeOf(aDims), `${op} input A ${fmt(aDims)}`);
    k.requireFloats(b, sizeOf(bDims), `${op} input B ${fmt(bDims)}`);
    k.requireFloats(y, n, `${op} output ${fmt(plan.out)}`);
  }
  if (n === 0) return plan.out;
  const { dims, aStrides: as, bStrides: bs } = plan;
  const lead = dims.length - 4;
  const fn = k.fn.eltwise_binary4;
  if (lead === 0) {
    fn(code, a, b, y, dims[0], dims[1], dims[2], dims[3], as[0], as[1], as[2], as[3], bs[0], bs[1], bs[2], bs[3]);
    return plan.out;
  }
  // more than 4 uncollapsible dims (alternating broadcasts): loop over the leading ones here
  const inner = dims.slice(lead);
  const box = sizeOf(inner);
  const idx = new Array<number>(lead).fill(0);
  const count = sizeOf(dims.slice(0, lead));
  for (let t = 0; t < count; t++) {
    let oa = 0;
    let ob = 0;
    for (let i = 0; i < lead; i++) {
      oa += idx[i] * as[i];
      ob += idx[i] * bs[i];
    }
    fn(code, a + oa * 4, b + ob * 4, y + t * box * 4, inner[0], inner[1], inner[2], inner[3],
      as[lead], as[lead + 1], as[lead + 2], as[lead + 3], bs[lead], bs[lead + 1], bs[lead + 2], bs[lead + 3]);
    for (let i = lead - 1; i >= 0; i--) {
      if (++idx[i] < dims[i]) break;
      idx[i] = 0;
    }
  }
  return plan.out;
}

/** One-shot y = a (op) b on host arrays with numpy broadcasting (tests, scripts). */
export function binary(k: Kernels, op: BinaryOp, A: Float32Array, aDims: readonly number[], B: Float32Array, bDims: readonly number[]): { data: Float32Array; dims: number[] } {
  binaryCode(op);
  checkDims(aDims, `${op} input A`);
  checkDims(bDims, `${op} input B`);
  checkData(A, aDims, `${op} input A`);
  checkData(B, bDims, `${op} input B`);
  const out = broadcastShape(aDims, bDims);
  const n = sizeOf(out);
  const a = k.upload(A);
  const b = k.upload(B);
  const y = k.allocF32(n);
  try {
    const dims = binaryRun(k, op, a, aDims, b, bDims, y);
    return { data: k.download(y, n), dims };
  } finally {
    k.free(a, b, y);
  }
}
