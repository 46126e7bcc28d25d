// The graph rules both the writer and the reader enforce, the same ones exportOnnx checks: a
// value is defined once per graph (input, initializer or node output), every value a node reads
// is defined before it (or by an enclosing graph, for subgraphs), graph outputs exist, named
// nodes are unique. The writer refuses a graph it could not read back; the reader refuses a
// file whose graph the runtime would trip over.
import type { Graph } from '../graph/ir.js';

/** Throws fail(message) on the first broken rule; `where` names the graph in messages. */
export function checkReferences(g: Graph, fail: (what: string) => never, outer: ReadonlySet<string> = new Set(), where = 'the graph'): void {
  const defined = new Set<string>();
  const define = (name: string, what: string): void => {
    if (name === '') fail(`${where}: ${what} has an empty name`);
    if (defined.has(name)) fail(`${where}: the value '${name}' is defined twice (${what})`);
    defined.add(name);
  };
  for (const v of g.inputs) define(v.name, `graph input '${v.name}'`);
  for (const name of g.initializers.keys()) define(name, `initializer '${name}'`);
  const visible = (x: string): boolean => defined.has(x) || outer.has(x);
  const nodeNames = new Set<string>();
  for (const n of g.nodes) {
    const label = `node '${n.name}' (${n.op})`;
    if (n.name) {
      if (nodeNames.has(n.name)) fail(`${where}: two nodes are named '${n.name}'`);
      nodeNames.add(n.name);
    }
    for (const x of n.inputs) if (x !== '' && !visible(x)) fail(`${where}: ${label} reads '${x}', which no graph input, initializer or earlier node produces`);
    for (const [key, a] of Object.entries(n.attrs)) {
      if (a.kind === 'graph') checkReferences(a.value, fail, new Set([...outer, ...defined]), `the subgraph '${key}' of ${label} in ${where}`);
    }
    for (const o of n.outputs) if (o !== '') define(o, `an output of ${label}`);
  }
  const outs = new Set<string>();
  for (const v of g.outputs) {
    if (outs.has(v.name)) fail(`${where}: the graph output '${v.name}' is listed twice`);
    outs.add(v.name);
    if (!visible(v.name)) fail(`${where}: graph output '${v.name}' is not produced by any node, input or initializer`);
  }
}
