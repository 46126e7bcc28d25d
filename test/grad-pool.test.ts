import { describe, expect, it } from 'vitest';
import { ArgumentError, ShapeError } from '../src/errors.js';
import { maxPoolRun, pool2dGeometry, type PoolAttrs } from '../src/kernels/pool.js';
import { avgPool2dBackward, globalAvgPoolBackward, maxPool2dBackward, maxPool2dForwardWithIndices } from '../src/train/grad/pool.js';
import type { Kernels } from '../src/wasm/kernels.js';
import { avgPoolRef, globalPoolRef, maxPoolRef, type PoolRefArgs } from './ref/pool.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { randomArray, rng } from './util/rng.js';
import { dot, expectGradClose, f64, nanBuffer, numericGrad, prod } from './grad-util.js';

/** Values spaced at least 0.01 apart in random order: a ±1e-3 probe never changes which tap is the max. */
function distinct(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const v = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.013);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j], v[i]];
  }
  return Float32Array.from(v);
}

function refArgs(xDims: number[], a: PoolAttrs): PoolRefArgs {
  const g = pool2dGeometry(xDims, a);
  return { N: g.N, C: g.C, H: g.H, W: g.W, KH: g.KH, KW: g.KW, sh: g.sh, sw: g.sw, pt: g.pads[0], pl: g.pads[1], pb: g.pads[2], pr: g.pads[3], dh: g.dh, dw: g.dw, OH: g.OH, OW: g.OW };
}

const MAX_CASES: { x: number[]; a: PoolAttrs }[] = [
  { x: [2, 3, 8, 10], a: { kernelShape: [2, 2], strides: [2, 2] } }, // the 2x2 fast path
  { x: [1, 2, 9, 11], a: { kernelShape: [2, 2], strides: [2, 2], pads: [1, 1, 0, 0] } }, // fast path with borders
  { x: [1, 2, 7, 13], a: { kernelShape: [2, 2], strides: [2, 2], ceilMode: true } },
  { x: [1, 3, 9, 12], a: { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } }, // overlapping windows
  { x: [1, 2, 8, 13], a: { kernelShape: [3, 2], strides: [1, 1], pads: [1, 0, 1, 1] } }, // stride-1 vector path
  { x: [1, 2, 10, 14], a: { kernelShape: [2, 3], strides: [2, 3], dilations: [2, 2], pads: [1, 2, 0, 1] } },
  { x: [2, 3, 17], a: { kernelShape: [3], strides: [2], pads: [1, 1] } }, // 1-D
];

async function fwd(k: Kernels, x: Float32Array, xDims: number[], a: PoolAttrs) {
  const outDims = pool2dGeometry(xDims, a).outDims;
  const n = prod(outDims);
  const xp = k.upload(x);
  const y = nanBuffer(k, n);
  const idx = k.allocF32(n);
  try {
    expect(maxPool2dForwardWithIndices(k, xp, xDims, a, y, idx)).toEqual(outDims);
    return { y: k.download(y, n), idx: Int32Array.from(k.i32.subarray(idx >> 2, (idx >> 2) + n)), outDims };
  } finally {
    k.free(xp, y, idx);
  }
}

describe.each(FLAVORS)('pooling for training (%s build)', (flavor) => {
  it.each(MAX_CASES.map((c, i) => [i, c] as const))('MaxPool case %i: forward with indices, backward vs central differences', async (i, c) => {
    const k = await kernels(flavor);
    const x = distinct(prod(c.x), 10 + i);
    const { y, idx, outDims } = await fwd(k, x, c.x, c.a);
    const ra = refArgs(c.x, c.a);
    expect(Array.from(y)).toEqual(Array.from(maxPoolRef(x, ra)).map(Math.fround));
    // the indices point at the values picked, inside the output's own plane
    const HW = ra.H * ra.W, OHW = ra.OH * ra.OW;
    for (let o = 0; o < y.length; o++) {
      expect(idx[o]).toBeGreaterThanOrEqual(0);
      expect(x[Math.floor(o / OHW) * HW + idx[o]]).toBe(y[o]);
    }
    // the same output as the inference kernel
    const xp = k.upload(x);
    const yp = k.allocF32(y.length);
    maxPoolRun(k, xp, c.x, yp, c.a);
    expect(Array.from(k.download(yp, y.length))).toEqual(Array.from(y));
    // backward
    const R = randomArray(y.length, 20 + i);
    const dyp = k.upload(R);
    const ip = k.uploadI32(idx);
    const dx = nanBuffer(k, x.length);
    maxPool2dBackward(k, dyp, ip, c.x, c.a, dx);
    const got = k.download(dx, x.length);
    k.free(xp, yp, dyp, ip, dx);
    const X = f64(x);
    expectGradClose(got, numericGrad(X, () => dot(maxPoolRef(X, ra), R)), `MaxPool case ${i} dx`, 1e-5);
  });

  it('MaxPool picks the first maximum of a window and propagates NaN, like PyTorch', async () => {
    const k = await kernels(flavor);
    // one 4x8 plane: 2x2 windows at stride 2 (fast path) and 3x3 windows at stride 1 (generic path)
    const x = new Float32Array(32).fill(1);
    x[5] = NaN; // window (0, 2) of the 2x2 pool holds x[4], x[5], x[12], x[13]
    for (const a of [{ kernelShape: [2, 2], strides: [2, 2] }, { kernelShape: [3, 3], strides: [1, 1] }]) {
      const { y, idx } = await fwd(k, x, [1, 1, 4, 8], a);
      if (a.strides[0] === 2) {
        expect(Array.from(idx)).toEqual([0, 2, 5, 6, 16, 18, 20, 22]);
        expect(Number.isNaN(y[2])).toBe(true);
      } else {
        // windows covering x[5] (columns 3..5 of the first row) are NaN, the others pick their first tap
        expect(Array.from(idx)).toEqual([0, 1, 2, 5, 5, 5, 8, 9, 10, 11, 12, 13]);
        expect(Array.from(y).map((v) => (Number.isNaN(v) ? 'nan' : v))).toEqual([1, 1, 1, 'nan', 'nan', 'nan', 1, 1, 1, 1, 1, 1]);
      }
    }
  });

  const AVG_CASES: { x: number[]; a: PoolAttrs }[] = [
    { x: [2, 2, 7, 9], a: { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], countIncludePad: true } },
    { x: [2, 2, 7, 9], a: { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], countIncludePad: false } },
    { x: [1, 3, 8, 8], a: { kernelShape: [2, 2], strides: [2, 2] } },
    { x: [1, 2, 6, 11], a: { kernelShape: [2, 3], strides: [1, 2], pads: [0, 1, 1, 2], ceilMode: true, countIncludePad: true } },
    { x: [1, 2, 6, 11], a: { kernelShape: [3, 2], strides: [3, 3], pads: [1, 0, 1, 1], ceilMode: true } },
  ];
  it.each(AVG_CASES.map((c, i) => [i, c] as const))('AveragePool case %i: backward vs central differences', async (i, c) => {
    const k = await kernels(flavor);
    const ra = refArgs(c.x, c.a);
    const R = randomArray(ra.N * ra.C * ra.OH * ra.OW, 30 + i);
    const dyp = k.upload(R);
    const dx = nanBuffer(k, prod(c.x));
    avgPool2dBackward(k, dyp, c.x, c.a, dx);
    const got = k.download(dx, prod(c.x));
    k.free(dyp, dx);
    const X = f64(randomArray(prod(c.x), 40 + i));
    expectGradClose(got, numericGrad(X, () => dot(avgPoolRef(X, ra, !!c.a.countIncludePad), R)), `AveragePool case ${i} dx`, 1e-5);
  });

  it('GlobalAveragePool backward vs central differences', async () => {
    const k = await kernels(flavor);
    for (const xDims of [[2, 3, 5, 7], [1, 4, 9], [3, 2, 1, 1]]) {
      const P = xDims[0] * xDims[1], HW = prod(xDims.slice(2));
      const R = randomArray(P, 50);
      const dyp = k.upload(R);
      const dx = nanBuffer(k, prod(xDims));
      globalAvgPoolBackward(k, dyp, xDims, dx);
      const got = k.download(dx, prod(xDims));
      k.free(dyp, dx);
      const X = f64(randomArray(prod(xDims), 51));
      expectGradClose(got, numericGrad(X, () => dot(globalPoolRef(X, P, HW, 'avg'), R)), `GlobalAveragePool ${xDims}`, 1e-6);
    }
  });

  it('bad inputs give typed errors', async () => {
    const k = await kernels(flavor);
    const x = k.allocF32(64), y = k.allocF32(16), idx = k.allocF32(16);
    try {
      const a = { kernelShape: [2, 2], strides: [2, 2] };
      expect(() => maxPool2dForwardWithIndices(k, x, [1, 1, 8, 8], a, y, idx + 4)).toThrow(/indices/);
      expect(() => maxPool2dForwardWithIndices(k, x, [1, 1, 16, 16], a, y, idx)).toThrow(ShapeError);
      expect(() => maxPool2dBackward(k, y, idx, [1, 1, 8, 8], { kernelShape: [2, 2], strides: [0, 2] }, x)).toThrow(ArgumentError);
      expect(() => maxPool2dBackward(k, y, idx, [1, 1, 8, 8], a, y)).toThrow(/dx/);
      expect(() => avgPool2dBackward(k, y, [1, 1, 8, 8], { ...a, dilations: [2, 2] }, x)).toThrow(ArgumentError);
      expect(() => globalAvgPoolBackward(k, y, [1, 1], x)).toThrow(ShapeError);
    } finally {
      k.free(x, y, idx);
    }
  });
});
