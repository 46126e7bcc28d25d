// Shape and data-movement ops against onnxruntime-node: Flatten, Reshape, Transpose, Concat,
// Split, Slice, Squeeze / Unsqueeze, Gather, Shape, Constant, ConstantOfShape, Identity, Pad,
// Cast, If with a constant condition. Most run on run-time tensors (the executors); a few
// run on constants only (the constant folder) and are checked through a following float op.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { buildModel, compareRun, expectSameAsOrt, f32, i64, rand, single, w, type Attr, type ModelSpec } from './harness.js';

const X4 = { name: 'x', dims: [2, 3, 5, 7] };

describe('Flatten / Reshape / Identity', () => {
  for (const axis of [0, 1, 2, 4, -1, -3]) {
    it(`Flatten axis ${axis}`, async () => {
      await expectSameAsOrt(single('Flatten', [X4], { axis }));
    });
  }
  const targets: number[][] = [[6, 35], [0, -1], [0, 0, -1], [-1, 7], [2, 0, 35], [210], [1, 2, 1, 105], [0, 3, 5, 7]];
  for (const t of targets) {
    it(`Reshape to ${JSON.stringify(t)}`, async () => {
      await expectSameAsOrt(single('Reshape', [X4], {}, { extraInputs: ['shape'], initializers: [i64('shape', t)] }));
    });
  }
  it('Reshape feeding a computation (alias then a float op)', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['r'] },
        { op: 'Softmax', inputs: ['r'], outputs: ['y'], attrs: { axis: -1 } },
      ],
      inputs: [X4],
      outputs: ['y'],
      initializers: [i64('shape', [0, -1])],
    });
  });
  it('Identity as a graph output next to its input', async () => {
    await expectSameAsOrt({ nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }, { op: 'Relu', inputs: ['x'], outputs: ['z'] }], inputs: [X4], outputs: ['y', 'z'] });
  });
});

describe('Transpose', () => {
  const perms: number[][] = [[0, 2, 3, 1], [0, 3, 1, 2], [3, 2, 1, 0], [1, 0, 2, 3], [0, 1, 3, 2]];
  for (const perm of perms) {
    it(`perm ${JSON.stringify(perm)}`, async () => {
      await expectSameAsOrt(single('Transpose', [X4], { perm }));
    });
  }
  it('default perm (reverse)', async () => {
    await expectSameAsOrt(single('Transpose', [{ name: 'x', dims: [3, 5, 7] }]));
  });
  it('2-D odd and rank 6', async () => {
    await expectSameAsOrt(single('Transpose', [{ name: 'x', dims: [13, 7] }], { perm: [1, 0] }));
    await expectSameAsOrt(single('Transpose', [{ name: 'x', dims: [2, 3, 2, 3, 2, 5] }], { perm: [5, 3, 1, 0, 2, 4] }));
  });
  it('rank 7 (more than the kernel axes)', async () => {
    await expectSameAsOrt(single('Transpose', [{ name: 'x', dims: [2, 3, 2, 3, 2, 3, 2] }], { perm: [6, 0, 5, 1, 4, 2, 3] }));
  });
});

describe('Concat', () => {
  for (const axis of [0, 1, 2, 3, -1]) {
    it(`axis ${axis}, three runtime inputs of different sizes`, async () => {
      const dims = (k: number) => [2, 3, 5, 7].map((d, i) => (i === (axis + 4) % 4 ? d + k : d));
      await expectSameAsOrt(single('Concat', [{ name: 'a', dims: dims(0) }, { name: 'b', dims: dims(1) }, { name: 'c', dims: dims(2) }], { axis }));
    });
  }
  it('with a constant input', async () => {
    await expectSameAsOrt(single('Concat', [{ name: 'a', dims: [2, 3, 5] }], { axis: 1 }, { extraInputs: ['k'], initializers: [w('k', [2, 4, 5])] }));
  });
  it('the same tensor twice', async () => {
    await expectSameAsOrt({ nodes: [{ op: 'Concat', inputs: ['x', 'x'], outputs: ['y'], attrs: { axis: 1 } }], inputs: [{ name: 'x', dims: [2, 3, 5] }], outputs: ['y'] });
  });
});

describe('Split', () => {
  it('opset 11 split attribute', async () => {
    await expectSameAsOrt(single('Split', [X4], { axis: 1, split: [1, 2] }, { opset: 11, outputs: ['y0', 'y1'] }));
  });
  it('opset 13 split input on the last axis', async () => {
    await expectSameAsOrt(single('Split', [X4], { axis: -1 }, { opset: 13, extraInputs: ['s'], initializers: [i64('s', [2, 4, 1])], outputs: ['y0', 'y1', 'y2'] }));
  });
  it('equal split (no split given), opset 11 and 13', async () => {
    await expectSameAsOrt(single('Split', [{ name: 'x', dims: [2, 6, 5] }], { axis: 1 }, { opset: 11, outputs: ['y0', 'y1', 'y2'] }));
    await expectSameAsOrt(single('Split', [{ name: 'x', dims: [2, 6, 5] }], { axis: 1 }, { opset: 13, outputs: ['y0', 'y1'] }));
  });
  it('equal split default axis 0', async () => {
    await expectSameAsOrt(single('Split', [{ name: 'x', dims: [4, 3] }], {}, { outputs: ['y0', 'y1'] }));
  });
  it('opset 18 num_outputs with an uneven last chunk', async () => {
    await expectSameAsOrt(single('Split', [{ name: 'x', dims: [2, 7] }], { axis: 1, num_outputs: 3 }, { opset: 18, outputs: ['y0', 'y1', 'y2'] }));
  });
  it('split outputs feeding float ops', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Split', inputs: ['x'], outputs: ['a', 'b'], attrs: { axis: 1 } },
        { op: 'Sigmoid', inputs: ['b'], outputs: ['sb'] },
        { op: 'Mul', inputs: ['a', 'sb'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [2, 6, 5] }],
      outputs: ['y'],
    });
  });
});

describe('Slice', () => {
  const slice13 = (x: number[], starts: number[], ends: number[], axes?: number[], steps?: number[]): ModelSpec => ({
    nodes: [{ op: 'Slice', inputs: ['x', 'st', 'en', ...(axes ? ['ax'] : steps ? [''] : []), ...(steps ? ['sp'] : [])], outputs: ['y'] }],
    inputs: [{ name: 'x', dims: x }],
    outputs: ['y'],
    initializers: [i64('st', starts), i64('en', ends), ...(axes ? [i64('ax', axes)] : []), ...(steps ? [i64('sp', steps)] : [])],
  });
  const cases: [string, number[], number[], number[], number[]?, number[]?][] = [
    ['basic on all axes', [5, 7], [1, 2], [4, 6]],
    ['axes subset, negative start', [2, 3, 5, 7], [-3], [100], [3]],
    ['negative axes, ends past the end (INT64_MAX-like)', [2, 3, 5, 7], [1, 0], [1e15, -1], [-2, 1]],
    ['step 2', [2, 3, 9, 7], [1, 0], [9, 7], [2, 3], [2, 3]],
    ['negative step -1 (reverse)', [2, 3, 5, 7], [-1], [-1e15], [3], [-1]],
    ['negative step -2 from the end', [2, 3, 9, 7], [8, 6], [0, -100], [2, 3], [-2, -3]],
    ['negative step with clamped start', [2, 9], [100], [2], [1], [-2]],
    ['empty result', [3, 5], [3], [1], [1]],
  ];
  for (const [name, x, st, en, ax, sp] of cases) {
    it(`opset 13 ${name}`, async () => {
      await expectSameAsOrt(slice13(x, st, en, ax, sp));
    });
  }
  it('opset 9 attributes', async () => {
    await expectSameAsOrt(single('Slice', [X4], { starts: [1, -4], ends: [3, 1000], axes: [1, 3] }, { opset: 9 }));
  });
  it('opset 9 attributes without axes', async () => {
    await expectSameAsOrt(single('Slice', [{ name: 'x', dims: [5, 7] }], { starts: [1, 2], ends: [-1, 5] }, { opset: 9 }));
  });
  it('opset 10 inputs with steps', async () => {
    const spec = slice13([4, 9], [0, 8], [4, 0], [0, 1], [1, -3]);
    spec.opset = 10;
    await expectSameAsOrt(spec);
  });
});

describe('Squeeze / Unsqueeze', () => {
  it('Squeeze opset 11 attribute and opset 13 input', async () => {
    await expectSameAsOrt(single('Squeeze', [{ name: 'x', dims: [1, 3, 1, 5] }], { axes: [0, -2] }, { opset: 11 }));
    await expectSameAsOrt(single('Squeeze', [{ name: 'x', dims: [1, 3, 1, 5] }], {}, { opset: 13, extraInputs: ['a'], initializers: [i64('a', [2])] }));
  });
  it('Squeeze without axes (all 1s), opset 11 and 13', async () => {
    await expectSameAsOrt(single('Squeeze', [{ name: 'x', dims: [1, 3, 1, 5, 1] }], {}, { opset: 11 }));
    await expectSameAsOrt(single('Squeeze', [{ name: 'x', dims: [1, 3, 1, 5, 1] }], {}, { opset: 13 }));
  });
  it('Unsqueeze opset 11 attribute and opset 13 input (negative and unsorted axes)', async () => {
    await expectSameAsOrt(single('Unsqueeze', [{ name: 'x', dims: [3, 5] }], { axes: [0, 3] }, { opset: 11 }));
    await expectSameAsOrt(single('Unsqueeze', [{ name: 'x', dims: [3, 5] }], {}, { opset: 13, extraInputs: ['a'], initializers: [i64('a', [-1, 0])] }));
    await expectSameAsOrt(single('Unsqueeze', [{ name: 'x', dims: [3, 5] }], {}, { opset: 13, extraInputs: ['a'], initializers: [i64('a', [3, 1])] }));
  });
});

describe('Gather', () => {
  it('constant indices on axis 0, 1 and -1', async () => {
    await expectSameAsOrt(single('Gather', [X4], { axis: 0 }, { extraInputs: ['i'], initializers: [i64('i', [1, 0, 1])] }));
    await expectSameAsOrt(single('Gather', [X4], { axis: 1 }, { extraInputs: ['i'], initializers: [i64('i', [2, -3])] }));
    await expectSameAsOrt(single('Gather', [X4], { axis: -1 }, { extraInputs: ['i'], initializers: [i64('i', [6, 0, 3, 3, -1])] }));
  });
  it('scalar index drops the axis', async () => {
    await expectSameAsOrt(single('Gather', [X4], { axis: 1 }, { extraInputs: ['i'], initializers: [i64('i', [2], [])] }));
    await expectSameAsOrt(single('Gather', [{ name: 'x', dims: [5, 7] }], { axis: 0 }, { extraInputs: ['i'], initializers: [i64('i', [-1], [])] }));
  });
  it('2-D indices (embedding lookup)', async () => {
    await expectSameAsOrt(single('Gather', [{ name: 'x', dims: [6, 5] }], { axis: 0 }, { extraInputs: ['i'], initializers: [i64('i', [0, 5, 2, 2, 1, 3], [2, 3])] }));
  });
  it('int32 indices', async () => {
    await expectSameAsOrt(single('Gather', [{ name: 'x', dims: [6, 5] }], { axis: 1 }, { extraInputs: ['i'], initializers: [{ name: 'i', dims: [2], data: Int32Array.from([4, 1]) }] }));
  });
  it('constant data, constant indices (folded), feeding a float op', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Gather', inputs: ['E', 'i'], outputs: ['g'], attrs: { axis: 0 } },
        { op: 'Add', inputs: ['x', 'g'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [3, 5] }],
      outputs: ['y'],
      initializers: [w('E', [7, 5]), i64('i', [6, 0, 2])],
    });
  });
});

describe('Mod on constants (shape arithmetic in attention exports), folded at load', () => {
  const a = [-7, 7, -7, 7, 0, 9, -9, 5];
  const b = [3, -3, -3, 3, 4, 4, 4, -5];
  for (const [fmod, type] of [[0, 'int64'], [1, 'int64'], [1, 'float32']] as const) {
    it(`fmod ${fmod} on ${type}: signs of dividend and divisor in every combination`, async () => {
      const t = (name: string, v: number[]) => (type === 'int64' ? i64(name, v) : f32(name, v.map((x) => x + 0.5)));
      await expectSameAsOrt({
        opset: 13,
        nodes: [
          { op: 'Mod', inputs: ['a', 'b'], outputs: ['m'], attrs: { fmod } },
          { op: 'Cast', inputs: ['m'], outputs: ['mf'], attrs: { to: 1 } },
          { op: 'Add', inputs: ['x', 'mf'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', dims: [8] }],
        outputs: ['y'],
        initializers: [t('a', a), t('b', b)],
      });
    });
  }
});

describe('Gather on run-time indices (token ids fed as float32, exact integers)', () => {
  /** Integer ids in [lo, hi), as float32 (edgeprune's feed) marked int64 for onnxruntime. */
  const ids = (dims: number[], lo: number, hi: number) => ({ data: Float32Array.from(rand(dims.reduce((a, b) => a * b, 1), lo, hi), Math.floor), dims, type: 'int64' as const });
  const embedding = (tokens: number[]): ModelSpec => ({
    opset: 13,
    nodes: [
      { op: 'Gather', name: 'embedding', inputs: ['table', 'tokens'], outputs: ['e'], attrs: { axis: 0 } },
      { op: 'ReduceMean', inputs: ['e'], outputs: ['y'], attrs: { axes: [1], keepdims: 0 } },
    ],
    inputs: [{ name: 'tokens', dims: tokens, type: 'int64' }],
    outputs: ['y', 'e'],
    initializers: [w('table', [50, 8])],
  });
  it('an embedding on token ids, negative ids counting from the end', async () => {
    await expectSameAsOrt(embedding([3, 7]), { feeds: { tokens: ids([3, 7], -50, 50) } });
  });
  it('axis 1 of a run-time tensor, indices from ArgMax, and a scalar index', async () => {
    await expectSameAsOrt({
      opset: 13,
      nodes: [
        { op: 'ArgMax', inputs: ['s'], outputs: ['i'], attrs: { axis: 1, keepdims: 0 } },
        { op: 'Gather', inputs: ['x', 'i'], outputs: ['y'], attrs: { axis: 1 } },
        { op: 'ArgMin', inputs: ['v'], outputs: ['j'], attrs: { axis: 0, keepdims: 0 } },
        { op: 'Gather', inputs: ['x', 'j'], outputs: ['z'], attrs: { axis: -1 } },
      ],
      inputs: [{ name: 'x', dims: [3, 6, 4] }, { name: 's', dims: [5, 6] }, { name: 'v', dims: [4] }],
      outputs: ['y', 'z'],
    });
  });
  it('an id out of range or not an integer is an InputError naming the node and the range', async () => {
    const session = await InferenceSession.create(buildModel(embedding([1, 3])));
    for (const bad of [50, -51, 2.5, Number.NaN]) {
      const e = await session.run({ tokens: new Tensor('float32', Float32Array.from([1, bad, 3]), [1, 3]) }).then(() => undefined, (x: Error) => x);
      expect(e, String(bad)).toBeInstanceOf(InputError);
      expect(e!.message).toMatch(/node 'embedding' \(Gather\): index .* \(at position 1 of 'tokens'\) is not an integer in \[-50, 49\], the range of axis 0 of size 50/);
    }
    // the session still runs good ids afterwards
    const ok = await session.run({ tokens: new Tensor('float32', Float32Array.from([1, 49, -50]), [1, 3]) });
    expect(ok.y.dims).toEqual([1, 8]);
  });
});

describe('rank 0, rank 1 and empty tensors', () => {
  it('Gather a scalar index from a 1-D input → a scalar output', async () => {
    await expectSameAsOrt(single('Gather', [{ name: 'x', dims: [5] }], { axis: 0 }, { extraInputs: ['i'], initializers: [i64('i', [3], [])] }));
  });
  it('Reshape [1] → [] and back through Unsqueeze', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Reshape', inputs: ['x', 'e'], outputs: ['s'] },
        { op: 'Sigmoid', inputs: ['s'], outputs: ['y'] },
        { op: 'Unsqueeze', inputs: ['y', 'a'], outputs: ['z'] },
      ],
      inputs: [{ name: 'x', dims: [1] }],
      outputs: ['y', 'z'],
      initializers: [i64('e', [], [0]), i64('a', [0])],
    });
  });
  it('ReduceSum over every axis keepdims 0 → scalar, then broadcast back', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'ReduceSum', inputs: ['x'], outputs: ['s'], attrs: { keepdims: 0 } },
        { op: 'Div', inputs: ['x', 's'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [3, 5] }],
      outputs: ['y', 's'],
    }, { range: [0.5, 1] });
  });
  it('Softmax and Flatten on 1-D', async () => {
    await expectSameAsOrt(single('Softmax', [{ name: 'x', dims: [7] }], {}, { opset: 13 }));
    await expectSameAsOrt(single('Flatten', [{ name: 'x', dims: [7] }], { axis: 1 }));
  });
  it('rank-5 broadcasting', async () => {
    await expectSameAsOrt(single('Add', [{ name: 'a', dims: [2, 1, 3, 1, 2] }, { name: 'b', dims: [1, 4, 1, 5, 1] }]));
    await expectSameAsOrt(single('Mul', [{ name: 'a', dims: [2, 3, 1, 4, 1, 3] }, { name: 'b', dims: [3, 4, 5, 1] }]));
  });
  it('Transpose with size-1 axes', async () => {
    await expectSameAsOrt(single('Transpose', [{ name: 'x', dims: [1, 5, 1, 7] }], { perm: [3, 2, 0, 1] }));
  });
  it('Concat with an empty slice', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Slice', inputs: ['x', 'st', 'en', 'ax'], outputs: ['e'] },
        { op: 'Concat', inputs: ['x', 'e', 'x'], outputs: ['y'], attrs: { axis: 1 } },
      ],
      inputs: [{ name: 'x', dims: [2, 3] }],
      outputs: ['y'],
      initializers: [i64('st', [2]), i64('en', [2]), i64('ax', [1])],
    });
  });
});

describe('Shape / Constant / ConstantOfShape / Cast', () => {
  it('Shape as a graph output (int64 in ORT, values compared)', async () => {
    await expectSameAsOrt({ nodes: [{ op: 'Shape', inputs: ['x'], outputs: ['s'] }, { op: 'Relu', inputs: ['x'], outputs: ['y'] }], inputs: [X4], outputs: [{ name: 's', type: 'int64' }, 'y'] });
  });
  it('Constant node (value tensor) added to the input', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Constant', inputs: [], outputs: ['c'], attrs: { value: { tensor: { dims: [5], data: [1, -2, 3, 0.5, 0.25] } } } },
        { op: 'Mul', inputs: ['x', 'c'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [3, 5] }],
      outputs: ['y'],
    });
  });
  it('Constant value_float / value_floats (opset 13)', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Constant', inputs: [], outputs: ['a'], attrs: { value_float: { float: 2.5 } } },
        { op: 'Constant', inputs: [], outputs: ['b'], attrs: { value_floats: { floats: [1, 2, 3] } } },
        { op: 'Mul', inputs: ['x', 'a'], outputs: ['m'] },
        { op: 'Add', inputs: ['m', 'b'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [2, 3] }],
      outputs: ['y'],
    });
  });
  it('ConstantOfShape from Shape (float value) added to x', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'ConstantOfShape', inputs: ['s'], outputs: ['c'], attrs: { value: { tensor: { dims: [1], data: [0.75] } } } },
        { op: 'Add', inputs: ['x', 'c'], outputs: ['y'] },
      ],
      inputs: [X4],
      outputs: ['y'],
    });
  });
  it('ConstantOfShape default value (zeros) from a constant shape', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'ConstantOfShape', inputs: ['s'], outputs: ['c'] },
        { op: 'Concat', inputs: ['x', 'c'], outputs: ['y'], attrs: { axis: 0 } },
      ],
      inputs: [{ name: 'x', dims: [2, 5] }],
      outputs: ['y'],
      initializers: [i64('s', [3, 5])],
    });
  });
  it('Cast float→float at run time (to FLOAT and to DOUBLE-free path)', async () => {
    await expectSameAsOrt(single('Cast', [X4], { to: 1 }));
  });
  it('int casts in a shape subgraph: Shape → Cast(float) → Div → Cast(int64) → Reshape', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Cast', inputs: ['s'], outputs: ['sf'], attrs: { to: 1 } },
        { op: 'Div', inputs: ['sf', 'two'], outputs: ['h'] },
        { op: 'Cast', inputs: ['h'], outputs: ['hi'], attrs: { to: 7 } },
        { op: 'Slice', inputs: ['hi', 'z', 'o'], outputs: ['n0'] },
        { op: 'Concat', inputs: ['n0', 'm1'], outputs: ['shape'], attrs: { axis: 0 } },
        { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [4, 3, 5] }],
      outputs: ['y'],
      initializers: [f32('two', [2], []), i64('z', [0]), i64('o', [1]), i64('m1', [-1])],
    });
  });
  it('Cast int32 shape values (Cast to INT32 then back to INT64)', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Cast', inputs: ['s'], outputs: ['s32'], attrs: { to: 6 } },
        { op: 'Cast', inputs: ['s32'], outputs: ['s64'], attrs: { to: 7 } },
        { op: 'Reshape', inputs: ['x', 's64'], outputs: ['r'] },
        { op: 'Relu', inputs: ['r'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [2, 3, 5] }],
      outputs: ['y'],
    });
  });
});

describe('Expand / Tile / DepthToSpace / SpaceToDepth on run-time tensors', () => {
  const expand = (x: number[], shape: number[]) => single('Expand', [{ name: 'x', dims: x }], {}, { extraInputs: ['s'], initializers: [i64('s', shape)] });
  it('Expand: to more axes, a 1 in the shape keeping the input dim, an empty result', async () => {
    await expectSameAsOrt(expand([3, 1], [2, 3, 4]));
    await expectSameAsOrt(expand([2, 1, 5], [1, 1]));
    await expectSameAsOrt(expand([1, 4, 1], [3, 1, 6]));
    await expectSameAsOrt(expand([2, 1, 3], [2, 0, 3]));
  });
  it('Expand: the shape from a Shape chain (expand_as), a symbolic batch', async () => {
    const spec: ModelSpec = {
      nodes: [
        { op: 'ReduceMean', inputs: ['x'], outputs: ['m'], attrs: { axes: [1], keepdims: 1 } },
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Expand', inputs: ['m', 's'], outputs: ['e'] },
        { op: 'Mul', inputs: ['x', 'e'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: ['N', 6, 5] }],
      outputs: ['y'],
    };
    const bytes = buildModel(spec);
    const session = await InferenceSession.create(bytes);
    for (const n of [2, 3]) await compareRun(session, bytes, { x: { data: rand(n * 30), dims: [n, 6, 5] } }, { what: `N = ${n}` });
  });
  it('Tile: repeats of 1, 3 and 0, on rank 1 to 4', async () => {
    const tile = (x: number[], reps: number[]) => single('Tile', [{ name: 'x', dims: x }], {}, { extraInputs: ['r'], initializers: [i64('r', reps)] });
    await expectSameAsOrt(tile([5], [3]));
    await expectSameAsOrt(tile([2, 3], [2, 1]));
    await expectSameAsOrt(tile([2, 3, 4], [1, 3, 2]));
    await expectSameAsOrt(tile([1, 2, 3, 2], [2, 2, 1, 3]));
    await expectSameAsOrt(tile([2, 3], [0, 2]));
  });
  for (const mode of ['DCR', 'CRD']) {
    it(`DepthToSpace ${mode}, blocks of 2 and 3`, async () => {
      await expectSameAsOrt(single('DepthToSpace', [{ name: 'x', dims: [2, 8, 3, 5] }], { blocksize: 2, mode }));
      await expectSameAsOrt(single('DepthToSpace', [{ name: 'x', dims: [1, 18, 2, 4] }], { blocksize: 3, mode }));
    });
  }
  it('SpaceToDepth, blocks of 2 and 3; DepthToSpace after it gives the input back', async () => {
    await expectSameAsOrt(single('SpaceToDepth', [{ name: 'x', dims: [2, 3, 4, 6] }], { blocksize: 2 }));
    await expectSameAsOrt(single('SpaceToDepth', [{ name: 'x', dims: [1, 2, 6, 9] }], { blocksize: 3 }));
    await expectSameAsOrt({
      nodes: [
        { op: 'SpaceToDepth', inputs: ['x'], outputs: ['d'], attrs: { blocksize: 2 } },
        { op: 'DepthToSpace', inputs: ['d'], outputs: ['y'], attrs: { blocksize: 2 } },
      ],
      inputs: [{ name: 'x', dims: [1, 3, 4, 6] }],
      outputs: ['y'],
    });
  });
});

describe('Pad', () => {
  const pad11 = (x: number[], pads: number[], value?: number, opset = 11): ModelSpec => ({
    opset,
    nodes: [{ op: 'Pad', inputs: ['x', 'p', ...(value !== undefined ? ['v'] : [])], outputs: ['y'], attrs: { mode: 'constant' } }],
    inputs: [{ name: 'x', dims: x }],
    outputs: ['y'],
    initializers: [i64('p', pads), ...(value !== undefined ? [f32('v', [value], [])] : [])],
  });
  it('opset 11 inputs, zero value, NCHW spatial pads', async () => {
    await expectSameAsOrt(pad11([1, 3, 5, 7], [0, 0, 1, 2, 0, 0, 3, 1]));
  });
  it('opset 11 with constant_value and pads on every axis', async () => {
    await expectSameAsOrt(pad11([2, 3, 5], [1, 0, 2, 0, 3, 1], -1.5));
  });
  it('opset 13 negative pads (crop) mixed with positive', async () => {
    await expectSameAsOrt(pad11([1, 3, 6, 7], [0, 0, -1, 2, 0, 0, 1, -3], 0.5, 13));
  });
  it('opset 2 attributes (model opset 10)', async () => {
    await expectSameAsOrt(single('Pad', [{ name: 'x', dims: [1, 3, 5, 7] }], { pads: [0, 0, 2, 1, 0, 0, 0, 3], value: { float: 0.25 } }, { opset: 10 }));
  });
  it('opset 2 attributes default mode and value (model opset 7)', async () => {
    await expectSameAsOrt(single('Pad', [{ name: 'x', dims: [3, 5] }], { pads: [1, 2, 3, 4] }, { opset: 7 }));
  });
  it('opset 18 axes input', async () => {
    await expectSameAsOrt({
      opset: 18,
      nodes: [{ op: 'Pad', inputs: ['x', 'p', '', 'a'], outputs: ['y'] }],
      inputs: [{ name: 'x', dims: [2, 3, 5] }],
      outputs: ['y'],
      initializers: [i64('p', [1, 2, 0, 3]), i64('a', [-1, 0])],
    });
  });
  const padMode = (mode: string, x: number[], pads: number[], opset = 13): ModelSpec => ({
    opset,
    nodes: [{ op: 'Pad', inputs: ['x', 'p'], outputs: ['y'], attrs: { mode } }],
    inputs: [{ name: 'x', dims: x }],
    outputs: ['y'],
    initializers: [i64('p', pads)],
  });
  for (const mode of ['reflect', 'edge']) {
    it(`${mode}: spatial pads as ReflectionPad2d / ReplicationPad2d write them, corners included`, async () => {
      await expectSameAsOrt(padMode(mode, [1, 3, 5, 7], [0, 0, 1, 2, 0, 0, 3, 1]));
      await expectSameAsOrt(padMode(mode, [2, 2, 4, 4], [0, 0, 3, 3, 0, 0, 3, 3]));
    });
    it(`${mode}: every axis padded, a 1-D input, one side only`, async () => {
      await expectSameAsOrt(padMode(mode, [2, 3, 5], [1, 2, 3, 1, 0, 2]));
      await expectSameAsOrt(padMode(mode, [6], [4, 2]));
      await expectSameAsOrt(padMode(mode, [3, 4], [0, 0, 0, 3]));
    });
    it(`${mode}: opset 2 attributes (model opset 10) and the opset 18 axes input`, async () => {
      await expectSameAsOrt(single('Pad', [{ name: 'x', dims: [1, 2, 4, 5] }], { mode, pads: [0, 0, 2, 1, 0, 0, 1, 3] }, { opset: 10 }));
      await expectSameAsOrt({
        opset: 18,
        nodes: [{ op: 'Pad', inputs: ['x', 'p', '', 'a'], outputs: ['y'], attrs: { mode } }],
        inputs: [{ name: 'x', dims: [2, 3, 5] }],
        outputs: ['y'],
        initializers: [i64('p', [3, 1, 0, 1]), i64('a', [-1, 0])],
      });
    });
  }
  it('edge on a size-1 axis repeats its one value', async () => {
    await expectSameAsOrt(padMode('edge', [2, 1, 3], [0, 2, 1, 0, 3, 1]));
  });
  it('wrap (opset 19): borders from the other side', async () => {
    await expectSameAsOrt(padMode('wrap', [1, 2, 4, 5], [0, 0, 2, 3, 0, 0, 4, 5], 19));
    await expectSameAsOrt(padMode('wrap', [3, 4], [1, 2, 3, 1], 19));
  });
});

describe('If with a constant condition', () => {
  const branch = (op: string, attrs: Record<string, Attr> = {}) => ({
    graph: { nodes: [{ op, inputs: ['x'], outputs: [`${op}_out`], attrs }], inputs: [], outputs: [`${op}_out`] },
  });
  for (const cond of [true, false]) {
    it(`takes the ${cond ? 'then' : 'else'} branch`, async () => {
      await expectSameAsOrt({
        nodes: [
          { op: 'If', inputs: ['c'], outputs: ['b'], attrs: { then_branch: branch('Sigmoid'), else_branch: branch('Tanh') } },
          { op: 'Add', inputs: ['b', 'x'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', dims: [3, 5] }],
        outputs: ['y'],
        initializers: [{ name: 'c', dims: [], data: [cond ? 1 : 0], type: 'bool' }],
      });
    });
  }
  it('condition computed from a shape (Equal on Shape → constant after specialization)', async () => {
    await expectSameAsOrt({
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'], attrs: { axis: 0 } },
        { op: 'Equal', inputs: ['n', 'three'], outputs: ['c'] },
        { op: 'If', inputs: ['c'], outputs: ['y'], attrs: { then_branch: branch('Relu'), else_branch: branch('Neg') } },
      ],
      inputs: [{ name: 'x', dims: [3, 5] }],
      outputs: ['y'],
      initializers: [i64('i0', [0], []), i64('three', [3], [])],
    });
  });
  it('condition on a symbolic dim: folded at each plan, one session taking both branches', async () => {
    const spec: ModelSpec = {
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'], attrs: { axis: 0 } },
        { op: 'Equal', inputs: ['n', 'three'], outputs: ['c'] },
        { op: 'If', inputs: ['c'], outputs: ['b'], attrs: { then_branch: branch('Relu'), else_branch: branch('Neg') } },
        { op: 'Add', inputs: ['b', 'x'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: ['N', 5] }],
      outputs: ['y'],
      initializers: [i64('i0', [0], []), i64('three', [3], [])],
    };
    // the If's output read by a node, and the If's output as the graph output
    for (const last of [spec, { ...spec, nodes: spec.nodes.slice(0, 4).map((n) => (n.op === 'If' ? { ...n, outputs: ['y'] } : n)) }]) {
      const bytes = buildModel(last);
      const session = await InferenceSession.create(bytes);
      for (const n of [3, 2, 3]) await compareRun(session, bytes, { x: { data: rand(n * 5), dims: [n, 5] } }, { what: `N = ${n}` });
    }
  });
  it('branch outputs the file leaves untyped (ONNX allows it for subgraphs; Silero VAD v5 has them)', async () => {
    const untyped = (op: string) => ({ graph: { nodes: [{ op, inputs: ['x'], outputs: [`${op}_out`] }], inputs: [], outputs: [{ name: `${op}_out`, untyped: true }] } });
    const bytes = buildModel({
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'], attrs: { axis: 0 } },
        { op: 'Equal', inputs: ['n', 'three'], outputs: ['c'] },
        { op: 'If', inputs: ['c'], outputs: ['b'], attrs: { then_branch: untyped('Relu'), else_branch: untyped('Neg') } },
        { op: 'Add', inputs: ['b', 'x'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: ['N', 5] }],
      outputs: ['y'],
      initializers: [i64('i0', [0], []), i64('three', [3], [])],
    });
    const session = await InferenceSession.create(bytes);
    for (const n of [3, 2]) await compareRun(session, bytes, { x: { data: rand(n * 5), dims: [n, 5] } }, { what: `N = ${n}` });
  });
});
