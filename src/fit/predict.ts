// Resource predictions for a plan, cheap enough to evaluate for every candidate move of the
// solver. Each is a model of what the real measurement will say, anchored on the dense model's
// measured values and corrected by measured/predicted ratios once a candidate has been
// measured (fit.ts). The written file and the session are the judges; these only steer.
//  - size: exact payload arithmetic of the .epm encodings (tensor-encode.ts: dense, bitmask,
//    u16 deltas, u32 indices, each with int8 values + scales) or 4 bytes per float in ONNX, per
//    initializer, whose dims shrink with the kept share of each group indexing an axis; plus the
//    dense file's overhead (header, graph, table).
//  - FLOPs: each node's FLOPs in the dense session, scaled by the kept share of its input and
//    output channels (exact for the runtime's dense FLOP count).
//  - memory: the activation arena estimated by replaying value lifetimes over the graph (scaled
//    to the dense session's measured arena), plus packed weight bytes proportional to the float
//    elements left (sparse and int8 packing are not credited: conservative).
//  - latency: the dense latency scaled by predicted layer time (FLOPs × the sparse kernels'
//    speed-up at the layer's density), with a tenth of the dense time held fixed.
import { effectiveSparsity, type Analysis } from './analysis.js';
import type { Plan } from './apply.js';
import type { BudgetKind } from './budget.js';

export type Resources = Record<BudgetKind, number>;

export interface DenseMeasure {
  bytes: number;
  arenaBytes: number;
  weightBytes: number;
  latencyMs: number;
  flops: number;
  /** FLOPs per node name in the dense session. */
  nodeFlops: Map<string, number>;
}

const align4 = (n: number) => Math.ceil(n / 4) * 4;
const align16 = (n: number) => Math.ceil(n / 16) * 16;

/** Payload bytes of a float tensor of n elements with nnz non-zeros, int8 with C scales or not (the smallest encoding, as the .epm writer picks). */
export function epmTensorBytes(n: number, nnz: number, int8C?: number): number {
  if (int8C !== undefined) return 4 * int8C + Math.min(n, align4(Math.ceil(n / 8)) + nnz, align4(2 * nnz) + nnz, 5 * nnz);
  return Math.min(4 * n, align4(Math.ceil(n / 8)) + 4 * nnz, align4(2 * nnz) + 4 * nnz, 8 * nnz);
}

const VIEWS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout']);
const ELEMENTWISE = new Set([
  'Relu', 'LeakyRelu', 'Clip', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Exp', 'Log', 'Sqrt', 'Neg', 'Abs', 'Erf',
  'Softplus', 'Elu', 'Selu', 'Celu', 'Softsign', 'Sign', 'Floor', 'Ceil', 'Round', 'Reciprocal', 'Mish', 'ThresholdedRelu', 'Gelu',
  'PRelu', 'Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Pow', 'BatchNormalization',
]);

/** Buffers of the activation arena (values sharing one), with the steps they live over (-1: before the first). */
function arenaBuffers(a: Analysis, last: Map<string, number>): { values: string[]; from: number; to: number }[] {
  const buffers: { values: string[]; from: number; to: number }[] = [];
  const of = new Map<string, number>();
  const end = a.base.nodes.length;
  const add = (v: string, from: number) => {
    buffers.push({ values: [v], from, to: Math.max(from, last.get(v) ?? from) });
    of.set(v, buffers.length - 1);
  };
  const join = (v: string, b: number) => {
    buffers[b].values.push(v);
    buffers[b].to = Math.max(buffers[b].to, last.get(v) ?? -1);
    of.set(v, b);
  };
  for (const inp of a.base.inputs) add(inp.name, -1);
  a.base.nodes.forEach((n, i) => {
    n.outputs.forEach((o, j) => {
      if (!o || !a.values.has(o)) return;
      const x = n.inputs[0];
      if (j === 0 && VIEWS.has(n.op) && x && of.has(x)) return join(o, of.get(x)!);
      if (j === 0 && ELEMENTWISE.has(n.op)) {
        const same = n.inputs.find((v) => v && of.has(v) && a.values.get(v)?.elements === a.values.get(o)?.elements && buffers[of.get(v)!].to === i && buffers[of.get(v)!].from >= 0);
        if (same) return join(o, of.get(same)!);
      }
      add(o, i);
    });
  });
  for (const b of buffers) b.to = Math.min(b.to, end);
  return buffers;
}

/** Scratch bytes of each conv with a kernel larger than 1x1 at the dense dims: its padded input (the direct and depthwise kernels), or its im2col columns when larger. */
function convScratch(a: Analysis): { step: number; input: string; bytes: number }[] {
  const out: { step: number; input: string; bytes: number }[] = [];
  a.base.nodes.forEach((n, i) => {
    if (n.op !== 'Conv') return;
    const x = a.dep.dims.get(n.inputs[0]);
    const y = a.dep.dims.get(n.outputs[0]);
    const w = a.base.initializers.get(n.inputs[1]);
    if (!x || !y || !w || x.length !== 4 || y.length !== 4 || w.dims.length !== 4) return;
    const [KH, KW] = [w.dims[2], w.dims[3]];
    if (KH * KW === 1) return;
    const p = n.attrs.pads?.kind === 'ints' ? n.attrs.pads.value : [0, 0, 0, 0];
    const padded = x[1] * (x[2] + (p[0] ?? 0) + (p[2] ?? 0)) * (x[3] + (p[1] ?? 0) + (p[3] ?? 0));
    const im2col = w.dims[1] * KH * KW * y[2] * y[3];
    out.push({ step: i, input: n.inputs[0], bytes: 4 * Math.max(padded, n.attrs.group?.kind === 'int' && n.attrs.group.value > 1 ? 0 : im2col) });
  });
  return out;
}

export class Predictor {
  /** measured / predicted per kind, updated after each real measurement. */
  readonly correction: Resources = { size: 1, memory: 1, latency: 1, flops: 1 };
  private readonly overhead: number;
  private readonly arenaScale: number;
  private readonly floatDense: number;
  private readonly flopsDense: number;
  private readonly buffers: { values: string[]; from: number; to: number }[];
  private readonly scratch: { step: number; input: string; bytes: number }[];
  private readonly order: { node: string; outputs: string[]; lastUses: string[]; layer?: number; grouped: boolean; input?: string }[];

  constructor(private readonly a: Analysis, readonly format: 'epm' | 'onnx', private readonly dense: DenseMeasure) {
    const plan = { group: a.groups.map(() => 0), sparsity: a.layers.map(() => 0), int8: a.layers.map(() => false) };
    // lifetimes: the last node reading each value
    const last = new Map<string, number>();
    a.base.nodes.forEach((n, i) => n.inputs.forEach((v) => v && a.values.has(v) && last.set(v, i)));
    for (const o of a.base.outputs) last.set(o.name, a.base.nodes.length);
    const layerOf = new Map(a.layers.map((l) => [l.name, l.index]));
    this.order = a.base.nodes.map((n, i) => ({
      node: n.name,
      outputs: n.outputs.filter((v) => v && a.values.has(v)),
      lastUses: [...new Set(n.inputs.filter((v) => v && last.get(v) === i))],
      layer: layerOf.get(n.name),
      grouped: n.op === 'Conv' && (n.attrs.group?.kind === 'int' ? n.attrs.group.value : 1) > 1,
      input: n.inputs[0],
    }));
    this.buffers = arenaBuffers(a, last);
    this.scratch = convScratch(a);
    this.overhead = dense.bytes - this.rawBytes(plan);
    const est = this.rawArena(plan);
    this.arenaScale = est > 0 ? dense.arenaBytes / est : 1;
    this.floatDense = this.floatElements(plan);
    this.flopsDense = dense.flops;
  }

  /** Kept share of a value's channels under the plan. */
  fraction(value: string, plan: Plan): number {
    const v = this.a.values.get(value);
    if (!v || !v.channels || !v.byGroup.length) return 1;
    let kept = v.channels;
    for (const { group, count } of v.byGroup) {
      const g = this.a.groups[group];
      kept -= count * (1 - g.levels[plan.group[group]].keep / g.total);
    }
    return kept / v.channels;
  }

  private elements(i: Analysis['inits'][number], plan: Plan): number {
    let n = i.numel;
    for (const ax of i.axes) n *= this.fraction(ax.value, plan);
    return Math.round(n);
  }

  private rawBytes(plan: Plan): number {
    let total = 0;
    for (const i of this.a.inits) {
      const n = this.elements(i, plan);
      if (this.format === 'onnx' || !i.isFloat) {
        total += n * i.bytesPerElement;
        continue;
      }
      const l = i.layer !== undefined ? this.a.layers[i.layer] : undefined;
      const s = l ? effectiveSparsity(l, plan) : 0;
      const nnz = n - Math.round(s * n);
      let C: number | undefined;
      if (l && plan.int8[l.index] && l.quantAxis !== undefined) {
        const ax = i.axes.find((x) => x.axis === l.quantAxis);
        C = Math.round(i.dims[l.quantAxis] * (ax ? this.fraction(ax.value, plan) : 1));
      }
      total += align16(epmTensorBytes(n, nnz, C));
    }
    return total;
  }

  private floatElements(plan: Plan): number {
    let n = 0;
    for (const i of this.a.inits) if (i.isFloat) n += this.elements(i, plan);
    return n;
  }

  /**
   * The largest sum of live buffer sizes over the graph, with the planner's sharing: reshapes are
   * views of their input, element-wise ops write into an input that dies with them.
   */
  private rawArena(plan: Plan): number {
    const sizes = this.buffers.map((b) => Math.max(...b.values.map((v) => (this.a.values.get(v)?.elements ?? 0) * this.fraction(v, plan))) * 4);
    // steps -1 .. N (N: after the last node, for graph outputs) at indices 0 .. N + 1
    const delta = new Float64Array(this.a.base.nodes.length + 3);
    this.buffers.forEach((b, i) => {
      delta[b.from + 1] += sizes[i];
      delta[b.to + 2] -= sizes[i];
    });
    // a conv's scratch (a padded copy of its input, or im2col columns) lives during its step
    for (const sc of this.scratch) {
      const bytes = sc.bytes * this.fraction(sc.input, plan);
      delta[sc.step + 1] += bytes;
      delta[sc.step + 2] -= bytes;
    }
    let live = 0;
    let peak = 0;
    for (const d of delta) {
      live += d;
      peak = Math.max(peak, live);
    }
    return peak;
  }

  private nodeScale(step: Predictor['order'][number], plan: Plan): number {
    const out = step.outputs[0] ? this.fraction(step.outputs[0], plan) : 1;
    if (step.layer === undefined || step.grouped || !step.input) return out;
    return out * this.fraction(step.input, plan);
  }

  private rawFlops(plan: Plan, timed: boolean): number {
    let total = 0;
    for (const step of this.order) {
      const f = this.dense.nodeFlops.get(step.node) ?? 0;
      if (!f) continue;
      let t = f * this.nodeScale(step, plan);
      if (timed && step.layer !== undefined) {
        const l = this.a.layers[step.layer];
        const d = 1 - effectiveSparsity(l, plan);
        // the sparse kernels' rough speed: chosen by the runtime below ~40% density
        if (d < 0.4) t *= Math.max(0.12, 2.2 * d);
      }
      total += t;
    }
    return total;
  }

  /** Predicted resources of a plan (corrected by the measurements so far). */
  resources(plan: Plan, kinds: readonly BudgetKind[] = ['size', 'memory', 'latency', 'flops']): Resources {
    const r: Resources = { size: 0, memory: 0, latency: 0, flops: 0 };
    for (const kind of kinds) {
      if (kind === 'size') r.size = (this.overhead + this.rawBytes(plan)) * this.correction.size;
      else if (kind === 'flops') r.flops = this.rawFlops(plan, false) * this.correction.flops;
      else if (kind === 'memory') {
        const arena = this.rawArena(plan) * this.arenaScale;
        const weights = this.floatDense > 0 ? (this.dense.weightBytes * this.floatElements(plan)) / this.floatDense : 0;
        r.memory = (arena + weights) * this.correction.memory;
      } else {
        const share = this.flopsDense > 0 ? this.rawFlops(plan, true) / this.flopsDense : 1;
        r.latency = this.dense.latencyMs * (0.1 + 0.9 * share) * this.correction.latency;
      }
    }
    return r;
  }

  /** Folds a real measurement of `plan` into the corrections. */
  calibrate(plan: Plan, measured: Resources, kinds: readonly BudgetKind[]): void {
    for (const kind of kinds) {
      const predicted = this.resources(plan, [kind])[kind];
      if (predicted > 0 && measured[kind] > 0) this.correction[kind] *= measured[kind] / predicted;
    }
  }
}
