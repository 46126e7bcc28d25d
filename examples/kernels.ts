// Calling the kernels directly: a packed Linear layer and a 3x3 convolution.
// Run: node scripts/run-ts.mjs examples/kernels.ts
import { loadKernels } from '../src/wasm/loader.js';
import { gemm } from '../src/kernels/gemm.js';
import { conv2d } from '../src/kernels/conv.js';

const k = await loadKernels(); // 'relaxed' where the host validates it, else 'simd'
console.log(`kernels: ${k.flavor} build`);

// y[2, 3] = x[2, 4] · W[4, 3] + b, ReLU fused
const x = new Float32Array([1, 2, 3, 4, -1, -2, -3, -4]);
const W = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]);
const y = gemm(k, x, W, 2, 4, 3, { bias: new Float32Array([0.5, 0, -0.5]), activation: { kind: 'relu' } });
console.log('linear:', Array.from(y));

// a 3x3 box filter over a 1x1x4x4 ramp, zero padding 1
const img = Float32Array.from({ length: 16 }, (_, i) => i);
const box = new Float32Array(9).fill(1 / 9);
const out = conv2d(k, img, [1, 1, 4, 4], box, [1, 1, 3, 3], undefined, { pads: [1, 1, 1, 1] });
console.log('conv dims:', out.dims, 'centre value:', out.data[5].toFixed(4));
