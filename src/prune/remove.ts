// torch.nn.utils.prune.remove, in a file of its own: it is synchronous, so the main entry exports
// it directly while the asynchronous methods load on first use (src/prune/lazy.ts).
import type { Graph } from '../graph/ir.js';

/**
 * torch.nn.utils.prune.remove makes a pruning permanent (folds weight_orig * weight_mask into
 * weight and drops the reparametrization). edgeprune never keeps masks beside the weights, so
 * every result is already permanent: this returns the graph as it is. It exists so code written
 * in torch's vocabulary (prune ... then remove) reads the same here.
 */
export function remove(graph: Graph): Graph {
  return graph;
}
