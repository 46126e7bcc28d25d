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

/** ONNX TensorProto.DataType code of each dtype (shared by import, export, folding and .epm). */
export const ONNX_DTYPE_CODES: Readonly<Record<DType, number>> = {
  float32: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, int64: 7, string: 8,
  bool: 9, float16: 10, float64: 11, uint32: 12, uint64: 13,
};

/** The dtype of each ONNX TensorProto.DataType code edgeprune holds. */
export const DTYPE_OF_ONNX_CODE: Readonly<Record<number, DType>> = Object.fromEntries(
  Object.entries(ONNX_DTYPE_CODES).map(([d, c]) => [c, d]),
) as Record<number, DType>;

/** The typed array a ConstTensor of each dtype holds (float16 widened to float32, bool as uint8). */
export const ARRAY_TYPES: Readonly<Record<Exclude<DType, 'string'>, new (n: number) => TensorArray>> = {
  float32: Float32Array,
  float16: Float32Array,
  float64: Float64Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

/** A typed array of `n` zeros for dtype (float16 widened to float32, bool as uint8). */
export function allocArray(dtype: DType, n: number): TensorArray {
  const Ctor = dtype === 'string' ? undefined : ARRAY_TYPES[dtype];
  if (!Ctor) throw new ModelFormatError(`tensors of type ${dtype} are not supported`);
  return new Ctor(n);
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
