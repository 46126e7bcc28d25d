// `node scripts/run-ts.mjs bench/fit.ts [--model wide|res] [--train EPOCHS] [--budget 0.25]
//  [--format epm|onnx] [--finetune EPOCHS] [--save M.onnx | --load M.onnx]`: times edgeprune fit on a CNN with BatchNorm and
// residual blocks fitted to a share of its dense ONNX size with 512 calibration digits and no
// labels. --model wide (default): ~0.9M parameters, ~100 MFLOP, the issue's "about one million
// parameters in 60 s" case; --model res: a ~60k-parameter residual CNN quick enough to train here.
// With --train it first trains on the MNIST digits of the `mnist` package and reports test accuracy
// dense / fitted (least squares) / the same plan by magnitude only (and after --finetune epochs).
import { readFileSync, writeFileSync } from 'node:fs';
import { exportOnnx } from '../src/onnx/export.js';
import { importOnnx } from '../src/onnx/import.js';
import { fit } from '../src/fit/index.js';
import { fitFidelityTable, fitLayerTable, fitSummaryTable } from '../src/fit/report.js';
import { table } from '../src/cli/format.js';
import { residualCnn, wideResidualCnn } from '../src/workflow/models.js';
import { subset } from '../src/train/data.js';
import { loadMnist } from '../src/train/mnist.js';
import { accuracy } from '../src/train/evaluate.js';
import { lnStructured } from '../src/prune/index.js';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { Trainer } from '../src/train/trainer.js';

const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : d;
};
const epochs = Number(arg('train', '0'));
const share = Number(arg('budget', '0.25'));
const format = arg('format', 'epm') as 'epm' | 'onnx';
const finetune = Number(arg('finetune', '0'));
const kind = arg('model', 'wide');

let graph = kind === 'res' ? residualCnn() : wideResidualCnn();
const params = [...graph.initializers.values()].reduce((a, t) => a + t.data.length, 0);
console.log(`${kind} CNN: ${params.toLocaleString('en-US')} parameters`);
const { train, test } = loadMnist();
if (epochs > 0) {
  const t = await Trainer.create(graph, { optimizer: { kind: 'adam' }, seed: 0 });
  const t0 = performance.now();
  await t.fit(train, { epochs, batch: 64, lr: 1e-3, onEpoch: (e, loss) => console.log(`epoch ${e + 1}: loss ${loss.toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`) });
  graph = t.graph();
  t.dispose();
}
const save = arg('save', '');
const load = arg('load', '');
if (load) graph = importOnnx(new Uint8Array(readFileSync(load)));
const onnx = exportOnnx(graph);
if (save) writeFileSync(save, onnx);
const calib = subset(train, Array.from({ length: 512 }, (_, i) => i));
const t0 = performance.now();
const r = await fit(graph, { maxSize: Math.floor(share * onnx.length) }, {
  calibration: { x: calib.x, sampleDims: calib.sampleDims },
  format,
  ...(epochs > 0 || load ? { evaluate: test } : {}),
  ...(finetune > 0 ? { finetune: { data: train, epochs: finetune } } : {}),
  onProgress: (s) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1)}s] ${s}\n`),
});
console.log(`fit to ${share} x ${onnx.length.toLocaleString('en-US')} ONNX bytes as .${format}: ${r.seconds.toFixed(1)} s`);
console.log(table(fitSummaryTable(r)));
console.log(table(fitFidelityTable(r)));
console.log(table(fitLayerTable(r)));

// The baseline: plain magnitude channel pruning (L2 norm, one ratio for every group, no
// recovery) at the same byte budget, stored as dense ONNX: the largest kept share whose file fits.
if (epochs > 0 || load) {
  const limit = Math.floor(share * onnx.length);
  let plain: { amount: number; bytes: number; acc: number } | undefined;
  for (let amount = 0.05; amount < 0.95 && !plain; amount += 0.05) {
    const pruned = (await lnStructured(graph, { amount, roundTo: 1, maxLayerRatio: 0.94 })).graph;
    const bytes = exportOnnx(pruned);
    if (bytes.length > limit) continue;
    const s = await InferenceSession.create(bytes);
    const a = await accuracy(s, test, (d, dims) => new Tensor('float32', d, dims), 64);
    await s.release();
    plain = { amount, bytes: bytes.length, acc: a.accuracy };
  }
  console.log(plain
    ? `plain magnitude channel pruning (L2, ${Math.round(plain.amount * 100)}% of every group's channels, no recovery) at the same budget: ${plain.bytes.toLocaleString('en-US')} ONNX bytes, accuracy ${(plain.acc * 100).toFixed(1)}%`
    : 'plain magnitude channel pruning cannot reach the budget with up to 90% of every group removed');
}
