// int8 tensors in the .epm artifact (Encoding.INT8 .. INT8_INDEX32): a tensor marked int8
// (ConstTensor.quant) round-trips bit-exactly (dequantized floats, scales, axis), takes the
// smallest of the dense and sparse int8 forms, a pruned + quantized model meets the issue's
// size bar against its dense fp32 ONNX, and every damaged int8 payload is a ModelFormatError.
import { describe, expect, it } from 'vitest';
import { ModelFormatError, OutOfMemoryError } from '../src/errors.js';
import { crc32 } from '../src/format/crc32.js';
import { Encoding, SectionKind } from '../src/format/layout.js';
import { readArtifact } from '../src/format/read.js';
import { writeArtifact } from '../src/format/write.js';
import type { ConstTensor, Graph } from '../src/graph/ir.js';
import { quantizeGraph, quantizeTensor } from '../src/graph/quant.js';
import { exportOnnx } from '../src/onnx/export.js';
import { importOnnx } from '../src/onnx/import.js';
import { l1Unstructured } from '../src/prune/unstructured.js';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { buildModel } from './util/onnx-build.js';
import { randomArray, rng } from './util/rng.js';

// ---- helpers (the layout read back independently of src/format) ------------------------------

const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);

function sectionOf(b: Uint8Array, kind: number): { offset: number; length: number } {
  for (let i = 0; i < u32(b, 12); i++) {
    const at = 32 + 16 * i;
    if (u32(b, at) === kind) return { offset: u32(b, at + 4), length: u32(b, at + 8) };
  }
  throw new Error(`no section ${kind}`);
}

interface Entry {
  at: number;
  encoding: number;
  valueCount: number;
  axis: number;
  /** absolute offset of the payload in the file */
  payload: number;
  length: number;
}

function entries(b: Uint8Array): Entry[] {
  const t = sectionOf(b, SectionKind.TENSOR_TABLE);
  const data = sectionOf(b, SectionKind.TENSOR_DATA).offset;
  return Array.from({ length: u32(b, t.offset) }, (_, i) => {
    const at = t.offset + 8 + 24 * i;
    return { at, encoding: b[at + 1], valueCount: u32(b, at + 8), axis: u32(b, at + 12), payload: data + u32(b, at + 16), length: u32(b, at + 20) };
  });
}

/** A copy edited by `edit`, with the CRC recomputed so only the edit is wrong. */
function edited(bytes: Uint8Array, edit: (b: Uint8Array, v: DataView) => void): Uint8Array {
  const b = bytes.slice();
  const v = new DataView(b.buffer);
  edit(b, v);
  v.setUint32(20, crc32(b.subarray(32)), true);
  return b;
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

/** n uniform weights in [-1, 1) with a fraction `zeros` (Bernoulli) set to exactly zero. */
function sparseArray(n: number, zeros: number, seed: number): Float32Array {
  const r = rng(seed);
  const a = randomArray(n, seed + 1);
  for (let i = 0; i < n; i++) if (r() < zeros) a[i] = 0;
  return a;
}

const f32 = (dims: number[], data: Float32Array): ConstTensor => ({ dtype: 'float32', dims, data });

/** A graph holding the tensors as initializers (each also a graph output, so the graph is valid). */
function graphOf(tensors: Record<string, ConstTensor>): Graph {
  return {
    name: 'g',
    inputs: [],
    outputs: Object.entries(tensors).map(([name, t]) => ({ name, dtype: t.dtype, dims: t.dims })),
    nodes: [],
    initializers: new Map(Object.entries(tensors)),
    opset: 13,
    valueInfo: new Map(),
  };
}

const bitsOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** write → read gives the same tensors (data bit-exact, scales, axis); writing again gives the same bytes. */
function expectRoundTrip(g: Graph): Uint8Array {
  const bytes = writeArtifact(g);
  const back = readArtifact(bytes);
  expect([...back.initializers.keys()]).toEqual([...g.initializers.keys()]);
  for (const [name, t] of g.initializers) {
    const u = back.initializers.get(name)!;
    expect({ dtype: u.dtype, dims: u.dims, type: u.data.constructor.name }, name).toEqual({ dtype: t.dtype, dims: t.dims, type: t.data.constructor.name });
    expect(bitsOf(u.data as Float32Array).equals(bitsOf(t.data as Float32Array)), `${name}: data bits differ`).toBe(true);
    if (t.quant) {
      expect(u.quant, name).toStrictEqual(t.quant);
      expect(u.quant!.scales.buffer).not.toBe(bytes.buffer); // owns its memory
    } else expect(u.quant, name).toBeUndefined();
  }
  expect(Buffer.from(writeArtifact(back)).equals(Buffer.from(bytes))).toBe(true);
  return bytes;
}

// ---- round trips and encodings ---------------------------------------------------------------

describe('int8 tensors in the artifact', () => {
  it('a dense quantized weight is stored as int8 + scales (~1/4 of its float bytes) and reads back bit-exact', () => {
    const t = quantizeTensor(f32([64, 3, 3, 3], randomArray(64 * 27, 1)), 0);
    const bytes = expectRoundTrip(graphOf({ w: t }));
    const [e] = entries(bytes);
    expect(e.encoding).toBe(Encoding.INT8);
    expect(e.valueCount).toBe(64 * 27);
    expect(e.axis).toBe(0);
    expect(e.length).toBe(4 * 64 + 64 * 27);
    // the scales lead the payload, then q in element order: spot-check against the tensor
    const v = new DataView(bytes.buffer);
    expect(v.getFloat32(e.payload, true)).toBe(t.quant!.scales[0]);
    const q0 = v.getInt8(e.payload + 4 * 64);
    expect(Math.fround(q0 * t.quant!.scales[0])).toBe(t.data[0]);
  });

  it('every axis and rank: channel c of element i is floor(i / inner) % C', () => {
    const dims = [3, 5, 4, 2];
    for (let axis = 0; axis < 4; axis++) {
      const t = quantizeTensor(f32(dims, randomArray(120, 10 + axis, -3, 3)), axis);
      const bytes = expectRoundTrip(graphOf({ w: t }));
      expect(entries(bytes)[0].axis).toBe(axis);
      expect(t.quant!.scales.length).toBe(dims[axis]);
    }
    // rank 1 (a per-element scale) and an empty tensor
    expectRoundTrip(graphOf({ a: quantizeTensor(f32([7], randomArray(7, 3)), 0), b: quantizeTensor(f32([4, 0], new Float32Array(0)), 0) }));
  });

  it('90%-zero weights use the int8 bitmask; sparser ones u16 deltas; gaps over 65535 u32 indices', () => {
    const n = 256 * 1024;
    const bitmask = quantizeTensor(f32([256, 1024], sparseArray(n, 0.9, 2)), 0);
    const b = expectRoundTrip(graphOf({ w: bitmask }));
    expect(entries(b)[0].encoding).toBe(Encoding.INT8_BITMASK);
    // mask n/8 + ~0.1 n int8 values + scales: about 0.056 of the float bytes
    expect(entries(b)[0].length).toBeLessThan(0.06 * 4 * n);
    const asFloat = entries(writeArtifact(graphOf({ w: f32([256, 1024], bitmask.data as Float32Array) })))[0];
    expect(asFloat.encoding).toBe(Encoding.BITMASK);
    console.log(`90%-zero 256×1024 payload: dense float32 ${4 * n} B, float bitmask ${asFloat.length} B, int8 bitmask ${entries(b)[0].length} B (${((entries(b)[0].length / (4 * n)) * 100).toFixed(1)}% of dense)`);

    const delta = quantizeTensor(f32([256, 1024], sparseArray(n, 0.995, 3)), 1);
    expect(entries(expectRoundTrip(graphOf({ w: delta })))[0].encoding).toBe(Encoding.INT8_DELTA16);

    const far = new Float32Array(300000);
    far[5] = 1;
    far[100000] = -2;
    far[299999] = 0.5;
    const idx = quantizeTensor(f32([1, 300000], far), 0);
    expect(entries(expectRoundTrip(graphOf({ w: idx })))[0].encoding).toBe(Encoding.INT8_INDEX32);

    const zeros = quantizeTensor(f32([8, 16], new Float32Array(128)), 0);
    expect([...zeros.quant!.scales]).toEqual(new Array(8).fill(1)); // all-zero channels: scale 1, never 0
    const z = entries(expectRoundTrip(graphOf({ w: zeros })))[0];
    expect(z.encoding).toBe(Encoding.INT8_DELTA16);
    expect(z.length).toBe(4 * 8); // the scales only
  });

  it('weights that quantize to zero stay sparse: values below half a step become exact zeros', () => {
    const w = new Float32Array([1, 0.003, -0.003, 0, -1, 1e-30, 0.5, -0]);
    const t = quantizeTensor(f32([1, 8], w), 0);
    expect([...t.data].map((x) => Object.is(x, -0) ? '-0' : x)).toEqual([1, 0, 0, 0, -1, 0, Math.fround(64 * Math.fround(1 / 127)), 0]);
    expectRoundTrip(graphOf({ w: t }));
  });

  it('float tensors next to int8 ones keep their float encodings', () => {
    const g = graphOf({ w: quantizeTensor(f32([16, 16], randomArray(256, 4)), 0), b: f32([16], randomArray(16, 5)), s: f32([1000], sparseArray(1000, 0.95, 6)) });
    const e = entries(expectRoundTrip(g));
    expect(e.map((x) => x.encoding)).toEqual([Encoding.INT8, Encoding.RAW, Encoding.DELTA16]);
    expect(e.map((x) => x.axis)).toEqual([0, 0, 0]);
  });
});

// ---- whole models ----------------------------------------------------------------------------

/** A small CNN: conv3x3 16→32, conv1x1 32→64, global pool, Gemm 64→10 (transB). */
function cnnOnnx(seed = 1): Uint8Array {
  return buildModel({
    nodes: [
      { op: 'Conv', inputs: ['x', 'W1', 'B1'], outputs: ['c1'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
      { op: 'Conv', inputs: ['r1', 'W2', 'B2'], outputs: ['c2'] },
      { op: 'Relu', inputs: ['c2'], outputs: ['r2'] },
      { op: 'GlobalAveragePool', inputs: ['r2'], outputs: ['p'] },
      { op: 'Flatten', inputs: ['p'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'W3', 'B3'], outputs: ['y'], attrs: { transB: 1 } },
    ],
    inputs: [{ name: 'x', dims: [1, 16, 12, 12] }],
    outputs: ['y'],
    initializers: [
      { name: 'W1', dims: [32, 16, 3, 3], data: randomArray(32 * 16 * 9, seed, -0.2, 0.2) },
      { name: 'B1', dims: [32], data: randomArray(32, seed + 1, -0.1, 0.1) },
      { name: 'W2', dims: [64, 32, 1, 1], data: randomArray(64 * 32, seed + 2, -0.3, 0.3) },
      { name: 'B2', dims: [64], data: randomArray(64, seed + 3, -0.1, 0.1) },
      { name: 'W3', dims: [10, 64], data: randomArray(640, seed + 4, -0.3, 0.3) },
      { name: 'B3', dims: [10], data: randomArray(10, seed + 5, -0.1, 0.1) },
    ],
  });
}

describe('quantized models as artifacts', () => {
  it('quantizeGraph marks Conv and Gemm weights; a session on the artifact computes what it computes on the same graph in memory, and within the int8 bound of the dequantized ONNX', async () => {
    const { graph, report } = quantizeGraph(importOnnx(cnnOnnx()));
    expect(report.quantized.map((q) => [q.name, q.axis])).toEqual([['W1', 0], ['W2', 0], ['W3', 0]]);
    for (const q of report.quantized) {
      const s = graph.initializers.get(q.name)!.quant!.scales;
      expect(q.maxError).toBeLessThanOrEqual(Math.max(...s) / 2);
    }
    const bytes = expectRoundTrip(graph);
    expect(entries(bytes).filter((e) => e.encoding === Encoding.INT8)).toHaveLength(3);
    const x = new Tensor('float32', randomArray(16 * 144, 7), [1, 16, 12, 12]);
    const a = await InferenceSession.create(bytes);
    const b = await InferenceSession.fromGraph(graph);
    // ONNX keeps the dequantized floats but not the int8 mark: f32 kernels, activations not quantized
    const c = await InferenceSession.create(exportOnnx(graph));
    try {
      const ya = (await a.run({ x })).y.data as Float32Array;
      const yb = (await b.run({ x })).y.data as Float32Array;
      const yc = (await c.run({ x })).y.data as Float32Array;
      expect(bitsOf(ya).equals(bitsOf(yb))).toBe(true);
      const scale = Math.max(...Array.from(yc, Math.abs));
      for (let i = 0; i < yc.length; i++) expect(Math.abs(ya[i] - yc[i])).toBeLessThan(2e-3 * scale);
    } finally {
      await a.release();
      await b.release();
      await c.release();
    }
  });

  it('Gemm without transB and MatMul weights are quantized per output column (axis 1); shared or tiny weights are skipped', () => {
    const g = importOnnx(
      buildModel({
        nodes: [
          { op: 'Gemm', inputs: ['x', 'A', 'tiny'], outputs: ['h'] },
          { op: 'MatMul', inputs: ['h', 'B'], outputs: ['m'] },
          { op: 'Add', inputs: ['m', 'C'], outputs: ['a'] },
          { op: 'MatMul', inputs: ['a', 'C'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', dims: [2, 32] }],
        outputs: ['y'],
        initializers: [
          { name: 'A', dims: [32, 16], data: randomArray(512, 1) },
          { name: 'tiny', dims: [16], data: randomArray(16, 2) },
          { name: 'B', dims: [16, 16], data: randomArray(256, 3) },
          { name: 'C', dims: [16, 16], data: randomArray(256, 4) },
        ],
      }),
    );
    const { graph, report } = quantizeGraph(g, { exclude: [] });
    expect(report.quantized.map((q) => [q.name, q.axis])).toEqual([['A', 1], ['B', 1]]);
    expect(report.skipped.map((s) => s.name)).toEqual(['C']);
    expect(graph.initializers.get('C')).toBe(g.initializers.get('C'));
    expect(g.initializers.get('A')!.quant).toBeUndefined(); // the input graph is not changed
    expectRoundTrip(graph);
    expect(quantizeGraph(g, { exclude: ['A'] }).report.quantized.map((q) => q.name)).toEqual(['B']);
  });

  it('the bar: 90% unstructured sparsity + int8 as the artifact is ≤ 0.2× the dense fp32 ONNX file', async () => {
    // the conv weights dominate, as in a real CNN
    const onnx = buildModel({
      nodes: [
        { op: 'Conv', inputs: ['x', 'W1', 'B1'], outputs: ['c1'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
        { op: 'Conv', inputs: ['r1', 'W2', 'B2'], outputs: ['c2'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Relu', inputs: ['c2'], outputs: ['r2'] },
        { op: 'GlobalAveragePool', inputs: ['r2'], outputs: ['p'] },
        { op: 'Flatten', inputs: ['p'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'W3', 'B3'], outputs: ['y'], attrs: { transB: 1 } },
      ],
      inputs: [{ name: 'x', dims: [1, 32, 8, 8] }],
      outputs: ['y'],
      initializers: [
        { name: 'W1', dims: [64, 32, 3, 3], data: randomArray(64 * 32 * 9, 1, -0.2, 0.2) },
        { name: 'B1', dims: [64], data: randomArray(64, 2) },
        { name: 'W2', dims: [128, 64, 3, 3], data: randomArray(128 * 64 * 9, 3, -0.2, 0.2) },
        { name: 'B2', dims: [128], data: randomArray(128, 4) },
        { name: 'W3', dims: [100, 128], data: randomArray(12800, 5, -0.3, 0.3) },
        { name: 'B3', dims: [100], data: randomArray(100, 6) },
      ],
    });
    const dense = importOnnx(onnx);
    const denseOnnx = exportOnnx(dense);
    const { graph: pruned } = await l1Unstructured(dense, { amount: 0.9 });
    const sparseFloat = writeArtifact(pruned);
    const { graph: quantized } = quantizeGraph(pruned);
    const bytes = expectRoundTrip(quantized);
    expect(entries(bytes).filter((e) => e.encoding === Encoding.INT8_BITMASK)).toHaveLength(3);
    const ratio = bytes.length / denseOnnx.length;
    console.log(`dense fp32 ONNX ${denseOnnx.length} B; 90% sparse float artifact ${sparseFloat.length} B (${(sparseFloat.length / denseOnnx.length).toFixed(3)}x); 90% sparse + int8 artifact ${bytes.length} B (${ratio.toFixed(3)}x)`);
    expect(ratio).toBeLessThanOrEqual(0.2);
    // and it still runs: outputs within the int8 error of the pruned float model
    const x = new Tensor('float32', randomArray(32 * 64, 8), [1, 32, 8, 8]);
    const a = await InferenceSession.create(bytes);
    const b = await InferenceSession.create(sparseFloat);
    try {
      const ya = (await a.run({ x })).y.data as Float32Array;
      const yb = (await b.run({ x })).y.data as Float32Array;
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < ya.length; i++) {
        worst = Math.max(worst, Math.abs(ya[i] - yb[i]));
        scale = Math.max(scale, Math.abs(yb[i]));
      }
      expect(worst).toBeLessThan(0.05 * scale);
    } finally {
      await a.release();
      await b.release();
    }
  });
});

// ---- the writer's checks ---------------------------------------------------------------------

describe('writeArtifact refuses int8 annotations that do not hold', () => {
  const good = () => quantizeTensor(f32([4, 8], randomArray(32, 9)), 0);
  const cases: [string, (t: ConstTensor) => ConstTensor, RegExp][] = [
    ['data changed after quantizing', (t) => ({ ...t, data: (t.data as Float32Array).map((v, i) => (i === 5 ? v * 1.01 : v)) }), /element 5 .* is not an integer in \[-127, 127\] times its channel's scale/],
    ['a -0 element (int8 zero is +0)', (t) => ({ ...t, data: (t.data as Float32Array).map((v, i) => (i === 3 ? -0 : v)) }), /element 3 \(-0\)/],
    ['a value beyond 127 steps', (t) => ({ ...t, data: (t.data as Float32Array).map((v, i) => (i === 0 ? 200 * t.quant!.scales[0] : v)) }), /element 0/],
    ['too few scales', (t) => ({ ...t, quant: { ...t.quant!, scales: t.quant!.scales.subarray(1) } }), /needs 4 int8 scales along axis 0 but has 3/],
    ['a zero scale', (t) => ({ ...t, quant: { ...t.quant!, scales: t.quant!.scales.map((s, c) => (c === 2 ? 0 : s)) } }), /int8 scale 0 for channel 2/],
    ['a NaN scale', (t) => ({ ...t, quant: { ...t.quant!, scales: t.quant!.scales.map((s, c) => (c === 1 ? NaN : s)) } }), /int8 scale NaN for channel 1/],
    ['an axis past the rank', (t) => ({ ...t, quant: { ...t.quant!, axis: 2 } }), /quantization axis 2, outside its rank 2/],
    ['an unknown quantization type', (t) => ({ ...t, quant: { ...t.quant!, type: 'uint4' as 'int8' } }), /unknown quantization "uint4"/],
    ['an int32 tensor marked int8', (t) => ({ dtype: 'int32', dims: [4, 8], data: new Int32Array(32), quant: t.quant }), /is int32 but marked int8/],
  ];
  it.each(cases)('%s', (_name, edit, message) => {
    expect(formatError(() => writeArtifact(graphOf({ w: edit(good()) }))).message).toMatch(message);
  });
});

// ---- damaged files -----------------------------------------------------------------------------

describe('malformed int8 payloads', () => {
  /** w: dense int8 [4, 8] (axis 0); s: 90%-zero int8 bitmask [64, 64]; d: int8 u16 deltas; i: int8 u32 indices. */
  const model = (): Uint8Array => {
    const far = new Float32Array(300000);
    far[5] = 1;
    far[100000] = -2;
    far[299999] = 0.5;
    return writeArtifact(graphOf({
      w: quantizeTensor(f32([4, 8], randomArray(32, 9)), 0),
      s: quantizeTensor(f32([64, 64], sparseArray(4096, 0.9, 10)), 1),
      d: quantizeTensor(f32([1, 4096], sparseArray(4096, 0.995, 11)), 0),
      i: quantizeTensor(f32([1, 300000], far), 0),
      b: f32([4], randomArray(4, 12)),
    }));
  };
  const at = (b: Uint8Array, i: number) => entries(b)[i];
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['a zero scale', () => edited(model(), (b, v) => v.setFloat32(at(b, 0).payload + 4, 0, true)), /int8 scale 0 for channel 1/],
    ['a NaN scale', () => edited(model(), (b, v) => v.setFloat32(at(b, 1).payload + 8, NaN, true)), /int8 scale NaN for channel 2/],
    ['a negative scale', () => edited(model(), (b, v) => v.setFloat32(at(b, 0).payload, -0.5, true)), /int8 scale -0.5 for channel 0/],
    ['an infinite scale', () => edited(model(), (b, v) => v.setFloat32(at(b, 0).payload, Infinity, true)), /int8 scale Infinity/],
    ['an int8 value of -128', () => edited(model(), (b) => (b[at(b, 0).payload + 16 + 7] = 0x80)), /int8 value -128 at stored value 7/],
    ['an axis past the rank', () => edited(model(), (b, v) => v.setUint32(at(b, 0).at + 12, 2, true)), /int8 quantization axis 2 is outside its rank 2/],
    ['an axis that changes the scale count', () => edited(model(), (b, v) => v.setUint32(at(b, 0).at + 12, 1, true)), /int8 payload of 32 values over 32 elements and 8 scales needs 64 bytes but is 48/],
    ['a dense int8 value count ≠ numel', () => edited(model(), (b, v) => v.setUint32(at(b, 0).at + 8, 31, true)), /31 stored values for dims \[4, 8\]/],
    ['a sparse value count past numel', () => edited(model(), (b, v) => v.setUint32(at(b, 1).at + 8, 5000, true)), /5000 stored values for dims \[64, 64\]/],
    ['int8 bitmask population ≠ value count', () => edited(model(), (b) => {
      const mask = at(b, 1).payload + 4 * 64;
      let i = 0;
      while (b[mask + i] === 0) i++;
      b[mask + i] &= b[mask + i] - 1;
    }), /bits set in its mask but stores \d+ values/],
    ['an int8 u16 delta of 0', () => edited(model(), (b, v) => v.setUint16(at(b, 2).payload + 4 + 2, 0, true)), /delta 0 .* strictly increasing/],
    ['an int8 u16 index out of range', () => edited(model(), (b, v) => v.setUint16(at(b, 2).payload + 4 + 2 * (at(b, 2).valueCount - 1), 65535, true)), /out of range/],
    ['an int8 u32 index out of range', () => edited(model(), (b, v) => v.setUint32(at(b, 3).payload + 4 + 8, 300000, true)), /sparse index 300000 out of range/],
    ['int8 u32 indices not increasing', () => edited(model(), (b, v) => v.setUint32(at(b, 3).payload + 4 + 4, 0, true)), /must be strictly increasing/],
    ['an int8 payload one byte short', () => edited(model(), (b, v) => v.setUint32(at(b, 0).at + 20, at(b, 0).length - 1, true)), /needs 48 bytes but is 47/],
    ['an int8 encoding on a float32 raw payload', () => edited(model(), (b) => (b[at(b, 4).at + 1] = Encoding.INT8)), /int8 payload .* needs/],
    ['an int8 encoding on an int32 tensor', () => edited(model(), (b) => (b[at(b, 0).at] = 6)), /int8 encoding on a int32 tensor/],
  ];
  it.each(cases)('%s', (_name, make, message) => {
    expect(formatError(() => readArtifact(make())).message).toMatch(message);
  });

  it('truncated at every 97th byte, or a bit flipped anywhere: a ModelFormatError', () => {
    const b = model();
    for (let n = 0; n < b.length; n += 97) formatError(() => readArtifact(b.subarray(0, n)));
    for (let i = 32; i < b.length; i += 53) {
      const c = b.slice();
      c[i] ^= 0x10;
      formatError(() => readArtifact(c));
    }
  });

  // (an edited dim can ask for gigabytes: that is an OutOfMemoryError from the load limit, graph/load-limits.ts)
  it('random byte edits with a recomputed checksum: a Graph, a ModelFormatError or an OutOfMemoryError, never another error', () => {
    const small = writeArtifact(graphOf({
      w: quantizeTensor(f32([4, 8], randomArray(32, 13)), 0),
      s: quantizeTensor(f32([16, 32], sparseArray(512, 0.9, 14)), 1),
      d: quantizeTensor(f32([2048], sparseArray(2048, 0.995, 15)), 0),
    }));
    const r = rng(44);
    let refused = 0;
    for (let t = 0; t < 3000; t++) {
      const b = edited(small, (b) => {
        const pos = 32 + Math.floor(r() * (b.length - 32));
        b[pos] ^= 1 + Math.floor(r() * 255);
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
