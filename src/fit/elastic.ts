// Elastic width (`fit --elastic`): one artifact, many memory budgets. Every channel group that
// can narrow keeps, at width w, its round(w·total) most important channels (rounded to a
// multiple of 4 as lnStructured rounds, at least one): the same count and the same channels as
// lnStructured(model, { amount: 1 - w }), because the importance is the same (the L2 norm of the
// weights computing each channel, summed over the group, ties keeping the higher index). So the
// widths nest: a narrower width keeps a subset of a wider one's channels, and the model at each
// width is the ordinary channel cut of the full one (src/prune/channel-cut.ts). The artifact
// (format/write-elastic.ts) stores each channel in the block of the narrowest width that keeps
// it, narrowest blocks first, so a width is a prefix of the file.
//
// Widths: 100%, 87.5%, 75%, 62.5%, 50%, 37.5%, 25% by default (steps of 1/8: a fine enough slider,
// few enough levels that the graph patches stay small); a width that changes no group's count
// (small groups, rounding) is dropped. Groups split by grouped convolutions, groups whose
// producers are excluded and groups the dependency analysis blocks stay at full width. Weights
// marked int8 are stored as their float values (fit turns int8 off with --elastic).
import { ArgumentError } from '../errors.js';
import type { ElasticLevel } from '../format/read-elastic.js';
import { setElasticStats, writeElasticArtifact, type ElasticSpec, type ElasticStats } from '../format/write-elastic.js';
import type { Graph } from '../graph/ir.js';
import { applyRemoval } from '../prune/channel-cut.js';
import { buildDependencyGraph } from '../prune/dependency.js';
import { keptCount } from '../prune/structured-count.js';
import { importance } from '../prune/structured.js';
import { InferenceSession } from '../runtime/session.js';
import { Tensor } from '../runtime/tensor.js';
import type { Dataset } from '../train/data.js';
import { accuracy } from '../train/evaluate.js';
import type { Kernels } from '../wasm/kernels.js';
import { loadKernels, type WasmSource } from '../wasm/loader.js';

export type { ElasticLevel };

/** The default widths: the fraction of each narrowing group's channels kept, widest first. */
export const ELASTIC_WIDTHS: readonly number[] = [1, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25];

/** lnStructured's defaults, so that each width is lnStructured(model, { amount: 1 - width }). */
const ROUND_TO = 4;
const MAX_RATIO = 0.9;

export interface ElasticOptions {
  /** Widths, widest first, the first 1 (default ELASTIC_WIDTHS); each at least 0.1. */
  widths?: readonly number[];
  /** Node names whose output channels stay at full width. */
  exclude?: readonly string[];
  /** Input dims for the dependency analysis (symbolic dims default to 1). */
  inputDims?: Record<string, number[]>;
}

function checkWidths(widths: readonly number[] = ELASTIC_WIDTHS): number[] {
  const ok = Array.isArray(widths) && widths[0] === 1 && widths.every((w, i) => typeof w === 'number' && w >= 0.1 && w <= 1 && (i === 0 || w < widths[i - 1]));
  if (!ok || widths.length < 2 || widths.length > 36) throw new ArgumentError(`elastic widths must start at 1 and decrease, each at least 0.1, 2 to 36 of them (e.g. [1, 0.75, 0.5, 0.25]); got [${String(widths)}]`);
  return [...widths];
}

/** Which channels each width keeps, and the model at each width (the ordinary channel cut of `graph`). */
export function elasticSpec(k: Kernels, graph: Graph, o: ElasticOptions = {}): ElasticSpec {
  const widths = checkWidths(o.widths);
  const exclude = new Set(o.exclude ?? []);
  const dep = buildDependencyGraph(graph, { inputDims: o.inputDims });
  const groups = dep.groups.filter((g) => g.prunable && !g.blockCount && !g.params.some((p) => p.groups) && !g.producers.some((p) => exclude.has(p)));
  const keeps = groups.map((g) => widths.map((w) => keptCount(g.units.length, 1 - w, ROUND_TO, MAX_RATIO)));
  // keeps only decrease with the width: a width equal to the one before it changes nothing
  // (no group narrowing at all leaves one width: fit's most aggressive plans may get there)
  const levels = widths.map((_, i) => i).filter((i) => i === 0 || keeps.some((kp) => kp[i] !== kp[i - 1]));
  const n = levels.length;

  // block of each channel of each value: n-1-(the narrowest level keeping it); 0 = every level
  const valueBlocks = new Map<string, Uint8Array>();
  groups.forEach((g, gi) => {
    const total = g.units.length;
    const scores = importance(k, dep, g, 2);
    // lnStructured's removal order: least important first, ties removing the lower index first
    const order = Array.from(scores.keys()).sort((a, b) => scores[a] - scores[b] || a - b);
    order.forEach((ui, p) => {
      let widest = 0;
      while (widest + 1 < n && p >= total - keeps[gi][levels[widest + 1]]) widest++;
      for (const [v, idx] of g.units[ui]) {
        if (!valueBlocks.has(v)) valueBlocks.set(v, new Uint8Array(dep.dims.get(v)![1]));
        for (const c of idx) valueBlocks.get(v)![c] = n - 1 - widest;
      }
    });
  });
  const tensors: ElasticSpec['tensors'] = new Map();
  for (const g of groups) {
    for (const s of g.params) {
      const axes = tensors.get(s.init) ?? [];
      if (!axes.some((a) => a.axis === s.axis)) axes.push({ axis: s.axis, blocks: valueBlocks.get(s.value)! });
      tensors.set(s.init, axes);
    }
  }
  return {
    tensors,
    levels: levels.map((wi, li) => {
      const removed = new Map<string, Set<number>>();
      for (const [v, blocks] of valueBlocks) {
        const r = new Set<number>();
        blocks.forEach((b, c) => b > n - 1 - li && r.add(c));
        if (r.size) removed.set(v, r);
      }
      return { channels: widths[wi], graph: applyRemoval(k, dep, removed).graph };
    }),
  };
}

export interface ElasticMeasureOptions {
  /** Dims the per-width memory is measured at (symbolic dims default to 1). */
  freeDimensionOverrides?: Record<string, number>;
  /** Labelled data: each width's accuracy is recorded. */
  evaluate?: Dataset;
  /** Overrides for the accuracy runs (a batch of samples) and that batch. */
  evaluateOverrides?: Record<string, number>;
  evaluateBatch?: number;
  wasm?: WasmSource;
}

/** Loads every width of an elastic artifact, records its weights, peak memory (and accuracy) in the file. */
export async function measureElastic(bytes: Uint8Array, o: ElasticMeasureOptions = {}): Promise<{ bytes: Uint8Array; levels: ElasticLevel[] }> {
  const stats: ElasticStats[] = [];
  let levels: ElasticLevel[] = [];
  for (let i = 0; i === 0 || i < levels.length; i++) {
    const width = i === 0 ? 1 : levels[i].channels;
    const s = await InferenceSession.create(bytes, { wasm: o.wasm, freeDimensionOverrides: o.freeDimensionOverrides, width });
    try {
      const info = s.info();
      levels = info.elastic!.levels;
      stats.push({ weightBytes: info.weightBytes, peakBytes: info.plannedPeakBytes, memoryBytes: s.kernels.heap.memoryBytes });
    } finally {
      await s.release();
    }
    if (o.evaluate) {
      const e = await InferenceSession.create(bytes, { wasm: o.wasm, freeDimensionOverrides: o.evaluateOverrides ?? o.freeDimensionOverrides, width });
      try {
        stats[i].accuracy = (await accuracy(e, o.evaluate, (d, dims) => new Tensor('float32', d, dims), o.evaluateBatch ?? 1)).accuracy;
      } finally {
        await e.release();
      }
    }
  }
  return { bytes: setElasticStats(bytes, stats), levels: levels.map((l, i) => ({ ...l, ...stats[i] })) };
}

export interface ElasticArtifactOptions extends ElasticOptions, ElasticMeasureOptions {}

/**
 * An elastic .epm of `graph` as it is (no budgets, no recovery): every width the ordinary channel
 * cut of the model, each width's memory (and accuracy, with `evaluate`) measured and recorded.
 * `fit(model, budgets, { elastic: true })` does the same with the fitted model.
 */
export async function elasticArtifact(graph: Graph, o: ElasticArtifactOptions = {}): Promise<{ bytes: Uint8Array; levels: ElasticLevel[] }> {
  const k = await loadKernels(o.wasm ?? 'auto');
  const spec = elasticSpec(k, graph, o);
  if (spec.levels.length < 2) throw new ArgumentError(`no channel group of this model narrows at widths [${checkWidths(o.widths).join(', ')}] (groups too small, blocked or excluded): an elastic artifact needs at least two widths`);
  return measureElastic(writeElasticArtifact(spec), o);
}
