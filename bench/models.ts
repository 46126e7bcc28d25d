// Whole-model benchmark: edgeprune's InferenceSession (both builds) against onnxruntime-web
// (wasm, one thread) on the same ONNX bytes, interleaved, medians and per-round ratios; plus the
// fixed cost of a run() call and of a node, and cold start in fresh Node processes. Models: two built
// in bench/model-zoo.ts (one of them also as an int8 QDQ model) and PaddleOCR's pretrained
// MobileNetV3 classifier, v4 recogniser and v4 detector (an npm package; the last two in the
// latency table only).
// Run: node scripts/run-ts.mjs bench/models.ts [--quick] [--only NAME] [--latency-only | --cold-only]
import * as ort from 'onnxruntime-web';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { measure, median, type Impl } from './harness.js';
import { mnistCnn, mobileNetBlocks, mobileNetBlocksQdq, ppocrClassifier, ppocrDetector, ppocrRecognizer, tinyModel, type BenchModel } from './model-zoo.js';
import { coldStart, compiled } from './cold-start.js';
import { InferenceSession as CompiledSession } from '../src/runtime-compiled/session.js';
import { hasRelaxedSimd } from '../src/wasm/features.js';

function input(m: BenchModel): Float32Array {
  const n = m.input.dims.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
}

async function impls(m: BenchModel, flavors: ('simd' | 'relaxed')[], withCompiled = false): Promise<Impl[]> {
  const x = input(m);
  const out: Impl[] = [];
  for (const wasm of flavors) {
    const s = await InferenceSession.create(m.bytes, { wasm });
    const feeds = { [m.input.name]: new Tensor('float32', x, m.input.dims) };
    out.push({ name: `edgeprune-${wasm}`, run: async () => void (await s.run(feeds)) });
  }
  if (withCompiled) {
    // edgeprune/runtime on the model compiled for these dims (simd): the replay's own cost per call
    const s = await CompiledSession.create(await compiled(m), { wasm: 'simd' });
    const feeds = { [m.input.name]: new Tensor('float32', x, m.input.dims) };
    out.push({ name: 'edgeprune-compiled', run: async () => void (await s.run(feeds)) });
  }
  const o = await ort.InferenceSession.create(m.bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const feeds = { [m.input.name]: new ort.Tensor('float32', x, m.input.dims) };
  out.push({
    name: 'ort-web',
    run: async () => {
      const r = await o.run(feeds);
      for (const t of Object.values(r)) t.dispose();
    },
  });
  return out;
}

async function main() {
  const quick = process.argv.includes('--quick');
  const onlyAt = process.argv.indexOf('--only');
  const only = onlyAt >= 0 ? process.argv[onlyAt + 1].toLowerCase() : '';
  const latencyOnly = process.argv.includes('--latency-only');
  const coldOnly = process.argv.includes('--cold-only');
  const rounds = quick ? 5 : 15;
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const flavors: ('simd' | 'relaxed')[] = ['simd'];
  if (hasRelaxedSimd()) flavors.push('relaxed');

  if (!coldOnly) await latencies(only, rounds, flavors, !latencyOnly);
  if (!latencyOnly) await coldStarts(quick);
}

/** Whole-model latency, then the fixed cost of run() and of a node. */
async function latencies(only: string, rounds: number, flavors: ('simd' | 'relaxed')[], fixedCosts: boolean): Promise<void> {
  console.log(`\nedgeprune whole-model benchmark: single thread, ${process.version}, medians of ${rounds} interleaved rounds\n`);
  const rows: string[][] = [['model', 'edgeprune-simd ms', 'edgeprune-relaxed ms', 'ort-web ms', 'simd speed-up', 'relaxed speed-up']];
  for (const m of [mnistCnn(), mobileNetBlocks(), mobileNetBlocksQdq(), ppocrClassifier(), ppocrRecognizer(), ppocrDetector()]) {
    if (only && !m.name.toLowerCase().includes(only)) continue;
    const r = await measure(m.name, 0, await impls(m, flavors), rounds);
    const ms = (n: string) => (r.medians.has(n) ? (r.medians.get(n)! * 1e3).toFixed(3) : '-');
    const up = (n: string) => (r.ratios.get(n)?.get('ort-web')?.toFixed(2) ?? '-') + 'x';
    rows.push([m.name, ms('edgeprune-simd'), ms('edgeprune-relaxed'), ms('ort-web'), up('edgeprune-simd'), up('edgeprune-relaxed')]);
  }
  printRows(rows);
  if (!fixedCosts) return;

  // fixed costs: one tiny node, and 64 tiny nodes (the difference / 63 is the cost of a node)
  console.log('\nfixed cost per run() call and per node (tiny Relu models, medians)\n');
  const one = await measure('1 node', 0, await impls(tinyModel(1), ['simd'], true), rounds);
  const many = await measure('64 nodes', 0, await impls(tinyModel(64), ['simd'], true), rounds);
  const us = (r: typeof one, n: string) => r.medians.get(n)! * 1e6;
  const perNode = (n: string) => ((us(many, n) - us(one, n)) / 63).toFixed(2);
  printRows([
    ['', 'edgeprune µs', 'edgeprune/runtime compiled µs', 'ort-web µs'],
    ['run() with 1 node', us(one, 'edgeprune-simd').toFixed(1), us(one, 'edgeprune-compiled').toFixed(1), us(one, 'ort-web').toFixed(1)],
    ['per extra node', perNode('edgeprune-simd'), perNode('edgeprune-compiled'), perNode('ort-web')],
  ]);
}

/** Cold start: fresh processes, import + create + first run. */
async function coldStarts(quick: boolean): Promise<void> {
  console.log('\ncold start: a fresh Node process imports the library, creates the session and finishes the first run (medians)');
  console.log("edgeprune as Node loads it (dist/node: V8 code cache written by npm run build); 'no cache': EDGEPRUNE_CODE_CACHE=0, what a Node with other flags or another version gets\n");
  console.log("'compiled': edgeprune/runtime on the model compiled for these dims (edgeprune compile), what an app ships\n");
  const coldRows: string[][] = [['model', 'edgeprune import→result ms', 'no cache ms', 'compiled ms', 'ort-web import→result ms', 'speed-up', 'no cache speed-up', 'compiled speed-up', 'edgeprune process ms', 'ort-web process ms', 'speed-up']];
  for (const m of [mnistCnn(), mobileNetBlocks(), ppocrClassifier()]) {
    type Cold = { total: number; fromImport: number };
    const ours: Cold[] = [];
    const uncached: Cold[] = [];
    const theirs: Cold[] = [];
    const compiled: Cold[] = [];
    for (let i = 0; i < (quick ? 3 : 7); i++) {
      ours.push(await coldStart('edgeprune', m));
      theirs.push(await coldStart('ort-web', m));
      uncached.push(await coldStart('edgeprune-no-cache', m));
      compiled.push(await coldStart('edgeprune-compiled', m));
    }
    const med = (v: Cold[], k: keyof Cold) => median(v.map((x) => x[k]));
    const ratio = (a: Cold[], b: Cold[], k: keyof Cold) => `${(med(b, k) / med(a, k)).toFixed(1)}x`;
    coldRows.push([
      `${m.name} (${(m.bytes.length / 1024).toFixed(0)} kB)`,
      med(ours, 'fromImport').toFixed(1), med(uncached, 'fromImport').toFixed(1), med(compiled, 'fromImport').toFixed(1), med(theirs, 'fromImport').toFixed(1),
      ratio(ours, theirs, 'fromImport'), ratio(uncached, theirs, 'fromImport'), ratio(compiled, theirs, 'fromImport'),
      med(ours, 'total').toFixed(0), med(theirs, 'total').toFixed(0), ratio(ours, theirs, 'total'),
    ]);
  }
  printRows(coldRows);
}

function printRows(rows: string[][]): void {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const [j, r] of rows.entries()) {
    console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
    if (j === 0) console.log(w.map((n) => '-'.repeat(n)).join('  '));
  }
}

await main();
