// QuantizeLinear / DequantizeLinear (the QDQ format of int8 models) and dynamic quantization
// (DynamicQuantizeLinear, MatMulInteger, ConvInteger) against onnxruntime-node with
// its graph optimizations off, so that it runs each node as written: quantization of run-time
// values (halves to even, saturation, per tensor and per channel), dequantization of integer
// inputs, the fused QuantizeLinear -> DequantizeLinear pass, int8 weights and int32 biases folded
// at load (at any size), a whole QDQ conv net as onnxruntime's quantizer writes one, and the typed
// errors for what edgeprune does not run.
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { importOnnx } from '../../src/onnx/import.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { writeArtifact } from '../../src/format/index.js';
import { l1Unstructured } from '../../src/prune/unstructured.js';
import { ModelFormatError, UnsupportedOpError } from '../../src/errors.js';
import { buildModel, expectSameAsOrt, f32, w, type Feeds, type ModelSpec, type TensorSpec } from './harness.js';
import { randomArray } from '../util/rng.js';

type IntType = 'uint8' | 'int8' | 'int32';
const ints = (name: string, data: number[], type: IntType, dims: number[] = [data.length]): TensorSpec & { name: string } => ({ name, dims, data, type });
const scalar = (name: string, v: number, type: IntType) => ints(name, [v], type, []);

/** x → QuantizeLinear(scale, zero point) → y, with y declared of the quantized type. */
function quantize(dims: number[], scale: TensorSpec & { name: string }, zp: TensorSpec & { name: string }, type: IntType, attrs: Record<string, number> = {}): ModelSpec {
  return {
    opset: 13,
    nodes: [{ op: 'QuantizeLinear', name: 'q', inputs: ['x', scale.name, zp.name], outputs: ['y'], attrs }],
    inputs: [{ name: 'x', dims }],
    outputs: [{ name: 'y', type }],
    initializers: [scale, zp],
  };
}

describe('QuantizeLinear on run-time values', () => {
  it('rounds halves to even and saturates (uint8, zero point 128)', async () => {
    // x / 0.25 = k / 2: every half-way case from -300 to 300, past both ends of [0, 255] - 128
    const data = Float32Array.from({ length: 2401 }, (_, i) => (i - 1200) * 0.125);
    await expectSameAsOrt(quantize([1, data.length], f32('s', [0.25], []), scalar('zp', 128, 'uint8'), 'uint8'), { feeds: { x: { data, dims: [1, data.length] } }, tol: 0 });
  });

  it('divides by the scale as onnxruntime does (int8, a scale that is no power of two)', async () => {
    // the float32 values nearest (k + 1/2) * scale and their neighbours: x / scale lands within an
    // ulp of a half, so multiplying by 1 / scale instead, or rounding otherwise, changes the result
    const scale = Math.fround(0.037);
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    const data: number[] = [];
    for (let k = -140; k < 140; k++) {
      f[0] = (k + 0.5) * scale;
      for (const d of [-2, -1, 0, 1, 2]) {
        const v = new Float32Array(1);
        new Uint32Array(v.buffer)[0] = u[0] + (f[0] < 0 ? -d : d);
        data.push(v[0]);
      }
    }
    const x = Float32Array.from(data);
    await expectSameAsOrt(quantize([1, x.length], f32('s', [scale]), scalar('zp', -3, 'int8'), 'int8'), { feeds: { x: { data: x, dims: [1, x.length] } }, tol: 0 });
  });

  it('quantizes per channel along an axis (uint8 zero points per channel)', async () => {
    const model = quantize([2, 3, 4, 5], f32('s', [0.01, 0.05, 0.2]), ints('zp', [0, 100, 255], 'uint8'), 'uint8', { axis: 1 });
    await expectSameAsOrt(model, { range: [-30, 30], tol: 0 });
  });
});

describe('DequantizeLinear on run-time values', () => {
  const dequantize = (dims: number[], type: 'uint8' | 'int8', scale: TensorSpec & { name: string }, zp: TensorSpec & { name: string }, attrs: Record<string, number> = {}): ModelSpec => ({
    opset: 13,
    nodes: [{ op: 'DequantizeLinear', name: 'dq', inputs: ['x', scale.name, zp.name], outputs: ['y'], attrs }],
    inputs: [{ name: 'x', dims, type }],
    outputs: ['y'],
    initializers: [scale, zp],
  });
  const integers = (n: number, lo: number, seed: number) => randomArray(n, seed).map((v) => lo + Math.floor(((v + 1) / 2) * 256));

  it('per tensor, uint8 fed as integer-valued floats', async () => {
    const dims = [2, 3, 4, 5];
    const feeds: Feeds = { x: { data: integers(120, 0, 5), dims, type: 'uint8' } };
    await expectSameAsOrt(dequantize(dims, 'uint8', f32('s', [0.0173], []), scalar('zp', 17, 'uint8')), { feeds, tol: 0 });
  });

  it('per channel along the last axis, int8', async () => {
    const dims = [3, 2, 4];
    const feeds: Feeds = { x: { data: integers(24, -128, 6), dims, type: 'int8' } };
    await expectSameAsOrt(dequantize(dims, 'int8', f32('s', [0.5, 0.031, 1.7, 0.0042]), ints('zp', [0, -5, 7, 127], 'int8'), { axis: -1 }), { feeds, tol: 0 });
  });
});

describe('QuantizeLinear -> DequantizeLinear (fake quantization)', () => {
  const pair = (type: 'uint8' | 'int8', zp: number, axis?: number): ModelSpec => {
    const perChannel = axis !== undefined;
    return {
      opset: 13,
      nodes: [
        { op: 'QuantizeLinear', name: 'q', inputs: ['x', 's', 'zp'], outputs: ['xq'], attrs: perChannel ? { axis } : {} },
        { op: 'DequantizeLinear', name: 'dq', inputs: ['xq', 's', 'zp'], outputs: ['y'], attrs: perChannel ? { axis } : {} },
      ],
      inputs: [{ name: 'x', dims: [2, 4, 6, 6] }],
      outputs: ['y'],
      initializers: perChannel ? [f32('s', [0.02, 0.03, 0.011, 0.5]), ints('zp', [zp, 0, zp, 1], type)] : [f32('s', [0.0213], []), scalar('zp', zp, type)],
    };
  };

  for (const [type, zp] of [['uint8', 131], ['int8', -9]] as const) {
    it(`runs as one pass with both nodes' operations (${type})`, async () => {
      const session = await expectSameAsOrt(pair(type, zp), { range: [-4, 4], tol: 0 });
      const nodes = session.info().nodes;
      expect(nodes.map((n) => n.kernel)).toEqual([`unary:fakeQuant${type === 'uint8' ? 'U8' : 'I8'}`, 'fused']);
    });
  }

  it('per channel: two passes, each per channel', async () => {
    const session = await expectSameAsOrt(pair('uint8', 7, 1), { range: [-4, 4], tol: 0 });
    expect(session.info().nodes.map((n) => n.kernel)).toEqual(['unary:quantizeU8/channel', 'unary:dequantize/channel']);
  });
});

describe('QDQ models', () => {
  /** A conv net as onnxruntime's quantize_static writes it: uint8 activations, int8 per-channel weights, int32 biases. */
  function qdqConvNet(): ModelSpec {
    const sx = 0.0157, sy = 0.0123;
    const sw = [0.011, 0.0042, 0.0093, 0.02];
    const wq = Array.from(randomArray(4 * 3 * 9, 11), (v) => Math.round(v * 127));
    const bq = [1200, -3400, 560, 0];
    const w2 = Array.from(randomArray(5 * 4, 12), (v) => Math.round(v * 127));
    const model: ModelSpec = {
      opset: 13,
      nodes: [
        { op: 'QuantizeLinear', inputs: ['x', 'sx', 'zx'], outputs: ['xq'] },
        { op: 'DequantizeLinear', inputs: ['xq', 'sx', 'zx'], outputs: ['xd'] },
        { op: 'DequantizeLinear', inputs: ['wq', 'sw', 'zw'], outputs: ['wd'], attrs: { axis: 0 } },
        { op: 'DequantizeLinear', inputs: ['bq', 'sb', 'zb'], outputs: ['bd'], attrs: { axis: 0 } },
        { op: 'Conv', inputs: ['xd', 'wd', 'bd'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Relu', inputs: ['c'], outputs: ['r'] },
        { op: 'QuantizeLinear', inputs: ['r', 'sy', 'zy'], outputs: ['rq'] },
        { op: 'DequantizeLinear', inputs: ['rq', 'sy', 'zy'], outputs: ['rd'] },
        { op: 'GlobalAveragePool', inputs: ['rd'], outputs: ['g'] },
        { op: 'Flatten', inputs: ['g'], outputs: ['f'] },
        { op: 'DequantizeLinear', inputs: ['w2q', 's2', 'z2'], outputs: ['w2d'] },
        { op: 'Gemm', inputs: ['f', 'w2d', 'b2'], outputs: ['out'], attrs: { transB: 1 } },
      ],
      inputs: [{ name: 'x', dims: ['N', 3, 8, 8] }],
      outputs: ['out'],
      initializers: [
        f32('sx', [sx], []), scalar('zx', 128, 'uint8'),
        ints('wq', wq, 'int8', [4, 3, 3, 3]), f32('sw', sw), ints('zw', [0, 0, 0, 0], 'int8'),
        ints('bq', bq, 'int32'), f32('sb', sw.map((s) => Math.fround(Math.fround(sx) * Math.fround(s)))), ints('zb', [0, 0, 0, 0], 'int32'),
        f32('sy', [sy], []), scalar('zy', 0, 'uint8'),
        ints('w2q', w2, 'int8', [5, 4]), f32('s2', [0.021], []), scalar('z2', 0, 'int8'),
        w('b2', [5]),
      ],
    };
    return model;
  }

  it('folds int8 weights and int32 biases and runs a conv net as onnxruntime quantize_static writes it', async () => {
    const session = await expectSameAsOrt(qdqConvNet(), { dimValues: { N: 2 } });
    // the weights' and bias's DequantizeLinear folded at load; the activations' pairs fused
    expect(session.info().nodes.map((n) => n.op)).toEqual(['QuantizeLinear', 'DequantizeLinear', 'Conv', 'Relu', 'QuantizeLinear', 'DequantizeLinear', 'GlobalAveragePool', 'Flatten', 'Gemm']);
    expect(session.info().nodes.filter((n) => n.kernel.startsWith('unary:fakeQuant')).length).toBe(2);
  });

  it('round-trips through the .epm artifact and exportOnnx with the same results', async () => {
    const bytes = buildModel(qdqConvNet());
    const x = { x: new Tensor('float32', randomArray(2 * 3 * 64, 41), [2, 3, 8, 8]) };
    const want = (await (await InferenceSession.create(bytes)).run(x)).out.data;
    const graph = importOnnx(bytes);
    for (const other of [writeArtifact(graph), exportOnnx(graph)]) {
      expect((await (await InferenceSession.create(other)).run(x)).out.data).toEqual(want);
    }
    const exported = exportOnnx(graph);
    await expectSameAsOrt(exported, { feeds: { x: { data: x.x.data as Float32Array, dims: [2, 3, 8, 8] } } });
  });

  it('imports int8 weights as float32, so pruning works on a QDQ model', async () => {
    const graph = importOnnx(buildModel(qdqConvNet()));
    // the weights' and bias's (de)quantization folded at import; the activations' nodes stay
    expect(graph.nodes.map((n) => n.op)).toEqual(['QuantizeLinear', 'DequantizeLinear', 'Conv', 'Relu', 'QuantizeLinear', 'DequantizeLinear', 'GlobalAveragePool', 'Flatten', 'Gemm']);
    // the only integer tensors left are the activations' two zero points
    expect([...graph.initializers.values()].filter((t) => t.dtype !== 'float32').map((t) => [t.dtype, t.dims])).toEqual([['uint8', []], ['uint8', []]]);
    const conv = graph.initializers.get(graph.nodes[2].inputs[1])!;
    expect(conv.dtype).toBe('float32');
    const { graph: pruned, report } = await l1Unstructured(graph, { amount: 0.5 });
    expect(report.skipped).toEqual([]);
    const zeros = (g: typeof graph) => (g.initializers.get(g.nodes[2].inputs[1])!.data as Float32Array).filter((v) => v === 0).length;
    expect(zeros(pruned)).toBe(54); // half of the 4 x 3 x 3 x 3 weights
    const x = { x: new Tensor('float32', randomArray(3 * 64, 42), [1, 3, 8, 8]) };
    await expect((await InferenceSession.create(exportOnnx(pruned))).run(x)).resolves.toBeDefined();
  });

  it('reports the integer layers of a dynamically quantized model as left unpruned, with what to do', async () => {
    const model: ModelSpec = {
      opset: 13,
      nodes: [
        { op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['xq', 'xs', 'xz'] },
        { op: 'MatMulInteger', name: 'mmi', inputs: ['xq', 'wq', 'xz'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [2, 8] }],
      outputs: [{ name: 'y', type: 'int32' }],
      initializers: [ints('wq', Array.from({ length: 32 }, (_, i) => i), 'uint8', [8, 4])],
    };
    const { report } = await l1Unstructured(importOnnx(buildModel(model)), { amount: 0.5 });
    expect(report.skipped).toEqual([{ node: 'mmi', reason: expect.stringMatching(/integer weights .* not pruned; prune the float model, then quantize it/) }]);
  });

  it('folds the DequantizeLinear of a weight past the constant folder\'s element cap (1.1M int8 values)', async () => {
    const K = 1100, M = 1000;
    const wq = Array.from(randomArray(M * K, 21), (v) => Math.round(v * 127));
    const model: ModelSpec = {
      opset: 13,
      nodes: [
        { op: 'DequantizeLinear', inputs: ['wq', 's', 'z'], outputs: ['wd'] },
        { op: 'MatMul', inputs: ['x', 'wd'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [2, K] }],
      outputs: ['y'],
      initializers: [ints('wq', wq, 'int8', [K, M]), f32('s', [0.003], []), scalar('z', 0, 'int8')],
    };
    const session = await expectSameAsOrt(model);
    expect(session.info().nodes.map((n) => n.op)).toEqual(['MatMul']);
  });

  it('folds float weights behind a QuantizeLinear -> DequantizeLinear pair (QAT exports), halves to even', async () => {
    // weights at exact half steps of their channel's scale: each one's rounding is a tie
    const sw = [2 ** -7, 2 ** -6, 2 ** -5];
    const W = Float32Array.from(randomArray(3 * 2 * 9, 31), (v, i) => (Math.round(v * 100) + 0.5) * sw[Math.floor(i / 18)]);
    const model: ModelSpec = {
      opset: 13,
      nodes: [
        { op: 'QuantizeLinear', inputs: ['W', 'sw', 'zw'], outputs: ['wq'], attrs: { axis: 0 } },
        { op: 'DequantizeLinear', inputs: ['wq', 'sw', 'zw'], outputs: ['wd'], attrs: { axis: 0 } },
        { op: 'Conv', inputs: ['x', 'wd'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [1, 2, 5, 5] }],
      outputs: ['y'],
      initializers: [{ name: 'W', dims: [3, 2, 3, 3], data: W }, f32('sw', sw), ints('zw', [0, 0, 0], 'int8')],
    };
    const session = await expectSameAsOrt(model);
    expect(session.info().nodes.map((n) => n.op)).toEqual(['Conv']);
  });
});

describe('dynamic quantization (onnxruntime quantize_dynamic, transformers.js int8 models)', () => {
  const dql = (): ModelSpec => ({
    opset: 13,
    nodes: [{ op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['y', 'ys', 'yz'] }],
    inputs: [{ name: 'x', dims: [3, 50] }],
    outputs: [{ name: 'y', type: 'uint8' }, 'ys', { name: 'yz', type: 'uint8' }],
  });
  const cases: [string, (v: number) => number][] = [
    ['mixed signs', (v) => 3 * v],
    ['all positive (zero point 0)', (v) => Math.abs(v) + 0.25],
    ['all negative (zero point 255)', (v) => -Math.abs(v) - 0.5],
    ['all zero (scale 1)', () => 0],
  ];
  for (const [what, f] of cases) {
    it(`DynamicQuantizeLinear: scale and zero point from the data's range, ${what}`, async () => {
      const data = randomArray(150, 51).map(f);
      await expectSameAsOrt(dql(), { feeds: { x: { data, dims: [3, 50] } }, tol: 0 });
    });
  }

  /** x → DynamicQuantizeLinear → MatMulInteger with constant weights → Cast → × (x scale · w scale) → + bias, as quantize_dynamic writes a Linear. */
  const dynamicLinear = (wType: 'uint8' | 'int8', wq: number[], wzp: TensorSpec & { name: string }): ModelSpec => ({
    opset: 13,
    nodes: [
      { op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['xq', 'xs', 'xz'] },
      { op: 'MatMulInteger', inputs: ['xq', 'wq', 'xz', 'wz'], outputs: ['acc'] },
      { op: 'Cast', inputs: ['acc'], outputs: ['accf'], attrs: { to: 1 } },
      { op: 'Mul', inputs: ['xs', 'ws'], outputs: ['s'] },
      { op: 'Mul', inputs: ['accf', 's'], outputs: ['m'] },
      { op: 'Add', inputs: ['m', 'b'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', dims: ['N', 5, 40] }],
    outputs: ['y'],
    initializers: [ints('wq', wq, wType, [40, 24]), f32('ws', [0.0123], []), wzp, w('b', [24])],
  });

  it('MatMulInteger on uint8 weights with a zero point matches onnxruntime', async () => {
    const wq = Array.from(randomArray(40 * 24, 52), (v) => Math.round((v + 1) * 127.5));
    await expectSameAsOrt(dynamicLinear('uint8', wq, scalar('wz', 131, 'uint8')), { dimValues: { N: 2 }, range: [-2, 2] });
  });

  it('MatMulInteger on int8 weights with per-column zero points matches onnxruntime', async () => {
    // |w - zp| <= 60: onnxruntime's x86 u8 x s8 kernel saturates pairs of products past int16
    // (its documented quantize_dynamic caveat); edgeprune's sums are exact either way
    const wq = Array.from(randomArray(40 * 24, 53), (v) => Math.round(v * 50));
    const zps = Array.from({ length: 24 }, (_, j) => (j % 5) - 2);
    await expectSameAsOrt(dynamicLinear('int8', wq, ints('wz', zps, 'int8')), { dimValues: { N: 2 }, range: [-2, 2] });
  });

  it('ConvInteger on uint8 inputs and weights gives onnxruntime\'s int32 sums exactly', async () => {
    const wq = Array.from(randomArray(4 * 3 * 9, 54), (v) => Math.round((v + 1) * 127.5));
    const model: ModelSpec = {
      opset: 13,
      nodes: [{ op: 'ConvInteger', inputs: ['x', 'wq', 'xz', 'wz'], outputs: ['y'], attrs: { pads: [1, 1, 1, 1], strides: [2, 1] } }],
      inputs: [{ name: 'x', dims: [1, 3, 9, 9], type: 'uint8' }],
      outputs: [{ name: 'y', type: 'int32' }],
      initializers: [ints('wq', wq, 'uint8', [4, 3, 3, 3]), scalar('xz', 120, 'uint8'), scalar('wz', 128, 'uint8')],
    };
    const x = Float32Array.from(randomArray(243, 55), (v) => Math.round((v + 1) * 127.5));
    await expectSameAsOrt(model, { feeds: { x: { data: x, dims: [1, 3, 9, 9], type: 'uint8' } }, tol: 0 });
  });
});

describe('QuantizeLinear / DequantizeLinear errors', () => {
  const create = (m: ModelSpec) => InferenceSession.create(buildModel(m));

  it('a scale computed at run time is an UnsupportedOpError naming the node', async () => {
    const m: ModelSpec = {
      opset: 13,
      nodes: [{ op: 'QuantizeLinear', name: 'q1', inputs: ['x', 's'], outputs: ['y'] }],
      inputs: [{ name: 'x', dims: [4] }, { name: 's', dims: [] }],
      outputs: [{ name: 'y', type: 'uint8' }],
    };
    await expect(create(m)).rejects.toThrow(UnsupportedOpError);
    await expect(create(m)).rejects.toThrow(/q1.*scale.*computed at run time/);
  });

  it('a zero scale, and per-channel scales of the wrong count, are ModelFormatErrors', async () => {
    await expect(create(quantize([2, 3], f32('s', [0], []), scalar('zp', 0, 'uint8'), 'uint8'))).rejects.toThrow(/scale 0: scales must be finite and non-zero/);
    const wrong = quantize([2, 3], f32('s', [0.1, 0.2]), ints('zp', [0, 0], 'uint8'), 'uint8', { axis: 1 });
    await expect(create(wrong)).rejects.toThrow(ModelFormatError);
    await expect(create(wrong)).rejects.toThrow(/2 scales for an axis of size 3/);
  });

  it("onnxruntime's QOperator format is an UnsupportedOpError that says how to quantize instead", async () => {
    const m: ModelSpec = {
      opset: 13,
      nodes: [{ op: 'QLinearConv', name: 'qc', inputs: ['x', 'xs', 'xz', 'wq', 'ws', 'wz', 'ys', 'yz'], outputs: ['y'] }],
      inputs: [{ name: 'x', dims: [1, 1, 4, 4], type: 'uint8' }],
      outputs: [{ name: 'y', type: 'uint8' }],
      initializers: [f32('xs', [0.1], []), scalar('xz', 0, 'uint8'), ints('wq', [1, 2, 3, 4], 'int8', [1, 1, 2, 2]), f32('ws', [0.2], []), scalar('wz', 0, 'int8'), f32('ys', [0.3], []), scalar('yz', 0, 'uint8')],
    };
    await expect(create(m)).rejects.toThrow(UnsupportedOpError);
    await expect(create(m)).rejects.toThrow(/QLinearConv at node 'qc'.*QOperator int8 format: quantize the float model with quant_format=QuantFormat.QDQ, or with quantize_dynamic/);
  });

  it('blocked quantization is an UnsupportedOpError that says what to do', async () => {
    const m = quantize([2, 4], f32('s', [0.1, 0.2]), ints('zp', [0, 0], 'uint8'), 'uint8', { axis: 1, block_size: 2 });
    await expect(create(m)).rejects.toThrow(UnsupportedOpError);
    await expect(create(m)).rejects.toThrow(/block_size.*re-export with per-tensor or per-channel scales/);
  });
});

