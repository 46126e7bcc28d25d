// Pooling for training, on kernel pointers (NCHW or NCL, geometry and attribute checks shared with
// the inference pooling in src/kernels/pool.ts: pads, strides, dilations, ceil_mode, auto_pad).
//   maxPool2dForwardWithIndices: the forward pass, also storing per output the i32 offset inside
//     its input plane (h*W + w) of the picked value; the backward needs only these indices.
//   maxPool2dBackward: dx = 0, then each dy added at its index (overlapping windows add up).
//   avgPool2dBackward: each dy / divisor spread over its window (needs no saved tensor).
//   globalAvgPoolBackward: dx = dy / (H*W) broadcast over each plane.
// Every dx is OVERWRITTEN.
import { ArgumentError } from '../../errors.js';
import { fmt, sizeOf } from '../../kernels/check.js';
import { globalPoolOutputShape, pool2dGeometry, type PoolAttrs } from '../../kernels/pool.js';
import type { Kernels } from '../../wasm/kernels.js';

/** MaxPool forward with argmax indices. y and indices (i32) hold sizeOf(output dims) each. Returns the output dims. */
export function maxPool2dForwardWithIndices(k: Kernels, x: number, xDims: readonly number[], attrs: PoolAttrs, y: number, indices: number): number[] {
  const g = pool2dGeometry(xDims, attrs, 'MaxPool');
  const n = sizeOf(g.outDims);
  k.requireFloats(x, sizeOf(xDims), 'MaxPool input');
  k.requireFloats(y, n, 'MaxPool output');
  k.requireFloats(indices, n, 'MaxPool indices (i32)');
  if (n === 0) return g.outDims;
  k.fn.grad_maxpool2d_fwd(x, g.N * g.C, g.H, g.W, g.KH, g.KW, g.sh, g.sw, g.pads[0], g.pads[1], g.dh, g.dw, y, indices, g.OH, g.OW);
  return g.outDims;
}

/** MaxPool backward from the forward's indices: dx (sizeOf(xDims) floats) is overwritten. */
export function maxPool2dBackward(k: Kernels, dy: number, indices: number, xDims: readonly number[], attrs: PoolAttrs, dx: number): void {
  const g = pool2dGeometry(xDims, attrs, 'MaxPool backward');
  const n = sizeOf(g.outDims);
  k.requireFloats(dy, n, `MaxPool backward dy ${fmt(g.outDims)}`);
  k.requireFloats(indices, n, 'MaxPool backward indices (i32)');
  k.requireFloats(dx, sizeOf(xDims), 'MaxPool backward dx');
  if (sizeOf(xDims) === 0) return;
  k.fn.grad_maxpool2d_bwd(dy, indices, g.N * g.C, g.H * g.W, g.OH * g.OW, dx);
}

/** AveragePool backward (count_include_pad as in the forward): dx is overwritten. */
export function avgPool2dBackward(k: Kernels, dy: number, xDims: readonly number[], attrs: PoolAttrs, dx: number): void {
  const g = pool2dGeometry(xDims, attrs, 'AveragePool backward');
  if (g.dh !== 1 || g.dw !== 1) throw new ArgumentError(`AveragePool backward: dilations ${fmt(attrs.dilations ?? [])} are not supported; only 1`);
  k.requireFloats(dy, sizeOf(g.outDims), `AveragePool backward dy ${fmt(g.outDims)}`);
  k.requireFloats(dx, sizeOf(xDims), 'AveragePool backward dx');
  if (sizeOf(xDims) === 0) return;
  const [pt, pl, pb, pr] = g.pads;
  k.fn.grad_avgpool2d_bwd(dy, g.N * g.C, g.H, g.W, g.KH, g.KW, g.sh, g.sw, pt, pl, pb, pr, attrs.countIncludePad ? 1 : 0, dx, g.OH, g.OW);
}

/** GlobalAveragePool backward: dy holds N*C floats, dx (sizeOf(xDims)) is overwritten. */
export function globalAvgPoolBackward(k: Kernels, dy: number, xDims: readonly number[], dx: number): void {
  globalPoolOutputShape(xDims, 'GlobalAveragePool backward');
  const P = xDims[0] * xDims[1];
  const HW = sizeOf(xDims.slice(2));
  k.requireFloats(dy, P, 'GlobalAveragePool backward dy');
  k.requireFloats(dx, sizeOf(xDims), 'GlobalAveragePool backward dx');
  if (P === 0 || HW === 0) return;
  k.fn.grad_global_avg_bwd(dy, P, HW, dx);
}
