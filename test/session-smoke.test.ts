import { expect, it } from 'vitest';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { buildModel, runOrt } from './util/onnx.js';
import { expectClose } from './util/close.js';
import { randomArray } from './util/rng.js';

it('runs a small CNN like onnxruntime', async () => {
  const model = buildModel({
    nodes: [
      { op: 'Conv', inputs: ['x', 'w1', 'b1'], outputs: ['c1'], attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } },
      { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
      { op: 'MaxPool', inputs: ['r1'], outputs: ['p1'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'Flatten', inputs: ['p1'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'w2', 'b2'], outputs: ['y'], attrs: { transB: 1 } },
    ],
    inputs: [{ name: 'x', dims: [1, 1, 8, 8] }],
    outputs: ['y'],
    initializers: [
      { name: 'w1', dims: [4, 1, 3, 3], data: randomArray(36, 1) },
      { name: 'b1', dims: [4], data: randomArray(4, 2) },
      { name: 'w2', dims: [10, 64], data: randomArray(640, 3) },
      { name: 'b2', dims: [10], data: randomArray(10, 4) },
    ],
  });
  const x = randomArray(64, 5);
  const s = await InferenceSession.create(model);
  const got = await s.run({ x: new Tensor('float32', x, [1, 1, 8, 8]) });
  const want = await runOrt(model, { x: { data: x, dims: [1, 1, 8, 8] } });
  expect([...got.y.dims]).toEqual(want.y.dims);
  expectClose(got.y.data, want.y.data, 'cnn');
  console.log(JSON.stringify(s.info().nodes), s.info().plannedPeakBytes);
});
