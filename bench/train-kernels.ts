// Training-kernel benchmark: one SGD step (forward + backward + update) of the SmallCNN
//   Conv 1→16 3x3 pad 1, ReLU, MaxPool 2, Conv 16→32 3x3 pad 1, ReLU, MaxPool 2, Linear 1568→10
// at batch 64, on both wasm builds, with the per-layer split, and the implied time of one epoch
// over the 8,000 MNIST training digits (125 batches). Random data: the arithmetic does not depend
// on the values. Weights are re-packed for the forward every step, as training must.
// Run: node scripts/run-ts.mjs bench/train-kernels.ts [--rounds 30]
import { loadKernels } from '../src/wasm/loader.js';
import type { Kernels } from '../src/wasm/kernels.js';
import { PackedConv2d } from '../src/kernels/conv.js';
import { PackedLinear } from '../src/kernels/gemm.js';
import {
  activationBackward, conv2dBackward, conv2dBackwardScratchFloats, linearBackward, linearBackwardScratchFloats,
  maxPool2dBackward, maxPool2dForwardWithIndices, sgdUpdate, softmaxCrossEntropy,
} from '../src/train/grad/index.js';

const BATCH = 64;
const DIGITS = 8000;

function random(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 31 - 1) * scale;
  }
  return a;
}

type Phase = 'conv1 fwd' | 'pool1 fwd' | 'conv2 fwd' | 'pool2 fwd' | 'linear fwd' | 'loss' | 'linear bwd' | 'pool2 bwd' | 'relu2 bwd' |
  'conv2 bwd' | 'pool1 bwd' | 'relu1 bwd' | 'conv1 bwd' | 'sgd';

function smallCnn(k: Kernels) {
  const N = BATCH;
  const a = { pads: [1, 1, 1, 1] };
  const pool = { kernelShape: [2, 2], strides: [2, 2] };
  const w1d = [16, 1, 3, 3], w2d = [32, 16, 3, 3];
  const xDims = [N, 1, 28, 28], y1d = [N, 16, 28, 28], p1d = [N, 16, 14, 14], y2d = [N, 32, 14, 14], p2d = [N, 32, 7, 7];
  const size = (d: number[]) => d.reduce((s, v) => s * v, 1);
  const params = {
    w1: k.upload(random(144, 1, 1 / 3)), b1: k.upload(random(16, 2, 1 / 3)),
    w2: k.upload(random(size(w2d), 3, 1 / 12)), b2: k.upload(random(32, 4, 1 / 12)),
    w3: k.upload(random(10 * 1568, 5, 1 / 40)), b3: k.upload(random(10, 6, 1 / 40)),
  };
  const grads = {
    w1: k.allocF32(144), b1: k.allocF32(16), w2: k.allocF32(size(w2d)), b2: k.allocF32(32), w3: k.allocF32(15680), b3: k.allocF32(10),
  };
  const vel = Object.fromEntries(Object.entries(grads).map(([n, g]) => {
    const len = { w1: 144, b1: 16, w2: size(w2d), b2: 32, w3: 15680, b3: 10 }[n]!;
    const p = k.allocF32(len);
    k.f32.fill(0, p >> 2, (p >> 2) + len);
    return [n, { p, len, g }];
  })) as Record<keyof typeof grads, { p: number; len: number; g: number }>;
  const x = k.upload(random(size(xDims), 7));
  const labels = k.uploadI32(Array.from({ length: N }, (_, i) => (i * 7) % 10));
  const y1 = k.allocF32(size(y1d)), p1 = k.allocF32(size(p1d)), i1 = k.allocF32(size(p1d));
  const y2 = k.allocF32(size(y2d)), p2 = k.allocF32(size(p2d)), i2 = k.allocF32(size(p2d));
  const logits = k.allocF32(N * 10), dlogits = k.allocF32(N * 10);
  const dp2 = k.allocF32(size(p2d)), dy2 = k.allocF32(size(y2d)), dp1 = k.allocF32(size(p1d)), dy1 = k.allocF32(size(y1d));
  const scratch = k.allocF32(Math.max(
    conv2dBackwardScratchFloats(xDims, w1d, a, false), conv2dBackwardScratchFloats(p1d, w2d, a, true),
    linearBackwardScratchFloats(N, 1568, 10, true, true), 16 * 30 * 30 * 2, 100_000,
  ));
  const t = new Map<Phase, number>();
  const time = (p: Phase, f: () => void) => {
    const t0 = performance.now();
    f();
    t.set(p, (t.get(p) ?? 0) + performance.now() - t0);
  };
  const dl = (p: number, n: number) => k.f32.slice(p >> 2, (p >> 2) + n);
  let lastLoss = 0;
  const step = () => {
    // forward: weights re-packed from the current values every step
    time('conv1 fwd', () => {
      const c1 = new PackedConv2d(k, dl(params.w1, 144), w1d, dl(params.b1, 16), { ...a, activation: { kind: 'relu' } });
      c1.run(x, xDims, y1, scratch);
      c1.dispose();
    });
    time('pool1 fwd', () => maxPool2dForwardWithIndices(k, y1, y1d, pool, p1, i1));
    time('conv2 fwd', () => {
      const c2 = new PackedConv2d(k, dl(params.w2, size(w2d)), w2d, dl(params.b2, 32), { ...a, activation: { kind: 'relu' } });
      c2.run(p1, p1d, y2, scratch);
      c2.dispose();
    });
    time('pool2 fwd', () => maxPool2dForwardWithIndices(k, y2, y2d, pool, p2, i2));
    time('linear fwd', () => {
      const l = new PackedLinear(k, dl(params.w3, 15680), 1568, 10, { transposed: true, bias: dl(params.b3, 10) });
      l.run(p2, N, logits);
      l.dispose();
    });
    time('loss', () => { lastLoss = softmaxCrossEntropy(k, logits, labels, N, 10, dlogits); });
    // backward
    time('linear bwd', () => linearBackward(k, { x: p2, rows: N, K: 1568, N: 10, w: params.w3, transposed: true, dy: dlogits }, { dx: dp2, dw: grads.w3, db: grads.b3 }, scratch));
    time('pool2 bwd', () => maxPool2dBackward(k, dp2, i2, y2d, pool, dy2));
    time('relu2 bwd', () => activationBackward(k, { kind: 'relu' }, y2, dy2, dy2, size(y2d)));
    time('conv2 bwd', () => conv2dBackward(k, { x: p1, xDims: p1d, w: params.w2, wDims: w2d, dy: dy2, ...a }, { dx: dp1, dw: grads.w2, db: grads.b2 }, scratch));
    time('pool1 bwd', () => maxPool2dBackward(k, dp1, i1, y1d, pool, dy1));
    time('relu1 bwd', () => activationBackward(k, { kind: 'relu' }, y1, dy1, dy1, size(y1d)));
    time('conv1 bwd', () => conv2dBackward(k, { x, xDims, w: params.w1, wDims: w1d, dy: dy1, ...a }, { dw: grads.w1, db: grads.b1 }, scratch));
    time('sgd', () => {
      for (const [n, v] of Object.entries(vel)) {
        sgdUpdate(k, { w: params[n as keyof typeof params], g: v.g, n: v.len, velocity: v.p }, { lr: 0.01, momentum: 0.9 });
      }
    });
  };
  return { step, t, loss: () => lastLoss };
}

async function main() {
  const at = process.argv.indexOf('--rounds');
  const rounds = at >= 0 ? Number(process.argv[at + 1]) : 30;
  const flavors: ('simd' | 'relaxed')[] = ['simd', 'relaxed'];
  console.log(`SmallCNN training step at batch ${BATCH} (forward + backward + SGD momentum), ${rounds} timed steps after warm-up`);
  for (const flavor of flavors) {
    const k = await loadKernels(flavor);
    const net = smallCnn(k);
    const warmEnd = performance.now() + 1500;
    while (performance.now() < warmEnd) net.step();
    net.t.clear();
    const perStep: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      net.step();
      perStep.push(performance.now() - t0);
    }
    perStep.sort((x, y) => x - y);
    const med = perStep[perStep.length >> 1];
    console.log(`\n${flavor}: median ${med.toFixed(2)} ms per batch of ${BATCH} (best ${perStep[0].toFixed(2)}), ` +
      `epoch of ${DIGITS} digits = ${Math.ceil(DIGITS / BATCH)} batches ≈ ${((med * Math.ceil(DIGITS / BATCH)) / 1000).toFixed(2)} s; loss ${net.loss().toFixed(4)}`);
    const total = [...net.t.values()].reduce((s, v) => s + v, 0);
    const part = (re: RegExp) => [...net.t].filter(([p]) => re.test(p)).reduce((s, [, v]) => s + v, 0) / rounds;
    console.log(`  forward + loss ${part(/fwd|loss/).toFixed(2)} ms, backward ${part(/bwd/).toFixed(2)} ms, update ${part(/sgd/).toFixed(2)} ms (means over the timed steps)`);
    for (const [p, ms] of net.t) console.log(`  ${p.padEnd(11)} ${(ms / rounds).toFixed(3).padStart(8)} ms  ${((100 * ms) / total).toFixed(1).padStart(5)} %`);
  }
}

await main();
