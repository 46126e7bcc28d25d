import { describe, expect, it } from 'vitest';
import { argRun, normalizeAxes, reduce, reducePlan, reduceRun, type ReduceOp } from '../src/kernels/reduce.js';
import { ArgumentError } from '../src/errors.js';
import { reduceRef } from './ref/reduce.js';
import { expectClose } from './util/close.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { buildModel, runOrt } from './util/onnx.js';
import { randomArray, randomInt, rng } from './util/rng.js';

const size = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);
const OPS: ReduceOp[] = ['sum', 'mean', 'max', 'min', 'sumSquare', 'l2', 'l1'];

describe('reduce plan', () => {
  it('merges adjacent axes, drops size-1 axes and sizes the scratch', () => {
    const p = reducePlan([2, 3, 4, 5, 6], { axes: [1, 2, 4] });
    expect(p.outDims).toEqual([2, 1, 1, 5, 1]);
    expect(p.passes).toEqual([{ outer: 2, R: 12, inner: 30 }, { outer: 10, R: 6, inner: 1 }]);
    expect(p.scratchFloats).toBe(60);
    expect(p.count).toBe(72);
    expect(reducePlan([2, 1, 3], { axes: [1], keepdims: false })).toMatchObject({ outDims: [2, 3], identity: true });
    expect(reducePlan([4, 5], { axes: [] })).toMatchObject({ outDims: [1, 1], passes: [{ outer: 1, R: 20, inner: 1 }] });
    expect(reducePlan([4, 5], { axes: [], noopWithEmptyAxes: true })).toMatchObject({ outDims: [4, 5], identity: true });
    expect(normalizeAxes([-1, 0], 3)).toEqual([0, 2]);
  });
});

describe.each(FLAVORS)('reductions (%s build)', (flavor) => {
  it('every reduction over random axes matches a float64 reference, keepdims both ways', async () => {
    const k = await kernels(flavor);
    const r = rng(31);
    for (let t = 0; t < 140; t++) {
      const rank = randomInt(r, 1, 5);
      const dims = Array.from({ length: rank }, () => randomInt(r, 1, rank > 3 ? 7 : 19));
      const axes: number[] = [];
      for (let i = 0; i < rank; i++) if (r() < 0.45) axes.push(r() < 0.5 ? i - rank : i);
      const keepdims = t % 2 === 0;
      const op = OPS[t % OPS.length];
      const X = randomArray(size(dims), 1000 + t, -2, 2);
      const got = reduce(k, op, X, dims, { axes, keepdims });
      const want = reduceRef(X, dims, axes, keepdims, op);
      expect(got.dims, `${op} ${dims} axes=${axes}`).toEqual(want.dims);
      expectClose(got.data, want.data, `${op} ${dims} axes=${axes} keepdims=${keepdims}`);
    }
  });

  it('covers first, middle, last and multiple axes with inner sizes 1..9 and long rows', async () => {
    const k = await kernels(flavor);
    const cases: [number[], number[]][] = [
      [[5, 7], [0]], [[5, 7], [1]], [[3, 1001], [1]], [[3, 9, 2], [1]], [[3, 9, 3], [1]], [[4, 6, 5], [1]],
      [[2, 13, 9], [1]], [[2, 5, 8], [1]], [[2, 3, 4, 5], [0, 2]], [[2, 3, 4, 5], [1, 3]], [[2, 3, 4, 5], [0, 1, 2, 3]],
      [[6, 1, 7], [1]], [[3, 0, 4], [1]], [[3, 4], []], [[513, 3], [0]],
    ];
    for (const [dims, axes] of cases) {
      const X = randomArray(size(dims), size(dims) + axes.length, -3, 3);
      for (const op of OPS) {
        for (const keepdims of [true, false]) {
          const got = reduce(k, op, X, dims, { axes, keepdims });
          const want = reduceRef(X, dims, axes, keepdims, op);
          expect(got.dims).toEqual(want.dims);
          expectClose(got.data, want.data, `${op} ${dims} axes=${axes} keepdims=${keepdims}`);
        }
      }
    }
  });

  it('noop_with_empty_axes returns the input; Max and Min propagate NaN; only size-1 axes still square', async () => {
    const k = await kernels(flavor);
    const X = randomArray(12, 5);
    for (const op of OPS) {
      const got = reduce(k, op, X, [3, 4], { axes: [], noopWithEmptyAxes: true });
      expect(got.dims).toEqual([3, 4]);
      expect(Array.from(got.data), op).toEqual(Array.from(X));
    }
    expect(Array.from(reduce(k, 'sumSquare', X, [3, 1, 4], { axes: [1], keepdims: false }).data)).toEqual(Array.from(X, (v) => Math.fround(v * v)));
    expect(Array.from(reduce(k, 'l1', X, [3, 4, 1], { axes: [2] }).data)).toEqual(Array.from(X, Math.abs));
    expect(Number.isNaN(reduce(k, 'min', Float32Array.of(3, NaN, 1, 2, 5), [5], { axes: [0] }).data[0])).toBe(true);
    const Y = new Float32Array([1, NaN, 3, 4, 5, 6, 7, 8]);
    const m = reduce(k, 'max', Y, [2, 4], { axes: [1] }).data;
    expect(Number.isNaN(m[0])).toBe(true);
    expect(m[1]).toBe(8);
  });

  it('ReduceSum / Mean / Max / Min / SumSquare / L2 / L1 (opset 13) agree with onnxruntime', async () => {
    const k = await kernels(flavor);
    const cases: [number[], number[], number][] = [
      [[2, 3, 5, 7], [2, 3], 1], [[2, 3, 5, 7], [1], 0], [[4, 6, 9], [-1], 1], [[4, 6, 9], [0, 2], 0], [[3, 10], [0], 1], [[2, 3, 4], [], 1],
    ];
    for (const [i, [dims, axes, keepdims]] of cases.entries()) {
      const X = randomArray(size(dims), 70 + i, -5, 5);
      const names = [['sum', 'ReduceSum'], ['mean', 'ReduceMean'], ['max', 'ReduceMax'], ['min', 'ReduceMin'], ['sumSquare', 'ReduceSumSquare'], ['l2', 'ReduceL2'], ['l1', 'ReduceL1']] as const;
      for (const [op, name] of names) {
        // opset 13: ReduceSum takes axes as an int64 input; the others take an attribute
        const asInput = name === 'ReduceSum' && axes.length > 0;
        const model = buildModel({
          nodes: [{ op: name, inputs: asInput ? ['x', 'axes'] : ['x'], outputs: ['y'], attrs: { keepdims, ...(!asInput && axes.length ? { axes } : {}) } }],
          inputs: [{ name: 'x', dims }],
          outputs: ['y'],
          initializers: asInput ? [{ name: 'axes', dims: [axes.length], data: BigInt64Array.from(axes.map(BigInt)) }] : [],
          opset: 13,
        });
        const want = (await runOrt(model, { x: { data: X, dims } })).y;
        const got = reduce(k, op, X, dims, { axes, keepdims: !!keepdims });
        expect(got.dims, `${name} ${dims} axes=${axes}`).toEqual(want.dims);
        expectClose(got.data, want.data, `${name} ${dims} axes=${axes} keepdims=${keepdims}`);
      }
    }
  });

  it('ArgMax / ArgMin match a plain loop on every axis, ties first or last, keepdims both ways', async () => {
    const k = await kernels(flavor);
    const r = rng(41);
    for (let t = 0; t < 40; t++) {
      const rank = randomInt(r, 1, 4);
      const dims = Array.from({ length: rank }, () => randomInt(r, 1, 9));
      const axis = randomInt(r, -rank, rank - 1);
      const a = axis < 0 ? axis + rank : axis;
      const min = t % 2 === 1;
      const last = t % 4 >= 2;
      const keepdims = t % 3 !== 0;
      // few distinct values: ties on most rows
      const X = Float32Array.from(randomArray(size(dims), 500 + t, 0, 4), Math.floor);
      const outer = size(dims.slice(0, a)), R = dims[a], inner = size(dims.slice(a + 1));
      const want = new Float64Array(outer * inner);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          let best = 0;
          for (let j = 1; j < R; j++) {
            const v = X[(o * R + j) * inner + i], b = X[(o * R + best) * inner + i];
            if (min ? (last ? v <= b : v < b) : last ? v >= b : v > b) best = j;
          }
          want[o * inner + i] = best;
        }
      }
      const x = k.upload(X);
      const y = k.allocF32(want.length);
      const outDims = argRun(k, min, x, dims, y, { axis, keepdims, selectLastIndex: last });
      expect(outDims).toEqual(keepdims ? dims.map((d, i) => (i === a ? 1 : d)) : dims.filter((_, i) => i !== a));
      expect(Array.from(k.download(y, want.length)), `${min ? 'min' : 'max'} ${dims} axis=${axis} last=${last}`).toEqual(Array.from(want));
      k.free(x, y);
    }
    expect(() => argRun(k, false, 0, [2, 0, 3], 0, { axis: 1 })).toThrow(/axis 1 of \[2, 0, 3\] is empty/);
    expect(() => argRun(k, false, 0, [2, 3], 0, { axis: 2 })).toThrow(ArgumentError);
  });

  it('rejects bad axes and buffers', async () => {
    const k = await kernels(flavor);
    const before = k.heap.liveBytes;
    const X = new Float32Array(24);
    expect(() => reduce(k, 'sum', X, [2, 3, 4], { axes: [3] })).toThrow(ArgumentError);
    expect(() => reduce(k, 'sum', X, [2, 3, 4], { axes: [-4] })).toThrow(/out of range for rank 3/);
    expect(() => reduce(k, 'sum', X, [2, 3, 4], { axes: [1, -2] })).toThrow(/appears twice/);
    expect(() => reduce(k, 'sum', X, [2, 3, 4], { axes: [0.5] })).toThrow(ArgumentError);
    expect(() => reduce(k, 'prod' as ReduceOp, X, [2, 3, 4], { axes: [0] })).toThrow(/unknown operation/);
    expect(() => reduce(k, 'sum', X, [5, 5], { axes: [0] })).toThrow(/25 elements/);
    expect(k.heap.liveBytes).toBe(before);
    const x = k.allocF32(24 * 4);
    const y = k.allocF32(1);
    expect(() => reduceRun(k, 'sum', x, [4, 6, 4], y, 0, { axes: [0] })).toThrow(/ReduceSum output: buffer holds 16 floats but 24/);
    expect(() => reduceRun(k, 'max', x, [4, 6, 4], x, y, { axes: [0, 1] })).not.toThrow(); // one pass: no scratch needed
    const s = k.allocF32(1);
    expect(() => reduceRun(k, 'mean', x, [96, 1, 1], y, s, { axes: [] })).not.toThrow();
    // two passes: the 6 x 4 intermediate needs 24 floats of scratch, a 1-float request holds 16
    expect(() => reduceRun(k, 'sum', x, [4, 6, 4], y, s, { axes: [0, 2] })).toThrow(/ReduceSum scratch/);
    k.free(x, y, s);
  });
});
