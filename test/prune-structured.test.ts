// Structured (channel) pruning: dependency groups over real block patterns, checked by running
// the pruned, exported model in edgeprune and in onnxruntime-node, by exact equality with the
// dense model when the removed channels were dead, by the channel counts and by FLOPs.
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../src/errors.js';
import type { Graph } from '../src/graph/ir.js';
import { importOnnx } from '../src/onnx/import.js';
import { exportOnnx } from '../src/onnx/export.js';
import { buildDependencyGraph } from '../src/prune/dependency.js';
import { channelPrune, lnStructured } from '../src/prune/structured.js';
import { keptCount } from '../src/prune/structured-count.js';
import { InferenceSession } from '../src/runtime/session.js';
import { specialize } from '../src/runtime/specialize.js';
import { buildModel, compareRun, f32, i64, rand, randomFeeds, runOrt, type Feeds, type ModelSpec, type NodeSpec, type TensorSpec } from './conformance/harness.js';
import { expectClose } from './util/close.js';

type Init = TensorSpec & { name: string };

/** Random weights; with `dead`, the odd slices along axis 0 are zero (channels that compute 0). */
function wt(name: string, dims: number[], dead = false, lo = -0.5, hi = 0.5): Init {
  const data = rand(dims.reduce((a, b) => a * b, 1), lo, hi);
  if (dead) {
    const inner = data.length / dims[0];
    for (let c = 1; c < dims[0]; c += 2) data.fill(0, c * inner, (c + 1) * inner);
  }
  return { name, dims, data };
}

/** A [K, N] MatMul weight whose odd output columns are zero when `dead`. */
function wtCols(name: string, k: number, n: number, dead: boolean): Init {
  const t = wt(name, [k, n]);
  if (dead) for (let i = 0; i < k; i++) for (let j = 1; j < n; j += 2) (t.data as Float32Array)[i * n + j] = 0;
  return t;
}

/** Conv [+ BN] [+ act]: x → out. Dead: odd output channels are exactly 0 after BN. */
function conv(p: string, x: string, out: string, cin: number, cout: number, o: { k?: number; group?: number; bn?: boolean; act?: string; dead?: boolean; stride?: number } = {}): { nodes: NodeSpec[]; inits: Init[] } {
  const { k = 3, group = 1, bn = false, act = 'Relu', dead = false, stride = 1 } = o;
  const pad = (k - 1) >> 1;
  const nodes: NodeSpec[] = [];
  const inits: Init[] = [wt(`${p}.w`, [cout, cin / group, k, k], dead), wt(`${p}.b`, [cout], dead)];
  let cur = `${p}.conv`;
  nodes.push({ op: 'Conv', inputs: [x, `${p}.w`, `${p}.b`], outputs: [cur], attrs: { kernel_shape: [k, k], pads: [pad, pad, pad, pad], group, strides: [stride, stride] } });
  if (bn) {
    nodes.push({ op: 'BatchNormalization', inputs: [cur, `${p}.s`, `${p}.bb`, `${p}.m`, `${p}.v`], outputs: [`${p}.bn`], attrs: { epsilon: { float: 1e-5 } } });
    inits.push(wt(`${p}.s`, [cout], false, 0.5, 1.5), wt(`${p}.bb`, [cout], dead, -0.2, 0.2), wt(`${p}.m`, [cout], dead, -0.2, 0.2), wt(`${p}.v`, [cout], false, 0.5, 1.5));
    cur = `${p}.bn`;
  }
  if (act) {
    nodes.push({ op: act, inputs: [cur], outputs: [out] });
  } else nodes[nodes.length - 1].outputs = [out];
  return { nodes, inits };
}

function join(...parts: { nodes: NodeSpec[]; inits: Init[] }[]): { nodes: NodeSpec[]; initializers: Init[] } {
  return { nodes: parts.flatMap((p) => p.nodes), initializers: parts.flatMap((p) => p.inits) };
}

const X = (c = 3, hw = 8, batch: number | string = 1) => [{ name: 'x', dims: [batch, c, hw, hw] }];

// ---- the models ----

const models: Record<string, (dead?: boolean) => ModelSpec> = {
  'Conv-BN-Relu stack': (dead = false) => ({
    ...join(
      conv('c1', 'x', 'a1', 3, 16, { bn: true, dead }),
      conv('c2', 'a1', 'a2', 16, 32, { bn: true, dead }),
      conv('c3', 'a2', 'a3', 32, 32, { bn: true, dead }),
      conv('c4', 'a3', 'a4', 32, 32, { bn: true, dead }),
      conv('out', 'a4', 'y', 32, 4, { k: 1, act: '' }),
    ),
    inputs: X(3, 12),
    outputs: ['y'],
  }),
  'residual block (Add)': (dead = false) => ({
    ...join(
      conv('c1', 'x', 'a', 3, 16, { dead }),
      conv('r1', 'a', 'r1o', 16, 16, { bn: true, dead }),
      conv('r2', 'r1o', 'r2o', 16, 16, { bn: true, act: '', dead }),
      { nodes: [{ op: 'Add', inputs: ['a', 'r2o'], outputs: ['s'] }, { op: 'Relu', inputs: ['s'], outputs: ['b'] }], inits: [] },
      conv('out', 'b', 'y', 16, 4, { k: 1, act: '' }),
    ),
    inputs: X(),
    outputs: ['y'],
  }),
  'Concat of two branches': (dead = false) => ({
    ...join(
      conv('ba', 'x', 'a', 3, 8, { dead }),
      conv('bb', 'x', 'b', 3, 16, { k: 1, dead, act: 'Tanh' }),
      { nodes: [{ op: 'Concat', inputs: ['a', 'b'], outputs: ['cat'], attrs: { axis: 1 } }], inits: [] },
      conv('c', 'cat', 'co', 24, 16, { dead }),
      conv('out', 'co', 'y', 16, 4, { k: 1, act: '' }),
    ),
    inputs: X(),
    outputs: ['y'],
  }),
  Split: (dead = false) => ({
    ...join(
      conv('c1', 'x', 'a', 3, 32, { dead }),
      { nodes: [{ op: 'Split', inputs: ['a', 'sizes'], outputs: ['s1', 's2'], attrs: { axis: 1 } }], inits: [i64('sizes', [16, 16])] },
      conv('l', 's1', 'lo', 16, 8, { k: 1, dead }),
      conv('r', 's2', 'ro', 16, 8, { k: 1, dead, act: 'Tanh' }),
      { nodes: [{ op: 'Add', inputs: ['lo', 'ro'], outputs: ['sum'] }], inits: [] },
      conv('out', 'sum', 'y', 8, 4, { k: 1, act: '' }),
    ),
    inputs: X(),
    outputs: ['y'],
  }),
  'depthwise-separable block': (dead = false) => ({
    ...join(
      conv('c1', 'x', 'a', 3, 16, { bn: true, dead }),
      conv('dw', 'a', 'd', 16, 16, { group: 16, bn: true, act: 'Clip', dead }),
      conv('pw', 'd', 'p', 16, 32, { k: 1, bn: true, dead }),
      conv('out', 'p', 'y', 32, 4, { k: 1, act: '' }),
    ),
    inputs: X(),
    outputs: ['y'],
  }),
  'squeeze-and-excitation block': (dead = false) => ({
    ...join(
      conv('c1', 'x', 't', 3, 16, { dead }),
      { nodes: [{ op: 'GlobalAveragePool', inputs: ['t'], outputs: ['g'] }], inits: [] },
      conv('se1', 'g', 'h', 16, 4, { k: 1 }),
      conv('se2', 'h', 'e', 4, 16, { k: 1, act: 'HardSigmoid', dead }),
      { nodes: [{ op: 'Mul', inputs: ['t', 'e'], outputs: ['m'] }], inits: [] },
      conv('out', 'm', 'y', 16, 4, { k: 1, act: '' }),
    ),
    inputs: X(),
    outputs: ['y'],
  }),
  'Conv → Flatten → Gemm → Relu → Gemm (symbolic batch)': (dead = false) => ({
    ...join(conv('c1', 'x', 'a', 3, 8, { stride: 2, dead }), {
      nodes: [
        { op: 'Flatten', inputs: ['a'], outputs: ['f'], attrs: { axis: 1 } },
        { op: 'Gemm', inputs: ['f', 'g1.w', 'g1.b'], outputs: ['h'], attrs: { transB: 1 } },
        { op: 'Relu', inputs: ['h'], outputs: ['hr'] },
        { op: 'Gemm', inputs: ['hr', 'g2.w', 'g2.b'], outputs: ['y'], attrs: { transB: 1 } },
      ],
      inits: [wt('g1.w', [32, 8 * 4 * 4], dead, -0.2, 0.2), wt('g1.b', [32], dead), wt('g2.w', [10, 32], false, -0.3, 0.3), wt('g2.b', [10])],
    }),
    inputs: X(3, 8, 'batch'),
    outputs: ['y'],
  }),
  "PyTorch's x.view(x.size(0), -1) chain into Gemm (symbolic batch)": (dead = false) => ({
    ...join(conv('c1', 'x', 'a', 3, 8, { stride: 2, dead }), {
      nodes: [
        { op: 'Shape', inputs: ['a'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'], attrs: { axis: 0 } },
        { op: 'Unsqueeze', inputs: ['n', 'ax0'], outputs: ['n1'] },
        { op: 'Concat', inputs: ['n1', 'm1'], outputs: ['shape'], attrs: { axis: 0 } },
        { op: 'Reshape', inputs: ['a', 'shape'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'g1.w', 'g1.b'], outputs: ['y'], attrs: { transB: 1 } },
      ],
      inits: [{ name: 'i0', dims: [], data: BigInt64Array.from([0n]) }, i64('ax0', [0]), i64('m1', [-1]), wt('g1.w', [10, 8 * 16], false, -0.2, 0.2), wt('g1.b', [10])],
    }),
    inputs: X(3, 8, 'batch'),
    outputs: ['y'],
  }),
  "torch's x.mean([2, 3]) into a Linear, after an SE-like spatial ReduceSum (opset 13 axes input)": (dead = false) => ({
    ...join(conv('c1', 'x', 'a', 3, 16, { dead }), {
      nodes: [
        { op: 'ReduceSum', inputs: ['a', 'sp'], outputs: ['s'], attrs: { keepdims: 1 } },
        { op: 'Mul', inputs: ['a', 's'], outputs: ['m'] },
        { op: 'ReduceMean', inputs: ['m'], outputs: ['g'], attrs: { axes: [2, 3], keepdims: 0 } },
        { op: 'Gemm', inputs: ['g', 'g1.w', 'g1.b'], outputs: ['y'], attrs: { transB: 1 } },
      ],
      inits: [i64('sp', [-1, -2]), wt('g1.w', [10, 16], false, -0.3, 0.3), wt('g1.b', [10])],
    }),
    inputs: X(),
    outputs: ['y'],
  }),
  'equal Split without sizes, Resize, MatMul + Add hidden layer': (dead = false) => ({
    ...join(
      conv('c1', 'x', 'a', 3, 16, { dead }),
      {
        nodes: [
          { op: 'Split', inputs: ['a'], outputs: ['s1', 's2'], attrs: { axis: 1 } },
          { op: 'Resize', inputs: ['s2', '', 'scales'], outputs: ['up'], attrs: { mode: 'nearest' } },
          { op: 'MaxPool', inputs: ['up'], outputs: ['dn'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
          { op: 'Mul', inputs: ['s1', 'dn'], outputs: ['m'] },
          { op: 'GlobalAveragePool', inputs: ['m'], outputs: ['g'] },
          { op: 'Flatten', inputs: ['g'], outputs: ['f'] },
          { op: 'MatMul', inputs: ['f', 'mm1.w'], outputs: ['h0'] },
          { op: 'Add', inputs: ['h0', 'mm1.b'], outputs: ['h'] },
          { op: 'Relu', inputs: ['h'], outputs: ['hr'] },
          { op: 'MatMul', inputs: ['hr', 'mm2.w'], outputs: ['y'] },
        ],
        inits: [f32('scales', [1, 1, 2, 2]), wtCols('mm1.w', 8, 16, dead), wt('mm1.b', [16], dead), wt('mm2.w', [16, 5])],
      },
    ),
    inputs: X(),
    outputs: ['y'],
  }),
};

// ---- helpers ----

/** An initializer's values as a plain array. */
const vals = (g: Graph, name: string): number[] => Array.from(g.initializers.get(name)!.data as Float32Array);

/** Element-wise snapshot of every initializer (to prove identity and non-mutation). */
function snapshot(g: Graph): Map<string, { dims: number[]; bytes: Uint8Array }> {
  return new Map([...g.initializers].map(([k, t]) => [k, { dims: [...t.dims], bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice() }]));
}

/** Channel counts (axis 1) of every runtime value of a graph at batch 1. */
function channelDims(g: Graph): Map<string, number[]> {
  return specialize(g, new Map(g.inputs.map((i) => [i.name, i.dims!.map((d) => (typeof d === 'number' ? d : 1))]))).dims;
}

async function runEdgeprune(bytes: Uint8Array, feeds: Feeds): Promise<{ session: InferenceSession; y: Float32Array }> {
  const session = await InferenceSession.create(bytes);
  await compareRun(session, bytes, feeds, { what: 'pruned model vs onnxruntime' });
  const out = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, { type: 'float32', data: v.data, dims: v.dims }])));
  return { session, y: out[session.outputNames[0]].data as Float32Array };
}

describe('structured pruning of block patterns', () => {
  for (const [name, make] of Object.entries(models)) {
    describe(name, () => {
      it('0% is the identity (initializer bytes equal) and the input graph is not mutated', async () => {
        const g = importOnnx(buildModel(make()));
        const before = snapshot(g);
        const nodesBefore = JSON.stringify(g.nodes);
        const { graph } = await lnStructured(g, { amount: 0, norm: 2 });
        expect(snapshot(graph)).toEqual(before);
        const res = await lnStructured(g, { amount: 0.5, norm: 1 });
        expect(res.report.layers.length).toBeGreaterThan(0);
        expect(snapshot(g)).toEqual(before);
        expect(JSON.stringify(g.nodes)).toBe(nodesBefore);
      });

      it('50% removes half of every prunable group, keeps output dims, and runs the same in edgeprune and onnxruntime', async () => {
        const spec = make();
        const bytes = buildModel(spec);
        const g = importOnnx(bytes);
        const dep = buildDependencyGraph(g);
        const { graph, report } = await lnStructured(g, { amount: 0.5, norm: 2 });
        const dims0 = channelDims(dep.graph);
        const dims1 = channelDims(graph);
        const prunable = dep.groups.filter((grp) => grp.prunable);
        expect(prunable.length).toBeGreaterThan(0);
        // a tensor may span several groups (Concat output, Split input): sum what each keeps
        const want = new Map<string, number>();
        for (const grp of dep.groups) {
          const total = grp.units.length;
          const kept = grp.prunable ? keptCount(total, 0.5, 4, 0.9) : total;
          if (grp.prunable) expect(Math.abs(kept - total / 2), `group ${grp.values[0]}`).toBeLessThanOrEqual(4);
          for (const v of grp.values) want.set(v, (want.get(v) ?? 0) + kept * grp.units[0].get(v)!.length);
        }
        for (const [v, c] of want) expect(dims1.get(v)![1], `channels of '${v}'`).toBe(c);
        // values outside every prunable group keep their channels (graph outputs among them)
        const inGroups = new Set(prunable.flatMap((grp) => grp.values));
        for (const [v, d] of dims0) if (!inGroups.has(v)) expect(dims1.get(v), `'${v}' untouched`).toEqual(d);
        // the initializers physically shrank
        const params = (x: Graph) => [...x.initializers.values()].reduce((a, t) => a + t.data.length, 0);
        expect(params(graph)).toBeLessThan(params(dep.graph) * 0.75);
        for (const l of report.layers) if (l.channelsAfter !== undefined && l.channelsBefore !== undefined) expect(l.channelsAfter).toBeLessThanOrEqual(l.channelsBefore);

        const pruned = exportOnnx(graph);
        const feeds = randomFeeds(spec, { batch: 3 });
        const ref = await runOrt(bytes, feeds);
        const { y } = await runEdgeprune(pruned, feeds);
        expect(y.length).toBe(ref.y.data.length); // output dims unchanged
      });

      it('removing exactly the dead channels leaves the outputs unchanged (onnxruntime on both files)', async () => {
        const spec = make(true);
        const bytes = buildModel(spec);
        const { graph } = await lnStructured(importOnnx(bytes), { amount: 0.5, norm: 1 });
        const feeds = randomFeeds(spec, { batch: 2 });
        const dense = await runOrt(bytes, feeds);
        const pruned = await runOrt(exportOnnx(graph), feeds);
        expect(pruned.y.dims).toEqual(dense.y.dims);
        expectClose(pruned.y.data, dense.y.data, 'pruned vs dense');
      });
    });
  }
});

describe('structured pruning: groups and accounting', () => {
  it('a plain conv stack at 50% runs in about a quarter of the FLOPs in the pruned layers', async () => {
    const g = importOnnx(buildModel(models['Conv-BN-Relu stack']()));
    const dense = await InferenceSession.create(exportOnnx(g));
    const { graph } = await lnStructured(g, { amount: 0.5 });
    const sparse = await InferenceSession.create(exportOnnx(graph));
    const byName = (s: InferenceSession) => new Map(s.info().nodes.map((n) => [n.name, n.flops]));
    const a = byName(dense);
    const b = byName(sparse);
    // c2..c4 lose half their inputs and half their outputs
    for (const n of dense.info().nodes.filter((x) => /^g_n\d+_Conv$/.test(x.name) && x.outputDims[1] === 32)) {
      expect(a.get(n.name)! / b.get(n.name)!, n.name).toBeCloseTo(4, 1);
    }
    const ratio = dense.info().flops / sparse.info().flops;
    expect(ratio).toBeGreaterThan(3.3);
    expect(ratio).toBeLessThan(4.1);
    console.log(`conv stack FLOPs at 50% channels: ${dense.info().flops} → ${sparse.info().flops} (${ratio.toFixed(2)}×)`);
  });

  it('free height and width that cannot be 1: an ArgumentError asking for inputDims, then pruned at those sizes', async () => {
    // a 2x2 pool needs at least 2x2: at H = W = 1 shape inference fails, and nothing could be traced
    const a = conv('a', 'x', 'a_o', 3, 8);
    const b = conv('b', 'p', 'y', 8, 8, { act: '' });
    const spec: ModelSpec = {
      nodes: [...a.nodes, { op: 'MaxPool', inputs: ['a_o'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } }, ...b.nodes],
      inputs: [{ name: 'x', dims: ['N', 3, 'H', 'W'] }], outputs: ['y'], initializers: [...a.inits, ...b.inits],
    };
    const g = importOnnx(buildModel(spec));
    await expect(lnStructured(g, { amount: 0.5 })).rejects.toThrow(ArgumentError);
    await expect(lnStructured(g, { amount: 0.5 })).rejects.toThrow(/with the symbolic dims of 'x' at 1 the model does not fit .*inputDims: \{ 'x': \[1, 3, 224, 224\] \}/);
    const { graph, report } = await lnStructured(g, { amount: 0.5, inputDims: { x: [1, 3, 8, 8] } });
    expect(report.layers.find((l) => l.channelsBefore === 8 && l.channelsAfter === 4)).toBeDefined();
    const bytes = exportOnnx(graph);
    await compareRun(await InferenceSession.create(bytes), bytes, { x: { data: rand(2 * 3 * 100), dims: [2, 3, 10, 10] } }, { what: 'pruned at 8x8, run at 10x10' });
  });

  it('ranks channels by the Ln norm of the weights computing them; ties remove the lower index first', async () => {
    // c1: 8 output channels of a 1x1 conv on 1 input channel; |w| = the list below
    const mags = [5, 1, 3, 1, 7, 0.5, 2, 4];
    const spec: ModelSpec = {
      nodes: [
        { op: 'Conv', inputs: ['x', 'c1.w', 'c1.b'], outputs: ['a'], attrs: { kernel_shape: [1, 1] } },
        { op: 'Relu', inputs: ['a'], outputs: ['r'] },
        { op: 'Conv', inputs: ['r', 'c2.w'], outputs: ['y'], attrs: { kernel_shape: [1, 1] } },
      ],
      inputs: X(1, 2),
      outputs: ['y'],
      initializers: [
        f32('c1.w', mags.map((m, i) => (i % 2 ? -m : m)), [8, 1, 1, 1]),
        f32('c1.b', [100, 100, 100, 100, 100, 100, 100, 100]), // the bias does not count
        f32('c2.w', [0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17], [2, 8, 1, 1]),
      ],
    };
    const g = importOnnx(buildModel(spec));
    const half = await lnStructured(g, { amount: 0.5, norm: 1, roundTo: 1 });
    // removed 0.5 (5), 1 (1), 1 (3: tie, after 1), 2 (6); kept 0, 2, 4, 7
    expect(vals(half.graph, 'c1.w')).toEqual([5, 3, 7, -4]);
    expect(vals(half.graph, 'c2.w')).toEqual([0, 2, 4, 7, 10, 12, 14, 17]);
    expect(half.report.layers.find((l) => l.node === half.graph.nodes[0].name)).toMatchObject({ channelsBefore: 8, channelsAfter: 4, paramsBefore: 16, paramsAfter: 8 });
    const three = await lnStructured(g, { amount: 3 / 8, norm: 1, roundTo: 1 });
    expect(vals(three.graph, 'c1.w')).toEqual([5, 3, 7, 2, -4]);
  });

  it('L1 and L2 rank differently when the weights spread differently', async () => {
    // channel 0: (3, 0): L1 3, L2 3; channel 1: (2, 2): L1 4, L2 2.83
    const spec: ModelSpec = {
      nodes: [
        { op: 'Conv', inputs: ['x', 'w1'], outputs: ['a'], attrs: { kernel_shape: [1, 1] } },
        { op: 'Relu', inputs: ['a'], outputs: ['r'] },
        { op: 'Conv', inputs: ['r', 'w2'], outputs: ['y'], attrs: { kernel_shape: [1, 1] } },
      ],
      inputs: X(2, 2),
      outputs: ['y'],
      initializers: [f32('w1', [3, 0, 2, 2], [2, 2, 1, 1]), f32('w2', [1, 1], [1, 2, 1, 1])],
    };
    const g = importOnnx(buildModel(spec));
    const l1 = await lnStructured(g, { amount: 0.5, norm: 1, roundTo: 1 });
    const l2 = await lnStructured(g, { amount: 0.5, norm: 2, roundTo: 1 });
    expect(vals(l1.graph, 'w1')).toEqual([2, 2]);
    expect(vals(l2.graph, 'w1')).toEqual([3, 0]);
  });

  it('importance sums over the group: a residual partner with large weights saves a channel', async () => {
    // both convs feed an Add; channel 0 is weak in c1 but strong in c2
    const spec: ModelSpec = {
      nodes: [
        { op: 'Conv', inputs: ['x', 'w1'], outputs: ['a'], attrs: { kernel_shape: [1, 1] } },
        { op: 'Conv', inputs: ['x', 'w2'], outputs: ['b'], attrs: { kernel_shape: [1, 1] } },
        { op: 'Add', inputs: ['a', 'b'], outputs: ['s'] },
        { op: 'Conv', inputs: ['s', 'w3'], outputs: ['y'], attrs: { kernel_shape: [1, 1] } },
      ],
      inputs: X(1, 2),
      outputs: ['y'],
      initializers: [f32('w1', [0.1, 1], [2, 1, 1, 1]), f32('w2', [5, 1], [2, 1, 1, 1]), f32('w3', [1, 2], [1, 2, 1, 1])],
    };
    const { graph } = await lnStructured(importOnnx(buildModel(spec)), { amount: 0.5, roundTo: 1 });
    expect(vals(graph, 'w1')).toEqual([Math.fround(0.1)]);
    expect(vals(graph, 'w2')).toEqual([5]);
    expect(vals(graph, 'w3')).toEqual([1]);
  });

  it('a Reshape that mixes channels is reported as skipped, not cut', async () => {
    const spec: ModelSpec = {
      ...join(conv('c1', 'x', 'a', 3, 8), { nodes: [{ op: 'Reshape', inputs: ['a', 'shape'], outputs: ['r'] }], inits: [i64('shape', [1, 4, 16, 8])] }, conv('c2', 'r', 'b', 4, 8), conv('out', 'b', 'y', 8, 4, { k: 1, act: '' })),
      inputs: X(),
      outputs: ['y'],
    };
    const g = importOnnx(buildModel(spec));
    const { graph, report } = await lnStructured(g, { amount: 0.5 });
    const c1 = g.nodes[0].name;
    expect(report.skipped.find((s) => s.node === c1)?.reason).toMatch(/Reshape .* moves channels/);
    expect(graph.initializers.get('c1.w')!.dims).toEqual([8, 3, 3, 3]);
    // the group after the reshape (c2's outputs) is still pruned
    expect(graph.initializers.get('c2.w')!.dims).toEqual([4, 4, 3, 3]);
    const feeds = randomFeeds(spec);
    await runEdgeprune(exportOnnx(graph), feeds);
  });

  it('a reduction over the channels is skipped with a reason; one over the spatial axes is cut through', async () => {
    const spec = (axes: number[]): ModelSpec => ({
      ...join(conv('c1', 'x', 'a', 3, 8), { nodes: [{ op: 'ReduceMax', inputs: ['a'], outputs: ['r'], attrs: { axes, keepdims: 1 } }], inits: [] }, conv('out', 'r', 'y', axes.includes(1) ? 1 : 8, 4, { k: 1, act: '' })),
      inputs: X(),
      outputs: ['y'],
    });
    const across = await lnStructured(importOnnx(buildModel(spec([1]))), { amount: 0.5 });
    expect(across.report.skipped.map((s) => s.reason).join('\n')).toMatch(/ReduceMax .* is not understood/);
    expect(across.graph.initializers.get('c1.w')!.dims).toEqual([8, 3, 3, 3]);
    const spatial = await lnStructured(importOnnx(buildModel(spec([2, -1]))), { amount: 0.5 });
    expect(spatial.graph.initializers.get('c1.w')!.dims).toEqual([4, 3, 3, 3]);
    expect(spatial.graph.initializers.get('out.w')!.dims).toEqual([4, 4, 1, 1]);
  });

  it('a graph where no layer is even a candidate says why, instead of pruning nothing silently', async () => {
    // a Linear on a 3-D input (MatMul of rank 3) feeding a Transpose
    const spec: ModelSpec = {
      nodes: [
        { op: 'MatMul', inputs: ['x', 'w'], outputs: ['h'] },
        { op: 'Transpose', inputs: ['h'], outputs: ['y'], attrs: { perm: [0, 2, 1] } },
      ],
      inputs: [{ name: 'x', dims: [1, 5, 6] }],
      outputs: ['y'],
      initializers: [wt('w', [6, 8])],
    };
    const { graph, report } = await lnStructured(importOnnx(buildModel(spec)), { amount: 0.5 });
    expect(graph.initializers.get('w')!.dims).toEqual([6, 8]);
    expect(report.skipped.map((s) => s.reason).join('\n')).toMatch(/MatMul .*rank > 2/);
  });

  it('Transpose is skipped with a reason; a grouped convolution after it is still pruned', async () => {
    const spec: ModelSpec = {
      ...join(
        conv('c1', 'x', 'a', 3, 8),
        { nodes: [{ op: 'Transpose', inputs: ['a'], outputs: ['t'], attrs: { perm: [0, 1, 3, 2] } }], inits: [] },
        conv('c2', 't', 'b', 8, 8),
        conv('g', 'b', 'c', 8, 8, { group: 2 }),
        conv('out', 'c', 'y', 8, 4, { k: 1, act: '' }),
      ),
      inputs: X(),
      outputs: ['y'],
    };
    const { graph, report } = await lnStructured(importOnnx(buildModel(spec)), { amount: 0.5 });
    expect(report.skipped.map((s) => s.reason).join('\n')).toMatch(/Transpose/);
    expect(graph.initializers.get('c1.w')!.dims).toEqual([8, 3, 3, 3]);
    // grouped convolutions are covered in prune-structured-grouped.test.ts: here g (group=2) keeps
    // its group and loses 2 inputs and 2 outputs per block
    expect(graph.initializers.get('c2.w')!.dims).toEqual([4, 8, 3, 3]);
    expect(graph.initializers.get('g.w')!.dims).toEqual([4, 2, 3, 3]);
  });

  it('ignore leaves a layer\'s output channels alone', async () => {
    const g = importOnnx(buildModel(models['Conv-BN-Relu stack']()));
    const c2 = g.nodes.find((n) => n.inputs.includes('c2.w'))!.name;
    const { graph, report } = await channelPrune(g, { amount: 0.5, ignore: [c2] });
    expect(graph.initializers.get('c2.w')!.dims).toEqual([32, 8, 3, 3]);
    expect(graph.initializers.get('c3.w')!.dims).toEqual([16, 32, 3, 3]);
    expect(report.skipped).toContainEqual({ node: c2, reason: `'${c2}' is in ignore` });
  });

  it('maxLayerRatio and roundTo bound what is removed, and a layer is never emptied', () => {
    expect(keptCount(32, 0.5, 4, 0.9)).toBe(16);
    expect(keptCount(30, 0.5, 4, 0.9)).toBe(16); // 15 → nearest multiple of 4
    expect(keptCount(32, 0.95, 4, 0.9)).toBe(4); // at most 28 removed → 4 kept
    expect(keptCount(100, 0.95, 1, 0.9)).toBe(10);
    expect(keptCount(3, 0.5, 4, 0.9)).toBe(1); // below roundTo: plain rounding (2 removed)
    expect(keptCount(2, 0.99, 1, 0.9)).toBe(1);
    expect(keptCount(16, 0, 4, 0.9)).toBe(16);
  });

  it('rejects amounts outside [0, 1) and unknown ignore names with ArgumentError', async () => {
    const g = importOnnx(buildModel(models['Conv-BN-Relu stack']()));
    await expect(lnStructured(g, { amount: 1 })).rejects.toThrow(ArgumentError);
    await expect(lnStructured(g, { amount: 1 })).rejects.toThrow(/\[0, 1\)/);
    await expect(lnStructured(g, { amount: -0.1 })).rejects.toThrow(/\[0, 1\)/);
    await expect(lnStructured(g, { amount: Number.NaN })).rejects.toThrow(ArgumentError);
    await expect(lnStructured(g, { amount: 0.5, ignore: ['nope'] })).rejects.toThrow(/'nope'.*not a node/);
  });
});

describe('structured pruning kernels', () => {
  it('wasm channel norms and compaction match a plain loop on every axis', async () => {
    const { loadKernels } = await import('../src/wasm/loader.js');
    const { channelPowerSums, gatherAxis } = await import('../src/prune/structured-kernels.js');
    const k = await loadKernels('auto');
    const t = { dtype: 'float32' as const, dims: [5, 7, 3, 3], data: rand(5 * 7 * 9) };
    for (let axis = 0; axis < 4; axis++) {
      for (const p of [1, 2] as const) expectClose(channelPowerSums(k, t, axis, p), channelPowerSums(undefined, t, axis, p), `norms axis ${axis} p ${p}`, 1e-5);
      const keep = [0, 2].filter((i) => i < t.dims[axis]);
      const a = gatherAxis(k, t, axis, keep);
      const b = gatherAxis(undefined, t, axis, keep);
      expect(a.dims).toEqual(b.dims);
      expect(Array.from(a.data as Float32Array)).toEqual(Array.from(b.data as Float32Array));
    }
  });
});
