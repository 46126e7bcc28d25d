// What `fit` can change in a model, found once: the channel groups structured pruning may cut
// (src/prune/dependency.ts) with their ratio levels and the layers reading them (candidates for
// reconstruction), the layers with weights (unstructured sparsity and int8 storage), and for the
// resource predictions every initializer's and run-time value's size as a function of the kept
// share of each group.
import { attrInt, attrInts } from '../graph/attrs.js';
import type { Graph, Node } from '../graph/ir.js';
import { numel } from '../graph/tensor.js';
import { buildDependencyGraph, type ChannelGroup, type DependencyGraph } from '../prune/dependency.js';
import { selectLayers } from '../prune/layers.js';
import { keptCount, keptPerBlock } from '../prune/structured-count.js';

export interface GroupLevel {
  /** The fraction of channels asked to be removed. */
  ratio: number;
  /** Units (channels) kept at this level. */
  keep: number;
}

export interface GroupInfo {
  index: number;
  group: ChannelGroup;
  /** The layers computing the group's channels (what a person calls "the layer"). */
  label: string;
  /** Units (channels) of the group. */
  total: number;
  /** Level 0 keeps everything; later levels keep fewer (distinct counts only). */
  levels: GroupLevel[];
  /** Layers reading the group's channels: reconstructed when the group is cut. */
  consumers: string[];
}

/** A layer that reads pruned channels and whose weights least squares can refit. */
export interface ConsumerInfo {
  node: Node;
  kind: 'conv' | 'linear';
  input: string;
  output: string;
  weight: string;
  /** Kernel taps per input channel (conv), 1 for linear layers. */
  taps: number;
  /** Gemm/MatMul: weights stored [N, K] (Gemm transB=1) rather than [K, N]. */
  transposed: boolean;
  /** Gemm alpha and beta (1 otherwise); a bias can be fitted unless beta is 0 or the op is MatMul. */
  alpha: number;
  beta: number;
  canBias: boolean;
  conv?: { KH: number; KW: number; sh: number; sw: number; dh: number; dw: number; autoPad: string; pads: number[] };
}

export interface LayerInfo {
  index: number;
  name: string;
  op: string;
  weight: string;
  params: number;
  input: string;
  output: string;
  /** The axis int8 scales run along (quantizeGraph's convention), undefined when int8 does not apply. */
  quantAxis?: number;
  /** Sparsity levels: level 0 is 0 (the weights as they are), the others above `existing`. */
  sparsity: number[];
  /**
   * The share of the weights already zero (a model pruned before): pruning to less changes
   * nothing, and the fitted model keeps at least this much (see effectiveSparsity).
   */
  existing: number;
  /** Whether int8 storage is allowed (float weights with at least 64 elements). */
  int8: boolean;
  /** Conv group count (1 for other ops). */
  groups: number;
}

export interface InitInfo {
  name: string;
  numel: number;
  dims: number[];
  bytesPerElement: number;
  isFloat: boolean;
  /** axis → the run-time value whose channels index it. */
  axes: { axis: number; value: string }[];
  /** Index into layers when this is a layer's weight. */
  layer?: number;
}

export interface Analysis {
  base: Graph;
  dep: DependencyGraph;
  groups: GroupInfo[];
  layers: LayerInfo[];
  consumers: Map<string, ConsumerInfo>;
  inits: InitInfo[];
  /** Per run-time value: its elements at the analysis dims, its channels, and how many of them each group covers. */
  values: Map<string, { elements: number; channels: number; byGroup: { group: number; count: number }[] }>;
  /** Group index of each node name computing channels (producers). */
  producerGroup: Map<string, number>;
}

export interface AnalysisOptions {
  inputDims: Record<string, number[]>;
  /** Channel removal ratios tried per group (default 0.25, 0.5, 0.75, 0.9). */
  channelRatios: readonly number[];
  /** Sparsity levels tried per layer (default 0.25, 0.5, 0.75, 0.9). */
  sparsities: readonly number[];
  roundTo: number;
  /** Largest share of a group's channels that may go. */
  maxChannelRatio: number;
  /** Node names never pruned (structured or unstructured) nor quantized. */
  exclude: ReadonlySet<string>;
  channels: boolean;
  sparse: boolean;
  int8: boolean;
}

const FLOAT = new Set(['float32', 'float16', 'float64']);

/** The least-squares view of a Conv (2-D, group 1) or Gemm/MatMul (2-D input) with constant weights, or undefined. */
export function consumerOf(graph: Graph, n: Node, dims: Map<string, number[]>): ConsumerInfo | undefined {
  const [x, w, b] = n.inputs;
  const t = graph.initializers.get(w);
  if (!t || !(t.data instanceof Float32Array)) return undefined;
  const xd = dims.get(x);
  if (!xd) return undefined;
  if (n.op === 'Conv') {
    if (attrInt(n, 'group', 1) !== 1 || t.dims.length !== 4 || xd.length !== 4) return undefined;
    const two = (name: string, d: number) => {
      const v = attrInts(n, name);
      return v && v.length >= 2 ? v : [d, d];
    };
    const [sh, sw] = two('strides', 1);
    const [dh, dw] = two('dilations', 1);
    const p = attrInts(n, 'pads') ?? [0, 0, 0, 0];
    const autoPadAttr = n.attrs.auto_pad;
    const autoPad = autoPadAttr?.kind === 'string' ? autoPadAttr.value : 'NOTSET';
    return {
      node: n, kind: 'conv', input: x, output: n.outputs[0], weight: w, taps: t.dims[2] * t.dims[3], transposed: true, alpha: 1, beta: 1, canBias: true,
      conv: { KH: t.dims[2], KW: t.dims[3], sh, sw, dh, dw, autoPad, pads: p.length === 4 ? p : [0, 0, 0, 0] },
    };
  }
  if (n.op === 'Gemm' || n.op === 'MatMul') {
    if (xd.length !== 2 || t.dims.length !== 2) return undefined;
    if (n.op === 'Gemm' && attrInt(n, 'transA', 0) !== 0) return undefined;
    const transposed = n.op === 'Gemm' && attrInt(n, 'transB', 0) === 1;
    const fl = (name: string) => {
      const a = n.attrs[name];
      return a?.kind === 'float' ? a.value : 1;
    };
    const alpha = n.op === 'Gemm' ? fl('alpha') : 1;
    const beta = n.op === 'Gemm' ? fl('beta') : 1;
    const N = transposed ? t.dims[0] : t.dims[1];
    const c = b ? graph.initializers.get(b) : undefined;
    const canBias = n.op === 'Gemm' && beta !== 0 && alpha !== 0 && (!b || (c !== undefined && c.data instanceof Float32Array && c.data.length === N));
    if (alpha === 0) return undefined;
    return { node: n, kind: 'linear', input: x, output: n.outputs[0], weight: w, taps: 1, transposed, alpha, beta, canBias };
  }
  return undefined;
}

export function analyse(graph: Graph, o: AnalysisOptions): Analysis {
  const dep = buildDependencyGraph(graph, { inputDims: o.inputDims });
  const base = dep.graph;
  const groups: GroupInfo[] = [];
  const consumers = new Map<string, ConsumerInfo>();
  const producerGroup = new Map<string, number>();
  const nodeByName = new Map(base.nodes.map((n) => [n.name, n]));
  if (o.channels) {
    for (const g of dep.groups) {
      if (!g.prunable || g.producers.some((p) => o.exclude.has(p))) continue;
      const total = g.units.length;
      const nBlocks = g.blockCount ?? 1;
      const levels: GroupLevel[] = [{ ratio: 0, keep: total }];
      for (const r of o.channelRatios) {
        const keep = nBlocks > 1 ? keptPerBlock(total / nBlocks, nBlocks, r, o.roundTo, o.maxChannelRatio) * nBlocks : keptCount(total, r, o.roundTo, o.maxChannelRatio);
        if (keep < levels[levels.length - 1].keep && keep >= 1) levels.push({ ratio: r, keep });
      }
      if (levels.length < 2) continue;
      const index = groups.length;
      const readers = new Set<string>();
      for (const s of g.params) {
        if (s.role !== 'in' || s.groups) continue;
        const n = nodeByName.get(s.node);
        if (!n) continue;
        const c = consumers.get(n.name) ?? consumerOf(base, n, dep.dims);
        if (c && c.input === s.value) {
          consumers.set(n.name, c);
          readers.add(n.name);
        }
      }
      for (const p of g.producers) producerGroup.set(p, index);
      groups.push({ index, group: g, label: g.producers.join('+'), total, levels, consumers: [...readers] });
    }
  }

  const layers: LayerInfo[] = [];
  const { layers: prunable } = selectLayers(base, {});
  for (const l of prunable) {
    if (o.exclude.has(l.node.name)) continue;
    const n = l.node;
    const d = l.tensor.dims;
    let quantAxis: number | undefined;
    if (n.op === 'Conv') quantAxis = 0;
    else if (n.op === 'ConvTranspose') quantAxis = d.length >= 2 ? 1 : undefined;
    else if (n.op === 'Gemm') quantAxis = attrInt(n, 'transB', 0) === 1 ? 0 : 1;
    else if (n.op === 'MatMul') quantAxis = d.length === 2 ? 1 : undefined;
    const params = l.tensor.data.length;
    let zeros = 0;
    for (let i = 0; i < params; i++) if (l.tensor.data[i] === 0) zeros++;
    const existing = params ? zeros / params : 0;
    layers.push({
      index: layers.length,
      name: n.name,
      op: n.op,
      weight: l.weight,
      params,
      input: n.inputs[0],
      output: n.outputs[0],
      quantAxis,
      // levels at or below what is already zero would be measured, predicted and chosen for nothing
      sparsity: o.sparse ? [0, ...o.sparsities.filter((v) => v > existing + 0.005)] : [0],
      existing,
      int8: o.int8 && quantAxis !== undefined && params >= 64,
      groups: l.groups,
    });
  }
  // a weight read by two nodes is left alone by selectLayers; int8 must not touch it either
  const layerOfWeight = new Map(layers.map((l) => [l.weight, l.index]));

  const axesOf = new Map<string, { axis: number; value: string }[]>();
  for (const g of groups) {
    for (const s of g.group.params) {
      const list = axesOf.get(s.init) ?? [];
      if (!list.some((a) => a.axis === s.axis)) list.push({ axis: s.axis, value: s.value });
      axesOf.set(s.init, list);
    }
  }
  const inits: InitInfo[] = [];
  for (const [name, t] of base.initializers) {
    inits.push({
      name,
      numel: numel(t.dims),
      dims: [...t.dims],
      bytesPerElement: t.data.BYTES_PER_ELEMENT,
      isFloat: FLOAT.has(t.dtype),
      axes: axesOf.get(name) ?? [],
      layer: layerOfWeight.get(name),
    });
  }

  const values: Analysis['values'] = new Map();
  const groupOfValue = new Map<string, Map<number, number>>();
  for (const g of groups) {
    for (const u of g.group.units) {
      for (const [v, idx] of u) {
        const m = groupOfValue.get(v) ?? new Map<number, number>();
        m.set(g.index, (m.get(g.index) ?? 0) + idx.length);
        groupOfValue.set(v, m);
      }
    }
  }
  for (const [v, d] of dep.dims) {
    if (base.initializers.has(v)) continue;
    const m = groupOfValue.get(v);
    values.set(v, { elements: numel(d), channels: d.length >= 2 ? d[1] : 0, byGroup: m ? [...m].map(([group, count]) => ({ group, count })) : [] });
  }
  return { base, dep, groups, layers, consumers, inits, values, producerGroup };
}

/** A layer's sparsity under a plan: its level, and never less than the zeros it came with. */
export function effectiveSparsity(l: LayerInfo, plan: { sparsity: readonly number[] }): number {
  return Math.max(l.sparsity[plan.sparsity[l.index]], l.existing);
}
