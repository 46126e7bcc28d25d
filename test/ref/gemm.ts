// float64 scalar references for GEMM / MatMul.

export function gemmRef(A: ArrayLike<number>, B: ArrayLike<number>, M: number, K: number, N: number, bTransposed = false, bias?: ArrayLike<number>): Float64Array {
  const C = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = bias ? bias[j] : 0;
      for (let k = 0; k < K; k++) s += A[i * K + k] * (bTransposed ? B[j * K + k] : B[k * N + j]);
      C[i * N + j] = s;
    }
  }
  return C;
}

export function actRef(v: Float64Array, kind: string, p0 = 0, p1 = 0): Float64Array {
  return v.map((x) => (kind === 'relu' ? Math.max(0, x) : kind === 'clip' ? Math.min(Math.max(x, p0), p1) : kind === 'leakyRelu' ? (x >= 0 ? x : p0 * x) : x));
}
