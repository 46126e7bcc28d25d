// Folds an inference BatchNormalization into the Conv, ConvTranspose or Gemm that feeds it:
//   s = gamma / sqrt(var + eps),  W'[c] = W[c] * s[c],  b'[c] = (b[c] - mean[c]) * s[c] + beta[c]
// The result is plain ONNX (the layer gains or changes its bias), so export stays simple.
import { attrFloat, attrInt } from '../attrs.js';
import type { ConstTensor, Graph, Node } from '../ir.js';
import { toNumbers } from '../tensor.js';

function floats(t: ConstTensor | undefined): Float32Array | Float64Array | undefined {
  if (!t || (t.dtype !== 'float32' && t.dtype !== 'float64' && t.dtype !== 'float16')) return undefined;
  if (t.data instanceof Float32Array || t.data instanceof Float64Array) return t.data;
  return Float64Array.from(toNumbers(t));
}

function uniqueName(g: Graph, base: string): string {
  let name = base;
  for (let i = 1; g.initializers.has(name); i++) name = `${base}_${i}`;
  return name;
}

/** Per-output-channel index of each weight element, for the layer kinds we fold into. */
function channelOf(p: Node, w: ConstTensor): ((i: number) => number) | undefined {
  const inner = w.dims.slice(2).reduce((a, b) => a * b, 1);
  if (p.op === 'Conv') return (i) => Math.floor(i / (w.dims[1] * inner));
  if (p.op === 'ConvTranspose') {
    const group = attrInt(p, 'group', 1);
    const cinG = w.dims[0] / group;
    const coutG = w.dims[1];
    return (i) => {
      const ci = Math.floor(i / (coutG * inner));
      const j = Math.floor(i / inner) % coutG;
      return Math.floor(ci / cinG) * coutG + j;
    };
  }
  if (p.op === 'Gemm') {
    if (attrFloat(p, 'alpha', 1) !== 1 || attrFloat(p, 'beta', 1) !== 1) return undefined;
    const N = attrInt(p, 'transB', 0) ? w.dims[0] : w.dims[1];
    return attrInt(p, 'transB', 0) ? (i) => Math.floor(i / w.dims[1]) : (i) => i % N;
  }
  return undefined;
}

export function foldBatchNorm(g: Graph): Graph {
  const consumers = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const outputs = new Set(g.outputs.map((o) => o.name));
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const initializers = new Map(g.initializers);
  const out: Graph = { ...g, initializers };
  const removed = new Set<Node>();
  const replaced = new Map<Node, Node>();

  for (const bn of g.nodes) {
    if (bn.op !== 'BatchNormalization' || attrInt(bn, 'training_mode', 0) || bn.outputs.slice(1).some((o) => o !== '')) continue;
    const x = bn.inputs[0];
    const p0 = producer.get(x);
    const p = p0 && (replaced.get(p0) ?? p0);
    if (!p || !['Conv', 'ConvTranspose', 'Gemm'].includes(p.op) || consumers.get(x) !== 1 || outputs.has(x) || p.outputs.length !== 1) continue;
    const w = initializers.get(p.inputs[1]);
    const [gamma, beta, mean, variance] = bn.inputs.slice(1, 5).map((n) => floats(initializers.get(n)));
    if (!w || !gamma || !beta || !mean || !variance || !floats(w)) continue;
    const channel = channelOf(p, w);
    if (!channel) continue;
    const C = gamma.length;
    const bias0 = p.inputs[2] ? floats(initializers.get(p.inputs[2])) : new Float64Array(C);
    if (!bias0 || bias0.length !== C || beta.length !== C || mean.length !== C || variance.length !== C) continue;
    const eps = attrFloat(bn, 'epsilon', 1e-5);
    const s = gamma.map((v, c) => v / Math.sqrt(variance[c] + eps));
    const wv = floats(w)!;
    const w2 = new Float32Array(wv.length);
    if (p.op === 'Conv' && wv.length % C === 0) {
      // output channel c owns one contiguous block: no per-element index arithmetic
      const block = wv.length / C;
      for (let c = 0; c < C; c++) for (let j = c * block; j < (c + 1) * block; j++) w2[j] = wv[j] * s[c];
    } else {
      for (let i = 0; i < wv.length; i++) w2[i] = wv[i] * s[channel(i)];
    }
    const b2 = new Float32Array(C);
    for (let c = 0; c < C; c++) b2[c] = (bias0[c] - mean[c]) * s[c] + beta[c];
    const wName = uniqueName(out, `${p.inputs[1]}_bn`);
    const bName = uniqueName(out, `${p.name}_bias_bn`);
    initializers.set(wName, { dtype: 'float32', dims: [...w.dims], data: w2 });
    initializers.set(bName, { dtype: 'float32', dims: [C], data: b2 });
    const inputs = [...p.inputs];
    inputs[1] = wName;
    inputs[2] = bName;
    const folded: Node = { ...p, inputs, outputs: [bn.outputs[0]] };
    replaced.set(p0!, folded);
    removed.add(bn);
  }
  if (removed.size === 0) return g;
  out.nodes = g.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n);
  // weights that only the folded layers used are now dead
  const used = new Set(out.nodes.flatMap((n) => n.inputs));
  for (const name of [...initializers.keys()]) if (!used.has(name) && !out.outputs.some((o) => o.name === name)) initializers.delete(name);
  return out;
}
