// Conv, ConvTranspose, BatchNormalization, Gemm, MatMul (and the activations fused into them)
// against onnxruntime-node, with awkward channel and spatial sizes.
import { describe, expect, it } from 'vitest';
import { expectSameAsOrt, f32, w, type Attr, type ModelSpec } from './harness.js';

function conv(x: number[], wDims: number[], attrs: Record<string, Attr>, opts: { bias?: boolean; op?: string; after?: { op: string; attrs?: Record<string, Attr>; inputs?: string[] }; opset?: number; extra?: ModelSpec['initializers'] } = {}): ModelSpec {
  const op = opts.op ?? 'Conv';
  const biasLen = op === 'Conv' ? wDims[0] : wDims[1] * ((attrs.group as number | undefined) ?? 1);
  const initializers = [w('W', wDims), ...(opts.bias === false ? [] : [w('B', [biasLen])]), ...(opts.extra ?? [])];
  const nodes: ModelSpec['nodes'] = [{ op, inputs: ['x', 'W', ...(opts.bias === false ? [] : ['B'])], outputs: [opts.after ? 'c' : 'y'], attrs }];
  if (opts.after) nodes.push({ op: opts.after.op, inputs: ['c', ...(opts.after.inputs ?? [])], outputs: ['y'], attrs: opts.after.attrs });
  return { opset: opts.opset, nodes, inputs: [{ name: 'x', dims: x }], outputs: ['y'], initializers };
}

describe('Conv', () => {
  const cases: [string, number[], number[], Record<string, Attr>][] = [
    ['3x3 pad 1', [1, 3, 9, 11], [5, 3, 3, 3], { pads: [1, 1, 1, 1] }],
    ['3x3 no pad, no kernel_shape attr', [2, 3, 7, 6], [6, 3, 3, 3], {}],
    ['1x1 pointwise', [1, 13, 5, 7], [11, 13, 1, 1], {}],
    ['stride 2 asymmetric pads', [1, 4, 10, 9], [7, 4, 3, 3], { strides: [2, 2], pads: [0, 1, 2, 1] }],
    ['stride (2,1)', [1, 3, 9, 9], [4, 3, 3, 3], { strides: [2, 1], pads: [1, 1, 1, 1] }],
    ['dilation 2', [1, 3, 11, 10], [5, 3, 3, 3], { dilations: [2, 2], pads: [2, 2, 2, 2] }],
    ['5x5 kernel', [1, 2, 12, 9], [3, 2, 5, 5], { pads: [2, 2, 2, 2] }],
    ['groups 2', [1, 6, 7, 7], [10, 3, 3, 3], { group: 2, pads: [1, 1, 1, 1] }],
    ['groups 3, rectangular kernel', [1, 9, 8, 7], [6, 3, 1, 3], { group: 3, pads: [0, 1, 0, 1] }],
    ['depthwise 3x3', [1, 7, 9, 10], [7, 1, 3, 3], { group: 7, pads: [1, 1, 1, 1] }],
    ['depthwise 3x3 stride 2', [2, 5, 11, 9], [5, 1, 3, 3], { group: 5, strides: [2, 2], pads: [1, 1, 1, 1] }],
    ['depthwise multiplier 2', [1, 3, 8, 8], [6, 1, 3, 3], { group: 3, pads: [1, 1, 1, 1] }],
    ['depthwise 5x5 dilation 2', [1, 4, 12, 12], [4, 1, 5, 5], { group: 4, dilations: [2, 2], pads: [4, 4, 4, 4] }],
    ['auto_pad SAME_UPPER stride 2', [1, 3, 10, 9], [4, 3, 3, 3], { auto_pad: 'SAME_UPPER', strides: [2, 2] }],
    ['auto_pad SAME_UPPER even kernel', [1, 3, 7, 8], [4, 3, 2, 4], { auto_pad: 'SAME_UPPER' }],
    ['auto_pad SAME_LOWER stride 2', [1, 3, 10, 9], [4, 3, 3, 3], { auto_pad: 'SAME_LOWER', strides: [2, 2] }],
    ['auto_pad VALID', [1, 3, 10, 9], [4, 3, 3, 3], { auto_pad: 'VALID', strides: [2, 2] }],
    ['1-D conv', [2, 3, 17], [5, 3, 3], { pads: [1, 1] }],
    ['1-D conv stride 2 dilation 2', [1, 4, 19], [6, 4, 3], { strides: [2], dilations: [2], pads: [2, 1] }],
    ['1-D depthwise', [1, 6, 15], [6, 1, 5], { group: 6, pads: [2, 2] }],
    ['1-D SAME_UPPER', [1, 3, 10], [2, 3, 4], { auto_pad: 'SAME_UPPER', strides: [3] }],
    ['wide input channels (K > 64)', [1, 40, 6, 5], [9, 40, 3, 3], { pads: [1, 1, 1, 1] }],
    // the Winograd F(2,3) path: 3x3, stride 1, no dilation, >= 16 channels in and out per group
    ['winograd 16→16 pad 1, odd H and W', [1, 16, 9, 11], [16, 16, 3, 3], { pads: [1, 1, 1, 1] }],
    ['winograd 17→20 no pad', [1, 17, 7, 10], [20, 17, 3, 3], {}],
    ['winograd asymmetric pads, batch 2', [2, 16, 6, 5], [18, 16, 3, 3], { pads: [0, 2, 1, 0] }],
    ['winograd groups 2 (16 per group)', [1, 32, 5, 7], [34, 16, 3, 3], { group: 2, pads: [1, 1, 1, 1] }],
    ['winograd one row, one column', [1, 16, 1, 1], [16, 16, 3, 3], { pads: [1, 1, 1, 1] }],
    ['winograd SAME_UPPER', [1, 16, 8, 6], [16, 16, 3, 3], { auto_pad: 'SAME_UPPER' }],
    ['direct path stride (1,1) 5x1 kernel', [1, 3, 6, 12], [5, 3, 5, 1], { pads: [2, 0, 2, 0] }],
    ['direct path stride (3,1) with dilation (1,2)', [1, 4, 10, 14], [3, 4, 3, 3], { strides: [3, 1], dilations: [1, 2], pads: [1, 2, 1, 2] }],
  ];
  for (const [name, x, wd, attrs] of cases) {
    it(name, async () => {
      await expectSameAsOrt(conv(x, wd, attrs));
    });
  }
  it('without bias', async () => {
    await expectSameAsOrt(conv([1, 3, 6, 7], [5, 3, 3, 3], { pads: [1, 1, 1, 1] }, { bias: false }));
  });
  it('batch 3 depthwise without bias', async () => {
    await expectSameAsOrt(conv([3, 4, 5, 6], [4, 1, 3, 3], { group: 4 }, { bias: false }));
  });
});

describe('activations fused after Conv / Gemm / MatMul', () => {
  it('Conv + Relu', async () => {
    await expectSameAsOrt(conv([1, 3, 7, 9], [5, 3, 3, 3], { pads: [1, 1, 1, 1] }, { after: { op: 'Relu' } }));
  });
  it('Conv + LeakyRelu(0.2)', async () => {
    await expectSameAsOrt(conv([1, 3, 7, 9], [5, 3, 3, 3], {}, { after: { op: 'LeakyRelu', attrs: { alpha: { float: 0.2 } } } }));
  });
  it('Conv + Clip(0,6) opset 11 inputs', async () => {
    const s = await expectSameAsOrt(conv([1, 3, 7, 9], [5, 3, 3, 3], {}, { opset: 11, after: { op: 'Clip', inputs: ['lo', 'hi'] }, extra: [f32('lo', [0], []), f32('hi', [0.5], [])] }), { range: [-3, 3] });
    expect(s.info().nodes.find((n) => n.op === 'Clip')?.kernel).toBe('fused');
  });
  it('Conv + Clip(-0.2, 0.3) Clip-6 attributes (opset 10)', async () => {
    await expectSameAsOrt(conv([1, 3, 7, 9], [5, 3, 3, 3], {}, { opset: 10, after: { op: 'Clip', attrs: { min: { float: -0.2 }, max: { float: 0.3 } } } }));
  });
  it('depthwise Conv + Clip(0, 6) opset 13 (only max)', async () => {
    await expectSameAsOrt(conv([1, 5, 7, 9], [5, 1, 3, 3], { group: 5, pads: [1, 1, 1, 1] }, { after: { op: 'Clip', inputs: ['', 'hi'] }, extra: [f32('hi', [0.4], [])] }), { range: [-3, 3] });
  });
  it('winograd Conv + Relu and + Clip', async () => {
    await expectSameAsOrt(conv([1, 16, 7, 9], [16, 16, 3, 3], { pads: [1, 1, 1, 1] }, { after: { op: 'Relu' } }));
    await expectSameAsOrt(conv([1, 16, 7, 9], [16, 16, 3, 3], { pads: [1, 1, 1, 1] }, { after: { op: 'Clip', inputs: ['lo', 'hi'] }, extra: [f32('lo', [-0.5], []), f32('hi', [0.5], [])] }));
  });
  it('ConvTranspose + Relu', async () => {
    await expectSameAsOrt(conv([1, 3, 4, 5], [3, 4, 3, 3], { strides: [2, 2] }, { op: 'ConvTranspose', after: { op: 'Relu' } }));
  });
  it('Gemm + Relu, MatMul + LeakyRelu', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Gemm', inputs: ['x', 'W', 'B'], outputs: ['g'], attrs: { transB: 1 } },
        { op: 'Relu', inputs: ['g'], outputs: ['r'] },
        { op: 'MatMul', inputs: ['r', 'W2'], outputs: ['m'] },
        { op: 'LeakyRelu', inputs: ['m'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [3, 10] }],
      outputs: ['y'],
      initializers: [w('W', [13, 10]), w('B', [13]), w('W2', [13, 5])],
    });
  });
  it('Conv + Relu where the conv output is also a graph output (no fusion allowed)', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Conv', inputs: ['x', 'W'], outputs: ['c'] },
        { op: 'Relu', inputs: ['c'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [1, 2, 5, 5] }],
      outputs: ['c', 'y'],
      initializers: [w('W', [3, 2, 3, 3])],
    });
  });
  it('Conv read by Relu and by Add (no fusion allowed)', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Conv', inputs: ['x', 'W'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Relu', inputs: ['c'], outputs: ['r'] },
        { op: 'Add', inputs: ['r', 'c'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [1, 2, 5, 5] }],
      outputs: ['y'],
      initializers: [w('W', [3, 2, 3, 3])],
    });
  });
});

describe('ConvTranspose', () => {
  const cases: [string, number[], number[], Record<string, Attr>][] = [
    ['3x3 stride 1', [1, 3, 5, 6], [3, 4, 3, 3], {}],
    ['stride 2 pads 1', [1, 4, 5, 7], [4, 3, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1] }],
    ['stride 2 output_padding 1', [1, 4, 5, 7], [4, 3, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }],
    ['stride 2 kernel 2 (upsampling)', [2, 5, 4, 3], [5, 2, 2, 2], { strides: [2, 2] }],
    ['output_shape (odd total padding)', [1, 3, 5, 5], [3, 2, 3, 3], { strides: [2, 2], output_shape: [10, 10] }],
    ['output_shape (even total padding, 1-x-odd)', [1, 3, 5, 4], [3, 2, 3, 3], { strides: [2, 2], output_shape: [9, 8] }],
    ['output_shape with output_padding', [1, 2, 4, 4], [2, 3, 3, 3], { strides: [2, 2], output_shape: [8, 9], output_padding: [1, 1] }],
    ['groups 2', [1, 4, 5, 6], [4, 3, 3, 3], { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] }],
    ['depthwise (group = C)', [1, 3, 4, 5], [3, 1, 3, 3], { group: 3, strides: [2, 2] }],
    ['dilation 2', [1, 2, 5, 5], [2, 3, 3, 3], { dilations: [2, 2] }],
    ['asymmetric pads', [1, 2, 5, 6], [2, 3, 3, 3], { strides: [2, 2], pads: [0, 1, 1, 2] }],
    ['1-D stride 2', [1, 3, 9], [3, 5, 4], { strides: [2], pads: [1, 1] }],
    ['1-D output_shape', [1, 3, 9], [3, 2, 3], { strides: [2], output_shape: [18] }],
    ['1-D output_padding', [2, 3, 5], [3, 2, 3], { strides: [3], output_padding: [2] }],
    ['auto_pad SAME_UPPER', [1, 3, 5, 5], [3, 2, 3, 3], { strides: [2, 2], auto_pad: 'SAME_UPPER' }],
    ['auto_pad SAME_LOWER', [1, 3, 5, 5], [3, 2, 3, 3], { strides: [2, 2], auto_pad: 'SAME_LOWER' }],
  ];
  for (const [name, x, wd, attrs] of cases) {
    it(name, async () => {
      await expectSameAsOrt(conv(x, wd, attrs, { op: 'ConvTranspose' }));
    });
  }
  it('without bias', async () => {
    await expectSameAsOrt(conv([1, 3, 5, 6], [3, 4, 3, 3], { strides: [2, 2] }, { op: 'ConvTranspose', bias: false }));
  });
  // upsampling without overlap runs its own one-pass kernel (col2im_up2): with a BatchNormalization
  // folded in and a Relu fused, 1-D, kernel 3x2 at stride 3x2, and groups
  it('upsampling kernel 2 stride 2, BatchNormalization and Relu after', async () => {
    const spec = conv([1, 6, 5, 7], [6, 4, 2, 2], { strides: [2, 2] }, {
      op: 'ConvTranspose', after: { op: 'BatchNormalization', inputs: ['s', 'b', 'm', 'v'] },
      extra: [w('s', [4], 0.5, 1.5), w('b', [4]), w('m', [4]), w('v', [4], 0.5, 2)],
    });
    spec.nodes[1].outputs = ['n'];
    spec.nodes.push({ op: 'Relu', inputs: ['n'], outputs: ['y'] });
    const s = await expectSameAsOrt(spec);
    expect(s.info().nodes.map((n) => n.kernel)).toEqual(['conv-transpose:gemm+col2im+bn', 'fused', 'fused']);
  });
  it.each([
    ['1-D upsampling kernel 2 stride 2', [2, 3, 9], [3, 5, 2], { strides: [2] }],
    ['kernel 3x2 stride 3x2', [1, 4, 3, 6], [4, 3, 3, 2], { strides: [3, 2] }],
    ['upsampling groups 2', [1, 6, 4, 5], [6, 2, 2, 2], { group: 2, strides: [2, 2] }],
  ] as [string, number[], number[], Record<string, Attr>][])('%s', async (_, x, wd, attrs) => {
    await expectSameAsOrt(conv(x, wd, attrs, { op: 'ConvTranspose' }));
  });
});

describe('BatchNormalization', () => {
  const bn = (C: number) => [w('s', [C], 0.5, 1.5), w('b', [C]), w('m', [C]), w('v', [C], 0.2, 2)];
  it('alone on NCHW (not after a conv)', async () => {
    const s = await expectSameAsOrt({
      nodes: [{ op: 'BatchNormalization', inputs: ['x', 's', 'b', 'm', 'v'], outputs: ['y'], attrs: { epsilon: { float: 1e-3 } } }],
      inputs: [{ name: 'x', dims: [2, 5, 3, 7] }],
      outputs: ['y'],
      initializers: bn(5),
    });
    expect(s.info().nodes.map((n) => n.kernel)).toEqual(['batchnorm']);
  });
  it('alone on [N, C] (after a Gemm-free input) and on [N, C, L]', async () => {
    for (const dims of [[3, 7], [2, 7, 9]]) {
      await expectSameAsOrt({
        nodes: [{ op: 'BatchNormalization', inputs: ['x', 's', 'b', 'm', 'v'], outputs: ['y'] }],
        inputs: [{ name: 'x', dims }],
        outputs: ['y'],
        initializers: bn(7),
      });
    }
  });
  it('opset 9 (spatial attribute era) alone', async () => {
    await expectSameAsOrt({
      opset: 9,
      nodes: [{ op: 'BatchNormalization', inputs: ['x', 's', 'b', 'm', 'v'], outputs: ['y'] }],
      inputs: [{ name: 'x', dims: [1, 6, 5, 5] }],
      outputs: ['y'],
      initializers: bn(6),
    });
  });
  it('after a conv (folded), with and without conv bias, then Relu', async () => {
    for (const withBias of [true, false]) {
      const s = await expectSameAsOrt({
        nodes: [
          { op: 'Conv', inputs: withBias ? ['x', 'W', 'B'] : ['x', 'W'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
          { op: 'BatchNormalization', inputs: ['c', 's', 'b', 'm', 'v'], outputs: ['n'], attrs: { epsilon: { float: 1e-3 } } },
          { op: 'Relu', inputs: ['n'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', dims: [1, 3, 7, 6] }],
        outputs: ['y'],
        initializers: [w('W', [5, 3, 3, 3]), w('B', [5]), ...bn(5)],
      });
      // the path under test: BN folded into the conv, Relu fused into it
      // folded at plan time: the BN node stays in the graph (pruning needs it) but runs nothing
      expect(s.info().nodes.find((n) => n.op === 'BatchNormalization')?.kernel).toBe('fused');
      expect(s.info().nodes.find((n) => n.op === 'Conv')?.kernel).toMatch(/\+bn$/);
      expect(s.info().nodes.find((n) => n.op === 'Relu')?.kernel).toBe('fused');
    }
  });
  it('after a depthwise conv (folded)', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Conv', inputs: ['x', 'W'], outputs: ['c'], attrs: { group: 5, pads: [1, 1, 1, 1] } },
        { op: 'BatchNormalization', inputs: ['c', 's', 'b', 'm', 'v'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [1, 5, 6, 7] }],
      outputs: ['y'],
      initializers: [w('W', [5, 1, 3, 3]), ...bn(5)],
    });
  });
  it('after a grouped ConvTranspose', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'ConvTranspose', inputs: ['x', 'W', 'B'], outputs: ['c'], attrs: { group: 2, strides: [2, 2] } },
        { op: 'BatchNormalization', inputs: ['c', 's', 'b', 'm', 'v'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [1, 4, 3, 5] }],
      outputs: ['y'],
      initializers: [w('W', [4, 3, 3, 3]), w('B', [6]), ...bn(6)],
    });
  });
  it('two convs sharing one weight tensor, only one followed by BN', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['c1'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'BatchNormalization', inputs: ['c1', 's', 'b', 'm', 'v'], outputs: ['n1'] },
        { op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['c2'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Sub', inputs: ['n1', 'c2'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [1, 3, 5, 6] }],
      outputs: ['y'],
      initializers: [w('W', [4, 3, 3, 3]), w('B', [4]), ...bn(4)],
    });
  });
  it('conv output that is also a graph output, then BN', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Conv', inputs: ['x', 'W'], outputs: ['c'] },
        { op: 'BatchNormalization', inputs: ['c', 's', 'b', 'm', 'v'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [1, 3, 6, 6] }],
      outputs: ['c', 'y'],
      initializers: [w('W', [4, 3, 3, 3]), ...bn(4)],
    });
  });
  it('BN whose scale/mean are shared with another BN', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Conv', inputs: ['x', 'W1'], outputs: ['c1'] },
        { op: 'BatchNormalization', inputs: ['c1', 's', 'b', 'm', 'v'], outputs: ['n1'] },
        { op: 'Conv', inputs: ['x', 'W2'], outputs: ['c2'] },
        { op: 'BatchNormalization', inputs: ['c2', 's', 'b', 'm', 'v'], outputs: ['n2'] },
        { op: 'Add', inputs: ['n1', 'n2'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [1, 3, 6, 6] }],
      outputs: ['y'],
      initializers: [w('W1', [4, 3, 3, 3]), w('W2', [4, 3, 3, 3]), ...bn(4)],
    });
  });
  it('after a conv whose output is also read elsewhere (must not fold wrongly)', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Conv', inputs: ['x', 'W'], outputs: ['c'] },
        { op: 'BatchNormalization', inputs: ['c', 's', 'b', 'm', 'v'], outputs: ['n'] },
        { op: 'Add', inputs: ['n', 'c'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [1, 3, 6, 6] }],
      outputs: ['y'],
      initializers: [w('W', [4, 3, 3, 3]), ...bn(4)],
    });
  });
});

describe('Gemm', () => {
  const gemm = (a: number[], b: number[], attrs: Record<string, Attr>, c?: number[]): ModelSpec => ({
    nodes: [{ op: 'Gemm', inputs: c ? ['a', 'B', 'C'] : ['a', 'B'], outputs: ['y'], attrs }],
    inputs: [{ name: 'a', dims: a }],
    outputs: ['y'],
    initializers: [w('B', b), ...(c ? [w('C', c)] : [])],
  });
  const cases: [string, number[], number[], Record<string, Attr>, number[]?][] = [
    ['plain, C [N]', [3, 10], [10, 7], {}, [7]],
    ['transB, C [N]', [3, 10], [7, 10], { transB: 1 }, [7]],
    ['transA', [10, 3], [10, 7], { transA: 1 }, [7]],
    ['transA transB', [10, 3], [7, 10], { transA: 1, transB: 1 }, [7]],
    ['alpha 0.5 beta 2', [3, 10], [10, 7], { alpha: { float: 0.5 }, beta: { float: 2 } }, [7]],
    ['C scalar []', [3, 10], [10, 7], {}, []],
    ['C [1]', [3, 10], [10, 7], {}, [1]],
    ['C [M, N]', [3, 10], [10, 7], { beta: { float: 0.5 } }, [3, 7]],
    ['C [M, 1]', [3, 10], [10, 7], {}, [3, 1]],
    ['C [1, N]', [3, 10], [10, 7], {}, [1, 7]],
    ['no C', [5, 9], [11, 9], { transB: 1 }],
    ['beta 0 ignores C', [3, 10], [10, 7], { beta: { float: 0 } }, [7]],
    ['M = 1, K = 1', [1, 1], [1, 9], {}, [9]],
    ['large-ish odd', [17, 33], [33, 19], { transB: 0 }, [19]],
  ];
  for (const [name, a, b, attrs, c] of cases) {
    it(name, async () => {
      await expectSameAsOrt(gemm(a, b, attrs, c));
    });
  }
  it('transB with C [M, N] and a fused Relu', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Gemm', inputs: ['a', 'B', 'C'], outputs: ['g'], attrs: { transB: 1, alpha: { float: 1.5 } } },
        { op: 'Relu', inputs: ['g'], outputs: ['y'] },
      ],
      inputs: [{ name: 'a', dims: [4, 6] }],
      outputs: ['y'],
      initializers: [w('B', [5, 6]), w('C', [4, 5])],
    });
  });
});

describe('MatMul', () => {
  const cases: [string, number[], number[]][] = [
    ['2-D', [5, 9], [9, 7]],
    ['3-D A, 2-D B', [2, 5, 9], [9, 7]],
    ['batched 3-D', [3, 4, 6], [3, 6, 5]],
    ['batched broadcast [2,1,4,6] x [3,6,5]', [2, 1, 4, 6], [3, 6, 5]],
    ['batched broadcast [4,6] x [2,6,5]', [4, 6], [2, 6, 5]],
    ['1-D A', [6], [6, 5]],
    ['1-D B', [3, 4, 6], [6]],
    ['1-D x 1-D', [7], [7]],
    ['N = 1', [5, 9], [9, 1]],
  ];
  for (const [name, a, b] of cases) {
    it(`${name}, constant B`, async () => {
      await expectSameAsOrt({ nodes: [{ op: 'MatMul', inputs: ['a', 'B'], outputs: ['y'] }], inputs: [{ name: 'a', dims: a }], outputs: ['y'], initializers: [w('B', b)] });
    });
    it(`${name}, runtime B`, async () => {
      await expectSameAsOrt({ nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }], inputs: [{ name: 'a', dims: a }, { name: 'b', dims: b }], outputs: ['y'] });
    });
  }
  it('constant A, runtime B', async () => {
    await expectSameAsOrt({ nodes: [{ op: 'MatMul', inputs: ['A', 'b'], outputs: ['y'] }], inputs: [{ name: 'b', dims: [2, 6, 5] }], outputs: ['y'], initializers: [w('A', [3, 6])] });
  });
});
