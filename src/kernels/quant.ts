// Host side of the int8-weight kernels (assembly/quant.ts): weights packed once from their int8
// values and per-output-channel scales (graph/quant.ts int8Weights gives both for a tensor
// marked int8), activations stay float32 at the interface (the kernel quantizes them to int16 on
// the fly, per column / row and K slice, and multiplies with i32x4.dot_i16x8_s).
//
// Two layers, mirroring the float ones so that the runtime can swap one for the other:
//   PackedInt8Linear   ≙ PackedLinear:        y[M, N] = x[M, K] · W + bias  (Gemm, MatMul, batch-1 GEMV)
//   PackedInt8Conv1x1  ≙ a 1x1 PackedConv2d:  Y[M, N] = W[M, K] · X[K, N] + bias (N = H·W pixels)
// Accuracy: against the dequantized weights (what the float path packs), each output is off by at
// most sw[m] · Σ_k |q[m][k]| · sx / 2 plus float rounding, sx = max |x| of its column (Conv1x1) or
// row (Linear) / 32767 — about 1.5e-5 of Σ|w|·max|x|, well inside the weights' own int8 error.
import { ArgumentError, ShapeError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { activationArgs, type FusedActivation } from './activation.js';
import { checkDims } from './check.js';

export interface Int8LayerOptions {
  /** One value per output. */
  bias?: Float32Array;
  activation?: FusedActivation;
  /** Multiplies output n by outputScale[n] (a folded BatchNormalization or Gemm alpha): folded into the int8 scales. */
  outputScale?: Float32Array;
}

export interface Int8LinearOptions extends Int8LayerOptions {
  /** q given as N x K (torch Linear, ONNX Gemm transB=1; scales along axis 0) instead of K x N (scales along axis 1). */
  transposed?: boolean;
}

/** Re-checks in edgeprune/runtime, where int8Weights (graph/quant.ts) made q and the decoder checked the scales. */
function checkInt8(q: Int8Array, scales: Float32Array, n: number, outputs: number, what: string): void {
  if (globalThis.EDGEPRUNE_RUNTIME) return;
  if (!(q instanceof Int8Array)) throw new ArgumentError(`${what}: the weights must be an Int8Array`);
  if (q.length !== n) throw new ShapeError(`${what}: ${q.length} int8 weights, the shape needs ${n}`);
  if (!(scales instanceof Float32Array) || scales.length !== outputs) throw new ShapeError(`${what}: needs ${outputs} scales (one per output), got ${scales?.length}`);
  for (let i = 0; i < q.length; i++) if (q[i] === -128) throw new ArgumentError(`${what}: int8 weight ${i} is -128; symmetric int8 weights lie in [-127, 127]`);
}

/** The per-output scales the kernel multiplies by (int8 scale × outputScale), padded with zeros to `padded`. */
function outputScales(scales: Float32Array, padded: number, opts: Int8LayerOptions, what: string): Float32Array {
  const n = scales.length;
  if (!globalThis.EDGEPRUNE_RUNTIME && opts.outputScale && opts.outputScale.length !== n) throw new ShapeError(`${what}: outputScale has ${opts.outputScale.length} values but the layer has ${n} outputs`);
  const s = new Float32Array(padded);
  for (let i = 0; i < n; i++) s[i] = scales[i] * (opts.outputScale ? opts.outputScale[i] : 1);
  return s;
}

function paddedBias(bias: Float32Array | undefined, n: number, padded: number, what: string): Float32Array | undefined {
  if (!bias) return undefined;
  if (bias.length !== n) throw new ShapeError(`${what}: bias has ${bias.length} values but the layer has ${n} outputs`);
  const b = new Float32Array(padded);
  b.set(bias);
  return b;
}

function uploadBytes(k: Kernels, bytes: Uint8Array): number {
  const p = k.heap.alloc(bytes.length);
  new Uint8Array(k.f32.buffer, p, bytes.length).set(bytes);
  return p;
}

/** Bytes of the packed int8 weights of a K x N Linear: [ceil(N/8)][ceil(K/2)][8][2] int8. */
export function packedInt8LinearBytes(K: number, N: number): number {
  return Math.ceil(N / 8) * Math.ceil(K / 2) * 16;
}

/** Bytes of the packed weights of an M x K Conv1x1: [ceil(M/4)][ceil(K/2)][4][2] int16. */
export function packedInt8Conv1x1Bytes(M: number, K: number): number {
  return Math.ceil(M / 4) * Math.ceil(K / 2) * 16;
}

/**
 * A Linear/Gemm layer with int8 weights: y[M, N] = x[M, K] · (q · diag(scales)) + bias, activation
 * fused. Same shapes and run() as PackedLinear. Owns its wasm blocks until dispose().
 */
export class PackedInt8Linear {
  readonly K: number;
  readonly N: number;
  /** Bytes the packed weights take in wasm memory. */
  readonly weightBytes: number;
  private readonly k: Kernels;
  private readonly act: [number, number, number];
  private packed: number;
  private scales: number;
  private bias: number;

  constructor(k: Kernels, q: Int8Array, scales: Float32Array, K: number, N: number, opts: Int8LinearOptions = {}) {
    if (!globalThis.EDGEPRUNE_RUNTIME) checkDims([K, N], 'int8 Linear weights', 2);
    if (K === 0) throw new ShapeError('int8 Linear: K (input features) must be at least 1');
    checkInt8(q, scales, K * N, N, 'int8 Linear');
    this.k = k;
    this.K = K;
    this.N = N;
    this.act = activationArgs(opts.activation);
    const KP = Math.ceil(K / 2);
    const NP = Math.ceil(N / 8) * 8;
    const packed = new Int8Array(packedInt8LinearBytes(K, N));
    // element (kk, n) of the logical K x N matrix: at kk*N + n, or n*K + kk when given transposed
    const rs = opts.transposed ? 1 : N;
    const cs = opts.transposed ? K : 1;
    for (let n = 0; n < N; n++) {
      const base = (n >> 3) * KP * 16 + (n & 7) * 2;
      for (let kk = 0; kk < K; kk++) packed[base + (kk >> 1) * 16 + (kk & 1)] = q[kk * rs + n * cs];
    }
    this.weightBytes = packed.length;
    this.packed = uploadBytes(k, new Uint8Array(packed.buffer));
    this.scales = k.upload(outputScales(scales, NP, opts, 'int8 Linear'));
    const b = paddedBias(opts.bias, N, NP, 'int8 Linear');
    this.bias = b ? k.upload(b) : 0;
  }

  /** x: M x K floats at pointer x (row stride K); writes M x N floats at y. */
  run(x: number, M: number, y: number): void {
    if (!globalThis.EDGEPRUNE_RUNTIME) {
      if (!Number.isInteger(M) || M < 0) throw new ShapeError(`int8 Linear: row count must be a non-negative integer, got ${M}`);
      if (this.packed === 0) throw new ShapeError('int8 Linear: used after dispose()');
      this.k.requireFloats(x, M * this.K, 'int8 Linear input');
      this.k.requireFloats(y, M * this.N, 'int8 Linear output');
    }
    if (M === 0 || this.N === 0) return;
    const [code, p0, p1] = this.act;
    this.k.fn.qgemm_b8(x, this.K, M, this.N, this.K, this.packed, this.scales, y, this.N, this.bias, code, p0, p1);
  }

  dispose(): void {
    this.k.free(this.packed, this.scales, this.bias);
    this.packed = 0;
    this.scales = 0;
    this.bias = 0;
  }
}

export interface Int8Conv1x1RunOptions {
  /** Row stride of X in floats (default N). */
  ldx?: number;
  /** Row stride of Y in floats (default N). */
  ldy?: number;
}

/**
 * Y[M, N] = (diag(scales) · q)[M, K] · X[K, N] + bias[M], activation fused: a 1x1 conv, stride 1,
 * no padding, over N = H·W pixels of one image (weights [Cout, Cin, 1, 1] are M x K row-major),
 * or any conv over im2col columns. Owns its wasm blocks until dispose().
 */
export class PackedInt8Conv1x1 {
  readonly M: number;
  readonly K: number;
  readonly weightBytes: number;
  private readonly k: Kernels;
  private readonly act: [number, number, number];
  private packed: number;
  private scales: number;
  private bias: number;

  constructor(k: Kernels, q: Int8Array, scales: Float32Array, M: number, K: number, opts: Int8LayerOptions = {}) {
    if (!globalThis.EDGEPRUNE_RUNTIME) checkDims([M, K], 'int8 Conv1x1 weights [M, K]', 2);
    if (M === 0 || K === 0) throw new ShapeError(`int8 Conv1x1 weights [${M}, ${K}] have an empty dimension`);
    checkInt8(q, scales, M * K, M, 'int8 Conv1x1');
    this.k = k;
    this.M = M;
    this.K = K;
    this.act = activationArgs(opts.activation);
    const KP = Math.ceil(K / 2);
    const MP = Math.ceil(M / 4) * 4;
    const packed = new Int16Array(packedInt8Conv1x1Bytes(M, K) / 2);
    for (let m = 0; m < M; m++) {
      const base = (m >> 2) * KP * 8 + (m & 3) * 2;
      for (let kk = 0; kk < K; kk++) packed[base + (kk >> 1) * 8 + (kk & 1)] = q[m * K + kk];
    }
    this.weightBytes = packed.byteLength;
    this.packed = uploadBytes(k, new Uint8Array(packed.buffer));
    this.scales = k.upload(outputScales(scales, MP, opts, 'int8 Conv1x1'));
    const b = paddedBias(opts.bias, M, MP, 'int8 Conv1x1');
    this.bias = b ? k.upload(b) : 0;
  }

  /** x: K x N floats at pointer x (row stride ldx, default N); writes M x N floats at y (row stride ldy, default N). */
  run(x: number, N: number, y: number, opts: Int8Conv1x1RunOptions = {}): void {
    const ldx = opts.ldx ?? N;
    const ldy = opts.ldy ?? N;
    if (!globalThis.EDGEPRUNE_RUNTIME) {
      if (this.packed === 0) throw new ShapeError('int8 Conv1x1: used after dispose()');
      if (!Number.isInteger(N) || N < 0) throw new ShapeError(`int8 Conv1x1: column count N must be a non-negative integer, got ${N}`);
      if (!Number.isInteger(ldx) || ldx < N) throw new ShapeError(`int8 Conv1x1: X row stride ldx must be an integer >= N (${N}), got ${ldx}`);
      if (!Number.isInteger(ldy) || ldy < N) throw new ShapeError(`int8 Conv1x1: Y row stride ldy must be an integer >= N (${N}), got ${ldy}`);
    }
    if (N === 0) return;
    if (!globalThis.EDGEPRUNE_RUNTIME) {
      this.k.requireFloats(x, (this.K - 1) * ldx + N, 'int8 Conv1x1 input');
      this.k.requireFloats(y, (this.M - 1) * ldy + N, 'int8 Conv1x1 output');
    }
    const [code, p0, p1] = this.act;
    this.k.fn.qgemm_a4(this.packed, this.scales, this.M, this.K, x, ldx, N, y, ldy, this.bias, code, p0, p1);
  }

  dispose(): void {
    this.k.free(this.packed, this.scales, this.bias);
    this.packed = 0;
    this.scales = 0;
    this.bias = 0;
  }
}

/** One-shot y = x · W (+ bias, activation) with int8 W on host arrays (tests, scripts). Packs on every call. */
export function int8Linear(k: Kernels, x: Float32Array, M: number, q: Int8Array, scales: Float32Array, K: number, N: number, opts: Int8LinearOptions = {}): Float32Array {
  if (x.length !== M * K) throw new ShapeError(`int8Linear: x has ${x.length} values, [${M}, ${K}] needs ${M * K}`);
  const lin = new PackedInt8Linear(k, q, scales, K, N, opts);
  const xp = k.upload(x);
  const yp = k.allocF32(M * N);
  try {
    lin.run(xp, M, yp);
    return k.download(yp, M * N);
  } finally {
    k.free(xp, yp);
    lin.dispose();
  }
}

/** One-shot Y = W · X (+ bias, activation) with int8 W on host arrays (tests, scripts). Packs on every call. */
export function int8Conv1x1(k: Kernels, q: Int8Array, scales: Float32Array, M: number, K: number, X: Float32Array, N: number, opts: Int8LayerOptions = {}): Float32Array {
  if (X.length !== K * N) throw new ShapeError(`int8Conv1x1: X has ${X.length} values, [${K}, ${N}] needs ${K * N}`);
  const conv = new PackedInt8Conv1x1(k, q, scales, M, K, opts);
  const xp = k.upload(X);
  const yp = k.allocF32(M * N);
  try {
    conv.run(xp, N, yp);
    return k.download(yp, M * N);
  } finally {
    k.free(xp, yp);
    conv.dispose();
  }
}
