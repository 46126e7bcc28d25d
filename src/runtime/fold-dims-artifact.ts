// foldForDims for the inference-only `edgeprune/runtime` (scripts/build-dist.mjs swaps it in for
// fold-dims.ts). Artifacts are simplified when written, so all that is left to fold once the input
// dims are known is shape arithmetic: Shape and Size of values whose dims are now known, and the
// small computations on them (Gather, Slice, Concat, Unsqueeze, Cast, Mul, ...) that end in a
// Reshape's shape, a Slice's ends or a Resize's sizes. Those run here on plain numbers, small
// tensors only; anything else is left to the runtime's ops (or named by an UnsupportedOpError).
// The full simplifier (graph/passes/evaluators.ts) computes the same values for these cases; the
// tests check the two against each other on the conformance models.
import { attrInt, attrInts, attrTensor } from '../graph/attrs.js';
import type { ConstTensor, DType, Graph, Node } from '../graph/ir.js';
import { removeDeadCode } from '../graph/passes/dead-code.js';
import { copyMap } from '../graph/passes/names.js';
import { ALWAYS_FOLD_BYTES, FOLDED, foldBudget } from '../graph/passes/fold-budget.js';
import { sliceRange } from '../graph/slice.js';
import { DTYPE_OF_ONNX_CODE, fromNumbers, numel, toNumbers } from '../graph/tensor.js';

/** Results above this many elements stay with the runtime (the simplifier's cap, MAX_FOLD_ELEMENTS). */
export const MAX_ELEMENTS = 1_000_000;

/**
 * The most elements the node being folded may produce: MAX_ELEMENTS, or fewer once the call's
 * budget is nearly spent (see foldForDims). Checked before a result is allocated.
 */
let cap = MAX_ELEMENTS;

/** A small tensor as JS numbers (int64 within ±2^53, bool as 0/1). */
interface V {
  dtype: DType;
  dims: number[];
  v: number[];
}

type Fold = (node: Node, x: (V | undefined)[], opset: number) => V | undefined;

const isFloat = (d: DType) => d === 'float32' || d === 'float64';
const vec = (dtype: DType, v: number[]): V => ({ dtype, dims: [v.length], v });
const ints = (t: V | undefined) => t?.v;

/** Element `i` of the broadcast output (dims `out`) as tensor `t` sees it (numpy broadcasting). */
function at(t: V, out: number[], i: number): number {
  let idx = 0;
  let stride = 1;
  for (let a = out.length - 1, b = t.dims.length - 1; b >= 0; a--, b--) {
    const c = i % out[a];
    i = Math.floor(i / out[a]);
    if (t.dims[b] !== 1) idx += c * stride;
    stride *= t.dims[b];
  }
  return t.v[idx];
}

/** f over the inputs broadcast together; undefined when their dims do not broadcast. */
function broadcast(dtype: DType, ts: V[], f: (...a: number[]) => number): V | undefined {
  const r = Math.max(...ts.map((t) => t.dims.length));
  const dims: number[] = [];
  for (let i = 0; i < r; i++) {
    let d = 1;
    for (const t of ts) {
      const k = t.dims[t.dims.length - r + i] ?? 1;
      if (k === 1) continue;
      if (d !== 1 && d !== k) return undefined;
      d = k;
    }
    dims.push(d);
  }
  if (!(numel(dims) <= cap)) return undefined; // Expand to [5e8] would be a 4 GB array
  const v = Array.from({ length: numel(dims) }, (_, i) => f(...ts.map((t) => at(t, dims, i))));
  return { dtype, dims, v };
}

const binary = (f: (a: number, b: number, int: boolean) => number, bool = false): Fold => (_n, [a, b]) =>
  a && b ? broadcast(bool ? 'bool' : a.dtype, [a, b], (x, y) => f(x, y, !isFloat(a.dtype))) : undefined;
const unary = (f: (a: number) => number): Fold => (_n, [a]) => a && { ...a, v: a.v.map(f) };

/** Axis in [-rank, rank) made non-negative; NaN (never folds) when out of range. */
const axis = (a: number, rank: number) => (a >= -rank && a < rank ? (a + rank) % rank : NaN);

/** Axes from the attribute (before `fromOpset`) or the input `i` (from it). */
const axesOf = (node: Node, x: (V | undefined)[], i: number, fromOpset: number, opset: number) => (opset >= fromOpset ? ints(x[i]) : attrInts(node, 'axes'));

/** The tensor viewed with other dims (same values). */
const view = (t: V, dims: number[]): V | undefined => (numel(dims) === t.v.length && dims.every((d) => Number.isInteger(d) && d >= 0) ? { ...t, dims } : undefined);

/** Concatenation along `ax` of tensors that agree elsewhere. */
function concat(ts: V[], ax: number): V | undefined {
  const dims = [...ts[0].dims];
  if (!(ax >= 0) || ts.some((t) => t.dims.length !== dims.length || t.dims.some((d, i) => i !== ax && d !== dims[i]))) return undefined;
  dims[ax] = ts.reduce((s, t) => s + t.dims[ax], 0);
  const inner = numel(dims.slice(ax + 1));
  const v: number[] = [];
  for (let o = 0; o < numel(dims.slice(0, ax)); o++) for (const t of ts) v.push(...t.v.slice(o * t.dims[ax] * inner, (o + 1) * t.dims[ax] * inner));
  return v.length === numel(dims) ? { dtype: ts[0].dtype, dims, v } : undefined;
}

/** Elements picked per axis: out coordinate c on axis a reads input coordinate pick[a][c]. */
function pick(t: V, picks: number[][]): V {
  const dims = picks.map((p) => p.length);
  const v = Array.from({ length: numel(dims) }, (_, i) => {
    let idx = 0;
    let stride = 1;
    for (let a = dims.length - 1; a >= 0; a--) {
      idx += picks[a][i % dims[a]] * stride;
      i = Math.floor(i / dims[a]);
      stride *= t.dims[a];
    }
    return t.v[idx];
  });
  return { dtype: t.dtype, dims, v };
}

const range = (n: number, f: (i: number) => number = (i) => i) => Array.from({ length: n }, (_, i) => f(i));

/** Reduction over `axes` (all when none given). */
const reduce = (f: (a: number, b: number) => number, init: number): Fold => (node, [x, a], opset) => {
  if (!x) return undefined;
  const given = opset >= (node.op === 'ReduceSum' ? 13 : 18) ? ints(a) : attrInts(node, 'axes');
  if (!given?.length && attrInt(node, 'noop_with_empty_axes', 0)) return x;
  const axes = given?.length ? given.map((g) => axis(g, x.dims.length)) : range(x.dims.length);
  const kept = x.dims.map((d, i) => (axes.includes(i) ? 1 : d));
  const v = new Array<number>(numel(kept)).fill(init);
  const cell = { ...x, dims: kept, v: range(v.length) }; // at(cell, x.dims, i): the output cell element i falls in
  for (let i = 0; i < x.v.length; i++) v[at(cell, x.dims, i)] = f(v[at(cell, x.dims, i)], x.v[i]);
  return { dtype: x.dtype, dims: attrInt(node, 'keepdims', 1) ? kept : x.dims.filter((_, i) => !axes.includes(i)), v };
};

const FOLDS: Record<string, Fold> = {
  Identity: (_n, [x]) => x,
  Cast(node, [x]) {
    const to = DTYPE_OF_ONNX_CODE[attrInt(node, 'to', 0)];
    if (!x || !to || to === 'string' || to === 'float16') return undefined;
    const v = x.v.map((a) => (to === 'bool' ? +(a !== 0) : isFloat(to) ? a : Math.trunc(a)));
    return v.every(Number.isFinite) || isFloat(to) ? { dtype: to, dims: x.dims, v } : undefined;
  },
  Reshape(node, [x, s]) {
    if (!x || !s) return undefined;
    const dims = s.v.map((d, i) => (d === 0 && !attrInt(node, 'allowzero', 0) ? x.dims[i] : d));
    const known = numel(dims.filter((d) => d !== -1));
    return view(x, dims.map((d) => (d === -1 ? x.v.length / known : d)));
  },
  Flatten(node, [x]) {
    const a = attrInt(node, 'axis', 1);
    return x && view(x, [numel(x.dims.slice(0, a)), numel(x.dims.slice(a))]);
  },
  Squeeze(node, x, opset) {
    const t = x[0];
    const axes = axesOf(node, x, 1, 13, opset)?.map((a) => axis(a, t?.dims.length ?? 0));
    return t && view(t, t.dims.filter((d, i) => (axes ? !axes.includes(i) : d !== 1)));
  },
  Unsqueeze(node, x, opset) {
    const t = x[0];
    const given = axesOf(node, x, 1, 13, opset);
    if (!t || !given) return undefined;
    const r = t.dims.length + given.length;
    const axes = given.map((a) => axis(a, r));
    let k = 0;
    return view(t, range(r, (i) => (axes.includes(i) ? 1 : t.dims[k++])));
  },
  Concat: (node, ts) => (ts.every((t) => t) ? concat(ts as V[], axis(attrInt(node, 'axis', 0), ts[0]!.dims.length)) : undefined),
  Gather(node, [x, idx]) {
    if (!x || !idx) return undefined;
    const ax = axis(attrInt(node, 'axis', 0), x.dims.length);
    const d = x.dims[ax];
    const ids = idx.v.map((i) => (i < 0 ? i + d : i));
    if (!(ax >= 0) || ids.some((i) => !(i >= 0 && i < d))) return undefined;
    const g = pick(x, x.dims.map((n, a) => (a === ax ? ids : range(n))));
    return view(g, [...x.dims.slice(0, ax), ...idx.dims, ...x.dims.slice(ax + 1)]);
  },
  Slice(node, [x, s, e, a, st], opset) {
    if (!x) return undefined;
    const old = opset < 10;
    const starts = old ? attrInts(node, 'starts') : ints(s);
    const ends = old ? attrInts(node, 'ends') : ints(e);
    const axes = (old ? attrInts(node, 'axes') : ints(a)) ?? starts?.map((_, i) => i);
    const steps = old ? undefined : ints(st);
    if (!starts || !ends || !axes) return undefined;
    const picks = x.dims.map((n) => range(n));
    axes.forEach((g, i) => {
      const ax = axis(g, x.dims.length);
      const step = steps?.[i] ?? 1;
      const { start, count } = sliceRange(starts[i], ends[i], step, x.dims[ax]);
      picks[ax] = range(count, (c) => start + c * step);
    });
    return pick(x, picks);
  },
  Expand: (_n, [x, s]) => (x && s ? broadcast(x.dtype, [x, { ...s, dims: s.v, v: [0] }], (v) => v) : undefined),
  ConstantOfShape(node, [s]) {
    const value = attrTensor(node, 'value');
    if (!s || !(numel(s.v) <= cap) || value?.dtype === 'float16') return undefined;
    return { dtype: value?.dtype ?? 'float32', dims: s.v, v: new Array(numel(s.v)).fill(value ? toNumbers(value)[0] : 0) };
  },
  Range(_n, [s, l, d]) {
    if (!s || !l || !d || isFloat(s.dtype)) return undefined; // float ranges round step by step: left to the simplifier
    const n = Math.max(0, Math.ceil((l.v[0] - s.v[0]) / d.v[0]));
    return n <= cap ? vec(s.dtype, range(n, (i) => s.v[0] + i * d.v[0])) : undefined;
  },
  Add: binary((a, b) => a + b),
  Sub: binary((a, b) => a - b),
  Mul: binary((a, b) => a * b),
  Div: binary((a, b, int) => (int ? (b ? Math.trunc(a / b) : NaN) : a / b)),
  Min: (_n, ts) => (ts.every((t) => t) ? broadcast(ts[0]!.dtype, ts as V[], Math.min) : undefined),
  Max: (_n, ts) => (ts.every((t) => t) ? broadcast(ts[0]!.dtype, ts as V[], Math.max) : undefined),
  Equal: binary((a, b) => +(a === b), true),
  Less: binary((a, b) => +(a < b), true),
  Greater: binary((a, b) => +(a > b), true),
  LessOrEqual: binary((a, b) => +(a <= b), true),
  GreaterOrEqual: binary((a, b) => +(a >= b), true),
  Where: (_n, [c, x, y]) => (c && x && y ? broadcast(x.dtype, [c, x, y], (p, a, b) => (p ? a : b)) : undefined),
  Not: unary((a) => +!a),
  Neg: unary((a) => -a),
  Abs: unary(Math.abs),
  Floor: unary(Math.floor),
  Ceil: unary(Math.ceil),
  Sqrt: unary(Math.sqrt),
  ReduceProd: reduce((a, b) => a * b, 1),
  ReduceSum: reduce((a, b) => a + b, 0),
};

/** The node's outputs when it folds. */
function fold(node: Node, consts: ReadonlyMap<string, ConstTensor>, dims: ReadonlyMap<string, number[]>, opset: number): ConstTensor[] | undefined {
  if (node.domain !== '' && node.domain !== 'ai.onnx') return undefined;
  const x = node.inputs[0];
  if (node.op === 'Shape' || node.op === 'Size') {
    const d = dims.get(x) ?? consts.get(x)?.dims;
    if (!d) return undefined;
    const r = d.length;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
    const part = d.slice(clamp(attrInt(node, 'start', 0)), clamp(attrInt(node, 'end', r)));
    return [node.op === 'Shape' ? fromNumbers('int64', [part.length], part) : fromNumbers('int64', [], [numel(d)])];
  }
  const f = FOLDS[node.op];
  if (!f || node.outputs.length !== 1) return undefined;
  const ins: (V | undefined)[] = [];
  for (const name of node.inputs) {
    const t = consts.get(name);
    if (name && (!t || t.dtype === 'float16' || t.dtype === 'string' || t.data.length > MAX_ELEMENTS)) return undefined;
    ins.push(t && { dtype: t.dtype, dims: [...t.dims], v: toNumbers(t) });
  }
  let out: V | undefined;
  try {
    out = f(node, ins, opset);
  } catch {
    return undefined; // malformed: left to the runtime's op, whose error names the node
  }
  const bad = !out || out.v.length > cap || out.v.length !== numel(out.dims) || (!isFloat(out.dtype) && !out.v.every(Number.isSafeInteger));
  return bad ? undefined : [fromNumbers(out!.dtype, out!.dims, out!.v)];
}

/** The graph with the shape arithmetic these dims make constant folded (the input is not modified). */
export function foldForDims(g: Graph, dims: ReadonlyMap<string, number[]>): Graph {
  const consts = copyMap(g.initializers);
  const nodes: Node[] = [];
  // the simplifier's budget (graph/passes/fold-budget.ts): a few kB of ConstantOfShape nodes
  // would otherwise fold into any amount of memory; past it nodes stay
  let left = foldBudget(g).bytes;
  for (const node of g.nodes) {
    // at 8 bytes an element (int64), checked before a result is allocated; shape vectors and
    // scalars always fold
    cap = Math.min(MAX_ELEMENTS, Math.max(ALWAYS_FOLD_BYTES / 8, Math.floor(left / 8)));
    const out = fold(node, consts, dims, g.opset)?.[0];
    if (out) {
      left -= out.data.byteLength;
      FOLDED.add(out);
      consts.set(node.outputs[0], out);
    } else nodes.push(node);
  }
  cap = MAX_ELEMENTS;
  return nodes.length === g.nodes.length ? g : removeDeadCode({ ...g, nodes, initializers: consts });
}
