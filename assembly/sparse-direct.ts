// Sparse conv without im2col (stride 1 along W; spconv_direct_s2 below for stride 2): on a padded input, output pixel (oh, ow) of a
// non-zero weight (cin, kh, kw) reads input (cin, oh*sh + kh*dh, ow + kw*dw), so each non-zero is
// one fixed byte offset (cin*Hp*Wp + kh*dh*Wp + kw*dw) * 4 from the start of its output row's
// input row, and consecutive output pixels read consecutive floats: the "broadcast weight and an
// offset step per non-zero" of Fast Sparse ConvNets, with the padded input as the blocked layout.
//
// Y[m][oh][ow] = act(bias[m] + sum_j w_j * X[xb + oh * xRowB + off_j + ow * 4]) for each of the
// M rows (output channels) in CSR (rowPtr: M + 1 element indices; offs: byte offsets; values).
// Output rows are the outer loop so the input rows they read (Cin x KH rows) stay in cache while
// every output channel passes over them. 16 pixels a block (four accumulators), then 4 at a time;
// the last vector reads up to 12 floats past the row, which the caller's padding or spare bytes
// cover, and stores only the valid lanes. Nothing here allocates.
import { activate, madd, storeLanes } from './simd';

export function spconv_direct(rowPtr: usize, offs: usize, values: usize, M: usize,
  xb: usize, rows: usize, xRowB: usize, N: usize, y: usize, yPlaneB: usize,
  bias: usize, act: i32, p0: f32, p1: f32): void {
  const lo = f32x4.splat(p0);
  const hi = f32x4.splat(p1);
  for (let oh: usize = 0; oh < rows; oh++) {
    const xr = xb + oh * xRowB;
    const yr = y + oh * (N << 2);
    for (let m: usize = 0; m < M; m++) {
      const j0 = <usize>load<u32>(rowPtr + (m << 2)) << 2;
      const j1 = <usize>load<u32>(rowPtr + ((m + 1) << 2)) << 2;
      const b = f32x4.splat(bias ? load<f32>(bias + (m << 2)) : 0);
      const ym = yr + m * yPlaneB;
      let n: usize = 0;
      for (; n + 16 <= N; n += 16) {
        const xn = xr + (n << 2);
        let a0 = b, a1 = b, a2 = b, a3 = b;
        for (let j = j0; j < j1; j += 4) {
          const w = v128.load32_splat(values + j);
          const p = xn + <usize>load<u32>(offs + j);
          a0 = madd(w, v128.load(p), a0);
          a1 = madd(w, v128.load(p, 16), a1);
          a2 = madd(w, v128.load(p, 32), a2);
          a3 = madd(w, v128.load(p, 48), a3);
        }
        const yn = ym + (n << 2);
        v128.store(yn, activate(a0, act, lo, hi));
        v128.store(yn, activate(a1, act, lo, hi), 16);
        v128.store(yn, activate(a2, act, lo, hi), 32);
        v128.store(yn, activate(a3, act, lo, hi), 48);
      }
      for (; n < N; n += 4) {
        const xn = xr + (n << 2);
        let a = b;
        for (let j = j0; j < j1; j += 4) {
          a = madd(v128.load32_splat(values + j), v128.load(xn + <usize>load<u32>(offs + j)), a);
        }
        storeLanes(ym + (n << 2), activate(a, act, lo, hi), <i32>min<usize>(4, N - n));
      }
    }
  }
}

/**
 * spconv_direct for stride 2 along W (the stems and downsampling convs): output pixel ow reads
 * input column 2*ow + kw*dw, so 4 outputs are the even lanes of two vectors (one shuffle). 16
 * pixels a block, then 4 at a time; the last vector reads up to 28 bytes past its row, which the
 * caller's padding or spare bytes cover, and stores only the valid lanes.
 */
export function spconv_direct_s2(rowPtr: usize, offs: usize, values: usize, M: usize,
  xb: usize, rows: usize, xRowB: usize, N: usize, y: usize, yPlaneB: usize,
  bias: usize, act: i32, p0: f32, p1: f32): void {
  const lo = f32x4.splat(p0);
  const hi = f32x4.splat(p1);
  for (let oh: usize = 0; oh < rows; oh++) {
    const xr = xb + oh * xRowB;
    const yr = y + oh * (N << 2);
    for (let m: usize = 0; m < M; m++) {
      const j0 = <usize>load<u32>(rowPtr + (m << 2)) << 2;
      const j1 = <usize>load<u32>(rowPtr + ((m + 1) << 2)) << 2;
      const b = f32x4.splat(bias ? load<f32>(bias + (m << 2)) : 0);
      const ym = yr + m * yPlaneB;
      let n: usize = 0;
      for (; n + 16 <= N; n += 16) {
        const xn = xr + (n << 3);
        let a0 = b, a1 = b, a2 = b, a3 = b;
        for (let j = j0; j < j1; j += 4) {
          const w = v128.load32_splat(values + j);
          const p = xn + <usize>load<u32>(offs + j);
          a0 = madd(w, i32x4.shuffle(v128.load(p), v128.load(p, 16), 0, 2, 4, 6), a0);
          a1 = madd(w, i32x4.shuffle(v128.load(p, 32), v128.load(p, 48), 0, 2, 4, 6), a1);
          a2 = madd(w, i32x4.shuffle(v128.load(p, 64), v128.load(p, 80), 0, 2, 4, 6), a2);
          a3 = madd(w, i32x4.shuffle(v128.load(p, 96), v128.load(p, 112), 0, 2, 4, 6), a3);
        }
        const yn = ym + (n << 2);
        v128.store(yn, activate(a0, act, lo, hi));
        v128.store(yn, activate(a1, act, lo, hi), 16);
        v128.store(yn, activate(a2, act, lo, hi), 32);
        v128.store(yn, activate(a3, act, lo, hi), 48);
      }
      for (; n < N; n += 4) {
        const xn = xr + (n << 3);
        let a = b;
        for (let j = j0; j < j1; j += 4) {
          const p = xn + <usize>load<u32>(offs + j);
          a = madd(v128.load32_splat(values + j), i32x4.shuffle(v128.load(p), v128.load(p, 16), 0, 2, 4, 6), a);
        }
        storeLanes(ym + (n << 2), activate(a, act, lo, hi), <i32>min<usize>(4, N - n));
      }
    }
  }
}
