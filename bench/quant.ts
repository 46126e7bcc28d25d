// int8-weight benchmark: the int8 dot kernels (assembly/quant.ts: int8 weights x activations
// quantized to int16 on the fly, i32x4.dot_i16x8_s) against dequantizing at session creation
// (our dense f32 kernels on the dequantized weights: a 1x1 PackedConv2d = gemm_a4, PackedLinear =
// gemm_b8) on the same operands. Both builds, kernels only (operands stay in wasm memory),
// interleaved rounds, medians and per-round ratios (bench/harness.ts).
// Run: node scripts/run-ts.mjs bench/quant.ts [--quick]
import { loadKernels } from '../src/wasm/loader.js';
import type { Kernels } from '../src/wasm/kernels.js';
import { PackedConv2d } from '../src/kernels/conv.js';
import { PackedLinear } from '../src/kernels/gemm.js';
import { PackedInt8Conv1x1, PackedInt8Linear } from '../src/kernels/quant.js';
import { dequantize, quantizeWeightsPerChannel } from '../src/graph/quant.js';
import { measure, type Impl } from './harness.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function random(n: number, seed: number): Float32Array {
  const r = lcg(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = 2 * r() - 1;
  return a;
}

/** conv: Y[M x N] = W[M x K] · X[K x N] (1x1 conv over N pixels); linear: y[B x M] = x[B x K] · W^T (W as M x K). */
interface Case {
  kind: 'conv1x1' | 'linear';
  M: number;
  K: number;
  /** pixels (conv1x1) or batch rows (linear) */
  N: number;
}

const CASES: Case[] = [
  { kind: 'conv1x1', M: 64, K: 576, N: 3136 },
  { kind: 'conv1x1', M: 256, K: 1024, N: 196 },
  { kind: 'conv1x1', M: 32, K: 64, N: 3136 },
  { kind: 'linear', M: 1000, K: 1280, N: 1 },
  { kind: 'linear', M: 1000, K: 1280, N: 8 },
  { kind: 'linear', M: 128, K: 512, N: 1 },
];

interface Row {
  flavor: string;
  name: string;
  denseMs: number;
  int8Ms: number;
  /** median per-round time(dense) / time(int8): > 1 means int8 is faster */
  up: number;
  denseBytes: number;
  int8Bytes: number;
  maxRelDiff: number;
}

async function main() {
  const quick = process.argv.includes('--quick');
  const rounds = quick ? 5 : 15;
  const flavors: Kernels[] = [await loadKernels('simd')];
  try {
    flavors.push(await loadKernels('relaxed'));
  } catch (e) {
    console.warn(`relaxed build skipped: ${(e as Error).message}`);
  }
  const rows: Row[] = [];
  for (const k of flavors) {
    for (const c of CASES) {
      const { M, K, N } = c;
      const W = random(M * K, 7 + M + K);
      const { q, scales } = quantizeWeightsPerChannel(W, [M, K]);
      const deq = dequantize(q, scales, [M, K]);
      const bias = random(M, 11);
      const X = random(K * N, 13);
      const x = k.upload(X);
      const yd = k.allocF32(M * N);
      const yq = k.allocF32(M * N);
      let impls: Impl[];
      let dispose: () => void;
      let denseBytes: number;
      let int8Bytes: number;
      if (c.kind === 'conv1x1') {
        const dense = new PackedConv2d(k, deq, [M, K, 1, 1], bias, { activation: { kind: 'relu' } });
        const xDims = [1, K, 1, N];
        if (dense.path(xDims) !== 'gemm1x1') throw new Error(`dense path is ${dense.path(xDims)}, expected gemm1x1`);
        const int8 = new PackedInt8Conv1x1(k, q, scales, M, K, { bias, activation: { kind: 'relu' } });
        impls = [
          { name: 'dense', run: () => dense.run(x, xDims, yd, 0) },
          { name: 'int8', run: () => int8.run(x, N, yq) },
        ];
        denseBytes = Math.ceil(M / 4) * 4 * K * 4;
        int8Bytes = int8.weightBytes;
        dispose = () => {
          dense.dispose();
          int8.dispose();
        };
      } else {
        // x is N x K (batch rows), W given as M x K (torch Linear): out features M
        const dense = new PackedLinear(k, deq, K, M, { transposed: true, bias, activation: { kind: 'relu' } });
        const int8 = new PackedInt8Linear(k, q, scales, K, M, { transposed: true, bias, activation: { kind: 'relu' } });
        impls = [
          { name: 'dense', run: () => dense.run(x, N, yd) },
          { name: 'int8', run: () => int8.run(x, N, yq) },
        ];
        denseBytes = Math.ceil(M / 8) * 8 * K * 4;
        int8Bytes = int8.weightBytes;
        dispose = () => {
          dense.dispose();
          int8.dispose();
        };
      }
      // both must compute the same thing (within the int16 activation step) before times mean anything
      impls[0].run();
      impls[1].run();
      const a = k.download(yd, M * N);
      const b = k.download(yq, M * N);
      let scale = 0;
      let worst = 0;
      for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]));
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
      if (!(worst <= 1e-3)) throw new Error(`${k.flavor} ${c.kind} ${M}x${K}x${N}: int8 and dense differ by ${worst} of the largest output`);
      const name = `${c.kind} ${M}x${K}x${N}`;
      const r = await measure(`${k.flavor} ${name}`, 2 * M * K * N, impls, rounds);
      rows.push({
        flavor: k.flavor,
        name,
        denseMs: r.medians.get('dense')! * 1e3,
        int8Ms: r.medians.get('int8')! * 1e3,
        up: r.ratios.get('int8')!.get('dense')!,
        denseBytes,
        int8Bytes,
        maxRelDiff: worst,
      });
      console.error(`  ${k.flavor} ${name} done`);
      dispose();
      k.free(x, yd, yq);
    }
  }

  console.log(`\nint8 dot kernels vs dequantize-at-creation (dense f32 kernels on the dequantized weights), fused bias + ReLU,`);
  console.log(`single thread, ${process.version}, medians of ${rounds} interleaved rounds; int8 x = median per-round dense time / int8 time\n`);
  const head = ['build', 'case (M x K x N)', 'dense ms', 'int8 ms', 'int8 x', 'dense GFLOP/s', 'int8 GFLOP/s', 'packed f32 B', 'packed int8 B', 'max diff', 'faster'];
  const cells = rows.map((r) => {
    const [kind, shape] = r.name.split(' ');
    const [M, K, N] = shape.split('x').map(Number);
    const flops = 2 * M * K * N;
    return [r.flavor, `${kind} ${shape}`, r.denseMs.toFixed(3), r.int8Ms.toFixed(3), `${r.up.toFixed(2)}x`, (flops / r.denseMs / 1e6).toFixed(1), (flops / r.int8Ms / 1e6).toFixed(1),
      String(r.denseBytes), String(r.int8Bytes), r.maxRelDiff.toExponential(1), r.up > 1 ? 'int8' : 'dense'];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((s, i) => (i < 2 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

await main();
