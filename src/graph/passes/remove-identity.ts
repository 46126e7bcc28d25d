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
  // Renames are collected and applied once at the end: renaming every node per removed Identity
  // cost n² (a chain of 20,000 nodes took minutes; found by the fuzzer, test/fuzz). Each alias
  // maps a name that is gone to the one that replaces it; resolve() follows the chain, so the
  // nodes seen later in the loop read as if the earlier renames had been applied.
  const alias = new Map<string, string>();
  const resolve = (name: string): string => {
    let n = name;
    for (let next = alias.get(n); next !== undefined; next = alias.get(n)) n = next;
    return n;
  };
  const removed = new Set<number>();

  for (let i = 0; i < res.nodes.length; i++) {
    const node = res.nodes[i];
    if (node.domain !== '' && node.domain !== 'ai.onnx') continue;
    if (node.op !== 'Identity' && node.op !== 'Dropout') continue;
    if (!node.inputs[0] || !node.outputs[0]) continue;
    if (node.op === 'Dropout' && !dropoutIsIdentity(node, res, resolve)) continue;
    const x = resolve(node.inputs[0]);
    const y = resolve(node.outputs[0]);
    const mask = node.outputs[1] ? resolve(node.outputs[1]) : undefined;

    let maskConst: ConstTensor | undefined;
    if (node.op === 'Dropout' && mask && isRead(res, mask, i, resolve, removed)) {
      maskConst = allTrueMask(res, x, dims);
      if (!maskConst) continue; // the mask's dims are unknown: the runtime computes it
    }

    let from: string;
    let to: string;
    if (!graphOutputs.has(y)) {
      [from, to] = [y, x]; // readers of y read x
    } else if (graphInputs.has(x) || res.initializers.has(x) || graphOutputs.has(x)) {
      continue; // renaming x would rename a graph input/initializer/output: keep the copy
    } else {
      [from, to] = [x, y]; // x's producer writes the graph output directly
    }
    removed.add(i);
    if (from !== to) alias.set(from, to);
    if (maskConst && mask) res.initializers.set(mask, maskConst);
    res.valueInfo.delete(from);
  }
  if (removed.size === 0) return res;
  const map = new Map([...alias.keys()].map((k) => [k, resolve(k)]));
  res.nodes = res.nodes.filter((_, i) => !removed.has(i)).map((n) => (map.size ? renameNode(n, map, true) : n));
  return res;
}

/** Dropout copies its input when training_mode is absent or a constant false (opset 12+). */
function dropoutIsIdentity(node: Node, g: Graph, resolve: (name: string) => string): boolean {
  const tm = node.inputs[2];
  if (!tm) return true;
  const t = g.initializers.get(resolve(tm));
  return !!t && t.data.length === 1 && !t.data[0];
}

/** Whether any other node still in the graph, or a graph output, reads `name` (node inputs seen through `resolve`). */
function isRead(g: Graph, name: string, self: number, resolve: (name: string) => string, removed: ReadonlySet<number>): boolean {
  if (g.outputs.some((v) => v.name === name)) return true;
  return g.nodes.some((n, j) => j !== self && !removed.has(j) && (n.inputs.some((x) => resolve(x) === name) || Object.values(n.attrs).some((a) => a.kind === 'graph')));
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
