import { describe, expect, it } from 'vitest';
import { ArgumentError, ShapeError } from '../src/errors.js';
import {
  COORDINATE_TRANSFORMATION_MODES,
  NEAREST_MODES,
  resize,
  resizeOutputDims,
  resizePlan,
  resizeRun,
  type CoordinateTransformationMode,
  type NearestMode,
  type ResizeMode,
} from '../src/kernels/resize.js';
import { resizeRef } from './ref/resize.js';
import { expectClose } from './util/close.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { buildModel, runOrt } from './util/onnx.js';
import { randomArray, randomInt, rng } from './util/rng.js';

const size = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);

// Scales for nearest vs the float64 reference: exact in float32 (dyadic, small numerators), so a
// coordinate that lands exactly on a rounding boundary (an integer for floor/ceil, a half for the
// round modes) is computed exactly by both the float32 tables (like onnxruntime) and the float64
// reference. Non-dyadic scales (1.7, 0.6, 2.3, ...) are checked against onnxruntime below, which
// rounds in float32 like the kernel's tables.
const NEAREST_SCALES = [0.5, 0.75, 1.5, 2, 2.5, 3, 0.625, 1.25, 1.75, 0.375, 3.5];
// Linear is continuous in the coordinate, so any scale works.
const LINEAR_SCALES = [0.5, 0.37, 0.8, 1.3, 1.7, 2, 2.71, 3.2, 0.6, 4];

interface Case {
  dims: number[];
  scales?: number[];
  sizes?: number[];
}

function spatialCase(r: () => number, pick: number[], useSizes: boolean, lead: number[]): Case {
  const H = randomInt(r, 1, 13);
  const W = randomInt(r, 1, 19);
  const dims = [...lead, H, W];
  if (useSizes) {
    return { dims, sizes: [...lead, randomInt(r, 1, 2 * H + 3), randomInt(r, 1, 2 * W + 5)] };
  }
  const sh = pick[randomInt(r, 0, pick.length - 1)];
  const sw = pick[randomInt(r, 0, pick.length - 1)];
  return { dims, scales: [...lead.map(() => 1), Math.fround(sh), Math.fround(sw)] };
}

describe.each(FLAVORS)('Resize (%s build)', (flavor) => {
  it('nearest: every nearest_mode x coordinate transform against the float64 spec reference', async () => {
    const k = await kernels(flavor);
    const r = rng(21);
    for (const ctm of COORDINATE_TRANSFORMATION_MODES) {
      for (const nm of NEAREST_MODES) {
        for (let t = 0; t < 8; t++) {
          let c = spatialCase(r, NEAREST_SCALES, false, [randomInt(r, 1, 2), randomInt(r, 1, 3)]);
          if (t === 7) {
            // sizes with float32-exact ratios (out / in dyadic)
            const H = randomInt(r, 1, 6) * 4, W = randomInt(r, 1, 6) * 4;
            c = { dims: [1, 2, H, W], sizes: [1, 2, (H * 3) / 2, W / 4] };
          }
          const x = randomArray(size(c.dims), t + 100);
          const got = resize(k, x, c.dims, { mode: 'nearest', coordinateTransformationMode: ctm, nearestMode: nm, scales: c.scales, sizes: c.sizes });
          const want = resizeRef(x, c.dims, { mode: 'nearest', ctm, nearestMode: nm, scales: c.scales, sizes: c.sizes });
          const what = `${ctm}/${nm} dims ${c.dims} scales ${c.scales} sizes ${c.sizes}`;
          expect(got.dims, what).toEqual(want.dims);
          // nearest copies input values: must be exact
          expectClose(got.data, want.data, what, 0);
        }
      }
    }
  });

  it('linear: every coordinate transform, up- and down-sampling, scales and sizes, against the reference', async () => {
    const k = await kernels(flavor);
    const r = rng(22);
    for (const ctm of COORDINATE_TRANSFORMATION_MODES) {
      for (let t = 0; t < 14; t++) {
        const c = spatialCase(r, LINEAR_SCALES, t % 3 === 2, [randomInt(r, 1, 2), randomInt(r, 1, 4)]);
        const x = randomArray(size(c.dims), t + 200);
        const got = resize(k, x, c.dims, { mode: 'linear', coordinateTransformationMode: ctm, scales: c.scales, sizes: c.sizes });
        const want = resizeRef(x, c.dims, { mode: 'linear', ctm, scales: c.scales, sizes: c.sizes });
        const what = `${ctm} dims ${c.dims} scales ${c.scales} sizes ${c.sizes}`;
        expect(got.dims, what).toEqual(want.dims);
        expectClose(got.data, want.data, what);
      }
    }
  });

  it('ranks 1, 2, 3 and 5: only the last two axes are resized', async () => {
    const k = await kernels(flavor);
    const cases: Case[] = [
      { dims: [11], scales: [1.7] },
      { dims: [9], sizes: [4] },
      { dims: [7, 10], scales: [2, 0.5] },
      { dims: [3, 5, 6], sizes: [3, 9, 4] },
      { dims: [2, 1, 3, 6, 5], scales: [1, 1, 1, 1.5, 2.5] },
    ];
    for (const mode of ['nearest', 'linear'] as const) {
      for (const c of cases) {
        const x = randomArray(size(c.dims), c.dims.length);
        const got = resize(k, x, c.dims, { mode, coordinateTransformationMode: 'half_pixel', scales: c.scales, sizes: c.sizes });
        const want = resizeRef(x, c.dims, { mode, ctm: 'half_pixel', scales: c.scales, sizes: c.sizes });
        expect(got.dims).toEqual(want.dims);
        expectClose(got.data, want.data, `${mode} dims ${c.dims}`);
      }
    }
  });

  it('large planes (vector body plus tails) and a reused plan', async () => {
    const k = await kernels(flavor);
    const dims = [1, 3, 37, 45];
    const x = randomArray(size(dims), 5);
    for (const mode of ['nearest', 'linear'] as const) {
      const opts = { mode, coordinateTransformationMode: 'pytorch_half_pixel' as const, scales: [1, 1, 1.75, 2.25] };
      const plan = resizePlan(dims, opts);
      const want = resizeRef(x, dims, { mode, ctm: 'pytorch_half_pixel', scales: opts.scales });
      const px = k.upload(x);
      const py = k.allocF32(size(plan.outDims));
      for (let i = 0; i < 2; i++) {
        expect(resizeRun(k, px, dims, py, plan)).toEqual(want.dims);
        expectClose(k.download(py, size(plan.outDims)), want.data, `${mode} run ${i}`);
      }
      expect(() => resizeRun(k, px, [1, 3, 37, 44], py, plan)).toThrow(/plan was made for input/);
      k.free(px, py);
    }
  });

  it('agrees with onnxruntime (opset 13) for each mode x coordinate transform, with scales and with sizes', async () => {
    const k = await kernels(flavor);
    const roi = { name: 'roi', dims: [0], data: new Float32Array(0) };
    const settings: { mode: ResizeMode; ctm: CoordinateTransformationMode; nm?: NearestMode }[] = [];
    for (const ctm of COORDINATE_TRANSFORMATION_MODES) {
      settings.push({ mode: 'linear', ctm });
      for (const nm of NEAREST_MODES) settings.push({ mode: 'nearest', ctm, nm });
    }
    // Scales whose coordinates float32 computes exactly at every rounding boundary (see
    // NEAREST_SCALES): onnxruntime's float32 arithmetic differs from a straight float32 division by
    // one ulp in places (0.6 with tf_half_pixel_for_nn lands on 7.5 there, on 7.4999995 here), which
    // flips a nearest pick exactly at a tie. Linear is continuous there, so it also gets arbitrary ones.
    const exact: Case[] = [
      { dims: [1, 2, 7, 9], scales: [1, 1, 1.75, 2.5] },
      { dims: [2, 3, 10, 13], scales: [1, 1, 0.625, 0.375] },
      { dims: [1, 2, 8, 6], scales: [1, 1, 2, 0.5] },
      { dims: [1, 3, 8, 12], sizes: [1, 3, 12, 9] },
      { dims: [1, 1, 5, 7], sizes: [1, 1, 10, 7] },
    ];
    const arbitrary: Case[] = [
      { dims: [1, 2, 7, 9], scales: [1, 1, 1.7, 2.3] },
      { dims: [2, 3, 10, 13], scales: [1, 1, 0.6, 0.45] },
      { dims: [1, 3, 9, 11], sizes: [1, 3, 16, 5] },
      { dims: [1, 1, 5, 7], sizes: [1, 1, 12, 7] },
    ];
    for (const s of settings) {
      const shapes = s.mode === 'nearest' ? exact : [...exact, ...arbitrary];
      for (const [i, c] of shapes.entries()) {
        const x = randomArray(size(c.dims), 400 + i);
        const attrs: Record<string, string> = { mode: s.mode, coordinate_transformation_mode: s.ctm };
        if (s.nm) attrs.nearest_mode = s.nm;
        const inits = c.sizes
          ? [roi, { name: 'sizes', dims: [4], data: BigInt64Array.from(c.sizes.map(BigInt)) }]
          : [roi, { name: 'scales', dims: [4], data: Float32Array.from(c.scales!) }];
        const model = buildModel({
          nodes: [{ op: 'Resize', inputs: c.sizes ? ['x', 'roi', '', 'sizes'] : ['x', 'roi', 'scales'], outputs: ['y'], attrs }],
          inputs: [{ name: 'x', dims: c.dims }],
          outputs: ['y'],
          initializers: inits,
          opset: 13,
        });
        const want = (await runOrt(model, { x: { data: x, dims: c.dims } })).y;
        const got = resize(k, x, c.dims, { mode: s.mode, coordinateTransformationMode: s.ctm, nearestMode: s.nm, scales: c.scales, sizes: c.sizes });
        const what = `${s.mode}/${s.ctm}/${s.nm ?? ''} dims ${c.dims} scales ${c.scales} sizes ${c.sizes}`;
        expect(got.dims, what).toEqual(want.dims);
        expectClose(got.data, want.data, what, s.mode === 'nearest' ? 0 : undefined);
      }
    }
  });

  it('output dims use ONNX rounding floor(in * scale)', () => {
    expect(resizeOutputDims([1, 3, 10, 10], [1, 1, 0.35, 1.99])).toEqual([1, 3, 3, 19]);
    expect(resizeOutputDims([2, 5, 7], undefined, [2, 9, 1])).toEqual([2, 9, 1]);
    expect(resizeOutputDims([1, 1, 3, 3], [1, 1, 0.3, 2])).toEqual([1, 1, 0, 6]);
  });

  it('rejects bad arguments with messages that say what to do', async () => {
    const k = await kernels(flavor);
    const before = k.heap.liveBytes;
    const d = [1, 2, 4, 4];
    const x = new Float32Array(32);
    expect(() => resize(k, x, d, { scales: [1, 1, 2, 2], sizes: [1, 2, 8, 8] })).toThrow(/both given/);
    expect(() => resize(k, x, d, {})).toThrow(ArgumentError);
    expect(() => resize(k, x, d, { scales: [1, 1, 0, 2] })).toThrow(/positive/);
    expect(() => resize(k, x, d, { scales: [1, 1, -2, 2] })).toThrow(ArgumentError);
    expect(() => resize(k, x, d, { scales: [1, 2, 2, 2] })).toThrow(/only the last two axes/);
    expect(() => resize(k, x, d, { sizes: [2, 2, 8, 8] })).toThrow(/only the last two axes/);
    expect(() => resize(k, x, d, { scales: [2, 2] })).toThrow(ShapeError);
    expect(() => resize(k, x, d, { scales: [1, 1, 2, 2], mode: 'cubic' as ResizeMode })).toThrow(/supported: nearest, linear/);
    expect(() => resize(k, x, d, { scales: [1, 1, 2, 2], coordinateTransformationMode: 'tf_crop_and_resize' as CoordinateTransformationMode })).toThrow(/supported: half_pixel/);
    expect(() => resize(k, x, d, { scales: [1, 1, 2, 2], nearestMode: 'round' as NearestMode })).toThrow(/round_prefer_floor/);
    expect(() => resize(k, new Float32Array(31), d, { scales: [1, 1, 2, 2] })).toThrow(ShapeError);
    expect(() => resize(k, new Float32Array(0), [1, 0, 3], { sizes: [1, 4, 3] })).toThrow(/nothing to interpolate/);
    expect(() => resize(k, new Float32Array(0), [], { scales: [] })).toThrow(ShapeError);
    const px = k.allocF32(32);
    const py = k.allocF32(64);
    expect(() => resizeRun(k, px, d, py, { scales: [1, 1, 2, 2] })).toThrow(/Resize output/); // needs 128 floats
    k.free(px, py);
    // an empty output is fine and touches nothing
    expect(resize(k, new Float32Array(9), [1, 1, 3, 3], { scales: [1, 1, 0.3, 1] }).dims).toEqual([1, 1, 0, 3]);
    expect(k.heap.liveBytes).toBe(before);
  });
});
