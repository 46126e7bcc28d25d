import { describe, expect, it } from 'vitest';
import { batchNorm, batchNormRun, foldBatchNorm, instanceNormRun, layerNorm, layerNormRun } from '../src/kernels/norm.js';
import { logSoftmax, softmax, softmaxRun, softmaxShape } from '../src/kernels/softmax.js';
import { ArgumentError, ShapeError } from '../src/errors.js';
import { batchNormRef, layerNormRef, softmaxRef } from './ref/norm.js';
import { expectClose } from './util/close.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { type AttrValue } from './util/onnx-build.js';
import { buildModel, runOrt } from './util/onnx.js';
import { randomArray, randomInt, rng } from './util/rng.js';

const size = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);

async function ort1(op: string, X: Float32Array, dims: number[], attrs: Record<string, AttrValue>, inits: { name: string; dims: number[]; data: Float32Array }[] = [], opset = 13) {
  const model = buildModel({
    nodes: [{ op, inputs: ['x', ...inits.map((i) => i.name)], outputs: ['y'], attrs }],
    inputs: [{ name: 'x', dims }],
    outputs: ['y'],
    initializers: inits,
    opset,
  });
  return (await runOrt(model, { x: { data: X, dims } })).y;
}

function randomDims(r: () => number, rank: number, max = 9): number[] {
  return Array.from({ length: rank }, () => randomInt(r, 1, max));
}

describe.each(FLAVORS)('normalization and softmax (%s build)', (flavor) => {
  it('BatchNormalization matches a float64 reference', async () => {
    const k = await kernels(flavor);
    const r = rng(21);
    for (let t = 0; t < 20; t++) {
      const dims = t % 5 === 4 ? [randomInt(r, 1, 3), randomInt(r, 1, 7)] : [randomInt(r, 1, 3), randomInt(r, 1, 7), randomInt(r, 1, 11), randomInt(r, 1, 13)];
      const C = dims[1], inner = size(dims.slice(2));
      const X = randomArray(size(dims), 100 + t, -3, 3);
      const p = { scale: randomArray(C, 200 + t), bias: randomArray(C, 300 + t), mean: randomArray(C, 400 + t), variance: randomArray(C, 500 + t, 0.1, 2), epsilon: 1e-3 };
      const got = batchNorm(k, X, dims, p);
      expect(got.dims).toEqual(dims);
      expectClose(got.data, batchNormRef(X, dims[0], C, inner, p.scale, p.bias, p.mean, p.variance, 1e-3), `${dims}`);
    }
  });

  it('BatchNormalization agrees with onnxruntime', async () => {
    const k = await kernels(flavor);
    const dims = [2, 5, 7, 9];
    const C = 5;
    const X = randomArray(size(dims), 1, -2, 2);
    const p = { scale: randomArray(C, 2), bias: randomArray(C, 3), mean: randomArray(C, 4), variance: randomArray(C, 5, 0.2, 3), epsilon: 1e-5 };
    const want = await ort1('BatchNormalization', X, dims, { epsilon: { float: 1e-5 } }, [
      { name: 'scale', dims: [C], data: p.scale }, { name: 'b', dims: [C], data: p.bias },
      { name: 'mean', dims: [C], data: p.mean }, { name: 'var', dims: [C], data: p.variance },
    ], 15);
    expectClose(batchNorm(k, X, dims, p).data, want.data, 'BatchNormalization');
  });

  it('LayerNormalization matches a float64 reference, also with large means', async () => {
    const k = await kernels(flavor);
    const r = rng(22);
    for (let t = 0; t < 24; t++) {
      const dims = randomDims(r, randomInt(r, 1, 4), t % 6 === 0 ? 70 : 13);
      const axis = randomInt(r, -dims.length, dims.length - 1);
      const a = axis < 0 ? axis + dims.length : axis;
      const rows = size(dims.slice(0, a)), D = size(dims.slice(a));
      const offset = t % 3 === 0 ? 1e4 : 0; // mean far from zero, spread of 1
      const X = randomArray(size(dims), 600 + t, offset - 1, offset + 1);
      const gamma = randomArray(D, 700 + t, 0.5, 1.5);
      const beta = t % 2 ? randomArray(D, 800 + t) : undefined;
      const got = layerNorm(k, X, dims, gamma, beta, { axis, epsilon: 1e-5 });
      // the reference sees the same float32 inputs, so only the kernel's own arithmetic can differ:
      // a naive float32 mean near 1e4 would be off by ~5e-4, i.e. ~1e-3 in the output
      expectClose(got.data, layerNormRef(X, rows, D, gamma, beta, 1e-5), `${dims} axis=${axis} offset=${offset}`, offset ? 2e-5 : 1e-5);
    }
  });

  it('InstanceNormalization matches a float64 reference (planes of 1 to 70 values, large means, in place)', async () => {
    const k = await kernels(flavor);
    const r = rng(23);
    for (let t = 0; t < 16; t++) {
      const dims = [randomInt(r, 1, 3), randomInt(r, 1, 5), ...randomDims(r, randomInt(r, 1, 2), t % 4 === 0 ? 70 : 9)];
      const [N, C] = dims;
      const HW = size(dims.slice(2));
      const offset = t % 3 === 0 ? 1e4 : 0;
      const X = randomArray(size(dims), 900 + t, offset - 1, offset + 1);
      const scale = randomArray(C, 950 + t, 0.5, 1.5);
      const bias = randomArray(C, 970 + t);
      const want = new Float64Array(X.length);
      for (let p = 0; p < N * C; p++) {
        const row = Array.from(X.subarray(p * HW, (p + 1) * HW));
        const mean = row.reduce((a, b) => a + b, 0) / HW;
        const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / HW;
        row.forEach((v, i) => (want[p * HW + i] = ((v - mean) / Math.sqrt(variance + 1e-5)) * scale[p % C] + bias[p % C]));
      }
      const x = k.upload(X);
      const s = k.upload(scale);
      const b = k.upload(bias);
      instanceNormRun(k, x, dims, s, b, x, 1e-5); // in place
      expectClose(k.download(x, X.length), want, `${dims} offset=${offset}`, offset ? 2e-5 : 1e-5);
      k.free(x, s, b);
    }
    expect(() => instanceNormRun(k, 0, [2, 3], 0, 0, 0)).toThrow(/N x C x spatial/);
  });

  it('LayerNormalization (opset 17) agrees with onnxruntime', async () => {
    const k = await kernels(flavor);
    for (const [i, [dims, axis]] of ([[[3, 4, 21], -1], [[2, 6, 5, 3], 2], [[5, 33], 1], [[2, 3, 4], 0]] as [number[], number][]).entries()) {
      const a = axis < 0 ? axis + dims.length : axis;
      const nd = dims.slice(a);
      const D = size(nd);
      const X = randomArray(size(dims), 30 + i, -2, 4);
      const gamma = randomArray(D, 40 + i);
      const beta = randomArray(D, 50 + i);
      const want = await ort1('LayerNormalization', X, dims, { axis, epsilon: { float: 1e-5 } }, [{ name: 'g', dims: nd, data: gamma }, { name: 'b', dims: nd, data: beta }], 17);
      expectClose(layerNorm(k, X, dims, gamma, beta, { axis }).data, want.data, `LayerNorm ${dims} axis=${axis}`);
    }
  });

  it('Softmax / LogSoftmax match a float64 reference over first, middle and last axes', async () => {
    const k = await kernels(flavor);
    const r = rng(23);
    for (let t = 0; t < 40; t++) {
      const dims = randomDims(r, randomInt(r, 1, 4), t % 8 === 0 ? 40 : 11);
      const axis = randomInt(r, -dims.length, dims.length - 1);
      const log = t % 2 === 1;
      const { outer, A, inner } = softmaxShape(dims, axis);
      const X = randomArray(size(dims), 900 + t, -8, 8);
      const got = softmax(k, X, dims, { axis, log });
      expect(got.dims).toEqual(dims);
      expectClose(got.data, softmaxRef(X, outer, A, inner, log), `${dims} axis=${axis} log=${log}`);
    }
  });

  it('Softmax / LogSoftmax: a NaN makes its whole row NaN, wherever it sits; infinities as numpy gives them', async () => {
    const k = await kernels(flavor);
    for (const D of [3, 4, 9, 13]) {
      for (const at of [0, Math.floor(D / 2), D - 1]) {
        for (const log of [false, true]) {
          const X = Float32Array.from({ length: D }, (_, i) => Math.sin(i) * 4);
          X[at] = Number.NaN;
          // the last axis, and the same values down a middle axis of [2, D, 5]
          expect(Array.from(softmax(k, X, [1, D], { log }).data).every(Number.isNaN), `D=${D} at=${at} log=${log}`).toBe(true);
          const col = new Float32Array(2 * D * 5);
          for (let a = 0; a < D; a++) col[a * 5 + 2] = X[a];
          const got = softmax(k, col, [2, D, 5], { axis: 1, log }).data;
          for (let a = 0; a < D; a++) expect(got[a * 5 + 2], `axis 1 D=${D} at=${at}`).toBeNaN();
        }
      }
      const inf = Float32Array.from({ length: D }, (_, i) => (i === 1 % D ? Infinity : i));
      const ref = softmaxRef(inf, 1, D, 1, false);
      const got = softmax(k, inf, [1, D]).data;
      for (let i = 0; i < D; i++) expect(Number.isNaN(got[i]) ? 'NaN' : got[i], `+Inf D=${D} i=${i}`).toEqual(Number.isNaN(ref[i]) ? 'NaN' : ref[i]);
    }
  });

  it('exp is accurate to ~1e-6 relative over a wide range', async () => {
    const k = await kernels(flavor);
    // softmax over pairs [v, 0] gives 1 / (1 + exp(-v)): checks exp(-v) for v in [0, 80]
    const n = 4001;
    const X = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) X[2 * i] = (80 * i) / (n - 1);
    const got = softmax(k, X, [n, 2]).data;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const e = Math.exp(-Math.fround(X[2 * i]));
      const want = e / (1 + e);
      worst = Math.max(worst, Math.abs(got[2 * i + 1] - want) / want);
    }
    expect(worst).toBeLessThan(2e-6);
  });

  it('Softmax stays finite for inputs of +-1000 and all-equal rows', async () => {
    const k = await kernels(flavor);
    const X = new Float32Array([1000, -1000, 999, 1000, -1000, -1000, -999, -1000, 5, 5, 5, 5]);
    for (const axis of [-1, 0]) {
      const dims = [3, 4];
      const { outer, A, inner } = softmaxShape(dims, axis);
      for (const log of [false, true]) {
        const got = softmax(k, X, dims, { axis, log }).data;
        expect(got.every((v) => Number.isFinite(v)), `axis=${axis} log=${log}: ${got}`).toBe(true);
        expectClose(got, softmaxRef(X, outer, A, inner, log), `axis=${axis} log=${log}`);
      }
    }
  });

  it('Softmax / LogSoftmax (opset 13 axis semantics) agree with onnxruntime', async () => {
    const k = await kernels(flavor);
    const cases: [number[], number][] = [[[3, 17], -1], [[2, 5, 6], 1], [[4, 3, 7], 0], [[2, 3, 4, 5], 2], [[6, 9], 0]];
    for (const [i, [dims, axis]] of cases.entries()) {
      const X = randomArray(size(dims), 60 + i, -6, 6);
      for (const op of ['Softmax', 'LogSoftmax']) {
        const want = await ort1(op, X, dims, { axis });
        const got = op === 'Softmax' ? softmax(k, X, dims, { axis }) : logSoftmax(k, X, dims, { axis });
        expectClose(got.data, want.data, `${op} ${dims} axis=${axis}`);
      }
    }
    // opset 11: the input is coerced to 2-D at `axis`
    const dims = [2, 3, 5];
    const X = randomArray(30, 99, -3, 3);
    const want = await ort1('Softmax', X, dims, { axis: 1 }, [], 11);
    expectClose(softmax(k, X, dims, { axis: 1, coerce2d: true }).data, want.data, 'Softmax opset 11');
  });

  it('runs in place on pointers', async () => {
    const k = await kernels(flavor);
    const dims = [3, 10, 6];
    const X = randomArray(180, 7);
    const x = k.upload(X);
    softmaxRun(k, x, dims, x, { axis: 1 });
    expectClose(k.download(x, 180), softmaxRef(X, 3, 10, 6, false), 'softmax in place');
    const g = k.upload(new Float32Array(6).fill(1));
    k.write(x, X);
    layerNormRun(k, x, dims, g, 0, x);
    expectClose(k.download(x, 180), layerNormRef(X, 30, 6, new Float32Array(6).fill(1), undefined, 1e-5), 'layernorm in place');
    k.free(x, g);
  });

  it('rejects bad parameters and buffers', async () => {
    const k = await kernels(flavor);
    const before = k.heap.liveBytes;
    const X = new Float32Array(24);
    const c3 = new Float32Array(3), c4 = new Float32Array(4);
    expect(() => batchNorm(k, X, [2, 3, 4], { scale: c4, bias: c3, mean: c3, variance: c3 })).toThrow(ShapeError);
    expect(() => batchNorm(k, X, [2, 3, 4], { scale: c3, bias: c3, mean: c4, variance: c3 })).toThrow(/mean has 4 values but the input has 3 channels/);
    expect(() => foldBatchNorm({ scale: c3, bias: c3, mean: c3, variance: c3, epsilon: -1 })).toThrow(ArgumentError);
    expect(() => batchNorm(k, X, [2, 3, 5], { scale: c3, bias: c3, mean: c3, variance: c3 })).toThrow(/30 elements/);
    expect(() => layerNorm(k, X, [2, 3, 4], c3)).toThrow(/scale has 3 values but the normalized dims hold 4/);
    expect(() => layerNorm(k, X, [2, 3, 4], c4, c3)).toThrow(/bias has 3/);
    expect(() => layerNorm(k, X, [2, 3, 4], c4, undefined, { axis: 3 })).toThrow(/axis 3 is out of range/);
    expect(() => softmax(k, X, [2, 3, 4], { axis: -4 })).toThrow(ArgumentError);
    expect(() => softmax(k, new Float32Array(1), [], {})).toThrow(/scalar/);
    expect(k.heap.liveBytes).toBe(before);
    const x = k.allocF32(24);
    const s = k.allocF32(2);
    // a 2-float request gets a 64-byte block (16 floats): too small for 20 channels
    expect(() => batchNormRun(k, x, [1, 20, 1], s, s, x)).toThrow(/BatchNormalization scale .*16 floats but 20/);
    expect(() => layerNormRun(k, x, [1, 24], s, 0, x)).toThrow(/LayerNormalization scale/);
    expect(() => softmaxRun(k, x, [4, 7], s)).toThrow(/Softmax output/);
    k.free(x, s);
  });
});
