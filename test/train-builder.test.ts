// The model builder makes the same Graph as ONNX import: exported, it runs in onnxruntime-node
// to the outputs edgeprune computes; weights start like PyTorch's defaults and depend only on the seed.
import { describe, expect, it } from 'vitest';
import { batchNorm, conv2d, dropout, flatten, globalAvgPool, linear, maxPool, relu, relu6, residual, sequential, avgPool } from '../src/train/builder.js';
import { exportOnnx } from '../src/onnx/export.js';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { ArgumentError } from '../src/errors.js';
import { runOrt } from './util/onnx.js';
import { expectClose } from './util/close.js';
import { randomArray } from './util/rng.js';

const smallCnn = (seed = 0) => sequential([1, 28, 28], [conv2d(16, 3, { pads: 1 }), relu(), maxPool(2), conv2d(32, 3, { pads: 1 }), relu(), maxPool(2), flatten(), linear(10)], { seed });

async function sameAsOrt(graph: ReturnType<typeof sequential>, dims: number[]) {
  const bytes = exportOnnx(graph);
  const x = randomArray(dims.reduce((a, b) => a * b, 1), 3);
  const want = (await runOrt(bytes, { x: { data: x, dims } })).logits;
  const s = await InferenceSession.create(bytes, { freeDimensionOverrides: { N: dims[0] } });
  const got = (await s.run({ x: new Tensor('float32', x, dims) })).logits;
  expect([...got.dims]).toEqual(want.dims);
  expectClose(got.data, want.data, 'builder model');
  return s;
}

describe('sequential', () => {
  it('builds the SmallCNN: the exported ONNX runs in onnxruntime like in edgeprune', async () => {
    const g = smallCnn();
    expect(g.nodes.map((n) => n.op)).toEqual(['Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm']);
    expect(g.outputs[0]).toEqual({ name: 'logits', dtype: 'float32', dims: ['N', 10] });
    expect(g.initializers.get('fc1.weight')!.dims).toEqual([10, 1568]);
    const s = await sameAsOrt(g, [3, 1, 28, 28]);
    expect(s.info().params).toBe(16 * 9 + 16 + 32 * 16 * 9 + 32 + 1568 * 10 + 10);
  });

  it('builds residual blocks with BatchNorm, a projection shortcut, ReLU6, dropout and pooling', async () => {
    const g = sequential([3, 16, 16], [
      conv2d(8, 3, { pads: 1 }), batchNorm(), relu(),
      residual([conv2d(8, 3, { pads: 1 }), batchNorm(), relu(), conv2d(8, 3, { pads: 1 }), batchNorm()]),
      relu(),
      residual([conv2d(16, 3, { pads: 1, stride: 2 }), batchNorm(), relu6()], [conv2d(16, 1, { stride: 2, bias: false }), batchNorm()]),
      avgPool(2), dropout(0.3), globalAvgPool(), flatten(), linear(5),
    ], { seed: 4 });
    expect(g.nodes.filter((n) => n.op === 'Add')).toHaveLength(2);
    await sameAsOrt(g, [2, 3, 16, 16]);
  });

  it('initialises like PyTorch (U(±1/sqrt(fan_in))), deterministically per seed', () => {
    const w = smallCnn(0).initializers.get('conv2.weight')!.data as Float32Array;
    const bound = 1 / Math.sqrt(16 * 9);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(bound * 0.99);
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    expect(Math.abs(mean)).toBeLessThan(bound * 0.05);
    expect(smallCnn(0).initializers.get('conv2.weight')!.data).toEqual(w);
    expect(smallCnn(1).initializers.get('conv2.weight')!.data).not.toEqual(w);
  });

  it('says which layer does not fit', () => {
    expect(() => sequential([1, 28, 28], [linear(10)])).toThrow(/linear needs flat \[features\] inputs.*add flatten\(\) first/);
    expect(() => sequential([1, 4, 4], [conv2d(8, 5)])).toThrow(/conv2d kernel 5x5 does not fit/);
    expect(() => sequential([3, 8, 8], [residual([conv2d(4, 3, { pads: 1 })])])).toThrow(ArgumentError);
    expect(() => sequential([3, 8, 8], [residual([conv2d(4, 3, { pads: 1 })])])).toThrow(/add shortcut layers that match/);
    expect(() => dropout(1)).toThrow(/dropout probability/);
  });
});
