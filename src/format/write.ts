// Graph → .epm bytes (layout.ts). The graph is checked as it is encoded (the same reference rules
// exportOnnx applies), tensors get the smallest encoding, and the whole artifact is assembled in
// one zero-filled buffer: header, section table, graph JSON, tensor table, payloads.
// writeArtifact stores the graph simplified (graph/passes/simplify.ts) and says so in the header:
// the inference-only `edgeprune/runtime` plans artifacts as stored and carries no simplifier.
import { ModelFormatError } from '../errors.js';
import type { Graph } from '../graph/ir.js';
import { simplify } from '../graph/passes/simplify.js';
import { checkReferences } from './check.js';
import { crc32 } from './crc32.js';
import { encodeGraph } from './graph-encode.js';
import { align, FORMAT_VERSION, HEADER_BYTES, HeaderFlags, MAGIC, MAX_U32, PAYLOAD_ALIGN, SECTION_ALIGN, SECTION_ENTRY_BYTES, SectionKind } from './layout.js';
import { planTensor, writePayload, type PlannedTensor } from './tensor-encode.js';
import { tableBytes, writeTable } from './tensor-table.js';

const utf8 = new TextEncoder();

const fail = (what: string): never => {
  throw new ModelFormatError(`cannot write the artifact: ${what}`);
};

/** Serializes a Graph, simplified, as an edgeprune model artifact (the bytes of a .epm file). */
export function writeArtifact(graph: Graph): Uint8Array {
  if (graph === null || typeof graph !== 'object') fail('writeArtifact takes a Graph');
  checkReferences(graph, fail); // before simplify, which assumes every value it reads is defined
  return serializeArtifact(simplify(graph), HeaderFlags.SIMPLIFIED);
}

/**
 * The artifact bytes of `graph` exactly as given, with these header flags. writeArtifact is what
 * tools call; this is the serializer alone (round-trip tests of graphs simplify would change).
 */
export function serializeArtifact(graph: Graph, flags = 0): Uint8Array {
  if (graph === null || typeof graph !== 'object') fail('serializeArtifact takes a Graph');
  const tensors: PlannedTensor[] = [];
  const json = encodeGraph(graph, (t, where) => tensors.push(planTensor(t, where)) - 1);
  checkReferences(graph, fail);
  const graphBytes = utf8.encode(JSON.stringify(json));

  const offsets: number[] = [];
  let dataLength = 0;
  for (const t of tensors) {
    dataLength = align(dataLength, PAYLOAD_ALIGN);
    offsets.push(dataLength);
    dataLength += t.byteLength;
  }
  const sections = [
    { kind: SectionKind.GRAPH, length: graphBytes.length, offset: 0 },
    { kind: SectionKind.TENSOR_TABLE, length: tableBytes(tensors), offset: 0 },
    { kind: SectionKind.TENSOR_DATA, length: dataLength, offset: 0 },
  ];
  let end = HEADER_BYTES + SECTION_ENTRY_BYTES * sections.length;
  for (const s of sections) {
    s.offset = align(end, SECTION_ALIGN);
    end = s.offset + s.length;
  }
  if (end > MAX_U32) fail(`the model needs ${end} bytes, over the format's 4 GiB limit`);

  const out = new Uint8Array(end);
  const view = new DataView(out.buffer);
  sections.forEach((s, i) => {
    const at = HEADER_BYTES + SECTION_ENTRY_BYTES * i;
    view.setUint32(at, s.kind, true);
    view.setUint32(at + 4, s.offset, true);
    view.setUint32(at + 8, s.length, true);
  });
  out.set(graphBytes, sections[0].offset);
  writeTable(tensors, offsets, view, sections[1].offset);
  tensors.forEach((t, i) => writePayload(t, out, sections[2].offset + offsets[i]));

  out.set(MAGIC, 0);
  view.setUint16(8, FORMAT_VERSION, true);
  view.setUint16(10, flags, true);
  view.setUint32(12, sections.length, true);
  view.setUint32(16, end, true);
  view.setUint32(20, crc32(out.subarray(HEADER_BYTES)), true);
  return out;
}
