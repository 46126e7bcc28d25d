// Turning a plan into a graph: remove channels per group (each group its own count, ranked by
// the L2 norm of the weights computing each channel, as lnStructured does), then zero the
// smallest weights of each layer (l1Unstructured, per layer), then mark int8 layers
// (quantizeGraph). Recovery (reconstruct.ts) runs between the channel cut and the sparsity.
//
// The channel cut itself (src/prune/channel-cut.ts) is lnStructured's: fit only chooses which
// channels go, one count per group where lnStructured takes one ratio for all.
import type { ConstTensor, Graph, Node } from '../graph/ir.js';
import { quantizeGraph } from '../graph/quant.js';
import type { DependencyGraph } from '../prune/dependency.js';
import { channelPowerSums, groupedPowerSums } from '../prune/structured-kernels.js';
import { applyRemoval, type ChannelCut } from '../prune/channel-cut.js';
import { l1Unstructured } from '../prune/unstructured.js';
import type { Kernels } from '../wasm/kernels.js';
import { effectiveSparsity, type Analysis, type GroupInfo } from './analysis.js';

export { applyRemoval, type ChannelCut };

/** Level indices: per group (channel level), per layer (sparsity level) and per layer int8. */
export interface Plan {
  group: number[];
  sparsity: number[];
  int8: boolean[];
}

export function densePlan(a: Analysis): Plan {
  return { group: a.groups.map(() => 0), sparsity: a.layers.map(() => 0), int8: a.layers.map(() => false) };
}

/** Every allowed option at its most aggressive. */
export function extremePlan(a: Analysis): Plan {
  return { group: a.groups.map((g) => g.levels.length - 1), sparsity: a.layers.map((l) => l.sparsity.length - 1), int8: a.layers.map((l) => l.int8) };
}

export function copyPlan(p: Plan): Plan {
  return { group: [...p.group], sparsity: [...p.sparsity], int8: [...p.int8] };
}

export function samePlan(a: Plan, b: Plan): boolean {
  return a.group.every((v, i) => v === b.group[i]) && a.sparsity.every((v, i) => v === b.sparsity[i]) && a.int8.every((v, i) => v === b.int8[i]);
}

/** Channel importance of each unit of a group: the L2 norms of the weight slices computing it, summed over the group (lnStructured's norm 2). */
function importance(k: Kernels, dep: DependencyGraph, g: GroupInfo): Float64Array {
  const scores = new Float64Array(g.group.units.length);
  for (const s of g.group.params) {
    if (s.role !== 'out') continue;
    const t = dep.graph.initializers.get(s.init)!;
    const sums = s.groups ? groupedPowerSums(k, t, s.axis, s.groups, 2) : channelPowerSums(k, t, s.axis, 2);
    g.group.units.forEach((u, i) => {
      for (const c of u.get(s.value) ?? []) scores[i] += Math.sqrt(sums[c]);
    });
  }
  return scores;
}

/** The units of group g removed when it keeps `keep` of them: the least important, equal counts per block. */
export function removedUnits(k: Kernels, a: Analysis, g: GroupInfo, keep: number, cache?: Map<number, Float64Array>): number[] {
  const grp = g.group;
  const nBlocks = grp.blockCount ?? 1;
  const perBlock = g.total / nBlocks;
  const keepPerBlock = keep / nBlocks;
  if (keepPerBlock >= perBlock) return [];
  let scores = cache?.get(g.index);
  if (!scores) {
    scores = importance(k, a.dep, g);
    cache?.set(g.index, scores);
  }
  const s = scores;
  // least important first; ties remove the lower index first (as lnStructured)
  const order = Array.from(s.keys()).sort((x, y) => s[x] - s[y] || x - y);
  const drop: number[] = [];
  const taken = new Array<number>(nBlocks).fill(0);
  for (const ui of order) {
    const b = grp.blocks ? grp.blocks[ui] : 0;
    if (taken[b] < perBlock - keepPerBlock) {
      taken[b]++;
      drop.push(ui);
    }
  }
  return drop;
}

/** Removed channel indices per value, for a plan's channel levels. */
export function removedChannels(k: Kernels, a: Analysis, levels: readonly number[], cache?: Map<number, Float64Array>): Map<string, Set<number>> {
  const removed = new Map<string, Set<number>>();
  for (const g of a.groups) {
    const level = levels[g.index];
    if (!level) continue;
    for (const ui of removedUnits(k, a, g, g.levels[level].keep, cache)) {
      for (const [v, idx] of g.group.units[ui]) {
        if (!removed.has(v)) removed.set(v, new Set());
        for (const c of idx) removed.get(v)!.add(c);
      }
    }
  }
  return removed;
}

/**
 * Zeroes the smallest |w| of every layer with a sparsity level (l1Unstructured per layer). With
 * `means` (the mean of each input feature of the layer, canonical [outputs, inputs] order as
 * the mask kernels see it), the removed weights' expected contribution is folded into the bias.
 */
export async function applySparsity(k: Kernels, graph: Graph, a: Analysis, plan: Plan, compensate?: (graph: Graph, layer: string, before: ConstTensor, after: ConstTensor) => Graph): Promise<Graph> {
  const byAmount = new Map<number, string[]>();
  for (const l of a.layers) {
    // a layer pruned before keeps its zeros: channel removal's least-squares refit fills them in
    const s = effectiveSparsity(l, plan);
    if (!s) continue;
    byAmount.set(s, [...(byAmount.get(s) ?? []), l.name]);
  }
  let g = graph;
  for (const [amount, include] of byAmount) {
    const before = g;
    g = (await l1Unstructured(g, { amount, include, kernels: k })).graph;
    if (compensate) {
      for (const name of include) {
        const l = a.layers.find((x) => x.name === name)!;
        g = compensate(g, name, before.initializers.get(l.weight)!, g.initializers.get(l.weight)!);
      }
    }
  }
  return g;
}

/** Marks the weights of int8 layers as int8 (quantizeGraph on those layers only). */
export function applyInt8(graph: Graph, a: Analysis, plan: Plan): Graph {
  const on = new Set(a.layers.filter((l) => plan.int8[l.index]).map((l) => l.name));
  if (on.size === 0) return graph;
  const exclude = graph.nodes.filter((n) => !on.has(n.name)).map((n) => n.name);
  return quantizeGraph(graph, { exclude }).graph;
}
