import { describe, expect, it } from 'vitest';
import { conv2d, PackedConv2d, type ConvPath } from '../src/kernels/conv.js';
import { convTranspose2d } from '../src/kernels/conv-transpose.js';
import { ShapeError } from '../src/errors.js';
import { actRef } from './ref/gemm.js';
import { conv2dRef, convTranspose2dRef } from './ref/conv.js';
import { expectClose } from './util/close.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { buildModel, runOrt } from './util/onnx.js';
import { randomArray, randomInt, rng } from './util/rng.js';

const prod = (d: number[]) => d.reduce((a, b) => a * b, 1);

interface Case {
  x: number[];
  w: number[];
  group: number;
  strides: number[];
  pads: number[];
  dilations: number[];
  path: ConvPath;
}

// Hand-picked to reach every kernel path with awkward sizes (odd channel counts, widths not a
// multiple of 8, asymmetric pads, dilation, groups).
const CASES: Case[] = [
  { x: [1, 3, 13, 17], w: [5, 3, 3, 3], group: 1, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], path: 'direct' },
  { x: [2, 6, 9, 21], w: [10, 3, 3, 3], group: 2, strides: [1, 1], pads: [0, 2, 1, 0], dilations: [1, 1], path: 'direct' },
  { x: [1, 4, 11, 19], w: [7, 4, 5, 3], group: 1, strides: [2, 1], pads: [2, 1, 2, 1], dilations: [1, 2], path: 'direct' },
  { x: [1, 3, 20, 37], w: [5, 3, 3, 3], group: 1, strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], path: 'direct' },
  { x: [1, 2, 9, 40], w: [3, 2, 3, 2], group: 1, strides: [1, 2], pads: [0, 0, 0, 1], dilations: [1, 2], path: 'direct' },
  { x: [1, 9, 7, 10], w: [13, 9, 1, 1], group: 1, strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], path: 'gemm1x1' },
  { x: [2, 8, 5, 6], w: [6, 4, 1, 1], group: 2, strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], path: 'gemm1x1' },
  // 1x1 maps (squeeze-and-excitation, gemv_a4): K and Cout not multiples of 4, a batch, groups
  { x: [2, 19, 1, 1], w: [13, 19, 1, 1], group: 1, strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], path: 'gemm1x1' },
  { x: [1, 12, 1, 1], w: [6, 4, 1, 1], group: 3, strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], path: 'gemm1x1' },
  { x: [1, 3, 1, 1], w: [1, 3, 1, 1], group: 1, strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], path: 'gemm1x1' },
  { x: [1, 5, 15, 14], w: [6, 5, 3, 3], group: 1, strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], path: 'im2col' },
  { x: [1, 3, 16, 16], w: [9, 3, 7, 7], group: 1, strides: [3, 2], pads: [3, 3, 2, 1], dilations: [1, 1], path: 'im2col' },
  { x: [1, 6, 6, 5], w: [4, 6, 3, 3], group: 1, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], path: 'im2col' },
  { x: [1, 7, 12, 11], w: [7, 1, 3, 3], group: 7, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], path: 'depthwise' },
  { x: [2, 5, 13, 10], w: [10, 1, 3, 3], group: 5, strides: [2, 2], pads: [1, 0, 1, 1], dilations: [1, 1], path: 'depthwise' },
  { x: [1, 4, 20, 23], w: [4, 1, 5, 5], group: 4, strides: [1, 1], pads: [4, 4, 4, 4], dilations: [2, 2], path: 'depthwise' },
  // 5x5 with stride 1 along W (dw5x5_plane): widths leaving 0, 1-3 and 4-7 pixels in the last
  // group of 8, stride 2 along H, a channel multiplier, no pads
  { x: [1, 3, 9, 16], w: [3, 1, 5, 5], group: 3, strides: [1, 1], pads: [2, 2, 2, 2], dilations: [1, 1], path: 'depthwise' },
  { x: [2, 4, 7, 13], w: [4, 1, 5, 5], group: 4, strides: [1, 1], pads: [2, 2, 2, 2], dilations: [1, 1], path: 'depthwise' },
  { x: [1, 3, 11, 17], w: [6, 1, 5, 5], group: 3, strides: [2, 1], pads: [2, 1, 2, 3], dilations: [1, 1], path: 'depthwise' },
  { x: [1, 5, 8, 10], w: [5, 1, 5, 5], group: 5, strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], path: 'depthwise' },
  { x: [1, 6, 9, 9], w: [6, 2, 1, 1], group: 3, strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], path: 'im2col' },
  // Winograd: odd output sizes (partial 2x2 tiles), a partial block of 8 tiles, asymmetric pads, groups
  { x: [1, 16, 13, 21], w: [18, 16, 3, 3], group: 1, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], path: 'winograd' },
  { x: [2, 20, 9, 40], w: [17, 20, 3, 3], group: 1, strides: [1, 1], pads: [0, 2, 1, 0], dilations: [1, 1], path: 'winograd' },
  { x: [1, 32, 6, 7], w: [32, 16, 3, 3], group: 2, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], path: 'winograd' },
  { x: [1, 600, 5, 5], w: [16, 600, 3, 3], group: 1, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], path: 'winograd' },
  // the direct kernel lists its patch rows' offsets up to 8192 rows; past that it works them out per row
  { x: [1, 600, 4, 12], w: [5, 600, 3, 5], group: 1, strides: [1, 1], pads: [1, 2, 1, 2], dilations: [1, 1], path: 'direct' },
  // Winograd's tiles run in blocks of 8 along a tile row (rows of 5-8 or 13-16 tiles: f23_rows), or
  // in runs of 4 paired across rows (rows of 1-4 or 9-12 tiles: f23_groups, an odd count above)
  { x: [1, 12, 7, 28], w: [10, 12, 3, 3], group: 1, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], path: 'winograd' },
  { x: [2, 16, 8, 16], w: [9, 16, 3, 3], group: 1, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], path: 'winograd' },
  { x: [1, 9, 11, 10], w: [13, 9, 3, 3], group: 1, strides: [1, 1], pads: [1, 0, 1, 1], dilations: [1, 1], path: 'winograd' },
];

describe.each(FLAVORS)('Conv2d (%s build)', (flavor) => {
  it.each(CASES.map((c, i) => [i, c] as const))('case %i matches the float64 reference on its kernel path', async (i, c) => {
    const k = await kernels(flavor);
    const x = randomArray(prod(c.x), 10 + i);
    const w = randomArray(prod(c.w), 20 + i);
    const bias = i % 2 ? undefined : randomArray(c.w[0], 30 + i);
    const act = [undefined, { kind: 'relu' as const }, { kind: 'clip' as const, min: 0, max: 0.6 }, { kind: 'leakyRelu' as const, alpha: 0.2 }][i % 4];
    const attrs = { group: c.group, strides: c.strides, pads: c.pads, dilations: c.dilations };
    const op = new PackedConv2d(k, w, c.w, bias, attrs);
    expect(op.path(c.x)).toBe(c.path);
    op.dispose();
    const got = conv2d(k, x, c.x, w, c.w, bias, { ...attrs, activation: act });
    const ref = conv2dRef(x, c.x, w, c.w, bias, attrs);
    expect(got.dims).toEqual(ref.dims);
    const p0 = act?.kind === 'clip' ? act.min : act?.kind === 'leakyRelu' ? act.alpha : 0;
    expectClose(got.data, actRef(ref.data, act?.kind ?? 'none', p0, act?.kind === 'clip' ? act.max : 0), `case ${i}`);
  });

  it('Winograd agrees with the direct kernel and onnxruntime on a ResNet-like 3x3 layer', async () => {
    const k = await kernels(flavor);
    const xd = [1, 64, 28, 28];
    const wd = [64, 64, 3, 3];
    const x = randomArray(prod(xd), 501);
    const w = randomArray(prod(wd), 502, -0.1, 0.1);
    const b = randomArray(64, 503);
    const attrs = { pads: [1, 1, 1, 1] };
    const wino = conv2d(k, x, xd, w, wd, b, attrs);
    const direct = conv2d(k, x, xd, w, wd, b, { ...attrs, winograd: false });
    expect(new PackedConv2d(k, w, wd, b, { ...attrs, winograd: false }).path(xd)).toBe('direct');
    const model = buildModel({
      nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } }],
      inputs: [{ name: 'x', dims: xd }],
      outputs: ['y'],
      initializers: [{ name: 'w', dims: wd, data: w }, { name: 'b', dims: [64], data: b }],
    });
    const want = (await runOrt(model, { x: { data: x, dims: xd } })).y;
    expectClose(wino.data, want.data, 'winograd vs ort');
    expectClose(direct.data, want.data, 'direct vs ort');
  });

  it('matches onnxruntime on random Conv shapes', async () => {
    const k = await kernels(flavor);
    const r = rng(7);
    for (let t = 0; t < 12; t++) {
      const group = [1, 1, 2, 3][t % 4];
      const wide = t % 4 === 1; // reach the Winograd path too
      const CinG = wide ? randomInt(r, 16, 24) : randomInt(r, 1, 5);
      const CoutG = wide ? randomInt(r, 16, 21) : randomInt(r, 1, 6);
      const KH = randomInt(r, 1, 4);
      const KW = randomInt(r, 1, 4);
      const H = randomInt(r, KH + 2, 20);
      const W = randomInt(r, KW + 2, 24);
      const strides = [randomInt(r, 1, 2), randomInt(r, 1, 2)];
      const dilations = [randomInt(r, 1, 2), t % 3 === 0 ? 2 : 1];
      const pads = [randomInt(r, 0, 2), randomInt(r, 0, 2), randomInt(r, 0, 2), randomInt(r, 0, 2)];
      const xd = [randomInt(r, 1, 2), CinG * group, H, W];
      const wd = [CoutG * group, CinG, KH, KW];
      const x = randomArray(prod(xd), 50 + t);
      const w = randomArray(prod(wd), 60 + t);
      const b = randomArray(wd[0], 70 + t);
      const model = buildModel({
        nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { group, strides, pads, dilations, kernel_shape: [KH, KW] } }],
        inputs: [{ name: 'x', dims: xd }],
        outputs: ['y'],
        initializers: [{ name: 'w', dims: wd, data: w }, { name: 'b', dims: [wd[0]], data: b }],
      });
      const want = (await runOrt(model, { x: { data: x, dims: xd } })).y;
      const got = conv2d(k, x, xd, w, wd, b, { group, strides, pads, dilations });
      expect(got.dims).toEqual(want.dims);
      expectClose(got.data, want.data, `ort case ${t} x=${xd} w=${wd} s=${strides} p=${pads} d=${dilations} g=${group}`);
    }
  });

  // pruned depthwise kernels: channel c keeps c mod (KH*KW + 1) taps at random places, so every
  // count from none (the plane is act(bias)) through the kept-tap lists (at most 3/4 kept; at
  // stride 2 on a column-split plane) to the dense plane kernels is reached, with each stride path
  // and short rows
  it.each([
    { x: [1, 10, 9, 11], w: [10, 1, 3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1] },
    { x: [2, 10, 12, 13], w: [20, 1, 3, 3], strides: [2, 2], pads: [1, 0, 1, 1], dilations: [1, 1] },
    { x: [1, 26, 11, 10], w: [26, 1, 5, 5], strides: [1, 1], pads: [2, 2, 2, 2], dilations: [1, 1] },
    { x: [1, 10, 14, 15], w: [10, 1, 3, 3], strides: [1, 3], pads: [2, 2, 2, 2], dilations: [2, 2] },
    { x: [1, 10, 9, 18], w: [10, 1, 3, 3], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 2] },
    // rows of 28 pixels or more (blocks of 28, the last one moved back), at stride 1 and 2
    { x: [1, 10, 6, 45], w: [10, 1, 3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1] },
    { x: [1, 10, 7, 70], w: [10, 1, 3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1] },
    { x: [1, 50, 9, 40], w: [50, 1, 7, 7], strides: [1, 1], pads: [3, 3, 3, 3], dilations: [1, 1] },
    // maps of a few long rows, where the rows whose window reaches the zero rows above or below
    // run only their kernel rows over the image (OCR heads: 5x5 on 3 or 2 rows of 96; 1 row)
    { x: [1, 26, 3, 96], w: [26, 1, 5, 5], strides: [1, 1], pads: [2, 2, 2, 2], dilations: [1, 1] },
    { x: [1, 26, 2, 96], w: [26, 1, 5, 5], strides: [2, 1], pads: [2, 2, 2, 2], dilations: [1, 1] },
    { x: [1, 10, 1, 80], w: [10, 1, 3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1] },
    { x: [1, 26, 12, 80], w: [26, 1, 5, 5], strides: [1, 1], pads: [2, 2, 2, 2], dilations: [1, 1] },
    { x: [1, 10, 5, 200], w: [10, 1, 3, 3], strides: [1, 1], pads: [2, 2, 2, 2], dilations: [2, 2] },
    { x: [1, 10, 3, 400], w: [10, 1, 3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1] },
    // pads past the kernel's reach: the first and last rows' windows hold no image row at all
    { x: [1, 10, 4, 300], w: [10, 1, 3, 3], strides: [1, 1], pads: [3, 1, 3, 1], dilations: [1, 1] },
    // rows under 4 pixels (the few-taps rows store only their lanes), at stride 1 and 2
    { x: [1, 10, 3, 3], w: [10, 1, 3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1] },
    { x: [1, 10, 5, 6], w: [10, 1, 3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1] },
    { x: [1, 10, 2, 2], w: [10, 1, 3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1] },
  ].map((c, i) => [i, c] as const))('depthwise with pruned taps (case %i) matches the float64 reference', async (i, c) => {
    const k = await kernels(flavor);
    const x = randomArray(prod(c.x), 80 + i);
    const w = randomArray(prod(c.w), 90 + i);
    const KK = c.w[2] * c.w[3];
    const r = rng(100 + i);
    for (let co = 0; co < c.w[0]; co++) {
      const order = Array.from({ length: KK }, (_, t) => t).sort(() => r() - 0.5);
      for (const t of order.slice(co % (KK + 1))) w[co * KK + t] = 0;
    }
    const bias = randomArray(c.w[0], 110 + i);
    const act = [{ kind: 'relu' as const }, { kind: 'clip' as const, min: -0.3, max: 0.6 }, { kind: 'leakyRelu' as const, alpha: 0.2 }, undefined][i % 4];
    const attrs = { group: c.x[1], strides: c.strides, pads: c.pads, dilations: c.dilations };
    expect(new PackedConv2d(k, w, c.w, bias, attrs).path(c.x)).toBe('depthwise');
    const got = conv2d(k, x, c.x, w, c.w, bias, { ...attrs, activation: act });
    const ref = conv2dRef(x, c.x, w, c.w, bias, attrs);
    const p0 = act?.kind === 'clip' ? act.min : act?.kind === 'leakyRelu' ? act.alpha : 0;
    expectClose(got.data, actRef(ref.data, act?.kind ?? 'none', p0, act?.kind === 'clip' ? act.max : 0), `pruned depthwise case ${i}`);
  });

  it('rejects bad shapes with ShapeError and a message', async () => {
    const k = await kernels(flavor);
    const w = new Float32Array(2 * 3 * 3 * 3);
    expect(() => conv2d(k, new Float32Array(4 * 5 * 5), [1, 4, 5, 5], w, [2, 3, 3, 3])).toThrow(/4 channels but the weights expect 3/);
    expect(() => conv2d(k, new Float32Array(3 * 2 * 2), [1, 3, 2, 2], w, [2, 3, 3, 3])).toThrow(/larger than the padded input/);
    expect(() => conv2d(k, new Float32Array(3 * 5 * 5), [1, 3, 5, 5], w, [2, 3, 3, 3], undefined, { strides: [0, 1] })).toThrow(ShapeError);
    expect(() => conv2d(k, new Float32Array(3 * 5 * 5), [1, 3, 5, 5], w, [2, 3, 3, 3], new Float32Array(5))).toThrow(/bias/);
    expect(() => conv2d(k, new Float32Array(10), [1, 3, 5, 5], w, [2, 3, 3, 3])).toThrow(/need 75 elements/);
    expect(() => conv2d(k, new Float32Array(3 * 5 * 5), [1, 3, 5, 5], w, [2, 3, 3, 3], undefined, { group: 2 })).toThrow(ShapeError);
  });
});

describe.each(FLAVORS)('ConvTranspose2d (%s build)', (flavor) => {
  it('matches the float64 reference and onnxruntime', async () => {
    const k = await kernels(flavor);
    const cases = [
      { x: [1, 4, 5, 6], w: [4, 3, 3, 3], group: 1, strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], outputPadding: [1, 1] },
      { x: [2, 6, 4, 7], w: [6, 2, 4, 3], group: 3, strides: [2, 1], pads: [0, 1, 2, 0], dilations: [1, 2], outputPadding: [1, 0] },
      { x: [1, 3, 7, 7], w: [3, 5, 2, 2], group: 1, strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], outputPadding: [0, 0] },
    ];
    for (const [i, c] of cases.entries()) {
      const x = randomArray(prod(c.x), 80 + i);
      const w = randomArray(prod(c.w), 90 + i);
      const b = randomArray(c.w[1] * c.group, 95 + i);
      const got = convTranspose2d(k, x, c.x, w, c.w, b, c);
      const ref = convTranspose2dRef(x, c.x, w, c.w, b, c);
      expect(got.dims).toEqual(ref.dims);
      expectClose(got.data, ref.data, `ref case ${i}`);
      const model = buildModel({
        nodes: [{ op: 'ConvTranspose', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { group: c.group, strides: c.strides, pads: c.pads, dilations: c.dilations, output_padding: c.outputPadding } }],
        inputs: [{ name: 'x', dims: c.x }],
        outputs: ['y'],
        initializers: [{ name: 'w', dims: c.w, data: w }, { name: 'b', dims: [c.w[1] * c.group], data: b }],
      });
      const want = (await runOrt(model, { x: { data: x, dims: c.x } })).y;
      expect(got.dims).toEqual(want.dims);
      expectClose(got.data, want.data, `ort case ${i}`);
    }
  });

  // kernel KH x 2 at stride KH x 2, no pads: each output pixel one column value, interleaved in one
  // pass with the bias and activation (col2im_up2); widths with and without a tail of under 4
  it.each([
    { x: [2, 4, 5, 8], w: [4, 3, 2, 2], group: 1, strides: [2, 2], bias: true, act: { kind: 'clip' as const, min: -0.2, max: 0.5 } },
    { x: [1, 6, 3, 11], w: [6, 2, 2, 2], group: 3, strides: [2, 2], bias: true, act: { kind: 'leakyRelu' as const, alpha: 0.1 } },
    { x: [1, 3, 4, 6], w: [3, 4, 1, 2], group: 1, strides: [1, 2], bias: false, act: undefined },
    { x: [1, 2, 3, 3], w: [2, 5, 3, 2], group: 1, strides: [3, 2], bias: true, act: { kind: 'relu' as const } },
  ].map((c, i) => [i, c] as const))('upsampling without overlap (case %i) matches the float64 reference', async (i, c) => {
    const k = await kernels(flavor);
    const x = randomArray(prod(c.x), 300 + i);
    const w = randomArray(prod(c.w), 310 + i);
    const b = c.bias ? randomArray(c.w[1] * c.group, 320 + i) : undefined;
    const attrs = { group: c.group, strides: c.strides, pads: [0, 0, 0, 0], dilations: [1, 1], outputPadding: [0, 0] };
    const got = convTranspose2d(k, x, c.x, w, c.w, b, { ...attrs, activation: c.act });
    const ref = convTranspose2dRef(x, c.x, w, c.w, b, attrs);
    expect(got.dims).toEqual(ref.dims);
    const p0 = c.act?.kind === 'clip' ? c.act.min : c.act?.kind === 'leakyRelu' ? c.act.alpha : 0;
    expectClose(got.data, actRef(ref.data, c.act?.kind ?? 'none', p0, c.act?.kind === 'clip' ? c.act.max : 0), `up2 case ${i}`);
  });

  it('applies a fused activation after the scatter', async () => {
    const k = await kernels(flavor);
    const xd = [1, 2, 3, 3];
    const wd = [2, 3, 3, 3];
    const x = randomArray(prod(xd), 1);
    const w = randomArray(prod(wd), 2);
    const got = convTranspose2d(k, x, xd, w, wd, undefined, { strides: [2, 2], activation: { kind: 'relu' } });
    const ref = convTranspose2dRef(x, xd, w, wd, undefined, { group: 1, strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], outputPadding: [0, 0] });
    expectClose(got.data, actRef(ref.data, 'relu'), 'relu');
  });
});
