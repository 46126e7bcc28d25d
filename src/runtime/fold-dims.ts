// What the planner folds once the input dims are known (Shape → Gather → Concat → Reshape chains,
// Ifs on a dim): the whole simplifier, given the dims. The `edgeprune/runtime` bundle swaps this
// module for fold-dims-artifact.ts, which folds shape arithmetic only (scripts/build-dist.mjs).
import type { Graph } from '../graph/ir.js';
import { simplify } from '../graph/passes/simplify.js';

/** The graph with everything the dims make constant folded (dims: value name → dims). */
export function foldForDims(g: Graph, dims: ReadonlyMap<string, number[]>): Graph {
  return simplify(g, dims);
}
