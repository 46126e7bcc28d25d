// `edgeprune bench MODEL [--dim NAME=VALUE] [--runs N] [--compare]`: how fast a model is on this
// machine, with no data: what creating the session costs, the first run, and the median of many
// runs on random inputs at the declared dims (symbolic ones from --dim, else 1). With --compare,
// the same model with dense kernels forced, interleaved run by run, and the speed-up the chosen
// (sparse or slim) kernels give.
import type { CommandContext } from './context.js';
import { checkDimNames, parseDims, unplannedText } from './dims.js';
import { readBytes } from './files.js';
import { si, table } from './format.js';
import { CliError } from './errors.js';
import { Rng } from '../train/rng.js';
import { medianOfSorted as median } from '../train/evaluate.js';
import type { CliSession, CliTensor, KernelChoice, WasmChoice } from './session-types.js';

export interface BenchOptions {
  dim?: string[];
  runs?: string;
  wasm?: WasmChoice;
  kernels?: KernelChoice;
  compare?: boolean;
  json?: boolean;
}

export interface BenchResult {
  model: string;
  inputs: { name: string; dims: number[] }[];
  kernels: string;
  sparseLayers: number;
  layers: number;
  flops: number;
  createMs: number;
  firstRunMs: number;
  runs: number;
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  /** With --compare: the dense-kernel session's median, and dense / chosen. */
  denseMedianMs?: number;
  speedup?: number;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** Seeded values in [-1, 1): the timing does not depend on them, the plan on their dims. */
function randomData(n: number, stream: number): Float32Array {
  const r = new Rng(7, stream);
  return Float32Array.from({ length: n }, () => 2 * r.next() - 1);
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await f();
  return [v, performance.now() - t0];
}

export async function bench(ctx: CommandContext, model: string, opts: BenchOptions): Promise<void> {
  const runs = opts.runs === undefined ? 100 : Number(opts.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new CliError(`--runs must be a positive integer, got '${opts.runs}'`);
  const modelBytes = await readBytes(model);
  const runtime = await ctx.runtime();
  const overrides = parseDims(opts.dim);
  const base = { freeDimensionOverrides: overrides, ...(opts.wasm ? { wasm: opts.wasm } : {}) };
  const [session, createMs] = await timed(() => runtime.InferenceSession.create(modelBytes, { ...base, ...(opts.kernels ? { kernels: opts.kernels } : {}) }));
  const dense = opts.compare ? await runtime.InferenceSession.create(modelBytes, { ...base, kernels: 'dense' }) : undefined;
  try {
    checkDimNames(overrides, session.inputMetadata);
    const inputs = session.inputMetadata.map((m) => ({ name: m.name, dims: m.shape.map((d) => (typeof d === 'number' ? d : (overrides[d] ?? 1))) }));
    const feeds: Record<string, CliTensor> = {};
    inputs.forEach((v, i) => (feeds[v.name] = new runtime.Tensor('float32', randomData(v.dims.reduce((a, b) => a * b, 1), i), v.dims)));
    // symbolic dims at 1 that no layer accepts (a pool over a 1x1 map): say which --dim to give
    const about = session.modelInfo();
    if (about.unplanned !== undefined) throw new CliError(unplannedText(about.inputs, overrides, about.unplanned));
    const [, firstRunMs] = await timed(() => session.run(feeds));
    // warm-up: V8 keeps compiling hot kernels with its optimising tier for the first runs
    const warm = async (s: CliSession) => { for (let i = 0; i < Math.min(20, runs); i++) await s.run(feeds); };
    await warm(session);
    if (dense) await warm(dense);
    const chosen: number[] = [];
    const forced: number[] = [];
    for (let i = 0; i < runs; i++) {
      // interleaved, so drift on a shared machine hits both alike
      chosen.push((await timed(() => session.run(feeds)))[1]);
      if (dense) forced.push((await timed(() => dense.run(feeds)))[1]);
    }
    chosen.sort((a, b) => a - b);
    forced.sort((a, b) => a - b);
    const info = session.info();
    const layers = info.nodes.filter((n) => n.choice);
    const result: BenchResult = {
      model,
      inputs,
      kernels: info.kernels ?? 'simd',
      sparseLayers: layers.filter((n) => n.kernel.includes('sparse')).length,
      layers: layers.length,
      flops: info.flops,
      createMs,
      firstRunMs,
      runs,
      medianMs: median(chosen),
      p10Ms: quantile(chosen, 0.1),
      p90Ms: quantile(chosen, 0.9),
      ...(dense ? { denseMedianMs: median(forced), speedup: median(forced) / median(chosen) } : {}),
    };
    ctx.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : formatBench(result));
  } finally {
    await session.release();
    await dense?.release();
  }
}

export function formatBench(r: BenchResult): string {
  const ms = (v: number) => `${v.toFixed(3)} ms`;
  const rows = [
    ['model', r.model],
    ...r.inputs.map((v, i) => [i === 0 ? 'inputs' : '', `${v.name}  [${v.dims.join(', ')}]  (random values)`]),
    ['kernels', `wasm ${r.kernels}, sparse in ${r.sparseLayers} of ${r.layers} layers with weights`],
    ['create', `${ms(r.createMs)} (read, plan, pack the weights)`],
    ['first run', ms(r.firstRunMs)],
    ['latency', `median ${ms(r.medianMs)}, p10 ${ms(r.p10Ms)}, p90 ${ms(r.p90Ms)} over ${r.runs} runs`],
    // FLOPs count the dense work of the structure left (info().flops): with sparse layers, an equivalent rate
    ['throughput', `${(1000 / r.medianMs).toFixed(1)} runs/s, ${si((r.flops * 1000) / r.medianMs, 'FLOP/s')}${r.sparseLayers ? ' (dense-equivalent)' : ''}`],
  ];
  if (r.denseMedianMs !== undefined) rows.push(['dense kernels', `median ${ms(r.denseMedianMs)}: the chosen kernels are ${r.speedup!.toFixed(2)}x as fast`]);
  return `${table(rows)}\n`;
}
