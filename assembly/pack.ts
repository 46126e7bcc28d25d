// Weight packing. Runs once per weight tensor (at session creation), never per inference.
// Element (r, c) of the source matrix lives at src + 4 * (r * rs + c * cs): any layout packs.
// Row-major sources (the usual case) move 4 x 4 blocks through registers: packing runs on the
// cold path, in V8's baseline (Liftoff) code, where a per-float loop costs several times more.

/**
 * Lane k of r0..r3 becomes one vector [r0[k], r1[k], r2[k], r3[k]], stored at d + k * step
 * (a 4 x 4 transpose).
 */
// @ts-ignore: decorator
@inline function transpose4(d: usize, step: usize, r0: v128, r1: v128, r2: v128, r3: v128): void {
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5); // r0[0] r1[0] r0[1] r1[1]
  const t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5); // r2[0] r3[0] r2[1] r3[1]
  const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7); // r0[2] r1[2] r0[3] r1[3]
  const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7); // r2[2] r3[2] r2[3] r3[3]
  v128.store(d, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
  v128.store(d + step, i32x4.shuffle(t0, t1, 2, 3, 6, 7));
  v128.store(d + 2 * step, i32x4.shuffle(t2, t3, 0, 1, 4, 5));
  v128.store(d + 3 * step, i32x4.shuffle(t2, t3, 2, 3, 6, 7));
}

/**
 * Packs B (K x N) into panels of 8 columns, [ceil(N/8)][K][8], zero padded.
 * The GEMM micro-kernel then loads each k-row of a panel as two v128.
 * dst must hold ceil(N/8) * K * 8 floats.
 */
export function pack_b8(src: usize, rs: usize, cs: usize, K: usize, N: usize, dst: usize): void {
  let d = dst;
  for (let j0: usize = 0; j0 < N; j0 += 8) {
    const nv = min<usize>(8, N - j0);
    let k: usize = 0;
    if (nv == 8 && cs == 1) {
      // row-major K x N: the 8 values of a k-row are adjacent
      for (; k < K; k++) {
        const s = src + ((k * rs + j0) << 2);
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
        d += 32;
      }
    } else if (nv == 8 && rs == 1) {
      // given transposed (N x K, a PyTorch Linear's weight): 4 k-steps of the panel's 8 rows at once
      const s0 = src + ((j0 * cs) << 2);
      const csB = cs << 2;
      for (; k + 4 <= K; k += 4) {
        const s = s0 + (k << 2);
        transpose4(d, 32, v128.load(s), v128.load(s + csB), v128.load(s + 2 * csB), v128.load(s + 3 * csB));
        transpose4(d + 16, 32, v128.load(s + 4 * csB), v128.load(s + 5 * csB), v128.load(s + 6 * csB), v128.load(s + 7 * csB));
        d += 128;
      }
    }
    for (; k < K; k++) {
      for (let jj: usize = 0; jj < 8; jj++) {
        let v: f32 = 0;
        if (jj < nv) v = load<f32>(src + ((k * rs + (j0 + jj) * cs) << 2));
        store<f32>(d, v);
        d += 4;
      }
    }
  }
}

/**
 * Packs A (M x K) into panels of 4 rows, [ceil(M/4)][K][4], zero padded, so that the
 * 4 weights the micro-kernel broadcasts at step k are adjacent (one cache line per 4 steps).
 * Used for conv weights (Cout x Cin*KH*KW). dst must hold ceil(M/4) * K * 4 floats.
 */
export function pack_a4(src: usize, rs: usize, cs: usize, M: usize, K: usize, dst: usize): void {
  let d = dst;
  for (let i0: usize = 0; i0 < M; i0 += 4) {
    const mv = min<usize>(4, M - i0);
    let k: usize = 0;
    if (mv == 4 && cs == 1) {
      // row-major rows: 4 k-steps of the panel's 4 rows at once
      const s0 = src + ((i0 * rs) << 2);
      const rsB = rs << 2;
      for (; k + 4 <= K; k += 4) {
        const s = s0 + (k << 2);
        transpose4(d, 16, v128.load(s), v128.load(s + rsB), v128.load(s + 2 * rsB), v128.load(s + 3 * rsB));
        d += 64;
      }
    }
    for (; k < K; k++) {
      for (let ii: usize = 0; ii < 4; ii++) {
        let v: f32 = 0;
        if (ii < mv) v = load<f32>(src + (((i0 + ii) * rs + k * cs) << 2));
        store<f32>(d, v);
        d += 4;
      }
    }
  }
}

/** w[r][k] *= s[r] for an M x K row-major block (folds a per-output-channel scale into weights). */
export function scale_rows(w: usize, M: usize, K: usize, s: usize): void {
  let p = w;
  for (let r: usize = 0; r < M; r++) {
    const v = v128.load32_splat(s + (r << 2));
    const end = p + (K << 2);
    for (; p + 16 <= end; p += 16) v128.store(p, f32x4.mul(v128.load(p), v));
    const sv = load<f32>(s + (r << 2));
    for (; p < end; p += 4) store<f32>(p, load<f32>(p) * sv);
  }
}

/** w[r][c] *= s[c] for an M x N row-major block. */
export function scale_cols(w: usize, M: usize, N: usize, s: usize): void {
  let p = w;
  for (let r: usize = 0; r < M; r++) {
    let q = s;
    const end = p + (N << 2);
    for (; p + 16 <= end; p += 16, q += 16) v128.store(p, f32x4.mul(v128.load(p), v128.load(q)));
    for (; p < end; p += 4, q += 4) store<f32>(p, load<f32>(p) * load<f32>(q));
  }
}
