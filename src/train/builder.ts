// A model builder for training from scratch: sequential layers (and residual blocks) that produce
// the same Graph as ONNX import (Conv, BatchNormalization, Relu, MaxPool, Flatten, Gemm, Dropout,
// Add), so a trained model is pruned, exported, saved and run like any imported one.
//
//   const graph = sequential([1, 28, 28], [conv2d(16, 3, { pads: 1 }), relu(), maxPool(2),
//                                          flatten(), linear(10)], { seed: 0 });
//
// Weights start like PyTorch's defaults (kaiming_uniform with a = sqrt(5): U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)) for weights and biases; BatchNorm gamma 1, beta 0, running mean 0, var 1),
// drawn from a seeded Rng, so a seed gives the same model everywhere.
import { ArgumentError } from '../errors.js';
import type { Attr, ConstTensor, Graph, Node } from '../graph/ir.js';
import { Rng } from './rng.js';

/** What a layer needs to add itself: the builder's state. */
export interface BuildState {
  graph: Graph;
  /** Current value name and its dims per sample (no batch axis). */
  value: string;
  dims: number[];
  rng: Rng;
  /** A fresh name with this prefix (conv1, conv2, ...). */
  name(prefix: string): string;
}

export type Layer = (s: BuildState) => void;

const ints = (value: number[]): Attr => ({ kind: 'ints', value });
const int = (value: number): Attr => ({ kind: 'int', value });
const float = (value: number): Attr => ({ kind: 'float', value });
const size = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);

function uniform(rng: Rng, n: number, bound: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.next() * 2 - 1) * bound;
  return a;
}

function tensor(dims: number[], data: Float32Array): ConstTensor {
  return { dtype: 'float32', dims, data };
}

function addNode(s: BuildState, op: string, prefix: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs = 1): string[] {
  const name = s.name(prefix);
  const outs = Array.from({ length: outputs }, (_, i) => (i === 0 ? name : `${name}_${i}`));
  const node: Node = { name, op, domain: '', inputs, outputs: outs, attrs };
  s.graph.nodes.push(node);
  return outs;
}

function need(cond: boolean, msg: string): void {
  if (!cond) throw new ArgumentError(msg);
}

export interface Conv2dOptions {
  /** Stride, one value or [h, w]. Default 1. */
  stride?: number | [number, number];
  /** Zero padding, one value or [h, w] (each side). Default 0. */
  pads?: number | [number, number];
  group?: number;
  bias?: boolean;
}

const pair = (v: number | [number, number] | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v);

/** Conv2d(in = current channels, out, kernel k x k). */
export function conv2d(out: number, kernel: number | [number, number], opts: Conv2dOptions = {}): Layer {
  return (s) => {
    need(s.dims.length === 3, `conv2d needs [C, H, W] inputs, the model has [${s.dims.join(', ')}] here`);
    const [C, H, W] = s.dims;
    const [kh, kw] = pair(kernel, 1);
    const [sh, sw] = pair(opts.stride, 1);
    const [ph, pw] = pair(opts.pads, 0);
    const group = opts.group ?? 1;
    need(Number.isInteger(out) && out > 0, `conv2d out channels must be a positive integer, got ${out}`);
    need(C % group === 0 && out % group === 0, `conv2d group ${group} must divide in (${C}) and out (${out}) channels`);
    const OH = Math.floor((H + 2 * ph - kh) / sh) + 1;
    const OW = Math.floor((W + 2 * pw - kw) / sw) + 1;
    need(OH > 0 && OW > 0, `conv2d kernel ${kh}x${kw} does not fit the input [${s.dims.join(', ')}] with pads ${ph},${pw}`);
    const fanIn = (C / group) * kh * kw;
    const bound = 1 / Math.sqrt(fanIn);
    const base = s.name('conv');
    const wName = `${base}.weight`;
    s.graph.initializers.set(wName, tensor([out, C / group, kh, kw], uniform(s.rng, out * fanIn, bound)));
    const inputs = [s.value, wName];
    if (opts.bias ?? true) {
      s.graph.initializers.set(`${base}.bias`, tensor([out], uniform(s.rng, out, bound)));
      inputs.push(`${base}.bias`);
    }
    s.graph.nodes.push({ name: base, op: 'Conv', domain: '', inputs, outputs: [base], attrs: { kernel_shape: ints([kh, kw]), strides: ints([sh, sw]), pads: ints([ph, pw, ph, pw]), group: int(group) } });
    s.value = base;
    s.dims = [out, OH, OW];
  };
}

/** Linear(in = current features, out): ONNX Gemm with transB = 1 (weights [out, in], as torch). */
export function linear(out: number, opts: { bias?: boolean } = {}): Layer {
  return (s) => {
    need(s.dims.length === 1, `linear needs flat [features] inputs, the model has [${s.dims.join(', ')}] here: add flatten() first`);
    need(Number.isInteger(out) && out > 0, `linear out features must be a positive integer, got ${out}`);
    const K = s.dims[0];
    const bound = 1 / Math.sqrt(K);
    const base = s.name('fc');
    s.graph.initializers.set(`${base}.weight`, tensor([out, K], uniform(s.rng, out * K, bound)));
    const inputs = [s.value, `${base}.weight`];
    if (opts.bias ?? true) {
      s.graph.initializers.set(`${base}.bias`, tensor([out], uniform(s.rng, out, bound)));
      inputs.push(`${base}.bias`);
    }
    s.graph.nodes.push({ name: base, op: 'Gemm', domain: '', inputs, outputs: [base], attrs: { transB: int(1) } });
    s.value = base;
    s.dims = [out];
  };
}

/** BatchNormalization over the channel axis (momentum 0.1 and eps 1e-5 as in PyTorch). */
export function batchNorm(opts: { eps?: number; momentum?: number } = {}): Layer {
  return (s) => {
    const C = s.dims[0];
    const base = s.name('bn');
    const p = (suffix: string, v: number) => s.graph.initializers.set(`${base}.${suffix}`, tensor([C], new Float32Array(C).fill(v)));
    p('weight', 1);
    p('bias', 0);
    p('running_mean', 0);
    p('running_var', 1);
    // ONNX momentum is the weight of the old running value: 1 - torch's momentum
    s.graph.nodes.push({ name: base, op: 'BatchNormalization', domain: '', inputs: [s.value, `${base}.weight`, `${base}.bias`, `${base}.running_mean`, `${base}.running_var`], outputs: [base], attrs: { epsilon: float(opts.eps ?? 1e-5), momentum: float(1 - (opts.momentum ?? 0.1)) } });
    s.value = base;
  };
}

function unary(op: string, prefix: string, attrs: Record<string, Attr> = {}): Layer {
  return (s) => {
    s.value = addNode(s, op, prefix, [s.value], attrs)[0];
  };
}

export const relu = (): Layer => unary('Relu', 'relu');
export const leakyRelu = (alpha = 0.01): Layer => unary('LeakyRelu', 'lrelu', { alpha: float(alpha) });
/** ReLU6 as ONNX Clip(0, 6) with attribute bounds (opset < 11) is avoided: the builder writes opset 13 inputs. */
export function relu6(): Layer {
  return (s) => {
    const lo = `${s.name('clip_min')}`;
    const hi = `${s.name('clip_max')}`;
    s.graph.initializers.set(lo, tensor([], new Float32Array([0])));
    s.graph.initializers.set(hi, tensor([], new Float32Array([6])));
    s.value = addNode(s, 'Clip', 'relu6', [s.value, lo, hi])[0];
  };
}

/**
 * (x - mean) / std with constant scalars, inside the model: the model takes raw inputs (pixels in
 * 0..1) and normalises them itself, so a page or a Worker feeds what it has.
 */
export function normalize(mean: number, std: number): Layer {
  need(Number.isFinite(mean) && Number.isFinite(std) && std > 0, `normalize needs a finite mean and a positive std, got ${mean}, ${std}`);
  return (s) => {
    const m = s.name('norm_mean');
    const d = s.name('norm_std');
    s.graph.initializers.set(m, tensor([], new Float32Array([mean])));
    s.graph.initializers.set(d, tensor([], new Float32Array([std])));
    const centred = addNode(s, 'Sub', 'sub', [s.value, m])[0];
    s.value = addNode(s, 'Div', 'div', [centred, d])[0];
  };
}

/** Dropout with probability p (active while training, an identity in inference). */
export function dropout(p = 0.5): Layer {
  need(p >= 0 && p < 1, `dropout probability must be in [0, 1), got ${p}`);
  return (s) => {
    const ratio = s.name('dropout_ratio');
    s.graph.initializers.set(ratio, tensor([], new Float32Array([p])));
    s.value = addNode(s, 'Dropout', 'dropout', [s.value, ratio])[0];
  };
}

function pool(op: 'MaxPool' | 'AveragePool', kernel: number, stride?: number): Layer {
  return (s) => {
    need(s.dims.length === 3, `${op} needs [C, H, W] inputs, the model has [${s.dims.join(', ')}] here`);
    const st = stride ?? kernel;
    const [C, H, W] = s.dims;
    need(kernel <= H && kernel <= W, `${op} kernel ${kernel} is larger than the input ${H}x${W}`);
    s.value = addNode(s, op, op === 'MaxPool' ? 'maxpool' : 'avgpool', [s.value], { kernel_shape: ints([kernel, kernel]), strides: ints([st, st]) })[0];
    s.dims = [C, Math.floor((H - kernel) / st) + 1, Math.floor((W - kernel) / st) + 1];
  };
}

export const maxPool = (kernel: number, stride?: number): Layer => pool('MaxPool', kernel, stride);
export const avgPool = (kernel: number, stride?: number): Layer => pool('AveragePool', kernel, stride);

export function globalAvgPool(): Layer {
  return (s) => {
    need(s.dims.length === 3, `globalAvgPool needs [C, H, W] inputs, the model has [${s.dims.join(', ')}] here`);
    s.value = addNode(s, 'GlobalAveragePool', 'gap', [s.value])[0];
    s.dims = [s.dims[0], 1, 1];
  };
}

export function flatten(): Layer {
  return (s) => {
    s.value = addNode(s, 'Flatten', 'flatten', [s.value], { axis: int(1) })[0];
    s.dims = [size(s.dims)];
  };
}

/**
 * A residual block: y = body(x) + shortcut(x). The shortcut is the identity when the body keeps
 * the dims; otherwise pass `shortcut` layers (e.g. a 1x1 conv with stride and a batchNorm).
 */
export function residual(body: Layer[], shortcut: Layer[] = []): Layer {
  return (s) => {
    const input = s.value;
    const inDims = s.dims;
    for (const l of body) l(s);
    const out = s.value;
    const outDims = s.dims;
    s.value = input;
    s.dims = inDims;
    for (const l of shortcut) l(s);
    need(s.dims.join() === outDims.join(), `residual: the body gives [${outDims.join(', ')}] but the shortcut [${s.dims.join(', ')}]; add shortcut layers that match`);
    s.value = addNode(s, 'Add', 'add', [out, s.value])[0];
  };
}

export interface SequentialOptions {
  /** Weight initialisation seed (default 0). */
  seed?: number;
  inputName?: string;
  outputName?: string;
  /** Name of the symbolic batch dim (default 'N'). */
  batch?: string;
}

/** Builds the graph: input [N, ...sampleDims] → layers → output (the logits). */
export function sequential(sampleDims: readonly number[], layers: Layer[], opts: SequentialOptions = {}): Graph {
  need(sampleDims.length > 0 && sampleDims.every((d) => Number.isInteger(d) && d > 0), `sample dims must be positive integers, got [${sampleDims.join(', ')}]`);
  need(layers.length > 0, 'sequential needs at least one layer');
  const inputName = opts.inputName ?? 'x';
  const batch = opts.batch ?? 'N';
  const graph: Graph = {
    name: 'edgeprune-sequential',
    inputs: [{ name: inputName, dtype: 'float32', dims: [batch, ...sampleDims] }],
    outputs: [],
    nodes: [],
    initializers: new Map(),
    opset: 13,
    valueInfo: new Map(),
  };
  const counts = new Map<string, number>();
  const s: BuildState = {
    graph,
    value: inputName,
    dims: [...sampleDims],
    rng: new Rng(opts.seed ?? 0, 2),
    name(prefix) {
      const n = (counts.get(prefix) ?? 0) + 1;
      counts.set(prefix, n);
      return `${prefix}${n}`;
    },
  };
  for (const l of layers) l(s);
  const outName = opts.outputName ?? 'logits';
  // the last node's output becomes the named graph output
  const last = graph.nodes[graph.nodes.length - 1];
  for (const n of graph.nodes) n.inputs = n.inputs.map((v) => (v === last.outputs[0] ? outName : v));
  last.outputs[0] = outName;
  graph.outputs.push({ name: outName, dtype: 'float32', dims: [batch, ...s.dims] });
  return graph;
}
