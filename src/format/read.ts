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
import { openContainer } from './container.js';
import { decodeGraph } from './graph-decode.js';
import { readElastic, type ChooseLevel } from './read-elastic.js';
import { COMPILED_VERSION, ELASTIC_VERSION, FORMAT_VERSION, HeaderFlags, MAGIC, SectionKind } from './layout.js';
import { decodeTensor } from './tensor-decode.js';
import { readTable } from './tensor-table.js';

const PREFIX = 'malformed edgeprune artifact';
const GRAPH_KINDS = [SectionKind.GRAPH, SectionKind.TENSOR_TABLE, SectionKind.TENSOR_DATA];
const ELASTIC_KINDS = [...GRAPH_KINDS, SectionKind.ELASTIC, SectionKind.LEVELS];

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
  const { version, flags, section, headEnd, total } = openContainer(bytes, fail, (v) => (v === FORMAT_VERSION ? GRAPH_KINDS : v === ELASTIC_VERSION ? ELASTIC_KINDS : undefined), (v) =>
    v === COMPILED_VERSION
      ? 'this is a compiled model (edgeprune compile): it runs in edgeprune/runtime, which takes nothing else; give this loader the .epm or .onnx it was compiled from'
      : `unsupported format version ${v}; this edgeprune reads versions ${FORMAT_VERSION} and ${ELASTIC_VERSION} (re-save the model with this version)`);
  const elastic = version === ELASTIC_VERSION;
  if (flags & ~HeaderFlags.SIMPLIFIED) fail(`unknown header flags 0x${flags.toString(16)}`);
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
