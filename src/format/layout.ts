// The .epm (edgeprune model) container layout: every constant a writer and a reader must agree on.
// All integers are little-endian. Offsets and lengths are u32, so an artifact is < 4 GiB (a wasm32
// runtime cannot hold a larger model anyway).
//
//   header (32 bytes)
//     0  magic        8 bytes  'E' 'P' 'R' 'U' 'N' 'E' 0x00 0x01
//     8  version      u16      FORMAT_VERSION
//    10  flags        u16      HeaderFlags (a reader refuses bits it does not know)
//    12  sections     u32      number of section table entries
//    16  total        u32      byte length of the whole artifact
//    20  crc32        u32      CRC-32 (IEEE) of bytes [32, total): section table + sections
//    24  reserved     u32 × 2  0
//   section table (at 32): per section 16 bytes: kind u32, offset u32, length u32, reserved u32 (0)
//   sections: each starts on a 64-byte boundary (so payloads can later be mapped and handed to
//   SIMD kernels without re-alignment); padding between them is zero.
//
// Version 2 (ELASTIC_VERSION) is the elastic artifact (write-elastic.ts, read-elastic.ts): the same
// header except that bytes 24..28 hold headEnd and the CRC covers only [32, headEnd) (the head:
// section table, graph, tensor table, elastic and levels sections); the tensor data after it is
// blocks, narrowest width first, each with its own CRC in the levels section, so a width is read
// from a prefix of the file without touching the rest. A version-1 reader refuses it by version.
//
// Section kinds: see SectionKind. The graph section is UTF-8 JSON (graph-json.ts documents
// the schema) referring to tensors by index into the tensor table (tensor-table.ts documents its
// entries); tensor payloads live in the data section, each 16-byte aligned within it.
import type { DType } from '../graph/ir.js';
import { ONNX_DTYPE_CODES } from '../graph/tensor.js';

export const MAGIC = Uint8Array.of(0x45, 0x50, 0x52, 0x55, 0x4e, 0x45, 0x00, 0x01); // "EPRUNE\0\x01"
export const FORMAT_VERSION = 1;
/** The elastic artifact's version (one file, many widths; see above). */
export const ELASTIC_VERSION = 2;
/** The compiled model's version (src/compile/, read by edgeprune/runtime: read-compiled.ts). */
export const COMPILED_VERSION = 3;
export const HEADER_BYTES = 32;
export const SECTION_ENTRY_BYTES = 16;
export const SECTION_ALIGN = 64;
export const PAYLOAD_ALIGN = 16;
export const MAX_U32 = 0xffffffff;

export const HeaderFlags = {
  /**
   * The graph was simplified when written (graph/passes/simplify.ts: identities removed, constants
   * and constant Ifs folded, dead code dropped), so a reader can plan it as stored: the inference-only
   * `edgeprune/runtime` carries no simplifier and loads only artifacts with this flag.
   */
  SIMPLIFIED: 1,
} as const;

export const SectionKind = {
  /** UTF-8 JSON: the graph structure, tensors referenced by index. */
  GRAPH: 1,
  /** Binary tensor table: dtype, encoding, dims and payload location per tensor. */
  TENSOR_TABLE: 2,
  /** Tensor payloads. */
  TENSOR_DATA: 3,
  /** Elastic artifacts: UTF-8 JSON, per-width graph patches and the block map of each narrowing tensor. */
  ELASTIC: 4,
  /** Elastic artifacts: binary, one 32-byte entry per width (read-elastic.ts). */
  LEVELS: 5,
  /** Compiled models: UTF-8 JSON, what runs (compiled-layout.ts). */
  PLAN: 6,
  /** Compiled models: binary, the wasm memory image. */
  IMAGE: 7,
  /** Compiled models: binary, the kernel calls of one run. */
  CALLS: 8,
} as const;

export const SECTION_NAMES: Record<number, string> = { 1: 'graph', 2: 'tensor table', 3: 'tensor data', 4: 'elastic', 5: 'levels', 6: 'plan', 7: 'image', 8: 'calls' };

/**
 * How a tensor's payload is stored. The sparse forms exist for float storage only (float32, and
 * float16 which the IR holds widened to float32): "zero" means the bit pattern +0.0, so -0.0 and
 * NaNs are kept as values and a round trip is bit-exact.
 *
 * The int8 encodings (4..7) hold a tensor marked int8 (ConstTensor.quant, graph/quant.ts): the
 * same four index forms (encoding & 3) over int8 values, preceded by the per-channel scales.
 * Payload: C f32 scales (C = dims[axis], the axis in the table entry), then the index part of
 * the form (as for floats; none for INT8), then the stored int8 values (numel for INT8, else the
 * non-zero count). Decoding gives data[i] = fround(q · scale[channel of i]); scales must be
 * positive and finite and q in [-127, 127].
 */
export const Encoding = {
  /** Dense: every element, little-endian, at the storage width. */
  RAW: 0,
  /** ceil(n/8) mask bytes (bit i, LSB first, set ⇔ element i stored), zero-padded to 4, then the stored u32 values. */
  BITMASK: 1,
  /** valueCount u16 index deltas (first = index, then index − previous ≥ 1), zero-padded to 4, then the values. */
  DELTA16: 2,
  /** valueCount u32 strictly increasing indices, then the values. */
  INDEX32: 3,
  /** int8 with per-channel scales: C f32 scales, then numel int8 values. */
  INT8: 4,
  /** int8, zeros dropped: scales, the BITMASK mask, then the non-zero int8 values. */
  INT8_BITMASK: 5,
  /** int8, zeros dropped: scales, the DELTA16 deltas, then the non-zero int8 values. */
  INT8_DELTA16: 6,
  /** int8, zeros dropped: scales, the INDEX32 indices, then the non-zero int8 values. */
  INT8_INDEX32: 7,
} as const;

export const ENCODING_NAMES: Record<number, string> = { 0: 'raw', 1: 'bitmask', 2: 'delta16', 3: 'index32', 4: 'int8', 5: 'int8-bitmask', 6: 'int8-delta16', 7: 'int8-index32' };

/** Whether an encoding stores int8 values with scales. */
export function isInt8Encoding(encoding: number): boolean {
  return encoding >= Encoding.INT8 && encoding <= Encoding.INT8_INDEX32;
}

/** The index form of an encoding: RAW (dense), BITMASK, DELTA16 or INDEX32. */
export function indexForm(encoding: number): number {
  return encoding & 3;
}

/** Tensor dtype codes: ONNX TensorProto.DataType numbers (string, 8, cannot be stored). */
export const DTYPE_CODES: Readonly<Record<Exclude<DType, 'string'>, number>> = Object.fromEntries(
  Object.entries(ONNX_DTYPE_CODES).filter(([d]) => d !== 'string'),
) as Record<Exclude<DType, 'string'>, number>;

export const DTYPE_OF_CODE: Record<number, Exclude<DType, 'string'>> = Object.fromEntries(Object.entries(DTYPE_CODES).map(([k, v]) => [v, k])) as Record<number, Exclude<DType, 'string'>>;

/** Bytes per stored element: the IR's in-memory width (float16 is stored as its widened float32 bits, which keeps values a pass computed exact). */
export function storageWidth(dtype: Exclude<DType, 'string'>): number {
  switch (dtype) {
    case 'float64':
    case 'int64':
    case 'uint64':
      return 8;
    case 'float32':
    case 'float16':
    case 'int32':
    case 'uint32':
      return 4;
    case 'int16':
    case 'uint16':
      return 2;
    default:
      return 1;
  }
}

/** Whether the dtype's data is a Float32Array, the only storage the sparse encodings apply to. */
export function isFloatStorage(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float16';
}

export function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
