import { describe, expect, it } from 'vitest';
import { collectActivationNorms } from '../src/prune/calibration.js';
import { importOnnx } from '../src/onnx/import.js';
import { Tensor } from '../src/runtime/tensor.js';
import { InferenceSession } from '../src/runtime/session.js';
import { buildModel } from './util/onnx-build.js';
import { expectClose } from './util/close.js';
import { randomArray } from './util/rng.js';

function model() {
  return buildModel({
    nodes: [
      { op: 'Conv', inputs: ['x', 'w1'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['c'], outputs: ['r'] },
      { op: 'Flatten', inputs: ['r'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'w2'], outputs: ['y'], attrs: { transB: 1 } },
    ],
    inputs: [{ name: 'x', dims: ['N', 2, 3, 3] }],
    outputs: ['y'],
    initializers: [
      { name: 'w1', dims: [4, 2, 3, 3], data: randomArray(72, 1) },
      { name: 'w2', dims: [5, 36], data: randomArray(180, 2) },
    ],
  });
}

describe('collectActivationNorms', () => {
  it('gives each layer the L2 norm of its input features over all calibration batches', async () => {
    const g = importOnnx(model());
    const batches = [randomArray(2 * 18, 3), randomArray(3 * 18, 4)];
    const feeds = batches.map((b, i) => ({ x: new Tensor('float32', b, [i + 2, 2, 3, 3]) }));
    const norms = await collectActivationNorms(g, feeds);
    // conv: per input channel over batch and positions, repeated for the 9 taps
    const conv = new Float64Array(2);
    for (const b of batches) for (let i = 0; i < b.length; i++) conv[Math.floor(i / 9) % 2] += b[i] * b[i];
    const convWant = new Float32Array(18);
    for (let c = 0; c < 2; c++) convWant.fill(Math.sqrt(conv[c]), c * 9, c * 9 + 9);
    expectClose(norms.get('n0')!, convWant, 'conv input norms');
    // gemm: per input feature of the flattened relu output, computed by running the model independently
    const s = await InferenceSession.create(buildModel({
      nodes: [
        { op: 'Conv', inputs: ['x', 'w1'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Relu', inputs: ['c'], outputs: ['r'] },
        { op: 'Flatten', inputs: ['r'], outputs: ['f'] },
      ],
      inputs: [{ name: 'x', dims: ['N', 2, 3, 3] }],
      outputs: ['f'],
      initializers: [{ name: 'w1', dims: [4, 2, 3, 3], data: g.initializers.get('w1')!.data as Float32Array }],
    }));
    const gemm = new Float64Array(36);
    for (const f of feeds) {
      const out = (await s.run(f)).f.data;
      for (let i = 0; i < out.length; i++) gemm[i % 36] += out[i] * out[i];
    }
    expectClose(norms.get('n3')!, Float32Array.from(gemm, Math.sqrt), 'gemm input norms');
    expect(norms.size).toBe(2);
  });

  it('asks for calibration data when none is given', async () => {
    await expect(collectActivationNorms(importOnnx(model()), [])).rejects.toThrow(/calibration data/);
  });
});
