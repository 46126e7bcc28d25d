// A compiled model's parts → its bytes (src/format/compiled-layout.ts documents them).
import { ModelFormatError } from '../errors.js';
import { crc32 } from '../format/crc32.js';
import { align, COMPILED_VERSION, HEADER_BYTES, MAGIC, MAX_U32, SECTION_ALIGN, SECTION_ENTRY_BYTES, SectionKind } from '../format/layout.js';
import type { CompiledCall, CompiledPlan } from '../format/compiled-layout.js';

/** A run of memory bytes the image restores. */
export interface Segment {
  offset: number;
  bytes: Uint8Array;
}

export function writeCompiled(plan: CompiledPlan, segments: Segment[], calls: CompiledCall[]): Uint8Array {
  const parts = [
    { kind: SectionKind.PLAN, bytes: new TextEncoder().encode(JSON.stringify(plan)) },
    { kind: SectionKind.IMAGE, bytes: imageBytes(segments) },
    { kind: SectionKind.CALLS, bytes: callBytes(calls) },
  ];
  let end = HEADER_BYTES + SECTION_ENTRY_BYTES * parts.length;
  const offsets = parts.map((p) => {
    const at = align(end, SECTION_ALIGN);
    end = at + p.bytes.length;
    return at;
  });
  if (end > MAX_U32) throw new ModelFormatError(`cannot write the compiled model: it needs ${end} bytes, over the format's 4 GiB limit`);
  const out = new Uint8Array(end);
  const view = new DataView(out.buffer);
  parts.forEach((p, i) => {
    const at = HEADER_BYTES + SECTION_ENTRY_BYTES * i;
    view.setUint32(at, p.kind, true);
    view.setUint32(at + 4, offsets[i], true);
    view.setUint32(at + 8, p.bytes.length, true);
    out.set(p.bytes, offsets[i]);
  });
  out.set(MAGIC, 0);
  view.setUint16(8, COMPILED_VERSION, true);
  view.setUint32(12, parts.length, true);
  view.setUint32(16, end, true);
  view.setUint32(20, crc32(out.subarray(HEADER_BYTES)), true);
  return out;
}

function imageBytes(segments: Segment[]): Uint8Array {
  const out = new Uint8Array(segments.reduce((n, s) => n + 8 + align(s.bytes.length, 4), 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const s of segments) {
    view.setUint32(at, s.offset, true);
    view.setUint32(at + 4, s.bytes.length, true);
    out.set(s.bytes, at + 8);
    at += 8 + align(s.bytes.length, 4);
  }
  return out;
}

function callBytes(calls: CompiledCall[]): Uint8Array {
  const out: number[] = [];
  const varint = (v: number) => {
    for (; v >= 128; v = Math.floor(v / 128)) out.push((v % 128) | 128);
    out.push(v);
  };
  const f64 = new DataView(new ArrayBuffer(8));
  for (const [fn, args] of calls) {
    varint(fn);
    varint(args.length);
    for (const a of args) {
      if (Number.isSafeInteger(a) && a >= 0 && a < 2 ** 52 && !Object.is(a, -0)) varint(2 * a);
      else {
        out.push(1);
        f64.setFloat64(0, a, true);
        for (let i = 0; i < 8; i++) out.push(f64.getUint8(i));
      }
    }
  }
  return Uint8Array.from(out);
}
