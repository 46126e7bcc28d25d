// N:M semi-structured sparsity (2:4, 4:8): in every group of M consecutive weights along a layer's
// input (reduction) dimension, keep the N largest |w|; equal magnitudes: lower index pruned first.
// Groups run along each output's input vector in the canonical [outputs, inputs] layout (Conv:
// Cin/g * KH * KW contiguous per output; Gemm/MatMul: K). Layers whose input length is not a
// multiple of M are skipped and reported.
import { ArgumentError } from '../errors.js';
import type { Graph } from '../graph/ir.js';
import { pruneLayers, type PruneCommon } from './run.js';
import type { PruneResult } from './types.js';

export interface NMOptions extends PruneCommon {
  /** Weights kept per group, 1 <= n <= m. */
  n: number;
  /** Group size: 4 or 8. */
  m: number;
}

export async function nmSparsity(graph: Graph, opts: NMOptions): Promise<PruneResult> {
  const { n, m } = opts;
  if (m !== 4 && m !== 8) throw new ArgumentError(`N:M sparsity: m must be 4 or 8 (2:4, 4:8, ...), got ${String(m)}`);
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > m) throw new ArgumentError(`N:M sparsity: n must be an integer in [1, ${m}] (weights kept per group of ${m}), got ${String(n)}`);
  return pruneLayers(graph, `nmSparsity(${n}:${m})`, opts, {
    canonical: true,
    skip: (layer) => (layer.inputs % m !== 0 ? `input length ${layer.inputs} is not a multiple of ${m}` : undefined),
    prune: (k, layer, w) => void k.fn.prune_nm(w, layer.tensor.data.length, n, m),
  });
}
