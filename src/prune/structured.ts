// Structured (channel) pruning: torch.nn.utils.prune.ln_structured's criterion over
// dependency groups, but the result is physically smaller — the removed channels are gone from
// every weight, bias, BN vector and next-layer input, so the pruned graph is dense, faster, and
// exports to an ONNX file any runtime loads.
import { ArgumentError } from '../errors.js';
import type { ConstTensor, Graph, Node } from '../graph/ir.js';
import { numel } from '../graph/tensor.js';
import { loadKernels, type WasmSource } from '../wasm/loader.js';
import type { Kernels } from '../wasm/kernels.js';
import { buildDependencyGraph, type ChannelGroup, type DependencyGraph } from './dependency.js';
import { channelPowerSums, groupedPowerSums } from './structured-kernels.js';
import { applyRemoval } from './channel-cut.js';
import { keptCount, keptPerBlock } from './structured-count.js';
import type { LayerPruneReport, PruneResult } from './types.js';

export interface LnStructuredOptions {
  /** Fraction of each prunable group's channels to remove, in [0, 1). */
  amount: number;
  /** Importance of a channel: the L1 or L2 norm of the weight slices computing it, summed over the group. */
  norm?: 1 | 2;
  /** Keep a multiple of this many channels (SIMD-friendly widths) when the group has at least that many. */
  roundTo?: number;
  /** Never remove more than this fraction of a group. */
  maxLayerRatio?: number;
  /** Node names whose output channels are left alone (their inputs may still shrink). */
  ignore?: readonly string[];
  /** Dims for the graph inputs (symbolic dims default to 1): only spatial sizes matter. */
  inputDims?: Record<string, number[]>;
  /** Kernel build for the bulk arithmetic (default 'auto'). */
  wasm?: WasmSource;
}

/** Removes the least important channels of every prunable group (see LnStructuredOptions). */
export async function lnStructured(graph: Graph, opts: LnStructuredOptions): Promise<PruneResult> {
  const o = checkOptions(graph, opts);
  const dep = buildDependencyGraph(graph, { inputDims: opts.inputDims });
  const k = await loadKernels(opts.wasm ?? 'auto');
  return pruneGroups(k, dep, o);
}

/** The same as lnStructured (Torch-Pruning's and the CLI's name for it). */
export const channelPrune = lnStructured;

interface Checked {
  amount: number;
  norm: 1 | 2;
  roundTo: number;
  maxLayerRatio: number;
  ignore: Set<string>;
}

function checkOptions(graph: Graph, opts: LnStructuredOptions): Checked {
  if (typeof opts !== 'object' || opts === null) throw new ArgumentError('lnStructured(graph, { amount }) needs options with amount in [0, 1)');
  const { amount, norm = 2, roundTo = 4, maxLayerRatio = 0.9, ignore = [] } = opts;
  if (typeof amount !== 'number' || !(amount >= 0 && amount < 1)) throw new ArgumentError(`amount must be a fraction in [0, 1) (0 keeps everything, 0.5 removes half the channels); got ${amount}`);
  if (norm !== 1 && norm !== 2) throw new ArgumentError(`norm must be 1 or 2; got ${String(norm)}`);
  if (!Number.isInteger(roundTo) || roundTo < 1) throw new ArgumentError(`roundTo must be an integer >= 1; got ${roundTo}`);
  if (typeof maxLayerRatio !== 'number' || !(maxLayerRatio >= 0 && maxLayerRatio < 1)) throw new ArgumentError(`maxLayerRatio must be in [0, 1); got ${maxLayerRatio}`);
  const names = new Set(graph.nodes.map((n) => n.name));
  const unknown = ignore.filter((n) => !names.has(n));
  if (unknown.length) throw new ArgumentError(`ignore names ${unknown.map((n) => `'${n}'`).join(', ')}, which ${unknown.length > 1 ? 'are not nodes' : 'is not a node'} of the graph; use node names (e.g. ${[...names].slice(0, 3).map((n) => `'${n}'`).join(', ')})`);
  return { amount, norm, roundTo, maxLayerRatio, ignore: new Set(ignore) };
}

/** Importance of each unit of a group: sum over its 'out' weight slices of their Ln norms (also fit's elastic width order). */
export function importance(k: Kernels, dep: DependencyGraph, g: ChannelGroup, p: 1 | 2): Float64Array {
  const scores = new Float64Array(g.units.length);
  for (const s of g.params) {
    if (s.role !== 'out') continue;
    const t = dep.graph.initializers.get(s.init)!;
    const sums = s.groups ? groupedPowerSums(k, t, s.axis, s.groups, p) : channelPowerSums(k, t, s.axis, p);
    g.units.forEach((u, i) => {
      for (const c of u.get(s.value) ?? []) scores[i] += p === 2 ? Math.sqrt(sums[c]) : sums[c];
    });
  }
  return scores;
}

function pruneGroups(k: Kernels, dep: DependencyGraph, o: Checked): PruneResult {
  const g = dep.graph;
  const removed = new Map<string, Set<number>>();
  const skipped: { node: string; reason: string }[] = [];
  for (const grp of dep.groups) {
    const label = grp.producers[0] ?? grp.values[0];
    if (!grp.prunable) {
      // groups with no weights at all (an activation between two blocked layers) are noise
      if (grp.producers.length) skipped.push({ node: label, reason: grp.reason! });
      continue;
    }
    const ignored = grp.producers.find((p) => o.ignore.has(p));
    if (ignored) {
      skipped.push({ node: label, reason: `'${ignored}' is in ignore` });
      continue;
    }
    const total = grp.units.length;
    // a grouped convolution's blocks each lose the same count: rank and cut within each block
    const nBlocks = grp.blockCount ?? 1;
    const perBlock = total / nBlocks;
    const keep = nBlocks > 1 ? keptPerBlock(perBlock, nBlocks, o.amount, o.roundTo, o.maxLayerRatio) : keptCount(total, o.amount, o.roundTo, o.maxLayerRatio);
    if (keep >= perBlock) continue;
    const scores = importance(k, dep, grp, o.norm);
    // least important first; ties remove the lower index first (stable and deterministic)
    const order = Array.from(scores.keys()).sort((a, b) => scores[a] - scores[b] || a - b);
    const drop: number[] = [];
    const taken = new Array<number>(nBlocks).fill(0);
    for (const ui of order) {
      const b = grp.blocks ? grp.blocks[ui] : 0;
      if (taken[b] < perBlock - keep) {
        taken[b]++;
        drop.push(ui);
      }
    }
    for (const ui of drop) {
      for (const [v, idx] of grp.units[ui]) {
        if (!removed.has(v)) removed.set(v, new Set());
        for (const c of idx) removed.get(v)!.add(c);
      }
    }
  }
  if (removed.size === 0 && skipped.length === 0) {
    // no layer was even a candidate (say, Linear layers on 3-D inputs): say what stopped each, so
    // a run that prunes nothing does not do so silently
    const seen = new Set<string>();
    for (const grp of dep.groups) {
      if (grp.prunable || !grp.reason || seen.has(grp.reason)) continue;
      seen.add(grp.reason);
      skipped.push({ node: grp.values[0], reason: grp.reason });
    }
  }
  const { graph, kept } = applyRemoval(k, dep, removed);
  const changed = new Map<string, Set<string>>(); // node -> initializers it had cut
  for (const grp of dep.groups) {
    for (const s of grp.params) {
      if (!removed.has(s.value)) continue;
      if (!changed.has(s.node)) changed.set(s.node, new Set());
      changed.get(s.node)!.add(s.init);
    }
  }
  return { graph, report: { method: 'ln_structured', layers: layerReports(g, graph, changed, dep, kept), skipped } };
}

function layerReports(before: Graph, after: Graph, changed: Map<string, Set<string>>, dep: DependencyGraph, kept: (v: string) => number[]): LayerPruneReport[] {
  const nz = (t: ConstTensor) => {
    let c = 0;
    for (let i = 0; i < t.data.length; i++) if (t.data[i] !== 0 && t.data[i] !== 0n) c++;
    return c;
  };
  const layers: LayerPruneReport[] = [];
  for (const n of before.nodes) {
    const inits = changed.get(n.name);
    if (!inits) continue;
    const sum = (g: Graph, f: (t: ConstTensor) => number) => [...inits].reduce((a, i) => a + f(g.initializers.get(i)!), 0);
    const y = n.outputs[0];
    layers.push({
      node: n.name,
      op: n.op,
      paramsBefore: sum(before, (t) => numel(t.dims)),
      paramsAfter: sum(after, (t) => numel(t.dims)),
      nonZeroBefore: sum(before, nz),
      nonZeroAfter: sum(after, nz),
      channelsBefore: dep.dims.get(y)?.[1],
      channelsAfter: dep.dims.has(y) ? kept(y).length : undefined,
    });
  }
  return layers;
}
