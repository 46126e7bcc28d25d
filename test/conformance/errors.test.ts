// Bad input at the session level: unreadable models, unsupported ops, and feeds that do not
// match the model, each a typed error whose message names what is wrong.
import { describe, expect, it } from 'vitest';
import { InputError, ModelFormatError, SessionReleasedError, UnsupportedOpError } from '../../src/errors.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { buildModel, i64, w, type ModelSpec } from './harness.js';

const good: ModelSpec = {
  nodes: [{ op: 'Conv', inputs: ['x', 'W'], outputs: ['y'], attrs: { pads: [1, 1, 1, 1] } }],
  inputs: [{ name: 'x', dims: [1, 3, 5, 5] }],
  outputs: ['y'],
  initializers: [w('W', [4, 3, 3, 3])],
};

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('unreadable models → ModelFormatError', () => {
  it('garbage bytes', async () => {
    const bytes = new Uint8Array(256).map((_, i) => (i * 37 + 11) & 0xff);
    const e = await rejects(InferenceSession.create(bytes));
    expect(e).toBeInstanceOf(ModelFormatError);
    expect(e.message).toMatch(/ONNX/);
  });
  it('text that is not a model', async () => {
    const e = await rejects(InferenceSession.create(new TextEncoder().encode('<html>404 Not Found</html>')));
    expect(e).toBeInstanceOf(ModelFormatError);
  });
  it('empty bytes and an empty ArrayBuffer', async () => {
    expect(await rejects(InferenceSession.create(new Uint8Array(0)))).toBeInstanceOf(ModelFormatError);
    expect(await rejects(InferenceSession.create(new ArrayBuffer(0)))).toBeInstanceOf(ModelFormatError);
  });
  it('truncated model (every cut of a small model)', async () => {
    const bytes = buildModel(good);
    // the whole model loads; cuts inside the weights or the graph must fail with ModelFormatError
    await InferenceSession.create(bytes);
    for (const cut of [bytes.length - 1, bytes.length - 7, Math.floor(bytes.length / 2), 20, 3]) {
      const e = await rejects(InferenceSession.create(bytes.slice(0, cut)));
      expect(e, `cut at ${cut} of ${bytes.length}`).toBeInstanceOf(ModelFormatError);
    }
  });
  it('a required input left out (LayerNormalization without Scale, found by the fuzzer) names the node and the input', async () => {
    const bytes = buildModel({ opset: 17, nodes: [{ op: 'LayerNormalization', inputs: ['x'], outputs: ['y'], attrs: { axis: -1 } }], inputs: [{ name: 'x', dims: [2, 4] }], outputs: ['y'] });
    const e = await rejects(InferenceSession.create(bytes));
    expect(e).toBeInstanceOf(ModelFormatError);
    expect(e.message).toMatch(/node '.*' \(LayerNormalization\) needs input 1, which is missing/);
  });
  it('not bytes at all (a string is a file name: see test/session-model-source)', async () => {
    const e = await rejects(InferenceSession.create({ model: 'model.onnx' } as unknown as Uint8Array));
    expect(e).toBeInstanceOf(ModelFormatError);
    expect(e.message).toBe('InferenceSession.create got [object Object]; pass the model as bytes (a Uint8Array or ArrayBuffer), a file path or a URL');
  });
});

describe('unsupported ops → UnsupportedOpError naming the op and the node', () => {
  it('LSTM', async () => {
    const spec: ModelSpec = {
      nodes: [{ op: 'LSTM', name: 'rnn_layer', inputs: ['x', 'W', 'R'], outputs: ['y'], attrs: { hidden_size: 4 } }],
      inputs: [{ name: 'x', dims: [5, 1, 3] }],
      outputs: ['y'],
      initializers: [w('W', [1, 16, 3]), w('R', [1, 16, 4])],
    };
    const e = await rejects(InferenceSession.create(buildModel(spec)));
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect(e.message).toContain('LSTM');
    expect(e.message).toContain('rnn_layer');
    expect((e as UnsupportedOpError).op).toBe('LSTM');
    expect((e as UnsupportedOpError).node).toBe('rnn_layer');
  });
  it('an unsupported op in the middle of a supported graph', async () => {
    const spec: ModelSpec = {
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['r'] },
        { op: 'Hardmax', name: 'the_hardmax', inputs: ['r'], outputs: ['h'] },
        { op: 'Sigmoid', inputs: ['h'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [2, 5] }],
      outputs: ['y'],
    };
    const e = await rejects(InferenceSession.create(buildModel(spec)));
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect(e.message).toContain('Hardmax');
    expect(e.message).toContain('the_hardmax');
  });
  it('a model with several unsupported ops names them all, subgraphs of an If on an input included', async () => {
    const lstm: ModelSpec['nodes'][0] = { op: 'LSTM', inputs: ['x3', 'W', 'R'], outputs: ['l'], attrs: { hidden_size: 5 } };
    const spec: ModelSpec = {
      domains: { 'com.example': 1 },
      nodes: [
        { op: 'Hardmax', name: 'first_hardmax', inputs: ['x'], outputs: ['h1'] },
        { op: 'Hardmax', inputs: ['h1'], outputs: ['h2'] },
        { op: 'FancyGelu', domain: 'com.example', inputs: ['h2'], outputs: ['g'] },
        { op: 'Unsqueeze', inputs: ['g', 'ax'], outputs: ['x3'] },
        // the condition is a run-time input: the branches stay, and the LSTM inside them is listed
        { op: 'If', inputs: ['cond'], outputs: ['y'], attrs: { then_branch: { graph: { nodes: [lstm], inputs: [], outputs: ['l'] } }, else_branch: { graph: { nodes: [{ ...lstm }], inputs: [], outputs: ['l'] } } } },
      ],
      inputs: [{ name: 'x', dims: [2, 5] }, { name: 'cond', dims: [], type: 'bool' }],
      outputs: ['y'],
      initializers: [i64('ax', [1]), w('W', [1, 20, 5]), w('R', [1, 20, 5])],
    };
    const e = await rejects(InferenceSession.create(buildModel(spec)));
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect((e as UnsupportedOpError).node).toBe('first_hardmax');
    expect(e.message).toMatch(/in all, the model has Hardmax x2, com\.example:FancyGelu x1, If x1, LSTM x2 that edgeprune cannot run/);
  });
  it('a supported node reading a supported and an unsupported node: the unsupported one is named, not the reader', async () => {
    const spec: ModelSpec = {
      nodes: [
        { op: 'Relu', name: 'known_relu', inputs: ['x'], outputs: ['r'] },
        { op: 'Hardmax', name: 'the_hardmax', inputs: ['x'], outputs: ['q'] },
        { op: 'Add', inputs: ['r', 'q'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [2, 5] }],
      outputs: ['y'],
    };
    const e = await rejects(InferenceSession.create(buildModel(spec)));
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect((e as UnsupportedOpError).node).toBe('the_hardmax');
    expect(e.message).toMatch(/unsupported operator Hardmax at node 'the_hardmax': no implementation/);
  });
  it('a node needing a constant input that is computed at run time is named, not the node reading its output', async () => {
    const spec: ModelSpec = {
      nodes: [
        { op: 'Reshape', name: 'reshape', inputs: ['x', 'shape'], outputs: ['r'] },
        { op: 'ReduceMean', inputs: ['r'], outputs: ['y'], attrs: { axes: [1], keepdims: 0 } },
      ],
      inputs: [{ name: 'x', dims: [2, 6] }, { name: 'shape', dims: [2], type: 'int64' }],
      outputs: ['y'],
    };
    const e = await rejects(InferenceSession.create(buildModel(spec)));
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect(e.message).toMatch(/unsupported operator Reshape at node 'reshape': the target shape \(input 1, 'shape'\) is computed at run time; edgeprune needs it constant/);
  });
  it('one unsupported op: the message has no list', async () => {
    const spec: ModelSpec = { nodes: [{ op: 'Hardmax', inputs: ['x'], outputs: ['y'] }], inputs: [{ name: 'x', dims: [2, 5] }], outputs: ['y'] };
    const e = await rejects(InferenceSession.create(buildModel(spec)));
    expect(e.message).not.toMatch(/in all/);
  });
  it('a custom-domain op', async () => {
    const spec: ModelSpec = {
      domains: { 'com.example': 1 },
      nodes: [{ op: 'FancyGelu', name: 'custom_node', domain: 'com.example', inputs: ['x'], outputs: ['y'] }],
      inputs: [{ name: 'x', dims: [2, 5] }],
      outputs: ['y'],
    };
    const e = await rejects(InferenceSession.create(buildModel(spec)));
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect(e.message).toContain('FancyGelu');
    expect(e.message).toContain('custom_node');
    expect(e.message).toContain('com.example');
  });
  it('a custom-domain op whose name matches a standard one (Relu in com.example)', async () => {
    const spec: ModelSpec = {
      domains: { 'com.example': 1 },
      nodes: [{ op: 'Relu', name: 'not_the_real_relu', domain: 'com.example', inputs: ['x'], outputs: ['y'] }],
      inputs: [{ name: 'x', dims: [2, 5] }],
      outputs: ['y'],
    };
    const e = await rejects(InferenceSession.create(buildModel(spec)));
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect(e.message).toContain('not_the_real_relu');
  });
  const feature = (op: string, attrs: NonNullable<ModelSpec['nodes'][0]['attrs']>, extra: string[] = [], inits: ModelSpec['initializers'] = [], opset = 13): ModelSpec => ({
    opset,
    nodes: [{ op, name: 'the_node', inputs: ['x', ...extra], outputs: ['y'], attrs }],
    inputs: [{ name: 'x', dims: [1, 2, 4, 4] }],
    outputs: ['y'],
    initializers: inits,
  });
  it('unsupported op features name the node: Resize cubic, Cast to int64 at run time', async () => {
    const cases: [string, ModelSpec][] = [
      ['Resize', feature('Resize', { mode: 'cubic' }, ['', 'sc'], [{ name: 'sc', dims: [4], data: [1, 1, 2, 2] }])],
      ['Pad', feature('Pad', { mode: 'symmetric' }, ['p'], [{ name: 'p', dims: [8], data: BigInt64Array.from([0n, 0n, 1n, 1n, 0n, 0n, 1n, 1n]) }])],
      ['Cast', feature('Cast', { to: 7 })],
      ['Resize', feature('Resize', { mode: 'linear', antialias: 1 }, ['', 'sc'], [{ name: 'sc', dims: [4], data: [1, 1, 0.5, 0.5] }], 18)],
      ['Resize', feature('Resize', { mode: 'nearest', keep_aspect_ratio_policy: 'not_larger' }, ['', '', 'sz'], [{ name: 'sz', dims: [4], data: BigInt64Array.from([1n, 2n, 8n, 6n]) }], 18)],
      ['Resize', feature('Resize', { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize' }, ['', 'sc'], [{ name: 'sc', dims: [4], data: [1, 1, 2, 2] }])],
      ['Resize', feature('Resize', { mode: 'nearest' }, ['', 'sc'], [{ name: 'sc', dims: [4], data: [1, 2, 2, 2] }])],
    ];
    for (const [op, spec] of cases) {
      const e = await rejects(InferenceSession.create(buildModel(spec)));
      expect(e, op).toBeInstanceOf(UnsupportedOpError);
      expect(e.message, op).toContain(op);
      expect(e.message, op).toContain('the_node');
    }
  });
  it('Expand, Tile, DepthToSpace, SpaceToDepth, InstanceNormalization and Pad that cannot apply name the node and say why', async () => {
    const cases: [ModelSpec, RegExp][] = [
      [feature('DepthToSpace', { blocksize: 3 }), /the_node' \(DepthToSpace\): 2 channels do not split into 3x3 blocks/],
      [feature('DepthToSpace', { blocksize: 0 }), /blocksize 0 must be a positive integer/],
      [feature('DepthToSpace', { blocksize: 1, mode: 'XYZ' }), /mode 'XYZ' is not DCR or CRD/],
      [feature('SpaceToDepth', { blocksize: 3 }), /the_node' \(SpaceToDepth\): the 4x4 map does not split into 3x3 blocks/],
      [feature('Tile', {}, ['r'], [i64('r', [2, 2])]), /the_node' \(Tile\): repeats has 2 counts for an input of rank 4/],
      [feature('Tile', {}, ['r'], [i64('r', [1, 1, -1, 1])]), /repeats \[1, 1, -1, 1\] must be non-negative/],
      [feature('Expand', {}, ['s'], [i64('s', [3, 4])]), /do not broadcast/],
      [feature('Pad', { mode: 'reflect' }, ['p'], [i64('p', [0, 0, 4, 0, 0, 0, 0, 0])]), /the_node' \(Pad\): reflect padding of 4 along axis 2 needs more than the 4 values there/],
      [feature('Pad', { mode: 'wrap' }, ['p'], [i64('p', [0, 0, 0, 5, 0, 0, 0, 0])], 19), /wrap padding of 5 along axis 3/],
      [feature('InstanceNormalization', {}, ['s', 'b'], [w('s', [3]), w('b', [2])]), /the_node' \(InstanceNormalization\): scale has 3 values for 2 channels/],
      [{ ...feature('InstanceNormalization', {}, ['s', 'b'], [w('s', [2]), w('b', [2])]), inputs: [{ name: 'x', dims: [4, 2] }] }, /must be N x C x spatial \(rank 3 or more\), got \[4, 2\]/],
    ];
    for (const [spec, message] of cases) {
      const e = await rejects(InferenceSession.create(buildModel(spec)));
      expect(e.message).toMatch(message);
      expect(e.name).toMatch(/ModelFormatError|ShapeError/);
    }
  });
  it('If with a run-time condition', async () => {
    const branch = (op: string) => ({ graph: { nodes: [{ op, inputs: ['x'], outputs: ['o'] }], inputs: [], outputs: ['o'] } });
    const spec: ModelSpec = {
      nodes: [
        { op: 'ReduceSum', inputs: ['x'], outputs: ['s'], attrs: { keepdims: 0 } },
        { op: 'Greater', inputs: ['s', 'zero'], outputs: ['c'] },
        { op: 'If', name: 'dynamic_if', inputs: ['c'], outputs: ['y'], attrs: { then_branch: branch('Relu'), else_branch: branch('Neg') } },
      ],
      inputs: [{ name: 'x', dims: [2, 5] }],
      outputs: ['y'],
      initializers: [{ name: 'zero', dims: [], data: [0] }],
    };
    const e = await rejects(InferenceSession.create(buildModel(spec)));
    expect(e).toBeInstanceOf(UnsupportedOpError);
    expect(e.message).toMatch(/If|Greater/);
  });
});

describe('bad feeds → InputError naming the input', () => {
  const model = buildModel(good);
  const x = () => new Tensor('float32', new Float32Array(75), [1, 3, 5, 5]);

  it('a good feed runs', async () => {
    const s = await InferenceSession.create(model);
    const out = await s.run({ x: x() });
    expect([...out.y.dims]).toEqual([1, 4, 5, 5]);
  });
  it('missing feed', async () => {
    const s = await InferenceSession.create(model);
    const e = await rejects(s.run({}));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toContain("'x'");
  });
  it('extra feed', async () => {
    const s = await InferenceSession.create(model);
    const e = await rejects(s.run({ x: x(), extra: x() }));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toContain("'extra'");
    expect(e.message).toContain("'x'");
  });
  it('wrong dtype: Int32Array data, and type int64', async () => {
    const s = await InferenceSession.create(model);
    const e1 = await rejects(s.run({ x: { type: 'float32', data: new Int32Array(75), dims: [1, 3, 5, 5] } }));
    expect(e1).toBeInstanceOf(InputError);
    expect(e1.message).toContain("'x'");
    const e2 = await rejects(s.run({ x: { type: 'int64', data: new BigInt64Array(75), dims: [1, 3, 5, 5] } }));
    expect(e2).toBeInstanceOf(InputError);
    expect(e2.message).toContain("'x'");
    expect(e2.message).toContain('int64');
  });
  it('wrong dims on a fixed dim names the input and the expected dims', async () => {
    const s = await InferenceSession.create(model);
    const e = await rejects(s.run({ x: new Tensor('float32', new Float32Array(90), [1, 3, 5, 6]) }));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toContain("'x'");
    expect(e.message).toContain('[1, 3, 5, 5]');
  });
  it('wrong rank', async () => {
    const s = await InferenceSession.create(model);
    const e = await rejects(s.run({ x: new Tensor('float32', new Float32Array(75), [3, 5, 5]) }));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toContain('[1, 3, 5, 5]');
  });
  it('data length that does not match the dims', async () => {
    const s = await InferenceSession.create(model);
    const e = await rejects(s.run({ x: { type: 'float32', data: new Float32Array(10), dims: [1, 3, 5, 5] } }));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toContain("'x'");
  });
  it('a symbolic dim accepts any size but a fixed one next to it does not', async () => {
    const s = await InferenceSession.create(buildModel({ ...good, inputs: [{ name: 'x', dims: ['N', 3, 5, 5] }] }));
    const ok = await s.run({ x: new Tensor('float32', new Float32Array(150), [2, 3, 5, 5]) });
    expect([...ok.y.dims]).toEqual([2, 4, 5, 5]);
    const e = await rejects(s.run({ x: new Tensor('float32', new Float32Array(100), [2, 2, 5, 5]) }));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toContain('[N, 3, 5, 5]');
  });
  it('after release', async () => {
    const s = await InferenceSession.create(model);
    await s.release();
    expect(await rejects(s.run({ x: x() }))).toBeInstanceOf(SessionReleasedError);
  });
});
