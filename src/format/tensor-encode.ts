// Writer side of tensor payloads: checks a ConstTensor is what the IR promises, picks the
// smallest encoding for float data (dense, bitmask, u16 deltas, u32 indices — by exact byte
// count) and writes the payload little-endian.
import { ModelFormatError } from '../errors.js';
import type { ConstTensor, DType, TensorArray } from '../graph/ir.js';
import { ARRAY_TYPES } from '../graph/tensor.js';
import { align, DTYPE_CODES, Encoding, isFloatStorage, LITTLE_ENDIAN, storageWidth } from './layout.js';

type StoredDType = Exclude<DType, 'string'>;
export interface PlannedTensor {
  tensor: ConstTensor;
  dtype: StoredDType;
  encoding: number;
  /** Stored values: numel for raw, the non-zero count for sparse encodings. */
  valueCount: number;
  byteLength: number;
}

/** Validates a tensor and chooses its encoding; `where` names it in errors. */
export function planTensor(t: ConstTensor, where: string): PlannedTensor {
  const fail = (what: string): never => {
    throw new ModelFormatError(`cannot write the artifact: ${where} ${what}`);
  };
  if (t === null || typeof t !== 'object') fail('is not a tensor');
  if (t.dtype === 'string') fail('is a string tensor, which edgeprune cannot hold');
  const dtype = t.dtype as StoredDType;
  const Ctor = ARRAY_TYPES[dtype];
  if (!Ctor || DTYPE_CODES[dtype] === undefined) fail(`has unknown dtype '${String(t.dtype)}'`);
  if (!(t.data instanceof Ctor)) fail(`is ${dtype} but its data is a ${t.data?.constructor?.name ?? typeof t.data} (want ${Ctor.name})`);
  if (!Array.isArray(t.dims) || !t.dims.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`has invalid dims [${String(t.dims)}]`);
  if (t.dims.length > 0xffff) fail(`has rank ${t.dims.length}, over the format's 65535`);
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) fail(`holds ${t.data.length} values but its dims [${t.dims.join(', ')}] need ${n}`);
  const width = storageWidth(dtype);
  const dense = n * width;
  if (!isFloatStorage(dtype)) return { tensor: t, dtype, encoding: Encoding.RAW, valueCount: n, byteLength: dense };

  const bits = u32View(t.data as Float32Array);
  let nnz = 0;
  let prev = -1;
  let deltasFit = true;
  for (let i = 0; i < n; i++) {
    if (bits[i] === 0) continue;
    // the first delta is the index itself (from -1 + 1 = 0), later ones the gap to the previous
    if (i - (prev < 0 ? 0 : prev) > 0xffff) deltasFit = false;
    prev = i;
    nnz++;
  }
  // ties go to the earlier (simpler) form; sizes are exact payload bytes
  let best: { encoding: number; bytes: number } = { encoding: Encoding.RAW, bytes: dense };
  const consider = (encoding: number, bytes: number): void => {
    if (bytes < best.bytes) best = { encoding, bytes };
  };
  consider(Encoding.BITMASK, sparseBytes(Encoding.BITMASK, n, nnz));
  if (deltasFit) consider(Encoding.DELTA16, sparseBytes(Encoding.DELTA16, n, nnz));
  consider(Encoding.INDEX32, sparseBytes(Encoding.INDEX32, n, nnz));
  return { tensor: t, dtype, encoding: best.encoding, valueCount: best.encoding === Encoding.RAW ? n : nnz, byteLength: best.bytes };
}

/** Payload bytes of a sparse encoding of `n` elements with `k` stored values (reader uses it too). */
export function sparseBytes(encoding: number, n: number, k: number): number {
  switch (encoding) {
    case Encoding.BITMASK:
      return align(Math.ceil(n / 8), 4) + 4 * k;
    case Encoding.DELTA16:
      return align(2 * k, 4) + 4 * k;
    default:
      return 8 * k;
  }
}

function u32View(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** Writes the planned payload at out[offset, offset + byteLength). `out` is zero-filled. */
export function writePayload(p: PlannedTensor, out: Uint8Array, offset: number): void {
  const data = p.tensor.data;
  if (p.encoding === Encoding.RAW) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
    const width = data.BYTES_PER_ELEMENT;
    // typed arrays are host-endian; the format is little-endian
    if (!LITTLE_ENDIAN && width > 1) for (let i = offset; i < offset + data.byteLength; i += width) out.subarray(i, i + width).reverse();
    return;
  }
  const bits = u32View(data as Float32Array);
  const n = bits.length;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  // values follow the index part, which is padded to 4 bytes
  const indexBytes = p.byteLength - 4 * p.valueCount;
  let v = offset + indexBytes;
  let k = 0;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const b = bits[i];
    if (b === 0) continue;
    if (p.encoding === Encoding.BITMASK) out[offset + (i >>> 3)] |= 1 << (i & 7);
    else if (p.encoding === Encoding.DELTA16) view.setUint16(offset + 2 * k, i - prev, true);
    else view.setUint32(offset + 4 * k, i, true);
    view.setUint32(v, b, true);
    v += 4;
    prev = i;
    k++;
  }
}
