// The fit report: the per-layer table (CLI and HTML) and a self-contained HTML page with inline
// SVG plots: sensitivity curves of the channel groups and layers, and the size-vs-damage frontier
// the solver walked with the chosen point on it.
import { htmlPage, type Block } from '../report/html.js';
import { barChart, lineChart, type Series } from '../report/svg.js';
import { formatBudget, type BudgetKind } from './budget.js';
import type { FitResult } from './fit.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const num = (x: number) => Math.round(x).toLocaleString('en-US');
const si = (x: number) => (x >= 1e9 ? `${(x / 1e9).toFixed(2)}G` : x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : `${Math.round(x)}`);
const dmg = (x: number) => (x === 0 ? '0' : Math.abs(x) < 1e-3 ? x.toExponential(1) : x.toFixed(4));

/** Rows of the per-layer table (header first). */
export function fitLayerTable(r: FitResult): string[][] {
  const rows = [['layer', 'op', 'out ch', 'in ch', 'sparsity', 'storage', 'bytes', 'FLOPs', 'sensitivity']];
  for (const l of r.layers) {
    rows.push([
      l.name,
      l.op,
      l.outAfter === l.outBefore ? `${l.outBefore}` : `${l.outBefore} → ${l.outAfter}`,
      l.inAfter === l.inBefore ? `${l.inBefore}` : `${l.inBefore} → ${l.inAfter}`,
      pct(l.sparsity),
      l.storage,
      `${num(l.bytesBefore)} → ${num(l.bytes)}`,
      `${si(l.flopsBefore)} → ${si(l.flops)}`,
      dmg(l.sensitivity),
    ]);
  }
  return rows;
}

/** Budget, dense, result rows. */
export function fitSummaryTable(r: FitResult): string[][] {
  const rows = [['', 'budget', 'dense', 'fitted', 'met']];
  const line = (kind: BudgetKind, label: string, limit: number | undefined) => {
    rows.push([label, limit === undefined ? '-' : formatBudget(kind, limit), formatBudget(kind, r.dense[kind]), formatBudget(kind, r.measured[kind]), limit === undefined ? '' : r.measured[kind] <= limit ? 'yes' : 'NO']);
  };
  line('size', `file bytes (.${r.format})`, r.budgets.maxBytes);
  line('memory', 'peak memory (arena + weights)', r.budgets.maxMemoryBytes);
  line('latency', 'latency (median, batch 1)', r.budgets.maxLatencyMs);
  line('flops', 'FLOPs', r.budgets.maxFlops);
  rows.push(['parameters (non-zero)', '', `${num(r.dense.params)} (${num(r.dense.nonZeroParams)})`, `${num(r.measured.params)} (${num(r.measured.nonZeroParams)})`, '']);
  return rows;
}

/** Elastic widths (header first): what each width keeps, reads, takes in memory, and its accuracy. */
export function fitElasticTable(r: FitResult): string[][] {
  const levels = r.elastic?.levels ?? [];
  const acc = levels.some((l) => l.accuracy !== undefined);
  const rows = [['width', 'file bytes read', 'weights', 'arena', 'wasm memory (memoryBudget)', ...(acc ? ['accuracy'] : [])]];
  for (const l of levels) rows.push([pct(l.channels), num(l.bytes), num(l.weightBytes), num(l.peakBytes), num(l.memoryBytes), ...(acc ? [l.accuracy !== undefined ? pct(l.accuracy) : ''] : [])]);
  return rows;
}

/** Fidelity rows: dense, fitted (with recovery), same plan without recovery. */
export function fitFidelityTable(r: FitResult): string[][] {
  const labelled = r.fidelity.dense.accuracy !== undefined;
  const rows = [['model', 'output error (rel. L2)', 'top-1 agreement', ...(labelled ? ['calib. accuracy'] : []), ...(r.accuracy ? ['accuracy (eval data)'] : [])]];
  const row = (name: string, f: FitResult['fidelity']['dense'] | undefined, acc: number | undefined) => {
    if (!f) return;
    rows.push([name, f.relError.toFixed(4), f.agreement !== undefined ? pct(f.agreement) : 'n/a (one output value)', ...(labelled ? [f.accuracy !== undefined ? pct(f.accuracy) : ''] : []), ...(r.accuracy ? [acc !== undefined ? pct(acc) : ''] : [])]);
  };
  row('dense', r.fidelity.dense, r.accuracy?.dense);
  row(`fitted (${r.recovery}${r.accuracy?.beforeFinetune !== undefined ? ' + fine-tuning' : ''})`, r.fidelity.fitted, r.accuracy?.fitted);
  if (r.accuracy?.beforeFinetune !== undefined) rows.push(['fitted before fine-tuning', '', '', ...(labelled ? [''] : []), pct(r.accuracy.beforeFinetune)]);
  row('same plan, magnitude only', r.fidelity.magnitude, r.accuracy?.magnitude);
  return rows;
}

export function fitReportHtml(r: FitResult, title = 'edgeprune fit'): string {
  const blocks: Block[] = [];
  blocks.push({ kind: 'text', text: `Format .${r.format}, recovery: ${r.recovery}, ${r.rounds} verification round${r.rounds === 1 ? '' : 's'}, ${r.seconds.toFixed(1)} s. Every budget below is measured on the written file and a running session at batch 1.` });
  blocks.push({ kind: 'heading', text: 'Budgets' });
  blocks.push({ kind: 'table', rows: fitSummaryTable(r) });
  blocks.push({ kind: 'heading', text: 'Fidelity' });
  blocks.push({ kind: 'table', rows: fitFidelityTable(r) });
  blocks.push({ kind: 'heading', text: 'Layers' });
  blocks.push({ kind: 'table', rows: fitLayerTable(r) });
  if (r.elastic) {
    blocks.push({ kind: 'heading', text: 'Elastic widths (a session loads the widest whose wasm memory fits its memoryBudget)' });
    blocks.push({ kind: 'table', rows: fitElasticTable(r) });
  }
  if (r.reconstructions.length) {
    blocks.push({ kind: 'heading', text: 'Least-squares reconstructions (held-out calibration samples)' });
    blocks.push({ kind: 'table', rows: [['layer', 'unknowns per output', 'positions', 'ridge α', 'error: magnitude → refit'], ...r.reconstructions.map((x) => [x.layer, String(x.features), num(x.samples), String(x.alpha), x.priorError !== undefined && x.error !== undefined ? `${x.priorError.toExponential(3)} → ${x.error.toExponential(3)} (${pct(1 - x.error / x.priorError)} less)` : '-'])] });
  }
  blocks.push({ kind: 'heading', text: 'Sensitivity' });
  const yLabel = r.fidelity.dense.loss !== undefined ? 'loss increase' : 'damage (squared rel. output error)';
  if (r.sensitivity.groups.length) {
    const series: Series[] = r.sensitivity.groups.map((g) => ({ name: g.label, points: g.levels.map((l) => ({ x: 1 - l.keep / g.total, y: l.damage })) }));
    blocks.push({ kind: 'svg', svg: lineChart(series, { title: 'Channel groups', xLabel: 'share of channels removed', yLabel, xFormat: (v) => `${Math.round(100 * v)}%` }) });
  }
  const sparse = r.sensitivity.layers.filter((l) => l.levels.length > 1);
  if (sparse.length) {
    const series: Series[] = sparse.map((l) => ({ name: l.name, points: l.levels.map((v) => ({ x: v.sparsity, y: v.damage })) }));
    blocks.push({ kind: 'svg', svg: lineChart(series, { title: 'Layers (unstructured sparsity)', xLabel: 'sparsity', yLabel, xFormat: (v) => `${Math.round(100 * v)}%` }) });
  }
  const int8 = r.sensitivity.layers.filter((l) => l.int8 !== undefined);
  if (int8.length) blocks.push({ kind: 'svg', svg: barChart(int8.map((l) => ({ label: l.name, value: Math.max(0, l.int8!) })), { title: 'int8 storage', unit: '', format: dmg }) });
  if (r.frontier.length > 1) {
    blocks.push({ kind: 'heading', text: 'Size vs predicted damage' });
    const series: Series[] = [
      { name: 'greedy path (predicted)', points: r.frontier.map((p) => ({ x: p.bytes, y: p.damage })) },
      { name: 'chosen, predicted', points: [{ x: r.chosen.bytes, y: r.chosen.damage, label: 'chosen' }], line: false },
      { name: `chosen, measured (${r.recovery})`, points: [{ x: r.chosen.bytes, y: r.chosen.measured }], line: false },
    ];
    if (r.chosen.magnitude !== undefined) series.push({ name: 'same plan, magnitude only (measured)', points: [{ x: r.chosen.bytes, y: r.chosen.magnitude }], line: false });
    if (r.budgets.maxBytes) series.push({ name: 'size budget', points: [{ x: r.budgets.maxBytes, y: 0 }, { x: r.budgets.maxBytes, y: Math.max(...r.frontier.map((p) => p.damage), r.chosen.magnitude ?? 0) }], color: '#999' });
    blocks.push({ kind: 'svg', svg: lineChart(series, { title: 'Frontier', xLabel: `file bytes (.${r.format})`, yLabel, width: 600, xFormat: si }) });
  }
  if (r.warnings.length) {
    blocks.push({ kind: 'heading', text: 'Warnings' });
    for (const w of r.warnings) blocks.push({ kind: 'text', text: w });
  }
  return htmlPage(title, blocks);
}
