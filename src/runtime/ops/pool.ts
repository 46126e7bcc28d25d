// MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool (1-D and 2-D).
import { UnsupportedOpError } from '../../errors.js';
import { attrInt, attrInts, attrString } from '../../graph/attrs.js';
import type { Node } from '../../graph/ir.js';
import { averagePoolRun, globalAveragePoolRun, globalMaxPoolRun, globalPoolOutputShape, maxPoolRun, poolOutputShape, type AutoPad, type PoolAttrs } from '../../kernels/pool.js';
import type { Executor, OpDef } from '../op.js';
import { need, size } from './util.js';

function poolAttrs(node: Node, rank: number): PoolAttrs {
  if (rank !== 3 && rank !== 4) throw new UnsupportedOpError(node.op, node.name, `only 1-D and 2-D pooling is supported (input rank ${rank})`);
  if (node.outputs.length > 1 && node.outputs[1] !== '') throw new UnsupportedOpError(node.op, node.name, 'the Indices output is not supported');
  return {
    kernelShape: attrInts(node, 'kernel_shape', []),
    strides: attrInts(node, 'strides'),
    pads: attrInts(node, 'pads'),
    dilations: attrInts(node, 'dilations'),
    autoPad: attrString(node, 'auto_pad', 'NOTSET') as AutoPad,
    ceilMode: attrInt(node, 'ceil_mode', 0),
    countIncludePad: attrInt(node, 'count_include_pad', 0),
  };
}

function windowPool(kind: 'max' | 'avg'): OpDef {
  return {
    shape(node, inputs) {
      const x = need(node, inputs, 0).dims;
      return [poolOutputShape(x, poolAttrs(node, x.length))];
    },
    build(ctx): Executor {
      const x = need(ctx.node, ctx.inputs, 0).dims;
      const attrs = poolAttrs(ctx.node, x.length);
      const out = ctx.outputDims[0];
      const window = size(attrs.kernelShape);
      const run = kind === 'max' ? maxPoolRun : averagePoolRun;
      return {
        kernel: `pool:${kind}`,
        flops: size(out) * window,
        scratchBytes: 0,
        run(ins, outs) {
          run(ctx.k, ins[0], x, outs[0], attrs);
        },
      };
    },
  };
}

function globalPool(kind: 'max' | 'avg'): OpDef {
  return {
    shape(node, inputs) {
      return [globalPoolOutputShape(need(node, inputs, 0).dims, node.op)];
    },
    build(ctx): Executor {
      const x = need(ctx.node, ctx.inputs, 0).dims;
      const run = kind === 'max' ? globalMaxPoolRun : globalAveragePoolRun;
      return {
        kernel: `pool:global-${kind}`,
        flops: size(x),
        scratchBytes: 0,
        run(ins, outs) {
          run(ctx.k, ins[0], x, outs[0]);
        },
      };
    },
  };
}

export const MaxPool = windowPool('max');
export const AveragePool = windowPool('avg');
export const GlobalAveragePool = globalPool('avg');
export const GlobalMaxPool = globalPool('max');
