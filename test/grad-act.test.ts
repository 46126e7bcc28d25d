import { describe, expect, it } from 'vitest';
import { ArgumentError, ShapeError } from '../src/errors.js';
import { activationBackward } from '../src/train/grad/activation.js';
import { dropoutBackward, dropoutForward } from '../src/train/grad/dropout.js';
import { addBackward, addBackwardScratchFloats, sumToShape } from '../src/train/grad/eltwise.js';
import type { Kernels } from '../src/wasm/kernels.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { randomArray } from './util/rng.js';
import { dot, expectGradClose, f64, nanBuffer, numericGrad, prod } from './grad-util.js';

type Act = { kind: 'relu' } | { kind: 'clip'; min: number; max: number } | { kind: 'leakyRelu'; alpha: number };

function act64(a: Act, v: number): number {
  if (a.kind === 'relu') return Math.max(v, 0);
  if (a.kind === 'clip') return Math.min(Math.max(v, a.min), a.max);
  return v >= 0 ? v : a.alpha * v;
}

/** Inputs at least 0.01 away from the kinks (0, and the clip bounds), so a ±1e-3 probe stays on one side. */
function awayFromKinks(n: number, seed: number, kinks: number[]): Float32Array {
  const x = randomArray(n, seed, -2, 8);
  for (let i = 0; i < n; i++) for (const c of kinks) if (Math.abs(x[i] - c) < 0.01) x[i] = c + 0.02;
  return x;
}

function runAct(k: Kernels, a: Act, t: Float32Array, dy: Float32Array, saved: 'output' | 'input', inPlace: boolean): Float32Array {
  const tp = k.upload(t), dyp = k.upload(dy);
  const dx = inPlace ? dyp : nanBuffer(k, t.length);
  try {
    activationBackward(k, a, tp, dyp, dx, t.length, saved);
    return k.download(dx, t.length);
  } finally {
    k.free(tp, dyp);
    if (!inPlace) k.free(dx);
  }
}

describe.each(FLAVORS)('activation, dropout and add backward (%s build)', (flavor) => {
  const ACTS: Act[] = [{ kind: 'relu' }, { kind: 'clip', min: 0, max: 6 }, { kind: 'clip', min: -0.5, max: 1.5 }, { kind: 'leakyRelu', alpha: 0.1 }];
  it.each(ACTS.map((a, i) => [i, a] as const))('activation %i matches central differences, from the output and from the input', async (i, a) => {
    const k = await kernels(flavor);
    const n = 37; // a scalar tail after 9 vectors
    const kinks = a.kind === 'clip' ? [a.min, a.max] : [0];
    const x = awayFromKinks(n, 10 + i, kinks);
    const R = randomArray(n, 20 + i);
    const X = f64(x);
    const num = numericGrad(X, () => dot(Array.from(X, (v) => act64(a, v)), R));
    const y = Float32Array.from(x, (v) => act64(a, v));
    expectGradClose(runAct(k, a, y, R, 'output', false), num, `${a.kind} from y`, 1e-6);
    expectGradClose(runAct(k, a, x, R, 'input', true), num, `${a.kind} from x, in place`, 1e-6);
  });

  it('gradients at the kinks follow PyTorch (relu 0 at 0, clip 0 at its bounds, leaky alpha at 0)', async () => {
    const k = await kernels(flavor);
    const dy = new Float32Array([1, 1, 1, 1, 1]);
    expect(Array.from(runAct(k, { kind: 'relu' }, new Float32Array([0, -0, 1, -1, 0]), dy, 'input', false))).toEqual([0, 0, 1, 0, 0]);
    expect(Array.from(runAct(k, { kind: 'clip', min: 0, max: 6 }, new Float32Array([0, 6, 3, 7, -1]), dy, 'output', false))).toEqual([0, 0, 1, 0, 0]);
    expect(Array.from(runAct(k, { kind: 'leakyRelu', alpha: 0.25 }, new Float32Array([0, 2, -2, 0, 1]), dy, 'input', false))).toEqual([0.25, 1, 0.25, 0.25, 1]);
  });

  it('activation errors are typed', async () => {
    const k = await kernels(flavor);
    const b = k.allocF32(8);
    expect(() => activationBackward(k, { kind: 'leakyRelu', alpha: -0.5 }, b, b, b, 8)).toThrow(ArgumentError);
    expect(() => activationBackward(k, { kind: 'none' }, b, b, b, 8)).toThrow(ArgumentError);
    expect(() => activationBackward(k, { kind: 'relu' }, b, b, b, 100)).toThrow(ShapeError);
    expect(() => activationBackward(k, { kind: 'relu' }, b, b, b, -1)).toThrow(ShapeError);
    expect(() => activationBackward(k, { kind: 'clip', min: 2, max: 1 }, b, b, b, 8)).toThrow(ArgumentError);
    activationBackward(k, { kind: 'leakyRelu', alpha: -0.5 }, b, b, b, 8, 'input');
    k.free(b);
  });

  it('dropout: deterministic per (seed, step), keeps about 1 - p, scales by 1 / (1 - p); backward by central differences', async () => {
    const k = await kernels(flavor);
    const n = 10_003;
    const p = 0.3;
    const x = randomArray(n, 1);
    const xp = k.upload(x);
    const y = k.allocF32(n), mask = k.heap.alloc(n), y2 = k.allocF32(n), mask2 = k.heap.alloc(n);
    const kept = dropoutForward(k, xp, n, p, 42, 7, mask, y);
    const m = new Uint8Array(k.f32.buffer, mask, n).slice();
    const out = k.download(y, n);
    expect(m.reduce((s, v) => s + v, 0)).toBe(kept);
    expect(Math.abs(kept / n - (1 - p))).toBeLessThan(0.02);
    for (let i = 0; i < n; i++) {
      expect(m[i] === 0 || m[i] === 1).toBe(true);
      expect(out[i]).toBe(m[i] ? Math.fround(x[i] * Math.fround(1 / (1 - p))) : 0);
    }
    // same seed and step: the same mask; another step or seed: another mask
    dropoutForward(k, xp, n, p, 42, 7, mask2, y2);
    expect(Array.from(new Uint8Array(k.f32.buffer, mask2, n))).toEqual(Array.from(m));
    dropoutForward(k, xp, n, p, 42, 8, mask2, y2);
    const other = new Uint8Array(k.f32.buffer, mask2, n);
    let same = 0;
    for (let i = 0; i < n; i++) same += other[i] === m[i] ? 1 : 0;
    expect(same / n).toBeLessThan(0.7); // independent masks agree on p^2 + (1-p)^2 = 58%
    // the other build gives the same mask (integer hashing only)
    const k2 = await kernels(flavor === 'simd' ? 'relaxed' : 'simd');
    const xq = k2.upload(x), yq = k2.allocF32(n), mq = k2.heap.alloc(n);
    dropoutForward(k2, xq, n, p, 42, 7, mq, yq);
    expect(Array.from(new Uint8Array(k2.f32.buffer, mq, n))).toEqual(Array.from(m));
    k2.free(xq, yq, mq);
    // backward: with the mask fixed, dropout is linear in x
    const small = 23;
    const R = randomArray(small, 3);
    const dyp = k.upload(R);
    const dx = nanBuffer(k, small);
    dropoutBackward(k, dyp, mask, small, p, dx);
    const X = f64(x.subarray(0, small));
    const scale = 1 / (1 - p);
    const num = numericGrad(X, () => dot(Array.from(X, (v, i) => (m[i] ? v * scale : 0)), R));
    expectGradClose(k.download(dx, small), num, 'dropout dx', 1e-6);
    // p = 0 keeps everything unscaled, p = 1 drops everything
    expect(dropoutForward(k, xp, n, 0, 1, 1, mask2, y2)).toBe(n);
    expect(Array.from(k.download(y2, 50))).toEqual(Array.from(x.subarray(0, 50)));
    expect(dropoutForward(k, xp, n, 1, 1, 1, mask2, y2)).toBe(0);
    expect(k.download(y2, n).every((v) => v === 0)).toBe(true);
    dropoutBackward(k, dyp, mask2, small, 1, dx);
    expect(k.download(dx, small).every((v) => v === 0)).toBe(true);
    expect(() => dropoutForward(k, xp, n, 1.5, 1, 1, mask2, y2)).toThrow(ArgumentError);
    expect(() => dropoutForward(k, xp, n, 0.5, -1, 1, mask2, y2)).toThrow(ShapeError);
    expect(() => dropoutForward(k, xp, n + 100, 0.5, 1, 1, mask2, y2)).toThrow(ShapeError);
    expect(() => dropoutBackward(k, dyp, mask2 + k.heap.sizeOf(mask2)! - 4, 10, 0.5, dx)).toThrow(/mask/);
    k.free(xp, y, mask, y2, mask2, dyp, dx);
  });

  const ADD_CASES: [number[], number[]][] = [
    [[2, 3, 4, 5], [2, 3, 4, 5]],
    [[2, 3, 4, 5], [3, 1, 5]],
    [[2, 3, 4, 5], [5]],
    [[1, 3, 1, 5], [2, 1, 4, 1]],
    [[2, 3, 4], []],
    [[4, 1], [1, 6]],
  ];
  it.each(ADD_CASES.map((c, i) => [i, c] as const))('Add / Sub broadcast case %i matches central differences', async (i, [aDims, bDims]) => {
    const k = await kernels(flavor);
    const rank = Math.max(aDims.length, bDims.length);
    const out: number[] = [];
    for (let j = 0; j < rank; j++) out.push(Math.max(aDims[aDims.length - rank + j] ?? 1, bDims[bDims.length - rank + j] ?? 1));
    const R = randomArray(prod(out), 60 + i);
    const A = f64(randomArray(prod(aDims), 61 + i)), B = f64(randomArray(prod(bDims), 62 + i));
    // float64 broadcast forward
    const idx = (dims: number[], flat: number) => {
      let off = 0, stride = 1, rem = flat;
      const coords = out.map(() => 0);
      for (let j = rank - 1; j >= 0; j--) { coords[j] = rem % out[j]; rem = Math.floor(rem / out[j]); }
      for (let j = dims.length - 1; j >= 0; j--) { const c = dims[j] === 1 ? 0 : coords[j + rank - dims.length]; off += c * stride; stride *= dims[j]; }
      return off;
    };
    const fwd = (sign: number) => Array.from({ length: prod(out) }, (_, f) => A[idx(aDims, f)] + sign * B[idx(bDims, f)]);
    for (const subtract of [false, true]) {
      const sign = subtract ? -1 : 1;
      const dy = k.upload(R);
      const da = nanBuffer(k, prod(aDims)), db = nanBuffer(k, prod(bDims));
      const s = nanBuffer(k, addBackwardScratchFloats(out, aDims, bDims));
      addBackward(k, dy, out, { dims: aDims, grad: da }, { dims: bDims, grad: db }, s, subtract);
      expectGradClose(k.download(da, prod(aDims)), numericGrad(A, () => dot(fwd(sign), R)), `da ${aDims} ${bDims}`, 1e-5);
      expectGradClose(k.download(db, prod(bDims)), numericGrad(B, () => dot(fwd(sign), R)), `db ${aDims} ${bDims} ${subtract ? 'sub' : 'add'}`, 1e-5);
      k.free(dy, da, db, s);
    }
  });

  it('add backward errors are typed; a same-shape gradient can be dy itself', async () => {
    const k = await kernels(flavor);
    const dy = k.upload(randomArray(24, 1));
    const before = k.download(dy, 24);
    sumToShape(k, dy, [2, 3, 4], [2, 3, 4], dy, 0);
    expect(Array.from(k.download(dy, 24))).toEqual(Array.from(before));
    expect(() => addBackward(k, dy, [2, 3, 4], { dims: [2, 3, 4] }, { dims: [3, 5] }, 0)).toThrow(ShapeError);
    expect(() => addBackward(k, dy, [2, 3, 5], { dims: [2, 3, 4] }, { dims: [4] }, 0)).toThrow(ShapeError);
    expect(() => sumToShape(k, dy, [2, 3, 4], [2, 3, 4, 1], dy, 0)).toThrow(ShapeError);
    k.free(dy);
  });
});
