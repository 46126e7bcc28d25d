// A lean ONNX protobuf encoder, the mirror of decode.ts: it writes the same message shapes
// (decode.ts' interfaces, plus ModelProto.ir_version) with protobufjs' wire-format Writer, so
// decodeModel(encodeModel(m)) gives m back. export.ts builds these objects from a Graph.
//
// Fields go out in field-number order, as protoc serializes them. Repeated scalars follow
// onnx.proto (a proto2 file): TensorProto's *_data fields are declared [packed = true] and are
// written packed; dims, AttributeProto.floats/ints are plain repeated fields and are written one
// element per tag, as onnx's own serializer does. Absent (undefined) fields are not written.
import protobuf from 'protobufjs/minimal.js';
import type {
  AttributeProto,
  Dimension,
  GraphProto,
  Int64,
  ModelProto,
  NodeProto,
  OperatorSetIdProto,
  SparseTensorProto,
  StringStringEntryProto,
  TensorProto,
  TensorShapeProto,
  TypeProto,
  TypeProtoTensor,
  ValueInfoProto,
} from './decode.js';

type Writer = protobuf.Writer;

/** A ModelProto as encoded: decode.ts' fields plus the IR version the file declares. */
export interface ModelProtoOut extends ModelProto {
  irVersion?: Int64;
}

const VARINT = 0;
const LEN = 2;
const I32 = 5;

/** Serializes a ModelProto. The result owns its buffer (never a view into a shared pool). */
export function encodeModel(m: ModelProtoOut): Uint8Array {
  const w = new protobuf.Writer();
  writeModel(w, m);
  // finish() may hand out a slice of protobufjs' shared slab for small outputs: copy, so that
  // callers may write `bytes.buffer` to a file safely.
  return w.finish(true).slice();
}

function tag(w: Writer, field: number, wire: number): Writer {
  return w.uint32(((field << 3) | wire) >>> 0);
}

/** A length-delimited submessage. */
function message<T>(w: Writer, field: number, m: T, write: (w: Writer, m: T) => void): void {
  tag(w, field, LEN).fork();
  write(w, m);
  w.ldelim();
}

function messages<T>(w: Writer, field: number, ms: readonly T[] | undefined, write: (w: Writer, m: T) => void): void {
  for (const m of ms ?? []) message(w, field, m, write);
}

function str(w: Writer, field: number, v: string | undefined): void {
  if (v !== undefined) tag(w, field, LEN).string(v);
}

function bytes(w: Writer, field: number, v: Uint8Array | undefined): void {
  if (v !== undefined) tag(w, field, LEN).bytes(v);
}

function int32(w: Writer, field: number, v: number | undefined): void {
  if (v !== undefined) tag(w, field, VARINT).int32(v);
}

function int64(w: Writer, field: number, v: Int64 | undefined): void {
  if (v !== undefined) tag(w, field, VARINT).int64(v);
}

/** Unpacked repeated int64: one tag per element. */
function int64sUnpacked(w: Writer, field: number, vs: readonly Int64[] | undefined): void {
  for (const v of vs ?? []) tag(w, field, VARINT).int64(v);
}

/** Packed repeated field; nothing at all when empty (an empty packed field is legal but noise). */
function packed<T>(w: Writer, field: number, vs: readonly T[] | undefined, write: (w: Writer, v: T) => void): void {
  if (!vs || vs.length === 0) return;
  tag(w, field, LEN).fork();
  for (const v of vs) write(w, v);
  w.ldelim();
}

function writeModel(w: Writer, m: ModelProtoOut): void {
  int64(w, 1, m.irVersion);
  str(w, 2, m.producerName);
  str(w, 3, m.producerVersion);
  if (m.graph) message(w, 7, m.graph, writeGraph);
  messages(w, 8, m.opsetImport, writeOpset);
}

function writeOpset(w: Writer, m: OperatorSetIdProto): void {
  str(w, 1, m.domain);
  int64(w, 2, m.version);
}

function writeGraph(w: Writer, m: GraphProto): void {
  messages(w, 1, m.node, writeNode);
  str(w, 2, m.name);
  messages(w, 5, m.initializer, writeTensor);
  messages(w, 11, m.input, writeValueInfo);
  messages(w, 12, m.output, writeValueInfo);
  messages(w, 13, m.valueInfo, writeValueInfo);
  messages(w, 15, m.sparseInitializer, writeSparseTensor);
}

function writeNode(w: Writer, m: NodeProto): void {
  for (const s of m.input ?? []) tag(w, 1, LEN).string(s);
  for (const s of m.output ?? []) tag(w, 2, LEN).string(s);
  str(w, 3, m.name);
  str(w, 4, m.opType);
  messages(w, 5, m.attribute, writeAttribute);
  str(w, 7, m.domain);
}

function writeAttribute(w: Writer, m: AttributeProto): void {
  str(w, 1, m.name);
  if (m.f !== undefined) tag(w, 2, I32).float(m.f);
  int64(w, 3, m.i);
  bytes(w, 4, m.s);
  if (m.t) message(w, 5, m.t, writeTensor);
  if (m.g) message(w, 6, m.g, writeGraph);
  for (const f of m.floats ?? []) tag(w, 7, I32).float(f);
  int64sUnpacked(w, 8, m.ints);
  for (const s of m.strings ?? []) tag(w, 9, LEN).bytes(s);
  int32(w, 20, m.type);
  if (m.sparseTensor) message(w, 22, m.sparseTensor, writeSparseTensor);
}

function writeTensor(w: Writer, m: TensorProto): void {
  int64sUnpacked(w, 1, m.dims);
  int32(w, 2, m.dataType);
  packed(w, 4, m.floatData, (w, v) => w.float(v));
  packed(w, 5, m.int32Data, (w, v) => w.int32(v));
  packed(w, 7, m.int64Data, (w, v) => w.int64(v));
  str(w, 8, m.name);
  bytes(w, 9, m.rawData);
  packed(w, 10, m.doubleData, (w, v) => w.double(v));
  packed(w, 11, m.uint64Data, (w, v) => w.uint64(v));
  messages(w, 13, m.externalData, writeStringStringEntry);
  int32(w, 14, m.dataLocation);
}

function writeStringStringEntry(w: Writer, m: StringStringEntryProto): void {
  str(w, 1, m.key);
  str(w, 2, m.value);
}

function writeSparseTensor(w: Writer, m: SparseTensorProto): void {
  if (m.values) message(w, 1, m.values, writeTensor);
  if (m.indices) message(w, 2, m.indices, writeTensor);
  int64sUnpacked(w, 3, m.dims);
}

function writeValueInfo(w: Writer, m: ValueInfoProto): void {
  str(w, 1, m.name);
  if (m.type) message(w, 2, m.type, writeType);
}

function writeType(w: Writer, m: TypeProto): void {
  if (m.tensorType) message(w, 1, m.tensorType, writeTensorType);
}

function writeTensorType(w: Writer, m: TypeProtoTensor): void {
  int32(w, 1, m.elemType);
  if (m.shape) message(w, 2, m.shape, writeShape);
}

function writeShape(w: Writer, m: TensorShapeProto): void {
  messages(w, 1, m.dim, writeDimension);
}

function writeDimension(w: Writer, m: Dimension): void {
  int64(w, 1, m.dimValue);
  str(w, 2, m.dimParam);
}
