// The ONNX importer: every tensor storage form, Constant nodes, shapes, names, order, subgraphs,
// and broken files. Models are built with onnx-proto (the official schema), independently of the
// importer; the real models come from the openwakeword-js npm package.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { onnx, E, AT, type IGraphProto, type ITensorProto, type INodeProto, type IValueInfoProto } from './util/onnx-proto.js';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, UnsupportedOpError } from '../src/errors.js';
import type { Graph, Node } from '../src/graph/ir.js';
import { importOnnx } from '../src/onnx/import.js';
import { buildModel } from './util/onnx-build.js';
import { rng } from './util/rng.js';


// ---- local builders (test/util/onnx-build.ts covers only float MLP/CNN specs) ----------------

function encode(graph: IGraphProto, opts: { opset?: number; domain?: string; producer?: string } = {}): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: opts.domain ?? '', version: opts.opset ?? 13 }],
    producerName: opts.producer ?? 'edgeprune-tests',
    producerVersion: '1.2',
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

function vi(name: string, dims?: (number | string | null)[], elemType: number = E.FLOAT): IValueInfoProto {
  const dim = dims?.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {}));
  return { name, type: { tensorType: { elemType, shape: dim ? { dim } : undefined } } };
}

function node(op: string, inputs: string[], outputs: string[], extra: Partial<INodeProto> = {}): INodeProto {
  return { opType: op, input: inputs, output: outputs, ...extra };
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** A graph `y = Identity(x)` plus the given initializers (so tensors can be checked alone). */
function withInits(initializer: ITensorProto[], extraNodes: INodeProto[] = []): Uint8Array {
  return encode({ name: 'g', node: [node('Identity', ['x'], ['y']), ...extraNodes], input: [vi('x', [2])], output: [vi('y', [2])], initializer });
}

function init(bytes: Uint8Array, name = 'w'): ReturnType<Graph['initializers']['get']> {
  const t = importOnnx(bytes).initializers.get(name);
  expect(t, `initializer ${name}`).toBeDefined();
  return t;
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

/** Decodes with protobufjs configured as in bundles without the `long` package: int64 → number. */
function withoutLong<T>(fn: () => T): T {
  const pb = createRequire(createRequire(import.meta.url).resolve('onnx-proto'))('protobufjs/minimal');
  const saved = pb.util.Long;
  pb.util.Long = null;
  pb.configure();
  try {
    return fn();
  } finally {
    pb.util.Long = saved;
    pb.configure();
  }
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const long = (v: bigint) => ({ low: Number(BigInt.asIntN(32, v)), high: Number(BigInt.asIntN(32, v >> 32n)), unsigned: false });

// ---- tensors ---------------------------------------------------------------------------------

describe('importOnnx: tensor storage forms', () => {
  it('reads float raw_data at an unaligned offset, also from a Node Buffer', () => {
    const w = Float32Array.from([1.5, -2.25, 3e-8, 1e30, -0, 7]);
    // the name's length moves raw_data in the file: pick one that leaves it unaligned
    const build = (name: string) => withInits([{ name, dims: [2, 3], dataType: E.FLOAT, rawData: bytesOf(w) }]);
    const name = ['w', 'ww', 'www'].find((n) => onnx.ModelProto.decode(build(n)).graph!.initializer![0].rawData!.byteOffset % 4 !== 0)!;
    expect(name).toBeDefined();
    const bytes = build(name);
    for (const input of [bytes, Buffer.from(bytes)]) {
      const t = importOnnx(input).initializers.get(name)!;
      expect(t.dtype).toBe('float32');
      expect(t.dims).toEqual([2, 3]);
      expect(t.data).toBeInstanceOf(Float32Array);
      expect(Array.from(t.data as Float32Array)).toEqual(Array.from(w));
    }
  });

  it('reads float_data', () => {
    const t = init(withInits([{ name: 'w', dims: [3], dataType: E.FLOAT, floatData: [0.5, -1, 2] }]))!;
    expect(t.data).toEqual(Float32Array.from([0.5, -1, 2]));
  });

  it('reads int64_data exactly, given as Long objects or numbers, decoded with and without Long', () => {
    const wanted = [INT64_MAX, INT64_MIN, -1n, 5n, 2n ** 40n + 3n];
    const bytes = withInits([
      { name: 'a', dims: [5], dataType: E.INT64, int64Data: wanted.map(long) },
      { name: 'b', dims: [3], dataType: E.INT64, int64Data: [-1, 5, 2 ** 40 + 3] },
      { name: 'c', dims: [2], dataType: E.INT64, rawData: bytesOf(BigInt64Array.from([INT64_MAX, -7n])) },
    ]);
    const g = importOnnx(bytes);
    expect(Array.from(g.initializers.get('a')!.data as BigInt64Array)).toEqual(wanted);
    expect(Array.from(g.initializers.get('b')!.data as BigInt64Array)).toEqual([-1n, 5n, 2n ** 40n + 3n]);
    expect(Array.from(g.initializers.get('c')!.data as BigInt64Array)).toEqual([INT64_MAX, -7n]);
    // without `long`, protobufjs gives doubles: exact below 2^53, the int64 extremes clamp
    // (INT64_MAX rounds to 2^63 and must not wrap to INT64_MIN)
    const h = withoutLong(() => importOnnx(bytes));
    expect(Array.from(h.initializers.get('a')!.data as BigInt64Array)).toEqual(wanted);
    expect(Array.from(h.initializers.get('b')!.data as BigInt64Array)).toEqual([-1n, 5n, 2n ** 40n + 3n]);
  });

  it('reads float16 from raw_data and int32_data, widened to float32', () => {
    const halves = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00, 0xfc00, 0x8000];
    const want = [1, -2, 0.5, 65504, 2 ** -24, Infinity, -Infinity, -0];
    const bytes = withInits([
      { name: 'r', dims: [8], dataType: E.FLOAT16, rawData: bytesOf(Uint16Array.from(halves)) },
      { name: 'i', dims: [2, 4], dataType: E.FLOAT16, int32Data: halves },
      { name: 'n', dims: [1], dataType: E.FLOAT16, int32Data: [0x7e00] },
    ]);
    const g = importOnnx(bytes);
    for (const k of ['r', 'i']) {
      const t = g.initializers.get(k)!;
      expect(t.dtype).toBe('float16');
      expect(t.data).toBeInstanceOf(Float32Array);
      expect(Array.from(t.data as Float32Array)).toEqual(want);
    }
    expect(Number.isNaN((g.initializers.get('n')!.data as Float32Array)[0])).toBe(true);
  });

  it('reads bool from raw_data and int32_data as 0/1 bytes', () => {
    const g = importOnnx(withInits([
      { name: 'r', dims: [3], dataType: E.BOOL, rawData: Uint8Array.from([1, 0, 1]) },
      { name: 'i', dims: [3], dataType: E.BOOL, int32Data: [0, 1, 1] },
    ]));
    expect(g.initializers.get('r')).toEqual({ dtype: 'bool', dims: [3], data: Uint8Array.from([1, 0, 1]) });
    expect(g.initializers.get('i')).toEqual({ dtype: 'bool', dims: [3], data: Uint8Array.from([0, 1, 1]) });
  });

  it('reads the other element types from their typed fields and from raw_data', () => {
    const g = importOnnx(withInits([
      { name: 'd', dims: [2], dataType: E.DOUBLE, doubleData: [Math.PI, -1e300] },
      { name: 'dr', dims: [1], dataType: E.DOUBLE, rawData: bytesOf(Float64Array.of(Math.E)) },
      { name: 'i32', dims: [2], dataType: E.INT32, int32Data: [-5, 2 ** 31 - 1] },
      { name: 'i16', dims: [2], dataType: E.INT16, int32Data: [-300, 300] },
      { name: 'i8', dims: [3], dataType: E.INT8, int32Data: [-128, 127, -1] },
      { name: 'u8', dims: [2], dataType: E.UINT8, int32Data: [0, 255] },
      { name: 'u16', dims: [1], dataType: E.UINT16, int32Data: [65535] },
      { name: 'u32', dims: [2], dataType: E.UINT32, uint64Data: [4294967295, 1] },
      { name: 'u64', dims: [2], dataType: E.UINT64, uint64Data: [{ low: -1, high: -1, unsigned: true }, 3] },
      { name: 'i8r', dims: [2], dataType: E.INT8, rawData: Uint8Array.from([0xff, 0x01]) },
      { name: 'u16r', dims: [2], dataType: E.UINT16, rawData: bytesOf(Uint16Array.of(40000, 2)) },
      { name: 'scalar', dims: [], dataType: E.FLOAT, floatData: [4] },
      { name: 'empty', dims: [0, 3], dataType: E.FLOAT },
    ]));
    const get = (k: string) => g.initializers.get(k)!;
    expect(get('d')).toEqual({ dtype: 'float64', dims: [2], data: Float64Array.of(Math.PI, -1e300) });
    expect(get('dr').data).toEqual(Float64Array.of(Math.E));
    expect(get('i32').data).toEqual(Int32Array.of(-5, 2 ** 31 - 1));
    expect(get('i16')).toEqual({ dtype: 'int16', dims: [2], data: Int16Array.of(-300, 300) });
    expect(get('i8').data).toEqual(Int8Array.of(-128, 127, -1));
    expect(get('u8')).toEqual({ dtype: 'uint8', dims: [2], data: Uint8Array.of(0, 255) });
    expect(get('u16').data).toEqual(Uint16Array.of(65535));
    expect(get('u32')).toEqual({ dtype: 'uint32', dims: [2], data: Uint32Array.of(4294967295, 1) });
    expect(get('u64').data).toEqual(BigUint64Array.of(2n ** 64n - 1n, 3n));
    expect(get('i8r').data).toEqual(Int8Array.of(-1, 1));
    expect(get('u16r').data).toEqual(Uint16Array.of(40000, 2));
    expect(get('scalar')).toEqual({ dtype: 'float32', dims: [], data: Float32Array.of(4) });
    expect(get('empty')).toEqual({ dtype: 'float32', dims: [0, 3], data: new Float32Array(0) });
  });

  it('densifies sparse initializers (linear and coordinate indices)', () => {
    const g = importOnnx(encode({
      name: 'g',
      node: [node('Add', ['x', 's'], ['y']), node('Add', ['y', 'c'], ['z'])],
      input: [vi('x', [2, 3])],
      output: [vi('z', [2, 3])],
      sparseInitializer: [
        { dims: [2, 3], values: { name: 's', dims: [2], dataType: E.FLOAT, floatData: [5, 6] }, indices: { dims: [2], dataType: E.INT64, int64Data: [1, 5] } },
        { dims: [2, 3], values: { name: 'c', dims: [2], dataType: E.FLOAT, floatData: [7, 8] }, indices: { dims: [2, 2], dataType: E.INT64, int64Data: [0, 2, 1, 0] } },
      ],
    }));
    expect(g.initializers.get('s')).toEqual({ dtype: 'float32', dims: [2, 3], data: Float32Array.of(0, 5, 0, 0, 0, 6) });
    expect(g.initializers.get('c')!.data).toEqual(Float32Array.of(0, 0, 7, 8, 0, 0));
  });

  it('rejects data whose length does not match the dims, naming the tensor', () => {
    const cases: ITensorProto[] = [
      { name: 'short_raw', dims: [4], dataType: E.FLOAT, rawData: bytesOf(Float32Array.of(1, 2, 3)) },
      { name: 'odd_raw', dims: [1], dataType: E.FLOAT, rawData: Uint8Array.of(1, 2, 3) },
      { name: 'long_floats', dims: [2], dataType: E.FLOAT, floatData: [1, 2, 3] },
      { name: 'no_data', dims: [2, 2], dataType: E.INT64 },
      { name: 'i64_short', dims: [3], dataType: E.INT64, int64Data: [1, 2] },
    ];
    for (const t of cases) expect(formatError(() => importOnnx(withInits([t]))).message).toContain(`'${t.name}'`);
  });

  it('rejects external data with advice to embed the weights', () => {
    const t: ITensorProto = { name: 'w', dims: [4], dataType: E.FLOAT, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: [{ key: 'location', value: 'w.bin' }] };
    const err = formatError(() => importOnnx(withInits([t])));
    expect(err.message).toMatch(/'w'.*external data.*not supported.*re-save the model with the weights embedded/);
  });

  it('rejects tensor types the IR cannot hold', () => {
    expect(formatError(() => importOnnx(withInits([{ name: 'w', dims: [1], dataType: E.BFLOAT16, int32Data: [0] }]))).message).toContain('BFLOAT16');
    expect(formatError(() => importOnnx(withInits([{ name: 'w', dims: [1], dataType: E.STRING, stringData: [Uint8Array.of(65)] }]))).message).toContain('STRING');
  });
});

// ---- Constant nodes and attributes -----------------------------------------------------------

describe('importOnnx: Constant nodes and attributes', () => {
  it('turns every Constant attribute form into an initializer and drops the node', () => {
    const c = (out: string, attr: onnxProto.onnx.IAttributeProto, name = '') => node('Constant', [], [out], { name, attribute: [attr] });
    const bytes = encode({
      name: 'g',
      node: [
        c('t', { name: 'value', type: AT.TENSOR, t: { dims: [2], dataType: E.FLOAT, floatData: [1, 2] } }, 'const_t'),
        node('Add', ['x', 't'], ['a'], { name: 'add' }),
        c('f', { name: 'value_float', type: AT.FLOAT, f: 0.25 }),
        c('fs', { name: 'value_floats', type: AT.FLOATS, floats: [1, -1, 0.5] }),
        node('Mul', ['a', 'f'], ['b'], { name: 'mul' }),
        c('i', { name: 'value_int', type: AT.INT, i: long(INT64_MAX) }),
        c('is', { name: 'value_ints', type: AT.INTS, ints: [3, -1, long(INT64_MIN)] }),
        node('Relu', ['b'], ['y'], { name: 'relu' }),
      ],
      input: [vi('x', [2])],
      output: [vi('y', [2])],
    });
    const g = importOnnx(bytes);
    expect(g.nodes.map((n) => n.name)).toEqual(['add', 'mul', 'relu']);
    expect(g.nodes.some((n) => n.op === 'Constant')).toBe(false);
    expect(g.initializers.get('t')).toEqual({ dtype: 'float32', dims: [2], data: Float32Array.of(1, 2) });
    expect(g.initializers.get('f')).toEqual({ dtype: 'float32', dims: [], data: Float32Array.of(0.25) });
    expect(g.initializers.get('fs')).toEqual({ dtype: 'float32', dims: [3], data: Float32Array.of(1, -1, 0.5) });
    expect(g.initializers.get('i')).toEqual({ dtype: 'int64', dims: [], data: BigInt64Array.of(INT64_MAX) });
    expect(g.initializers.get('is')).toEqual({ dtype: 'int64', dims: [3], data: BigInt64Array.of(3n, -1n, INT64_MIN) });
  });

  it('rejects string Constants as unsupported', () => {
    const bytes = withInits([], [node('Constant', [], ['s'], { name: 'cs', attribute: [{ name: 'value_string', type: AT.STRING, s: Uint8Array.of(65) }] })]);
    expect(() => importOnnx(bytes)).toThrow(UnsupportedOpError);
  });

  it('maps every attribute kind, with int64 values clamped beyond 2^53', () => {
    const bytes = encode({
      name: 'g',
      node: [node('Custom', ['x'], ['y'], {
        name: 'n',
        domain: 'com.example',
        attribute: [
          { name: 'i', type: AT.INT, i: -7 },
          { name: 'big', type: AT.INT, i: long(INT64_MAX) },
          { name: 'small', type: AT.INT, i: long(INT64_MIN) },
          { name: 'f', type: AT.FLOAT, f: 0.5 },
          { name: 's', type: AT.STRING, s: new TextEncoder().encode('größe ✓') },
          { name: 'is', type: AT.INTS, ints: [1, long(2n ** 40n), long(-(2n ** 60n))] },
          { name: 'fs', type: AT.FLOATS, floats: [0.25, -4] },
          { name: 'ss', type: AT.STRINGS, strings: [new TextEncoder().encode('a'), new TextEncoder().encode('βc')] },
          { name: 't', type: AT.TENSOR, t: { dims: [1], dataType: E.INT32, int32Data: [9] } },
        ],
      })],
      input: [vi('x', [1])],
      output: [vi('y', [1])],
    });
    const n = importOnnx(bytes).nodes[0];
    expect(n.domain).toBe('com.example');
    expect(n.attrs).toEqual({
      i: { kind: 'int', value: -7 },
      big: { kind: 'int', value: Number.MAX_SAFE_INTEGER },
      small: { kind: 'int', value: Number.MIN_SAFE_INTEGER },
      f: { kind: 'float', value: 0.5 },
      s: { kind: 'string', value: 'größe ✓' },
      is: { kind: 'ints', value: [1, 2 ** 40, Number.MIN_SAFE_INTEGER] },
      fs: { kind: 'floats', value: [0.25, -4] },
      ss: { kind: 'strings', value: ['a', 'βc'] },
      t: { kind: 'tensor', value: { dtype: 'int32', dims: [1], data: Int32Array.of(9) } },
    });
    // the same through protobufjs without `long`
    const m = withoutLong(() => importOnnx(bytes)).nodes[0];
    expect(m.attrs).toEqual(n.attrs);
  });

  it('rejects attributes with no value as damage, and unreadable kinds as unsupported', () => {
    const empty = withInits([], [node('Custom', ['x'], ['z'], { name: 'c', domain: 'x', attribute: [{ name: 'a' }] })]);
    expect(formatError(() => importOnnx(empty)).message).toMatch(/node 'c' \(Custom\): attribute 'a' has no valid value/);
    const tensors = withInits([], [node('Custom', ['x'], ['z'], { name: 'c', domain: 'x', attribute: [{ name: 'ts', type: AT.TENSORS, tensors: [{ dims: [1], dataType: E.FLOAT, floatData: [1] }] }] })]);
    expect(() => importOnnx(tensors)).toThrow(/attribute 'ts' is of kind TENSORS/);
    expect(() => importOnnx(tensors)).toThrow(UnsupportedOpError);
  });

  it('infers the kind of attributes with no type (IR version 1-2 files)', () => {
    const bytes = withInits([], [node('Custom', ['x'], ['z'], { domain: 'x', attribute: [{ name: 'a', i: 3 }, { name: 'b', floats: [1] }, { name: 'c', s: Uint8Array.of(104) }] })]);
    const n = importOnnx(bytes).nodes[1];
    expect(n.attrs).toEqual({ a: { kind: 'int', value: 3 }, b: { kind: 'floats', value: [1] }, c: { kind: 'string', value: 'h' } });
  });
});

// ---- graph structure -------------------------------------------------------------------------

describe('importOnnx: graph structure', () => {
  it('keeps inputs, outputs, value_info, opset and producer; symbolic and missing dims', () => {
    const bytes = encode({
      name: 'main',
      node: [node('Relu', ['x', ''], ['h']), node('Flatten', ['h'], ['y'])],
      input: [vi('x', ['batch', 3, null, null]), vi('mask', undefined, E.BOOL)],
      output: [vi('y', ['batch', null])],
      valueInfo: [vi('h', ['batch', 3, 4, 4], E.FLOAT), { name: 'seq', type: { sequenceType: {} } }],
    }, { opset: 11, producer: 'pytorch' });
    const g = importOnnx(bytes);
    expect(g.name).toBe('main');
    expect(g.opset).toBe(11);
    expect(g.producer).toEqual({ name: 'pytorch', version: '1.2' });
    expect(g.inputs).toEqual([
      { name: 'x', dtype: 'float32', dims: ['batch', 3, '?0', '?1'] },
      { name: 'mask', dtype: 'bool', dims: undefined },
    ]);
    expect(g.outputs).toEqual([{ name: 'y', dtype: 'float32', dims: ['batch', '?2'] }]);
    expect([...g.valueInfo.values()]).toEqual([{ name: 'h', dtype: 'float32', dims: ['batch', 3, 4, 4] }]);
    expect(g.nodes[0].inputs).toEqual(['x', '']);
  });

  it('excludes initializers that the file also lists as graph inputs', () => {
    const bytes = buildModel({ nodes: [{ op: 'Gemm', inputs: ['x', 'W', 'B'], outputs: ['y'] }], inputs: [{ name: 'x', dims: [1, 2] }, { name: 'W', dims: [2, 2] }, { name: 'B', dims: [2] }], outputs: ['y'], initializers: [{ name: 'W', dims: [2, 2], data: new Float32Array(4) }, { name: 'B', dims: [2], data: new Float32Array(2) }] });
    const g = importOnnx(bytes);
    expect(g.inputs.map((i) => i.name)).toEqual(['x']);
    expect([...g.initializers.keys()]).toEqual(['W', 'B']);
  });

  it('names unnamed and duplicate-named nodes <op>_<index>, uniquely', () => {
    const bytes = encode({
      name: 'g',
      node: [
        node('Relu', ['x'], ['a'], { name: 'r' }),
        node('Relu', ['a'], ['b'], { name: 'r' }),
        node('Sigmoid', ['b'], ['c']),
        node('Relu', ['c'], ['d'], { name: 'Relu_1' }),
        node('Identity', ['d'], ['y']),
      ],
      input: [vi('x', [1])],
      output: [vi('y', [1])],
    });
    const names = importOnnx(bytes).nodes.map((n) => n.name);
    expect(names[0]).toBe('r');
    expect(names[2]).toBe('Sigmoid_2');
    expect(names[3]).toBe('Relu_1');
    expect(names[4]).toBe('Identity_4');
    expect(new Set(names).size).toBe(5);
    expect(names[1]).toMatch(/^Relu_1_\d+$/); // Relu_1 is taken by a named node
  });

  it('normalises the ai.onnx domain and keeps other domains', () => {
    const bytes = encode({
      name: 'g',
      node: [node('Relu', ['x'], ['a'], { domain: 'ai.onnx' }), node('FusedConv', ['a'], ['y'], { domain: 'com.microsoft' })],
      input: [vi('x', [1])],
      output: [vi('y', [1])],
    }, { domain: 'ai.onnx', opset: 17 });
    const g = importOnnx(bytes);
    expect(g.opset).toBe(17);
    expect(g.nodes.map((n) => [n.op, n.domain])).toEqual([['Relu', ''], ['FusedConv', 'com.microsoft']]);
  });

  it('rejects opsets outside 7-21 and models without an ai.onnx opset', () => {
    const g: IGraphProto = { name: 'g', node: [node('Relu', ['x'], ['y'])], input: [vi('x', [1])], output: [vi('y', [1])] };
    expect(importOnnx(encode(g, { opset: 7 })).opset).toBe(7);
    expect(importOnnx(encode(g, { opset: 21 })).opset).toBe(21);
    expect(formatError(() => importOnnx(encode(g, { opset: 6 }))).message).toMatch(/opset 6/);
    expect(formatError(() => importOnnx(encode(g, { opset: 22 }))).message).toMatch(/opset 22/);
    expect(formatError(() => importOnnx(encode(g, { domain: 'com.example' }))).message).toMatch(/no ai.onnx opset/);
  });

  it('sorts a graph whose nodes are not in topological order', () => {
    const bytes = encode({
      name: 'g',
      node: [
        node('Add', ['b', 'c'], ['y'], { name: 'last' }),
        node('Relu', ['a'], ['b'], { name: 'second' }),
        node('Neg', ['x'], ['a'], { name: 'first' }),
        node('Abs', ['a'], ['c'], { name: 'third' }),
      ],
      input: [vi('x', [1])],
      output: [vi('y', [1])],
    });
    const g = importOnnx(bytes);
    expect(g.nodes.map((n) => n.name)).toEqual(['first', 'second', 'third', 'last']);
    expectTopological(g);
  });

  it('keeps a graph already in order exactly as it is', () => {
    const bytes = encode({ name: 'g', node: [node('Neg', ['x'], ['b'], { name: 'n1' }), node('Neg', ['x'], ['a'], { name: 'n2' }), node('Add', ['a', 'b'], ['y'], { name: 'n3' })], input: [vi('x', [1])], output: [vi('y', [1])] });
    expect(importOnnx(bytes).nodes.map((n) => n.name)).toEqual(['n1', 'n2', 'n3']);
  });

  it('rejects cycles and values that nothing produces, naming the node and the value', () => {
    const cyc = encode({ name: 'g', node: [node('Add', ['x', 'b'], ['a'], { name: 'p' }), node('Relu', ['a'], ['b'], { name: 'q' }), node('Relu', ['a'], ['y'])], input: [vi('x', [1])], output: [vi('y', [1])] });
    expect(formatError(() => importOnnx(cyc)).message).toMatch(/cycle: node '(p|q)'.*'(a|b)'/);
    const missing = encode({ name: 'g', node: [node('Add', ['x', 'ghost'], ['y'], { name: 'adder' })], input: [vi('x', [1])], output: [vi('y', [1])] });
    expect(formatError(() => importOnnx(missing)).message).toMatch(/node 'adder' \(Add\) reads 'ghost'/);
    const noOut = encode({ name: 'g', node: [node('Relu', ['x'], ['a'])], input: [vi('x', [1])], output: [vi('y', [1])] });
    expect(formatError(() => importOnnx(noOut)).message).toMatch(/graph output 'y'/);
    const twice = encode({ name: 'g', node: [node('Relu', ['x'], ['y'], { name: 'one' }), node('Neg', ['x'], ['y'], { name: 'two' })], input: [vi('x', [1])], output: [vi('y', [1])] });
    expect(formatError(() => importOnnx(twice)).message).toMatch(/node 'two' \(Neg\) writes 'y'/);
  });

  it('imports If subgraphs recursively, reading outer values, and orders by what they read', () => {
    const branch = (name: string, op: string): IGraphProto => ({
      name,
      // 'w' is an outer initializer, 'h' an outer node output, 'k' a Constant inside the branch
      node: [node('Constant', [], ['k'], { attribute: [{ name: 'value_float', type: AT.FLOAT, f: 2 }] }), node(op, ['h', 'w'], ['t']), node('Mul', ['t', 'k'], [`${name}_out`])],
      output: [vi(`${name}_out`, [2])],
    });
    const bytes = encode({
      name: 'g',
      node: [
        // listed before the node producing 'h', which only its branches read
        node('If', ['cond'], ['y'], { name: 'if', attribute: [{ name: 'then_branch', type: AT.GRAPH, g: branch('then', 'Add') }, { name: 'else_branch', type: AT.GRAPH, g: branch('else', 'Sub') }] }),
        node('Relu', ['x'], ['h'], { name: 'relu' }),
      ],
      input: [vi('x', [2]), vi('cond', [], E.BOOL)],
      output: [vi('y', [2])],
      initializer: [{ name: 'w', dims: [2], dataType: E.FLOAT, floatData: [1, 2] }],
    });
    const g = importOnnx(bytes);
    expect(g.nodes.map((n) => n.name)).toEqual(['relu', 'if']);
    const ifNode = g.nodes[1];
    for (const [key, op] of [['then_branch', 'Add'], ['else_branch', 'Sub']] as const) {
      const a = ifNode.attrs[key];
      expect(a.kind).toBe('graph');
      const sub = (a as { kind: 'graph'; value: Graph }).value;
      expect(sub.nodes.map((n) => n.op)).toEqual([op, 'Mul']);
      expect(sub.nodes[0].inputs).toEqual(['h', 'w']);
      expect(sub.initializers.get('k')!.data).toEqual(Float32Array.of(2));
      expect(sub.inputs).toEqual([]);
      expect(sub.opset).toBe(13);
    }
    // a subgraph reading a name defined nowhere is still an error
    const bad = encode({ name: 'g', node: [node('If', ['cond'], ['y'], { attribute: [{ name: 'then_branch', type: AT.GRAPH, g: { node: [node('Relu', ['nowhere'], ['o'])], output: [vi('o', [1])] } }] })], input: [vi('cond', [], E.BOOL)], output: [vi('y', [1])] });
    expect(formatError(() => importOnnx(bad)).message).toContain("'nowhere'");
  });
});

function expectTopological(g: Graph): void {
  const seen = new Set([...g.inputs.map((i) => i.name), ...g.initializers.keys(), '']);
  for (const n of g.nodes as Node[]) {
    for (const i of n.inputs) expect(seen.has(i), `${n.name} reads ${i} before it is produced`).toBe(true);
    for (const o of n.outputs) seen.add(o);
  }
}

// ---- broken files ----------------------------------------------------------------------------

/** A model exercising most of the importer, to cut and corrupt. */
function richModel(): Uint8Array {
  return encode({
    name: 'rich',
    node: [
      node('Constant', [], ['k'], { attribute: [{ name: 'value_ints', type: AT.INTS, ints: [1, -1] }] }),
      node('Reshape', ['x', 'k'], ['r'], { name: 'reshape' }),
      node('Gemm', ['r', 'W', 'B'], ['g'], { attribute: [{ name: 'transB', type: AT.INT, i: 1 }, { name: 'alpha', type: AT.FLOAT, f: 0.5 }] }),
      node('If', ['cond'], ['y'], { attribute: [{ name: 'then_branch', type: AT.GRAPH, g: { node: [node('Relu', ['g'], ['o1'])], output: [vi('o1', [1, 2])] } }, { name: 'else_branch', type: AT.GRAPH, g: { node: [node('Neg', ['g'], ['o2'])], output: [vi('o2', [1, 2])] } }] }),
    ],
    input: [vi('x', ['n', 3]), vi('cond', [], E.BOOL)],
    output: [vi('y', ['n', 2])],
    initializer: [
      { name: 'W', dims: [2, 3], dataType: E.FLOAT, rawData: bytesOf(Float32Array.of(1, 2, 3, 4, 5, 6)) },
      { name: 'B', dims: [2], dataType: E.FLOAT16, int32Data: [0x3c00, 0x4000] },
      { name: 'unused', dims: [2], dataType: E.INT64, int64Data: [long(INT64_MAX), 1] },
    ],
    valueInfo: [vi('r', ['n', 3])],
  });
}

/** Imports or throws a ModelFormatError the importer raised on purpose (no wrapped surprise). */
function importsOrRejectsCleanly(bytes: Uint8Array, what: string): 'ok' | 'rejected' {
  try {
    importOnnx(bytes);
    return 'ok';
  } catch (e) {
    expect(e, what).toBeInstanceOf(ModelFormatError);
    expect((e as Error).cause, `${what}: ${(e as Error).message}`).toBeUndefined();
    return 'rejected';
  }
}

describe('importOnnx: broken files', () => {
  it('imports the intact rich model', () => {
    const g = importOnnx(richModel());
    expect(g.nodes.map((n) => n.op)).toEqual(['Reshape', 'Gemm', 'If']);
    expect(g.initializers.get('B')!.data).toEqual(Float32Array.of(1, 2));
  });

  it('rejects empty input, garbage and a ModelProto without a graph with an actionable message', () => {
    expect(formatError(() => importOnnx(new Uint8Array(0))).message).toMatch(/empty/);
    const garbage = new TextEncoder().encode('<html><body>404 Not Found</body></html>');
    expect(formatError(() => importOnnx(garbage)).message).toMatch(/not an ONNX model.*check the file is a \.onnx model and not truncated/);
    const decodeFail = Uint8Array.of(0x3a, 0x64, 0x00, 0x00); // graph field claims 100 bytes, 2 follow
    expect(formatError(() => importOnnx(decodeFail)).message).toMatch(/not an ONNX model \(protobuf decode failed: .+\); check/);
    const noGraph = onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ version: 13 }] }).finish();
    expect(formatError(() => importOnnx(noGraph)).message).toMatch(/no graph/);
  });

  it('cut at every byte offset: imports or throws ModelFormatError, never anything else', () => {
    const bytes = richModel();
    let rejected = 0;
    for (let cut = 0; cut < bytes.length; cut++) if (importsOrRejectsCleanly(bytes.subarray(0, cut), `cut at ${cut}/${bytes.length}`) === 'rejected') rejected++;
    expect(rejected).toBeGreaterThan(bytes.length / 2);
  });

  it('random garbage and random byte corruptions never escape as another error type', () => {
    const r = rng(7);
    const base = richModel();
    for (let t = 0; t < 1500; t++) {
      let bytes: Uint8Array;
      if (t % 3 === 0) {
        bytes = Uint8Array.from({ length: 1 + Math.floor(r() * 300) }, () => Math.floor(r() * 256));
      } else {
        bytes = base.slice();
        const flips = 1 + Math.floor(r() * 4);
        for (let f = 0; f < flips; f++) bytes[Math.floor(r() * bytes.length)] = Math.floor(r() * 256);
      }
      importsOrRejectsCleanly(bytes, `case ${t}`);
    }
  });
});

// ---- real exports ----------------------------------------------------------------------------

const MODEL_DIR = join(process.cwd(), 'node_modules/openwakeword-js/models');
const realModels = existsSync(MODEL_DIR) ? readdirSync(MODEL_DIR).filter((f) => f.endsWith('.onnx')) : [];

describe('importOnnx: real models (openwakeword-js)', () => {
  it('finds the shipped models', () => {
    expect(realModels.length).toBeGreaterThanOrEqual(3);
  });

  it.each(realModels)('%s matches onnx-proto\'s own decode', (file) => {
    const bytes = readFileSync(join(MODEL_DIR, file)); // a Node Buffer, as users will pass
    const proto = onnx.ModelProto.decode(bytes);
    // decoded messages fill every repeated field: view them as the decoded classes
    const pg = proto.graph as onnxProto.onnx.GraphProto;
    const pnodes = pg.node as onnxProto.onnx.NodeProto[];
    const pinits = pg.initializer as onnxProto.onnx.TensorProto[];
    const g = importOnnx(bytes);
    const constants = pnodes.filter((n) => n.opType === 'Constant');
    expect(constants.length).toBeGreaterThan(0); // torch exports keep scalars in Constant nodes
    expect(g.nodes.map((n) => n.op)).toEqual(pnodes.filter((n) => n.opType !== 'Constant').map((n) => n.opType));
    expect(g.nodes.map((n) => n.name)).toEqual(pnodes.filter((n) => n.opType !== 'Constant').map((n) => n.name));
    expect(g.initializers.size).toBe(pinits.length + constants.length);
    expect(g.producer?.name).toBe(proto.producerName);
    expect(g.opset).toBe(13);
    expect(g.inputs.map((i) => [i.name, i.dims])).toEqual(pg.input!.map((i) => [i.name, i.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue))]));
    expect(g.outputs.map((o) => o.name)).toEqual(pg.output!.map((o) => o.name));
    for (const t of pinits) {
      const mine = g.initializers.get(t.name)!;
      expect(mine.dims).toEqual(t.dims.map(Number));
      expect(mine.dtype).toBe('float32');
      // an independent read of the little-endian bytes
      const dv = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
      const want = Float32Array.from({ length: t.rawData.byteLength / 4 }, (_, i) => dv.getFloat32(i * 4, true));
      expect(mine.data).toEqual(want);
    }
    for (const c of constants) {
      const mine = g.initializers.get(c.output[0])!;
      expect(mine.dims).toEqual(c.attribute[0].t!.dims!.map(Number));
    }
    const gemm = g.nodes.find((n) => n.op === 'Gemm')!;
    expect(gemm.attrs.transB).toEqual({ kind: 'int', value: 1 });
    expectTopological(g);
  });
});
