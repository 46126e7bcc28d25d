// A lean ONNX protobuf decoder: only the messages and fields the importer (import.ts) reads, on
// protobufjs' wire-format Reader. Replaces onnx-proto's generated code at runtime (which defines
// encode/decode/verify/fromObject/toObject for every ONNX message and costs tens of ms to load).
//
// The objects have the shape of onnx-proto's decoded messages (camelCase names, repeated fields as
// arrays, bytes as Uint8Array views into the input, int64 as number or a Long-like {low, high}),
// except that a field absent from the file is absent from the object (no prototype defaults):
// readers use `?? default`, and an attribute's `s`/`f`/`i` are own properties exactly when present.
//
// Unknown fields, and known fields arriving with an unexpected wire type, are skipped. Repeated
// scalars are accepted packed and unpacked. Any malformed input (truncated, a length past the end
// of its message, an invalid wire type or varint, nesting deeper than 100 messages) throws.
import protobuf from 'protobufjs/minimal.js';
import { utf8 } from './utf8.js';

type Reader = protobuf.Reader;

/** A 64-bit integer: a number when |value| ≤ 2^53 (exact), else its two's-complement halves. */
export type Int64 = number | LongBits;

/** The bits of an int64 too large for a double, in the shape of a `long` package Long. */
export interface LongBits {
  low: number;
  high: number;
  unsigned: boolean;
}

export interface OperatorSetIdProto {
  domain?: string;
  version?: Int64;
}

export interface ModelProto {
  producerName?: string;
  producerVersion?: string;
  graph?: GraphProto;
  opsetImport?: OperatorSetIdProto[];
}

export interface GraphProto {
  name?: string;
  node?: NodeProto[];
  initializer?: TensorProto[];
  sparseInitializer?: SparseTensorProto[];
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute?: AttributeProto[];
}

export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  sparseTensor?: SparseTensorProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
}

export interface StringStringEntryProto {
  key?: string;
  value?: string;
}

export interface TensorProto {
  name?: string;
  dims?: Int64[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: Int64[];
  doubleData?: number[];
  uint64Data?: Int64[];
  rawData?: Uint8Array;
  externalData?: StringStringEntryProto[];
  dataLocation?: number;
}

export interface SparseTensorProto {
  values?: TensorProto;
  indices?: TensorProto;
  dims?: Int64[];
}

export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
}

export interface TypeProto {
  tensorType?: TypeProtoTensor;
}

export interface TypeProtoTensor {
  elemType?: number;
  shape?: TensorShapeProto;
}

export interface TensorShapeProto {
  dim?: Dimension[];
}

export interface Dimension {
  dimValue?: Int64;
  dimParam?: string;
}

/** AttributeProto.AttributeType (onnx.proto). */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  SPARSE_TENSOR: 11,
  TYPE_PROTO: 13,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSORS: 12,
  TYPE_PROTOS: 14,
} as const;

const ATTRIBUTE_TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(AttributeType).map(([k, v]) => [v, k]));

/** The schema's name of an attribute kind (`INTS`), or undefined for a code it does not define. */
export function attributeTypeName(code: number): string | undefined {
  return ATTRIBUTE_TYPE_NAMES[code];
}

const DATA_TYPE_NAMES = ['UNDEFINED', 'FLOAT', 'UINT8', 'INT8', 'UINT16', 'INT16', 'INT32', 'INT64', 'STRING', 'BOOL', 'FLOAT16', 'DOUBLE', 'UINT32', 'UINT64', 'COMPLEX64', 'COMPLEX128', 'BFLOAT16', 'FLOAT8E4M3FN', 'FLOAT8E4M3FNUZ', 'FLOAT8E5M2', 'FLOAT8E5M2FNUZ', 'UINT4', 'INT4', 'FLOAT4E2M1'];

/** The schema's name of a TensorProto.DataType code (`BFLOAT16`), or undefined if unknown. */
export function dataTypeName(code: number): string | undefined {
  return DATA_TYPE_NAMES[code];
}

/** TensorProto.DataLocation.EXTERNAL */
export const DATA_LOCATION_EXTERNAL = 1;

// ---------------------------------------------------------------------------------------------

// wire types
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

const MAX_DEPTH = 100; // protoc's default recursion limit

/**
 * Decodes the bytes of a .onnx file. Byte fields are views into `bytes` (copy what you keep past
 * its lifetime). Throws on malformed input.
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  // browsers' TextDecoder refuses views of shared memory (str below): read a private copy of those
  if (typeof SharedArrayBuffer !== 'undefined' && bytes.buffer instanceof SharedArrayBuffer) bytes = bytes.slice();
  // a plain Uint8Array view, so that byte fields are plain views too (not Node Buffers)
  const r = new protobuf.Reader(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const model = readModel(r, 0);
  if (r.pos !== r.len) throw new RangeError(`protobuf ends inside a field at offset ${r.pos}`);
  return model;
}

/** A string field (src/onnx/utf8.ts says how it is decoded fast). */
function str(r: Reader): string {
  const n = r.uint32();
  const end = r.pos + n;
  if (end > r.len) throw outOfRange(r, `a string of ${n} bytes`);
  const s = utf8(r.buf, r.pos, end);
  r.pos = end;
  return s;
}

function outOfRange(r: Reader, what: string): RangeError {
  return new RangeError(`${what} at offset ${r.pos} runs past the end of its message (${r.len})`);
}

/**
 * Reads a length-delimited submessage: the reader's limit is narrowed to the submessage while
 * `read` runs, so no field inside can run past its end.
 */
function sub<T>(r: Reader, depth: number, read: (r: Reader, depth: number) => T): T {
  if (depth >= MAX_DEPTH) throw new RangeError(`protobuf messages nested deeper than ${MAX_DEPTH}`);
  const n = r.size();
  const end = r.pos + n;
  if (end > r.len) throw outOfRange(r, `a message of ${n} bytes`);
  const limit = r.len;
  r.len = end;
  const m = read(r, depth + 1);
  r.len = limit;
  return m;
}

/** int64 / uint64 varint: a number when exact, else the bits as a Long-like object. */
function int64(r: Reader, unsigned: boolean): Int64 {
  const buf = r.buf;
  const len = r.len;
  let pos = r.pos;
  let lo = 0;
  let hi = 0;
  let b: number;
  let done = false;
  // bytes 1-4: bits 0-27
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= len) throw outOfRange(r, 'a varint');
    b = buf[pos++];
    lo |= (b & 127) << shift;
    if (b < 128) {
      done = true;
      break;
    }
  }
  if (!done) {
    // byte 5: bits 28-34
    if (pos >= len) throw outOfRange(r, 'a varint');
    b = buf[pos++];
    lo |= (b & 127) << 28;
    hi = (b & 127) >> 4;
    if (b >= 128) {
      // bytes 6-10: bits 35-63 (the rest of a 10-byte varint is dropped, as protobuf does)
      for (let shift = 3; ; shift += 7) {
        if (shift > 31) throw new Error(`invalid varint encoding at offset ${r.pos}`);
        if (pos >= len) throw outOfRange(r, 'a varint');
        b = buf[pos++];
        hi |= (b & 127) << shift;
        if (b < 128) break;
      }
    }
  }
  r.pos = pos;
  if (unsigned) {
    const h = hi >>> 0;
    if (h < 0x200000) return h * 4294967296 + (lo >>> 0);
  } else {
    hi |= 0;
    if (hi >= -0x200000 && hi < 0x200000) return hi * 4294967296 + (lo >>> 0);
  }
  return { low: lo | 0, high: hi | 0, unsigned };
}

/** A repeated int64/uint64 field, packed (wire type 2) or one element (wire type 0). */
function int64s(r: Reader, wire: number, into: Int64[] | undefined, unsigned: boolean): Int64[] {
  const out = into ?? [];
  if (wire === VARINT) {
    out.push(int64(r, unsigned));
    return out;
  }
  const n = r.size();
  const end = r.pos + n;
  if (end > r.len) throw outOfRange(r, `a packed field of ${n} bytes`);
  const limit = r.len;
  r.len = end;
  while (r.pos < end) out.push(int64(r, unsigned));
  r.len = limit;
  return out;
}

/** A repeated int32 field, packed or not. */
function int32s(r: Reader, wire: number, into: number[] | undefined): number[] {
  if (wire === VARINT) {
    const out = into ?? [];
    out.push(r.int32());
    return out;
  }
  return r.int32s(into);
}

/** A repeated float field, packed or not. */
function floats(r: Reader, wire: number, into: number[] | undefined): number[] {
  if (wire === I32) {
    const out = into ?? [];
    out.push(r.float());
    return out;
  }
  return r.floats(into);
}

/** A repeated double field, packed or not. */
function doubles(r: Reader, wire: number, into: number[] | undefined): number[] {
  if (wire === I64) {
    const out = into ?? [];
    out.push(r.double());
    return out;
  }
  return r.doubles(into);
}

function push<T>(into: T[] | undefined, v: T): T[] {
  if (into) {
    into.push(v);
    return into;
  }
  return [v];
}

// Each reader loops over the fields up to the reader's current limit. `tag >>> 3` is the field
// number, `tag & 7` the wire type; a field whose wire type is not the schema's is skipped as
// unknown (repeated scalars accept both their own wire type and 2, packed).

function readModel(r: Reader, depth: number): ModelProto {
  const m: ModelProto = {};
  while (r.pos < r.len) {
    const tag = r.tag();
    switch ((tag & 7) === LEN ? tag >>> 3 : -1) {
      case 2:
        m.producerName = str(r);
        break;
      case 3:
        m.producerVersion = str(r);
        break;
      case 7:
        m.graph = sub(r, depth, readGraph);
        break;
      case 8:
        m.opsetImport = push(m.opsetImport, sub(r, depth, readOpset));
        break;
      default:
        skip(r, tag, depth);
    }
  }
  return m;
}

function readOpset(r: Reader): OperatorSetIdProto {
  const m: OperatorSetIdProto = {};
  while (r.pos < r.len) {
    const tag = r.tag();
    if (tag === ((1 << 3) | LEN)) m.domain = str(r);
    else if (tag === ((2 << 3) | VARINT)) m.version = int64(r, false);
    else skip(r, tag, 0);
  }
  return m;
}

function readGraph(r: Reader, depth: number): GraphProto {
  const m: GraphProto = {};
  while (r.pos < r.len) {
    const tag = r.tag();
    switch ((tag & 7) === LEN ? tag >>> 3 : -1) {
      case 1:
        m.node = push(m.node, sub(r, depth, readNode));
        break;
      case 2:
        m.name = str(r);
        break;
      case 5:
        m.initializer = push(m.initializer, sub(r, depth, readTensor));
        break;
      case 15:
        m.sparseInitializer = push(m.sparseInitializer, sub(r, depth, readSparseTensor));
        break;
      case 11:
        m.input = push(m.input, sub(r, depth, readValueInfo));
        break;
      case 12:
        m.output = push(m.output, sub(r, depth, readValueInfo));
        break;
      case 13:
        m.valueInfo = push(m.valueInfo, sub(r, depth, readValueInfo));
        break;
      default:
        skip(r, tag, depth);
    }
  }
  return m;
}

function readNode(r: Reader, depth: number): NodeProto {
  const m: NodeProto = {};
  while (r.pos < r.len) {
    const tag = r.tag();
    switch ((tag & 7) === LEN ? tag >>> 3 : -1) {
      case 1:
        m.input = push(m.input, str(r));
        break;
      case 2:
        m.output = push(m.output, str(r));
        break;
      case 3:
        m.name = str(r);
        break;
      case 4:
        m.opType = str(r);
        break;
      case 7:
        m.domain = str(r);
        break;
      case 5:
        m.attribute = push(m.attribute, sub(r, depth, readAttribute));
        break;
      default:
        skip(r, tag, depth);
    }
  }
  return m;
}

function readAttribute(r: Reader, depth: number): AttributeProto {
  const m: AttributeProto = {};
  while (r.pos < r.len) {
    const tag = r.tag();
    const wire = tag & 7;
    switch (tag >>> 3) {
      case 1:
        if (wire !== LEN) break;
        m.name = str(r);
        continue;
      case 20:
        if (wire !== VARINT) break;
        m.type = r.int32();
        continue;
      case 2:
        if (wire !== I32) break;
        m.f = r.float();
        continue;
      case 3:
        if (wire !== VARINT) break;
        m.i = int64(r, false);
        continue;
      case 4:
        if (wire !== LEN) break;
        m.s = r.bytes();
        continue;
      case 5:
        if (wire !== LEN) break;
        m.t = sub(r, depth, readTensor);
        continue;
      case 6:
        if (wire !== LEN) break;
        m.g = sub(r, depth, readGraph);
        continue;
      case 22:
        if (wire !== LEN) break;
        m.sparseTensor = sub(r, depth, readSparseTensor);
        continue;
      case 7:
        if (wire !== LEN && wire !== I32) break;
        m.floats = floats(r, wire, m.floats);
        continue;
      case 8:
        if (wire !== LEN && wire !== VARINT) break;
        m.ints = int64s(r, wire, m.ints, false);
        continue;
      case 9:
        if (wire !== LEN) break;
        m.strings = push(m.strings, r.bytes());
        continue;
    }
    skip(r, tag, depth);
  }
  return m;
}

function readTensor(r: Reader, depth: number): TensorProto {
  const m: TensorProto = {};
  while (r.pos < r.len) {
    const tag = r.tag();
    const wire = tag & 7;
    switch (tag >>> 3) {
      case 1:
        if (wire !== LEN && wire !== VARINT) break;
        m.dims = int64s(r, wire, m.dims, false);
        continue;
      case 2:
        if (wire !== VARINT) break;
        m.dataType = r.int32();
        continue;
      case 4:
        if (wire !== LEN && wire !== I32) break;
        m.floatData = floats(r, wire, m.floatData);
        continue;
      case 5:
        if (wire !== LEN && wire !== VARINT) break;
        m.int32Data = int32s(r, wire, m.int32Data);
        continue;
      case 7:
        if (wire !== LEN && wire !== VARINT) break;
        m.int64Data = int64s(r, wire, m.int64Data, false);
        continue;
      case 8:
        if (wire !== LEN) break;
        m.name = str(r);
        continue;
      case 9:
        if (wire !== LEN) break;
        m.rawData = r.bytes();
        continue;
      case 10:
        if (wire !== LEN && wire !== I64) break;
        m.doubleData = doubles(r, wire, m.doubleData);
        continue;
      case 11:
        if (wire !== LEN && wire !== VARINT) break;
        m.uint64Data = int64s(r, wire, m.uint64Data, true);
        continue;
      case 13:
        if (wire !== LEN) break;
        m.externalData = push(m.externalData, sub(r, depth, readStringStringEntry));
        continue;
      case 14:
        if (wire !== VARINT) break;
        m.dataLocation = r.int32();
        continue;
    }
    skip(r, tag, depth);
  }
  return m;
}

function readStringStringEntry(r: Reader): StringStringEntryProto {
  const m: StringStringEntryProto = {};
  while (r.pos < r.len) {
    const tag = r.tag();
    if (tag === ((1 << 3) | LEN)) m.key = str(r);
    else if (tag === ((2 << 3) | LEN)) m.value = str(r);
    else skip(r, tag, 0);
  }
  return m;
}

function readSparseTensor(r: Reader, depth: number): SparseTensorProto {
  const m: SparseTensorProto = {};
  while (r.pos < r.len) {
    const tag = r.tag();
    const wire = tag & 7;
    const field = tag >>> 3;
    if (field === 1 && wire === LEN) m.values = sub(r, depth, readTensor);
    else if (field === 2 && wire === LEN) m.indices = sub(r, depth, readTensor);
    else if (field === 3 && (wire === LEN || wire === VARINT)) m.dims = int64s(r, wire, m.dims, false);
    else skip(r, tag, depth);
  }
  return m;
}

function readValueInfo(r: Reader, depth: number): ValueInfoProto {
  const m: ValueInfoProto = {};
  while (r.pos < r.len) {
    const tag = r.tag();
    if (tag === ((1 << 3) | LEN)) m.name = str(r);
    else if (tag === ((2 << 3) | LEN)) m.type = sub(r, depth, readType);
    else skip(r, tag, depth);
  }
  return m;
}

function readType(r: Reader, depth: number): TypeProto {
  const m: TypeProto = {};
  while (r.pos < r.len) {
    const tag = r.tag();
    // sequence, map, optional and sparse types are skipped: the importer reads tensors only
    if (tag === ((1 << 3) | LEN)) m.tensorType = sub(r, depth, readTensorType);
    else skip(r, tag, depth);
  }
  return m;
}

function readTensorType(r: Reader, depth: number): TypeProtoTensor {
  const m: TypeProtoTensor = {};
  while (r.pos < r.len) {
    const tag = r.tag();
    if (tag === ((1 << 3) | VARINT)) m.elemType = r.int32();
    else if (tag === ((2 << 3) | LEN)) m.shape = sub(r, depth, readShape);
    else skip(r, tag, depth);
  }
  return m;
}

function readShape(r: Reader, depth: number): TensorShapeProto {
  const m: TensorShapeProto = {};
  while (r.pos < r.len) {
    const tag = r.tag();
    if (tag === ((1 << 3) | LEN)) m.dim = push(m.dim, sub(r, depth, readDimension));
    else skip(r, tag, depth);
  }
  return m;
}

function readDimension(r: Reader): Dimension {
  const m: Dimension = {};
  while (r.pos < r.len) {
    const tag = r.tag();
    if (tag === ((1 << 3) | VARINT)) m.dimValue = int64(r, false);
    else if (tag === ((2 << 3) | LEN)) m.dimParam = str(r);
    else skip(r, tag, 0);
  }
  return m;
}

/**
 * Skips a field this decoder does not read. Throws on field number 0, invalid wire types, varints
 * longer than 10 bytes and unbalanced groups.
 */
function skip(r: Reader, tag: number, depth: number): void {
  if (tag >>> 3 === 0) throw new Error(`invalid protobuf tag ${tag} at offset ${r.pos}`);
  if ((tag & 7) !== VARINT) {
    r.skipType(tag & 7, depth, tag >>> 3);
    return;
  }
  // protobufjs' skip() takes a varint of any length
  const buf = r.buf;
  for (let i = 0; i < 10; i++) {
    if (r.pos >= r.len) throw outOfRange(r, 'a varint');
    if (buf[r.pos++] < 128) return;
  }
  throw new Error(`invalid varint encoding at offset ${r.pos}`);
}
