// Training data: the seeded RNG, datasets from arrays and .npy with their typed errors, and the
// documented MNIST split.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/train/rng.js';
import { batches, dataset, datasetFromNpy, shuffled } from '../src/train/data.js';
import { loadMnist } from '../src/train/mnist.js';
import { DataError } from '../src/errors.js';
import { writeNpy } from '../src/io/npy.js';

describe('Rng', () => {
  it('is deterministic per (seed, stream) and differs across them', () => {
    const a = Array.from({ length: 5 }, ((r) => () => r.u32())(new Rng(42)));
    const b = Array.from({ length: 5 }, ((r) => () => r.u32())(new Rng(42)));
    const c = Array.from({ length: 5 }, ((r) => () => r.u32())(new Rng(42, 1)));
    const d = Array.from({ length: 5 }, ((r) => () => r.u32())(new Rng(43)));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a).not.toEqual(d);
  });

  it('draws uniform floats, unbiased ints and standard normals (moments within sampling error)', () => {
    const r = new Rng(7);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    const counts = new Array(6).fill(0);
    let ns = 0;
    let ns2 = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      expect(u >= 0 && u < 1).toBe(true);
      s += u;
      s2 += u * u;
      counts[r.int(6)]++;
      const z = r.normal();
      ns += z;
      ns2 += z * z;
    }
    expect(Math.abs(s / n - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(s2 / n - 1 / 3)).toBeLessThan(0.005);
    for (const c of counts) expect(Math.abs(c / n - 1 / 6)).toBeLessThan(0.005);
    expect(Math.abs(ns / n)).toBeLessThan(0.01);
    expect(Math.abs(ns2 / n - 1)).toBeLessThan(0.02);
  });

  it('shuffles into a permutation', () => {
    const a = Int32Array.from({ length: 1000 }, (_, i) => i);
    new Rng(1).shuffle(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect([...a.slice(0, 10)]).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('datasets', () => {
  const x = Float32Array.from({ length: 12 }, (_, i) => i / 10);

  it('checks lengths, labels and values, naming what is wrong and where', () => {
    expect(dataset(x, [2, 2], [0, 2, 1]).classes).toBe(3);
    expect(() => dataset(x, [2, 2], [0, 1])).toThrow(/X has 3 samples but y has 2 labels/);
    expect(() => dataset(x, [5], [0, 1])).toThrow(/not a whole number of samples/);
    expect(() => dataset(x, [2, 2], [0, 10, 1], 10)).toThrow(/label 10 at index 1 is outside 0\.\.9/);
    expect(() => dataset(x, [2, 2], [0, -1, 1])).toThrow(/label -1 at index 1 is not a class index/);
    expect(() => dataset(x, [2, 2], [0, 0.5, 1])).toThrow(DataError);
    const bad = x.slice();
    bad[7] = NaN;
    expect(() => dataset(bad, [2, 2], [0, 0, 1])).toThrow(/X holds NaN at sample 1, element 3/);
  });

  it('reads X and y from .npy (float64 X converted, int64 y), and refuses float labels', () => {
    const X = writeNpy('float64', [3, 2, 2], Float64Array.from(x));
    const y = writeNpy('int64', [3], BigInt64Array.from([2n, 0n, 1n]));
    const d = datasetFromNpy(X, y);
    expect(d.sampleDims).toEqual([2, 2]);
    expect([...d.y]).toEqual([2, 0, 1]);
    expect(d.x).toBeInstanceOf(Float32Array);
    expect(() => datasetFromNpy(X, writeNpy('float32', [3], new Float32Array([0, 1, 2])))).toThrow(/y is float32; it must hold integer class indices/);
    expect(() => datasetFromNpy(X, writeNpy('int64', [2], BigInt64Array.from([0n, 1n])))).toThrow(/3 samples but y has 2 labels/);
  });

  it('shuffles with a seed and batches with a short last batch', () => {
    const d = dataset(Float32Array.from({ length: 10 }, (_, i) => i), [1], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const s = shuffled(d, 3);
    expect([...s.x]).toEqual([...s.y]); // rows stay with their labels
    expect([...shuffled(d, 3).y]).toEqual([...s.y]);
    expect([...batches(d, 4)]).toEqual([{ start: 0, end: 4 }, { start: 4, end: 8 }, { start: 8, end: 10 }]);
    expect([...batches(d, 4, true)]).toHaveLength(2);
  });
});

describe('MNIST split', () => {
  it('puts sample i of each digit in the test set when i % 5 == 4, shuffled with a fixed seed', () => {
    const m = createRequire(import.meta.url)('mnist') as Record<number, { length: number; get(i: number): number[] }>;
    const { train, test } = loadMnist(0);
    let nTest = 0;
    for (let d = 0; d < 10; d++) nTest += Math.floor(m[d].length / 5); // indices 4, 9, 14, ... below length
    expect(train.n + test.n).toBe(10_000);
    expect(test.n).toBe(nTest);
    expect(test.n).toBeGreaterThan(1900);
    expect(test.n).toBeLessThan(2100);
    expect(train.sampleDims).toEqual([1, 28, 28]);
    // digit 3's sample 4 is in the test set with label 3, and not in the training set
    const probe = Float32Array.from(m[3].get(4));
    const find = (ds: typeof test) => {
      for (let i = 0; i < ds.n; i++) if (ds.x.subarray(i * 784, (i + 1) * 784).every((v, j) => v === probe[j])) return i;
      return -1;
    };
    const at = find(test);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(test.y[at]).toBe(3);
    expect(find(train)).toBe(-1);
    // the same seed, the same order; another seed, another
    expect([...loadMnist(0).test.y.slice(0, 50)]).toEqual([...test.y.slice(0, 50)]);
    expect([...loadMnist(1).test.y.slice(0, 50)]).not.toEqual([...test.y.slice(0, 50)]);
  });
});
