// Graph simplification passes. Every evaluator is checked against onnxruntime-node: an ONNX model
// whose graph is entirely constant-foldable runs in ORT, is folded by foldConstants, and the
// folded initializers must equal ORT's outputs (exactly for ints and bools, 1e-6 for floats).
// Each model is converted to a Graph twice: by a small protobuf reader local to this file (keeps
// Constant nodes, so their evaluator is exercised) and by src/onnx/import.ts (end to end).
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../src/errors.js';
import type { Attr, ConstTensor, DType, Graph, Node, TensorArray, ValueInfo } from '../src/graph/ir.js';
import { removeDeadCode } from '../src/graph/passes/dead-code.js';
import { f16round, MAX_FOLD_ELEMENTS } from '../src/graph/passes/evaluators.js';
import { foldConstants } from '../src/graph/passes/fold-constants.js';
import { foldIf } from '../src/graph/passes/fold-if.js';
import { removeIdentity } from '../src/graph/passes/remove-identity.js';
import { simplify } from '../src/graph/passes/simplify.js';
import { importOnnx } from '../src/onnx/import.js';
import { expectClose } from './util/close.js';
import { buildModel, runOrt, type ModelSpec } from './util/onnx.js';
import { randomArray } from './util/rng.js';

const { onnx } = onnxProto;
type ModelProto = onnxProto.onnx.ModelProto;
type ITensorProto = onnxProto.onnx.ITensorProto;
type IGraphProto = onnxProto.onnx.IGraphProto;

// ---------------------------------------------------------------------------------------------
// local helpers: typed constants and outputs on top of buildModel, and a protobuf → Graph reader

const CODES: Record<Exclude<DType, 'string'>, number> = {
  float32: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, uint32: 12, uint64: 13,
};
const DTYPES = new Map<number, DType>(Object.entries(CODES).map(([k, v]) => [v, k as DType]));

function typedArray(dtype: DType, values: readonly (number | bigint)[]): TensorArray {
  switch (dtype) {
    case 'int64':
      return BigInt64Array.from(values.map((v) => BigInt(v)));
    case 'int32':
      return Int32Array.from(values.map(Number));
    case 'float64':
      return Float64Array.from(values.map(Number));
    case 'bool':
    case 'uint8':
      return Uint8Array.from(values.map(Number));
    case 'float32':
      return Float32Array.from(values.map(Number));
    default:
      throw new Error(`test helper: no ${dtype}`);
  }
}

function tensorProto(name: string, dtype: DType, dims: number[], values: readonly (number | bigint)[]): ITensorProto {
  const a = typedArray(dtype, values);
  return { name, dims, dataType: CODES[dtype as Exclude<DType, 'string'>], rawData: new Uint8Array(a.buffer.slice(0)) };
}

interface ConstSpec {
  name: string;
  dtype: DType;
  dims: number[];
  values: readonly (number | bigint)[];
}

interface Case extends Omit<ModelSpec, 'outputs' | 'inputs'> {
  name: string;
  inputs?: ModelSpec['inputs'];
  /** Constant nodes (any dtype) placed before the other nodes. */
  consts?: ConstSpec[];
  /** graph outputs and their element types */
  outputs: Record<string, DType>;
  /** last-minute edits of the decoded model (tensor / graph attributes buildModel cannot express) */
  edit?: (m: ModelProto) => void;
}

const attrsOf = (m: ModelProto, i: number) => (m.graph!.node![i].attribute ??= []);
/** A tensor's values as plain numbers (for toEqual). */
const vals = (t: ConstTensor | undefined) => Array.from(t!.data as ArrayLike<number>, Number);

function makeModel(c: Case): Uint8Array {
  const base = buildModel({ ...c, inputs: c.inputs ?? [], outputs: Object.keys(c.outputs) });
  const m = onnx.ModelProto.decode(base);
  const g = m.graph!;
  const consts = (c.consts ?? []).map((k, i) => onnx.NodeProto.create({
    opType: 'Constant', name: `const${i}`, output: [k.name],
    attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: tensorProto('', k.dtype, k.dims, k.values) }],
  }));
  g.node = [...consts, ...(g.node ?? [])];
  for (const o of g.output ?? []) o.type!.tensorType!.elemType = CODES[c.outputs[o.name!] as Exclude<DType, 'string'>];
  c.edit?.(m);
  return onnx.ModelProto.encode(m).finish();
}

/** A reader independent of src/onnx: enough for these tests (raw or typed tensor data, subgraphs). */
function localGraph(bytes: Uint8Array): Graph {
  const m = onnx.ModelProto.decode(bytes);
  const opset = Number(m.opsetImport.find((o) => !o.domain)?.version ?? 13);
  return readGraph(m.graph!, opset);
}

function readTensor(t: ITensorProto): ConstTensor {
  const dtype = DTYPES.get(t.dataType ?? 0);
  if (!dtype) throw new Error(`test reader: data type ${t.dataType}`);
  const dims = (t.dims ?? []).map(Number);
  if (t.rawData && t.rawData.length > 0) {
    const buf = Uint8Array.from(t.rawData).buffer; // a copy: protobufjs hands out Buffer views
    const data = dtype === 'int64' ? new BigInt64Array(buf) : dtype === 'int32' ? new Int32Array(buf) : dtype === 'float64' ? new Float64Array(buf) : dtype === 'float32' ? new Float32Array(buf) : new Uint8Array(buf);
    return { dtype, dims, data };
  }
  const vals: (number | bigint)[] = t.floatData?.length ? t.floatData : t.int64Data?.length ? t.int64Data.map((v) => BigInt(String(v))) : t.doubleData?.length ? t.doubleData : (t.int32Data ?? []);
  return { dtype, dims, data: typedArray(dtype, vals) };
}

function readGraph(g: IGraphProto, opset: number): Graph {
  const T = onnx.AttributeProto.AttributeType;
  const info = (v: onnxProto.onnx.IValueInfoProto): ValueInfo => ({
    name: v.name!,
    dtype: DTYPES.get(v.type?.tensorType?.elemType ?? 1) ?? 'float32',
    dims: v.type?.tensorType?.shape ? v.type.tensorType.shape.dim!.map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue))) : undefined,
  });
  const nodes: Node[] = (g.node ?? []).map((n, i) => {
    const attrs: Record<string, Attr> = {};
    for (const a of n.attribute ?? []) {
      const k = a.name!;
      if (a.type === T.INT) attrs[k] = { kind: 'int', value: Number(a.i) };
      else if (a.type === T.FLOAT) attrs[k] = { kind: 'float', value: a.f! };
      else if (a.type === T.INTS) attrs[k] = { kind: 'ints', value: a.ints!.map(Number) };
      else if (a.type === T.FLOATS) attrs[k] = { kind: 'floats', value: [...a.floats!] };
      else if (a.type === T.STRING) attrs[k] = { kind: 'string', value: new TextDecoder().decode(a.s!) };
      else if (a.type === T.TENSOR) attrs[k] = { kind: 'tensor', value: readTensor(a.t!) };
      else if (a.type === T.GRAPH) attrs[k] = { kind: 'graph', value: readGraph(a.g!, opset) };
    }
    return { name: n.name || `n${i}`, op: n.opType!, domain: n.domain ?? '', inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], attrs };
  });
  const initializers = new Map((g.initializer ?? []).map((t) => [t.name!, readTensor(t)]));
  return {
    name: g.name ?? '', inputs: (g.input ?? []).map(info), outputs: (g.output ?? []).map(info), nodes, initializers, opset, valueInfo: new Map(),
  };
}

const READERS: [string, (b: Uint8Array) => Graph][] = [['local reader', localGraph], ['importOnnx', importOnnx]];

const isFloatArray = (a: ArrayLike<unknown>) => a instanceof Float32Array || a instanceof Float64Array;

/** Folded initializer equals the ORT output: same dims and array type; ints exact, floats 1e-6. */
function expectSame(got: ConstTensor | undefined, want: { data: ArrayLike<number | bigint>; dims: readonly number[] }, what: string): void {
  expect(got, `${what}: folded into an initializer`).toBeDefined();
  expect(got!.dims, `${what}: dims`).toEqual([...want.dims]);
  const wantType = want.data.constructor.name === 'Uint8Array' || want.data.constructor.name === 'Uint8ClampedArray' ? 'Uint8Array' : want.data.constructor.name;
  expect(got!.data.constructor.name, `${what}: array type`).toBe(wantType);
  if (isFloatArray(want.data)) expectClose(got!.data as Float32Array, want.data as Float32Array, what, 1e-6);
  else expect(Array.from(got!.data, String), `${what}: values`).toEqual(Array.from(want.data as ArrayLike<number>, String));
}

async function ortOutputs(bytes: Uint8Array, feeds: Record<string, { data: Float32Array; dims: number[] }> = {}) {
  return (await runOrt(bytes, feeds)) as unknown as Record<string, { data: ArrayLike<number | bigint>; dims: number[] }>;
}

const i64 = (name: string, values: number[], dims = [values.length]) => ({ name, dims, data: BigInt64Array.from(values.map(BigInt)) });
const f32 = (name: string, dims: number[], seed: number, lo = -3, hi = 3) => ({ name, dims, data: randomArray(dims.reduce((a, b) => a * b, 1), seed, lo, hi) });

// ---------------------------------------------------------------------------------------------
// one case per evaluator (and per opset form)

const INT64_MAX = 9223372036854775807n;

const CASES: Case[] = [
  {
    name: 'Shape, Size and Shape with start/end (opset 15) of a graph input with known dims',
    opset: 15,
    inputs: [{ name: 'x', dims: [2, 3, 4, 5] }],
    nodes: [
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'Size', inputs: ['x'], outputs: ['n'] },
      { op: 'Shape', inputs: ['x'], outputs: ['s2'], attrs: { start: 1, end: -1 } },
      { op: 'Shape', inputs: ['x'], outputs: ['s3'], attrs: { start: -2 } },
    ],
    outputs: { s: 'int64', n: 'int64', s2: 'int64', s3: 'int64' },
  },
  {
    name: 'Gather on axes 0, 1 and -1 with negative and 2-D indices',
    initializers: [f32('d', [3, 4, 2], 1), i64('i0', [2, -3, 0]), i64('i1', [-1, 1, 0, 3], [2, 2]), i64('s', [-1], [])],
    nodes: [
      { op: 'Gather', inputs: ['d', 'i0'], outputs: ['a'] },
      { op: 'Gather', inputs: ['d', 'i1'], outputs: ['b'], attrs: { axis: 1 } },
      { op: 'Gather', inputs: ['d', 's'], outputs: ['c'], attrs: { axis: -1 } },
    ],
    outputs: { a: 'float32', b: 'float32', c: 'float32' },
  },
  {
    name: 'Gather with int32 indices on an int64 shape vector',
    consts: [{ name: 'i', dtype: 'int32', dims: [2], values: [0, -1] }],
    initializers: [i64('shape', [7, 3, 5])],
    nodes: [{ op: 'Gather', inputs: ['shape', 'i'], outputs: ['y'] }],
    outputs: { y: 'int64' },
  },
  {
    name: 'Unsqueeze / Squeeze with axes attributes (opset 11)',
    opset: 11,
    initializers: [f32('x', [3, 1, 4], 2), i64('v', [5], [])],
    nodes: [
      { op: 'Unsqueeze', inputs: ['x'], outputs: ['u'], attrs: { axes: [0, -1] } },
      { op: 'Unsqueeze', inputs: ['v'], outputs: ['uv'], attrs: { axes: [0] } },
      { op: 'Squeeze', inputs: ['x'], outputs: ['q'], attrs: { axes: [-2] } },
      { op: 'Squeeze', inputs: ['u'], outputs: ['qa'] },
    ],
    outputs: { u: 'float32', uv: 'int64', q: 'float32', qa: 'float32' },
  },
  {
    name: 'Unsqueeze / Squeeze with axes inputs (opset 13)',
    opset: 13,
    initializers: [f32('x', [3, 1, 4], 3), i64('ax', [0, -1]), i64('sq', [1])],
    nodes: [
      { op: 'Unsqueeze', inputs: ['x', 'ax'], outputs: ['u'] },
      { op: 'Squeeze', inputs: ['x', 'sq'], outputs: ['q'] },
      { op: 'Squeeze', inputs: ['u'], outputs: ['qa'] },
    ],
    outputs: { u: 'float32', q: 'float32', qa: 'float32' },
  },
  {
    name: 'Concat of int64 vectors and of floats on a negative axis',
    initializers: [i64('a', [2]), i64('b', [-1, 7]), f32('p', [2, 1, 3], 4), f32('q', [2, 1, 2], 5)],
    nodes: [
      { op: 'Concat', inputs: ['a', 'b'], outputs: ['c'], attrs: { axis: 0 } },
      { op: 'Concat', inputs: ['p', 'q', 'p'], outputs: ['d'], attrs: { axis: -1 } },
    ],
    outputs: { c: 'int64', d: 'float32' },
  },
  {
    name: 'Reshape with 0 (copy) and -1 (infer); Flatten at axes 0, 2 and -1',
    initializers: [f32('x', [2, 3, 4], 6), i64('s1', [0, -1]), i64('s2', [-1, 2, 0]), i64('s3', [4, 3, 2])],
    nodes: [
      { op: 'Reshape', inputs: ['x', 's1'], outputs: ['r1'] },
      { op: 'Reshape', inputs: ['x', 's2'], outputs: ['r2'] },
      { op: 'Reshape', inputs: ['x', 's3'], outputs: ['r3'] },
      { op: 'Flatten', inputs: ['x'], outputs: ['f0'], attrs: { axis: 0 } },
      { op: 'Flatten', inputs: ['x'], outputs: ['f2'], attrs: { axis: 2 } },
      { op: 'Flatten', inputs: ['x'], outputs: ['fm'], attrs: { axis: -1 } },
    ],
    outputs: { r1: 'float32', r2: 'float32', r3: 'float32', f0: 'float32', f2: 'float32', fm: 'float32' },
  },
  {
    name: 'Cast between float, int64, int32, bool and double (float → int truncates toward zero)',
    initializers: [{ name: 'x', dims: [8], data: Float32Array.of(-2.7, -0.5, 0, 0.5, 1.99, 3, -3.5, 1e6 + 0.75) }, i64('l', [-5, 0, 3, 4294967297, -4294967297])],
    consts: [{ name: 'b', dtype: 'bool', dims: [3], values: [1, 0, 1] }],
    nodes: [
      { op: 'Cast', inputs: ['x'], outputs: ['xi'], attrs: { to: 7 } },
      { op: 'Cast', inputs: ['x'], outputs: ['x32'], attrs: { to: 6 } },
      { op: 'Cast', inputs: ['x'], outputs: ['xb'], attrs: { to: 9 } },
      { op: 'Cast', inputs: ['x'], outputs: ['xd'], attrs: { to: 11 } },
      { op: 'Cast', inputs: ['l'], outputs: ['lf'], attrs: { to: 1 } },
      { op: 'Cast', inputs: ['l'], outputs: ['l32'], attrs: { to: 6 } },
      { op: 'Cast', inputs: ['l'], outputs: ['lb'], attrs: { to: 9 } },
      { op: 'Cast', inputs: ['b'], outputs: ['bf'], attrs: { to: 1 } },
      { op: 'Cast', inputs: ['b'], outputs: ['bi'], attrs: { to: 7 } },
    ],
    outputs: { xi: 'int64', x32: 'int32', xb: 'bool', xd: 'float64', lf: 'float32', l32: 'int32', lb: 'bool', bf: 'float32', bi: 'int64' },
  },
  {
    name: 'Slice with starts/ends/axes attributes (opset 9)',
    opset: 9,
    initializers: [f32('x', [4, 5, 6], 7)],
    nodes: [
      { op: 'Slice', inputs: ['x'], outputs: ['a'], attrs: { starts: [1, -4], ends: [3, 1000], axes: [0, 2] } },
      { op: 'Slice', inputs: ['x'], outputs: ['b'], attrs: { starts: [0, 1, -100], ends: [-1, 4, 2] } },
    ],
    outputs: { a: 'float32', b: 'float32' },
  },
  {
    name: 'Slice with inputs (opset 13): negative steps, clamping, INT64 max/min markers, omitted axes',
    opset: 13,
    initializers: [
      f32('x', [4, 5, 6], 8),
      i64('st', [-1, 1]), { name: 'en', dims: [2], data: BigInt64Array.of(-INT64_MAX - 1n, INT64_MAX) }, i64('ax', [0, -1]), i64('sp', [-1, 2]),
      i64('st2', [10, -2]), i64('en2', [-10, 0]), i64('sp2', [-2, -1]),
      i64('st3', [1]), { name: 'en3', dims: [1], data: BigInt64Array.of(INT64_MAX) },
    ],
    nodes: [
      { op: 'Slice', inputs: ['x', 'st', 'en', 'ax', 'sp'], outputs: ['a'] },
      { op: 'Slice', inputs: ['x', 'st2', 'en2', 'ax', 'sp2'], outputs: ['b'] },
      { op: 'Slice', inputs: ['x', 'st3', 'en3'], outputs: ['c'] },
    ],
    outputs: { a: 'float32', b: 'float32', c: 'float32' },
  },
  {
    name: 'ConstantOfShape with the default value and an int64 value; Range on int64, float32 and downwards',
    initializers: [
      i64('shape', [2, 3]), i64('s', [1], []), i64('l', [11], []), i64('d', [3], []),
      { name: 'fs', dims: [], data: Float32Array.of(0.1) }, { name: 'fl', dims: [], data: Float32Array.of(2.05) }, { name: 'fd', dims: [], data: Float32Array.of(0.3) },
      i64('ds', [10], []), i64('dl', [-3], []), i64('dd', [-4], []),
    ],
    nodes: [
      { op: 'ConstantOfShape', inputs: ['shape'], outputs: ['z'] },
      { op: 'ConstantOfShape', inputs: ['shape'], outputs: ['k'] },
      { op: 'Range', inputs: ['s', 'l', 'd'], outputs: ['r'] },
      { op: 'Range', inputs: ['fs', 'fl', 'fd'], outputs: ['rf'] },
      { op: 'Range', inputs: ['ds', 'dl', 'dd'], outputs: ['rd'] },
      { op: 'Range', inputs: ['l', 's', 'd'], outputs: ['re'] },
    ],
    outputs: { z: 'float32', k: 'int64', r: 'int64', rf: 'float32', rd: 'int64', re: 'int64' },
    edit: (m) => {
      attrsOf(m, 1).push({ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: tensorProto('', 'int64', [1], [-7]) });
    },
  },
  {
    name: 'Add, Sub, Mul, Div on floats with numpy broadcasting',
    initializers: [f32('a', [2, 3, 1], 9), f32('b', [4], 10, 0.5, 2), f32('c', [], 11)],
    nodes: [
      { op: 'Add', inputs: ['a', 'b'], outputs: ['add'] },
      { op: 'Sub', inputs: ['b', 'a'], outputs: ['sub'] },
      { op: 'Mul', inputs: ['a', 'c'], outputs: ['mul'] },
      { op: 'Div', inputs: ['a', 'b'], outputs: ['div'] },
    ],
    outputs: { add: 'float32', sub: 'float32', mul: 'float32', div: 'float32' },
  },
  {
    name: 'integer Add, Sub, Mul, Div (Div truncates toward zero) on int64 and int32',
    initializers: [i64('a', [7, -7, 9, -9, 100, 3]), i64('b', [2, 2, -4, -4, 7, 5]), { name: 'p', dims: [4], data: Int32Array.of(7, -7, 65537, -9) }, { name: 'q', dims: [1], data: Int32Array.of(-2) }, { name: 'big', dims: [1], data: Int32Array.of(65539) }],
    nodes: [
      { op: 'Div', inputs: ['a', 'b'], outputs: ['d'] },
      { op: 'Add', inputs: ['a', 'b'], outputs: ['s'] },
      { op: 'Sub', inputs: ['a', 'b'], outputs: ['m'] },
      { op: 'Mul', inputs: ['a', 'b'], outputs: ['x'] },
      { op: 'Div', inputs: ['p', 'q'], outputs: ['d32'] },
      { op: 'Mul', inputs: ['p', 'big'], outputs: ['x32'] },
    ],
    outputs: { d: 'int64', s: 'int64', m: 'int64', x: 'int64', d32: 'int32', x32: 'int32' },
  },
  {
    name: 'Neg, Sqrt, Floor, Ceil, Relu, Abs, Identity',
    initializers: [f32('x', [3, 4], 12, -4, 4), f32('p', [5], 13, 0, 9), i64('n', [3, -4, 0])],
    nodes: [
      { op: 'Neg', inputs: ['x'], outputs: ['neg'] },
      { op: 'Neg', inputs: ['n'], outputs: ['negi'] },
      { op: 'Sqrt', inputs: ['p'], outputs: ['sqrt'] },
      { op: 'Floor', inputs: ['x'], outputs: ['floor'] },
      { op: 'Ceil', inputs: ['x'], outputs: ['ceil'] },
      { op: 'Relu', inputs: ['x'], outputs: ['relu'] },
      { op: 'Abs', inputs: ['x'], outputs: ['abs'] },
      { op: 'Identity', inputs: ['n'], outputs: ['id'] },
    ],
    outputs: { neg: 'float32', negi: 'int64', sqrt: 'float32', floor: 'float32', ceil: 'float32', relu: 'float32', abs: 'float32', id: 'int64' },
  },
  {
    name: 'Equal, Less, Greater (broadcast), Not and Where',
    initializers: [i64('a', [1, 2, 3, 4, 5, 6], [2, 3]), i64('b', [2, 5, 6], [3]), f32('x', [2, 3], 14), f32('y', [3], 15), f32('u', [2, 1], 16)],
    nodes: [
      { op: 'Equal', inputs: ['a', 'b'], outputs: ['eq'] },
      { op: 'Less', inputs: ['a', 'b'], outputs: ['lt'] },
      { op: 'Greater', inputs: ['x', 'u'], outputs: ['gt'] },
      { op: 'Not', inputs: ['lt'], outputs: ['not'] },
      { op: 'Where', inputs: ['gt', 'x', 'y'], outputs: ['w'] },
      { op: 'Where', inputs: ['eq', 'a', 'b'], outputs: ['wi'] },
    ],
    outputs: { eq: 'bool', lt: 'bool', gt: 'bool', not: 'bool', w: 'float32', wi: 'int64' },
  },
  {
    name: 'Transpose with the default and a given perm; Expand both ways; Tile',
    initializers: [f32('x', [2, 3, 4], 17), f32('c', [3, 1], 18), i64('sh', [2, 1, 4]), i64('sh2', [3]), i64('rep', [2, 3])],
    nodes: [
      { op: 'Transpose', inputs: ['x'], outputs: ['t0'] },
      { op: 'Transpose', inputs: ['x'], outputs: ['t1'], attrs: { perm: [1, 2, 0] } },
      { op: 'Expand', inputs: ['c', 'sh'], outputs: ['e'] },
      { op: 'Expand', inputs: ['c', 'sh2'], outputs: ['e2'] },
      { op: 'Tile', inputs: ['c', 'rep'], outputs: ['tile'] },
    ],
    outputs: { t0: 'float32', t1: 'float32', e: 'float32', e2: 'float32', tile: 'float32' },
  },
  {
    name: 'Min and Max, variadic with broadcasting, floats and int64',
    initializers: [f32('a', [2, 3], 19), f32('b', [3], 20), f32('c', [2, 1], 21), i64('i', [3, -1, 8]), i64('j', [2], [1])],
    nodes: [
      { op: 'Min', inputs: ['a', 'b', 'c'], outputs: ['mn'] },
      { op: 'Max', inputs: ['a', 'b'], outputs: ['mx'] },
      { op: 'Max', inputs: ['i', 'j'], outputs: ['mi'] },
      { op: 'Min', inputs: ['i'], outputs: ['m1'] },
    ],
    outputs: { mn: 'float32', mx: 'float32', mi: 'int64', m1: 'int64' },
  },
  {
    name: 'Split with the split attribute (opset 11) and equal parts',
    opset: 11,
    initializers: [f32('x', [2, 6], 22)],
    nodes: [
      { op: 'Split', inputs: ['x'], outputs: ['a', 'b', 'c'], attrs: { axis: 1, split: [1, 2, 3] } },
      { op: 'Split', inputs: ['x'], outputs: ['d', 'e'], attrs: { axis: 0 } },
    ],
    outputs: { a: 'float32', b: 'float32', c: 'float32', d: 'float32', e: 'float32' },
  },
  {
    name: 'Split with the split input (opset 13) and equal parts on a negative axis',
    opset: 13,
    initializers: [f32('x', [2, 6], 23), i64('sp', [4, 2])],
    nodes: [
      { op: 'Split', inputs: ['x', 'sp'], outputs: ['a', 'b'], attrs: { axis: -1 } },
      { op: 'Split', inputs: ['x'], outputs: ['c', 'd', 'e'], attrs: { axis: 1 } },
    ],
    outputs: { a: 'float32', b: 'float32', c: 'float32', d: 'float32', e: 'float32' },
  },
  {
    name: 'ReduceSum / ReduceProd / ReduceMean with axes attributes (opset 11)',
    opset: 11,
    initializers: [f32('x', [2, 3, 4], 24, 0.5, 1.5), i64('s', [2, 3, 4])],
    nodes: [
      { op: 'ReduceSum', inputs: ['x'], outputs: ['sum'], attrs: { axes: [0, -1] } },
      { op: 'ReduceProd', inputs: ['s'], outputs: ['prod'], attrs: { keepdims: 0 } },
      { op: 'ReduceMean', inputs: ['x'], outputs: ['mean'], attrs: { axes: [1], keepdims: 0 } },
      { op: 'ReduceProd', inputs: ['x'], outputs: ['pf'], attrs: { axes: [2] } },
    ],
    outputs: { sum: 'float32', prod: 'int64', mean: 'float32', pf: 'float32' },
  },
  {
    name: 'ReduceSum with the axes input (opset 13), keepdims both ways, and ReduceProd/Mean attributes',
    opset: 13,
    initializers: [f32('x', [2, 3, 4], 25), i64('ax', [1]), i64('sh', [5, 7])],
    nodes: [
      { op: 'ReduceSum', inputs: ['x', 'ax'], outputs: ['a'] },
      { op: 'ReduceSum', inputs: ['x', 'ax'], outputs: ['b'], attrs: { keepdims: 0 } },
      { op: 'ReduceSum', inputs: ['x'], outputs: ['c'] },
      { op: 'ReduceProd', inputs: ['sh'], outputs: ['d'], attrs: { axes: [0], keepdims: 0 } },
      { op: 'ReduceMean', inputs: ['x'], outputs: ['e'], attrs: { axes: [-1] } },
    ],
    outputs: { a: 'float32', b: 'float32', c: 'float32', d: 'int64', e: 'float32' },
  },
  {
    name: 'Clip with min/max attributes (opset 9) vs inputs (opset 13)',
    opset: 9,
    initializers: [f32('x', [10], 26, -3, 3)],
    nodes: [
      { op: 'Clip', inputs: ['x'], outputs: ['a'], attrs: { min: { float: -1 }, max: { float: 0.5 } } },
      { op: 'Clip', inputs: ['x'], outputs: ['b'], attrs: { max: { float: 1.5 } } },
    ],
    outputs: { a: 'float32', b: 'float32' },
  },
  {
    name: 'Clip with min/max inputs (opset 13), one omitted, and on int64',
    opset: 13,
    initializers: [f32('x', [10], 27, -3, 3), { name: 'lo', dims: [], data: Float32Array.of(-0.25) }, i64('i', [-9, 0, 4, 12]), i64('ihi', [5], [])],
    nodes: [
      { op: 'Clip', inputs: ['x', 'lo'], outputs: ['a'] },
      { op: 'Clip', inputs: ['x', '', 'lo'], outputs: ['b'] },
      { op: 'Clip', inputs: ['i', '', 'ihi'], outputs: ['c'] },
    ],
    outputs: { a: 'float32', b: 'float32', c: 'int64' },
  },
  {
    name: 'Pad with the pads attribute (opset 9): constant, edge, reflect',
    opset: 9,
    initializers: [f32('x', [2, 3], 28)],
    nodes: [
      { op: 'Pad', inputs: ['x'], outputs: ['a'], attrs: { pads: [1, 0, 0, 2], value: { float: 1.5 } } },
      { op: 'Pad', inputs: ['x'], outputs: ['b'], attrs: { pads: [0, 2, 1, 1], mode: 'edge' } },
      { op: 'Pad', inputs: ['x'], outputs: ['c'], attrs: { pads: [1, 2, 1, 2], mode: 'reflect' } },
    ],
    outputs: { a: 'float32', b: 'float32', c: 'float32' },
  },
  {
    name: 'Pad with pads/constant_value inputs (opset 13), negative pads crop, int64 data',
    opset: 13,
    initializers: [f32('x', [2, 3], 29), i64('p', [1, -1, 0, 1]), { name: 'v', dims: [], data: Float32Array.of(-2) }, i64('n', [1, 2, 3]), i64('pn', [2, 1])],
    nodes: [
      { op: 'Pad', inputs: ['x', 'p', 'v'], outputs: ['a'] },
      { op: 'Pad', inputs: ['x', 'p'], outputs: ['b'], attrs: { mode: 'reflect' } },
      { op: 'Pad', inputs: ['n', 'pn'], outputs: ['c'] },
    ],
    outputs: { a: 'float32', b: 'float32', c: 'int64' },
  },
  {
    name: 'Constant nodes of several types feeding Concat and Cast',
    consts: [
      { name: 'a', dtype: 'int32', dims: [2], values: [4, -5] },
      { name: 'b', dtype: 'int32', dims: [1], values: [9] },
      { name: 'f', dtype: 'float64', dims: [2], values: [0.1, -2.5] },
    ],
    nodes: [
      { op: 'Concat', inputs: ['a', 'b'], outputs: ['c'], attrs: { axis: 0 } },
      { op: 'Cast', inputs: ['f'], outputs: ['g'], attrs: { to: 1 } },
    ],
    outputs: { c: 'int32', g: 'float32' },
  },
];

describe.each(READERS)('foldConstants matches onnxruntime (%s)', (_, read) => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const bytes = makeModel(c);
    const feeds: Record<string, { data: Float32Array; dims: number[] }> = {};
    for (const i of c.inputs ?? []) { const d = i.dims as number[]; feeds[i.name] = { data: randomArray(d.reduce((a, b) => a * b, 1), 99), dims: d }; }
    const ref = await ortOutputs(bytes, feeds);
    const g = read(bytes);
    const folded = foldConstants(g);
    expect(folded.nodes.map((n) => `${n.op} ${n.name}`), 'every node folds').toEqual([]);
    for (const name of Object.keys(c.outputs)) expectSame(folded.initializers.get(name), ref[name], `${c.name}: ${name}`);
  });
});

// ---------------------------------------------------------------------------------------------
// the PyTorch reshape chain

/** x → Shape → Gather(0) → Unsqueeze → Concat(with [-1]) → Reshape(x, that): torch.flatten(x, 1). */
function reshapeChain(opset: number): Case {
  const unsq = opset >= 13 ? { op: 'Unsqueeze', inputs: ['b', 'zero1'], outputs: ['ub'] } : { op: 'Unsqueeze', inputs: ['b'], outputs: ['ub'], attrs: { axes: [0] } };
  return {
    name: `reshape chain (opset ${opset})`,
    opset,
    inputs: [{ name: 'x', dims: [2, 3, 4, 5] }],
    initializers: [i64('zero', [0], []), i64('minus1', [-1]), ...(opset >= 13 ? [i64('zero1', [0])] : [])],
    nodes: [
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'zero'], outputs: ['b'], attrs: { axis: 0 } },
      unsq,
      { op: 'Concat', inputs: ['ub', 'minus1'], outputs: ['shape'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] },
    ],
    outputs: { y: 'float32' },
  };
}

describe('PyTorch reshape chain', () => {
  for (const opset of [11, 13]) {
    for (const [readerName, read] of READERS) {
      it(`folds to Reshape(x, constant [2, -1]) when x's dims are known (opset ${opset}, ${readerName})`, async () => {
        const bytes = makeModel(reshapeChain(opset));
        const x = randomArray(120, 5);
        const ref = await ortOutputs(bytes, { x: { data: x, dims: [2, 3, 4, 5] } });
        const g = removeDeadCode(foldConstants(read(bytes)));
        expect(g.nodes.map((n) => n.op)).toEqual(['Reshape']);
        expect(g.nodes[0].inputs[0]).toBe('x');
        const shape = g.initializers.get(g.nodes[0].inputs[1])!;
        expect(shape.dtype).toBe('int64');
        expect(Array.from(shape.data, Number)).toEqual([2, -1]);
        // the Reshape with that constant gives onnxruntime's output dims
        expect([2, 120 / 2]).toEqual(ref.y.dims);
        expect([...g.initializers.keys()].sort()).toEqual([g.nodes[0].inputs[1]]);
      });
    }
  }

  it('folds with symbolic graph-input dims only when the runtime passes the inferred dims', () => {
    const g = localGraph(makeModel(reshapeChain(13)));
    g.inputs[0] = { ...g.inputs[0], dims: ['batch', 3, 4, 5] };
    expect(simplify(g).nodes.map((n) => n.op)).toEqual(['Shape', 'Gather', 'Unsqueeze', 'Concat', 'Reshape']);
    const s = simplify(g, new Map([['x', [7, 3, 4, 5]]]));
    expect(s.nodes.map((n) => n.op)).toEqual(['Reshape']);
    expect(Array.from(s.initializers.get(s.nodes[0].inputs[1])!.data, Number)).toEqual([7, -1]);
  });

  it('does not modify its input graph', () => {
    const g = localGraph(makeModel(reshapeChain(13)));
    const before = structuredClone(g);
    simplify(g);
    foldConstants(g);
    removeIdentity(g);
    removeDeadCode(g);
    expect(g).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------
// If with a constant condition

function branch(name: string, op: string, out: string): IGraphProto {
  // adds a branch-local initializer to the outer value 'w'; the local name 'k' also exists outside
  return {
    name,
    initializer: [tensorProto('k', 'float32', [3], [1, 2, 3])],
    node: [
      { opType: op, name: 'body', input: ['w', 'k'], output: ['t'] },
      { opType: 'Neg', name: 'neg', input: ['t'], output: [out] },
    ],
    output: [{ name: out, type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 3 }] } } } }],
  };
}

function ifModel(cond: boolean): Case {
  return {
    name: `If ${cond}`,
    opset: 13,
    consts: [{ name: 'c', dtype: 'bool', dims: [], values: [cond ? 1 : 0] }],
    initializers: [f32('w', [3], 30), f32('k', [3], 31)],
    nodes: [
      { op: 'If', inputs: ['c'], outputs: ['y'] },
      { op: 'Add', inputs: ['y', 'k'], outputs: ['z'] },
    ],
    outputs: { y: 'float32', z: 'float32' },
    edit: (m) => {
      const T = onnx.AttributeProto.AttributeType;
      attrsOf(m, 1).push(
        { name: 'then_branch', type: T.GRAPH, g: branch('then', 'Add', 'to') },
        { name: 'else_branch', type: T.GRAPH, g: branch('else', 'Mul', 'eo') },
      );
    },
  };
}

describe('foldIf', () => {
  for (const cond of [true, false]) {
    for (const [readerName, read] of READERS) {
      it(`inlines the ${cond ? 'then' : 'else'} branch of a constant condition, renaming its locals (${readerName})`, async () => {
        const bytes = makeModel(ifModel(cond));
        const ref = await ortOutputs(bytes);
        const g = read(bytes);
        const inlined = removeDeadCode(foldIf(foldConstants(g)));
        expect(inlined.nodes.map((n) => n.op)).toEqual([cond ? 'Add' : 'Mul', 'Neg', 'Add']);
        expect(inlined.nodes[1].outputs).toEqual(['y']); // the branch output takes the If's name
        const local = inlined.nodes[0].inputs[1];
        expect(local).not.toBe('k'); // the branch's 'k' is not the outer 'k'
        expect(vals(inlined.initializers.get(local))).toEqual([1, 2, 3]);
        const s = simplify(g);
        expect(s.nodes).toEqual([]);
        for (const o of ['y', 'z']) expectSame(s.initializers.get(o), ref[o], `If ${cond}: ${o}`);
      });
    }
  }

  it('keeps an If whose condition is not constant', () => {
    const g = localGraph(makeModel(ifModel(true)));
    g.nodes = g.nodes.slice(1);
    g.inputs = [{ name: 'c', dtype: 'bool', dims: [] }];
    expect(simplify(g).nodes.map((n) => n.op)).toEqual(['If', 'Add']);
  });

  it('copies a branch output that is an outer value into the If output', () => {
    const g = localGraph(makeModel(ifModel(true)));
    const ifNode = g.nodes[1];
    const thenG = (ifNode.attrs.then_branch as { kind: 'graph'; value: Graph }).value;
    thenG.outputs = [{ name: 'w', dtype: 'float32' }];
    const out = foldIf(foldConstants(g));
    expect(out.nodes.map((n) => [n.op, n.inputs, n.outputs])).toEqual([
      ['Add', ['w', expect.any(String)], [expect.any(String)]],
      ['Neg', [expect.any(String)], [expect.any(String)]],
      ['Identity', ['w'], ['y']],
      ['Add', ['y', 'k'], ['z']],
    ]);
    expect(simplify(g).nodes).toEqual([]);
    expect(vals(simplify(g).initializers.get('y'))).toEqual(vals(g.initializers.get('w')));
  });

  it('rejects a condition with more than one element', () => {
    const g = localGraph(makeModel(ifModel(true)));
    g.nodes = g.nodes.slice(1);
    g.initializers.set('c', { dtype: 'bool', dims: [2], data: Uint8Array.of(1, 0) });
    expect(() => foldIf(g)).toThrow(ModelFormatError);
  });
});

// ---------------------------------------------------------------------------------------------
// Identity / Dropout removal

function graph(nodes: [string, string[], string[], Record<string, Attr>?][], opts: Partial<Graph> = {}): Graph {
  return {
    name: 'g',
    inputs: [{ name: 'x', dtype: 'float32', dims: [2, 3] }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    nodes: nodes.map(([op, inputs, outputs, attrs], i) => ({ name: `${op}_${i}`, op, domain: '', inputs, outputs, attrs: attrs ?? {} })),
    initializers: new Map(),
    opset: 13,
    valueInfo: new Map(),
    ...opts,
  };
}
const wiring = (g: Graph) => g.nodes.map((n) => `${n.op}(${n.inputs.join(',')})->${n.outputs.join(',')}`);

describe('removeIdentity', () => {
  it('renames the readers of an Identity output to its input', () => {
    const g = graph([['Relu', ['x'], ['a']], ['Identity', ['a'], ['b']], ['Relu', ['b'], ['y']]]);
    expect(wiring(removeIdentity(g))).toEqual(['Relu(x)->a', 'Relu(a)->y']);
  });

  it('keeps graph output names: the producer writes the output directly', () => {
    const g = graph([['Relu', ['x'], ['a']], ['Identity', ['a'], ['y']], ['Sigmoid', ['a'], ['z']]], {
      outputs: [{ name: 'y', dtype: 'float32' }, { name: 'z', dtype: 'float32' }],
    });
    expect(wiring(removeIdentity(g))).toEqual(['Relu(x)->y', 'Sigmoid(y)->z']);
  });

  it('keeps an Identity from a graph input or initializer, or between two graph outputs', () => {
    const g = graph([['Identity', ['x'], ['y']], ['Identity', ['w'], ['z']], ['Relu', ['x'], ['a']], ['Identity', ['a'], ['b']]], {
      outputs: ['y', 'z', 'a', 'b'].map((name) => ({ name, dtype: 'float32' as const })),
      initializers: new Map([['w', { dtype: 'float32', dims: [1], data: Float32Array.of(2) }]]),
    });
    expect(wiring(removeIdentity(g))).toEqual(wiring(g));
  });

  it('follows chains of Identity and Dropout and renames inside If branches', () => {
    const body = graph([['Neg', ['c'], ['o']]], { inputs: [], outputs: [{ name: 'o', dtype: 'float32' }] });
    const g = graph([
      ['Relu', ['x'], ['a']],
      ['Dropout', ['a'], ['b']],
      ['Identity', ['b'], ['c']],
      ['If', ['cond'], ['d'], { then_branch: { kind: 'graph', value: body }, else_branch: { kind: 'graph', value: body } }],
      ['Identity', ['d'], ['y']],
    ]);
    g.inputs.push({ name: 'cond', dtype: 'bool', dims: [] });
    const r = removeIdentity(g);
    expect(wiring(r)).toEqual(['Relu(x)->a', 'If(cond)->y']);
    const then = (r.nodes[1].attrs.then_branch as { kind: 'graph'; value: Graph }).value;
    expect(wiring(then)).toEqual(['Neg(a)->o']);
  });

  it('Dropout: an unused mask goes, a used mask becomes an all-true constant when dims are known, else the node stays', () => {
    const unused = graph([['Relu', ['x'], ['a']], ['Dropout', ['a'], ['y', 'm']]]);
    expect(wiring(removeIdentity(unused))).toEqual(['Relu(x)->y']);
    // graph input x has dims [2, 3]: the mask folds
    const used = graph([['Relu', ['x'], ['a']], ['Dropout', ['x'], ['b', 'm']], ['Cast', ['m'], ['mc']], ['Add', ['b', 'a'], ['y']]], {
      outputs: [{ name: 'y', dtype: 'float32' }, { name: 'mc', dtype: 'float32' }],
    });
    const r = removeIdentity(used);
    expect(wiring(r)).toEqual(['Relu(x)->a', 'Cast(m)->mc', 'Add(x,a)->y']);
    expect(r.initializers.get('m')).toEqual({ dtype: 'bool', dims: [2, 3], data: new Uint8Array(6).fill(1) });
    // dims unknown (the producer's output) → kept, unless the caller passes them
    const unknown = graph([['Relu', ['x'], ['a']], ['Dropout', ['a'], ['b', 'm']], ['Cast', ['m'], ['y']]]);
    expect(wiring(removeIdentity(unknown))).toEqual(wiring(unknown));
    expect(wiring(removeIdentity(unknown, new Map([['a', [2, 3]]])))).toEqual(['Relu(x)->a', 'Cast(m)->y']);
  });

  it('Dropout with training_mode keeps the node unless it is a constant false', () => {
    const mk = (v: number) => graph([['Dropout', ['x', '', 't'], ['y']]], { initializers: new Map([['t', { dtype: 'bool', dims: [], data: Uint8Array.of(v) }]]) });
    expect(removeIdentity(mk(1)).nodes).toHaveLength(1);
    // the graph input x goes straight to the output y: that copy stays as an Identity-like node
    const g0 = graph([['Relu', ['x'], ['a']], ['Dropout', ['a', '', 't'], ['y']]], { initializers: new Map([['t', { dtype: 'bool', dims: [], data: Uint8Array.of(0) }]]) });
    expect(wiring(removeIdentity(g0))).toEqual(['Relu(x)->y']);
  });

  it('Identity and Dropout from an ONNX model (opset 12 Dropout with ratio) match onnxruntime after removal', async () => {
    const c: Case = {
      name: 'dropout',
      opset: 13,
      inputs: [{ name: 'x', dims: [2, 3] }],
      initializers: [{ name: 'r', dims: [], data: Float32Array.of(0.5) }],
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['a'] },
        { op: 'Dropout', inputs: ['a', 'r'], outputs: ['b', 'mask'] },
        { op: 'Identity', inputs: ['b'], outputs: ['y'] },
        { op: 'Identity', inputs: ['mask'], outputs: ['m'] },
      ],
      outputs: { y: 'float32', m: 'bool' },
    };
    const bytes = makeModel(c);
    const x = randomArray(6, 3);
    const ref = await ortOutputs(bytes, { x: { data: x, dims: [2, 3] } });
    for (const [, read] of READERS) {
      const s = simplify(read(bytes), new Map([['a', [2, 3]]]));
      expect(wiring(s)).toEqual(['Relu(x)->y']);
      expectSame(s.initializers.get('m'), ref.m, 'mask');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// dead code, the size cap, simplify, errors

describe('removeDeadCode', () => {
  it('drops nodes that reach no output and initializers nobody reads; keeps graph inputs', () => {
    const w = { dtype: 'float32' as const, dims: [1], data: Float32Array.of(1) };
    const g = graph([['Relu', ['x'], ['a']], ['Add', ['a', 'w'], ['dead']], ['Neg', ['dead'], ['dead2']], ['Mul', ['a', 'v'], ['y']]], {
      initializers: new Map([['w', w], ['v', w], ['unused', w]]),
    });
    g.inputs.push({ name: 'extra', dtype: 'float32', dims: [1] });
    const r = removeDeadCode(g);
    expect(wiring(r)).toEqual(['Relu(x)->a', 'Mul(a,v)->y']);
    expect([...r.initializers.keys()]).toEqual(['v']);
    expect(r.inputs.map((v) => v.name)).toEqual(['x', 'extra']);
    expect(g.nodes).toHaveLength(4); // input untouched
  });

  it('keeps what a subgraph reads from the outer graph', () => {
    const body = graph([['Neg', ['w'], ['o']]], { inputs: [], outputs: [{ name: 'o', dtype: 'float32' }] });
    const g = graph([['If', ['x'], ['y'], { then_branch: { kind: 'graph', value: body }, else_branch: { kind: 'graph', value: body } }]], {
      initializers: new Map([['w', { dtype: 'float32', dims: [1], data: Float32Array.of(1) }]]),
    });
    expect([...removeDeadCode(g).initializers.keys()]).toEqual(['w']);
  });
});

describe('folding limits', () => {
  it(`leaves results above ${MAX_FOLD_ELEMENTS} elements to the runtime`, () => {
    const mk = (dims: number[]) => graph([['ConstantOfShape', ['s'], ['y']]], {
      inputs: [],
      initializers: new Map([['s', { dtype: 'int64', dims: [dims.length], data: BigInt64Array.from(dims.map(BigInt)) }]]),
    });
    expect(foldConstants(mk([1000, 1000])).nodes).toEqual([]);
    expect(foldConstants(mk([1000, 1000])).initializers.get('y')!.data.length).toBe(1_000_000);
    expect(foldConstants(mk([1001, 1000])).nodes.map((n) => n.op)).toEqual(['ConstantOfShape']);
    // a view of a big weight is capped too (it would duplicate the weight in the model)
    const big = graph([['Reshape', ['w', 's'], ['y']]], {
      inputs: [],
      initializers: new Map<string, ConstTensor>([
        ['w', { dtype: 'float32', dims: [1_000_001], data: new Float32Array(1_000_001) }],
        ['s', { dtype: 'int64', dims: [1], data: BigInt64Array.of(-1n) }],
      ]),
    });
    expect(foldConstants(big).nodes.map((n) => n.op)).toEqual(['Reshape']);
  });

  it('keeps nodes whose result is undefined behaviour or not computed on the host', () => {
    const g = graph([['Div', ['a', 'z'], ['y']], ['Cast', ['nan'], ['c'], { to: { kind: 'int', value: 7 } }], ['Foo', ['a'], ['f']]], {
      inputs: [],
      outputs: ['y', 'c', 'f'].map((name) => ({ name, dtype: 'int64' as const })),
      initializers: new Map<string, ConstTensor>([
        ['a', { dtype: 'int64', dims: [1], data: BigInt64Array.of(3n) }],
        ['z', { dtype: 'int64', dims: [1], data: BigInt64Array.of(0n) }],
        ['nan', { dtype: 'float32', dims: [1], data: Float32Array.of(NaN) }],
      ]),
    });
    expect(foldConstants(g).nodes.map((n) => n.op)).toEqual(['Div', 'Cast', 'Foo']);
  });

  it('Reshape allowzero (opset 14) keeps a 0 as a zero-sized dim; float16 results round to half precision', () => {
    const g = graph([['Reshape', ['e', 's'], ['y'], { allowzero: { kind: 'int', value: 1 } }], ['Add', ['h', 'h'], ['z']]], {
      inputs: [],
      opset: 14,
      initializers: new Map<string, ConstTensor>([
        ['e', { dtype: 'float32', dims: [0, 3], data: new Float32Array(0) }],
        ['s', { dtype: 'int64', dims: [2], data: BigInt64Array.of(3n, 0n) }],
        ['h', { dtype: 'float16', dims: [2], data: Float32Array.of(1.0009765625, 1000) }],
      ]),
      outputs: [{ name: 'y', dtype: 'float32' }, { name: 'z', dtype: 'float16' }],
    });
    const r = foldConstants(g);
    expect(r.initializers.get('y')!.dims).toEqual([3, 0]);
    expect(vals(r.initializers.get('z'))).toEqual([2.001953125, 2000]);
    expect([f16round(65519), f16round(65520), f16round(1 + 2 ** -11), f16round(1 + 3 * 2 ** -11), f16round(2 ** -25 * 3)]).toEqual([65504, Infinity, 1, 1 + 2 ** -9, 2 ** -24 * 2]);
  });
});

describe('malformed nodes are ModelFormatErrors naming the node', () => {
  const cases: [string, [string, string[], string[], Record<string, Attr>?][], Record<string, ConstTensor>, RegExp][] = [
    ['Reshape to a wrong size', [['Reshape', ['a', 's'], ['y']]], { s: { dtype: 'int64', dims: [1], data: BigInt64Array.of(5n) } }, /Reshape_0.*cannot reshape \[2,3\]/],
    ['Reshape with two -1', [['Reshape', ['a', 's'], ['y']]], { s: { dtype: 'int64', dims: [2], data: BigInt64Array.of(-1n, -1n) } }, /more than one -1/],
    ['Gather on an invalid axis', [['Gather', ['a', 'i'], ['y'], { axis: { kind: 'int', value: 2 } }]], { i: { dtype: 'int64', dims: [], data: BigInt64Array.of(0n) } }, /Gather_0.*axis 2 is out of range for rank 2/],
    ['Gather out of range', [['Gather', ['a', 'i'], ['y']]], { i: { dtype: 'int64', dims: [], data: BigInt64Array.of(-3n) } }, /index -3 is out of range/],
    ['Squeeze of a dim that is not 1', [['Squeeze', ['a', 'i'], ['y']]], { i: { dtype: 'int64', dims: [1], data: BigInt64Array.of(0n) } }, /cannot squeeze axis 0/],
    ['Add with three inputs', [['Add', ['a', 'a', 'a'], ['y']]], {}, /Add_0.*has 3 inputs, expected 2/],
    ['Concat of mismatched dims', [['Concat', ['a', 'i'], ['y'], { axis: { kind: 'int', value: 0 } }]], { i: { dtype: 'float32', dims: [2, 2], data: new Float32Array(4) } }, /differ outside axis 0/],
    ['Split that does not add up', [['Split', ['a', 'i'], ['y', 'z']]], { i: { dtype: 'int64', dims: [2], data: BigInt64Array.of(1n, 2n) } }, /does not add up/],
  ];
  it.each(cases)('%s', (_, nodes, extra, msg) => {
    const g = graph(nodes, {
      inputs: [],
      initializers: new Map<string, ConstTensor>([['a', { dtype: 'float32', dims: [2, 3], data: new Float32Array(6) }], ...Object.entries(extra)]),
    });
    expect(() => foldConstants(g)).toThrow(ModelFormatError);
    expect(() => foldConstants(g)).toThrow(msg);
  });
});

describe('simplify', () => {
  it('reaches a fixed point: Identity → Shape chain → Equal → If → branch folds, all against onnxruntime', async () => {
    // y = If(Shape(Identity(x))[1] == 3) then Reshape(x, [2, -1]) else Neg(x); z = the folded shape
    const then: IGraphProto = {
      name: 'then',
      node: [{ opType: 'Reshape', name: 'r', input: ['xi', 'shape'], output: ['o'] }],
      output: [{ name: 'o', type: { tensorType: { elemType: 1 } } }],
    };
    const els: IGraphProto = {
      name: 'else',
      node: [{ opType: 'Flatten', name: 'f', input: ['xi'], output: ['o2'] }],
      output: [{ name: 'o2', type: { tensorType: { elemType: 1 } } }],
    };
    const c: Case = {
      name: 'fixed point',
      opset: 13,
      inputs: [{ name: 'x', dims: [2, 3, 4] }],
      initializers: [i64('one', [1], []), i64('three', [3], []), i64('zero', [0], []), i64('ax', [0]), i64('m1', [-1])],
      nodes: [
        { op: 'Identity', inputs: ['x'], outputs: ['xi'] },
        { op: 'Shape', inputs: ['xi'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'one'], outputs: ['d1'] },
        { op: 'Equal', inputs: ['d1', 'three'], outputs: ['cond'] },
        { op: 'Gather', inputs: ['s', 'zero'], outputs: ['d0'] },
        { op: 'Unsqueeze', inputs: ['d0', 'ax'], outputs: ['u'] },
        { op: 'Concat', inputs: ['u', 'm1'], outputs: ['shape'], attrs: { axis: 0 } },
        { op: 'If', inputs: ['cond'], outputs: ['y'] },
        { op: 'Mul', inputs: ['shape', 'd1'], outputs: ['z'] },
      ],
      outputs: { y: 'float32', z: 'int64' },
      edit: (m) => {
        const T = onnx.AttributeProto.AttributeType;
        attrsOf(m, 7).push({ name: 'then_branch', type: T.GRAPH, g: then }, { name: 'else_branch', type: T.GRAPH, g: els });
      },
    };
    const bytes = makeModel(c);
    const ref = await ortOutputs(bytes, { x: { data: randomArray(24, 8), dims: [2, 3, 4] } });
    for (const [, read] of READERS) {
      const g = read(bytes);
      const s = simplify(g);
      expect(wiring(s)).toEqual([expect.stringMatching(/^Reshape\(x,.*\)->y$/)]);
      expect(Array.from(s.initializers.get(s.nodes[0].inputs[1])!.data, Number)).toEqual([2, -1]);
      expect(ref.y.dims).toEqual([2, 12]);
      expectSame(s.initializers.get('z'), ref.z, 'z');
      // a second run changes nothing
      const again = simplify(s);
      expect(wiring(again)).toEqual(wiring(s));
      expect([...again.initializers.keys()]).toEqual([...s.initializers.keys()]);
      // one round of the passes alone does not get there: the loop is what reaches the fixed point
      const once = removeDeadCode(foldConstants(foldIf(removeIdentity(g))));
      expect(once.nodes.map((n) => n.op)).toContain('If');
    }
  });
});
