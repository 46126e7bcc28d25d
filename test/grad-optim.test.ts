import { describe, expect, it } from 'vitest';
import { ArgumentError, ShapeError } from '../src/errors.js';
import { PackedLinear } from '../src/kernels/gemm.js';
import { linearBackward, linearBackwardScratchFloats } from '../src/train/grad/linear.js';
import { softmaxCrossEntropy } from '../src/train/grad/loss.js';
import { adamUpdate, applyMask, clipGradNorm, gradSumSquares, sgdUpdate, type ParamMask } from '../src/train/grad/optim.js';
import type { Kernels } from '../src/wasm/kernels.js';
import { expectClose } from './util/close.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { randomArray, rng } from './util/rng.js';

const N = 37; // 9 vectors and a scalar tail
const STEPS = 6;

function zeros(k: Kernels, n: number): number {
  const p = k.allocF32(n);
  k.f32.fill(0, p >> 2, (p >> 2) + n);
  return p;
}

/** A mask that prunes about 40% of the entries, as u8 or f32 in kernel memory, and as booleans. */
function makeMask(k: Kernels, n: number, kind: 'u8' | 'f32', seed: number): { mask: ParamMask; keep: boolean[] } {
  const r = rng(seed);
  const keep = Array.from({ length: n }, () => r() > 0.4);
  if (kind === 'f32') return { mask: { ptr: k.upload(Float32Array.from(keep, (v) => (v ? 1 : 0))), kind }, keep };
  const p = k.heap.alloc(n);
  new Uint8Array(k.f32.buffer, p, n).set(keep.map((v) => (v ? 1 : 0)));
  return { mask: { ptr: p, kind }, keep };
}

interface SgdCase { momentum: number; weightDecay: number; nesterov: boolean }
const SGD_CASES: SgdCase[] = [
  { momentum: 0, weightDecay: 0, nesterov: false },
  { momentum: 0.9, weightDecay: 0, nesterov: false },
  { momentum: 0.9, weightDecay: 0.01, nesterov: true },
  { momentum: 0.5, weightDecay: 0.1, nesterov: false },
];

/** float64 PyTorch SGD (dampening 0) over STEPS gradients. */
function sgd64(w0: Float32Array, grads: Float32Array[], lr: number, c: SgdCase) {
  const w = Float64Array.from(w0);
  const buf = new Float64Array(w.length);
  for (let t = 0; t < grads.length; t++) {
    for (let i = 0; i < w.length; i++) {
      let g = grads[t][i] + c.weightDecay * w[i];
      if (c.momentum) {
        buf[i] = t === 0 ? g : c.momentum * buf[i] + g;
        g = c.nesterov ? g + c.momentum * buf[i] : buf[i];
      }
      w[i] -= lr * g;
    }
  }
  return { w, buf };
}

/** float64 PyTorch Adam / AdamW. */
function adam64(w0: Float32Array, grads: Float32Array[], lr: number, b1: number, b2: number, eps: number, wd: number, decoupled: boolean) {
  const w = Float64Array.from(w0);
  const m = new Float64Array(w.length), v = new Float64Array(w.length);
  for (let t = 1; t <= grads.length; t++) {
    for (let i = 0; i < w.length; i++) {
      let g = grads[t - 1][i];
      if (decoupled) w[i] *= 1 - lr * wd;
      else g += wd * w[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const mhat = m[i] / (1 - b1 ** t), vhat = v[i] / (1 - b2 ** t);
      w[i] -= (lr * mhat) / (Math.sqrt(vhat) + eps);
    }
  }
  return { w, m, v };
}

describe.each(FLAVORS)('optimizer updates (%s build)', (flavor) => {
  it.each(SGD_CASES.map((c, i) => [i, c] as const))('SGD case %i: several steps match the float64 reference', async (i, c) => {
    const k = await kernels(flavor);
    const w0 = randomArray(N, 10 + i);
    const grads = Array.from({ length: STEPS }, (_, t) => randomArray(N, 100 + 10 * i + t));
    const w = k.upload(w0), g = k.allocF32(N), vel = zeros(k, N);
    for (const gt of grads) {
      k.write(g, gt);
      sgdUpdate(k, { w, g, n: N, velocity: vel }, { lr: 0.1, ...c });
    }
    const ref = sgd64(w0, grads, 0.1, c);
    expectClose(k.download(w, N), ref.w, 'w', 1e-5);
    if (c.momentum) expectClose(k.download(vel, N), ref.buf, 'velocity', 1e-5);
    k.free(w, g, vel);
  });

  for (const decoupled of [true, false]) {
    it(`${decoupled ? 'AdamW' : 'Adam (L2)'}: several steps match the float64 reference`, async () => {
      const k = await kernels(flavor);
      const w0 = randomArray(N, 20);
      const grads = Array.from({ length: STEPS }, (_, t) => randomArray(N, 200 + t, -0.5, 0.5));
      const w = k.upload(w0), g = k.allocF32(N), m = zeros(k, N), v = zeros(k, N);
      const o = { lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.05, decoupled };
      grads.forEach((gt, t) => {
        k.write(g, gt);
        adamUpdate(k, { w, g, m, v, n: N }, { ...o, step: t + 1 });
      });
      const ref = adam64(w0, grads, o.lr, o.beta1, o.beta2, o.eps, o.weightDecay, decoupled);
      expectClose(k.download(w, N), ref.w, 'w', 1e-5);
      expectClose(k.download(m, N), ref.m, 'm', 1e-5);
      expectClose(k.download(v, N), ref.v, 'v', 1e-5);
      k.free(w, g, m, v);
    });
  }

  for (const kind of ['u8', 'f32'] as const) {
    it(`masked updates (${kind} mask) keep pruned weights and their state exactly +0; the rest match the unmasked reference`, async () => {
      const k = await kernels(flavor);
      const w0 = randomArray(N, 30); // pruned entries start nonzero: the first update zeroes them
      const grads = Array.from({ length: STEPS }, (_, t) => randomArray(N, 300 + t));
      const { mask, keep } = makeMask(k, N, kind, 31);
      // SGD with momentum, Nesterov and weight decay
      const c = { momentum: 0.9, weightDecay: 0.01, nesterov: true };
      const w = k.upload(w0), g = k.allocF32(N), vel = zeros(k, N);
      // Adam
      const wa = k.upload(w0), m = zeros(k, N), v = zeros(k, N);
      grads.forEach((gt, t) => {
        k.write(g, gt);
        sgdUpdate(k, { w, g, n: N, velocity: vel }, { lr: 0.1, ...c }, mask);
        adamUpdate(k, { w: wa, g, m, v, n: N }, { lr: 0.01, step: t + 1, weightDecay: 0.01 }, mask);
      });
      const sgdRef = sgd64(w0, grads, 0.1, c).w;
      const adamRef = adam64(w0, grads, 0.01, 0.9, 0.999, 1e-8, 0.01, true).w;
      const got = { w: k.download(w, N), vel: k.download(vel, N), wa: k.download(wa, N), m: k.download(m, N), v: k.download(v, N) };
      for (let i = 0; i < N; i++) {
        if (!keep[i]) {
          for (const [name, arr] of Object.entries(got)) expect(Object.is(arr[i], 0), `${name}[${i}] is +0`).toBe(true);
        } else {
          expect(Math.abs(got.w[i] - sgdRef[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(sgdRef[i])));
          expect(Math.abs(got.wa[i] - adamRef[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(adamRef[i])));
        }
      }
      // applyMask zeroes the pruned entries of any buffer
      const b = k.upload(w0);
      applyMask(k, b, N, mask);
      const bm = k.download(b, N);
      for (let i = 0; i < N; i++) expect(Object.is(bm[i], keep[i] ? w0[i] : 0)).toBe(true);
      k.free(w, g, vel, wa, m, v, b, mask.ptr);
    });
  }

  it('masked fine-tuning of a pruned Linear layer: zeros stay exactly 0 through forward, backward and 20 updates, and the loss falls', async () => {
    const k = await kernels(flavor);
    const rows = 32, K = 24, C = 5;
    const { mask, keep } = makeMask(k, K * C, 'u8', 7);
    const w0 = randomArray(K * C, 8, -0.3, 0.3).map((x, i) => (keep[i] ? x : 0));
    const x = k.upload(randomArray(rows * K, 9));
    const labels = k.uploadI32(Array.from({ length: rows }, (_, r) => r % C));
    const w = k.upload(w0), dw = k.allocF32(K * C), vel = zeros(k, K * C);
    const logits = k.allocF32(rows * C), dl = k.allocF32(rows * C), s = k.allocF32(linearBackwardScratchFloats(rows, K, C, true, false));
    const losses: number[] = [];
    for (let step = 0; step < 20; step++) {
      const lin = new PackedLinear(k, k.download(w, K * C), K, C, { transposed: true });
      lin.run(x, rows, logits);
      lin.dispose();
      losses.push(softmaxCrossEntropy(k, logits, labels, rows, C, dl));
      linearBackward(k, { x, rows, K, N: C, w, transposed: true, dy: dl }, { dw }, s);
      const grad = k.download(dw, K * C);
      expect(grad.some((v, i) => !keep[i] && v !== 0)).toBe(true); // the pruned weights do get gradient
      sgdUpdate(k, { w, g: dw, n: K * C, velocity: vel }, { lr: 0.5, momentum: 0.9 }, mask);
      const now = k.download(w, K * C);
      for (let i = 0; i < K * C; i++) if (!keep[i]) expect(Object.is(now[i], 0)).toBe(true);
    }
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.7);
    k.free(x, labels, w, dw, vel, logits, dl, s, mask.ptr);
  });

  it('gradient clipping by global norm matches PyTorch clip_grad_norm_', async () => {
    const k = await kernels(flavor);
    const a = randomArray(1001, 1), b = randomArray(10, 2, -3, 3);
    const norm64 = Math.sqrt([...a, ...b].reduce((s, v) => s + v * v, 0));
    const pa = k.upload(a), pb = k.upload(b);
    const grads = [{ ptr: pa, n: a.length }, { ptr: pb, n: b.length }];
    expect(Math.abs(Math.sqrt(gradSumSquares(k, grads)) - norm64)).toBeLessThan(1e-5 * norm64);
    expect(clipGradNorm(k, grads, 1e6)).toBeCloseTo(norm64, 3); // no clipping
    expect(Array.from(k.download(pb, 10))).toEqual(Array.from(b));
    const n = clipGradNorm(k, grads, 2);
    expect(n).toBeCloseTo(norm64, 3);
    expect(Math.sqrt(gradSumSquares(k, grads))).toBeCloseTo(2, 4);
    expectClose(k.download(pb, 10), Array.from(b, (v) => (v * 2) / (norm64 + 1e-6)), 'clipped', 1e-6);
    k.free(pa, pb);
  });

  it('bad arguments give typed errors', async () => {
    const k = await kernels(flavor);
    const w = k.allocF32(N), g = k.allocF32(N), m = k.allocF32(N), v = k.allocF32(N);
    try {
      expect(() => sgdUpdate(k, { w, g, n: N }, { lr: 0.1, momentum: 0.9 })).toThrow(/velocity/);
      expect(() => sgdUpdate(k, { w, g, n: N }, { lr: NaN })).toThrow(ArgumentError);
      expect(() => sgdUpdate(k, { w, g, n: N }, { lr: 0.1, nesterov: true })).toThrow(ArgumentError);
      expect(() => sgdUpdate(k, { w, g, n: N }, { lr: 0.1, momentum: 1.5 })).toThrow(ArgumentError);
      expect(() => sgdUpdate(k, { w, g, n: 1000 }, { lr: 0.1 })).toThrow(ShapeError);
      expect(() => sgdUpdate(k, { w, g, n: N }, { lr: 0.1 }, { ptr: g, kind: 'u16' as 'u8' })).toThrow(ArgumentError);
      expect(() => sgdUpdate(k, { w, g, n: N }, { lr: 0.1 }, { ptr: g + 4 * 60, kind: 'f32' })).toThrow(/mask/);
      expect(() => adamUpdate(k, { w, g, m, v, n: N }, { lr: 0.1, step: 0 })).toThrow(/step/);
      expect(() => adamUpdate(k, { w, g, m, v, n: N }, { lr: 0.1, step: 1, beta2: 1 })).toThrow(ArgumentError);
      expect(() => adamUpdate(k, { w, g, m: 12, v, n: N }, { lr: 0.1, step: 1 })).toThrow(ShapeError);
      expect(() => clipGradNorm(k, [{ ptr: g, n: N }], 0)).toThrow(ArgumentError);
    } finally {
      k.free(w, g, m, v);
    }
  });
});
