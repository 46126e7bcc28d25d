// One strided copy engine for every data-movement op (Transpose, Slice, Concat, Split, Pad,
// Gather): the wasm transpose_f32 kernel moves a box of up to 6 axes, each with its own input
// and output stride. The description is written once into a block the executor owns; run()
// only calls the kernel.
import type { BuildContext } from '../op.js';

export interface CopyAxis {
  dim: number;
  /** Elements between neighbours along this axis, in the input (may be negative) and the output. */
  inStride: number;
  outStride: number;
}

const KERNEL_AXES = 6;

/**
 * Returns copy(x, y) moving the box described by `axes` (outermost first) from x to y, both
 * element pointers in bytes. Size-1 axes are dropped; more than 6 axes loop the outer ones here.
 */
export function stridedCopyTable(ctx: BuildContext, axes: CopyAxis[]): (x: number, y: number) => void {
  const live = axes.filter((a) => a.dim !== 1);
  if (live.some((a) => a.dim === 0)) return () => {};
  const inner = live.slice(-KERNEL_AXES);
  const outer = live.slice(0, Math.max(0, live.length - KERNEL_AXES));
  const blk = new Int32Array(3 * KERNEL_AXES);
  const pad = KERNEL_AXES - inner.length;
  for (let i = 0; i < KERNEL_AXES; i++) {
    const a = i < pad ? { dim: 1, inStride: 0, outStride: 0 } : inner[i - pad];
    blk[i] = a.dim;
    blk[KERNEL_AXES + i] = a.inStride; // negative strides wrap in wasm32 arithmetic, as intended
    blk[2 * KERNEL_AXES + i] = a.outStride;
  }
  const ptr = ctx.alloc(blk.byteLength);
  ctx.k.i32.set(blk, ptr >> 2);
  const fn = ctx.k.fn.transpose_f32;
  if (outer.length === 0) return (x, y) => void fn(x, y, ptr);
  // precompute the outer offsets once
  const offsets: [number, number][] = [];
  const idx = new Array<number>(outer.length).fill(0);
  for (;;) {
    let xo = 0;
    let yo = 0;
    for (let i = 0; i < outer.length; i++) {
      xo += idx[i] * outer[i].inStride;
      yo += idx[i] * outer[i].outStride;
    }
    offsets.push([xo * 4, yo * 4]);
    let i = outer.length - 1;
    while (i >= 0 && ++idx[i] === outer[i].dim) idx[i--] = 0;
    if (i < 0) break;
  }
  return (x, y) => {
    for (const [xo, yo] of offsets) fn(x + xo, y + yo, ptr);
  };
}

/** Row-major element strides of dims. */
export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}
