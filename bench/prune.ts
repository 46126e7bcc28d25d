// Structured-pruning benchmark: a conv stack, dense and with 50% of its channels physically
// removed (lnStructured), both run by edgeprune in the same process, interleaved; prints latency
// medians, the speed-up and the FLOPs ratio. Run: npm run bench:prune
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { importOnnx } from '../src/onnx/import.js';
import { exportOnnx } from '../src/onnx/export.js';
import { lnStructured } from '../src/prune/structured.js';
import { buildModel, type NodeSpec } from '../test/util/onnx-build.js';
import { measure } from './harness.js';
import { weights } from './model-zoo.js';

/** Conv 3→64 then six Conv3x3 64→64 + BN + ReLU on 56x56, global pool, Linear 64→10. */
function convStack(): Uint8Array {
  const nodes: NodeSpec[] = [];
  const init: { name: string; dims: number[]; data: Float32Array }[] = [];
  let x = 'x';
  let c = 3;
  for (let i = 0; i < 7; i++) {
    const w = `w${i}`;
    init.push({ name: w, dims: [64, c, 3, 3], data: weights(64 * c * 9, i + 1, Math.sqrt(2 / (c * 9))) });
    init.push({ name: `g${i}`, dims: [64], data: weights(64, 100 + i, 0.5).map((v) => 1 + v) });
    init.push({ name: `b${i}`, dims: [64], data: weights(64, 200 + i, 0.1) });
    init.push({ name: `m${i}`, dims: [64], data: weights(64, 300 + i, 0.1) });
    init.push({ name: `v${i}`, dims: [64], data: weights(64, 400 + i, 0.2).map((v) => 1 + v) });
    nodes.push({ op: 'Conv', inputs: [x, w], outputs: [`c${i}`], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } });
    nodes.push({ op: 'BatchNormalization', inputs: [`c${i}`, `g${i}`, `b${i}`, `m${i}`, `v${i}`], outputs: [`n${i}`] });
    nodes.push({ op: 'Relu', inputs: [`n${i}`], outputs: [`r${i}`] });
    x = `r${i}`;
    c = 64;
  }
  nodes.push({ op: 'GlobalAveragePool', inputs: [x], outputs: ['gap'] });
  nodes.push({ op: 'Flatten', inputs: ['gap'], outputs: ['f'] });
  init.push({ name: 'fc', dims: [10, 64], data: weights(640, 999, 0.1) });
  nodes.push({ op: 'Gemm', inputs: ['f', 'fc'], outputs: ['logits'], attrs: { transB: 1 } });
  return buildModel({ nodes, inputs: [{ name: 'x', dims: [1, 3, 56, 56] }], outputs: ['logits'], initializers: init });
}

async function main() {
  const dense = convStack();
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
