// Structured-pruning benchmark: a conv stack, dense and with 50% of its channels physically
// removed (lnStructured), both run by edgeprune in the same process, interleaved; prints latency
// medians, the speed-up and the FLOPs ratio. Run: npm run bench:prune
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { importOnnx } from '../src/onnx/import.js';
import { exportOnnx } from '../src/onnx/export.js';
import { lnStructured } from '../src/prune/structured.js';
import { measure } from './harness.js';
import { convStack, weights } from './model-zoo.js';

async function main() {
  const dense = convStack().bytes;
  const pruned = exportOnnx((await lnStructured(importOnnx(dense), { amount: 0.5, norm: 1 })).graph);
  const x = new Tensor('float32', weights(3 * 56 * 56, 7, 1), [1, 3, 56, 56]);
  const sd = await InferenceSession.create(dense);
  const sp = await InferenceSession.create(pruned);
  const r = await measure('conv stack', 0, [
    { name: 'dense', run: async () => void (await sd.run({ x })) },
    { name: 'pruned-50%', run: async () => void (await sp.run({ x })) },
  ]);
  const ms = (n: string) => r.medians.get(n)! * 1e3;
  console.log(`\nstructured pruning, 50% of channels (lnStructured, L1), ${process.version}, ${sd.info().kernels} kernels, medians of 15 interleaved rounds\n`);
  console.log(`dense      ${ms('dense').toFixed(3)} ms   ${(sd.info().flops / 1e6).toFixed(1)} MFLOP   ${sd.info().params} params   ${dense.length} bytes`);
  console.log(`pruned 50% ${ms('pruned-50%').toFixed(3)} ms   ${(sp.info().flops / 1e6).toFixed(1)} MFLOP   ${sp.info().params} params   ${pruned.length} bytes`);
  console.log(`speed-up ${r.ratios.get('pruned-50%')!.get('dense')!.toFixed(2)}x (per-round median), ${(ms('dense') / ms('pruned-50%')).toFixed(2)}x (ratio of medians); FLOPs ratio ${(sd.info().flops / sp.info().flops).toFixed(2)}x`);
}

await main();
