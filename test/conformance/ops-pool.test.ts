// Pooling, reductions and Resize / Upsample against onnxruntime-node.
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { buildModel, expectSameAsOrt, f32, i64, rand, single, type Attr, type ModelSpec } from './harness.js';

describe('MaxPool and AveragePool', () => {
  const cases: [string, number[], Record<string, Attr>][] = [
    ['2x2 stride 2 on odd size', [1, 3, 9, 7], { kernel_shape: [2, 2], strides: [2, 2] }],
    ['3x3 stride 2 pad 1', [2, 5, 11, 10], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
    ['3x3 stride 1 no pad', [1, 3, 7, 6], { kernel_shape: [3, 3] }],
    ['ceil_mode 1', [1, 3, 10, 7], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }],
    ['ceil_mode 1 with pads', [1, 2, 9, 8], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }],
    ['asymmetric pads', [1, 2, 7, 7], { kernel_shape: [3, 2], pads: [0, 1, 2, 0] }],
    ['SAME_UPPER', [1, 2, 9, 7], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' }],
    ['SAME_LOWER', [1, 2, 9, 7], { kernel_shape: [2, 2], strides: [2, 2], auto_pad: 'SAME_LOWER' }],
    ['1-D', [2, 3, 17], { kernel_shape: [3], strides: [2], pads: [1, 1] }],
    ['rect kernel 1x3 stride (1,2)', [1, 3, 5, 11], { kernel_shape: [1, 3], strides: [1, 2] }],
  ];
  for (const op of ['MaxPool', 'AveragePool']) {
    for (const [name, x, attrs] of cases) {
      it(`${op} ${name}`, async () => {
        await expectSameAsOrt(single(op, [{ name: 'x', dims: x }], attrs), { range: [-3, 3] });
      });
    }
  }
  it('ceil_mode where the last window would start in the right padding', async () => {
    for (const op of ['MaxPool', 'AveragePool']) {
      await expectSameAsOrt(single(op, [{ name: 'x', dims: [1, 2, 5, 5] }], { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }));
      await expectSameAsOrt(single(op, [{ name: 'x', dims: [1, 2, 6, 7] }], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }));
    }
    await expectSameAsOrt(single('AveragePool', [{ name: 'x', dims: [1, 2, 7, 5] }], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1, count_include_pad: 1 }));
    await expectSameAsOrt(single('AveragePool', [{ name: 'x', dims: [1, 2, 5, 5] }], { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1, count_include_pad: 1 }));
  });
  it('kernel larger than the input (padded), and stride larger than the kernel', async () => {
    for (const op of ['MaxPool', 'AveragePool']) {
      await expectSameAsOrt(single(op, [{ name: 'x', dims: [1, 2, 2, 2] }], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }));
      await expectSameAsOrt(single(op, [{ name: 'x', dims: [1, 2, 9, 10] }], { kernel_shape: [2, 2], strides: [3, 4] }));
    }
  });
  it('MaxPool with dilations', async () => {
    await expectSameAsOrt(single('MaxPool', [{ name: 'x', dims: [1, 2, 11, 9] }], { kernel_shape: [3, 3], dilations: [2, 2], pads: [1, 1, 1, 1] }));
  });
  it('AveragePool count_include_pad 1 (pads and ceil_mode)', async () => {
    await expectSameAsOrt(single('AveragePool', [{ name: 'x', dims: [1, 3, 7, 6] }], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 }));
    await expectSameAsOrt(single('AveragePool', [{ name: 'x', dims: [1, 3, 8, 8] }], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1, ceil_mode: 1 }));
    await expectSameAsOrt(single('AveragePool', [{ name: 'x', dims: [1, 3, 7, 7] }], { kernel_shape: [3, 3], pads: [0, 1, 2, 1], count_include_pad: 1 }));
  });
  it('AveragePool count_include_pad 0 with ceil_mode window overhanging the edge', async () => {
    await expectSameAsOrt(single('AveragePool', [{ name: 'x', dims: [1, 2, 6, 6] }], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }));
  });
  it('MaxPool opset 8 and AveragePool opset 9 (older schemas)', async () => {
    await expectSameAsOrt(single('MaxPool', [{ name: 'x', dims: [1, 2, 7, 7] }], { kernel_shape: [2, 2], strides: [2, 2] }, { opset: 8 }));
    await expectSameAsOrt(single('AveragePool', [{ name: 'x', dims: [1, 2, 7, 7] }], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { opset: 9 }));
  });
});

describe('global pools', () => {
  for (const op of ['GlobalAveragePool', 'GlobalMaxPool']) {
    for (const dims of [[2, 5, 7, 3], [1, 13, 1, 1], [2, 3, 11]]) {
      it(`${op} ${JSON.stringify(dims)}`, async () => {
        await expectSameAsOrt(single(op, [{ name: 'x', dims }]), { range: [-3, 3] });
      });
    }
  }
});

describe('ReduceMean / ReduceSum / ReduceMax / ReduceMin / ReduceSumSquare / ReduceL2 / ReduceL1', () => {
  const cases: [string, number[], Record<string, Attr>][] = [
    ['last axis keepdims 1', [2, 3, 5], { axes: [-1] }],
    ['last axis keepdims 0', [2, 3, 5], { axes: [2], keepdims: 0 }],
    ['axes [1,2] keepdims 1', [2, 3, 5, 7], { axes: [1, 2] }],
    ['axes [0,3] keepdims 0', [2, 3, 5, 7], { axes: [0, 3], keepdims: 0 }],
    ['spatial [2,3] (GAP style)', [2, 3, 5, 7], { axes: [2, 3], keepdims: 1 }],
    ['all axes (no attr) keepdims 1', [3, 5, 7], {}],
    ['all axes (no attr) keepdims 0', [3, 5, 7], { keepdims: 0 }],
    ['axis 0', [4, 9], { axes: [0] }],
  ];
  for (const op of ['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceSumSquare', 'ReduceL2', 'ReduceL1']) {
    for (const [name, x, attrs] of cases) {
      it(`${op} ${name} (opset 11 attributes)`, async () => {
        await expectSameAsOrt(single(op, [{ name: 'x', dims: x }], attrs, { opset: 11 }), { range: [-3, 3] });
      });
    }
  }
  for (const op of ['ReduceMean', 'ReduceMax']) {
    it(`${op} opset 13 axes attribute`, async () => {
      await expectSameAsOrt(single(op, [{ name: 'x', dims: [2, 3, 5] }], { axes: [1], keepdims: 0 }, { opset: 13 }));
    });
  }
  const sumCases: [string, number[], number[] | undefined, Record<string, Attr>][] = [
    ['axes input [1]', [2, 3, 5], [1], {}],
    ['axes input [-1,0] keepdims 0', [2, 3, 5], [-1, 0], { keepdims: 0 }],
    ['no axes input: all', [2, 3, 5], undefined, { keepdims: 0 }],
    ['empty axes + noop_with_empty_axes', [2, 3, 5], [], { noop_with_empty_axes: 1 }],
    ['empty axes without noop: all', [2, 3, 5], [], {}],
  ];
  for (const [name, x, axes, attrs] of sumCases) {
    it(`ReduceSum opset 13 ${name}`, async () => {
      await expectSameAsOrt(single('ReduceSum', [{ name: 'x', dims: x }], attrs, { opset: 13, extraInputs: axes ? ['axes'] : [], initializers: axes ? [i64('axes', axes)] : [] }));
    });
  }
  for (const op of ['ReduceMean', 'ReduceMin', 'ReduceL2', 'ReduceSumSquare']) {
    it(`${op} opset 18 axes input`, async () => {
      await expectSameAsOrt(single(op, [{ name: 'x', dims: [2, 3, 5] }], {}, { opset: 18, extraInputs: ['axes'], initializers: [i64('axes', [2])] }));
    });
  }
  it('F.normalize as torch exports it: ReduceL2, Clip, Expand, Div (opset 13)', async () => {
    await expectSameAsOrt({
      opset: 13,
      nodes: [
        { op: 'ReduceL2', inputs: ['x'], outputs: ['n'], attrs: { axes: [1], keepdims: 1 } },
        { op: 'Clip', inputs: ['n', 'eps'], outputs: ['c'] },
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Expand', inputs: ['c', 's'], outputs: ['e'] },
        { op: 'Div', inputs: ['x', 'e'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [3, 10] }],
      outputs: ['y'],
      initializers: [f32('eps', [1e-12], [])],
    });
  });
});

describe('ArgMax / ArgMin (indices come back as float32: same values as onnxruntime\'s int64)', () => {
  for (const op of ['ArgMax', 'ArgMin']) {
    for (const attrs of [{}, { axis: 1, keepdims: 0 }, { axis: -1, select_last_index: 1 }, { axis: 2, keepdims: 1, select_last_index: 0 }] as Record<string, Attr>[]) {
      it(`${op} ${JSON.stringify(attrs)}, a segmentation-style map with ties`, async () => {
        await expectSameAsOrt({
          opset: 13,
          nodes: [
            { op: 'Floor', inputs: ['x'], outputs: ['f'] }, // few distinct values: ties
            { op, inputs: ['f'], outputs: ['i'], attrs },
            { op: 'Cast', inputs: ['i'], outputs: ['y'], attrs: { to: 1 } },
          ],
          inputs: [{ name: 'x', dims: [2, 5, 3, 7] }],
          outputs: ['y'],
        }, { range: [0, 3] });
      });
    }
  }
  it("as the graph's output: a float32 tensor holding onnxruntime's int64 values", async () => {
    const bytes = buildModel({ opset: 13, nodes: [{ op: 'ArgMax', inputs: ['x'], outputs: ['y'], attrs: { axis: 1, keepdims: 0 } }], inputs: [{ name: 'x', dims: [2, 6, 4] }], outputs: [{ name: 'y', dims: [2, 4], type: 'int64' }] });
    const x = rand(48);
    const want = (await (await ort.InferenceSession.create(bytes)).run({ x: new ort.Tensor('float32', x, [2, 6, 4]) })).y;
    const got = (await (await InferenceSession.create(bytes)).run({ x: new Tensor('float32', x, [2, 6, 4]) })).y;
    expect(got.type).toBe('float32');
    expect([...got.dims]).toEqual([2, 4]);
    expect(Array.from(got.data)).toEqual(Array.from(want.data as BigInt64Array, Number));
  });
});

describe('3-D MaxPool and AveragePool (two 2-D passes: H and W, then D)', () => {
  const cases: [string, number[], Record<string, Attr>][] = [
    ['2x2x2 stride 2', [1, 3, 6, 8, 7], { kernel_shape: [2, 2, 2], strides: [2, 2, 2] }],
    ['3x3x3 pad 1 stride (1, 2, 2)', [2, 2, 5, 7, 6], { kernel_shape: [3, 3, 3], strides: [1, 2, 2], pads: [1, 1, 1, 1, 1, 1] }],
    ['asymmetric pads, ceil_mode', [1, 2, 7, 6, 9], { kernel_shape: [3, 2, 3], strides: [2, 2, 2], pads: [0, 1, 1, 2, 0, 1], ceil_mode: 1 }],
    ['SAME_UPPER', [1, 2, 5, 6, 7], { kernel_shape: [2, 3, 3], strides: [2, 2, 2], auto_pad: 'SAME_UPPER' }],
    ["PyTorch's LocalResponseNorm: a (5, 1, 1) window over channels as depth", [2, 1, 7, 4, 5], { kernel_shape: [5, 1, 1], pads: [2, 0, 0, 2, 0, 0] }],
  ];
  for (const op of ['MaxPool', 'AveragePool']) {
    for (const [what, dims, attrs] of cases) {
      for (const cip of op === 'AveragePool' && 'pads' in attrs ? [0, 1] : [0]) {
        it(`${op} ${what}${cip ? ', count_include_pad' : ''}`, async () => {
          await expectSameAsOrt(single(op, [{ name: 'x', dims }], { ...attrs, ...(cip ? { count_include_pad: 1 } : {}) }), { range: [-3, 3] });
        });
      }
    }
  }
  it('MaxPool with dilations', async () => {
    await expectSameAsOrt(single('MaxPool', [{ name: 'x', dims: [1, 2, 8, 9, 7] }], { kernel_shape: [2, 3, 2], dilations: [2, 1, 2], strides: [1, 2, 1] }), { range: [-3, 3] });
  });
});

describe('CumSum (in order along the axis, as onnxruntime adds)', () => {
  // inner sizes 105 (vectors, a partial one), 35, 7 (a vector and a partial one), 1 (the scalar path)
  for (const axis of [0, 1, 2, -1]) {
    for (const attrs of [{}, { exclusive: 1 }, { reverse: 1 }, { exclusive: 1, reverse: 1 }] as Record<string, Attr>[]) {
      it(`axis ${axis} ${JSON.stringify(attrs)}, on a tensor that dies there (summed in place)`, async () => {
        await expectSameAsOrt({
          opset: 14,
          nodes: [
            { op: 'Sigmoid', inputs: ['x'], outputs: ['s'] },
            { op: 'CumSum', inputs: ['s', 'axis'], outputs: ['y'], attrs },
          ],
          inputs: [{ name: 'x', dims: [2, 5, 3, 7] }],
          outputs: ['y'],
          initializers: [i64('axis', [axis], [])],
        });
      });
    }
  }
  it('int32 axis given as a 1-element tensor; inner size 3 (one partial vector)', async () => {
    await expectSameAsOrt(single('CumSum', [{ name: 'x', dims: [4, 6, 3] }], {}, { opset: 11, extraInputs: ['axis'], initializers: [{ name: 'axis', dims: [1], data: Int32Array.from([1]) }] }));
  });
  it('position ids from an attention mask (cumsum of the mask, times the mask)', async () => {
    await expectSameAsOrt({
      opset: 14,
      nodes: [
        { op: 'Greater', inputs: ['m', 'zero'], outputs: ['b'] },
        { op: 'Cast', inputs: ['b'], outputs: ['mf'], attrs: { to: 1 } },
        { op: 'CumSum', inputs: ['mf', 'axis'], outputs: ['c'] },
        { op: 'Mul', inputs: ['c', 'mf'], outputs: ['y'] },
      ],
      inputs: [{ name: 'm', dims: [3, 9] }],
      outputs: ['y'],
      initializers: [i64('axis', [1], []), f32('zero', [0], [])],
    });
  });
  it('an axis out of range or computed at run time is a typed error naming the node', async () => {
    const bad = (axisInit: boolean) => buildModel({
      opset: 14,
      nodes: [{ op: 'CumSum', name: 'cs', inputs: ['x', 'axis'], outputs: ['y'] }],
      inputs: [{ name: 'x', dims: [2, 3] }, ...(axisInit ? [] : [{ name: 'axis', dims: [], type: 'int64' as const }])],
      outputs: ['y'],
      initializers: axisInit ? [i64('axis', [2], [])] : [],
    });
    await expect(InferenceSession.create(bad(true))).rejects.toThrow(/CumSum: axis 2 is out of range for rank 2; use -2..1/);
    await expect(InferenceSession.create(bad(false))).rejects.toThrow(/unsupported operator CumSum at node 'cs': the axis \(input 1, 'axis'\) is computed at run time/);
  });
});

describe('Resize and Upsample', () => {
  const resize = (x: number[], attrs: Record<string, Attr>, how: { scales?: number[]; sizes?: number[] }, opset = 13): ModelSpec => {
    const inits = [];
    let inputs: string[];
    if (opset === 10) {
      inputs = ['x', 'scales'];
      inits.push(f32('scales', how.scales!));
    } else {
      inputs = ['x', opset === 11 ? 'roi' : '', how.scales ? 'scales' : opset === 11 ? 'noscales' : '', ...(how.sizes ? ['sizes'] : [])];
      if (opset === 11) inits.push(f32('roi', [], [0]));
      if (how.scales) inits.push(f32('scales', how.scales));
      else if (opset === 11) inits.push(f32('noscales', [], [0]));
      if (how.sizes) inits.push(i64('sizes', how.sizes));
    }
    return { opset, nodes: [{ op: 'Resize', inputs, outputs: ['y'], attrs }], inputs: [{ name: 'x', dims: x }], outputs: ['y'], initializers: inits };
  };
  const cases: [string, number[], Record<string, Attr>, { scales?: number[]; sizes?: number[] }, number?][] = [
    ['nearest x2 asymmetric floor (PyTorch)', [1, 3, 5, 7], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, { scales: [1, 1, 2, 2] }],
    ['nearest x2 default modes (half_pixel, round_prefer_floor)', [1, 3, 5, 7], { mode: 'nearest' }, { scales: [1, 1, 2, 2] }],
    ['nearest x3 tf_half_pixel_for_nn', [1, 2, 3, 5], { mode: 'nearest', coordinate_transformation_mode: 'tf_half_pixel_for_nn' }, { scales: [1, 1, 3, 3] }],
    ['nearest sizes (non-integer ratio)', [1, 2, 5, 7], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, { sizes: [1, 2, 9, 11] }],
    ['nearest downscale 0.5', [1, 2, 8, 6], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, { scales: [1, 1, 0.5, 0.5] }],
    ['nearest round_prefer_ceil', [1, 2, 4, 5], { mode: 'nearest', nearest_mode: 'round_prefer_ceil' }, { sizes: [1, 2, 7, 9] }],
    ['nearest ceil', [1, 2, 4, 5], { mode: 'nearest', nearest_mode: 'ceil' }, { sizes: [1, 2, 7, 9] }],
    ['linear x2 half_pixel', [1, 3, 5, 7], { mode: 'linear' }, { scales: [1, 1, 2, 2] }],
    ['linear x2 align_corners', [1, 3, 5, 7], { mode: 'linear', coordinate_transformation_mode: 'align_corners' }, { scales: [1, 1, 2, 2] }],
    ['linear x2 asymmetric', [1, 3, 5, 7], { mode: 'linear', coordinate_transformation_mode: 'asymmetric' }, { scales: [1, 1, 2, 2] }],
    ['linear pytorch_half_pixel sizes', [2, 2, 5, 6], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' }, { sizes: [2, 2, 9, 1] }],
    ['linear sizes downscale', [1, 2, 9, 10], { mode: 'linear' }, { sizes: [1, 2, 4, 7] }],
    ['linear scales 1.5', [1, 2, 4, 6], { mode: 'linear' }, { scales: [1, 1, 1.5, 1.5] }],
    // floor(in * scale) outputs, coordinates from the given scale (not out / in)
    ['linear non-integer scales 1.7 x 1.3 on odd sizes', [1, 2, 5, 7], { mode: 'linear' }, { scales: [1, 1, 1.7, 1.3] }],
    ['nearest non-integer scales 1.7 x 0.6 asymmetric', [1, 2, 5, 7], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, { scales: [1, 1, 1.7, 0.6] }],
    ['nearest non-integer scale half_pixel', [1, 2, 5, 7], { mode: 'nearest' }, { scales: [1, 1, 2.5, 1.5] }],
    ['linear align_corners downscale sizes', [1, 2, 9, 7], { mode: 'linear', coordinate_transformation_mode: 'align_corners' }, { sizes: [1, 2, 4, 3] }],
    ['linear on 3-D input (resize the last axis only)', [2, 3, 7], { mode: 'linear' }, { scales: [1, 1, 2] }],
    ['opset 11 nearest with roi and empty scales + sizes', [1, 2, 3, 5], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, { sizes: [1, 2, 6, 10] }, 11],
    ['opset 11 linear scales', [1, 2, 3, 5], { mode: 'linear' }, { scales: [1, 1, 2, 2] }, 11],
    ['opset 10 nearest scales', [1, 2, 3, 5], { mode: 'nearest' }, { scales: [1, 1, 2, 3] }, 10],
    ['opset 10 linear scales', [1, 2, 3, 5], { mode: 'linear' }, { scales: [1, 1, 2, 2] }, 10],
  ];
  for (const [name, x, attrs, how, opset] of cases) {
    it(`Resize ${name}`, async () => {
      await expectSameAsOrt(resize(x, attrs, how, opset));
    });
  }
  it('Resize opset 18 with axes (scales and sizes for the spatial axes only)', async () => {
    await expectSameAsOrt({
      opset: 18,
      nodes: [{ op: 'Resize', inputs: ['x', '', 'sc'], outputs: ['y'], attrs: { mode: 'linear', axes: [2, 3] } }],
      inputs: [{ name: 'x', dims: [1, 3, 5, 7] }],
      outputs: ['y'],
      initializers: [f32('sc', [2, 1.5])],
    });
    await expectSameAsOrt({
      opset: 18,
      nodes: [{ op: 'Resize', inputs: ['x', '', '', 'sz'], outputs: ['y'], attrs: { mode: 'nearest', axes: [-1, -2] } }],
      inputs: [{ name: 'x', dims: [1, 3, 5, 7] }],
      outputs: ['y'],
      initializers: [i64('sz', [11, 9])],
    });
  });
  it('Resize opset 18 antialias=1 when upscaling (no effect)', async () => {
    await expectSameAsOrt({
      opset: 18,
      nodes: [{ op: 'Resize', inputs: ['x', '', 'sc'], outputs: ['y'], attrs: { mode: 'linear', antialias: 1 } }],
      inputs: [{ name: 'x', dims: [1, 2, 4, 5] }],
      outputs: ['y'],
      initializers: [f32('sc', [1, 1, 2, 2])],
    });
  });
  it('Upsample opset 9 nearest and linear (scales input)', async () => {
    for (const mode of ['nearest', 'linear']) {
      await expectSameAsOrt({
        opset: 9,
        nodes: [{ op: 'Upsample', inputs: ['x', 's'], outputs: ['y'], attrs: { mode } }],
        inputs: [{ name: 'x', dims: [1, 3, 5, 7] }],
        outputs: ['y'],
        initializers: [f32('s', [1, 1, 2, 2])],
      });
    }
  });
  it('Upsample opset 7 scales attribute', async () => {
    await expectSameAsOrt(single('Upsample', [{ name: 'x', dims: [1, 2, 3, 5] }], { mode: 'nearest', scales: { floats: [1, 1, 2, 3] } }, { opset: 7 }));
  });
});
