// Transpose (N-d permutation) of f32 tensors, bit-exact (values are moved as i32 / v128, never
// through float arithmetic, so NaN payloads and -0 survive).
//
// The host (src/kernels/transpose.ts) drops size-1 axes and merges axes that stay adjacent, so
// what reaches wasm is at most 6 output axes described by a small i32 block:
//   blk[0..5]   output dims (axis 5 innermost; unused leading axes have dim 1)
//   blk[6..11]  input stride of each output axis, in elements
//   blk[12..17] output stride of each output axis, in elements
// Three paths, picked from the innermost axis:
//  - the innermost axis stays innermost (input stride 1): rows are moved with memory.copy;
//  - the input's innermost axis moved to output axis j: a batched 2-D transpose of the
//    (axis j, axis 5) plane, cache-blocked in TB x TB tiles of 4x4 in-register transposes;
//  - anything else (only reachable through a hand-written block): a plain strided gather.
// Nothing here allocates; SC is a static spill area for the outer-axis description.

const TB: usize = 32; // tile edge (floats) of the cache-blocked 2-D transpose
const SC = memory.data(48, 16); // 4 outer axes x (dim, input stride B, output stride B)

// @ts-ignore: decorator
@inline function word(blk: usize, i: usize): usize {
  return <usize>load<u32>(blk + (i << 2));
}

/** 4x4 block: out row (a+j) = column j of the 4 input rows b..b+3. s at in[b][a], d at out[a][b]. */
// @ts-ignore: decorator
@inline function tr4(s: usize, lds: usize, d: usize, ldd: usize): void {
  const r0 = v128.load(s), r1 = v128.load(s + lds), r2 = v128.load(s + 2 * lds), r3 = v128.load(s + 3 * lds);
  const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5); // a0 b0 a1 b1
  const t1 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7); // a2 b2 a3 b3
  const t2 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5); // c0 d0 c1 d1
  const t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7); // c2 d2 c3 d3
  v128.store(d, v128.shuffle<i64>(t0, t2, 0, 2));
  v128.store(d + ldd, v128.shuffle<i64>(t0, t2, 1, 3));
  v128.store(d + 2 * ldd, v128.shuffle<i64>(t1, t3, 0, 2));
  v128.store(d + 3 * ldd, v128.shuffle<i64>(t1, t3, 1, 3));
}

/**
 * out[a * ldd + b] = in[b * lds + a] for a < A, b < B (lds, ldd in bytes; elements are 4 bytes).
 * Tiles of TB x TB keep both the read rows and the written rows in L1.
 */
function t2d(src: usize, lds: usize, dst: usize, ldd: usize, A: usize, B: usize): void {
  for (let a0: usize = 0; a0 < A; a0 += TB) {
    const aE = min<usize>(A, a0 + TB);
    for (let b0: usize = 0; b0 < B; b0 += TB) {
      const bE = min<usize>(B, b0 + TB);
      let a = a0;
      for (; a + 4 <= aE; a += 4) {
        const s = src + (a << 2), d = dst + a * ldd;
        let b = b0;
        for (; b + 4 <= bE; b += 4) tr4(s + b * lds, lds, d + (b << 2), ldd);
        for (; b < bE; b++) {
          // one input row segment of 4 becomes one column of 4 output rows
          const v = v128.load(s + b * lds);
          const q = d + (b << 2);
          store<i32>(q, i32x4.extract_lane(v, 0));
          store<i32>(q + ldd, i32x4.extract_lane(v, 1));
          store<i32>(q + 2 * ldd, i32x4.extract_lane(v, 2));
          store<i32>(q + 3 * ldd, i32x4.extract_lane(v, 3));
        }
      }
      for (; a < aE; a++) {
        const s = src + (a << 2), d = dst + a * ldd;
        for (let b = b0; b < bE; b++) store<i32>(d + (b << 2), load<i32>(s + b * lds));
      }
    }
  }
}

/** y = x^T for a rows x cols matrix x (y is cols x rows). */
export function transpose_2d(x: usize, y: usize, rows: usize, cols: usize): void {
  // out[c][r] = in[r][c]: a = c (A = cols), b = r (B = rows)
  t2d(x, cols << 2, y, rows << 2, cols, rows);
}

/** Strided copy of up to 6 axes described by blk (see the header). */
export function transpose_f32(x: usize, y: usize, blk: usize): void {
  const d0 = word(blk, 0), d1 = word(blk, 1), d2 = word(blk, 2), d3 = word(blk, 3), d4 = word(blk, 4), d5 = word(blk, 5);
  if (d0 == 0 || d1 == 0 || d2 == 0 || d3 == 0 || d4 == 0 || d5 == 0) return;
  const i0 = word(blk, 6) << 2, i1 = word(blk, 7) << 2, i2 = word(blk, 8) << 2;
  const i3 = word(blk, 9) << 2, i4 = word(blk, 10) << 2, i5 = word(blk, 11) << 2;
  const o0 = word(blk, 12) << 2, o1 = word(blk, 13) << 2, o2 = word(blk, 14) << 2;
  const o3 = word(blk, 15) << 2, o4 = word(blk, 16) << 2, o5 = word(blk, 17) << 2;

  if (i5 == 4 && o5 == 4) {
    // innermost axis kept: contiguous rows of d5
    const len = d5 << 2;
    for (let a: usize = 0; a < d0; a++) for (let b: usize = 0; b < d1; b++) for (let c: usize = 0; c < d2; c++) {
      const xs = x + a * i0 + b * i1 + c * i2, ys = y + a * o0 + b * o1 + c * o2;
      for (let e: usize = 0; e < d3; e++) {
        const xe = xs + e * i3, ye = ys + e * o3;
        for (let f: usize = 0; f < d4; f++) memory.copy(ye + f * o4, xe + f * i4, len);
      }
    }
    return;
  }

  // find the output axis that holds the input's innermost axis
  let j: usize = 5;
  if (o5 == 4) {
    for (let k: usize = 0; k < 5; k++) {
      if (word(blk, 6 + k) == 1 && word(blk, k) > 1) { j = k; break; }
    }
  }
  if (j < 5) {
    // the other 4 outer axes, in order, into SC
    let n: usize = 0;
    for (let k: usize = 0; k < 5; k++) {
      if (k == j) continue;
      store<u32>(SC + n * 12, <u32>word(blk, k));
      store<u32>(SC + n * 12 + 4, <u32>(word(blk, 6 + k) << 2));
      store<u32>(SC + n * 12 + 8, <u32>(word(blk, 12 + k) << 2));
      n++;
    }
    const e0 = <usize>load<u32>(SC), s0 = <usize>load<u32>(SC, 4), t0 = <usize>load<u32>(SC, 8);
    const e1 = <usize>load<u32>(SC, 12), s1 = <usize>load<u32>(SC, 16), t1 = <usize>load<u32>(SC, 20);
    const e2 = <usize>load<u32>(SC, 24), s2 = <usize>load<u32>(SC, 28), t2 = <usize>load<u32>(SC, 32);
    const e3 = <usize>load<u32>(SC, 36), s3 = <usize>load<u32>(SC, 40), t3 = <usize>load<u32>(SC, 44);
    const A = word(blk, j), ldd = word(blk, 12 + j) << 2;
    for (let a: usize = 0; a < e0; a++) for (let b: usize = 0; b < e1; b++) for (let c: usize = 0; c < e2; c++) {
      const xs = x + a * s0 + b * s1 + c * s2, ys = y + a * t0 + b * t1 + c * t2;
      for (let e: usize = 0; e < e3; e++) t2d(xs + e * s3, i5, ys + e * t3, ldd, A, d5);
    }
    return;
  }

  // generic strided gather
  for (let a: usize = 0; a < d0; a++) for (let b: usize = 0; b < d1; b++) for (let c: usize = 0; c < d2; c++) {
    const xs = x + a * i0 + b * i1 + c * i2, ys = y + a * o0 + b * o1 + c * o2;
    for (let e: usize = 0; e < d3; e++) for (let f: usize = 0; f < d4; f++) {
      const xf = xs + e * i3 + f * i4, yf = ys + e * o3 + f * o4;
      for (let g: usize = 0; g < d5; g++) store<i32>(yf + g * o5, load<i32>(xf + g * i5));
    }
  }
}
