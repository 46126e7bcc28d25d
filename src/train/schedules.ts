// Schedules: the learning rate per step, and the target sparsity per step for gradual pruning.
// Pure functions of the step, so a run can be resumed or replayed exactly.
import { ArgumentError } from '../errors.js';

/** Learning rate at a step (0-based), over `total` steps. */
export type LrSchedule = (step: number, total: number) => number;

function positive(v: number, what: string): void {
  if (!(v > 0) || !Number.isFinite(v)) throw new ArgumentError(`${what} must be a positive number, got ${v}`);
}

export function constantLr(lr: number): LrSchedule {
  positive(lr, 'learning rate');
  return () => lr;
}

/** lr · gamma^floor(step / every) (torch StepLR). */
export function stepLr(lr: number, every: number, gamma = 0.1): LrSchedule {
  positive(lr, 'learning rate');
  positive(every, 'step size');
  return (step) => lr * gamma ** Math.floor(step / every);
}

/** Cosine from lr down to minLr over the run, after `warmup` linear steps up from 0 (torch CosineAnnealingLR + warmup). */
export function cosineLr(lr: number, minLr = 0, warmup = 0): LrSchedule {
  positive(lr, 'learning rate');
  return (step, total) => {
    if (step < warmup) return (lr * (step + 1)) / warmup;
    const t = total - warmup <= 1 ? 1 : (step - warmup) / (total - warmup - 1);
    return minLr + ((lr - minLr) * (1 + Math.cos(Math.PI * Math.min(1, t)))) / 2;
  };
}

export interface GradualSparsity {
  /** Sparsity at the first pruning step (s_i), usually 0. */
  initial: number;
  /** Sparsity reached at the end (s_f). */
  final: number;
  /** Step of the first pruning (t0). */
  start: number;
  /** Number of pruning steps (n). */
  steps: number;
  /** Steps between two prunings (Δt). */
  every: number;
  /** 'cubic' (Zhu & Gupta 2017) or 'constant' (the final sparsity from the first pruning step). */
  shape?: 'cubic' | 'constant';
}

/**
 * The target sparsity at a training step. Cubic (Zhu & Gupta, "To prune, or not to prune"):
 * s_t = s_f + (s_i − s_f)(1 − (t − t0)/(nΔt))³ for t0 ≤ t ≤ t0 + nΔt, evaluated at pruning
 * steps t = t0 + kΔt only (between them the last target holds); before t0 no pruning (0), after
 * the end s_f. Pruning much early, little late: the network adapts while it has many weights.
 */
export function sparsityAt(step: number, g: GradualSparsity): number {
  if (!(g.initial >= 0 && g.final < 1 && g.initial <= g.final)) throw new ArgumentError(`sparsities must satisfy 0 <= initial (${g.initial}) <= final (${g.final}) < 1`);
  if (!Number.isInteger(g.steps) || g.steps < 1 || !Number.isInteger(g.every) || g.every < 1) throw new ArgumentError(`pruning steps (${g.steps}) and interval (${g.every}) must be positive integers`);
  if (step < g.start) return 0;
  if ((g.shape ?? 'cubic') === 'constant') return g.final;
  const span = g.steps * g.every;
  const t = Math.min(span, Math.floor((step - g.start) / g.every) * g.every);
  return g.final + (g.initial - g.final) * (1 - t / span) ** 3;
}

/** Whether the mask is updated at this step (t0, t0 + Δt, ..., t0 + nΔt). */
export function isPruningStep(step: number, g: GradualSparsity): boolean {
  return step >= g.start && step <= g.start + g.steps * g.every && (step - g.start) % g.every === 0;
}
