// float64 references for BatchNormalization, LayerNormalization and (Log)Softmax.

export function batchNormRef(x: ArrayLike<number>, N: number, C: number, inner: number, gamma: ArrayLike<number>, beta: ArrayLike<number>, mean: ArrayLike<number>, variance: ArrayLike<number>, eps: number): Float64Array {
  const y = new Float64Array(N * C * inner);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < inner; i++) {
        const j = (n * C + c) * inner + i;
        y[j] = ((x[j] - mean[c]) / Math.sqrt(variance[c] + eps)) * gamma[c] + beta[c];
      }
    }
  }
  return y;
}

export function layerNormRef(x: ArrayLike<number>, rows: number, D: number, gamma: ArrayLike<number>, beta: ArrayLike<number> | undefined, eps: number): Float64Array {
  const y = new Float64Array(rows * D);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < D; i++) mean += x[r * D + i];
    mean /= D;
    let v = 0;
    for (let i = 0; i < D; i++) v += (x[r * D + i] - mean) ** 2;
    v /= D;
    const rstd = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < D; i++) y[r * D + i] = (x[r * D + i] - mean) * rstd * gamma[i] + (beta ? beta[i] : 0);
  }
  return y;
}

/** (Log)Softmax over the middle axis of [outer, A, inner]. */
export function softmaxRef(x: ArrayLike<number>, outer: number, A: number, inner: number, log: boolean): Float64Array {
  const y = new Float64Array(outer * A * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (a: number) => (o * A + a) * inner + i;
      let m = -Infinity;
      for (let a = 0; a < A; a++) m = Math.max(m, x[at(a)]);
      let s = 0;
      for (let a = 0; a < A; a++) s += Math.exp(x[at(a)] - m);
      for (let a = 0; a < A; a++) y[at(a)] = log ? x[at(a)] - m - Math.log(s) : Math.exp(x[at(a)] - m) / s;
    }
  }
  return y;
}
