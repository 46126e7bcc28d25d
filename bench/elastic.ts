// `node scripts/run-ts.mjs bench/elastic.ts [--train EPOCHS] [--budget SHARE] [--save OUT.epm]`:
// elastic width on the main job's SmallCNN trained on the `mnist` package's digits (--train
// epochs, default 2): `fit --elastic` to SHARE (default 0.5) of the dense .epm size with 512
// calibration digits, then per width the bytes read, weights, arena, wasm memory, test accuracy
// (recorded in the file at fit time) and the median load (create) and run time at batch 1.
import { writeFileSync } from 'node:fs';
import { fit } from '../src/fit/index.js';
import { writeArtifact } from '../src/format/write.js';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { subset } from '../src/train/data.js';
import { medianLatencyMs } from '../src/train/evaluate.js';
import { loadMnist } from '../src/train/mnist.js';
import { Trainer } from '../src/train/trainer.js';
import { smallCnn } from '../src/workflow/main-job.js';

const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : d;
};
const epochs = Number(arg('train', '2'));
const share = Number(arg('budget', '0.5'));

const { train, test } = loadMnist();
const t = await Trainer.create(smallCnn(), { optimizer: { kind: 'adam' }, seed: 0 });
await t.fit(train, { epochs, batch: 64, lr: 1e-3 });
const graph = t.graph();
t.dispose();
const dense = writeArtifact(graph).length;
const calib = subset(train, Array.from({ length: 512 }, (_, i) => i));
const evalSet = subset(test, Array.from({ length: 2000 }, (_, i) => i));
const t0 = performance.now();
const r = await fit(graph, { maxSize: Math.round(share * dense) }, { calibration: { x: calib.x, sampleDims: calib.sampleDims }, elastic: true, evaluate: evalSet });
console.log(`SmallCNN, ${epochs} epochs: dense .epm ${dense} B; fit --elastic to ${share} of it: ${r.bytes.length} B in ${((performance.now() - t0) / 1000).toFixed(1)} s (accuracy on 2000 test digits: dense ${(100 * r.accuracy!.dense).toFixed(1)}%)`);
const save = arg('save', '');
if (save) writeFileSync(save, r.bytes);

const feed = { x: new Tensor('float32', test.x.slice(0, 784), [1, 1, 28, 28]) };
console.log('width   bytes read  weights  arena   wasm memory  accuracy  create (ms)  run (ms)');
for (const l of r.elastic!.levels) {
  const creates: number[] = [];
  let s: InferenceSession | undefined;
  for (let i = 0; i < 7; i++) {
    await s?.release();
    const c0 = performance.now();
    s = await InferenceSession.create(r.bytes.subarray(0, l.bytes), { width: l.channels });
    creates.push(performance.now() - c0);
  }
  const run = await medianLatencyMs(s!, feed, 40, 5);
  await s!.release();
  creates.sort((a, b) => a - b);
  const cells = [`${(100 * l.channels).toFixed(1)}%`, l.bytes, l.weightBytes, l.peakBytes, l.memoryBytes, `${(100 * l.accuracy!).toFixed(1)}%`, creates[3].toFixed(2), run.toFixed(3)];
  console.log(cells.map((c, i) => String(c).padEnd([8, 12, 9, 8, 13, 10, 13, 8][i])).join(''));
}
