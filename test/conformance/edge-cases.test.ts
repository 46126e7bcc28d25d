// Corner cases where runtimes usually go wrong: extreme values, padding that must not leak
// zeros into a max, unnamed nodes, buffers shared between aliases and in-place ops, values
// that are inputs and outputs at once, and re-planning on new input dims.
import { describe, it } from 'vitest';
import { InferenceSession } from '../../src/runtime/session.js';
import { expectClose } from '../util/close.js';
import { buildModel, compareRun, expectSameAsOrt, f32, i64, rand, runOrt, single, w, type ModelSpec } from './harness.js';

const extremes = Float32Array.from([-1e30, -100, -88, -20, -3, -1, -1e-30, 0, 1e-30, 0.5, 1, 3, 20, 88, 89, 100, 1e30, 7]);

describe('extreme values', () => {
  for (const [op, opset] of [['Relu'], ['LeakyRelu'], ['Sigmoid'], ['HardSigmoid'], ['HardSwish', 14], ['Tanh'], ['Exp'], ['Erf'], ['Abs'], ['Neg']] as [string, number?][]) {
    it(`${op} on ±1e30, ±100, ±88, 0`, async () => {
      await expectSameAsOrt(single(op, [{ name: 'x', dims: [3, 6] }], {}, { opset }), { feeds: { x: { data: extremes, dims: [3, 6] } } });
    });
  }
  it('Softmax with large logits (needs max subtraction) and LogSoftmax', async () => {
    const data = Float32Array.from([1000, 999, 998, -1000, 0, 1, 50, 50, 50, -80, -90, -100]);
    for (const op of ['Softmax', 'LogSoftmax']) await expectSameAsOrt(single(op, [{ name: 'x', dims: [4, 3] }], { axis: -1 }), { feeds: { x: { data, dims: [4, 3] } } });
  });
  it('Log and Sqrt of 0 and tiny values (−inf, 0)', async () => {
    const data = Float32Array.from([0, 1e-38, 1e-10, 1, 4, 1e30]);
    for (const op of ['Log', 'Sqrt']) await expectSameAsOrt(single(op, [{ name: 'x', dims: [6] }]), { feeds: { x: { data, dims: [6] } } });
  });
  it('Pow with a negative base and integer exponents 2, 3, -1; and exponent 0.5 on positives', async () => {
    for (const e of [2, 3, -1]) {
      await expectSameAsOrt(single('Pow', [{ name: 'x', dims: [4, 5] }], {}, { extraInputs: ['e'], initializers: [f32('e', [e], [])] }), { range: [-3, -0.5] });
    }
    await expectSameAsOrt(single('Pow', [{ name: 'x', dims: [4, 5] }], {}, { extraInputs: ['e'], initializers: [f32('e', [0.5], [])] }), { range: [0, 9] });
  });
  it('Pow with a runtime integer-valued exponent on negative bases', async () => {
    const a = Float32Array.from([-2, -3, -1.5, -2, -0.5, 2]);
    const b = Float32Array.from([2, 3, 2, -1, 3, 0.5]);
    await expectSameAsOrt(single('Pow', [{ name: 'a', dims: [6] }, { name: 'b', dims: [6] }]), { feeds: { a: { data: a, dims: [6] }, b: { data: b, dims: [6] } } });
  });
  it('Div by a broadcast runtime divisor and Max/Min with equal values', async () => {
    await expectSameAsOrt(single('Div', [{ name: 'a', dims: [3, 7] }, { name: 'b', dims: [3, 1] }]), { range: [0.1, 3] });
    const a = Float32Array.from([1, 2, 3, -0, 0, 5]);
    await expectSameAsOrt(single('Max', [{ name: 'a', dims: [6] }, { name: 'b', dims: [6] }]), { feeds: { a: { data: a, dims: [6] }, b: { data: a, dims: [6] } } });
  });
});

describe('pads must not leak zeros', () => {
  it('MaxPool with pads on an all-negative input', async () => {
    await expectSameAsOrt(single('MaxPool', [{ name: 'x', dims: [1, 3, 5, 7] }], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }), { range: [-5, -1] });
  });
  it('MaxPool ceil_mode window past the edge on an all-negative input', async () => {
    await expectSameAsOrt(single('MaxPool', [{ name: 'x', dims: [1, 2, 6, 6] }], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }), { range: [-5, -1] });
  });
  it('MaxPool SAME_UPPER on an all-negative input', async () => {
    await expectSameAsOrt(single('MaxPool', [{ name: 'x', dims: [1, 2, 7, 6] }], { kernel_shape: [2, 2], strides: [2, 2], auto_pad: 'SAME_UPPER' }), { range: [-5, -1] });
  });
  it('GlobalMaxPool and ReduceMax on an all-negative input', async () => {
    await expectSameAsOrt(single('GlobalMaxPool', [{ name: 'x', dims: [2, 3, 5, 7] }]), { range: [-5, -1] });
    await expectSameAsOrt(single('ReduceMax', [{ name: 'x', dims: [2, 3, 5, 7] }], { axes: [1, 3], keepdims: 0 }, { opset: 13 }), { range: [-5, -1] });
  });
  it('Conv with pads larger than the kernel reach and a 1x1 input', async () => {
    await expectSameAsOrt({ nodes: [{ op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['y'], attrs: { pads: [3, 2, 3, 2] } }], inputs: [{ name: 'x', dims: [1, 2, 4, 3] }], outputs: ['y'], initializers: [w('W', [3, 2, 3, 3]), w('B', [3])] });
    await expectSameAsOrt({ nodes: [{ op: 'Conv', inputs: ['x', 'W'], outputs: ['y'], attrs: { pads: [1, 1, 1, 1] } }], inputs: [{ name: 'x', dims: [2, 5, 1, 1] }], outputs: ['y'], initializers: [w('W', [3, 5, 3, 3])] });
  });
  it('grouped Conv with batch 2 and stride 3', async () => {
    await expectSameAsOrt({ nodes: [{ op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['y'], attrs: { group: 2, strides: [3, 3], pads: [1, 0, 1, 2] } }], inputs: [{ name: 'x', dims: [2, 4, 10, 11] }], outputs: ['y'], initializers: [w('W', [6, 2, 3, 3]), w('B', [6])] });
  });
});

describe('graph structure', () => {
  it('nodes without names (two Convs with identical input dims but different weights)', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Conv', name: '', inputs: ['x', 'W1'], outputs: ['a'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Conv', name: '', inputs: ['x', 'W2'], outputs: ['b'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Relu', name: '', inputs: ['a'], outputs: ['ra'] },
        { op: 'Sub', name: '', inputs: ['ra', 'b'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [1, 3, 5, 5] }],
      outputs: ['y'],
      initializers: [w('W1', [4, 3, 3, 3]), w('W2', [4, 3, 3, 3])],
    });
  });
  // ORT refuses repeated node names ("invalid model"); exporters that write them exist, and
  // edgeprune renames them: compare with ORT on the same model with unique names.
  it('duplicate node names (reference: the same model with unique names)', async () => {
    const spec = (names: string[]): ModelSpec => ({
      nodes: [
        { op: 'Gemm', name: names[0], inputs: ['x', 'W1'], outputs: ['a'], attrs: { transB: 1 } },
        { op: 'Gemm', name: names[1], inputs: ['x', 'W2'], outputs: ['b'], attrs: { transB: 1 } },
        { op: 'Mul', name: names[2], inputs: ['a', 'b'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [3, 6] }],
      outputs: ['y'],
      initializers: [W1, W2],
    });
    const W1 = w('W1', [5, 6]);
    const W2 = w('W2', [5, 6]);
    const s = await InferenceSession.create(buildModel(spec(['fc', 'fc', 'fc'])));
    await compareRun(s, buildModel(spec(['fc', 'fc_1', 'mul'])), { x: { data: rand(18), dims: [3, 6] } });
  });
  it('old-style model: initializers also listed as graph inputs', async () => {
    const spec: ModelSpec = {
      nodes: [{ op: 'Gemm', inputs: ['x', 'W', 'B'], outputs: ['y'], attrs: { transB: 1 } }],
      inputs: [{ name: 'x', dims: [2, 6] }, { name: 'W', dims: [4, 6] }, { name: 'B', dims: [4] }],
      outputs: ['y'],
      initializers: [w('W', [4, 6]), w('B', [4])],
    };
    await expectSameAsOrt(buildModel(spec), { feeds: { x: { data: rand(12), dims: [2, 6] } } });
  });
  it('a graph input that is also a graph output, next to a computed output', async () => {
    await expectSameAsOrt({ nodes: [{ op: 'Sigmoid', inputs: ['x'], outputs: ['y'] }], inputs: [{ name: 'x', dims: [3, 5] }], outputs: ['x', 'y'] });
  });
  it('an unused graph input', async () => {
    await expectSameAsOrt({ nodes: [{ op: 'Tanh', inputs: ['x'], outputs: ['y'] }], inputs: [{ name: 'x', dims: [3, 5] }, { name: 'unused', dims: [2] }], outputs: ['y'] });
  });
  it('an output read again by later nodes (not overwritten in place)', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['a'] },
        { op: 'Sigmoid', inputs: ['a'], outputs: ['b'] },
        { op: 'Add', inputs: ['b', 'b'], outputs: ['c'] },
        { op: 'Exp', inputs: ['c'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [3, 5] }],
      outputs: ['a', 'y', 'b'],
    });
  });
  it('an alias (Reshape) of a value an in-place op would overwrite while the original is still needed', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['a'] },
        { op: 'Reshape', inputs: ['a', 'shape'], outputs: ['r'] },
        { op: 'Sigmoid', inputs: ['r'], outputs: ['s'] },
        { op: 'Reshape', inputs: ['s', 'back'], outputs: ['sb'] },
        { op: 'Add', inputs: ['sb', 'a'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [3, 5] }],
      outputs: ['y'],
      initializers: [i64('shape', [15]), i64('back', [3, 5])],
    });
  });
  it('a graph input read by an in-place op and later by another node', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Neg', inputs: ['x'], outputs: ['n'] },
        { op: 'Sigmoid', inputs: ['n'], outputs: ['s'] },
        { op: 'Mul', inputs: ['s', 'x'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [4, 7] }],
      outputs: ['y'],
    });
  });
  // onnxruntime-node 1.30 crashes the process on a Split with an omitted ('') output: the
  // reference runs the same model with that output named but unused.
  it('Split with an omitted output', async () => {
    const spec = (mid: string): ModelSpec => ({
      nodes: [
        { op: 'Split', inputs: ['x', 's'], outputs: ['a', mid, 'c'], attrs: { axis: 1 } },
        { op: 'Slice', inputs: ['a', 'z', 'two', 'one'], outputs: ['a2'] },
        { op: 'Add', inputs: ['a2', 'c'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [2, 9] }],
      outputs: ['y'],
      initializers: [i64('s', [3, 4, 2]), i64('z', [0]), i64('two', [2]), i64('one', [1])],
    });
    const bad = spec('');
    const ref = spec('unused');
    const s = await InferenceSession.create(buildModel(bad));
    await compareRun(s, buildModel(ref), { x: { data: rand(18), dims: [2, 9] } });
  });
  it('Concat of 1-D tensors and of a single input', async () => {
    await expectSameAsOrt(single('Concat', [{ name: 'a', dims: [3] }, { name: 'b', dims: [5] }], { axis: 0 }));
    await expectSameAsOrt(single('Concat', [{ name: 'a', dims: [2, 3] }], { axis: 1 }));
  });
  it('an output that folds to a constant (computed from initializers only)', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Add', inputs: ['c1', 'c2'], outputs: ['k'] },
        { op: 'Mul', inputs: ['x', 'k'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [2, 4] }],
      outputs: ['y', 'k'],
      initializers: [w('c1', [4]), w('c2', [4])],
    });
  });
});

describe('feeds', () => {
  it('an empty batch (N = 0) on a symbolic batch dim', async () => {
    const spec: ModelSpec = {
      nodes: [
        { op: 'Conv', inputs: ['x', 'W'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Relu', inputs: ['c'], outputs: ['r'] },
        { op: 'GlobalAveragePool', inputs: ['r'], outputs: ['g'] },
        { op: 'Flatten', inputs: ['g'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: ['N', 2, 4, 4] }],
      outputs: ['y'],
      initializers: [w('W', [3, 2, 3, 3])],
    };
    const bytes = buildModel(spec);
    const s = await InferenceSession.create(bytes);
    await compareRun(s, bytes, { x: { data: new Float32Array(0), dims: [0, 2, 4, 4] } }, { what: 'N=0' });
    await compareRun(s, bytes, { x: { data: rand(64), dims: [2, 2, 4, 4] } }, { what: 'N=2 after N=0' });
  });
  it('an onnxruntime Tensor is accepted as a feed (drop-in API)', async () => {
    const ort = await import('onnxruntime-node');
    const spec: ModelSpec = { nodes: [{ op: 'Sigmoid', inputs: ['x'], outputs: ['y'] }], inputs: [{ name: 'x', dims: [2, 3] }], outputs: ['y'] };
    const bytes = buildModel(spec);
    const data = rand(6);
    const s = await InferenceSession.create(bytes);
    const got = await s.run({ x: new ort.Tensor('float32', data, [2, 3]) });
    const want = await runOrt(bytes, { x: { data, dims: [2, 3] } });
    expectClose(got.y.data as Float32Array, want.y.data, 'sigmoid');
  });
  it('weights passed through Identity before the Conv (PyTorch shared-parameter exports)', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Identity', inputs: ['W'], outputs: ['Wi'] },
        { op: 'Conv', inputs: ['x', 'Wi', 'B'], outputs: ['c'] },
        { op: 'Conv', inputs: ['c', 'Wi2', 'B'], outputs: ['y'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Identity', inputs: ['W2'], outputs: ['Wi2'] },
      ],
      inputs: [{ name: 'x', dims: [1, 3, 6, 6] }],
      outputs: ['y'],
      initializers: [w('W', [3, 3, 3, 3]), w('W2', [3, 3, 3, 3]), w('B', [3])],
    });
  });
});

describe('re-planning on new input dims', () => {
  it('symbolic sequence length in a 1-D conv net (T = 16, 9, 16)', async () => {
    const spec: ModelSpec = {
      nodes: [
        { op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['c'], attrs: { pads: [1, 1] } },
        { op: 'Relu', inputs: ['c'], outputs: ['r'] },
        { op: 'ReduceMean', inputs: ['r'], outputs: ['y'], attrs: { axes: [2], keepdims: 0 } },
      ],
      inputs: [{ name: 'x', dims: [1, 3, 'T'] }],
      outputs: ['y'],
      initializers: [w('W', [5, 3, 3]), w('B', [5])],
    };
    const bytes = buildModel(spec);
    const s = await InferenceSession.create(bytes);
    for (const T of [16, 9, 16]) await compareRun(s, bytes, { x: { data: rand(3 * T), dims: [1, 3, T] } }, { what: `T=${T}` });
  });

  // A node whose input dims stay the same while a constant folded from another input's shape
  // changes: the slice length comes from x's symbolic dim, the sliced tensor y has fixed dims.
  // The executor cache across plans must key on the folded constants' values and the output dims
  // (a regression test: it once reused the Slice executor planned for T=1).
  it('Slice of a fixed-size input with ends taken from another input\'s symbolic dim', async () => {
    const spec: ModelSpec = {
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Slice', inputs: ['s', 'one', 'two'], outputs: ['t'] },
        { op: 'Slice', inputs: ['y', 'zero', 't', 'one'], outputs: ['ys'] },
        { op: 'Add', inputs: ['x', 'ys'], outputs: ['out'] },
      ],
      inputs: [{ name: 'x', dims: [1, 'T'] }, { name: 'y', dims: [1, 10] }],
      outputs: ['out'],
      initializers: [i64('zero', [0]), i64('one', [1]), i64('two', [2])],
    };
    const bytes = buildModel(spec);
    const s = await InferenceSession.create(bytes);
    for (const T of [3, 7, 3]) await compareRun(s, bytes, { x: { data: rand(T), dims: [1, T] }, y: { data: rand(10), dims: [1, 10] } }, { what: `T=${T}` });
  });
});
