// Binds the model's input dims (symbolic ones included) to concrete values, infers every
// tensor's dims, and folds everything that became constant (PyTorch's Shape → Gather → Concat →
// Reshape chains). What is left is a graph of run-time float ops with known shapes.
import { UnsupportedOpError } from '../errors.js';
import type { Graph, Node } from '../graph/ir.js';
import { foldForDims } from './fold-dims.js';
import { OPS } from './ops/index.js';
import type { OpInput } from './op.js';
import { checkDims } from '../graph/size-check.js';

export interface Specialized {
  graph: Graph;
  /** Dims of every run-time value (graph inputs and node outputs). */
  dims: Map<string, number[]>;
}

/**
 * Dims of run-time values, node by node, stopping quietly at the first node that needs a value not
 * yet folded (`blocked`: its own error, raised if folding never provides the value).
 */
function inferDims(g: Graph, inputDims: Map<string, number[]>, known?: Map<string, number[]>): { dims: Map<string, number[]>; complete: boolean; blocked?: UnsupportedOpError } {
  const dims = new Map(inputDims);
  for (const node of g.nodes) {
    // inferred in an earlier round (`known`): folding keeps every value's dims, so only what it
    // unblocked is inferred again (a cold start otherwise ran every node's shape function twice)
    if (known && node.outputs.every((o) => o === '' || known.has(o))) {
      for (const o of node.outputs) if (o !== '') dims.set(o, known.get(o)!);
      continue;
    }
    const def = OPS[node.domain === '' ? node.op : `${node.domain}:${node.op}`];
    const inputs: (OpInput | undefined)[] = node.inputs.map((name) => {
      if (name === '') return undefined;
      const c = g.initializers.get(name);
      if (c) return { name, dims: c.dims, constant: c };
      const d = dims.get(name);
      return d ? { name, dims: d } : undefined;
    });
    const missing = node.inputs.some((name, i) => name !== '' && !inputs[i]);
    if (!def || missing) {
      if (missing) return { dims, complete: false };
      continue; // a shape op folding will resolve (Shape, ConstantOfShape, Range, ...)
    }
    let out: number[][];
    try {
      out = def.shape(node, inputs, g.opset);
    } catch (e) {
      // a shape input that is still computed: let folding resolve it, then retry
      if (e instanceof UnsupportedOpError && /computed at run time/.test(e.message)) return { dims, complete: false, blocked: e };
      throw e;
    }
    node.outputs.forEach((o, i) => {
      if (o === '' || !out[i]) return;
      // every size the planner computes comes from these dims: check them once, here
      checkDims(out[i], `node '${node.name}' (${node.op}) output '${o}'`);
      dims.set(o, out[i]);
    });
  }
  return { dims, complete: true };
}

/** Ops that only make shapes: left once inference is stuck upstream, they fold when it is not. */
const SHAPE_MAKERS = new Set(['ConstantOfShape', 'Range']);

/** Nodes whose folding depends on the dims: Shape and Size read them, a Dropout's mask takes them. */
const DIMS_FOLDABLE = new Set(['Shape', 'Size', 'Dropout']);

/**
 * `simplified`: the graph is already at the simplifier's fixed point without dims (a session's
 * graph: simplified at load, or stored simplified in the .epm). Then, when every dim is inferred
 * and no node folds on dims, the fold round cannot change anything and is skipped (a cold start
 * otherwise runs the whole simplifier a second time for nothing). Only Shape and Size read dims
 * when folding (and a Dropout's mask takes them), so a graph without them folds no further.
 */
export function specialize(graph: Graph, inputDims: Map<string, number[]>, opts: { simplified?: boolean } = {}): Specialized {
  for (const [name, d] of inputDims) checkDims(d, `input '${name}'`);
  let g = graph;
  let previous: Map<string, number[]> | undefined;
  for (let round = 0; round < 32; round++) {
    const { dims, complete } = inferDims(g, inputDims, previous);
    previous = dims;
    // after a fold round the graph is folded as far as the dims allowed so far: once every dim is
    // known, no Shape / Size / Dropout is left and every node can run (an If on a dim folds in a
    // next round), dims can fold nothing more (a paddle2onnx model with a Shape chain: a fold
    // round and a shape inference fewer per plan)
    if ((round > 0 || opts.simplified) && complete && g.nodes.every((n) => !DIMS_FOLDABLE.has(n.op) && runnable(n))) {
      checkImplemented(g);
      return { graph: g, dims };
    }
    const next = foldForDims(g, dims);
    const stable = next.nodes.length === g.nodes.length && next.initializers.size === g.initializers.size;
    g = next;
    if (complete && stable) {
      checkImplemented(g);
      return { graph: g, dims: inferDims(g, inputDims, previous).dims };
    }
    if (!complete && stable) {
      // nothing folded and inference is stuck: name the node that blocks it
      const { dims: known, blocked } = inferDims(g, inputDims);
      // a node that needs an input constant (Gather's indices, Reshape's shape) that stays computed: its own error
      if (blocked) throw blocked;
      const unknown = (i: string): boolean => i !== '' && !g.initializers.has(i) && !known.has(i);
      const stuck = g.nodes.find((n) => n.inputs.some(unknown));
      if (stuck) {
        // the node that made the input inference lacks (not another input's maker, whose output is known)
        const producer = g.nodes.find((n) => n.outputs.some((o) => stuck.inputs.includes(o) && unknown(o)));
        const culprit = producer && !OPS[producer.op] ? producer : stuck;
        throw new UnsupportedOpError(culprit.op, culprit.name, (OPS[culprit.op] ? 'an input it needs constant is computed at run time' : 'no implementation') + alsoUnrunnable(g));
      }
    }
  }
  throw new UnsupportedOpError('graph', graph.name, 'shape inference did not settle after 32 rounds');
}

/** The node has a run-time implementation. */
function runnable(node: Node): boolean {
  return OPS[node.domain === '' ? node.op : `${node.domain}:${node.op}`] !== undefined;
}

/** Every node left has a run-time implementation, else a typed error naming it. */
function checkImplemented(g: Graph): void {
  for (const node of g.nodes) {
    if (!runnable(node)) {
      const detail = node.domain !== '' ? `domain '${node.domain}' is not supported` : node.op === 'If' ? 'its condition is computed at run time' : 'no implementation';
      // an ONNX file's case (edgeprune/runtime reads the .epm files edgeprune writes)
      if (!globalThis.EDGEPRUNE_RUNTIME) throw new UnsupportedOpError(node.op, node.name, detail + alsoUnrunnable(g) + qOperatorHint(g));
      throw new UnsupportedOpError(node.op, node.name, detail + alsoUnrunnable(g));
    }
  }
}

/** onnxruntime's QOperator int8 format: the same float model quantized as QDQ, or dynamically, runs. */
function qOperatorHint(g: Graph): string {
  if (!g.nodes.some((n) => /^(QLinear|QGemm$|QAttention$)/.test(n.op))) return '';
  return "; it is in onnxruntime's QOperator int8 format: quantize the float model with quant_format=QuantFormat.QDQ, or with quantize_dynamic, which edgeprune runs";
}

/**
 * Every op left that cannot run, with counts, subgraphs of unfolded nodes included (an If on an
 * input holds its branches' nodes): one error tells a user all that stands between the model and
 * edgeprune, not the first of several. Shape arithmetic is left out: it folds once the dims are known.
 */
function alsoUnrunnable(g: Graph): string {
  const counts = new Map<string, number>();
  const visit = (graph: Graph): void => {
    for (const n of graph.nodes) {
      const op = n.domain === '' ? n.op : `${n.domain}:${n.op}`;
      if (!runnable(n) && !DIMS_FOLDABLE.has(n.op) && !SHAPE_MAKERS.has(n.op)) counts.set(op, (counts.get(op) ?? 0) + 1);
      for (const a of Object.values(n.attrs)) if (a.kind === 'graph') visit(a.value);
    }
  };
  visit(g);
  if (counts.size < 2) return '';
  return ` (in all, the model has ${[...counts].map(([op, k]) => `${op} x${k}`).join(', ')} that edgeprune cannot run)`;
}
