// fit(): budgets met on the written bytes and the running session, the smallest reachable value
// in a BudgetError (and reachable), least-squares reconstruction and bias compensation against
// plain magnitude pruning on held-out samples, fine-tuning keeping pruned weights at zero.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ArgumentError, BudgetError, ShapeError } from '../src/errors.js';
import { fit, fitFidelityTable } from '../src/fit/index.js';
import type { Graph } from '../src/graph/ir.js';
import { importOnnx } from '../src/onnx/import.js';
import { l1Unstructured } from '../src/prune/index.js';
import { writeArtifact } from '../src/format/index.js';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { dataset } from '../src/train/data.js';
import { images, relError, SAMPLE, smallCnn } from './fit-model.js';
import { buildModel } from './util/onnx-build.js';
import { randomArray } from './util/rng.js';

const dir = mkdtempSync(join(tmpdir(), 'edgeprune-fit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const calibration = { x: images(256, 7), sampleDims: SAMPLE };
const heldOut = images(128, 99);

async function outputs(g: Graph | Uint8Array, x: Float32Array): Promise<Float32Array> {
  const n = x.length / (3 * 64);
  const s = g instanceof Uint8Array ? await InferenceSession.create(g, { freeDimensionOverrides: { N: n } }) : await InferenceSession.fromGraph(g, { freeDimensionOverrides: { N: n } });
  try {
    return (await s.run({ x: new Tensor('float32', x, [n, ...SAMPLE]) })).y.data;
  } finally {
    await s.release();
  }
}

describe('fit: recovery', () => {
  it('least squares undoes the removal of channels that carry what kept channels carry; bias compensation helps less', async () => {
    // conv0's channels 8..15 are 0.01 × channels 0..7 and conv1 reads them 100× harder: removing
    // them loses half of conv1's input, but conv1 refitted on the kept channels is exact again
    const graph = importOnnx(smallCnn({ copies: true }));
    const dense = await outputs(graph, heldOut);
    const opts = { calibration, format: 'onnx' as const, sparsity: false, int8: false, channelRatios: [0.5], exclude: ['n2'] };
    const ls = await fit(graph, { maxSize: 20_000 }, { ...opts, recovery: 'reconstruct' });
    const bias = await fit(graph, { maxSize: 20_000 }, { ...opts, recovery: 'bias' });
    const none = await fit(graph, { maxSize: 20_000 }, { ...opts, recovery: 'none' });
    for (const r of [ls, bias, none]) expect(r.plan.groups).toEqual([{ label: 'n0', total: 16, keep: 8, ratio: 0.5 }]);
    const eLs = relError(await outputs(ls.bytes, heldOut), dense);
    const eBias = relError(await outputs(bias.bytes, heldOut), dense);
    const eNone = relError(await outputs(none.bytes, heldOut), dense);
    expect(eNone).toBeGreaterThan(0.3);
    expect(eLs).toBeLessThan(2e-3);
    expect(eBias).toBeLessThan(0.9 * eNone);
    expect(eBias).toBeGreaterThan(10 * eLs);
    // the report's own comparison (calibration samples) says the same
    expect(ls.fidelity.fitted.relError).toBeLessThan(2e-3);
    expect(ls.fidelity.magnitude!.relError).toBeCloseTo(none.fidelity.fitted.relError, 6);
    const rec = ls.reconstructions.find((x) => x.layer === 'n2')!;
    expect(rec.error!).toBeLessThan(1e-4 * rec.priorError!);
  });

  it('reconstruction beats magnitude pruning of the same channels on held-out samples of a random model', async () => {
    const graph = importOnnx(smallCnn({ seed: 5 }));
    const dense = await outputs(graph, heldOut);
    const opts = { calibration, format: 'onnx' as const, sparsity: false, int8: false, channelRatios: [0.5] };
    // the smallest ONNX file: both channel groups at half
    const smallest = await fit(graph, { maxSize: 1000 }, { ...opts, recovery: 'none' }).catch((e: BudgetError) => e.unmet[0].smallest);
    expect(typeof smallest).toBe('number');
    const ls = await fit(graph, { maxSize: smallest as number }, { ...opts, recovery: 'reconstruct' });
    const none = await fit(graph, { maxSize: smallest as number }, { ...opts, recovery: 'none' });
    expect(ls.plan).toEqual(none.plan);
    expect(ls.plan.groups.map((g) => g.keep)).toEqual([8, 8]);
    const eLs = relError(await outputs(ls.bytes, heldOut), dense);
    const eNone = relError(await outputs(none.bytes, heldOut), dense);
    expect(eNone).toBeGreaterThan(0.05);
    expect(eLs).toBeLessThan(0.5 * eNone);
    expect(ls.fidelity.fitted.relError).toBeLessThan(0.5 * ls.fidelity.magnitude!.relError);
  });
});

describe('fit: recovery never returns a model it made worse', () => {
  it('bias compensation that a later ReLU turns into error: the plan is returned without it, with a warning', async () => {
    // h = [x, -0.9x] -> ReLU -> y = ReLU(h0 + h1 / 0.9 - 1) = ReLU(|x| - 1). Removing h1 (the smaller
    // weights) loses the x < -1 side; compensating its mean (0.5 for x uniform in [-2, 2]) in the
    // bias shifts the x > 0.5 side as well: further from the dense outputs than no compensation
    const graph = importOnnx(buildModel({
      nodes: [
        { op: 'Conv', inputs: ['x', 'w0'], outputs: ['h'] },
        { op: 'Relu', inputs: ['h'], outputs: ['r'] },
        { op: 'Conv', inputs: ['r', 'w1', 'b1'], outputs: ['z'] },
        { op: 'Relu', inputs: ['z'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: ['N', 1, 4, 4] }],
      outputs: ['y'],
      initializers: [
        { name: 'w0', dims: [2, 1, 1, 1], data: new Float32Array([1, -0.9]) },
        { name: 'w1', dims: [1, 2, 1, 1], data: new Float32Array([1, 1 / 0.9]) },
        { name: 'b1', dims: [1], data: new Float32Array([-1]) },
      ],
    }));
    const opts = { calibration: { x: randomArray(64 * 16, 3, -2, 2), sampleDims: [1, 4, 4] }, format: 'onnx' as const, sparsity: false, int8: false, channelRatios: [0.5], roundTo: 1 };
    const smallest = await fit(graph, { maxSize: 1 }, { ...opts, recovery: 'none' }).catch((e: BudgetError) => e.unmet[0].smallest);
    const none = await fit(graph, { maxSize: smallest as number }, { ...opts, recovery: 'none' });
    expect(none.plan.groups.map((g) => g.keep)).toEqual([1]);
    const bias = await fit(graph, { maxSize: smallest as number }, { ...opts, recovery: 'bias' });
    expect(bias.plan).toEqual(none.plan);
    expect(bias.recovery).toBe('none');
    expect(bias.warnings.join('\n')).toMatch(/recovery \(bias\) left the calibration outputs further from the dense model's .*; returning the plan without recovery/);
    expect(Array.from(bias.bytes)).toEqual(Array.from(none.bytes));
    expect(bias.fidelity.fitted).toEqual(bias.fidelity.magnitude);
  });
});

describe('fit: a model pruned before', () => {
  it('keeps its zeros and finds plans below its size (levels under its sparsity did nothing and recovery refilled the zeros)', async () => {
    const pruned = (await l1Unstructured(importOnnx(smallCnn({ seed: 6 })), { amount: 0.9 })).graph;
    const input = writeArtifact(pruned);
    const nnzOf = async (b: Uint8Array) => {
      const s = await InferenceSession.create(b, { freeDimensionOverrides: { N: 1 } });
      try {
        return s.info();
      } finally {
        await s.release();
      }
    };
    const before = await nnzOf(input);
    // a size just under its own: reachable by sparsifying further or int8 (it was refused as
    // "smallest reachable" = the input's own size)
    const r = await fit(pruned, { maxSize: Math.floor(input.length * 0.9) }, { calibration });
    expect(r.bytes.length).toBeLessThanOrEqual(Math.floor(input.length * 0.9));
    // a FLOP budget removes channels; the kept weights stay at least 90% zero (the refit had made
    // them dense: more non-zeros and a bigger file than the input)
    const f = await fit(pruned, { maxFlops: Math.floor(before.flops * 0.6) }, { calibration, int8: false });
    const after = await nnzOf(f.bytes);
    expect(after.flops).toBeLessThanOrEqual(before.flops * 0.6);
    expect(after.nonZeroParams).toBeLessThan(before.nonZeroParams);
    expect(f.bytes.length).toBeLessThan(input.length);
    for (const l of f.plan.layers) expect(l.sparsity).toBeGreaterThanOrEqual(0.89);
  });
});

describe('fit: the layer report', () => {
  it("a depthwise conv's input channels shrink with its group (the report read the dense group count)", async () => {
    const graph = importOnnx(buildModel({
      nodes: [
        { op: 'Conv', inputs: ['x', 'w0'], outputs: ['c0'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Relu', inputs: ['c0'], outputs: ['r0'] },
        { op: 'Conv', inputs: ['r0', 'dw'], outputs: ['d'], attrs: { pads: [1, 1, 1, 1], group: 16 } },
        { op: 'Relu', inputs: ['d'], outputs: ['r1'] },
        { op: 'Conv', inputs: ['r1', 'w2'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: ['N', ...SAMPLE] }],
      outputs: ['y'],
      initializers: [
        { name: 'w0', dims: [16, 3, 3, 3], data: randomArray(16 * 27, 3, -0.5, 0.5) },
        { name: 'dw', dims: [16, 1, 3, 3], data: randomArray(16 * 9, 4, -0.5, 0.5) },
        { name: 'w2', dims: [4, 16, 1, 1], data: randomArray(64, 5, -0.5, 0.5) },
      ],
    }));
    const probe = await fit(graph, { maxLatency: '10s' }, { calibration });
    // a FLOP budget only removing channels can meet: the one group (conv0's outputs = the depthwise channels) at half
    const r = await fit(graph, { maxFlops: Math.floor(0.6 * probe.dense.flops) }, { calibration, format: 'onnx', sparsity: false, int8: false, channelRatios: [0.5] });
    expect(r.plan.groups.map((g) => g.keep)).toEqual([8]);
    const dw = r.layers.find((l) => l.name === graph.nodes[2].name)!;
    expect([dw.outBefore, dw.outAfter, dw.inBefore, dw.inAfter]).toEqual([16, 8, 16, 8]);
  });
});

describe('fit: budgets', () => {
  it('meets size, memory, FLOP and latency budgets on the written file and a session over it', async () => {
    const graph = importOnnx(smallCnn({ seed: 2 }));
    const probe = await fit(graph, { maxLatency: '10s' }, { calibration });
    // the dense model meets a 10 s latency budget: nothing is pruned
    expect(probe.plan.groups.every((g) => g.ratio === 0) && probe.plan.layers.every((l) => l.sparsity === 0 && !l.int8)).toBe(true);
    const budgets = { maxBytes: Math.floor(0.3 * probe.dense.size), maxMemoryBytes: Math.floor(0.9 * probe.dense.memory), maxFlops: Math.floor(0.6 * probe.dense.flops), maxLatencyMs: 10_000 };
    const r = await fit(graph, budgets, { calibration });
    const file = join(dir, 'fitted.epm');
    writeFileSync(file, r.bytes);
    expect(statSync(file).size).toBe(r.measured.size);
    expect(statSync(file).size).toBeLessThanOrEqual(budgets.maxBytes);
    const s = await InferenceSession.create(readFileSync(file), { freeDimensionOverrides: { N: 1 } });
    const info = s.info();
    await s.release();
    expect(info.plannedPeakBytes + info.weightBytes).toBe(r.measured.memory);
    expect(r.measured.memory).toBeLessThanOrEqual(budgets.maxMemoryBytes);
    expect(info.flops).toBe(r.measured.flops);
    expect(info.flops).toBeLessThanOrEqual(budgets.maxFlops);
    expect(r.measured.latency).toBeLessThanOrEqual(budgets.maxLatencyMs);
    // FLOPs only fall with removed channels: some group was cut
    expect(r.plan.groups.some((g) => g.keep < g.total)).toBe(true);
    // the report's table is the file's: per-layer bytes add up to at most the file
    expect(r.layers.reduce((a, l) => a + l.bytes, 0)).toBeLessThan(r.bytes.length);
    expect(r.layers.map((l) => l.name)).toEqual(['n0', 'n2', 'n6']);
    expect(r.frontier.length).toBeGreaterThan(3);
  });

  it('says the smallest reachable size when a budget cannot be met, and that size is reachable', async () => {
    const graph = importOnnx(smallCnn({ seed: 3 }));
    let err: unknown;
    await fit(graph, { maxSize: '500B' }, { calibration }).catch((e) => (err = e));
    expect(err).toBeInstanceOf(BudgetError);
    const e = err as BudgetError;
    expect(e.code).toBe('E_BUDGET');
    expect(e.unmet).toHaveLength(1);
    const smallest = e.unmet[0].smallest;
    expect(e.unmet[0]).toMatchObject({ budget: 'size', limit: 500 });
    expect(smallest).toBeGreaterThan(500);
    expect(e.message).toContain(`the smallest file size reachable is ${smallest.toLocaleString('en-US')} bytes, over maxSize (--max-size) 500 bytes`);
    const r = await fit(graph, { maxSize: smallest }, { calibration, compare: false });
    expect(r.bytes.length).toBeLessThanOrEqual(smallest);
    // and the FLOP budget the same way: the most channels fit may remove
    await expect(fit(graph, { maxFlops: 10 }, { calibration })).rejects.toThrow(/the smallest FLOPs reachable is [\d,]+ FLOPs, over maxFlops/);
  });

  it('refuses missing budgets and calibration data of the wrong shape with typed errors', async () => {
    const graph = importOnnx(smallCnn());
    await expect(fit(graph, {}, { calibration })).rejects.toThrow(ArgumentError);
    await expect(fit(graph, { maxSize: '10kB' }, { calibration: { x: new Float32Array(2 * 3 * 7 * 7), sampleDims: [3, 7, 7] } })).rejects.toThrow(ShapeError);
    await expect(fit(graph, { maxSize: '10kB' }, { calibration: { x: new Float32Array(2 * 3 * 7 * 7), sampleDims: [3, 7, 7] } })).rejects.toThrow(/calibration samples are \[3, 7, 7\] but input 'x' takes \[N, 3, 8, 8\]/);
    await expect(fit(graph, { maxSize: '10kB' }, { calibration: { x: new Float32Array(100), sampleDims: SAMPLE } })).rejects.toThrow(/not a whole number of samples/);
    await expect(fit(graph, { maxSize: '10kB' }, { calibration, channelRatios: [1.5] })).rejects.toThrow(/channelRatios must be fractions/);
  });
});

describe('fit: a model with one output value per sample (a detector score)', () => {
  it('reports no top-1 agreement (every argmax of one value is 0, which would read 100%)', async () => {
    const graph = importOnnx(buildModel({
      nodes: [
        { op: 'Gemm', inputs: ['x', 'w1', 'b1'], outputs: ['h'], attrs: { transB: 1 } },
        { op: 'Relu', inputs: ['h'], outputs: ['r'] },
        { op: 'Gemm', inputs: ['r', 'w2'], outputs: ['score'], attrs: { transB: 1 } },
      ],
      inputs: [{ name: 'x', dims: ['N', 64] }],
      outputs: ['score'],
      initializers: [
        { name: 'w1', dims: [32, 64], data: randomArray(2048, 31) },
        { name: 'b1', dims: [32], data: randomArray(32, 32) },
        { name: 'w2', dims: [1, 32], data: randomArray(32, 33) },
      ],
    }));
    const r = await fit(graph, { maxBytes: 4000 }, { calibration: { x: randomArray(128 * 64, 34), sampleDims: [64] } });
    expect(r.fidelity.fitted.agreement).toBeUndefined();
    expect(r.fidelity.dense.agreement).toBeUndefined();
    expect(r.fidelity.fitted.relError).toBeGreaterThan(0);
    expect(fitFidelityTable(r)[1][2]).toBe('n/a (one output value)');
  });
});

describe('fit: labels and fine-tuning', () => {
  it('fine-tunes a model with free height and width at the data\'s sample dims, and keeps them free', async () => {
    const graph = importOnnx(buildModel({
      nodes: [
        { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
        { op: 'Relu', inputs: ['c'], outputs: ['r'] },
        { op: 'GlobalAveragePool', inputs: ['r'], outputs: ['g'] },
        { op: 'Flatten', inputs: ['g'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'fw', 'fb'], outputs: ['y'], attrs: { transB: 1 } },
      ],
      inputs: [{ name: 'x', dims: ['N', 3, 'H', 'W'] }],
      outputs: ['y'],
      initializers: [
        { name: 'w', dims: [16, 3, 3, 3], data: randomArray(432, 21, -0.5, 0.5) },
        { name: 'b', dims: [16], data: randomArray(16, 22, -0.1, 0.1) },
        { name: 'fw', dims: [10, 16], data: randomArray(160, 23, -0.5, 0.5) },
        { name: 'fb', dims: [10], data: randomArray(10, 24, -0.1, 0.1) },
      ],
    }));
    const x = images(128, 12);
    const labels = Int32Array.from({ length: 128 }, (_, i) => i % 10);
    const data = dataset(x, SAMPLE, labels, 10);
    const r = await fit(graph, { maxSize: '1.5kB' }, { calibration: { x, sampleDims: SAMPLE, labels }, finetune: { data, epochs: 1, batch: 32 } });
    expect(r.graph.inputs[0].dims).toEqual(['N', 3, 'H', 'W']);
    const s = await InferenceSession.create(r.bytes, { freeDimensionOverrides: { H: 8, W: 8 } });
    expect(s.inputMetadata[0].shape).toEqual(['N', 3, 'H', 'W']);
    expect(r.bytes.length).toBeLessThanOrEqual(1500);
    await s.release();
  });

  it('measures sensitivity as loss with labels, fine-tunes with pruned weights held at zero and reports accuracy before and after', async () => {
    const graph = importOnnx(smallCnn({ seed: 4 }));
    // labels: the dense model's own classes, so it is 100% accurate
    const x = images(256, 11);
    const y0 = await outputs(graph, x);
    const labels = Int32Array.from({ length: 256 }, (_, s) => {
      let best = 0;
      for (let c = 1; c < 10; c++) if (y0[s * 10 + c] > y0[s * 10 + best]) best = c;
      return best;
    });
    const data = dataset(x, SAMPLE, labels, 10);
    const r = await fit(graph, { maxSize: '6kB' }, { calibration: { x, sampleDims: SAMPLE, labels }, finetune: { data, epochs: 1, batch: 32 }, evaluate: data });
    expect(r.fidelity.dense.loss).toBeGreaterThan(0);
    expect(r.fidelity.dense.accuracy).toBe(1);
    expect(r.accuracy!.dense).toBe(1);
    expect(r.accuracy!.beforeFinetune).toBeGreaterThan(0.3);
    expect(r.accuracy!.fitted).toBeGreaterThan(0.3);
    expect(r.bytes.length).toBeLessThanOrEqual(6000);
    // every layer the plan made sparse is at least that sparse after fine-tuning
    for (const l of r.plan.layers) {
      const rep = r.layers.find((x) => x.name === l.name)!;
      expect(rep.sparsity).toBeGreaterThanOrEqual(l.sparsity - 0.01);
    }
  });
});
