// Elementwise ops against onnxruntime-node: activations, math, broadcasting binaries, PRelu,
// Clip (both opset forms), Softmax / LogSoftmax (opset 11 coerce-to-2D vs opset 13 one axis),
// variadic Max / Min / Sum / Mean, LRN.
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { buildModel, expectSameAsOrt, f32, numel, single, w, type Attr, type ModelSpec } from './harness.js';

const X = [{ name: 'x', dims: [2, 3, 5, 7] }]; // 210 elements: not a multiple of 4 or 8

describe('unary activations and math', () => {
  const cases: [string, Record<string, Attr>, number?, [number, number]?][] = [
    ['Relu', {}],
    ['LeakyRelu', {}],
    ['LeakyRelu', { alpha: { float: 0.3 } }],
    ['Sigmoid', {}],
    ['HardSigmoid', {}],
    ['HardSigmoid', { alpha: { float: 0.1666667 }, beta: { float: 0.5 } }],
    ['HardSwish', {}, 14],
    ['Tanh', {}],
    ['Sqrt', {}, 13, [0, 4]],
    ['Exp', {}, 13, [-4, 4]],
    ['Log', {}, 13, [0.01, 5]],
    ['Erf', {}, 13, [-3, 3]],
    ['Neg', {}],
    ['Abs', {}],
    ['Identity', {}],
    ['Softplus', {}],
    ['Elu', {}],
    ['Elu', { alpha: { float: 0.6 } }],
    ['Selu', {}],
    ['Selu', { alpha: { float: 1.1 }, gamma: { float: 2.5 } }],
    ['Celu', { alpha: { float: 0.8 } }, 12],
    ['Softsign', {}],
    ['Sign', {}],
    ['Floor', {}],
    ['Ceil', {}],
    ['Round', {}, 11, [-3, 3]],
    ['Reciprocal', {}, 13, [0.1, 3]],
    ['Mish', {}, 18],
    ['ThresholdedRelu', {}, 10],
    ['ThresholdedRelu', { alpha: { float: -0.5 } }, 10],
    ['Gelu', {}, 20],
    ['Gelu', { approximate: 'tanh' }, 20],
  ];
  for (const [op, attrs, opset, range] of cases) {
    it(`${op} ${JSON.stringify(attrs)}`, async () => {
      await expectSameAsOrt(single(op, X, attrs, { opset }), { range: range ?? [-4, 4] });
    });
  }
  it('Dropout (inference: identity, opset 13 and opset 9 with ratio)', async () => {
    await expectSameAsOrt(single('Dropout', X, {}, { opset: 13 }));
    await expectSameAsOrt(single('Dropout', X, { ratio: { float: 0.3 } }, { opset: 9 }));
  });
  it('Dropout opset 13 with ratio and training_mode=false inputs', async () => {
    await expectSameAsOrt(single('Dropout', X, {}, { opset: 13, extraInputs: ['r', 't'], initializers: [f32('r', [0.5], []), { name: 't', dims: [], data: [0], type: 'bool' }] }));
  });
  it('HardSwish on a 1-D odd length', async () => {
    await expectSameAsOrt(single('HardSwish', [{ name: 'x', dims: [13] }], {}, { opset: 14 }), { range: [-5, 5] });
  });
});

describe('Clip', () => {
  it('opset 11 inputs (min and max)', async () => {
    await expectSameAsOrt(single('Clip', X, {}, { opset: 11, extraInputs: ['lo', 'hi'], initializers: [f32('lo', [-0.25], []), f32('hi', [0.5], [])] }));
  });
  it('opset 13 only max (min omitted with an empty name)', async () => {
    await expectSameAsOrt(single('Clip', X, {}, { opset: 13, extraInputs: ['', 'hi'], initializers: [f32('hi', [0.3], [])] }));
  });
  it('opset 13 only min', async () => {
    await expectSameAsOrt(single('Clip', X, {}, { opset: 13, extraInputs: ['lo'], initializers: [f32('lo', [0.1], [])] }));
  });
  // Clip-6 (attributes) is the current Clip for model opsets 6-10; edgeprune reads opset >= 7
  it('Clip-6 attributes (model opset 10)', async () => {
    await expectSameAsOrt(single('Clip', X, { min: { float: -0.5 }, max: { float: 0.25 } }, { opset: 10 }));
  });
  it('Clip-6 attributes (model opset 7)', async () => {
    await expectSameAsOrt(single('Clip', X, { min: { float: 0 }, max: { float: 6 } }, { opset: 7 }), { range: [-10, 10] });
  });
  it('Clip-6 with defaults (no clipping)', async () => {
    await expectSameAsOrt(single('Clip', X, {}, { opset: 10 }), { range: [-100, 100] });
  });
});

describe('binary ops with broadcasting', () => {
  const ops = ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min'];
  const shapes: [number[], number[]][] = [
    [[2, 3, 5], [2, 3, 5]],
    [[2, 3, 5], [5]],
    [[2, 3, 5], [3, 1]],
    [[1, 3, 1], [2, 1, 5]],
    [[5], [2, 3, 5]],
    [[2, 3, 5], []],
    [[3, 1, 7], [1, 6, 1]],
  ];
  for (const op of ops) {
    for (const [a, b] of shapes) {
      it(`${op} ${JSON.stringify(a)} ⊕ ${JSON.stringify(b)} (both runtime)`, async () => {
        const range: [number, number] = op === 'Div' ? [0.5, 2] : [-2, 2];
        await expectSameAsOrt(single(op, [{ name: 'a', dims: a }, { name: 'b', dims: b }]), { range });
      });
    }
    it(`${op} with a constant second operand [3,1,1] against [2,3,4,5]`, async () => {
      await expectSameAsOrt(single(op, [{ name: 'x', dims: [2, 3, 4, 5] }], {}, { extraInputs: ['c'], initializers: [w('c', [3, 1, 1], 0.5, 2)] }));
    });
    it(`${op} with a constant first operand [7] against [3,7]`, async () => {
      const model = { nodes: [{ op, inputs: ['c', 'x'], outputs: ['y'] }], inputs: [{ name: 'x', dims: [3, 7] }], outputs: ['y'], initializers: [w('c', [7], 0.5, 2)] };
      await expectSameAsOrt(model, { range: [0.5, 2] });
    });
  }
  it('Pow with a runtime exponent (broadcast) and a constant scalar exponent 2', async () => {
    await expectSameAsOrt(single('Pow', [{ name: 'a', dims: [2, 3, 5] }, { name: 'b', dims: [3, 1] }]), { range: [0.2, 2] });
    await expectSameAsOrt(single('Pow', [{ name: 'x', dims: [3, 7] }], {}, { extraInputs: ['e'], initializers: [f32('e', [2], [])] }), { range: [-2, 2] });
    await expectSameAsOrt(single('Pow', [{ name: 'x', dims: [3, 7] }], {}, { extraInputs: ['e'], initializers: [f32('e', [0.5], [])] }), { range: [0, 3] });
  });
  it('in-place chain: Add then Mul on the same shape', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Add', inputs: ['x', 'x'], outputs: ['a'] },
        { op: 'Mul', inputs: ['a', 'x'], outputs: ['m'] },
        { op: 'Sub', inputs: ['m', 'a'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [3, 11] }],
      outputs: ['y'],
    });
  });
});

describe('comparisons, logic and Where on run-time tensors (booleans held as 0 / 1)', () => {
  // a grid of values with ties, zeros and a NaN, so Equal and the >= / <= pairs see equal operands
  const grid = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => (i % 11 === 10 ? NaN : ((i * seed) % 7) - 3));
  const asFloat = (op: string, a: number[], b: number[]): ModelSpec => ({
    nodes: [
      { op, inputs: ['a', 'b'], outputs: ['m'] },
      { op: 'Cast', inputs: ['m'], outputs: ['y'], attrs: { to: 1 } },
    ],
    inputs: [{ name: 'a', dims: a }, { name: 'b', dims: b }],
    outputs: ['y'],
  });
  for (const op of ['Greater', 'Less', 'Equal', 'GreaterOrEqual', 'LessOrEqual']) {
    it(`${op} with broadcasting, ties and NaN`, async () => {
      for (const [a, b] of [[[2, 3, 5], [2, 3, 5]], [[2, 3, 5], [3, 1]], [[5], [2, 3, 5]]] as [number[], number[]][]) {
        const spec = asFloat(op, a, b);
        await expectSameAsOrt(spec, { feeds: { a: { data: grid(numel(a), 3), dims: a }, b: { data: grid(numel(b), 5), dims: b } } });
      }
    });
  }
  it('And, Or, Xor, Not on comparison results; Cast to bool (0, NaN and others) and back', async () => {
    const x = grid(30, 3);
    await expectSameAsOrt({
      nodes: [
        { op: 'Greater', inputs: ['x', 'zero'], outputs: ['p'] },
        { op: 'Less', inputs: ['x', 'two'], outputs: ['q'] },
        { op: 'Cast', inputs: ['x'], outputs: ['nz'], attrs: { to: 9 } },
        { op: 'And', inputs: ['p', 'q'], outputs: ['a'] },
        { op: 'Or', inputs: ['a', 'nz'], outputs: ['o'] },
        { op: 'Xor', inputs: ['o', 'q'], outputs: ['z'] },
        { op: 'Not', inputs: ['z'], outputs: ['n'] },
        { op: 'Cast', inputs: ['n'], outputs: ['y1'], attrs: { to: 1 } },
        { op: 'Cast', inputs: ['nz'], outputs: ['y2'], attrs: { to: 1 } },
      ],
      inputs: [{ name: 'x', dims: [5, 6] }],
      outputs: ['y1', 'y2'],
      initializers: [f32('zero', [0], []), f32('two', [2], [])],
    }, { feeds: { x: { data: x, dims: [5, 6] } } });
  });
  it("Where as torch writes leaky ReLU and masked_fill (x > 0, x < -1), and with cond, a and b each broadcast", async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Greater', inputs: ['x', 'zero'], outputs: ['c'] },
        { op: 'Mul', inputs: ['x', 'slope'], outputs: ['s'] },
        { op: 'Where', inputs: ['c', 'x', 's'], outputs: ['l'] },
        { op: 'Less', inputs: ['l', 'minus1'], outputs: ['m'] },
        { op: 'Where', inputs: ['m', 'zero', 'l'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [2, 3, 7] }],
      outputs: ['y'],
      initializers: [f32('zero', [0], []), f32('slope', [0.1], []), f32('minus1', [-1], [])],
    }, { range: [-15, 15] });
    // cond [3, 1] and a [1, 4] broadcast to [3, 4] only: b [2, 3, 4] makes the output larger (a is spread first)
    for (const [c, a, b] of [[[3, 1], [1, 4], [2, 3, 4]], [[2, 3, 4], [4], [3, 1]], [[1], [2, 1, 4], [3, 1]]] as [number[], number[], number[]][]) {
      await expectSameAsOrt({
        nodes: [
          { op: 'Greater', inputs: ['cx', 'zero'], outputs: ['cond'] },
          { op: 'Where', inputs: ['cond', 'a', 'b'], outputs: ['y'] },
        ],
        inputs: [{ name: 'cx', dims: c }, { name: 'a', dims: a }, { name: 'b', dims: b }],
        outputs: ['y'],
        initializers: [f32('zero', [0], [])],
      });
    }
  });
});

describe('PRelu', () => {
  it('slope [C,1,1]', async () => {
    await expectSameAsOrt(single('PRelu', [{ name: 'x', dims: [2, 3, 5, 7] }], {}, { extraInputs: ['s'], initializers: [w('s', [3, 1, 1], 0, 0.5)] }));
  });
  it('scalar slope [1]', async () => {
    await expectSameAsOrt(single('PRelu', [{ name: 'x', dims: [2, 3, 5, 7] }], {}, { extraInputs: ['s'], initializers: [f32('s', [0.25], [1])] }));
  });
  it('slope [C] on a 2-D input [N, C]', async () => {
    await expectSameAsOrt(single('PRelu', [{ name: 'x', dims: [4, 9] }], {}, { extraInputs: ['s'], initializers: [w('s', [9], 0, 0.5)] }));
  });
});

describe('Softmax and LogSoftmax', () => {
  for (const op of ['Softmax', 'LogSoftmax']) {
    for (const opset of [9, 11, 13]) {
      it(`${op} opset ${opset} default axis on [2,3,5]`, async () => {
        await expectSameAsOrt(single(op, [{ name: 'x', dims: [2, 3, 5] }], {}, { opset }), { range: [-5, 5] });
      });
      for (const axis of [0, 1, -1, 2]) {
        it(`${op} opset ${opset} axis ${axis} on [2,3,5,3]`, async () => {
          await expectSameAsOrt(single(op, [{ name: 'x', dims: [2, 3, 5, 3] }], { axis }, { opset }), { range: [-5, 5] });
        });
      }
    }
    it(`${op} on a 2-D [3, 10] (opset 13, axis 1)`, async () => {
      await expectSameAsOrt(single(op, [{ name: 'x', dims: [3, 10] }], { axis: 1 }), { range: [-20, 20] });
    });
  }
});

describe('Max, Min, Sum and Mean with any number of inputs (broadcast together)', () => {
  const shapes: [string, number[][]][] = [
    ['one input', [[2, 3, 5]]],
    ['two inputs', [[2, 3, 5], [5]]],
    ['three, the last the largest', [[3, 1], [1, 5], [2, 3, 5]]],
    ['four, same shape', [[2, 3, 5, 7], [2, 3, 5, 7], [2, 3, 5, 7], [2, 3, 5, 7]]],
  ];
  for (const op of ['Max', 'Min', 'Sum', 'Mean']) {
    for (const [what, dims] of shapes) {
      it(`${op}: ${what}`, async () => {
        await expectSameAsOrt({
          opset: 13,
          nodes: [{ op, inputs: dims.map((_, i) => `x${i}`), outputs: ['y'] }],
          inputs: dims.map((d, i) => ({ name: `x${i}`, dims: d })),
          outputs: ['y'],
        });
      });
    }
  }
  it('Sum as the residual add of a Caffe2-era model, with a constant', async () => {
    await expectSameAsOrt({
      opset: 8,
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['r'] },
        { op: 'Sum', inputs: ['x', 'r', 'c'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [1, 4, 3, 3] }],
      outputs: ['y'],
      initializers: [w('c', [4, 1, 1])],
    });
  });
});

describe('LRN (AlexNet, GoogLeNet)', () => {
  const cases: [string, number[], Record<string, Attr>][] = [
    ['AlexNet: size 5', [2, 7, 5, 6], { size: 5, alpha: { float: 1e-4 }, beta: { float: 0.75 }, bias: { float: 1 } }],
    ['size 3, strong alpha, bias 2', [1, 6, 4, 3], { size: 3, alpha: { float: 0.5 }, beta: { float: 0.6 }, bias: { float: 2 } }],
    ['window wider than the channels', [1, 3, 2, 5], { size: 7, alpha: { float: 0.1 } }],
  ];
  for (const [what, dims, attrs] of cases) {
    it(what, async () => {
      await expectSameAsOrt(single('LRN', [{ name: 'x', dims }], attrs), { range: [-3, 3] });
    });
  }
  // onnxruntime runs only odd sizes on 4-D inputs; the spec's other cases against a float64 loop
  const reference = (x: Float32Array, dims: number[], size: number, alpha: number, beta: number, bias: number) => {
    const [N, C] = dims;
    const P = numel(dims.slice(2));
    const y = new Float64Array(x.length);
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let p = 0; p < P; p++) {
      let s = 0;
      for (let j = Math.max(0, c - Math.floor((size - 1) / 2)); j <= Math.min(C - 1, c + Math.ceil((size - 1) / 2)); j++) s += x[(n * C + j) * P + p] ** 2;
      const i = (n * C + c) * P + p;
      y[i] = x[i] / (bias + (alpha / size) * s) ** beta;
    }
    return y;
  };
  for (const [what, dims, size, alpha] of [['even size 4 (one more channel up)', [1, 9, 3, 3], 4, 0.2], ['1-D feature maps', [2, 8, 11], 5, 0.3], ['3-D feature maps', [1, 6, 2, 3, 4], 3, 0.4]] as [string, number[], number, number][]) {
    it(`${what}, against a float64 loop`, async () => {
      const x = Float32Array.from({ length: numel(dims) }, (_, i) => Math.sin(i * 1.7) * 3);
      const session = await InferenceSession.create(buildModel(single('LRN', [{ name: 'x', dims }], { size, alpha: { float: alpha }, beta: { float: 0.75 }, bias: { float: 1.5 } })));
      const got = (await session.run({ x: new Tensor('float32', x, dims) })).y.data;
      const want = reference(x, dims, size, Math.fround(alpha), 0.75, 1.5);
      for (let i = 0; i < x.length; i++) expect(Math.abs(got[i] - want[i]), `element ${i}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[i])));
    });
  }
  it('a missing size is a typed error', async () => {
    await expect(InferenceSession.create(buildModel(single('LRN', [{ name: 'x', dims: [1, 3, 4, 4] }])))).rejects.toThrow(/LRN: size 0 must be a positive integer/);
  });
});
