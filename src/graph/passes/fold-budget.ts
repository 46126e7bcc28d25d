// The memory budget of constant folding, shared by the simplifier (fold-constants.ts) and the
// runtime's shape folder (src/runtime/fold-dims-artifact.ts): results either one folded count
// against both, so a graph folded by one and then the other (a session's graph, simplified at
// load, folded again at each plan) cannot fold past the budget between them.
import type { ConstTensor, Graph } from '../ir.js';

/** Bytes of new constants folding may always create, however small the model's own. */
export const FOLD_BASE_BYTES = 64 * 2 ** 20;

/**
 * What folding may still allocate (bytes). Each result is under MAX_FOLD_ELEMENTS, but a graph
 * of many ConstantOfShape/Expand/Tile nodes would otherwise fold into any amount of memory from
 * a file of a few kB (400 × 8 MB from 20 kB: found by the fuzzer, test/fuzz). Folded results are
 * justified by the constants they derive from (a Cast of float16 weights doubles them), so the
 * budget is twice the graph's initializer bytes, at least FOLD_BASE_BYTES; past it nodes stay
 * for the runtime, whose memory budget then applies.
 */
export interface FoldBudget {
  bytes: number;
}

/**
 * Results folding created. A graph folded again (the runtime re-simplifies once per set of input
 * dims, up to 32 times) must not count its earlier results as constants of its own, or the budget
 * would double on every call.
 */
export const FOLDED = new WeakSet<ConstTensor>();

/** Shape vectors and scalars (≤ 64 bytes) always fold: a few per node, they cannot add up to much. */
export const ALWAYS_FOLD_BYTES = 64;

/** The budget left for simplifying `g` (share one across the rounds of a pipeline). */
export function foldBudget(g: Graph): FoldBudget {
  let own = 0;
  let folded = 0;
  for (const t of g.initializers.values()) {
    if (FOLDED.has(t)) folded += t.data.byteLength;
    else own += t.data.byteLength;
  }
  return { bytes: Math.max(FOLD_BASE_BYTES, 2 * own) - folded };
}
