// Host side of assembly/prune.ts: pointers, scratch and the bin walk of a selection spread over
// several buffers. Everything numeric runs in the kernels; this file only moves blocks around.
import type { Kernels } from '../wasm/kernels.js';
import { transposeRun } from '../kernels/transpose.js';
import { inversePerm, type PrunableLayer } from './layers.js';

/** The radix passes of assembly/prune.ts prune_threshold: (shift, bits), high bits first. */
const RADIX: readonly { shift: number; bits: number }[] = [
  { shift: 21, bits: 11 },
  { shift: 10, bits: 11 },
  { shift: 0, bits: 10 },
];
export const HIST_BINS = 2048;

/** What a selection found: the key of the k-th smallest score, and how many equal keys to prune. */
export interface Threshold {
  key: number;
  ties: number;
}

/** Uploads a layer's weights in the canonical [outputs, inputs] layout (a new block). */
export function uploadCanonical(k: Kernels, layer: PrunableLayer): number {
  const p = k.upload(layer.tensor.data);
  if (!layer.view) return p;
  const q = k.allocF32(layer.tensor.data.length);
  try {
    transposeRun(k, p, layer.view.dims, q, layer.view.perm);
  } catch (e) {
    k.free(q);
    throw e;
  } finally {
    k.free(p);
  }
  return q;
}

/** Downloads canonical weights back into the layer's storage layout. */
export function downloadStorage(k: Kernels, layer: PrunableLayer, p: number): Float32Array {
  const n = layer.tensor.data.length;
  if (!layer.view) return k.download(p, n);
  const { dims, perm } = layer.view;
  const q = k.allocF32(n);
  try {
    transposeRun(k, p, perm.map((a) => dims[a]), q, inversePerm(perm));
    return k.download(q, n);
  } finally {
    k.free(q);
  }
}

export function countNonZero(k: Kernels, p: number, n: number): number {
  return k.fn.prune_count_nonzero(p, n) as number;
}

/** Zeroes the `count` lowest-scored of n weights (ties: lower index first). */
export function pruneLowest(k: Kernels, w: number, scores: number, n: number, count: number): void {
  if (count <= 0) return;
  const hist = k.heap.alloc(HIST_BINS * 4);
  const out = k.heap.alloc(8);
  try {
    k.fn.prune_threshold(scores, n, count, hist, out);
    const u = new Uint32Array(k.i32.buffer, out, 2);
    k.fn.prune_apply_threshold(w, scores, n, u[0] | 0, u[1] | 0);
  } finally {
    k.free(hist, out);
  }
}

/**
 * The threshold of the `count`-th smallest score over several buffers (1 <= count <= total).
 * `visit` is called once per radix pass and must hand every buffer's scores to `hist`, always in
 * the same order; buffers may be created and freed inside the call.
 */
export function multiThreshold(k: Kernels, count: number, visit: (hist: (scores: number, n: number) => void) => void): Threshold {
  const h = k.heap.alloc(HIST_BINS * 4);
  try {
    let prefix = 0;
    let hiMask = 0;
    let need = count;
    for (const { shift, bits } of RADIX) {
      const binMask = (1 << bits) - 1;
      k.i32.fill(0, h >> 2, (h >> 2) + HIST_BINS);
      visit((scores, n) => k.fn.prune_hist(scores, n, hiMask | 0, prefix | 0, shift, binMask, h));
      const counts = new Uint32Array(k.i32.buffer, h, 1 << bits);
      let b = 0;
      while (need > counts[b] && b < binMask) need -= counts[b++];
      prefix = (prefix | (b << shift)) >>> 0;
      hiMask = (hiMask | (binMask << shift)) >>> 0;
    }
    return { key: prefix, ties: need };
  } finally {
    k.free(h);
  }
}

/** Applies a threshold to one buffer of a multi-buffer selection; returns the ties left. */
export function applyThreshold(k: Kernels, w: number, scores: number, n: number, t: Threshold): number {
  return k.fn.prune_apply_threshold(w, scores, n, t.key | 0, t.ties | 0) as number;
}
