// Sparse execution on whole models: each model pruned to 50/70/80/90/95% unstructured (L1 per
// layer), 1x4 blocks and 2:4, then run by edgeprune with the kernels it chooses ('auto') and with
// dense kernels forced on the same pruned weights, interleaved in one process. Prints medians,
// the speed-up, how many layers went sparse, and the artifact's bytes against the dense fp32 ONNX.
// 'vs unpruned' is the speed-up over the model before pruning: the dense kernels on pruned weights
// already gain a little (the depthwise kernel skips zero taps, whatever the choice).
// Run: npm run bench:sparse [-- --quick] [-- --only NAME]
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { importOnnx } from '../src/onnx/import.js';
import { writeArtifact } from '../src/format/index.js';
import { l1Unstructured, blockSparsity, nmSparsity } from '../src/prune/index.js';
import type { Graph } from '../src/graph/ir.js';
import { measure } from './harness.js';
import { convStack, mlp, mobileNetBlocks, weights, type BenchModel } from './model-zoo.js';

const quick = process.argv.includes('--quick');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;

interface Variant {
  name: string;
  prune: (g: Graph) => Promise<Graph>;
}

const VARIANTS: Variant[] = [
  ...[0.5, 0.7, 0.8, 0.9, 0.95].map((a) => ({ name: `${a * 100}% unstructured`, prune: async (g: Graph) => (await l1Unstructured(g, { amount: a })).graph })),
  ...[0.8, 0.9].map((a) => ({ name: `${a * 100}% in 1x4 blocks`, prune: async (g: Graph) => (await blockSparsity(g, { amount: a, block: '1x4' })).graph })),
  { name: '2:4 (50%)', prune: async (g: Graph) => (await nmSparsity(g, { n: 2, m: 4 })).graph },
];

async function main(): Promise<void> {
  const models: BenchModel[] = [mobileNetBlocks(), convStack(), mlp()].filter((m) => !only || m.name.toLowerCase().includes(only.toLowerCase()));
  console.log(`\nsparse kernels in whole models: edgeprune 'auto' kernels vs dense kernels forced on the same pruned weights`);
  console.log(`${process.version}, medians of ${quick ? 7 : 15} interleaved rounds; speed-up = per-round median of dense/auto\n`);
  for (const m of models) {
    const x = new Tensor('float32', weights(m.input.dims.reduce((a, b) => a * b, 1), 5, 1), m.input.dims);
    const rows: string[][] = [['variant', 'dense kernels ms', 'auto ms', 'speed-up', 'vs unpruned', 'sparse layers', 'artifact bytes', 'vs dense ONNX']];
    const base = importOnnx(m.bytes);
    const unpruned = await InferenceSession.create(m.bytes, { kernels: 'dense' });
    for (const v of VARIANTS) {
      const g = await v.prune(base);
      const artifact = writeArtifact(g);
      const dense = await InferenceSession.create(artifact, { kernels: 'dense' });
      const auto = await InferenceSession.create(artifact);
      const feeds = { [m.input.name]: x };
      const r = await measure(`${m.name} ${v.name}`, 0, [
        { name: 'dense', run: async () => void (await dense.run(feeds)) },
        { name: 'auto', run: async () => void (await auto.run(feeds)) },
        { name: 'unpruned', run: async () => void (await unpruned.run(feeds)) },
      ], quick ? 7 : 15, quick ? 15 : 25);
      const layers = auto.info().nodes.filter((n) => n.choice);
      const sparse = layers.filter((n) => n.kernel.includes('sparse')).length;
      rows.push([
        v.name,
        (r.medians.get('dense')! * 1e3).toFixed(3),
        (r.medians.get('auto')! * 1e3).toFixed(3),
        `${r.ratios.get('auto')!.get('dense')!.toFixed(2)}x`,
        `${r.ratios.get('auto')!.get('unpruned')!.toFixed(2)}x`,
        `${sparse} of ${layers.length}`,
        String(artifact.length),
        `${(artifact.length / m.bytes.length).toFixed(3)}x`,
      ]);
      await dense.release();
      await auto.release();
    }
    await unpruned.release();
    console.log(`${m.name}: dense fp32 ONNX ${m.bytes.length} bytes`);
    printRows(rows);
    console.log('');
  }
}

function printRows(rows: string[][]): void {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  rows.forEach((r, j) => {
    console.log(r.map((c, i) => c.padEnd(w[i])).join('  '));
    if (j === 0) console.log(w.map((n) => '-'.repeat(n)).join('  '));
  });
}

await main();
