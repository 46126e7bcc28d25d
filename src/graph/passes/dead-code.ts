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
    if (!n.outputs.some((o) => o !== '' && live.has(o))) continue;
    kept.push(n);
    for (const r of nodeReads(n)) live.add(r);
  }
  kept.reverse();
  const res = cloneGraph(g);
  res.nodes = kept;
  for (const k of g.initializers.keys()) if (!live.has(k)) res.initializers.delete(k);
  const defined = new Set<string>([...g.inputs.map((v) => v.name), ...res.initializers.keys()]);
  for (const n of kept) for (const o of n.outputs) defined.add(o);
  for (const k of g.valueInfo.keys()) if (!defined.has(k)) res.valueInfo.delete(k);
  return res;
}
