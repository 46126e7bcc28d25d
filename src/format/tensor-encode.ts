// Writer side of tensor payloads: checks a ConstTensor is what the IR promises, picks the
// smallest encoding for float data (dense, bitmask, u16 deltas, u32 indices — by exact byte
// count) and writes the payload little-endian. A tensor marked int8 (ConstTensor.quant) is
// stored as int8 values + scales, in whichever of the four index forms is smallest.
import { ModelFormatError } from '../errors.js';
import type { ConstTensor, DType, TensorArray } from '../graph/ir.js';
import { checkQuant } from '../graph/quant.js';
import { ARRAY_TYPES } from '../graph/tensor.js';
import { align, DTYPE_CODES, Encoding, indexForm, isFloatStorage, isInt8Encoding, LITTLE_ENDIAN, storageWidth } from './layout.js';

type StoredDType = Exclude<DType, 'string'>;
export interface PlannedTensor {
  tensor: ConstTensor;
  dtype: StoredDType;
  encoding: number;
  /** Stored values: numel for raw, the non-zero count for sparse encodings. */
  valueCount: number;
  byteLength: number;
  /** The int8 encodings: the quantization axis, the scales and the int8 values (all numel of them). */
  int8?: { axis: number; scales: Float32Array; q: Int8Array };
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
  if (t.quant !== undefined) {
    if (!isFloatStorage(dtype)) fail(`is ${dtype} but marked int8 (only float tensors are quantized)`);
    const q = new Int8Array(n);
    const why = checkQuant(t.data as Float32Array, t.dims, t.quant, q);
    if (why) fail(why);
    const C = t.dims[t.quant.axis];
    const { nnz, deltasFit } = nonZeros(q);
    let best = { encoding: Encoding.INT8 as number, bytes: int8Bytes(Encoding.INT8, n, n, C) };
    const consider = (encoding: number): void => {
      const bytes = int8Bytes(encoding, n, nnz, C);
      if (bytes < best.bytes) best = { encoding, bytes };
    };
    consider(Encoding.INT8_BITMASK);
    if (deltasFit) consider(Encoding.INT8_DELTA16);
    consider(Encoding.INT8_INDEX32);
    const valueCount = best.encoding === Encoding.INT8 ? n : nnz;
    return { tensor: t, dtype, encoding: best.encoding, valueCount, byteLength: best.bytes, int8: { axis: t.quant.axis, scales: t.quant.scales, q } };
  }
  if (!isFloatStorage(dtype)) return { tensor: t, dtype, encoding: Encoding.RAW, valueCount: n, byteLength: dense };

  const { nnz, deltasFit } = nonZeros(u32View(t.data as Float32Array));
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

/** Non-zero count, and whether every gap between non-zeros fits a u16 delta. */
function nonZeros(a: Uint32Array | Int8Array): { nnz: number; deltasFit: boolean } {
  let nnz = 0;
  let prev = -1;
  let deltasFit = true;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 0) continue;
    // the first delta is the index itself (from -1 + 1 = 0), later ones the gap to the previous
    if (i - (prev < 0 ? 0 : prev) > 0xffff) deltasFit = false;
    prev = i;
    nnz++;
  }
  return { nnz, deltasFit };
}

/** Bytes of the index part of a sparse form (BITMASK, DELTA16, INDEX32; 0 for RAW) for `k` of `n` elements. */
export function indexBytes(form: number, n: number, k: number): number {
  switch (form) {
    case Encoding.BITMASK:
      return align(Math.ceil(n / 8), 4);
    case Encoding.DELTA16:
      return align(2 * k, 4);
    case Encoding.INDEX32:
      return 4 * k;
    default:
      return 0;
  }
}

/** Payload bytes of a sparse float encoding of `n` elements with `k` stored values (reader uses it too). */
export function sparseBytes(encoding: number, n: number, k: number): number {
  return indexBytes(encoding, n, k) + 4 * k;
}

/** Payload bytes of an int8 encoding: `C` scales, the index part, `k` int8 values (reader uses it too). */
export function int8Bytes(encoding: number, n: number, k: number, C: number): number {
  return 4 * C + indexBytes(indexForm(encoding), n, k) + k;
}

function u32View(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** Writes the planned payload at out[offset, offset + byteLength). `out` is zero-filled. */
export function writePayload(p: PlannedTensor, out: Uint8Array, offset: number): void {
  const data = p.tensor.data;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (p.int8 && isInt8Encoding(p.encoding)) {
    const { scales, q } = p.int8;
    scales.forEach((s, c) => view.setFloat32(offset + 4 * c, s, true));
    const at = offset + 4 * scales.length;
    if (p.encoding === Encoding.INT8) {
      out.set(new Uint8Array(q.buffer, q.byteOffset, q.length), at);
      return;
    }
    // values follow the index part, which is padded to 4 bytes
    let v = offset + p.byteLength - p.valueCount;
    writeIndex(indexForm(p.encoding), q, out, view, at, (i) => {
      out[v++] = q[i] & 0xff;
    });
    return;
  }
  if (p.encoding === Encoding.RAW) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
    const width = data.BYTES_PER_ELEMENT;
    // typed arrays are host-endian; the format is little-endian
    if (!LITTLE_ENDIAN && width > 1) for (let i = offset; i < offset + data.byteLength; i += width) out.subarray(i, i + width).reverse();
    return;
  }
  const bits = u32View(data as Float32Array);
  let v = offset + p.byteLength - 4 * p.valueCount;
  writeIndex(p.encoding, bits, out, view, offset, (i) => {
    view.setUint32(v, bits[i], true);
    v += 4;
  });
}

/** Writes the index part of `form` for the non-zero elements of `a` at `at`, calling value(i) for each in order. */
function writeIndex(form: number, a: Uint32Array | Int8Array, out: Uint8Array, view: DataView, at: number, value: (i: number) => void): void {
  let k = 0;
  let prev = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 0) continue;
    if (form === Encoding.BITMASK) out[at + (i >>> 3)] |= 1 << (i & 7);
    else if (form === Encoding.DELTA16) view.setUint16(at + 2 * k, i - prev, true);
    else view.setUint32(at + 4 * k, i, true);
    value(i);
    prev = i;
    k++;
  }
}
