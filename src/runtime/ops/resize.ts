// Resize (opset 10+) and Upsample (opset 7-9), nearest and linear, on the last two axes.
import { ModelFormatError } from '../../errors.js';
import { attrFloats, attrString } from '../../graph/attrs.js';
import type { Node } from '../../graph/ir.js';
import { resizePlan, type CoordinateTransformationMode, type NearestMode, type ResizeMode, type ResizeOptions } from '../../kernels/resize.js';
import type { Executor, OpDef, OpInput } from '../op.js';
import { need, optionalConstNumbers, size } from './util.js';

function resizeOptions(node: Node, inputs: (OpInput | undefined)[], opset: number): ResizeOptions {
  let mode = attrString(node, 'mode', 'nearest');
  if (mode === 'bilinear') mode = 'linear'; // Upsample-7 spelling
  if (node.op === 'Upsample') {
    const scales = opset < 9 ? attrFloats(node, 'scales') : optionalConstNumbers(node, inputs, 1, 'scales');
    if (!scales) throw new ModelFormatError(`node '${node.name}' (Upsample): scales are missing`);
    return { scales, mode: mode as ResizeMode, coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' };
  }
  // Resize-10: (X, scales), asymmetric coordinates; Resize-11+: (X, roi, scales, sizes)
  const scalesAt = opset < 11 ? 1 : 2;
  let scales = optionalConstNumbers(node, inputs, scalesAt, 'scales');
  if (scales && scales.length === 0) scales = undefined;
  const sizes = opset < 11 ? undefined : optionalConstNumbers(node, inputs, 3, 'sizes');
  const ctm = opset < 11 ? 'asymmetric' : attrString(node, 'coordinate_transformation_mode', 'half_pixel');
  const nearest = opset < 11 ? 'floor' : attrString(node, 'nearest_mode', 'round_prefer_floor');
  return {
    scales,
    sizes: sizes && sizes.length ? sizes : undefined,
    mode: mode as ResizeMode,
    coordinateTransformationMode: ctm as CoordinateTransformationMode,
    nearestMode: nearest as NearestMode,
  };
}

function resizeOp(): OpDef {
  return {
    constantInputs: [1, 2, 3],
    shape(node, inputs, opset) {
      return [resizePlan(need(node, inputs, 0).dims, resizeOptions(node, inputs, opset)).outDims];
    },
    build(ctx): Executor {
      const plan = resizePlan(need(ctx.node, ctx.inputs, 0).dims, resizeOptions(ctx.node, ctx.inputs, ctx.opset));
      const table = plan.tableWords ? ctx.alloc(plan.tableWords * 4) : 0;
      if (table) ctx.k.i32.set(new Int32Array(plan.table), table >> 2);
      const fn = plan.mode === 'nearest' ? ctx.k.fn.resize_nearest_f32 : ctx.k.fn.resize_linear_f32;
      return {
        kernel: `resize:${plan.mode}`,
        flops: size(plan.outDims) * (plan.mode === 'linear' ? 4 : 0),
        scratchBytes: 0,
        run(ins, outs) {
          if (table) fn(ins[0], plan.planes, plan.H, plan.W, outs[0], plan.OH, plan.OW, table);
        },
      };
    },
  };
}

export const Resize = resizeOp();
export const Upsample = resizeOp();
