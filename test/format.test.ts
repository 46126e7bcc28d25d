// The .epm artifact (src/format/): Graph → bytes → Graph is the identity (structure, attrs,
// symbolic dims, subgraphs, every tensor bit-exact), float weights get the smallest encoding,
// a session on the artifact computes exactly what it computes on the ONNX file, and every
// malformed input — truncated, bit-flipped, or crafted with a valid checksum — is a
// ModelFormatError that says what is wrong.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, OutOfMemoryError } from '../src/errors.js';
import { isArtifact as isArtifactFromIndex, readArtifact as readFromIndex, writeArtifact as writeFromIndex } from '../src/index.js';
import { crc32 } from '../src/format/crc32.js';
import { isArtifact, readArtifact } from '../src/format/read.js';
import { serializeArtifact, writeArtifact } from '../src/format/write.js';
import { Encoding, HeaderFlags, SectionKind } from '../src/format/layout.js';
import { simplify } from '../src/graph/passes/simplify.js';
import type { ConstTensor, Graph } from '../src/graph/ir.js';
import { importOnnx } from '../src/onnx/import.js';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { buildModel as buildHarness } from './conformance/harness.js';
import { buildModel } from './util/onnx-build.js';
import { randomArray, rng } from './util/rng.js';

// ---- helpers ---------------------------------------------------------------------------------

/** Structure with tensor data replaced by type and length (vitest compares big arrays slowly). */
function structure(g: Graph): unknown {
  const tensor = (t: ConstTensor) => ({ ...t, data: `${t.data.constructor.name}(${t.data.length})` });
  return {
    ...g,
    initializers: [...g.initializers].map(([k, t]) => [k, tensor(t)]),
    valueInfo: [...g.valueInfo],
    nodes: g.nodes.map((n) => ({
      ...n,
      attrs: Object.entries(n.attrs).map(([k, a]) => [k, a.kind === 'tensor' ? { kind: a.kind, value: tensor(a.value) } : a.kind === 'graph' ? { kind: a.kind, value: structure(a.value) } : a]),
    })),
  };
}

/** Every tensor of a graph and its subgraphs as raw bytes, keyed by a path. */
function tensorBytes(g: Graph, prefix = ''): Map<string, { dtype: string; type: string; bytes: Buffer }> {
  const out = new Map<string, { dtype: string; type: string; bytes: Buffer }>();
  const add = (key: string, t: ConstTensor) => out.set(key, { dtype: t.dtype, type: t.data.constructor.name, bytes: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength) });
  for (const [name, t] of g.initializers) add(`${prefix}${name}`, t);
  for (const n of g.nodes) {
    for (const [k, a] of Object.entries(n.attrs)) {
      if (a.kind === 'tensor') add(`${prefix}${n.name}.${k}`, a.value);
      if (a.kind === 'graph') for (const [kk, v] of tensorBytes(a.value, `${prefix}${n.name}.${k}/`)) out.set(kk, v);
    }
  }
  return out;
}

function expectSameGraph(got: Graph, want: Graph): void {
  expect(structure(got)).toStrictEqual(structure(want));
  const a = tensorBytes(got);
  const b = tensorBytes(want);
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [k, v] of b) {
    const g = a.get(k)!;
    expect({ dtype: g.dtype, type: g.type }, k).toEqual({ dtype: v.dtype, type: v.type });
    expect(g.bytes.equals(v.bytes), `tensor ${k}: bytes differ`).toBe(true);
  }
}

/**
 * writeArtifact → readArtifact gives the graph back as simplify() leaves it (serializeArtifact:
 * exactly as given); writing again gives the same bytes.
 */
function expectRoundTrip(g: Graph, write: (g: Graph) => Uint8Array = writeArtifact): Uint8Array {
  const bytes = write(g);
  expect(isArtifact(bytes)).toBe(true);
  const back = readArtifact(bytes);
  expectSameGraph(back, write === writeArtifact ? simplify(g) : g);
  expect(Buffer.from(write(back)).equals(bytes)).toBe(true);
  return bytes;
}

function formatError(fn: () => unknown): ModelFormatError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ModelFormatError)) throw new Error(`expected a ModelFormatError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    expect(e.message).not.toContain('internal reader error');
    return e;
  }
  throw new Error('expected a ModelFormatError, but nothing was thrown');
}

// The layout, read back independently of src/format (tests the documented offsets).
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);

function sectionOf(b: Uint8Array, kind: number): { offset: number; length: number; entry: number } {
  for (let i = 0; i < u32(b, 12); i++) {
    const at = 32 + 16 * i;
    if (u32(b, at) === kind) return { offset: u32(b, at + 4), length: u32(b, at + 8), entry: at };
  }
  throw new Error(`no section ${kind}`);
}

interface Entry {
  at: number;
  dtype: number;
  encoding: number;
  rank: number;
  firstDim: number;
  valueCount: number;
  offset: number;
  length: number;
}

function tableEntries(b: Uint8Array): Entry[] {
  const t = sectionOf(b, SectionKind.TENSOR_TABLE);
  const v = new DataView(b.buffer, b.byteOffset);
  return Array.from({ length: u32(b, t.offset) }, (_, i) => {
    const at = t.offset + 8 + 24 * i;
    return { at, dtype: v.getUint8(at), encoding: v.getUint8(at + 1), rank: v.getUint16(at + 2, true), firstDim: u32(b, at + 4), valueCount: u32(b, at + 8), offset: u32(b, at + 16), length: u32(b, at + 20) };
  });
}

/** Where tensor i's first dim (u64) lives. */
function dimAt(b: Uint8Array, i: number): number {
  const t = sectionOf(b, SectionKind.TENSOR_TABLE);
  return t.offset + 8 + 24 * u32(b, t.offset) + 8 * tableEntries(b)[i].firstDim;
}

function payloadAt(b: Uint8Array, e: Entry): number {
  return sectionOf(b, SectionKind.TENSOR_DATA).offset + e.offset;
}

/** A copy edited by `edit`, with the CRC recomputed so only the edit is wrong. */
function edited(bytes: Uint8Array, edit: (b: Uint8Array, v: DataView) => void): Uint8Array {
  const b = bytes.slice();
  const v = new DataView(b.buffer);
  edit(b, v);
  v.setUint32(20, crc32(b.subarray(32)), true);
  return b;
}

/** A valid container around the given section bodies (as the layout documents it). */
function assemble(sections: { kind: number; body: Uint8Array }[]): Uint8Array {
  let end = 32 + 16 * sections.length;
  const placed = sections.map((s) => {
    const offset = Math.ceil(end / 64) * 64;
    end = offset + s.body.length;
    return { ...s, offset };
  });
  const b = new Uint8Array(end);
  const v = new DataView(b.buffer);
  b.set([0x45, 0x50, 0x52, 0x55, 0x4e, 0x45, 0, 1]);
  v.setUint16(8, 1, true);
  v.setUint32(12, sections.length, true);
  v.setUint32(16, end, true);
  placed.forEach((s, i) => {
    v.setUint32(32 + 16 * i, s.kind, true);
    v.setUint32(36 + 16 * i, s.offset, true);
    v.setUint32(40 + 16 * i, s.body.length, true);
    b.set(s.body, s.offset);
  });
  v.setUint32(20, crc32(b.subarray(32)), true);
  return b;
}

/** The artifact's sections with the graph JSON replaced. */
function withGraphJson(bytes: Uint8Array, edit: (json: any) => void): Uint8Array {
  const body = (kind: number) => {
    const s = sectionOf(bytes, kind);
    return bytes.slice(s.offset, s.offset + s.length);
  };
  const json = JSON.parse(new TextDecoder().decode(body(SectionKind.GRAPH)));
  edit(json);
  return assemble([
    { kind: SectionKind.GRAPH, body: new TextEncoder().encode(JSON.stringify(json)) },
    { kind: SectionKind.TENSOR_TABLE, body: body(SectionKind.TENSOR_TABLE) },
    { kind: SectionKind.TENSOR_DATA, body: body(SectionKind.TENSOR_DATA) },
  ]);
}

// ---- models ----------------------------------------------------------------------------------

const f32 = (dims: number[], data: number[] | Float32Array): ConstTensor => ({ dtype: 'float32', dims, data: Float32Array.from(data) });

/** A graph using every dtype, attribute kind, dim form and map quirk the IR allows. */
function richGraph(): Graph {
  const sub = (name: string, op: string): Graph => ({
    name,
    inputs: [],
    outputs: [{ name: `${name}_out`, dtype: 'float32', dims: ['n', 3, '?0'] }],
    nodes: [{ name: `${name}_op`, op, domain: '', inputs: ['h', 'k'], outputs: [`${name}_out`], attrs: {} }],
    initializers: new Map([['k', f32([], [2])]]),
    opset: 13,
    valueInfo: new Map(),
  });
  const attrs: Graph['nodes'][number]['attrs'] = {
    i: { kind: 'int', value: -5 },
    big: { kind: 'int', value: 2 ** 40 },
    f: { kind: 'float', value: Math.fround(0.1) },
    neg0: { kind: 'float', value: -0 },
    nan: { kind: 'float', value: NaN },
    inf: { kind: 'float', value: -Infinity },
    s: { kind: 'string', value: 'héllo "quoted" \u0000 ✓' },
    empty: { kind: 'string', value: '' },
    ints: { kind: 'ints', value: [1, -1, 2 ** 40, -(2 ** 40)] },
    noInts: { kind: 'ints', value: [] },
    floats: { kind: 'floats', value: [1.5, -0, NaN, Infinity, 3e-8] },
    strings: { kind: 'strings', value: ['a', '', 'ü'] },
    t: { kind: 'tensor', value: { dtype: 'int64', dims: [2], data: BigInt64Array.of(2n ** 63n - 1n, -(2n ** 63n)) } },
    '0': { kind: 'int', value: 7 },
    body: { kind: 'graph', value: sub('body', 'Add') },
  };
  // an attribute literally named __proto__ must stay an own property
  Object.defineProperty(attrs, '__proto__', { value: { kind: 'int', value: 1 }, enumerable: true, writable: true, configurable: true });
  const nanBits = new Float32Array(new Uint32Array([0x7fc00001, 0xffc00000, 0x80000000, 0x00000001, 0, 0, 0, 0x7f800001]).buffer);
  return {
    name: 'rich',
    inputs: [
      { name: 'x', dtype: 'float32', dims: ['n', 3, '?0'] },
      { name: 'cond', dtype: 'bool', dims: [] },
      { name: 'shapeless', dtype: 'int64', dims: undefined },
      { name: 'nodims', dtype: 'float32' },
    ],
    outputs: [
      { name: 'y', dtype: 'float32', dims: ['n', 3, '?0'] },
      { name: 'c', dtype: 'float16', dims: undefined },
    ],
    nodes: [
      { name: 'relu', op: 'Relu', domain: '', inputs: ['x'], outputs: ['h'], attrs: {} },
      { name: 'custom', op: 'Custom', domain: 'com.example', inputs: ['h', '', 'f16'], outputs: ['c', ''], attrs },
      { name: 'if', op: 'If', domain: '', inputs: ['cond'], outputs: ['y'], attrs: { then_branch: { kind: 'graph', value: sub('then', 'Mul') }, else_branch: { kind: 'graph', value: sub('else', 'Sub') } } },
      { name: '', op: 'Identity', domain: '', inputs: ['y'], outputs: ['unnamed'], attrs: {} },
    ],
    initializers: new Map<string, ConstTensor>([
      ['f16', { dtype: 'float16', dims: [3], data: Float32Array.of(1, -0.5, 65504) }],
      ['b', { dtype: 'bool', dims: [2, 2], data: Uint8Array.of(1, 0, 0, 1) }],
      ['i8', { dtype: 'int8', dims: [3], data: Int8Array.of(-128, 0, 127) }],
      ['u8', { dtype: 'uint8', dims: [2], data: Uint8Array.of(0, 255) }],
      ['i16', { dtype: 'int16', dims: [2], data: Int16Array.of(-32768, 32767) }],
      ['u16', { dtype: 'uint16', dims: [2], data: Uint16Array.of(0, 65535) }],
      ['i32', { dtype: 'int32', dims: [2], data: Int32Array.of(-(2 ** 31), 2 ** 31 - 1) }],
      ['u32', { dtype: 'uint32', dims: [2], data: Uint32Array.of(0, 2 ** 32 - 1) }],
      ['i64', { dtype: 'int64', dims: [3], data: BigInt64Array.of(2n ** 63n - 1n, -(2n ** 63n), -1n) }],
      ['u64', { dtype: 'uint64', dims: [2], data: BigUint64Array.of(0n, 2n ** 64n - 1n) }],
      ['f64', { dtype: 'float64', dims: [3], data: Float64Array.of(Math.PI, -0, 1e300) }],
      ['empty', f32([2, 0, 3], [])],
      ['scalar', f32([], [42])],
      ['zeros', f32([1000], new Float32Array(1000))],
      // sparse float data keeping -0, NaN payloads and denormals among the zeros
      ['nanbits', { dtype: 'float32', dims: [8], data: nanBits }],
      ['sparse', { dtype: 'float32', dims: [64, 64], data: sparseArray(4096, 0.9, 5) }],
    ]),
    opset: 13,
    valueInfo: new Map([
      ['h', { name: 'h', dtype: 'float32', dims: ['n', 3, '?0'] }],
      ['alias', { name: 'other', dtype: 'uint8', dims: [7, 'm'] }],
      ['nodims', { name: 'nodims', dtype: 'float32' }],
    ]),
    producer: { name: 'tests', version: '1.2.3' },
  };
}

/** n floats, a `zeros` fraction of them +0 (at random places), the rest random non-zero. */
function sparseArray(n: number, zeros: number, seed: number): Float32Array {
  const r = rng(seed);
  const a = randomArray(n, seed + 1, 0.1, 1);
  for (let i = 0; i < n; i++) if (r() < zeros) a[i] = 0;
  return a;
}

const mlpOnnx = (W1 = randomArray(48 * 2, 1), W2 = randomArray(24, 2)) =>
  buildModel({
    nodes: [
      { op: 'Gemm', inputs: ['x', 'W1', 'B1'], outputs: ['h'], attrs: { transB: 1, alpha: { float: 0.5 } } },
      { op: 'Relu', inputs: ['h'], outputs: ['r'] },
      { op: 'Gemm', inputs: ['r', 'W2', 'B2'], outputs: ['y'], attrs: { transB: 1 } },
    ],
    inputs: [{ name: 'x', dims: ['batch', 12] }],
    outputs: ['y'],
    initializers: [
      { name: 'W1', dims: [8, 12], data: W1 },
      { name: 'B1', dims: [8], data: randomArray(8, 3) },
      { name: 'W2', dims: [3, 8], data: W2 },
      { name: 'B2', dims: [3], data: randomArray(3, 4) },
    ],
  });

const convOnnx = () =>
  buildModel({
    nodes: [
      { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1], strides: [2, 2] } },
      { op: 'Shape', inputs: ['c'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'], attrs: { axis: 0 } },
      { op: 'Sigmoid', inputs: ['c'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', dims: ['N', 3, 8, 8] }],
    outputs: ['y', 'n'],
    initializers: [
      { name: 'w', dims: [4, 3, 3, 3], data: sparseArray(108, 0.9, 9) },
      { name: 'b', dims: [4], data: randomArray(4, 10) },
      { name: 'i0', dims: [], data: BigInt64Array.of(0n) },
    ],
  });

const branch = (op: string, untyped = false) => ({ graph: { nodes: [{ op, inputs: ['x'], outputs: [`${op}_out`] }], inputs: [], outputs: [{ name: `${op}_out`, untyped }] } });
const ifOnnx = (batch: number | string = 3, untypedElse = false) =>
  buildHarness({
    nodes: [
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'], attrs: { axis: 0 } },
      { op: 'Equal', inputs: ['n', 'three'], outputs: ['c'] },
      { op: 'If', inputs: ['c'], outputs: ['y'], attrs: { then_branch: branch('Relu'), else_branch: branch('Neg', untypedElse) } },
    ],
    inputs: [{ name: 'x', dims: [batch, 5] }],
    outputs: ['y'],
    initializers: [
      { name: 'i0', dims: [], data: BigInt64Array.of(0n) },
      { name: 'three', dims: [], data: BigInt64Array.of(3n) },
    ],
  });

const MODEL_DIR = join(process.cwd(), 'node_modules/openwakeword-js/models');
const pretrained = existsSync(MODEL_DIR) ? readdirSync(MODEL_DIR).filter((f) => f.endsWith('.onnx')) : [];

const onnxModels: [string, () => Uint8Array][] = [
  ['MLP (onnx-build)', () => mlpOnnx()],
  ['Conv with symbolic batch and int64 constants (onnx-build)', convOnnx],
  ['If with subgraphs (harness)', () => ifOnnx()],
  // a symbolic batch keeps the If through simplification; an untyped branch output stays untyped
  ['If on a symbolic dim, a branch output untyped (harness)', () => ifOnnx('N', true)],
  ...pretrained.map((f): [string, () => Uint8Array] => [`pretrained ${f}`, () => readFileSync(join(MODEL_DIR, f))]),
];

// ---- tests -----------------------------------------------------------------------------------

describe('round trip readArtifact(writeArtifact(g)) = g', () => {
  it('every dtype, attribute kind, special float, dim form, map quirk and subgraph', () => {
    const g = richGraph();
    const bytes = expectRoundTrip(g, serializeArtifact); // the serializer alone: simplify would drop the unused parts
    const back = readArtifact(bytes);
    expect(back).toStrictEqual(g); // the whole thing, directly (small)
    const attrs = back.nodes[1].attrs;
    expect(Object.getPrototypeOf(attrs)).toBe(Object.prototype);
    expect(Object.keys(attrs)).toEqual(Object.keys(g.nodes[1].attrs));
    expect(Object.is((attrs.neg0 as { value: number }).value, -0)).toBe(true);
    expect('dims' in back.inputs[3]).toBe(false);
    expect('dims' in back.inputs[2]).toBe(true);
    expect([...back.valueInfo.keys()]).toEqual(['h', 'alias', 'nodims']);
  });

  it('finds the pretrained models', () => {
    expect(pretrained.length).toBeGreaterThanOrEqual(3);
  });

  it.each(onnxModels)('%s', (_name, bytes) => {
    expectRoundTrip(importOnnx(bytes()));
  });

  it('keeps a subgraph output untyped (no guessed type written)', () => {
    const back = readArtifact(writeArtifact(importOnnx(ifOnnx('N', true))));
    const ifNode = back.nodes.find((n) => n.op === 'If')!;
    expect((ifNode.attrs.else_branch.value as Graph).outputs[0]).toMatchObject({ name: 'Neg_out', untyped: true });
    expect((ifNode.attrs.then_branch.value as Graph).outputs[0].untyped).toBeUndefined();
  });

  it('is exported from the package entry, and isArtifact tells artifacts from ONNX', () => {
    const onnx = mlpOnnx();
    const bytes = writeFromIndex(importOnnx(onnx));
    expect(isArtifactFromIndex(bytes)).toBe(true);
    expect(isArtifactFromIndex(onnx)).toBe(false);
    expect(isArtifactFromIndex(new Uint8Array(0))).toBe(false);
    expect(isArtifactFromIndex(bytes.subarray(0, 7))).toBe(false);
    expectSameGraph(readFromIndex(bytes), simplify(importOnnx(onnx)));
  });

  it('lays out a 32-byte header, a section table and 64-byte aligned sections', () => {
    const bytes = writeArtifact(importOnnx(mlpOnnx()));
    expect([...bytes.subarray(0, 8)]).toEqual([0x45, 0x50, 0x52, 0x55, 0x4e, 0x45, 0, 1]);
    expect(u32(bytes, 16)).toBe(bytes.length);
    expect(u32(bytes, 20)).toBe(crc32(bytes.subarray(32)));
    for (const kind of [SectionKind.GRAPH, SectionKind.TENSOR_TABLE, SectionKind.TENSOR_DATA]) expect(sectionOf(bytes, kind).offset % 64).toBe(0);
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926); // the standard check value
  });
});

describe('tensor encodings', () => {
  const graphWith = (t: ConstTensor): Graph => ({
    name: 'g',
    inputs: [],
    outputs: [{ name: 'w', dtype: 'float32', dims: t.dims }],
    nodes: [],
    initializers: new Map([['w', t]]),
    opset: 13,
    valueInfo: new Map(),
  });
  const encodingOf = (t: ConstTensor) => {
    const bytes = writeArtifact(graphWith(t));
    expectSameGraph(readArtifact(bytes), graphWith(t));
    return { encoding: tableEntries(bytes)[0].encoding, bytes };
  };

  it('a 90%-zero weight is stored as a bitmask, the file under 0.2× its dense bytes', () => {
    const data = sparseArray(256 * 1024, 0.9, 21);
    const { encoding, bytes } = encodingOf(f32([256, 1024], data));
    expect(encoding).toBe(Encoding.BITMASK);
    expect(bytes.length).toBeLessThan(0.2 * data.byteLength);
    console.log(`90%-zero 256×1024 float32: dense ${data.byteLength} B, artifact ${bytes.length} B (${((bytes.length / data.byteLength) * 100).toFixed(1)}%)`);
  });

  it('a 99%-zero weight uses u16 deltas; one with gaps over 65535 uses u32 indices', () => {
    const data = sparseArray(256 * 1024, 0.99, 22);
    const d = encodingOf(f32([256, 1024], data));
    expect(d.encoding).toBe(Encoding.DELTA16);
    console.log(`99%-zero 256×1024 float32: dense ${data.byteLength} B, artifact ${d.bytes.length} B (${((d.bytes.length / data.byteLength) * 100).toFixed(2)}%)`);
    const far = new Float32Array(300000);
    far[5] = 1;
    far[100000] = -0;
    far[299999] = NaN;
    expect(encodingOf(f32([300000], far)).encoding).toBe(Encoding.INDEX32);
  });

  it('dense random weights stay raw; all-zero weights take no payload', () => {
    expect(encodingOf(f32([100], randomArray(100, 23))).encoding).toBe(Encoding.RAW);
    const zeros = encodingOf(f32([10, 100], new Float32Array(1000)));
    expect(zeros.encoding).toBe(Encoding.DELTA16);
    expect(tableEntries(zeros.bytes)[0].length).toBe(0);
  });

  it('float16 tensors are sparse-encoded like float32; integer tensors stay raw even when sparse', () => {
    expect(encodingOf({ dtype: 'float16', dims: [1000], data: sparseArray(1000, 0.95, 24) }).encoding).not.toBe(Encoding.RAW);
    expect(encodingOf({ dtype: 'int32', dims: [1000], data: new Int32Array(1000) }).encoding).toBe(Encoding.RAW);
  });

  it('reading copies each weight once, into arrays that own their memory', () => {
    const bytes = writeArtifact(importOnnx(mlpOnnx()));
    const g = readArtifact(bytes);
    for (const t of g.initializers.values()) {
      expect(t.data.buffer).not.toBe(bytes.buffer);
      expect(t.data.byteOffset).toBe(0);
      expect(t.data.buffer.byteLength).toBe(t.data.byteLength);
    }
  });

  it('sizes of the pretrained models as artifacts', () => {
    for (const f of pretrained) {
      const onnx = readFileSync(join(MODEL_DIR, f));
      const epm = writeArtifact(importOnnx(onnx));
      console.log(`${f}: onnx ${onnx.length} B, epm ${epm.length} B`);
      expect(epm.length).toBeLessThan(onnx.length * 1.05);
    }
  });
});

describe('InferenceSession.create on artifact bytes', () => {
  const feedsFor = (g: Graph, seed: number) =>
    Object.fromEntries(
      g.inputs.map((i, k) => {
        const dims = (i.dims ?? []).map((d) => (typeof d === 'number' ? d : 2));
        return [i.name, new Tensor('float32', randomArray(dims.reduce((a, b) => a * b, 1), seed + k), dims)];
      }),
    );

  it.each(onnxModels)('%s: outputs identical to the session on the ONNX bytes', async (_name, model) => {
    const onnx = model();
    const g = importOnnx(onnx);
    const dims = Object.fromEntries(g.inputs.flatMap((i) => (i.dims ?? []).filter((d): d is string => typeof d === 'string').map((d) => [d, 2])));
    const a = await InferenceSession.create(onnx, { freeDimensionOverrides: dims });
    const b = await InferenceSession.create(writeArtifact(g), { freeDimensionOverrides: dims });
    expect(b.inputNames).toEqual(a.inputNames);
    expect(b.outputNames).toEqual(a.outputNames);
    const feeds = feedsFor(g, 31);
    const want = await a.run(feeds);
    const got = await b.run(feeds);
    for (const name of a.outputNames) {
      expect(got[name].dims, name).toEqual(want[name].dims);
      expect(Buffer.from(got[name].data.buffer).equals(Buffer.from(want[name].data.buffer)), `${name}: outputs differ`).toBe(true);
    }
    await a.release();
    await b.release();
  });

  it('a malformed artifact is a ModelFormatError from create', async () => {
    const bytes = writeArtifact(importOnnx(mlpOnnx()));
    await expect(InferenceSession.create(bytes.subarray(0, 100))).rejects.toThrow(ModelFormatError);
    await expect(InferenceSession.create(bytes.subarray(0, 100))).rejects.toThrow(/corrupted or truncated/);
  });
});

describe('damaged files', () => {
  const small = writeArtifact(importOnnx(convOnnx()));

  it('truncation at every offset is a ModelFormatError', () => {
    for (let n = 0; n < small.length; n++) {
      const e = formatError(() => readArtifact(small.subarray(0, n)));
      if (n >= 8) expect(e.message, `truncated at ${n}`).toMatch(/corrupted or truncated/);
    }
  });

  it('truncation of a pretrained model at 200 offsets', () => {
    if (!pretrained.length) return;
    const big = writeArtifact(importOnnx(readFileSync(join(MODEL_DIR, pretrained[0]))));
    const r = rng(41);
    for (let t = 0; t < 200; t++) formatError(() => readArtifact(big.subarray(0, Math.floor(r() * big.length))));
  });

  it('random byte flips are a ModelFormatError every time', () => {
    const r = rng(42);
    for (let t = 0; t < 2000; t++) {
      const b = small.slice();
      const at = Math.floor(r() * b.length);
      b[at] ^= 1 + Math.floor(r() * 255);
      formatError(() => readArtifact(b));
    }
  });

  // (an edited dim can ask for gigabytes: that is an OutOfMemoryError from the load limit, graph/load-limits.ts)
  it('random byte edits with a recomputed checksum: a Graph, a ModelFormatError or an OutOfMemoryError, never another error', () => {
    const r = rng(43);
    let refused = 0;
    for (let t = 0; t < 3000; t++) {
      const b = edited(small, (b) => {
        const at = 32 + Math.floor(r() * (b.length - 32));
        b[at] ^= 1 + Math.floor(r() * 255);
      });
      try {
        readArtifact(b);
      } catch (e) {
        if (!(e instanceof ModelFormatError || e instanceof OutOfMemoryError)) throw e;
        expect(e.message).not.toContain('internal reader error');
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });
});

describe('specific malformed inputs', () => {
  const base = () => writeArtifact(importOnnx(mlpOnnx(sparseArray(96, 0.9, 50))));
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['empty input', () => new Uint8Array(0), /truncated: 0 bytes/],
    ['bad magic', () => edited(base(), (b) => (b[0] = 0x58)), /bad magic/],
    ['ONNX bytes', () => mlpOnnx(), /bad magic/],
    ['a newer version', () => edited(base(), (b, v) => v.setUint16(8, 4, true)), /unsupported format version 4; this edgeprune reads versions 1 and 2/],
    ['a compiled model (version 3) given to the graph reader', () => edited(base(), (b, v) => v.setUint16(8, 3, true)), /this is a compiled model \(edgeprune compile\): it runs in edgeprune\/runtime/],
    ['a plain artifact relabelled elastic (version 2)', () => edited(base(), (b, v) => v.setUint16(8, 2, true)), /corrupted or truncated: the head of the file ends at 0/],
    ['unknown flags', () => edited(base(), (b, v) => v.setUint16(10, 4, true)), /unknown header flags/],
    ['extra bytes after the end', () => Uint8Array.from([...base(), 0]), /corrupted or truncated: the header says/],
    ['a wrong total length', () => edited(base(), (b, v) => v.setUint32(16, b.length - 1, true)), /corrupted or truncated: the header says/],
    ['a checksum mismatch', () => { const b = base(); b[b.length - 1] ^= 1; return b; }, /corrupted or truncated: checksum mismatch/],
    ['a section count past the end', () => edited(base(), (b, v) => v.setUint32(12, 1e6, true)), /section table .* runs past the end/],
    ['a section offset past the end', () => edited(base(), (b, v) => v.setUint32(sectionOf(b, SectionKind.TENSOR_DATA).entry + 4, b.length + 64 - (b.length % 64), true)), /tensor data section .* runs past the end/],
    ['a section length past the end', () => edited(base(), (b, v) => v.setUint32(sectionOf(b, SectionKind.GRAPH).entry + 8, b.length, true)), /graph section .* runs past the end/],
    ['an unaligned section', () => edited(base(), (b, v) => v.setUint32(sectionOf(b, SectionKind.GRAPH).entry + 4, sectionOf(b, SectionKind.GRAPH).offset + 4, true)), /not 64-byte aligned/],
    ['overlapping sections', () => edited(base(), (b, v) => v.setUint32(sectionOf(b, SectionKind.GRAPH).entry + 8, sectionOf(b, SectionKind.TENSOR_TABLE).offset + 8 - sectionOf(b, SectionKind.GRAPH).offset, true)), /sections overlap/],
    ['an unknown section kind', () => edited(base(), (b, v) => v.setUint32(sectionOf(b, SectionKind.GRAPH).entry, 9, true)), /unknown kind 9/],
    ['a missing section', () => edited(base(), (b, v) => v.setUint32(sectionOf(b, SectionKind.TENSOR_DATA).entry, SectionKind.GRAPH, true)), /graph section appears twice/],
    ['a tensor table of the wrong size', () => edited(base(), (b, v) => v.setUint32(sectionOf(b, SectionKind.TENSOR_TABLE).offset, 5, true)), /declares 5 tensors .* but the section is/],
    ['a payload past the data section', () => edited(base(), (b, v) => v.setUint32(tableEntries(b)[1].at + 16, 1e6, true)), /payload .* lies past the end/],
    ['dims not matching the value count', () => edited(base(), (b, v) => v.setBigUint64(dimAt(b, 1), 9n, true)), /dims \[9\] need 9 values but the entry stores 8/],
    ['dims not matching the payload length', () => edited(base(), (b, v) => {
      v.setBigUint64(dimAt(b, 1), 9n, true);
      v.setUint32(tableEntries(b)[1].at + 8, 9, true);
    }), /dims \[9\] of float32 need 36 bytes but the payload is 32/],
    ['dims not matching a sparse payload', () => edited(base(), (b, v) => v.setBigUint64(dimAt(b, 0), 64n, true)), /bitmask payload .* needs \d+ bytes/],
    ['huge dims (no allocation)', () => edited(base(), (b, v) => v.setBigUint64(dimAt(b, 0), 2n ** 40n, true)), /over 2147483648 bytes decoded: corrupt dims/],
    ['an unknown dtype code', () => edited(base(), (b, v) => v.setUint8(tableEntries(b)[1].at, 8)), /unknown dtype code 8/],
    ['an unknown encoding', () => edited(base(), (b, v) => v.setUint8(tableEntries(b)[1].at + 1, 8)), /unknown encoding 8/],
    ['a float payload relabelled int8', () => edited(base(), (b, v) => v.setUint8(tableEntries(b)[1].at + 1, Encoding.INT8)), /int8 payload of 8 values over 8 elements and 8 scales needs 40 bytes but is 32/],
    ['a non-zero reserved field on a float tensor', () => edited(base(), (b, v) => v.setUint32(tableEntries(b)[1].at + 12, 1, true)), /non-zero reserved field/],
    ['bitmask population ≠ value count', () => edited(base(), (b) => {
      const e = tableEntries(b)[0];
      const at = payloadAt(b, e);
      let i = 0;
      while (b[at + i] === 0) i++;
      b[at + i] &= b[at + i] - 1; // clear one set bit
    }), /bits set in its mask but stores \d+ values/],
    ['a bitmask bit past the last element', () => {
      const g = importOnnx(mlpOnnx());
      g.initializers.set('B2', f32([3], [0, 0, 0]));
      g.initializers.set('W1', f32([7, 12], sparseArray(84, 0.9, 51)));
      g.initializers.set('B1', f32([7], randomArray(7, 52)));
      g.initializers.set('W2', f32([3, 7], randomArray(21, 53)));
      return edited(writeArtifact(g), (b) => {
        const e = tableEntries(b)[0];
        expect(e.encoding).toBe(Encoding.BITMASK);
        const at = payloadAt(b, e);
        const last = at + Math.ceil(84 / 8) - 1; // 84 elements: bits 4-7 of the last byte are past the end
        const set = b[last] & 0x0f;
        expect(set).not.toBe(0);
        b[last] = (b[last] & ~(set & -set)) | 0x80; // move one bit past the end, keeping the count
      });
    }, /mask bits past its 84 elements/],
    ['a sparse u32 index out of range', () => indexArtifact((b, v, at, e) => v.setUint32(at + 4 * (e.valueCount - 1), 300000, true)), /sparse index 300000 out of range/],
    ['sparse u32 indices not increasing', () => indexArtifact((b, v, at) => v.setUint32(at + 4, 0, true)), /must be strictly increasing/],
    ['a sparse u16 delta of 0', () => deltaArtifact((b, v, at) => v.setUint16(at + 2, 0, true)), /delta 0 .* strictly increasing/],
    ['a sparse u16 index out of range', () => deltaArtifact((b, v, at, e) => v.setUint16(at + 2 * (e.valueCount - 1), 65535, true)), /out of range/],
    ['sparse encoding on an int64 tensor', () => edited(convArtifact(), (b, v) => v.setUint8(tableEntries(b)[2].at + 1, Encoding.INDEX32)), /index32 encoding on a int64 tensor/],
    ['graph JSON that is not JSON', () => withGraphJsonText('{"name": '), /graph section is not UTF-8 JSON/],
    ['graph JSON that is not UTF-8', () => withGraphJsonBytes(Uint8Array.of(0x7b, 0xff, 0x7d)), /not UTF-8 JSON/],
    ['graph JSON of the wrong shape', () => withGraphJson(base(), (j) => (j.nodes = 'x')), /the graph.nodes is not an array/],
    ['a node field of the wrong type', () => withGraphJson(base(), (j) => (j.nodes[0].i = [1])), /the graph.nodes\[0\].i\[0\] is not a string/],
    ['an unknown attribute kind', () => withGraphJson(base(), (j) => (j.nodes[0].a[0][1] = 'blob')), /unknown kind "blob"/],
    ['an int attribute that is not an integer', () => withGraphJson(base(), (j) => (j.nodes[0].a[0] = ['transB', 'int', 0.5])), /attribute 'transB' is not an integer/],
    ['an unknown dtype', () => withGraphJson(base(), (j) => (j.inputs[0].t = 'complex64')), /unknown dtype 'complex64'/],
    ['an invalid dim', () => withGraphJson(base(), (j) => (j.inputs[0].d = [-1, 12])), /invalid dim -1/],
    ['a tensor index out of range', () => withGraphJson(base(), (j) => (j.initializers[0][1] = 4)), /refers to tensor index 4, out of range \(the table holds 4\)/],
    ['a tensor index that is not an integer', () => withGraphJson(base(), (j) => (j.initializers[0][1] = '0')), /refers to tensor index "0", out of range/],
    ['a tensor referenced twice', () => withGraphJson(base(), (j) => (j.initializers[1][1] = 0)), /refers to tensor 0, which another value already uses/],
    ['a tensor never referenced', () => withGraphJson(base(), (j) => j.initializers.pop()), /tensor 3 of the table is never referenced/],
    ['a dangling node input', () => withGraphJson(base(), (j) => (j.nodes[1].i[0] = 'nowhere')), /reads 'nowhere', which no graph input/],
    ['a value defined twice', () => withGraphJson(base(), (j) => (j.nodes[1].o[0] = 'h')), /'h' is defined twice/],
    ['deeply nested JSON', () => withGraphJsonText('['.repeat(100000) + ']'.repeat(100000)), /graph section|not an object/],
  ];
  it.each(cases)('%s', (_name, make, message) => {
    expect(formatError(() => readArtifact(make())).message).toMatch(message);
  });

  function withGraphJsonBytes(body: Uint8Array): Uint8Array {
    const b = base();
    const part = (kind: number) => {
      const s = sectionOf(b, kind);
      return b.slice(s.offset, s.offset + s.length);
    };
    return assemble([
      { kind: SectionKind.GRAPH, body },
      { kind: SectionKind.TENSOR_TABLE, body: part(SectionKind.TENSOR_TABLE) },
      { kind: SectionKind.TENSOR_DATA, body: part(SectionKind.TENSOR_DATA) },
    ]);
  }
  function withGraphJsonText(text: string): Uint8Array {
    return withGraphJsonBytes(new TextEncoder().encode(text));
  }

  function convArtifact(): Uint8Array {
    return writeArtifact(importOnnx(convOnnx()));
  }

  /** An artifact whose first tensor is index32-encoded; `edit` gets the payload offset. */
  function indexArtifact(edit: (b: Uint8Array, v: DataView, at: number, e: Entry) => void): Uint8Array {
    const data = new Float32Array(300000);
    data[5] = 1;
    data[100000] = 2;
    data[299999] = 3;
    return sparseArtifact(data, Encoding.INDEX32, edit);
  }
  function deltaArtifact(edit: (b: Uint8Array, v: DataView, at: number, e: Entry) => void): Uint8Array {
    return sparseArtifact(sparseArray(4096, 0.99, 60), Encoding.DELTA16, edit);
  }
  function sparseArtifact(data: Float32Array, encoding: number, edit: (b: Uint8Array, v: DataView, at: number, e: Entry) => void): Uint8Array {
    const g: Graph = { name: 'g', inputs: [], outputs: [{ name: 'w', dtype: 'float32', dims: [data.length] }], nodes: [], initializers: new Map([['w', f32([data.length], data)]]), opset: 13, valueInfo: new Map() };
    return edited(writeArtifact(g), (b, v) => {
      const e = tableEntries(b)[0];
      expect(e.encoding).toBe(encoding);
      edit(b, v, payloadAt(b, e), e);
    });
  }
});

describe('writeArtifact stores the graph simplified, and says so in the header', () => {
  // the PyTorch flatten chain after a Conv (Shape of an intermediate value stays until the dims are
  // known), a Constant, an Identity and a node nothing reads: the simplifier's work on write
  const g = () => importOnnx(buildHarness({
    nodes: [
      { op: 'Constant', inputs: [], outputs: ['k'], attrs: { value: { tensor: { dims: [1], data: BigInt64Array.of(-1n) } } } },
      { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'] },
      { op: 'Identity', inputs: ['c'], outputs: ['ci'] },
      { op: 'Shape', inputs: ['ci'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'], attrs: { axis: 0 } },
      { op: 'Unsqueeze', inputs: ['n', 'ax'], outputs: ['nu'] },
      { op: 'Concat', inputs: ['nu', 'k'], outputs: ['shape'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['ci', 'shape'], outputs: ['y'] },
      { op: 'Relu', inputs: ['c'], outputs: ['unused'] },
    ],
    inputs: [{ name: 'x', dims: ['N', 2, 4, 4] }],
    outputs: ['y'],
    initializers: [
      { name: 'w', dims: [3, 2, 3, 3], data: randomArray(54, 11) },
      { name: 'i0', dims: [], data: BigInt64Array.of(0n) },
      { name: 'ax', dims: [1], data: BigInt64Array.of(0n) },
    ],
  }));

  it('writeArtifact: simplified graph, SIMPLIFIED flag; serializeArtifact: the graph as given, no flag', () => {
    const bytes = writeArtifact(g());
    expect(new DataView(bytes.buffer).getUint16(10, true)).toBe(HeaderFlags.SIMPLIFIED);
    const back = readArtifact(bytes);
    expect(back.nodes.map((n) => n.op)).toEqual(['Conv', 'Shape', 'Gather', 'Unsqueeze', 'Concat', 'Reshape']);
    expectSameGraph(back, simplify(g()));
    const raw = serializeArtifact(g());
    expect(new DataView(raw.buffer).getUint16(10, true)).toBe(0);
    expect(readArtifact(raw).nodes.map((n) => n.op)).toEqual(g().nodes.map((n) => n.op));
  });

  it('a session on the simplified artifact computes what it computes on the ONNX graph', async () => {
    const x = randomArray(3 * 2 * 16, 12);
    const feeds = { x: new Tensor('float32', x, [3, 2, 4, 4]) };
    const a = await (await InferenceSession.create(writeArtifact(g()))).run(feeds);
    const b = await (await InferenceSession.fromGraph(g())).run(feeds);
    expect(a.y.dims).toEqual([3, 12]);
    expect(Array.from(a.y.data)).toEqual(Array.from(b.y.data));
  });
});

describe('writeArtifact refuses graphs it could not read back', () => {
  const base = () => importOnnx(mlpOnnx());
  const cases: [string, (g: Graph) => void, RegExp][] = [
    ['a string tensor', (g) => { g.initializers.set('s', { dtype: 'string', dims: [1], data: new Uint8Array(1) }); g.outputs.push({ name: 's', dtype: 'string', dims: [1] }); }, /string tensor/],
    ['data of the wrong array type', (g) => g.initializers.set('B1', { dtype: 'int64', dims: [8], data: new Float32Array(8) }), /is int64 but its data is a Float32Array/],
    ['data not matching dims', (g) => (g.initializers.get('B1')!.dims = [9]), /holds 8 values but its dims \[9\] need 9/],
    ['an invalid value dim', (g) => (g.inputs[0].dims = [-1, 12]), /invalid dims/],
    ['a non-integer int attribute', (g) => (g.nodes[0].attrs.transB = { kind: 'int', value: 0.5 }), /is a int attribute but holds 0.5/],
    ['a dangling input', (g) => (g.nodes[1].inputs[0] = 'nowhere'), /reads 'nowhere'/],
  ];
  it.each(cases)('%s', (_name, edit, message) => {
    const g = base();
    edit(g);
    expect(formatError(() => writeArtifact(g)).message).toMatch(message);
  });
});
