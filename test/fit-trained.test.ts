// Issue 7's bar on trained models: the main job's SmallCNN and the residual BatchNorm CNN of
// bench/fit.ts (--model res), trained here on the MNIST digits of the `mnist` package, fitted to
// 25% of their dense fp32 ONNX size as .epm (what `edgeprune fit --out model.epm` writes) with 512
// unlabelled training digits as calibration:
//   - calibration only: test accuracy ≥ dense − 1.5 pt;
//   - with 2 epochs of fine-tuning (labels given): ≥ dense − 0.5 pt;
//   - better than plain magnitude channel pruning at the same budget (lnStructured, L2, one
//     amount for every group, the least pruning whose ONNX file fits the budget, no recovery);
//   - the written file is within the budget, edgeprune's session on it gives the accuracy fit
//     reported, and onnxruntime-node on the same model exported to ONNX agrees digit by digit.
// Models are trained once per model (beforeAll) and shared by its cases; the measured figures are
// printed as a table at the end so that CI logs show them.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { table } from '../src/cli/format.js';
import { fit, type FitResult } from '../src/fit/index.js';
import type { Graph } from '../src/graph/ir.js';
import { exportOnnx } from '../src/onnx/export.js';
import { lnStructured } from '../src/prune/index.js';
import { subset } from '../src/train/data.js';
import { loadMnist } from '../src/train/mnist.js';
import { Trainer } from '../src/train/trainer.js';
import { smallCnn } from '../src/workflow/main-job.js';
import { residualCnn } from '../src/workflow/models.js';
import { accuracyOf, disagreements, edgeprunePredictions, ortPredictions } from './util/classify.js';

const SHARE = 0.25;
const CALIBRATION_DIGITS = 512;
const FINETUNE_EPOCHS = 2;
/** The issue's bar, in accuracy points (fractions of the test set). */
const MAX_LOSS_CALIBRATION = 0.015;
const MAX_LOSS_FINETUNED = 0.005;
/** Digits on which int8 weights (fit's .epm) and their dequantized floats (the ONNX export) may be classified differently: near-ties. */
const MAX_RUNTIME_DISAGREEMENTS = 2;

// Epochs: the fewest that reach a sensible dense accuracy here (SmallCNN 3: ~97.6%, the main
// job's baseline; the residual CNN 1: ~97.4%); training is most of this file's time.
const MODELS = [
  { name: 'SmallCNN (main job)', file: 'small-cnn', build: () => smallCnn(), epochs: 3 },
  { name: 'residual BatchNorm CNN (bench/fit.ts --model res)', file: 'residual-cnn', build: () => residualCnn(), epochs: 1 },
];

const { train, test } = loadMnist();
const calibration = subset(train, Array.from({ length: CALIBRATION_DIGITS }, (_, i) => i));
const dir = mkdtempSync(join(tmpdir(), 'edgeprune-fit-trained-'));

/** The main job's recipe (src/workflow/main-job.ts): Adam, lr 1e-3, batch 64, seed 0. */
async function trainDense(graph: Graph, epochs: number): Promise<Graph> {
  const t = await Trainer.create(graph, { optimizer: { kind: 'adam' }, seed: 0 });
  try {
    await t.fit(train, { epochs, batch: 64, lr: 1e-3 });
    return t.graph();
  } finally {
    t.dispose();
  }
}

/** The baseline: the least uniform L2 channel pruning (no recovery) whose ONNX file fits `limit` bytes. */
async function plainMagnitude(graph: Graph, limit: number): Promise<{ amount: number; bytes: number; accuracy: number } | undefined> {
  for (let step = 1; step <= 94; step++) {
    const amount = step / 100;
    const onnx = exportOnnx((await lnStructured(graph, { amount, norm: 2, roundTo: 1, maxLayerRatio: 0.94 })).graph);
    if (onnx.length <= limit) return { amount, bytes: onnx.length, accuracy: accuracyOf(await edgeprunePredictions(onnx, test), test) };
  }
  return undefined;
}

const pct = (v: number | undefined) => (v === undefined ? '-' : `${(100 * v).toFixed(2)}%`);
const rows: string[][] = [];
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  if (rows.length) {
    console.log(`fit to ${SHARE * 100}% of the dense ONNX size as .epm, ${CALIBRATION_DIGITS} calibration digits (no labels); test accuracy on ${test.n} digits\n${table([
      ['model', 'budget', 'dense', 'dense (ort)', 'fit', 'fit bytes', 'fit (ort)', 'same plan, no recovery', 'plain channel pruning', `fit + ${FINETUNE_EPOCHS} ep`, 'fit+ft bytes'],
      ...rows,
    ])}`);
  }
});

describe.each(MODELS)('$name', (model) => {
  let dense: Graph;
  let limit = 0;
  let denseOrt = 0;
  let fitted: FitResult;
  let file = '';
  const row = { ort: '-', plain: '-', finetuned: '-', finetunedBytes: '-' };

  beforeAll(async () => {
    dense = await trainDense(model.build(), model.epochs);
    const onnx = exportOnnx(dense);
    limit = Math.floor(SHARE * onnx.length);
    denseOrt = accuracyOf(await ortPredictions(onnx, test), test);
    fitted = await fit(dense, { maxSize: limit }, { calibration: { x: calibration.x, sampleDims: calibration.sampleDims }, evaluate: test });
    file = join(dir, `${model.file}.epm`);
    writeFileSync(file, fitted.bytes);
  }, 900_000);
  afterAll(() => {
    const a = fitted?.accuracy;
    if (a) rows.push([model.name, `${limit} B`, pct(a.dense), pct(denseOrt), pct(a.fitted), `${fitted.bytes.length} B`, row.ort, pct(a.magnitude), row.plain, row.finetuned, row.finetunedBytes]);
  });

  it('trains to a sensible accuracy, and fit measures the dense model as onnxruntime-node does', () => {
    expect(fitted.accuracy).toBeDefined();
    expect(fitted.accuracy!.dense).toBeGreaterThan(0.95);
    // fit evaluates its own copy of the model on edgeprune's kernels; onnxruntime-node ran the export
    expect(Math.abs(fitted.accuracy!.dense - denseOrt)).toBeLessThanOrEqual(MAX_RUNTIME_DISAGREEMENTS / test.n);
  });

  it(`calibration only: loses at most ${MAX_LOSS_CALIBRATION * 100} pt of test accuracy`, () => {
    const a = fitted.accuracy!;
    expect(a.fitted).toBeGreaterThanOrEqual(a.dense - MAX_LOSS_CALIBRATION);
  });

  it('the written .epm is within the budget; its session gives the accuracy fit reported, and onnxruntime-node agrees', async () => {
    const bytes = new Uint8Array(readFileSync(file));
    expect(statSync(file).size).toBeLessThanOrEqual(limit);
    expect(fitted.measured.size).toBe(bytes.length);
    const epm = await edgeprunePredictions(bytes, test);
    expect(accuracyOf(epm, test)).toBe(fitted.accuracy!.fitted);
    const ort = await ortPredictions(exportOnnx(fitted.graph), test);
    const differ = disagreements(epm, ort);
    row.ort = `${pct(accuracyOf(ort, test))} (${differ} differ)`;
    expect(differ).toBeLessThanOrEqual(MAX_RUNTIME_DISAGREEMENTS);
  });

  it('beats plain magnitude channel pruning at the same budget', async () => {
    const plain = await plainMagnitude(dense, limit);
    expect(plain, 'uniform channel pruning reaches the budget with at most 94% of every group removed').toBeDefined();
    row.plain = `${pct(plain!.accuracy)} (${Math.round(plain!.amount * 100)}% of channels, ${plain!.bytes} B ONNX)`;
    expect(plain!.bytes).toBeLessThanOrEqual(limit);
    expect(fitted.accuracy!.fitted).toBeGreaterThan(plain!.accuracy);
  });

  it(`with ${FINETUNE_EPOCHS} epochs of fine-tuning: loses at most ${MAX_LOSS_FINETUNED * 100} pt, within the budget`, async () => {
    const r = await fit(dense, { maxSize: limit }, {
      calibration: { x: calibration.x, sampleDims: calibration.sampleDims },
      evaluate: test,
      finetune: { data: train, epochs: FINETUNE_EPOCHS },
      compare: false,
    });
    row.finetuned = `${pct(r.accuracy!.fitted)} (${pct(r.accuracy!.beforeFinetune)} before)`;
    expect(r.accuracy!.beforeFinetune, 'fit fine-tuned the model').toBeDefined();
    row.finetunedBytes = `${r.bytes.length} B`;
    expect(r.bytes.length).toBeLessThanOrEqual(limit);
    expect(r.accuracy!.fitted).toBeGreaterThanOrEqual(r.accuracy!.dense - MAX_LOSS_FINETUNED);
    // the fine-tuned file runs as fit measured it
    expect(accuracyOf(await edgeprunePredictions(r.bytes, test), test)).toBe(r.accuracy!.fitted);
  }, 900_000);
});
