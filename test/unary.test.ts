import { describe, expect, it } from 'vitest';
import { ArgumentError, ShapeError } from '../src/errors.js';
import { unary, unaryRun, UNARY_OPS, type UnaryOp, type UnaryParams } from '../src/kernels/unary.js';
import { erf64, unaryRef } from './ref/unary.js';
import { expectClose } from './util/close.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { buildModel, runOrt } from './util/onnx.js';
import { randomArray, randomInt, rng } from './util/rng.js';

const OPS = Object.keys(UNARY_OPS) as UnaryOp[];
const PARAMS: Partial<Record<UnaryOp, UnaryParams>> = {
  leakyRelu: { alpha: 0.07 },
  clip: { min: -0.4, max: 1.3 },
  hardSigmoid: { alpha: 0.3, beta: 0.45 },
  xHardSigmoid: { alpha: 0.3, beta: 0.45 },
  hardSwishDiv: { c: 6 },
  hardSwishMul: { c: 0.25 },
  hardSwishDivFirst: { c: 5 },
  hardSwishMulFirst: { c: 1 / 6 },
  affine: { alpha: 1.37, beta: -0.21 },
  elu: { alpha: 0.7 },
  celu: { alpha: 1.3 },
  thresholdedRelu: { alpha: 0.4 },
  quantizeU8: { scale: 0.037, zeroPoint: 128 },
  quantizeI8: { scale: 0.11, zeroPoint: -5 },
  dequantize: { scale: 0.0173, zeroPoint: 17 },
  fakeQuantU8: { scale: 0.05, zeroPoint: 100 },
  fakeQuantI8: { scale: 0.2, zeroPoint: 3 },
};

/** Inputs an op is defined on (log/sqrt of negatives are NaN in both, checked separately). */
function domain(op: UnaryOp, x: Float32Array): Float32Array {
  return op === 'log' || op === 'sqrt' ? x.map(Math.abs) : x;
}

const SPECIALS = Float32Array.from([
  0, -0, Infinity, -Infinity, NaN, 1, -1, 1e-40, -1e-40, 1e-30, -1e-30, 0.5, -0.5, 0.624, 0.626, -0.626,
  3.9, 4, 4.1, -4.1, 5.6, -5.7, 20, -20, 88.7, 88.8, 89, -87.3, -88, -103, -104, -110, 100, -100,
  1e10, -1e10, 1e30, -1e30, 3.4e38, -3.4e38,
]);

describe.each(FLAVORS)('unary kernels (%s build)', (flavor) => {
  it('every op matches a float64 reference on random sizes, narrow and wide ranges', async () => {
    const k = await kernels(flavor);
    const r = rng(11);
    for (const op of OPS) {
      for (let t = 0; t < 12; t++) {
        const n = t === 0 ? 0 : t < 4 ? t : randomInt(r, 1, 70);
        const range = t % 3 === 0 ? 100 : t % 3 === 1 ? 6 : 1;
        const rank = randomInt(r, 0, 3);
        const dims = rank === 0 ? [] : [...new Array<number>(rank - 1).fill(1), n];
        const size = rank === 0 ? 1 : n;
        const x = domain(op, randomArray(size, 1000 + t, -range, range));
        const got = unary(k, op, x, dims, PARAMS[op]);
        expect(got.dims).toEqual(dims);
        // the reference rounded to float32: e^100 is Infinity there too
        expectClose(got.data, Float32Array.from(unaryRef(op, x, PARAMS[op])), `${op} n=${size} range=${range}`);
      }
    }
  });

  it('±0, subnormals, huge values, Inf and NaN behave like Math (NaN in, NaN out)', async () => {
    const k = await kernels(flavor);
    for (const op of OPS) {
      const got = unary(k, op, SPECIALS, [SPECIALS.length], PARAMS[op]).data;
      // the reference rounded to float32, so overflow is Infinity and underflow 0 on both sides
      const want = Float32Array.from(unaryRef(op, SPECIALS, PARAMS[op]));
      expectClose(got, want, `${op} on special values`);
      for (let i = 0; i < SPECIALS.length; i++) {
        // the boolean ops answer NaN with a boolean (Not: false, a cast to bool: true)
        if (Number.isNaN(SPECIALS[i]) && op !== 'not' && op !== 'toBool') expect(got[i], `${op}(NaN)`).toBeNaN();
      }
    }
    const [lg, sq] = [unary(k, 'log', Float32Array.from([-1, 0, -0, -Infinity]), [4]).data, unary(k, 'sqrt', Float32Array.from([-1, -Infinity]), [2]).data];
    expect(Array.from(lg)).toEqual([NaN, -Infinity, -Infinity, NaN]);
    expect(Array.from(sq)).toEqual([NaN, NaN]);
    expect(Array.from(unary(k, 'sigmoid', Float32Array.from([-1000, 1000]), [2]).data)).toEqual([0, 1]);
    expect(Array.from(unary(k, 'tanh', Float32Array.from([-1000, 1000]), [2]).data)).toEqual([-1, 1]);
  });

  it('erf is within 1e-6 of float64 erf everywhere; exp and log within 1e-6 relative', async () => {
    const k = await kernels(flavor);
    const n = 200_001;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = -6 + (12 * i) / (n - 1);
    const e = unary(k, 'erf', x, [n]).data;
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(e[i] - erf64(x[i])));
    expect(worst).toBeLessThan(1e-6);

    const ex = new Float32Array(n);
    for (let i = 0; i < n; i++) ex[i] = -87 + (175 * i) / (n - 1);
    const ey = unary(k, 'exp', ex, [n]).data;
    let worstExp = 0;
    for (let i = 0; i < n; i++) worstExp = Math.max(worstExp, Math.abs(ey[i] / Math.exp(ex[i]) - 1));
    expect(worstExp).toBeLessThan(1e-6);

    const lx = new Float32Array(n); // log-uniform over the whole positive float range, subnormals included
    for (let i = 0; i < n; i++) lx[i] = Math.exp(-100 + (188 * i) / (n - 1));
    const ly = unary(k, 'log', lx, [n]).data;
    let worstLog = 0;
    for (let i = 0; i < n; i++) worstLog = Math.max(worstLog, Math.abs(ly[i] - Math.log(lx[i])) / Math.max(1, Math.abs(Math.log(lx[i]))));
    expect(worstLog).toBeLessThan(1e-6);
  });

  it('runs in place, never writes past n, and gives the same value at any position', async () => {
    const k = await kernels(flavor);
    for (const op of OPS) {
      for (const n of [1, 3, 4, 5, 13]) {
        const x = domain(op, randomArray(n, 50 + n, -3, 3));
        const p = k.allocF32(n + 8);
        k.f32.fill(12345, p >> 2, (p >> 2) + n + 8);
        k.f32.set(x, p >> 2);
        unaryRun(k, op, p, p, [n], PARAMS[op]);
        expectClose(k.download(p, n), unaryRef(op, x, PARAMS[op]), `${op} in place n=${n}`);
        expect(Array.from(k.download(p + n * 4, 8)), `${op} n=${n}: past the end`).toEqual(new Array(8).fill(12345));
        k.free(p);
      }
      // a value computed in the vector body and in the tail must be bit-identical
      const v = domain(op, Float32Array.from([0.3, -1.7, 2.2, 0.9, 0.3, -1.7, 2.2]));
      const y = unary(k, op, v, [7], PARAMS[op]).data;
      expect(Array.from(y.subarray(4)), op).toEqual(Array.from(y.subarray(0, 3)));
    }
  });

  it('agrees with onnxruntime (every ONNX activation and math op edgeprune runs)', async () => {
    const k = await kernels(flavor);
    const dims = [2, 3, 7];
    const x = randomArray(42, 77, -6, 6);
    const pos = x.map((v) => Math.abs(v) + 0.01);
    const cases: { op: string; ours: UnaryOp; params?: UnaryParams; attrs?: Record<string, number | { float: number }>; opset?: number; input?: Float32Array; extra?: { name: string; value: number }[] }[] = [
      { op: 'Relu', ours: 'relu' },
      { op: 'LeakyRelu', ours: 'leakyRelu', params: { alpha: 0.15 }, attrs: { alpha: { float: 0.15 } } },
      { op: 'Clip', ours: 'clip', params: { min: -1.5, max: 2.25 }, extra: [{ name: 'lo', value: -1.5 }, { name: 'hi', value: 2.25 }] },
      { op: 'Sigmoid', ours: 'sigmoid' },
      { op: 'HardSigmoid', ours: 'hardSigmoid', params: { alpha: 0.25, beta: 0.4 }, attrs: { alpha: { float: 0.25 }, beta: { float: 0.4 } } },
      { op: 'HardSwish', ours: 'hardSwish', opset: 14 },
      { op: 'Tanh', ours: 'tanh' },
      { op: 'Erf', ours: 'erf' },
      { op: 'Exp', ours: 'exp' },
      { op: 'Log', ours: 'log', input: pos },
      { op: 'Sqrt', ours: 'sqrt', input: pos },
      { op: 'Neg', ours: 'neg' },
      { op: 'Abs', ours: 'abs' },
      { op: 'Softplus', ours: 'softplus' },
      { op: 'Elu', ours: 'elu', params: { alpha: 0.7 }, attrs: { alpha: { float: 0.7 } } },
      { op: 'Selu', ours: 'selu' },
      { op: 'Selu', ours: 'selu', params: { alpha: 1.2, beta: 0.9 }, attrs: { alpha: { float: 1.2 }, gamma: { float: 0.9 } } },
      { op: 'Celu', ours: 'celu', params: { alpha: 1.3 }, attrs: { alpha: { float: 1.3 } }, opset: 12 },
      { op: 'Softsign', ours: 'softsign' },
      { op: 'Sign', ours: 'sign', input: Float32Array.from(x, (v, i) => (i % 5 === 0 ? 0 : v)) },
      { op: 'Floor', ours: 'floor' },
      { op: 'Ceil', ours: 'ceil' },
      { op: 'Round', ours: 'round', opset: 11, input: Float32Array.from(x, (v, i) => (i % 2 ? v : (i - 21) / 2)) }, // halves go to even
      { op: 'Reciprocal', ours: 'reciprocal' },
      { op: 'Mish', ours: 'mish', opset: 18 },
      { op: 'ThresholdedRelu', ours: 'thresholdedRelu', params: { alpha: 0.4 }, attrs: { alpha: { float: 0.4 } }, opset: 10 },
    ];
    for (const c of cases) {
      const input = c.input ?? x;
      const extra = c.extra ?? [];
      const model = buildModel({
        nodes: [{ op: c.op, inputs: ['x', ...extra.map((e) => e.name)], outputs: ['y'], attrs: c.attrs }],
        inputs: [{ name: 'x', dims }],
        outputs: ['y'],
        initializers: extra.map((e) => ({ name: e.name, dims: [], data: Float32Array.from([e.value]) })),
        opset: c.opset,
      });
      const want = (await runOrt(model, { x: { data: input, dims } })).y;
      const got = unary(k, c.ours, input, dims, c.params);
      expect(got.dims).toEqual(want.dims);
      expectClose(got.data, want.data, `${c.op} vs onnxruntime`);
    }
  });

  it('Gelu (exact and tanh form) matches its formula, and the two forms differ', async () => {
    const k = await kernels(flavor);
    const x = randomArray(1000, 9, -8, 8);
    const exact = unary(k, 'gelu', x, [1000]).data;
    const approx = unary(k, 'geluTanh', x, [1000]).data;
    expectClose(exact, x.map((v) => 0.5 * v * (1 + erf64(v / Math.SQRT2))), 'gelu');
    expectClose(approx, x.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))), 'geluTanh');
    // the forms differ by up to ~5e-4, above the tolerance: a swapped op code would be caught
    expect(() => expectClose(approx, unaryRef('gelu', x), 'swapped')).toThrow();
  });

  it('rejects unknown ops, bad attributes and wrong sizes with typed errors', async () => {
    const k = await kernels(flavor);
    const x = new Float32Array(6);
    expect(() => unary(k, 'swish' as UnaryOp, x, [6])).toThrow(ArgumentError);
    expect(() => unary(k, 'swish' as UnaryOp, x, [6])).toThrow(/unknown unary op "swish"; use one of relu/);
    expect(() => unary(k, 'toString' as UnaryOp, x, [6])).toThrow(ArgumentError);
    expect(() => unary(k, 'clip', x, [6], { min: 2, max: 1 })).toThrow(/min <= max/);
    expect(() => unary(k, 'clip', x, [6], { min: NaN })).toThrow(ArgumentError);
    expect(() => unary(k, 'leakyRelu', x, [6], { alpha: NaN })).toThrow(/alpha must be a finite number/);
    expect(() => unary(k, 'relu', x, [2, 4])).toThrow(ShapeError);
    expect(() => unary(k, 'relu', x, [2, 4])).toThrow(/need 8 elements but the data has 6/);
    expect(() => unary(k, 'relu', x, [2, -3])).toThrow(ShapeError);
    const p = k.allocF32(6);
    const q = k.allocF32(6);
    expect(() => unaryRun(k, 'exp', p, q, [100])).toThrow(/exp input \[100\]: buffer holds 16 floats but 100 are needed/);
    expect(() => unaryRun(k, 'exp', p, 99999, [6])).toThrow(/not a live kernel buffer/);
    k.free(p, q);
  });
});
