// Training end to end: the engine's parameter gradients against central finite differences of
// the loss computed by onnxruntime-node on the exported model; determinism; masked fine-tuning;
// gradual pruning, lottery-ticket rewinding and RigL; typed errors and the last good weights.
import { describe, expect, it } from 'vitest';
import { avgPool, batchNorm, conv2d, dropout, flatten, linear, maxPool, normalize, relu, residual, sequential } from '../src/train/builder.js';
import { Trainer } from '../src/train/trainer.js';
import { dataset } from '../src/train/data.js';
import { gradualPruning, LotteryTicket, pruneAndFreeze, prunableWeights, rigl, sparsityOf } from '../src/train/sparse-training.js';
import { exportOnnx } from '../src/onnx/export.js';
import { DataError, TrainingError } from '../src/errors.js';
import { Rng } from '../src/train/rng.js';
import { runOrt } from './util/onnx.js';
import type { Graph } from '../src/graph/ir.js';

/** A toy task: 3 classes told apart by which quadrant of a 6x6 image is bright. */
function toyData(n: number, seed: number) {
  const r = new Rng(seed);
  const x = new Float32Array(n * 36);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = r.int(3);
    y[i] = c;
    for (let p = 0; p < 36; p++) {
      const row = Math.floor(p / 6);
      const col = p % 6;
      const hot = c === 0 ? row < 3 && col < 3 : c === 1 ? row < 3 && col >= 3 : row >= 3;
      x[i * 36 + p] = (hot ? 0.8 : 0.1) + 0.3 * (r.next() - 0.5);
    }
  }
  return dataset(x, [1, 6, 6], y, 3);
}

/** Mean cross-entropy of the model on (x, y), in float64 from onnxruntime's float32 logits. */
async function ortLoss(g: Graph, x: Float32Array, y: Int32Array, n: number): Promise<number> {
  const { logits } = await runOrt(exportOnnx(g), { x: { data: x, dims: [n, 1, 6, 6] } });
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const row = Array.from(logits.data.subarray(i * 3, i * 3 + 3));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    loss += lse - row[y[i]];
  }
  return loss / n;
}

const cnn = (seed = 1) => sequential([1, 6, 6], [
  normalize(0.3, 0.5), conv2d(4, 3, { pads: 1 }), relu(),
  residual([conv2d(4, 3, { pads: 1 }), relu(), conv2d(4, 1)]),
  maxPool(2), conv2d(6, 2), relu(), avgPool(2), flatten(), linear(3),
], { seed });

describe('gradients of the whole graph', () => {
  it('match central finite differences of the loss (onnxruntime forward) for every kind of parameter', async () => {
    const g = cnn();
    const n = 8;
    const data = toyData(n, 3);
    const t = await Trainer.create(g, { optimizer: { kind: 'sgd' } });
    // one step at lr 0 leaves the weights and fills the gradients of the batch (one batch of n)
    await t.fit(data, { epochs: 1, batch: n, lr: 1e-30 });
    // the batch order does not matter for a mean over one batch
    for (const name of ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv4.weight', 'conv4.bias', 'fc1.weight', 'fc1.bias']) {
      const grad = t.gradient(name);
      const w0 = g.initializers.get(name)!.data as Float32Array;
      const picks = [0, Math.floor(w0.length / 2), w0.length - 1];
      for (const i of picks) {
        const h = 1e-2;
        const at = async (d: number) => {
          const w = w0.slice();
          w[i] += d;
          return ortLoss({ ...g, initializers: new Map(g.initializers).set(name, { ...g.initializers.get(name)!, data: w }) }, data.x, data.y, n);
        };
        const fd = ((await at(h)) - (await at(-h))) / (2 * h);
        expect(Math.abs(grad[i] - fd), `${name}[${i}]: analytic ${grad[i]}, numeric ${fd}`).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd));
      }
    }
    t.dispose();
  });
});

describe('training', () => {
  it('learns the toy task, deterministically for a seed', async () => {
    const data = toyData(192, 5);
    const run = async () => {
      const t = await Trainer.create(cnn(2), { optimizer: { kind: 'adam' }, seed: 9 });
      const losses = await t.fit(data, { epochs: 10, batch: 32, lr: 0.01 });
      const w = t.weights('fc1.weight');
      t.dispose();
      return { losses, w };
    };
    const a = await run();
    const b = await run();
    expect(a.losses[9]).toBeLessThan(a.losses[0] * 0.4);
    expect(a.losses).toEqual(b.losses);
    expect(a.w).toEqual(b.w);
  });

  it('trains BatchNorm (running statistics updated) and dropout', async () => {
    const g = sequential([1, 6, 6], [conv2d(4, 3, { pads: 1 }), batchNorm(), relu(), flatten(), dropout(0.3), linear(3)], { seed: 3 });
    const t = await Trainer.create(g, { optimizer: { kind: 'sgd', momentum: 0.9 } });
    const losses = await t.fit(toyData(128, 6), { epochs: 5, batch: 16, lr: 0.05 });
    expect(losses[4]).toBeLessThan(losses[0]);
    const mean = t.weights('bn1.running_mean');
    expect(mean.some((v) => v !== 0)).toBe(true);
    t.dispose();
  });

  it('masked fine-tuning keeps pruned weights exactly zero through every update', async () => {
    const t = await Trainer.create(cnn(4), { optimizer: { kind: 'adam' } });
    const data = toyData(96, 7);
    await t.fit(data, { epochs: 1, batch: 32, lr: 0.01 });
    const s = await pruneAndFreeze(t, { amount: 0.6 });
    expect(s).toBeGreaterThan(0.59);
    const names = prunableWeights(t.graph());
    const zerosBefore = names.map((n) => [...t.weights(n)].map((v) => v === 0));
    await t.fit(data, { epochs: 2, batch: 32, lr: 0.01 });
    names.forEach((n, j) => {
      const w = t.weights(n);
      zerosBefore[j].forEach((z, i) => z && expect(Object.is(w[i], 0), `${n}[${i}]`).toBe(true));
    });
    expect(sparsityOf(t, names)).toBeCloseTo(s, 10);
    t.dispose();
  });

  it('gradual pruning follows the cubic schedule to the final sparsity', async () => {
    const t = await Trainer.create(cnn(5), { optimizer: { kind: 'adam' } });
    const hook = gradualPruning(t, { initial: 0, final: 0.8, start: 2, steps: 4, every: 2 });
    const seen: number[] = [];
    const names = prunableWeights(t.graph());
    await t.fit(toyData(96, 8), { epochs: 4, batch: 32, lr: 0.01, beforeStep: async (step) => { await hook(step); seen.push(sparsityOf(t, names)); } });
    expect(seen[1]).toBe(0); // before t0
    expect(seen[4]).toBeGreaterThan(0.3); // after the first prunings (cubic: most of it early)
    expect(seen[seen.length - 1]).toBeGreaterThan(0.79);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1] - 1e-9);
    t.dispose();
  });

  it('lottery-ticket rewinding restarts the survivors from the saved weights', async () => {
    const t = await Trainer.create(cnn(6), { optimizer: { kind: 'sgd' } });
    const data = toyData(64, 9);
    const ticket = new LotteryTicket();
    await t.fit(data, { epochs: 1, batch: 32, lr: 0.05, beforeStep: (s) => { if (s === 1) ticket.save(t); } });
    const saved = t.weights('conv2.weight'); // not yet: saved at step 1, now at step 2
    await pruneAndFreeze(t, { amount: 0.5 });
    const mask = [...t.weights('conv2.weight')].map((v) => v !== 0);
    ticket.rewind(t);
    const after = t.weights('conv2.weight');
    expect(after.some((v, i) => mask[i] && v !== saved[i])).toBe(true); // rewound to step 1, not step 2
    after.forEach((v, i) => !mask[i] && expect(v).toBe(0));
    expect(sparsityOf(t, ['conv2.weight'])).toBeCloseTo(mask.filter((m) => !m).length / mask.length, 10);
    t.dispose();
  });

  it('RigL moves the non-zeros of each layer and keeps their count', async () => {
    const t = await Trainer.create(cnn(7), { optimizer: { kind: 'adam' } });
    const data = toyData(96, 10);
    await pruneAndFreeze(t, { amount: 0.7 });
    const names = prunableWeights(t.graph());
    const before = names.map((n) => t.optimizer.mask(n)!);
    const hook = rigl(t, { every: 2, end: 8, alpha: 0.3 });
    await t.fit(data, { epochs: 3, batch: 32, lr: 0.01, afterBackward: hook });
    expect(hook.updates).toBe(4); // steps 2, 4, 6, 8
    names.forEach((n, j) => {
      const after = t.optimizer.mask(n)!;
      expect(after.reduce((a, b) => a + b, 0)).toBe(before[j].reduce((a, b) => a + b, 0));
      const w = t.weights(n);
      after.forEach((m, i) => !m && expect(w[i]).toBe(0));
    });
    expect(names.some((n, j) => t.optimizer.mask(n)!.some((m, i) => m !== before[j][i]))).toBe(true);
    t.dispose();
  });

  it('a diverging learning rate stops with a TrainingError and keeps the last good (finite) weights', async () => {
    const t = await Trainer.create(cnn(8), { optimizer: { kind: 'sgd' } });
    await expect(t.fit(toyData(64, 11), { epochs: 50, batch: 32, lr: 1e30 })).rejects.toThrow(TrainingError);
    await expect(t.fit(toyData(64, 11), { epochs: 50, batch: 32, lr: 1e30 })).rejects.toThrow(/training diverged; the weights are those of the last good step/);
    for (const name of prunableWeights(t.graph())) expect(t.weights(name).every(Number.isFinite)).toBe(true);
    t.dispose();
  });

  it('says what is wrong with the data', async () => {
    const t = await Trainer.create(cnn(9));
    const wrong = dataset(new Float32Array(2 * 49), [1, 7, 7], [0, 1]);
    await expect(t.fit(wrong, { epochs: 1, batch: 2, lr: 0.01 })).rejects.toThrow(/the samples are \[1, 7, 7\] but the model takes \[1,6,6\]/);
    const many = dataset(new Float32Array(2 * 36), [1, 6, 6], [0, 5]);
    await expect(t.fit(many, { epochs: 1, batch: 2, lr: 0.01 })).rejects.toThrow(DataError);
    t.dispose();
  });
});
