// Pruning inside training, on a Trainer's live weights:
//   pruneAndFreeze      one-shot: prune now (L1 per layer or global), then keep the zeros at zero
//   gradualPruning      iterative: a beforeStep hook that prunes to the scheduled sparsity
//                       (constant or Zhu & Gupta cubic) at every pruning step
//   LotteryTicket       save the weights at step k; rewind() resets the survivors of the current
//                       mask to those saved values (and everything else to its saved state)
//   rigl                dynamic sparse training (Evci et al. 2020, "Rigging the Lottery"): every
//                       Δt steps each layer drops its smallest-magnitude active weights and regrows
//                       as many inactive ones with the largest gradient, at a cosine-decaying fraction
// All of them act on the prunable layers' weights (Conv, ConvTranspose, Gemm, MatMul), through
// the pruning methods of src/prune and the optimizer's masks.
import { ArgumentError } from '../errors.js';
import type { Graph } from '../graph/ir.js';
import { globalUnstructured, l1Unstructured } from '../prune/index.js';
import { selectLayers } from '../prune/layers.js';
import type { LayerFilter } from '../prune/types.js';
import { isPruningStep, sparsityAt, type GradualSparsity } from './schedules.js';
import type { Trainer } from './trainer.js';

/** The weight tensors pruning acts on, by initializer name. */
export function prunableWeights(graph: Graph, filter: LayerFilter = {}): string[] {
  return selectLayers(graph, filter).layers.map((l) => l.weight).filter((w, i, a) => a.indexOf(w) === i);
}

export interface PruneNowOptions extends LayerFilter {
  /** Share of the weights to zero: per layer ('layer', torch's l1_unstructured) or over all of them ('global'). */
  amount: number;
  scope?: 'layer' | 'global';
}

/** Prunes the trainer's weights by magnitude and masks the zeros; returns the achieved sparsity of the pruned layers. */
export async function pruneAndFreeze(trainer: Trainer, opts: PruneNowOptions): Promise<number> {
  const graph = trainer.graph();
  const filter = { include: opts.include, exclude: opts.exclude };
  const k = trainer.kernels;
  const result = (opts.scope ?? 'layer') === 'global'
    ? await globalUnstructured(graph, { amount: opts.amount, criterion: 'l1', kernels: k, ...filter })
    : await l1Unstructured(graph, { amount: opts.amount, kernels: k, ...filter });
  trainer.setWeights(result.graph);
  const names = prunableWeights(graph, filter);
  trainer.optimizer.freezeZeros(names);
  return sparsityOf(trainer, names);
}

/** Zeros / weights over these parameters. */
export function sparsityOf(trainer: Trainer, names: readonly string[]): number {
  let zeros = 0;
  let total = 0;
  for (const n of names) {
    const w = trainer.weights(n);
    total += w.length;
    for (const v of w) if (v === 0) zeros++;
  }
  return total ? zeros / total : 0;
}

/**
 * A beforeStep hook pruning to the scheduled sparsity at each pruning step (between them the mask
 * holds and the surviving weights adapt). Pass the returned function as fit()'s beforeStep.
 */
export function gradualPruning(trainer: Trainer, schedule: GradualSparsity, filter: LayerFilter & { scope?: 'layer' | 'global' } = {}): (step: number) => Promise<void> {
  sparsityAt(schedule.start, schedule); // validates the schedule now
  let last = 0;
  return async (step) => {
    if (!isPruningStep(step, schedule)) return;
    const target = sparsityAt(step, schedule);
    if (target <= last) return;
    await pruneAndFreeze(trainer, { amount: target, scope: filter.scope, include: filter.include, exclude: filter.exclude });
    last = target;
  };
}

/** Lottery-ticket rewinding (Frankle et al.; "rewinding" to step k from Frankle et al. 2020). */
export class LotteryTicket {
  private saved: Graph | undefined;

  /** Saves the weights now (call it at step k, e.g. from beforeStep). */
  save(trainer: Trainer): void {
    this.saved = trainer.graph();
  }

  get isSaved(): boolean {
    return this.saved !== undefined;
  }

  /**
   * Resets every parameter to its saved value, keeping the current zeros of the prunable weights
   * (the ticket's mask): survivors restart from step k, pruned weights stay zero and masked.
   */
  rewind(trainer: Trainer, filter: LayerFilter = {}): void {
    if (!this.saved) throw new ArgumentError('LotteryTicket.rewind: save() the weights at the rewind step first');
    const current = trainer.graph();
    const names = new Set(prunableWeights(current, filter));
    const initializers = new Map(this.saved.initializers);
    for (const name of names) {
      const now = current.initializers.get(name)!.data as Float32Array;
      const then = this.saved.initializers.get(name)!.data as Float32Array;
      initializers.set(name, { ...current.initializers.get(name)!, data: then.map((v, i) => (now[i] === 0 ? 0 : v)) });
    }
    trainer.setWeights({ ...current, initializers });
    trainer.optimizer.freezeZeros(names);
  }
}

export interface RigLOptions extends LayerFilter {
  /** Steps between mask updates (Δt). */
  every: number;
  /** Last step with a mask update (usually 75% of training). */
  end: number;
  /** Initial drop fraction, decayed by a cosine to 0 at `end` (default 0.3). */
  alpha?: number;
}

/**
 * An afterBackward hook (needs the gradients of the step) for RigL on layers already pruned to
 * their target sparsity: the count of non-zeros per layer stays the same, their places move.
 * Regrown weights start at zero, as in the paper. Returns the hook; hook.updates counts mask changes.
 */
export function rigl(trainer: Trainer, opts: RigLOptions): ((step: number) => void) & { updates: number } {
  if (!Number.isInteger(opts.every) || opts.every < 1) throw new ArgumentError(`rigl: every must be a positive integer, got ${opts.every}`);
  const alpha = opts.alpha ?? 0.3;
  if (!(alpha > 0 && alpha < 1)) throw new ArgumentError(`rigl: alpha must be in (0, 1), got ${alpha}`);
  const names = prunableWeights(trainer.graph(), opts);
  const hook = ((step: number) => {
    if (step === 0 || step % opts.every !== 0 || step > opts.end) return;
    const fraction = (alpha / 2) * (1 + Math.cos((Math.PI * step) / opts.end));
    for (const name of names) {
      const mask = trainer.optimizer.mask(name);
      if (!mask) continue; // a dense layer: nothing to move
      const w = trainer.weights(name);
      const g = trainer.gradient(name);
      const active: number[] = [];
      const inactive: number[] = [];
      for (let i = 0; i < mask.length; i++) (mask[i] ? active : inactive).push(i);
      const n = Math.min(Math.floor(fraction * active.length), inactive.length);
      if (n === 0) continue;
      // drop the n smallest |w| among the active; grow the n largest |g| among the inactive
      active.sort((a, b) => Math.abs(w[a]) - Math.abs(w[b]) || a - b);
      inactive.sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]) || a - b);
      for (let j = 0; j < n; j++) {
        mask[active[j]] = 0;
        mask[inactive[j]] = 1;
      }
      // the mask zeroes the dropped weights; grown ones are zero already
      trainer.optimizer.setMask(name, mask);
    }
    hook.updates++;
  }) as ((step: number) => void) & { updates: number };
  hook.updates = 0;
  return hook;
}
