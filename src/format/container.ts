// The container every .epm version shares (layout.ts): the magic, the header, the CRC-32 and the
// section table, each checked before a section is handed out. The graph artifact (read.ts), the
// elastic one (read-elastic.ts) and the compiled model (read-compiled.ts) read on from here.
import { crc32 } from './crc32.js';
import { ELASTIC_VERSION, HEADER_BYTES, MAGIC, SECTION_ALIGN, SECTION_ENTRY_BYTES, SECTION_NAMES } from './layout.js';

export interface Container {
  version: number;
  flags: number;
  view: DataView;
  /** Where the CRC-covered head ends: the whole file except in elastic artifacts. */
  headEnd: number;
  /** The byte length the header gives (an elastic reader may hold only a prefix of it). */
  total: number;
  /** The section of this kind; a missing one fails. */
  section(kind: number): Uint8Array;
}

/**
 * Checks the container and returns its sections. `kinds(version)` lists the section kinds that
 * version may hold, or undefined for a version this reader does not take (`versionError` says why).
 */
export function openContainer(bytes: Uint8Array, fail: (what: string) => never, kinds: (version: number) => readonly number[] | undefined, versionError: (version: number) => string): Container {
  const prefix = Math.min(bytes.length, MAGIC.length);
  if (!MAGIC.subarray(0, prefix).every((b, i) => bytes[i] === b)) fail('bad magic: not an edgeprune artifact (.epm files start with "EPRUNE\\0\\x01")');
  if (bytes.length < HEADER_BYTES) fail(`corrupted or truncated: ${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(8, true);
  const allowed = kinds(version) ?? fail(versionError(version));
  const elastic = version === ELASTIC_VERSION;
  const flags = view.getUint16(10, true);
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
    if (!name || !allowed.includes(kind)) fail(`section ${i} has unknown kind ${kind}`);
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
  return { version, flags, view, headEnd, total, section: (kind) => sections.get(kind) ?? fail(`the ${SECTION_NAMES[kind]} section is missing`) };
}
