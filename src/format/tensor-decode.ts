// Reader side of tensor payloads: one validated table entry + its payload → a ConstTensor. Each
// weight is copied once, straight into the typed array the Graph keeps (sparse forms scatter
// their values into a zero-filled array; int8 forms write q · scale); sparse indices, scales
// and int8 values are checked before they are used.
import { ModelFormatError, OutOfMemoryError } from '../errors.js';
import type { ConstTensor, TensorArray } from '../graph/ir.js';
import { channelGeometry } from '../graph/quant.js';
import { allocArray } from '../graph/tensor.js';
import { Encoding, ENCODING_NAMES, indexForm, isInt8Encoding, LITTLE_ENDIAN } from './layout.js';
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
  if (isInt8Encoding(e.encoding)) return decodeInt8(e, payload, out as Float32Array, index);
  if (e.encoding === Encoding.RAW) copyRaw(payload, out);
  else {
    const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    let v = payload.length - 4 * e.valueCount; // readTable checked the payload length for this layout
    scatter(e, e.encoding, payload, index, (i) => {
      bits[i] = view.getUint32(v, true);
      v += 4;
    });
  }
  return { dtype: e.dtype, dims: e.dims, data: out };
}

/** int8 values + per-channel scales → data[i] = fround(q · scale), with `quant` kept. */
function decodeInt8(e: TableEntry, payload: Uint8Array, out: Float32Array, index: number): ConstTensor {
  const bad = badFor(e, index);
  const [, C, inner] = channelGeometry(e.dims, e.axis);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const scales = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const s = view.getFloat32(4 * c, true);
    if (!(s > 0 && s < Infinity)) bad(`has int8 scale ${s} for channel ${c} (scales must be positive and finite)`);
    scales[c] = s;
  }
  const k = e.valueCount;
  const q = new Int8Array(payload.buffer, payload.byteOffset + payload.length - k, k); // readTable checked the layout
  for (let j = 0; j < k; j++) if (q[j] === -128) bad(`has int8 value -128 at stored value ${j} (symmetric int8 uses [-127, 127])`);
  if (e.encoding === Encoding.INT8) {
    for (let i = 0, c = 0, j = 0; i < k; i++) {
      out[i] = q[i] * scales[c];
      if (++j === inner) {
        j = 0;
        if (++c === C) c = 0;
      }
    }
  } else {
    let v = 0;
    scatter(e, indexForm(e.encoding), payload.subarray(4 * C, payload.length - k), index, (i) => {
      out[i] = q[v++] * scales[Math.floor(i / inner) % C];
    });
  }
  return { dtype: e.dtype, dims: e.dims, data: out, quant: { type: 'int8', axis: e.axis, scales } };
}

function badFor(e: TableEntry, index: number): (what: string) => never {
  return (what) => {
    throw new ModelFormatError(`malformed edgeprune artifact: tensor ${index} (${ENCODING_NAMES[e.encoding]}, dims [${e.dims.join(', ')}]) ${what}`);
  };
}

function copyRaw(payload: Uint8Array, out: TensorArray): void {
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  bytes.set(payload);
  const width = out.BYTES_PER_ELEMENT;
  // the file is little-endian; typed arrays are host-endian
  if (!LITTLE_ENDIAN && width > 1) for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

/**
 * Walks the index part (`form`: BITMASK, DELTA16 or INDEX32) at the start of `index`, checking
 * it, and calls value(i) for each stored element i in order (e.valueCount of them).
 */
function scatter(e: TableEntry, form: number, part: Uint8Array, index: number, value: (i: number) => void): void {
  const bad = badFor(e, index);
  const view = new DataView(part.buffer, part.byteOffset, part.byteLength);
  const n = e.numel;
  const k = e.valueCount;
  if (form === Encoding.BITMASK) {
    const maskBytes = Math.ceil(n / 8);
    // population first: a mismatch must not write anything past the stored values
    let pop = 0;
    for (let b = 0; b < maskBytes; b++) pop += POPCOUNT[part[b]];
    if (pop !== k) bad(`has ${pop} bits set in its mask but stores ${k} values`);
    if (n & 7 && part[maskBytes - 1] >>> (n & 7)) bad(`sets mask bits past its ${n} elements (sparse index out of range)`);
    for (let b = 0; b < maskBytes; b++) {
      let m = part[b];
      while (m) {
        const bit = 31 - Math.clz32(m & -m);
        value(b * 8 + bit);
        m &= m - 1;
      }
    }
    return;
  }
  let prev = -1;
  for (let j = 0; j < k; j++) {
    let i: number;
    if (form === Encoding.DELTA16) {
      const d = view.getUint16(2 * j, true);
      if (j > 0 && d === 0) bad(`has index delta 0 at value ${j}: indices must be strictly increasing`);
      i = j === 0 ? d : prev + d;
    } else {
      i = view.getUint32(4 * j, true);
      if (i <= prev) bad(`has index ${i} after ${prev} at value ${j}: indices must be strictly increasing`);
    }
    if (i >= n) bad(`has sparse index ${i} out of range (${n} elements)`);
    value(i);
    prev = i;
  }
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let c = 0;
  for (let x = b; x; x &= x - 1) c++;
  return c;
});
