// Sparse conv without im2col (stride 1 along W; stride 2 on the column-split copy of pad2d_split
// below): on a padded input, output pixel (oh, ow) of a non-zero weight (cin, kh, kw) reads input
// (cin, oh*sh + kh*dh, ow + kw*dw), so each non-zero is one fixed byte offset
// (cin*Hp*Wp + kh*dh*Wp + kw*dw) * 4 from the start of its output row's input row, and consecutive
// output pixels read consecutive floats: the "broadcast weight and an offset step per non-zero" of
// Fast Sparse ConvNets, with the padded input as the blocked layout.
//
// Y[m][oh][ow] = act(bias[m] + sum_j w_j * X[xb + oh * xRowB + off_j + ow * 4]) for each of the
// M rows (output channels) in CSR (rowPtr: M + 1 element indices; taps: per non-zero a u32 byte
// offset then its f32 weight, read as one 8-byte load: the inner loop is bound by loads, two
// vector loads a cycle here, and a separate weight splat cost 7% of a layer's time).
// Output rows are the outer loop so the input rows they read (Cin x KH rows) stay in cache while
// every output channel passes over them. 28 pixels a block (seven multiply-add chains keep both
// FMA units busy where four leave them waiting on latency, and 7 loads + 7 accumulators + the
// weight fit V8's 15 vector registers), 16 or 4 at a time on shorter runs; under 4 pixels the
// vector reads up to 12 bytes past the run, which the caller's padding or spare bytes cover, and
// stores only the valid lanes. Nothing here allocates.
import { activate, madd, recordOffset, recordWeight, storeLanes } from './simd';

/** 28 pixels of one output channel from xn to yn: seven chains of multiply-adds over the non-zeros j0..j1. */
// @ts-ignore: decorator
@inline function block28(taps: usize, j0: usize, j1: usize, b: v128, xn: usize, yn: usize, act: i32, lo: v128, hi: v128): void {
  let a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b;
  for (let j = j0; j < j1; j += 8) {
    const e = load<u64>(taps + j);
    const w = recordWeight(e);
    const p = xn + recordOffset(e);
    a0 = madd(w, v128.load(p), a0);
    a1 = madd(w, v128.load(p, 16), a1);
    a2 = madd(w, v128.load(p, 32), a2);
    a3 = madd(w, v128.load(p, 48), a3);
    a4 = madd(w, v128.load(p, 64), a4);
    a5 = madd(w, v128.load(p, 80), a5);
    a6 = madd(w, v128.load(p, 96), a6);
  }
  v128.store(yn, activate(a0, act, lo, hi));
  v128.store(yn, activate(a1, act, lo, hi), 16);
  v128.store(yn, activate(a2, act, lo, hi), 32);
  v128.store(yn, activate(a3, act, lo, hi), 48);
  v128.store(yn, activate(a4, act, lo, hi), 64);
  v128.store(yn, activate(a5, act, lo, hi), 80);
  v128.store(yn, activate(a6, act, lo, hi), 96);
}

/** 16 pixels: four chains. */
// @ts-ignore: decorator
@inline function block16(taps: usize, j0: usize, j1: usize, b: v128, xn: usize, yn: usize, act: i32, lo: v128, hi: v128): void {
  let a0 = b, a1 = b, a2 = b, a3 = b;
  for (let j = j0; j < j1; j += 8) {
    const e = load<u64>(taps + j);
    const w = recordWeight(e);
    const p = xn + recordOffset(e);
    a0 = madd(w, v128.load(p), a0);
    a1 = madd(w, v128.load(p, 16), a1);
    a2 = madd(w, v128.load(p, 32), a2);
    a3 = madd(w, v128.load(p, 48), a3);
  }
  v128.store(yn, activate(a0, act, lo, hi));
  v128.store(yn, activate(a1, act, lo, hi), 16);
  v128.store(yn, activate(a2, act, lo, hi), 32);
  v128.store(yn, activate(a3, act, lo, hi), 48);
}

/** 4 pixels (one chain), of which the first `lanes` are stored. */
// @ts-ignore: decorator
@inline function block4(taps: usize, j0: usize, j1: usize, b: v128, xn: usize, yn: usize, act: i32, lo: v128, hi: v128, lanes: i32): void {
  let a = b;
  for (let j = j0; j < j1; j += 8) {
    const e = load<u64>(taps + j);
    a = madd(recordWeight(e), v128.load(xn + recordOffset(e)), a);
  }
  storeLanes(yn, activate(a, act, lo, hi), lanes);
}

/**
 * One output channel over a run of N pixels: Y[n] = act(b + sum_j w_j * X[xr + off_j + n * 4])
 * for the non-zeros j0..j1 (byte indices into taps, 8 bytes each), written to yr. The widest blocks
 * that fit; what is left is one more block (of 28, or of 16 when 16 or fewer pixels are left)
 * moved back to end at N, recomputing (and rewriting, bit for bit the same) a few pixels rather
 * than finishing in 4-pixel steps: each step is one chain of multiply-adds over every non-zero, so
 * a 40-pixel row took a block and three such steps.
 */
// @ts-ignore: decorator
@inline function directRun(taps: usize, j0: usize, j1: usize, b: v128, xr: usize, N: usize,
  yr: usize, act: i32, lo: v128, hi: v128): void {
  let n: usize = 0;
  for (; n + 28 <= N; n += 28) block28(taps, j0, j1, b, xr + (n << 2), yr + (n << 2), act, lo, hi);
  if (n == N) return;
  // 1-16 pixels left after a block of 28: a block of 16 ending at N costs less than one of 28
  if (N >= 28 && N - n > 16) {
    block28(taps, j0, j1, b, xr + ((N - 28) << 2), yr + ((N - 28) << 2), act, lo, hi);
    return;
  }
  if (N >= 28) {
    block16(taps, j0, j1, b, xr + ((N - 16) << 2), yr + ((N - 16) << 2), act, lo, hi);
    return;
  }
  if (N >= 16) {
    block16(taps, j0, j1, b, xr, yr, act, lo, hi);
    if (N > 16) block16(taps, j0, j1, b, xr + ((N - 16) << 2), yr + ((N - 16) << 2), act, lo, hi);
    return;
  }
  for (; n + 4 <= N; n += 4) block4(taps, j0, j1, b, xr + (n << 2), yr + (n << 2), act, lo, hi, 4);
  if (n == N) return;
  // under 4 pixels: the valid lanes of one vector (it reads up to 12 bytes past the run)
  if (N < 4) block4(taps, j0, j1, b, xr, yr, act, lo, hi, <i32>N);
  else block4(taps, j0, j1, b, xr + ((N - 4) << 2), yr + ((N - 4) << 2), act, lo, hi, 4);
}

export function spconv_direct(rowPtr: usize, taps: usize, M: usize,
  xb: usize, rows: usize, xRowB: usize, N: usize, y: usize, yPlaneB: usize,
  bias: usize, act: i32, p0: f32, p1: f32): void {
  const lo = f32x4.splat(p0);
  const hi = f32x4.splat(p1);
  for (let oh: usize = 0; oh < rows; oh++) {
    const xr = xb + oh * xRowB;
    const yr = y + oh * (N << 2);
    for (let m: usize = 0; m < M; m++) {
      const j0 = <usize>load<u32>(rowPtr + (m << 2)) << 3;
      const j1 = <usize>load<u32>(rowPtr + ((m + 1) << 2)) << 3;
      const b = f32x4.splat(bias ? load<f32>(bias + (m << 2)) : 0);
      directRun(taps, j0, j1, b, xr, N, yr + m * yPlaneB, act, lo, hi);
    }
  }
}

/**
 * spconv_direct on one run of N pixels per output channel (a 1x1 conv's planes), where channels
 * with FEW_TAPS non-zeros or fewer run as a row of vectors (few_tap_rows). A loop of its own: the
 * call in spconv_direct's channel loop cost its 3x3 layers 2%.
 */
export function spconv_rows(rowPtr: usize, taps: usize, M: usize, xb: usize, N: usize, y: usize, yPlaneB: usize,
  bias: usize, act: i32, p0: f32, p1: f32): void {
  const lo = f32x4.splat(p0);
  const hi = f32x4.splat(p1);
  for (let m: usize = 0; m < M; m++) {
    const j0 = <usize>load<u32>(rowPtr + (m << 2)) << 3;
    const j1 = <usize>load<u32>(rowPtr + ((m + 1) << 2)) << 3;
    const bs: f32 = bias ? load<f32>(bias + (m << 2)) : 0;
    if (j1 - j0 <= (FEW_TAPS << 3)) few_tap_rows(taps + j0, (j1 - j0) >> 3, xb, 0, y + m * yPlaneB, 1, N, bs, act, p0, p1);
    else directRun(taps, j0, j1, f32x4.splat(bs), xb, N, y + m * yPlaneB, act, lo, hi);
  }
}

/**
 * Most taps a run goes through few_tap_rows with (more: the blocks of directRun). With 1-2 taps
 * a block's store, activation and loop exit per vector were most of its time: pruned depthwise
 * channels (16 of 56x56 at 80% zeros) ran 0.86x as rows of vectors, 1x1 output channels 0.6-0.9x.
 */
export const FEW_TAPS: usize = 4;

/**
 * OH rows of OW pixels with n (0-FEW_TAPS) taps at t (8-byte (offset, weight) pairs), input rows rowB
 * bytes apart: a copy of the rows per tap count (the count a constant in each). Called by the
 * direct conv's output channels with few non-zeros and by pruned depthwise channels.
 */
export function few_tap_rows(t: usize, n: usize, plane: usize, rowB: usize, y: usize, OH: usize, OW: usize, bs: f32, act: i32, p0: f32, p1: f32): void {
  if (n == 0) fewTapRows(0, t, plane, rowB, y, OH, OW, bs, act, p0, p1);
  else if (n == 1) fewTapRows(1, t, plane, rowB, y, OH, OW, bs, act, p0, p1);
  else if (n == 2) fewTapRows(2, t, plane, rowB, y, OH, OW, bs, act, p0, p1);
  else if (n == 3) fewTapRows(3, t, plane, rowB, y, OH, OW, bs, act, p0, p1);
  else fewTapRows(4, t, plane, rowB, y, OH, OW, bs, act, p0, p1);
}

/** bias + the kept taps (at most 4, in list order) for the 4 output pixels whose window row starts at p. */
// @ts-ignore: decorator
@inline function fewTaps(p: usize, n: usize, b: v128, o0: usize, w0: v128, o1: usize, w1: v128, o2: usize, w2: v128, o3: usize, w3: v128): v128 {
  let a = b;
  if (n > 0) a = madd(w0, v128.load(p + o0), a);
  if (n > 1) a = madd(w1, v128.load(p + o1), a);
  if (n > 2) a = madd(w2, v128.load(p + o2), a);
  if (n > 3) a = madd(w3, v128.load(p + o3), a);
  return a;
}

/**
 * OH rows (input rows rowB bytes apart) of OW output pixels, each the bias plus n (0-4, a constant
 * where inlined) taps (8-byte (offset, weight) pairs at t) at their fixed offsets, activated.
 */
// @ts-ignore: decorator
@inline function fewTapRows(n: usize, t: usize, plane: usize, rowB: usize, y: usize, OH: usize, OW: usize, bs: f32, act: i32, p0: f32, p1: f32): void {
  const lo = f32x4.splat(p0), hi = f32x4.splat(p1), b = f32x4.splat(bs);
  const z = f32x4.splat(0);
  const o0 = n > 0 ? <usize>load<u32>(t) : 0, w0 = n > 0 ? v128.load32_splat(t, 4) : z;
  const o1 = n > 1 ? <usize>load<u32>(t, 8) : 0, w1 = n > 1 ? v128.load32_splat(t, 12) : z;
  const o2 = n > 2 ? <usize>load<u32>(t, 16) : 0, w2 = n > 2 ? v128.load32_splat(t, 20) : z;
  const o3 = n > 3 ? <usize>load<u32>(t, 24) : 0, w3 = n > 3 ? v128.load32_splat(t, 28) : z;
  for (let oh: usize = 0; oh < OH; oh++) {
    const xr = plane + oh * rowB;
    const yr = y + ((oh * OW) << 2);
    let ow: usize = 0;
    for (; ow + 8 <= OW; ow += 8) {
      const p = xr + (ow << 2);
      const a = fewTaps(p, n, b, o0, w0, o1, w1, o2, w2, o3, w3);
      const c = fewTaps(p + 16, n, b, o0, w0, o1, w1, o2, w2, o3, w3);
      v128.store(yr + (ow << 2), activate(a, act, lo, hi));
      v128.store(yr + (ow << 2), activate(c, act, lo, hi), 16);
    }
    if (ow + 4 <= OW) {
      v128.store(yr + (ow << 2), activate(fewTaps(xr + (ow << 2), n, b, o0, w0, o1, w1, o2, w2, o3, w3), act, lo, hi));
      ow += 4;
    }
    if (ow < OW) {
      if (OW >= 4) {
        const e = OW - 4;
        v128.store(yr + (e << 2), activate(fewTaps(xr + (e << 2), n, b, o0, w0, o1, w1, o2, w2, o3, w3), act, lo, hi));
      } else {
        storeLanes(yr, activate(fewTaps(xr, n, b, o0, w0, o1, w1, o2, w2, o3, w3), act, lo, hi), <i32>OW);
      }
    }
  }
}

/**
 * For stride 2 along W: copies C planes of H x W into zero-padded planes of Hp x Wp (image at
 * pt, pl) with each padded row split into its even columns, then its odd ones (the first
 * ceil(Wp / 2) floats of a row are columns 0, 2, 4, ..., the rest 1, 3, ...). Output pixel ow of
 * tap kw then reads column 2 * ow + kw * dw at a fixed offset plus ow: consecutive floats, so
 * spconv_direct runs stride 2 as it runs stride 1 (no shuffles, its 28-pixel blocks).
 */
export function pad2d_split(x: usize, C: usize, H: usize, W: usize, pt: usize, pl: usize, Hp: usize, Wp: usize, xp: usize): void {
  memory.fill(xp, 0, (C * Hp * Wp) << 2);
  for (let c: usize = 0; c < C; c++) splitRows(x + ((c * H * W) << 2), H, W, pt, pl, Hp, Wp, xp + ((c * Hp * Wp) << 2));
}

/** pad2d_split's rows for one plane (the border is left as it is). */
// @ts-ignore: decorator
@inline export function splitRows(x: usize, H: usize, W: usize, pt: usize, pl: usize, Hp: usize, Wp: usize, plane: usize): void {
  const We = (Wp + 1) >> 1;
  // image column w is padded column pl + w: evens of the image go to the even half when pl is even
  const evenDst = (pl & 1) == 0 ? (pl >> 1) : We + (pl >> 1);
  const oddDst = (pl & 1) == 0 ? We + (pl >> 1) : (pl + 1) >> 1;
  for (let h: usize = 0; h < H; h++) {
    const src = x + ((h * W) << 2);
    const row = plane + (((pt + h) * Wp) << 2);
    const ev = row + (evenDst << 2), od = row + (oddDst << 2);
    let w: usize = 0;
    for (; w + 8 <= W; w += 8) {
      const v0 = v128.load(src + (w << 2)), v1 = v128.load(src + (w << 2), 16);
      v128.store(ev + (w << 1), i32x4.shuffle(v0, v1, 0, 2, 4, 6));
      v128.store(od + (w << 1), i32x4.shuffle(v0, v1, 1, 3, 5, 7));
    }
    for (; w < W; w++) store<f32>(((w & 1) == 0 ? ev : od) + ((w >> 1) << 2), load<f32>(src + (w << 2)));
  }
}

/**
 * spconv_direct for stride 1 on short rows (fewer than 28 output pixels, the late layers' 14x14
 * and 7x7 maps), where per-row blocks leave 4-pixel steps with one multiply-add chain. Output
 * pixel (oh, ow) reads input oh * Wp + ow + offset, so the plane is computed as one run of
 * (OH - 1) * Wp + OW pixels on the padded width (the Wp - OW pixels between rows are computed and
 * dropped) into tmp ((OH - 1) * Wp + OW + 4 floats), whose rows are then copied to Y. One output
 * channel at a time: its plane stays in L1, the input (a small map) in L2.
 */
export function spconv_direct_flat(rowPtr: usize, taps: usize, M: usize,
  xb: usize, OH: usize, Wp: usize, OW: usize, y: usize, yPlaneB: usize,
  bias: usize, act: i32, p0: f32, p1: f32, tmp: usize): void {
  const lo = f32x4.splat(p0);
  const hi = f32x4.splat(p1);
  const NF = (OH - 1) * Wp + OW;
  for (let m: usize = 0; m < M; m++) {
    const j0 = <usize>load<u32>(rowPtr + (m << 2)) << 3;
    const j1 = <usize>load<u32>(rowPtr + ((m + 1) << 2)) << 3;
    const b = f32x4.splat(bias ? load<f32>(bias + (m << 2)) : 0);
    directRun(taps, j0, j1, b, xb, NF, tmp, act, lo, hi);
    copyRows(tmp, Wp, y + m * yPlaneB, OH, OW);
  }
}

/** The first OW floats of each of OH rows Wp floats apart in src, packed into dst (OH x OW). */
// @ts-ignore: decorator
@inline function copyRows(src: usize, Wp: usize, dst: usize, OH: usize, OW: usize): void {
  for (let oh: usize = 0; oh < OH; oh++) {
    const s = src + ((oh * Wp) << 2), d = dst + ((oh * OW) << 2);
    let i: usize = 0;
    for (; i + 4 <= OW; i += 4) v128.store(d + (i << 2), v128.load(s + (i << 2)));
    for (; i < OW; i++) store<f32>(d + (i << 2), load<f32>(s + (i << 2)));
  }
}
