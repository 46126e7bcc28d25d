// The measurements behind directConvRatio's stride-1 terms (src/runtime/kernel-choice.ts): single
// conv layers pruned to a share of non-zeros, the direct sparse kernel (forced) against the dense
// kernel the session picks (Winograd for most 3x3 layers) on the same weights, alternating runs,
// medians of 40; beside each ratio, what the cost model predicts (or 'dense ...' where it is not
// consulted).
// Run: node scripts/run-ts.mjs bench/conv-fit.ts ['[[Cin, Cout, H, W, k?], ...]']   (k x k, default 3, 'same' pads)
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { buildModel } from '../test/util/onnx.js';

const shapes: number[][] = process.argv[2] ? JSON.parse(process.argv[2])
  : [[96, 24, 10, 10], [96, 24, 20, 20], [96, 96, 20, 20], [128, 128, 14, 14], [256, 64, 14, 14], [64, 256, 14, 14], [64, 64, 56, 56], [96, 24, 40, 40], [96, 24, 80, 80]];
const prod = (d: number[]) => d.reduce((a, b) => a * b, 1);
const median = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1];

for (const [ci, co, h, wd, k = 3] of shapes) {
  const p = (k - 1) >> 1;
  const xd = [1, ci, h, wd];
  const cells: string[] = [];
  for (const density of [0.5, 0.3, 0.2, 0.1, 0.05]) {
    const w = new Float32Array(co * ci * k * k).map(() => (Math.random() < density ? Math.random() - 0.5 : 0));
    const model = buildModel({
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { kernel_shape: [k, k], pads: [p, p, p, p] } }],
      inputs: [{ name: 'x', dims: xd }], outputs: ['y'], initializers: [{ name: 'w', dims: [co, ci, k, k], data: w }],
    });
    const dense = await InferenceSession.create(model, { kernels: 'dense' });
    const sparse = await InferenceSession.create(model, { kernels: 'sparse' });
    const auto = await InferenceSession.create(model);
    const feeds = { x: new Tensor('float32', new Float32Array(prod(xd)).map(() => Math.random()), xd) };
    const td: number[] = [], ts: number[] = [];
    for (let r = 0; r < 40; r++) {
      let t = performance.now();
      await dense.run(feeds);
      td.push(performance.now() - t);
      t = performance.now();
      await sparse.run(feeds);
      ts.push(performance.now() - t);
    }
    const why = auto.info().nodes[0].choice?.replace(/.*predicted at /, 'model ').replace(/ the dense time.*/, '') ?? '';
    cells.push(`${density}: ${(median(ts) / median(td)).toFixed(2)} [${why}]`);
    for (const s of [dense, sparse, auto]) await s.release();
  }
  console.log(`${ci}->${co} ${k}x${k} ${h}x${wd}`.padEnd(22), cells.join('  '));
}
