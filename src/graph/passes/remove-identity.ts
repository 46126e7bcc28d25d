// Removes Identity and inference-mode Dropout by renaming, so the runtime neither copies nor
// plans memory for them. Graph output names never change: when the removed node writes a graph
// output, its producer is renamed to write that output directly.
import type { ConstTensor, DType, Graph, Node } from '../ir.js';
import { allocArray, numel } from '../tensor.js';
import { MAX_FOLD_ELEMENTS } from './evaluators.js';
import { cloneGraph, renameNode } from './names.js';

/**
 * Returns a new graph without Identity / Dropout nodes where they can go. Kept: a node copying a
 * graph input or initializer straight to a graph output (the runtime copies), a node copying one
 * graph output to another, a Dropout whose training_mode is not a constant false, and a Dropout
 * whose used mask has unknown dims (`dims` as for foldConstants can tell them).
 */
export function removeIdentity(g: Graph, dims?: ReadonlyMap<string, number[]>): Graph {
  const res = cloneGraph(g);
  const graphOutputs = new Set(g.outputs.map((v) => v.name));
  const graphInputs = new Set(g.inputs.map((v) => v.name));

  for (let i = 0; i < res.nodes.length; i++) {
    const node = res.nodes[i];
    if (node.domain !== '' && node.domain !== 'ai.onnx') continue;
    if (node.op !== 'Identity' && node.op !== 'Dropout') continue;
    if (!node.inputs[0] || !node.outputs[0]) continue;
    if (node.op === 'Dropout' && !dropoutIsIdentity(node, res)) continue;
    const [x] = node.inputs;
    const [y, mask] = node.outputs;

    let maskConst: ConstTensor | undefined;
    if (node.op === 'Dropout' && mask && isRead(res, mask, i)) {
      maskConst = allTrueMask(res, x, dims);
      if (!maskConst) continue; // the mask's dims are unknown: the runtime computes it
    }

    let map: Map<string, string>;
    if (!graphOutputs.has(y)) {
      map = new Map([[y, x]]); // readers of y read x
    } else if (graphInputs.has(x) || res.initializers.has(x) || graphOutputs.has(x)) {
      continue; // renaming x would rename a graph input/initializer/output: keep the copy
    } else {
      map = new Map([[x, y]]); // x's producer writes the graph output directly
    }
    res.nodes.splice(i, 1);
    i--;
    res.nodes = res.nodes.map((n) => renameNode(n, map, true));
    if (maskConst) res.initializers.set(mask, maskConst);
    for (const old of map.keys()) res.valueInfo.delete(old);
  }
  return res;
}

/** Dropout copies its input when training_mode is absent or a constant false (opset 12+). */
function dropoutIsIdentity(node: Node, g: Graph): boolean {
  const tm = node.inputs[2];
  if (!tm) return true;
  const t = g.initializers.get(tm);
  return !!t && t.data.length === 1 && !t.data[0];
}

/** Whether any node after `self`, or a graph output, reads `name`. */
function isRead(g: Graph, name: string, self: number): boolean {
  if (g.outputs.some((v) => v.name === name)) return true;
  return g.nodes.some((n, j) => j !== self && (n.inputs.includes(name) || Object.values(n.attrs).some((a) => a.kind === 'graph')));
}

/** Dropout's mask at inference: all true (bool from opset 10; ones of the input's type before). */
function allTrueMask(g: Graph, x: string, dims?: ReadonlyMap<string, number[]>): ConstTensor | undefined {
  const input = g.inputs.find((v) => v.name === x);
  const info = g.initializers.get(x) ?? input ?? g.valueInfo.get(x);
  const d = dims?.get(x) ?? g.initializers.get(x)?.dims ?? (input?.dims?.every((v) => typeof v === 'number') ? (input.dims as number[]) : undefined);
  if (!d || numel(d) > MAX_FOLD_ELEMENTS) return undefined;
  let dtype: DType = 'bool';
  if (g.opset < 10) {
    if (!info) return undefined;
    dtype = info.dtype;
  }
  const data = allocArray(dtype, numel(d));
  (data as { fill(v: number | bigint): unknown }).fill(typeof data[0] === 'bigint' ? 1n : 1);
  return { dtype, dims: [...d], data };
}
