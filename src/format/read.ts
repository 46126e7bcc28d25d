// .epm bytes → Graph (layout.ts). Nothing in the file is trusted before it is checked: the magic
// and version, then the length and CRC-32 (so truncation and bit flips stop here), then each
// section's bounds, the tensor table against the data section, the graph JSON field by field,
// and finally the graph's references. Every failure is a ModelFormatError saying what is wrong.
// Version 2 (elastic: one file, many widths) shares the header and section table and is read on
// by read-elastic.ts.
import { ArgumentError, EdgepruneError, ModelFormatError } from '../errors.js';
import type { ConstTensor, Graph } from '../graph/ir.js';
import { TensorBudget, type LoadOptions } from '../graph/load-limits.js';
import { checkReferences } from './check.js';
import { crc32 } from './crc32.js';
import { decodeGraph } from './graph-decode.js';
import { readElastic, type ChooseLevel } from './read-elastic.js';
import { ELASTIC_VERSION, FORMAT_VERSION, HEADER_BYTES, HeaderFlags, MAGIC, SECTION_ALIGN, SECTION_ENTRY_BYTES, SECTION_NAMES, SectionKind } from './layout.js';
import { decodeTensor } from './tensor-decode.js';
import { readTable } from './tensor-table.js';

const PREFIX = 'malformed edgeprune artifact';

function fail(what: string): never {
  throw new ModelFormatError(`${PREFIX}: ${what}`);
}

/** Whether the bytes start with the .epm magic (cheap: decides between this reader and ONNX's). */
export function isArtifact(bytes: Uint8Array): boolean {
  if (!(bytes instanceof Uint8Array) || bytes.length < MAGIC.length) return false;
  return MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * Parses an edgeprune model artifact (the bytes of a .epm file) into a Graph. For an elastic
 * artifact `choose` picks the width from its levels (default: the widest), and `bytes` may be
 * just the prefix of the file that width needs. Decoded tensors may take at most
 * max(options.maxTensorBytes (1 GiB), 8 × the tensor data) bytes: past that, OutOfMemoryError.
 */
export function readArtifact(bytes: Uint8Array, choose?: ChooseLevel, options: LoadOptions = {}): Graph {
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError('readArtifact expects the artifact as a Uint8Array (wrap an ArrayBuffer with new Uint8Array(buffer))');
  try {
    return read(bytes, choose, options);
  } catch (e) {
    if (e instanceof EdgepruneError) throw e;
    // a case the checks did not foresee: still the file's fault for the caller (tests assert it
    // never happens); `cause` keeps the original for bug reports
    const err = new ModelFormatError(`${PREFIX} (internal reader error: ${e instanceof Error ? e.message : String(e)})`);
    (err as Error).cause = e;
    throw err;
  }
}

function read(bytes: Uint8Array, choose: ChooseLevel | undefined, options: LoadOptions): Graph {
  const prefix = Math.min(bytes.length, MAGIC.length);
  if (!MAGIC.subarray(0, prefix).every((b, i) => bytes[i] === b)) fail('bad magic: not an edgeprune artifact (.epm files start with "EPRUNE\\0\\x01")');
  if (bytes.length < HEADER_BYTES) fail(`corrupted or truncated: ${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(8, true);
  const elastic = version === ELASTIC_VERSION;
  if (version !== FORMAT_VERSION && !elastic) fail(`unsupported format version ${version}; this edgeprune reads versions ${FORMAT_VERSION} and ${ELASTIC_VERSION} (re-save the model with this version)`);
  const flags = view.getUint16(10, true);
  if (flags & ~HeaderFlags.SIMPLIFIED) fail(`unknown header flags 0x${flags.toString(16)}`);
  const count = view.getUint32(12, true);
  const total = view.getUint32(16, true);
  // elastic: the CRC covers the head [32, headEnd); the blocks after it carry their own, and a
  // prefix of the file holding the head and the chosen width's blocks is enough
  const headEnd = elastic ? view.getUint32(24, true) : total;
  if (elastic ? total < bytes.length : total !== bytes.length) fail(`corrupted or truncated: the header says ${total} bytes but ${bytes.length} were given`);
  if (elastic && (headEnd > bytes.length || headEnd < HEADER_BYTES || headEnd % SECTION_ALIGN)) fail(`corrupted or truncated: the head of the file ends at ${headEnd} but ${bytes.length} bytes were given`);
  const crc = crc32(bytes.subarray(HEADER_BYTES, headEnd));
  if (crc !== view.getUint32(20, true)) fail(`corrupted or truncated: checksum mismatch (stored CRC-32 0x${view.getUint32(20, true).toString(16)}, computed 0x${crc.toString(16)})`);
  if ((!elastic && view.getUint32(24, true) !== 0) || view.getUint32(28, true) !== 0) fail('non-zero reserved header fields');

  const tableEnd = HEADER_BYTES + SECTION_ENTRY_BYTES * count;
  if (tableEnd > headEnd) fail(`the section table (${count} sections) runs past the end of the ${headEnd}-byte ${elastic ? 'head' : 'file'}`);
  const sections = new Map<number, Uint8Array>();
  const ranges: [number, number, string][] = [];
  for (let i = 0; i < count; i++) {
    const at = HEADER_BYTES + SECTION_ENTRY_BYTES * i;
    const kind = view.getUint32(at, true);
    const offset = view.getUint32(at + 4, true);
    const length = view.getUint32(at + 8, true);
    const name = SECTION_NAMES[kind];
    if (!name || (!elastic && kind > SectionKind.TENSOR_DATA)) fail(`section ${i} has unknown kind ${kind}`);
    if (sections.has(kind)) fail(`the ${name} section appears twice`);
    if (view.getUint32(at + 12, true) !== 0) fail(`section ${i} (${name}) has a non-zero reserved field`);
    if (offset % SECTION_ALIGN !== 0) fail(`the ${name} section at offset ${offset} is not ${SECTION_ALIGN}-byte aligned`);
    if (offset < tableEnd) fail(`the ${name} section at offset ${offset} overlaps the header or section table`);
    if (offset + length > total) fail(`the ${name} section [${offset}, ${offset + length}) runs past the end of the ${total}-byte file`);
    ranges.push([offset, offset + length, name]);
    sections.set(kind, bytes.subarray(offset, offset + length));
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) if (ranges[i][0] < ranges[i - 1][1]) fail(`the ${ranges[i - 1][2]} and ${ranges[i][2]} sections overlap`);
  const section = (kind: number): Uint8Array => sections.get(kind) ?? fail(`the ${SECTION_NAMES[kind]} section is missing`);
  if (elastic) return readElastic(bytes, section, headEnd, total, fail, choose);
  const graphBytes = section(SectionKind.GRAPH);
  const table = section(SectionKind.TENSOR_TABLE);
  const data = section(SectionKind.TENSOR_DATA);

  // decoded tensors may take max(options.maxTensorBytes (1 GiB), 8 × the data section) bytes
  const entries = readTable(table, data.length, new TensorBudget(data.length, options));
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(graphBytes));
  } catch (e) {
    fail(`the graph section is not UTF-8 JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const used = new Uint8Array(entries.length);
  const getTensor = (index: unknown, where: string): ConstTensor => {
    if (!Number.isSafeInteger(index) || (index as number) < 0 || (index as number) >= entries.length) fail(`${where} refers to tensor index ${JSON.stringify(index)}, out of range (the table holds ${entries.length})`);
    const i = index as number;
    if (used[i]) fail(`${where} refers to tensor ${i}, which another value already uses`);
    used[i] = 1;
    return decodeTensor(entries[i], data, i);
  };
  const graph = decodeGraph(json, getTensor);
  const unused = used.indexOf(0);
  if (unused >= 0) fail(`tensor ${unused} of the table is never referenced by the graph`);
  checkReferences(graph, (what) => fail(`graph section: ${what}`));
  return graph;
}
