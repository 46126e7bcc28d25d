// Host side of Softmax / LogSoftmax.
import { ArgumentError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { checkData, checkDims, fmt, sizeOf } from './check.js';

type Tensor = { data: Float32Array; dims: number[] };

export interface SoftmaxOptions {
  /** Default -1. */
  axis?: number;
  /** LogSoftmax instead of Softmax. */
  log?: boolean;
  /**
   * Opset < 13 semantics: the input is viewed as 2-D [prod(dims[:axis]), prod(dims[axis:])] and
   * normalized over the whole second part. Default false (opset 13: over `axis` only).
   */
  coerce2d?: boolean;
}

/** [outer, A, inner] the kernels see for a softmax over `axis` of `dims`. */
export function softmaxShape(dims: readonly number[], axis = -1, coerce2d = false): { outer: number; A: number; inner: number } {
  if (!globalThis.EDGEPRUNE_RUNTIME) checkDims(dims, 'Softmax input'); // the runtime's dims are checked (runtime/specialize.ts)
  const r = dims.length;
  if (r === 0) throw new ArgumentError('Softmax: the input is a scalar; it needs at least one axis to normalize over');
  if (!Number.isInteger(axis) || axis < -r || axis >= r) throw new ArgumentError(`Softmax: axis ${axis} is out of range for rank ${r} (${fmt(dims)}); use -${r}..${r - 1}`);
  const a = axis < 0 ? axis + r : axis;
  if (coerce2d) return { outer: sizeOf(dims.slice(0, a)), A: sizeOf(dims.slice(a)), inner: 1 };
  return { outer: sizeOf(dims.slice(0, a)), A: dims[a], inner: sizeOf(dims.slice(a + 1)) };
}

/** (Log)Softmax on pointers; y may equal x. Returns the output dims (= input dims). */
export function softmaxRun(k: Kernels, x: number, dims: readonly number[], y: number, opts: SoftmaxOptions = {}): number[] {
  const what = opts.log ? 'LogSoftmax' : 'Softmax';
  const { outer, A, inner } = softmaxShape(dims, opts.axis ?? -1, opts.coerce2d ?? false);
  const n = outer * A * inner;
  if (!globalThis.EDGEPRUNE_RUNTIME) {
    k.requireFloats(x, n, `${what} input`);
    k.requireFloats(y, n, `${what} output`);
  }
  if (n === 0) return [...dims];
  if (inner === 1) k.fn.softmax_last(x, outer, A, y, opts.log ? 1 : 0);
  else k.fn.softmax_axis(x, outer, A, inner, y, opts.log ? 1 : 0);
  return [...dims];
}

/** One-shot Softmax on a host array. */
export function softmax(k: Kernels, X: Float32Array, dims: readonly number[], opts: SoftmaxOptions = {}): Tensor {
  checkData(X, dims, opts.log ? 'LogSoftmax input' : 'Softmax input');
  softmaxShape(dims, opts.axis ?? -1, opts.coerce2d ?? false);
  const x = k.upload(X);
  try {
    const out = softmaxRun(k, x, dims, x, opts); // in place
    return { data: k.download(x, X.length), dims: out };
  } finally {
    k.free(x);
  }
}

/** One-shot LogSoftmax on a host array. */
export function logSoftmax(k: Kernels, X: Float32Array, dims: readonly number[], opts: Omit<SoftmaxOptions, 'log'> = {}): Tensor {
  return softmax(k, X, dims, { ...opts, log: true });
}
