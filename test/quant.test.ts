// int8 weights: the quantizer (graph/quant.ts) against hand-computed cases and its documented
// conventions, and the int8 kernels (assembly/quant.ts via src/kernels/quant.ts), both builds,
// against a float64 reference with an error bound derived from the scales:
//   vs the dequantized weights w' = q·s (what the float path packs):
//       |y - y'| ≤ s[m]·Σ_k |q[m][k]|·sx/2 + float rounding,  sx = max|x| of the column (row) / 32767
//   vs the original float weights, add the weights' own int8 error: Σ_k (s[m]/2)·|x[k]|.
import { describe, expect, it } from 'vitest';
import { ArgumentError, ModelFormatError, ShapeError } from '../src/errors.js';
import { checkQuant, dequantize, int8Weights, MIN_SCALE, quantizeTensor, quantizeWeightsPerChannel, roundHalfEven } from '../src/graph/quant.js';
import type { FusedActivation } from '../src/kernels/activation.js';
import { PackedConv2d } from '../src/kernels/conv.js';
import { int8Conv1x1, int8Linear, PackedInt8Conv1x1, PackedInt8Linear } from '../src/kernels/quant.js';
import { actRef } from './ref/gemm.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { randomArray, randomInt, rng } from './util/rng.js';

// ---- the quantizer ---------------------------------------------------------------------------

describe('quantizeWeightsPerChannel', () => {
  it('scale = max|w| / 127 per channel, the largest weight maps to ±127, every error ≤ scale / 2', () => {
    const dims = [6, 3, 3, 3];
    const w = randomArray(6 * 27, 1, -2, 2);
    for (let c = 0; c < 6; c++) for (let j = 0; j < 27; j++) w[c * 27 + j] *= c + 1; // channels of different ranges
    const { q, scales, axis } = quantizeWeightsPerChannel(w, dims);
    expect(axis).toBe(0);
    const d = dequantize(q, scales, dims);
    for (let c = 0; c < 6; c++) {
      const row = w.subarray(c * 27, (c + 1) * 27);
      const amax = Math.max(...row.map(Math.abs));
      expect(scales[c]).toBe(Math.fround(amax / 127));
      expect(Math.max(...q.subarray(c * 27, (c + 1) * 27).map(Math.abs))).toBe(127);
      for (let j = 0; j < 27; j++) {
        expect(Math.abs(q[c * 27 + j])).toBeLessThanOrEqual(127);
        expect(Math.abs(w[c * 27 + j] - d[c * 27 + j])).toBeLessThanOrEqual(scales[c] / 2 + 1e-12);
        expect(d[c * 27 + j]).toBe(Math.fround(q[c * 27 + j] * scales[c]));
      }
    }
  });

  it('rounds half to even; zeros (and -0) stay exactly +0', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, -3]);
    // amax = 15.875 gives the exact scale 1/8, so k + 0.5 steps are exact ties
    const w = Float32Array.of(15.875, 2.5 / 8, 3.5 / 8, -2.5 / 8, -3.5 / 8, 0, -0, 1 / 64);
    const { q, scales } = quantizeWeightsPerChannel(w, [1, 8]);
    expect(scales[0]).toBe(0.125);
    expect([...q]).toEqual([127, 2, 4, -2, -4, 0, 0, 0]);
    const d = dequantize(q, scales, [1, 8]);
    expect(Object.is(d[6], 0) && Object.is(d[7], 0)).toBe(true);
  });

  it('an all-zero channel gets scale 1; a subnormal one 2^-126 (never 0, never subnormal)', () => {
    const w = Float32Array.of(0, 0, 0, 1e-40, -3e-41, 0, 1, -0.5, 0.25);
    const { q, scales } = quantizeWeightsPerChannel(w, [3, 3]);
    expect(scales[0]).toBe(1);
    expect(scales[1]).toBe(MIN_SCALE);
    expect([...q.subarray(0, 3)]).toEqual([0, 0, 0]);
    const d = dequantize(q, scales, [3, 3]);
    for (let i = 3; i < 6; i++) expect(Math.abs(d[i] - w[i])).toBeLessThanOrEqual(MIN_SCALE / 2);
  });

  it('any axis: Gemm / MatMul weights [K, N] are quantized per column (axis 1)', () => {
    const w = randomArray(5 * 7, 2);
    const { q, scales } = quantizeWeightsPerChannel(w, [5, 7], 1);
    expect(scales.length).toBe(7);
    for (let n = 0; n < 7; n++) {
      let amax = 0;
      for (let k = 0; k < 5; k++) amax = Math.max(amax, Math.abs(w[k * 7 + n]));
      expect(scales[n]).toBe(Math.fround(amax / 127));
      for (let k = 0; k < 5; k++) expect(q[k * 7 + n] * scales[n]).toBeCloseTo(w[k * 7 + n], 2);
    }
  });

  it('refuses NaN and infinite weights and a bad axis', () => {
    expect(() => quantizeWeightsPerChannel(Float32Array.of(1, NaN), [2])).toThrow(ArgumentError);
    expect(() => quantizeWeightsPerChannel(Float32Array.of(1, -Infinity), [1, 2])).toThrow(/-Infinity/);
    expect(() => quantizeWeightsPerChannel(Float32Array.of(1, 2), [1, 2], 2)).toThrow(/axis 2 is outside/);
    expect(() => quantizeWeightsPerChannel(Float32Array.of(1, 2), [3])).toThrow(/need 3 values/);
  });

  it('int8Weights recovers q exactly from a quantized tensor; a stale annotation is caught', () => {
    const t = quantizeTensor({ dtype: 'float32', dims: [16, 40], data: randomArray(640, 3, -5, 5) }, 0);
    const direct = quantizeWeightsPerChannel(randomArray(640, 3, -5, 5), [16, 40]);
    const back = int8Weights(t);
    expect([...back.q]).toEqual([...direct.q]);
    expect(back.scales).toBe(t.quant!.scales);
    expect(quantizeTensor(t, 0)).toBe(t); // idempotent
    expect(() => quantizeTensor(t, 1)).toThrow(/already quantized along axis 0/);
    const stale = { ...t, data: (t.data as Float32Array).map((v) => v * 0.5) };
    expect(() => int8Weights(stale)).toThrow(ModelFormatError);
    expect(checkQuant(t.data as Float32Array, t.dims, t.quant!)).toBeUndefined();
  });
});

// ---- the kernels -----------------------------------------------------------------------------

const ACTS: (FusedActivation | undefined)[] = [undefined, { kind: 'relu' }, { kind: 'clip', min: -0.3, max: 0.7 }, { kind: 'leakyRelu', alpha: 0.1 }];

function actArgs(act: FusedActivation | undefined): [string, number, number] {
  const p0 = act?.kind === 'clip' ? act.min : act?.kind === 'leakyRelu' ? act.alpha : 0;
  const p1 = act?.kind === 'clip' ? act.max : 0;
  return [act?.kind ?? 'none', p0, p1];
}

/** Weights with ~`sparsity` exact zeros, quantized per row of an M x K matrix. */
function int8Matrix(M: number, K: number, seed: number, sparsity = 0) {
  const w = randomArray(M * K, seed);
  const r = rng(seed + 99);
  for (let i = 0; i < w.length; i++) if (r() < sparsity) w[i] = 0;
  const { q, scales } = quantizeWeightsPerChannel(w, [M, K]);
  return { w, q, scales, deq: dequantize(q, scales, [M, K]) };
}

interface Bound {
  ref: Float64Array;
  /** allowed |error| per element against the dequantized weights */
  tight: Float64Array;
  /** the same against the original float weights */
  loose: Float64Array;
  refOrig: Float64Array;
}

/**
 * Y[m][n] = sum_k W[m][k] X[k][n] (+ bias, activation) in float64, for the dequantized and the
 * original weights, and the bounds. X is K x N; the activation-quantization step of column n is
 * max_k |X[k][n]| / 32767 (the kernel's per-slice max is never larger).
 */
function reference(wOrig: Float32Array, q: Int8Array, scales: Float32Array, M: number, K: number, X: Float32Array, N: number, bias: Float32Array | undefined, act: FusedActivation | undefined): Bound {
  const [kind, p0, p1] = actArgs(act);
  const ref = new Float64Array(M * N);
  const refOrig = new Float64Array(M * N);
  const tight = new Float64Array(M * N);
  const loose = new Float64Array(M * N);
  const colMax = new Float64Array(N);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) colMax[n] = Math.max(colMax[n], Math.abs(X[k * N + n]));
  for (let m = 0; m < M; m++) {
    const s = scales[m];
    for (let n = 0; n < N; n++) {
      let y = bias ? bias[m] : 0;
      let yo = y;
      let absSum = Math.abs(y);
      let qSum = 0;
      let xSum = 0;
      for (let k = 0; k < K; k++) {
        const x = X[k * N + n];
        const wq = q[m * K + k] * s;
        y += wq * x;
        yo += wOrig[m * K + k] * x;
        absSum += Math.abs(wq * x);
        qSum += Math.abs(q[m * K + k]);
        xSum += Math.abs(x);
      }
      ref[m * N + n] = y;
      refOrig[m * N + n] = yo;
      const actQuant = s * qSum * (colMax[n] / 32767) * 0.5 * 1.001;
      const rounding = 1e-6 * absSum + 1e-30;
      tight[m * N + n] = actQuant + rounding;
      loose[m * N + n] = actQuant + rounding + 0.5 * s * xSum;
    }
  }
  // the activations are 1-Lipschitz (leaky alpha ≤ 1): the bounds hold after them too
  return { ref: actRef(ref, kind, p0, p1), refOrig: actRef(refOrig, kind, p0, p1), tight, loose };
}

function expectWithin(got: Float32Array, b: Bound, what: string): void {
  let worst = 0;
  let worstAt = -1;
  let worstOrig = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - b.ref[i]) / b.tight[i];
    if (!(e <= worst)) {
      worst = e;
      worstAt = i;
    }
    worstOrig = Math.max(worstOrig, Math.abs(got[i] - b.refOrig[i]) / b.loose[i]);
  }
  if (!(worst <= 1)) expect.fail(`${what}: error ${Math.abs(got[worstAt] - b.ref[worstAt]).toExponential(3)} over its bound ${b.tight[worstAt].toExponential(3)} at ${worstAt}: got ${got[worstAt]}, want ${b.ref[worstAt]}`);
  if (!(worstOrig <= 1)) expect.fail(`${what}: over the bound against the original float weights (${worstOrig.toFixed(3)}x)`);
}

/** X^T of a K x N matrix (the Linear layout: rows are batch items). */
function transpose(a: Float32Array, R: number, C: number): Float32Array {
  const t = new Float32Array(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) t[c * R + r] = a[r * C + c];
  return t;
}

describe.each(FLAVORS)('int8 kernels (%s build)', (flavor) => {
  it('Conv1x1 (qgemm_a4) matches float64 within the scale-derived bound: random shapes, K slices, partial panels, biases, activations', async () => {
    const k = await kernels(flavor);
    const r = rng(5);
    const Ks = [1, 2, 3, 7, 16, 33, 255, 512, 513, 1100];
    for (let t = 0; t < 40; t++) {
      const M = randomInt(r, 1, 13);
      const K = t < Ks.length ? Ks[t] : randomInt(r, 1, 700);
      const N = randomInt(r, 1, 45);
      const { w, q, scales } = int8Matrix(M, K, 100 + t, t % 3 === 0 ? 0.7 : 0);
      const X = randomArray(K * N, 200 + t, -3, 3);
      const bias = t % 2 ? randomArray(M, 300 + t) : undefined;
      const act = ACTS[t % ACTS.length];
      const got = int8Conv1x1(k, q, scales, M, K, X, N, { bias, activation: act });
      expectWithin(got, reference(w, q, scales, M, K, X, N, bias, act), `M=${M} K=${K} N=${N} act=${act?.kind}`);
    }
  });

  it('Linear (qgemm_b8) matches float64 within the bound: batch 1 (GEMV) to 70 rows, W as K x N or N x K', async () => {
    const k = await kernels(flavor);
    const r = rng(6);
    const Ms = [1, 1, 2, 3, 4, 5, 64, 65, 70];
    for (let t = 0; t < 36; t++) {
      const M = t < Ms.length ? Ms[t] : randomInt(r, 1, 9);
      const K = randomInt(r, 1, t % 5 === 0 ? 1100 : 300);
      const N = randomInt(r, 1, 30);
      // quantized per output n: build as N x K (rows = outputs)
      const { w, q, scales } = int8Matrix(N, K, 400 + t, t % 4 === 0 ? 0.8 : 0);
      const x = randomArray(M * K, 500 + t, -2, 2);
      const bias = t % 2 ? randomArray(N, 600 + t) : undefined;
      const act = ACTS[t % ACTS.length];
      const transposed = t % 2 === 0;
      const qIn = transposed ? q : Int8Array.from(transpose(Float32Array.from(q), N, K));
      const got = int8Linear(k, x, M, qIn, scales, K, N, { transposed, bias, activation: act });
      // reference in the W·X form: Y^T[N x M] = Wq[N x K] · x^T[K x M]
      const b = reference(w, q, scales, N, K, transpose(x, M, K), M, bias, act);
      expectWithin(transpose(got, M, N), b, `M=${M} K=${K} N=${N} transposed=${transposed}`);
    }
  });

  it('row strides, outputScale (a folded BatchNorm), and agreement with the dense kernel on the dequantized weights', async () => {
    const k = await kernels(flavor);
    const M = 10;
    const K = 70;
    const N = 37;
    const { q, scales, deq } = int8Matrix(M, K, 7);
    const outputScale = randomArray(M, 8, -2, 2);
    const bias = randomArray(M, 9);
    const X = randomArray(K * N, 10);
    // dense: PackedConv2d 1x1 over [1, K, 1, N] with the dequantized weights
    const conv = new PackedConv2d(k, deq, [M, K, 1, 1], bias, { outputScale, activation: { kind: 'relu' } });
    const x = k.upload(X);
    const yd = k.allocF32(M * N);
    conv.run(x, [1, K, 1, N], yd, 0);
    const dense = k.download(yd, M * N);
    // int8 with strides: X inside a wider buffer, Y into a wider one
    const ldx = N + 5;
    const ldy = N + 3;
    const Xs = new Float32Array(K * ldx).fill(NaN); // the gaps must never be read
    for (let kk = 0; kk < K; kk++) Xs.set(X.subarray(kk * N, (kk + 1) * N), kk * ldx);
    const xs = k.upload(Xs);
    const ys = k.upload(new Float32Array(M * ldy).fill(-7));
    const op = new PackedInt8Conv1x1(k, q, scales, M, K, { bias, outputScale, activation: { kind: 'relu' } });
    const mem = k.f32.buffer.byteLength;
    op.run(xs, N, ys, { ldx, ldy });
    expect(k.f32.buffer.byteLength).toBe(mem); // nothing allocated while running
    const Y = k.download(ys, M * ldy);
    const colMax = new Float64Array(N);
    for (let kk = 0; kk < K; kk++) for (let n = 0; n < N; n++) colMax[n] = Math.max(colMax[n], Math.abs(X[kk * N + n]));
    for (let m = 0; m < M; m++) {
      let qSum = 0;
      for (let kk = 0; kk < K; kk++) qSum += Math.abs(q[m * K + kk]);
      for (let n = 0; n < N; n++) {
        const bound = Math.abs(outputScale[m]) * scales[m] * qSum * (colMax[n] / 32767) * 0.5 * 1.01 + 1e-5;
        expect(Math.abs(Y[m * ldy + n] - dense[m * N + n])).toBeLessThanOrEqual(bound);
      }
      for (let n = N; n < ldy; n++) expect(Y[m * ldy + n]).toBe(-7); // the gap is left alone
    }
    op.dispose();
    conv.dispose();
    k.free(x, yd, xs, ys);
  });

  it('all-zero activations give exactly the bias; a NaN activation makes only its column (row) NaN', async () => {
    const k = await kernels(flavor);
    const { q, scales } = int8Matrix(6, 20, 11);
    const bias = randomArray(6, 12);
    const zeros = int8Conv1x1(k, q, scales, 6, 20, new Float32Array(20 * 9), 9, { bias });
    for (let m = 0; m < 6; m++) for (let n = 0; n < 9; n++) expect(zeros[m * 9 + n]).toBe(bias[m]);
    const X = randomArray(20 * 9, 13);
    X[5 * 9 + 4] = NaN; // row k=5, column 4
    const y = int8Conv1x1(k, q, scales, 6, 20, X, 9, { bias });
    for (let m = 0; m < 6; m++) for (let n = 0; n < 9; n++) expect(Number.isNaN(y[m * 9 + n])).toBe(n === 4);
    const x = randomArray(3 * 20, 14);
    x[20 + 7] = NaN; // batch row 1
    const yl = int8Linear(k, x, 3, q, scales, 20, 6, { transposed: true });
    for (let m = 0; m < 3; m++) for (let n = 0; n < 6; n++) expect(Number.isNaN(yl[m * 6 + n])).toBe(m === 1);
  });

  it('refuses -128 weights, wrong scale counts, bad strides and use after dispose', async () => {
    const k = await kernels(flavor);
    const q = new Int8Array(12);
    const s = new Float32Array(3).fill(1);
    expect(() => new PackedInt8Conv1x1(k, Int8Array.of(1, -128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), s, 3, 4)).toThrow(ArgumentError);
    expect(() => new PackedInt8Conv1x1(k, q, new Float32Array(4), 3, 4)).toThrow(ShapeError);
    expect(() => new PackedInt8Linear(k, q, s, 4, 3, { bias: new Float32Array(2) })).toThrow(/bias has 2 values/);
    expect(() => new PackedInt8Linear(k, q, s, 4, 3, { outputScale: new Float32Array(4) })).toThrow(/outputScale has 4 values/);
    const op = new PackedInt8Conv1x1(k, q, s, 3, 4);
    const x = k.allocF32(8);
    const y = k.allocF32(6);
    expect(() => op.run(x, 2, y, { ldx: 1 })).toThrow(/ldx must be an integer >= N/);
    expect(() => op.run(x, 5, y)).toThrow(ShapeError); // X too small for K x 5
    op.dispose();
    expect(() => op.run(x, 2, y)).toThrow(/after dispose/);
    k.free(x, y);
  });
});
