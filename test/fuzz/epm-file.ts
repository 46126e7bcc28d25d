// The .epm container taken apart and put back together by the fuzzer, written from the layout
// documented in src/format/layout.ts (not with the reader's code, so a reader bug cannot hide a
// mutation). `seal` recomputes the CRC-32 so that a mutation reaches the checks behind it.
import { crc32 } from '../../src/format/crc32.js';

export const HEADER = 32;
export const ENTRY = 16;
export const TABLE_HEAD = 8;
export const TENSOR_ENTRY = 24;
export const GRAPH = 1;
export const TENSOR_TABLE = 2;
export const TENSOR_DATA = 3;

export interface Section {
  kind: number;
  offset: number;
  length: number;
  /** byte offset of this section's table entry */
  entryAt: number;
}

export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** The section table as the file states it (no checks: a mutated file may lie). */
export function sections(b: Uint8Array): Section[] {
  if (b.length < HEADER) return [];
  const v = view(b);
  const count = Math.min(v.getUint32(12, true), Math.floor((b.length - HEADER) / ENTRY));
  const out: Section[] = [];
  for (let i = 0; i < count; i++) {
    const at = HEADER + ENTRY * i;
    out.push({ kind: v.getUint32(at, true), offset: v.getUint32(at + 4, true), length: v.getUint32(at + 8, true), entryAt: at });
  }
  return out;
}

export function section(b: Uint8Array, kind: number): Section | undefined {
  return sections(b).find((s) => s.kind === kind && s.offset + s.length <= b.length);
}

/** Recomputes the stored total length (when asked) and the CRC-32 over everything after the header. */
export function seal(b: Uint8Array, fixTotal = false): Uint8Array {
  if (b.length < HEADER) return b;
  const v = view(b);
  if (fixTotal) v.setUint32(16, b.length, true);
  v.setUint32(20, crc32(b.subarray(HEADER)), true);
  return b;
}

/** Builds a file from section bodies in the given order, each 64-byte aligned, as the writer lays them out. */
export function assemble(bodies: { kind: number; body: Uint8Array }[]): Uint8Array {
  let end = HEADER + ENTRY * bodies.length;
  const placed = bodies.map((s) => {
    const offset = Math.ceil(end / 64) * 64;
    end = offset + s.body.length;
    return { ...s, offset };
  });
  const out = new Uint8Array(end);
  const v = view(out);
  out.set([0x45, 0x50, 0x52, 0x55, 0x4e, 0x45, 0x00, 0x01]);
  v.setUint16(8, 1, true);
  v.setUint32(12, bodies.length, true);
  placed.forEach((s, i) => {
    const at = HEADER + ENTRY * i;
    v.setUint32(at, s.kind, true);
    v.setUint32(at + 4, s.offset, true);
    v.setUint32(at + 8, s.body.length, true);
    out.set(s.body, s.offset);
  });
  return seal(out, true);
}

/** The three section bodies of a well-formed file. */
export function bodies(b: Uint8Array): { kind: number; body: Uint8Array }[] {
  return [GRAPH, TENSOR_TABLE, TENSOR_DATA].map((kind) => {
    const s = section(b, kind);
    if (!s) throw new Error(`seed has no section ${kind}`);
    return { kind, body: b.slice(s.offset, s.offset + s.length) };
  });
}

export interface TensorEntryAt {
  /** absolute offset of the 24-byte entry */
  at: number;
  encoding: number;
  rank: number;
  firstDim: number;
  /** absolute offset of the entry's first u64 dim */
  dimsAt: number;
}

/** The tensor table's entries as stored (absolute offsets into the file). */
export function tensorEntries(b: Uint8Array): TensorEntryAt[] {
  const t = section(b, TENSOR_TABLE);
  if (!t || t.length < TABLE_HEAD) return [];
  const v = view(b);
  const count = v.getUint32(t.offset, true);
  if (TABLE_HEAD + TENSOR_ENTRY * count > t.length) return [];
  const dims0 = t.offset + TABLE_HEAD + TENSOR_ENTRY * count;
  return Array.from({ length: count }, (_, i) => {
    const at = t.offset + TABLE_HEAD + TENSOR_ENTRY * i;
    const firstDim = v.getUint32(at + 4, true);
    return { at, encoding: b[at + 1], rank: v.getUint16(at + 2, true), firstDim, dimsAt: dims0 + 8 * firstDim };
  });
}
