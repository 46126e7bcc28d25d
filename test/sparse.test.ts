import { describe, expect, it } from 'vitest';
import { PackedSparseLinear, spmm } from '../src/kernels/sparse.js';
import { PackedConv2d } from '../src/kernels/conv.js';
import type { FusedActivation } from '../src/kernels/activation.js';
import type { Kernels } from '../src/wasm/kernels.js';
import { ArgumentError, ShapeError } from '../src/errors.js';
import { spmmRef } from './ref/gemm.js';
import { expectClose } from './util/close.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { randomArray, randomInt, rng } from './util/rng.js';

const ACTS: (FusedActivation | undefined)[] = [undefined, { kind: 'relu' }, { kind: 'clip', min: -0.3, max: 0.7 }, { kind: 'leakyRelu', alpha: 0.1 }];

/** M x K uniform weights in [-1, 1) with a fraction `sparsity` of them (Bernoulli) set to zero. */
function sparseWeights(M: number, K: number, sparsity: number, seed: number): Float32Array {
  const w = randomArray(M * K, seed);
  const r = rng(seed + 7919);
  for (let i = 0; i < w.length; i++) if (r() < sparsity) w[i] = 0;
  return w;
}


/** The same product through our dense path: a 1x1 Conv2d (gemm_a4 on packed weights) over X as [1, K, 1, N]. */
function denseRef(k: Kernels, W: Float32Array, M: number, K: number, X: Float32Array, N: number, bias?: Float32Array, act?: FusedActivation): Float32Array {
  const conv = new PackedConv2d(k, W, [M, K, 1, 1], bias, { activation: act });
  const xDims = [1, K, 1, N];
  expect(conv.path(xDims)).toBe('gemm1x1');
  const x = k.upload(X);
  const y = k.allocF32(M * N);
  try {
    conv.run(x, xDims, y, 0);
    return k.download(y, M * N);
  } finally {
    k.free(x, y);
    conv.dispose();
  }
}

describe.each(FLAVORS)('sparse x dense SpMM (%s build)', (flavor) => {
  it('matches a float64 reference on random shapes, sparsities, biases and fused activations', async () => {
    const k = await kernels(flavor);
    const r = rng(11);
    const sparsities = [0, 0.5, 0.9, 1];
    for (let t = 0; t < 48; t++) {
      const M = randomInt(r, 1, 13);
      // K > 1024 overflows the kernel's 16-column panel: X is then read in place
      const K = t % 8 === 0 ? randomInt(r, 200, 600) : t % 8 === 4 ? randomInt(r, 1025, 1300) : randomInt(r, 1, 70);
      // covers every tail: 16-blocks, then 8, 4 and 1..3 scalar columns
      const N = t < 4 ? [1, 3, 7, 29][t] : randomInt(r, 1, 77);
      const sparsity = sparsities[t % 4];
      const act = ACTS[(t >> 2) % 4];
      const W = sparseWeights(M, K, sparsity, 1000 + t);
      const X = randomArray(K * N, 2000 + t);
      const bias = t % 3 ? randomArray(M, 3000 + t) : undefined;
      const want = spmmRef(W, M, K, X, N, bias, act);
      for (const access of ['panel', 'inPlace'] as const) {
        const got = spmm(k, W, M, K, X, N, { bias, activation: act, access });
        expectClose(got, want, `M=${M} K=${K} N=${N} sparsity=${sparsity} act=${act?.kind} bias=${!!bias} ${access}`);
      }
    }
  });

  it('agrees with the dense gemm_a4 path (1x1 conv) on the same operands', async () => {
    const k = await kernels(flavor);
    const r = rng(12);
    for (let t = 0; t < 16; t++) {
      const M = randomInt(r, 1, 21);
      const K = randomInt(r, 1, 300);
      const N = randomInt(r, 1, 150);
      const sparsity = [0, 0.5, 0.9, 1][t % 4];
      const act = ACTS[t % 4];
      const W = sparseWeights(M, K, sparsity, 4000 + t);
      const X = randomArray(K * N, 5000 + t);
      const bias = t % 2 ? randomArray(M, 6000 + t) : undefined;
      const want = denseRef(k, W, M, K, X, N, bias, act);
      for (const access of ['auto', 'panel', 'inPlace'] as const) {
        expectClose(spmm(k, W, M, K, X, N, { bias, activation: act, access }), want, `vs dense: M=${M} K=${K} N=${N} sparsity=${sparsity} ${access}`);
      }
    }
    // the milestone shape, 90% zeros, on a slice of its pixels
    const W = sparseWeights(64, 576, 0.9, 7);
    const X = randomArray(576 * 200, 8);
    const want = denseRef(k, W, 64, 576, X, 200);
    expectClose(spmm(k, W, 64, 576, X, 200, { access: 'panel' }), want, '64x576x200 panel');
    expectClose(spmm(k, W, 64, 576, X, 200, { access: 'inPlace' }), want, '64x576x200 in place');
  });

  it('covers K chunks, groups of panels and every column tail on wide operands', async () => {
    const k = await kernels(flavor);
    // K around the 192-row chunks (1, 191-193, 384-385, 600 in 4 chunks of 150), N across groups of
    // 3 x 28-column panels (84, 85, 168, 250) and 16-column blocks
    const cases: [number, number, number][] = [[3, 1, 1], [5, 191, 112], [4, 192, 113], [6, 97, 224], [7, 200, 250], [3, 600, 57], [9, 193, 336], [2, 150, 29], [5, 385, 85], [4, 384, 84], [3, 390, 168]];
    for (const [t, [M, K, N]] of cases.entries()) {
      const sparsity = [0.5, 0.85, 0.97][t % 3];
      const W = sparseWeights(M, K, sparsity, 9000 + t);
      const X = randomArray(K * N, 9100 + t);
      const bias = t % 2 ? randomArray(M, 9200 + t) : undefined;
      const act = ACTS[t % 4];
      const want = spmmRef(W, M, K, X, N, bias, act);
      for (const access of ['auto', 'panel', 'inPlace'] as const) {
        expectClose(spmm(k, W, M, K, X, N, { bias, activation: act, access }), want, `M=${M} K=${K} N=${N} sparsity=${sparsity} ${access}`);
      }
    }
  });

  it('re-encodes its offsets when the access mode or the row stride of X changes between runs', async () => {
    const k = await kernels(flavor);
    const before = k.heap.liveBytes;
    const M = 6, K = 210, N = 61;
    const W = sparseWeights(M, K, 0.7, 31);
    const bias = randomArray(M, 32);
    const layer = new PackedSparseLinear(k, W, M, K, { bias });
    const X = randomArray(K * N, 33);
    const want = spmmRef(W, M, K, X, N, bias);
    const y = k.allocF32(M * N);
    for (const [access, ldx] of [['panel', N], ['inPlace', N], ['inPlace', N + 5], ['panel', N + 5], ['auto', N + 9], ['inPlace', N], ['panel', N]] as const) {
      const xs = new Float32Array(K * ldx).fill(Number.NaN);
      for (let c = 0; c < K; c++) xs.set(X.subarray(c * N, (c + 1) * N), c * ldx);
      const x = k.upload(xs);
      layer.run(x, N, y, { access, ldx });
      expectClose(k.download(y, M * N), want, `${access} ldx=${ldx}`);
      k.free(x);
    }
    expect(layer.nnz).toBe(W.filter((v) => v !== 0).length);
    layer.dispose();
    k.free(y);
    expect(k.heap.liveBytes).toBe(before);
  });

  it('handles empty rows, an all-zero matrix (bias only) and reports nnz / density', async () => {
    const k = await kernels(flavor);
    const M = 5, K = 9, N = 37;
    const W = new Float32Array(M * K);
    W[1 * K + 0] = 2; // rows 0, 2 and 4 are empty
    W[1 * K + 8] = -1;
    W[3 * K + 4] = 0.5;
    const X = randomArray(K * N, 9);
    const bias = randomArray(M, 10);
    const layer = new PackedSparseLinear(k, W, M, K, { bias, activation: { kind: 'relu' } });
    expect(layer.nnz).toBe(3);
    expect(layer.density).toBeCloseTo(3 / 45, 12);
    layer.dispose();
    expectClose(spmm(k, W, M, K, X, N, { bias, activation: { kind: 'relu' } }), spmmRef(W, M, K, X, N, bias, { kind: 'relu' }), 'empty rows');
    const Z = new Float32Array(M * K);
    const zero = new PackedSparseLinear(k, Z, M, K);
    expect(zero.nnz).toBe(0);
    expect(zero.density).toBe(0);
    zero.dispose();
    expectClose(spmm(k, Z, M, K, X, N, { bias }), spmmRef(Z, M, K, X, N, bias), 'all zeros');
    // -0 is a zero too
    const negZero = new PackedSparseLinear(k, new Float32Array([-0, 1, 0, 0]), 2, 2);
    expect(negZero.nnz).toBe(1);
    negZero.dispose();
  });

  it('honours row strides (also changing between runs), writes nothing outside its columns, frees its memory', async () => {
    const k = await kernels(flavor);
    const before = k.heap.liveBytes;
    const M = 7, N = 45;
    const act: FusedActivation = { kind: 'leakyRelu', alpha: 0.2 };
    // K = 23 both ways; K = 1031 overflows the panel, so X is read in place whatever is asked
    for (const [K, access] of [[23, 'panel'], [23, 'inPlace'], [1031, 'panel']] as const) {
      const W = sparseWeights(M, K, 0.6, 13);
      const bias = randomArray(M, 14);
      const layer = new PackedSparseLinear(k, W, M, K, { bias, activation: act });
      for (const [ldx, ldy] of [[N, N], [N + 19, N + 3], [N + 1, N], [N, N + 16]]) {
        const X = randomArray(K * N, ldx * 100 + ldy);
        const xs = new Float32Array(K * ldx).fill(Number.NaN); // NaN padding: any use of it would show
        for (let c = 0; c < K; c++) xs.set(X.subarray(c * N, (c + 1) * N), c * ldx);
        const x = k.upload(xs);
        const y = k.upload(new Float32Array(M * ldy).fill(12345));
        layer.run(x, N, y, { ldx, ldy, access });
        const ys = k.download(y, M * ldy);
        const got = new Float32Array(M * N);
        for (let m = 0; m < M; m++) {
          got.set(ys.subarray(m * ldy, m * ldy + N), m * N);
          for (let n = N; n < ldy; n++) expect(ys[m * ldy + n], `gap m=${m} n=${n}`).toBe(12345);
        }
        expectClose(got, spmmRef(W, M, K, X, N, bias, act), `K=${K} ldx=${ldx} ldy=${ldy} ${access}`);
        k.free(x, y);
      }
      layer.dispose();
    }
    expect(k.heap.liveBytes).toBe(before);
  });

  it('rejects bad sizes with typed errors before touching wasm memory', async () => {
    const k = await kernels(flavor);
    expect(() => spmm(k, new Float32Array(5), 2, 3, new Float32Array(6), 2)).toThrow(ShapeError);
    expect(() => spmm(k, new Float32Array(6), 2, 3, new Float32Array(5), 2)).toThrow(ShapeError);
    expect(() => new PackedSparseLinear(k, new Float32Array(0), 0, 3)).toThrow(ShapeError);
    expect(() => new PackedSparseLinear(k, new Float32Array(6), 2.5, 3)).toThrow(ShapeError);
    expect(() => new PackedSparseLinear(k, new Float32Array(6), 2, 3, { bias: new Float32Array(3) })).toThrow(/bias/);
    expect(() => new PackedSparseLinear(k, new Float32Array(6), 2, 3, { activation: { kind: 'clip', min: 1, max: 0 } })).toThrow(ArgumentError);
    const layer = new PackedSparseLinear(k, randomArray(6, 1), 2, 3);
    const x = k.allocF32(3 * 4);
    const y = k.allocF32(2 * 4);
    expect(() => layer.run(x, 40, y)).toThrow(/SparseLinear input/); // 3 x 40 floats in a 16-float block
    expect(() => layer.run(x, 4, y, { ldy: 40 })).toThrow(/SparseLinear output/);
    expect(() => layer.run(x, 4, y, { ldx: 3 })).toThrow(/ldx/);
    expect(() => layer.run(x, 4, y, { ldy: 2 })).toThrow(/ldy/);
    expect(() => layer.run(x, -1, y)).toThrow(ShapeError);
    expect(() => layer.run(x, 1.5, y)).toThrow(ShapeError);
    expect(() => layer.run(x, 4, y, { access: 'sideways' as 'panel' })).toThrow(ArgumentError);
    expect(() => layer.run(x, 4, 12345)).toThrow(ShapeError);
    layer.run(x, 0, y); // nothing to do
    layer.dispose();
    expect(() => layer.run(x, 4, y)).toThrow(/dispose/);
    k.free(x, y);
  });
});
