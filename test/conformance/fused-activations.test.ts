// Activations exporters write as chains of elementwise nodes (SiLU as Sigmoid·x, HardSwish as
// HardSigmoid·x or x·Clip(x+3, 0, 6)/6 in four orders) run as one kernel pass
// (src/runtime/fuse-elementwise.ts), and PP-LCNetV3's learnable affine blocks. Each form: against onnxruntime-node, bit-identical to the
// same graph with fusion prevented, and shown in session.info(); forms that only look alike
// (other constants, a broadcast gate, a value read twice) are left as they are.
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { buildModel, compareRun, expectSameAsOrt, f32, w, type ModelSpec, type NodeSpec } from './harness.js';

const DIMS = [2, 3, 5, 7];
const N = DIMS.reduce((a, b) => a * b, 1);
/** Spans the kinks of the hard forms (-3, 0, 3) exactly, and values far out on both sides. */
const X = Float32Array.from({ length: N }, (_, i) => [-3, 3, 0, -0][i % 17] ?? ((i * 37) % 101) / 8 - 6.3);

/** Clip to [lo, hi]: attributes before opset 11, inputs after. */
function clip(opset: number, x: string, y: string, lo: number, hi: number): { node: NodeSpec; inits: ReturnType<typeof f32>[] } {
  if (opset < 11) return { node: { op: 'Clip', inputs: [x], outputs: [y], attrs: { min: { float: lo }, max: { float: hi } } }, inits: [] };
  return { node: { op: 'Clip', inputs: [x, `${y}.lo`, `${y}.hi`], outputs: [y] }, inits: [f32(`${y}.lo`, [lo], []), f32(`${y}.hi`, [hi], [])] };
}

/** in → Mul by 1 → x → chain → y: x is a computed value, as in a model. */
function model(opset: number, chain: NodeSpec[], inits: ReturnType<typeof f32>[] = [], extraOutputs: string[] = []): ModelSpec {
  return {
    opset,
    nodes: [{ op: 'Mul', inputs: ['in', 'one'], outputs: ['x'] }, ...chain],
    inputs: [{ name: 'in', dims: DIMS }],
    outputs: ['y', ...extraOutputs],
    initializers: [f32('one', [1], []), ...inits],
  };
}

interface Form {
  name: string;
  kernel: string;
  opset: number;
  chain: NodeSpec[];
  inits?: ReturnType<typeof f32>[];
  /** Intermediate values: made graph outputs, they stop the fusion (the unfused twin). */
  between: string[];
}

function hardSwish(opset: number, name: string, kernel: string, tail: (t: string) => NodeSpec[], tailInits: ReturnType<typeof f32>[], between: string[], add: NodeSpec = { op: 'Add', inputs: ['x', 'three'], outputs: ['a'] }): Form {
  const c = clip(opset, 'a', 't', 0, 6);
  return { name, kernel, opset, chain: [add, c.node, ...tail('t')], inits: [f32('three', [3], []), ...c.inits, ...tailInits], between: ['a', 't', ...between] };
}

const FORMS: Form[] = [
  { name: 'SiLU: Mul(x, Sigmoid(x))', kernel: 'unary:silu', opset: 13, chain: [{ op: 'Sigmoid', inputs: ['x'], outputs: ['s'] }, { op: 'Mul', inputs: ['x', 's'], outputs: ['y'] }], between: ['s'] },
  { name: 'SiLU: Mul(Sigmoid(x), x)', kernel: 'unary:silu', opset: 13, chain: [{ op: 'Sigmoid', inputs: ['x'], outputs: ['s'] }, { op: 'Mul', inputs: ['s', 'x'], outputs: ['y'] }], between: ['s'] },
  {
    name: 'HardSwish as PyTorch writes it before opset 14: Mul(x, HardSigmoid(x, 1/6, 0.5))', kernel: 'unary:xHardSigmoid', opset: 13,
    chain: [{ op: 'HardSigmoid', inputs: ['x'], outputs: ['s'], attrs: { alpha: { float: 1 / 6 }, beta: { float: 0.5 } } }, { op: 'Mul', inputs: ['x', 's'], outputs: ['y'] }], between: ['s'],
  },
  hardSwish(9, 'HardSwish as paddle2onnx writes it (opset 9): Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6)', 'unary:hardSwishDiv',
    (t) => [{ op: 'Mul', inputs: ['x', t], outputs: ['m'] }, { op: 'Div', inputs: ['m', 'six'], outputs: ['y'] }], [f32('six', [6], [])], ['m']),
  hardSwish(13, 'HardSwish as tf2onnx writes it: Mul(Mul(t, x), 1/6), Add(3, x)', 'unary:hardSwishMul',
    (t) => [{ op: 'Mul', inputs: [t, 'x'], outputs: ['m'] }, { op: 'Mul', inputs: ['sixth', 'm'], outputs: ['y'] }], [f32('sixth', [1 / 6], [])], ['m'],
    { op: 'Add', inputs: ['three', 'x'], outputs: ['a'] }),
  hardSwish(13, 'hard_swish written x * (relu6(x + 3) / 6)', 'unary:hardSwishDivFirst',
    (t) => [{ op: 'Div', inputs: [t, 'six'], outputs: ['d'] }, { op: 'Mul', inputs: ['x', 'd'], outputs: ['y'] }], [f32('six', [6], [])], ['d']),
  hardSwish(11, 'hard_swish written x * (relu6(x + 3) * (1/6)), opset 11', 'unary:hardSwishMulFirst',
    (t) => [{ op: 'Mul', inputs: [t, 'sixth'], outputs: ['d'] }, { op: 'Mul', inputs: ['d', 'x'], outputs: ['y'] }], [f32('sixth', [1 / 6], [])], ['d']),
  {
    name: "PP-LCNetV3's learnable affine block: Add(Mul(x, a), b), scalars on either side", kernel: 'unary:affine', opset: 13,
    chain: [{ op: 'Mul', inputs: ['a', 'x'], outputs: ['m'] }, { op: 'Add', inputs: ['m', 'b'], outputs: ['y'] }],
    inits: [f32('a', [1.37], []), f32('b', [-0.21], [1])], between: ['m'],
  },
];

async function runModel(bytes: Uint8Array, wasm: 'simd' | 'relaxed' | 'auto' = 'auto'): Promise<{ s: InferenceSession; y: Float32Array }> {
  const s = await InferenceSession.create(bytes, { wasm });
  const y = (await s.run({ in: new Tensor('float32', X, DIMS) })).y.data as Float32Array;
  return { s, y };
}

describe('activations written as chains of elementwise nodes run as one pass', () => {
  it.each(FORMS)('$name', async (f) => {
    const bytes = buildModel(model(f.opset, f.chain, f.inits));
    const { s, y } = await runModel(bytes);
    await compareRun(s, bytes, { in: { data: X, dims: DIMS } }, { what: f.name });
    const kernels = s.info().nodes.map((n) => n.kernel);
    expect(kernels.filter((k) => k === f.kernel)).toHaveLength(1);
    expect(kernels.filter((k) => k === 'fused')).toHaveLength(f.chain.length - 1);
    // the same graph with the chain's values also read as outputs runs node by node: same bits
    const twin = await runModel(buildModel(model(f.opset, f.chain, f.inits, f.between)));
    expect(twin.s.info().nodes.map((n) => n.kernel)).not.toContain(f.kernel);
    expect(Array.from(y)).toEqual(Array.from(twin.y));
  });

  it('NaN and infinities: each hard-swish form keeps its unfused twin\'s bits', async () => {
    const special = Float32Array.from(X, (v, i) => [NaN, Infinity, -Infinity, -3, v][i % 5]);
    const run = async (bytes: Uint8Array, wasm: 'simd' | 'relaxed') => {
      const s = await InferenceSession.create(bytes, { wasm });
      return Array.from((await s.run({ in: new Tensor('float32', special, DIMS) })).y.data as Float32Array);
    };
    for (const f of FORMS.filter((g) => g.kernel.startsWith('unary:hardSwish'))) {
      for (const wasm of ['simd', 'relaxed'] as const) {
        const fused = await run(buildModel(model(f.opset, f.chain, f.inits)), wasm);
        expect(fused.filter((v) => Number.isNaN(v)).length, f.name).toBeGreaterThanOrEqual(special.length / 5);
        expect(fused, `${wasm} ${f.name}`).toEqual(await run(buildModel(model(f.opset, f.chain, f.inits, f.between)), wasm));
      }
    }
  });

  it('a hard-swish chain then an affine block (PP-LCNetV3): one pass, bit for bit the nodes, both builds', async () => {
    for (const f of FORMS.filter((g) => g.kernel.startsWith('unary:hardSwish'))) {
      const chain = [...f.chain.map((n) => (n.outputs[0] === 'y' ? { ...n, outputs: ['h'] } : n)),
        { op: 'Mul', inputs: ['la', 'h'], outputs: ['hm'] }, { op: 'Add', inputs: ['hm', 'lb'], outputs: ['y'] }];
      const inits = [...(f.inits ?? []), f32('la', [1.37], []), f32('lb', [-0.21], [1])];
      const bytes = buildModel(model(f.opset, chain, inits));
      for (const wasm of ['simd', 'relaxed'] as const) {
        const { s, y } = await runModel(bytes, wasm);
        await compareRun(s, bytes, { in: { data: X, dims: DIMS } }, { what: f.name });
        const kernels = s.info().nodes.map((n) => n.kernel);
        expect(kernels.filter((k) => k === `${f.kernel}+affine`), f.name).toHaveLength(1);
        expect(kernels.filter((k) => k !== 'fused' && k !== 'eltwise:mul' && !k.endsWith('+affine')), f.name).toEqual([]);
        // the unfused twin: every intermediate value also a graph output
        const twin = await runModel(buildModel(model(f.opset, chain, inits, [...f.between, 'h', 'hm'])), wasm);
        expect(twin.s.info().nodes.map((n) => n.kernel).filter((k) => k.endsWith('+affine'))).toEqual([]);
        expect(Array.from(y), `${wasm} ${f.name}`).toEqual(Array.from(twin.y));
      }
    }
  });

  it('x read again after the chain (so not overwritten in place): same as onnxruntime', async () => {
    const f = FORMS[3];
    const spec = model(f.opset, [...f.chain.map((n) => (n.outputs[0] === 'y' ? { ...n, outputs: ['h'] } : n)), { op: 'Add', inputs: ['h', 'x'], outputs: ['y'] }], f.inits);
    const bytes = buildModel(spec);
    const { s } = await runModel(bytes);
    await compareRun(s, bytes, { in: { data: X, dims: DIMS } });
    expect(s.info().nodes.map((n) => n.kernel)).toContain(f.kernel);
  });

  const lookalikes: [string, ModelSpec][] = [
    ['Add of 2.5, not 3', model(13, [{ op: 'Add', inputs: ['x', 'c'], outputs: ['a'] }, clip(13, 'a', 't', 0, 6).node, { op: 'Mul', inputs: ['x', 't'], outputs: ['m'] }, { op: 'Div', inputs: ['m', 'six'], outputs: ['y'] }],
      [f32('c', [2.5], []), ...clip(13, 'a', 't', 0, 6).inits, f32('six', [6], [])])],
    ['Clip to [0, 5]', model(13, [{ op: 'Add', inputs: ['x', 'three'], outputs: ['a'] }, clip(13, 'a', 't', 0, 5).node, { op: 'Mul', inputs: ['x', 't'], outputs: ['m'] }, { op: 'Div', inputs: ['m', 'six'], outputs: ['y'] }],
      [f32('three', [3], []), ...clip(13, 'a', 't', 0, 5).inits, f32('six', [6], [])])],
    ['Div(6, m): the constant divided', model(13, [{ op: 'Add', inputs: ['x', 'three'], outputs: ['a'] }, clip(13, 'a', 't', 0, 6).node, { op: 'Mul', inputs: ['x', 't'], outputs: ['m'] }, { op: 'Div', inputs: ['six', 'm'], outputs: ['y'] }],
      [f32('three', [3], []), ...clip(13, 'a', 't', 0, 6).inits, f32('six', [6], [])])],
    ['Sigmoid of one value times another (a gate)', {
      opset: 13,
      nodes: [{ op: 'Mul', inputs: ['in', 'one'], outputs: ['x'] }, { op: 'Sigmoid', inputs: ['in'], outputs: ['s'] }, { op: 'Mul', inputs: ['x', 's'], outputs: ['y'] }],
      inputs: [{ name: 'in', dims: DIMS }], outputs: ['y'], initializers: [f32('one', [1], [])],
    }],
    ['HardSigmoid of a pooled gate broadcast over the feature map (squeeze-and-excitation)', {
      opset: 13,
      nodes: [{ op: 'GlobalAveragePool', inputs: ['in'], outputs: ['g'] }, { op: 'HardSigmoid', inputs: ['g'], outputs: ['s'] }, { op: 'Mul', inputs: ['s', 'in'], outputs: ['y'] }],
      inputs: [{ name: 'in', dims: DIMS }], outputs: ['y'],
    }],
    ['Mul by a scalar, then Add of a per-column bias', model(13, [{ op: 'Mul', inputs: ['x', 'a'], outputs: ['m'] }, { op: 'Add', inputs: ['m', 'bias'], outputs: ['y'] }],
      [f32('a', [1.37], []), f32('bias', [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], [7])])],
    ['the sigmoid also read by another node', model(13, [{ op: 'Sigmoid', inputs: ['x'], outputs: ['s'] }, { op: 'Mul', inputs: ['x', 's'], outputs: ['m'] }, { op: 'Add', inputs: ['m', 's'], outputs: ['y'] }])],
  ];

  it.each(lookalikes)('not fused: %s', async (_, spec) => {
    const bytes = buildModel(spec);
    const { s } = await runModel(bytes);
    await compareRun(s, bytes, { in: { data: X, dims: DIMS } });
    expect(s.info().nodes.map((n) => n.kernel).filter((k) => /silu|xHardSigmoid|hardSwish/.test(k) || k === 'fused')).toEqual([]);
  });

  it('the simd and relaxed builds fuse alike and agree with their unfused twins bit for bit', async () => {
    for (const wasm of ['simd', 'relaxed'] as const) {
      for (const f of [FORMS[0], FORMS[2], FORMS[3], FORMS[FORMS.length - 1]]) {
        const a = await runModel(buildModel(model(f.opset, f.chain, f.inits)), wasm);
        const b = await runModel(buildModel(model(f.opset, f.chain, f.inits, f.between)), wasm);
        expect(Array.from(a.y), `${wasm} ${f.name}`).toEqual(Array.from(b.y));
      }
    }
  });
});

describe('a scalar Mul then Add after a conv or Gemm (PP-LCNetV3 affine block) folds into it like a BatchNormalization', () => {
  const x = { name: 'x', dims: [1, 3, 9, 11] };
  const bn = (c: number) => [w('s', [c], 0.5, 1.5), w('b', [c]), w('m', [c]), w('v', [c], 0.5, 2)];
  // the scalars on either side of their node, rank 0 and rank 1
  const affine = (from: string, flip: boolean): NodeSpec[] => [
    { op: 'Mul', inputs: flip ? ['a', from] : [from, 'a'], outputs: ['m'] },
    { op: 'Add', inputs: flip ? ['m', 'c'] : ['c', 'm'], outputs: ['y'] },
  ];
  const scalars = [f32('a', [1.7], []), f32('c', [-0.4], [1])];
  const cases: [string, ModelSpec, RegExp][] = [
    ['Conv -> Mul -> Add', { nodes: [{ op: 'Conv', inputs: ['x', 'w', 'wb'], outputs: ['t'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } }, ...affine('t', false)],
      inputs: [x], outputs: ['y'], initializers: [w('w', [5, 3, 3, 3]), w('wb', [5]), ...scalars] }, /^conv:\w+\+affine$/],
    ['depthwise Conv -> BatchNormalization -> Mul(a, x) -> Add -> Relu', {
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['t'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 3 } },
        { op: 'BatchNormalization', inputs: ['t', 's', 'b', 'm0', 'v'], outputs: ['n'] }, ...affine('n', true).map((q) => (q.op === 'Add' ? { ...q, outputs: ['r'] } : q)),
        { op: 'Relu', inputs: ['r'], outputs: ['y'] }],
      inputs: [x], outputs: ['y'], initializers: [w('w', [3, 1, 3, 3]), ...bn(3).map((t) => (t.name === 'm' ? { ...t, name: 'm0' } : t)), ...scalars] }, /^conv:depthwise\+bn\+affine$/],
    ['Gemm (transB, alpha) -> Mul -> Add', { nodes: [{ op: 'Gemm', inputs: ['v2', 'gw', 'gb'], outputs: ['t'], attrs: { transB: 1, alpha: { float: 0.5 } } }, ...affine('t', false)],
      inputs: [{ name: 'v2', dims: [2, 7] }], outputs: ['y'], initializers: [w('gw', [4, 7]), w('gb', [4]), ...scalars] }, /^gemm:packed\+affine$/],
  ];
  it.each(cases)('%s: one kernel, the same as onnxruntime', async (_, spec, kernel) => {
    const s = await expectSameAsOrt(spec);
    const kernels = s.info().nodes.map((n) => n.kernel);
    expect(kernels.filter((k) => kernel.test(k))).toHaveLength(1);
    expect(kernels.filter((k) => k !== 'fused' && !kernel.test(k))).toEqual([]);
  });

  const lookalikes: [string, ModelSpec][] = [
    ['a per-channel Mul (not a scalar)', { nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['t'], attrs: { kernel_shape: [1, 1] } }, ...affine('t', false)],
      inputs: [x], outputs: ['y'], initializers: [w('w', [4, 3, 1, 1]), w('a', [1, 4, 1, 1]), f32('c', [0.2], [])] }],
    ['the Mul also read by another node', { nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['t'], attrs: { kernel_shape: [1, 1] } }, ...affine('t', false), { op: 'Add', inputs: ['m', 'y'], outputs: ['z'] }],
      inputs: [x], outputs: ['z'], initializers: [w('w', [4, 3, 1, 1]), ...scalars] }],
    ['the conv output also a graph output', { nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['t'], attrs: { kernel_shape: [1, 1] } }, ...affine('t', false)],
      inputs: [x], outputs: ['y', 't'], initializers: [w('w', [4, 3, 1, 1]), ...scalars] }],
  ];
  it.each(lookalikes)('not folded: %s', async (_, spec) => {
    const s = await expectSameAsOrt(spec);
    expect(s.info().nodes.map((n) => n.kernel).filter((k) => k.includes('affine') && k.startsWith('conv'))).toEqual([]);
  });
});
