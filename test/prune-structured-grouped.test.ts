// Structured pruning of grouped convolutions (1 < group < C) and grouped ConvTranspose: the layer
// must stay a valid grouped layer with the same group count, so every block of its input and of
// its output channels loses the same number of channels. Checked as in prune-structured.test.ts
// (0% identity, counts, edgeprune vs onnxruntime on the exported file, dead-channel equivalence)
// plus which channels went: read back from the per-channel biases, whose values are unique.
import { describe, expect, it } from 'vitest';
import type { Graph } from '../src/graph/ir.js';
import { importOnnx } from '../src/onnx/import.js';
import { exportOnnx } from '../src/onnx/export.js';
import { buildDependencyGraph } from '../src/prune/dependency.js';
import { lnStructured } from '../src/prune/structured.js';
import { keptCount, keptPerBlock } from '../src/prune/structured-count.js';
import { InferenceSession } from '../src/runtime/session.js';
import { specialize } from '../src/runtime/specialize.js';
import { buildModel, compareRun, rand, randomFeeds, runOrt, type ModelSpec, type NodeSpec, type TensorSpec } from './conformance/harness.js';
import { expectClose } from './util/close.js';

type Init = TensorSpec & { name: string };
type Part = { nodes: NodeSpec[]; inits: Init[] };

/** Random weights; `dead(i)` zeroes the slices along axis 0 (rows) it selects. */
function wt(name: string, dims: number[], dead?: (row: number) => boolean, lo = -0.5, hi = 0.5): Init {
  const data = rand(dims.reduce((a, b) => a * b, 1), lo, hi);
  const inner = data.length / dims[0];
  if (dead) for (let c = 0; c < dims[0]; c++) if (dead(c)) data.fill(0, c * inner, (c + 1) * inner);
  return { name, dims, data };
}
/**
 * The dead channels: half of every run of 4, alternating local positions (1, 3 then 0, 2), so
 * neighbouring blocks of a grouped conv lose different local indices — a cut that confused
 * blocks would keep the wrong weights and change the output.
 */
const deadCh = (c: number) => (c + Math.floor(c / 4)) % 2 === 1;

/** Conv [+ BN] [+ act] with `group`; dead: the deadCh output channels are exactly 0 after BN. */
function conv(p: string, x: string, out: string, cin: number, cout: number, o: { k?: number; group?: number; bn?: boolean; act?: string; dead?: boolean } = {}): Part {
  const { k = 3, group = 1, bn = false, act = 'Relu', dead = false } = o;
  const pad = (k - 1) >> 1;
  const d = dead ? deadCh : undefined;
  const nodes: NodeSpec[] = [{ op: 'Conv', inputs: [x, `${p}.w`, `${p}.b`], outputs: [`${p}.conv`], attrs: { kernel_shape: [k, k], pads: [pad, pad, pad, pad], group } }];
  const inits: Init[] = [wt(`${p}.w`, [cout, cin / group, k, k], d), wt(`${p}.b`, [cout], d)];
  let cur = `${p}.conv`;
  if (bn) {
    nodes.push({ op: 'BatchNormalization', inputs: [cur, `${p}.s`, `${p}.bb`, `${p}.m`, `${p}.v`], outputs: [`${p}.bn`], attrs: { epsilon: { float: 1e-5 } } });
    inits.push(wt(`${p}.s`, [cout], undefined, 0.5, 1.5), wt(`${p}.bb`, [cout], d, -0.2, 0.2), wt(`${p}.m`, [cout], d, -0.2, 0.2), wt(`${p}.v`, [cout], undefined, 0.5, 1.5));
    cur = `${p}.bn`;
  }
  if (act) nodes.push({ op: act, inputs: [cur], outputs: [out] });
  else nodes[nodes.length - 1].outputs = [out];
  return { nodes, inits };
}

/** Grouped ConvTranspose (kernel 2, stride 2) + Relu; weights [Cin, Cout/G, 2, 2]. */
function convT(p: string, x: string, out: string, cin: number, cout: number, group: number, dead = false): Part {
  const w = wt(`${p}.w`, [cin, cout / group, 2, 2]);
  const local = cout / group;
  // dead: output channel o = g·local + j is computed by w[rows of block g, j]: zero those and the bias
  if (dead) {
    for (let i = 0; i < cin; i++) {
      const g = Math.floor(i / (cin / group));
      for (let j = 0; j < local; j++) if (deadCh(g * local + j)) (w.data as Float32Array).fill(0, (i * local + j) * 4, (i * local + j + 1) * 4);
    }
  }
  return {
    nodes: [
      { op: 'ConvTranspose', inputs: [x, `${p}.w`, `${p}.b`], outputs: [`${p}.ct`], attrs: { kernel_shape: [2, 2], strides: [2, 2], group } },
      { op: 'Relu', inputs: [`${p}.ct`], outputs: [out] },
    ],
    inits: [w, wt(`${p}.b`, [cout], dead ? deadCh : undefined)],
  };
}

const op = (o: string, inputs: string[], out: string): Part => ({ nodes: [{ op: o, inputs, outputs: [out] }], inits: [] });

function model(...parts: Part[]): ModelSpec {
  return { nodes: parts.flatMap((p) => p.nodes), initializers: parts.flatMap((p) => p.inits), inputs: [{ name: 'x', dims: [1, 3, 8, 8] }], outputs: ['y'] };
}

/** A grouped layer to check: its weights, group, and the biases whose entries index its input and output channels. */
interface GroupedCheck {
  w: string;
  group: number;
  inBias: string;
  outBias: string;
}

const models: Record<string, { make: (dead?: boolean) => ModelSpec; grouped: GroupedCheck[] }> = {
  'Conv(group=4) between two normal convs': {
    make: (dead = false) => model(conv('c1', 'x', 'a', 3, 16, { dead }), conv('g', 'a', 'b', 16, 32, { group: 4, dead }), conv('c2', 'b', 'c', 32, 16, { dead }), conv('out', 'c', 'y', 16, 4, { k: 1, act: '' })),
    grouped: [{ w: 'g.w', group: 4, inBias: 'c1.b', outBias: 'g.b' }],
  },
  'ResNeXt block (1x1 → grouped 3x3 → BN → Relu → 1x1, residual Add)': {
    make: (dead = false) =>
      model(
        conv('stem', 'x', 'a', 3, 16, { bn: true, dead }),
        conv('c1', 'a', 'b', 16, 16, { k: 1, bn: true, dead }),
        conv('g', 'b', 'd', 16, 16, { group: 4, bn: true, dead }),
        conv('c3', 'd', 'e', 16, 16, { k: 1, bn: true, act: '', dead }),
        op('Add', ['a', 'e'], 's'),
        op('Relu', ['s'], 'r'),
        conv('out', 'r', 'y', 16, 4, { k: 1, act: '' }),
      ),
    grouped: [{ w: 'g.w', group: 4, inBias: 'c1.b', outBias: 'g.b' }],
  },
  'grouped conv feeding a grouped conv with the same group': {
    make: (dead = false) => model(conv('c1', 'x', 'a', 3, 16, { dead }), conv('g1', 'a', 'b', 16, 16, { group: 4, bn: true, dead }), conv('g2', 'b', 'c', 16, 32, { group: 4, bn: true, dead }), conv('out', 'c', 'y', 32, 4, { k: 1, act: '' })),
    grouped: [
      { w: 'g1.w', group: 4, inBias: 'c1.b', outBias: 'g1.b' },
      { w: 'g2.w', group: 4, inBias: 'g1.b', outBias: 'g2.b' },
    ],
  },
  'one tensor into group=4 and group=2 convs (nested blocks)': {
    make: (dead = false) => model(conv('c1', 'x', 'a', 3, 16, { dead }), conv('g4', 'a', 'b4', 16, 16, { group: 4, dead }), conv('g2', 'a', 'b2', 16, 16, { group: 2, act: 'Tanh', dead }), op('Add', ['b4', 'b2'], 's'), conv('out', 's', 'y', 16, 4, { k: 1, act: '' })),
    grouped: [
      { w: 'g4.w', group: 4, inBias: 'c1.b', outBias: 'g4.b' },
      { w: 'g2.w', group: 2, inBias: 'c1.b', outBias: 'g2.b' },
    ],
  },
  'grouped ConvTranspose (group=4)': {
    make: (dead = false) => model(conv('c1', 'x', 'a', 3, 16, { dead }), convT('ct', 'a', 'b', 16, 16, 4, dead), conv('out', 'b', 'y', 16, 4, { k: 1, act: '' })),
    grouped: [{ w: 'ct.w', group: 4, inBias: 'c1.b', outBias: 'ct.b' }],
  },
};

// ---- helpers ----

function snapshot(g: Graph): Map<string, { dims: number[]; bytes: Uint8Array }> {
  return new Map([...g.initializers].map(([k, t]) => [k, { dims: [...t.dims], bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice() }]));
}

function channelDims(g: Graph): Map<string, number[]> {
  return specialize(g, new Map(g.inputs.map((i) => [i.name, i.dims!.map((d) => (typeof d === 'number' ? d : 1))]))).dims;
}

/** Which original channels survived: the positions of the pruned bias entries in the original bias. */
function keptIndices(before: Graph, after: Graph, bias: string): number[] {
  const a = Array.from(before.initializers.get(bias)!.data as Float32Array);
  const b = Array.from(after.initializers.get(bias)!.data as Float32Array);
  const idx = b.map((v) => a.indexOf(v));
  expect(new Set(a).size, `'${bias}' entries are unique`).toBe(a.length);
  expect(idx.every((i) => i >= 0), `'${bias}' entries come from the original`).toBe(true);
  return idx;
}

/** Kept channels per block of `total` channels split into `group` blocks. */
function perBlock(kept: number[], total: number, group: number): number[] {
  const n = new Array<number>(group).fill(0);
  for (const c of kept) n[Math.floor(c / (total / group))]++;
  return n;
}

describe('structured pruning of grouped convolutions', () => {
  for (const [name, { make, grouped }] of Object.entries(models)) {
    describe(name, () => {
      it('0% is the identity and the input graph is not mutated', async () => {
        const g = importOnnx(buildModel(make()));
        const before = snapshot(g);
        const nodesBefore = JSON.stringify(g.nodes);
        const { graph } = await lnStructured(g, { amount: 0 });
        expect(snapshot(graph)).toEqual(before);
        const res = await lnStructured(g, { amount: 0.5, norm: 1 });
        expect(res.report.layers.length).toBeGreaterThan(0);
        expect(snapshot(g)).toEqual(before);
        expect(JSON.stringify(g.nodes)).toBe(nodesBefore);
      });

      it('50% removes half of every group, the same count from every block, and runs the same in edgeprune and onnxruntime', async () => {
        const spec = make();
        const bytes = buildModel(spec);
        const g = importOnnx(bytes);
        const dep = buildDependencyGraph(g);
        const { graph, report } = await lnStructured(g, { amount: 0.5 });
        // nothing here is unprunable apart from the output layer's group
        expect(report.skipped.map((s) => s.reason).filter((r) => !/graph output/.test(r))).toEqual([]);
        const dims1 = channelDims(graph);
        const want = new Map<string, number>();
        for (const grp of dep.groups) {
          const total = grp.units.length;
          const bc = grp.blockCount ?? 1;
          const kept = !grp.prunable ? total : bc > 1 ? bc * keptPerBlock(total / bc, bc, 0.5, 4, 0.9) : keptCount(total, 0.5, 4, 0.9);
          if (grp.prunable) expect(Math.abs(kept - total / 2), `group ${grp.values[0]}`).toBeLessThanOrEqual(4);
          for (const v of grp.values) want.set(v, (want.get(v) ?? 0) + kept * grp.units[0].get(v)!.length);
        }
        for (const [v, c] of want) expect(dims1.get(v)![1], `channels of '${v}'`).toBe(c);
        expect(dep.groups.some((grp) => grp.prunable && (grp.blockCount ?? 1) > 1)).toBe(true);

        for (const c of grouped) {
          const node = graph.nodes.find((n) => n.inputs[1] === c.w)!;
          expect(node.attrs.group, `${c.w}: group kept`).toEqual({ kind: 'int', value: c.group });
          const w0 = dep.graph.initializers.get(c.w)!.dims;
          const transpose = node.op === 'ConvTranspose';
          const cin = transpose ? w0[0] : w0[1] * c.group;
          const cout = transpose ? w0[1] * c.group : w0[0];
          const ins = perBlock(keptIndices(dep.graph, graph, c.inBias), cin, c.group);
          const outs = perBlock(keptIndices(dep.graph, graph, c.outBias), cout, c.group);
          expect(ins, `${c.w}: inputs kept per block`).toEqual(new Array(c.group).fill(ins[0]));
          expect(outs, `${c.w}: outputs kept per block`).toEqual(new Array(c.group).fill(outs[0]));
          expect(ins[0]).toBeLessThan(cin / c.group);
          expect(outs[0]).toBeLessThan(cout / c.group);
          const w1 = graph.initializers.get(c.w)!.dims;
          expect(w1.slice(0, 2)).toEqual(transpose ? [ins[0] * c.group, outs[0]] : [outs[0] * c.group, ins[0]]);
        }

        const pruned = exportOnnx(graph);
        const feeds = randomFeeds(spec, {});
        const ref = await runOrt(bytes, feeds);
        const session = await InferenceSession.create(pruned);
        await compareRun(session, pruned, feeds, { what: 'pruned model vs onnxruntime' });
        const got = await runOrt(pruned, feeds);
        expect(got.y.dims).toEqual(ref.y.dims); // output dims unchanged
      });

      it('removing exactly the dead channels leaves the outputs unchanged', async () => {
        const spec = make(true);
        const bytes = buildModel(spec);
        const { graph } = await lnStructured(importOnnx(bytes), { amount: 0.5, norm: 1 });
        const feeds = randomFeeds(spec, {});
        const dense = await runOrt(bytes, feeds);
        const prunedBytes = exportOnnx(graph);
        const pruned = await runOrt(prunedBytes, feeds);
        expect(pruned.y.dims).toEqual(dense.y.dims);
        expectClose(pruned.y.data, dense.y.data, 'pruned vs dense (onnxruntime)');
        const ep = await InferenceSession.create(prunedBytes);
        await compareRun(ep, bytes, feeds, { what: 'pruned (edgeprune) vs dense (onnxruntime)' });
      });
    });
  }
});

describe('grouped convolutions that cannot be cut evenly', () => {
  it('one tensor into group=4 and group=3 convs (blocks of 3 and 4 of 12 channels) is skipped with a reason', async () => {
    const spec = model(conv('c1', 'x', 'a', 3, 12), conv('g4', 'a', 'b4', 12, 12, { group: 4 }), conv('g3', 'a', 'b3', 12, 12, { group: 3 }), op('Add', ['b4', 'b3'], 's'), conv('out', 's', 'y', 12, 4, { k: 1, act: '' }));
    const g = importOnnx(buildModel(spec));
    const { graph, report } = await lnStructured(g, { amount: 0.5 });
    const c1 = g.nodes[0].name;
    expect(report.skipped.find((s) => s.node === c1)?.reason).toMatch(/group=4.*group=3.*cannot lose equal counts/);
    for (const name of ['c1.w', 'g4.w', 'g3.w']) expect(graph.initializers.get(name)!.dims).toEqual(g.initializers.get(name)!.dims);
    await compareRun(await InferenceSession.create(exportOnnx(graph)), exportOnnx(graph), randomFeeds(spec));
  });

  it('a Concat feeding a grouped conv (blocks spanning two dependency groups) is skipped with a reason', async () => {
    const spec = model(conv('ba', 'x', 'a', 3, 8), conv('bb', 'x', 'b', 3, 8), { nodes: [{ op: 'Concat', inputs: ['a', 'b'], outputs: ['cat'], attrs: { axis: 1 } }], inits: [] }, conv('g', 'cat', 'c', 16, 16, { group: 4 }), conv('out', 'c', 'y', 16, 4, { k: 1, act: '' }));
    const g = importOnnx(buildModel(spec));
    const { graph, report } = await lnStructured(g, { amount: 0.5 });
    expect(report.skipped.map((s) => s.reason).join('\n')).toMatch(/'cat' feeds grouped convolution .* several dependency groups/);
    expect(graph.initializers.get('ba.w')!.dims).toEqual([8, 3, 3, 3]);
    // g's outputs are their own group and still shrink, 2 per block
    expect(graph.initializers.get('g.w')!.dims).toEqual([8, 4, 3, 3]);
    await compareRun(await InferenceSession.create(exportOnnx(graph)), exportOnnx(graph), randomFeeds(spec));
  });

  it('roundTo applies per block: group=4 with roundTo 8 keeps a multiple of 2 per block', async () => {
    const spec = models['Conv(group=4) between two normal convs'].make();
    const g = importOnnx(buildModel(spec));
    const { graph } = await lnStructured(g, { amount: 0.5, roundTo: 8 });
    // b: 32 channels, 8 per block → 4 kept per block; a: 16, 4 per block → 2 kept per block
    expect(graph.initializers.get('g.w')!.dims).toEqual([16, 2, 3, 3]);
    expect(keptPerBlock(4, 4, 0.75, 8, 0.9)).toBe(2); // 1 → nearest multiple of 2
    expect(keptPerBlock(8, 3, 0.5, 4, 0.9)).toBe(4); // roundTo 4 / gcd(4, 3) = 4 per block
    expect(keptPerBlock(2, 8, 0.5, 4, 0.9)).toBe(1); // 8 blocks of 2: any count keeps 8·k a multiple of 4
  });
});
