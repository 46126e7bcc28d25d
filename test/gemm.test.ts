import { describe, expect, it } from 'vitest';
import { gemm, matmul, PackedLinear } from '../src/kernels/gemm.js';
import { ShapeError } from '../src/errors.js';
import { actRef, gemmRef } from './ref/gemm.js';
import { expectClose } from './util/close.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { buildModel, runOrt } from './util/onnx.js';
import { randomArray, randomInt, rng } from './util/rng.js';

describe.each(FLAVORS)('GEMM (%s build)', (flavor) => {
  it('matches a float64 reference on random shapes, with bias and each fused activation', async () => {
    const k = await kernels(flavor);
    const r = rng(1);
    const acts = [undefined, { kind: 'relu' }, { kind: 'clip', min: -0.3, max: 0.7 }, { kind: 'leakyRelu', alpha: 0.1 }] as const;
    for (let t = 0; t < 40; t++) {
      const M = randomInt(r, 1, 13);
      const K = t % 10 === 0 ? randomInt(r, 257, 600) : randomInt(r, 1, 70); // crosses the K-block of 256
      const N = randomInt(r, 1, 37);
      const transposed = t % 2 === 1;
      const A = randomArray(M * K, 10 + t);
      const B = randomArray(K * N, 100 + t);
      const bias = t % 3 ? randomArray(N, 200 + t) : undefined;
      const act = acts[t % 4];
      const got = gemm(k, A, B, M, K, N, { transposed, bias, activation: act });
      const p0 = act?.kind === 'clip' ? act.min : act?.kind === 'leakyRelu' ? act.alpha : 0;
      const p1 = act?.kind === 'clip' ? act.max : 0;
      const want = actRef(gemmRef(A, B, M, K, N, transposed, bias), act?.kind ?? 'none', p0, p1);
      expectClose(got, want, `M=${M} K=${K} N=${N} T=${transposed} act=${act?.kind}`);
    }
  });

  it('a packed layer runs many times on the same weights and frees its memory', async () => {
    const k = await kernels(flavor);
    const before = k.heap.liveBytes;
    const K = 19, N = 11;
    const W = randomArray(K * N, 5);
    const lin = new PackedLinear(k, W, K, N);
    for (const M of [1, 4, 9]) {
      const A = randomArray(M * K, M);
      const x = k.upload(A);
      const y = k.allocF32(M * N);
      lin.run(x, M, y);
      expectClose(k.download(y, M * N), gemmRef(A, W, M, K, N), `M=${M}`);
      k.free(x, y);
    }
    lin.dispose();
    expect(k.heap.liveBytes).toBe(before);
  });

  it('rejects wrong sizes before touching wasm memory', async () => {
    const k = await kernels(flavor);
    expect(() => gemm(k, new Float32Array(5), new Float32Array(6), 2, 3, 2)).toThrow(ShapeError);
    const lin = new PackedLinear(k, new Float32Array(6), 3, 2);
    const x = k.allocF32(3);
    const y = k.allocF32(2);
    expect(() => lin.run(x, 40, y)).toThrow(/Linear input/); // 40 rows need 120 floats, the block has 16
    expect(() => lin.run(x, 1, 12345)).toThrow(ShapeError);
    expect(() => new PackedLinear(k, new Float32Array(6), 3, 2, { bias: new Float32Array(3) })).toThrow(/bias/);
    k.free(x, y);
    lin.dispose();
  });

  it('batched MatMul broadcasts like numpy and agrees with onnxruntime', async () => {
    const k = await kernels(flavor);
    const cases: [number[], number[]][] = [
      [[3, 5], [5, 7]],
      [[2, 3, 5], [5, 9]],
      [[2, 1, 3, 4], [3, 4, 6]],
      [[4], [4, 3]],
      [[2, 3, 4], [4]],
      [[1, 6, 17], [2, 1, 17, 9]],
    ];
    for (const [i, [ad, bd]] of cases.entries()) {
      const A = randomArray(ad.reduce((a, b) => a * b, 1), 300 + i);
      const B = randomArray(bd.reduce((a, b) => a * b, 1), 400 + i);
      const got = matmul(k, A, ad, B, bd);
      const model = buildModel({ nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }], inputs: [{ name: 'a', dims: ad }, { name: 'b', dims: bd }], outputs: ['y'] });
      const want = (await runOrt(model, { a: { data: A, dims: ad }, b: { data: B, dims: bd } })).y;
      expect(got.dims, `${ad} x ${bd}`).toEqual(want.dims);
      expectClose(got.data, want.data, `${ad} x ${bd}`);
    }
    expect(() => matmul(k, new Float32Array(6), [2, 3], new Float32Array(8), [4, 2])).toThrow(/inner dimension/);
  });

  it('Gemm with transB, bias and alpha-free form agrees with onnxruntime', async () => {
    const k = await kernels(flavor);
    const M = 7, K = 45, N = 21;
    const A = randomArray(M * K, 1);
    const W = randomArray(N * K, 2);
    const bias = randomArray(N, 3);
    const model = buildModel({
      nodes: [{ op: 'Gemm', inputs: ['a', 'w', 'b'], outputs: ['y'], attrs: { transB: 1 } }],
      inputs: [{ name: 'a', dims: [M, K] }],
      outputs: ['y'],
      initializers: [{ name: 'w', dims: [N, K], data: W }, { name: 'b', dims: [N], data: bias }],
    });
    const want = (await runOrt(model, { a: { data: A, dims: [M, K] } })).y;
    expectClose(gemm(k, A, W, M, K, N, { transposed: true, bias }), want.data, 'Gemm transB');
  });
});
