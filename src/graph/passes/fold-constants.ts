// Constant folding: every node whose inputs are all constant is evaluated on the host and
// replaced by initializers; Shape and Size fold as soon as their input's dims are known, which
// turns the Shape → Gather → Unsqueeze → Concat → Reshape chains of PyTorch exports into a
// Reshape with a constant shape.
import { ModelFormatError } from '../../errors.js';
import type { ConstTensor, Graph, Node } from '../ir.js';
import { numel } from '../tensor.js';
import { EVALUATORS, MAX_FOLD_ELEMENTS, NotFoldable, evalShape, evalSize, withAllocLimit } from './evaluators.js';
import { cloneGraph, nodeReads } from './names.js';
import { checkDims } from '../size-check.js';

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
const FOLDED = new WeakSet<ConstTensor>();

/** Shape vectors and scalars (≤ 64 bytes) always fold: a few per node, they cannot add up to much. */
const ALWAYS_FOLD_BYTES = 64;

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

/**
 * Returns a new graph with constant subexpressions folded into initializers (the input is not
 * modified). `dims` gives concrete dims for values the caller has inferred (value name → dims);
 * numeric graph-input dims and initializer dims are used as well.
 * Folded values no longer read by anyone are not added; the inputs of folded nodes stay until
 * removeDeadCode. Results above MAX_FOLD_ELEMENTS elements, and any once `budget` is spent, are
 * left to the runtime.
 */
export function foldConstants(g: Graph, dims?: ReadonlyMap<string, number[]>, budget: FoldBudget = foldBudget(g)): Graph {
  const consts = new Map<string, ConstTensor>(g.initializers);
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
  for (const n of kept) for (const i of nodeReads(n)) read.add(i);
  const res = cloneGraph(g);
  res.nodes = kept;
  for (const [name, t] of folded) if (read.has(name)) res.initializers.set(name, t);
  return res;
}

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
  let out: ConstTensor[];
  try {
    // results over the budget are refused inside the evaluator, before they are allocated
    out = withAllocLimit(Math.max(ALWAYS_FOLD_BYTES, budget.bytes), () => ev(node, inputs, opset));
  } catch (e) {
    if (e instanceof NotFoldable) return undefined;
    throw e;
  }
  if (out.length < node.outputs.filter((o) => o !== '').length) return undefined;
  // views (Reshape of an empty tensor) allocate nothing here, but their dims flow on to the planner
  out.forEach((t, i) => checkDims(t.dims, `node '${node.name}' (${node.op}) output '${node.outputs[i] ?? i}'`));
  // views (Reshape, Identity, Squeeze of a big weight) allocate nothing here but would still add
  // a large initializer beside the original when it has other readers: the cap applies to all
  if (out.some((t) => numel(t.dims) > MAX_FOLD_ELEMENTS)) return undefined;
  // results that are views of an input's data allocated nothing; the rest spend the budget
  const fresh = out.reduce((a, t) => a + (inputs.some((x) => x?.data.buffer === t.data.buffer) ? 0 : t.data.byteLength), 0);
  if (fresh > ALWAYS_FOLD_BYTES && fresh > budget.bytes) return undefined;
  budget.bytes -= fresh;
  for (const t of out) FOLDED.add(t);
  return out;
}
