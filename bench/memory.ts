// Long-running sessions: ~10,000 consecutive runs (EDGEPRUNE_MEMORY_RUNS to change), printing the
// kernels' wasm memory, the bytes its heap has handed out, and the JS heap (after a full
// collection) before and after. Workloads: one input shape (also compiled, in edgeprune/runtime), alternating batch sizes
// (re-plans between cached plans), and ever-new widths (every run a new plan; old plans evicted).
// Run: npm run bench:memory. test/runtime-memory.test.ts asserts the same with fewer runs.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { InferenceSession as Compiled } from '../src/runtime-compiled/session.js';
import { compileModel } from '../src/compile/compile.js';
import { buildModel } from '../test/util/onnx-build.js';
import { mnistCnn, weights } from './model-zoo.js';

// a multiple of the workloads' cycles (3 batches, 64 widths), so both readings see the same plan
const CYCLE = 192;
const ASKED = Number(process.env.EDGEPRUNE_MEMORY_RUNS ?? 10_000);
const RUNS = Math.max(CYCLE, ASKED - (ASKED % CYCLE));
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function jsHeap(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers; // output tensors are typed arrays, outside the V8 heap
}

interface Reading {
  wasm: number;
  live: number;
  js: number;
}

interface Runnable {
  run(feeds: Record<string, Tensor>): Promise<unknown>;
}

/** The full session's kernels, or a compiled session's memory (it has no heap: live = its size). */
function read(s: Runnable): Reading {
  if (s instanceof InferenceSession) return { wasm: s.kernels.heap.memoryBytes, live: s.kernels.heap.liveBytes, js: jsHeap() };
  const bytes = (s as unknown as { live: { memory: WebAssembly.Memory } }).live.memory.buffer.byteLength;
  return { wasm: bytes, live: bytes, js: jsHeap() };
}
const mb = (n: number) => `${(n / 2 ** 20).toFixed(2)} MB`;

async function measure(name: string, s: Runnable, feed: (i: number) => Record<string, Tensor>): Promise<void> {
  for (let i = 0; i < CYCLE; i++) await s.run(feed(i)); // warm-up: tier-up, lazily made views and plans
  const a = read(s);
  const t0 = performance.now();
  for (let i = 0; i < RUNS; i++) await s.run(feed(i));
  const ms = performance.now() - t0;
  const b = read(s);
  const flag = a.wasm === b.wasm && a.live === b.live ? 'steady' : 'GREW';
  console.log(`${name.padEnd(44)} ${flag.padEnd(6)} wasm ${a.wasm} → ${b.wasm} B, heap live ${a.live} → ${b.live} B, JS heap ${mb(a.js)} → ${mb(b.js)} (${(ms / RUNS).toFixed(3)} ms/run)`);
}

// a model with a symbolic batch and width: Conv → Relu → global pool → Gemm
const freeDims = buildModel({
  nodes: [
    { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
    { op: 'Relu', inputs: ['c'], outputs: ['r'] },
    { op: 'Transpose', inputs: ['r'], outputs: ['t'], attrs: { perm: [0, 1, 3, 2] } },
    { op: 'GlobalAveragePool', inputs: ['t'], outputs: ['p'] },
    { op: 'Flatten', inputs: ['p'], outputs: ['f'] },
    { op: 'Gemm', inputs: ['f', 'fw'], outputs: ['y'], attrs: { transB: 1 } },
  ],
  inputs: [{ name: 'x', dims: ['N', 3, 16, 'W'] }],
  outputs: ['y'],
  initializers: [
    { name: 'w', dims: [8, 3, 3, 3], data: weights(216, 1, 0.3) },
    { name: 'fw', dims: [10, 8], data: weights(80, 2, 0.3) },
  ],
});
const image = (n: number, w: number, seed: number) => new Tensor('float32', weights(n * 3 * 16 * w, seed, 1), [n, 3, 16, w]);

console.log(`${RUNS} runs per workload, after ${CYCLE} warm-up runs\n`);
for (const wasm of ['simd', 'relaxed'] as const) {
  const mnist = mnistCnn();
  const digits = Array.from({ length: 8 }, (_, i) => new Tensor('float32', weights(784, 10 + i, 1), [1, 1, 28, 28]));
  await measure(`${wasm}: MNIST CNN, one shape`, await InferenceSession.create(mnist.bytes, { wasm }), (i) => ({ x: digits[i % 8] }));
  await measure(`${wasm}: MNIST CNN compiled (edgeprune/runtime)`, await Compiled.create(await compileModel(mnist.bytes), { wasm }), (i) => ({ x: digits[i % 8] }));

  const batches = [1, 3, 2].map((n, i) => image(n, 24, 20 + i));
  await measure(`${wasm}: batches 1, 3, 2 in turn`, await InferenceSession.create(freeDims, { wasm }), (i) => ({ x: batches[i % 3] }));

  // widths 8..71 in turn: with 64 distinct widths every run is a plan not among the last few kept
  const widths = Array.from({ length: 64 }, (_, i) => image(1, 8 + i, 30 + i));
  await measure(`${wasm}: a new width every run (64 in turn)`, await InferenceSession.create(freeDims, { wasm }), (i) => ({ x: widths[i % 64] }));
}
