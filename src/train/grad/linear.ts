// Linear / Gemm / MatMul backward with constant (trainable) weights, on kernel pointers:
//   y[rows, N] = x[rows, K] · W + b, W given as K x N (ONNX MatMul / Gemm transB=0), or as N x K
//   (`transposed`: torch Linear, ONNX Gemm transB=1).
// Saved from the forward pass: the input x (and W). Gradients, all OVERWRITTEN:
//   dW = xᵀ · dy  (K x N, or dyᵀ · x as N x K when transposed: the same layout as W)
//   db = sum of dy over the rows (N floats)
//   dx = dy · Wᵀ  (rows x K)
// Each product is one gemm_packed call on operands packed straight from their natural layout
// (grad_pack_* in assembly/grad-pack.ts: row copies or 4x4 transposes, no separate transpose).
// A MatMul with a batch of leading dims flattens them into rows (x and dy are row-major).
import { ShapeError } from '../../errors.js';
import { checkData } from '../../kernels/check.js';
import type { Kernels } from '../../wasm/kernels.js';
import { checkCount, has } from './check.js';

export interface LinearBackwardArgs {
  /** Forward input, rows x K. */
  x: number;
  rows: number;
  K: number;
  N: number;
  /** Weights: K x N, or N x K when transposed. */
  w: number;
  transposed?: boolean;
  /** Gradient of the output, rows x N. */
  dy: number;
}

export interface LinearGrads {
  /** rows x K; omit (or 0) when the input needs no gradient. */
  dx?: number;
  /** Same layout as w. */
  dw: number;
  /** N floats; omit (or 0) without bias. */
  db?: number;
}

const up = (v: number, m: number) => Math.ceil(v / m) * m;

function checkSizes(rows: number, K: number, N: number): void {
  checkCount(rows, 'linearBackward rows');
  checkCount(K, 'linearBackward K (input features)', 1);
  checkCount(N, 'linearBackward N (output features)', 1);
}

/** Floats of scratch linearBackward needs (withDx: whether dx is requested). */
export function linearBackwardScratchFloats(rows: number, K: number, N: number, transposed = false, withDx = true): number {
  checkSizes(rows, K, N);
  const dW = transposed ? (up(N, 4) + up(K, 8)) * rows : (up(K, 4) + up(N, 8)) * rows;
  const dX = withDx ? up(rows, 4) * N + up(K, 8) * N : 0;
  return Math.max(dW, dX);
}

/** Gradients of y = x · W + b. scratch: linearBackwardScratchFloats(rows, K, N, transposed, !!out.dx) floats. */
export function linearBackward(k: Kernels, a: LinearBackwardArgs, out: LinearGrads, scratch: number): void {
  const { rows, K, N } = a;
  checkSizes(rows, K, N);
  const t = !!a.transposed;
  const withDx = has(out.dx);
  k.requireFloats(a.x, rows * K, 'linearBackward x');
  k.requireFloats(a.w, K * N, 'linearBackward w');
  k.requireFloats(a.dy, rows * N, 'linearBackward dy');
  if (!has(out.dw)) throw new ShapeError('linearBackward: out.dw is required');
  k.requireFloats(out.dw, K * N, 'linearBackward dw');
  if (has(out.db)) k.requireFloats(out.db, N, 'linearBackward db');
  if (withDx) k.requireFloats(out.dx!, rows * K, 'linearBackward dx');
  const need = linearBackwardScratchFloats(rows, K, N, t, withDx);
  if (need > 0) k.requireFloats(scratch, need, 'linearBackward scratch (see linearBackwardScratchFloats)');
  const f = k.fn;
  // dW: a reduction over the rows
  if (!t) {
    const bp = scratch + up(K, 4) * rows * 4;
    f.grad_pack_cols4(a.x, rows, K, K, scratch);
    f.grad_pack_cols8(a.dy, rows, N, N, bp);
    f.gemm_packed(scratch, K, bp, N, rows, out.dw, N, 0);
  } else {
    const bp = scratch + up(N, 4) * rows * 4;
    f.grad_pack_cols4(a.dy, rows, N, N, scratch);
    f.grad_pack_cols8(a.x, rows, K, K, bp);
    f.gemm_packed(scratch, N, bp, K, rows, out.dw, K, 0);
  }
  if (has(out.db)) f.reduce_sum(a.dy, 1, rows, N, 1, out.db);
  if (withDx && rows > 0) {
    // dx = dy · Wᵀ: a reduction over N
    const bp = scratch + up(rows, 4) * N * 4;
    f.grad_pack_rows4(a.dy, rows, N, N, scratch);
    if (!t) f.grad_pack_rows8(a.w, K, N, N, bp);
    else f.grad_pack_cols8(a.w, N, K, K, bp);
    f.gemm_packed(scratch, rows, bp, K, N, out.dx!, K, 0);
  }
}

/** One-shot linearBackward on host arrays (tests, scripts). */
export function linearBackwardArrays(k: Kernels, x: Float32Array, rows: number, K: number, N: number, w: Float32Array, dy: Float32Array,
  transposed = false): { dx: Float32Array; dw: Float32Array; db: Float32Array } {
  checkSizes(rows, K, N);
  checkData(x, [rows, K], 'linearBackward x');
  checkData(w, [K, N], 'linearBackward w');
  checkData(dy, [rows, N], 'linearBackward dy');
  const ptrs: number[] = [];
  const keep = (p: number) => { ptrs.push(p); return p; };
  try {
    const xp = keep(k.upload(x));
    const wp = keep(k.upload(w));
    const dyp = keep(k.upload(dy));
    const dx = keep(k.allocF32(Math.max(1, rows * K)));
    const dw = keep(k.allocF32(K * N));
    const db = keep(k.allocF32(N));
    const s = keep(k.allocF32(Math.max(1, linearBackwardScratchFloats(rows, K, N, transposed, true))));
    linearBackward(k, { x: xp, rows, K, N, w: wp, transposed, dy: dyp }, { dx, dw, db }, s);
    return { dx: k.download(dx, rows * K), dw: k.download(dw, K * N), db: k.download(db, N) };
  } finally {
    k.free(...ptrs);
  }
}
