// A plan → a graph, with recovery: cut the channels, reconstruct (or bias-compensate) the layers
// reading them in graph order, zero the smallest weights per layer (their mean contribution
// folded into the bias), optionally fine-tune, mark int8 layers.
import type { Graph } from '../graph/ir.js';
import type { Kernels } from '../wasm/kernels.js';
import { consumerOf, effectiveSparsity, type Analysis, type ConsumerInfo } from './analysis.js';
import { applyInt8, applyRemoval, applySparsity, removedChannels, type ChannelCut, type Plan } from './apply.js';
import { collectStats, compensateBias, compensateSparse, featureMeans, fromSolution, keptFeatures, priorOf, readConsumer, solveReconstruction, writeConsumer, type LayerStats, type Recovery } from './reconstruct.js';
import type { CalibRunner } from './runner.js';

export interface FitContext {
  k: Kernels;
  a: Analysis;
  runner: CalibRunner;
  recovery: Recovery;
  /** Least squares only for consumers with at most this many input features (else bias compensation). */
  maxFeatures: number;
  /** Channel importance per group (computed once). */
  scores: Map<number, Float64Array>;
  /** Ridge strength picked per consumer (reused by later solves of the same layer). */
  alphas: Map<string, number>;
  /** Dense input feature means per layer (bias compensation), filled on demand. */
  denseMeans: Map<string, Float64Array>;
  /** Held-out errors of each reconstruction of the final model: magnitude (prior) vs least squares. */
  reconstructions: { layer: string; features: number; samples: number; priorError?: number; error?: number; alpha: number }[];
  warn(text: string): void;
  progress(text: string): void;
}

/** Layers whose input features least squares handles (the rest fall back to bias compensation). */
export function lsFits(ctx: FitContext, c: ConsumerInfo, channels: number): boolean {
  return ctx.recovery === 'reconstruct' && channels * c.taps + 1 <= ctx.maxFeatures;
}

/**
 * Calibration samples a statistics pass needs: least squares wants about 8 positions per
 * unknown (a conv sees OH·OW positions per sample, a linear layer one), means far fewer; at
 * least 64 samples, at most all of them.
 */
export function statSamples(ctx: FitContext, cs: readonly ConsumerInfo[], products: boolean): number {
  const n = ctx.runner.n;
  let need = Math.min(64, n);
  for (const c of cs) {
    const yd = ctx.a.dep.dims.get(c.output);
    const xd = ctx.a.dep.dims.get(c.input);
    const positions = yd && yd.length === 4 ? yd[2] * yd[3] : 1;
    const f = (xd?.[1] ?? 1) * c.taps + 1;
    need = Math.max(need, Math.ceil((products ? 8 * f : 2048) / positions));
  }
  return Math.min(n, need);
}

/** Dense feature means of these layers' inputs (cached). */
export async function denseMeans(ctx: FitContext, cs: readonly ConsumerInfo[]): Promise<void> {
  const todo = cs.filter((c) => !ctx.denseMeans.has(c.node.name));
  if (!todo.length) return;
  const st = await collectStats(ctx.k, ctx.runner, ctx.a.base, undefined, todo.map((c) => ({ c, products: false })), statSamples(ctx, todo, false));
  for (const [name, s] of st) ctx.denseMeans.set(name, featureMeans(s));
}

const warned = new WeakMap<FitContext, Set<string>>();

/**
 * Recovers one consumer of cut channels in `graph` (whose consumer weights are already cut).
 * `st`: stats of its input features — from the dense model (then `sel` maps the kept features
 * into them) or from the pruned model (sel = all). Returns the new graph.
 */
export function recoverConsumer(ctx: FitContext, graph: Graph, cut: ChannelCut, c: ConsumerInfo, st: LayerStats | undefined, fromDense: boolean): Graph {
  const keptIn = cut.kept(c.input);
  const cols = cut.kept(c.output);
  const current = readConsumer(graph, c);
  if (st && st.fit.G.length > 0) {
    const sel = fromDense ? keptFeatures(c, keptIn) : Array.from({ length: st.features }, (_, i) => i);
    if (st.bias) sel.push(st.features);
    const fixed = ctx.alphas.get(c.node.name);
    const positions = st.fit.positions + (st.val?.positions ?? 0);
    const seen = warned.get(ctx) ?? new Set<string>();
    warned.set(ctx, seen);
    if (positions < sel.length && !seen.has(c.node.name)) {
      seen.add(c.node.name);
      ctx.warn(`'${c.node.name}': ${positions} calibration positions for ${sel.length} unknowns per output: the least-squares problem is underdetermined, so it is solved as ridge regression toward the magnitude-pruned weights (strength chosen on held-out samples); more calibration samples give a better refit`);
    }
    // the strength is chosen once per layer (at its first solve: in the sensitivity sweep, the
    // most aggressive level); sensitivity solves then skip the held-out comparison
    const res = solveReconstruction(ctx.k, { st, sel, cols, prior: priorOf(current, st.bias) }, fixed, !fromDense || fixed === undefined);
    if (!ctx.alphas.has(c.node.name)) ctx.alphas.set(c.node.name, res.alpha);
    if (!fromDense) ctx.reconstructions.push({ layer: c.node.name, features: sel.length, samples: positions, priorError: res.priorError, error: res.error, alpha: res.alpha });
    return writeConsumer(graph, c, fromSolution(res.W, current.f, current.outs, st.bias, current.b), st.bias);
  }
  // bias compensation with the dense means
  const means = ctx.denseMeans.get(c.node.name);
  if (!means || !c.canBias) return graph;
  const dense = readConsumer(ctx.a.base, c);
  return writeConsumer(graph, c, compensateBias(current, dense, means, keptFeatures(c, keptIn), cols), true);
}

/** The plan's graph: cut, recovered, sparsified, int8-marked (see the top of this file). */
export async function materialize(ctx: FitContext, plan: Plan, recovery: Recovery, finetune?: (g: Graph) => Promise<Graph>): Promise<Graph> {
  const { k, a } = ctx;
  const cut = applyRemoval(k, a.dep, removedChannels(k, a, plan.group, ctx.scores));
  let graph = cut.graph;
  if (recovery !== 'none' && cut.removed.size) {
    const names = new Set<string>();
    for (const g of a.groups) if (plan.group[g.index] > 0) for (const c of g.consumers) names.add(c);
    // graph order: a reconstruction sees the inputs the earlier ones produce
    const consumers = a.base.nodes.filter((n) => names.has(n.name)).map((n) => a.consumers.get(n.name)!);
    const ls = consumers.filter((c) => recovery === 'reconstruct' && lsFits(ctx, c, cut.kept(c.input).length));
    const bias = consumers.filter((c) => !ls.includes(c));
    if (bias.length) await denseMeans(ctx, bias);
    for (const c of consumers) {
      if (ls.includes(c)) {
        ctx.progress(`reconstructing ${c.node.name}`);
        const st = (await collectStats(k, ctx.runner, graph, a.base, [{ c, products: true }], statSamples(ctx, [c], true))).get(c.node.name);
        graph = recoverConsumer(ctx, graph, cut, c, st, false);
      } else {
        graph = recoverConsumer(ctx, graph, cut, c, undefined, false);
      }
    }
  }
  const sparse = a.layers.filter((l) => effectiveSparsity(l, plan) > 0);
  if (sparse.length) {
    let compensate: Parameters<typeof applySparsity>[4];
    if (recovery !== 'none') {
      const cs = sparse.map((l) => a.consumers.get(l.name) ?? consumerFor(a, l.name)).filter((c): c is ConsumerInfo => c !== undefined);
      const st = await collectStats(k, ctx.runner, graph, undefined, cs.map((c) => ({ c, products: false })), statSamples(ctx, cs, false));
      compensate = (g, name, before, after) => {
        const s = st.get(name);
        return s ? compensateSparse(g, s.c, before, after, featureMeans(s)) : g;
      };
    }
    graph = await applySparsity(k, graph, a, plan, compensate);
  }
  if (finetune) graph = await finetune(graph);
  return applyInt8(graph, a, plan);
}

/** The least-squares view of a layer that reads no pruned channels (for sparsity's bias compensation). */
export function consumerFor(a: Analysis, name: string): ConsumerInfo | undefined {
  const cached = a.consumers.get(name);
  if (cached) return cached;
  const node = a.base.nodes.find((n) => n.name === name);
  return node ? consumerOfNode(a, node) : undefined;
}

function consumerOfNode(a: Analysis, node: Graph['nodes'][number]): ConsumerInfo | undefined {
  const c = consumerOf(a.base, node, a.dep.dims);
  return c && c.canBias ? c : undefined;
}
