// float64 scalar references for GEMM / MatMul.
import type { FusedActivation } from '../../src/kernels/activation.js';

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

/** Y[m][n] = bias[m] + sum_k W[m][k] X[k][n] (W M x K, X K x N), then the fused activation: the sparse kernels' reference. */
export function spmmRef(W: Float32Array, M: number, K: number, X: Float32Array, N: number, bias?: Float32Array, act?: FusedActivation): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = bias ? bias[m] : 0;
      for (let c = 0; c < K; c++) s += W[m * K + c] * X[c * N + n];
      y[m * N + n] = s;
    }
  }
  const p0 = act?.kind === 'clip' ? act.min : act?.kind === 'leakyRelu' ? act.alpha : 0;
  const p1 = act?.kind === 'clip' ? act.max : 0;
  return actRef(y, act?.kind ?? 'none', p0, p1);
}
