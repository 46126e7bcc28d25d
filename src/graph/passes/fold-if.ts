// Inlines `If` nodes whose condition is a constant: exporters emit them for shape checks that
// are static once the model is loaded. The runtime does not execute If, so an If that stays
// (non-constant condition) is rejected there with UnsupportedOpError.
import { ModelFormatError } from '../../errors.js';
import { attrGraph } from '../attrs.js';
import type { Graph, Node } from '../ir.js';
import { allNames, cloneGraph, freshName, renameNode } from './names.js';

/** Returns a new graph in which every If with a constant (initializer) condition is replaced by its taken branch. */
export function foldIf(g: Graph): Graph {
  if (!g.nodes.some((n) => n.op === 'If')) return g;
  const res = cloneGraph(g);
  const taken = allNames(g);
  const nodes: Node[] = [];
  for (const node of g.nodes) {
    const cond = node.op === 'If' && (node.domain === '' || node.domain === 'ai.onnx') ? res.initializers.get(node.inputs[0]) : undefined;
    if (!cond) {
      nodes.push(node);
      continue;
    }
    if (cond.data.length !== 1) throw new ModelFormatError(`node '${node.name}' (If): the condition must have one element, has ${cond.data.length}`);
    const name = cond.data[0] ? 'then_branch' : 'else_branch';
    const branch = attrGraph(node, name);
    if (!branch) throw new ModelFormatError(`node '${node.name}' (If): attribute '${name}' is missing`);
    if (branch.outputs.length !== node.outputs.length) {
      throw new ModelFormatError(`node '${node.name}' (If): ${name} has ${branch.outputs.length} outputs but the node has ${node.outputs.length}`);
    }
    nodes.push(...inline(node, branch, res, taken));
  }
  res.nodes = nodes;
  return res;
}

/** The branch's nodes renamed into the outer graph; its initializers join res.initializers. */
function inline(ifNode: Node, branch: Graph, res: Graph, taken: Set<string>): Node[] {
  // names the branch defines: its initializers and node outputs; everything else is an outer value
  const defined = new Set<string>([...branch.initializers.keys()]);
  const producedByNode = new Set<string>();
  for (const n of branch.nodes) for (const o of n.outputs) if (o) producedByNode.add(o);
  for (const o of producedByNode) defined.add(o);

  const map = new Map<string, string>();
  // a branch output made by a branch node takes the If's output name (the first such claim wins)
  branch.outputs.forEach((v, k) => {
    const outer = ifNode.outputs[k];
    if (outer && producedByNode.has(v.name) && !map.has(v.name)) map.set(v.name, outer);
  });
  for (const d of defined) if (!map.has(d)) map.set(d, freshName(`${ifNode.name}/${d}`, taken));

  const nodes = branch.nodes.map((n) => ({ ...renameNode(n, map, true), name: freshName(`${ifNode.name}/${n.name}`, taken) }));
  for (const [k, t] of branch.initializers) res.initializers.set(map.get(k)!, t);
  for (const [k, v] of branch.valueInfo) if (map.has(k)) res.valueInfo.set(map.get(k)!, { ...v, name: map.get(k)! });
  // outputs that are outer values, branch initializers, or repeat another output: copy them
  branch.outputs.forEach((v, k) => {
    const outer = ifNode.outputs[k];
    const src = map.get(v.name) ?? v.name;
    if (!outer || src === outer) return;
    nodes.push({ name: freshName(`${ifNode.name}/output_${k}`, taken), op: 'Identity', domain: '', inputs: [src], outputs: [outer], attrs: {} });
  });
  return nodes;
}
