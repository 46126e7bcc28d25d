// Host side of assembly/structured.ts: per-channel Ln sums and channel compaction of weights.
// float32 weights (the common case, and float16 which import widens to float32) go through wasm;
// other dtypes (float64, ints) take a plain loop — they are rare and small in practice.
import type { ConstTensor, TensorArray } from '../graph/ir.js';
import { allocArray, numel } from '../graph/tensor.js';
import type { Kernels } from '../wasm/kernels.js';

/** [outer, C, inner] around `axis`. */
export function axisView(dims: readonly number[], axis: number): { outer: number; c: number; inner: number } {
  return { outer: numel(dims.slice(0, axis)), c: dims[axis], inner: numel(dims.slice(axis + 1)) };
}

/** Per index j of `axis`: the sum of |w|^p over the slice w[..., j, ...] (p = 1 or 2). */
export function channelPowerSums(k: Kernels | undefined, t: ConstTensor, axis: number, p: 1 | 2): Float64Array {
  const { outer, c, inner } = axisView(t.dims, axis);
  const out = new Float64Array(c);
  if (k && t.data instanceof Float32Array && t.data.length > 0) {
    const src = k.upload(t.data);
    const dst = k.allocF32(c);
    try {
      k.fn.channel_lnorm(src, outer, c, inner, p, dst);
      const sums = k.download(dst, c);
      for (let j = 0; j < c; j++) out[j] = sums[j];
    } finally {
      k.free(src, dst);
    }
    return out;
  }
  const d = t.data as ArrayLike<number | bigint>;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < c; j++) {
      const base = (o * c + j) * inner;
      let s = 0;
      for (let i = 0; i < inner; i++) {
        const x = Number(d[base + i]);
        s += p === 1 ? Math.abs(x) : x * x;
      }
      out[j] += s;
    }
  }
  return out;
}

/** A copy of `t` keeping only indices `keep` (ascending) along `axis`. */
export function gatherAxis(k: Kernels | undefined, t: ConstTensor, axis: number, keep: readonly number[]): ConstTensor {
  const { outer, c, inner } = axisView(t.dims, axis);
  const dims = t.dims.slice();
  dims[axis] = keep.length;
  const n = outer * keep.length * inner;
  if (k && t.data instanceof Float32Array && n > 0) {
    const src = k.upload(t.data);
    const idx = k.uploadI32(Int32Array.from(keep));
    const dst = k.allocF32(n);
    try {
      k.fn.gather_channels(src, outer, c, inner, idx, keep.length, dst);
      return { dtype: t.dtype, dims, data: k.download(dst, n) };
    } finally {
      k.free(src, idx, dst);
    }
  }
  const data: TensorArray = allocArray(t.dtype, n);
  const src = t.data;
  let q = 0;
  for (let o = 0; o < outer; o++) {
    for (const j of keep) {
      const base = (o * c + j) * inner;
      for (let i = 0; i < inner; i++) (data as Float32Array)[q++] = (src as Float32Array)[base + i];
    }
  }
  return { dtype: t.dtype, dims, data };
}
