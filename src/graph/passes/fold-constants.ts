// Constant folding: every node whose inputs are all constant is evaluated on the host and
// replaced by initializers; Shape and Size fold as soon as their input's dims are known, which
// turns the Shape → Gather → Unsqueeze → Concat → Reshape chains of PyTorch exports into a
// Reshape with a constant shape.
import { ModelFormatError } from '../../errors.js';
import type { ConstTensor, Graph, Node } from '../ir.js';
import { numel } from '../tensor.js';
import { EVALUATORS, MAX_FOLD_ELEMENTS, NotFoldable, evalShape, evalSize, withAllocLimit } from './evaluators.js';
import { cloneGraph, copyMap, nodeReads } from './names.js';
import { checkDims } from '../size-check.js';
import { ALWAYS_FOLD_BYTES, FOLDED, foldBudget, type FoldBudget } from './fold-budget.js';

export { FOLD_BASE_BYTES, foldBudget, type FoldBudget } from './fold-budget.js';

/**
 * Returns a new graph with constant subexpressions folded into initializers (the input is not
 * modified). `dims` gives concrete dims for values the caller has inferred (value name → dims);
 * numeric graph-input dims and initializer dims are used as well.
 * Folded values no longer read by anyone are not added; the inputs of folded nodes stay until
 * removeDeadCode. Results above MAX_FOLD_ELEMENTS elements, and any once `budget` is spent, are
 * left to the runtime.
 */
export function foldConstants(g: Graph, dims?: ReadonlyMap<string, number[]>, budget: FoldBudget = foldBudget(g)): Graph {
  const consts: Map<string, ConstTensor> = copyMap(g.initializers);
  const known = new Map<string, readonly number[]>();
  for (const v of g.inputs) {
    if (v.dims && v.dims.every((d) => typeof d === 'number' && d >= 0)) known.set(v.name, v.dims as number[]);
  }
  for (const [k, d] of dims ?? []) known.set(k, d);
  const dimsOf = (name: string) => consts.get(name)?.dims ?? known.get(name);

  const kept: Node[] = [];
  const folded = new Map<string, ConstTensor>();
  for (const node of g.nodes) {
    const out = fold(node, consts, dimsOf, g.opset, budget);
    if (!out) {
      kept.push(node);
      continue;
    }
    node.outputs.forEach((name, i) => {
      if (!name) return;
      consts.set(name, out[i]);
      folded.set(name, out[i]);
    });
  }

  // keep the folded values something still reads (a remaining node, a subgraph, a graph output)
  const read = new Set<string>(g.outputs.map((v) => v.name));
  for (let n = 0; n < kept.length; n++) {
    const reads = nodeReads(kept[n]);
    for (let i = 0; i < reads.length; i++) read.add(reads[i]);
  }
  const res = cloneGraph(g);
  res.nodes = kept;
  folded.forEach((t, name) => read.has(name) && res.initializers.set(name, t));
  return res;
}

/**
 * Ops whose constant results replace weights rather than add to them: a QuantizeLinear's result
 * is smaller than its input, a DequantizeLinear's at most 4x its int8 input. They fold at any
 * size (the weights of a large int8 layer must not stay behind as a run-time node).
 */
const WEIGHT_TRANSFORMS = new Set(['QuantizeLinear', 'DequantizeLinear']);

/** The node's outputs if it folds, else undefined. */
function fold(node: Node, consts: ReadonlyMap<string, ConstTensor>, dimsOf: (name: string) => readonly number[] | undefined, opset: number, budget: FoldBudget): ConstTensor[] | undefined {
  if (node.domain !== '' && node.domain !== 'ai.onnx') return undefined;
  if (node.op === 'Shape' || node.op === 'Size') {
    if (node.inputs.length !== 1 || !node.inputs[0]) throw new ModelFormatError(`node '${node.name}' (${node.op}): expected 1 input, got ${node.inputs.length}`);
    const d = dimsOf(node.inputs[0]);
    if (!d) return undefined;
    checkDims(d, `'${node.inputs[0]}' (read by node '${node.name}' (${node.op}))`);
    return [node.op === 'Shape' ? evalShape(node, d) : evalSize(d)];
  }
  // own keys only: an op named 'constructor' or '__proto__' (a hostile file) is no evaluator
  const ev = Object.prototype.hasOwnProperty.call(EVALUATORS, node.op) ? EVALUATORS[node.op] : undefined;
  if (!ev) return undefined;
  // an input that is neither omitted nor constant keeps the node
  const inputs: (ConstTensor | undefined)[] = [];
  for (const name of node.inputs) {
    if (name === '') inputs.push(undefined);
    else {
      const t = consts.get(name);
      if (!t) return undefined;
      inputs.push(t);
    }
  }
  // (de)quantizing weights: a result no larger than 4x an initializer, whatever the budget
  const weightTransform = WEIGHT_TRANSFORMS.has(node.op);
  let out: ConstTensor[];
  try {
    // results over the budget are refused inside the evaluator, before they are allocated
    out = weightTransform ? ev(node, inputs, opset) : withAllocLimit(Math.max(ALWAYS_FOLD_BYTES, budget.bytes), () => ev(node, inputs, opset));
  } catch (e) {
    if (e instanceof NotFoldable) return undefined;
    throw e;
  }
  if (out.length < node.outputs.filter((o) => o !== '').length) return undefined;
  // views (Reshape of an empty tensor) allocate nothing here, but their dims flow on to the planner
  out.forEach((t, i) => checkDims(t.dims, `node '${node.name}' (${node.op}) output '${node.outputs[i] ?? i}'`));
  // views (Reshape, Identity, Squeeze of a big weight) allocate nothing here but would still add
  // a large initializer beside the original when it has other readers: the cap applies to all
  if (!weightTransform && out.some((t) => numel(t.dims) > MAX_FOLD_ELEMENTS)) return undefined;
  // results that are views of an input's data allocated nothing; the rest spend the budget
  const fresh = out.reduce((a, t) => a + (inputs.some((x) => x?.data.buffer === t.data.buffer) ? 0 : t.data.byteLength), 0);
  if (!weightTransform && fresh > ALWAYS_FOLD_BYTES && fresh > budget.bytes) return undefined;
  if (!weightTransform) budget.bytes -= fresh;
  for (const t of out) FOLDED.add(t);
  return out;
}
