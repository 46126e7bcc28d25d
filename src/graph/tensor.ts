// Helpers over constant tensors (shape arithmetic, folding). Small data only: bulk float work
// belongs to the wasm kernels.
import { ModelFormatError } from '../errors.js';
import type { ConstTensor, DType, TensorArray } from './ir.js';

export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Bytes per element as stored in ONNX. */
export function dtypeBytes(dtype: DType): number {
  switch (dtype) {
    case 'float64':
    case 'int64':
    case 'uint64':
      return 8;
    case 'float32':
    case 'int32':
    case 'uint32':
      return 4;
    case 'float16':
    case 'int16':
    case 'uint16':
      return 2;
    default:
      return 1;
  }
}

/** A typed array of `n` zeros for dtype (float16 widened to float32, bool as uint8). */
export function allocArray(dtype: DType, n: number): TensorArray {
  switch (dtype) {
    case 'float32':
    case 'float16':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'uint64':
      return new BigUint64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'uint16':
      return new Uint16Array(n);
    case 'uint32':
      return new Uint32Array(n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(n);
    default:
      throw new ModelFormatError(`tensors of type ${dtype} are not supported`);
  }
}

/** The values as JS numbers (int64 checked to fit in a double exactly). */
export function toNumbers(t: ConstTensor): number[] {
  const out: number[] = new Array(t.data.length);
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i];
    if (typeof v === 'bigint') {
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
        // INT64_MAX / MIN are common "to the end" markers in Slice: clamp them
        out[i] = v > 0n ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
      } else out[i] = Number(v);
    } else out[i] = v;
  }
  return out;
}

/** A constant from JS numbers. */
export function fromNumbers(dtype: DType, dims: number[], values: readonly number[]): ConstTensor {
  const data = allocArray(dtype, values.length);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < values.length; i++) data[i] = BigInt(Math.trunc(values[i]));
  } else {
    for (let i = 0; i < values.length; i++) (data as Float32Array)[i] = values[i];
  }
  return { dtype, dims, data };
}

/** The values as a Float32Array (a copy unless already float32). */
export function toFloat32(t: ConstTensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  return Float32Array.from(toNumbers(t));
}
