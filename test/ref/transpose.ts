// Scalar reference for Transpose, straight from the ONNX definition:
// output[i_0, ..., i_{r-1}] = input[j] where j[perm[k]] = i_k; perm defaults to reversed axes.

export function transposeRef(x: Float32Array, dims: readonly number[], perm?: readonly number[]): { data: Float32Array; dims: number[] } {
  const rank = dims.length;
  const p = perm ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const outDims = p.map((a) => dims[a]);
  const inStride = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStride[i] = inStride[i + 1] * dims[i + 1];
  const n = dims.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  // copied as bits: a float read into a JS number may have its signalling NaN quietened (depending
  // on the JIT tier), and a transpose moves bits
  const xb = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const ob = new Uint32Array(out.buffer);
  const idx = new Array<number>(rank).fill(0); // output index
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += idx[k] * inStride[p[k]];
    ob[o] = xb[src];
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k] < outDims[k]) break;
      idx[k] = 0;
    }
  }
  return { data: out, dims: outDims };
}

/** All permutations of 0..n-1. */
export function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  const res: number[][] = [];
  for (const p of permutations(n - 1)) {
    for (let i = 0; i <= p.length; i++) res.push([...p.slice(0, i), n - 1, ...p.slice(i)]);
  }
  return res;
}
