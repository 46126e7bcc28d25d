// `edgeprune prune MODEL --method M --amount A --out OUT.onnx`: prune, write, and show what it cost
// and saved (parameters, non-zeros, FLOPs, file bytes, planned peak memory) before and after.
import { ArgumentError } from '../errors.js';
import { CliError } from './errors.js';
import type { CommandContext } from './context.js';
import { readBytes, writeBytes } from './files.js';
import { bytes as fmtBytes, grouped, si, table } from './format.js';
import type { ModelInfo, SessionInfo } from './session-types.js';
import { checkDimNames, parseDims, unplannedText, unsetDims } from './dims.js';
import { unsetNote } from './inspect.js';

export const PRUNE_METHODS = ['l1-unstructured', 'global-l1', 'random', 'channel-l1', 'channel-l2', 'nm', 'block'] as const;
export type PruneMethod = (typeof PRUNE_METHODS)[number];

export interface PruneOptions {
  method: PruneMethod;
  amount?: string;
  nm?: string;
  block?: string;
  roundTo?: string;
  exclude?: string;
  seed?: string;
  /** NAME=VALUE for symbolic dims (repeatable) */
  dim?: string[];
  /** quantize the pruned weights to int8 (per output channel) */
  int8?: boolean;
  out: string;
}

function number(value: string | undefined, what: string, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new ArgumentError(`--${what} is required for this method`);
    return fallback;
  }
  const n = Number(value);
  if (!Number.isFinite(n)) throw new ArgumentError(`--${what} must be a number, got '${value}'`);
  return n;
}

export async function prune(ctx: CommandContext, model: string, opts: PruneOptions): Promise<void> {
  const input = await readBytes(model);
  const [{ importOnnx }, { exportOnnx }, { isArtifact, readArtifact, writeArtifact }, methods] = await Promise.all([
    import('../onnx/import.js'), import('../onnx/export.js'), import('../format/index.js'), import('../prune/index.js'),
  ]);
  const graph = isArtifact(input) ? readArtifact(input) : importOnnx(input);
  const overrides = parseDims(opts.dim);
  checkDimNames(overrides, graph.inputs.map((i) => ({ shape: i.dims ?? [] })));
  const { InferenceSession } = await ctx.runtime();
  // a model whose symbolic dims cannot be 1 (free image height and width) has no plan without
  // --dim: its counts are still known, its FLOPs and memory are not (shown as such)
  const measure = async (b: Uint8Array): Promise<SessionInfo | ModelInfo> => {
    const s = await InferenceSession.create(b, { freeDimensionOverrides: overrides });
    try {
      const about = s.modelInfo();
      return about.unplanned === undefined ? s.info() : about;
    } finally {
      await s.release();
    }
  };
  // the model as given, first: a file the runtime cannot load fails here, before any pruning
  const before = await measure(input);
  // concrete input dims for the dependency analysis where --dim gives every symbolic one past the
  // batch axis (a batch of 1 is fine to trace); an input left out is traced with them at 1, and
  // when it cannot be the analysis says which to give
  const sized = (d: number | string, axis: number) => typeof d === 'number' || overrides[d] !== undefined || axis === 0;
  const inputDims = Object.fromEntries(graph.inputs.filter((i) => i.dims?.every(sized)).map((i) => [i.name, i.dims!.map((d) => (typeof d === 'number' ? d : (overrides[d] ?? 1)))]));
  const exclude = opts.exclude ? opts.exclude.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  const amount = () => number(opts.amount, 'amount');
  let result;
  switch (opts.method) {
    case 'l1-unstructured':
      result = await methods.l1Unstructured(graph, { amount: amount(), exclude });
      break;
    case 'global-l1':
      result = await methods.globalUnstructured(graph, { amount: amount(), criterion: 'l1', exclude });
      break;
    case 'random':
      result = await methods.randomUnstructured(graph, { amount: amount(), seed: number(opts.seed, 'seed', 0), exclude });
      break;
    case 'channel-l1':
    case 'channel-l2':
      result = await methods.lnStructured(graph, { amount: amount(), norm: opts.method === 'channel-l1' ? 1 : 2, roundTo: number(opts.roundTo, 'round-to', 4), ignore: exclude, inputDims });
      break;
    case 'nm': {
      const m = /^(\d+):(\d+)$/.exec(opts.nm ?? '2:4');
      if (!m) throw new ArgumentError(`--nm takes N:M such as 2:4 or 4:8, got '${opts.nm}'`);
      result = await methods.nmSparsity(graph, { n: Number(m[1]), m: Number(m[2]), exclude });
      break;
    }
    case 'block':
      if (opts.block && opts.block !== '1x4' && opts.block !== '4x1') throw new ArgumentError(`--block takes 1x4 or 4x1, got '${opts.block}'`);
      result = await methods.blockSparsity(graph, { amount: amount(), block: (opts.block ?? '1x4') as '1x4' | '4x1', exclude });
      break;
    default:
      throw new ArgumentError(`unknown --method '${String(opts.method)}'; use one of ${PRUNE_METHODS.join(', ')}`);
  }
  // a run that removes nothing is not what was asked for: say why instead of writing the model back
  const changed = result.report.layers.some((l) => l.nonZeroAfter !== l.nonZeroBefore || l.paramsAfter !== l.paramsBefore);
  // (--amount 0, or --int8 alone, ask for no pruning)
  if (!changed && !opts.int8 && (opts.amount === undefined || Number(opts.amount) > 0)) {
    const skipped = result.report.skipped;
    const why = skipped.length ? `; ${skipped.length} layer${skipped.length === 1 ? ' was' : 's were'} left unpruned, e.g. '${skipped[0].node}': ${skipped[0].reason}` : '';
    const hint = opts.method.startsWith('channel-') ? '; an unstructured method (--method l1-unstructured) prunes any layer' : '; raise --amount';
    throw new CliError(`${opts.method} removed no weight from ${model}${why}${hint}; nothing written`);
  }
  let pruned = result.graph;
  if (opts.int8) {
    // after pruning: the int8 values keep the zeros; ONNX gets their dequantized floats
    const { quantizeGraph } = await import('../graph/quant.js');
    pruned = quantizeGraph(pruned).graph;
  }
  // .onnx for onnxruntime and other tools; any other name gets the compact native artifact (.epm),
  // which stores pruned weights sparsely (and int8 weights as int8)
  const output = opts.out.toLowerCase().endsWith('.onnx') ? exportOnnx(pruned) : writeArtifact(pruned);
  await writeBytes(opts.out, output);

  const after = await measure(output);
  const planned = (i: SessionInfo | ModelInfo): i is SessionInfo => 'flops' in i;
  const row = (label: string, f: (i: SessionInfo | ModelInfo) => number | undefined, fmt: (n: number) => string) => {
    const [a, b] = [before, after].map(f);
    const change = a !== undefined && b !== undefined && a > 0 ? `${(((b - a) / a) * 100).toFixed(1)}%` : '';
    return [label, a === undefined ? 'n/a' : fmt(a), b === undefined ? 'n/a' : fmt(b), change];
  };
  const rows = [
    ['', 'before', 'after', 'change'],
    row('parameters', (i) => i.params, grouped),
    row('non-zero parameters', (i) => i.nonZeroParams, grouped),
    row('FLOPs per run', (i) => (planned(i) ? i.flops : undefined), (n) => si(n, 'FLOP')),
    row('file bytes', (i) => (i === before ? input.length : output.length), grouped),
    row('planned peak memory', (i) => (planned(i) ? i.plannedPeakBytes : undefined), fmtBytes),
  ];
  ctx.stdout.write(`${opts.method} pruning${opts.int8 ? ' + int8 weights' : ''} of ${model} -> ${opts.out}\n${table(rows)}\n`);
  if (!planned(before)) ctx.stdout.write(`note: FLOPs and peak memory: ${unplannedText(before.inputs, overrides, before.unplanned ?? 'no plan')}\n`);
  else {
    const unset = unsetDims(before.inputs, overrides);
    if (unset.length) ctx.stdout.write(`note: ${unsetNote(unset)}\n`);
  }
  const skipped = result.report.skipped;
  if (skipped.length) {
    ctx.stdout.write(`left unpruned (${skipped.length}):\n`);
    for (const s of skipped) ctx.stdout.write(`  ${s.node}: ${s.reason}\n`);
  }
}
