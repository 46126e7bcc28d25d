// Which layers of a Graph carry prunable weights, how their weight tensor maps onto the canonical
// [outputs, inputs] matrix the mask kernels work on, and the LayerFilter checks.
import { ArgumentError } from '../errors.js';
import type { ConstTensor, Graph, Node } from '../graph/ir.js';
import type { LayerFilter } from './types.js';

/** Ops whose second input is a weight this module prunes (when it is a constant). */
export const PRUNABLE_OPS: ReadonlySet<string> = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

/**
 * One prunable layer. The canonical view is [outputs, inputs] row-major: one row per output
 * channel/feature, holding that output's whole reduction ("input") vector:
 *  - Conv W [Cout, Cin/g, k...]: already canonical (inputs = Cin/g * prod(k));
 *  - Gemm transB=1 W [N, K]: already canonical;
 *  - Gemm transB=0 W [K, N] and MatMul B [K, N]: transpose `dims` [K, N] by `perm` [1, 0];
 *  - ConvTranspose W [Cin, Cout/g, k...]: view as [g, Cin/g, Cout/g, prod(k)], perm [0, 2, 1, 3].
 */
export interface PrunableLayer {
  node: Node;
  /** Name of the weight initializer. */
  weight: string;
  tensor: ConstTensor & { data: Float32Array };
  outputs: number;
  inputs: number;
  /** Conv/ConvTranspose groups (1 otherwise): rows [g * outputs/groups, ...) read input channels of group g. */
  groups: number;
  /** Kernel taps per input channel (prod(k) for convolutions, 1 otherwise). */
  taps: number;
  /** Storage → canonical transpose; undefined when the storage is canonical. */
  view?: { dims: number[]; perm: number[] };
}

export interface LayerSelection {
  layers: PrunableLayer[];
  skipped: { node: string; reason: string }[];
}

function intAttr(n: Node, name: string, fallback: number): number {
  const a = n.attrs[name];
  return a && a.kind === 'int' ? a.value : fallback;
}

/** A candidate layer (right op, constant weight): its description, or why it cannot be pruned. */
function describe(graph: Graph, n: Node): PrunableLayer | string {
  const weight = n.inputs[1];
  const t = graph.initializers.get(weight)!;
  if (INTEGER_OPS.has(n.op)) return `${n.op}: the integer weights of a dynamically quantized layer are not pruned; prune the float model, then quantize it`;
  if (!(t.data instanceof Float32Array)) return `weight '${weight}' is ${t.dtype}; only float32 (and widened float16) weights are pruned`;
  const tensor = t as ConstTensor & { data: Float32Array };
  const d = t.dims;
  const size = t.data.length;
  if (size === 0) return `weight '${weight}' is empty`;
  const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);
  switch (n.op) {
    case 'Conv': {
      if (d.length < 3) return `weight '${weight}' has rank ${d.length}; Conv weights are [Cout, Cin/g, k...]`;
      const groups = intAttr(n, 'group', 1);
      return { node: n, weight, tensor, outputs: d[0], inputs: size / d[0], groups, taps: prod(d.slice(2)) };
    }
    case 'ConvTranspose': {
      if (d.length < 3) return `weight '${weight}' has rank ${d.length}; ConvTranspose weights are [Cin, Cout/g, k...]`;
      const groups = intAttr(n, 'group', 1);
      if (groups < 1 || d[0] % groups !== 0) return `weight '${weight}' [${d.join(', ')}] does not split into ${groups} groups`;
      const taps = prod(d.slice(2));
      const cinG = d[0] / groups;
      const layer: PrunableLayer = { node: n, weight, tensor, outputs: groups * d[1], inputs: cinG * taps, groups, taps };
      if (cinG > 1 && d[1] > 1) layer.view = { dims: [groups, cinG, d[1], taps], perm: [0, 2, 1, 3] };
      return layer;
    }
    case 'Gemm':
    case 'MatMul': {
      if (d.length !== 2) return `${n.op} weight '${weight}' has rank ${d.length}; only 2-D constant weights are pruned`;
      if (n.op === 'Gemm' && intAttr(n, 'transB', 0) === 1) return { node: n, weight, tensor, outputs: d[0], inputs: d[1], groups: 1, taps: 1 };
      const layer: PrunableLayer = { node: n, weight, tensor, outputs: d[1], inputs: d[0], groups: 1, taps: 1 };
      if (d[0] > 1 && d[1] > 1) layer.view = { dims: [d[0], d[1]], perm: [1, 0] };
      return layer;
    }
    default:
      return `${n.op} is not a prunable op`;
  }
}

/** Layers of onnxruntime quantize_dynamic's models: reported as left unpruned, with what to do instead. */
const INTEGER_OPS = new Set(['MatMulInteger', 'ConvInteger']);

/** Nodes that could be pruned: a prunable op whose weight input is an initializer. */
export function candidateNodes(graph: Graph): Node[] {
  return graph.nodes.filter((n) => (PRUNABLE_OPS.has(n.op) || INTEGER_OPS.has(n.op)) && n.domain === '' && n.inputs.length > 1 && graph.initializers.has(n.inputs[1]));
}

function checkNames(names: readonly string[] | undefined, known: Set<string>, what: 'include' | 'exclude'): void {
  if (names === undefined) return;
  if (!Array.isArray(names)) throw new ArgumentError(`${what} must be an array of node names`);
  const unknown = names.filter((s) => !known.has(s));
  if (unknown.length) {
    throw new ArgumentError(`${what}: no prunable layer named ${unknown.map((s) => `'${s}'`).join(', ')}; the prunable layers are ${[...known].map((s) => `'${s}'`).join(', ') || '(none)'}`);
  }
}

/**
 * The layers a method works on, in graph order, after include/exclude. Candidates that cannot
 * be pruned (non-float weights, odd ranks, a weight already taken by an earlier layer) are
 * reported as skipped. Unknown names in the filter are an ArgumentError listing the valid ones.
 */
export function selectLayers(graph: Graph, filter: LayerFilter): LayerSelection {
  const candidates = candidateNodes(graph);
  const known = new Set(candidates.map((n) => n.name));
  checkNames(filter.include, known, 'include');
  checkNames(filter.exclude, known, 'exclude');
  const include = filter.include ? new Set(filter.include) : undefined;
  const exclude = new Set(filter.exclude ?? []);
  const layers: PrunableLayer[] = [];
  const skipped: { node: string; reason: string }[] = [];
  const owner = new Map<string, string>();
  for (const n of candidates) {
    if (exclude.has(n.name) || (include && !include.has(n.name))) continue;
    const d = describe(graph, n);
    if (typeof d === 'string') {
      skipped.push({ node: n.name, reason: d });
      continue;
    }
    const first = owner.get(d.weight);
    if (first !== undefined) {
      skipped.push({ node: n.name, reason: `shares weight '${d.weight}' with '${first}', which is pruned` });
      continue;
    }
    owner.set(d.weight, n.name);
    layers.push(d);
  }
  return { layers, skipped };
}

/** The inverse of a permutation. */
export function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}
