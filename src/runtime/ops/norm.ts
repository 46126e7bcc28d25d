// BatchNormalization (when not folded into a conv), InstanceNormalization (torch's GroupNorm and
// InstanceNorm exports), LayerNormalization, Softmax, LogSoftmax, LRN (AlexNet, GoogLeNet).
import { UnsupportedOpError } from '../../errors.js';
import { attrFloat, attrInt } from '../../graph/attrs.js';
import { batchNormRun, foldBatchNorm, instanceNormRun, layerNormRun, lrnRun, lrnShape, type LrnOptions } from '../../kernels/norm.js';
import { softmaxRun } from '../../kernels/softmax.js';
import type { Node } from '../../graph/ir.js';
import type { BuildContext, Executor, OpDef } from '../op.js';
import { axisOf, constFloats, need, size, nodeError } from './util.js';

/** Floats copied into a block the executor owns. */
function uploadFloats(ctx: BuildContext, v: Float32Array): number {
  const p = ctx.alloc(v.length * 4);
  ctx.k.f32.set(v, p >> 2);
  return p;
}

export const BatchNormalization: OpDef = {
  constantInputs: [1, 2, 3, 4],
  shape(node, inputs) {
    if (attrInt(node, 'training_mode', 0)) throw new UnsupportedOpError('BatchNormalization', node.name, 'training_mode=1; export the model in eval mode');
    return [need(node, inputs, 0).dims];
  },
  build(ctx): Executor {
    const { node, inputs, k } = ctx;
    const x = need(node, inputs, 0).dims;
    const C = x.length > 1 ? x[1] : x[0];
    const { scale, shift } = foldBatchNorm({
      scale: constFloats(node, inputs, 1, 'scale'),
      bias: constFloats(node, inputs, 2, 'B'),
      mean: constFloats(node, inputs, 3, 'mean'),
      variance: constFloats(node, inputs, 4, 'var'),
      epsilon: attrFloat(node, 'epsilon', 1e-5),
    }, C);
    const sp = uploadFloats(ctx, scale);
    const hp = uploadFloats(ctx, shift);
    return {
      kernel: 'batchnorm',
      flops: 2 * size(x),
      scratchBytes: 0,
      inPlaceInput: 0,
      run(ins, outs) {
        batchNormRun(k, ins[0], x, sp, hp, outs[0]);
      },
    };
  },
};

export const InstanceNormalization: OpDef = {
  constantInputs: [1, 2],
  shape(node, inputs) {
    const x = need(node, inputs, 0).dims;
    if (x.length < 3) throw nodeError(node, `the input must be N x C x spatial (rank 3 or more), got [${x.join(', ')}]`);
    return [x];
  },
  build(ctx): Executor {
    const { node, inputs, k } = ctx;
    const x = need(node, inputs, 0).dims;
    const upload = (i: number, what: string): number => {
      const v = constFloats(node, inputs, i, what);
      if (v.length !== x[1]) throw nodeError(node, `${what} has ${v.length} values for ${x[1]} channels`);
      return uploadFloats(ctx, v);
    };
    const scale = upload(1, 'scale');
    const bias = upload(2, 'B');
    const eps = attrFloat(node, 'epsilon', 1e-5);
    return {
      kernel: 'instancenorm',
      flops: 8 * size(x),
      scratchBytes: 0,
      inPlaceInput: 0,
      run(ins, outs) {
        instanceNormRun(k, ins[0], x, scale, bias, outs[0], eps);
      },
    };
  },
};

export const LayerNormalization: OpDef = {
  constantInputs: [1, 2],
  shape(node, inputs) {
    if (node.outputs.length > 1 && node.outputs.slice(1).some((o) => o !== '')) throw new UnsupportedOpError('LayerNormalization', node.name, 'the Mean / InvStdDev outputs are not supported');
    need(node, inputs, 1); // Scale is required (B is optional)
    return [need(node, inputs, 0).dims];
  },
  build(ctx): Executor {
    const { node, inputs, k } = ctx;
    const x = need(node, inputs, 0).dims;
    const axis = axisOf(node, attrInt(node, 'axis', -1), x.length);
    const D = size(x.slice(axis));
    const upload = (i: number, what: string) => {
      if (!inputs[i]) return 0;
      let v = constFloats(node, inputs, i, what);
      if (v.length === 1) v = new Float32Array(D).fill(v[0]);
      if (v.length !== D) throw nodeError(node, `${what} has ${v.length} values, expected ${D}`);
      return uploadFloats(ctx, v);
    };
    const gamma = upload(1, 'Scale');
    const beta = upload(2, 'B');
    const eps = attrFloat(node, 'epsilon', 1e-5);
    // the kernel normalises over the trailing D elements: view the input as [rows, D]
    const view = [size(x) / D, D];
    return {
      kernel: 'layernorm',
      flops: 8 * size(x),
      scratchBytes: 0,
      inPlaceInput: 0,
      run(ins, outs) {
        layerNormRun(k, ins[0], view, gamma, beta, outs[0], -1, eps);
      },
    };
  },
};

function softmaxOp(log: boolean): OpDef {
  return {
    shape(node, inputs) {
      return [need(node, inputs, 0).dims];
    },
    build(ctx): Executor {
      const x = need(ctx.node, ctx.inputs, 0).dims;
      // opset < 13: default axis 1 and the input coerced to 2-D; opset 13: default -1, one axis
      const coerce2d = ctx.opset < 13;
      const axis = attrInt(ctx.node, 'axis', coerce2d ? 1 : -1);
      return {
        kernel: log ? 'logsoftmax' : 'softmax',
        flops: 5 * size(x),
        scratchBytes: 0,
        inPlaceInput: 0,
        run(ins, outs) {
          softmaxRun(ctx.k, ins[0], x, outs[0], { axis, log, coerce2d });
        },
      };
    },
  };
}

export const Softmax = softmaxOp(false);
export const LogSoftmax = softmaxOp(true);

const lrnOptions = (node: Node): LrnOptions => ({ size: attrInt(node, 'size', 0), alpha: attrFloat(node, 'alpha', 1e-4), beta: attrFloat(node, 'beta', 0.75), bias: attrFloat(node, 'bias', 1) });

export const LRN: OpDef = {
  shape(node, inputs) {
    const x = need(node, inputs, 0).dims;
    lrnShape(x, lrnOptions(node));
    return [x];
  },
  build(ctx): Executor {
    const x = need(ctx.node, ctx.inputs, 0).dims;
    const opts = lrnOptions(ctx.node);
    return { kernel: 'lrn', flops: size(x) * (2 * opts.size + 4), scratchBytes: 0, run: (ins, outs) => lrnRun(ctx.k, ins[0], x, outs[0], opts) };
  },
};
