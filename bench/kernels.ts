// Kernel benchmark: edgeprune's two wasm builds against onnxruntime-web and tfjs-backend-wasm on
// the same shapes, in one process, interleaved. Prints GFLOP/s (medians) and our ratios.
// Run: npm run bench   (or npm start until the main job exists)
import { loadKernels } from '../src/wasm/loader.js';
import type { Kernels } from '../src/wasm/kernels.js';
import { PackedLinear } from '../src/kernels/gemm.js';
import { PackedConv2d, type Conv2dAttributes } from '../src/kernels/conv.js';
import { sizeOf } from '../src/kernels/check.js';
import { measure, printTable, type CaseResult, type Impl } from './harness.js';
import { initPeers, ortRunner, tf, tfRunner } from './peers.js';

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

function linearImpl(k: Kernels, name: string, A: Float32Array, B: Float32Array, M: number, K: number, N: number): Impl {
  const lin = new PackedLinear(k, B, K, N);
  const x = k.allocF32(M * K);
  const y = k.allocF32(M * N);
  const out = new Float32Array(M * N);
  return {
    name,
    run: () => {
      k.write(x, A); // copy in and out, as a session.run would
      lin.run(x, M, y);
      out.set(k.f32.subarray(y >> 2, (y >> 2) + M * N));
    },
  };
}

function convImpl(k: Kernels, name: string, x: Float32Array, xDims: number[], w: Float32Array, wDims: number[], attrs: Conv2dAttributes): Impl {
  const conv = new PackedConv2d(k, w, wDims, undefined, attrs);
  const yDims = conv.outputDims(xDims);
  const xp = k.allocF32(sizeOf(xDims));
  const yp = k.allocF32(sizeOf(yDims));
  const sp = k.allocF32(conv.scratchFloats(xDims));
  const out = new Float32Array(sizeOf(yDims));
  return {
    name,
    run: () => {
      k.write(xp, x);
      conv.run(xp, xDims, yp, sp);
      out.set(k.f32.subarray(yp >> 2, (yp >> 2) + out.length));
    },
  };
}

async function main() {
  const quick = process.argv.includes('--quick');
  const onlyAt = process.argv.indexOf('--only');
  const only = onlyAt >= 0 ? process.argv[onlyAt + 1].toLowerCase() : '';
  const wanted = (name: string) => name.toLowerCase().includes(only);
  const flavors: Kernels[] = [await loadKernels('simd')];
  try {
    flavors.push(await loadKernels('relaxed'));
  } catch (e) {
    console.warn(`relaxed build skipped: ${(e as Error).message}`);
  }
  await initPeers();
  const ours = flavors.map((k) => `edgeprune-${k.flavor}`);
  const peers = ['ort-web', 'tfjs-wasm'];
  const results: CaseResult[] = [];
  const rounds = quick ? 3 : 15;

  for (const n of [64, 256, 512]) {
    if (!wanted(`GEMM ${n}x${n}x${n}`)) continue;
    const A = random(n * n, 1);
    const B = random(n * n, 2);
    const impls: Impl[] = flavors.map((k, i) => linearImpl(k, ours[i], A, B, n, n, n));
    impls.push({
      name: 'ort-web',
      run: await ortRunner({ nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }], inputs: [{ name: 'a', dims: [n, n] }], outputs: ['y'], initializers: [{ name: 'b', dims: [n, n], data: B }] }, A, [n, n]),
    });
    const tb = tf.tensor2d(B, [n, n]); // the weights: uploaded once, like everyone's packed weights
    impls.push({ name: 'tfjs-wasm', run: tfRunner(A, [n, n], (a) => tf.matMul(a as tf.Tensor2D, tb)) });
    results.push(await measure(`GEMM ${n}x${n}x${n}`, 2 * n * n * n, impls, rounds));
  }

  const convCases = [
    { name: 'Conv3x3 64->64 56x56', C: 64, Cout: 64, H: 56, K: 3, pad: 1, group: 1 },
    { name: 'Conv1x1 64->64 56x56', C: 64, Cout: 64, H: 56, K: 1, pad: 0, group: 1 },
    { name: 'DWConv3x3 128 56x56', C: 128, Cout: 128, H: 56, K: 3, pad: 1, group: 128 },
  ];
  for (const c of convCases) {
    if (!wanted(c.name)) continue;
    const xDims = [1, c.C, c.H, c.H];
    const wDims = [c.Cout, c.C / c.group, c.K, c.K];
    const x = random(sizeOf(xDims), 3);
    const w = random(sizeOf(wDims), 4);
    const attrs = { group: c.group, pads: [c.pad, c.pad, c.pad, c.pad] };
    const impls: Impl[] = flavors.map((k, i) => convImpl(k, ours[i], x, xDims, w, wDims, attrs));
    impls.push({
      name: 'ort-web',
      run: await ortRunner({ nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { group: c.group, pads: attrs.pads, kernel_shape: [c.K, c.K] } }], inputs: [{ name: 'x', dims: xDims }], outputs: ['y'], initializers: [{ name: 'w', dims: wDims, data: w }] }, x, xDims),
    });
    // tfjs is NHWC with HWIO filters: give it the same numbers in its own layout
    const nhwcDims = [1, c.H, c.H, c.C];
    const xNhwc = tf.transpose(tf.tensor4d(x, xDims as [number, number, number, number]), [0, 2, 3, 1]).dataSync() as Float32Array;
    const wt = tf.transpose(tf.tensor4d(w, wDims as [number, number, number, number]), [2, 3, 1, 0]) as tf.Tensor4D;
    const padMode = c.pad ? 'same' : 'valid';
    if (c.group === 1) {
      impls.push({ name: 'tfjs-wasm', run: tfRunner(xNhwc, nhwcDims, (xt) => tf.conv2d(xt as tf.Tensor4D, wt, 1, padMode)) });
    } else {
      const wd = tf.reshape(wt, [c.K, c.K, c.C, 1]) as tf.Tensor4D; // [KH, KW, 1, C] -> [KH, KW, C, 1]
      impls.push({ name: 'tfjs-wasm', run: tfRunner(xNhwc, nhwcDims, (xt) => tf.depthwiseConv2d(xt as tf.Tensor4D, wd, 1, padMode)) });
    }
    const OH = c.H + 2 * c.pad - c.K + 1;
    results.push(await measure(c.name, (2 * c.Cout * OH * OH * c.C * c.K * c.K) / c.group, impls, rounds));
  }

  console.log(`\nedgeprune kernel benchmark: single thread, ${process.version}, medians of ${rounds} interleaved rounds\n`);
  printTable(results, ours, peers);
}

await main();
