// What a session's plans share across input dims: executors and uploaded constants (each with
// the wasm blocks it owns) and per-node state such as packed weights. A session re-plans when
// run() sees new dims; without eviction a model fed ever-new dims (OCR lines of every width)
// would keep every plan's tables and grow its memory run after run.
import type { Heap } from '../wasm/heap.js';
import type { Executor } from './op.js';

/** Plans whose executors are kept besides the current one: alternating batch sizes re-plan for free. */
export const KEEP_PLANS = 4;

interface Entry<T> {
  value: T;
  /** wasm blocks this entry owns, freed with it. */
  blocks: number[];
  /** The last plan (generation) that used it. */
  used: number;
}

export class PlanCache {
  /** Executors by node, input dims, output dims and small constant values. */
  readonly executors = new Map<string, Entry<Executor>>();
  /** Constants uploaded as float32 for ops that read them from memory, by name, dims and value. */
  readonly constants = new Map<string, Entry<number>>();
  /** Per-node state that does not depend on dims (packed weights): kept for the session's life. */
  readonly shared = new Map<string, unknown>();
  /** Plans built so far; buildPlan starts each with `generation++`. */
  generation = 0;

  /** Frees what none of the last KEEP_PLANS plans used (the current plan's entries are always kept). */
  evict(heap: Heap): void {
    const oldest = this.generation - KEEP_PLANS;
    for (const map of [this.executors, this.constants] as Map<string, Entry<unknown>>[]) {
      for (const [key, e] of map) {
        if (e.used > oldest) continue;
        for (const b of e.blocks) heap.release(b);
        map.delete(key);
      }
    }
  }
}
