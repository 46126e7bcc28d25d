// What the planner folds once the input dims are known (Shape → Gather → Concat → Reshape chains,
// Ifs on a dim). A session's graph was simplified at load, so what the dims make constant is
// nearly always shape arithmetic: the one-pass folder of the runtime bundle (fold-dims-artifact.ts)
// does that, and the whole simplifier runs when it folds nothing (an If on a dim, an op it has no
// evaluator for): specialize() calls this until nothing folds, so a model folds as far as with
// the simplifier alone, and no model plans worse than before. A model planned for each new
// input width (OCR crops) pays the simplifier's passes at every plan otherwise: 1.4 ms of the
// 5.8 ms a re-plan of PaddleOCR's classifier took. The `edgeprune/runtime` bundle swaps this
// module for fold-dims-artifact.ts alone (scripts/build-dist.mjs).
import type { Graph } from '../graph/ir.js';
import { simplify } from '../graph/passes/simplify.js';
import { foldForDims as foldShapeArithmetic } from './fold-dims-artifact.js';

/** The graph with everything the dims make constant folded (dims: value name → dims). */
export function foldForDims(g: Graph, dims: ReadonlyMap<string, number[]>): Graph {
  const quick = foldShapeArithmetic(g, dims);
  return quick !== g ? quick : simplify(g, dims);
}
