// Host evaluators for constant folding: small, exact implementations of the ONNX operators that
// shape computations are made of (opsets 9-17). They run on constants only (shape vectors, small
// index tensors, the odd weight transform); bulk float work belongs to the wasm kernels.
//
// An evaluator either returns the node's outputs, throws NotFoldable (the node is valid but is
// left to the runtime: result too large, behaviour the spec leaves undefined, a dtype we do not
// compute), or throws ModelFormatError (the node is malformed: wrong input count, bad axis, ...).
import { ModelFormatError } from '../../errors.js';
import { attrFloat, attrFloats, attrInt, attrInts, attrString, attrTensor } from '../attrs.js';
import type { ConstTensor, DType, Node, TensorArray } from '../ir.js';
import { allocArray, DTYPE_OF_ONNX_CODE, dtypeBytes, numel, toFloat32, toNumbers } from '../tensor.js';
import { channelOf, dequantizeValue, linearQuant, QUANT_RANGES, quantizeValue, type LinearQuant } from '../quantize-linear.js';
import { sliceRange } from '../slice.js';
import { checkDims } from '../size-check.js';

/** Results larger than this stay with the runtime: folding must not bloat the model. */
export const MAX_FOLD_ELEMENTS = 1_000_000;

/** The node is fine but the host does not evaluate it; the pass keeps it. */
export class NotFoldable extends Error {}

export type Inputs = (ConstTensor | undefined)[];
/** inputs[i] is undefined exactly when node.inputs[i] is omitted ('' or absent). */
export type Evaluator = (node: Node, inputs: Inputs, opset: number) => ConstTensor[];

type Scalar = number | bigint;
/** Typed arrays seen as plain cells: copies between arrays of the same dtype need no conversion. */
type Cells = { [i: number]: Scalar; readonly length: number };
const cells = (a: TensorArray): Cells => a as unknown as Cells;

// ---------------------------------------------------------------------------------------------
// helpers

function bad(node: Node, msg: string): never {
  throw new ModelFormatError(`node '${node.name}' (${node.op}): ${msg}`);
}

const isBig = (d: DType) => d === 'int64' || d === 'uint64';
const isFloat = (d: DType) => d === 'float32' || d === 'float64' || d === 'float16';
const isInt = (d: DType) => !isFloat(d) && d !== 'bool' && d !== 'string';

/**
 * Checks a result's dims before anything of that size is built: dims no tensor can have throw a
 * typed error naming the node; a result above the folding cap is left to the runtime.
 */
function fits(node: Node, dims: readonly number[]): number {
  const n = checkDims(dims, `node '${node.name}' (${node.op}) result`);
  if (n > MAX_FOLD_ELEMENTS) throw new NotFoldable(`result has ${n} elements`);
  return n;
}

/** Bytes the current fold may still allocate (fold-constants.ts sets it from its budget). */
let allocLimit = Infinity;

/** Runs `fn` with results above `bytes` refused (NotFoldable) before they are allocated. */
export function withAllocLimit<T>(bytes: number, fn: () => T): T {
  const saved = allocLimit;
  allocLimit = bytes;
  try {
    return fn();
  } finally {
    allocLimit = saved;
  }
}

/** A zeroed tensor; refuses (NotFoldable) anything above the folding cap, over the allocation limit, or of an unsupported dtype. */
function alloc(node: Node, dtype: DType, dims: number[]): ConstTensor {
  const n = fits(node, dims);
  if (dtype === 'string') throw new NotFoldable('string tensors are not folded');
  const bytes = n * dtypeBytes(dtype);
  if (bytes > allocLimit) throw new NotFoldable(`result of ${bytes} bytes is over the folding budget`);
  return { dtype, dims, data: allocArray(dtype, n) };
}

/** Rounds to the nearest float16 (ties to even): float16 lives widened in Float32Array. */
export function f16round(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  if (a >= 65520) return x > 0 ? Infinity : -Infinity;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  if (e < -14) e = -14; // subnormals share the quantum 2^-24
  const q = 2 ** (e - 10);
  const r = a / q;
  const f = Math.floor(r);
  const d = r - f;
  const n = d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  return Math.sign(x) * n * q;
}

/** float16 results are computed in float32/64 and rounded once here (one rounding, as on hardware). */
function finish(t: ConstTensor): ConstTensor {
  if (t.dtype === 'float16') {
    const d = t.data as Float32Array;
    for (let i = 0; i < d.length; i++) d[i] = f16round(d[i]);
  }
  return t;
}

/** Input i, which the node must supply. */
function req(node: Node, inputs: Inputs, i: number, what: string): ConstTensor {
  const t = inputs[i];
  if (!t) bad(node, `input ${i} (${what}) is missing`);
  return t;
}

/** Checks the number of inputs given (trailing omitted ones do not count). */
function arity(node: Node, min: number, max: number): void {
  let n = node.inputs.length;
  while (n > 0 && node.inputs[n - 1] === '') n--;
  if (n < min || n > max) bad(node, `has ${n} inputs, expected ${min === max ? min : `${min} to ${max}`}`);
}

function sameDtype(node: Node, ts: ConstTensor[]): DType {
  const d = ts[0].dtype;
  for (const t of ts) if (t.dtype !== d) bad(node, `inputs have different types (${d} and ${t.dtype})`);
  return d;
}

/** An axis in [-rank, rank-1] made non-negative. */
function axisOf(node: Node, axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) bad(node, `${what} ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

/** A 1-D (or scalar) integer tensor as numbers (INT64 max/min clamped to +-2^53). */
function intList(node: Node, t: ConstTensor, what: string): number[] {
  if (!isInt(t.dtype)) bad(node, `${what} must be an integer tensor, got ${t.dtype}`);
  if (t.dims.length > 1) bad(node, `${what} must be 1-D, got dims [${t.dims}]`);
  return toNumbers(t);
}

function scalarOf(node: Node, t: ConstTensor, what: string): Scalar {
  if (t.data.length !== 1) bad(node, `${what} must have one element, has ${t.data.length}`);
  return t.data[0];
}

function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let k = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = k;
    k *= dims[i];
  }
  return s;
}

/** For each output element (row-major over outDims), base + sum(coord[a] * strides[a]). */
function linearMap(outDims: readonly number[], strides: readonly number[], base = 0): Int32Array {
  const n = numel(outDims);
  const map = new Int32Array(n);
  const r = outDims.length;
  const c = new Array<number>(r).fill(0);
  let idx = base;
  for (let i = 0; i < n; i++) {
    map[i] = idx;
    for (let a = r - 1; a >= 0; a--) {
      c[a]++;
      idx += strides[a];
      if (c[a] < outDims[a]) break;
      idx -= strides[a] * c[a];
      c[a] = 0;
    }
  }
  return map;
}

/** numpy broadcasting of several shapes. */
function broadcastDims(node: Node, shapes: readonly (readonly number[])[]): number[] {
  const r = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    let d = 1;
    for (const s of shapes) {
      const k = s.length - r + i;
      if (k < 0 || s[k] === 1) continue;
      if (d === 1) d = s[k];
      else if (d !== s[k]) bad(node, `shapes ${shapes.map((x) => `[${x}]`).join(', ')} cannot be broadcast together`);
    }
    out.push(d);
  }
  return out;
}

/** Flat index into a tensor of dims `inDims` for each element of the broadcast output. */
function broadcastMap(outDims: readonly number[], inDims: readonly number[]): Int32Array {
  const off = outDims.length - inDims.length;
  const st = new Array<number>(outDims.length).fill(0);
  const s = stridesOf(inDims);
  for (let i = 0; i < inDims.length; i++) st[i + off] = inDims[i] === 1 ? 0 : s[i];
  return linearMap(outDims, st);
}

function gatherInto(node: Node, t: ConstTensor, dims: number[], map: Int32Array): ConstTensor {
  const out = alloc(node, t.dtype, dims);
  const o = cells(out.data);
  const src = cells(t.data);
  for (let i = 0; i < map.length; i++) o[i] = src[map[i]];
  return out;
}

/** Axes from the attribute (older opsets) or from an input (newer ones), whichever the node uses. */
function axesArg(node: Node, inputs: Inputs, inputIndex: number, inputFromOpset: number, opset: number): number[] | undefined {
  if (opset >= inputFromOpset || inputs[inputIndex]) {
    const t = inputs[inputIndex];
    return t ? intList(node, t, 'axes') : undefined;
  }
  return attrInts(node, 'axes');
}

// ---------------------------------------------------------------------------------------------
// elementwise

type NumFn = (a: number, b: number) => number;
type BigFn = (a: bigint, b: bigint) => bigint;

interface BinaryDef {
  /** float math (the Float32Array store rounds once, as float32 hardware does) */
  float: NumFn;
  /** integer math on int8..uint32 (store wraps like C) */
  int: NumFn;
  /** int64 / uint64 */
  big: BigFn;
}

const is32 = (d: DType) => d === 'int32' || d === 'uint32';

function arith(def: BinaryDef): Evaluator {
  return (node, inputs) => {
    arity(node, 2, 2);
    const a = req(node, inputs, 0, 'A');
    const b = req(node, inputs, 1, 'B');
    const dtype = sameDtype(node, [a, b]);
    if (dtype === 'bool' || dtype === 'string') throw new NotFoldable(`${node.op} on ${dtype}`);
    const dims = broadcastDims(node, [a.dims, b.dims]);
    const out = alloc(node, dtype, dims);
    const ma = broadcastMap(dims, a.dims);
    const mb = broadcastMap(dims, b.dims);
    const o = cells(out.data);
    const A = cells(a.data);
    const B = cells(b.data);
    const fn = isBig(dtype) ? (def.big as unknown as NumFn) : isFloat(dtype) ? def.float : def.int;
    for (let i = 0; i < o.length; i++) o[i] = fn(A[ma[i]] as number, B[mb[i]] as number);
    return [finish(out)];
  };
}

function intDivZero(): never {
  // integer division by zero is undefined behaviour in ONNX: let the runtime decide
  throw new NotFoldable('integer division by zero');
}

const add = arith({ float: (a, b) => a + b, int: (a, b) => a + b, big: (a, b) => a + b });
const sub = arith({ float: (a, b) => a - b, int: (a, b) => a - b, big: (a, b) => a - b });
const mul = arith({ float: (a, b) => a * b, int: (a, b) => a * b, big: (a, b) => a * b });
// 32-bit products can exceed 2^53: Math.imul wraps exactly like C
const mul32 = arith({ float: (a, b) => a * b, int: (a, b) => Math.imul(a, b), big: (a, b) => a * b });
const div = arith({
  float: (a, b) => a / b,
  int: (a, b) => (b === 0 ? intDivZero() : Math.trunc(a / b)), // C truncation toward zero
  big: (a, b) => (b === 0n ? intDivZero() : a / b), // BigInt division truncates toward zero too
});

// Mod: fmod = 0 takes the divisor's sign (Python's %), fmod = 1 the dividend's (C's fmod, JS's %)
const floorMod = (a: number, b: number): number => {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
};
const modFloor = arith({
  float: floorMod,
  int: (a, b) => (b === 0 ? intDivZero() : floorMod(a, b)),
  big: (a, b) => {
    if (b === 0n) intDivZero();
    const r = a % b;
    return r !== 0n && r < 0n !== b < 0n ? r + b : r;
  },
});
const modTrunc = arith({ float: (a, b) => a % b, int: (a, b) => (b === 0 ? intDivZero() : a % b), big: (a, b) => (b === 0n ? intDivZero() : a % b) });

function compare(fn: (a: Scalar, b: Scalar) => boolean): Evaluator {
  return (node, inputs) => {
    arity(node, 2, 2);
    const a = req(node, inputs, 0, 'A');
    const b = req(node, inputs, 1, 'B');
    sameDtype(node, [a, b]);
    const dims = broadcastDims(node, [a.dims, b.dims]);
    const out = alloc(node, 'bool', dims);
    const ma = broadcastMap(dims, a.dims);
    const mb = broadcastMap(dims, b.dims);
    const o = out.data as Uint8Array;
    for (let i = 0; i < o.length; i++) o[i] = fn(a.data[ma[i]], b.data[mb[i]]) ? 1 : 0;
    return [out];
  };
}

/** Min / Max: variadic with broadcasting; NaN propagates (numpy's minimum / maximum). */
function minMax(pickFirst: (a: Scalar, b: Scalar) => boolean): Evaluator {
  return (node, inputs) => {
    if (node.inputs.length < 1) bad(node, 'needs at least one input');
    const ts = node.inputs.map((_, i) => req(node, inputs, i, `data_${i}`));
    const dtype = sameDtype(node, ts);
    if (dtype === 'bool' || dtype === 'string') throw new NotFoldable(`${node.op} on ${dtype}`);
    const dims = broadcastDims(node, ts.map((t) => t.dims));
    const out = alloc(node, dtype, dims);
    const o = cells(out.data);
    const maps = ts.map((t) => broadcastMap(dims, t.dims));
    for (let i = 0; i < o.length; i++) {
      let v = ts[0].data[maps[0][i]];
      for (let k = 1; k < ts.length; k++) {
        const w = ts[k].data[maps[k][i]];
        if (typeof v === 'number' && Number.isNaN(v)) break;
        if ((typeof w === 'number' && Number.isNaN(w)) || !pickFirst(v, w)) v = w;
      }
      o[i] = v;
    }
    return [finish(out)];
  };
}

function unary(allowed: (d: DType) => boolean, fn: (a: number) => number, big?: (a: bigint) => bigint): Evaluator {
  return (node, inputs) => {
    arity(node, 1, 1);
    const x = req(node, inputs, 0, 'X');
    if (!allowed(x.dtype)) throw new NotFoldable(`${node.op} on ${x.dtype}`);
    const out = alloc(node, x.dtype, [...x.dims]);
    const o = cells(out.data);
    const X = cells(x.data);
    if (isBig(x.dtype)) {
      if (!big) throw new NotFoldable(`${node.op} on ${x.dtype}`);
      for (let i = 0; i < o.length; i++) o[i] = big(X[i] as bigint);
    } else for (let i = 0; i < o.length; i++) o[i] = fn(X[i] as number);
    return [finish(out)];
  };
}

const anyNumeric = (d: DType) => d !== 'bool' && d !== 'string';

const where: Evaluator = (node, inputs) => {
  arity(node, 3, 3);
  const c = req(node, inputs, 0, 'condition');
  const x = req(node, inputs, 1, 'X');
  const y = req(node, inputs, 2, 'Y');
  if (c.dtype !== 'bool') bad(node, `condition must be bool, got ${c.dtype}`);
  const dtype = sameDtype(node, [x, y]);
  const dims = broadcastDims(node, [c.dims, x.dims, y.dims]);
  const out = alloc(node, dtype, dims);
  const [mc, mx, my] = [c, x, y].map((t) => broadcastMap(dims, t.dims));
  const o = cells(out.data);
  for (let i = 0; i < o.length; i++) o[i] = c.data[mc[i]] ? x.data[mx[i]] : y.data[my[i]];
  return [out];
};

/** Clip: min/max are attributes before opset 11, optional inputs from 11. */
const clip: Evaluator = (node, inputs, opset) => {
  const x = req(node, inputs, 0, 'input');
  if (!anyNumeric(x.dtype)) throw new NotFoldable(`Clip on ${x.dtype}`);
  let lo: Scalar;
  let hi: Scalar;
  if (opset < 11) {
    arity(node, 1, 1);
    lo = attrFloat(node, 'min', -Infinity);
    hi = attrFloat(node, 'max', Infinity);
  } else {
    arity(node, 1, 3);
    const big = isBig(x.dtype);
    const l = inputs[1];
    const h = inputs[2];
    if ((l && l.dtype !== x.dtype) || (h && h.dtype !== x.dtype)) bad(node, 'min and max must have the type of the input');
    lo = l ? scalarOf(node, l, 'min') : big ? -(2n ** 63n) : -Infinity;
    hi = h ? scalarOf(node, h, 'max') : big ? 2n ** 64n : Infinity;
  }
  const out = alloc(node, x.dtype, [...x.dims]);
  const o = cells(out.data);
  for (let i = 0; i < o.length; i++) {
    const v = x.data[i];
    o[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return [finish(out)];
};

// ---------------------------------------------------------------------------------------------
// Cast


/** [min, max + 1) of each integer dtype (the upper bound exclusive: 2^63 - 1 is not a double). */
const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  int8: [-128, 128], uint8: [0, 256], int16: [-32768, 32768], uint16: [0, 65536],
  int32: [-(2 ** 31), 2 ** 31], uint32: [0, 2 ** 32], int64: [-(2 ** 63), 2 ** 63], uint64: [0, 2 ** 64],
};

const cast: Evaluator = (node, inputs) => {
  arity(node, 1, 1);
  const x = req(node, inputs, 0, 'input');
  const code = attrInt(node, 'to');
  if (code === undefined) bad(node, "attribute 'to' is missing");
  const to = DTYPE_OF_ONNX_CODE[code];
  if (!to) throw new NotFoldable(`Cast to type code ${code}`);
  if (to === 'string' || x.dtype === 'string') throw new NotFoldable('Cast with strings');
  const out = alloc(node, to, [...x.dims]);
  const o = cells(out.data);
  const fromFloat = isFloat(x.dtype);
  for (let i = 0; i < o.length; i++) {
    const v = x.data[i];
    if (to === 'bool') o[i] = v !== 0 && v !== 0n ? 1 : 0;
    else if (isFloat(to)) o[i] = Number(v);
    else if (fromFloat) {
      // float -> int truncates toward zero; NaN, inf and out-of-range values are undefined
      // behaviour in C (and differ between runtimes), so such casts are left to the runtime
      const t = Math.trunc(v as number);
      const [lo, hi] = INT_RANGE[to]!;
      if (!(t >= lo && t < hi)) throw new NotFoldable(`Cast of ${v} to ${to}`);
      o[i] = isBig(to) ? BigInt(t) : t;
    } else if (isBig(to)) o[i] = typeof v === 'bigint' ? v : BigInt(v); // the 64-bit store wraps
    else o[i] = typeof v === 'bigint' ? Number(BigInt.asIntN(32, v)) : v; // narrower stores wrap
  }
  return [finish(out)];
};

// ---------------------------------------------------------------------------------------------
// shape and data movement

const identity: Evaluator = (node, inputs) => {
  arity(node, 1, 1);
  const x = req(node, inputs, 0, 'input');
  return [x];
};

const constant: Evaluator = (node) => {
  arity(node, 0, 0);
  const t = attrTensor(node, 'value');
  if (t) return [t];
  if (node.attrs.value_float) return [{ dtype: 'float32', dims: [], data: Float32Array.of(attrFloat(node, 'value_float', 0)) }];
  const fs = attrFloats(node, 'value_floats');
  if (fs) return [{ dtype: 'float32', dims: [fs.length], data: Float32Array.from(fs) }];
  if (node.attrs.value_int) return [{ dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(attrInt(node, 'value_int', 0))) }];
  const ints = attrInts(node, 'value_ints');
  if (ints) return [{ dtype: 'int64', dims: [ints.length], data: BigInt64Array.from(ints.map((v) => BigInt(v))) }];
  throw new NotFoldable('Constant without a numeric value (sparse or string)');
};

/** A new tensor sharing the data (constants are never mutated). */
const reshaped = (t: ConstTensor, dims: number[]): ConstTensor => ({ dtype: t.dtype, dims, data: t.data });

const reshape: Evaluator = (node, inputs) => {
  arity(node, 2, 2);
  const x = req(node, inputs, 0, 'data');
  const shape = intList(node, req(node, inputs, 1, 'shape'), 'shape');
  const allowzero = attrInt(node, 'allowzero', 0) !== 0;
  let infer = -1;
  const dims = shape.map((d, i) => {
    if (d === 0 && !allowzero) {
      if (i >= x.dims.length) bad(node, `shape [${shape}] copies dim ${i} (0) but the input has rank ${x.dims.length}`);
      return x.dims[i];
    }
    if (d === -1) {
      if (infer >= 0) bad(node, `shape [${shape}] has more than one -1`);
      infer = i;
      return 1;
    }
    if (d < 0) bad(node, `shape [${shape}] has a negative dim ${d}`);
    return d;
  });
  const n = numel(x.dims);
  const known = numel(dims);
  if (infer >= 0) {
    if (known === 0 || n % known !== 0) bad(node, `cannot reshape [${x.dims}] to [${shape}]`);
    dims[infer] = n / known;
  } else if (known !== n) bad(node, `cannot reshape [${x.dims}] (${n} elements) to [${shape}] (${known} elements)`);
  return [reshaped(x, dims)];
};

const flatten: Evaluator = (node, inputs) => {
  arity(node, 1, 1);
  const x = req(node, inputs, 0, 'input');
  const r = x.dims.length;
  let axis = attrInt(node, 'axis', 1);
  // axis may equal rank (everything in the first factor)
  if (axis < -r || axis > r) bad(node, `axis ${axis} is out of range for rank ${r}`);
  if (axis < 0) axis += r;
  return [reshaped(x, [numel(x.dims.slice(0, axis)), numel(x.dims.slice(axis))])];
};

/** Squeeze: axes attribute before opset 13, optional input from 13; no axes = every 1-dim. */
const squeeze: Evaluator = (node, inputs, opset) => {
  arity(node, 1, opset >= 13 ? 2 : 1);
  const x = req(node, inputs, 0, 'data');
  const r = x.dims.length;
  const given = axesArg(node, inputs, 1, 13, opset);
  const axes = given ? given.map((a) => axisOf(node, a, r)) : x.dims.flatMap((d, i) => (d === 1 ? [i] : []));
  for (const a of axes) if (x.dims[a] !== 1) bad(node, `cannot squeeze axis ${a} of dims [${x.dims}]: its size is not 1`);
  return [reshaped(x, x.dims.filter((_, i) => !axes.includes(i)))];
};

/** Unsqueeze: axes attribute before opset 13, required input from 13; axes index the output. */
const unsqueeze: Evaluator = (node, inputs, opset) => {
  arity(node, 1, opset >= 13 ? 2 : 1);
  const x = req(node, inputs, 0, 'data');
  const given = axesArg(node, inputs, 1, 13, opset);
  if (!given) bad(node, 'axes are missing');
  const r = x.dims.length + given.length;
  const axes = given.map((a) => axisOf(node, a, r));
  if (new Set(axes).size !== axes.length) bad(node, `axes [${given}] repeat an axis`);
  const dims: number[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) dims.push(axes.includes(i) ? 1 : x.dims[k++]);
  return [reshaped(x, dims)];
};

const concat: Evaluator = (node, inputs) => {
  if (node.inputs.length < 1) bad(node, 'needs at least one input');
  const ts = node.inputs.map((_, i) => req(node, inputs, i, `inputs_${i}`));
  const dtype = sameDtype(node, ts);
  const r = ts[0].dims.length;
  const a0 = attrInt(node, 'axis');
  if (a0 === undefined) bad(node, "attribute 'axis' is missing");
  const axis = axisOf(node, a0, r);
  for (const t of ts) {
    if (t.dims.length !== r || t.dims.some((d, i) => i !== axis && d !== ts[0].dims[i])) {
      bad(node, `inputs [${ts.map((x) => `[${x.dims}]`).join(', ')}] differ outside axis ${axis}`);
    }
  }
  const dims = [...ts[0].dims];
  dims[axis] = ts.reduce((s, t) => s + t.dims[axis], 0);
  const out = alloc(node, dtype, dims);
  const outer = numel(dims.slice(0, axis));
  const inner = numel(dims.slice(axis + 1));
  const o = cells(out.data);
  let p = 0;
  for (let i = 0; i < outer; i++) {
    for (const t of ts) {
      const n = t.dims[axis] * inner;
      const src = cells(t.data);
      for (let j = 0; j < n; j++) o[p++] = src[i * n + j];
    }
  }
  return [out];
};

/** Split: `split` attribute before opset 13, optional input from 13; default equal parts. */
const split: Evaluator = (node, inputs, opset) => {
  arity(node, 1, opset >= 13 ? 2 : 1);
  const x = req(node, inputs, 0, 'input');
  const axis = axisOf(node, attrInt(node, 'axis', 0), x.dims.length);
  const d = x.dims[axis];
  const k = node.outputs.length;
  let sizes = opset >= 13 || inputs[1] ? (inputs[1] ? intList(node, inputs[1], 'split') : undefined) : attrInts(node, 'split');
  if (!sizes) {
    // before opset 18 the parts must be equal; opset 18's num_outputs lets the last be smaller
    const parts = attrInt(node, 'num_outputs');
    if (parts !== undefined && parts !== k) bad(node, `num_outputs is ${parts} but the node has ${k} outputs`);
    if (parts === undefined && d % k !== 0) bad(node, `cannot split dim ${d} into ${k} equal parts`);
    const n = parts ?? k;
    const size = Math.ceil(d / n);
    sizes = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(size, d - i * size)));
  }
  if (sizes.length !== k) bad(node, `split has ${sizes.length} parts but the node has ${k} outputs`);
  if (sizes.some((s) => s < 0) || sizes.reduce((a, b) => a + b, 0) !== d) bad(node, `split [${sizes}] does not add up to dim ${d} of axis ${axis}`);
  const outer = numel(x.dims.slice(0, axis));
  const inner = numel(x.dims.slice(axis + 1));
  const src = cells(x.data);
  let start = 0;
  return sizes.map((s) => {
    const dims = [...x.dims];
    dims[axis] = s;
    const out = alloc(node, x.dtype, dims);
    const o = cells(out.data);
    let p = 0;
    for (let i = 0; i < outer; i++) for (let j = 0; j < s * inner; j++) o[p++] = src[(i * d + start) * inner + j];
    start += s;
    return out;
  });
};

const transpose: Evaluator = (node, inputs) => {
  arity(node, 1, 1);
  const x = req(node, inputs, 0, 'data');
  const r = x.dims.length;
  const perm = attrInts(node, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  const seen = new Set<number>();
  for (const p of perm) seen.add(p);
  if (perm.length !== r || seen.size !== r || perm.some((p) => p < 0 || p >= r)) bad(node, `perm [${perm}] is not a permutation of 0..${r - 1}`);
  const st = stridesOf(x.dims);
  const dims = perm.map((p) => x.dims[p]);
  return [gatherInto(node, x, dims, linearMap(dims, perm.map((p) => st[p])))];
};

/** Slice: starts/ends/axes attributes before opset 10; from 10 inputs with optional axes and steps. */
const slice: Evaluator = (node, inputs, opset) => {
  let x: ConstTensor;
  let starts: number[];
  let ends: number[];
  let axesIn: number[] | undefined;
  let steps: number[] | undefined;
  if (opset < 10) {
    arity(node, 1, 1);
    x = req(node, inputs, 0, 'data');
    starts = attrInts(node, 'starts') ?? bad(node, "attribute 'starts' is missing");
    ends = attrInts(node, 'ends') ?? bad(node, "attribute 'ends' is missing");
    axesIn = attrInts(node, 'axes');
  } else {
    arity(node, 3, 5);
    x = req(node, inputs, 0, 'data');
    starts = intList(node, req(node, inputs, 1, 'starts'), 'starts');
    ends = intList(node, req(node, inputs, 2, 'ends'), 'ends');
    axesIn = inputs[3] ? intList(node, inputs[3], 'axes') : undefined;
    steps = inputs[4] ? intList(node, inputs[4], 'steps') : undefined;
  }
  const r = x.dims.length;
  const axes = (axesIn ?? starts.map((_, i) => i)).map((a) => axisOf(node, a, r));
  if (ends.length !== starts.length || axes.length !== starts.length || (steps && steps.length !== starts.length)) {
    bad(node, `starts, ends, axes and steps must have the same length`);
  }
  if (new Set(axes).size !== axes.length) bad(node, `axes [${axes}] repeat an axis`);
  const st = stridesOf(x.dims);
  const dims = [...x.dims];
  const strides = [...st];
  let base = 0;
  axes.forEach((a, i) => {
    const d = x.dims[a];
    const step = steps ? steps[i] : 1;
    if (step === 0) bad(node, 'a step is 0');
    const { start: s, count } = sliceRange(starts[i], ends[i], step, d);
    dims[a] = count;
    strides[a] = st[a] * step;
    base += dims[a] > 0 ? s * st[a] : 0;
  });
  return [gatherInto(node, x, dims, linearMap(dims, strides, base))];
};

const gather: Evaluator = (node, inputs) => {
  arity(node, 2, 2);
  const x = req(node, inputs, 0, 'data');
  const idx = req(node, inputs, 1, 'indices');
  if (!isInt(idx.dtype)) bad(node, `indices must be integers, got ${idx.dtype}`);
  const r = x.dims.length;
  if (r === 0) bad(node, 'data must have rank >= 1');
  const axis = axisOf(node, attrInt(node, 'axis', 0), r);
  const d = x.dims[axis];
  const ids = toNumbers(idx).map((v) => {
    if (v < -d || v >= d) bad(node, `index ${v} is out of range for dim ${d} of axis ${axis}`);
    return v < 0 ? v + d : v;
  });
  const dims = [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)];
  const out = alloc(node, x.dtype, dims);
  const outer = numel(x.dims.slice(0, axis));
  const inner = numel(x.dims.slice(axis + 1));
  const o = cells(out.data);
  const src = cells(x.data);
  let p = 0;
  for (let i = 0; i < outer; i++) for (const j of ids) for (let k = 0; k < inner; k++) o[p++] = src[(i * d + j) * inner + k];
  return [out];
};

/** Expand: broadcasts the input and the shape against each other (either may be larger). */
const expand: Evaluator = (node, inputs) => {
  arity(node, 2, 2);
  const x = req(node, inputs, 0, 'input');
  const shape = intList(node, req(node, inputs, 1, 'shape'), 'shape');
  if (shape.some((v) => v < 0)) bad(node, `shape [${shape}] has a negative dim`);
  const dims = broadcastDims(node, [x.dims, shape]);
  fits(node, dims);
  return [gatherInto(node, x, dims, broadcastMap(dims, x.dims))];
};

const tile: Evaluator = (node, inputs) => {
  arity(node, 2, 2);
  const x = req(node, inputs, 0, 'input');
  const reps = intList(node, req(node, inputs, 1, 'repeats'), 'repeats');
  if (reps.length !== x.dims.length || reps.some((v) => v < 0)) bad(node, `repeats [${reps}] must be ${x.dims.length} non-negative counts`);
  const dims = x.dims.map((d, i) => d * reps[i]);
  // an empty result needs no index map (whose axes could still be huge)
  if (fits(node, dims) === 0) return [alloc(node, x.dtype, dims)];
  // output coord c reads input coord c mod dim: build the index map axis by axis
  const st = stridesOf(x.dims);
  let map = Int32Array.of(0);
  dims.forEach((dim, a) => {
    const next = new Int32Array(map.length * dim);
    for (let i = 0; i < map.length; i++) for (let c = 0; c < dim; c++) next[i * dim + c] = map[i] + (c % x.dims[a]) * st[a];
    map = next;
  });
  return [gatherInto(node, x, dims, map)];
};

/** Pad: `pads` (and `value`) attributes before opset 11, inputs from 11; constant/edge/reflect. */
const pad: Evaluator = (node, inputs, opset) => {
  const x = req(node, inputs, 0, 'data');
  const r = x.dims.length;
  let pads: number[];
  let value: Scalar;
  if (opset < 11) {
    arity(node, 1, 1);
    pads = attrInts(node, 'pads') ?? bad(node, "attribute 'pads' is missing");
    value = attrFloat(node, 'value', 0);
    if (!isFloat(x.dtype)) throw new NotFoldable('Pad-2 on integers');
  } else {
    arity(node, 2, 3);
    pads = intList(node, req(node, inputs, 1, 'pads'), 'pads');
    const v = inputs[2];
    if (v && v.dtype !== x.dtype) bad(node, `constant_value has type ${v.dtype}, data ${x.dtype}`);
    value = v ? scalarOf(node, v, 'constant_value') : isBig(x.dtype) ? 0n : 0;
  }
  if (pads.length !== 2 * r) bad(node, `pads has ${pads.length} values, expected ${2 * r}`);
  const mode = attrString(node, 'mode', 'constant');
  if (mode !== 'constant' && mode !== 'edge' && mode !== 'reflect') bad(node, `unknown mode '${mode}'`);
  const dims = x.dims.map((d, i) => d + pads[i] + pads[i + r]);
  if (dims.some((d) => d < 0)) bad(node, `pads [${pads}] remove more than dims [${x.dims}]`);
  // before the per-axis tables below, which are as long as the output's axes
  if (fits(node, dims) === 0) return [alloc(node, x.dtype, dims)];
  if (mode !== 'constant' && x.dims.some((d, i) => d === 0 && dims[i] > 0)) bad(node, `${mode} padding of an empty axis`);
  // per axis, the input coordinate each output coordinate reads (-1 = the pad value)
  const src = x.dims.map((d, a) =>
    Array.from({ length: dims[a] }, (_, c) => {
      let i = c - pads[a];
      if (i >= 0 && i < d) return i;
      if (mode === 'constant') return -1;
      if (mode === 'edge') return Math.min(Math.max(i, 0), d - 1);
      if (d === 1) return 0;
      const period = 2 * (d - 1);
      i = ((i % period) + period) % period;
      return i < d ? i : period - i;
    }),
  );
  const out = alloc(node, x.dtype, dims);
  const st = stridesOf(x.dims);
  const o = cells(out.data);
  const X = cells(x.data);
  const c = new Array<number>(r).fill(0);
  for (let i = 0; i < o.length; i++) {
    let k = 0;
    for (let a = 0; a < r && k >= 0; a++) k = src[a][c[a]] < 0 ? -1 : k + src[a][c[a]] * st[a];
    o[i] = k < 0 ? value : X[k];
    for (let a = r - 1; a >= 0; a--) {
      if (++c[a] < dims[a]) break;
      c[a] = 0;
    }
  }
  return [finish(out)];
};

const constantOfShape: Evaluator = (node, inputs) => {
  arity(node, 1, 1);
  const dims = intList(node, req(node, inputs, 0, 'input'), 'input');
  if (dims.some((d) => d < 0)) bad(node, `shape [${dims}] has a negative dim`);
  const v = attrTensor(node, 'value') ?? { dtype: 'float32', dims: [1], data: new Float32Array(1) };
  if (v.data.length !== 1) bad(node, `value must have one element, has ${v.data.length}`);
  const out = alloc(node, v.dtype, dims);
  (out.data as { fill(x: Scalar): unknown }).fill(v.data[0]);
  return [out];
};

/** Range accumulates (value += delta) like the spec's loop and onnxruntime, so float32 rounding matches. */
const range: Evaluator = (node, inputs) => {
  arity(node, 3, 3);
  const [s, l, d] = [0, 1, 2].map((i) => req(node, inputs, i, ['start', 'limit', 'delta'][i]));
  const dtype = sameDtype(node, [s, l, d]);
  if (!anyNumeric(dtype) || dtype === 'float16') throw new NotFoldable(`Range on ${dtype}`);
  const start = scalarOf(node, s, 'start');
  const limit = scalarOf(node, l, 'limit');
  const delta = scalarOf(node, d, 'delta');
  if (delta === 0 || delta === 0n) bad(node, 'delta is 0');
  let n: number;
  if (typeof start === 'bigint') {
    const span = (limit as bigint) - start;
    const dl = delta as bigint;
    const q = span / dl;
    n = Number(q * dl === span || (span > 0n) !== (dl > 0n) ? q : q + 1n); // ceil division
  } else {
    const span = dtype === 'float32' ? Math.fround((limit as number) - start) : (limit as number) - start;
    n = Math.ceil(span / (delta as number));
  }
  n = Math.max(0, n);
  if (!Number.isFinite(n)) bad(node, 'the range is infinite');
  const out = alloc(node, dtype, [n]);
  const o = cells(out.data);
  let v = start;
  for (let i = 0; i < n; i++) {
    o[i] = v;
    v = o[i]; // read back: rounds to the dtype before the next step
    v = typeof v === 'bigint' ? v + (delta as bigint) : v + (delta as number);
  }
  return [out];
};

// ---------------------------------------------------------------------------------------------
// reductions

type ReduceKind = 'sum' | 'prod' | 'mean';

/** axes as input from `inputFrom` (13 for ReduceSum, 18 for the others), attribute before. */
function reducer(kind: ReduceKind, inputFrom: number): Evaluator {
  return (node, inputs, opset) => {
    arity(node, 1, opset >= inputFrom ? 2 : 1);
    const x = req(node, inputs, 0, 'data');
    if (!anyNumeric(x.dtype)) throw new NotFoldable(`${node.op} on ${x.dtype}`);
    const r = x.dims.length;
    const keep = attrInt(node, 'keepdims', 1) !== 0;
    const given = axesArg(node, inputs, 1, inputFrom, opset);
    if ((!given || given.length === 0) && attrInt(node, 'noop_with_empty_axes', 0) !== 0) return [x];
    const axes = !given || given.length === 0 ? x.dims.map((_, i) => i) : given.map((a) => axisOf(node, a, r));
    const keptDims = x.dims.map((d, i) => (axes.includes(i) ? 1 : d));
    const outSt = stridesOf(keptDims).map((s, i) => (axes.includes(i) ? 0 : s));
    const map = linearMap(x.dims, outSt);
    const out = alloc(node, x.dtype, keep ? keptDims : x.dims.filter((_, i) => !axes.includes(i)));
    const count = numel(x.dims) / Math.max(1, numel(keptDims));
    const o = cells(out.data);
    if (isBig(x.dtype)) {
      const acc = new Array<bigint>(o.length).fill(kind === 'prod' ? 1n : 0n);
      for (let i = 0; i < map.length; i++) acc[map[i]] = kind === 'prod' ? acc[map[i]] * (x.data[i] as bigint) : acc[map[i]] + (x.data[i] as bigint);
      for (let i = 0; i < o.length; i++) o[i] = kind === 'mean' ? (count ? acc[i] / BigInt(count) : 0n) : acc[i];
    } else {
      // accumulate in float64 (the exact sum rounded once, closer than any float32 order)
      const acc = new Float64Array(o.length).fill(kind === 'prod' ? 1 : 0);
      for (let i = 0; i < map.length; i++) acc[map[i]] = kind === 'prod' ? acc[map[i]] * (x.data[i] as number) : acc[map[i]] + (x.data[i] as number);
      const intMean = isInt(x.dtype) && kind === 'mean';
      for (let i = 0; i < o.length; i++) o[i] = kind === 'mean' ? (intMean ? Math.trunc(acc[i] / count) : acc[i] / count) : acc[i];
    }
    return [finish(out)];
  };
}

// ---------------------------------------------------------------------------------------------
// QuantizeLinear / DequantizeLinear on constants: int8 weights (and float weights behind a
// QuantizeLinear -> DequantizeLinear pair, as QAT exports write them) fold to their float values.
// Their results are no larger than 4x an initializer, so fold-constants.ts exempts them from the
// element cap and the budget: allocated here directly, not through alloc().

function linearQuantOf(node: Node, inputs: Inputs): { x: ConstTensor; q: LinearQuant } {
  const [x, scale, zeroPoint] = inputs;
  if (!x || !scale || inputs.length > 3) bad(node, `expected 2 or 3 inputs (x, scale, zero point), got ${inputs.length}`);
  return { x, q: linearQuant(node, scale, zeroPoint, x.dims.length, (a) => x.dims[a], node.op === 'DequantizeLinear' ? x.dtype : undefined) };
}

const dequantizeLinear: Evaluator = (node, inputs) => {
  const { x, q } = linearQuantOf(node, inputs);
  const n = checkDims(x.dims, `node '${node.name}' (${node.op}) result`);
  const xs = x.data as unknown as ArrayLike<number>; // an integer typed array: int64 is no quantized type
  const ch = channelOf(x.dims, q.axis);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = ch(i);
    data[i] = dequantizeValue(xs[i], q.scales[c], q.zeroPoints[c]);
  }
  return [{ dtype: 'float32', dims: [...x.dims], data }];
};

const quantizeLinear: Evaluator = (node, inputs) => {
  const { x, q } = linearQuantOf(node, inputs);
  if (!isFloat(x.dtype)) bad(node, `input is ${x.dtype}; QuantizeLinear quantizes floats`);
  const n = checkDims(x.dims, `node '${node.name}' (${node.op}) result`);
  const [lo, hi] = QUANT_RANGES[q.type]!;
  const xs = toFloat32(x);
  const ch = channelOf(x.dims, q.axis);
  const data = allocArray(q.type, n);
  for (let i = 0; i < n; i++) {
    const c = ch(i);
    (data as Int32Array)[i] = quantizeValue(xs[i], q.scales[c], q.zeroPoints[c], lo, hi);
  }
  return [{ dtype: q.type, dims: [...x.dims], data }];
};

// ---------------------------------------------------------------------------------------------
// registry

const floats = (d: DType) => isFloat(d);
const signed = (d: DType) => isFloat(d) || d === 'int8' || d === 'int16' || d === 'int32' || d === 'int64';

export const EVALUATORS: Record<string, Evaluator> = {
  QuantizeLinear: quantizeLinear,
  DequantizeLinear: dequantizeLinear,
  Constant: constant,
  Identity: identity,
  Cast: cast,
  Reshape: reshape,
  Flatten: flatten,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Concat: concat,
  Split: split,
  Slice: slice,
  Gather: gather,
  Transpose: transpose,
  Expand: expand,
  Tile: tile,
  Pad: pad,
  ConstantOfShape: constantOfShape,
  Range: range,
  Add: add,
  Sub: sub,
  Mul: (node, inputs, opset) => (inputs.some((t) => t && is32(t.dtype)) ? mul32 : mul)(node, inputs, opset),
  Div: div,
  Mod: (node, inputs, opset) => (attrInt(node, 'fmod', 0) ? modTrunc : modFloor)(node, inputs, opset),
  Neg: unary(signed, (a) => -a, (a) => -a),
  Abs: unary(anyNumeric, Math.abs, (a) => (a < 0n ? -a : a)),
  Sqrt: unary(floats, Math.sqrt),
  Floor: unary(floats, Math.floor),
  Ceil: unary(floats, Math.ceil),
  Relu: unary(signed, (a) => (a < 0 ? 0 : a), (a) => (a > 0n ? a : 0n)), // NaN stays NaN
  Not: unary((d) => d === 'bool', (a) => (a ? 0 : 1)),
  Equal: compare((a, b) => a === b),
  Less: compare((a, b) => a < b),
  Greater: compare((a, b) => a > b),
  LessOrEqual: compare((a, b) => a <= b),
  GreaterOrEqual: compare((a, b) => a >= b),
  Where: where,
  Min: minMax((a, b) => a <= b),
  Max: minMax((a, b) => a >= b),
  Clip: clip,
  ReduceSum: reducer('sum', 13),
  ReduceProd: reducer('prod', 18),
  ReduceMean: reducer('mean', 18),
};

/** Shape (opset 15: with start/end) of a value whose dims are known. */
export function evalShape(node: Node, dims: readonly number[]): ConstTensor {
  const r = dims.length;
  const clampIdx = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = clampIdx(attrInt(node, 'start', 0));
  const end = clampIdx(attrInt(node, 'end', r));
  const part = dims.slice(start, Math.max(start, end));
  return { dtype: 'int64', dims: [part.length], data: BigInt64Array.from(part.map((d) => BigInt(d))) };
}

/** Size: the element count as an int64 scalar. */
export function evalSize(dims: readonly number[]): ConstTensor {
  return { dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(numel(dims))) };
}
