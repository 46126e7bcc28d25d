// Weight pruning: scores, exact k-th smallest selection, masks (unstructured, N:M, blocks).
// Host side: src/prune/kernels.ts. Nothing here allocates; scratch (histogram, 2-word result)
// comes from the host.
//
// Selection works on the float's bit pattern mapped to an unsigned key whose order is the float
// order (-NaN < -inf < ... < -0 < +0 < ... < +inf < +NaN). A 3-pass radix select (11, 11, 10
// bits) finds the key T of the k-th smallest score and how many scores equal to T fall inside
// the k smallest ("ties"). Applying prunes every score < T and the first `ties` scores == T in
// index order: among equal scores, the lower index is pruned first. O(n) per pass, exact.
//
// Every matrix kernel takes the canonical layout [O, I] row-major: one row per output, its
// reduction ("input") vector contiguous. The host transposes other layouts first.

/** Histogram bins of the widest radix pass. */
export const PRUNE_HIST_BINS: i32 = 2048;

// @ts-ignore: decorator
@inline function key(b: u32): u32 {
  return b ^ (<u32>(<i32>b >> 31) | 0x80000000);
}

// @ts-ignore: decorator
@inline function keyAt(p: usize): u32 {
  return key(load<u32>(p));
}

// @ts-ignore: decorator
@inline function keyV(b: v128): v128 {
  return v128.xor(b, v128.or(i32x4.shr_s(b, 31), i32x4.splat(0x80000000)));
}

/** dst[i] = |src[i]| (dst may be src). */
export function prune_abs(src: usize, dst: usize, n: usize): void {
  const end = src + (n << 2);
  const m = i32x4.splat(0x7fffffff);
  let s = src, d = dst;
  for (; s + 16 <= end; s += 16, d += 16) v128.store(d, v128.and(v128.load(s), m));
  for (; s < end; s += 4, d += 4) store<u32>(d, load<u32>(s) & 0x7fffffff);
}

/** dst[i] = src[i]^2 (dst may be src). */
export function prune_square(src: usize, dst: usize, n: usize): void {
  const end = src + (n << 2);
  let s = src, d = dst;
  for (; s + 16 <= end; s += 16, d += 16) {
    const v = v128.load(s);
    v128.store(d, f32x4.mul(v, v));
  }
  for (; s < end; s += 4, d += 4) {
    const v = load<f32>(s);
    store<f32>(d, v * v);
  }
}

/** Wanda scores: dst[r][c] = |src[r][c]| * scale[c] for a rows x cols row-major block. */
export function prune_abs_scale(src: usize, dst: usize, rows: usize, cols: usize, scale: usize): void {
  const m = i32x4.splat(0x7fffffff);
  let s = src, d = dst;
  for (let r: usize = 0; r < rows; r++) {
    const end = s + (cols << 2);
    let q = scale;
    for (; s + 16 <= end; s += 16, d += 16, q += 16) v128.store(d, f32x4.mul(v128.and(v128.load(s), m), v128.load(q)));
    for (; s < end; s += 4, d += 4, q += 4) store<f32>(d, abs<f32>(load<f32>(s)) * load<f32>(q));
  }
}

// @ts-ignore: decorator
@inline function mix32(x: u32): u32 {
  // lowbias32 (C. Wellons): a bijection of u32 with good avalanche
  x ^= x >> 16;
  x *= 0x7feb352d;
  x ^= x >> 15;
  x *= 0x846ca68b;
  x ^= x >> 16;
  return x;
}

/** Seeded scores uniform in [0, 1): dst[i] depends only on (seed, i), never on the call split. */
export function prune_random_scores(dst: usize, n: usize, seed: u32): void {
  const s = mix32(seed ^ 0x9e3779b9);
  for (let i: usize = 0; i < n; i++) {
    const h = mix32(<u32>i ^ s);
    store<f32>(dst + (i << 2), <f32>(h >> 8) * (1.0 / 16777216.0));
  }
}

/** Number of elements != 0 (NaN counts as non-zero, -0 as zero). */
export function prune_count_nonzero(src: usize, n: usize): i32 {
  const end = src + (n << 2);
  const zero = f32x4.splat(0);
  let acc = i32x4.splat(0);
  let s = src;
  for (; s + 16 <= end; s += 16) acc = i32x4.sub(acc, f32x4.ne(v128.load(s), zero));
  let c = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
  for (; s < end; s += 4) if (load<f32>(s) != 0) c++;
  return c;
}

/**
 * Radix pass: for every score whose key matches `prefix` on the bits of `hiMask`, hist[(key >>
 * shift) & binMask] += 1. Accumulates (the host zeroes hist), so several buffers can share one
 * selection (global pruning).
 */
export function prune_hist(scores: usize, n: usize, hiMask: u32, prefix: u32, shift: u32, binMask: u32, hist: usize): void {
  const end = scores + (n << 2);
  for (let s = scores; s < end; s += 4) {
    const k = keyAt(s);
    if ((k & hiMask) == prefix) {
      const h = hist + (<usize>((k >> shift) & binMask) << 2);
      store<u32>(h, load<u32>(h) + 1);
    }
  }
}

/**
 * out[0] = key T of the k-th smallest score (1 <= k <= n), out[1] = how many scores == T are
 * among the k smallest. hist: PRUNE_HIST_BINS words of scratch.
 */
export function prune_threshold(scores: usize, n: usize, k: u32, hist: usize, out: usize): void {
  let prefix: u32 = 0, hiMask: u32 = 0, need = k;
  for (let pass = 0; pass < 3; pass++) {
    const shift: u32 = pass == 0 ? 21 : pass == 1 ? 10 : 0;
    const bits: u32 = pass == 2 ? 10 : 11;
    const binMask: u32 = (1 << bits) - 1;
    memory.fill(hist, 0, (<usize>1 << bits) << 2);
    prune_hist(scores, n, hiMask, prefix, shift, binMask, hist);
    let b: u32 = 0;
    for (;;) {
      const c = load<u32>(hist + (<usize>b << 2));
      if (need <= c || b == binMask) break;
      need -= c;
      b++;
    }
    prefix |= b << shift;
    hiMask |= binMask << shift;
  }
  store<u32>(out, prefix);
  store<u32>(out, need, 4);
}

/**
 * w[i] = 0 where key(scores[i]) < T, and for the first `ties` i in order with key == T.
 * Returns the ties left (so a selection can continue over the next buffer).
 */
export function prune_apply_threshold(w: usize, scores: usize, n: usize, T: u32, ties: i32): i32 {
  const tv = i32x4.splat(T);
  let i: usize = 0;
  for (; i + 4 <= n; i += 4) {
    const o = i << 2;
    const kv = keyV(v128.load(scores + o));
    if (ties > 0 && v128.any_true(i32x4.eq(kv, tv))) {
      for (let j: usize = 0; j < 4; j++) {
        const kk = keyAt(scores + o + (j << 2));
        if (kk < T || (kk == T && ties > 0)) {
          if (kk == T) ties--;
          store<f32>(w + o + (j << 2), 0);
        }
      }
    } else {
      v128.store(w + o, v128.andnot(v128.load(w + o), i32x4.lt_u(kv, tv)));
    }
  }
  for (; i < n; i++) {
    const kk = keyAt(scores + (i << 2));
    if (kk < T || (kk == T && ties > 0)) {
      if (kk == T) ties--;
      store<f32>(w + (i << 2), 0);
    }
  }
  return ties;
}

/**
 * Per-row selection (Wanda's per-output comparison group): in each row of a rows x cols
 * block, zeroes the k (rows < extra: k + 1) lowest-scored weights, ties to the lower index.
 */
export function prune_rows(w: usize, scores: usize, rows: usize, cols: usize, k: u32, extra: usize, hist: usize, out: usize): void {
  for (let r: usize = 0; r < rows; r++) {
    const kr = k + (r < extra ? 1 : 0);
    if (kr == 0) continue;
    const o = (r * cols) << 2;
    prune_threshold(scores + o, cols, kr, hist, out);
    prune_apply_threshold(w + o, scores + o, cols, load<u32>(out), load<i32>(out, 4));
  }
}

/**
 * N:M: in every group of m consecutive weights (n_total / m groups, n_total a multiple of m),
 * keeps the n largest |w| and zeroes the m - n others; equal magnitudes: lower index pruned first.
 */
export function prune_nm(w: usize, total: usize, n: u32, m: u32): void {
  const drop = <i32>(m - n);
  if (drop <= 0) return;
  const groups = total / m;
  if (m == 4) {
    const am = i32x4.splat(0x7fffffff);
    const dv = i32x4.splat(drop);
    // lanes j >= 4 - t: the rotated partner (j + t) % 4 has a lower index
    const w1 = i32x4(0, 0, 0, -1), w2 = i32x4(0, 0, -1, -1), w3 = i32x4(0, -1, -1, -1);
    for (let g: usize = 0; g < groups; g++) {
      const p = w + (g << 4);
      const v = v128.load(p);
      const a = v128.and(v, am); // |w| bits: unsigned order = magnitude order
      const b1 = v128.shuffle<i32>(a, a, 1, 2, 3, 0);
      const b2 = v128.shuffle<i32>(a, a, 2, 3, 0, 1);
      const b3 = v128.shuffle<i32>(a, a, 3, 0, 1, 2);
      let rank = i32x4.splat(0);
      rank = i32x4.sub(rank, v128.or(i32x4.lt_u(b1, a), v128.and(i32x4.eq(b1, a), w1)));
      rank = i32x4.sub(rank, v128.or(i32x4.lt_u(b2, a), v128.and(i32x4.eq(b2, a), w2)));
      rank = i32x4.sub(rank, v128.or(i32x4.lt_u(b3, a), v128.and(i32x4.eq(b3, a), w3)));
      v128.store(p, v128.andnot(v, i32x4.lt_s(rank, dv)));
    }
    return;
  }
  const gb = <usize>m << 2;
  for (let g: usize = 0; g < groups; g++) {
    const p = w + g * gb;
    // ranks first (reading the unmodified group), then one pass of stores
    let pruned: u32 = 0; // bit j set: element j is pruned (m <= 32)
    for (let j: u32 = 0; j < m; j++) {
      const aj = load<u32>(p + (<usize>j << 2)) & 0x7fffffff;
      let rank = 0;
      for (let i: u32 = 0; i < m; i++) {
        const ai = load<u32>(p + (<usize>i << 2)) & 0x7fffffff;
        if (ai < aj || (ai == aj && i < j)) rank++;
      }
      if (rank < drop) pruned |= 1 << j;
    }
    for (let j: u32 = 0; j < m; j++) if (pruned & (1 << j)) store<f32>(p + (<usize>j << 2), 0);
  }
}

/**
 * Block 1x4 scores: dst[r][c / 4] = L1 of w[r][c..c+3] (cols a multiple of 4), summed as
 * (|a0| + |a1|) + (|a2| + |a3|).
 */
export function prune_block_l1_1x4(w: usize, rows: usize, cols: usize, dst: usize): void {
  const am = i32x4.splat(0x7fffffff);
  const n = rows * cols;
  let d = dst;
  let i: usize = 0;
  // four blocks per step: transpose-free pairwise sums
  for (; i + 16 <= n; i += 16, d += 16) {
    const p = w + (i << 2);
    const x0 = v128.and(v128.load(p), am), x1 = v128.and(v128.load(p, 16), am);
    const x2 = v128.and(v128.load(p, 32), am), x3 = v128.and(v128.load(p, 48), am);
    // pairs (a0 + a1, a2 + a3) of each block
    const s01 = f32x4.add(v128.shuffle<f32>(x0, x1, 0, 2, 4, 6), v128.shuffle<f32>(x0, x1, 1, 3, 5, 7));
    const s23 = f32x4.add(v128.shuffle<f32>(x2, x3, 0, 2, 4, 6), v128.shuffle<f32>(x2, x3, 1, 3, 5, 7));
    v128.store(d, f32x4.add(v128.shuffle<f32>(s01, s23, 0, 2, 4, 6), v128.shuffle<f32>(s01, s23, 1, 3, 5, 7)));
  }
  for (; i < n; i += 4, d += 4) {
    const p = w + (i << 2);
    store<f32>(d, (abs<f32>(load<f32>(p)) + abs<f32>(load<f32>(p, 4))) + (abs<f32>(load<f32>(p, 8)) + abs<f32>(load<f32>(p, 12))));
  }
}

/**
 * Block 4x1 scores: dst[r / 4][c] = L1 of w[r..r+3][c] (rows a multiple of 4), summed as
 * (|r0| + |r1|) + (|r2| + |r3|).
 */
export function prune_block_l1_4x1(w: usize, rows: usize, cols: usize, dst: usize): void {
  const am = i32x4.splat(0x7fffffff);
  const rb = cols << 2;
  for (let r: usize = 0; r < rows; r += 4) {
    const p0 = w + r * rb;
    const d0 = dst + (r >> 2) * rb;
    let c: usize = 0;
    for (; c + 4 <= cols; c += 4) {
      const p = p0 + (c << 2);
      const a = f32x4.add(v128.and(v128.load(p), am), v128.and(v128.load(p + rb), am));
      const b = f32x4.add(v128.and(v128.load(p + 2 * rb), am), v128.and(v128.load(p + 3 * rb), am));
      v128.store(d0 + (c << 2), f32x4.add(a, b));
    }
    for (; c < cols; c++) {
      const p = p0 + (c << 2);
      store<f32>(d0 + (c << 2), (abs<f32>(load<f32>(p)) + abs<f32>(load<f32>(p + rb))) + (abs<f32>(load<f32>(p + 2 * rb)) + abs<f32>(load<f32>(p + 3 * rb))));
    }
  }
}

/**
 * Zeroes the bh x bw blocks of a rows x cols matrix whose score (scores: the block grid
 * [rows / bh, cols / bw], row-major) is below T, and the first `ties` blocks with score == T.
 * Returns the ties left.
 */
export function prune_block_apply(w: usize, rows: usize, cols: usize, bh: usize, bw: usize, scores: usize, T: u32, ties: i32): i32 {
  const gr = rows / bh, gc = cols / bw;
  let s = scores;
  for (let br: usize = 0; br < gr; br++) {
    for (let bc: usize = 0; bc < gc; bc++, s += 4) {
      const kk = keyAt(s);
      if (kk < T || (kk == T && ties > 0)) {
        if (kk == T) ties--;
        for (let r: usize = 0; r < bh; r++) {
          const p = w + (((br * bh + r) * cols + bc * bw) << 2);
          for (let c: usize = 0; c < bw; c++) store<f32>(p + (c << 2), 0);
        }
      }
    }
  }
  return ties;
}
