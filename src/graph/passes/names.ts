// Value-name bookkeeping shared by the passes: renaming (into subgraphs too, since If/Loop bodies
// may read outer values by name; ONNX names are unique across scopes, so no shadowing to honour),
// the outer names a subgraph reads, and fresh names.
import type { Graph, Node } from '../ir.js';

/** A copy of `node` with every input (and, with `outputs`, every output) renamed through `map`. */
export function renameNode(node: Node, map: ReadonlyMap<string, string>, outputs = false): Node {
  const r = (n: string) => map.get(n) ?? n;
  let attrs = node.attrs;
  for (const [k, a] of Object.entries(node.attrs)) {
    if (a.kind !== 'graph') continue;
    if (attrs === node.attrs) attrs = { ...node.attrs };
    // (defineProperty: an attribute named '__proto__' stays an own property)
    Object.defineProperty(attrs, k, { value: { kind: 'graph', value: renameGraph(a.value, map) }, enumerable: true, writable: true, configurable: true });
  }
  return { ...node, inputs: node.inputs.map(r), outputs: outputs ? node.outputs.map(r) : node.outputs, attrs };
}

/** A subgraph with every reference (node inputs/outputs, graph outputs) renamed through `map`. */
export function renameGraph(g: Graph, map: ReadonlyMap<string, string>): Graph {
  const r = (n: string) => map.get(n) ?? n;
  return {
    ...g,
    nodes: g.nodes.map((n) => renameNode(n, map, true)),
    outputs: g.outputs.map((v) => ({ ...v, name: r(v.name) })),
    initializers: new Map([...g.initializers].map(([k, t]) => [r(k), t])),
    valueInfo: new Map([...g.valueInfo].map(([k, v]) => [r(k), { ...v, name: r(k) }])),
  };
}

/** Names a graph reads that it does not define itself (for a subgraph: the outer values it uses). */
export function outerReads(g: Graph): Set<string> {
  const defined = new Set<string>([...g.inputs.map((v) => v.name), ...g.initializers.keys()]);
  const reads = new Set<string>();
  for (const n of g.nodes) {
    for (const i of nodeReads(n)) if (!defined.has(i)) reads.add(i);
    for (const o of n.outputs) defined.add(o);
  }
  for (const o of g.outputs) if (!defined.has(o.name)) reads.add(o.name);
  return reads;
}

/** Every value a node reads: its inputs and its subgraphs' outer reads. */
export function nodeReads(n: Node): string[] {
  const out: string[] = [];
  for (let i = 0; i < n.inputs.length; i++) if (n.inputs[i] !== '') out.push(n.inputs[i]);
  // for-in, not Object.values: no array per node (most nodes have attributes, few a subgraph)
  for (const key in n.attrs) {
    const a = n.attrs[key];
    if (a.kind === 'graph') out.push(...outerReads(a.value));
  }
  return out;
}

/** Every name used anywhere in the graph, subgraphs included (to pick fresh names). */
export function allNames(g: Graph, into = new Set<string>()): Set<string> {
  for (const v of [...g.inputs, ...g.outputs]) into.add(v.name);
  for (const k of g.initializers.keys()) into.add(k);
  for (const n of g.nodes) {
    into.add(n.name);
    for (const x of [...n.inputs, ...n.outputs]) if (x) into.add(x);
    for (const a of Object.values(n.attrs)) if (a.kind === 'graph') allNames(a.value, into);
  }
  return into;
}

/** `base`, or `base_1`, `base_2`, ... whichever is not yet in `taken` (which it joins). */
export function freshName(base: string, taken: Set<string>): string {
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

/** A shallow copy of the graph's containers, safe to modify without touching the input. */
export function cloneGraph(g: Graph): Graph {
  return { ...g, inputs: [...g.inputs], outputs: [...g.outputs], nodes: [...g.nodes], initializers: copyMap(g.initializers), valueInfo: copyMap(g.valueInfo) };
}

/**
 * A copy of a Map. `new Map(m)` walks m through its iterator, a [key, value] array and an
 * iterator result per entry; every pass clones the graph's initializers, in V8's interpreter on a
 * cold start (0.2 MB of garbage for PaddleOCR's classifier); forEach allocates nothing per entry.
 */
export function copyMap<K, V>(m: ReadonlyMap<K, V>): Map<K, V> {
  const copy = new Map<K, V>();
  m.forEach((v, k) => copy.set(k, v));
  return copy;
}
