// QuantizeLinear / DequantizeLinear on run-time values (activations of QDQ int8 models): the
// integers are held as floats, like every run-time value. Weights fold at load (evaluators.ts).
// A QuantizeLinear whose only reader is a DequantizeLinear with the same parameters runs as one
// fake-quantization pass (fuse-elementwise.ts).
import { UnsupportedOpError } from '../../errors.js';
import type { Node } from '../../graph/ir.js';
import { linearQuant, type LinearQuant } from '../../graph/quantize-linear.js';
import { unaryPrepared, type UnaryOp } from '../../kernels/unary.js';
import type { Executor, OpDef, OpInput } from '../op.js';
import { constInput, need, nodeError, size } from './util.js';

/** The node's scale and zero point (constant inputs 1 and 2) for its input dims. */
export function quantOf(node: Node, inputs: (OpInput | undefined)[]): LinearQuant {
  const x = need(node, inputs, 0);
  if (inputs.length > 3) throw nodeError(node, `expected 2 or 3 inputs (x, scale, zero point), got ${inputs.length}`);
  const zeroPoint = inputs[2] ? constInput(node, inputs, 2, 'the zero point') : undefined;
  return linearQuant(node, constInput(node, inputs, 1, 'the scale'), zeroPoint, x.dims.length, (a) => x.dims[a], x.constant?.dtype);
}

/** The unary kernel of a QuantizeLinear to this type (uint8 or int8), or undefined. */
export function quantizeOp(q: LinearQuant): 'quantizeU8' | 'quantizeI8' | undefined {
  return q.type === 'uint8' ? 'quantizeU8' : q.type === 'int8' ? 'quantizeI8' : undefined;
}

function linearQuantOp(quantize: boolean): OpDef {
  return {
    constantInputs: [1, 2],
    shape(node, inputs) {
      quantOf(node, inputs);
      return [need(node, inputs, 0).dims];
    },
    build(ctx): Executor {
      const { node, k } = ctx;
      const q = quantOf(node, ctx.inputs);
      const op: UnaryOp | undefined = quantize ? quantizeOp(q) : 'dequantize';
      if (!op) throw new UnsupportedOpError(node.op, node.name, `quantizing run-time values to ${q.type} is not supported (uint8 and int8 are; constants fold to any type)`);
      const dims = ctx.outputDims[0];
      const params = (c: number) => ({ scale: q.scales[c], zeroPoint: q.zeroPoints[c] });
      if (q.axis === undefined) {
        const run = unaryPrepared(k, op, dims, params(0));
        return { kernel: `unary:${op}`, flops: size(dims), scratchBytes: 0, inPlaceInput: 0, run: (ins, outs) => run(ins[0], outs[0]) };
      }
      // per channel: one call per slice of the axis (activations are rarely quantized this way)
      const outer = size(dims.slice(0, q.axis));
      const C = dims[q.axis];
      const inner = size(dims.slice(q.axis + 1));
      const perChannel = Array.from(q.scales, (_, c) => unaryPrepared(k, op, [inner], params(c)));
      const bytes = inner * 4;
      return {
        kernel: `unary:${op}/channel`,
        flops: size(dims),
        scratchBytes: 0,
        inPlaceInput: 0,
        run(ins, outs) {
          for (let o = 0, at = 0; o < outer; o++) for (let c = 0; c < C; c++, at += bytes) perChannel[c](ins[0] + at, outs[0] + at);
        },
      };
    },
  };
}

export const QuantizeLinear = linearQuantOp(true);
export const DequantizeLinear = linearQuantOp(false);
