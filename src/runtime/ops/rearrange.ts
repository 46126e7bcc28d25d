// Ops that repeat or rearrange elements: Expand and Tile (repeats are zero input strides),
// DepthToSpace and SpaceToDepth (a transpose of a 6-D view of the input). Each is one strided
// copy (strided-copy.ts) described once at build time.
import { attrInt, attrString } from '../../graph/attrs.js';
import type { Node } from '../../graph/ir.js';
import { toNumbers } from '../../graph/tensor.js';
import { broadcastShape } from '../../kernels/eltwise.js';
import { transposePlan } from '../../kernels/transpose.js';
import type { Executor, OpDef, OpInput } from '../op.js';
import { stridedCopyTable, stridesOf, type CopyAxis } from './strided-copy.js';
import { constInput, fmt, need, nodeError, size } from './util.js';

/** An op whose output is one strided copy of its input: `plan` gives the output dims and the copy's axes. */
function copyOp(plan: (node: Node, inputs: (OpInput | undefined)[]) => { dims: number[]; axes: () => CopyAxis[] }, constantInputs?: number[]): OpDef {
  return {
    constantInputs,
    shape(node, inputs) {
      return [plan(node, inputs).dims];
    },
    build(ctx): Executor {
      const { dims, axes } = plan(ctx.node, ctx.inputs);
      const copy = size(dims) === 0 ? () => {} : stridedCopyTable(ctx, axes());
      return { kernel: 'copy', flops: 0, scratchBytes: 0, run: (ins, outs) => copy(ins[0], outs[0]) };
    },
  };
}

/** Non-negative integers from a constant input (a shape or repeat counts). */
function counts(node: Node, inputs: (OpInput | undefined)[], i: number, what: string): number[] {
  const v = toNumbers(constInput(node, inputs, i, what));
  if (v.some((d) => !Number.isSafeInteger(d) || d < 0)) throw nodeError(node, `${what} [${v.join(', ')}] must be non-negative integers`);
  return v;
}

/** The copy that broadcasts x (numpy rules) to dims: an axis x has as 1, or lacks, is read again for every output index (stride 0). */
export function broadcastAxes(x: readonly number[], dims: readonly number[]): CopyAxis[] {
  const xs = stridesOf(x);
  const os = stridesOf(dims);
  const lead = dims.length - x.length;
  return dims.map((d, i) => ({ dim: d, inStride: i < lead || x[i - lead] === 1 ? 0 : xs[i - lead], outStride: os[i] }));
}

/** Expand: numpy broadcasting of the input against the shape input (either may have the larger dim). */
export const Expand = copyOp((node, inputs) => {
  const x = need(node, inputs, 0).dims;
  const dims = broadcastShape(x, counts(node, inputs, 1, 'shape'));
  return { dims, axes: () => broadcastAxes(x, dims) };
}, [1]);

/** Tile: axis i repeated repeats[i] times; each becomes a repeat axis (input stride 0) over a copy axis. */
export const Tile = copyOp((node, inputs) => {
  const x = need(node, inputs, 0).dims;
  const reps = counts(node, inputs, 1, 'repeats');
  if (reps.length !== x.length) throw nodeError(node, `repeats has ${reps.length} counts for an input of rank ${x.length} ${fmt(x)}; give one per axis`);
  const dims = x.map((d, i) => d * reps[i]);
  return {
    dims,
    axes() {
      const xs = stridesOf(x);
      const os = stridesOf(dims);
      return x.flatMap((d, i) => [
        { dim: reps[i], inStride: 0, outStride: os[i] * d },
        { dim: d, inStride: xs[i], outStride: os[i] },
      ]);
    },
  };
}, [1]);

/** The 4-D input and block size of DepthToSpace / SpaceToDepth, checked. */
function blockInput(node: Node, inputs: (OpInput | undefined)[]): { x: number[]; b: number } {
  const x = need(node, inputs, 0).dims;
  const b = attrInt(node, 'blocksize', 0);
  if (x.length !== 4) throw nodeError(node, `the input must be 4-D [N, C, H, W], got ${fmt(x)}`);
  if (!Number.isSafeInteger(b) || b < 1) throw nodeError(node, `blocksize ${b} must be a positive integer`);
  return { x, b };
}

/** The input viewed as 6-D and the permutation that makes it the output, as a copy (transposePlan's axes are copy axes). */
function viewAxes(view: number[], perm: number[]): () => CopyAxis[] {
  return () => transposePlan(view, perm);
}

/** DepthToSpace: channels move into b x b blocks of pixels, in DCR (depth-column-row, default) or CRD order. */
export const DepthToSpace = copyOp((node, inputs) => {
  const { x, b } = blockInput(node, inputs);
  const [n, c, h, w] = x;
  if (c % (b * b) !== 0) throw nodeError(node, `${c} channels do not split into ${b}x${b} blocks (need a multiple of ${b * b})`);
  const mode = attrString(node, 'mode', 'DCR');
  if (mode !== 'DCR' && mode !== 'CRD') throw nodeError(node, `mode '${mode}' is not DCR or CRD`);
  const co = c / (b * b);
  return {
    dims: [n, co, h * b, w * b],
    axes: mode === 'DCR' ? viewAxes([n, b, b, co, h, w], [0, 3, 4, 1, 5, 2]) : viewAxes([n, co, b, b, h, w], [0, 1, 4, 2, 5, 3]),
  };
});

/** SpaceToDepth: each b x b block of pixels becomes b*b channels (the inverse of DepthToSpace DCR). */
export const SpaceToDepth = copyOp((node, inputs) => {
  const { x, b } = blockInput(node, inputs);
  const [n, c, h, w] = x;
  if (h % b !== 0 || w % b !== 0) throw nodeError(node, `the ${h}x${w} map does not split into ${b}x${b} blocks`);
  return { dims: [n, c * b * b, h / b, w / b], axes: viewAxes([n, c, h / b, b, w / b, b], [0, 3, 5, 1, 2, 4]) };
});
