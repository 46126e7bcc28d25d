// The elastic artifact (version 2; written by write-elastic.ts): one file, many widths. Its head
// (header, section table, graph, tensor table, elastic and levels sections) is covered by the
// header's CRC; the tensor data after it is blocks, narrowest width first, each with its own
// CRC-32 in the levels section. A width reads the head and its blocks, a prefix of the file, and
// nothing else. A tensor that narrows is stored as shells, one table entry per block: the
// elements that first appear at that block's width, in row-major order; it is put back together
// here from the shells of the blocks read. A narrower width's graph is the widest graph's JSON
// with that width's patches applied (node attributes, value dims, tensor references).
//
//   LEVELS section: per level, widest first, 40 bytes: channels f64 (the fraction of each
//     narrowing group's channels kept), accuracy f64 (NaN: not recorded), weightBytes u32,
//     peakBytes u32 and memoryBytes u32 (a session at that width, measured when written; 0: not
//     measured), bytes u32 (the prefix of the file it reads), crc u32 (CRC-32 of the block it
//     adds: from the next narrower level's bytes, or headEnd, to its own), reserved u32 (0).
//   ELASTIC section, UTF-8 JSON: { p: per level, widest first, the graph patches
//     [key, index (-1: the whole array), value][]; t: per narrowing tensor [dims,
//     [[axis, blocks]...], shell table entries (narrowest block first)] }, where blocks holds one
//     base-36 digit per index along the axis: the narrowest-first block the index appears in.
//   A graph refers to narrowing tensor j as index j, and to tensor table entry e as t.length + e.
import type { ConstTensor, Graph, TensorArray } from '../graph/ir.js';
import { allocArray } from '../graph/tensor.js';
import { checkReferences } from './check.js';
import { crc32 } from './crc32.js';
import { decodeGraph } from './graph-decode.js';
import { SECTION_NAMES, SectionKind } from './layout.js';
import { decodeTensor } from './tensor-decode.js';
import { readTable } from './tensor-table.js';

export interface ElasticLevel {
  /** Fraction of each narrowing channel group's channels kept (1: the full model). */
  channels: number;
  /** Packed weights of a session at this width, measured when the file was written (0: not measured). */
  weightBytes: number;
  /** That session's activation arena (planned peak), measured when written (0: not measured). */
  peakBytes: number;
  /**
   * The wasm memory that session took (whole 64 KiB pages: kernels' static data, weights, tables,
   * arena), measured when written (0: not measured): what SessionOptions.memoryBudget caps.
   */
  memoryBytes: number;
  /** Bytes of the file this width reads: a prefix. */
  bytes: number;
  /** Accuracy on labelled data, when it was recorded at fit time. */
  accuracy?: number;
}

/** Picks the level to read: an index into levels (widest first). */
export type ChooseLevel = (levels: ElasticLevel[]) => number;

export const LEVEL_BYTES = 40;
const PATCHABLE = ['inputs', 'outputs', 'valueInfo', 'initializers', 'nodes'];
const isArr: (x: unknown) => x is any[] = Array.isArray;

/**
 * The rest of readArtifact for version 2, given the checked header and sections. Structure the
 * head's CRC already guards is still validated, with short messages (only a crafted file gets
 * there); what a user can cause (a short prefix, a damaged block) says what to do.
 */
export function readElastic(bytes: Uint8Array, section: (kind: number) => Uint8Array, headEnd: number, total: number, fail: (what: string) => never, choose?: ChooseLevel): Graph {
  const bad: (what: string) => never = (what) => fail(`elastic ${what} malformed`);
  const at = (s: Uint8Array) => s.byteOffset - bytes.byteOffset;
  for (const k of [SectionKind.GRAPH, SectionKind.TENSOR_TABLE, SectionKind.ELASTIC, SectionKind.LEVELS]) if (at(section(k)) + section(k).length > headEnd) bad('head');
  if (at(section(SectionKind.TENSOR_DATA)) !== headEnd) bad('head');
  const json = (kind: number): any => {
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(section(kind)));
    } catch {
      bad(`${SECTION_NAMES[kind]} section`);
    }
  };

  const lv = section(SectionKind.LEVELS);
  const n = lv.length / LEVEL_BYTES;
  if (!n || n % 1) bad('levels section');
  const v = new DataView(lv.buffer, lv.byteOffset, lv.length);
  const levels: ElasticLevel[] = [];
  const crcs: number[] = [];
  for (let i = 0, o = 0; i < n; i++, o += LEVEL_BYTES) {
    const channels = v.getFloat64(o, true);
    const accuracy = v.getFloat64(o + 8, true);
    const end = v.getUint32(o + 28, true);
    const prev = levels[i - 1];
    // widths strictly decreasing in (0, 1]; prefixes shrinking from the whole file to the head
    if (!(channels > 0 && channels < (prev?.channels ?? 2) && channels <= 1) || end > (prev?.bytes ?? total) || end < headEnd || (!prev && end !== total) || v.getUint32(o + 36, true)) bad(`level ${i} is`);
    levels.push({ channels, weightBytes: v.getUint32(o + 16, true), peakBytes: v.getUint32(o + 20, true), memoryBytes: v.getUint32(o + 24, true), bytes: end, ...(accuracy === accuracy ? { accuracy } : {}) });
    crcs.push(v.getUint32(o + 32, true));
  }
  const level = choose ? choose(levels) : 0;
  const need = levels[level].bytes;
  const width = (i: number) => `${+(100 * levels[i].channels).toFixed(2)}% width`;
  if (bytes.length < need) fail(`truncated: the ${width(level)} reads the first ${need} bytes of the file but ${bytes.length} were given (pass the whole file, or a smaller width or memoryBudget)`);
  for (let i = n - 1, start = headEnd; i >= level; start = levels[i--].bytes) {
    if (crc32(bytes.subarray(start, levels[i].bytes)) !== crcs[i]) fail(`corrupted or truncated: checksum mismatch in the block the ${width(i)} adds (bytes ${start}..${levels[i].bytes})`);
  }

  const entries = readTable(section(SectionKind.TENSOR_TABLE), total - headEnd);
  const data = bytes.subarray(headEnd, need);
  const decode = (e: number): ConstTensor => (entries[e].offset + entries[e].length > data.length ? bad(`tensor ${e} is`) : decodeTensor(entries[e], data, e));
  const ej = json(SectionKind.ELASTIC);
  const T: unknown = ej?.t;
  if (!isArr(ej?.p) || ej.p.length !== n || !isArr(T)) bad('section');
  const shell = new Uint8Array(entries.length);
  const narrow = T.map((t: unknown, j: number) => {
    const no: () => never = () => bad(`tensor ${j} is`);
    const [dims, axes, shells] = isArr(t) ? t : [];
    if (!isArr(dims) || !dims.length || !dims.every((d) => Number.isSafeInteger(d) && d > 0) || !isArr(axes) || !isArr(shells) || shells.length !== n) no();
    const blk: (Uint8Array | undefined)[] = [];
    for (const a of axes) {
      const [axis, s] = isArr(a) ? a : [];
      if (!(axis >= 0 && axis < dims.length) || blk[axis] || typeof s !== 'string' || s.length !== dims[axis]) no();
      blk[axis] = Uint8Array.from(s, (c: string) => (parseInt(c, 36) < n ? parseInt(c, 36) : no()));
    }
    // each shell: a 1-D entry holding the elements the block map puts in that block
    let below = 0;
    for (let b = 0; b < n; b++) {
      const e = shells[b];
      const en = entries[e];
      if (!en || shell[e]) no();
      shell[e] = 1;
      const upTo = dims.reduce((p: number, d: number, a: number) => p * (blk[a] ? blk[a]!.reduce((c, x) => c + +(x <= b), 0) : d), 1);
      if (en.dims.length !== 1 || en.numel !== upTo - below || en.dtype !== entries[shells[0]].dtype) no();
      below = upTo;
    }
    return { dims: dims as number[], blk, shells: shells as number[] };
  });

  // the tensor at this width: the elements of blocks 0..B, walked in row-major order of what is kept
  const B = n - 1 - level;
  const assemble = (j: number): ConstTensor => {
    const { dims, blk, shells } = narrow[j];
    const kept = dims.map((d, a) => Array.from({ length: d }, (_, k) => k).filter((k) => (blk[a]?.[k] ?? 0) <= B));
    const streams = shells.slice(0, B + 1).map((e) => decode(e).data as Float32Array);
    const pos = streams.map(() => 0);
    const dtype = entries[shells[0]].dtype;
    const out = allocArray(dtype, kept.reduce((p, k) => p * k.length, 1)) as TensorArray as Float32Array;
    let o = 0;
    const walk = (a: number, s: number): void => {
      const bs = blk[a];
      for (const k of kept[a]) {
        const t = bs && bs[k] > s ? bs[k] : s;
        if (a < dims.length - 1) walk(a + 1, t);
        else out[o++] = streams[t][pos[t]++];
      }
    };
    walk(0, 0);
    return { dtype, dims: kept.map((k) => k.length), data: out };
  };

  const g = json(SectionKind.GRAPH);
  for (const p of isArr(ej.p[level]) ? ej.p[level] : bad('patch')) {
    const [key, i, value] = isArr(p) ? p : [];
    const list = PATCHABLE.includes(key) ? g?.[key] : 0;
    if (!isArr(list) || !(i === -1 || (Number.isInteger(i) && i >= 0 && i < list.length))) bad('patch');
    if (i === -1) g[key] = value;
    else list[i] = value;
  }
  const used = new Set<number>();
  const E = narrow.length;
  const graph = decodeGraph(g, (index, where) => {
    const i = index as number;
    if (!Number.isSafeInteger(i) || i < 0 || i >= E + entries.length || shell[i - E] || used.has(i)) fail(`${where} refers to tensor ${JSON.stringify(index)}: out of range or already used`);
    used.add(i);
    return i < E ? assemble(i) : decode(i - E);
  });
  checkReferences(graph, (what) => fail(`graph section: ${what}`));
  return graph;
}
