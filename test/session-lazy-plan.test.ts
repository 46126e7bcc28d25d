import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { InputError, SessionReleasedError } from '../src/errors.js';
import { buildModel } from './util/onnx-build.js';
import { randomArray } from './util/rng.js';

// an image model with free height and width: at H = W = 1 its 2x2 pool does not fit
const model = () =>
  buildModel({
    nodes: [
      { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'MaxPool', inputs: ['c'], outputs: ['y'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
    ],
    inputs: [{ name: 'x', dims: ['N', 2, 'H', 'W'] }],
    outputs: ['y'],
    initializers: [{ name: 'w', dims: [4, 2, 3, 3], data: randomArray(72, 1) }],
  });

describe('symbolic dims that cannot be 1', () => {
  it('are planned at the first run; info() before says what to pass', async () => {
    const s = await InferenceSession.create(model());
    expect(() => s.info()).toThrow(InputError);
    expect(() => s.info()).toThrow(/freeDimensionOverrides/);
    const y = await s.run({ x: new Tensor('float32', randomArray(2 * 8 * 6, 2), [1, 2, 8, 6]) });
    expect([...y.y.dims]).toEqual([1, 4, 4, 3]);
    expect(s.info().plannedPeakBytes).toBeGreaterThan(0);
  });

  it('inputMetadata / outputMetadata give the declared shapes without a plan (as onnxruntime-web does)', async () => {
    const s = await InferenceSession.create(model());
    expect(() => s.info()).toThrow(InputError); // no plan at H = W = 1
    expect(s.inputMetadata).toEqual([{ name: 'x', isTensor: true, type: 'float32', shape: ['N', 2, 'H', 'W'] }]);
    expect(s.outputMetadata.map((m) => m.name)).toEqual(['y']);
    expect(Object.isFrozen(s.inputMetadata) && Object.isFrozen(s.inputMetadata[0]) && Object.isFrozen(s.inputMetadata[0].shape)).toBe(true);
  });

  it('modelInfo() gives the counts and declared dims without a plan, and why there is none', async () => {
    const s = await InferenceSession.create(model());
    const m = s.modelInfo();
    expect(m).toMatchObject({ params: 72, nonZeroParams: 72, opCounts: { Conv: 1, MaxPool: 1 } });
    expect(m.inputs).toEqual([{ name: 'x', dims: ['N', 2, 'H', 'W'] }]);
    expect(m.outputs.map((o) => o.name)).toEqual(['y']);
    expect(m.unplanned).toMatch(/MaxPool|Pool/);
    await s.run({ x: new Tensor('float32', randomArray(2 * 8 * 6, 2), [1, 2, 8, 6]) });
    expect(s.modelInfo().unplanned).toBeUndefined(); // planned by the run
    await s.release();
    expect(() => s.modelInfo()).toThrow(SessionReleasedError);
  });

  it('are planned at create with freeDimensionOverrides', async () => {
    const s = await InferenceSession.create(model(), { freeDimensionOverrides: { H: 8, W: 6 } });
    expect(s.info().inputs[0].plannedDims).toEqual([1, 2, 8, 6]);
  });
});
