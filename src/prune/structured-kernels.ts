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

/** Chunk g of `t` along axis 0 when axis 0 is `groups` equal contiguous chunks (a view, no copy). */
function chunk(t: ConstTensor, groups: number, g: number): ConstTensor {
  const rows = t.dims[0] / groups;
  const size = rows * numel(t.dims.slice(1));
  return { dtype: t.dtype, dims: [rows, ...t.dims.slice(1)], data: t.data.subarray(g * size, (g + 1) * size) as TensorArray };
}

/**
 * channelPowerSums for a grouped axis (ParamSlice.groups): `axis` holds local indices within
 * blocks and chunk g of axis 0 belongs to block g, so the sum for channel g·L + j only reads
 * chunk g. Returns groups·L entries.
 */
export function groupedPowerSums(k: Kernels | undefined, t: ConstTensor, axis: number, groups: number, p: 1 | 2): Float64Array {
  const local = t.dims[axis];
  const out = new Float64Array(groups * local);
  for (let g = 0; g < groups; g++) out.set(channelPowerSums(k, chunk(t, groups, g), axis, p), g * local);
  return out;
}

/**
 * gatherAxis for a grouped axis: chunk g of axis 0 keeps the local indices `keep[g]` along
 * `axis`. Every chunk must keep the same count (the result stays one dense tensor).
 */
export function groupedGather(k: Kernels | undefined, t: ConstTensor, axis: number, keep: readonly (readonly number[])[]): ConstTensor {
  const groups = keep.length;
  if (keep.some((kg) => kg.length !== keep[0].length)) throw new Error(`grouped cut keeps unequal counts per block (${keep.map((kg) => kg.length).join(', ')})`);
  const parts = keep.map((kg, g) => gatherAxis(k, chunk(t, groups, g), axis, kg));
  const dims = t.dims.slice();
  dims[axis] = keep[0].length;
  const data = allocArray(t.dtype, numel(dims));
  let off = 0;
  for (const part of parts) {
    (data as Float32Array).set(part.data as Float32Array, off);
    off += part.data.length;
  }
  return { dtype: t.dtype, dims, data };
}
