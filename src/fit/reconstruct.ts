// Accuracy recovery without training, for the layers that read pruned channels:
//
//  - least-squares reconstruction (ThiNet; He et al. 2017, "Channel pruning for accelerating very
//    deep neural networks"): refit the consumer's weights on the channels that remain so its
//    output matches the unpruned model's. With X the consumer's input features in the pruned
//    model (im2col columns for a conv, plus a row of ones for the bias) and Y its output in the
//    dense model, solve the ridge problem
//        min ‖W·X − Y‖² + λ‖W − W₀‖²   ⇔   (XXᵀ + λI)·Wᵀ = XYᵀ + λW₀ᵀ
//    by Cholesky in float64 (assembly/linalg.ts). The ridge pulls toward W₀, the magnitude-pruned
//    weights, not toward zero: with fewer calibration positions than unknowns (a wide Gemm after a
//    Flatten) the problem is underdetermined and the solution stays at W₀ in the directions the
//    data does not see. λ = α·mean(diag XXᵀ), α picked from a grid on held-out calibration
//    samples (every fifth), so the refit never does worse than W₀ on data it was not fitted to.
//  - bias compensation (FLAP, An et al. 2024): the removed inputs' mean contribution
//    Σ_removed W[o, f]·mean(x_f) is folded into the bias: the output keeps its mean.
//
// XXᵀ and XYᵀ are GEMMs in wasm (the packed f32 kernel) accumulated in float64 per batch.
import { ArgumentError } from '../errors.js';
import type { ConstTensor, Graph, Node } from '../graph/ir.js';
import type { Tensor } from '../runtime/tensor.js';
import type { Kernels } from '../wasm/kernels.js';
import type { ConsumerInfo } from './analysis.js';
import { choleskySolve, gemmF64, GramAccumulator } from './linalg.js';
import type { CalibRunner } from './runner.js';

export type Recovery = 'reconstruct' | 'bias' | 'none';

/** Ridge strengths tried (relative to the mean feature energy). */
export const ALPHAS = [1e-4, 1e-3, 1e-2, 1e-1, 1];

/** Feature statistics of one layer's input (and, with products, its targets). */
export interface LayerStats {
  c: ConsumerInfo;
  /** Input features (without the ones row). */
  features: number;
  /** A ones row was appended (index `features`). */
  bias: boolean;
  /** Output channels of Y (all of the target graph's). */
  outs: number;
  fit: GramAccumulator;
  /** Held-out samples (every fifth), when there are enough of them. */
  val?: GramAccumulator;
}

export interface StatsRequest {
  c: ConsumerInfo;
  /** Form XXᵀ and XYᵀ (least squares); false: the feature means only (bias compensation). */
  products: boolean;
}

/** Output spatial dims and the leading pads of a conv consumer on an input of H×W. */
function convGeometry(c: ConsumerInfo, H: number, W: number): { OH: number; OW: number; pt: number; pl: number } {
  const g = c.conv!;
  const out = (size: number, k: number, s: number, d: number, p0: number, p1: number) => Math.floor((size + p0 + p1 - d * (k - 1) - 1) / s) + 1;
  if (g.autoPad === 'SAME_UPPER' || g.autoPad === 'SAME_LOWER') {
    const OH = Math.ceil(H / g.sh);
    const OW = Math.ceil(W / g.sw);
    const th = Math.max(0, (OH - 1) * g.sh + (g.KH - 1) * g.dh + 1 - H);
    const tw = Math.max(0, (OW - 1) * g.sw + (g.KW - 1) * g.dw + 1 - W);
    const first = (t: number) => (g.autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : Math.ceil(t / 2));
    return { OH, OW, pt: first(th), pl: first(tw) };
  }
  if (g.autoPad === 'VALID') return { OH: out(H, g.KH, g.sh, g.dh, 0, 0), OW: out(W, g.KW, g.sw, g.dw, 0, 0), pt: 0, pl: 0 };
  const [pt, pl, pb, pr] = g.pads;
  return { OH: out(H, g.KH, g.sh, g.dh, pt, pb), OW: out(W, g.KW, g.sw, g.dw, pl, pr), pt, pl };
}

const isVal = (sample: number) => sample % 5 === 4;

/**
 * Runs `gx` (features: each request's input) and, for products, `gy` (targets: each request's
 * output) over the first `samples` calibration samples and accumulates every request's stats.
 */
export async function collectStats(k: Kernels, runner: CalibRunner, gx: Graph, gy: Graph | undefined, reqs: readonly StatsRequest[], samples: number): Promise<Map<string, LayerStats>> {
  const stats = new Map<string, LayerStats>();
  if (reqs.length === 0) return stats;
  const products = reqs.some((r) => r.products);
  if (products && !gy) throw new ArgumentError('collectStats: least squares needs the target graph');
  const n = Math.min(samples, runner.n);
  const validation = Math.floor(n / 5) >= 2;
  // features and targets from one graph (sensitivity: both dense) need one session
  const same = !products || gy === gx;
  const targets = reqs.filter((r) => r.products).map((r) => r.c.output);
  const runs = [{ graph: gx, extras: same ? [...reqs.map((r) => r.c.input), ...targets] : reqs.map((r) => r.c.input), only: true }];
  if (!same) runs.push({ graph: gy!, extras: targets, only: true });
  await runner.forEachMany(runs, n, (outs, start, real) => {
    for (const r of reqs) {
      const x = outs[0][r.c.input];
      const y = r.products ? outs[same ? 0 : 1][r.c.output] : undefined;
      let st = stats.get(r.c.node.name);
      if (!st) {
        const features = x.dims[1] * r.c.taps;
        const bias = r.products && r.c.canBias;
        const outs = y ? y.dims[1] : 0;
        const f = features + (bias ? 1 : 0);
        st = { c: r.c, features, bias, outs, fit: new GramAccumulator(k, f, Math.max(outs, 1), r.products), val: validation && r.products ? new GramAccumulator(k, f, Math.max(outs, 1), true) : undefined };
        stats.set(r.c.node.name, st);
      }
      accumulate(k, st, x, y, start, real);
    }
  });
  return stats;
}

/** Adds one batch: A [f, P] and Yt [outs, P] built in wasm, fit samples' columns first, then held-out ones. */
function accumulate(k: Kernels, st: LayerStats, x: Tensor, y: Tensor | undefined, start: number, real: number): void {
  const { c } = st;
  const f = st.features + (st.bias ? 1 : 0);
  const order: number[] = [];
  for (let s = 0; s < real; s++) if (!(st.val && isVal(start + s))) order.push(s);
  const nFit = order.length;
  for (let s = 0; s < real; s++) if (st.val && isVal(start + s)) order.push(s);
  const xd = x.dims;
  const per = c.kind === 'conv' ? (() => {
    const g = convGeometry(c, xd[2], xd[3]);
    return { ...g, OHW: g.OH * g.OW };
  })() : undefined;
  const cols = per ? per.OHW : 1;
  // chunks of samples so that A stays around 16 MB
  const chunk = Math.max(1, Math.floor(4e6 / (f * cols)));
  const xPtr = c.kind === 'conv' ? k.upload(x.data) : 0;
  try {
    for (let c0 = 0; c0 < order.length; c0 += chunk) {
      const part = order.slice(c0, c0 + chunk);
      const fitHere = Math.max(0, Math.min(nFit - c0, part.length));
      const P = part.length * cols;
      const a = k.allocF32(f * P);
      const yt = y ? k.allocF32(st.outs * P) : 0;
      try {
        const mem = k.f32;
        if (per) {
          const [, C, H, W] = xd;
          const g = c.conv!;
          part.forEach((s, j) => {
            k.fn.im2col_ld(xPtr + s * C * H * W * 4, C, H, W, g.KH, g.KW, g.sh, g.sw, per.pt, per.pl, g.dh, g.dw, per.OH, per.OW, a + j * cols * 4, P);
          });
        } else {
          const K = xd[1];
          const base = a >> 2;
          part.forEach((s, j) => {
            for (let i = 0; i < K; i++) mem[base + i * P + j] = x.data[s * K + i];
          });
        }
        if (st.bias) k.f32.fill(1, (a >> 2) + st.features * P, (a >> 2) + (st.features + 1) * P);
        if (y) {
          const outs = st.outs;
          const ybase = yt >> 2;
          const view = k.f32;
          part.forEach((s, j) => {
            for (let o = 0; o < outs; o++) view.set(y.data.subarray((s * outs + o) * cols, (s * outs + o + 1) * cols), ybase + o * P + j * cols);
          });
        }
        const pf = fitHere * cols;
        if (pf > 0) st.fit.add(a, yt, pf, P);
        if (P - pf > 0) st.val!.add(a + pf * 4, yt ? yt + pf * 4 : 0, P - pf, P);
      } finally {
        k.free(a, yt);
      }
    }
  } finally {
    k.free(xPtr);
  }
}

/** Feature means (fit and held-out samples together). */
export function featureMeans(st: LayerStats): Float64Array {
  const n = st.fit.positions + (st.val?.positions ?? 0);
  const m = new Float64Array(st.features);
  for (let i = 0; i < st.features; i++) m[i] = (st.fit.sums[i] + (st.val?.sums[i] ?? 0)) / Math.max(1, n);
  return m;
}

/** A consumer's effective weights in least-squares orientation: W [f, outs] (W[f][o] multiplies feature f into output o) and bias [outs]. */
export interface LsWeights {
  W: Float64Array;
  b: Float64Array;
  f: number;
  outs: number;
}

export function readConsumer(graph: Graph, c: ConsumerInfo): LsWeights {
  const node = graph.nodes.find((n) => n.name === c.node.name)!;
  const t = graph.initializers.get(node.inputs[1])!;
  const w = t.data as Float32Array;
  let f: number;
  let outs: number;
  const W = (() => {
    if (c.kind === 'conv') {
      outs = t.dims[0];
      f = w.length / outs;
      const out = new Float64Array(f * outs);
      for (let o = 0; o < outs; o++) for (let i = 0; i < f; i++) out[i * outs + o] = w[o * f + i];
      return out;
    }
    if (c.transposed) {
      [outs, f] = t.dims;
      const out = new Float64Array(f * outs);
      for (let o = 0; o < outs; o++) for (let i = 0; i < f; i++) out[i * outs + o] = c.alpha * w[o * f + i];
      return out;
    }
    [f, outs] = t.dims;
    return Float64Array.from(w, (v) => c.alpha * v);
  })();
  const b = new Float64Array(outs!);
  const bt = node.inputs[2] ? graph.initializers.get(node.inputs[2]) : undefined;
  if (bt) for (let o = 0; o < outs!; o++) b[o] = (c.kind === 'conv' ? 1 : c.beta) * (bt.data as Float32Array)[bt.data.length === 1 ? 0 : o];
  return { W, b, f: f!, outs: outs! };
}

/** Writes effective weights back (the inverse of readConsumer); a bias is added when the layer had none. */
export function writeConsumer(graph: Graph, c: ConsumerInfo, ls: LsWeights, withBias: boolean): Graph {
  const idx = graph.nodes.findIndex((n) => n.name === c.node.name);
  const node = graph.nodes[idx];
  const t = graph.initializers.get(node.inputs[1])!;
  const { W, f, outs } = ls;
  const data = new Float32Array(t.data.length);
  if (c.kind === 'conv' || c.transposed) {
    const s = c.kind === 'conv' ? 1 : 1 / c.alpha;
    for (let o = 0; o < outs; o++) for (let i = 0; i < f; i++) data[o * f + i] = W[i * outs + o] * s;
  } else {
    for (let i = 0; i < W.length; i++) data[i] = W[i] / c.alpha;
  }
  const initializers = new Map(graph.initializers);
  initializers.set(node.inputs[1], { dtype: 'float32', dims: [...t.dims], data });
  let next: Node = node;
  if (withBias) {
    const scale = c.kind === 'conv' ? 1 : 1 / c.beta;
    const bias = Float32Array.from(ls.b, (v) => v * scale);
    const old = node.inputs[2] ? graph.initializers.get(node.inputs[2]) : undefined;
    if (node.inputs[2] && old) {
      initializers.set(node.inputs[2], { dtype: 'float32', dims: old.data.length === outs ? [...old.dims] : [outs], data: bias });
    } else {
      let name = `${node.name}_bias`;
      while (graph.initializers.has(name)) name += '_';
      initializers.set(name, { dtype: 'float32', dims: [outs], data: bias });
      next = { ...node, inputs: [node.inputs[0], node.inputs[1], name] };
    }
  }
  const nodes = next === node ? graph.nodes : graph.nodes.map((n, i) => (i === idx ? next : n));
  return { ...graph, nodes, initializers };
}

function subMatrix(G: Float64Array, n: number, sel: readonly number[]): Float64Array {
  const m = sel.length;
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    const row = sel[i] * n;
    for (let j = 0; j < m; j++) out[i * m + j] = G[row + sel[j]];
  }
  return out;
}

function subRhs(H: Float64Array, cTotal: number, sel: readonly number[], cols: readonly number[]): Float64Array {
  const out = new Float64Array(sel.length * cols.length);
  for (let i = 0; i < sel.length; i++) for (let j = 0; j < cols.length; j++) out[i * cols.length + j] = H[sel[i] * cTotal + cols[j]];
  return out;
}

export interface LsProblem {
  st: LayerStats;
  /** Rows of the stats' features used (the kept features, then the ones row when fitting a bias). */
  sel: number[];
  /** Columns of Y (the kept outputs). */
  cols: number[];
  /** W₀ restricted to sel × cols (the bias row last when sel ends with it). */
  prior: Float64Array;
}

interface Normal {
  G: Float64Array;
  H: Float64Array;
  m: number;
  c: number;
  scale: number;
}

function normal(p: LsProblem, which: 'fit' | 'all'): Normal {
  const { st, sel, cols } = p;
  const f = st.fit.f;
  const G = subMatrix(st.fit.G, f, sel);
  const H = subRhs(st.fit.H, st.fit.c, sel, cols);
  if (which === 'all' && st.val) {
    const Gv = subMatrix(st.val.G, f, sel);
    const Hv = subRhs(st.val.H, st.val.c, sel, cols);
    for (let i = 0; i < G.length; i++) G[i] += Gv[i];
    for (let i = 0; i < H.length; i++) H[i] += Hv[i];
  }
  const m = sel.length;
  let diag = 0;
  let count = 0;
  for (let i = 0; i < m; i++) {
    if (st.bias && sel[i] === st.features) continue;
    diag += G[i * m + i];
    count++;
  }
  const scale = count ? diag / count : 1;
  return { G, H, m, c: cols.length, scale: scale > 0 ? scale : 1 };
}

function solveWith(k: Kernels, nrm: Normal, prior: Float64Array, alpha: number): Float64Array | undefined {
  const { m, c } = nrm;
  const lambda = alpha * nrm.scale;
  const A = nrm.G.slice();
  for (let i = 0; i < m; i++) A[i * m + i] += lambda;
  const B = nrm.H.slice();
  for (let i = 0; i < B.length; i++) B[i] += lambda * prior[i];
  return choleskySolve(k, A, B, m, c);
}

/** ‖Y − WᵀX‖² over the held-out samples, from their Gram matrices: Σy² + Σ W∘(G·W − 2H). */
function heldOutError(k: Kernels, p: LsProblem, Gv: Float64Array, Hv: Float64Array, W: Float64Array): number {
  const { st, cols } = p;
  const m = p.sel.length;
  const c = cols.length;
  const GW = gemmF64(k, Gv, W, m, m, c);
  let err = 0;
  for (const o of cols) err += st.val!.yy[o];
  for (let i = 0; i < m * c; i++) err += W[i] * (GW[i] - 2 * Hv[i]);
  return err;
}

export interface LsResult {
  W: Float64Array;
  alpha: number;
  /** Held-out error of the prior (magnitude pruning) and of the refit, when there is a held-out set. */
  priorError?: number;
  error?: number;
}

/**
 * Solves one reconstruction. `alpha` fixed, or chosen on the held-out samples from ALPHAS
 * (then refitted on all samples). With `judge`, the refit is compared with the prior on the
 * held-out samples and the prior kept when it is not beaten (also when every system is singular).
 */
export function solveReconstruction(k: Kernels, p: LsProblem, alpha?: number, judge = true): LsResult {
  const all = normal(p, 'all');
  if (p.st.val && p.st.val.positions > 0 && (judge || alpha === undefined)) {
    // fit on four fifths, judge on the held-out fifth, refit on everything with the chosen strength
    const fit = normal(p, 'fit');
    const Gv = subMatrix(p.st.val.G, p.st.val.f, p.sel);
    const Hv = subRhs(p.st.val.H, p.st.val.c, p.sel, p.cols);
    let best: { alpha: number; error: number } | undefined;
    for (const a of alpha === undefined ? ALPHAS : [alpha]) {
      const W = solveWith(k, fit, p.prior, a);
      if (!W) continue;
      const e = heldOutError(k, p, Gv, Hv, W);
      if (!best || e < best.error) best = { alpha: a, error: e };
    }
    const priorError = heldOutError(k, p, Gv, Hv, p.prior);
    if (!best || priorError <= best.error) return { W: p.prior, alpha: best?.alpha ?? ALPHAS[ALPHAS.length - 1], priorError, error: priorError };
    const W = solveWith(k, all, p.prior, best.alpha) ?? p.prior;
    return { W, alpha: best.alpha, priorError, error: best.error };
  }
  const a = alpha ?? 1e-2;
  return { W: solveWith(k, all, p.prior, a) ?? p.prior, alpha: a };
}

/**
 * The prior W₀ (the consumer's current weights and bias in `graph`, already cut to the kept
 * channels) in least-squares rows: features, then the bias row when fitting one.
 */
export function priorOf(ls: LsWeights, withBias: boolean): Float64Array {
  if (!withBias) return ls.W;
  const out = new Float64Array((ls.f + 1) * ls.outs);
  out.set(ls.W);
  out.set(ls.b, ls.f * ls.outs);
  return out;
}

/** Splits a solution back into weights and bias. */
export function fromSolution(W: Float64Array, f: number, outs: number, withBias: boolean, oldBias: Float64Array): LsWeights {
  return { W: W.subarray(0, f * outs), b: withBias ? W.slice(f * outs, (f + 1) * outs) : oldBias, f, outs };
}

/** The kept features of a consumer (dense numbering) given the kept channels of its input. */
export function keptFeatures(c: ConsumerInfo, keptChannels: readonly number[]): number[] {
  const out: number[] = [];
  for (const ch of keptChannels) for (let t = 0; t < c.taps; t++) out.push(ch * c.taps + t);
  return out;
}

/**
 * FLAP bias compensation: adds Σ_{f removed} W₀[f][o]·mean_f to the bias of each kept output o.
 * `dense` holds the unpruned effective weights, `means` the dense input feature means.
 */
export function compensateBias(cut: LsWeights, dense: LsWeights, means: Float64Array, kept: readonly number[], outs: readonly number[]): LsWeights {
  const isKept = new Uint8Array(dense.f);
  for (const f of kept) isKept[f] = 1;
  const b = Float64Array.from(cut.b);
  outs.forEach((o, j) => {
    let s = 0;
    for (let f = 0; f < dense.f; f++) if (!isKept[f]) s += dense.W[f * dense.outs + o] * means[f];
    b[j] += s;
  });
  return { ...cut, b };
}

/** Adds Σ_f (before − after)[o, f]·mean_f to the bias: unstructured pruning's removed weights, for a conv (group 1) or linear layer. */
export function compensateSparse(graph: Graph, c: ConsumerInfo, before: ConstTensor, after: ConstTensor, means: Float64Array): Graph {
  if (!c.canBias) return graph;
  const ls = readConsumer(graph, c);
  const { f, outs } = ls;
  if (means.length !== f) return graph;
  const b0 = before.data as Float32Array;
  const b1 = after.data as Float32Array;
  const b = Float64Array.from(ls.b);
  for (let o = 0; o < outs; o++) {
    let s = 0;
    for (let i = 0; i < f; i++) {
      const at = c.kind === 'conv' || c.transposed ? o * f + i : i * outs + o;
      const d = b0[at] - b1[at];
      if (d !== 0) s += d * means[i];
    }
    b[o] += (c.kind === 'conv' ? 1 : c.alpha) * s;
  }
  return writeConsumer(graph, c, { ...ls, b }, true);
}
