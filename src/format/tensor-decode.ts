// Reader side of tensor payloads: one validated table entry + its payload → a ConstTensor. Each
// weight is copied once, straight into the typed array the Graph keeps (sparse forms scatter
// their values into a zero-filled array); sparse indices are checked before they are used.
import { ModelFormatError, OutOfMemoryError } from '../errors.js';
import type { ConstTensor, TensorArray } from '../graph/ir.js';
import { allocArray } from '../graph/tensor.js';
import { Encoding, ENCODING_NAMES, LITTLE_ENDIAN } from './layout.js';
import type { TableEntry } from './tensor-table.js';

/** Decodes tensor `index` from `data` (the tensor data section). */
export function decodeTensor(e: TableEntry, data: Uint8Array, index: number): ConstTensor {
  const payload = data.subarray(e.offset, e.offset + e.length);
  let out: TensorArray;
  try {
    out = allocArray(e.dtype, e.numel); // numel was bounded by readTable
  } catch (err) {
    throw new OutOfMemoryError(`cannot allocate tensor ${index} (${e.dtype} [${e.dims.join(', ')}]): ${err instanceof Error ? err.message : String(err)}`);
  }
  if (e.encoding === Encoding.RAW) copyRaw(payload, out);
  else scatter(e, payload, new Uint32Array(out.buffer, out.byteOffset, out.length), index);
  return { dtype: e.dtype, dims: e.dims, data: out };
}

function copyRaw(payload: Uint8Array, out: TensorArray): void {
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  bytes.set(payload);
  const width = out.BYTES_PER_ELEMENT;
  // the file is little-endian; typed arrays are host-endian
  if (!LITTLE_ENDIAN && width > 1) for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

function scatter(e: TableEntry, payload: Uint8Array, out: Uint32Array, index: number): void {
  const bad = (what: string): never => {
    throw new ModelFormatError(`malformed edgeprune artifact: tensor ${index} (${ENCODING_NAMES[e.encoding]}, dims [${e.dims.join(', ')}]) ${what}`);
  };
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const n = e.numel;
  const k = e.valueCount;
  const valuesAt = payload.length - 4 * k; // readTable checked the payload length for this layout
  if (e.encoding === Encoding.BITMASK) {
    const maskBytes = Math.ceil(n / 8);
    // population first: a mismatch must not write anything past the stored values
    let pop = 0;
    for (let b = 0; b < maskBytes; b++) pop += POPCOUNT[payload[b]];
    if (pop !== k) bad(`has ${pop} bits set in its mask but stores ${k} values`);
    if (n & 7 && payload[maskBytes - 1] >>> (n & 7)) bad(`sets mask bits past its ${n} elements (sparse index out of range)`);
    let v = valuesAt;
    for (let b = 0; b < maskBytes; b++) {
      let m = payload[b];
      while (m) {
        const bit = 31 - Math.clz32(m & -m);
        out[b * 8 + bit] = view.getUint32(v, true);
        v += 4;
        m &= m - 1;
      }
    }
    return;
  }
  let prev = -1;
  for (let j = 0; j < k; j++) {
    let i: number;
    if (e.encoding === Encoding.DELTA16) {
      const d = view.getUint16(2 * j, true);
      if (j > 0 && d === 0) bad(`has index delta 0 at value ${j}: indices must be strictly increasing`);
      i = j === 0 ? d : prev + d;
    } else {
      i = view.getUint32(4 * j, true);
      if (i <= prev) bad(`has index ${i} after ${prev} at value ${j}: indices must be strictly increasing`);
    }
    if (i >= n) bad(`has sparse index ${i} out of range (${n} elements)`);
    out[i] = view.getUint32(valuesAt + 4 * j, true);
    prev = i;
  }
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let c = 0;
  for (let x = b; x; x &= x - 1) c++;
  return c;
});
