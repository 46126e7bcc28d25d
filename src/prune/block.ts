// Block sparsity: zero whole 1x4 or 4x1 blocks of the canonical [outputs, inputs] weight matrix,
// the blocks with the smallest L1 norm first (equal norms: lower block index, row-major over the
// block grid, first). '1x4' = 1 output x 4 consecutive inputs; '4x1' = 4 consecutive outputs x 1
// input. Layers whose inputs (1x4) or outputs (4x1) are not a multiple of 4 are skipped.
import { ArgumentError } from '../errors.js';
import type { Graph } from '../graph/ir.js';
import { checkAmount, pruneCount } from './amount.js';
import type { PrunableLayer } from './layers.js';
import { HIST_BINS } from './masks.js';
import { pruneLayers, withScratch, type PruneCommon } from './run.js';
import type { PruneResult } from './types.js';

export interface BlockOptions extends PruneCommon {
  /** A fraction in [0, 1) of each layer's blocks, or an integer count of weights (a multiple of 4). */
  amount: number;
  block: '1x4' | '4x1';
}

export async function blockSparsity(graph: Graph, opts: BlockOptions): Promise<PruneResult> {
  checkAmount(opts.amount);
  const { block } = opts;
  if (block !== '1x4' && block !== '4x1') throw new ArgumentError(`block must be '1x4' or '4x1', got '${String(block)}'`);
  if (Number.isInteger(opts.amount) && opts.amount % 4 !== 0) throw new ArgumentError(`amount ${opts.amount}: a count of weights must be a multiple of the block size 4 (or use a fraction in [0, 1))`);
  const [bh, bw] = block === '1x4' ? [1, 4] : [4, 1];
  const counts = new Map<PrunableLayer, number>();
  return pruneLayers(graph, `blockSparsity(${block})`, opts, {
    canonical: true,
    skip: (layer) => {
      if (bw === 4 && layer.inputs % 4 !== 0) return `input length ${layer.inputs} is not a multiple of 4`;
      if (bh === 4 && layer.outputs % 4 !== 0) return `${layer.outputs} outputs are not a multiple of 4`;
      const n = layer.tensor.data.length;
      const where = `layer '${layer.node.name}'`;
      counts.set(layer, Number.isInteger(opts.amount) ? pruneCount(opts.amount, n, where) / 4 : pruneCount(opts.amount, n / 4, where, 'blocks of 4'));
      return undefined;
    },
    prune: (k, layer, w) => {
      const count = counts.get(layer)!;
      if (count === 0) return;
      const blocks = layer.tensor.data.length / 4;
      withScratch(k, blocks + HIST_BINS + 2, (s) => {
        const hist = s + blocks * 4;
        const out = hist + HIST_BINS * 4;
        if (bw === 4) k.fn.prune_block_l1_1x4(w, layer.outputs, layer.inputs, s);
        else k.fn.prune_block_l1_4x1(w, layer.outputs, layer.inputs, s);
        k.fn.prune_threshold(s, blocks, count, hist, out);
        const u = new Uint32Array(k.i32.buffer, out, 2);
        k.fn.prune_block_apply(w, layer.outputs, layer.inputs, bh, bw, s, u[0] | 0, u[1] | 0);
      });
    },
  });
}
