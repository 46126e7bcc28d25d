// Long-running sessions: 1,000 consecutive runs grow neither the kernels' wasm memory (its size and
// the bytes the host heap has handed out) nor the JS heap. The 10,000 runs are the same
// loop with a larger count (EDGEPRUNE_MEMORY_RUNS=10000).
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import type { Kernels } from '../src/wasm/kernels.js';
import { compiledModel, inputs, prunedModel } from './util/runtimes.js';
import { InferenceSession as Compiled } from '../src/runtime-compiled/session.js';
import { buildModel } from './util/onnx-build.js';

const RUNS = Number(process.env.EDGEPRUNE_MEMORY_RUNS ?? 1000);
const gc = (globalThis as { gc?: () => void }).gc;
// with a full collection before each reading the heap is steady to within a few hundred kB; without
// one (vitest run without --expose-gc), garbage not yet collected can hold several MB
const HEAP_SLACK = gc ? 1 << 20 : 16 << 20;

function heapUsed(): number {
  if (gc) {
    gc();
    gc();
  }
  // typed arrays (a leaked output tensor) live outside the V8 heap, in arrayBuffers
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** The session's kernels (a private field): their wasm memory and host heap. */
function wasmOf(s: InferenceSession): { bytes: number; live: number } {
  const k = (s as unknown as { k: Kernels }).k;
  const memory = (k as unknown as { memory: WebAssembly.Memory }).memory;
  return { bytes: memory.buffer.byteLength, live: k.heap.liveBytes };
}

describe(`${RUNS} consecutive runs`, () => {
  it.each(['simd', 'relaxed'] as const)('%s: wasm memory and the JS heap do not grow', async (wasm) => {
    const s = await InferenceSession.create(await prunedModel(), { wasm });
    const feeds = inputs(8).map((f) => Float32Array.from(f.data));
    const runOnce = async (i: number) => {
      const out = await s.run({ x: new Tensor('float32', feeds[i % feeds.length], [1, 1, 28, 28]) });
      if (out.logits.data.length !== 10) throw new Error('wrong output');
    };
    for (let i = 0; i < 100; i++) await runOnce(i); // warm-up: tier-up, lazily created views
    const wasmBefore = wasmOf(s);
    const heapBefore = heapUsed();
    for (let i = 0; i < RUNS; i++) await runOnce(i);
    const wasmAfter = wasmOf(s);
    const heapAfter = heapUsed();
    console.log(`${wasm}: ${RUNS} runs, wasm memory ${wasmBefore.bytes} → ${wasmAfter.bytes} bytes (heap live ${wasmBefore.live} → ${wasmAfter.live}), JS heap ${(heapBefore / 2 ** 20).toFixed(2)} → ${(heapAfter / 2 ** 20).toFixed(2)} MB${gc ? ' after gc()' : ' (no gc())'}`);
    expect(wasmAfter).toEqual(wasmBefore);
    expect(heapAfter - heapBefore).toBeLessThan(HEAP_SLACK);
    await s.release();
  });

  it('edgeprune/runtime on the compiled model: wasm memory and the JS heap do not grow', async () => {
    const s = await Compiled.create((await compiledModel()).compiled, { wasm: 'simd' });
    const memory = (s as unknown as { live: { memory: WebAssembly.Memory } }).live.memory;
    const feeds = inputs(8).map((f) => new Tensor('float32', Float32Array.from(f.data), [1, 1, 28, 28]));
    const runOnce = async (i: number) => {
      if ((await s.run({ x: feeds[i % feeds.length] })).logits.data.length !== 10) throw new Error('wrong output');
    };
    for (let i = 0; i < 100; i++) await runOnce(i);
    const bytesBefore = memory.buffer.byteLength;
    const heapBefore = heapUsed();
    for (let i = 0; i < RUNS; i++) await runOnce(i);
    const heapAfter = heapUsed();
    console.log(`compiled: ${RUNS} runs, wasm memory ${bytesBefore} → ${memory.buffer.byteLength} bytes, JS heap ${(heapBefore / 2 ** 20).toFixed(2)} → ${(heapAfter / 2 ** 20).toFixed(2)} MB${gc ? ' after gc()' : ' (no gc())'}`);
    expect(memory.buffer.byteLength).toBe(bytesBefore);
    expect(heapAfter - heapBefore).toBeLessThan(HEAP_SLACK);
  });

  it('alternating batch sizes re-plans without leaking: each plan is freed when the next replaces it', async () => {
    const s = await InferenceSession.create(await prunedModel(), { wasm: 'simd' });
    const one = Float32Array.from(inputs(1)[0].data);
    const batches = [1, 3, 2].map((n) => new Tensor('float32', new Float32Array(n * 784).fill(0.5).map((v, i) => one[i % 784] * v), [n, 1, 28, 28]));
    for (let i = 0; i < 30; i++) await s.run({ x: batches[i % 3] });
    const before = wasmOf(s);
    const heapBefore = heapUsed();
    // a multiple of 3 runs, so the last plan is for the same batch as before the loop
    for (let i = 0; i < RUNS - (RUNS % 3); i++) await s.run({ x: batches[i % 3] });
    const after = wasmOf(s);
    expect(after).toEqual(before);
    expect(heapUsed() - heapBefore).toBeLessThan(HEAP_SLACK);
    await s.release();
  });

  it('dims seen lately reuse their plan (no new specialization): same outputs as a fresh session, plans gone once evicted', async () => {
    const s = await InferenceSession.create(await prunedModel(), { wasm: 'simd' });
    const one = Float32Array.from(inputs(1)[0].data);
    const batch = (n: number) => new Tensor('float32', new Float32Array(n * 784).map((_, i) => one[i % 784] * (1 + (i % 3))), [n, 1, 28, 28]);
    const planOf = () => (s as unknown as { active: { plan: object } }).active.plan;
    const plans = new Map<number, object>();
    for (const n of [1, 3, 2, 1, 3, 2, 1]) {
      const y = (await s.run({ x: batch(n) })).logits.data;
      const fresh = await InferenceSession.create(await prunedModel(), { wasm: 'simd' });
      expect(Array.from(y), `batch ${n}`).toEqual(Array.from((await fresh.run({ x: batch(n) })).logits.data));
      await fresh.release();
      if (plans.has(n)) expect(planOf(), `batch ${n} again`).toBe(plans.get(n));
      plans.set(n, planOf());
    }
    // five other batch sizes in between: the batch-1 plan (and its executors) was evicted
    for (const n of [4, 5, 6, 7, 8]) await s.run({ x: batch(n) });
    await s.run({ x: batch(1) });
    expect(planOf()).not.toBe(plans.get(1));
    await s.release();
  });

  it('ever-new input dims keep the tables of the last few plans only: weights and tables stop growing', async () => {
    // a free width: every run is a new plan with its own strided-copy tables (Transpose, Concat)
    const model = buildModel({
      nodes: [
        { op: 'Transpose', inputs: ['x'], outputs: ['t'], attrs: { perm: [0, 1, 3, 2] } },
        { op: 'Concat', inputs: ['t', 't'], outputs: ['c'], attrs: { axis: 1 } },
        { op: 'Relu', inputs: ['c'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: [1, 4, 8, 'W'] }],
      outputs: ['y'],
    });
    const s = await InferenceSession.create(model, { wasm: 'simd' });
    const tables: number[] = [];
    for (let w = 1; w <= 60; w++) {
      const x = new Float32Array(32 * w).map((_, i) => i - 16 * w);
      const y = await s.run({ x: new Tensor('float32', x, [1, 4, 8, w]) });
      expect(y.y.data[32 * w + 1]).toBe(Math.max(0, x[w])); // second copy, row 0 col 1 = x[0, 0, 1, 0]
      tables.push(s.info().weightBytes);
    }
    expect(tables[9]).toBeGreaterThan(tables[0]); // each plan does add tables...
    expect(Math.max(...tables.slice(9))).toBe(tables[9]); // ...but only the last few plans' are kept
  });

  it('the measurement sees a leak of the size it guards against', async () => {
    // the same readings around a loop that keeps what one leaked output per run would (a 10-float
    // tensor object) plus 2 kB: the checks above would fail on it
    const kept: unknown[] = [];
    const before = heapUsed();
    for (let i = 0; i < RUNS; i++) kept.push(new Tensor('float32', new Float32Array(10).fill(i), [1, 10]), new Array(256).fill(i + 0.5));
    expect(heapUsed() - before).toBeGreaterThan(gc ? HEAP_SLACK : 0);
    expect(kept.length).toBe(2 * RUNS);
  });
});
