import { describe, expect, it, vi } from 'vitest';
import { planMemory, SLACK, type BufferRequest } from '../src/runtime/memory-plan.js';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { buildModel } from './util/onnx-build.js';
import { randomArray, randomInt, rng } from './util/rng.js';

describe('planMemory', () => {
  it('never overlaps two buffers that are alive at the same time, on random lifetimes', () => {
    const r = rng(11);
    for (let t = 0; t < 200; t++) {
      const n = randomInt(r, 1, 30);
      const reqs: BufferRequest[] = Array.from({ length: n }, () => {
        const from = randomInt(r, -1, 20);
        return { bytes: randomInt(r, 1, 5000), from, to: r() < 0.1 ? Infinity : from + randomInt(r, 0, 8) };
      });
      const plan = planMemory(reqs);
      for (let i = 0; i < n; i++) {
        expect(plan.offsets[i] % 64).toBe(0);
        expect(plan.offsets[i] + reqs[i].bytes + SLACK).toBeLessThanOrEqual(plan.bytes);
        for (let j = i + 1; j < n; j++) {
          const live = reqs[i].from <= reqs[j].to && reqs[j].from <= reqs[i].to;
          const apart = plan.offsets[i] + reqs[i].bytes <= plan.offsets[j] || plan.offsets[j] + reqs[j].bytes <= plan.offsets[i];
          if (live) expect(apart, `buffers ${i} and ${j}`).toBe(true);
        }
      }
    }
  });

  it('reuses memory along a chain: peak is two tensors, not the sum', () => {
    const chain = Array.from({ length: 10 }, (_, i) => ({ bytes: 1024, from: i - 1, to: i }));
    expect(planMemory(chain).bytes).toBe(2 * 1024 + SLACK);
  });
});

function chainModel(batch: number | string) {
  // x: [batch, 4, 12, 12] (4 channels: the convs run the direct kernel, whose scratch is a padded copy;
  // Winograd takes 8 or more)
  // conv -> relu (fused) -> conv -> add(residual) -> sigmoid (in place) -> global pool
  return buildModel({
    nodes: [
      { op: 'Conv', inputs: ['x', 'w1'], outputs: ['a'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['a'], outputs: ['b'] },
      { op: 'Conv', inputs: ['b', 'w2'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Add', inputs: ['c', 'x'], outputs: ['d'] },
      { op: 'Sigmoid', inputs: ['d'], outputs: ['e'] },
      { op: 'GlobalAveragePool', inputs: ['e'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', dims: [batch, 4, 12, 12] }],
    outputs: ['y'],
    initializers: [
      { name: 'w1', dims: [4, 4, 3, 3], data: randomArray(144, 1) },
      { name: 'w2', dims: [4, 4, 3, 3], data: randomArray(144, 2) },
    ],
  });
}

describe('session memory', () => {
  it('uses exactly the planned peak plus the weights, and allocates nothing while running', async () => {
    const s = await InferenceSession.create(chainModel(1), { wasm: 'simd' });
    const heap = s.kernels.heap;
    const info = s.info();
    expect(heap.liveBytes).toBe(info.weightBytes + info.plannedPeakBytes);
    // peak at the second conv: x (read again by Add), a (relu fused: same buffer), c, and the
    // conv's padded-input scratch (4 x 14 x 14 floats); d and e reuse c's buffer in place
    const tensor = 4 * 12 * 12 * 4;
    expect(info.plannedPeakBytes).toBe(3 * tensor + 4 * 14 * 14 * 4 + SLACK);
    const alloc = vi.spyOn(heap, 'alloc');
    await s.run({ x: new Tensor('float32', randomArray(4 * 144, 3), [1, 4, 12, 12]) });
    expect(alloc).not.toHaveBeenCalled();
    expect(heap.liveBytes).toBe(info.weightBytes + info.plannedPeakBytes);
    alloc.mockRestore();
  });

  it('re-plans for a new batch size without re-packing weights', async () => {
    const s = await InferenceSession.create(chainModel('N'), { wasm: 'simd' });
    const w = s.info().weightBytes;
    const p1 = s.info().plannedPeakBytes;
    const y1 = await s.run({ x: new Tensor('float32', randomArray(4 * 144, 4), [1, 4, 12, 12]) });
    const x3 = randomArray(3 * 4 * 144, 5);
    x3.set(randomArray(4 * 144, 4)); // batch item 0 equals the batch-1 input
    const y3 = await s.run({ x: new Tensor('float32', x3, [3, 4, 12, 12]) });
    expect([...y3.y.dims]).toEqual([3, 4, 1, 1]);
    expect(Array.from(y3.y.data.subarray(0, 4))).toEqual(Array.from(y1.y.data));
    expect(s.info().weightBytes).toBe(w);
    expect(s.info().plannedPeakBytes).toBeGreaterThan(p1);
    expect(s.kernels.heap.liveBytes).toBe(s.info().weightBytes + s.info().plannedPeakBytes);
  });
});
