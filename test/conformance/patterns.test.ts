// Graph patterns real exporters emit (PyTorch, paddle2onnx, tf2onnx), end to end against
// onnxruntime-node, including a symbolic batch dimension re-planned on the same session.
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../../src/runtime/session.js';
import { buildModel, compareRun, expectSameAsOrt, f32, i64, rand, w, numel, type ModelSpec, type NodeSpec, type TensorSpec } from './harness.js';

type Init = TensorSpec & { name: string };

/** Conv (+ optional BN) nodes and their weights, named from a prefix. */
function convBn(p: string, x: string, out: string, cin: number, cout: number, k: number, attrs: NodeSpec['attrs'] = {}, bn = true): { nodes: NodeSpec[]; inits: Init[] } {
  const group = (attrs.group as number | undefined) ?? 1;
  const pad = (k - 1) >> 1;
  const nodes: NodeSpec[] = [{ op: 'Conv', inputs: [x, `${p}.w`, ...(bn ? [] : [`${p}.b`])], outputs: [bn ? `${p}.c` : out], attrs: { kernel_shape: [k, k], pads: [pad, pad, pad, pad], ...attrs } }];
  const inits: Init[] = [w(`${p}.w`, [cout, cin / group, k, k], -0.5, 0.5)];
  if (bn) {
    nodes.push({ op: 'BatchNormalization', inputs: [`${p}.c`, `${p}.s`, `${p}.bb`, `${p}.m`, `${p}.v`], outputs: [out], attrs: { epsilon: { float: 1e-5 } } });
    inits.push(w(`${p}.s`, [cout], 0.5, 1.5), w(`${p}.bb`, [cout], -0.2, 0.2), w(`${p}.m`, [cout], -0.2, 0.2), w(`${p}.v`, [cout], 0.5, 1.5));
  } else inits.push(w(`${p}.b`, [cout]));
  return { nodes, inits };
}

describe('patterns from real exports', () => {
  it("PyTorch's reshape chain x → Shape → Gather → Unsqueeze → Concat → Reshape (batch N)", async () => {
    const spec: ModelSpec = {
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'], attrs: { axis: 0 } },
        { op: 'Unsqueeze', inputs: ['n', 'ax0'], outputs: ['n1'] },
        { op: 'Concat', inputs: ['n1', 'm1'], outputs: ['shape'], attrs: { axis: 0 } },
        { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'W', 'B'], outputs: ['y'], attrs: { transB: 1 } },
      ],
      inputs: [{ name: 'x', dims: ['N', 3, 5, 7] }],
      outputs: [{ name: 'y', dims: ['N', 10] }],
      initializers: [i64('i0', [0], []), i64('ax0', [0]), i64('m1', [-1]), w('W', [10, 105]), w('B', [10])],
    };
    const bytes = buildModel(spec);
    const s = await InferenceSession.create(bytes);
    for (const n of [1, 3, 2]) await compareRun(s, bytes, { x: { data: rand(n * 105), dims: [n, 3, 5, 7] } }, { what: `batch ${n}` });
  });

  it('opset 11 variant of the chain (Unsqueeze axes attribute), folded to a Flatten', async () => {
    await expectSameAsOrt({
      opset: 11,
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'], attrs: { axis: 0 } },
        { op: 'Unsqueeze', inputs: ['n'], outputs: ['n1'], attrs: { axes: [0] } },
        { op: 'Concat', inputs: ['n1', 'm1'], outputs: ['shape'], attrs: { axis: 0 } },
        { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [2, 3, 5] }],
      outputs: ['y'],
      initializers: [i64('i0', [0], []), i64('m1', [-1])],
    });
  });

  it('residual block: Conv-BN-Relu-Conv-BN + Add + Relu', async () => {
    const a = convBn('c1', 'x', 'b1', 6, 6, 3);
    const b = convBn('c2', 'r1', 'b2', 6, 6, 3);
    await expectSameAsOrt({
      nodes: [...a.nodes, { op: 'Relu', inputs: ['b1'], outputs: ['r1'] }, ...b.nodes, { op: 'Add', inputs: ['b2', 'x'], outputs: ['s'] }, { op: 'Relu', inputs: ['s'], outputs: ['y'] }],
      inputs: [{ name: 'x', dims: [2, 6, 9, 7] }],
      outputs: ['y'],
      initializers: [...a.inits, ...b.inits],
    });
  });

  it('residual block with a strided 1x1 projection shortcut', async () => {
    const a = convBn('c1', 'x', 'b1', 4, 6, 3, { strides: [2, 2] });
    const b = convBn('c2', 'r1', 'b2', 6, 6, 3);
    const sc = convBn('sc', 'x', 'bs', 4, 6, 1, { strides: [2, 2] });
    await expectSameAsOrt({
      nodes: [...a.nodes, { op: 'Relu', inputs: ['b1'], outputs: ['r1'] }, ...b.nodes, ...sc.nodes, { op: 'Add', inputs: ['b2', 'bs'], outputs: ['s'] }, { op: 'Relu', inputs: ['s'], outputs: ['y'] }],
      inputs: [{ name: 'x', dims: [1, 4, 9, 11] }],
      outputs: ['y'],
      initializers: [...a.inits, ...b.inits, ...sc.inits],
    });
  });

  for (const opset of [11, 10]) {
    it(`depthwise-separable MobileNet block (opset ${opset} Relu6 as Clip)`, async () => {
      const dw = convBn('dw', 'x', 'b1', 5, 5, 3, { group: 5 });
      const pw = convBn('pw', 'r1', 'b2', 5, 11, 1);
      const clip = (i: string, o: string): NodeSpec => (opset >= 11 ? { op: 'Clip', inputs: [i, 'zero', 'six'], outputs: [o] } : { op: 'Clip', inputs: [i], outputs: [o], attrs: { min: { float: 0 }, max: { float: 6 } } });
      await expectSameAsOrt({
        opset,
        nodes: [...dw.nodes, clip('b1', 'r1'), ...pw.nodes, clip('b2', 'y')],
        inputs: [{ name: 'x', dims: [1, 5, 10, 9] }],
        outputs: ['y'],
        initializers: [...dw.inits, ...pw.inits, ...(opset >= 11 ? [f32('zero', [0], []), f32('six', [6], [])] : [])],
      }, { range: [-8, 8] });
    });
  }

  for (const gate of ['HardSigmoid', 'Sigmoid']) {
    it(`squeeze-and-excitation with ${gate}`, async () => {
      const C = 12;
      await expectSameAsOrt({
        nodes: [
          { op: 'GlobalAveragePool', inputs: ['x'], outputs: ['g'] },
          { op: 'Conv', inputs: ['g', 'w1', 'b1'], outputs: ['c1'] },
          { op: 'Relu', inputs: ['c1'], outputs: ['r'] },
          { op: 'Conv', inputs: ['r', 'w2', 'b2'], outputs: ['c2'] },
          { op: gate, inputs: ['c2'], outputs: ['a'], attrs: gate === 'HardSigmoid' ? { alpha: { float: 1 / 6 }, beta: { float: 0.5 } } : {} },
          { op: 'Mul', inputs: ['x', 'a'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', dims: [2, C, 7, 5] }],
        outputs: ['y'],
        initializers: [w('w1', [3, C, 1, 1]), w('b1', [3]), w('w2', [C, 3, 1, 1]), w('b2', [C])],
      });
    });
  }

  it('upsampling head: Resize x2 nearest + Concat skip + Conv', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Conv', inputs: ['x', 'wd', 'bd'], outputs: ['d'], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] } },
        { op: 'Relu', inputs: ['d'], outputs: ['dr'] },
        { op: 'Resize', inputs: ['dr', '', 'sc'], outputs: ['u'], attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' } },
        { op: 'Concat', inputs: ['u', 'x'], outputs: ['cat'], attrs: { axis: 1 } },
        { op: 'Conv', inputs: ['cat', 'wo', 'bo'], outputs: ['y'], attrs: { pads: [1, 1, 1, 1] } },
      ],
      inputs: [{ name: 'x', dims: [1, 3, 10, 6] }],
      outputs: ['y'],
      initializers: [w('wd', [5, 3, 3, 3]), w('bd', [5]), f32('sc', [1, 1, 2, 2]), w('wo', [4, 8, 3, 3]), w('bo', [4])],
    });
  });

  it("PyTorch F.interpolate(scale_factor=2) export: sizes from Shape → Slice → Cast → Mul → Cast → Concat (opset 11)", async () => {
    const spec: ModelSpec = {
      opset: 11,
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Slice', inputs: ['s', 'st2', 'en4'], outputs: ['hw'] },
        { op: 'Cast', inputs: ['hw'], outputs: ['hwf'], attrs: { to: 1 } },
        { op: 'Mul', inputs: ['hwf', 'two'], outputs: ['hw2f'] },
        { op: 'Cast', inputs: ['hw2f'], outputs: ['hw2'], attrs: { to: 7 } },
        { op: 'Slice', inputs: ['s', 'st0', 'st2'], outputs: ['nc'] },
        { op: 'Concat', inputs: ['nc', 'hw2'], outputs: ['sizes'], attrs: { axis: 0 } },
        { op: 'Resize', inputs: ['x', 'roi', 'scales', 'sizes'], outputs: ['y'], attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' } },
      ],
      inputs: [{ name: 'x', dims: ['N', 3, 'H', 'W'] }],
      outputs: ['y'],
      initializers: [i64('st0', [0]), i64('st2', [2]), i64('en4', [4]), f32('two', [2, 2]), f32('roi', [], [0]), f32('scales', [], [0])],
    };
    const bytes = buildModel(spec);
    const s = await InferenceSession.create(bytes);
    for (const [n, h, w_] of [[1, 5, 7], [2, 3, 4]]) await compareRun(s, bytes, { x: { data: rand(n * 3 * h * w_), dims: [n, 3, h, w_] } }, { what: `${n}x3x${h}x${w_}` });
  });

  it('the same session run repeatedly with different data (no state left between runs)', async () => {
    const spec: ModelSpec = {
      nodes: [
        { op: 'Pad', inputs: ['x', 'p', 'pv'], outputs: ['pd'] },
        { op: 'MaxPool', inputs: ['pd'], outputs: ['mp'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
        { op: 'Resize', inputs: ['mp', '', 'sc'], outputs: ['up'], attrs: { mode: 'linear' } },
        { op: 'Concat', inputs: ['up', 'pd'], outputs: ['cat'], attrs: { axis: 1 } },
        { op: 'Sigmoid', inputs: ['cat'], outputs: ['sg'] },
        { op: 'Mul', inputs: ['sg', 'cat'], outputs: ['sw'] },
        { op: 'ReduceMean', inputs: ['sw'], outputs: ['y'], attrs: { axes: [1] } },
      ],
      inputs: [{ name: 'x', dims: [1, 2, 6, 8] }],
      outputs: ['y', 'sw'],
      initializers: [i64('p', [0, 0, 1, 1, 0, 0, 1, 1]), f32('pv', [-0.5], []), f32('sc', [1, 1, 2, 2])],
    };
    const bytes = buildModel(spec);
    const s = await InferenceSession.create(bytes);
    for (let i = 0; i < 3; i++) await compareRun(s, bytes, { x: { data: rand(96, -3, 3), dims: [1, 2, 6, 8] } }, { what: `run ${i}` });
  });

  it('symbolic batch dimension: batch 1 then 3 then 1 on the same session', async () => {
    const cb = convBn('c', 'x', 'b', 3, 4, 3);
    const spec: ModelSpec = {
      nodes: [
        ...cb.nodes,
        { op: 'Relu', inputs: ['b'], outputs: ['r'] },
        { op: 'GlobalAveragePool', inputs: ['r'], outputs: ['g'] },
        { op: 'Flatten', inputs: ['g'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'W', 'B'], outputs: ['logits'], attrs: { transB: 1 } },
        { op: 'Softmax', inputs: ['logits'], outputs: ['y'], attrs: { axis: 1 } },
      ],
      inputs: [{ name: 'x', dims: ['N', 3, 7, 6] }],
      outputs: [{ name: 'y', dims: ['N', 5] }, { name: 'r', dims: ['N', 4, 7, 6] }],
      initializers: [...cb.inits, w('W', [5, 4]), w('B', [5])],
    };
    const bytes = buildModel(spec);
    const s = await InferenceSession.create(bytes);
    for (const n of [1, 3, 1]) await compareRun(s, bytes, { x: { data: rand(n * 126), dims: [n, 3, 7, 6] } }, { what: `batch ${n}` });
    expect(s.info().inputs[0].dims).toEqual(['N', 3, 7, 6]);
  });

  it('freeDimensionOverrides plans the declared batch', async () => {
    const spec: ModelSpec = { nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] }], inputs: [{ name: 'x', dims: ['batch', 6] }], outputs: ['y'], initializers: [w('W', [6, 3])] };
    const s = await expectSameAsOrt(spec, { dimValues: { batch: 4 }, session: { freeDimensionOverrides: { batch: 4 } } });
    expect(s.info().inputs[0].plannedDims).toEqual([4, 6]);
  });

  it('paddle2onnx style: weights as Constant nodes, no initializers', async () => {
    const cst = (name: string, dims: number[], data?: number[] | Float32Array | BigInt64Array): NodeSpec => ({ op: 'Constant', inputs: [], outputs: [name], attrs: { value: { tensor: { dims, data: data ?? rand(numel(dims), -0.5, 0.5) } } } });
    await expectSameAsOrt({
      nodes: [
        cst('cw', [6, 3, 3, 3]),
        cst('cb', [6]),
        cst('bs', [6], rand(6, 0.5, 1.5)),
        cst('bb', [6]),
        cst('bm', [6]),
        cst('bv', [6], rand(6, 0.5, 1.5)),
        cst('shape', [2], BigInt64Array.from([0n, -1n])),
        cst('fw', [6 * 5 * 4, 7]),
        cst('fb', [7]),
        { op: 'Conv', inputs: ['x', 'cw', 'cb'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1], strides: [2, 2] } },
        { op: 'BatchNormalization', inputs: ['c', 'bs', 'bb', 'bm', 'bv'], outputs: ['n'] },
        { op: 'Relu', inputs: ['n'], outputs: ['r'] },
        { op: 'Reshape', inputs: ['r', 'shape'], outputs: ['f'] },
        { op: 'MatMul', inputs: ['f', 'fw'], outputs: ['m'] },
        { op: 'Add', inputs: ['m', 'fb'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [2, 3, 9, 8] }],
      outputs: ['y'],
    });
  });

  it('an old opset 7 export: Conv-BN(spatial)-Relu-MaxPool-Flatten-Gemm-Softmax', async () => {
    const cb = convBn('c', 'x', 'b', 2, 4, 3);
    (cb.nodes[1].attrs ??= {}).spatial = 1;
    await expectSameAsOrt({
      opset: 7,
      nodes: [
        ...cb.nodes,
        { op: 'Relu', inputs: ['b'], outputs: ['r'] },
        { op: 'MaxPool', inputs: ['r'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
        { op: 'Flatten', inputs: ['p'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'W', 'B'], outputs: ['g'], attrs: { transB: 1 } },
        { op: 'Softmax', inputs: ['g'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [2, 2, 7, 6] }],
      outputs: ['y'],
      initializers: [...cb.inits, w('W', [5, 36]), w('B', [5])],
    });
  });

  it('tf2onnx style: NHWC input + Transpose to NCHW + Conv + Transpose back', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Transpose', inputs: ['x'], outputs: ['t'], attrs: { perm: [0, 3, 1, 2] } },
        { op: 'Conv', inputs: ['t', 'W', 'B'], outputs: ['c'], attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] } },
        { op: 'Relu', inputs: ['c'], outputs: ['r'] },
        { op: 'Transpose', inputs: ['r'], outputs: ['y'], attrs: { perm: [0, 2, 3, 1] } },
      ],
      inputs: [{ name: 'x', dims: [2, 9, 7, 3] }],
      outputs: ['y'],
      initializers: [w('W', [5, 3, 3, 3]), w('B', [5])],
    });
  });

  it('PyTorch MLP with LayerNorm written out (ReduceMean/Sub/Pow/Sqrt/Div) and batched MatMul', async () => {
    const D = 12;
    await expectSameAsOrt({
      nodes: [
        { op: 'MatMul', inputs: ['x', 'W1'], outputs: ['h'] },
        { op: 'Add', inputs: ['h', 'b1'], outputs: ['hb'] },
        { op: 'ReduceMean', inputs: ['hb'], outputs: ['mu'], attrs: { axes: [-1] } },
        { op: 'Sub', inputs: ['hb', 'mu'], outputs: ['d'] },
        { op: 'Pow', inputs: ['d', 'two'], outputs: ['d2'] },
        { op: 'ReduceMean', inputs: ['d2'], outputs: ['var'], attrs: { axes: [-1] } },
        { op: 'Add', inputs: ['var', 'eps'], outputs: ['ve'] },
        { op: 'Sqrt', inputs: ['ve'], outputs: ['sd'] },
        { op: 'Div', inputs: ['d', 'sd'], outputs: ['nrm'] },
        { op: 'Mul', inputs: ['nrm', 'g'], outputs: ['ng'] },
        { op: 'Add', inputs: ['ng', 'beta'], outputs: ['ln'] },
        { op: 'Relu', inputs: ['ln'], outputs: ['r'] },
        { op: 'MatMul', inputs: ['r', 'W2'], outputs: ['o'] },
        { op: 'Sigmoid', inputs: ['o'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [2, 5, 9] }],
      outputs: ['y'],
      initializers: [w('W1', [9, D]), w('b1', [D]), f32('two', [2], []), f32('eps', [1e-5], []), w('g', [D]), w('beta', [D]), w('W2', [D, 1])],
      opset: 13,
    });
  });

  it('LayerNormalization (opset 17) on the last axis', async () => {
    await expectSameAsOrt({
      opset: 17,
      nodes: [{ op: 'LayerNormalization', inputs: ['x', 'g', 'b'], outputs: ['y'], attrs: { axis: -1, epsilon: { float: 1e-5 } } }],
      inputs: [{ name: 'x', dims: [3, 4, 11] }],
      outputs: ['y'],
      initializers: [w('g', [11]), w('b', [11])],
    });
  });

  it('InstanceNormalization on 1-D, 2-D and 3-D maps, default and custom epsilon', async () => {
    for (const [dims, attrs] of [[[2, 3, 17], {}], [[1, 4, 6, 7], { epsilon: { float: 1e-3 } }], [[2, 2, 3, 4, 5], {}]] as const) {
      const C = dims[1];
      await expectSameAsOrt({
        nodes: [{ op: 'InstanceNormalization', inputs: ['x', 's', 'b'], outputs: ['y'], attrs }],
        inputs: [{ name: 'x', dims: [...dims] }],
        outputs: ['y'],
        initializers: [w('s', [C]), w('b', [C])],
      });
    }
  });

  it("GroupNorm as torch exports it: Reshape to groups, InstanceNormalization of ones and zeros, Reshape back, per-channel Mul and Add", async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Reshape', inputs: ['x', 'grouped'], outputs: ['r'] },
        { op: 'InstanceNormalization', inputs: ['r', 'ones', 'zeros'], outputs: ['n'], attrs: { epsilon: { float: 1e-5 } } },
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Reshape', inputs: ['n', 's'], outputs: ['u'] },
        { op: 'Mul', inputs: ['u', 'gamma'], outputs: ['m'] },
        { op: 'Add', inputs: ['m', 'beta'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [2, 6, 5, 4] }],
      outputs: ['y'],
      initializers: [i64('grouped', [2, 3, -1]), f32('ones', [1, 1, 1]), f32('zeros', [0, 0, 0]), w('gamma', [6, 1, 1]), w('beta', [6, 1, 1])],
    }, { range: [-2, 6] });
  });

  it('LayerNormalization (opset 17) over the last two axes (axis 1 and -2), without bias', async () => {
    for (const axis of [1, -2]) {
      await expectSameAsOrt({
        opset: 17,
        nodes: [{ op: 'LayerNormalization', inputs: ['x', 'g'], outputs: ['y'], attrs: { axis } }],
        inputs: [{ name: 'x', dims: [3, 4, 5] }],
        outputs: ['y'],
        initializers: [w('g', [4, 5])],
      });
    }
  });
});
