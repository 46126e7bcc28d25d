import { describe, expect, it } from 'vitest';
import { ShapeError } from '../src/errors.js';
import { PackedLinear } from '../src/kernels/gemm.js';
import { linearBackward, linearBackwardArrays, linearBackwardScratchFloats } from '../src/train/grad/linear.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { randomArray } from './util/rng.js';
import { dot, expectGradClose, f64, nanBuffer, numericGrad } from './grad-util.js';

/** float64 y = x · W + b, W as K x N or (transposed) N x K. */
function linear64(x: ArrayLike<number>, rows: number, K: number, N: number, w: ArrayLike<number>, b: ArrayLike<number>, transposed: boolean): Float64Array {
  const y = new Float64Array(rows * N);
  for (let r = 0; r < rows; r++) for (let n = 0; n < N; n++) {
    let s = b[n];
    for (let k = 0; k < K; k++) s += x[r * K + k] * (transposed ? w[n * K + k] : w[k * N + n]);
    y[r * N + n] = s;
  }
  return y;
}

// rows, K, N: tails of every packing (rows % 4, K % 8, N % 8 and % 4), tiny and SmallCNN-sized
const CASES = [
  [5, 7, 3],
  [8, 16, 8],
  [3, 13, 10],
  [1, 9, 1],
  [11, 20, 17],
];

describe.each(FLAVORS)('Linear backward (%s build)', (flavor) => {
  for (const transposed of [false, true]) {
    it.each(CASES.map((c, i) => [i, c] as const))(`case %i (W ${transposed ? 'N x K' : 'K x N'}) matches central differences in float64`, async (i, [rows, K, N]) => {
      const k = await kernels(flavor);
      const x = randomArray(rows * K, 10 + i);
      const w = randomArray(K * N, 20 + i);
      const b = randomArray(N, 30 + i);
      const R = randomArray(rows * N, 40 + i);
      const got = linearBackwardArrays(k, x, rows, K, N, w, R, transposed);
      const X = f64(x), Wt = f64(w), B = f64(b);
      const loss = () => dot(linear64(X, rows, K, N, Wt, B, transposed), R);
      expectGradClose(got.dx, numericGrad(X, loss), `dx ${rows}x${K}x${N}`);
      expectGradClose(got.dw, numericGrad(Wt, loss), `dw ${rows}x${K}x${N}`);
      expectGradClose(got.db, numericGrad(B, loss), `db ${rows}x${K}x${N}`);
    });
  }

  it('the SmallCNN classifier (64 x 1568 -> 10, torch layout) matches the float64 analytic gradient', async () => {
    const k = await kernels(flavor);
    const rows = 64, K = 1568, N = 10;
    const x = randomArray(rows * K, 1);
    const w = randomArray(K * N, 2, -0.05, 0.05);
    const dy = randomArray(rows * N, 3);
    // the forward with the inference PackedLinear, same layout
    const lin = new PackedLinear(k, w, K, N, { transposed: true });
    const xp = k.upload(x);
    const yp = k.allocF32(rows * N);
    lin.run(xp, rows, yp);
    const y = k.download(yp, rows * N);
    expectGradClose(y, linear64(x, rows, K, N, w, new Float64Array(N), true), 'forward', 1e-5);
    lin.dispose();
    k.free(xp, yp);
    const got = linearBackwardArrays(k, x, rows, K, N, w, dy, true);
    const dx = new Float64Array(rows * K), dw = new Float64Array(N * K), db = new Float64Array(N);
    for (let r = 0; r < rows; r++) for (let n = 0; n < N; n++) {
      const g = dy[r * N + n];
      db[n] += g;
      for (let j = 0; j < K; j++) { dw[n * K + j] += g * x[r * K + j]; dx[r * K + j] += g * w[n * K + j]; }
    }
    expectGradClose(got.dx, dx, 'dx', 1e-5);
    expectGradClose(got.dw, dw, 'dw', 1e-5);
    expectGradClose(got.db, db, 'db', 1e-5);
  });

  it('overwrites its outputs; dx and db are optional; zero rows give zero dw', async () => {
    const k = await kernels(flavor);
    const rows = 6, K = 5, N = 4;
    const x = k.upload(randomArray(rows * K, 5)), w = k.upload(randomArray(K * N, 6)), dy = k.upload(randomArray(rows * N, 7));
    const dw = nanBuffer(k, K * N), s = k.allocF32(linearBackwardScratchFloats(rows, K, N, false, false));
    linearBackward(k, { x, rows, K, N, w, dy }, { dw }, s);
    expect(k.download(dw, K * N).every(Number.isFinite)).toBe(true);
    const dw0 = nanBuffer(k, K * N);
    linearBackward(k, { x, rows: 0, K, N, w, dy }, { dw: dw0, db: dw }, s);
    expect(Array.from(k.download(dw0, K * N))).toEqual(new Array(K * N).fill(0));
    expect(Array.from(k.download(dw, N))).toEqual(new Array(N).fill(0));
    k.free(x, w, dy, dw, s, dw0);
  });

  it('bad inputs give ShapeErrors', async () => {
    const k = await kernels(flavor);
    const x = k.allocF32(64), w = k.allocF32(64), dy = k.allocF32(64), dw = k.allocF32(64), s = k.allocF32(1024);
    try {
      const a = { x, rows: 4, K: 8, N: 8, w, dy };
      expect(() => linearBackward(k, { ...a, K: 0 }, { dw }, s)).toThrow(ShapeError);
      expect(() => linearBackward(k, { ...a, rows: 1.5 }, { dw }, s)).toThrow(ShapeError);
      expect(() => linearBackward(k, { ...a, rows: 9 }, { dw }, s)).toThrow(/x/);
      expect(() => linearBackward(k, a, { dw, dx: dy + 160 }, s)).toThrow(/dx/);
      expect(() => linearBackward(k, a, { dw: 0 }, s)).toThrow(/dw is required/);
      expect(() => linearBackward(k, a, { dw, dx: w }, dy)).toThrow(/scratch/);
      expect(() => linearBackwardArrays(k, new Float32Array(3), 2, 2, 2, new Float32Array(4), new Float32Array(4))).toThrow(ShapeError);
    } finally {
      k.free(x, w, dy, dw, s);
    }
  });
});
