// The measurements behind spmvRatio (src/runtime/kernel-choice.ts): single Gemm layers with few rows
// (the batch-1 Linear case), the sparse SpMV against the packed dense GEMM on the same pruned
// weights, per layer shape, row count and share of non-zeros. Kernels only (the session's own
// steps, called in a loop), medians of 1500 calls.
// Run: node scripts/run-ts.mjs bench/spmv-fit.ts [simd|relaxed]
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { buildModel } from '../test/util/onnx-build.js';

const flavor = (process.argv[2] ?? 'relaxed') as 'simd' | 'relaxed';
const DENSITIES = [0.5, 0.3, 0.2, 0.1, 0.05];

/** One Gemm (transB) with weights kept at random positions with this density. */
function model(out: number, inp: number, rows: number, density: number): Uint8Array {
  const w = new Float32Array(out * inp);
  let s = 12345;
  for (let i = 0; i < w.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const u = s / 2 ** 32;
    w[i] = u < density ? u - density / 2 : 0;
  }
  return buildModel({
    nodes: [{ op: 'Gemm', inputs: ['x', 'w'], outputs: ['y'], attrs: { transB: 1 } }],
    inputs: [{ name: 'x', dims: [rows, inp] }], outputs: ['y'], initializers: [{ name: 'w', dims: [out, inp], data: w }],
  });
}

/** Median ms of the layer's kernel under a forced choice. */
async function time(bytes: Uint8Array, kernels: 'dense' | 'sparse', rows: number, inp: number): Promise<number> {
  const s = await InferenceSession.create(bytes, { kernels, wasm: flavor });
  await s.run({ x: new Tensor('float32', new Float32Array(rows * inp).map(() => Math.random()), [rows, inp]) });
  // the session's one step, timed without run()'s copies in and out
  const st = (s as unknown as { active: { steps: { exec: { run(a: unknown, b: unknown, c: unknown): void }; ins: unknown; outs: unknown; scratch: unknown }[] } }).active.steps[0];
  const t: number[] = [];
  for (let r = 0; r < 1500; r++) {
    const a = performance.now();
    st.exec.run(st.ins, st.outs, st.scratch);
    t.push(performance.now() - a);
  }
  await s.release();
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
}

console.log(`SpMV / dense GEMM time (${flavor}), by share of non-zeros`);
console.log('layer (out x in)'.padEnd(24) + 'dense µs'.padStart(10) + DENSITIES.map((d) => `${d * 100}%`.padStart(8)).join(''));
for (const [out, inp] of [[1024, 1024], [1000, 1024], [1024, 784], [300, 784], [128, 512], [256, 256]]) {
  for (const rows of [1, 2, 4, 8]) {
    const ratios: string[] = [];
    let dense = 0;
    for (const d of DENSITIES) {
      const b = model(out, inp, rows, d);
      const dn = await time(b, 'dense', rows, inp);
      const sp = await time(b, 'sparse', rows, inp);
      if (d === DENSITIES[0]) dense = dn;
      ratios.push((sp / dn).toFixed(2).padStart(8));
    }
    console.log(`${out}x${inp}, ${rows} row${rows > 1 ? 's' : ''}`.padEnd(24) + (dense * 1000).toFixed(1).padStart(10) + ratios.join(''));
  }
}
