// The simplification pipeline the runtime runs before planning: each pass can expose work for
// another (a folded condition inlines an If whose branch folds further; a removed Identity makes
// a Shape's input known), so they repeat until the graph stops changing.
import type { Graph } from '../ir.js';
import { removeDeadCode } from './dead-code.js';
import { foldBudget, foldConstants } from './fold-constants.js';
import { foldIf } from './fold-if.js';
import { removeIdentity } from './remove-identity.js';

/** Rounds after which simplify stops even if a pass still reports changes (a safety bound). */
export const MAX_SIMPLIFY_ROUNDS = 16;

/** removeIdentity, foldIf, foldConstants and removeDeadCode, repeated to a fixed point. */
export function simplify(g: Graph, dims?: ReadonlyMap<string, number[]>): Graph {
  let cur = g;
  let sig = signature(cur);
  // one budget for every round: each round's folded results are the next round's initializers
  const budget = foldBudget(g);
  for (let round = 0; round < MAX_SIMPLIFY_ROUNDS; round++) {
    cur = removeDeadCode(foldConstants(foldIf(removeIdentity(cur, dims)), dims, budget));
    const next = signature(cur);
    if (next === sig) break;
    sig = next;
  }
  return cur;
}

/** What the passes change: the nodes' wiring and the set of initializers. */
function signature(g: Graph): string {
  const nodes = g.nodes.map((n) => `${n.op}(${n.inputs.join(',')})->${n.outputs.join(',')}`).join(';');
  return `${nodes}|${[...g.initializers.keys()].join(',')}`;
}
