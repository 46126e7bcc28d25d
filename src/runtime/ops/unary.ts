// Elementwise activations and math, all in place when the input dies here.
import { attrFloat, attrString } from '../../graph/attrs.js';
import type { Node } from '../../graph/ir.js';
import { SELU_ALPHA, SELU_GAMMA, unaryPrepared, type UnaryOp, type UnaryParams } from '../../kernels/unary.js';
import type { Executor, OpDef, OpInput } from '../op.js';
import { need, nodeError, optionalConstNumbers, size } from './util.js';

function unaryOp(op: UnaryOp, params: (node: Node, inputs: (OpInput | undefined)[], opset: number) => UnaryParams = () => ({}), constantInputs?: number[]): OpDef {
  return {
    constantInputs,
    shape(node, inputs) {
      return [need(node, inputs, 0).dims];
    },
    build(ctx): Executor {
      const dims = ctx.outputDims[0];
      const run = unaryPrepared(ctx.k, op, dims, params(ctx.node, ctx.inputs, ctx.opset));
      return {
        kernel: `unary:${op}`,
        flops: size(dims),
        scratchBytes: 0,
        inPlaceInput: 0,
        run(ins, outs) {
          run(ins[0], outs[0]);
        },
      };
    },
  };
}

/** Clip's bounds: attributes before opset 11, optional constant inputs from 11. */
export function clipBounds(node: Node, inputs: (OpInput | undefined)[], opset: number): { min: number; max: number } {
  if (opset < 11) return { min: attrFloat(node, 'min', -Infinity), max: attrFloat(node, 'max', Infinity) };
  const lo = optionalConstNumbers(node, inputs, 1, 'Clip min');
  const hi = optionalConstNumbers(node, inputs, 2, 'Clip max');
  return { min: lo ? lo[0] : -Infinity, max: hi ? hi[0] : Infinity };
}

export const Relu = unaryOp('relu');
export const LeakyRelu = unaryOp('leakyRelu', (n) => ({ alpha: attrFloat(n, 'alpha', 0.01) }));
export const Clip = unaryOp('clip', (n, i, o) => clipBounds(n, i, o), [1, 2]);
export const Sigmoid = unaryOp('sigmoid');
export const HardSigmoid = unaryOp('hardSigmoid', (n) => ({ alpha: attrFloat(n, 'alpha', 0.2), beta: attrFloat(n, 'beta', 0.5) }));
export const HardSwish = unaryOp('hardSwish');
export const Tanh = unaryOp('tanh');
export const Sqrt = unaryOp('sqrt');
export const Exp = unaryOp('exp');
export const Log = unaryOp('log');
export const Erf = unaryOp('erf');
export const Neg = unaryOp('neg');
export const Abs = unaryOp('abs');
export const Softplus = unaryOp('softplus');
/** Gelu (opset 20): exact, or with approximate='tanh' the tanh form. */
export const Gelu: OpDef = {
  shape: (node, inputs) => [need(node, inputs, 0).dims],
  build(ctx) {
    const approximate = attrString(ctx.node, 'approximate', 'none');
    if (approximate !== 'none' && approximate !== 'tanh') throw nodeError(ctx.node, `approximate '${approximate}' is not 'none' or 'tanh'`);
    return unaryOp(approximate === 'tanh' ? 'geluTanh' : 'gelu').build(ctx);
  },
};
export const Elu = unaryOp('elu', (n) => ({ alpha: attrFloat(n, 'alpha', 1) }));
export const Selu = unaryOp('selu', (n) => ({ alpha: attrFloat(n, 'alpha', SELU_ALPHA), beta: attrFloat(n, 'gamma', SELU_GAMMA) }));
export const Celu = unaryOp('celu', (n) => ({ alpha: attrFloat(n, 'alpha', 1) }));
export const Softsign = unaryOp('softsign');
export const Sign = unaryOp('sign');
export const Floor = unaryOp('floor');
export const Ceil = unaryOp('ceil');
export const Round = unaryOp('round');
export const Reciprocal = unaryOp('reciprocal');
export const Mish = unaryOp('mish');
export const ThresholdedRelu = unaryOp('thresholdedRelu', (n) => ({ alpha: attrFloat(n, 'alpha', 1) }));
export const Not = unaryOp('not');
/** Cast to bool at run time (booleans are held as 0 / 1 floats). */
export const ToBool = unaryOp('toBool');
