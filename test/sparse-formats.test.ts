// The 1x4 block-sparse and 2:4 kernels (assembly/sparse_block.ts, sparse_nm.ts) against a float64
// reference and the dense path, both builds; and the cost model the runtime picks kernels with.
import { describe, expect, it } from 'vitest';
import { PackedBlockSparseLinear, PackedNMSparseLinear, PackedSparseLinear, sparseCostRatio, spmm, type SparseFormat } from '../src/kernels/sparse.js';
import { PackedConv2d } from '../src/kernels/conv.js';
import type { FusedActivation } from '../src/kernels/activation.js';
import type { Kernels } from '../src/wasm/kernels.js';
import { ArgumentError, ShapeError } from '../src/errors.js';
import { spmmRef } from './ref/gemm.js';
import { expectClose } from './util/close.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { randomArray, randomInt, rng } from './util/rng.js';

const ACTS: (FusedActivation | undefined)[] = [undefined, { kind: 'relu' }, { kind: 'clip', min: -0.3, max: 0.7 }, { kind: 'leakyRelu', alpha: 0.1 }];

/** M x K weights with a fraction `sparsity` of the aligned 1x4 blocks zeroed, and (inner) of the other weights too. */
function blockWeights(M: number, K: number, sparsity: number, seed: number, inner = 0): Float32Array {
  const w = randomArray(M * K, seed);
  const r = rng(seed + 7919);
  for (let m = 0; m < M; m++) {
    for (let g = 0; g < K; g += 4) {
      if (r() < sparsity) w.fill(0, m * K + g, m * K + Math.min(K, g + 4));
      else for (let c = g; c < Math.min(K, g + 4); c++) if (r() < inner) w[m * K + c] = 0;
    }
  }
  return w;
}

/** M x K weights with at most 2 non-zeros in every aligned group of 4 (some groups with 1 or 0). */
function twoFourWeights(M: number, K: number, seed: number): Float32Array {
  const w = randomArray(M * K, seed);
  const r = rng(seed + 104729);
  for (let m = 0; m < M; m++) {
    for (let g = 0; g < K; g += 4) {
      const n = Math.min(4, K - g);
      const keep = r() < 0.1 ? 0 : r() < 0.15 ? 1 : 2;
      const order = [0, 1, 2, 3].slice(0, n).sort(() => r() - 0.5);
      for (const i of order.slice(keep)) w[m * K + g + i] = 0;
    }
  }
  return w;
}


function denseRef(k: Kernels, W: Float32Array, M: number, K: number, X: Float32Array, N: number, bias?: Float32Array): Float32Array {
  const conv = new PackedConv2d(k, W, [M, K, 1, 1], bias);
  const x = k.upload(X);
  const y = k.allocF32(M * N);
  try {
    conv.run(x, [1, K, 1, N], y, 0);
    return k.download(y, M * N);
  } finally {
    k.free(x, y);
    conv.dispose();
  }
}

const SHAPES = (r: () => number, t: number): [number, number, number] => {
  const M = randomInt(r, 1, 11);
  // K: not a multiple of 4, across the 192-row chunks, large
  const K = t % 4 === 0 ? randomInt(r, 90, 420) : t % 4 === 1 ? randomInt(r, 1, 9) : randomInt(r, 10, 90);
  // N: tails of one 28-column block and of groups of 4
  const N = t < 3 ? [1, 28, 113][t] : randomInt(r, 1, 240);
  return [M, K, N];
};

describe.each(FLAVORS)('1x4 block-sparse and 2:4 SpMM (%s build)', (flavor) => {
  it('1x4 blocks match a float64 reference (zeros inside kept blocks, K % 4 != 0, bias, activations)', async () => {
    const k = await kernels(flavor);
    const r = rng(21);
    for (let t = 0; t < 28; t++) {
      const [M, K, N] = SHAPES(r, t);
      const W = blockWeights(M, K, [0, 0.5, 0.8, 0.95, 1][t % 5], 100 + t, t % 3 === 0 ? 0.3 : 0);
      const X = randomArray(K * N, 200 + t);
      const bias = t % 2 ? randomArray(M, 300 + t) : undefined;
      const act = ACTS[t % 4];
      const want = spmmRef(W, M, K, X, N, bias, act);
      // in place needs K % 4 == 0 (else the panel runs whatever is asked)
      for (const access of ['auto', 'panel', 'inPlace'] as const) {
        expectClose(spmm(k, W, M, K, X, N, { bias, activation: act, format: 'block1x4', access }), want, `1x4 M=${M} K=${K} N=${N} ${access}`);
      }
    }
  });

  it('2:4 matches a float64 reference (groups of 0-2 non-zeros, K % 4 != 0, bias, activations)', async () => {
    const k = await kernels(flavor);
    const r = rng(22);
    for (let t = 0; t < 28; t++) {
      const [M, K, N] = SHAPES(r, t);
      const W = twoFourWeights(M, K, 400 + t);
      const X = randomArray(K * N, 500 + t);
      const bias = t % 2 ? randomArray(M, 600 + t) : undefined;
      const act = ACTS[(t >> 1) % 4];
      expectClose(spmm(k, W, M, K, X, N, { bias, activation: act, format: '2:4' }), spmmRef(W, M, K, X, N, bias, act), `2:4 M=${M} K=${K} N=${N}`);
    }
  });

  it('all three formats agree with the dense gemm_a4 path on the same 2:4 / 1x4 weights', async () => {
    const k = await kernels(flavor);
    const M = 24, K = 300, N = 150;
    const X = randomArray(K * N, 41);
    const bias = randomArray(M, 42);
    const cases: [string, Float32Array, SparseFormat[]][] = [
      ['2:4', twoFourWeights(M, K, 43), ['csr', 'block1x4', '2:4']],
      ['1x4', blockWeights(M, K, 0.8, 44), ['csr', 'block1x4']],
    ];
    for (const [name, W, formats] of cases) {
      const want = denseRef(k, W, M, K, X, N, bias);
      for (const format of formats) expectClose(spmm(k, W, M, K, X, N, { bias, format }), want, `${name} weights, ${format}`);
    }
  });

  it('counts blocks, honours row strides, writes nothing outside its columns and frees its memory', async () => {
    const k = await kernels(flavor);
    const before = k.heap.liveBytes;
    const M = 5, K = 104, N = 59;
    const act: FusedActivation = { kind: 'leakyRelu', alpha: 0.2 };
    const Wb = blockWeights(M, K, 0.6, 51, 0.25);
    const Wn = twoFourWeights(M, K, 52);
    const bias = randomArray(M, 53);
    const block = new PackedBlockSparseLinear(k, Wb, M, K, { bias, activation: act });
    let blocks = 0;
    for (let m = 0; m < M; m++) for (let g = 0; g < K; g += 4) if (Wb.subarray(m * K + g, m * K + Math.min(K, g + 4)).some((v) => v !== 0)) blocks++;
    expect(block.blocks).toBe(blocks);
    expect(block.nnz).toBe(Wb.filter((v) => v !== 0).length);
    expect(block.blockDensity).toBeCloseTo((4 * blocks) / (M * K), 12);
    const nm = new PackedNMSparseLinear(k, Wn, M, K, { bias, activation: act });
    expect(nm.nnz).toBe(Wn.filter((v) => v !== 0).length);
    for (const [layer, W] of [[block, Wb], [nm, Wn]] as const) {
      // the 1x4 layer alternates panel and in place (K = 104: both run), re-encoding its offsets
      for (const [ldx, ldy, access] of [[N, N, 'panel'], [N + 13, N + 3, 'inPlace'], [N, N + 16, 'inPlace'], [N + 1, N, 'panel'], [N + 1, N, 'auto']] as const) {
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
        expectClose(got, spmmRef(W, M, K, X, N, bias, act), `${layer.constructor.name} ldx=${ldx} ldy=${ldy} ${access}`);
        k.free(x, y);
      }
      layer.dispose();
      layer.dispose(); // twice is harmless
    }
    expect(k.heap.liveBytes).toBe(before);
  });

  it('rejects bad weights and sizes with typed errors before touching wasm memory', async () => {
    const k = await kernels(flavor);
    const before = k.heap.liveBytes;
    // a group with 3 non-zeros is not 2:4; the message names the row and the channels
    const W = new Float32Array(2 * 8);
    W.set([1, 2, 3, 0, 1, 0, 0, 0], 8);
    expect(() => new PackedNMSparseLinear(k, W, 2, 8)).toThrow(ShapeError);
    expect(() => new PackedNMSparseLinear(k, W, 2, 8)).toThrow(/row 1, input channels 0\.\.3 hold 3 non-zeros/);
    expect(k.heap.liveBytes).toBe(before);
    for (const Ctor of [PackedBlockSparseLinear, PackedNMSparseLinear]) {
      expect(() => new Ctor(k, new Float32Array(5), 2, 3)).toThrow(ShapeError);
      expect(() => new Ctor(k, new Float32Array(0), 0, 3)).toThrow(ShapeError);
      expect(() => new Ctor(k, new Float32Array(6), 2.5, 3)).toThrow(ShapeError);
      expect(() => new Ctor(k, new Float32Array(6), 2, 3, { bias: new Float32Array(3) })).toThrow(/bias/);
      expect(() => new Ctor(k, new Float32Array(6), 2, 3, { activation: { kind: 'clip', min: 1, max: 0 } })).toThrow(ArgumentError);
      const layer = new Ctor(k, new Float32Array([1, 0, 0, 0, 2, 0]), 2, 3);
      const x = k.allocF32(3 * 4);
      const y = k.allocF32(2 * 4);
      expect(() => layer.run(x, 40, y)).toThrow(/input/);
      expect(() => layer.run(x, 4, y, { ldy: 40 })).toThrow(/output/);
      expect(() => layer.run(x, 4, y, { ldx: 3 })).toThrow(/ldx/);
      expect(() => layer.run(x, -1, y)).toThrow(ShapeError);
      expect(() => layer.run(x, 4, y, { access: 'sideways' as 'panel' })).toThrow(ArgumentError);
      layer.run(x, 0, y); // nothing to do
      layer.dispose();
      expect(() => layer.run(x, 4, y)).toThrow(/dispose/);
      k.free(x, y);
    }
    expect(() => spmm(k, new Float32Array(4), 2, 2, new Float32Array(2), 1, { format: 'csc' as SparseFormat })).toThrow(ArgumentError);
    expect(k.heap.liveBytes).toBe(before);
  });
});

describe('sparseCostRatio', () => {
  it('grows with density, orders the formats as measured and charges narrow blocks for their padding', () => {
    for (const f of ['csr', 'block1x4'] as const) {
      let prev = 0;
      for (const d of [0.01, 0.05, 0.1, 0.14, 0.16, 0.2, 0.3, 0.5, 0.8, 1]) {
        const r = sparseCostRatio(f, d, 3136);
        expect(r, `${f} ${d}`).toBeGreaterThan(prev);
        prev = r;
      }
    }
    // the bar the fits stand on: sparse pays off from 50% zeros (CSR) and 2:4 beats dense
    expect(sparseCostRatio('csr', 0.5, 3136)).toBeLessThan(1);
    expect(sparseCostRatio('2:4', 0.5, 3136)).toBeLessThan(1);
    // 1x4 blocks ran as fast as CSR at the same density (3.14x against 3.17x at 80% zeros): never predicted slower
    expect(sparseCostRatio('block1x4', 0.2, 3136)).toBeLessThanOrEqual(sparseCostRatio('csr', 0.2, 3136));
    // narrow operands pay for whole blocks: 16 (CSR in place) or 28 columns against the dense GEMM's 8
    expect(sparseCostRatio('csr', 0.5, 8)).toBeCloseTo(2 * sparseCostRatio('csr', 0.5, 16), 12);
    expect(sparseCostRatio('2:4', 0.5, 8)).toBeCloseTo(3.5 * sparseCostRatio('2:4', 0.5, 3136), 12);
    expect(sparseCostRatio('block1x4', 0.3, 3136 + 1)).toBeGreaterThan(sparseCostRatio('block1x4', 0.3, 3136));
    expect(() => sparseCostRatio('csr', 1.5)).toThrow(ArgumentError);
    expect(() => sparseCostRatio('csr', Number.NaN)).toThrow(ArgumentError);
    expect(() => sparseCostRatio('csr', 0.5, 0)).toThrow(ArgumentError);
    expect(() => sparseCostRatio('bsr' as SparseFormat, 0.5)).toThrow(ArgumentError);
  });

  it('packs what the cost model is told: PackedSparseLinear density, PackedBlockSparseLinear blockDensity', async () => {
    const k = await kernels('simd');
    const W = blockWeights(8, 64, 0.75, 61, 0.5);
    const csr = new PackedSparseLinear(k, W, 8, 64);
    const block = new PackedBlockSparseLinear(k, W, 8, 64);
    expect(block.blockDensity).toBeGreaterThanOrEqual(csr.density);
    expect(block.density).toBe(csr.density);
    csr.dispose();
    block.dispose();
  });
});
