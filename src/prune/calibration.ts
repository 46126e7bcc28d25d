// Activation statistics for activation-aware pruning (Wanda): the L2 norm of every input feature
// of every prunable layer over calibration data, collected by running the model with the layers'
// inputs exposed as extra outputs.
import { ArgumentError } from '../errors.js';
import type { Graph } from '../graph/ir.js';
import { InferenceSession } from '../runtime/session.js';
import type { Tensor } from '../runtime/tensor.js';
import { binary } from '../kernels/eltwise.js';
import { reduce } from '../kernels/reduce.js';

const LAYERS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

/**
 * Per prunable layer (by node name), the L2 norm of each input feature over all calibration
 * samples: for Conv the features are (channel, kh, kw) and every kernel tap of a channel shares the
 * channel's norm (over batch and positions); for Gemm/MatMul the features are the K inputs.
 * `feeds` are batches for the graph's inputs.
 */
export async function collectActivationNorms(graph: Graph, feeds: Record<string, Tensor>[]): Promise<Map<string, Float32Array>> {
  if (!feeds.length) throw new ArgumentError('activation-aware pruning needs calibration data: pass at least one batch of inputs');
  const layers = graph.nodes.filter((n) => LAYERS.has(n.op) && graph.initializers.has(n.inputs[1]));
  const taps = [...new Set(layers.map((n) => n.inputs[0]))].filter((v) => !graph.outputs.some((o) => o.name === v));
  const probe: Graph = { ...graph, outputs: [...graph.outputs, ...taps.map((name) => ({ name, dtype: 'float32' as const }))] };
  const session = await InferenceSession.fromGraph(probe);
  const sums = new Map<string, Float64Array>();
  try {
    for (const batch of feeds) {
      const out = await session.run(batch);
      for (const name of new Set(layers.map((n) => n.inputs[0]))) {
        const t = out[name] ?? batch[name];
        if (!t) continue;
        // feature axis: 1 for NCHW activations and for [N, K] matrices; the last axis for [.., K] MatMul inputs
        const dims = t.dims;
        const axis = dims.length === 2 || dims.length >= 3 && layers.some((l) => l.inputs[0] === name && l.op !== 'MatMul') ? 1 : dims.length - 1;
        const C = dims[axis];
        // sum of squares over every axis but the feature axis, in the kernels
        const sq = binary(session.kernels, 'mul', t.data, dims, t.data, dims);
        const axes = dims.map((_, i) => i).filter((i) => i !== axis);
        const per = axes.length ? reduce(session.kernels, 'sum', sq.data, sq.dims, { axes, keepdims: false }).data : sq.data;
        const acc = sums.get(name) ?? new Float64Array(C);
        for (let c = 0; c < C; c++) acc[c] += per[c];
        sums.set(name, acc);
      }
    }
  } finally {
    await session.release();
  }
  const result = new Map<string, Float32Array>();
  for (const n of layers) {
    const acc = sums.get(n.inputs[0]);
    if (!acc) continue;
    const w = graph.initializers.get(n.inputs[1])!;
    const taps = n.op === 'Conv' ? w.dims.slice(2).reduce((a, b) => a * b, 1) : 1;
    const norms = new Float32Array(acc.length * taps);
    for (let c = 0; c < acc.length; c++) norms.fill(Math.sqrt(acc[c]), c * taps, (c + 1) * taps);
    result.set(n.name, norms);
  }
  return result;
}
