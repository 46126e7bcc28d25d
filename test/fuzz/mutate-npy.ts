// Mutations of a .npy file: raw byte damage, and headers rewritten field by field (shape, descr,
// fortran_order, the version and header-length prefix, nesting and length of the dict literal)
// around the original data, so the header parser and every size check behind it are reached.
import type { Rng } from '../../src/train/rng.js';
import { mutateBytes, pick, type Mutated } from './mutate-bytes.js';

const SHAPES = ['()', '(0,)', '(3, 4)', '(4, 3)', '(12,)', '(2147483648,)', '(2147483647,)', '(-1,)', '(1e3,)', '(9007199254740993,)', '(3, 4, 0)', '(65536, 65536)', '(1, 1, 1, 1, 1, 1, 1, 1, 12)', '[3, 4]', "('3',)", '(3.0, 4)', 'None', '(True, 12)', '(' + '1, '.repeat(5000) + ')'];
const DESCRS = ["'<f4'", "'>f4'", "'=f8'", "'|u1'", "'|b1'", "'<i8'", "'<i2'", "'<f2'", "'<c8'", "'|O'", "'<U10'", "'|V8'", "''", "'<f'", "'<f99999999999999999999'", "[('a', '<f4')]", '3', "'\\xff'"];
const FORTRAN = ['False', 'True', '0', 'None', "'no'"];

/** Splits a .npy file written by writeNpy into its header text and data. */
function split(b: Uint8Array): { header: string; data: Uint8Array } | undefined {
  if (b.length < 10 || b[6] !== 1) return undefined;
  const len = b[8] | (b[9] << 8);
  if (10 + len > b.length) return undefined;
  return { header: new TextDecoder('latin1').decode(b.subarray(10, 10 + len)), data: b.subarray(10 + len) };
}

/** A file with this dict text, in format `major`, padded as numpy pads (or not), followed by `data`. */
function build(dict: string, major: number, data: Uint8Array, pad: boolean): Uint8Array {
  const lenBytes = major === 1 ? 2 : 4;
  let text = dict;
  if (pad) text += ' '.repeat((64 - ((8 + lenBytes + dict.length + 1) % 64)) % 64) + '\n';
  const head = major === 3 ? new TextEncoder().encode(text) : Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
  const out = new Uint8Array(8 + lenBytes + head.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const v = new DataView(out.buffer);
  if (lenBytes === 2) v.setUint16(8, head.length & 0xffff, true);
  else v.setUint32(8, head.length, true);
  out.set(head, 8 + lenBytes);
  out.set(data, 8 + lenBytes + head.length);
  return out;
}

function dictText(r: Rng, original: string): { text: string; desc: string } {
  const k = r.int(8);
  const descr = /'descr':\s*('[^']*')/.exec(original)?.[1] ?? "'<f4'";
  const shape = /'shape':\s*(\([^)]*\))/.exec(original)?.[1] ?? '(3, 4)';
  let d = descr;
  let s = shape;
  let f = 'False';
  let extra = '';
  if (k === 0) s = pick(r, SHAPES);
  else if (k === 1) d = pick(r, DESCRS);
  else if (k === 2) f = pick(r, FORTRAN);
  else if (k === 3) extra = pick(r, [", 'extra': 1", ", 'shape': (1,)", ", 'descr': '<f8'", ", 1: 2"]);
  else if (k === 4) {
    // deep nesting: a recursive-descent parser must not overflow its stack
    const depth = pick(r, [10, 1000, 20_000, 100_000]);
    s = '('.repeat(depth) + ')'.repeat(depth);
    return { text: `{'descr': ${d}, 'fortran_order': False, 'shape': ${s}, }`, desc: `shape nested ${depth} deep` };
  } else if (k === 5) {
    const n = pick(r, [1000, 60_000, 200_000]);
    return { text: `{'descr': ${d}, 'fortran_order': False, 'shape': ${shape}, 'pad': '${'a'.repeat(n)}', }`, desc: `a ${n}-character string in the header` };
  } else if (k === 6) {
    const text = pick(r, ['', '{', '}', '[]', "{'descr': '<f4'", '{"descr": "<f4", "fortran_order": false, "shape": [3, 4]}', "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } trailing", "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }\u0000"]);
    return { text, desc: `header text ${JSON.stringify(text.slice(0, 60))}` };
  } else {
    s = pick(r, SHAPES);
    d = pick(r, DESCRS);
  }
  return { text: `{'descr': ${d}, 'fortran_order': ${f}, 'shape': ${s}${extra}, }`, desc: `descr ${d} fortran ${f} shape ${s.slice(0, 40)}${extra}` };
}

/** A header rewrite (most of the time) or raw byte damage. */
export function mutateNpy(r: Rng, b: Uint8Array): Mutated {
  const parts = split(b);
  if (!parts || r.next() < 0.35) return mutateBytes(r, b);
  const { text, desc } = dictText(r, parts.header);
  const major = pick(r, [1, 1, 2, 3]);
  let data = parts.data;
  const k = r.int(6);
  if (k === 0) data = data.subarray(0, r.int(data.length + 1));
  else if (k === 1) {
    const more = new Uint8Array(data.length + 1 + r.int(64));
    more.set(data);
    data = more;
  }
  const pad = r.next() < 0.9;
  let bytes = build(text, major, data, pad);
  if (r.next() < 0.1) {
    // the header-length prefix disagrees with the header
    const v = new DataView(bytes.buffer);
    const lie = pick(r, [0, 1, 0xffff, 0x7fffffff, 0xffffffff]);
    if (major === 1) v.setUint16(8, lie & 0xffff, true);
    else v.setUint32(8, lie, true);
    bytes = bytes.slice();
    return { bytes, desc: `${desc}; v${major}.0; header length field ${lie}` };
  }
  return { bytes, desc: `${desc}; v${major}.0${pad ? '' : ' unpadded'}; data ${data.length} bytes` };
}
