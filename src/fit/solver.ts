// The budget solver: a Lagrangian greedy over (damage, resources) steps.
//
// State: a level per channel group, a sparsity level per layer, int8 or not per layer. From the
// dense plan, every step takes the move (one unit to any more aggressive level, or a layer to
// int8) with the least predicted damage per unit of progress toward the violated budgets:
//     cost(move) = Δdamage / Σ_{b violated} min(1, Δresource_b / (resource_b − limit_b))
// i.e. the cheapest damage per share of the remaining gap closed, each budget's share capped at 1
// so a move that overshoots one budget is not preferred for the overshoot. Jumping several levels
// at once lets the greedy see the convex hull of a unit's curve (a unit whose second step is
// cheap per byte is not hidden behind an expensive first step). When every budget is met, a
// clean-up pass walks units back one level while the budgets stay met, largest damage saved first.
//
// Why this and not a DP/knapsack over discretised ratios: the costs do not separate by unit.
// A weight's bytes are rows × columns × (1 − sparsity) × bytes per value, the rows set by one
// group and the columns by another, and its encoding (dense, bitmask, deltas, int8) changes
// with both; peak memory is a maximum over the graph; there can be four budgets at once. The
// greedy evaluates each move on the full, state-dependent prediction (O(moves × prediction)
// per step, milliseconds for hundreds of units), and at the Lagrange multiplier where the
// budget binds it is the classic marginal-rate allocation (equalising damage per byte).
import type { Analysis } from './analysis.js';
import { copyPlan, type Plan } from './apply.js';
import type { BudgetKind } from './budget.js';
import type { Predictor, Resources } from './predict.js';
import type { Sensitivity } from './sensitivity.js';

export type Targets = Partial<Record<BudgetKind, number>>;

interface Move {
  kind: 'group' | 'sparsity' | 'int8';
  index: number;
  level: number;
}

function unitDamage(sens: Sensitivity, plan: Plan, m: Move): number {
  if (m.kind === 'group') return sens.group[m.index][plan.group[m.index]];
  if (m.kind === 'sparsity') return sens.sparsity[m.index][plan.sparsity[m.index]];
  return plan.int8[m.index] ? sens.int8[m.index] : 0;
}

function moved(plan: Plan, m: Move): Plan {
  const p = copyPlan(plan);
  if (m.kind === 'group') p.group[m.index] = m.level;
  else if (m.kind === 'sparsity') p.sparsity[m.index] = m.level;
  else p.int8[m.index] = m.level === 1;
  return p;
}

function forwardMoves(a: Analysis, plan: Plan): Move[] {
  const moves: Move[] = [];
  for (const g of a.groups) for (let lv = plan.group[g.index] + 1; lv < g.levels.length; lv++) moves.push({ kind: 'group', index: g.index, level: lv });
  for (const l of a.layers) {
    for (let lv = plan.sparsity[l.index] + 1; lv < l.sparsity.length; lv++) moves.push({ kind: 'sparsity', index: l.index, level: lv });
    if (l.int8 && !plan.int8[l.index]) moves.push({ kind: 'int8', index: l.index, level: 1 });
  }
  return moves;
}

function backMoves(a: Analysis, plan: Plan): Move[] {
  const moves: Move[] = [];
  for (const g of a.groups) if (plan.group[g.index] > 0) moves.push({ kind: 'group', index: g.index, level: plan.group[g.index] - 1 });
  for (const l of a.layers) {
    if (plan.sparsity[l.index] > 0) moves.push({ kind: 'sparsity', index: l.index, level: plan.sparsity[l.index] - 1 });
    if (plan.int8[l.index]) moves.push({ kind: 'int8', index: l.index, level: 0 });
  }
  return moves;
}

export function violated(res: Resources, targets: Targets): BudgetKind[] {
  return (Object.keys(targets) as BudgetKind[]).filter((k) => res[k] > targets[k]!);
}

export interface SolveResult {
  plan: Plan;
  /** Every budget is predicted met. */
  met: boolean;
  /** The path taken: predicted resources and damage after each step (the size-vs-damage frontier). */
  path: { resources: Resources; damage: number }[];
}

/**
 * Greedy from `start` until the predicted resources meet `targets` (or no move helps).
 * `untilEnd`: keep going to the most aggressive plan (traces the frontier for the report).
 */
export function solve(a: Analysis, sens: Sensitivity, predictor: Predictor, targets: Targets, start: Plan, damageOf: (p: Plan) => number, untilEnd = false): SolveResult {
  const kinds = Object.keys(targets) as BudgetKind[];
  let plan = copyPlan(start);
  let res = predictor.resources(plan, kinds);
  const path = [{ resources: res, damage: damageOf(plan) }];
  for (;;) {
    const bad = violated(res, targets);
    if (bad.length === 0 && !untilEnd) break;
    const pressing = bad.length ? bad : kinds;
    let best: { move: Move; cost: number; gain: number; res: Resources } | undefined;
    for (const m of forwardMoves(a, plan)) {
      const next = moved(plan, m);
      const r = predictor.resources(next, kinds);
      let gain = 0;
      for (const k of pressing) {
        const gap = bad.length ? res[k] - targets[k]! : res[k];
        if (gap > 0) gain += Math.min(1, Math.max(0, res[k] - r[k]) / gap);
      }
      if (!(gain > 1e-12)) continue;
      const dd = Math.max(0, unitDamage(sens, next, m) - unitDamage(sens, plan, m));
      const cost = (dd + 1e-15) / gain;
      if (!best || cost < best.cost || (cost === best.cost && gain > best.gain)) best = { move: m, cost, gain, res: r };
    }
    if (!best) break;
    plan = moved(plan, best.move);
    res = best.res;
    path.push({ resources: res, damage: damageOf(plan) });
  }
  const met = violated(res, targets).length === 0;
  if (met && !untilEnd) plan = relax(a, sens, predictor, targets, plan);
  return { plan, met, path };
}

/** Walks units back while every budget stays met, the largest damage saving first. */
export function relax(a: Analysis, sens: Sensitivity, predictor: Predictor, targets: Targets, start: Plan): Plan {
  const kinds = Object.keys(targets) as BudgetKind[];
  let plan = start;
  for (;;) {
    let best: { plan: Plan; saving: number } | undefined;
    for (const m of backMoves(a, plan)) {
      const next = moved(plan, m);
      const saving = unitDamage(sens, plan, m) - unitDamage(sens, next, m);
      if (saving <= 0 || (best && saving <= best.saving)) continue;
      if (violated(predictor.resources(next, kinds), targets).length === 0) best = { plan: next, saving };
    }
    if (!best) return plan;
    plan = best.plan;
  }
}
