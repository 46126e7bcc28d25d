import { describe, expect, it } from 'vitest';
import { ArgumentError, ShapeError } from '../src/errors.js';
import { batchNormBackward, batchNormTrainForward } from '../src/train/grad/batchnorm.js';
import { softmaxCrossEntropy } from '../src/train/grad/loss.js';
import type { Kernels } from '../src/wasm/kernels.js';
import { expectClose } from './util/close.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { randomArray } from './util/rng.js';
import { dot, expectGradClose, f64, nanBuffer, numericGrad, prod } from './grad-util.js';

/** float64 training-mode BatchNormalization (PyTorch's definition). */
function bn64(x: ArrayLike<number>, dims: number[], gamma: ArrayLike<number>, beta: ArrayLike<number>, eps: number) {
  const [N, C] = dims;
  const HW = prod(dims.slice(2));
  const M = N * HW;
  const y = new Float64Array(x.length);
  const mean = new Float64Array(C), variance = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) s += x[(n * C + c) * HW + i];
    const m = s / M;
    let v = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) v += (x[(n * C + c) * HW + i] - m) ** 2;
    v /= M;
    mean[c] = m;
    variance[c] = v;
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) {
      const j = (n * C + c) * HW + i;
      y[j] = ((x[j] - m) / Math.sqrt(v + eps)) * gamma[c] + beta[c];
    }
  }
  return { y, mean, variance, M };
}

function bnForward(k: Kernels, x: Float32Array, dims: number[], gamma: Float32Array, beta: Float32Array, rm: number, rv: number, momentum: number, eps: number) {
  const C = dims[1];
  const xp = k.upload(x), gp = k.upload(gamma), bp = k.upload(beta);
  const y = nanBuffer(k, x.length), sm = nanBuffer(k, C), si = nanBuffer(k, C);
  try {
    batchNormTrainForward(k, { x: xp, dims, gamma: gp, beta: bp, runningMean: rm, runningVar: rv, momentum, eps }, { y, saveMean: sm, saveInvStd: si });
    return { y: k.download(y, x.length), mean: k.download(sm, C), invStd: k.download(si, C) };
  } finally {
    k.free(xp, gp, bp, y, sm, si);
  }
}

const BN_DIMS = [[4, 3, 5, 7], [16, 5], [2, 6, 3], [3, 2, 4, 4]];

describe.each(FLAVORS)('BatchNorm (training) and softmax cross-entropy (%s build)', (flavor) => {
  it.each(BN_DIMS.map((d, i) => [i, d] as const))('BN forward %i: y, saved statistics and two steps of running statistics vs float64', async (i, dims) => {
    const k = await kernels(flavor);
    const C = dims[1];
    const gamma = randomArray(C, 1 + i, 0.5, 1.5), beta = randomArray(C, 2 + i);
    const rm0 = randomArray(C, 3 + i), rv0 = randomArray(C, 4 + i, 0.5, 2);
    const rm = k.upload(rm0), rv = k.upload(rv0);
    const momentum = 0.1, eps = 1e-5;
    const wantRm = f64(rm0), wantRv = f64(rv0);
    for (let step = 0; step < 2; step++) {
      const x = randomArray(prod(dims), 10 * i + step, -2 + step, 3);
      const got = bnForward(k, x, dims, gamma, beta, rm, rv, momentum, eps);
      const ref = bn64(x, dims, gamma, beta, eps);
      expectClose(got.y, ref.y, `y step ${step}`, 2e-5);
      expectClose(got.mean, ref.mean, 'saved mean', 1e-6);
      expectClose(got.invStd, Array.from(ref.variance, (v) => 1 / Math.sqrt(v + eps)), 'saved invstd', 1e-5);
      for (let c = 0; c < C; c++) {
        wantRm[c] = (1 - momentum) * wantRm[c] + momentum * ref.mean[c];
        wantRv[c] = (1 - momentum) * wantRv[c] + momentum * ref.variance[c] * ref.M / (ref.M - 1);
      }
      expectClose(k.download(rm, C), wantRm, `running mean step ${step}`, 1e-6);
      expectClose(k.download(rv, C), wantRv, `running var step ${step}`, 1e-6);
    }
    k.free(rm, rv);
  });

  it('BN forward keeps the variance of data with a large mean (corrected two-pass sums)', async () => {
    const k = await kernels(flavor);
    const dims = [8, 2, 6, 6];
    const x = randomArray(prod(dims), 5, 999, 1001);
    const got = bnForward(k, x, dims, new Float32Array([1, 2]), new Float32Array([0, 1]), 0, 0, 0.1, 1e-5);
    const ref = bn64(x, dims, [1, 2], [0, 1], 1e-5);
    expectClose(got.invStd, Array.from(ref.variance, (v) => 1 / Math.sqrt(v + 1e-5)), 'invstd', 1e-4);
    expectClose(got.y, ref.y, 'y', 1e-3);
  });

  it.each(BN_DIMS.map((d, i) => [i, d] as const))('BN backward %i: dx, dgamma, dbeta match central differences in float64', async (i, dims) => {
    const k = await kernels(flavor);
    const C = dims[1];
    const x = randomArray(prod(dims), 30 + i, -1, 2);
    const gamma = randomArray(C, 31 + i, 0.5, 1.5), beta = randomArray(C, 32 + i);
    const R = randomArray(prod(dims), 33 + i);
    const eps = 1e-5;
    const xp = k.upload(x), gp = k.upload(gamma), bp = k.upload(beta), dyp = k.upload(R);
    const y = k.allocF32(x.length), sm = k.allocF32(C), si = k.allocF32(C);
    batchNormTrainForward(k, { x: xp, dims, gamma: gp, beta: bp, eps }, { y, saveMean: sm, saveInvStd: si });
    const dx = nanBuffer(k, x.length), dg = nanBuffer(k, C), db = nanBuffer(k, C);
    batchNormBackward(k, { x: xp, dims, dy: dyp, gamma: gp, saveMean: sm, saveInvStd: si }, { dx, dgamma: dg, dbeta: db });
    const got = { dx: k.download(dx, x.length), dg: k.download(dg, C), db: k.download(db, C) };
    // in place (dx = dy) gives the same
    batchNormBackward(k, { x: xp, dims, dy: dyp, gamma: gp, saveMean: sm, saveInvStd: si }, { dx: dyp });
    expect(Array.from(k.download(dyp, x.length))).toEqual(Array.from(got.dx));
    k.free(xp, gp, bp, dyp, y, sm, si, dx, dg, db);
    const X = f64(x), G = f64(gamma), B = f64(beta);
    const loss = () => dot(bn64(X, dims, G, B, eps).y, R);
    expectGradClose(got.dx, numericGrad(X, loss, 1e-4), `dx ${dims}`, 1e-3);
    expectGradClose(got.dg, numericGrad(G, loss, 1e-4), `dgamma ${dims}`, 1e-3);
    expectGradClose(got.db, numericGrad(B, loss, 1e-4), `dbeta ${dims}`, 1e-3);
  });

  it('BN errors are typed', async () => {
    const k = await kernels(flavor);
    const b = k.allocF32(64);
    const a = { x: b, dims: [4, 2, 2, 2], gamma: b, beta: b, runningMean: b, runningVar: b };
    const o = { y: b, saveMean: b, saveInvStd: b };
    expect(() => batchNormTrainForward(k, { ...a, dims: [1, 2] }, o)).toThrow(/at least 2/);
    expect(() => batchNormTrainForward(k, { ...a, dims: [4] }, o)).toThrow(ShapeError);
    expect(() => batchNormTrainForward(k, { ...a, momentum: 1.5 }, o)).toThrow(ArgumentError);
    expect(() => batchNormTrainForward(k, { ...a, eps: 0 }, o)).toThrow(ArgumentError);
    expect(() => batchNormTrainForward(k, { ...a, dims: [4, 2, 4, 4] }, o)).toThrow(ShapeError);
    expect(() => batchNormBackward(k, { x: b, dims: [4, 2, 2, 2], dy: b, gamma: b, saveMean: b, saveInvStd: 77 }, {})).toThrow(ShapeError);
    k.free(b);
  });

  it.each([[7, 10], [5, 3], [64, 10], [2, 17]] as const)('cross-entropy %ix%i: mean loss vs float64, dlogits vs central differences', async (rows, classes) => {
    const k = await kernels(flavor);
    const logits = randomArray(rows * classes, rows + classes, -4, 4);
    logits[0] += 60; // a large logit: the max shift keeps exp finite
    const labels = Array.from({ length: rows }, (_, r) => (r * 7 + 3) % classes);
    const ce64 = (z: ArrayLike<number>) => {
      let s = 0;
      for (let r = 0; r < rows; r++) {
        let m = -Infinity;
        for (let c = 0; c < classes; c++) m = Math.max(m, z[r * classes + c]);
        let e = 0;
        for (let c = 0; c < classes; c++) e += Math.exp(z[r * classes + c] - m);
        s += Math.log(e) + m - z[r * classes + labels[r]];
      }
      return s / rows;
    };
    const lp = k.upload(logits), lab = k.uploadI32(labels), d = nanBuffer(k, logits.length);
    const loss = softmaxCrossEntropy(k, lp, lab, rows, classes, d);
    expect(Math.abs(loss - ce64(logits))).toBeLessThan(1e-6 * Math.max(1, ce64(logits)));
    const dl = k.download(d, logits.length);
    const Z = f64(logits);
    expectGradClose(dl, numericGrad(Z, () => ce64(Z), 1e-4), `dlogits ${rows}x${classes}`, 1e-4);
    // in place, and the loss alone
    expect(softmaxCrossEntropy(k, lp, lab, rows, classes)).toBe(loss);
    expect(softmaxCrossEntropy(k, lp, lab, rows, classes, lp)).toBe(loss);
    expect(Array.from(k.download(lp, logits.length))).toEqual(Array.from(dl));
    k.free(lp, lab, d);
  });

  it('cross-entropy labels out of range throw an ArgumentError naming the index', async () => {
    const k = await kernels(flavor);
    const lp = k.upload(randomArray(40, 1));
    for (const [bad, at] of [[10, 2], [-1, 3]]) {
      const labels = [0, 1, 2, 3];
      labels[at] = bad;
      const lab = k.uploadI32(labels);
      let err: unknown;
      try { softmaxCrossEntropy(k, lp, lab, 4, 10); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(ArgumentError);
      expect((err as Error).message).toContain(`label ${bad} at index ${at}`);
      k.free(lab);
    }
    const lab = k.uploadI32([0, 1, 2, 3]);
    expect(() => softmaxCrossEntropy(k, lp, lab, 5, 10)).toThrow(ShapeError);
    expect(() => softmaxCrossEntropy(k, lp, lab, 4, 0)).toThrow(ShapeError);
    expect(Number.isNaN(softmaxCrossEntropy(k, lp, lab, 0, 10))).toBe(true);
    k.free(lp, lab);
  });
});
