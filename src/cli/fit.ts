// `edgeprune fit MODEL [--max-size 300kB] [--max-memory 4MB] [--max-latency 5ms] [--max-flops N]
//  --calib X.npy [--data X.npy --labels Y.npy] [--finetune-epochs N] --out OUT [--report r.html]`:
// prune to the budgets with the least predicted damage, recover from calibration data, write the
// model (OUT.onnx: ONNX, else .epm) and show per layer what it cost; progress on stderr.
import type { CommandContext } from './context.js';
import { CliError, CliUsageError } from './errors.js';
import { readBytes, writeBytes } from './files.js';
import { loadDataset } from './dataset.js';
import { table } from './format.js';

export interface FitCliOptions {
  maxSize?: string;
  maxMemory?: string;
  maxLatency?: string;
  maxFlops?: string;
  calib?: string;
  data?: string;
  labels?: string;
  finetuneEpochs?: string;
  samples?: string;
  recovery?: 'reconstruct' | 'bias' | 'none';
  channels?: boolean;
  sparse?: boolean;
  int8?: boolean;
  exclude?: string;
  elastic?: boolean;
  out: string;
  report?: string;
  json?: boolean;
  quiet?: boolean;
}

function int(value: string | undefined, flag: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new CliUsageError(`${flag} takes an integer >= ${min}, got '${value}'`);
  return n;
}

export async function fitCommand(ctx: CommandContext, model: string, opts: FitCliOptions): Promise<void> {
  if (!opts.maxSize && !opts.maxMemory && !opts.maxLatency && !opts.maxFlops) {
    throw new CliUsageError('fit needs at least one budget: --max-size (e.g. 300kB), --max-memory (e.g. 4MB), --max-latency (e.g. 5ms) or --max-flops (e.g. 12M)');
  }
  if (!opts.calib && !opts.data) throw new CliUsageError('fit needs calibration samples: --calib X.npy (a few hundred unlabelled inputs), or --data X.npy --labels Y.npy');
  if (!!opts.data !== !!opts.labels) throw new CliUsageError('--data and --labels go together (samples and their class indices)');
  const epochs = int(opts.finetuneEpochs, '--finetune-epochs', 0);
  if (epochs > 0 && !opts.data) throw new CliUsageError('--finetune-epochs needs labelled data: --data X.npy --labels Y.npy');
  const samples = int(opts.samples, '--samples', 512, 1);
  if (opts.elastic && opts.out.toLowerCase().endsWith('.onnx')) throw new CliUsageError('--elastic writes an .epm artifact (one file, many widths): give --out OUT.epm');

  const [{ parseBudgets, fit }, { fitLayerTable, fitSummaryTable, fitFidelityTable, fitElasticTable, fitReportHtml }, { importOnnx }, { isArtifact, readArtifact }, { readNpy }, { subset }] = await Promise.all([
    import('../fit/index.js'), import('../fit/report.js'), import('../onnx/import.js'), import('../format/index.js'), import('../io/npy.js'), import('../train/data.js'),
  ]);
  // budgets first: a typo in a unit should not cost a model load
  const budgets = parseBudgets({ maxSize: opts.maxSize, maxMemory: opts.maxMemory, maxLatency: opts.maxLatency, maxFlops: opts.maxFlops });
  const input = await readBytes(model);
  const graph = isArtifact(input) ? readArtifact(input) : importOnnx(input);

  const data = opts.data ? await loadDataset(opts.data, opts.labels!) : undefined;
  let calibration;
  if (opts.calib) {
    const arr = readNpy(await readBytes(opts.calib));
    if (arr.dtype !== 'float32' && arr.dtype !== 'float64') throw new CliError(`${opts.calib} holds ${arr.dtype}; calibration samples must be float32 or float64 (np.save(path, x.astype(np.float32)))`);
    if (arr.dims.length < 2) throw new CliError(`${opts.calib} has shape [${arr.dims.join(', ')}]; it needs the samples along axis 0, e.g. [512, 1, 28, 28]`);
    const per = arr.dims.slice(1).reduce((a, b) => a * b, 1);
    const n = Math.min(samples, arr.dims[0]);
    const all = arr.data instanceof Float32Array ? arr.data : Float32Array.from(arr.data as Float64Array);
    calibration = { x: all.subarray(0, n * per), sampleDims: arr.dims.slice(1) };
  } else {
    const d = subset(data!, Array.from({ length: Math.min(samples, data!.n) }, (_, i) => i));
    calibration = { x: d.x, sampleDims: d.sampleDims, labels: d.y };
  }
  const format = opts.out.toLowerCase().endsWith('.onnx') ? 'onnx' : 'epm';
  const t0 = performance.now();
  const say = (s: string) => {
    if (!opts.quiet) ctx.stderr.write(`fit [${((performance.now() - t0) / 1000).toFixed(1)}s] ${s}\n`);
  };
  const result = await fit(graph, budgets, {
    calibration,
    format,
    recovery: opts.recovery,
    channels: opts.channels,
    sparsity: opts.sparse,
    int8: opts.int8,
    exclude: opts.exclude ? opts.exclude.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    elastic: opts.elastic,
    ...(data && epochs > 0 ? { finetune: { data, epochs } } : {}),
    ...(data ? { evaluate: data } : {}),
    onProgress: say,
    onWarning: (s) => ctx.stderr.write(`edgeprune: warning: ${s}\n`),
  });
  await writeBytes(opts.out, result.bytes);
  if (opts.report) await writeBytes(opts.report, new TextEncoder().encode(fitReportHtml(result, `edgeprune fit ${model}`)));
  if (opts.json) {
    const { graph: _g, bytes: _b, ...rest } = result;
    ctx.stdout.write(`${JSON.stringify({ model, out: opts.out, ...rest }, null, 2)}\n`);
    return;
  }
  ctx.stdout.write(`fit ${model} -> ${opts.out} (${result.bytes.length.toLocaleString('en-US')} bytes, ${result.seconds.toFixed(1)} s)\n\n`);
  ctx.stdout.write(`${table(fitSummaryTable(result))}\n\n${table(fitFidelityTable(result))}\n\n${table(fitLayerTable(result))}\n`);
  if (result.elastic) ctx.stdout.write(`\nelastic widths (InferenceSession.create(bytes, { memoryBudget }) loads the widest that fits):\n${table(fitElasticTable(result))}\n`);
  if (opts.report) ctx.stdout.write(`\nreport: ${opts.report}\n`);
}
