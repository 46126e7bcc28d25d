// Small models and calibration data for the fit tests (built with onnx-proto, independently of
// edgeprune's ONNX code).
import { buildModel } from './util/onnx-build.js';
import { randomArray, rng } from './util/rng.js';

export const SAMPLE = [3, 8, 8];
const PER = 3 * 8 * 8;

/**
 * Conv(3→16, 3x3) → Relu → Conv(16→16, 3x3) → Relu → MaxPool 2 → Flatten → Gemm(256→10).
 * With `copies`, conv0's channels 8..15 are 0.01 × channels 0..7 (so the least-norm channels,
 * the ones pruning removes, carry exactly the information of kept ones) and conv1 reads them
 * with weights 100× larger: removing them hurts, and least squares can undo it exactly.
 */
export function smallCnn(opts: { copies?: boolean; seed?: number } = {}): Uint8Array {
  const s = opts.seed ?? 1;
  const w0 = randomArray(16 * 27, s, -0.5, 0.5);
  const b0 = randomArray(16, s + 1, -0.1, 0.3);
  const w1 = randomArray(16 * 16 * 9, s + 2, -0.2, 0.2);
  if (opts.copies) {
    for (let c = 8; c < 16; c++) {
      for (let i = 0; i < 27; i++) w0[c * 27 + i] = 0.01 * w0[(c - 8) * 27 + i];
      b0[c] = 0.01 * b0[c - 8];
    }
    for (let o = 0; o < 16; o++) for (let c = 8; c < 16; c++) for (let t = 0; t < 9; t++) w1[(o * 16 + c) * 9 + t] *= 100;
  }
  return buildModel({
    nodes: [
      { op: 'Conv', inputs: ['x', 'w0', 'b0'], outputs: ['c0'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['c0'], outputs: ['r0'] },
      { op: 'Conv', inputs: ['r0', 'w1', 'b1'], outputs: ['c1'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
      { op: 'MaxPool', inputs: ['r1'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'Flatten', inputs: ['p'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'fw', 'fb'], outputs: ['y'], attrs: { transB: 1 } },
    ],
    inputs: [{ name: 'x', dims: ['N', ...SAMPLE] }],
    outputs: ['y'],
    initializers: [
      { name: 'w0', dims: [16, 3, 3, 3], data: w0 },
      { name: 'b0', dims: [16], data: b0 },
      { name: 'w1', dims: [16, 16, 3, 3], data: w1 },
      { name: 'b1', dims: [16], data: randomArray(16, s + 3, -0.1, 0.2) },
      { name: 'fw', dims: [10, 256], data: randomArray(10 * 256, s + 4, -0.15, 0.15) },
      { name: 'fb', dims: [10], data: randomArray(10, s + 5) },
    ],
  });
}

/** Images with structure: a random mix of a few smooth patterns plus a little noise, [n, 3, 8, 8]. */
export function images(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const basis: Float32Array[] = [];
  for (let b = 0; b < 6; b++) {
    const fx = 1 + (b % 3);
    const fy = 1 + Math.floor(b / 3);
    const phase = b * 0.7;
    const img = new Float32Array(PER);
    for (let c = 0; c < 3; c++) for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) img[(c * 8 + y) * 8 + x] = Math.sin((fx * x) / 2 + (fy * y) / 3 + phase + c);
    basis.push(img);
  }
  const out = new Float32Array(n * PER);
  for (let s = 0; s < n; s++) {
    const coef = basis.map(() => r() * 2 - 1);
    for (let i = 0; i < PER; i++) {
      let v = 0.05 * (r() * 2 - 1);
      for (let b = 0; b < basis.length; b++) v += coef[b] * basis[b][i];
      out[s * PER + i] = v;
    }
  }
  return out;
}

/** ‖y − y₀‖ / ‖y₀‖. */
export function relError(y: ArrayLike<number>, y0: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < y0.length; i++) {
    num += (y[i] - y0[i]) ** 2;
    den += y0[i] ** 2;
  }
  return Math.sqrt(num / den);
}
