// Host side of Transpose: checks the permutation, simplifies it (drops size-1 axes, merges axes
// that stay adjacent) and hands the wasm kernel at most 6 strided axes at a time.
import { ArgumentError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { checkData, checkDims, fmt, sizeOf } from './check.js';

/** Axes the kernel takes in one call (assembly/transpose.ts). */
const KERNEL_AXES = 6;

/** Throws unless `perm` is a permutation of 0..rank-1. */
export function checkPerm(perm: readonly number[], rank: number): void {
  const bad = () =>
    new ArgumentError(`Transpose: perm [${Array.isArray(perm) ? perm.join(', ') : String(perm)}] is not a permutation of 0..${rank - 1}; give each axis of the rank-${rank} input exactly once`);
  if (!Array.isArray(perm) || perm.length !== rank) throw bad();
  const seen = new Array<boolean>(rank).fill(false);
  for (const p of perm) {
    if (!Number.isInteger(p) || p < 0 || p >= rank || seen[p]) throw bad();
    seen[p] = true;
  }
}

/** ONNX default perm: the axes reversed. */
export function defaultPerm(rank: number): number[] {
  return Array.from({ length: rank }, (_, i) => rank - 1 - i);
}

/** Output dims of Transpose: out[i] = dims[perm[i]] (perm defaults to reversed axes). */
export function transposeDims(dims: readonly number[], perm?: readonly number[]): number[] {
  if (!globalThis.EDGEPRUNE_RUNTIME) checkDims(dims, 'Transpose input'); // the runtime's dims are checked (runtime/specialize.ts)
  const p = perm ?? defaultPerm(dims.length);
  checkPerm(p, dims.length);
  return p.map((a) => dims[a]);
}

/** One simplified axis, in output order: its size and its element strides in input and output. */
export interface TransposeAxis {
  dim: number;
  inStride: number;
  outStride: number;
}

/**
 * Simplifies a transpose to the fewest strided axes (output order): size-1 axes are dropped and
 * runs of axes that are consecutive in both input and output are merged into one.
 */
export function transposePlan(dims: readonly number[], perm: readonly number[]): TransposeAxis[] {
  const rank = dims.length;
  const inStride = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStride[i] = s;
    s *= dims[i];
  }
  // kept input axes, in output order
  const kept = perm.filter((a) => dims[a] !== 1);
  // rank of each kept axis among kept input axes, so "adjacent in the input" ignores size-1 axes
  const sortedKept = [...kept].sort((a, b) => a - b);
  const pos = new Map<number, number>(sortedKept.map((a, i) => [a, i]));
  const groups: { dim: number; inStride: number }[] = [];
  let prev = -2;
  for (const a of kept) {
    const q = pos.get(a)!;
    if (groups.length && q === prev + 1) {
      const g = groups[groups.length - 1];
      g.dim *= dims[a];
      g.inStride = inStride[a]; // the innermost axis of a merged group sets its stride
    } else {
      groups.push({ dim: dims[a], inStride: inStride[a] });
    }
    prev = q;
  }
  const axes: TransposeAxis[] = groups.map((g) => ({ dim: g.dim, inStride: g.inStride, outStride: 0 }));
  let o = 1;
  for (let i = axes.length - 1; i >= 0; i--) {
    axes[i].outStride = o;
    o *= axes[i].dim;
  }
  return axes;
}

/**
 * Transpose on kernel pointers: y (sizeOf(dims) floats) = x (dims) permuted by perm
 * (default: reversed axes). Returns the output dims. Bit-exact.
 */
export function transposeRun(k: Kernels, x: number, dims: readonly number[], y: number, perm?: readonly number[]): number[] {
  const outDims = transposeDims(dims, perm);
  const n = sizeOf(dims);
  k.requireFloats(x, n, 'Transpose input');
  k.requireFloats(y, n, 'Transpose output');
  if (n === 0) return outDims;
  const axes = transposePlan(dims, perm ?? defaultPerm(dims.length));
  // The kernel takes 6 axes; any more are looped here. The inner set always holds the last
  // output axis and the axis the input is contiguous along, so the kernel keeps its fast paths.
  let inner: TransposeAxis[] = axes;
  let outer: TransposeAxis[] = [];
  if (axes.length > KERNEL_AXES) {
    const must = new Set<number>([axes.length - 1, axes.findIndex((a) => a.inStride === 1)]);
    const chosen = new Set<number>(must);
    for (let i = axes.length - 1; i >= 0 && chosen.size < KERNEL_AXES; i--) chosen.add(i);
    inner = axes.filter((_, i) => chosen.has(i));
    outer = axes.filter((_, i) => !chosen.has(i));
  }
  const blk = new Int32Array(3 * KERNEL_AXES);
  const pad = KERNEL_AXES - inner.length;
  for (let i = 0; i < KERNEL_AXES; i++) {
    const a = i < pad ? { dim: 1, inStride: 0, outStride: 0 } : inner[i - pad];
    blk[i] = a.dim;
    blk[KERNEL_AXES + i] = a.inStride;
    blk[2 * KERNEL_AXES + i] = a.outStride;
  }
  const b = k.uploadI32(blk);
  try {
    const idx = new Array<number>(outer.length).fill(0);
    for (;;) {
      let xo = 0;
      let yo = 0;
      for (let i = 0; i < outer.length; i++) {
        xo += idx[i] * outer[i].inStride;
        yo += idx[i] * outer[i].outStride;
      }
      k.fn.transpose_f32(x + xo * 4, y + yo * 4, b);
      let i = outer.length - 1;
      while (i >= 0 && ++idx[i] === outer[i].dim) idx[i--] = 0;
      if (i < 0) break;
    }
  } finally {
    k.free(b);
  }
  return outDims;
}

/** One-shot Transpose on a host array. */
export function transpose(k: Kernels, data: Float32Array, dims: readonly number[], perm?: readonly number[]): { data: Float32Array; dims: number[] } {
  checkDims(dims, 'Transpose input');
  checkData(data, dims, `Transpose input ${fmt(dims)}`);
  const n = sizeOf(dims);
  const x = k.upload(data);
  const y = k.allocF32(n);
  try {
    const outDims = transposeRun(k, x, dims, y, perm);
    return { data: k.download(y, n), dims: outDims };
  } finally {
    k.free(x, y);
  }
}
