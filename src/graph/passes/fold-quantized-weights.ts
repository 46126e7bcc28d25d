// Int8 weights to float32 at import: a QuantizeLinear or DequantizeLinear whose inputs are all
// constant (a QDQ model's int8 weights and int32 biases, a QAT export's float weights behind a
// QuantizeLinear -> DequantizeLinear pair) becomes the constant it computes. Pruning, statistics,
// export and fitting then see the weights as every other model's, floats feeding Conv / Gemm /
// MatMul; the activations' QuantizeLinear / DequantizeLinear stay as nodes.
import type { ConstTensor, Graph, Node } from '../ir.js';
import { EVALUATORS } from './evaluators.js';
import { nodeReads } from './names.js';

const FOLDED_OPS = new Set(['QuantizeLinear', 'DequantizeLinear']);

/** The graph with its constant (de)quantizations folded (the graph itself when there are none). */
export function foldQuantizedWeights(g: Graph): Graph {
  const isFoldable = (n: Node) => FOLDED_OPS.has(n.op) && (n.domain === '' || n.domain === 'ai.onnx') && n.outputs.length === 1;
  if (!g.nodes.some(isFoldable)) return g;
  const initializers = new Map(g.initializers);
  const kept: Node[] = [];
  const freed = new Set<string>();
  for (const n of g.nodes) {
    const inputs = n.inputs.map((name) => (name === '' ? undefined : initializers.get(name)));
    if (!isFoldable(n) || n.inputs.some((name, i) => name !== '' && !inputs[i])) {
      kept.push(n);
      continue;
    }
    // a malformed node throws its typed error here, at load, as it would when planned
    const [out] = EVALUATORS[n.op](n, inputs as (ConstTensor | undefined)[], g.opset);
    initializers.set(n.outputs[0], out);
    for (const name of n.inputs) if (name) freed.add(name);
  }
  // drop the integer tensors nothing reads any more
  const read = new Set<string>(g.outputs.map((v) => v.name));
  for (const n of kept) for (const name of nodeReads(n)) read.add(name);
  for (const name of freed) if (!read.has(name)) initializers.delete(name);
  return { ...g, nodes: kept, initializers };
}
