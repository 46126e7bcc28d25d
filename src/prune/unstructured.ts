// Unstructured pruning in torch.nn.utils.prune's vocabulary: l1Unstructured, randomUnstructured,
// globalUnstructured (remove is remove.ts); plus Wanda (|W| x input norm, per output). N:M and block sparsity
// live in nm.ts and block.ts and are re-exported here.
//
// Every method returns a NEW Graph (new initializer arrays for the pruned weights; the input graph
// is untouched) and a PruneReport. The mask is baked in: pruned weights are stored as 0.
// Tie-breaking is deterministic everywhere: among equal scores, the lower index is pruned first
// (flat index of the stored tensor; for global pruning, layers in graph order).
import { ArgumentError } from '../errors.js';
import type { Graph } from '../graph/ir.js';
import type { Kernels } from '../wasm/kernels.js';
import { checkAmount, pruneCount } from './amount.js';
import { selectLayers, type PrunableLayer } from './layers.js';
import { applyThreshold, countNonZero, multiThreshold, pruneLowest } from './masks.js';
import { kernelsOf, layerReport, pruneLayers, withScratch, withWeights, type PruneCommon } from './run.js';
import type { LayerPruneReport, PruneResult } from './types.js';

export { nmSparsity, type NMOptions } from './nm.js';
export { blockSparsity, type BlockOptions } from './block.js';
export { wandaUnstructured, type WandaOptions } from './wanda.js';

export interface AmountOptions extends PruneCommon {
  /** A fraction in [0, 1) of each layer's weights, or an integer count of them. */
  amount: number;
}

export interface RandomOptions extends AmountOptions {
  /** Same seed, same graph → same mask (the mask of a layer depends on the seed and its node name). */
  seed: number;
}

export interface GlobalOptions extends AmountOptions {
  /** Score of a weight: |w| ('l1') or w² ('l2'). */
  criterion: 'l1' | 'l2';
}

type Scorer = (k: Kernels, layer: PrunableLayer, w: number, scores: number, n: number) => void;

const absScores: Scorer = (k, _l, w, s, n) => void k.fn.prune_abs(w, s, n);
const squareScores: Scorer = (k, _l, w, s, n) => void k.fn.prune_square(w, s, n);

/** FNV-1a of a string, so a layer's random mask does not depend on which other layers are selected. */
function nameHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

async function localUnstructured(graph: Graph, method: string, opts: AmountOptions, score: Scorer): Promise<PruneResult> {
  checkAmount(opts.amount);
  const counts = new Map<PrunableLayer, number>();
  return pruneLayers(graph, method, opts, {
    skip: (layer) => {
      counts.set(layer, pruneCount(opts.amount, layer.tensor.data.length, `layer '${layer.node.name}'`));
      return undefined;
    },
    prune: (k, layer, w) => {
      const n = layer.tensor.data.length;
      const count = counts.get(layer)!;
      if (count === 0) return;
      withScratch(k, n, (s) => {
        score(k, layer, w, s, n);
        pruneLowest(k, w, s, n, count);
      });
    },
  });
}

/** torch.nn.utils.prune.l1_unstructured on every selected layer: zero the `amount` smallest |w| of each. */
export async function l1Unstructured(graph: Graph, opts: AmountOptions): Promise<PruneResult> {
  return localUnstructured(graph, 'l1Unstructured', opts, absScores);
}

/** torch.nn.utils.prune.random_unstructured: zero `amount` weights of each layer chosen at random (seeded). */
export async function randomUnstructured(graph: Graph, opts: RandomOptions): Promise<PruneResult> {
  if (typeof opts.seed !== 'number' || !Number.isInteger(opts.seed)) throw new ArgumentError(`seed must be an integer, got ${String(opts.seed)}`);
  const seed = opts.seed >>> 0;
  return localUnstructured(graph, 'randomUnstructured', opts, (k, layer, _w, s, n) => void k.fn.prune_random_scores(s, n, (seed ^ nameHash(layer.node.name)) | 0));
}

/**
 * torch.nn.utils.prune.global_unstructured: one threshold over all selected layers together:
 * exactly round(amount * total) (or `amount`) weights are zeroed, wherever they are.
 * 'l2' ranks by w², which orders like |w| except where squares underflow to 0 (|w| < ~1e-19).
 * Memory: the kernels hold two copies of the largest layer at a time, never the whole model.
 */
export async function globalUnstructured(graph: Graph, opts: GlobalOptions): Promise<PruneResult> {
  checkAmount(opts.amount);
  if (opts.criterion !== 'l1' && opts.criterion !== 'l2') throw new ArgumentError(`criterion must be 'l1' or 'l2', got '${String(opts.criterion)}'`);
  const score = opts.criterion === 'l1' ? absScores : squareScores;
  const { layers, skipped } = selectLayers(graph, opts);
  const total = layers.reduce((a, l) => a + l.tensor.data.length, 0);
  const count = pruneCount(opts.amount, total, `the ${layers.length} selected layers`);
  const k = await kernelsOf(opts);
  // every layer's weights and scores, one layer at a time
  const each = (f: (layer: PrunableLayer, w: number, s: number, n: number) => void): void => {
    for (const layer of layers) {
      const n = layer.tensor.data.length;
      const w = k.upload(layer.tensor.data);
      try {
        withScratch(k, n, (s) => {
          score(k, layer, w, s, n);
          f(layer, w, s, n);
        });
      } finally {
        k.free(w);
      }
    }
  };
  const weights = new Map<string, Float32Array>();
  const reports: LayerPruneReport[] = [];
  const t = count > 0 ? multiThreshold(k, count, (hist) => each((_l, _w, s, n) => hist(s, n))) : undefined;
  let ties = t?.ties ?? 0;
  each((layer, w, s, n) => {
    const before = countNonZero(k, w, n);
    if (t) ties = applyThreshold(k, w, s, n, { key: t.key, ties });
    reports.push(layerReport(layer, before, countNonZero(k, w, n)));
    weights.set(layer.weight, k.download(w, n));
  });
  return { graph: withWeights(graph, weights), report: { method: `globalUnstructured(${opts.criterion})`, layers: reports, skipped } };
}

