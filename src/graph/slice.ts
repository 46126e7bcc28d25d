// ONNX Slice semantics along one axis, shared by constant folding and the runtime.

/**
 * First index and element count of start:end:step on an axis of size `dim`: negative indices
 * count from the end, and the bounds are clamped as the spec says (to [0, dim] for positive
 * steps, to [-1, dim - 1] for negative ones). `step` must not be 0.
 */
export function sliceRange(start: number, end: number, step: number, dim: number): { start: number; count: number } {
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
  } else {
    s = Math.min(Math.max(s, 0), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
  }
  return { start: s, count: Math.max(0, Math.ceil((e - s) / step)) };
}
