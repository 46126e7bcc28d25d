// NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
// magic "\x93NUMPY", a version byte pair, the header length (2 bytes in 1.0, 4 in 2.0 and 3.0),
// a Python dict literal {'descr', 'fortran_order', 'shape'} padded so the data starts on a 64-byte
// boundary, then the raw elements in C order. Every size is checked before anything is allocated.
import { NpyError } from '../errors.js';
import { NPY_DTYPES, SUPPORTED_DESCRS, descrOf, isNpyDtype, parseDescr, type NpyData, type NpyDtype } from './npy-dtype.js';
import { PyLiteralSyntaxError, parsePyLiteral, type PyValue } from './py-literal.js';

export type { NpyData, NpyDtype } from './npy-dtype.js';

export interface NpyArray {
  dtype: NpyDtype;
  dims: number[];
  data: NpyData;
}

/** The most elements one array may hold (typed-array and wasm indexing stay in int32). */
export const NPY_MAX_ELEMENTS = 2 ** 31 - 1;

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;
/** numpy ≥ 1.24 leaves room after the dict so the first axis can grow to this many digits in place. */
const GROWTH_AXIS_MAX_DIGITS = 21;

export function readNpy(bytes: Uint8Array): NpyArray {
  for (let i = 0; i < MAGIC.length; i++) {
    if (i >= bytes.length) throw new NpyError(`truncated .npy file: ${bytes.length} bytes, shorter than the magic string`);
    if (bytes[i] !== MAGIC[i]) throw new NpyError('not a .npy file (bad magic: it does not start with \\x93NUMPY); save arrays with np.save');
  }
  if (bytes.length < 8) throw new NpyError(`truncated .npy file: ${bytes.length} bytes, no version`);
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if ((major !== 1 && major !== 2 && major !== 3) || minor !== 0) {
    throw new NpyError(`unsupported .npy format version ${major}.${minor}; edgeprune reads 1.0, 2.0 and 3.0`);
  }
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw new NpyError(`truncated .npy file: ${bytes.length} bytes, no header length`);
  const headerLen = lenBytes === 2 ? bytes[8]! | (bytes[9]! << 8) : (bytes[8]! | (bytes[9]! << 8) | (bytes[10]! << 16)) + bytes[11]! * 2 ** 24;
  const dataStart = 8 + lenBytes + headerLen;
  if (bytes.length < dataStart) {
    throw new NpyError(`truncated .npy header: the file has ${bytes.length} bytes but the header says it ends at byte ${dataStart}`);
  }
  const header = decodeHeader(bytes.subarray(8 + lenBytes, dataStart), major);
  const { dtype, bigEndian, dims } = interpretHeader(header);

  const count = elementCount(dims);
  const size = NPY_DTYPES[dtype].size;
  const dataBytes = count * size;
  const available = bytes.length - dataStart;
  if (available < dataBytes) {
    throw new NpyError(`truncated .npy data: shape ${shapeText(dims)} of ${dtype} needs ${dataBytes} bytes, the file has ${available}`);
  }
  if (available > dataBytes) {
    throw new NpyError(`.npy file has ${available - dataBytes} bytes after the data of shape ${shapeText(dims)} ${dtype}; it holds more than one array or is corrupt (save one array per file)`);
  }
  // an own, aligned buffer (not bytes.slice: on a Node Buffer that is a view into the shared pool)
  const copy = new Uint8Array(dataBytes);
  copy.set(bytes.subarray(dataStart, dataStart + dataBytes));
  if (bigEndian !== hostIsBigEndian()) swapBytes(copy, size);
  return { dtype, dims, data: NPY_DTYPES[dtype].view(copy.buffer) };
}

export function writeNpy(dtype: NpyDtype, dims: readonly number[], data: NpyData): Uint8Array {
  if (!isNpyDtype(dtype)) {
    // the common slip: the data first (writeNpy(floats, dims)); never print a whole array
    const d: unknown = dtype;
    const what = typeof d === 'string' ? JSON.stringify(d.slice(0, 40)) : ArrayBuffer.isView(d) ? `a ${d.constructor.name} (the data?)` : Object.prototype.toString.call(d);
    throw new NpyError(`unsupported dtype ${what}; writeNpy takes (dtype, dims, data), dtype one of ${Object.keys(NPY_DTYPES).join(', ')}`);
  }
  const info = NPY_DTYPES[dtype];
  if (!info.is(data)) {
    throw new NpyError(`writeNpy: ${dtype} data must be a ${info.view(new ArrayBuffer(0)).constructor.name}, got ${Object.prototype.toString.call(data).slice(8, -1)}`);
  }
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new NpyError(`writeNpy: dims must be non-negative integers, got ${shapeText(dims)}`);
  }
  const count = elementCount(dims);
  if (count !== data.length) throw new NpyError(`writeNpy: shape ${shapeText(dims)} holds ${count} elements but the data has ${data.length}`);

  let dict = `{'descr': '${descrOf(dtype)}', 'fortran_order': False, 'shape': ${shapeText(dims)}, }`;
  if (dims.length > 0) dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(dims[0]).length));
  // numpy's _wrap_header: pad with spaces and a final newline so the data starts at a multiple of 64
  // (a header already aligned still gets a full 64 bytes of padding, as numpy does)
  let lenBytes = 2;
  let padded = pad(dict, 10);
  if (padded.length > 0xffff) {
    lenBytes = 4;
    padded = pad(dict, 12);
  }
  const prefix = 8 + lenBytes;
  const out = new Uint8Array(prefix + padded.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = lenBytes === 2 ? 1 : 2;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (lenBytes === 2) view.setUint16(8, padded.length, true);
  else view.setUint32(8, padded.length, true);
  for (let i = 0; i < padded.length; i++) out[prefix + i] = padded.charCodeAt(i);
  const body = out.subarray(prefix + padded.length);
  body.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  if (hostIsBigEndian()) swapBytes(body, info.size);
  return out;
}

/** Python's repr of a shape tuple: (), (5,), (2, 3). */
export function shapeText(dims: readonly number[]): string {
  return dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
}

function pad(dict: string, prefixLen: number): string {
  const hlen = dict.length + 1;
  const padLen = ALIGN - ((prefixLen + hlen) % ALIGN);
  return dict + ' '.repeat(padLen) + '\n';
}

function decodeHeader(raw: Uint8Array, major: number): string {
  if (major === 3) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw new NpyError('.npy 3.0 header is not valid UTF-8; the file is corrupt');
    }
  }
  let s = '';
  for (let i = 0; i < raw.length; i++) s += String.fromCharCode(raw[i]!); // latin-1
  return s;
}

function interpretHeader(text: string): { dtype: NpyDtype; bigEndian: boolean; dims: number[] } {
  let v: PyValue;
  try {
    v = parsePyLiteral(text);
  } catch (e) {
    if (e instanceof PyLiteralSyntaxError) throw new NpyError(`.npy header is not a valid Python dict literal: ${e.message}`);
    throw e;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new NpyError('.npy header is not a dict; the file is corrupt');
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!(key in v)) throw new NpyError(`.npy header has no '${key}' key; the file is corrupt`);
  }
  const { descr, fortran_order: fortran, shape } = v as { descr: PyValue; fortran_order: PyValue; shape: PyValue };
  if (typeof descr !== 'string') {
    throw new NpyError(`unsupported dtype (a structured or record dtype); edgeprune reads ${SUPPORTED_DESCRS}`);
  }
  const { dtype, bigEndian } = parseDescr(descr);
  if (typeof fortran !== 'boolean') throw new NpyError(".npy header's fortran_order is not True or False; the file is corrupt");
  if (!Array.isArray(shape) || !shape.every((d): d is number => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new NpyError(`.npy header's shape must be a tuple of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  // with at most one axis longer than 1 the Fortran and C layouts hold the same bytes
  if (fortran && shape.filter((d) => d > 1).length > 1) {
    throw new NpyError(`the .npy array of shape ${shapeText(shape)} is stored in Fortran order; edgeprune reads C order only: save it with np.save(path, np.ascontiguousarray(arr))`);
  }
  return { dtype, bigEndian, dims: shape };
}

/** The product of dims, refusing more than NPY_MAX_ELEMENTS without ever forming a huge product. */
function elementCount(dims: readonly number[]): number {
  if (dims.includes(0)) return 0;
  let n = 1;
  for (const d of dims) {
    n *= d; // both factors are at most 2^53, so the float product is exact enough to compare
    if (n > NPY_MAX_ELEMENTS) {
      throw new NpyError(`shape ${shapeText(dims)} has more than ${NPY_MAX_ELEMENTS} (2^31 - 1) elements; edgeprune arrays are limited to that, split the array`);
    }
  }
  return n;
}

let bigEndianHost: boolean | undefined;
function hostIsBigEndian(): boolean {
  bigEndianHost ??= new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;
  return bigEndianHost;
}

function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}
