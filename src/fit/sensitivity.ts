// Sensitivity of every prunable unit, one at a time on the dense model: each channel group at
// each ratio level (cut, then recovered as the final model will be: least squares from the
// dense model's statistics, or bias compensation), each layer at each sparsity level (with bias
// compensation) and each layer stored int8. The damage of a combination is predicted as the sum
// (the solver's model); the final model is measured for real.
import { applyInt8, applyRemoval, applySparsity, densePlan, removedChannels, type Plan } from './apply.js';
import type { Scorer } from './fidelity.js';
import { consumerFor, denseMeans, lsFits, recoverConsumer, statSamples, type FitContext } from './materialize.js';
import { collectStats, compensateSparse, featureMeans } from './reconstruct.js';

export interface Sensitivity {
  /** [group][level] damage (level 0: 0). */
  group: number[][];
  /** [layer][sparsity level] damage (level 0: 0). */
  sparsity: number[][];
  /** [layer] damage of int8 storage (0 when int8 is not allowed). */
  int8: number[];
}

export async function measureSensitivity(ctx: FitContext, scorer: Scorer): Promise<Sensitivity> {
  const { k, a } = ctx;
  const base = a.base;
  const sens: Sensitivity = { group: a.groups.map((g) => g.levels.map(() => 0)), sparsity: a.layers.map((l) => l.sparsity.map(() => 0)), int8: a.layers.map(() => 0) };
  const total = a.groups.reduce((s, g) => s + g.levels.length - 1, 0) + a.layers.reduce((s, l) => s + l.sparsity.length - 1 + (l.int8 ? 1 : 0), 0);
  let done = 0;
  const step = (what: string) => ctx.progress(`sensitivity ${++done}/${total}: ${what}`);

  for (const g of a.groups) {
    const consumers = g.consumers.map((n) => a.consumers.get(n)!);
    // least squares from the dense model's statistics (one pass per group), else dense means
    const ls = ctx.recovery === 'reconstruct' ? consumers.filter((c) => lsFits(ctx, c, a.dep.dims.get(c.input)![1])) : [];
    const stats = ls.length ? await collectStats(k, ctx.runner, base, base, ls.map((c) => ({ c, products: true })), statSamples(ctx, ls, true)) : new Map();
    if (ctx.recovery !== 'none') await denseMeans(ctx, consumers.filter((c) => !ls.includes(c)));
    // most aggressive level first: its small systems pick the ridge strength the large ones reuse
    for (let level = g.levels.length - 1; level >= 1; level--) {
      step(`${g.label} keeping ${g.levels[level].keep} of ${g.total} channels`);
      const levels = a.groups.map(() => 0);
      levels[g.index] = level;
      const cut = applyRemoval(k, a.dep, removedChannels(k, a, levels, ctx.scores));
      let graph = cut.graph;
      if (ctx.recovery !== 'none') for (const c of consumers) graph = recoverConsumer(ctx, graph, cut, c, stats.get(c.node.name), true);
      sens.group[g.index][level] = await scorer.damage(graph);
    }
  }

  const sparse = a.layers.filter((l) => l.sparsity.length > 1);
  let means = new Map<string, Float64Array>();
  if (ctx.recovery !== 'none' && sparse.length) {
    const cs = sparse.map((l) => consumerFor(a, l.name)).filter((c) => c !== undefined);
    const st = await collectStats(k, ctx.runner, base, undefined, cs.map((c) => ({ c, products: false })), statSamples(ctx, cs, false));
    means = new Map([...st].map(([name, s]) => [name, featureMeans(s)]));
  }
  for (const l of a.layers) {
    for (let level = 1; level < l.sparsity.length; level++) {
      step(`${l.name} at ${Math.round(100 * l.sparsity[level])}% sparsity`);
      const plan: Plan = densePlan(a);
      plan.sparsity[l.index] = level;
      const m = means.get(l.name);
      const c = consumerFor(a, l.name);
      const graph = await applySparsity(k, base, a, plan, m && c ? (g, _name, before, after) => compensateSparse(g, c, before, after, m) : undefined);
      sens.sparsity[l.index][level] = await scorer.damage(graph);
    }
    if (l.int8) {
      step(`${l.name} as int8`);
      const plan = densePlan(a);
      plan.int8[l.index] = true;
      sens.int8[l.index] = await scorer.damage(applyInt8(base, a, plan));
    }
  }
  return sens;
}

/** The predicted damage of a plan: the sum of its units' measured damages. */
export function planDamage(sens: Sensitivity, plan: Plan): number {
  let d = 0;
  plan.group.forEach((lv, i) => (d += sens.group[i][lv]));
  plan.sparsity.forEach((lv, i) => (d += sens.sparsity[i][lv]));
  plan.int8.forEach((on, i) => (d += on ? sens.int8[i] : 0));
  return d;
}
