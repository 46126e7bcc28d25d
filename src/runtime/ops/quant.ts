// Quantized int8 models on run-time values, the integers held as floats like every run-time value:
//  - QDQ models (quantize_static, QAT exports): QuantizeLinear / DequantizeLinear of activations;
//    their weights fold to floats at import (fold-quantized-weights.ts). A QuantizeLinear whose
//    only reader is a DequantizeLinear with the same parameters runs as one fake-quantization pass
//    (fuse-elementwise.ts);
//  - dynamic quantization (quantize_dynamic): DynamicQuantizeLinear, MatMulInteger, ConvInteger.
import { UnsupportedOpError } from '../../errors.js';
import type { Node } from '../../graph/ir.js';
import { linearQuant, roundHalfEven, type LinearQuant } from '../../graph/quantize-linear.js';
import { binaryPrepared } from '../../kernels/eltwise.js';
import { UNARY_OPS, unaryPrepared, type UnaryOp } from '../../kernels/unary.js';
import type { Executor, OpDef, OpInput } from '../op.js';
import { Conv } from './conv.js';
import { MatMul } from './gemm.js';
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

/**
 * DynamicQuantizeLinear's scale and zero point for data in [lo, hi], as onnxruntime computes them
 * in float32: the range widened to hold 0, scale = (max - min) / 255 (1 for an all-zero tensor),
 * zero point = round_half_even(clamp(0 - min / scale, 0, 255)).
 */
export function dynamicQuantParams(lo: number, hi: number): { scale: number; zeroPoint: number } {
  const min = Math.fround(Math.min(lo, 0)), max = Math.fround(Math.max(hi, 0));
  const scale = max === min ? 1 : Math.fround(Math.fround(max - min) / 255);
  const initial = Math.fround(0 - Math.fround(min / scale));
  return { scale, zeroPoint: roundHalfEven(Math.max(0, Math.min(255, initial))) };
}

/**
 * DynamicQuantizeLinear (onnxruntime's quantize_dynamic, the int8 transformer exports of
 * transformers.js and Optimum): y = uint8 quantization of x with a scale and zero point from x's
 * own range, returned too. The range is found by two wasm reductions, the parameters on the host.
 */
export const DynamicQuantizeLinear: OpDef = {
  shape(node, inputs) {
    return [need(node, inputs, 0).dims, [], []];
  },
  build(ctx): Executor {
    const { k } = ctx;
    const n = size(ctx.outputDims[0]);
    const code = UNARY_OPS.quantizeU8;
    return {
      kernel: 'dynamic-quantize',
      flops: 3 * n,
      scratchBytes: 0,
      inPlaceInput: 0, // the reductions read x before the quantization writes y
      run(ins, outs) {
        const [y, s, z] = outs;
        let lo = 0, hi = 0;
        if (n > 0) {
          k.fn.reduce_min(ins[0], 1, n, 1, s);
          k.fn.reduce_max(ins[0], 1, n, 1, z);
          lo = k.f32[s >> 2];
          hi = k.f32[z >> 2];
        }
        const { scale, zeroPoint } = dynamicQuantParams(lo, hi);
        k.fn.unary_apply(code, ins[0], y, n, scale, zeroPoint);
        const f = k.f32;
        f[s >> 2] = scale;
        f[z >> 2] = zeroPoint;
      },
    };
  },
};

/**
 * MatMulInteger and ConvInteger as the float op on (x - x zero point) and (w - w zero point): the
 * products of integers are exact in float32, and so are their sums below 2^24 (a K of 500 at full
 * uint8 x int8 range), past which the result is the float rounding of onnxruntime's int32. The
 * weights' zero point is taken out once at load; x's (a scalar, often DynamicQuantizeLinear's
 * output) is subtracted into scratch on each run.
 */
function integerOp(float: OpDef, what: string): OpDef {
  return {
    constantInputs: [1, 3],
    shape(node, inputs, opset) {
      return float.shape(node, inputs.slice(0, 2), opset);
    },
    build(ctx): Executor {
      const { node, inputs, k } = ctx;
      const x = need(node, inputs, 0);
      const w = need(node, inputs, 1);
      const xZp = inputs[2];
      if (xZp && size(xZp.dims) !== 1) throw new UnsupportedOpError(node.op, node.name, `a ${what} zero point per row is not supported; use one zero point for the tensor`);
      let wInput: OpInput = w;
      if (w.constant) {
        const wData = w.constant.data as unknown as ArrayLike<number>;
        const zp = inputs[3] ? constInput(node, inputs, 3, 'the weights\' zero point') : undefined;
        const zps = zp ? (zp.data as unknown as ArrayLike<number>) : [0];
        // per tensor, or per output channel: the last axis of MatMul's B, the first of ConvInteger's w
        const step = node.op === 'MatMulInteger' ? 1 : size(w.dims.slice(1));
        const period = zps.length === 1 ? 1 : node.op === 'MatMulInteger' ? w.dims[w.dims.length - 1] : w.dims[0];
        if (zps.length !== 1 && zps.length !== period) throw nodeError(node, `${zps.length} weight zero points for ${period} output channels`);
        // once per session: the float op packs these once too, and a re-plan finds them again
        const constant = ctx.once('integer-weights', () => {
          const data = new Float32Array(wData.length);
          for (let i = 0; i < data.length; i++) data[i] = wData[i] - zps[Math.floor(i / step) % period];
          return { dtype: 'float32' as const, dims: [...w.dims], data };
        });
        wInput = { name: w.name, dims: w.dims, constant };
      } else if (inputs[3]) throw new UnsupportedOpError(node.op, node.name, 'a zero point for weights computed at run time is not supported');
      const inner = float.build({ ...ctx, inputs: [x, wInput] });
      if (!xZp) return inner;
      const xBytes = Math.ceil((size(x.dims) * 4) / 64) * 64;
      const sub = binaryPrepared(k, 'sub', x.dims, xZp.dims);
      return {
        kernel: inner.kernel,
        choice: inner.choice,
        flops: inner.flops + size(x.dims),
        scratchBytes: xBytes + inner.scratchBytes,
        run(ins, outs, scratch) {
          sub(ins[0], ins[2], scratch);
          inner.run([scratch, ins[1]], outs, scratch + xBytes);
        },
      };
    },
  };
}

export const MatMulInteger = integerOp(MatMul, 'A');
export const ConvInteger = integerOp(Conv, 'x');
