import { describe, expect, it } from 'vitest';
import { ArgumentError, ShapeError } from '../src/errors.js';
import { transpose, transposeDims, transposePlan, transposeRun } from '../src/kernels/transpose.js';
import { permutations, transposeRef } from './ref/transpose.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { buildModel, runOrt } from './util/onnx.js';
import { randomArray, randomInt, rng } from './util/rng.js';

/** Bit-exact comparison: Transpose only moves values. */
function expectBits(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < w.length; i++) {
    if (g[i] !== w[i]) expect.fail(`${what}: element ${i} is ${got[i]} (0x${g[i].toString(16)}), want ${want[i]} (0x${w[i].toString(16)})`);
  }
}

const size = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);

function randomDims(r: () => number, rank: number, maxTotal: number): number[] {
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(randomInt(r, 1, Math.max(1, Math.round(Math.pow(maxTotal, 1 / rank) * 1.6))));
  return dims;
}

function shuffle(r: () => number, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(r, 0, i);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

describe.each(FLAVORS)('Transpose (%s build)', (flavor) => {
  it('every perm of rank 3 and 4 is bit-exact on random shapes (sizes 1, odd, past the 32 tile)', async () => {
    const k = await kernels(flavor);
    const r = rng(7);
    const shapes3 = [[3, 5, 7], [1, 9, 33], [37, 2, 35], [4, 8, 12], [6, 1, 1]];
    const shapes4 = [[2, 3, 5, 7], [1, 6, 9, 5], [2, 33, 3, 17], [4, 4, 8, 8], [3, 1, 70, 1]];
    for (const [rank, shapes] of [[3, shapes3], [4, shapes4]] as const) {
      for (const perm of permutations(rank)) {
        for (const d of [...shapes, randomDims(r, rank, 2000)]) {
          const x = randomArray(size(d), size(d) + perm[0]);
          const got = transpose(k, x, d, perm);
          const want = transposeRef(x, d, perm);
          expect(got.dims).toEqual(want.dims);
          expectBits(got.data, want.data, `dims ${d} perm ${perm}`);
        }
      }
    }
  });

  it('random perms of rank 0..8 (rank > 6 after merging is looped on the host)', async () => {
    const k = await kernels(flavor);
    const r = rng(11);
    for (let rank = 0; rank <= 8; rank++) {
      for (let t = 0; t < 12; t++) {
        const d = rank > 6 ? Array.from({ length: rank }, () => randomInt(r, 2, 3)) : randomDims(r, rank, 3000);
        const perm = shuffle(r, rank);
        const x = randomArray(size(d), 50 + t);
        const got = transpose(k, x, d, perm);
        const want = transposeRef(x, d, perm);
        expect(got.dims).toEqual(want.dims);
        expectBits(got.data, want.data, `dims ${d} perm ${perm}`);
      }
    }
  });

  it('NCHW <-> NHWC and large 2-D cases through the blocked path, default perm reverses axes', async () => {
    const k = await kernels(flavor);
    const cases: [number[], number[] | undefined][] = [
      [[2, 3, 31, 29], [0, 2, 3, 1]],
      [[2, 31, 29, 3], [0, 3, 1, 2]],
      [[1, 16, 20, 20], [0, 2, 3, 1]],
      [[1, 20, 20, 16], [0, 3, 1, 2]],
      [[131, 67], [1, 0]],
      [[64, 96], undefined],
      [[3, 4, 5, 6], undefined],
      [[5, 0, 3], [2, 0, 1]],
    ];
    for (const [d, perm] of cases) {
      const x = randomArray(size(d), d[0] * 7 + d.length);
      const got = transpose(k, x, d, perm);
      const want = transposeRef(x, d, perm);
      expect(got.dims).toEqual(want.dims);
      expectBits(got.data, want.data, `dims ${d} perm ${perm}`);
    }
  });

  it('keeps NaN payloads, infinities and -0 exactly', async () => {
    const k = await kernels(flavor);
    const d = [7, 9, 5];
    const x = randomArray(size(d), 3);
    const bits = new Uint32Array(x.buffer);
    bits[0] = 0x7fc01234; // quiet NaN with a payload
    bits[10] = 0x80000000; // -0
    x[20] = Infinity;
    x[41] = -Infinity;
    bits[100] = 0xffa00001; // another NaN payload
    for (const perm of permutations(3)) expectBits(transpose(k, x, d, perm).data, transposeRef(x, d, perm).data, `perm ${perm}`);
  });

  it('merges axes that stay adjacent and drops size-1 axes', () => {
    // [N, C, H, W] -> [N, H, W, C]: H and W merge, N with size 1 disappears
    expect(transposePlan([1, 3, 4, 5], [0, 2, 3, 1])).toEqual([
      { dim: 20, inStride: 1, outStride: 3 },
      { dim: 3, inStride: 20, outStride: 1 },
    ]);
    // identity collapses to one contiguous axis
    expect(transposePlan([2, 3, 4], [0, 1, 2])).toEqual([{ dim: 24, inStride: 1, outStride: 1 }]);
    // adjacency skips size-1 axes: axes 0 and 2 of [2, 1, 3] are neighbours
    expect(transposePlan([2, 1, 3], [1, 0, 2])).toEqual([{ dim: 6, inStride: 1, outStride: 1 }]);
  });

  it('agrees with onnxruntime', async () => {
    const k = await kernels(flavor);
    const cases: [number[], number[] | undefined][] = [
      [[2, 3, 5, 7], [0, 2, 3, 1]],
      [[2, 3, 5, 7], [3, 1, 0, 2]],
      [[4, 9, 6], undefined],
      [[2, 3, 2, 3, 2], [4, 2, 0, 3, 1]],
    ];
    for (const [d, perm] of cases) {
      const x = randomArray(size(d), 9);
      const model = buildModel({
        nodes: [{ op: 'Transpose', inputs: ['x'], outputs: ['y'], attrs: perm ? { perm } : {} }],
        inputs: [{ name: 'x', dims: d }],
        outputs: ['y'],
      });
      const want = (await runOrt(model, { x: { data: x, dims: d } })).y;
      const got = transpose(k, x, d, perm);
      expect(got.dims).toEqual(want.dims);
      expectBits(got.data, want.data, `dims ${d} perm ${perm}`);
    }
  });

  it('rejects bad perms and buffers with messages that say what to do', async () => {
    const k = await kernels(flavor);
    const before = k.heap.liveBytes;
    const x = new Float32Array(24);
    expect(() => transpose(k, x, [2, 3, 4], [0, 1, 1])).toThrow(ArgumentError);
    expect(() => transpose(k, x, [2, 3, 4], [0, 1, 3])).toThrow(/not a permutation of 0\.\.2/);
    expect(() => transpose(k, x, [2, 3, 4], [0, 1])).toThrow(ArgumentError);
    expect(() => transpose(k, x, [2, 3, 4], [0, 1, 2.5])).toThrow(ArgumentError);
    expect(() => transpose(k, x, [2, 3, 5], [0, 2, 1])).toThrow(ShapeError);
    expect(() => transposeDims([2, -1], [1, 0])).toThrow(ShapeError);
    const px = k.allocF32(24);
    const py = k.allocF32(6);
    expect(() => transposeRun(k, px, [2, 3, 4], py, [2, 1, 0])).toThrow(/Transpose output/);
    expect(() => transposeRun(k, 12345, [2, 3, 4], px, [2, 1, 0])).toThrow(/not a live kernel buffer/);
    k.free(px, py);
    expect(k.heap.liveBytes).toBe(before);
  });
});
