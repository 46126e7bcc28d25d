// Sparse-weight benchmark: spmm_csr (PackedSparseLinear, both ways of reaching X) against our own dense kernel (gemm_a4 via a
// 1x1 PackedConv2d) on the same operands: Y[64 x 3136] = W[64 x 576] · X[576 x 3136], the im2col
// form of a 3x3 conv 64->64 on 56x56, W with random unstructured zeros. Both builds, kernels only
// (operands stay in wasm memory), interleaved rounds, medians and per-round ratios (bench/harness.ts).
// Run: node scripts/run-ts.mjs bench/sparse.ts [--quick]
import { loadKernels } from '../src/wasm/loader.js';
import type { Kernels } from '../src/wasm/kernels.js';
import { PackedConv2d } from '../src/kernels/conv.js';
import { IN_PLACE_BELOW_DENSITY, PackedSparseLinear } from '../src/kernels/sparse.js';
import { measure, type Impl } from './harness.js';

const M = 64, K = 576, N = 56 * 56;
const SPARSITIES = [0.5, 0.7, 0.8, 0.9, 0.95];
/** The milestone's bar: sparse / dense speed-up at these sparsities (relaxed build). */
const TARGET = new Map([[0.8, 2.5], [0.9, 4.5], [0.95, 8]]);

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

/** Exactly round(sparsity · M · K) zeros at uniformly random positions (a partial Fisher-Yates shuffle). */
function sparseWeights(sparsity: number, seed: number): Float32Array {
  const w = random(M * K, seed);
  const r = lcg(seed ^ 0x9e3779b9);
  const idx = new Uint32Array(M * K).map((_, i) => i);
  const zeros = Math.round(sparsity * M * K);
  for (let i = 0; i < zeros; i++) {
    const j = i + Math.floor(r() * (idx.length - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
    w[idx[i]] = 0;
  }
  return w;
}

interface Row {
  flavor: string;
  sparsity: number;
  nnz: number;
  denseMs: number;
  panelMs: number;
  inPlaceMs: number;
  /** Median per-round time(dense) / time(sparse). */
  panelUp: number;
  inPlaceUp: number;
  /** The access mode PackedSparseLinear's default ('auto') uses at this density. */
  auto: 'panel' | 'inPlace';
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
  const X = random(K * N, 1);
  const rows: Row[] = [];
  for (const k of flavors) {
    const x = k.upload(X);
    const yd = k.allocF32(M * N);
    const ys = k.allocF32(M * N);
    for (const sparsity of SPARSITIES) {
      const W = sparseWeights(sparsity, 1000 + Math.round(sparsity * 100));
      const dense = new PackedConv2d(k, W, [M, K, 1, 1], undefined);
      const xDims = [1, K, 56, 56];
      if (dense.path(xDims) !== 'gemm1x1') throw new Error(`dense path is ${dense.path(xDims)}, expected gemm1x1`);
      const sparse = new PackedSparseLinear(k, W, M, K);
      const impls: Impl[] = [
        { name: 'dense', run: () => dense.run(x, xDims, yd, 0) },
        { name: 'panel', run: () => sparse.run(x, N, ys, { access: 'panel' }) },
        { name: 'inPlace', run: () => sparse.run(x, N, ys, { access: 'inPlace' }) },
      ];
      // all must compute the same thing before their times mean anything
      impls[0].run();
      const a = k.download(yd, M * N);
      for (const impl of impls.slice(1)) {
        impl.run();
        const b = k.download(ys, M * N);
        let worst = 0;
        for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(a[i])));
        if (!(worst <= 1e-4)) throw new Error(`${k.flavor} ${sparsity} ${impl.name}: sparse and dense differ by ${worst}`);
      }
      const r = await measure(`${k.flavor} ${sparsity}`, 2 * M * K * N, impls, rounds);
      const auto = sparse.density < IN_PLACE_BELOW_DENSITY ? 'inPlace' : 'panel'; // what access: 'auto' picks
      rows.push({
        flavor: k.flavor,
        sparsity,
        nnz: sparse.nnz,
        denseMs: r.medians.get('dense')! * 1e3,
        panelMs: r.medians.get('panel')! * 1e3,
        inPlaceMs: r.medians.get('inPlace')! * 1e3,
        panelUp: r.ratios.get('panel')!.get('dense')!,
        inPlaceUp: r.ratios.get('inPlace')!.get('dense')!,
        auto,
      });
      console.error(`  ${k.flavor} ${(sparsity * 100).toFixed(0)}% done`);
      dense.dispose();
      sparse.dispose();
    }
    k.free(x, yd, ys);
  }

  console.log(`\nspmm_csr vs dense gemm_a4, Y[${M}x${N}] = W[${M}x${K}] · X[${K}x${N}], single thread, ${process.version}, medians of ${rounds} interleaved rounds\n`);
  const head = ['build', 'zeros', 'nnz', 'dense ms', 'panel ms', 'in-place ms', 'panel x', 'in-place x', 'auto', 'auto x', 'target'];
  const cells = rows.map((r) => {
    const up = r.auto === 'panel' ? r.panelUp : r.inPlaceUp;
    const t = TARGET.get(r.sparsity);
    const verdict = t === undefined ? '-' : r.flavor !== 'relaxed' ? `(${t}x)` : `${t}x ${up >= t ? 'met' : 'MISSED'}`;
    return [r.flavor, `${(r.sparsity * 100).toFixed(0)}%`, String(r.nnz), r.denseMs.toFixed(3), r.panelMs.toFixed(3), r.inPlaceMs.toFixed(3),
      `${r.panelUp.toFixed(2)}x`, `${r.inPlaceUp.toFixed(2)}x`, r.auto, `${up.toFixed(2)}x`, verdict];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((s, i) => (i < 2 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

await main();
