// The ONNX seed models of the fuzzer, built with onnx-proto (the official schema) the way the
// tests build theirs, so that every storage form and every import path the real exporters use is
// present in some seed: raw_data and typed fields, float16 in int32_data, int64 shape tensors,
// Constant nodes in each attribute form, a sparse initializer, symbolic dims, an If with
// subgraphs, the Shape → Gather → Concat → Reshape chain of PyTorch exports, and the small
// constant subexpressions (ConstantOfShape, Range, Expand, Tile) that the folding pass evaluates.
import { onnx, E, AT, type ITensorProto, type INodeProto, type IGraphProto, type IValueInfoProto, type IAttributeProto } from '../util/onnx-proto.js';


/** Deterministic weights in (-1, 1) (a fixed LCG: seeds must be the same bytes on every run). */
function weights(n: number, seed: number, zeros = 0): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    a[i] = u < zeros ? 0 : 2 * ((s >>> 8) / 2 ** 24) - 1 || 0.5;
  }
  return a;
}

function raw(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

function f32(name: string, dims: number[], seed: number, zeros = 0): ITensorProto {
  return { name, dims, dataType: E.FLOAT, rawData: raw(weights(dims.reduce((a, b) => a * b, 1), seed, zeros)) };
}

function i64(name: string, values: number[], dims = [values.length]): ITensorProto {
  return { name, dims, dataType: E.INT64, rawData: raw(BigInt64Array.from(values.map(BigInt))) };
}

function vi(name: string, dims?: (number | string)[], elemType: number = E.FLOAT): IValueInfoProto {
  const dim = dims?.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType, shape: dim ? { dim } : undefined } } };
}

type AttrValue = number | number[] | string | { f: number } | { g: IGraphProto } | { t: ITensorProto };

function attr(name: string, v: AttrValue): IAttributeProto {
  if (typeof v === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return { name, type: AT.INT, i: v };
  if (Array.isArray(v)) return { name, type: AT.INTS, ints: v };
  if ('f' in v) return { name, type: AT.FLOAT, f: v.f };
  if ('g' in v) return { name, type: AT.GRAPH, g: v.g };
  return { name, type: AT.TENSOR, t: v.t };
}

function node(op: string, input: string[], output: string[], attrs: Record<string, AttrValue> = {}, name?: string): INodeProto {
  return { opType: op, input, output, name: name ?? `${op.toLowerCase()}_${output[0]}`, attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)) };
}

function model(graph: IGraphProto, opset = 13): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: opset }], producerName: 'edgeprune-fuzz', producerVersion: '1', graph })).finish();
}

/** Gemm → Relu → Gemm → Softmax with a symbolic batch. */
export function mlpOnnx(): Uint8Array {
  return model({
    name: 'mlp',
    node: [node('Gemm', ['x', 'W1', 'B1'], ['h'], { transB: 1 }), node('Relu', ['h'], ['r']), node('Gemm', ['r', 'W2', 'B2'], ['l'], { transB: 1, alpha: { f: 0.5 } }), node('Softmax', ['l'], ['y'], { axis: 1 })],
    input: [vi('x', ['batch', 12])],
    output: [vi('y', ['batch', 4])],
    initializer: [f32('W1', [16, 12], 1), f32('B1', [16], 2), f32('W2', [4, 16], 3), f32('B2', [4], 4)],
  });
}

/** Conv → BatchNorm → Relu → MaxPool → depthwise Conv → GlobalAveragePool → Flatten → Gemm. */
export function cnnOnnx(): Uint8Array {
  return model({
    name: 'cnn',
    node: [
      node('Conv', ['x', 'w1', 'b1'], ['c1'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
      node('BatchNormalization', ['c1', 'bn_s', 'bn_b', 'bn_m', 'bn_v'], ['n1'], { epsilon: { f: 1e-5 } }),
      node('Relu', ['n1'], ['r1']),
      node('MaxPool', ['r1'], ['p1'], { kernel_shape: [2, 2], strides: [2, 2] }),
      node('Conv', ['p1', 'w2'], ['c2'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 8 }),
      node('GlobalAveragePool', ['c2'], ['g']),
      node('Flatten', ['g'], ['f'], { axis: 1 }),
      node('Gemm', ['f', 'W3', 'B3'], ['y'], { transB: 1 }),
    ],
    input: [vi('x', [1, 3, 8, 8])],
    output: [vi('y', [1, 5])],
    initializer: [
      f32('w1', [8, 3, 3, 3], 5),
      f32('b1', [8], 6),
      { name: 'bn_s', dims: [8], dataType: E.FLOAT, floatData: Array.from(weights(8, 7)) },
      { name: 'bn_b', dims: [8], dataType: E.FLOAT, floatData: Array.from(weights(8, 8)) },
      { name: 'bn_m', dims: [8], dataType: E.FLOAT, floatData: Array.from(weights(8, 9)) },
      { name: 'bn_v', dims: [8], dataType: E.FLOAT, floatData: Array.from(weights(8, 10), (v) => 1 + Math.abs(v)) },
      f32('w2', [8, 1, 3, 3], 11),
      f32('W3', [5, 8], 12),
      f32('B3', [5], 13),
    ],
  });
}

/**
 * PyTorch's dynamic reshape chain, plus constant subexpressions the folding pass evaluates on the
 * host: ConstantOfShape, Range, Expand, Tile, Slice, Concat, Cast, Unsqueeze.
 */
export function shapeChainOnnx(): Uint8Array {
  return model({
    name: 'shapes',
    node: [
      node('Shape', ['x'], ['s']),
      node('Gather', ['s', 'i0'], ['n'], { axis: 0 }),
      node('Unsqueeze', ['n', 'ax0'], ['n1']),
      node('Concat', ['n1', 'minus1'], ['shape'], { axis: 0 }),
      node('Reshape', ['x', 'shape'], ['flat']),
      node('ConstantOfShape', ['cshape'], ['ones'], { value: { t: { dims: [1], dataType: E.FLOAT, floatData: [1] } } }),
      node('Range', ['r0', 'r1', 'r2'], ['ramp']),
      node('Cast', ['ramp'], ['rampf'], { to: E.FLOAT }),
      node('Expand', ['rampf', 'eshape'], ['grid']),
      node('Tile', ['grid', 'reps'], ['tiled']),
      node('Slice', ['tiled', 'st', 'en'], ['cut']),
      node('Add', ['ones', 'cut'], ['bias']),
      node('Add', ['flat', 'bias'], ['y']),
    ],
    input: [vi('x', [2, 3, 4])],
    output: [vi('y', [2, 12])],
    initializer: [
      i64('i0', [0], []),
      i64('ax0', [0]),
      i64('minus1', [-1]),
      i64('cshape', [2, 12]),
      i64('r0', [0], []),
      i64('r1', [12], []),
      i64('r2', [1], []),
      i64('eshape', [1, 12]),
      i64('reps', [2, 1]),
      i64('st', [0, 0]),
      i64('en', [2, 12]),
    ],
  });
}

/** An If whose condition is computed from a shape (folded at load), with a subgraph per branch. */
export function ifOnnx(): Uint8Array {
  const branch = (op: string): IGraphProto => ({ name: op, node: [node(op, ['x'], [`${op}_out`]), node('Mul', [`${op}_out`, 'k'], [`${op}_k`])], initializer: [f32('k', [1], 21)], output: [vi(`${op}_k`, [3, 5])] });
  return model({
    name: 'if',
    node: [
      node('Shape', ['x'], ['s']),
      node('Gather', ['s', 'i0'], ['n'], { axis: 0 }),
      node('Equal', ['n', 'three'], ['c']),
      node('If', ['c'], ['y'], { then_branch: { g: branch('Relu') }, else_branch: { g: branch('Neg') } }),
    ],
    input: [vi('x', [3, 5])],
    output: [vi('y', [3, 5])],
    initializer: [i64('i0', [0], []), i64('three', [3], [])],
  });
}

/** Every tensor storage form of the importer: typed fields, float16, float64, int32, Constant nodes in each attribute form, a sparse initializer. */
export function storageFormsOnnx(): Uint8Array {
  return model({
    name: 'storage',
    node: [
      node('Constant', [], ['kv'], { value: { t: { dims: [4], dataType: E.FLOAT, floatData: [1, 2, 3, 4] } } }),
      { opType: 'Constant', output: ['kf'], attribute: [{ name: 'value_float', type: AT.FLOAT, f: 0.25 }] },
      { opType: 'Constant', output: ['kfs'], attribute: [{ name: 'value_floats', type: AT.FLOATS, floats: [1, -1, 2, -2] }] },
      { opType: 'Constant', output: ['kis'], attribute: [{ name: 'value_ints', type: AT.INTS, ints: [1, 4] }] },
      node('MatMul', ['x', 'Wsp'], ['m']),
      node('Add', ['m', 'kv'], ['a1']),
      node('Mul', ['a1', 'kf'], ['a2']),
      node('Add', ['a2', 'kfs'], ['a3']),
      node('Add', ['a3', 'h16'], ['a4']),
      node('Reshape', ['a4', 'kis'], ['a5']),
      node('Cast', ['d64'], ['d32'], { to: E.FLOAT }),
      node('Add', ['a5', 'd32'], ['a6']),
      node('Cast', ['i32'], ['i32f'], { to: E.FLOAT }),
      node('Add', ['a6', 'i32f'], ['y']),
    ],
    input: [vi('x', [1, 6])],
    output: [vi('y', [1, 4])],
    initializer: [
      { name: 'h16', dims: [4], dataType: E.FLOAT16, int32Data: [0x3c00, 0x4000, 0xbc00, 0x3800] },
      { name: 'd64', dims: [4], dataType: E.DOUBLE, doubleData: [0.5, 1.5, -0.5, 2] },
      { name: 'i32', dims: [4], dataType: E.INT32, int32Data: [1, -2, 3, -4] },
    ],
    sparseInitializer: [{ dims: [6, 4], values: { name: 'Wsp', dims: [5], dataType: E.FLOAT, floatData: [1, 2, 3, 4, 5] }, indices: { dims: [5], dataType: E.INT64, int64Data: [0, 5, 9, 14, 23] } }],
  });
}

/** A 1-D conv audio-style model with a symbolic time axis (planned at its override or at 1). */
export function conv1dOnnx(): Uint8Array {
  return model({
    name: 'conv1d',
    node: [
      node('Conv', ['x', 'w'], ['c'], { kernel_shape: [3], pads: [1, 1], strides: [1] }),
      node('Sigmoid', ['c'], ['sg']),
      node('ReduceMean', ['sg'], ['y'], { axes: [2], keepdims: 0 }),
    ],
    input: [vi('x', [1, 4, 'time'])],
    output: [vi('y', [1, 6])],
    initializer: [f32('w', [6, 4, 3], 31, 0.5)],
  });
}

export const ONNX_SEED_BUILDERS: Record<string, () => Uint8Array> = {
  mlp: mlpOnnx,
  cnn: cnnOnnx,
  'shape-chain': shapeChainOnnx,
  if: ifOnnx,
  'storage-forms': storageFormsOnnx,
  conv1d: conv1dOnnx,
};

export { weights };
