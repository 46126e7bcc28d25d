// Weight packing (assembly/pack.ts) against a scalar reference of the documented layouts, for
// every source layout it takes: row-major (the 4 x 4 register-transpose paths), transposed, and
// arbitrary strides (the per-float path), with partial panels and K not a multiple of 4.
import { describe, expect, it } from 'vitest';
import { FLAVORS, kernels } from './util/kernels.js';
import { randomArray } from './util/rng.js';

/** [ceil(M/4)][K][4] of the M x K matrix whose (i, k) is src[i * rs + k * cs], zero padded. */
function packA4Ref(src: Float32Array, rs: number, cs: number, M: number, K: number): Float32Array {
  const out = new Float32Array(Math.ceil(M / 4) * 4 * K);
  for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) out[(Math.floor(i / 4) * K + k) * 4 + (i % 4)] = src[i * rs + k * cs];
  return out;
}

/** [ceil(N/8)][K][8] of the K x N matrix whose (k, j) is src[k * rs + j * cs], zero padded. */
function packB8Ref(src: Float32Array, rs: number, cs: number, K: number, N: number): Float32Array {
  const out = new Float32Array(Math.ceil(N / 8) * 8 * K);
  for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) out[(Math.floor(j / 8) * K + k) * 8 + (j % 8)] = src[k * rs + j * cs];
  return out;
}

const SHAPES = [[1, 1], [3, 5], [4, 4], [5, 9], [8, 27], [16, 3], [17, 33], [64, 64], [30, 7], [12, 13], [9, 256]];

describe.each(FLAVORS)('weight packing (%s build)', (flavor) => {
  it('pack_a4 and pack_b8 give the reference layout for row-major, transposed and strided sources', async () => {
    const k = await kernels(flavor);
    for (const [R, C] of SHAPES) {
      // [rs, cs] for an R x C matrix: row-major, transposed, strided (rows 2C+1 apart, every other column)
      const layouts = [[C, 1], [1, R], [2 * C + 1, 2]];
      for (const [rs, cs] of layouts) {
        const n = (R - 1) * rs + (C - 1) * cs + 1;
        const data = randomArray(n, R * 1000 + C);
        const src = k.upload(data);
        const dstA = k.allocF32(Math.ceil(R / 4) * 4 * C);
        const dstB = k.allocF32(Math.ceil(C / 8) * 8 * R);
        k.fn.pack_a4(src, rs, cs, R, C, dstA);
        k.fn.pack_b8(src, rs, cs, R, C, dstB);
        expect(Array.from(k.download(dstA, Math.ceil(R / 4) * 4 * C)), `pack_a4 ${R}x${C} rs=${rs} cs=${cs}`).toEqual(Array.from(packA4Ref(data, rs, cs, R, C)));
        expect(Array.from(k.download(dstB, Math.ceil(C / 8) * 8 * R)), `pack_b8 ${R}x${C} rs=${rs} cs=${cs}`).toEqual(Array.from(packB8Ref(data, rs, cs, R, C)));
        k.free(src, dstA, dstB);
      }
    }
  });
});
