// Broadcasting binary ops: Add, Sub, Mul, Div, Max, Min, Pow, PRelu.
import { binaryRun, broadcastShape, type BinaryOp } from '../../kernels/eltwise.js';
import type { Executor, OpDef } from '../op.js';
import { need, size, nodeError } from './util.js';

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
      return {
        kernel: `eltwise:${op}`,
        flops: n,
        scratchBytes: 0,
        // writing over an input is legal when that input is not broadcast
        inPlaceInput: size(a) === n ? 0 : size(b) === n ? 1 : undefined,
        run(ins, outs) {
          binaryRun(ctx.k, op, ins[0], a, ins[1], b, outs[0]);
        },
      };
    },
  };
}

export const Add = binaryOp('add');
export const Sub = binaryOp('sub');
export const Mul = binaryOp('mul');
export const Div = binaryOp('div');
export const Max = binaryOp('max');
export const Min = binaryOp('min');
export const Pow = binaryOp('pow');

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
