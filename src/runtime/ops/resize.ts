// Resize (opset 10+) and Upsample (opset 7-9), nearest and linear, on the last two axes.
import { ArgumentError, ShapeError, UnsupportedOpError } from '../../errors.js';
import { attrFloats, attrInt, attrInts, attrString } from '../../graph/attrs.js';
import type { Node } from '../../graph/ir.js';
import { COORDINATE_TRANSFORMATION_MODES, NEAREST_MODES, RESIZE_MODES, resizeOutputDims, resizePlan, type CoordinateTransformationMode, type NearestMode, type ResizeMode, type ResizeOptions } from '../../kernels/resize.js';
import type { Executor, OpDef, OpInput } from '../op.js';
import { checkDims } from '../../graph/size-check.js';
import { axisOf, fmt, need, optionalConstNumbers, size, nodeError } from './util.js';

/** An attribute value the kernels do not implement, as an UnsupportedOpError naming the node. */
function supported(node: Node, what: string, value: string, allowed: readonly string[]): void {
  if (!allowed.includes(value)) throw new UnsupportedOpError(node.op, node.name, `${what} '${value}' (supported: ${allowed.join(', ')})`);
}

/** Opset 18 `axes`: spreads scales / sizes given for some axes over every axis of the input. */
function spreadOverAxes(node: Node, given: number[] | undefined, x: number[], fill: (i: number) => number): number[] | undefined {
  const axes = attrInts(node, 'axes');
  if (!given || given.length === 0 || !axes) return given;
  if (axes.length !== given.length) throw nodeError(node, `axes ${fmt(axes)} and ${fmt(given)} differ in length`);
  const full = x.map((_, i) => fill(i));
  axes.forEach((a, i) => {
    full[axisOf(node, a, x.length)] = given[i];
  });
  return full;
}

function resizeOptions(node: Node, inputs: (OpInput | undefined)[], opset: number): ResizeOptions {
  let mode = attrString(node, 'mode', 'nearest');
  if (mode === 'bilinear') mode = 'linear'; // Upsample-7 spelling
  supported(node, 'mode', mode, RESIZE_MODES);
  if (node.op === 'Upsample') {
    const scales = opset < 9 ? attrFloats(node, 'scales') : optionalConstNumbers(node, inputs, 1, 'scales');
    if (!scales) throw nodeError(node, 'scales are missing');
    return { scales, mode: mode as ResizeMode, coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' };
  }
  // Resize-10: (X, scales), asymmetric coordinates; Resize-11+: (X, roi, scales, sizes)
  const x = need(node, inputs, 0).dims;
  const scalesAt = opset < 11 ? 1 : 2;
  let scales = spreadOverAxes(node, optionalConstNumbers(node, inputs, scalesAt, 'scales'), x, () => 1);
  if (scales && scales.length === 0) scales = undefined;
  const sizes = opset < 11 ? undefined : spreadOverAxes(node, optionalConstNumbers(node, inputs, 3, 'sizes'), x, (i) => x[i]);
  const ctm = opset < 11 ? 'asymmetric' : attrString(node, 'coordinate_transformation_mode', 'half_pixel');
  const nearest = opset < 11 ? 'floor' : attrString(node, 'nearest_mode', 'round_prefer_floor');
  supported(node, 'coordinate_transformation_mode', ctm, COORDINATE_TRANSFORMATION_MODES);
  if (mode === 'nearest') supported(node, 'nearest_mode', nearest, NEAREST_MODES);
  // opset 18: these change the result; refuse them rather than ignore them
  const downscales = (scales ?? []).some((v) => v < 1) || (sizes ?? []).some((v, i) => v < x[i]);
  if (attrInt(node, 'antialias', 0) !== 0 && downscales) throw new UnsupportedOpError(node.op, node.name, 'antialias=1 when downscaling');
  if (sizes && sizes.length) supported(node, 'keep_aspect_ratio_policy', attrString(node, 'keep_aspect_ratio_policy', 'stretch'), ['stretch']);
  return {
    scales,
    sizes: sizes && sizes.length ? sizes : undefined,
    mode: mode as ResizeMode,
    coordinateTransformationMode: ctm as CoordinateTransformationMode,
    nearestMode: nearest as NearestMode,
  };
}

/** The kernel's checks, restated with the node that failed them. */
function restated<T>(node: Node, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ArgumentError) throw new UnsupportedOpError(node.op, node.name, e.message);
    if (e instanceof ShapeError) throw nodeError(node, e.message);
    throw e;
  }
}

function resizeOp(): OpDef {
  return {
    constantInputs: [1, 2, 3],
    shape(node, inputs, opset) {
      const opts = resizeOptions(node, inputs, opset);
      const x = need(node, inputs, 0).dims;
      // dims only: the plan's tables are as long as the output's axes, so they are built once the
      // planner has checked those dims against the memory budget
      const out = restated(node, () => resizeOutputDims(x, opts.scales, opts.sizes));
      checkDims(out, `node '${node.name}' (${node.op}) output`);
      return [out];
    },
    build(ctx): Executor {
      const plan = restated(ctx.node, () => resizePlan(need(ctx.node, ctx.inputs, 0).dims, resizeOptions(ctx.node, ctx.inputs, ctx.opset)));
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
