// ONNX export (src/onnx/export.ts, src/onnx/encode.ts): Graph → bytes → Graph is the identity
// (producer aside, tensors bit-exact), onnxruntime-node loads every exported file and computes
// exactly what it computes on the original, edgeprune's own session on the exported bytes matches
// onnxruntime, graphs edited in memory (pruned weights, removed nodes) export, and broken graphs
// are refused with a ModelFormatError naming the problem.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { onnx, E, AT, type IGraphProto, type IValueInfoProto } from './util/onnx-proto.js';
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../src/errors.js';
import type { ConstTensor, Graph, Node } from '../src/graph/ir.js';
import { decodeModel, type ModelProto } from '../src/onnx/decode.js';
import { encodeModel } from '../src/onnx/encode.js';
import { exportOnnx, floatToHalf, irVersionFor } from '../src/onnx/export.js';
import { importOnnx } from '../src/onnx/import.js';
import { InferenceSession } from '../src/runtime/session.js';
import { VERSION } from '../src/version.js';
import { buildModel as buildHarness, expectSameAsOrt, f32, i64, rand, runOrt, w, type Feeds, type ModelSpec, type NodeSpec } from './conformance/harness.js';
import { buildModel as buildSimple } from './util/onnx-build.js';
import { expectClose } from './util/close.js';
import { rng } from './util/rng.js';


// ---- helpers ---------------------------------------------------------------------------------

/** The graph without producer metadata (export writes its own), recursively comparable. */
function withoutProducer(g: Graph): Graph {
  const { producer: _ignored, ...rest } = g;
  return rest;
}

/**
 * The graph's structure with each tensor's data replaced by its type and length: vitest compares
 * large typed arrays element by element (seconds for a real model), so the data is compared
 * separately as bytes (tensorBytes).
 */
function structure(g: Graph): unknown {
  const tensor = (t: ConstTensor) => ({ ...t, data: `${t.data.constructor.name}(${t.data.length})` });
  return {
    ...withoutProducer(g),
    initializers: [...g.initializers].map(([k, t]) => [k, tensor(t)]),
    nodes: g.nodes.map((n) => ({
      ...n,
      attrs: Object.fromEntries(Object.entries(n.attrs).map(([k, a]) => [k, a.kind === 'tensor' ? { kind: a.kind, value: tensor(a.value) } : a.kind === 'graph' ? { kind: a.kind, value: structure(a.value) } : a])),
    })),
  };
}

function expectSameBytes(got: Map<string, { dtype: string; bytes: Uint8Array }>, want: Map<string, { dtype: string; bytes: Uint8Array }>): void {
  expect([...got.keys()]).toEqual([...want.keys()]);
  for (const [k, v] of want) {
    const g = got.get(k)!;
    expect(g.dtype, k).toBe(v.dtype);
    expect(Buffer.from(g.bytes.buffer, g.bytes.byteOffset, g.bytes.byteLength).equals(v.bytes), `tensor ${k}: bytes differ`).toBe(true);
  }
}

/** Every tensor of a graph and its subgraphs, keyed by a path, as raw bytes (bit-exact checks). */
function tensorBytes(g: Graph, prefix = ''): Map<string, { dtype: string; bytes: Uint8Array }> {
  const out = new Map<string, { dtype: string; bytes: Uint8Array }>();
  const add = (key: string, t: ConstTensor) => out.set(key, { dtype: t.dtype, bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) });
  for (const [name, t] of g.initializers) add(`${prefix}${name}`, t);
  for (const n of g.nodes) {
    for (const [k, a] of Object.entries(n.attrs)) {
      if (a.kind === 'tensor') add(`${prefix}${n.name}.${k}`, a.value);
      if (a.kind === 'graph') for (const [kk, v] of tensorBytes(a.value, `${prefix}${n.name}.${k}/`)) out.set(kk, v);
    }
  }
  return out;
}

/** importOnnx(exportOnnx(importOnnx(bytes))) equals importOnnx(bytes); returns the exported bytes. */
function expectRoundTrip(bytes: Uint8Array): Uint8Array {
  const g1 = importOnnx(bytes);
  const out = exportOnnx(g1);
  const g2 = importOnnx(out);
  expect(g2.producer).toEqual({ name: 'edgeprune', version: VERSION });
  expect(structure(g2)).toStrictEqual(structure(g1));
  expectSameBytes(tensorBytes(g2), tensorBytes(g1));
  // exporting again gives the same bytes: nothing depends on where a graph came from
  expect(Buffer.from(exportOnnx(g2)).equals(out)).toBe(true);
  return out;
}

/** Random float feeds from the graph's declared input dims (symbols take `dimValues` or 1). */
function feedsFor(g: Graph, dimValues: Record<string, number> = {}): Feeds {
  const feeds: Feeds = {};
  for (const i of g.inputs) {
    const dims = (i.dims ?? []).map((d) => (typeof d === 'number' ? d : (dimValues[d] ?? 1)));
    feeds[i.name] = { data: rand(dims.reduce((a, b) => a * b, 1)), dims };
  }
  return feeds;
}

/** onnxruntime on the exported file computes exactly what it computes on the original. */
async function expectSameOrtOutputs(original: Uint8Array, exported: Uint8Array, feeds: Feeds): Promise<void> {
  const want = await runOrt(original, feeds);
  const got = await runOrt(exported, feeds);
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const [k, v] of Object.entries(want)) {
    expect(got[k].dims, k).toEqual(v.dims);
    expect(got[k].data, k).toEqual(v.data);
  }
}

function formatError(fn: () => unknown): ModelFormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    return e as ModelFormatError;
  }
  throw new Error('expected a ModelFormatError, but nothing was thrown');
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
const vi = (name: string, dims?: (number | string | null)[], elemType: number = E.FLOAT): IValueInfoProto => ({
  name,
  type: { tensorType: { elemType, shape: dims ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})) } : undefined } },
});

// ---- models ----------------------------------------------------------------------------------

/** Conv + BatchNormalization with random weights named from a prefix. */
function convBn(p: string, x: string, out: string, cin: number, cout: number, k: number, attrs: NodeSpec['attrs'] = {}): { nodes: NodeSpec[]; inits: ReturnType<typeof w>[] } {
  const group = (attrs.group as number | undefined) ?? 1;
  const pad = (k - 1) >> 1;
  return {
    nodes: [
      { op: 'Conv', inputs: [x, `${p}.w`], outputs: [`${p}.c`], attrs: { kernel_shape: [k, k], pads: [pad, pad, pad, pad], ...attrs } },
      { op: 'BatchNormalization', inputs: [`${p}.c`, `${p}.s`, `${p}.b`, `${p}.m`, `${p}.v`], outputs: [out], attrs: { epsilon: { float: 1e-5 } } },
    ],
    inits: [w(`${p}.w`, [cout, cin / group, k, k], -0.5, 0.5), w(`${p}.s`, [cout], 0.5, 1.5), w(`${p}.b`, [cout], -0.2, 0.2), w(`${p}.m`, [cout], -0.2, 0.2), w(`${p}.v`, [cout], 0.5, 1.5)],
  };
}

const branch = (op: string) => ({ graph: { nodes: [{ op, inputs: ['x'], outputs: [`${op}_out`] }], inputs: [], outputs: [`${op}_out`] } });

/** Models both onnxruntime and edgeprune run, built independently of edgeprune's ONNX code. */
interface TestModel {
  name: string;
  bytes: Uint8Array;
  dimValues?: Record<string, number>;
}

function runnableModels(): TestModel[] {
  const res = convBn('c1', 'x', 'b1', 4, 4, 3);
  const dw = convBn('dw', 'x', 'd1', 5, 5, 3, { group: 5 });
  const specs: [string, ModelSpec, Record<string, number>?][] = [
    [
      'reshape chain with a symbolic batch',
      {
        nodes: [
          { op: 'Shape', inputs: ['x'], outputs: ['s'] },
          { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'], attrs: { axis: 0 } },
          { op: 'Unsqueeze', inputs: ['n', 'ax0'], outputs: ['n1'] },
          { op: 'Concat', inputs: ['n1', 'm1'], outputs: ['shape'], attrs: { axis: 0 } },
          { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['f'] },
          { op: 'Gemm', inputs: ['f', 'W', 'B'], outputs: ['y'], attrs: { transB: 1, alpha: { float: 0.75 } } },
        ],
        inputs: [{ name: 'x', dims: ['N', 3, 5, 7] }],
        outputs: [{ name: 'y', dims: ['N', 10] }],
        initializers: [i64('i0', [0], []), i64('ax0', [0]), i64('m1', [-1]), w('W', [10, 105]), w('B', [10])],
      },
      { N: 3 },
    ],
    [
      'residual Conv-BN-Relu block',
      {
        nodes: [...res.nodes, { op: 'Relu', inputs: ['b1'], outputs: ['r1'] }, { op: 'Add', inputs: ['r1', 'x'], outputs: ['y'] }],
        inputs: [{ name: 'x', dims: [2, 4, 9, 7] }],
        outputs: ['y'],
        initializers: res.inits,
      },
    ],
    [
      'opset 11 depthwise block with Clip(min, max inputs)',
      {
        opset: 11,
        nodes: [...dw.nodes, { op: 'Clip', inputs: ['d1', 'zero', 'six'], outputs: ['y'] }],
        inputs: [{ name: 'x', dims: [1, 5, 10, 9] }],
        outputs: ['y'],
        initializers: [...dw.inits, f32('zero', [0], []), f32('six', [6], [])],
      },
    ],
    [
      'opset 7: MaxPool, Flatten, Gemm, Softmax',
      {
        opset: 7,
        nodes: [
          { op: 'MaxPool', inputs: ['x'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
          { op: 'Flatten', inputs: ['p'], outputs: ['f'] },
          { op: 'Gemm', inputs: ['f', 'W', 'B'], outputs: ['g'], attrs: { transB: 1 } },
          { op: 'Softmax', inputs: ['g'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', dims: [2, 2, 6, 6] }],
        outputs: ['y'],
        initializers: [w('W', [5, 18]), w('B', [5])],
      },
    ],
    [
      'paddle2onnx style: weights in Constant nodes',
      {
        nodes: [
          { op: 'Constant', inputs: [], outputs: ['cw'], attrs: { value: { tensor: { dims: [3, 3, 3, 3], data: rand(81, -0.5, 0.5) } } } },
          { op: 'Constant', inputs: [], outputs: ['shape'], attrs: { value: { tensor: { dims: [2], data: BigInt64Array.from([0n, -1n]) } } } },
          { op: 'Conv', inputs: ['x', 'cw'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1], strides: [2, 2] } },
          { op: 'Reshape', inputs: ['c', 'shape'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', dims: [2, 3, 8, 8] }],
        outputs: ['y'],
      },
    ],
    [
      'If with a constant condition (subgraphs reading an outer value)',
      {
        nodes: [
          { op: 'If', inputs: ['c'], outputs: ['b'], attrs: { then_branch: branch('Sigmoid'), else_branch: branch('Tanh') } },
          { op: 'Add', inputs: ['b', 'x'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', dims: [3, 5] }],
        outputs: ['y'],
        initializers: [{ name: 'c', dims: [], data: [0], type: 'bool' }],
      },
    ],
    [
      'If on a condition computed from a shape',
      {
        nodes: [
          { op: 'Shape', inputs: ['x'], outputs: ['s'] },
          { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'], attrs: { axis: 0 } },
          { op: 'Equal', inputs: ['n', 'three'], outputs: ['c'] },
          { op: 'If', inputs: ['c'], outputs: ['y'], attrs: { then_branch: branch('Relu'), else_branch: branch('Neg') } },
        ],
        inputs: [{ name: 'x', dims: [3, 5] }],
        outputs: ['y'],
        initializers: [i64('i0', [0], []), i64('three', [3], [])],
      },
    ],
    [
      'upsampling head: Resize with an omitted input',
      {
        nodes: [
          { op: 'Resize', inputs: ['x', '', 'sc'], outputs: ['u'], attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' } },
          { op: 'Conv', inputs: ['u', 'wo', 'bo'], outputs: ['y'], attrs: { pads: [1, 1, 1, 1] } },
        ],
        inputs: [{ name: 'x', dims: [1, 3, 5, 4] }],
        outputs: ['y'],
        initializers: [f32('sc', [1, 1, 2, 2]), w('wo', [4, 3, 3, 3]), w('bo', [4])],
      },
    ],
    [
      'opset 17 LayerNormalization',
      {
        opset: 17,
        nodes: [{ op: 'LayerNormalization', inputs: ['x', 'g', 'b'], outputs: ['y'], attrs: { axis: -1, epsilon: { float: 1e-5 } } }],
        inputs: [{ name: 'x', dims: [3, 4, 11] }],
        outputs: ['y'],
        initializers: [w('g', [11]), w('b', [11])],
      },
    ],
    [
      'opset 21 (IR version 10) MatMul-Add-Relu',
      {
        opset: 21,
        nodes: [
          { op: 'MatMul', inputs: ['x', 'W'], outputs: ['h'] },
          { op: 'Add', inputs: ['h', 'b'], outputs: ['hb'] },
          { op: 'Relu', inputs: ['hb'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', dims: ['batch', 6] }],
        outputs: ['y'],
        initializers: [w('W', [6, 4]), w('b', [4])],
      },
      { batch: 2 },
    ],
  ];
  const models: TestModel[] = specs.map(([name, spec, dimValues]) => ({ name, bytes: buildHarness(spec), dimValues }));
  // test/util/onnx-build.ts, in the old style that also lists the weights as graph inputs
  models.push({
    name: 'MLP listing its weights as graph inputs (IR < 4 style)',
    bytes: buildSimple({
      nodes: [
        { op: 'Gemm', inputs: ['x', 'W1', 'B1'], outputs: ['h'], attrs: { transB: 1 } },
        { op: 'Relu', inputs: ['h'], outputs: ['r'] },
        { op: 'Gemm', inputs: ['r', 'W2', 'B2'], outputs: ['y'], attrs: { transB: 1 } },
      ],
      inputs: [{ name: 'x', dims: [2, 6] }, { name: 'W1', dims: [8, 6] }, { name: 'B1', dims: [8] }, { name: 'W2', dims: [3, 8] }, { name: 'B2', dims: [3] }],
      outputs: ['y'],
      initializers: [
        { name: 'W1', dims: [8, 6], data: rand(48) },
        { name: 'B1', dims: [8], data: rand(8) },
        { name: 'W2', dims: [3, 8], data: rand(24) },
        { name: 'B2', dims: [3], data: rand(3) },
      ],
    }),
  });
  return models;
}

const MODEL_DIR = join(process.cwd(), 'node_modules/openwakeword-js/models');
const pretrained = existsSync(MODEL_DIR) ? readdirSync(MODEL_DIR).filter((f) => f.endsWith('.onnx')) : [];

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** Every tensor type, attribute kind and shape form the IR holds (round trip only: not run). */
function richModel(): Uint8Array {
  const enc = new TextEncoder();
  const halfBits = Uint16Array.from([0x0000, 0x8000, 0x3c00, 0xc000, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x3555]);
  const sub = (name: string, op: string): IGraphProto => ({
    name,
    node: [
      { opType: 'Constant', output: ['k'], attribute: [{ name: 'value_float', type: AT.FLOAT, f: 2 }] },
      { opType: op, input: ['h', 'k'], output: [`${name}_out`], name: `${name}_op` },
    ],
    // the else branch's output left untyped, as ONNX allows for subgraphs (Silero VAD v5 does it)
    output: [name === 'else' ? { name: `${name}_out` } : vi(`${name}_out`, ['n', null])],
    valueInfo: [vi('k', [])],
  });
  const graph: IGraphProto = {
    name: 'rich',
    node: [
      { opType: 'Relu', input: ['x'], output: ['h'], name: 'relu' },
      {
        opType: 'Custom',
        domain: 'com.example',
        name: 'custom',
        input: ['h', '', 'f16'],
        output: ['c', ''],
        attribute: [
          { name: 'i', type: AT.INT, i: -5 },
          { name: 'zero', type: AT.INT, i: 0 },
          { name: 'f', type: AT.FLOAT, f: 0.1 },
          { name: 'neg0', type: AT.FLOAT, f: -0 },
          { name: 's', type: AT.STRING, s: enc.encode('héllo') },
          { name: 'empty_s', type: AT.STRING, s: new Uint8Array(0) },
          { name: 'ints', type: AT.INTS, ints: [1, -1, 2 ** 40, -(2 ** 40)] },
          { name: 'no_ints', type: AT.INTS },
          { name: 'floats', type: AT.FLOATS, floats: [1.5, -2.25, 3e-8] },
          { name: 'strings', type: AT.STRINGS, strings: [enc.encode('a'), enc.encode(''), enc.encode('ü')] },
          { name: 't', type: AT.TENSOR, t: { dims: [2], dataType: E.INT64, rawData: bytesOf(BigInt64Array.of(INT64_MAX, INT64_MIN)) } },
          { name: 'body', type: AT.GRAPH, g: sub('body', 'Add') },
        ],
      },
      { opType: 'If', input: ['cond'], output: ['y'], name: 'if', attribute: [{ name: 'then_branch', type: AT.GRAPH, g: sub('then', 'Mul') }, { name: 'else_branch', type: AT.GRAPH, g: sub('else', 'Sub') }] },
    ],
    input: [vi('x', ['n', 3, null]), vi('cond', [], E.BOOL), vi('shapeless', undefined, E.INT64), vi('f16', undefined)],
    output: [vi('y', ['n', null]), vi('c', undefined, E.FLOAT16)],
    valueInfo: [vi('h', ['n', 3, null]), vi('unused_info', [7, 'm'], E.UINT8)],
    initializer: [
      { name: 'f16', dims: [halfBits.length], dataType: E.FLOAT16, rawData: bytesOf(halfBits) },
      { name: 'b', dims: [2, 2], dataType: E.BOOL, int32Data: [1, 0, 0, 1] },
      { name: 'i8', dims: [3], dataType: E.INT8, int32Data: [-128, 0, 127] },
      { name: 'u8', dims: [2], dataType: E.UINT8, int32Data: [0, 255] },
      { name: 'i16', dims: [2], dataType: E.INT16, int32Data: [-32768, 32767] },
      { name: 'u16', dims: [2], dataType: E.UINT16, int32Data: [0, 65535] },
      { name: 'i32', dims: [2], dataType: E.INT32, int32Data: [-(2 ** 31), 2 ** 31 - 1] },
      { name: 'u32', dims: [2], dataType: E.UINT32, uint64Data: [0, 2 ** 32 - 1] },
      { name: 'i64', dims: [3], dataType: E.INT64, rawData: bytesOf(BigInt64Array.of(INT64_MAX, INT64_MIN, -1n)) },
      { name: 'u64', dims: [2], dataType: E.UINT64, rawData: bytesOf(BigUint64Array.of(0n, 2n ** 64n - 1n)) },
      { name: 'f64', dims: [3], dataType: E.DOUBLE, doubleData: [Math.PI, -0, 1e300] },
      { name: 'f32', dims: [2, 0, 3], dataType: E.FLOAT },
      { name: 'nan', dims: [4], dataType: E.FLOAT, rawData: bytesOf(Uint32Array.of(0x7fc00001, 0xffc00000, 0x80000000, 0x00000001)) },
      { name: 'scalar', dims: [], dataType: E.FLOAT, floatData: [42] },
    ],
  };
  const model = onnx.ModelProto.create({ irVersion: 7, opsetImport: [{ domain: '', version: 13 }, { domain: 'com.example', version: 3 }], producerName: 'tests', graph });
  return onnx.ModelProto.encode(model).finish();
}

// ---- tests -----------------------------------------------------------------------------------

describe('encodeModel (wire format)', () => {
  it('decodeModel(encodeModel(m)) gives m back, int64 extremes included', () => {
    const big = (v: bigint, unsigned = false) => ({ low: Number(BigInt.asIntN(32, v)), high: Number(BigInt.asIntN(32, v >> 32n)), unsigned });
    const m: ModelProto = {
      producerName: 'p',
      producerVersion: '',
      graph: {
        node: [{ input: ['a', ''], output: ['b'], name: 'n', opType: 'Op', domain: 'd', attribute: [{ name: 'x', type: 7, ints: [0, -1, 2 ** 53 - 1, big(INT64_MAX), big(INT64_MIN)], floats: [0.5], strings: [Uint8Array.of(1, 2)], f: -0.25, i: -3, s: new Uint8Array(0) }] }],
        name: 'g',
        initializer: [{ dims: [0, 3], dataType: 7, floatData: [1], int32Data: [-7, 3], int64Data: [-1, big(INT64_MAX)], name: 't', rawData: Uint8Array.of(9, 8), doubleData: [Math.E], uint64Data: [big(2n ** 64n - 1n, true)], externalData: [{ key: 'k', value: 'v' }], dataLocation: 1 }],
        sparseInitializer: [{ values: { name: 'sv' }, indices: { name: 'si' }, dims: [4] }],
        input: [{ name: 'a', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 3 }, { dimParam: 'N' }, {}] } } } }],
        output: [{ name: 'b', type: { tensorType: { elemType: 9 } } }],
        valueInfo: [{ name: 'v', type: {} }],
      },
      opsetImport: [{ domain: '', version: 13 }],
    };
    expect(decodeModel(encodeModel(m))).toStrictEqual(m);
  });

  it('returns a Uint8Array that owns its buffer', () => {
    const bytes = encodeModel({ producerName: 'x' });
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.byteLength);
  });
});

describe('exportOnnx: model header', () => {
  it('VERSION is package.json version', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')).version);
  });

  it('writes IR version, producer and opset imports; initializers are not graph inputs', () => {
    expect([7, 13, 18, 19, 20, 21].map(irVersionFor)).toEqual([8, 8, 8, 9, 9, 10]);
    const out = exportOnnx(importOnnx(richModel()));
    const proto = onnx.ModelProto.decode(out);
    expect(Number(proto.irVersion)).toBe(8);
    expect(proto.producerName).toBe('edgeprune');
    expect(proto.producerVersion).toBe(VERSION);
    expect(proto.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 13], ['com.example', 1]]);
    const g = proto.graph as onnxProto.onnx.GraphProto;
    expect(g.input.map((i) => i.name)).toEqual(['x', 'cond', 'shapeless']); // 'f16' is an initializer
    expect(g.node.map((n) => n.opType)).toEqual(['Relu', 'Custom', 'If']);
    // the domain version the IR cannot know can be given
    const withDomain = onnx.ModelProto.decode(exportOnnx(importOnnx(richModel()), { domains: { 'com.example': 3 } }));
    expect(withDomain.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 13], ['com.example', 3]]);
  });
});

describe('exportOnnx: round trip importOnnx(exportOnnx(g)) = g', () => {
  it('every tensor type, attribute kind, symbolic/unknown dim, value_info, domain and subgraph', () => {
    const bytes = richModel();
    expectRoundTrip(bytes);
    const g = importOnnx(exportOnnx(importOnnx(bytes)));
    expect(g.inputs[0].dims).toEqual(['n', 3, expect.stringMatching(/^\?\d+$/)]);
    expect(g.nodes[1].domain).toBe('com.example');
    expect(g.nodes[1].attrs.f).toEqual({ kind: 'float', value: Math.fround(0.1) });
    // an untyped subgraph output stays untyped: no guessed type is written
    const elseBranch = (g.nodes[2].attrs.else_branch as { value: Graph }).value;
    expect(elseBranch.outputs[0]).toMatchObject({ name: 'else_out', untyped: true });
    expect((g.nodes[2].attrs.then_branch as { value: Graph }).value.outputs[0].untyped).toBeUndefined();
    const proto = onnx.ModelProto.decode(exportOnnx(g));
    expect(proto.graph?.node?.[2].attribute?.find((a) => a.name === 'else_branch')?.g?.output?.[0].type).toBeNull();
  });

  it.each(runnableModels().map((m) => [m.name, m] as const))('%s', (_name, m) => {
    expectRoundTrip(m.bytes);
  });

  it('finds the pretrained models', () => {
    expect(pretrained.length).toBeGreaterThanOrEqual(3);
  });

  it.each(pretrained)('pretrained %s', (file) => {
    expectRoundTrip(readFileSync(join(MODEL_DIR, file)));
  });

  it('float16: every non-NaN bit pattern survives widening and narrowing; NaN stays NaN', () => {
    const bits = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const bytes = onnx.ModelProto.encode({
      irVersion: 8,
      opsetImport: [{ version: 13 }],
      graph: { name: 'g', node: [{ opType: 'Identity', input: ['h'], output: ['y'] }], output: [vi('y', [65536], E.FLOAT16)], initializer: [{ name: 'h', dims: [65536], dataType: E.FLOAT16, rawData: bytesOf(bits) }] },
    }).finish();
    const out = onnx.ModelProto.decode(exportOnnx(importOnnx(bytes)));
    const raw = out.graph!.initializer![0].rawData!;
    const got = new Uint16Array(bytesOf(raw).buffer);
    for (let i = 0; i < 65536; i++) {
      const isNaN = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
      if (isNaN) expect(Number.isNaN(halfToFloat(got[i])), `0x${i.toString(16)}`).toBe(true);
      else if (got[i] !== i) expect.fail(`float16 0x${i.toString(16)} came back as 0x${got[i].toString(16)}`);
    }
  });

  it('float16: values a pass computed round to the nearest half (ties to even)', () => {
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(floatToHalf(65519)).toBe(0x7bff);
    expect(floatToHalf(65520)).toBe(0x7c00); // rounds past the largest half → Inf
    expect(floatToHalf(2 ** -25)).toBe(0); // tie between 0 and the smallest subnormal → 0
    expect(floatToHalf(-(2 ** -25) * 1.5)).toBe(0x8001);
    expect(floatToHalf(2 ** -14 - 2 ** -25)).toBe(0x0400); // subnormal rounding up into the normals
    const r = rng(3);
    const wrong: string[] = [];
    for (let t = 0; t < 20000; t++) {
      const v = Math.fround((r() - 0.5) * 2 ** Math.floor(r() * 40 - 28));
      const h = floatToHalf(v);
      const err = Math.abs(halfToFloat(h) - v);
      // no representable neighbour (same sign, finite or Inf) is closer
      for (const n of [h - 1, h + 1]) {
        if ((n & 0x7fff) > 0x7c00 || n < 0 || (n ^ h) & 0x8000) continue;
        if (Math.abs(halfToFloat(n) - v) < err) wrong.push(`${v} → 0x${h.toString(16)}, but 0x${n.toString(16)} is closer`);
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });
});

describe('exportOnnx: onnxruntime loads the exported files', () => {
  it.each(runnableModels().map((m) => [m.name, m] as const))('%s: same outputs as the original; edgeprune matches ORT', async (_name, m) => {
    const exported = exportOnnx(importOnnx(m.bytes));
    const feeds = feedsFor(importOnnx(m.bytes), m.dimValues);
    await expectSameOrtOutputs(m.bytes, exported, feeds);
    await expectSameAsOrt(exported, { feeds, what: 'edgeprune on the exported file' });
  });

  it.each(pretrained)('pretrained %s: same outputs as the original; edgeprune matches ORT', async (file) => {
    const bytes = readFileSync(join(MODEL_DIR, file));
    const exported = exportOnnx(importOnnx(bytes));
    const feeds = feedsFor(importOnnx(bytes));
    await expectSameOrtOutputs(bytes, exported, feeds);
    await expectSameAsOrt(exported, { feeds, what: 'edgeprune on the exported file' });
  });
});

describe('exportOnnx: graphs edited in memory', () => {
  /** x[2,6] → Gemm(W1 8×6) → Relu → Identity → Gemm(W2 3×8) → y */
  function mlp(): { bytes: Uint8Array; W1: Float32Array; B1: Float32Array; W2: Float32Array; B2: Float32Array } {
    const W1 = rand(48);
    const B1 = rand(8);
    const W2 = rand(24);
    const B2 = rand(3);
    const bytes = buildHarness({
      nodes: [
        { op: 'Gemm', inputs: ['x', 'W1', 'B1'], outputs: ['h'], attrs: { transB: 1 }, name: 'fc1' },
        { op: 'Relu', inputs: ['h'], outputs: ['r'], name: 'relu' },
        { op: 'Identity', inputs: ['r'], outputs: ['r2'], name: 'id' },
        { op: 'Gemm', inputs: ['r2', 'W2', 'B2'], outputs: ['y'], attrs: { transB: 1 }, name: 'fc2' },
      ],
      inputs: [{ name: 'x', dims: [2, 6] }],
      outputs: [{ name: 'y', dims: [2, 3] }],
      initializers: [
        { name: 'W1', dims: [8, 6], data: W1 },
        { name: 'B1', dims: [8], data: B1 },
        { name: 'W2', dims: [3, 8], data: W2 },
        { name: 'B2', dims: [3], data: B2 },
      ],
    });
    return { bytes, W1, B1, W2, B2 };
  }

  it('hidden units pruned (smaller initializers), a node removed and its consumers rewired', async () => {
    const m = mlp();
    const g = importOnnx(m.bytes);
    const keep = [0, 2, 3, 6, 7];
    // prune hidden units: rows of W1 and B1, columns of W2
    const W1 = Float32Array.from(keep.flatMap((r) => Array.from(m.W1.subarray(r * 6, r * 6 + 6))));
    const B1 = Float32Array.from(keep.map((r) => m.B1[r]));
    const W2 = Float32Array.from([0, 1, 2].flatMap((o) => keep.map((r) => m.W2[o * 8 + r])));
    g.initializers.set('W1', { dtype: 'float32', dims: [keep.length, 6], data: W1 });
    g.initializers.set('B1', { dtype: 'float32', dims: [keep.length], data: B1 });
    g.initializers.set('W2', { dtype: 'float32', dims: [3, keep.length], data: W2 });
    // drop the Identity: its consumer reads the Relu's output directly
    const id = g.nodes.find((n) => n.op === 'Identity') as Node;
    g.nodes = g.nodes.filter((n) => n !== id).map((n) => ({ ...n, inputs: n.inputs.map((x) => (x === id.outputs[0] ? id.inputs[0] : x)) }));
    g.valueInfo.set('r', { name: 'r', dtype: 'float32', dims: [2, keep.length] });

    const exported = exportOnnx(g);
    expect(withoutProducer(importOnnx(exported))).toStrictEqual(withoutProducer(g));
    const x = rand(12);
    const want = new Float32Array(6);
    for (let b = 0; b < 2; b++) {
      const hidden = keep.map((_, j) => Math.max(0, B1[j] + W1.subarray(j * 6, j * 6 + 6).reduce((s, v, i) => s + v * x[b * 6 + i], 0)));
      for (let o = 0; o < 3; o++) want[b * 3 + o] = m.B2[o] + hidden.reduce((s, h, j) => s + h * W2[o * keep.length + j], 0);
    }
    const ort = await runOrt(exported, { x: { data: x, dims: [2, 6] } });
    expect(ort.y.dims).toEqual([2, 3]);
    expectClose(ort.y.data, want, 'onnxruntime on the pruned model');
    await expectSameAsOrt(exported, { feeds: { x: { data: x, dims: [2, 6] } } });
    const s = await InferenceSession.create(exported);
    expect(s.inputNames).toEqual(['x']);
    await s.release();
  });

  it('a node removed without rewiring is a dangling input', () => {
    const g = importOnnx(mlp().bytes);
    g.nodes = g.nodes.filter((n) => n.op !== 'Identity');
    const e = formatError(() => exportOnnx(g));
    expect(e.message).toContain("node 'fc2' (Gemm) reads 'r2'");
  });
});

describe('exportOnnx: invalid graphs', () => {
  const base = (): Graph => importOnnx(runnableModels().find((m) => m.name.startsWith('MLP'))!.bytes);
  const cases: [string, (g: Graph) => void, RegExp][] = [
    ['a dangling input', (g) => { g.nodes[1].inputs[0] = 'nowhere'; }, /reads 'nowhere', which no graph input/],
    ['two nodes writing the same value', (g) => { g.nodes[1].outputs[0] = 'h'; }, /'h' is defined twice/],
    ['a node output shadowing an initializer', (g) => { g.nodes[0].outputs[0] = 'W2'; }, /'W2' is defined twice/],
    ['a graph input that is also an initializer', (g) => { g.inputs.push({ name: 'W1', dtype: 'float32', dims: [8, 6] }); }, /'W1' is defined twice/],
    ['duplicate graph output names', (g) => { g.outputs.push({ ...g.outputs[0] }); }, /graph output 'y' is listed twice/],
    ['a graph output nothing produces', (g) => { g.outputs[0] = { ...g.outputs[0], name: 'zz' }; }, /graph output 'zz' is not produced/],
    ['duplicate node names', (g) => { g.nodes[1].name = g.nodes[0].name; }, /two nodes are named/],
    ['nodes out of topological order', (g) => { g.nodes.reverse(); }, /reads '.+', which no graph input.*topological order/],
    ['initializer data not matching its dims', (g) => { g.initializers.get('B1')!.dims = [9]; }, /initializer 'B1' holds 8 values but its dims \[9\] need 9/],
    ['initializer data of the wrong array type', (g) => { g.initializers.set('B1', { dtype: 'int64', dims: [8], data: new Float32Array(8) }); }, /initializer 'B1' is int64 but its data is a Float32Array/],
    ['an invalid dim', (g) => { g.inputs[0].dims = [-1, 6]; }, /graph input 'x' has an invalid dim -1/],
    ['a non-integer int attribute', (g) => { g.nodes[0].attrs.transB = { kind: 'int', value: 0.5 }; }, /attribute 'transB' is an int attribute but holds 0.5/],
    ['an opset edgeprune does not write', (g) => { g.opset = 6; }, /opset is 6/],
  ];
  it.each(cases)('%s', (_name, edit, message) => {
    const g = base();
    edit(g);
    expect(formatError(() => exportOnnx(g)).message).toMatch(message);
  });

  it('a subgraph reading a value no enclosing scope defines, naming the subgraph', () => {
    const spec = runnableModels().find((m) => m.name.startsWith('If with a constant'))!;
    const g = importOnnx(spec.bytes);
    const ifNode = g.nodes.find((n) => n.op === 'If')!;
    const then = ifNode.attrs.then_branch as { kind: 'graph'; value: Graph };
    then.value.nodes[0].inputs[0] = 'b'; // the If's own output: not visible inside it
    const e = formatError(() => exportOnnx(g));
    expect(e.message).toMatch(/subgraph 'then_branch' of node '.+' \(If\).*reads 'b'/);
  });
});
