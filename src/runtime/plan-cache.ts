// What a session's plans share across input dims: executors and uploaded constants (each with
// the wasm blocks it owns) and per-node state such as packed weights. A session re-plans when
// run() sees new dims; without eviction a model fed ever-new dims (OCR lines of every width)
// would keep every plan's tables and grow its memory run after run.
import type { Heap } from '../wasm/heap.js';
import type { Executor } from './op.js';
import type { Plan } from './plan.js';
import type { Specialized } from './specialize.js';

/** Plans whose executors are kept besides the current one: alternating batch sizes re-plan for free. */
export const KEEP_PLANS = 4;

export interface CacheEntry {
  /** The last plan (generation) that used it. */
  used: number;
}

interface Entry<T> extends CacheEntry {
  value: T;
  /** wasm blocks this entry owns, freed with it. */
  blocks: number[];
}

export class PlanCache {
  /** Executors by node, input dims, output dims and small constant values. */
  readonly executors = new Map<string, Entry<Executor>>();
  /** Constants uploaded as float32 for ops that read them from memory, by name, dims and value. */
  readonly constants = new Map<string, Entry<number>>();
  /** Per-node state that does not depend on dims (packed weights): kept for the session's life. */
  readonly shared = new Map<string, unknown>();
  /** Plans built or reused so far; each starts with `generation++`. */
  generation = 0;
  /**
   * Recent plans by input dims, with the generation that last used them: a session fed dims it
   * saw lately (alternating batch sizes, OCR crops of a few widths) reuses the plan instead of
   * specializing and planning again. Kept while their entries are (the last KEEP_PLANS plans).
   */
  readonly plans = new Map<string, { spec: Specialized; plan: Plan; used: number }>();

  /** The plan made for these dims, marked used by a new generation, if it is still whole. */
  reuse(key: string): { spec: Specialized; plan: Plan } | undefined {
    const p = this.plans.get(key);
    if (!p) return undefined;
    p.used = ++this.generation;
    for (const e of p.plan.entries) e.used = p.used;
    return p;
  }

  /** Records the plan just built (the current generation) for reuse. */
  keep(key: string, spec: Specialized, plan: Plan): void {
    this.plans.set(key, { spec, plan, used: this.generation });
  }

  /** Frees what none of the last KEEP_PLANS plans used (the current plan's entries are always kept). */
  evict(heap: Heap): void {
    const oldest = this.generation - KEEP_PLANS;
    // a plan not used since then may have entries freed below: it is no longer whole
    for (const [key, p] of this.plans) if (p.used <= oldest) this.plans.delete(key);
    for (const map of [this.executors, this.constants] as Map<string, Entry<unknown>>[]) {
      for (const [key, e] of map) {
        if (e.used > oldest) continue;
        for (const b of e.blocks) heap.release(b);
        map.delete(key);
      }
    }
  }
}
