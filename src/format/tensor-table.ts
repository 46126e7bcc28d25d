// The tensor table section: where each tensor's payload is and how to decode it.
//
//   0  count      u32
//   4  dimCount   u32   total dims of all tensors
//   8  count × 24-byte entries:
//        0 dtype u8 (layout.ts DTYPE_CODES)   1 encoding u8   2 rank u16
//        4 firstDim u32 (index into the dims array)   8 valueCount u32
//       12 axis u32: the quantization axis for the int8 encodings (< rank), else 0 (reserved)
//       16 payload offset u32 (within the data section)   20 payload length u32
//   8 + 24·count: dimCount × u64 dims
//
// readTable checks every field against the section and data sizes before anything is allocated,
// so a decoder can trust an entry's numbers.
import { ModelFormatError } from '../errors.js';
import { TensorBudget } from '../graph/load-limits.js';
import type { DType } from '../graph/ir.js';
import { DTYPE_CODES, DTYPE_OF_CODE, Encoding, ENCODING_NAMES, isFloatStorage, isInt8Encoding, storageWidth } from './layout.js';
import { int8Bytes, sparseBytes, type PlannedTensor } from './tensor-encode.js';

const ENTRY_BYTES = 24;
const TABLE_HEAD = 8;

/** One tensor can decode to at most this many bytes; beyond it the dims are taken as corrupt. */
export const MAX_TENSOR_BYTES = 2 ** 31;
/** All tensors together: more than a wasm32 runtime could ever hold. */
export const MAX_TOTAL_BYTES = 2 ** 32;

export interface TableEntry {
  dtype: Exclude<DType, 'string'>;
  encoding: number;
  dims: number[];
  numel: number;
  valueCount: number;
  /** The int8 encodings' quantization axis (0 otherwise). */
  axis: number;
  offset: number;
  length: number;
}

export function tableBytes(tensors: readonly PlannedTensor[]): number {
  return TABLE_HEAD + ENTRY_BYTES * tensors.length + 8 * tensors.reduce((a, t) => a + t.tensor.dims.length, 0);
}

/** Writes the table at `view`'s offset `at`; offsets[i] is tensor i's payload offset in the data section. */
export function writeTable(tensors: readonly PlannedTensor[], offsets: readonly number[], view: DataView, at: number): void {
  const dimCount = tensors.reduce((a, t) => a + t.tensor.dims.length, 0);
  view.setUint32(at, tensors.length, true);
  view.setUint32(at + 4, dimCount, true);
  let dimAt = at + TABLE_HEAD + ENTRY_BYTES * tensors.length;
  let firstDim = 0;
  tensors.forEach((t, i) => {
    const e = at + TABLE_HEAD + ENTRY_BYTES * i;
    view.setUint8(e, DTYPE_CODES[t.dtype]);
    view.setUint8(e + 1, t.encoding);
    view.setUint16(e + 2, t.tensor.dims.length, true);
    view.setUint32(e + 4, firstDim, true);
    view.setUint32(e + 8, t.valueCount, true);
    view.setUint32(e + 12, t.int8 ? t.int8.axis : 0, true);
    view.setUint32(e + 16, offsets[i], true);
    view.setUint32(e + 20, t.byteLength, true);
    for (const d of t.tensor.dims) {
      view.setBigUint64(dimAt, BigInt(d), true);
      dimAt += 8;
    }
    firstDim += t.tensor.dims.length;
  });
}

/**
 * Parses and validates the table; `dataLength` is the tensor data section's length. Every
 * tensor's decoded size is spent from `budget` (graph/load-limits.ts) here, before any decoding
 * allocates: sparse and int8 payloads are small, but their dims can ask for far more.
 */
export function readTable(table: Uint8Array, dataLength: number, budget: TensorBudget = new TensorBudget(dataLength)): TableEntry[] {
  const bad = (what: string): never => {
    throw new ModelFormatError(`malformed edgeprune artifact: tensor table ${what}`);
  };
  if (table.length < TABLE_HEAD) bad(`is ${table.length} bytes, shorter than its ${TABLE_HEAD}-byte head`);
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const count = view.getUint32(0, true);
  const dimCount = view.getUint32(4, true);
  const want = TABLE_HEAD + ENTRY_BYTES * count + 8 * dimCount;
  if (want !== table.length) bad(`declares ${count} tensors and ${dimCount} dims (${want} bytes) but the section is ${table.length} bytes`);
  const dimsAt = TABLE_HEAD + ENTRY_BYTES * count;
  const entries: TableEntry[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const e = TABLE_HEAD + ENTRY_BYTES * i;
    const where = `entry ${i}`;
    const code = view.getUint8(e);
    const dtype = DTYPE_OF_CODE[code];
    if (!dtype) bad(`${where} has unknown dtype code ${code}`);
    const encoding = view.getUint8(e + 1);
    const rank = view.getUint16(e + 2, true);
    const firstDim = view.getUint32(e + 4, true);
    const valueCount = view.getUint32(e + 8, true);
    const reserved = view.getUint32(e + 12, true);
    const offset = view.getUint32(e + 16, true);
    const length = view.getUint32(e + 20, true);
    const int8 = isInt8Encoding(encoding);
    const axis = int8 ? reserved : 0;
    if (!int8 && reserved !== 0) bad(`${where} has a non-zero reserved field`);
    if (int8 && axis >= rank) bad(`${where}: int8 quantization axis ${axis} is outside its rank ${rank}`);
    if (firstDim + rank > dimCount) bad(`${where}: dims ${firstDim}..${firstDim + rank} lie past the ${dimCount} dims stored`);
    const dims: number[] = [];
    let numel = 1;
    for (let r = 0; r < rank; r++) {
      const d = view.getBigUint64(dimsAt + 8 * (firstDim + r), true);
      if (d > BigInt(Number.MAX_SAFE_INTEGER)) bad(`${where} has dim ${d}, too large`);
      dims.push(Number(d));
    }
    // the product is taken only once every dim is known, capped on the way so it stays exact
    if (dims.includes(0)) {
      numel = 0;
    } else {
      for (const d of dims) if ((numel *= d) > MAX_TENSOR_BYTES) break;
    }
    const width = storageWidth(dtype);
    if (numel * width > MAX_TENSOR_BYTES) bad(`${where} has dims [${dims.join(', ')}], over ${MAX_TENSOR_BYTES} bytes decoded: corrupt dims`);
    total += numel * width;
    if (total > MAX_TOTAL_BYTES) bad(`describes over ${MAX_TOTAL_BYTES} bytes of tensors: corrupt dims`);
    budget.spend(numel * width, `tensor ${i} of the artifact (${dtype} [${dims.join(', ')}])`);
    if (offset > dataLength || length > dataLength - offset) bad(`${where}: payload [${offset}, ${offset + length}) lies past the end of the ${dataLength}-byte data section`);
    const name = ENCODING_NAMES[encoding];
    if (encoding === Encoding.RAW) {
      if (valueCount !== numel) bad(`${where}: dims [${dims.join(', ')}] need ${numel} values but the entry stores ${valueCount}`);
      if (length !== numel * width) bad(`${where}: dims [${dims.join(', ')}] of ${dtype} need ${numel * width} bytes but the payload is ${length}`);
    } else if (encoding === Encoding.BITMASK || encoding === Encoding.DELTA16 || encoding === Encoding.INDEX32) {
      if (!isFloatStorage(dtype)) bad(`${where}: ${name} encoding on a ${dtype} tensor (only float tensors are stored sparse)`);
      if (valueCount > numel) bad(`${where}: ${valueCount} stored values for dims [${dims.join(', ')}] (${numel} elements)`);
      const need = sparseBytes(encoding, numel, valueCount);
      if (length !== need) bad(`${where}: ${name} payload of ${valueCount} values over ${numel} elements needs ${need} bytes but is ${length}`);
    } else if (int8) {
      if (!isFloatStorage(dtype)) bad(`${where}: ${name} encoding on a ${dtype} tensor (only float tensors are stored int8)`);
      if (encoding === Encoding.INT8 ? valueCount !== numel : valueCount > numel) bad(`${where}: ${valueCount} stored values for dims [${dims.join(', ')}] (${numel} elements)`);
      const need = int8Bytes(encoding, numel, valueCount, dims[axis]);
      if (length !== need) bad(`${where}: ${name} payload of ${valueCount} values over ${numel} elements and ${dims[axis]} scales needs ${need} bytes but is ${length}`);
    } else {
      bad(`${where} has unknown encoding ${encoding}`);
    }
    entries.push({ dtype, encoding, dims, numel, valueCount, axis, offset, length });
  }
  return entries;
}
