// Wanda (Sun et al., "A Simple and Effective Pruning Approach for Large Language Models"):
// score |W_ij| * ||X_j||, where ||X_j|| is the L2 norm of input feature j over calibration data,
// and compare weights only within one output (a row of the canonical [outputs, inputs] matrix).
// The norms come from src/prune/calibration.ts collectActivationNorms (or any source).
import { ArgumentError, ShapeError } from '../errors.js';
import type { Graph } from '../graph/ir.js';
import { checkAmount, pruneCount } from './amount.js';
import { candidateNodes, type PrunableLayer } from './layers.js';
import { HIST_BINS } from './masks.js';
import { pruneLayers, withScratch, type PruneCommon } from './run.js';
import type { PruneResult } from './types.js';

export interface WandaOptions extends PruneCommon {
  /** A fraction in [0, 1) of each layer's weights, or an integer count of them. */
  amount: number;
  /**
   * Per layer (node name), the L2 norm of each input feature. Conv/ConvTranspose: one per input
   * channel (Cin), or one per (channel, kernel tap) (Cin * prod(k), channel-major); Gemm/MatMul: K.
   * Selected layers without an entry are skipped and reported.
   */
  activationNorms: ReadonlyMap<string, Float32Array>;
}

/** The norms of one layer as an [groups, inputs] block: norms for the columns of each group's rows. */
function expandNorms(layer: PrunableLayer, norms: Float32Array): Float32Array {
  const { groups, inputs, taps } = layer;
  const channels = (groups * inputs) / taps;
  if (norms.length === groups * inputs) return norms;
  if (taps > 1 && norms.length === channels) {
    const out = new Float32Array(groups * inputs);
    for (let c = 0; c < channels; c++) out.fill(norms[c], c * taps, (c + 1) * taps);
    return out;
  }
  const want = taps > 1 ? `${channels} (one per input channel) or ${groups * inputs} (per channel and kernel tap)` : `${groups * inputs}`;
  throw new ShapeError(`activationNorms for '${layer.node.name}' hold ${norms.length} values; ${layer.node.op} '${layer.node.name}' needs ${want}`);
}

export async function wandaUnstructured(graph: Graph, opts: WandaOptions): Promise<PruneResult> {
  checkAmount(opts.amount);
  const norms = opts.activationNorms;
  if (!(norms instanceof Map)) throw new ArgumentError('activationNorms must be a Map from layer (node) name to a Float32Array of input-feature L2 norms');
  const known = new Set(candidateNodes(graph).map((n) => n.name));
  const unknown = [...norms.keys()].filter((s) => !known.has(s));
  if (unknown.length) throw new ArgumentError(`activationNorms: no prunable layer named ${unknown.map((s) => `'${s}'`).join(', ')}; the prunable layers are ${[...known].map((s) => `'${s}'`).join(', ')}`);
  const plan = new Map<PrunableLayer, { count: number; scale: Float32Array }>();
  return pruneLayers(graph, 'wandaUnstructured', opts, {
    canonical: true,
    skip: (layer) => {
      const v = norms.get(layer.node.name);
      if (!v) return 'no activation norms given for this layer';
      if (!(v instanceof Float32Array)) throw new ArgumentError(`activationNorms for '${layer.node.name}' must be a Float32Array`);
      const scale = expandNorms(layer, v);
      plan.set(layer, { count: pruneCount(opts.amount, layer.tensor.data.length, `layer '${layer.node.name}'`), scale });
      return undefined;
    },
    prune: (k, layer, w) => {
      const { count, scale } = plan.get(layer)!;
      if (count === 0) return;
      const { outputs: O, inputs: I, groups } = layer;
      const n = O * I;
      const perGroup = O / groups;
      const sp = k.upload(scale);
      try {
        withScratch(k, n + HIST_BINS + 2, (s) => {
          for (let g = 0; g < groups; g++) k.fn.prune_abs_scale(w + g * perGroup * I * 4, s + g * perGroup * I * 4, perGroup, I, sp + g * I * 4);
          // the layer's count, spread over the rows: the first count % O rows prune one more
          const hist = s + n * 4;
          k.fn.prune_rows(w, s, O, I, Math.floor(count / O), count % O, hist, hist + HIST_BINS * 4);
        });
      } finally {
        k.free(sp);
      }
    },
  });
}
