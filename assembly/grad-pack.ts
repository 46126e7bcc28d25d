// Packing and the accumulating GEMM the backward passes are built on.
//
// Every gradient GEMM of training has its reduction along a dimension that is contiguous in one
// operand and strided in the other (dW = dY · Xᵀ reduces over pixels or batch rows), so instead of
// transposing whole tensors the operands are packed straight into the two panel formats of the
// forward micro-kernel (assembly/gemm.ts, tile_a4_8):
//   A4 panels: [ceil(M/4)][R][4]  (4 rows of A side by side for each reduction step r)
//   B8 panels: [ceil(N/8)][R][8]  (8 columns of B side by side for each r)
// and gemm_packed computes C (M x N) (+)= A · B over R with the same 4x8 register tile.
//   grad_pack_rows4 / grad_pack_rows8: the source holds the M (N) rows with R contiguous
//     (row-major, R along the row): 4x4 in-register transposes;
//   grad_pack_cols4 / grad_pack_cols8: the source holds R rows with M (N) contiguous: row copies.
// Packers zero-fill the lanes past M (N). Nothing here allocates.
import { sliceA, tile_a4_8 } from './gemm';

// @ts-ignore: decorator
@inline function tr4store(r0: v128, r1: v128, r2: v128, r3: v128, d: usize, step: usize): void {
  // out j = [r0_j, r1_j, r2_j, r3_j], stored at d + j*step
  const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
  const t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
  v128.store(d, v128.shuffle<i64>(t0, t2, 0, 2));
  v128.store(d + step, v128.shuffle<i64>(t0, t2, 1, 3));
  v128.store(d + 2 * step, v128.shuffle<i64>(t1, t3, 0, 2));
  v128.store(d + 3 * step, v128.shuffle<i64>(t1, t3, 1, 3));
}

/**
 * A4 panels from M rows of R floats (row i at src + 4*i*ld): dst[i/4][r][i%4] = src[i][r].
 * dst holds ceil(M/4) * R * 4 floats.
 */
export function grad_pack_rows4(src: usize, M: usize, R: usize, ld: usize, dst: usize): void {
  const ldB = ld << 2;
  for (let i0: usize = 0; i0 < M; i0 += 4) {
    const mv = min<usize>(4, M - i0);
    const s0 = src + i0 * ldB;
    const d0 = dst + ((i0 * R) << 2);
    if (mv == 4) {
      const s1 = s0 + ldB, s2 = s1 + ldB, s3 = s2 + ldB;
      let r: usize = 0;
      for (; r + 4 <= R; r += 4) {
        const o = r << 2;
        tr4store(v128.load(s0 + o), v128.load(s1 + o), v128.load(s2 + o), v128.load(s3 + o), d0 + (r << 4), 16);
      }
      for (; r < R; r++) {
        const o = r << 2, d = d0 + (r << 4);
        store<f32>(d, load<f32>(s0 + o));
        store<f32>(d, load<f32>(s1 + o), 4);
        store<f32>(d, load<f32>(s2 + o), 8);
        store<f32>(d, load<f32>(s3 + o), 12);
      }
    } else {
      for (let r: usize = 0; r < R; r++) {
        const d = d0 + (r << 4);
        v128.store(d, f32x4.splat(0));
        for (let i: usize = 0; i < mv; i++) store<f32>(d + (i << 2), load<f32>(s0 + i * ldB + (r << 2)));
      }
    }
  }
}

/**
 * B8 panels from N rows of R floats (row j at src + 4*j*ld): dst[j/8][r][j%8] = src[j][r].
 * dst holds ceil(N/8) * R * 8 floats.
 */
export function grad_pack_rows8(src: usize, N: usize, R: usize, ld: usize, dst: usize): void {
  const ldB = ld << 2;
  for (let j0: usize = 0; j0 < N; j0 += 8) {
    const nv = min<usize>(8, N - j0);
    const s0 = src + j0 * ldB;
    const d0 = dst + ((j0 * R) << 2);
    if (nv == 8) {
      const s1 = s0 + ldB, s2 = s1 + ldB, s3 = s2 + ldB, s4 = s3 + ldB, s5 = s4 + ldB, s6 = s5 + ldB, s7 = s6 + ldB;
      let r: usize = 0;
      for (; r + 4 <= R; r += 4) {
        const o = r << 2, d = d0 + (r << 5);
        tr4store(v128.load(s0 + o), v128.load(s1 + o), v128.load(s2 + o), v128.load(s3 + o), d, 32);
        tr4store(v128.load(s4 + o), v128.load(s5 + o), v128.load(s6 + o), v128.load(s7 + o), d + 16, 32);
      }
      for (; r < R; r++) {
        const o = r << 2, d = d0 + (r << 5);
        store<f32>(d, load<f32>(s0 + o));
        store<f32>(d, load<f32>(s1 + o), 4);
        store<f32>(d, load<f32>(s2 + o), 8);
        store<f32>(d, load<f32>(s3 + o), 12);
        store<f32>(d, load<f32>(s4 + o), 16);
        store<f32>(d, load<f32>(s5 + o), 20);
        store<f32>(d, load<f32>(s6 + o), 24);
        store<f32>(d, load<f32>(s7 + o), 28);
      }
    } else {
      for (let r: usize = 0; r < R; r++) {
        const d = d0 + (r << 5);
        v128.store(d, f32x4.splat(0));
        v128.store(d, f32x4.splat(0), 16);
        for (let j: usize = 0; j < nv; j++) store<f32>(d + (j << 2), load<f32>(s0 + j * ldB + (r << 2)));
      }
    }
  }
}

/**
 * A4 panels from R rows of M floats (row r at src + 4*r*ld, the M values contiguous):
 * dst[i/4][r][i%4] = src[r][i]. dst holds ceil(M/4) * R * 4 floats.
 */
export function grad_pack_cols4(src: usize, R: usize, M: usize, ld: usize, dst: usize): void {
  const ldB = ld << 2;
  for (let i0: usize = 0; i0 < M; i0 += 4) {
    const mv = min<usize>(4, M - i0);
    let s = src + (i0 << 2);
    let d = dst + ((i0 * R) << 2);
    if (mv == 4) {
      for (let r: usize = 0; r < R; r++) { v128.store(d, v128.load(s)); s += ldB; d += 16; }
    } else {
      for (let r: usize = 0; r < R; r++) {
        v128.store(d, f32x4.splat(0));
        for (let i: usize = 0; i < mv; i++) store<f32>(d + (i << 2), load<f32>(s + (i << 2)));
        s += ldB; d += 16;
      }
    }
  }
}

/**
 * B8 panels from R rows of N floats (row r at src + 4*r*ld, the N values contiguous):
 * dst[j/8][r][j%8] = src[r][j]. dst holds ceil(N/8) * R * 8 floats.
 */
export function grad_pack_cols8(src: usize, R: usize, N: usize, ld: usize, dst: usize): void {
  const ldB = ld << 2;
  for (let j0: usize = 0; j0 < N; j0 += 8) {
    const nv = min<usize>(8, N - j0);
    let s = src + (j0 << 2);
    let d = dst + ((j0 * R) << 2);
    if (nv == 8) {
      for (let r: usize = 0; r < R; r++) {
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
        s += ldB; d += 32;
      }
    } else {
      for (let r: usize = 0; r < R; r++) {
        v128.store(d, f32x4.splat(0));
        v128.store(d, f32x4.splat(0), 16);
        for (let j: usize = 0; j < nv; j++) store<f32>(d + (j << 2), load<f32>(s + (j << 2)));
        s += ldB; d += 32;
      }
    }
  }
}

/**
 * C (M x N, row stride ldc floats) = A · B, or C += A · B when accumulate is 1.
 * ap: A4 panels of A (M x R), bp: B8 panels of B (R x N). R is split in slices of at most KC_A so
 * that a B panel slice (16 KB) stays in L1 while all the A panels pass over it.
 */
export function gemm_packed(ap: usize, M: usize, bp: usize, N: usize, R: usize, c: usize, ldc: usize, accumulate: i32): void {
  const ldcB = ldc << 2;
  if (R == 0) {
    if (!accumulate) for (let i: usize = 0; i < M; i++) memory.fill(c + i * ldcB, 0, N << 2);
    return;
  }
  const RS = sliceA(R);
  for (let r0: usize = 0; r0 < R; r0 += RS) {
    const rc = min<usize>(RS, R - r0);
    const first = r0 == 0 && !accumulate;
    for (let j0: usize = 0; j0 < N; j0 += 8) {
      const b = bp + ((j0 * R + r0 * 8) << 2);
      const nv = min<usize>(8, N - j0);
      for (let i0: usize = 0; i0 < M; i0 += 4) {
        tile_a4_8(ap + ((i0 * R + r0 * 4) << 2), rc, b, c + i0 * ldcB + (j0 << 2), ldcB,
          min<usize>(4, M - i0), nv, first, false, 0, 0, 0, 0);
      }
    }
  }
}
