// Writing the elastic artifact (version 2; read-elastic.ts documents the layout): the model at
// several widths in one file, laid out so that a width is a prefix of it. Which channels each
// width keeps is decided by the caller (src/fit/elastic.ts: channel groups in importance
// order); this file only stores the widths' graphs and tensors:
//   - each level's graph is encoded, and every level after the first is stored as a patch of the
//     first one's JSON (only what the channel cut changed: dims, attributes, small constants);
//   - a tensor that narrows is stored once, split into shells, one per block: an element belongs
//     to the largest block of its indices (block 0: kept at every width, block n-1: only at the
//     widest), so blocks 0..b are exactly the elements of the (b+1)-th narrowest width; every
//     other tensor is stored once however many levels use it;
//   - each level's graph is stored simplified (header flag SIMPLIFIED, as writeArtifact does), and
//     each level's narrowing tensors are checked to be exactly the slices its blocks keep;
//   - the data section is block 0 (the other tensors and every narrowing tensor's core), then
//     block 1, ..., so the narrowest width reads the least; each block gets its own CRC-32.
import { ModelFormatError } from '../errors.js';
import type { ConstTensor, Graph, TensorArray } from '../graph/ir.js';
import { simplify } from '../graph/passes/simplify.js';
import { allocArray } from '../graph/tensor.js';
import { checkReferences } from './check.js';
import { crc32 } from './crc32.js';
import { encodeGraph } from './graph-encode.js';
import type { JGraph } from './graph-json.js';
import { align, ELASTIC_VERSION, HEADER_BYTES, HeaderFlags, MAGIC, MAX_U32, PAYLOAD_ALIGN, SECTION_ALIGN, SECTION_ENTRY_BYTES, SectionKind } from './layout.js';
import { LEVEL_BYTES } from './read-elastic.js';
import { planTensor, writePayload, type PlannedTensor } from './tensor-encode.js';
import { tableBytes, writeTable } from './tensor-table.js';

export interface ElasticSpec {
  /** The model at each width, widest first: levels[0] is the full model, each later one a channel cut of it. */
  levels: { channels: number; graph: Graph }[];
  /**
   * The initializers of levels[0].graph that narrow, by name: per narrowing axis, the block of each
   * index (0: kept at every width, n-1: kept by the widest only). Level i keeps the indices in
   * blocks 0..n-1-i, and its graph's initializer of that name must be exactly that slice.
   */
  tensors: Map<string, { axis: number; blocks: Uint8Array }[]>;
}

/** Per-level measurements recorded in the file (setElasticStats). */
export interface ElasticStats {
  weightBytes: number;
  peakBytes: number;
  memoryBytes: number;
  accuracy?: number;
}

const PATCHED = ['inputs', 'outputs', 'valueInfo', 'initializers', 'nodes'] as const;
const SECTIONS = [SectionKind.GRAPH, SectionKind.TENSOR_TABLE, SectionKind.ELASTIC, SectionKind.LEVELS, SectionKind.TENSOR_DATA];
const utf8 = new TextEncoder();

function fail(what: string): never {
  throw new ModelFormatError(`cannot write the elastic artifact: ${what}`);
}

/** Serializes the widths of a model as one elastic .epm (weights and peak memory left unmeasured: see setElasticStats). */
export function writeElasticArtifact(spec: ElasticSpec): Uint8Array {
  const n = spec.levels.length;
  if (n < 1 || n > 36) fail(`${n} levels (1 to 36 are possible)`);
  spec.levels.forEach((l, i) => {
    if (!(l.channels > 0 && l.channels <= 1) || (i > 0 && l.channels >= spec.levels[i - 1].channels)) fail(`level ${i} keeps ${l.channels} of the channels (want fractions in (0, 1], strictly decreasing)`);
  });
  const graphs = spec.levels.map(({ graph }, li) => {
    checkReferences(graph, (w) => fail(`level ${li}: ${w}`)); // before simplify, which assumes every value it reads is defined
    return simplify(graph);
  });
  const g0 = graphs[0];
  const narrow = [...spec.tensors].filter(([name, axes]) => {
    const t = g0.initializers.get(name);
    if (!t) return false;
    for (const { axis, blocks } of axes) if (t.dims[axis] !== blocks.length || blocks.some((b) => b >= n)) fail(`the block map of '${name}' axis ${axis} does not fit its dims [${t.dims.join(', ')}] and ${n} levels`);
    return t.data.length > 0 && axes.some((a) => a.blocks.some((b) => b > 0));
  });
  const E = narrow.length;
  const blockMaps = narrow.map(([name, axes]) => {
    const m: (Uint8Array | undefined)[] = g0.initializers.get(name)!.dims.map(() => undefined);
    for (const { axis, blocks } of axes) m[axis] = blocks;
    return m;
  });

  // every level's graph, sharing tensor indices: narrowing tensor j is index j; the others are
  // stored once (by object, else by content) and are E + their table index
  const plain: PlannedTensor[] = [];
  const byObject = new Map<ConstTensor, number>();
  const byContent = new Map<string, number[]>();
  const jsons: JGraph[] = graphs.map((graph, li) => {
    const narrowAt = new Map<ConstTensor, number>();
    narrow.forEach(([name], j) => {
      const t = graph.initializers.get(name);
      const full = g0.initializers.get(name)!;
      const want = kept(full, blockMaps[j], n - 1 - li);
      if (!t || t.dims.join() !== want.dims.join() || !sameTensor({ ...t, quant: undefined }, want)) fail(`level ${li}'s '${name}' ([${t?.dims.join(', ')}]) is not the slice of [${full.dims.join(', ')}] its block map keeps`);
      narrowAt.set(t, j);
    });
    const used = new Set<number>();
    return encodeGraph(graph, (t, where) => {
      const j = narrowAt.get(t);
      if (j !== undefined) {
        narrowAt.delete(t);
        return j;
      }
      let p = byObject.get(t);
      if (p === undefined || used.has(p)) {
        const key = `${t.dtype}|${t.dims.join()}|${t.quant?.axis}`;
        const same = byContent.get(key) ?? [];
        p = same.find((q) => !used.has(q) && sameTensor(plain[q].tensor, t));
        if (p === undefined) {
          p = plain.push(planTensor(t, where)) - 1;
          byContent.set(key, [...same, p]);
        }
        byObject.set(t, p);
      }
      used.add(p);
      return E + p;
    });
  });
  const patches = jsons.map((j) => patch(jsons[0], j));

  // the narrowing tensors' shells, entry P + j·n + b; the data: block 0 (every plain tensor and
  // the shells of block 0), block 1, ...
  const P = plain.length;
  const table = [...plain];
  narrow.forEach(([name], j) => {
    const t = g0.initializers.get(name)!;
    shells(t, blockMaps[j], n).forEach((s, b) => table.push(planTensor(s, `shell ${b} of '${name}'`)));
  });
  const offsets: number[] = [];
  const blockEnd: number[] = [];
  let end = 0;
  const place = (i: number) => {
    end = align(end, PAYLOAD_ALIGN);
    offsets[i] = end;
    end += table[i].byteLength;
  };
  for (let p = 0; p < P; p++) place(p);
  for (let b = 0; b < n; b++) {
    for (let j = 0; j < E; j++) place(P + j * n + b);
    blockEnd.push(end);
  }

  const elastic = utf8.encode(JSON.stringify({
    p: patches,
    t: narrow.map(([name, axes], j) => [g0.initializers.get(name)!.dims, axes.map((a) => [a.axis, Array.from(a.blocks, (b) => b.toString(36)).join('')]), Array.from({ length: n }, (_, b) => P + j * n + b)]),
  }));
  const graphBytes = utf8.encode(JSON.stringify(jsons[0]));
  const lengths = [graphBytes.length, tableBytes(table), elastic.length, n * LEVEL_BYTES];
  const at: number[] = [];
  let head = HEADER_BYTES + SECTION_ENTRY_BYTES * SECTIONS.length;
  for (const len of lengths) {
    at.push((head = align(head, SECTION_ALIGN)));
    head += len;
  }
  const headEnd = align(head, SECTION_ALIGN);
  const total = headEnd + end;
  if (total > MAX_U32) fail(`the model needs ${total} bytes, over the format's 4 GiB limit`);

  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  SECTIONS.forEach((kind, i) => {
    const e = HEADER_BYTES + SECTION_ENTRY_BYTES * i;
    view.setUint32(e, kind, true);
    view.setUint32(e + 4, i < 4 ? at[i] : headEnd, true);
    view.setUint32(e + 8, i < 4 ? lengths[i] : end, true);
  });
  out.set(graphBytes, at[0]);
  writeTable(table, offsets, view, at[1]);
  out.set(elastic, at[2]);
  table.forEach((t, i) => writePayload(t, out, headEnd + offsets[i]));
  spec.levels.forEach((l, i) => {
    const b = n - 1 - i;
    const o = at[3] + i * LEVEL_BYTES;
    view.setFloat64(o, l.channels, true);
    view.setFloat64(o + 8, NaN, true);
    view.setUint32(o + 28, headEnd + blockEnd[b], true);
    view.setUint32(o + 32, crc32(out.subarray(headEnd + (b ? blockEnd[b - 1] : 0), headEnd + blockEnd[b])), true);
  });
  out.set(MAGIC, 0);
  view.setUint16(8, ELASTIC_VERSION, true);
  view.setUint16(10, HeaderFlags.SIMPLIFIED, true);
  view.setUint32(12, SECTIONS.length, true);
  view.setUint32(16, total, true);
  view.setUint32(24, headEnd, true);
  view.setUint32(20, crc32(out.subarray(HEADER_BYTES, headEnd)), true);
  return out;
}

/** A copy of an elastic artifact with each level's measured weights, peak memory and accuracy recorded (same size). */
export function setElasticStats(bytes: Uint8Array, stats: readonly ElasticStats[]): Uint8Array {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  if (view.getUint16(8, true) !== ELASTIC_VERSION) fail('setElasticStats takes an elastic artifact');
  let levels = -1;
  for (let i = 0; i < view.getUint32(12, true); i++) if (view.getUint32(HEADER_BYTES + SECTION_ENTRY_BYTES * i, true) === SectionKind.LEVELS) levels = HEADER_BYTES + SECTION_ENTRY_BYTES * i;
  if (levels < 0 || view.getUint32(levels + 8, true) !== stats.length * LEVEL_BYTES) fail(`stats for ${stats.length} levels do not match the file's levels`);
  stats.forEach((s, i) => {
    const o = view.getUint32(levels + 4, true) + i * LEVEL_BYTES;
    view.setFloat64(o + 8, s.accuracy ?? NaN, true);
    view.setUint32(o + 16, s.weightBytes, true);
    view.setUint32(o + 20, s.peakBytes, true);
    view.setUint32(o + 24, s.memoryBytes, true);
  });
  view.setUint32(20, crc32(out.subarray(HEADER_BYTES, view.getUint32(24, true))), true);
  return out;
}

/** What level `b` changed relative to level `a`: [key, index, value] (index -1: the whole array). */
function patch(a: JGraph, b: JGraph): unknown[] {
  if (a.name !== b.name || a.opset !== b.opset || JSON.stringify(a.producer) !== JSON.stringify(b.producer)) fail('the levels differ in more than their channels (name, opset or producer)');
  const out: unknown[] = [];
  for (const key of PATCHED) {
    const x: unknown[] = a[key];
    const y: unknown[] = b[key];
    if (x.length !== y.length) out.push([key, -1, y]);
    else y.forEach((v, i) => JSON.stringify(v) !== JSON.stringify(x[i]) && out.push([key, i, v]));
  }
  return out;
}

/** The elements of `t` by block (the largest block of any of its indices), each in row-major order, as 1-D tensors. */
function shells(t: ConstTensor, blk: readonly (Uint8Array | undefined)[], n: number): ConstTensor[] {
  const of = new Uint8Array(t.data.length);
  const counts = new Array<number>(n).fill(0);
  let o = 0;
  const walk = (a: number, s: number): void => {
    const bs = blk[a];
    for (let k = 0; k < t.dims[a]; k++) {
      const b = bs && bs[k] > s ? bs[k] : s;
      if (a < t.dims.length - 1) walk(a + 1, b);
      else counts[(of[o++] = b)]++;
    }
  };
  walk(0, 0);
  const out = counts.map((c) => allocArray(t.dtype, c) as Float32Array);
  const fill = counts.map(() => 0);
  const src = t.data as Float32Array;
  for (let i = 0; i < of.length; i++) out[of[i]][fill[of[i]]++] = src[i];
  return out.map((data: TensorArray) => ({ dtype: t.dtype, dims: [data.length], data }));
}

/** The elements of `t` whose indices are all in blocks <= B: the slice a level keeps. */
function kept(t: ConstTensor, blk: readonly (Uint8Array | undefined)[], B: number): ConstTensor {
  const keep = t.dims.map((d, a) => Array.from({ length: d }, (_, k) => k).filter((k) => (blk[a]?.[k] ?? 0) <= B));
  const data = allocArray(t.dtype, keep.reduce((p, k) => p * k.length, 1)) as Float32Array;
  const src = t.data as Float32Array;
  let o = 0;
  const walk = (a: number, base: number): void => {
    for (const k of keep[a]) {
      if (a < t.dims.length - 1) walk(a + 1, (base + k) * t.dims[a + 1]);
      else data[o++] = src[base + k];
    }
  };
  walk(0, 0);
  return { dtype: t.dtype, dims: keep.map((k) => k.length), data };
}

function sameTensor(a: ConstTensor, b: ConstTensor): boolean {
  const bytes = (x: { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  const eq = (x: Uint8Array, y: Uint8Array) => x.length === y.length && x.every((v, i) => v === y[i]);
  return eq(bytes(a.data), bytes(b.data)) && (!a.quant || eq(bytes(a.quant.scales), bytes(b.quant!.scales)));
}
