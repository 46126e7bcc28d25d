// MaxPool, AveragePool (1-D, 2-D, and 3-D as two 2-D passes), GlobalAveragePool, GlobalMaxPool.
import { UnsupportedOpError } from '../../errors.js';
import { attrInt, attrInts, attrString } from '../../graph/attrs.js';
import type { Node } from '../../graph/ir.js';
import { globalAveragePoolRun, globalMaxPoolRun, globalPoolOutputShape, poolOutputShape, poolPrepared, type AutoPad, type PoolAttrs } from '../../kernels/pool.js';
import type { Executor, OpDef } from '../op.js';
import { need, size } from './util.js';

function poolAttrs(node: Node, rank: number): PoolAttrs {
  if (rank < 3 || rank > 5) throw new UnsupportedOpError(node.op, node.name, `only 1-D, 2-D and 3-D pooling is supported (input rank ${rank})`);
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

/** One pass of the 2-D kernel: the input viewed as `dims`, its output dims. */
interface PoolPass {
  dims: number[];
  attrs: PoolAttrs;
  out: number[];
}

/**
 * The passes a pool over x runs: one for 1-D and 2-D; for 3-D [N, C, D, H, W] first H and W with
 * the depth slices as channels ([N, C*D, H, W]), then D with each output plane as one row
 * ([N, C, D, H'*W'], kernel [kd, 1]). Both max and average are separable this way: a window is a
 * box, its padding and ceil_mode are per axis, and average's divisor (padding counted or not) is
 * the product of the per-axis counts, as onnxruntime computes it.
 */
function poolPasses(x: number[], a: PoolAttrs): PoolPass[] {
  if (x.length !== 5) return [{ dims: x, attrs: a, out: poolOutputShape(x, a) }];
  const [N, C, D, H, W] = x;
  const k = a.kernelShape, st = a.strides ?? [1, 1, 1], p = a.pads ?? [0, 0, 0, 0, 0, 0], dl = a.dilations ?? [1, 1, 1];
  const common = { autoPad: a.autoPad, ceilMode: a.ceilMode, countIncludePad: a.countIncludePad };
  const hw: PoolAttrs = { ...common, kernelShape: k.slice(1), strides: st.slice(1), pads: [p[1], p[2], p[4], p[5]], dilations: dl.slice(1) };
  const first = [N, C * D, H, W];
  const o1 = poolOutputShape(first, hw);
  const d: PoolAttrs = { ...common, kernelShape: [k[0], 1], strides: [st[0], 1], pads: [p[0], 0, p[3], 0], dilations: [dl[0], 1] };
  const second = [N, C, D, o1[2] * o1[3]];
  return [{ dims: first, attrs: hw, out: o1 }, { dims: second, attrs: d, out: poolOutputShape(second, d) }];
}

function windowPool(kind: 'max' | 'avg'): OpDef {
  const outDims = (x: number[], passes: PoolPass[]) => (passes.length === 1 ? passes[0].out : [x[0], x[1], passes[1].out[2], passes[0].out[2], passes[0].out[3]]);
  return {
    shape(node, inputs) {
      const x = need(node, inputs, 0).dims;
      return [outDims(x, poolPasses(x, poolAttrs(node, x.length)))];
    },
    build(ctx): Executor {
      const x = need(ctx.node, ctx.inputs, 0).dims;
      const attrs = poolAttrs(ctx.node, x.length);
      const passes = poolPasses(x, attrs);
      const window = size(attrs.kernelShape);
      const [one, two] = passes;
      const first = poolPrepared(ctx.k, kind, one.dims, one.attrs);
      const second = two && poolPrepared(ctx.k, kind, two.dims, two.attrs);
      return {
        kernel: `pool:${kind}${two ? '3d' : ''}`,
        flops: size(outDims(x, passes)) * window,
        scratchBytes: two ? size(one.out) * 4 : 0,
        run(ins, outs, scratch) {
          if (second) {
            first(ins[0], scratch);
            second(scratch, outs[0]);
          } else first(ins[0], outs[0]);
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
