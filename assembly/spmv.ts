// Sparse weights x one dense vector (CSR SpMV): y[m] = act(bias[m] + sum_j W[m][k_j] * x[k_j]).
// The batch-1 Linear / Gemm case, where the 16-pixel SpMM of sparse.ts would compute 15 padding
// columns for every real one. Per non-zero: one offset load, one value load, one gathered x load
// (four loaded into the lanes of a vector), one vector multiply-add per four non-zeros.
//
// colOff holds byte offsets k * 4 (so the loop only adds), values the matching weights, rowPtr
// M + 1 element indices. x and y may have row strides (several vectors: a batch run row by row).
import { activate1, madd } from './simd';

/**
 * The four x values the next four non-zeros multiply, gathered into one vector: each offset read
 * as a scalar and each x loaded straight into its lane (load32_lane, one instruction on x64),
 * 1.3-1.4x faster than one vector load of the offsets and four lane extracts and replaces.
 */
// @ts-ignore: decorator
@inline function gather4(x: usize, colOff: usize): v128 {
  let v = v128.load32_zero(x + <usize>load<u32>(colOff));
  v = v128.load32_lane(x + <usize>load<u32>(colOff, 4), v, 1);
  v = v128.load32_lane(x + <usize>load<u32>(colOff, 8), v, 2);
  return v128.load32_lane(x + <usize>load<u32>(colOff, 12), v, 3);
}

export function spmv_csr(rowPtr: usize, colOff: usize, values: usize, M: usize,
  x: usize, y: usize, bias: usize, act: i32, p0: f32, p1: f32): void {
  let j = <usize>load<u32>(rowPtr) << 2;
  for (let m: usize = 0; m < M; m++) {
    const end = <usize>load<u32>(rowPtr + ((m + 1) << 2)) << 2;
    // eight non-zeros a step into two vector accumulators, then the rest one by one
    let v0 = f32x4.splat(0);
    let v1 = f32x4.splat(0);
    while (j + 32 <= end) {
      v0 = madd(v128.load(values + j), gather4(x, colOff + j), v0);
      v1 = madd(v128.load(values + j, 16), gather4(x, colOff + j + 16), v1);
      j += 32;
    }
    if (j + 16 <= end) {
      v0 = madd(v128.load(values + j), gather4(x, colOff + j), v0);
      j += 16;
    }
    const v = f32x4.add(v0, v1);
    let a: f32 = (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
    while (j < end) {
      a += load<f32>(values + j) * load<f32>(x + <usize>load<u32>(colOff + j));
      j += 4;
    }
    if (bias) a += load<f32>(bias + (m << 2));
    store<f32>(y + (m << 2), activate1(a, act, p0, p1));
  }
}
