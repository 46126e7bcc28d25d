// Dense, sparse or slimmed dense, per node: a layer with constant weights runs the sparse kernels,
// or the dense ones on its non-zero output channels only, when a cost model predicts they take well
// under the dense kernel's time for its zeros and shape. The models are fitted on bench runs (this
// 2-core VM, relaxed build; the simd build scales alike); a user can force a kernel per node or for all.
import { ArgumentError } from '../errors.js';
import type { Graph } from '../graph/ir.js';
import type { Kernels } from '../wasm/kernels.js';
import { SPMM_MIN_ROWS } from '../kernels/gemm-sparse.js';
import { sparseCostRatio } from '../kernels/sparse.js';

export type KernelPreference = 'auto' | 'dense' | 'sparse' | 'slim';

/** SessionOptions.kernels: one preference for every layer, or one per node name (others 'auto'). */
export type KernelOption = KernelPreference | Record<string, KernelPreference>;

/** A kernel other than dense is chosen when predicted to take under this share of the dense time (margin for the models' error). */
export const SPARSE_MAX_RATIO = 0.8;

/**
 * The margin for the direct sparse conv at stride 1 against Winograd, whose model lands within
 * 0.05 of single layers on this machine, mostly above (bench/conv-fit.ts: 64->64 on 56x56 at 30%
 * non-zeros predicted 0.83, measured 0.81): at 0.8 that layer stayed dense once Winograd got faster
 * there, giving up a fifth of its time.
 */
export const DIRECT_WINOGRAD_MAX_RATIO = 0.85;

const PREFERENCES: readonly KernelPreference[] = ['auto', 'dense', 'sparse', 'slim'];

// Predicted sparse time / dense time for weights with this share of non-zeros (density), one
// function per sparse kernel, each fitted on measurements noted beside it.

/**
 * The CSR SpMM (1x1 convs, Gemm/MatMul with >= 16 rows) against the packed GEMM: the model fitted
 * with the kernel itself (src/kernels/sparse.ts sparseCostRatio: bench/sparse.ts, W 64x576 x X
 * 576x3136, relaxed build; about 0.04 + 1.21 * density with the panel kernel, 0.006 + 1.8 * density
 * in place below 14% non-zeros), including the cost of padding few columns to whole blocks.
 * PP-OCRv4's 1x1 convs pruned to exactly 50% ran sparse in 0.63-0.71x the dense time.
 */
export function spmmRatio(density: number, columns: number): number {
  return sparseCostRatio('csr', density, Math.max(1, columns));
}

/**
 * The same SpMM over im2col columns (stride 2+ along W) against the dense conv: the im2col copy
 * (K x pixels floats, written then read) adds about what the dense GEMM spends on a fifth of its
 * weights (bench/sparse-models.ts, MobileNet-style stride-2 stems), and more where each pixel's
 * column is short (K = Cin * KH * KW): a 3-channel 3x3 stem's columns cost 0.8-1.0x the dense conv
 * at any sparsity (single conv layers, AMD EPYC VM: 3->16 3x3 on 112x112, 0.82 at 5% non-zeros;
 * 3->64 7x7 on 224x224, 0.37; 32->64 3x3 on 56x56, 0.35).
 */
export function im2colRatio(density: number, columns: number, K = Infinity): number {
  return spmmRatio(density, columns) + 0.2 + 15 / K;
}

/**
 * The direct sparse conv (one offset per non-zero, no im2col; 28 pixels a block, rows shorter than
 * that run as one run on the padded width) against the dense conv, plus a per-channel cost that
 * shows on short columns (K = Cin * KH * KW), and 1.4 times the rate once the input rows one output
 * row reads (rowBytes = Cin * KH * padded width * 4) outgrow L1 (every output channel re-reads
 * them). Single conv layers, AMD EPYC VM (48 KiB L1), sparse / dense time at 30 / 20 / 10% non-zeros:
 *   against Winograd F(2x2, 3x3) (2.25x fewer multiplies): 32->32 3x3 on 56x56 (22 KiB of rows)
 *   0.58, 0.41, 0.25; 64->64 on 56x56 (44 KiB) 0.76, 0.51, 0.28; 96->24 on 40x40 (47 KiB) 0.88,
 *   0.59, 0.31; 96->96 on 40x40 0.98, 0.66, 0.33; 96->24 on 80x80 (92 KiB) 0.97, 0.69, 0.34;
 *   128->128 on 28x28 (45 KiB) 0.89, 0.59, 0.29; on short rows, 128->128 on 14x14 1.06, 0.72,
 *   0.38 and 256->256 on 14x14 0.92, 0.63, 0.33: about 2.4 * density below 45 KiB of rows, 3.3 *
 *   density above, 3.1 * density on short rows, scaled by the share of Winograd's tiles that make
 *   output (winogradTileUse). Since the kernel reads each non-zero's offset and weight in one load
 *   (7% faster), short rows run at about 2.75 * density: 96->96 on 20x20 0.77, 0.52, 0.29;
 *   128->128 on 14x14 0.83, 0.58, 0.30; 256->64 on 14x14 0.74, 0.51, 0.28; 64->256 on 14x14 0.84,
 *   0.57, 0.32 (the factor 1.15 below; it was 1.3, which kept these layers dense at 70% zeros);
 *   against the direct kernel: 8->16 3x3 on 48x192 0.34, 0.28, 0.19; 32->32 5x5 on 28x28 0.30,
 *   0.21, 0.11: about 1.05 * density (1.2 kept, for the margin).
 * Stride 2 along W, on a copy with each row's even and odd columns apart (the same kernel; rows
 * shorter than 28 pixels stay rows): about 1.1 * density plus 0.03 for the copy and 4 / K, 5 times
 * that on rows under 16 pixels; PP-OCRv4's and PaddleOCR's 3-channel 3x3 stems at 50% non-zeros
 * ran in 0.42-0.48x the dense time. At 50 / 30 / 20 / 10 / 5% non-zeros: 32->64 3x3 on 56x56 0.50, 0.33,
 * 0.24, 0.15, 0.11; 3->64 7x7 on 224x224 0.59, 0.38, 0.28, 0.18, 0.12; 3->16 3x3 on 112x112 0.74,
 * 0.47, 0.39, 0.60, 0.30; 64->128 3x3 on 28x28 (14-pixel rows) 2.78, 1.58, 0.98, 0.43, 0.22.
 */
export function directConvRatio(density: number, denseWinograd: boolean, rowPixels: number, strideW = 1, K = Infinity, rowBytes = 0): number {
  const cache = rowBytes > 45 * 1024 ? 1.4 : 1;
  if (strideW === 2) return 1.1 * density * (rowPixels < 16 ? 5 : 1) * cache + 4 / K + 0.03;
  if (!denseWinograd) return 1.2 * density * (rowPixels < 28 ? 1.45 : cache) + 6 / K;
  return 2.4 * density * (rowPixels < 28 ? 1.15 : cache) * winogradTileUse(rowPixels) / 0.875 + 6 / K;
}

/**
 * The share of Winograd's work that makes output: it runs a row's 2x2 tiles in blocks of 8, or in
 * runs of 4 where the last block would be half empty or less (assembly/winograd.ts), so a row of
 * 10 pixels (5 tiles) pays for 8, one of 20 (10 tiles) for 12, and one of 14 (7 tiles) for 8. The
 * direct model above
 * was fitted where 7/8 of it counts (rows of 14, 28 and 56 in blocks of 8). At 30% / 20% / 10%
 * non-zeros: 96->24 on 10x10 0.69, 0.50, 0.32; on 20x20 0.70, 0.52, 0.31; 64->64 on 56x56 0.81,
 * 0.56, 0.30; 128->128 on 14x14 0.88, 0.61, 0.33; 256->256 on 7x7 1.04, 0.73, 0.38; 96->24 on
 * 40x40 and 80x80 0.98, 0.63-0.68, 0.33 (bench/conv-fit.ts, relaxed build, AMD EPYC Zen 5 VM).
 */
function winogradTileUse(rowPixels: number): number {
  const tiles = Math.ceil(rowPixels / 2);
  const rest = tiles % 8;
  return tiles / (rest > 0 && rest <= 4 ? 4 * Math.ceil(tiles / 4) : 8 * Math.ceil(tiles / 8));
}

/**
 * The CSR SpMV, run once per row (Gemm/MatMul with < 16 rows), against the packed GEMM, fitted on
 * 1024x1024, 1000x1024, 1024x784, 300x784, 128x512 and 256x256 (outputs x inputs K) at 1, 2, 4
 * and 8 rows (bench/spmv-fit.ts, single Gemm layers, AMD EPYC Zen 5 VM; relaxed / simd):
 * one or two rows, 1024 inputs: 0.70-0.80 at 20% non-zeros, 0.36-0.42 at 10%, 0.20-0.22 at 5%;
 * 256 inputs 0.85-1.01, 0.50-0.59, 0.32-0.38. Four or eight rows: 1.31-1.36, 0.68-0.72, 0.37-0.41
 * on 784-1024 inputs (the dense GEMM reads each weight once for four rows; the SpMV does not). So
 * 3.6 (one or two rows) or 6.8 (more) times the density, plus about 45 / K for each output's own
 * work (its sum and store), which short rows do not amortise. (The older Xeon VM measured one row
 * at 4.5 times the density; its dense GEMV was faster against the gather.)
 */
export function spmvRatio(density: number, rows: number, K = Infinity): number {
  return (rows <= 2 ? 3.6 : 6.8) * density + 45 / K;
}

/** The model for a Gemm/MatMul with this many rows and K inputs per output. */
export function gemmRatio(density: number, rows: number, K = Infinity): number {
  return rows < SPMM_MIN_ROWS ? spmvRatio(density, rows, K) : spmmRatio(density, rows);
}

export type WeightKernel = 'dense' | 'sparse' | 'slim';

export interface WeightKernelChoice {
  kernel: WeightKernel;
  /** Why, for session.info(): the zeros and the predicted ratios, or 'forced'. */
  reason: string;
}

/** What the choice needs to know about one layer. */
export interface LayerCost {
  /** Number of weights. */
  weights: number;
  /** Non-zero weights: run only when the preference leaves the choice open. */
  countNonZero: () => number;
  /**
   * Whether the weights hold a zero (sampleHasZero: every weight up to SCAN_ALL_MAX, a strided
   * sample beyond): a layer without is dense, without counting (most of a dense model's cold start).
   */
  sampleHasZero?: () => boolean;
  /** Predicted sparse time / dense time at a density (one of the models above, bound to the layer's shape). */
  sparseRatio: (density: number) => number;
  /** Why the sparse kernels do not suit this layer (depthwise), if so. */
  sparseUnfit?: string;
  /** The margin for sparseRatio's error, when its model is tighter than SPARSE_MAX_RATIO allows for. */
  sparseMaxRatio?: number;
  /** Multiply-adds per run: a layer under TINY_WORK stays dense (nothing to gain but fixed costs). */
  work?: number;
  /**
   * For layers that can run slimmed: the share of output channels with a non-zero weight (the
   * slimmed layer's predicted time / dense time, plus a copy). Undefined when slimming does not apply.
   */
  keptRowShare?: () => number | undefined;
  /**
   * Set when the weights are int8 and the layer has an int8 kernel: its predicted time / the f32
   * dense time. It replaces f32 dense as the baseline (the layer's 'dense' kernel is the int8 one).
   */
  int8Ratio?: number;
}

/**
 * The int8-weight kernels against the f32 dense ones (bench/quant.ts, both builds, medians):
 * Linear 1.46-2.71x faster, 1x1 conv 1.03-1.84x. Taken at the low end of each range.
 */
export const INT8_LINEAR_RATIO = 0.65;
export const INT8_CONV1X1_RATIO = 0.85;

/** The slimmed layer's predicted time / dense time: its kept rows, and the planes copied into place. */
export function slimRatio(keptShare: number): number {
  return keptShare + 0.03;
}

/** The choice for one layer: forced by the preference, else the cheapest predicted kernel. */
export function chooseWeightKernel(pref: KernelPreference, layer: LayerCost): WeightKernelChoice {
  if (pref === 'dense') return { kernel: 'dense', reason: `${layer.int8Ratio !== undefined ? 'dense int8' : 'dense'} (forced)` };
  if (pref === 'sparse') return { kernel: 'sparse', reason: 'sparse (forced)' };
  if (pref === 'slim') {
    const kept = layer.keptRowShare?.();
    if (kept === undefined || kept === 0) return { kernel: kept === 0 ? 'sparse' : 'dense', reason: `${kept === 0 ? 'sparse' : 'dense'} (slim forced, but ${kept === 0 ? 'every output channel is zero' : 'only group-1 convs can be slimmed'})` };
    return { kernel: 'slim', reason: 'slim (forced)' };
  }
  if (layer.sparseUnfit) return { kernel: 'dense', reason: `dense (${layer.sparseUnfit})` };
  const int8Note = layer.int8Ratio !== undefined ? [`int8 kernel predicted at ${layer.int8Ratio.toFixed(2)}x the f32 dense time`] : [];
  const dense = layer.int8Ratio !== undefined ? 'dense int8' : 'dense';
  if (layer.work !== undefined && layer.work < TINY_WORK) return { kernel: 'dense', reason: `${dense} (${[`${layer.work} multiply-adds: too few to gain`, ...int8Note].join('; ')})` };
  if (layer.sampleHasZero && !layer.sampleHasZero()) {
    const looked = layer.weights <= SCAN_ALL_MAX ? 'no zeros' : `no zeros among ${ZERO_SAMPLE} sampled weights`;
    return { kernel: 'dense', reason: `${dense} (${looked})` };
  }
  const nnz = layer.countNonZero();
  const density = layer.weights > 0 ? nnz / layer.weights : 1;
  const zeros = `${(100 * (1 - density)).toFixed(1)}% zeros`;
  if (nnz === 0) return { kernel: 'sparse', reason: `sparse (${zeros}: nothing to multiply)` };
  // a layer that is mostly non-zero cannot gain from either: skip the row scan
  if (density >= 0.9) return { kernel: 'dense', reason: `${dense} (${[zeros, ...int8Note].join('; ')})` };
  const base = layer.int8Ratio ?? 1;
  const candidates: { kernel: WeightKernel; ratio: number; text: string }[] = [{ kernel: 'dense', ratio: base, text: '' }];
  if (density <= 0.5) {
    const r = layer.sparseRatio(density);
    candidates.push({ kernel: 'sparse', ratio: r, text: `sparse predicted at ${r.toFixed(2)}x the dense time` });
  }
  const kept = layer.keptRowShare?.();
  if (kept !== undefined && kept < 1) {
    const r = slimRatio(kept);
    candidates.push({ kernel: 'slim', ratio: r, text: `slim (${(100 * kept).toFixed(0)}% of output channels kept) predicted at ${r.toFixed(2)}x` });
  }
  // a kernel other than dense must promise a clear gain: the models have errors of ~20%
  let best = candidates[0];
  for (const c of candidates.slice(1)) {
    const margin = c.kernel === 'sparse' ? layer.sparseMaxRatio ?? SPARSE_MAX_RATIO : SPARSE_MAX_RATIO;
    if (c.ratio < margin * base && c.ratio < best.ratio) best = c;
  }
  const notes = candidates.slice(1).map((c) => c.text);
  return { kernel: best.kernel, reason: `${best.kernel === 'dense' ? dense : best.kernel} (${[zeros, ...int8Note, ...notes].join('; ')})` };
}

/**
 * Below this many multiply-adds a run, a layer stays dense: the sparse and slimmed kernels' fixed
 * costs outweigh what they save. Squeeze-and-excitation 1x1 convs on one pixel ([24,6] to
 * [480,120], 0.14k-58k multiply-adds) ran 1.1-3.2x slower slimmed or sparse than dense in
 * PP-OCRv4's detector and recognizer pruned to 70-95% zeros; each costs a few microseconds.
 */
export const TINY_WORK = 65536;

/** Weights looked at by sampleHasZero. */
export const ZERO_SAMPLE = 1024;

/** Layers up to this many weights are searched whole for a zero (a native scan: ~0.1 ms a million). */
export const SCAN_ALL_MAX = 1 << 20;

/**
 * Whether the weights hold a zero. Up to SCAN_ALL_MAX weights every one is looked at, with
 * TypedArray indexOf (native code: a cold start ran the sampling loop below in V8's interpreter,
 * ~50 us a layer). Larger layers look at ZERO_SAMPLE evenly spread weights. The stride is odd, so
 * it does not keep landing on the same lane of 2:4 or 1x4 blocks; a pruned layer (a share of its
 * weights, rows or blocks zeroed) shows that share in the sample, and only then is every weight counted.
 */
export function sampleHasZero(data: Float32Array): boolean {
  if (data.length <= SCAN_ALL_MAX) return data.indexOf(0) !== -1;
  const stride = Math.max(1, Math.floor(data.length / ZERO_SAMPLE)) | 1;
  for (let i = 0, n = 0; i < data.length && n < ZERO_SAMPLE; i += stride, n++) if (data[i] === 0) return true;
  return false;
}

/** Zeros found one indexOf call each before the count goes to the wasm kernel. */
const FEW_ZEROS = 64;

/**
 * Non-zeros among the weights (-0 is zero, NaN is not). A pretrained dense layer often holds a
 * few exact zeros: those are found by indexOf, one native scan in all; past FEW_ZEROS (a pruned
 * layer) a SIMD count in wasm does it, again without a JavaScript loop over the weights.
 */
export function countNonZero(k: Kernels, data: Float32Array): number {
  let zeros = 0;
  for (let i = data.indexOf(0); i !== -1; i = data.indexOf(0, i + 1)) {
    if (++zeros > FEW_ZEROS) return wasmCountNonZero(k, data);
  }
  return data.length - zeros;
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
    if (!PREFERENCES.includes(v as KernelPreference)) throw new ArgumentError(`${where} is ${JSON.stringify(v)}; use 'auto', 'dense', 'sparse' or 'slim'`);
    return v as KernelPreference;
  };
  if (typeof option === 'string') {
    const p = check(option, 'the kernels option');
    return () => p;
  }
  if (typeof option !== 'object' || option === null || Array.isArray(option)) throw new ArgumentError(`the kernels option must be 'auto', 'dense', 'sparse', 'slim' or an object of them keyed by node name`);
  const names = new Set(graph.nodes.map((n) => n.name));
  const map = new Map<string, KernelPreference>();
  for (const [name, v] of Object.entries(option)) {
    if (!names.has(name)) throw new ArgumentError(`the kernels option names node '${name}', which the model does not have (see session.info().nodes or 'edgeprune inspect' for node names)`);
    map.set(name, check(v, `kernels['${name}']`));
  }
  return (n) => map.get(n) ?? 'auto';
}
