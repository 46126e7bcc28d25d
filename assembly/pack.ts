// Weight packing. Runs once per weight tensor (at session creation), never per inference.
// Element (r, c) of the source matrix lives at src + 4 * (r * rs + c * cs): any layout packs.

/**
 * Packs B (K x N) into panels of 8 columns, [ceil(N/8)][K][8], zero padded.
 * The GEMM micro-kernel then loads each k-row of a panel as two v128.
 * dst must hold ceil(N/8) * K * 8 floats.
 */
export function pack_b8(src: usize, rs: usize, cs: usize, K: usize, N: usize, dst: usize): void {
  let d = dst;
  for (let j0: usize = 0; j0 < N; j0 += 8) {
    const nv = min<usize>(8, N - j0);
    for (let k: usize = 0; k < K; k++) {
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
    for (let k: usize = 0; k < K; k++) {
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
