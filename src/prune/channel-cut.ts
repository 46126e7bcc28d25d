// Cutting removed channels out of a graph: every weight, bias and shape that refers to them
// (the dependency groups of dependency.ts say which), for lnStructured and for fit's plans.
import type { Graph, Node } from '../graph/ir.js';
import type { Kernels } from '../wasm/kernels.js';
import type { DependencyGraph } from './dependency.js';
import { gatherAxis, groupedGather } from './structured-kernels.js';

export interface ChannelCut {
  graph: Graph;
  /** Kept channel indices (of the unpruned value) of every value. */
  kept: (value: string) => number[];
  removed: Map<string, Set<number>>;
}

/** Cuts the removed channels out of every weight, bias and shape that refers to them. */
export function applyRemoval(k: Kernels, dep: DependencyGraph, removed: Map<string, Set<number>>): ChannelCut {
  const g = dep.graph;
  const channels = (v: string) => dep.dims.get(v)?.[1] ?? 0;
  const keptCache = new Map<string, number[]>();
  const kept = (v: string): number[] => {
    let out = keptCache.get(v);
    if (!out) {
      const r = removed.get(v);
      out = Array.from({ length: channels(v) }, (_, i) => i).filter((i) => !r?.has(i));
      keptCache.set(v, out);
    }
    return out;
  };
  if (removed.size === 0) return { graph: g, kept, removed };
  const initializers = new Map(g.initializers);
  const cuts = new Map<string, Map<number, { value: string; groups?: number }>>();
  for (const grp of dep.groups) {
    for (const s of grp.params) {
      if (!removed.has(s.value)) continue;
      if (!cuts.has(s.init)) cuts.set(s.init, new Map());
      cuts.get(s.init)!.set(s.axis, { value: s.value, groups: s.groups });
    }
  }
  for (const [name, axes] of cuts) {
    let t = g.initializers.get(name)!;
    for (const [axis, c] of axes) if (!c.groups) t = gatherAxis(k, t, axis, kept(c.value));
    for (const [axis, c] of axes) if (c.groups) t = groupedGather(k, t, axis, localKept(kept(c.value), channels(c.value), c.groups));
    initializers.set(name, t);
  }
  const nodes: Node[] = g.nodes.map((n) => {
    let out = n;
    const touched = n.outputs.concat(n.inputs).some((v) => removed.has(v));
    if (touched) for (const fix of dep.fixups.get(n.name) ?? []) out = fix(out, kept, initializers);
    return out;
  });
  const read = new Set(nodes.flatMap((n) => n.inputs));
  for (const name of [...initializers.keys()]) if (!read.has(name) && !g.outputs.some((v) => v.name === name)) initializers.delete(name);
  const valueInfo = new Map(g.valueInfo);
  for (const v of removed.keys()) {
    const info = valueInfo.get(v);
    if (info?.dims && info.dims.length >= 2) valueInfo.set(v, { ...info, dims: info.dims.map((d, i) => (i === 1 ? kept(v).length : d)) });
  }
  return { graph: { ...g, nodes, initializers, valueInfo }, kept, removed };
}

/** Kept channels of a tensor split into `groups` blocks, as local indices within each block. */
function localKept(keep: readonly number[], total: number, groups: number): number[][] {
  const size = total / groups;
  const out: number[][] = Array.from({ length: groups }, () => []);
  for (const c of keep) out[Math.floor(c / size)].push(c % size);
  return out;
}
