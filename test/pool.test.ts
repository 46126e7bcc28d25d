import { describe, expect, it } from 'vitest';
import {
  averagePool, averagePoolRun, globalAveragePool, globalMaxPool, maxPool, maxPoolRun, poolOutputShape, poolOutputSize, type PoolAttrs,
} from '../src/kernels/pool.js';
import { ArgumentError, ShapeError } from '../src/errors.js';
import { avgPoolRef, globalPoolRef, maxPoolRef } from './ref/pool.js';
import { expectClose } from './util/close.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { type AttrValue } from './util/onnx-build.js';
import { buildModel, runOrt } from './util/onnx.js';
import { randomArray, randomInt, rng } from './util/rng.js';

const size = (d: number[]) => d.reduce((a, b) => a * b, 1);

/** Random valid 2-D pool attributes for an H x W input. */
function randomAttrs(r: () => number, H: number, W: number, dilated: boolean): PoolAttrs {
  const KH = randomInt(r, 1, Math.min(4, H)), KW = randomInt(r, 1, Math.min(5, W));
  const dh = dilated ? randomInt(r, 1, 2) : 1, dw = dilated ? randomInt(r, 1, 3) : 1;
  const fit = (K: number, d: number, n: number) => ((K - 1) * d + 1 <= n ? d : 1);
  const pads = [randomInt(r, 0, KH - 1), randomInt(r, 0, KW - 1), randomInt(r, 0, KH - 1), randomInt(r, 0, KW - 1)];
  return {
    kernelShape: [KH, KW],
    strides: [randomInt(r, 1, 3), randomInt(r, 1, 3)],
    pads,
    dilations: [fit(KH, dh, H), fit(KW, dw, W)],
    ceilMode: r() < 0.5,
  };
}

function refArgs(xDims: number[], a: PoolAttrs, out: number[]) {
  const [N, C, H, W] = xDims;
  const p = a.pads ?? [0, 0, 0, 0];
  return {
    N, C, H, W, KH: a.kernelShape[0], KW: a.kernelShape[1], sh: a.strides?.[0] ?? 1, sw: a.strides?.[1] ?? 1,
    pt: p[0], pl: p[1], pb: p[2], pr: p[3], dh: a.dilations?.[0] ?? 1, dw: a.dilations?.[1] ?? 1, OH: out[2], OW: out[3],
  };
}

function onnxAttrs(a: PoolAttrs, avg: boolean): Record<string, AttrValue> {
  const o: Record<string, AttrValue> = { kernel_shape: [...a.kernelShape] };
  if (a.strides) o.strides = [...a.strides];
  if (a.pads) o.pads = [...a.pads];
  if (a.dilations && !avg) o.dilations = [...a.dilations];
  if (a.autoPad) o.auto_pad = a.autoPad;
  if (a.ceilMode) o.ceil_mode = 1;
  if (avg) o.count_include_pad = a.countIncludePad ? 1 : 0;
  return o;
}

async function ortPool(op: string, X: Float32Array, dims: number[], attrs: Record<string, AttrValue>) {
  const model = buildModel({ nodes: [{ op, inputs: ['x'], outputs: ['y'], attrs }], inputs: [{ name: 'x', dims }], outputs: ['y'] });
  return (await runOrt(model, { x: { data: X, dims } })).y;
}

describe('pool output size', () => {
  it('follows floor / ceil rules, and drops a ceil_mode window that would start in the end padding', () => {
    expect(poolOutputSize(6, 3, 2, 1, 1, 1, false)).toBe(3);
    expect(poolOutputSize(6, 3, 2, 1, 1, 1, true)).toBe(4);
    expect(poolOutputSize(5, 2, 2, 1, 1, 1, true)).toBe(3); // 4 would start at row 5 = H: all padding
    expect(poolOutputSize(7, 3, 1, 3, 0, 0, false)).toBe(1);
    expect(poolOutputShape([1, 2, 7, 9], { kernelShape: [3, 3], strides: [2, 2], autoPad: 'SAME_UPPER' })).toEqual([1, 2, 4, 5]);
    expect(poolOutputShape([1, 2, 7, 9], { kernelShape: [3, 3], strides: [2, 2], autoPad: 'VALID' })).toEqual([1, 2, 3, 4]);
    expect(poolOutputShape([2, 3, 10], { kernelShape: [4], strides: [3] })).toEqual([2, 3, 3]);
  });
});

describe.each(FLAVORS)('pooling (%s build)', (flavor) => {
  it('MaxPool matches a float64 reference (strides, asymmetric pads, dilation, ceil_mode)', async () => {
    const k = await kernels(flavor);
    const r = rng(11);
    for (let t = 0; t < 60; t++) {
      const xDims = [randomInt(r, 1, 2), randomInt(r, 1, 3), randomInt(r, 1, 19), randomInt(r, 1, 27)];
      const a = randomAttrs(r, xDims[2], xDims[3], true);
      if (t % 5 === 0) a.strides = [randomInt(r, 1, 2), t % 10 === 0 ? 1 : 2]; // the vector paths
      const X = randomArray(size(xDims), 500 + t, -3, 3);
      const got = maxPool(k, X, xDims, a);
      expect(got.dims).toEqual(poolOutputShape(xDims, a));
      expectClose(got.data, maxPoolRef(X, refArgs(xDims, a, got.dims)), `t=${t} ${xDims} ${JSON.stringify(a)}`);
    }
  });

  it('MaxPool: a NaN tap makes its window NaN and infinities win or lose as values, in every vector path and tail', async () => {
    const k = await kernels(flavor);
    const r = rng(29);
    const cases: PoolAttrs[] = [
      { kernelShape: [2, 2], strides: [2, 2] }, // the 2x2 stride-2 path
      { kernelShape: [2, 2], strides: [2, 2], pads: [1, 1, 0, 0], ceilMode: true }, // one-row windows at the top
      { kernelShape: [1, 2], strides: [1, 2] },
      { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
      { kernelShape: [5, 5], strides: [1, 1], pads: [2, 2, 2, 2] }, // YOLO's SPPF
      { kernelShape: [2, 3], strides: [1, 1], dilations: [2, 1] },
    ];
    for (const [i, a] of cases.entries()) {
      for (const W of [9, 14, 17, 28]) {
        const xDims = [1, 3, 11, W];
        const X = randomArray(size(xDims), 900 + i * 40 + W, -3, 3);
        for (let j = 0; j < X.length; j++) {
          const u = r();
          if (u < 0.03) X[j] = Number.NaN;
          else if (u < 0.05) X[j] = Infinity;
          else if (u < 0.07) X[j] = -Infinity;
        }
        const got = maxPool(k, X, xDims, a);
        const want = maxPoolRef(X, refArgs(xDims, a, got.dims));
        for (let j = 0; j < want.length; j++) {
          const what = `case ${i} W=${W} output ${j}: got ${got.data[j]}, want ${want[j]}`;
          if (Number.isNaN(want[j])) expect(Number.isNaN(got.data[j]), what).toBe(true);
          else expect(got.data[j], what).toBe(want[j] === 0 ? got.data[j] : Math.fround(want[j])); // -0 and +0 are one value
        }
      }
    }
  });

  it('AveragePool matches a float64 reference with count_include_pad on and off', async () => {
    const k = await kernels(flavor);
    const r = rng(12);
    for (let t = 0; t < 60; t++) {
      const xDims = [randomInt(r, 1, 2), randomInt(r, 1, 3), randomInt(r, 1, 19), randomInt(r, 1, 27)];
      const a = randomAttrs(r, xDims[2], xDims[3], false);
      delete a.dilations;
      // every 4th case: ceil_mode with stride >= 2, where the last windows tend to overrun the padding
      if (t % 4 === 0) { a.strides = [randomInt(r, 2, 3), 2]; a.ceilMode = 1; }
      if (t % 8 === 4) a.strides = [1, 1];
      const includePad = t % 2 === 0;
      a.countIncludePad = includePad;
      const X = randomArray(size(xDims), 700 + t, -3, 3);
      const got = averagePool(k, X, xDims, a);
      expectClose(got.data, avgPoolRef(X, refArgs(xDims, a, got.dims), includePad), `t=${t} ${xDims} ${JSON.stringify(a)}`);
    }
  });

  it('the pointer-level runs write exactly the output block', async () => {
    const k = await kernels(flavor);
    const xDims = [1, 2, 9, 13];
    const a: PoolAttrs = { kernelShape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] };
    const out = poolOutputShape(xDims, a);
    const X = randomArray(size(xDims), 3);
    const x = k.upload(X);
    const n = size(out);
    const y = k.allocF32(n + 16);
    k.f32.fill(12345, y >> 2, (y >> 2) + n + 16);
    expect(maxPoolRun(k, x, xDims, y, a)).toEqual(out);
    const after = k.download(y, n + 16);
    expect(Array.from(after.subarray(n))).toEqual(new Array(16).fill(12345));
    expectClose(after.subarray(0, n), maxPoolRef(X, refArgs(xDims, a, out)), 'max');
    averagePoolRun(k, x, xDims, y, { ...a, countIncludePad: 1 });
    expect(k.download(y, n + 16)[n]).toBe(12345);
    k.free(x, y);
  });

  it('GlobalAveragePool / GlobalMaxPool match a float64 reference', async () => {
    const k = await kernels(flavor);
    for (const [t, dims] of [[1, 1, 1, 1], [2, 3, 5, 7], [1, 4, 16, 16], [3, 2, 1, 3], [1, 5, 33, 29], [2, 3, 7]].entries()) {
      const X = randomArray(size(dims), 40 + t, -2, 5);
      const P = dims[0] * dims[1], HW = size(dims) / P;
      const ga = globalAveragePool(k, X, dims);
      expect(ga.dims).toEqual([dims[0], dims[1], ...dims.slice(2).map(() => 1)]);
      expectClose(ga.data, globalPoolRef(X, P, HW, 'avg'), `avg ${dims}`);
      expectClose(globalMaxPool(k, X, dims).data, globalPoolRef(X, P, HW, 'max'), `max ${dims}`);
    }
  });

  it('MaxPool agrees with onnxruntime (pads, strides, dilation, ceil_mode, auto_pad, 1-D)', async () => {
    const k = await kernels(flavor);
    const cases: [number[], PoolAttrs][] = [
      [[1, 3, 11, 13], { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
      [[2, 2, 10, 9], { kernelShape: [2, 3], strides: [2, 1], pads: [0, 2, 1, 0], ceilMode: 1 }],
      [[1, 2, 12, 15], { kernelShape: [3, 2], strides: [1, 3], pads: [2, 1, 0, 1], dilations: [2, 3], ceilMode: 1 }],
      [[1, 1, 7, 9], { kernelShape: [3, 3], strides: [2, 2], autoPad: 'SAME_UPPER' }],
      [[1, 1, 8, 10], { kernelShape: [2, 4], strides: [3, 3], autoPad: 'SAME_LOWER' }],
      [[1, 2, 9, 9], { kernelShape: [3, 3], strides: [2, 2], autoPad: 'VALID' }],
      [[2, 3, 17], { kernelShape: [3], strides: [2], pads: [1, 2], ceilMode: 1 }],
    ];
    for (const [i, [dims, a]] of cases.entries()) {
      const X = randomArray(size(dims), 900 + i, -4, 4);
      const want = await ortPool('MaxPool', X, dims, onnxAttrs(a, false));
      const got = maxPool(k, X, dims, a);
      expect(got.dims, `case ${i}`).toEqual(want.dims);
      expectClose(got.data, want.data, `MaxPool case ${i}`);
    }
  });

  it('AveragePool agrees with onnxruntime, including ceil_mode windows past the padding', async () => {
    const k = await kernels(flavor);
    const cases: [number[], PoolAttrs][] = [
      [[1, 2, 6, 6], { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: 1, countIncludePad: 1 }],
      [[1, 2, 6, 6], { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: 1, countIncludePad: 0 }],
      [[2, 3, 11, 14], { kernelShape: [3, 2], strides: [2, 3], pads: [0, 1, 2, 0], ceilMode: 1, countIncludePad: 1 }],
      [[1, 3, 13, 10], { kernelShape: [4, 3], strides: [3, 2], pads: [2, 0, 1, 2], ceilMode: 0, countIncludePad: 1 }],
      [[1, 3, 9, 21], { kernelShape: [2, 5], strides: [1, 1], pads: [1, 2, 0, 3], countIncludePad: 0 }],
      [[1, 1, 7, 9], { kernelShape: [3, 3], strides: [2, 2], autoPad: 'SAME_UPPER', countIncludePad: 1 }],
      [[1, 1, 7, 9], { kernelShape: [2, 2], strides: [2, 2], autoPad: 'SAME_LOWER', countIncludePad: 0 }],
      [[1, 2, 5, 5], { kernelShape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: 1, countIncludePad: 1 }],
    ];
    for (const [i, [dims, a]] of cases.entries()) {
      const X = randomArray(size(dims), 950 + i, -4, 4);
      const want = await ortPool('AveragePool', X, dims, onnxAttrs(a, true));
      const got = averagePool(k, X, dims, a);
      expect(got.dims, `case ${i}`).toEqual(want.dims);
      expectClose(got.data, want.data, `AveragePool case ${i}`);
    }
  });

  it('GlobalAveragePool and GlobalMaxPool agree with onnxruntime', async () => {
    const k = await kernels(flavor);
    const dims = [2, 5, 9, 11];
    const X = randomArray(size(dims), 77, -1, 3);
    for (const op of ['GlobalAveragePool', 'GlobalMaxPool']) {
      const want = await ortPool(op, X, dims, {});
      const got = op === 'GlobalAveragePool' ? globalAveragePool(k, X, dims) : globalMaxPool(k, X, dims);
      expect(got.dims).toEqual(want.dims);
      expectClose(got.data, want.data, op);
    }
  });

  it('rejects bad attributes and buffers with a message that says what to fix', async () => {
    const k = await kernels(flavor);
    const before = k.heap.liveBytes;
    const X = new Float32Array(2 * 5 * 5);
    const d = [1, 2, 5, 5];
    expect(() => maxPool(k, X, d, { kernelShape: [7, 3] })).toThrow(ShapeError);
    expect(() => maxPool(k, X, d, { kernelShape: [7, 3] })).toThrow(/larger than the padded input/);
    expect(() => maxPool(k, X, d, { kernelShape: [3, 3], dilations: [3, 1] })).toThrow(/span 7/);
    expect(() => maxPool(k, X, d, { kernelShape: [3, 3], strides: [0, 1] })).toThrow(ArgumentError);
    expect(() => maxPool(k, X, d, { kernelShape: [3, 3], strides: [-1, 1] })).toThrow(/strides/);
    expect(() => maxPool(k, X, d, { kernelShape: [3, 3], pads: [3, 0, 0, 0] })).toThrow(/smaller than the kernel/);
    expect(() => maxPool(k, X, d, { kernelShape: [3, 3], pads: [1, 1] })).toThrow(/pads must have 4 values/);
    expect(() => maxPool(k, X, d, { kernelShape: [3] })).toThrow(/kernelShape must have 2/);
    expect(() => maxPool(k, X, d, { kernelShape: [3, 3], autoPad: 'SAME' as never })).toThrow(/unknown autoPad/);
    expect(() => maxPool(k, X, d, { kernelShape: [3, 3], autoPad: 'SAME_UPPER', pads: [1, 1, 1, 1] })).toThrow(/cannot be combined/);
    expect(() => averagePool(k, X, d, { kernelShape: [2, 2], dilations: [2, 2] })).toThrow(/dilations/);
    expect(() => maxPool(k, X, [2, 5, 4], { kernelShape: [3] })).toThrow(/elements/);
    expect(() => maxPool(k, X, [50], { kernelShape: [3] })).toThrow(/N x C x H x W/);
    expect(() => globalAveragePool(k, X, [2, 25])).toThrow(/N x C x spatial/);
    expect(k.heap.liveBytes).toBe(before);
    const x = k.allocF32(10);
    const y = k.allocF32(50);
    expect(() => maxPoolRun(k, x, d, y, { kernelShape: [2, 2] })).toThrow(/MaxPool input: buffer holds/);
    expect(() => maxPoolRun(k, y, d, x, { kernelShape: [1, 1] })).toThrow(/MaxPool output/);
    expect(() => averagePoolRun(k, 999, d, y, { kernelShape: [2, 2] })).toThrow(/not a live kernel buffer/);
    k.free(x, y);
  });
});
