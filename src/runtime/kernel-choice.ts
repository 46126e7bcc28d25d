// Dense or sparse, per node: a layer with constant weights runs the sparse kernels when the cost
// model predicts they take well under the dense kernel's time for its density and shape. The
// model is fitted on bench/sparse.ts and bench runs of the batch-1 SpMV (this 2-core VM, relaxed
// build; the simd build scales alike); a user can force either kernel per node or for all.
import { ArgumentError } from '../errors.js';
import type { Graph } from '../graph/ir.js';
import type { Kernels } from '../wasm/kernels.js';
import { SPMM_MIN_ROWS } from '../kernels/gemm-sparse.js';

export type KernelPreference = 'auto' | 'dense' | 'sparse';

/** SessionOptions.kernels: one preference for every layer, or one per node name (others 'auto'). */
export type KernelOption = KernelPreference | Record<string, KernelPreference>;

/** Sparse is chosen when predicted to take under this share of the dense time (margin for the model's error). */
export const SPARSE_MAX_RATIO = 0.8;

const PREFERENCES: readonly KernelPreference[] = ['auto', 'dense', 'sparse'];

/**
 * Predicted sparse time / dense time for a weight matrix with this share of non-zeros.
 * columns: pixels (conv) or rows (Gemm/MatMul) one kernel call multiplies.
 *  - SpMM (16-column blocks, columns >= 16), fitted on W 64x576 x X 576x3136 (bench/sparse.ts):
 *    ratio = 0.05 + 2.5 * density (measured 1.2 at 50% non-zeros, 0.59 at 20%, 0.30 at 10%, 0.17 at 5%);
 *  - SpMV per row (columns < 16) against the packed GEMM, fitted on 1024x1000, 784x300, 128x10 at
 *    batch 1 (2.8 at 50%, 1.15 at 20%, 0.6 at 10%, 0.34 at 5%) and 512x128 x4, 1024x1024 x8:
 *    ratio = 6 * density for one row, 13 * density for more (the dense GEMM amortises its weight
 *    reads over rows, the SpMV does not).
 */
export function predictedSparseRatio(density: number, columns: number): number {
  if (columns >= SPMM_MIN_ROWS) return 0.05 + 2.5 * density;
  return (columns <= 1 ? 6 : 13) * density;
}

export interface WeightKernelChoice {
  sparse: boolean;
  /** Why, for session.info(): the density and the predicted ratio, or 'forced'. */
  reason: string;
}

/** The choice for one layer; `countNonZero` runs only when the preference leaves it open. */
export function chooseWeightKernel(pref: KernelPreference, weights: number, countNonZero: () => number, columns: number, sparseUnfit?: string): WeightKernelChoice {
  if (pref === 'dense') return { sparse: false, reason: 'dense (forced)' };
  if (pref === 'sparse') return { sparse: true, reason: 'sparse (forced)' };
  if (sparseUnfit) return { sparse: false, reason: `dense (${sparseUnfit})` };
  const nnz = countNonZero();
  const density = weights > 0 ? nnz / weights : 1;
  const zeros = `${(100 * (1 - density)).toFixed(1)}% zeros`;
  if (density >= 0.5) return { sparse: false, reason: `dense (${zeros})` };
  const ratio = predictedSparseRatio(density, columns);
  const sparse = ratio < SPARSE_MAX_RATIO;
  return { sparse, reason: `${sparse ? 'sparse' : 'dense'} (${zeros}; sparse predicted at ${ratio.toFixed(2)}x the dense time)` };
}

/** Non-zeros among n floats at pointer p (a SIMD count in wasm: no JS loop over the weights). */
export function wasmCountNonZero(k: Kernels, data: Float32Array): number {
  const p = k.upload(data);
  try {
    return k.fn.prune_count_nonzero(p, data.length) as number;
  } finally {
    k.free(p);
  }
}

/** Checks SessionOptions.kernels against the graph and returns the preference of each node. */
export function resolveKernelOption(option: KernelOption | undefined, graph: Graph): (nodeName: string) => KernelPreference {
  if (option === undefined) return () => 'auto';
  const check = (v: unknown, where: string): KernelPreference => {
    if (!PREFERENCES.includes(v as KernelPreference)) throw new ArgumentError(`${where} is ${JSON.stringify(v)}; use 'auto', 'dense' or 'sparse'`);
    return v as KernelPreference;
  };
  if (typeof option === 'string') {
    const p = check(option, 'the kernels option');
    return () => p;
  }
  if (typeof option !== 'object' || option === null || Array.isArray(option)) throw new ArgumentError(`the kernels option must be 'auto', 'dense', 'sparse' or an object of them keyed by node name`);
  const names = new Set(graph.nodes.map((n) => n.name));
  const map = new Map<string, KernelPreference>();
  for (const [name, v] of Object.entries(option)) {
    if (!names.has(name)) throw new ArgumentError(`the kernels option names node '${name}', which the model does not have (see session.info().nodes or 'edgeprune inspect' for node names)`);
    map.set(name, check(v, `kernels['${name}']`));
  }
  return (n) => map.get(n) ?? 'auto';
}
