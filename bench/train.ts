// Training speed: one Adam step (forward, softmax cross-entropy, backward, update) of the main
// job's SmallCNN on a batch of 64 MNIST digits, edgeprune against @tensorflow/tfjs-core with its
// CPU backend (the tfjs training path that runs everywhere), interleaved in one process. Prints
// medians, the ratio, and the implied time of one epoch over the 8,000 training digits.
// Run: npm run bench:train
import { build } from 'esbuild';
import { measure } from './harness.js';
import { smallCnn } from '../src/workflow/main-job.js';
import { Trainer } from '../src/train/trainer.js';
import { loadMnist } from '../src/train/mnist.js';
import { subset } from '../src/train/data.js';

const BATCH = 64;

/**
 * tfjs-core's gradient registrations ship as ES modules with extensionless imports, which Node
 * cannot load from node_modules: the tfjs side is bundled whole (one tfjs-core instance) and imported.
 */
async function loadTfjsTrainStep(): Promise<typeof import('./tfjs-train-step.js')> {
  const out = `${process.cwd()}/.build/bench/tfjs-train-step.mjs`;
  await build({ entryPoints: ['bench/tfjs-train-step.ts'], outfile: out, bundle: true, platform: 'node', format: 'esm', logLevel: 'error', mainFields: ['module', 'main'],
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } });
  return import(out);
}

async function main(): Promise<void> {
  const { train } = loadMnist(0);
  const batch = subset(train, Array.from({ length: BATCH }, (_, i) => i));

  // edgeprune: fit() over exactly one batch is one step
  const trainer = await Trainer.create(smallCnn(), { optimizer: { kind: 'adam' } });
  const ours = async () => void (await trainer.fit(batch, { epochs: 1, batch: BATCH, lr: 1e-3 }));

  // tfjs-core with its CPU backend: the same layers and weights (bench/tfjs-train-step.ts)
  const { tfjsTrainStep } = await loadTfjsTrainStep();
  const theirs = await tfjsTrainStep(smallCnn(), batch.x, batch.y, BATCH);

  const r = await measure('SmallCNN training step', 0, [
    { name: 'edgeprune', run: ours },
    { name: 'tfjs-cpu', run: theirs },
  ], 9, 400);
  const ms = (n: string) => r.medians.get(n)! * 1e3;
  console.log(`\nSmallCNN (conv 1->32, conv 32->64, linear 3136->10) training step, batch ${BATCH}, Adam; ${process.version}, medians of 9 interleaved rounds\n`);
  console.log(`edgeprune (wasm ${trainer.kernels.flavor})  ${ms('edgeprune').toFixed(1)} ms/step   ${((ms('edgeprune') * 8000) / BATCH / 1000).toFixed(1)} s per epoch of 8,000 digits`);
  console.log(`tfjs-core cpu backend       ${ms('tfjs-cpu').toFixed(1)} ms/step   ${((ms('tfjs-cpu') * 8000) / BATCH / 1000).toFixed(1)} s per epoch`);
  console.log(`speed-up ${r.ratios.get('edgeprune')!.get('tfjs-cpu')!.toFixed(2)}x (per-round median)`);
  trainer.dispose();
}

await main();
