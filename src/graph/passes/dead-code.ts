// Dead-code removal: nodes none of whose outputs reach a graph output, and initializers nobody
// reads. Graph inputs always stay (they are the session's API, even when unused).
import type { Graph, Node } from '../ir.js';
import { cloneGraph, nodeReads } from './names.js';

/** Returns a new graph without the nodes and initializers that cannot affect any graph output. */
export function removeDeadCode(g: Graph): Graph {
  const live = new Set<string>(g.outputs.map((v) => v.name));
  const kept: Node[] = [];
  // nodes are topologically sorted: walking backwards sees every reader before its producer
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    // indexed loops: every simplifier and planner pass ends here, in V8's interpreter on a cold
    // start, where closures and for-of steps allocate
    let reached = false;
    for (let j = 0; j < n.outputs.length && !reached; j++) reached = n.outputs[j] !== '' && live.has(n.outputs[j]);
    if (!reached) continue;
    kept.push(n);
    const reads = nodeReads(n);
    for (let j = 0; j < reads.length; j++) live.add(reads[j]);
  }
  kept.reverse();
  const res = cloneGraph(g);
  res.nodes = kept;
  g.initializers.forEach((_, k) => live.has(k) || res.initializers.delete(k));
  if (g.valueInfo.size === 0) return res;
  const defined = new Set<string>([...g.inputs.map((v) => v.name), ...res.initializers.keys()]);
  for (const n of kept) for (const o of n.outputs) defined.add(o);
  g.valueInfo.forEach((_, k) => defined.has(k) || res.valueInfo.delete(k));
  return res;
}
