// ReduceMean, ReduceSum, ReduceMax, ReduceMin, ReduceSumSquare, ReduceL2, ReduceL1 over any axes
// (axes as attribute, or as input from opset 13 for ReduceSum and from opset 18 for the others);
// ArgMax, ArgMin; CumSum.
import { attrInt, attrInts } from '../../graph/attrs.js';
import type { Node } from '../../graph/ir.js';
import { argPlan, argRun, cumSumPlan, cumSumRun, reducePlan, reduceRun, reduceScratchFloats, type ArgOptions, type ReduceOp, type ReduceOptions } from '../../kernels/reduce.js';
import type { Executor, OpDef, OpInput } from '../op.js';
import { constInput, need, nodeError, optionalConstNumbers, size } from './util.js';
import { toNumbers } from '../../graph/tensor.js';

function options(node: Node, inputs: (OpInput | undefined)[]): ReduceOptions {
  const fromInput = optionalConstNumbers(node, inputs, 1, 'axes');
  return {
    axes: fromInput ?? attrInts(node, 'axes', []),
    keepdims: attrInt(node, 'keepdims', 1) === 1,
    noopWithEmptyAxes: attrInt(node, 'noop_with_empty_axes', 0) === 1,
  };
}

function reduceOp(op: ReduceOp): OpDef {
  return {
    constantInputs: [1],
    shape(node, inputs) {
      return [reducePlan(need(node, inputs, 0).dims, options(node, inputs), node.op).outDims];
    },
    build(ctx): Executor {
      const x = need(ctx.node, ctx.inputs, 0).dims;
      const opts = options(ctx.node, ctx.inputs);
      const plan = reducePlan(x, opts, ctx.node.op);
      return {
        kernel: `reduce:${op}`,
        flops: size(x),
        scratchBytes: reduceScratchFloats(op, plan, size(x)) * 4,
        run(ins, outs, scratch) {
          reduceRun(ctx.k, op, ins[0], x, outs[0], scratch, opts);
        },
      };
    },
  };
}

export const ReduceSum = reduceOp('sum');
export const ReduceMean = reduceOp('mean');
export const ReduceMax = reduceOp('max');
export const ReduceMin = reduceOp('min');
export const ReduceSumSquare = reduceOp('sumSquare');
export const ReduceL2 = reduceOp('l2');
export const ReduceL1 = reduceOp('l1');

/** ArgMax / ArgMin: the indices as float32 (ONNX says int64; the values are the same below 2^24). */
function argOp(min: boolean): OpDef {
  const options = (node: Node): ArgOptions => ({ axis: attrInt(node, 'axis', 0), keepdims: attrInt(node, 'keepdims', 1) === 1, selectLastIndex: attrInt(node, 'select_last_index', 0) === 1 });
  return {
    shape(node, inputs) {
      return [argPlan(need(node, inputs, 0).dims, options(node), node.op).outDims];
    },
    build(ctx): Executor {
      const x = need(ctx.node, ctx.inputs, 0).dims;
      const opts = options(ctx.node);
      return { kernel: `reduce:arg${min ? 'min' : 'max'}`, flops: size(x), scratchBytes: 0, run: (ins, outs) => void argRun(ctx.k, min, ins[0], x, outs[0], opts) };
    },
  };
}

export const ArgMax = argOp(false);
export const ArgMin = argOp(true);


/** CumSum: the axis is a constant input (a scalar, or one value); exclusive and reverse as attributes. */
function cumSumAxis(node: Node, inputs: (OpInput | undefined)[], rank: number): number {
  const axis = toNumbers(constInput(node, inputs, 1, 'the axis'));
  if (axis.length !== 1) throw nodeError(node, `the axis input holds ${axis.length} values; CumSum takes one`);
  cumSumPlan(new Array(rank).fill(1), axis[0]); // range check
  return axis[0];
}

export const CumSum: OpDef = {
  constantInputs: [1],
  shape(node, inputs) {
    const x = need(node, inputs, 0).dims;
    cumSumAxis(node, inputs, x.length);
    return [x];
  },
  build(ctx): Executor {
    const x = need(ctx.node, ctx.inputs, 0).dims;
    const opts = { axis: cumSumAxis(ctx.node, ctx.inputs, x.length), exclusive: attrInt(ctx.node, 'exclusive', 0) === 1, reverse: attrInt(ctx.node, 'reverse', 0) === 1 };
    return { kernel: 'cumsum', flops: size(x), scratchBytes: 0, inPlaceInput: 0, run: (ins, outs) => cumSumRun(ctx.k, ins[0], x, outs[0], opts) };
  },
};
