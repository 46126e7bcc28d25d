// The loop every per-layer method shares: pick the layers, load each weight into the kernels,
// let the method zero what it chooses, read it back, and return a new Graph plus the report.
import type { ConstTensor, Graph } from '../graph/ir.js';
import { loadKernels } from '../wasm/loader.js';
import type { Kernels } from '../wasm/kernels.js';
import { selectLayers, type PrunableLayer } from './layers.js';
import { countNonZero, downloadStorage, uploadCanonical } from './masks.js';
import type { LayerFilter, LayerPruneReport, PruneResult } from './types.js';

/** Options every method takes besides its own. */
export interface PruneCommon extends LayerFilter {
  /** The kernel instance to use (default: `await loadKernels()`). */
  kernels?: Kernels;
}

export function kernelsOf(opts: PruneCommon): Promise<Kernels> {
  return opts.kernels ? Promise.resolve(opts.kernels) : loadKernels();
}

/** A copy of the graph whose containers are new; `weights` replaces those initializers' data. */
export function withWeights(graph: Graph, weights: Map<string, Float32Array>): Graph {
  const initializers = new Map<string, ConstTensor>(graph.initializers);
  for (const [name, data] of weights) {
    const t = graph.initializers.get(name)!;
    initializers.set(name, { dtype: t.dtype, dims: [...t.dims], data });
  }
  return {
    ...graph,
    inputs: [...graph.inputs],
    outputs: [...graph.outputs],
    nodes: [...graph.nodes],
    initializers,
    valueInfo: new Map(graph.valueInfo),
  };
}

export function layerReport(layer: PrunableLayer, before: number, after: number): LayerPruneReport {
  const n = layer.tensor.data.length;
  return { node: layer.node.name, op: layer.node.op, paramsBefore: n, paramsAfter: n, nonZeroBefore: before, nonZeroAfter: after };
}

export interface LayerStep {
  /** A reason to leave the layer alone, checked before any wasm work. */
  skip?: (layer: PrunableLayer) => string | undefined;
  /** Zeroes weights of the layer in place; `w` holds them canonical or in storage layout. */
  prune: (k: Kernels, layer: PrunableLayer, w: number) => void;
  /** Hand `prune` the canonical [outputs, inputs] layout (default: the storage layout). */
  canonical?: boolean;
}

/** Runs `step` over every selected layer and builds the result. */
export async function pruneLayers(graph: Graph, method: string, opts: PruneCommon, step: LayerStep): Promise<PruneResult> {
  const { layers, skipped } = selectLayers(graph, opts);
  const todo: PrunableLayer[] = [];
  for (const layer of layers) {
    const why = step.skip?.(layer);
    if (why) skipped.push({ node: layer.node.name, reason: why });
    else todo.push(layer);
  }
  const k = await kernelsOf(opts);
  const weights = new Map<string, Float32Array>();
  const reports: LayerPruneReport[] = [];
  for (const layer of todo) {
    const n = layer.tensor.data.length;
    const w = step.canonical ? uploadCanonical(k, layer) : k.upload(layer.tensor.data);
    try {
      const before = countNonZero(k, w, n);
      step.prune(k, layer, w);
      const after = countNonZero(k, w, n);
      weights.set(layer.weight, step.canonical ? downloadStorage(k, layer, w) : k.download(w, n));
      reports.push(layerReport(layer, before, after));
    } finally {
      k.free(w);
    }
  }
  return { graph: withWeights(graph, weights), report: { method, layers: reports, skipped } };
}

/** Runs `f` with a scratch block of n floats, freed afterwards. */
export function withScratch<T>(k: Kernels, n: number, f: (p: number) => T): T {
  const p = k.allocF32(n);
  try {
    return f(p);
  } finally {
    k.free(p);
  }
}
