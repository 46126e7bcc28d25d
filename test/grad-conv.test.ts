import { describe, expect, it } from 'vitest';
import { ShapeError } from '../src/errors.js';
import { PackedConv2d } from '../src/kernels/conv.js';
import { conv2dBackward, conv2dBackwardPath, conv2dBackwardScratchFloats, type ConvBackwardPath } from '../src/train/grad/conv.js';
import type { Kernels } from '../src/wasm/kernels.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { randomArray } from './util/rng.js';
import { conv2d64, conv2dBackward64, convOut, dot, expectGradClose, f64, nanBuffer, numericGrad, prod, type ConvAttrs } from './grad-util.js';

interface Case extends ConvAttrs {
  x: number[];
  w: number[];
  path: ConvBackwardPath;
}

const A = (group: number, strides: number[], pads: number[], dilations: number[]) => ({ group, strides, pads, dilations });

// Small enough for finite differences on every element; together they reach each dx path, the
// vector and scalar parts of the transposed im2col (stride 1, 2, 3 along W; K and P not multiples
// of 8 / 4), groups, depthwise with and without a multiplier, dilation and asymmetric padding.
const CASES: Case[] = [
  { x: [2, 3, 7, 9], w: [5, 3, 3, 3], ...A(1, [1, 1], [1, 1, 1, 1], [1, 1]), path: 'direct' },
  { x: [1, 4, 9, 8], w: [6, 4, 3, 3], ...A(1, [2, 2], [1, 1, 1, 1], [1, 1]), path: 'col2im' },
  { x: [1, 3, 8, 11], w: [4, 3, 2, 3], ...A(1, [1, 2], [0, 2, 1, 0], [1, 1]), path: 'col2im' },
  { x: [1, 2, 9, 10], w: [3, 2, 3, 3], ...A(1, [1, 1], [2, 2, 1, 2], [2, 2]), path: 'direct' },
  { x: [2, 4, 6, 7], w: [6, 2, 3, 3], ...A(2, [1, 1], [1, 0, 1, 2], [1, 1]), path: 'direct' },
  { x: [1, 6, 7, 13], w: [9, 2, 3, 2], ...A(3, [2, 3], [1, 1, 0, 1], [1, 2]), path: 'col2im' },
  { x: [2, 3, 6, 9], w: [3, 1, 3, 3], ...A(3, [1, 1], [1, 1, 1, 1], [1, 1]), path: 'depthwise' },
  { x: [1, 2, 9, 11], w: [4, 1, 3, 3], ...A(2, [2, 2], [1, 1, 1, 1], [1, 1]), path: 'depthwise' },
  { x: [2, 1, 8, 8], w: [5, 1, 3, 3], ...A(1, [1, 1], [1, 1, 1, 1], [1, 1]), path: 'depthwise' },
  { x: [1, 2, 9, 10], w: [2, 1, 3, 3], ...A(2, [1, 1], [2, 1, 2, 2], [2, 2]), path: 'depthwise' },
  { x: [1, 2, 9, 7], w: [4, 1, 3, 3], ...A(2, [2, 1], [1, 1, 0, 1], [1, 1]), path: 'depthwise' },
  { x: [1, 5, 5, 6], w: [4, 5, 1, 1], ...A(1, [1, 1], [1, 0, 0, 1], [1, 1]), path: 'col2im' },
  { x: [1, 3, 6, 6], w: [2, 3, 1, 1], ...A(1, [1, 1], [0, 0, 0, 0], [1, 1]), path: 'direct' },
  { x: [1, 16, 4, 5], w: [16, 16, 3, 3], ...A(1, [1, 1], [1, 0, 2, 1], [1, 1]), path: 'winograd' },
];

/** Runs conv2dBackward with NaN-filled outputs (a gradient that is not overwritten shows up). */
function runBackward(k: Kernels, x: Float32Array, xDims: number[], w: Float32Array, wDims: number[], dy: Float32Array, a: ConvAttrs, withDx = true) {
  const ptrs: number[] = [];
  const keep = (p: number) => (ptrs.push(p), p);
  try {
    const xp = keep(k.upload(x));
    const wp = keep(k.upload(w));
    const dyp = keep(k.upload(dy));
    const dx = withDx ? keep(nanBuffer(k, x.length)) : 0;
    const dw = keep(nanBuffer(k, w.length));
    const db = keep(nanBuffer(k, wDims[0]));
    const s = keep(nanBuffer(k, conv2dBackwardScratchFloats(xDims, wDims, a, withDx)));
    conv2dBackward(k, { x: xp, xDims, w: wp, wDims, dy: dyp, group: a.group, strides: a.strides, pads: a.pads, dilations: a.dilations }, { dx, dw, db }, s);
    return { dx: withDx ? k.download(dx, x.length) : undefined, dw: k.download(dw, w.length), db: k.download(db, wDims[0]) };
  } finally {
    k.free(...ptrs);
  }
}

describe.each(FLAVORS)('Conv2d backward (%s build)', (flavor) => {
  it.each(CASES.map((c, i) => [i, c] as const))('case %i: dx, dw, db match central differences in float64', async (i, c) => {
    const k = await kernels(flavor);
    expect(conv2dBackwardPath(c.x, c.w, c)).toBe(c.path);
    const x = randomArray(prod(c.x), 100 + i);
    const w = randomArray(prod(c.w), 200 + i);
    const b = randomArray(c.w[0], 300 + i);
    const yDims = convOut(c.x, c.w, c);
    const R = randomArray(prod(yDims), 400 + i);
    const got = runBackward(k, x, c.x, w, c.w, R, c);
    const X = f64(x), Wt = f64(w), B = f64(b);
    const loss = () => dot(conv2d64(X, c.x, Wt, c.w, B, c), R);
    expectGradClose(got.dx!, numericGrad(X, loss), `case ${i} dx`);
    expectGradClose(got.dw, numericGrad(Wt, loss), `case ${i} dw`);
    expectGradClose(got.db, numericGrad(B, loss), `case ${i} db`);
  });

  it('dx is optional (a first layer) and dw/db are the same without it', async () => {
    const k = await kernels(flavor);
    for (const c of [CASES[0], CASES[8]]) {
      const x = randomArray(prod(c.x), 1);
      const w = randomArray(prod(c.w), 2);
      const R = randomArray(prod(convOut(c.x, c.w, c)), 3);
      const full = runBackward(k, x, c.x, w, c.w, R, c, true);
      const noDx = runBackward(k, x, c.x, w, c.w, R, c, false);
      expect(noDx.dx).toBeUndefined();
      expect(Array.from(noDx.dw)).toEqual(Array.from(full.dw));
      expect(Array.from(noDx.db)).toEqual(Array.from(full.db));
    }
  });

  // Larger layers (pixels per image above the 512-row slice of gemm_packed, the SmallCNN layers)
  // against the float64 analytic gradient.
  const BIG: (ConvAttrs & { x: number[]; w: number[] })[] = [
    { x: [3, 16, 14, 14], w: [32, 16, 3, 3], ...A(1, [1, 1], [1, 1, 1, 1], [1, 1]) },
    { x: [4, 1, 28, 28], w: [16, 1, 3, 3], ...A(1, [1, 1], [1, 1, 1, 1], [1, 1]) },
    { x: [2, 5, 30, 27], w: [7, 5, 3, 3], ...A(1, [1, 1], [0, 0, 0, 0], [1, 1]) },
    { x: [2, 8, 31, 29], w: [12, 8, 3, 3], ...A(1, [2, 2], [1, 1, 1, 1], [1, 1]) },
    { x: [2, 12, 16, 18], w: [12, 1, 5, 5], ...A(12, [1, 1], [2, 2, 2, 2], [1, 1]) },
    { x: [2, 32, 9, 19], w: [40, 16, 3, 3], ...A(2, [1, 1], [0, 1, 2, 1], [1, 1]) },
    { x: [2, 17, 12, 11], w: [20, 17, 3, 3], ...A(1, [1, 1], [2, 2, 0, 0], [1, 1]) },
  ];
  it.each(BIG.map((c, i) => [i, c] as const))('layer %i matches the float64 analytic gradient', async (i, c) => {
    const k = await kernels(flavor);
    const x = randomArray(prod(c.x), 500 + i);
    const w = randomArray(prod(c.w), 600 + i, -0.3, 0.3);
    const dy = randomArray(prod(convOut(c.x, c.w, c)), 700 + i);
    const got = runBackward(k, x, c.x, w, c.w, dy, c);
    if (i === 0 || i >= 5) expect(conv2dBackwardPath(c.x, c.w, c)).toBe('winograd');
    const ref = conv2dBackward64(x, c.x, w, c.w, dy, c);
    expectGradClose(got.dx!, ref.dx, `layer ${i} dx`, 1e-5);
    expectGradClose(got.dw, ref.dw, `layer ${i} dw`, 1e-5);
    expectGradClose(got.db, ref.db, `layer ${i} db`, 1e-5);
  });

  it('uses the same weights layout as the forward PackedConv2d (y and dy from a real forward)', async () => {
    const k = await kernels(flavor);
    const xDims = [2, 4, 10, 10];
    const wDims = [8, 4, 3, 3];
    const a = A(1, [1, 1], [1, 1, 1, 1], [1, 1]);
    const x = randomArray(prod(xDims), 11);
    const w = randomArray(prod(wDims), 12);
    const conv = new PackedConv2d(k, w, wDims, undefined, a);
    const yDims = conv.outputDims(xDims);
    expect(yDims).toEqual(convOut(xDims, wDims, a));
    conv.dispose();
    const dy = randomArray(prod(yDims), 13);
    const got = runBackward(k, x, xDims, w, wDims, dy, a);
    const ref = conv2dBackward64(x, xDims, w, wDims, dy, a);
    expectGradClose(got.dw, ref.dw, 'dw', 1e-5);
  });

  it('bad inputs give ShapeErrors', async () => {
    const k = await kernels(flavor);
    const xDims = [1, 3, 6, 6];
    const wDims = [4, 3, 3, 3];
    const x = k.allocF32(prod(xDims));
    const w = k.allocF32(prod(wDims));
    const dy = k.allocF32(4 * 16);
    const dw = k.allocF32(prod(wDims));
    const s = k.allocF32(conv2dBackwardScratchFloats(xDims, wDims));
    const dx = k.allocF32(prod(xDims));
    try {
      const args = { x, xDims, w, wDims, dy };
      expect(() => conv2dBackward(k, { ...args, xDims: [1, 2, 6, 6] }, { dw }, s)).toThrow(ShapeError);
      expect(() => conv2dBackward(k, { ...args, wDims: [4, 3, 3] }, { dw }, s)).toThrow(ShapeError);
      expect(() => conv2dBackward(k, { ...args, wDims: [5, 1, 3, 3], group: 3 }, { dw }, s)).toThrow(/split into 3 groups/);
      // dy has 64 floats, the output needs 4 x 4 x 4
      expect(() => conv2dBackward(k, { ...args, pads: [1, 1, 1, 1] }, { dw }, s)).toThrow(/dy/);
      expect(() => conv2dBackward(k, args, { dw: 0 }, s)).toThrow(/dw is required/);
      expect(() => conv2dBackward(k, args, { dw, dx }, dx)).toThrow(/scratch/);
      expect(() => conv2dBackward(k, args, { dw, dx: 12345 }, s)).toThrow(ShapeError);
      expect(() => conv2dBackward(k, { ...args, strides: [0, 1] }, { dw }, s)).toThrow(ShapeError);
    } finally {
      k.free(x, w, dy, dw, s, dx);
    }
  });
});
