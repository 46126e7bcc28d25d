// `edgeprune inspect MODEL [--json]`: what a model takes, gives, holds and costs.
import type { CommandContext } from './context.js';
import { readBytes } from './files.js';
import { bytes, dimsText, grouped, si, table } from './format.js';
import type { KernelChoice, ModelInfo, SessionInfo } from './session-types.js';
import { checkDimNames, dimExample, parseDims, unplannedText, unsetDims } from './dims.js';

export interface InspectOptions {
  json?: boolean;
  /** list each layer with weights, its kernel and why */
  layers?: boolean;
  kernels?: KernelChoice;
  /** NAME=VALUE for symbolic dims (repeatable) */
  dim?: string[];
}

export async function inspect(ctx: CommandContext, model: string, opts: InspectOptions): Promise<void> {
  const modelBytes = await readBytes(model);
  const { InferenceSession } = await ctx.runtime();
  const given = parseDims(opts.dim);
  const session = await InferenceSession.create(modelBytes, { freeDimensionOverrides: given, ...(opts.kernels ? { kernels: opts.kernels } : {}) });
  try {
    checkDimNames(given, session.inputMetadata);
    const about = session.modelInfo();
    if (about.unplanned !== undefined) {
      // symbolic dims at 1 do not fit (a pool over a 1x1 map): what the file says, and how to get the rest
      const note = unplannedText(about.inputs, given, about.unplanned);
      ctx.stdout.write(opts.json ? `${JSON.stringify({ ...about, note }, null, 2)}\n` : formatInfo(model, about, [], note));
      return;
    }
    const info = session.info();
    const unset = unsetDims(info.inputs, given);
    ctx.stdout.write(opts.json ? `${JSON.stringify(unset.length ? { ...info, note: unsetNote(unset) } : info, null, 2)}\n` : formatInfo(model, info, unset) + (opts.layers ? formatLayers(info) : ''));
  } finally {
    await session.release();
  }
}

/** What `unset` means for the figures, and how to give real sizes. */
export function unsetNote(unset: readonly string[]): string {
  return `compute and peak memory are planned with ${unset.join(', ')} at 1; give real sizes with --dim NAME=VALUE${dimExample(unset)}`;
}

/**
 * `unset`: symbolic input dims planned at 1 (no --dim), which make FLOPs and memory a 1-sized
 * figure. A ModelInfo (no plan: `unplanned` says why) has no FLOPs, memory or kernels to show.
 */
export function formatInfo(model: string, info: SessionInfo | ModelInfo, unset: readonly string[] = [], unplanned?: string): string {
  const pct = info.params > 0 ? ` = ${((100 * info.nonZeroParams) / info.params).toFixed(1)}%` : '';
  const ops = Object.entries(info.opCounts).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  const nodes = ops.reduce((s, [, n]) => s + n, 0);
  const rows: string[][] = [['model', model]];
  const origin = [info.producer, info.opset !== undefined ? `opset ${info.opset}` : ''].filter(Boolean).join(', ');
  if (origin) rows.push(['exported by', origin]);
  const io = (label: string, list: SessionInfo['inputs']) => {
    if (!list.length) rows.push([label, '(none)']);
    list.forEach((v, i) => {
      const p = v.plannedDims;
      let text = `${v.name}  ${dimsText(v.dims)}`;
      // no declared shape (dims []) but a planned one with axes: show what the plan found
      if (p && v.dims.length === 0 && p.length > 0) text = `${v.name}  ${dimsText(p)}  (planned; the model declares no shape)`;
      else if (p && dimsText(p) !== dimsText(v.dims)) text += `  (planned for ${dimsText(p)})`;
      rows.push([i === 0 ? label : '', text]);
    });
  };
  io('inputs', info.inputs);
  io('outputs', info.outputs);
  rows.push(['parameters', `${grouped(info.params)} (non-zero ${grouped(info.nonZeroParams)}${pct})`]);
  if ('flops' in info) {
    rows.push(
      // what the session holds in wasm memory (packed for the kernels), not the file's bytes
      ['packed weights', bytes(info.weightBytes)],
      ['compute', `${si(info.flops, 'FLOP')} per run`],
      ['peak memory', `${bytes(info.plannedPeakBytes)} planned`],
      ...(info.kernels ? [['kernels', `wasm ${info.kernels}${sparseSummary(info)}`]] : []),
    );
  } else rows.push(['compute, memory', `not planned: ${unplanned ?? 'no plan'}`]);
  rows.push(
    ...(info.elastic ? [['elastic widths', info.elastic.levels.map((l, i) => `${+(100 * l.channels).toFixed(2)}%${i === info.elastic!.level ? ' (loaded)' : ''}`).join(', ')]] : []),
    ...(unset.length ? [['note', unsetNote(unset)]] : []),
    ['operators', `${nodes} node${nodes === 1 ? '' : 's'}, ${ops.length} kind${ops.length === 1 ? '' : 's'}`],
  );
  if (ops.length) {
    // counts right-aligned in a column under the values
    const width = Math.max(...ops.map(([, n]) => String(n).length));
    table(ops.map(([op, n]) => [String(n).padStart(width), op])).split('\n').forEach((line) => rows.push(['', line]));
  }
  return `${table(rows)}\n`;
}

/** ', sparse in 3 of 12 layers with weights' (nothing when no layer has a choice). */
function sparseSummary(info: SessionInfo): string {
  const layers = info.nodes.filter((n) => n.choice);
  if (!layers.length) return '';
  const sparse = layers.filter((n) => n.kernel.includes('sparse')).length;
  return `, sparse in ${sparse} of ${layers.length} layer${layers.length === 1 ? '' : 's'} with weights`;
}

/** One row per layer with weights: name, op, kernel, and why that kernel. */
export function formatLayers(info: SessionInfo): string {
  const layers = info.nodes.filter((n) => n.choice);
  if (!layers.length) return 'no layers with weights\n';
  return `\n${table([['layer', 'op', 'kernel', 'why'], ...layers.map((n) => [n.name, n.op, n.kernel, n.choice!])])}\n`;
}
