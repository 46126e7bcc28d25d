import { describe, expect, it } from 'vitest';
import { ArgumentError, ShapeError } from '../src/errors.js';
import { BINARY_OPS, binary, binaryRun, broadcastShape, planBroadcast, type BinaryOp } from '../src/kernels/eltwise.js';
import { binaryRef } from './ref/eltwise.js';
import { expectClose } from './util/close.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { buildModel, runOrt } from './util/onnx.js';
import { randomArray, randomInt, rng } from './util/rng.js';

// 'select' reads the output's own values too: tested on its own below
const OPS = (Object.keys(BINARY_OPS) as BinaryOp[]).filter((op) => op !== 'select');
const size = (d: readonly number[]) => d.reduce((p, v) => p * v, 1);

/** Every broadcast pattern the kernels special-case, plus awkward sizes (not multiples of 4 or 8). */
const PATTERNS: [number[], number[]][] = [
  [[], []], // scalar with scalar
  [[], [5]], // scalar a
  [[2, 3, 7], []], // scalar b
  [[1], [9]],
  [[9], [9]],
  [[4, 13], [13]], // row
  [[13], [4, 13]],
  [[6, 5], [6, 1]], // column
  [[6, 1], [6, 5]],
  [[3, 1, 5], [3, 4, 5]], // middle axis
  [[3, 4, 5], [1, 4, 1]],
  [[5, 1], [1, 7]], // both sides broadcast
  [[1, 7], [5, 1]],
  [[2, 1, 3, 1, 5], [1, 4, 1, 6, 1]], // alternating: more than 4 dims after collapsing
  [[2, 3, 1, 4, 5], [3, 6, 1, 5]],
  [[2, 3, 4, 5, 6], [2, 3, 4, 5, 6]],
  [[1, 1, 1], [1]], // all ones
  [[0, 3], [1, 3]], // empty
  [[3, 0], [1]],
  [[7, 33], [7, 1]],
  [[1, 37], [3, 2, 37]],
];

/** Operands for one op: Pow gets bases of both signs and a mix of integer and fractional exponents. */
function operands(op: BinaryOp, aDims: number[], bDims: number[], seed: number): [Float32Array, Float32Array] {
  const A = randomArray(size(aDims), seed, -3, 3);
  const B = randomArray(size(bDims), seed + 1, -3, 3);
  if (op === 'pow') {
    const r = rng(seed + 2);
    for (let i = 0; i < B.length; i++) if (r() < 0.5) B[i] = Math.round(B[i] * 1.4);
  }
  if (op === 'div') for (let i = 0; i < B.length; i++) if (B[i] === 0) B[i] = 1;
  return [A, B];
}

/** A random pair of shapes that broadcast: output rank 0-5, then each input drops leading dims and sets some to 1. */
function randomShapes(r: () => number): [number[], number[]] {
  const rank = randomInt(r, 0, 5);
  const out = Array.from({ length: rank }, () => (r() < 0.2 ? randomInt(r, 8, 19) : randomInt(r, 1, 6)));
  const derive = () => {
    const drop = r() < 0.3 ? randomInt(r, 0, rank) : 0;
    return out.slice(drop).map((d) => (r() < 0.35 ? 1 : d));
  };
  return [derive(), derive()];
}

describe.each(FLAVORS)('broadcasting binary kernels (%s build)', (flavor) => {
  it('every op matches a float64 reference on each broadcast pattern', async () => {
    const k = await kernels(flavor);
    for (const [i, [ad, bd]] of PATTERNS.entries()) {
      for (const op of OPS) {
        const [A, B] = operands(op, ad, bd, 10 * i);
        const got = binary(k, op, A, ad, B, bd);
        const want = binaryRef(op, A, ad, B, bd);
        expect(got.dims, `${op} [${ad}] [${bd}]`).toEqual(want.dims);
        expectClose(got.data, want.data, `${op} [${ad}] [${bd}]`);
      }
    }
  });

  it('every op matches a float64 reference on random shapes of rank 0-5', async () => {
    const k = await kernels(flavor);
    const r = rng(3);
    for (let t = 0; t < 150; t++) {
      const [ad, bd] = randomShapes(r);
      const op = OPS[t % OPS.length];
      const [A, B] = operands(op, ad, bd, 500 + t);
      const got = binary(k, op, A, ad, B, bd);
      const want = binaryRef(op, A, ad, B, bd);
      expect(got.dims, `${op} [${ad}] [${bd}]`).toEqual(want.dims);
      expectClose(got.data, want.data, `${op} [${ad}] [${bd}]`);
    }
  });

  it('collapses shapes to at most 4 strided dims where it can', () => {
    expect(planBroadcast([2, 3, 4], [4])).toEqual({ out: [2, 3, 4], dims: [1, 1, 6, 4], aStrides: [0, 0, 4, 1], bStrides: [0, 0, 0, 1] });
    expect(planBroadcast([6, 1], [6, 5])).toEqual({ out: [6, 5], dims: [1, 1, 6, 5], aStrides: [0, 0, 1, 0], bStrides: [0, 0, 5, 1] });
    expect(planBroadcast([2, 3, 4, 5, 6], [2, 3, 4, 5, 6]).dims).toEqual([1, 1, 1, 720]);
    expect(planBroadcast([], []).dims).toEqual([1, 1, 1, 1]);
    expect(planBroadcast([8, 1, 1, 3], [1, 5, 2, 1])).toEqual({ out: [8, 5, 2, 3], dims: [1, 8, 10, 3], aStrides: [0, 3, 0, 1], bStrides: [0, 0, 1, 0] });
    expect(planBroadcast([2, 1, 3, 1, 5], [1, 4, 1, 6, 1]).dims).toEqual([2, 4, 3, 6, 5]);
  });

  it('special values follow Math: ±0, ±Inf, NaN, and Pow’s sign and domain rules', async () => {
    const k = await kernels(flavor);
    const vals = [0, -0, 1, -1, 2, -2, 0.5, -0.5, 3, -3, 2.5, -2.5, 1e-30, 1e30, -1e30, 3e38, Infinity, -Infinity, NaN];
    const n = vals.length;
    const A = Float32Array.from(vals);
    for (const op of OPS) {
      const got = binary(k, op, A, [n, 1], A, [1, n]);
      const want = binaryRef(op, A, [n, 1], A, [1, n]);
      expectClose(got.data, Float32Array.from(want.data), `${op} on special values`); // overflow is Inf in float32
      for (let i = 0; i < n * n; i++) {
        expect(Number.isNaN(got.data[i]), `${op}(${A[Math.floor(i / n)]}, ${A[i % n]}) NaN-ness`).toBe(Number.isNaN(want.data[i]));
        if (want.data[i] === 0) expect(Object.is(got.data[i], want.data[i]), `${op}(${A[Math.floor(i / n)]}, ${A[i % n]}) sign of zero`).toBe(true);
      }
    }
    const p = binary(k, 'pow', Float32Array.from([-2, -2, -8, 0, -0, NaN, 1, 4, -1, -1]), [10], Float32Array.from([3, 2, 1 / 3, -1, -1, 0, NaN, 0.5, Infinity, -Infinity]), [10]).data;
    expect(Array.from(p).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([-8, 4, NaN, Infinity, -Infinity, 1, 1, 2, 1, 1]);
  });

  it('runs in place when the output has the shape of the input it overwrites', async () => {
    const k = await kernels(flavor);
    for (const [ad, bd] of [[[5, 7], [7]], [[3, 1, 9], [3, 4, 9]], [[11], [11]]] as [number[], number[]][]) {
      for (const op of OPS) {
        const [A, B] = operands(op, ad, bd, 900);
        const out = broadcastShape(ad, bd);
        const want = binaryRef(op, A, ad, B, bd).data;
        const a = k.upload(A);
        const b = k.upload(B);
        const y = size(ad) === size(out) ? a : b;
        binaryRun(k, op, a, ad, b, bd, y);
        expectClose(k.download(y, size(out)), want, `${op} in place [${ad}] [${bd}]`);
        k.free(a, b);
      }
    }
  });

  it("select: y = cond != 0 ? a : y on every broadcast pattern, y's other values kept, nothing past the end", async () => {
    const k = await kernels(flavor);
    for (const [cd, ad] of PATTERNS) {
      const out = broadcastShape(cd, ad);
      const n = size(out);
      const C = randomArray(size(cd), n + 3, -1, 1).map((v) => (v > 0 ? 1 : 0));
      const A = randomArray(size(ad), n + 4);
      const Y0 = randomArray(n, n + 5, 5, 6);
      const pick = binaryRef('and', C, cd, Float32Array.from(A, () => 1), ad).data; // cond broadcast to the output
      const av = binaryRef('add', new Float32Array(size(cd)), cd, A, ad).data; // a broadcast to the output
      const want = Float64Array.from(Y0, (y, i) => (pick[i] ? av[i] : y));
      const c = k.upload(C);
      const a = k.upload(A);
      const y = k.allocF32(n + 8);
      k.f32.fill(777, y >> 2, (y >> 2) + n + 8);
      k.f32.set(Y0, y >> 2);
      binaryRun(k, 'select', c, cd, a, ad, y);
      expect(Array.from(k.download(y, n)), `[${cd}] [${ad}]`).toEqual(Array.from(Float32Array.from(want)));
      expect(Array.from(k.download(y + 4 * n, 8))).toEqual(new Array(8).fill(777));
      k.free(c, a, y);
    }
  });

  it('never writes past the output, and the strided scalar path is right', async () => {
    const k = await kernels(flavor);
    for (const n of [1, 2, 3, 5, 6, 7, 9]) {
      const A = randomArray(n, n, 0.5, 2);
      const a = k.upload(A);
      const y = k.allocF32(n + 8);
      k.f32.fill(777, y >> 2, (y >> 2) + n + 8);
      binaryRun(k, 'pow', a, [n], a, [1], y);
      expectClose(k.download(y, n), binaryRef('pow', A, [n], A.subarray(0, 1), [1]).data, `n=${n}`);
      expect(Array.from(k.download(y + 4 * n, 8))).toEqual(new Array(8).fill(777));
      k.free(a, y);
    }
    // raw kernel, a read transposed (inner stride 3), b with inner stride 2: not produced by the host plan
    const A = randomArray(12, 1);
    const B = randomArray(8, 2);
    const a = k.upload(A);
    const b = k.upload(B);
    const y = k.allocF32(12);
    k.fn.eltwise_binary4(BINARY_OPS.sub, a, b, y, 1, 1, 3, 4, 0, 0, 1, 3, 0, 0, 0, 2);
    const want = new Float64Array(12);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) want[i * 4 + j] = A[j * 3 + i] - B[j * 2];
    expectClose(k.download(y, 12), want, 'strided');
    k.free(a, b, y);
  });

  it('agrees with onnxruntime on Add, Sub, Mul, Div, Max, Min and Pow with broadcasting', async () => {
    const k = await kernels(flavor);
    const cases: [string, BinaryOp, number[], number[]][] = [
      ['Add', 'add', [2, 3, 5], [5]],
      ['Add', 'add', [4, 1], [1, 6]],
      ['Sub', 'sub', [2, 1, 7], [3, 1]],
      ['Mul', 'mul', [1, 3, 1, 5], [2, 1, 4, 5]],
      ['Div', 'div', [6, 9], [6, 1]],
      ['Max', 'max', [3, 4, 5], [4, 1]],
      ['Min', 'min', [], [2, 7]],
      ['Pow', 'pow', [3, 11], [11]],
      ['Pow', 'pow', [2, 5], [1]],
    ];
    for (const [i, [onnxOp, op, ad, bd]] of cases.entries()) {
      let A = randomArray(size(ad), 40 + i, -2, 2);
      let B = randomArray(size(bd), 60 + i, -2, 2);
      if (op === 'pow') {
        A = A.map((v) => Math.abs(v) + 0.05);
        if (size(bd) === 1) B[0] = 3; // integer exponent on positive bases: the (x, 3) fast path in onnxruntime
      }
      if (op === 'div') B = B.map((v) => (Math.abs(v) < 0.05 ? 0.5 : v));
      const model = buildModel({ nodes: [{ op: onnxOp, inputs: ['a', 'b'], outputs: ['y'] }], inputs: [{ name: 'a', dims: ad }, { name: 'b', dims: bd }], outputs: ['y'] });
      const want = (await runOrt(model, { a: { data: A, dims: ad }, b: { data: B, dims: bd } })).y;
      const got = binary(k, op, A, ad, B, bd);
      expect(got.dims, `${onnxOp} [${ad}] [${bd}]`).toEqual(want.dims);
      expectClose(got.data, want.data, `${onnxOp} [${ad}] [${bd}] vs onnxruntime`);
    }
  });

  it('Pow special cases match onnxruntime (C powf), not Math.pow', async () => {
    const k = await kernels(flavor);
    const A = Float32Array.from([1, 1, -1, -1, 2, -2, 0, NaN]);
    const B = Float32Array.from([NaN, Infinity, Infinity, -Infinity, 0, 3, -2, 0]);
    const model = buildModel({ nodes: [{ op: 'Pow', inputs: ['a', 'b'], outputs: ['y'] }], inputs: [{ name: 'a', dims: [8] }, { name: 'b', dims: [8] }], outputs: ['y'] });
    const want = (await runOrt(model, { a: { data: A, dims: [8] }, b: { data: B, dims: [8] } })).y.data;
    expectClose(binary(k, 'pow', A, [8], B, [8]).data, want, 'pow special values');
  });

  it('the comparison catches a wrong op or a wrong broadcast', async () => {
    const k = await kernels(flavor);
    const A = randomArray(12, 1);
    const B = randomArray(4, 2);
    const got = binary(k, 'sub', A, [3, 4], B, [4]).data;
    expect(() => expectClose(got, binaryRef('add', A, [3, 4], B, [4]).data, 'add vs sub')).toThrow();
    const col = binary(k, 'add', A, [3, 4], B.subarray(0, 3), [3, 1]).data;
    expect(() => expectClose(col, binaryRef('add', A, [3, 4], B.subarray(0, 4), [1, 4]).data.slice(0, 12), 'row vs column')).toThrow();
  });

  it('rejects shapes that do not broadcast, wrong sizes, unknown ops and aliasing a broadcast input', async () => {
    const k = await kernels(flavor);
    expect(() => binary(k, 'add', new Float32Array(6), [2, 3], new Float32Array(4), [4])).toThrow(ShapeError);
    expect(() => binary(k, 'add', new Float32Array(6), [2, 3], new Float32Array(4), [4])).toThrow(/shapes \[2, 3\] and \[4\] do not broadcast: axis -1 has 3 vs 4/);
    expect(() => broadcastShape([5, 2, 1], [3, 1, 1])).toThrow(/\[5, 2, 1\] and \[3, 1, 1\].*axis -3/);
    expect(() => binary(k, 'mul', new Float32Array(5), [2, 3], new Float32Array(3), [3])).toThrow(/need 6 elements but the data has 5/);
    expect(() => binary(k, 'mul', new Float32Array(6), [2, 3], new Float32Array(3), [3.5])).toThrow(ShapeError);
    expect(() => binary(k, 'mod' as BinaryOp, new Float32Array(1), [1], new Float32Array(1), [1])).toThrow(ArgumentError);
    expect(() => binary(k, 'mod' as BinaryOp, new Float32Array(1), [1], new Float32Array(1), [1])).toThrow(/unknown binary op "mod"; use one of add, sub/);
    const a = k.allocF32(40); // blocks round up to 16-float multiples: a holds 48, small 16
    const b = k.allocF32(5);
    const small = k.allocF32(2);
    expect(() => binaryRun(k, 'add', a, [8, 5], b, [5], b)).toThrow(ArgumentError);
    expect(() => binaryRun(k, 'add', a, [8, 5], b, [5], b)).toThrow(/output buffer is an input that is broadcast \(\[5\] to \[8, 5\]\)/);
    expect(() => binaryRun(k, 'add', a, [8, 5], b, [5], small)).toThrow(ShapeError);
    expect(() => binaryRun(k, 'add', a, [8, 5], b, [5], small)).toThrow(/add output \[8, 5\]: buffer holds 16 floats but 40 are needed/);
    expect(() => binaryRun(k, 'add', a, [20, 5], b, [5], a)).toThrow(/add input A \[20, 5\]/);
    expect(() => binaryRun(k, 'add', a, [8, 5], 4242, [5], a)).toThrow(/not a live kernel buffer/);
    k.free(a, b, small);
  });
});
