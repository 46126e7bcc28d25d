// `edgeprune eval MODEL --data X.npy --labels Y.npy [--json]`: accuracy on a labelled set, size on
// disk, parameters, and the median latency of one inference with the kernels the session chose.
import type { CommandContext } from './context.js';
import { readBytes } from './files.js';
import { loadDataset } from './dataset.js';
import { bytes as fmtBytes, grouped, table } from './format.js';
import type { KernelChoice, WasmChoice } from './session-types.js';

export interface EvalOptions {
  data: string;
  labels: string;
  json?: boolean;
  batch?: string;
  wasm?: WasmChoice;
  kernels?: KernelChoice;
}

export async function evalModel(ctx: CommandContext, model: string, opts: EvalOptions): Promise<void> {
  const [modelBytes, data] = await Promise.all([readBytes(model), loadDataset(opts.data, opts.labels)]);
  const [{ accuracy, medianLatencyMs }, { ArgumentError }] = await Promise.all([import('../train/evaluate.js'), import('../errors.js')]);
  const runtime = await ctx.runtime();
  const base = { ...(opts.wasm ? { wasm: opts.wasm } : {}), ...(opts.kernels ? { kernels: opts.kernels } : {}) };
  // the batch: a symbolic first dim is planned at --batch (default 64); a fixed one is used as is
  const probe = await runtime.InferenceSession.create(modelBytes, base);
  const declared = probe.inputMetadata[0]?.shape ?? [];
  await probe.release();
  const first = declared[0];
  const batchArg = opts.batch === undefined ? 64 : Number(opts.batch);
  if (!Number.isInteger(batchArg) || batchArg < 1) throw new ArgumentError(`--batch must be a positive integer, got '${opts.batch}'`);
  const symbolic = typeof first === 'string';
  const batch = symbolic ? batchArg : typeof first === 'number' ? first : 1;
  const overrides = symbolic ? { [first]: batch } : {};
  const tensor = (d: Float32Array, dims: number[]) => new runtime.Tensor('float32', d, dims);
  const session = await runtime.InferenceSession.create(modelBytes, { ...base, freeDimensionOverrides: overrides });
  try {
    const acc = await accuracy(session, data, tensor, batch);
    const info = session.info();
    // latency of one inference: batch 1 where the batch is free
    const one = symbolic ? await runtime.InferenceSession.create(modelBytes, { ...base, freeDimensionOverrides: { [first]: 1 } }) : session;
    const oneBatch = symbolic ? 1 : batch;
    const per = data.sampleDims.reduce((a, b) => a * b, 1);
    const x = new Float32Array(oneBatch * per);
    x.set(data.x.subarray(0, Math.min(data.n, oneBatch) * per));
    const latency = await medianLatencyMs(one, { [session.inputNames[0]]: tensor(x, [oneBatch, ...data.sampleDims]) });
    if (one !== session) await one.release();
    const result = {
      model,
      accuracy: acc.accuracy,
      correct: acc.correct,
      samples: acc.n,
      fileBytes: modelBytes.byteLength,
      params: info.params,
      nonZeroParams: info.nonZeroParams,
      latencyMs: latency,
      latencyBatch: oneBatch,
      kernels: info.kernels,
      sparseLayers: info.nodes.filter((n) => n.kernel.includes('sparse')).length,
    };
    if (opts.json) {
      ctx.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    ctx.stdout.write(`${table([
      ['model', model],
      ['accuracy', `${(100 * acc.accuracy).toFixed(2)}% (${acc.correct} of ${acc.n})`],
      ['size on disk', fmtBytes(modelBytes.byteLength)],
      ['parameters', `${grouped(info.params)} (non-zero ${grouped(info.nonZeroParams)})`],
      ['latency', `${latency.toFixed(3)} ms median per inference (batch ${oneBatch}, wasm ${info.kernels ?? '?'}, ${result.sparseLayers} sparse layer${result.sparseLayers === 1 ? '' : 's'})`],
    ])}\n`);
  } finally {
    await session.release();
  }
}
