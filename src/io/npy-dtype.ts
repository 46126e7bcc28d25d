// The .npy element types edgeprune reads and writes, and the typed array that holds each.
import { NpyError } from '../errors.js';

export type NpyDtype = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'int8' | 'bool';
export type NpyData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Int8Array;

interface DtypeInfo {
  /** numpy's kind letter and size, as in the descr '<f4' */
  kind: 'f' | 'i' | 'u' | 'b';
  size: 1 | 4 | 8;
  /** builds the typed array over a whole ArrayBuffer */
  view(buffer: ArrayBuffer): NpyData;
  is(data: unknown): data is NpyData;
}

export const NPY_DTYPES: Readonly<Record<NpyDtype, DtypeInfo>> = {
  float32: { kind: 'f', size: 4, view: (b) => new Float32Array(b), is: (d) => d instanceof Float32Array },
  float64: { kind: 'f', size: 8, view: (b) => new Float64Array(b), is: (d) => d instanceof Float64Array },
  int64: { kind: 'i', size: 8, view: (b) => new BigInt64Array(b), is: (d) => d instanceof BigInt64Array },
  int32: { kind: 'i', size: 4, view: (b) => new Int32Array(b), is: (d) => d instanceof Int32Array },
  uint8: { kind: 'u', size: 1, view: (b) => new Uint8Array(b), is: (d) => d instanceof Uint8Array },
  int8: { kind: 'i', size: 1, view: (b) => new Int8Array(b), is: (d) => d instanceof Int8Array },
  bool: { kind: 'b', size: 1, view: (b) => new Uint8Array(b), is: (d) => d instanceof Uint8Array },
};

export const SUPPORTED_DESCRS = "'<f4' (float32), '<f8' (float64), '<i8' (int64), '<i4' (int32), '|u1' (uint8), '|i1' (int8), '|b1' (bool), or their '>' (big-endian) and '=' variants";

export function isNpyDtype(s: string): s is NpyDtype {
  return Object.prototype.hasOwnProperty.call(NPY_DTYPES, s);
}

/** The descr numpy writes for dtype on a little-endian host: '<f4', '|u1', ... */
export function descrOf(dtype: NpyDtype): string {
  const d = NPY_DTYPES[dtype];
  return `${d.size === 1 ? '|' : '<'}${d.kind}${d.size}`;
}

/**
 * Parses a descr string. `bigEndian` tells whether the stored bytes must be swapped on read;
 * '=' (native) and '|' (not applicable) are taken as little-endian, which is every host numpy
 * and edgeprune run on in practice.
 */
export function parseDescr(descr: string): { dtype: NpyDtype; bigEndian: boolean } {
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  if (m) {
    const [, order, kind, sizeText] = m;
    const size = Number(sizeText);
    for (const name of Object.keys(NPY_DTYPES) as NpyDtype[]) {
      const d = NPY_DTYPES[name];
      if (d.kind === kind && d.size === size) return { dtype: name, bigEndian: order === '>' && size > 1 };
    }
  }
  throw new NpyError(`unsupported dtype ${JSON.stringify(descr)}; edgeprune reads ${SUPPORTED_DESCRS} (convert with arr.astype(np.float32) before np.save)`);
}
