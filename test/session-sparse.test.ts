// Sparse execution inside sessions: the per-node dense/sparse choice (SessionOptions.kernels and
// the cost model of src/runtime/kernel-choice.ts), checked against onnxruntime-node on the same
// pruned ONNX files, for every conv and linear shape the sparse kernels serve.
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { ArgumentError } from '../src/errors.js';
import { chooseWeightKernel, countNonZero, DIRECT_WINOGRAD_MAX_RATIO, directConvRatio, gemmRatio, im2colRatio, sampleHasZero, SCAN_ALL_MAX, spmmRatio, TINY_WORK, ZERO_SAMPLE } from '../src/runtime/kernel-choice.js';
import { buildModel, runOrt, type ModelSpec } from './util/onnx.js';
import { expectClose } from './util/close.js';
import { randomArray, rng } from './util/rng.js';
import { FLAVORS, kernels } from './util/kernels.js';

/** Uniform weights with a share `zeros` of them (Bernoulli) set to zero. */
function pruned(n: number, zeros: number, seed: number): Float32Array {
  const w = randomArray(n, seed);
  const r = rng(seed + 17);
  for (let i = 0; i < n; i++) if (r() < zeros) w[i] = 0;
  return w;
}

interface Case {
  name: string;
  /** the kernel 'sparse' runs */
  sparseKernel: string;
  spec: (zeros: number) => ModelSpec;
  x: number[];
}

const CASES: Case[] = [
  {
    name: '1x1 conv + BN + Relu (folded and fused)',
    sparseKernel: 'conv:sparse1x1+bn',
    x: [2, 24, 9, 11],
    spec: (z) => ({
      nodes: [
        { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { kernel_shape: [1, 1] } },
        { op: 'BatchNormalization', inputs: ['c', 's', 'sh', 'm', 'v'], outputs: ['n'] },
        { op: 'Relu', inputs: ['n'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [2, 24, 9, 11] }],
      outputs: ['y'],
      initializers: [
        { name: 'w', dims: [40, 24, 1, 1], data: pruned(40 * 24, z, 1) },
        { name: 'b', dims: [40], data: randomArray(40, 2) },
        { name: 's', dims: [40], data: randomArray(40, 3).map((v) => 1 + v / 2) },
        { name: 'sh', dims: [40], data: randomArray(40, 4) },
        { name: 'm', dims: [40], data: randomArray(40, 5) },
        { name: 'v', dims: [40], data: randomArray(40, 6).map((v) => 1.5 + v) },
      ],
    }),
  },
  {
    name: '3x3 conv, stride 2, asymmetric pads, Clip (direct, stride 2 along W: a block of 16 and a partial 4)',
    sparseKernel: 'conv:sparse-direct',
    x: [1, 16, 15, 41],
    spec: (z) => ({
      nodes: [
        { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 0, 1, 2] } },
        { op: 'Clip', inputs: ['c', 'lo', 'hi'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [1, 16, 15, 41] }],
      outputs: ['y'],
      initializers: [
        { name: 'w', dims: [24, 16, 3, 3], data: pruned(24 * 16 * 9, z, 7) },
        { name: 'b', dims: [24], data: randomArray(24, 8) },
        { name: 'lo', dims: [], data: new Float32Array([-0.5]) },
        { name: 'hi', dims: [], data: new Float32Array([0.8]) },
      ],
      opset: 13,
    }),
  },
  {
    name: '3x3 conv, stride [1, 3], batch 2 (im2col columns)',
    sparseKernel: 'conv:sparse-im2col',
    x: [2, 10, 11, 17],
    spec: (z) => ({
      nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { kernel_shape: [3, 3], strides: [1, 3], pads: [1, 1, 0, 2] } }],
      inputs: [{ name: 'x', dims: [2, 10, 11, 17] }],
      outputs: ['y'],
      initializers: [
        { name: 'w', dims: [12, 10, 3, 3], data: pruned(12 * 10 * 9, z, 31) },
        { name: 'b', dims: [12], data: randomArray(12, 32) },
      ],
    }),
  },
  {
    name: '3x3 conv on short rows, batch 2, Relu (direct on the padded width: blocks of 28 and 16, a partial 4)',
    sparseKernel: 'conv:sparse-direct',
    x: [2, 9, 10, 20],
    spec: (z) => ({
      nodes: [
        { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
        { op: 'Relu', inputs: ['c'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [2, 9, 10, 20] }],
      outputs: ['y'],
      initializers: [
        { name: 'w', dims: [11, 9, 3, 3], data: pruned(11 * 9 * 9, z, 33) },
        { name: 'b', dims: [11], data: randomArray(11, 34) },
      ],
    }),
  },
  {
    name: '3x5 conv, stride 2, dilation 2 along W, odd left pad (direct on the column-split copy)',
    sparseKernel: 'conv:sparse-direct',
    x: [1, 5, 12, 45],
    spec: (z) => ({
      nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { kernel_shape: [3, 5], strides: [2, 2], pads: [1, 3, 1, 2], dilations: [1, 2] } }],
      inputs: [{ name: 'x', dims: [1, 5, 12, 45] }],
      outputs: ['y'],
      initializers: [
        { name: 'w', dims: [7, 5, 3, 5], data: pruned(7 * 5 * 15, z, 35) },
        { name: 'b', dims: [7], data: randomArray(7, 36) },
      ],
    }),
  },
  {
    name: '3x3 conv, stride 2, a 3-pixel output row (direct: one partial vector per row)',
    sparseKernel: 'conv:sparse-direct',
    x: [1, 4, 9, 5],
    spec: (z) => ({
      nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } }],
      inputs: [{ name: 'x', dims: [1, 4, 9, 5] }],
      outputs: ['y'],
      initializers: [
        { name: 'w', dims: [6, 4, 3, 3], data: pruned(6 * 4 * 9, z, 37) },
        { name: 'b', dims: [6], data: randomArray(6, 38) },
      ],
    }),
  },
  {
    name: 'grouped 3x3 conv with dilation',
    sparseKernel: 'conv:sparse-direct',
    x: [1, 12, 14, 14],
    spec: (z) => ({
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { kernel_shape: [3, 3], group: 3, dilations: [2, 1], pads: [2, 1, 2, 1] } }],
      inputs: [{ name: 'x', dims: [1, 12, 14, 14] }],
      outputs: ['y'],
      initializers: [{ name: 'w', dims: [18, 4, 3, 3], data: pruned(18 * 4 * 9, z, 9) }],
    }),
  },
  {
    name: '5x3 conv, stride [2, 1], pads, batch 2 (direct, padded copy)',
    sparseKernel: 'conv:sparse-direct',
    x: [2, 6, 13, 21],
    spec: (z) => ({
      nodes: [
        { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { kernel_shape: [5, 3], strides: [2, 1], pads: [2, 1, 1, 0] } },
        { op: 'LeakyRelu', inputs: ['c'], outputs: ['y'], attrs: { alpha: { float: 0.1 } } },
      ],
      inputs: [{ name: 'x', dims: [2, 6, 13, 21] }],
      outputs: ['y'],
      initializers: [
        { name: 'w', dims: [19, 6, 5, 3], data: pruned(19 * 6 * 15, z, 21) },
        { name: 'b', dims: [19], data: randomArray(19, 22) },
      ],
    }),
  },
  {
    name: '3x3 conv, no pads, 1-D-wide output (direct on the input itself)',
    sparseKernel: 'conv:sparse-direct',
    x: [1, 32, 20, 7],
    spec: (z) => ({
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { kernel_shape: [3, 3] } }],
      inputs: [{ name: 'x', dims: [1, 32, 20, 7] }],
      outputs: ['y'],
      initializers: [{ name: 'w', dims: [20, 32, 3, 3], data: pruned(20 * 32 * 9, z, 23) }],
    }),
  },
  {
    name: 'Gemm transB, batch 1 (SpMV)',
    sparseKernel: 'gemm:sparse-spmv',
    x: [1, 300],
    spec: (z) => ({
      nodes: [
        { op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['g'], attrs: { transB: 1 } },
        { op: 'Relu', inputs: ['g'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [1, 300] }],
      outputs: ['y'],
      initializers: [
        { name: 'w', dims: [70, 300], data: pruned(70 * 300, z, 10) },
        { name: 'b', dims: [70], data: randomArray(70, 11) },
      ],
    }),
  },
  {
    name: 'Gemm with alpha, batch 5 (SpMV per row)',
    sparseKernel: 'gemm:sparse-spmv',
    x: [5, 64],
    spec: (z) => ({
      nodes: [{ op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { alpha: { float: 0.5 }, beta: { float: 2 } } }],
      inputs: [{ name: 'x', dims: [5, 64] }],
      outputs: ['y'],
      initializers: [
        { name: 'w', dims: [64, 33], data: pruned(64 * 33, z, 12) },
        { name: 'b', dims: [33], data: randomArray(33, 13) },
      ],
    }),
  },
  {
    name: 'MatMul over a batch of 3 x 7 rows (transposed SpMM)',
    sparseKernel: 'matmul:sparse-spmm',
    x: [3, 7, 48],
    spec: (z) => ({
      nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
      inputs: [{ name: 'x', dims: [3, 7, 48] }],
      outputs: ['y'],
      initializers: [{ name: 'w', dims: [48, 29], data: pruned(48 * 29, z, 14) }],
    }),
  },
];

const size = (d: number[]) => d.reduce((a, b) => a * b, 1);

describe.each(FLAVORS)('sparse 1x1 convs (%s)', (wasm) => {
  // at 30% non-zeros the SpMM over the input planes, under 25% the direct kernel on the plane as
  // one run (channels with 4 non-zeros or fewer as rows of vectors): planes of 1 pixel (squeeze-
  // and-excitation), 15 and 99 pixels (tails of 3), grouped, and every weight zero (bias only)
  it.each([
    { x: [2, 24, 9, 11], cout: 40, group: 1 },
    { x: [1, 48, 1, 1], cout: 12, group: 1 },
    { x: [1, 12, 3, 5], cout: 10, group: 2 },
    { x: [1, 64, 7, 7], cout: 24, group: 1 },
  ])('$x -> $cout (group $group) agrees with onnxruntime from 70% to 100% zeros', async ({ x: xd, cout, group }) => {
    const cin = xd[1] / group;
    for (const [i, zeros] of [0.7, 0.8, 0.9, 0.97, 1].entries()) {
      const model = buildModel({
        nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { kernel_shape: [1, 1], group } }, { op: 'Relu', inputs: ['c'], outputs: ['y'] }],
        inputs: [{ name: 'x', dims: xd }],
        outputs: ['y'],
        initializers: [{ name: 'w', dims: [cout, cin, 1, 1], data: pruned(cout * cin, zeros, 20 + i) }, { name: 'b', dims: [cout], data: randomArray(cout, 30 + i) }],
      });
      const x = randomArray(size(xd), 40 + i);
      const want = (await runOrt(model, { x: { data: x, dims: xd } })).y;
      const s = await InferenceSession.create(model, { wasm, kernels: 'sparse' });
      const got = (await s.run({ x: new Tensor('float32', x, xd) })).y;
      expect(s.info().nodes[0].kernel).toBe('conv:sparse1x1');
      expectClose(got.data, want.data, `1x1 ${xd} -> ${cout} at ${zeros * 100}% zeros`);
      await s.release();
    }
  });
});

describe.each(FLAVORS)('sparse layers in a session (%s)', (wasm) => {
  for (const c of CASES) {
    it(`${c.name}: sparse, dense and auto agree with onnxruntime at 90% zeros`, async () => {
      const model = buildModel(c.spec(0.9));
      const x = randomArray(size(c.x), 99);
      const want = (await runOrt(model, { x: { data: x, dims: c.x } })).y;
      for (const kernels of ['sparse', 'dense', 'slim', 'auto'] as const) {
        const s = await InferenceSession.create(model, { wasm, kernels });
        const got = (await s.run({ x: new Tensor('float32', x, c.x) })).y;
        expect([...got.dims]).toEqual(want.dims);
        expectClose(got.data, want.data, `${c.name} (${kernels})`);
        const layer = s.info().nodes.find((n) => /^(conv|gemm|matmul):/.test(n.kernel))!;
        if (kernels === 'sparse') expect(layer.kernel).toBe(c.sparseKernel);
        if (kernels === 'dense') expect(layer.kernel).not.toMatch(/sparse|slim/);
        // slim applies to group-1 convs
        if (kernels === 'slim') expect(layer.kernel).toMatch(layer.op === 'Conv' && !c.name.startsWith('grouped') ? /^conv:slim \d+\/\d+\+/ : /^(gemm|matmul):(packed|transpose)|^conv:(direct|im2col|gemm1x1|winograd)/);
        // auto: the zeros and the predictions, or a small layer's multiply-adds (TINY_WORK)
        expect(layer.choice).toMatch(kernels === 'auto' ? /zeros|multiply-adds: too few to gain/ : /forced/);
        await s.release();
      }
    });
  }
});

it('a layer with too few multiply-adds stays dense under auto: a squeeze-and-excitation conv on one pixel', async () => {
  // [120, 480] on a 1x1 map: 57,600 multiply-adds, under TINY_WORK; slimmed or sparse it ran
  // 1.35-1.6x slower than dense in PP-OCRv4's recognizer. The same layer on 4x4 pixels is not tiny.
  for (const [hw, kernel] of [[1, /^conv:gemm1x1$/], [4, /^conv:sparse1x1$/]] as const) {
    const model = buildModel({
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'] }],
      inputs: [{ name: 'x', dims: [1, 480, hw, hw] }],
      outputs: ['y'],
      initializers: [{ name: 'w', dims: [120, 480, 1, 1], data: pruned(120 * 480, 0.95, 43) }],
    });
    const n = (await InferenceSession.create(model)).info().nodes[0];
    expect(n.kernel).toMatch(kernel);
    expect(n.choice).toMatch(hw === 1 ? /^dense \(57600 multiply-adds: too few to gain\)$/ : /^sparse \(9\d\.\d% zeros/);
  }
  expect(57600).toBeLessThan(TINY_WORK);
  expect(16 * 57600).toBeGreaterThanOrEqual(TINY_WORK);
});

it('auto picks sparse for a 95%-zero 1x1 conv and dense for a 30%-zero one, and says why', async () => {
  const spec = CASES[0].spec;
  const s95 = await InferenceSession.create(buildModel(spec(0.95)));
  const n95 = s95.info().nodes.find((n) => n.op === 'Conv')!;
  expect(n95.kernel).toBe('conv:sparse1x1+bn');
  expect(n95.choice).toMatch(/^sparse \(9\d\.\d% zeros; sparse predicted at 0\.\d\dx the dense time(; slim \(\d+% of output channels kept\) predicted at 0\.\d\dx)?\)$/);
  const s30 = await InferenceSession.create(buildModel(spec(0.3)));
  const n30 = s30.info().nodes.find((n) => n.op === 'Conv')!;
  expect(n30.kernel).toBe('conv:gemm1x1+bn');
  expect(n30.choice).toMatch(/^dense \(\d\d\.\d% zeros\)$/);
});

it('a 7x7 conv with stride 3 along W on a 224x224 image: im2col in bands of output rows, so the scratch stays within 256 KiB', async () => {
  // the full im2col would be 147 x 112 x 75 floats = 4.9 MB; the bands hold 5 rows (43 KiB x 5 = 215 KiB)
  const model = buildModel({
    nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { kernel_shape: [7, 7], strides: [2, 3], pads: [3, 3, 3, 3] } }],
    inputs: [{ name: 'x', dims: [1, 3, 224, 224] }],
    outputs: ['y'],
    initializers: [{ name: 'w', dims: [16, 3, 7, 7], data: pruned(16 * 147, 0.8, 5) }, { name: 'b', dims: [16], data: randomArray(16, 6) }],
  });
  const x = randomArray(3 * 224 * 224, 7);
  const want = (await runOrt(model, { x: { data: x, dims: [1, 3, 224, 224] } })).y;
  const s = await InferenceSession.create(model, { kernels: 'sparse' });
  expect(s.info().nodes[0].kernel).toBe('conv:sparse-im2col');
  expectClose((await s.run({ x: new Tensor('float32', x, [1, 3, 224, 224]) })).y.data, want.data, 'banded im2col');
  const io = (3 * 224 * 224 + 16 * 112 * 75) * 4;
  expect(s.info().plannedPeakBytes).toBeLessThanOrEqual(io + 256 * 1024);
  // bands of 10 output rows over 20 (the last one short), uneven pads, a batch of 2
  const odd = buildModel({
    nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { kernel_shape: [3, 3], strides: [2, 3], pads: [1, 2, 0, 1] } }],
    inputs: [{ name: 'x', dims: [2, 16, 41, 130] }],
    outputs: ['y'],
    initializers: [{ name: 'w', dims: [8, 16, 3, 3], data: pruned(8 * 144, 0.8, 9) }],
  });
  const x2 = randomArray(2 * 16 * 41 * 130, 8);
  const want2 = (await runOrt(odd, { x: { data: x2, dims: [2, 16, 41, 130] } })).y;
  const s2 = await InferenceSession.create(odd, { kernels: 'sparse' });
  expect(s2.info().nodes[0].kernel).toBe('conv:sparse-im2col');
  expectClose((await s2.run({ x: new Tensor('float32', x2, [2, 16, 41, 130]) })).y.data, want2.data, 'bands of 10 rows over 20');
});

it.each([
  // a 3-channel stride-2 stem on a 48x192 image: the direct kernel's padded copy is the dense one's
  [[2, 2], 'conv:sparse-direct', 'padded copy'],
  // stride 3 along W: all 24 rows of columns would be 27 x 24 x 64 floats (166 kB) against the
  // dense path's padded copy (3 x 50 x 194 floats, 116 kB): bands of 16 rows
  [[2, 3], 'conv:sparse-im2col', 'bands of 16 rows over 24'],
])('a sparse conv plans no more memory than the same layer dense: strides %j run %s', async (strides, kernel, label) => {
  const model = buildModel({
    nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { kernel_shape: [3, 3], strides, pads: [1, 1, 1, 1] } }],
    inputs: [{ name: 'x', dims: [1, 3, 48, 192] }],
    outputs: ['y'],
    initializers: [{ name: 'w', dims: [16, 3, 3, 3], data: pruned(16 * 27, 0.9, 11) }, { name: 'b', dims: [16], data: randomArray(16, 12) }],
  });
  const x = randomArray(3 * 48 * 192, 13);
  const want = (await runOrt(model, { x: { data: x, dims: [1, 3, 48, 192] } })).y;
  const sparse = await InferenceSession.create(model, { kernels: 'sparse' });
  const dense = await InferenceSession.create(model, { kernels: 'dense' });
  expect(sparse.info().nodes[0].kernel).toBe(kernel);
  expect(sparse.info().plannedPeakBytes).toBeLessThanOrEqual(dense.info().plannedPeakBytes);
  expectClose((await sparse.run({ x: new Tensor('float32', x, [1, 3, 48, 192]) })).y.data, want.data, label);
});

it('a depthwise conv stays dense under auto even when sparse', async () => {
  const model = buildModel({
    nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { kernel_shape: [3, 3], group: 8, pads: [1, 1, 1, 1] } }],
    inputs: [{ name: 'x', dims: [1, 8, 10, 10] }],
    outputs: ['y'],
    initializers: [{ name: 'w', dims: [8, 1, 3, 3], data: pruned(72, 0.95, 3) }],
  });
  const s = await InferenceSession.create(model);
  expect(s.info().nodes[0].kernel).toBe('conv:depthwise');
  expect(s.info().nodes[0].choice).toMatch(/^dense \(depthwise/);
});

it.each(['5x3 conv', 'Gemm transB'])('all-zero weights run sparse (nothing to multiply) and give bias + activation: %s', async (which) => {
  const c = CASES.find((k) => k.name.startsWith(which))!;
  const model = buildModel(c.spec(1));
  const x = randomArray(size(c.x), 4);
  const want = (await runOrt(model, { x: { data: x, dims: c.x } })).y;
  const s = await InferenceSession.create(model, { kernels: 'sparse' });
  expectClose((await s.run({ x: new Tensor('float32', x, c.x) })).y.data, want.data, 'all zeros');
});

it('kernels can be forced per node; a bad option is a typed error that says what to use', async () => {
  const model = buildModel(CASES[1].spec(0.2));
  const name = (await InferenceSession.create(model)).info().nodes[0].name;
  const s = await InferenceSession.create(model, { kernels: { [name]: 'sparse' } });
  expect(s.info().nodes[0].kernel).toBe('conv:sparse-direct'); // stride 2 along W
  await expect(InferenceSession.create(model, { kernels: 'fast' as never })).rejects.toThrow(ArgumentError);
  await expect(InferenceSession.create(model, { kernels: 'fast' as never })).rejects.toThrow(/use 'auto', 'dense', 'sparse' or 'slim'/);
  await expect(InferenceSession.create(model, { kernels: { nope: 'dense' } })).rejects.toThrow(/names node 'nope', which the model does not have/);
});

it('a stride-2 conv on short rows runs the im2col SpMM at 90% zeros and the direct kernel at 97%, both as onnxruntime', async () => {
  // 14-pixel output rows: the direct kernel's 4-pixel steps cost more than the im2col copy until
  // very few weights are left (the models in kernel-choice.ts)
  for (const [zeros, kernel] of [[0.9, 'conv:sparse-im2col'], [0.97, 'conv:sparse-direct']] as const) {
    const model = buildModel({
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } }],
      inputs: [{ name: 'x', dims: [1, 64, 28, 28] }],
      outputs: ['y'],
      initializers: [{ name: 'w', dims: [128, 64, 3, 3], data: pruned(128 * 576, zeros, 41) }],
    });
    const x = randomArray(64 * 28 * 28, 42);
    const want = (await runOrt(model, { x: { data: x, dims: [1, 64, 28, 28] } })).y;
    const s = await InferenceSession.create(model);
    expect(s.info().nodes[0].kernel).toBe(kernel);
    expectClose((await s.run({ x: new Tensor('float32', x, [1, 64, 28, 28]) })).y.data, want.data, kernel);
  }
});

it('a 3x3 layer whose dense twin runs Winograd goes sparse at 70% zeros on rows of 56 (the direct kernel\'s own margin), as onnxruntime', async () => {
  const model = buildModel({
    nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } }],
    inputs: [{ name: 'x', dims: [1, 64, 56, 56] }],
    outputs: ['y'],
    initializers: [{ name: 'w', dims: [64, 64, 3, 3], data: pruned(64 * 576, 0.703, 43) }],
  });
  const x = randomArray(64 * 56 * 56, 44);
  const want = (await runOrt(model, { x: { data: x, dims: [1, 64, 56, 56] } })).y;
  const s = await InferenceSession.create(model);
  // predicted at 0.80-0.85x the Winograd time: over the general margin, under the direct kernel's
  expect(s.info().nodes[0].choice).toMatch(/sparse predicted at 0\.8[0-4]x/);
  expect(s.info().nodes[0].kernel).toBe('conv:sparse-direct');
  expectClose((await s.run({ x: new Tensor('float32', x, [1, 64, 56, 56]) })).y.data, want.data, 'sparse-direct at 70%');
});

it('the cost models: sparse pays more with more zeros, and at half density only the SpMM on many columns pays', () => {
  const models = [(d: number) => spmmRatio(d, 3136), (d: number) => spmmRatio(d, 4), (d: number) => im2colRatio(d, 784),
    (d: number) => directConvRatio(d, true, 56), (d: number) => directConvRatio(d, false, 7), (d: number) => gemmRatio(d, 1), (d: number) => gemmRatio(d, 8),
    (d: number) => directConvRatio(d, false, 56, 2, 27), (d: number) => directConvRatio(d, false, 14, 2, 576), (d: number) => im2colRatio(d, 3136, 27)];
  const layer = (nnz: number, sparseRatio: (d: number) => number, kept?: number) => ({ weights: 100, countNonZero: () => nnz, sparseRatio, keptRowShare: () => kept });
  for (const m of models) expect(m(0.05)).toBeLessThan(m(0.2));
  // at 50% non-zeros the SpMM over 3136 columns (PP-OCRv4's 1x1 convs pruned to exactly 50% ran in
  // 0.63-0.71x the dense time) and a 3-channel stride-2 stem (0.42-0.48x) go sparse; the rest stay dense
  expect(models.map((m) => chooseWeightKernel('auto', layer(50, m)).kernel)).toEqual(
    ['sparse', 'dense', 'dense', 'dense', 'dense', 'dense', 'dense', 'sparse', 'dense', 'dense']);
  expect(chooseWeightKernel('auto', layer(5, models[0])).kernel).toBe('sparse');
  // batch-1 Linear layers at 80% zeros: the SpMV ran 0.70-0.80x the dense GEMV with 784-1024 inputs
  // (sparse), 0.85-1.01x with 256 (dense); with 4+ rows the dense GEMM shares its weight reads (dense)
  expect([784, 256].map((K) => chooseWeightKernel('auto', layer(20, (d) => gemmRatio(d, 1, K))).kernel)).toEqual(['sparse', 'dense']);
  expect(chooseWeightKernel('auto', layer(20, (d) => gemmRatio(d, 4, 1024))).kernel).toBe('dense');
  expect(chooseWeightKernel('auto', layer(10, (d) => gemmRatio(d, 4, 1024))).kernel).toBe('sparse');
  // 3x3 layers whose dense twin runs Winograd, at 70% zeros: on rows of 10 pixels its 2x2 tiles
  // run as a block of 8 (5 tiles pay for 8), and sparse ran 0.67x; on rows of 14 (7 of 8)
  // 0.74-0.84x, and of 20 (10 of 12) 0.68-0.77x: under the general margin (0.8) rows of 14 stay
  // dense, under the direct kernel's own (0.85, what the conv passes) they go sparse
  const short = (w: number) => layer(30, (d) => directConvRatio(d, true, w, 1, 864));
  expect([10, 14, 20].map((w) => chooseWeightKernel('auto', short(w)).kernel)).toEqual(['sparse', 'dense', 'sparse']);
  expect(chooseWeightKernel('auto', { ...short(14), sparseMaxRatio: DIRECT_WINOGRAD_MAX_RATIO }).kernel).toBe('sparse');
  // at 50% zeros every short-row layer measured 0.96-1.34x: dense
  expect([10, 14, 20].map((w) => chooseWeightKernel('auto', { ...layer(50, (d) => directConvRatio(d, true, w, 1, 864)), sparseMaxRatio: DIRECT_WINOGRAD_MAX_RATIO }).kernel)).toEqual(['dense', 'dense', 'dense']);
  // against Winograd the direct model is within 0.05: 64->64 on 56x56 at 70% zeros (0.83 predicted,
  // 0.81 measured) goes sparse under that kernel's margin, not under the general one
  const wide = (d: number) => directConvRatio(d, true, 56, 1, 576);
  expect([DIRECT_WINOGRAD_MAX_RATIO, undefined].map((m) => chooseWeightKernel('auto', { ...layer(30, wide), sparseMaxRatio: m }).kernel)).toEqual(['sparse', 'dense']);
  // half the output channels zero: slim beats sparse at 50% density
  expect(chooseWeightKernel('auto', layer(50, models[0], 0.5)).kernel).toBe('slim');
  // but at 5% density the sparse kernel wins even with channels to drop
  expect(chooseWeightKernel('auto', layer(5, models[0], 0.5)).kernel).toBe('sparse');
  let counted = false;
  expect(chooseWeightKernel('dense', { weights: 100, countNonZero: () => ((counted = true), 0), sparseRatio: models[0] }).kernel).toBe('dense');
  expect(counted).toBe(false); // forced: the weights are not even counted
});

describe.each(FLAVORS)('slimmed dense conv (%s)', (wasm) => {
  /** A conv whose output channels in `zeroed` have all-zero weights (masks left in place), with BN and Relu after. */
  function masked(Cout: number, zeroed: Set<number>, k: number, pads: number) {
    const Cin = 24;
    const w = randomArray(Cout * Cin * k * k, 31);
    for (const c of zeroed) w.fill(0, c * Cin * k * k, (c + 1) * Cin * k * k);
    return buildModel({
      nodes: [
        { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { kernel_shape: [k, k], pads: [pads, pads, pads, pads] } },
        { op: 'BatchNormalization', inputs: ['c', 's', 'sh', 'm', 'v'], outputs: ['n'] },
        { op: 'Relu', inputs: ['n'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [2, Cin, 10, 12] }],
      outputs: ['y'],
      initializers: [
        { name: 'w', dims: [Cout, Cin, k, k], data: w },
        { name: 'b', dims: [Cout], data: randomArray(Cout, 32) },
        { name: 's', dims: [Cout], data: randomArray(Cout, 33).map((v) => 1 + v / 2) },
        { name: 'sh', dims: [Cout], data: randomArray(Cout, 34) },
        { name: 'm', dims: [Cout], data: randomArray(Cout, 35) },
        { name: 'v', dims: [Cout], data: randomArray(Cout, 36).map((v) => 1.5 + v) },
      ],
    });
  }

  it.each([[1, 0], [3, 1]])('a conv (kernel %i, pads %i) with half its output channels zeroed runs slimmed under auto, like onnxruntime', async (k, pads) => {
    const zeroed = new Set([0, 1, 2, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 31]);
    const model = masked(32, zeroed, k, pads);
    const x = randomArray(2 * 24 * 120, 37);
    const want = (await runOrt(model, { x: { data: x, dims: [2, 24, 10, 12] } })).y;
    const s = await InferenceSession.create(model, { wasm });
    const node = s.info().nodes.find((n) => n.op === 'Conv')!;
    expect(node.kernel).toMatch(/^conv:slim 15\/32\+/);
    expect(node.choice).toMatch(/^slim \(\d+\.\d% zeros; .*slim \(47% of output channels kept\) predicted at 0\.50x/);
    const got = (await s.run({ x: new Tensor('float32', x, [2, 24, 10, 12]) })).y;
    expectClose(got.data, want.data, 'slim');
  });

  it('every output channel zero: auto runs the sparse kernel, forcing slim says why it cannot', async () => {
    const model = masked(8, new Set([0, 1, 2, 3, 4, 5, 6, 7]), 3, 1);
    const x = randomArray(2 * 24 * 120, 38);
    const want = (await runOrt(model, { x: { data: x, dims: [2, 24, 10, 12] } })).y;
    for (const kernels of ['auto', 'slim'] as const) {
      const s = await InferenceSession.create(model, { wasm, kernels });
      const node = s.info().nodes.find((n) => n.op === 'Conv')!;
      expect(node.kernel).toMatch(/^conv:sparse/);
      if (kernels === 'slim') expect(node.choice).toBe('sparse (slim forced, but every output channel is zero)');
      expectClose((await s.run({ x: new Tensor('float32', x, [2, 24, 10, 12]) })).y.data, want.data, 'all channels zero');
    }
  });
});

it('a layer without a zero is dense without counting; any zeroing pattern shows, in the whole layer or in the sample of a larger one', () => {
  const n = 64 * 576;
  const dense = randomArray(n, 5).map((v) => v || 0.5);
  expect(sampleHasZero(dense)).toBe(false);
  let counted = false;
  const layer = (w: Float32Array) => ({ weights: w.length, countNonZero: () => ((counted = true), w.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0)), sampleHasZero: () => sampleHasZero(w), sparseRatio: (d: number) => spmmRatio(d, 3136) });
  const c = chooseWeightKernel('auto', layer(dense));
  expect(c.kernel).toBe('dense');
  expect(c.reason).toBe('dense (no zeros)');
  expect(counted).toBe(false);
  // up to SCAN_ALL_MAX weights every one is looked at: a single zero anywhere is found
  for (const at of [0, 1, 12345, n - 1]) {
    const w = dense.slice();
    w[at] = -0;
    expect(sampleHasZero(w), `a zero at ${at}`).toBe(true);
  }
  // past it, a sample: a dense layer passes without counting, with the reason saying so
  const big = new Float32Array(SCAN_ALL_MAX + 7).fill(0.25);
  expect(sampleHasZero(big)).toBe(false);
  expect(chooseWeightKernel('auto', layer(big)).reason).toBe(`dense (no zeros among ${ZERO_SAMPLE} sampled weights)`);
  big[1000] = 0; // off the sample's stride: the sample does not see a lone zero, by design
  expect(sampleHasZero(big)).toBe(false);
  big.fill(0, 0, big.length >> 3); // an eighth of the rows: the sample sees it
  expect(sampleHasZero(big)).toBe(true);
  // pruned weights: 2:4, 1x4 blocks, whole rows, a 5% unstructured share: each seen by the sample, then counted
  const r = rng(9);
  const patterns: [string, (i: number) => boolean][] = [
    ['2:4 (lanes 1 and 2 of every 4)', (i) => i % 4 === 1 || i % 4 === 2],
    ['1x4 blocks, every other one', (i) => (i >> 2) % 2 === 1],
    ['rows 0-7 of 64', (i) => Math.floor(i / 576) < 8],
    ['5% at random', () => r() < 0.05],
  ];
  for (const [what, zero] of patterns) {
    const w = dense.map((v, i) => (zero(i) ? 0 : v));
    expect(sampleHasZero(w), what).toBe(true);
    counted = false;
    chooseWeightKernel('auto', layer(w));
    expect(counted, what).toBe(true);
  }
});

it('countNonZero: a few zeros found by indexOf, many by the wasm count; -0 is zero, NaN is not, both paths agree with a plain count', async () => {
  const k = await kernels('simd');
  const r = rng(21);
  for (const zeros of [0, 1, 2, 63, 64, 65, 66, 500, 4000]) {
    for (const n of [zeros + 1, 4099, 10007]) {
      if (zeros > n) continue;
      const w = randomArray(n, zeros + n).map((v) => v || 0.5);
      // zeros at random places (some -0), and a NaN that must count as non-zero
      const at = new Set<number>();
      while (at.size < zeros) at.add(Math.floor(r() * n));
      for (const i of at) w[i] = r() < 0.5 ? 0 : -0;
      if (zeros < n) w[[...Array(n).keys()].find((i) => !at.has(i))!] = NaN;
      let plain = 0;
      for (let i = 0; i < n; i++) if (w[i] !== 0) plain++;
      expect(countNonZero(k, w), `${zeros} zeros of ${n}`).toBe(plain);
    }
  }
});
