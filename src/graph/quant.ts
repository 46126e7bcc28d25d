// Symmetric per-channel int8 weight quantization (pure TS, no wasm): the numbers, the graph
// annotation (ConstTensor.quant, see ir.ts) and the graph pass that applies it.
//
// The representation: a quantized weight stays a float32 ConstTensor whose `data` holds the
// dequantized values, plus `quant: { type: 'int8', axis, scales }`. So every consumer that reads
// floats (passes, pruning, ONNX export, the dense and sparse kernels) keeps working unchanged,
// and the int8 values are implied exactly by data and scales:
//     data[i] = fround(q[i] · scales[c]),   q[i] = roundHalfEven(data[i] / scales[c]) ∈ [-127, 127]
// (c = i's index along `axis`). int8Weights() recovers q from that identity (exact: q · s is
// an integer times a normal float, rounded once) for an int8 kernel; the .epm writer stores q
// and the scales (Encoding.INT8*, with the zeros dropped when that is smaller); the reader
// rebuilds data in one pass. Zeros stay exactly +0, so pruned weights remain pruned.
//
// Conventions:
//  - scale = fround(max|w| / 127) over the channel, so the largest weight maps to ±127; -128 is
//    never used (symmetric), which also keeps the int16-activation dot kernel free of overflow.
//  - an all-zero channel gets scale 1 (a scale is never 0: the artifact refuses zero or NaN
//    scales as corrupt); a channel whose max|w| / 127 is below the smallest normal float
//    (2^-126) gets scale 2^-126, so q · scale never rounds through a subnormal.
//  - rounding is half to even (as ONNX QuantizeLinear and torch.quantize_per_channel).
//  - the error of each weight is at most scale / 2: |w - dequantized| ≤ scales[c] / 2.
import { ArgumentError, ModelFormatError } from '../errors.js';
import type { ConstTensor, Graph, Int8Quant } from './ir.js';

/** The smallest normal float32: scales never go below it. */
export const MIN_SCALE = 2 ** -126;
export const QMAX = 127;

export interface Int8Weights {
  /** The int8 values, in the tensor's own element order. */
  q: Int8Array;
  /** One scale per index along `axis`. */
  scales: Float32Array;
  axis: number;
}

/** Round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // half up
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** [outer, channels, inner] of dims around `axis` (element i's channel is floor(i / inner) % channels). */
export function channelGeometry(dims: readonly number[], axis: number): [number, number, number] {
  if (!Number.isInteger(axis) || axis < 0 || axis >= dims.length) throw new ArgumentError(`quantization axis ${axis} is outside the tensor's rank ${dims.length} (dims [${dims.join(', ')}])`);
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= dims[i];
  for (let i = axis + 1; i < dims.length; i++) inner *= dims[i];
  return [outer, dims[axis], inner];
}

/** The scale of a channel whose largest magnitude is `amax` (see the conventions above). */
export function scaleFor(amax: number): number {
  if (amax === 0) return 1;
  return Math.max(Math.fround(amax / QMAX), MIN_SCALE);
}

/**
 * Quantizes float weights symmetrically per channel along `axis` (default 0, the output
 * channels of a Conv [Cout, Cin/g, KH, KW] or a Gemm transB=1 / torch Linear [N, K]).
 * Throws ArgumentError on NaN or infinite weights (they have no int8 form).
 */
export function quantizeWeightsPerChannel(w: Float32Array, dims: readonly number[], axis = 0): Int8Weights {
  if (!(w instanceof Float32Array)) throw new ArgumentError('quantizeWeightsPerChannel takes the weights as a Float32Array');
  const [outer, C, inner] = channelGeometry(dims, axis);
  if (outer * C * inner !== w.length) throw new ArgumentError(`quantizeWeightsPerChannel: dims [${dims.join(', ')}] need ${outer * C * inner} values, got ${w.length}`);
  const amax = new Float64Array(C);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      let m = amax[c];
      const base = (o * C + c) * inner;
      for (let j = 0; j < inner; j++) {
        const a = Math.abs(w[base + j]);
        if (!(a <= m)) {
          if (!Number.isFinite(a)) throw new ArgumentError(`cannot quantize: weight ${base + j} is ${w[base + j]} (int8 holds finite values only)`);
          m = a;
        }
      }
      amax[c] = m;
    }
  }
  const scales = new Float32Array(C);
  for (let c = 0; c < C; c++) scales[c] = scaleFor(amax[c]);
  for (let c = 0; c < C; c++) {
    // a channel near FLT_MAX could dequantize to Infinity: nothing a real model has
    if (!Number.isFinite(Math.fround(QMAX * scales[c]))) throw new ArgumentError(`cannot quantize: channel ${c} has weights up to ${amax[c]}, too close to the float32 limit`);
  }
  const q = new Int8Array(w.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const s = scales[c];
      const base = (o * C + c) * inner;
      for (let j = 0; j < inner; j++) {
        const v = roundHalfEven(w[base + j] / s);
        q[base + j] = v > QMAX ? QMAX : v < -QMAX ? -QMAX : v;
      }
    }
  }
  return { q, scales, axis };
}

/** The float values int8 weights stand for: fround(q · scales[c]), c along `axis`. */
export function dequantize(q: Int8Array, scales: Float32Array, dims: readonly number[], axis = 0): Float32Array {
  const [outer, C, inner] = channelGeometry(dims, axis);
  if (q.length !== outer * C * inner) throw new ArgumentError(`dequantize: dims [${dims.join(', ')}] need ${outer * C * inner} values, got ${q.length}`);
  if (scales.length !== C) throw new ArgumentError(`dequantize: ${C} channels along axis ${axis} but ${scales.length} scales`);
  const out = new Float32Array(q.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const s = scales[c];
      const base = (o * C + c) * inner;
      for (let j = 0; j < inner; j++) out[base + j] = q[base + j] * s; // exact in double, one rounding on store
    }
  }
  return out;
}

/** A float32 tensor quantized along `axis`: data = the dequantized values, quant = the scales. */
export function quantizeTensor(t: ConstTensor, axis = 0): ConstTensor {
  if (t.dtype !== 'float32' || !(t.data instanceof Float32Array)) throw new ArgumentError(`only float32 tensors can be quantized to int8 (got ${t.dtype})`);
  if (t.quant) {
    if (t.quant.axis !== axis) throw new ArgumentError(`the tensor is already quantized along axis ${t.quant.axis}, not ${axis}`);
    return t;
  }
  const { q, scales } = quantizeWeightsPerChannel(t.data, t.dims, axis);
  return { dtype: 'float32', dims: [...t.dims], data: dequantize(q, scales, t.dims, axis), quant: { type: 'int8', axis, scales } };
}

/** The reason `data` is not q · scale along `axis`, or undefined when it is (checks scales too). */
export function checkQuant(data: Float32Array, dims: readonly number[], quant: Int8Quant, out?: Int8Array): string | undefined {
  if (quant === null || typeof quant !== 'object' || quant.type !== 'int8') return `has an unknown quantization ${JSON.stringify((quant as { type?: unknown })?.type)} (only 'int8')`;
  if (!Number.isInteger(quant.axis) || quant.axis < 0 || quant.axis >= dims.length) return `has quantization axis ${quant.axis}, outside its rank ${dims.length}`;
  const [outer, C, inner] = channelGeometry(dims, quant.axis);
  const scales = quant.scales;
  if (!(scales instanceof Float32Array) || scales.length !== C) return `needs ${C} int8 scales along axis ${quant.axis} but has ${scales instanceof Float32Array ? scales.length : 'no Float32Array of'} scales`;
  for (let c = 0; c < C; c++) if (!(scales[c] > 0 && scales[c] < Infinity)) return `has int8 scale ${scales[c]} for channel ${c} (scales must be positive and finite)`;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const s = scales[c];
      const base = (o * C + c) * inner;
      for (let j = 0; j < inner; j++) {
        const d = data[base + j];
        const v = roundHalfEven(d / s);
        const ok = v === 0 ? Object.is(d, 0) : v >= -QMAX && v <= QMAX && d === Math.fround(v * s);
        if (!ok) return `is marked int8 but element ${base + j} (${Object.is(d, -0) ? '-0' : d}) is not an integer in [-127, 127] times its channel's scale ${s}`;
        if (out) out[base + j] = v;
      }
    }
  }
  return undefined;
}

/**
 * The int8 values of a quantized tensor (ConstTensor.quant set), recovered exactly from its
 * dequantized data: what an int8 kernel packs. Throws ModelFormatError if the annotation does
 * not hold (a pass changed the data but kept `quant`).
 */
export function int8Weights(t: ConstTensor): Int8Weights {
  if (!t.quant) throw new ArgumentError('int8Weights: the tensor is not quantized (no quant annotation)');
  if (!(t.data instanceof Float32Array)) throw new ModelFormatError(`a quantized tensor must hold float32 data, got ${t.data?.constructor?.name}`);
  const q = new Int8Array(t.data.length);
  const why = checkQuant(t.data, t.dims, t.quant, q);
  if (why) throw new ModelFormatError(`the tensor ${why}`);
  return { q, scales: t.quant.scales, axis: t.quant.axis };
}

export interface QuantizeGraphOptions {
  /** Weights with fewer elements stay float (default 64: biases and tiny filters gain nothing). */
  minElements?: number;
  /** Initializer or node names to leave in float. */
  exclude?: readonly string[];
}

export interface QuantizedWeight {
  name: string;
  dims: number[];
  axis: number;
  /** max |w - dequantized| over the tensor (≤ max scale / 2). */
  maxError: number;
}

export interface QuantizeGraphReport {
  quantized: QuantizedWeight[];
  /** Weights left in float, with the reason. */
  skipped: { name: string; reason: string }[];
}

/** The channel axis of each weight input: [op, input index, axis(node)]. */
const WEIGHT_SLOTS: Record<string, { input: number; axis: (attrs: Graph['nodes'][number]['attrs'], rank: number) => number | undefined }> = {
  Conv: { input: 1, axis: () => 0 },
  ConvTranspose: { input: 1, axis: (_, rank) => (rank >= 2 ? 1 : undefined) },
  Gemm: { input: 1, axis: (a) => (a.transB?.kind === 'int' && a.transB.value === 1 ? 0 : 1) },
  MatMul: { input: 1, axis: (_, rank) => (rank === 2 ? 1 : undefined) },
};

/**
 * Marks the constant weights of Conv, ConvTranspose, Gemm and 2-D MatMul int8 (per output
 * channel): their data become the dequantized floats and they carry `quant`. Returns a new Graph
 * (nodes shared, initializers map new); the input graph is not changed. Quantize after pruning:
 * a pruning pass rebuilds the tensors it touches without the annotation.
 */
export function quantizeGraph(g: Graph, opts: QuantizeGraphOptions = {}): { graph: Graph; report: QuantizeGraphReport } {
  const minElements = opts.minElements ?? 64;
  const exclude = new Set(opts.exclude ?? []);
  const axisOf = new Map<string, number | null>(); // null: cannot quantize (conflict or another use)
  const reason = new Map<string, string>();
  const block = (name: string, why: string) => {
    axisOf.set(name, null);
    if (!reason.has(name)) reason.set(name, why);
  };
  const weights = new Set<string>(); // read as a weight at least once: only these are reported
  for (const n of g.nodes) {
    const slot = n.domain === '' ? WEIGHT_SLOTS[n.op] : undefined;
    n.inputs.forEach((x, i) => {
      const t = g.initializers.get(x);
      if (!t) return;
      if (!slot || slot.input !== i) return block(x, `also read by ${n.op} '${n.name}' as input ${i}`);
      weights.add(x);
      if (exclude.has(n.name)) return block(x, `node '${n.name}' is excluded`);
      const axis = slot.axis(n.attrs, t.dims.length);
      if (axis === undefined) return block(x, `${n.op} weights of rank ${t.dims.length}`);
      const prev = axisOf.get(x);
      if (prev === null) return;
      if (prev !== undefined && prev !== axis) return block(x, 'used with two different channel axes');
      axisOf.set(x, axis);
    });
  }
  for (const o of g.outputs) if (axisOf.has(o.name)) block(o.name, 'is a graph output');
  const initializers = new Map(g.initializers);
  const report: QuantizeGraphReport = { quantized: [], skipped: [] };
  for (const [name, axis] of axisOf) {
    const t = g.initializers.get(name)!;
    if (!weights.has(name)) continue;
    if (axis === null) report.skipped.push({ name, reason: reason.get(name)! });
    else if (exclude.has(name)) report.skipped.push({ name, reason: 'excluded' });
    else if (t.dtype !== 'float32') report.skipped.push({ name, reason: `dtype ${t.dtype}` });
    else if (t.data.length < minElements) report.skipped.push({ name, reason: `${t.data.length} elements, under minElements ${minElements}` });
    else {
      const qt = quantizeTensor(t, axis);
      let maxError = 0;
      const a = t.data as Float32Array;
      const b = qt.data as Float32Array;
      for (let i = 0; i < a.length; i++) maxError = Math.max(maxError, Math.abs(a[i] - b[i]));
      initializers.set(name, qt);
      report.quantized.push({ name, dims: [...t.dims], axis, maxError });
    }
  }
  return { graph: { ...g, initializers }, report };
}
