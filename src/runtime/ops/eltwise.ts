// Broadcasting binary ops: Add, Sub, Mul, Div, Pow, PRelu; Max, Min, Sum, Mean with any number of
// inputs; comparisons and logic (booleans held as 0 / 1 floats) and Where.
import { binaryPrepared, broadcastShape, type BinaryOp } from '../../kernels/eltwise.js';
import type { Node } from '../../graph/ir.js';
import type { Executor, OpDef, OpInput } from '../op.js';
import { need, size, nodeError } from './util.js';
import { broadcastAxes } from './rearrange.js';
import { stridedCopyTable } from './strided-copy.js';

function binaryOp(op: BinaryOp): OpDef {
  return {
    shape(node, inputs) {
      if (node.inputs.filter((n) => n !== '').length !== 2) throw nodeError(node, 'edgeprune supports exactly two inputs');
      return [broadcastShape(need(node, inputs, 0).dims, need(node, inputs, 1).dims)];
    },
    build(ctx): Executor {
      const a = need(ctx.node, ctx.inputs, 0).dims;
      const b = need(ctx.node, ctx.inputs, 1).dims;
      const out = ctx.outputDims[0];
      const n = size(out);
      const run = binaryPrepared(ctx.k, op, a, b);
      return {
        kernel: `eltwise:${op}`,
        flops: n,
        scratchBytes: 0,
        // writing over an input is legal when that input is not broadcast
        inPlaceInput: size(a) === n ? 0 : size(b) === n ? 1 : undefined,
        run(ins, outs) {
          run(ins[0], ins[1], outs[0]);
        },
      };
    },
  };
}

export const Add = binaryOp('add');
export const Sub = binaryOp('sub');
export const Mul = binaryOp('mul');
export const Div = binaryOp('div');
/**
 * Max, Min, Sum, Mean with any number of inputs, all broadcast together (ONNX's variadic forms;
 * Caffe2-era models write Sum for residual adds). Two inputs run as the binary op; otherwise y
 * starts as input 0 spread to y's shape and each further input is combined into it in place.
 */
function variadicOp(op: 'add' | 'max' | 'min', mean = false): OpDef {
  const pair = binaryOp(op);
  const dimsOf = (node: Node, inputs: (OpInput | undefined)[]) => node.inputs.map((_, i) => need(node, inputs, i).dims);
  return {
    shape(node, inputs) {
      const ds = dimsOf(node, inputs);
      if (!ds.length) throw nodeError(node, 'needs at least one input');
      return [ds.reduce((a, b) => broadcastShape(a, b))];
    },
    build(ctx): Executor {
      const ds = dimsOf(ctx.node, ctx.inputs);
      if (ds.length === 2 && !mean) return pair.build(ctx);
      const out = ctx.outputDims[0];
      const first = stridedCopyTable(ctx, broadcastAxes(ds[0], out));
      // combine[i - 1] folds input i into y
      const combine = ds.slice(1).map((d) => binaryPrepared(ctx.k, op, out, d));
      let scale = 0;
      if (mean) {
        scale = ctx.alloc(4);
        ctx.k.f32[scale >> 2] = 1 / ds.length;
      }
      const divide = mean ? binaryPrepared(ctx.k, 'mul', out, []) : undefined;
      return {
        kernel: `eltwise:${mean ? 'mean' : op}`,
        flops: size(out) * ds.length,
        scratchBytes: 0,
        run(ins, outs) {
          first(ins[0], outs[0]);
          for (let i = 1; i < ds.length; i++) combine[i - 1](outs[0], ins[i], outs[0]);
          divide?.(outs[0], scale, outs[0]);
        },
      };
    },
  };
}

export const Max = variadicOp('max');
export const Min = variadicOp('min');
export const Sum = variadicOp('add');
export const Mean = variadicOp('add', true);
export const Pow = binaryOp('pow');
export const Greater = binaryOp('greater');
export const Less = binaryOp('less');
export const Equal = binaryOp('equal');
export const GreaterOrEqual = binaryOp('greaterOrEqual');
export const LessOrEqual = binaryOp('lessOrEqual');
export const And = binaryOp('and');
export const Or = binaryOp('or');
export const Xor = binaryOp('xor');

/**
 * Where(cond, a, b), all three broadcast: y is filled with b (a strided copy), then a is selected
 * where cond is true. When cond and a alone do not broadcast to y's shape, a is first spread to it
 * in the scratch.
 */
export const Where: OpDef = {
  shape(node, inputs) {
    const [c, a, b] = [0, 1, 2].map((i) => need(node, inputs, i).dims);
    return [broadcastShape(broadcastShape(c, a), b)];
  },
  build(ctx): Executor {
    const [c, a, b] = [0, 1, 2].map((i) => need(ctx.node, ctx.inputs, i).dims);
    const out = ctx.outputDims[0];
    const n = size(out);
    if (n === 0) return { kernel: 'where', flops: 0, scratchBytes: 0, run() {} };
    const fillB = stridedCopyTable(ctx, broadcastAxes(b, out));
    const ca = broadcastShape(c, a);
    const spread = ca.length !== out.length || ca.some((d, i) => d !== out[i]) ? stridedCopyTable(ctx, broadcastAxes(a, out)) : undefined;
    const select = binaryPrepared(ctx.k, 'select', c, spread ? out : a);
    return {
      kernel: 'where',
      flops: n,
      scratchBytes: spread ? n * 4 : 0,
      run(ins, outs, scratch) {
        fillB(ins[2], outs[0]);
        if (spread) spread(ins[1], scratch);
        select(ins[0], spread ? scratch : ins[1], outs[0]);
      },
    };
  },
};

/** PRelu's slope broadcasts unidirectionally to X (ONNX), e.g. [C, 1, 1] against [N, C, H, W]. */
export const PRelu: OpDef = {
  shape(node, inputs) {
    const x = need(node, inputs, 0).dims;
    const out = broadcastShape(x, need(node, inputs, 1).dims);
    if (out.length !== x.length || out.some((d, i) => d !== x[i])) throw nodeError(node, 'slope does not broadcast to the input');
    return [x];
  },
  build: binaryOp('prelu').build,
};
