// float64 reference for ReduceSum / ReduceMean / ReduceMax over any axes (ONNX semantics), by
// walking every input element and adding it into its output cell.

export function reduceRef(x: ArrayLike<number>, dims: readonly number[], axes: readonly number[], keepdims: boolean, op: 'sum' | 'mean' | 'max' | 'min' | 'sumSquare' | 'l2' | 'l1'): { data: Float64Array; dims: number[] } {
  const rank = dims.length;
  const red = new Set((axes.length ? axes : dims.map((_, i) => i)).map((a) => (a < 0 ? a + rank : a)));
  const kept = dims.map((d, i) => (red.has(i) ? 1 : d));
  const outSize = kept.reduce((a, b) => a * b, 1);
  const acc = new Float64Array(outSize).fill(op === 'max' ? -Infinity : op === 'min' ? Infinity : 0);
  const total = dims.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(rank).fill(0);
  for (let n = 0; n < total; n++) {
    let o = 0;
    for (let i = 0; i < rank; i++) o = o * kept[i] + (red.has(i) ? 0 : idx[i]);
    const v = x[n];
    acc[o] = op === 'max' ? Math.max(acc[o], v) : op === 'min' ? Math.min(acc[o], v) : acc[o] + (op === 'l1' ? Math.abs(v) : op === 'sumSquare' || op === 'l2' ? v * v : v);
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i] < dims[i]) break;
      idx[i] = 0;
    }
  }
  if (op === 'l2') for (let i = 0; i < outSize; i++) acc[i] = Math.sqrt(acc[i]);
  if (op === 'mean') {
    const count = total / outSize;
    for (let i = 0; i < outSize; i++) acc[i] /= count;
  }
  const outDims = keepdims ? kept : dims.filter((_, i) => !red.has(i));
  return { data: acc, dims: outDims };
}
