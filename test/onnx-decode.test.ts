// src/onnx/decode.ts, the importer's lean protobuf decoder, against onnx-proto (the official
// schema compiled by protobufjs): on models with every field the importer reads, every attribute
// kind, subgraphs and every tensor storage form, both decoders must agree on all the fields
// import.ts reads. Also: unpacked repeated scalars, int64 extremes, unknown fields and broken input.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { onnx, E, AT, type IGraphProto, type ITensorProto, type IValueInfoProto } from './util/onnx-proto.js';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../src/onnx/decode.js';
import { buildModel } from './util/onnx-build.js';
import { rng } from './util/rng.js';

const enc = new TextEncoder();

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const long = (v: bigint, unsigned = false) => ({ low: Number(BigInt.asIntN(32, v)), high: Number(BigInt.asIntN(32, v >> 32n)), unsigned });

// ---- the projection: what import.ts reads, normalised -----------------------------------------

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

/** An int64 (number, Long or Long-like) as its exact signed 64-bit value, in decimal. */
function i64(v: unknown): string {
  if (typeof v === 'number') return BigInt(v).toString();
  if (typeof v === 'bigint') return BigInt.asIntN(64, v).toString();
  const l = v as { low: number; high: number };
  return BigInt.asIntN(64, (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0)).toString();
}

const hex = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex') : undefined);
const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
const list = <T>(a: T[] | null | undefined): T[] => a ?? [];
const opt = <T, U>(v: T | null | undefined, f: (v: T) => U): U | undefined => (v === null || v === undefined ? undefined : f(v));

function pModel(m: Any) {
  return {
    producerName: m.producerName ?? '',
    producerVersion: m.producerVersion ?? '',
    opsetImport: list<Any>(m.opsetImport).map((o) => ({ domain: o.domain ?? '', version: i64(o.version ?? 0) })),
    graph: opt(m.graph, pGraph),
  };
}

function pGraph(g: Any): unknown {
  return {
    name: g.name ?? '',
    node: list<Any>(g.node).map(pNode),
    initializer: list<Any>(g.initializer).map(pTensor),
    sparseInitializer: list<Any>(g.sparseInitializer).map(pSparse),
    input: list<Any>(g.input).map(pValueInfo),
    output: list<Any>(g.output).map(pValueInfo),
    valueInfo: list<Any>(g.valueInfo).map(pValueInfo),
  };
}

function pNode(n: Any) {
  return { name: n.name ?? '', opType: n.opType ?? '', domain: n.domain ?? '', input: [...list(n.input)], output: [...list(n.output)], attribute: list<Any>(n.attribute).map(pAttr) };
}

function pAttr(a: Any) {
  return {
    name: a.name ?? '',
    type: a.type ?? 0,
    // attrType() in import.ts tells an untyped attribute's kind by which of these are present
    has: { f: own(a, 'f'), i: own(a, 'i'), s: own(a, 's') },
    f: a.f ?? 0,
    i: i64(a.i ?? 0),
    s: hex(a.s) ?? '',
    t: opt(a.t, pTensor),
    g: opt(a.g, pGraph),
    sparseTensor: opt(a.sparseTensor, pSparse),
    floats: [...list(a.floats)],
    ints: list(a.ints).map(i64),
    strings: list<Uint8Array>(a.strings).map(hex),
  };
}

function pTensor(t: Any) {
  return {
    name: t.name ?? '',
    dims: list(t.dims).map(i64),
    dataType: t.dataType ?? 0,
    floatData: [...list(t.floatData)],
    int32Data: [...list(t.int32Data)],
    int64Data: list(t.int64Data).map(i64),
    doubleData: [...list(t.doubleData)],
    uint64Data: list(t.uint64Data).map((v) => BigInt.asUintN(64, BigInt(i64(v))).toString()),
    rawData: hex(t.rawData) ?? '',
    externalData: list<Any>(t.externalData).map((e) => ({ key: e.key ?? '', value: e.value ?? '' })),
    dataLocation: t.dataLocation ?? 0,
  };
}

function pSparse(s: Any) {
  return { values: opt(s.values, pTensor), indices: opt(s.indices, pTensor), dims: list(s.dims).map(i64) };
}

function pValueInfo(v: Any) {
  return {
    name: v.name ?? '',
    type: opt(v.type, (t: Any) => ({
      tensorType: opt(t.tensorType, (tt: Any) => ({
        elemType: tt.elemType ?? 0,
        shape: opt(tt.shape, (s: Any) => ({ dim: list<Any>(s.dim).map((d) => ({ dimValue: opt(d.dimValue, i64), dimParam: d.dimParam ?? undefined })) })),
      })),
    })),
  };
}

function expectSameAsOnnxProto(bytes: Uint8Array): void {
  const theirs = pModel(onnx.ModelProto.decode(bytes));
  const ours = pModel(decodeModel(bytes));
  expect(ours).toEqual(theirs);
}

// ---- models ----------------------------------------------------------------------------------

function vi(name: string, dims?: (number | string | null)[], elemType: number = E.FLOAT): IValueInfoProto {
  const dim = dims?.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d, denotation: 'DATA_BATCH' } : {}));
  return { name, docString: 'doc', type: { tensorType: { elemType, shape: dim ? { dim } : undefined }, denotation: 'TENSOR' } };
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

function encode(graph: IGraphProto, extra: Partial<onnxProto.onnx.IModelProto> = {}): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], producerName: 'edgeprune-tests', producerVersion: '1.2', graph, ...extra })).finish();
}

const tensors: ITensorProto[] = [
  { name: 'raw', dims: [2, 3], dataType: E.FLOAT, rawData: bytesOf(Float32Array.of(1.5, -2.25, 3e-8, 1e30, -0, 7)), docString: 'weights' },
  { name: 'floats', dims: [3], dataType: E.FLOAT, floatData: [0.5, -1, 2] },
  { name: 'i64', dims: [6], dataType: E.INT64, int64Data: [long(INT64_MAX), long(INT64_MIN), -1, 5, long(2n ** 53n), long(-(2n ** 53n) - 1n)] },
  { name: 'i64raw', dims: [2], dataType: E.INT64, rawData: bytesOf(BigInt64Array.of(INT64_MAX, -7n)) },
  { name: 'i32', dims: [3], dataType: E.INT32, int32Data: [-5, 2 ** 31 - 1, -(2 ** 31)] },
  { name: 'f16', dims: [2], dataType: E.FLOAT16, int32Data: [0x3c00, 0xc000] },
  { name: 'd', dims: [2], dataType: E.DOUBLE, doubleData: [Math.PI, -1e300] },
  { name: 'u64', dims: [3], dataType: E.UINT64, uint64Data: [long(2n ** 64n - 1n, true), 3, long(2n ** 60n, true)] },
  { name: 'ext', dims: [4], dataType: E.FLOAT, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: [{ key: 'location', value: 'w.bin' }, { key: 'offset', value: '0' }] },
  { name: 'seg', dims: [1], dataType: E.FLOAT, floatData: [1], segment: { begin: 0, end: 1 } },
  { name: 'strs', dims: [2], dataType: E.STRING, stringData: [enc.encode('a'), enc.encode('β')] },
  { name: 'empty', dims: [0, 3], dataType: E.FLOAT },
  { name: 'big_dims', dims: [long(INT64_MAX), -1, 0], dataType: E.FLOAT },
];

function branch(name: string, depth: number): IGraphProto {
  return {
    name,
    node: [
      { opType: 'Constant', output: ['k'], attribute: [{ name: 'value_float', type: AT.FLOAT, f: 2 }] },
      { opType: 'Add', input: ['h', 'k'], output: ['t'] },
      depth > 0
        ? { opType: 'If', input: ['c'], output: [`${name}_out`], attribute: [{ name: 'then_branch', type: AT.GRAPH, g: branch(`${name}_then`, depth - 1) }, { name: 'else_branch', type: AT.GRAPH, g: branch(`${name}_else`, depth - 1) }] }
        : { opType: 'Identity', input: ['t'], output: [`${name}_out`] },
    ],
    initializer: [{ name: `${name}_w`, dims: [1], dataType: E.FLOAT, floatData: [depth] }],
    output: [vi(`${name}_out`, [2])],
  };
}

/** Every attribute kind, untyped (IR 1-2) attributes, nested subgraphs, all tensor forms. */
function kitchenSink(): Uint8Array {
  const sparse = { dims: [2, 3], values: { name: 's', dims: [2], dataType: E.FLOAT, floatData: [5, 6] }, indices: { dims: [2], dataType: E.INT64, int64Data: [1, 5] } };
  return encode({
    name: 'sink',
    docString: 'a graph',
    node: [
      {
        opType: 'Custom',
        name: 'every_kind',
        domain: 'com.example',
        docString: 'node doc',
        input: ['x', '', 'raw'],
        output: ['y', 'y2'],
        attribute: [
          { name: 'f', type: AT.FLOAT, f: 0.5, docString: 'attr doc' },
          { name: 'f0', type: AT.FLOAT, f: 0 },
          { name: 'i', type: AT.INT, i: -7 },
          { name: 'big', type: AT.INT, i: long(INT64_MAX) },
          { name: 'small', type: AT.INT, i: long(INT64_MIN) },
          { name: 's', type: AT.STRING, s: enc.encode('größe ✓ 😀') },
          { name: 's_empty', type: AT.STRING, s: new Uint8Array(0) },
          { name: 't', type: AT.TENSOR, t: { dims: [1], dataType: E.INT32, int32Data: [9] } },
          { name: 'g', type: AT.GRAPH, g: branch('g', 2) },
          { name: 'fs', type: AT.FLOATS, floats: [0.25, -4, Infinity, -0] },
          { name: 'is', type: AT.INTS, ints: [1, long(2n ** 40n), long(-(2n ** 60n)), -1, 0] },
          { name: 'ss', type: AT.STRINGS, strings: [enc.encode('a'), enc.encode('βc'), new Uint8Array(0)] },
          { name: 'ts', type: AT.TENSORS, tensors: [{ dims: [1], dataType: E.FLOAT, floatData: [1] }] },
          { name: 'gs', type: AT.GRAPHS, graphs: [branch('gs', 0)] },
          { name: 'sp', type: AT.SPARSE_TENSOR, sparseTensor: sparse },
          { name: 'sps', type: AT.SPARSE_TENSORS, sparseTensors: [sparse] },
          { name: 'tp', type: AT.TYPE_PROTO, tp: { tensorType: { elemType: E.FLOAT } } },
          { name: 'tps', type: AT.TYPE_PROTOS, typeProtos: [{ sequenceType: {} }] },
          { name: 'ref', type: AT.FLOAT, refAttrName: 'outer' },
          // untyped, as IR version 1-2 files write them
          { name: 'u_i', i: 3 },
          { name: 'u_i0', i: 0 },
          { name: 'u_f', f: 1.5 },
          { name: 'u_s', s: Uint8Array.of(104) },
          { name: 'u_fs', floats: [1] },
          { name: 'u_none' },
        ],
      },
      { opType: 'Constant', output: ['c1'], attribute: [{ name: 'value', type: AT.TENSOR, t: tensors[0] }] },
      { opType: 'Constant', output: ['c2'], attribute: [{ name: 'value_ints', type: AT.INTS, ints: [3, -1, long(INT64_MIN)] }] },
      { opType: 'Constant', output: ['c3'], attribute: [{ name: 'sparse_value', type: AT.SPARSE_TENSOR, sparseTensor: sparse }] },
      { opType: 'Relu', input: ['y'], output: ['z'], domain: 'ai.onnx' },
    ],
    input: [vi('x', ['batch', 3, null, -1, long(INT64_MAX) as unknown as number]), vi('mask', undefined, E.BOOL), { name: 'untyped' }, { name: 'seq', type: { sequenceType: { elemType: { tensorType: { elemType: E.FLOAT } } } } }],
    output: [vi('z', ['batch', 0])],
    valueInfo: [vi('y', ['batch', 3], E.FLOAT16), { name: 'm', type: { mapType: { keyType: E.INT64, valueType: { tensorType: { elemType: E.FLOAT } } } } }, { name: 'o', type: { optionalType: {} } }, { name: 'st', type: { sparseTensorType: { elemType: E.FLOAT } } }],
    initializer: tensors,
    sparseInitializer: [sparse, { dims: [4], values: { name: 'lin', dims: [1], dataType: E.DOUBLE, doubleData: [1] }, indices: { dims: [1, 1], dataType: E.INT64, int64Data: [2] } }],
    quantizationAnnotation: [{ tensorName: 'x', quantParameterTensorNames: [{ key: 'SCALE_TENSOR', value: 's' }] }],
  }, {
    opsetImport: [{ domain: 'ai.onnx', version: 17 }, { domain: 'com.microsoft', version: 1 }, { version: long(2n ** 62n) }],
    domain: 'org.example',
    modelVersion: long(INT64_MAX),
    docString: 'model doc',
    metadataProps: [{ key: 'author', value: 'me' }],
    trainingInfo: [{ algorithm: { name: 'train', node: [{ opType: 'Relu', input: ['a'], output: ['b'] }] } }],
    functions: [{ name: 'F', domain: 'local', input: ['a'], output: ['b'], node: [{ opType: 'Neg', input: ['a'], output: ['b'] }], opsetImport: [{ version: 13 }] }],
  });
}

function mlp(): Uint8Array {
  return buildModel({
    nodes: [
      { op: 'Gemm', inputs: ['x', 'W', 'B'], outputs: ['h'], attrs: { transB: 1, alpha: { float: 0.5 }, beta: 1.5 } },
      { op: 'Reshape', inputs: ['h', 'shape'], outputs: ['r'] },
      { op: 'Conv', inputs: ['r', 'K'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1], auto_pad: 'NOTSET', scales: { floats: [1, 2] } } },
      { op: 'Add', inputs: ['c', 'idx'], outputs: ['y'], domain: 'ai.onnx' },
    ],
    inputs: [{ name: 'x', dims: ['n', 4] }],
    outputs: ['y'],
    initializers: [
      { name: 'W', dims: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 7) },
      { name: 'B', dims: [3], data: Float32Array.of(1, 2, 3) },
      { name: 'shape', dims: [4], data: BigInt64Array.of(-1n, 1n, 3n, 1n) },
      { name: 'K', dims: [1, 1, 1, 1], data: Float32Array.of(2) },
      { name: 'idx', dims: [2], data: Int32Array.of(-3, 2 ** 31 - 1) },
    ],
    opset: 17,
  });
}

const MODEL_DIR = join(process.cwd(), 'node_modules/openwakeword-js/models');
const realModels = existsSync(MODEL_DIR) ? readdirSync(MODEL_DIR).filter((f) => f.endsWith('.onnx')) : [];

// ---- raw wire-format helpers ---------------------------------------------------------------------

/** Hand-made protobuf bytes: [field, wireType, payload] with payload a number (varint), bigint (varint), bytes, or nested fields. */
type Field = [number, number, number | bigint | Uint8Array | Field[]];

function varint(v: bigint): number[] {
  let u = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    const b = Number(u & 127n);
    u >>= 7n;
    out.push(u ? b | 128 : b);
  } while (u);
  return out;
}

function wire(fields: Field[]): Uint8Array {
  const out: number[] = [];
  for (const [f, w, v] of fields) {
    out.push(...varint((BigInt(f) << 3n) | BigInt(w)));
    if (w === 0) out.push(...varint(BigInt(v as number | bigint)));
    else if (w === 1 || w === 5) out.push(...(v as Uint8Array));
    else if (w === 2) {
      const body = v instanceof Uint8Array ? v : wire(v as Field[]);
      out.push(...varint(BigInt(body.length)), ...body);
    } else if (w === 3) out.push(...wire(v as Field[]), ...varint(BigInt((f << 3) | 4)));
  }
  return Uint8Array.from(out);
}

const f32 = (x: number) => bytesOf(Float32Array.of(x));
const f64 = (x: number) => bytesOf(Float64Array.of(x));

/** A model holding one graph with one initializer, given as wire fields. */
function modelWithTensor(tensor: Field[], attr: Field[] = []): Uint8Array {
  return wire([
    [8, 2, [[2, 0, 13]]],
    [7, 2, [
      [5, 2, tensor],
      [1, 2, [[4, 2, enc.encode('Custom')], [5, 2, attr]]],
    ]],
  ]);
}

// ---- tests -----------------------------------------------------------------------------------

describe('decodeModel agrees with onnx-proto on every field import.ts reads', () => {
  it('a model with every attribute kind, nested subgraphs and every tensor storage form', () => {
    const bytes = kitchenSink();
    expectSameAsOnnxProto(bytes);
    // and from a Node Buffer at an odd offset into a larger allocation
    const big = Buffer.alloc(bytes.length + 3);
    big.set(bytes, 3);
    expectSameAsOnnxProto(big.subarray(3));
  });

  it('models built by test/util/onnx-build.ts', () => {
    expectSameAsOnnxProto(mlp());
    expectSameAsOnnxProto(buildModel({ nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], inputs: [{ name: 'x', dims: [1] }], outputs: ['y'] }));
  });

  it('an empty ModelProto and one without a graph', () => {
    expectSameAsOnnxProto(new Uint8Array(0));
    expectSameAsOnnxProto(onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ version: 13 }] }).finish());
  });

  it('names in any script (strings decode as UTF-8 in one native call), also from shared memory', () => {
    const names = ['ñandú_conv', '卷积/权重', 'Ж.weight', 'relu🙂', 'a\u0000b', ''];
    const bytes = buildModel({
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: [names[0]] }, ...names.slice(1, 5).map((n, i) => ({ op: 'Relu', inputs: [names[i]], outputs: [n] }))],
      inputs: [{ name: 'x', dims: [1] }], outputs: [names[4]],
    });
    expectSameAsOnnxProto(bytes);
    expect(decodeModel(bytes).graph!.node!.map((n) => n.output![0])).toEqual(names.slice(0, 5));
    const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
    shared.set(bytes);
    expect(decodeModel(shared)).toEqual(decodeModel(bytes));
  });

  it.each(realModels)('the pretrained %s', (file) => {
    expectSameAsOnnxProto(readFileSync(join(MODEL_DIR, file)));
  });
});

describe('decodeModel: value representation', () => {
  it('gives int64 values as exact numbers up to 2^53 and as Long-like bits beyond', () => {
    const m = decodeModel(kitchenSink());
    const t = m.graph!.initializer!.find((x) => x.name === 'i64')!;
    expect(t.int64Data!.slice(2, 4)).toEqual([-1, 5]);
    expect(t.int64Data![0]).toEqual({ low: -1, high: 0x7fffffff, unsigned: false });
    expect(t.int64Data!.map(i64)).toEqual([INT64_MAX, INT64_MIN, -1n, 5n, 2n ** 53n, -(2n ** 53n) - 1n].map(String));
    const u = m.graph!.initializer!.find((x) => x.name === 'u64')!;
    expect(u.uint64Data).toEqual([{ low: -1, high: -1, unsigned: true }, 3, { low: 0, high: 2 ** 28, unsigned: true }]);
    // the edges of the exact range
    const edge = [2n ** 53n - 1n, -(2n ** 53n), 2n ** 32n, -(2n ** 32n), 2n ** 31n, -(2n ** 31n) - 1n];
    const d = decodeModel(modelWithTensor(edge.map((v): Field => [7, 0, v])));
    expect(d.graph!.initializer![0].int64Data).toEqual(edge.map(Number));
  });

  it('returns byte fields as plain Uint8Array views into the input, also given a Buffer', () => {
    const bytes = kitchenSink();
    for (const input of [bytes, Buffer.from(bytes)]) {
      const raw = decodeModel(input).graph!.initializer![0].rawData!;
      expect(raw.constructor).toBe(Uint8Array);
      expect(raw.buffer).toBe(input.buffer);
      expect(Array.from(new Float32Array(raw.slice().buffer))).toEqual([1.5, -2.25, Math.fround(3e-8), Math.fround(1e30), -0, 7]);
    }
  });

  it('sets an attribute\'s f, i and s only when the file has them', () => {
    const attrs = decodeModel(kitchenSink()).graph!.node![0].attribute!;
    const get = (n: string) => attrs.find((a) => a.name === n)!;
    expect(Object.keys(get('u_none'))).toEqual(['name']);
    expect(get('u_i0')).toEqual({ name: 'u_i0', i: 0 });
    expect(get('u_s')).toEqual({ name: 'u_s', s: Uint8Array.of(104) });
    expect(new TextDecoder().decode(get('s').s)).toBe('größe ✓ 😀');
  });

  it('reads repeated scalars packed and unpacked alike, also mixed in one field', () => {
    const tensor = (packed: boolean): Field[] => {
      const rep = (field: number, w: number, items: (number | bigint | Uint8Array)[]): Field[] => {
        if (!packed) return items.map((v): Field => [field, w, v]);
        const body = items.flatMap((v) => (v instanceof Uint8Array ? [...v] : varint(BigInt(v))));
        return [[field, 2, Uint8Array.from(body)]];
      };
      return [
        ...rep(1, 0, [2n, 3n]),
        [2, 0, E.FLOAT],
        [8, 2, enc.encode('t')],
        ...rep(4, 5, [f32(1.5), f32(-2)]),
        ...rep(5, 0, [-5, 7, 2 ** 31 - 1]),
        ...rep(7, 0, [INT64_MIN, -1n, 2n ** 40n]),
        ...rep(10, 1, [f64(Math.PI)]),
        ...rep(11, 0, [2n ** 64n - 1n, 1n]),
      ];
    };
    const attr = (packed: boolean): Field[] => [
      [1, 2, enc.encode('a')],
      ...(packed ? [[7, 2, Uint8Array.from([...f32(0.5), ...f32(4)])] as Field] : [[7, 5, f32(0.5)] as Field, [7, 5, f32(4)] as Field]),
      ...(packed ? [[8, 2, Uint8Array.from([...varint(-3n), ...varint(INT64_MAX)])] as Field] : [[8, 0, -3n] as Field, [8, 0, INT64_MAX] as Field]),
    ];
    const packed = modelWithTensor(tensor(true), attr(true));
    const unpacked = modelWithTensor(tensor(false), attr(false));
    expect(packed).not.toEqual(unpacked);
    expectSameAsOnnxProto(packed);
    expectSameAsOnnxProto(unpacked);
    expect(pModel(decodeModel(unpacked))).toEqual(pModel(decodeModel(packed)));
    const t = decodeModel(unpacked).graph!.initializer![0];
    expect(t.dims).toEqual([2, 3]);
    expect(t.floatData).toEqual([1.5, -2]);
    expect(t.int32Data).toEqual([-5, 7, 2 ** 31 - 1]);
    expect(t.doubleData).toEqual([Math.PI]);
    // a field split across a packed run and single elements keeps file order
    const mixed = decodeModel(modelWithTensor([[4, 5, f32(1)], [4, 2, Uint8Array.from([...f32(2), ...f32(3)])], [4, 5, f32(4)]]));
    expect(mixed.graph!.initializer![0].floatData).toEqual([1, 2, 3, 4]);
  });

  it('skips unknown fields of every wire type (incl. groups) and known fields with a foreign wire type', () => {
    const noise: Field[] = [[99, 0, 5n], [98, 1, f64(1)], [97, 2, enc.encode('zz')], [96, 3, [[1, 0, 1], [2, 3, [[1, 5, f32(1)]]]]], [95, 5, f32(2)], [536870911, 0, 1]];
    const plain = modelWithTensor([[8, 2, enc.encode('t')], [4, 5, f32(1)]]);
    const noisy = modelWithTensor([...noise, [8, 2, enc.encode('t')], ...noise, [4, 5, f32(1)], [8, 0, 3], [2, 2, enc.encode('x')]]);
    expect(pModel(decodeModel(noisy))).toEqual(pModel(decodeModel(plain)));
  });
});

describe('decodeModel: malformed input throws, fast', () => {
  const throwsError = (bytes: Uint8Array, pattern?: RegExp) => {
    let err: unknown;
    try {
      decodeModel(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    if (pattern) expect((err as Error).message).toMatch(pattern);
  };

  it('lengths past the end of the input or of the enclosing message', () => {
    throwsError(Uint8Array.of(0x3a, 0x64, 0x00, 0x00)); // graph: 100 bytes claimed, 2 follow
    throwsError(Uint8Array.of(0x3a, 0xff, 0xff, 0xff, 0xff, 0x07)); // 2^31 - 1 bytes claimed
    throwsError(Uint8Array.of(0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f)); // more than 2^31
    // a packed float field claiming 1 GB: no allocation, an error
    const start = performance.now();
    throwsError(wire([[7, 2, [[5, 2, Uint8Array.from([0x22, ...varint(2n ** 30n), 0, 0, 0, 0])]]]]), /past the end|out of range/);
    throwsError(wire([[7, 2, [[5, 2, Uint8Array.from([0x3a, ...varint(2n ** 30n), 1, 2, 3])]]]]), /past the end|out of range/); // packed int64
    expect(performance.now() - start).toBeLessThan(50);
    // a string inside the tensor whose length runs past the tensor (though not past the file)
    const inner = wire([[7, 2, [[5, 2, Uint8Array.of(0x42, 0x05, 0x61)], [2, 2, enc.encode('padding-bytes')]]]]);
    throwsError(inner, /past the end|out of range/);
  });

  it('invalid wire types, field number 0, unterminated groups and overlong varints', () => {
    throwsError(Uint8Array.of(0x0e, 0x00)); // field 1, wire type 6
    throwsError(Uint8Array.of(0x0f, 0x00)); // wire type 7
    throwsError(Uint8Array.of(0x0c)); // a stray end-group
    throwsError(Uint8Array.of(0x00, 0x00)); // field 0
    throwsError(Uint8Array.of(0x0b, 0x08, 0x01)); // a group never closed
    throwsError(Uint8Array.of(0x0b, 0x14)); // a group closed by another field's end tag
    throwsError(Uint8Array.of(0x08, ...new Array(11).fill(0xff), 0x01)); // a 12-byte varint (unknown field 1)
    throwsError(modelWithTensor([[7, 2, Uint8Array.of(...new Array(10).fill(0xff), 0x01)]])); // an 11-byte int64 varint
  });

  it('nesting deeper than 100 messages', () => {
    let g: Uint8Array = wire([[2, 2, enc.encode('leaf')]]);
    for (let i = 0; i < 200; i++) g = wire([[1, 2, [[5, 2, [[6, 2, g]]]]]]); // graph.node.attribute.g
    throwsError(wire([[7, 2, g]]), /nested deeper than 100/);
  });

  it('cut at every offset or corrupted at random: a result or an Error, never a hang', () => {
    const bytes = kitchenSink();
    for (let cut = 0; cut < bytes.length; cut++) {
      try {
        decodeModel(bytes.subarray(0, cut));
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
      }
    }
    const r = rng(11);
    for (let t = 0; t < 2000; t++) {
      const b = bytes.slice();
      for (let f = 0; f < 1 + Math.floor(r() * 4); f++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      try {
        decodeModel(b);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
      }
    }
  });
});
