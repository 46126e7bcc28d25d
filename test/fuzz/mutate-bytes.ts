// Format-blind mutations of a file's bytes: what a flaky download, a bad disk or a careless tool
// does to a file, and what a hostile one writes in its integers. Each returns new bytes and a
// one-line description that, with the case's seed, reproduces it.
import type { Rng } from '../../src/train/rng.js';

export interface Mutated {
  bytes: Uint8Array;
  desc: string;
}

export type ByteMutator = (r: Rng, b: Uint8Array) => Mutated;

/** Integers that sit on the edges checks get wrong: 0, ±1, powers of two, the int32/uint32/int53 limits. */
export const INTERESTING_U32 = [0, 1, 2, 3, 7, 8, 15, 16, 63, 64, 127, 128, 255, 256, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 2 ** 20, 2 ** 24, 2 ** 28, 2 ** 30];
export const INTERESTING_U64: bigint[] = [0n, 1n, 2n ** 31n, 2n ** 32n, 2n ** 32n + 1n, 2n ** 40n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];

export function pick<T>(r: Rng, xs: readonly T[]): T {
  return xs[r.int(xs.length)];
}

function at(r: Rng, b: Uint8Array): number {
  return b.length ? r.int(b.length) : 0;
}

const bitFlips: ByteMutator = (r, b) => {
  const out = b.slice();
  const n = 1 + r.int(8);
  const where: number[] = [];
  for (let i = 0; i < n && out.length; i++) {
    const p = at(r, out);
    const bit = r.int(8);
    out[p] ^= 1 << bit;
    where.push(p * 8 + bit);
  }
  return { bytes: out, desc: `flip bits ${where.join(',')}` };
};

const byteOverwrite: ByteMutator = (r, b) => {
  const out = b.slice();
  const n = 1 + r.int(4);
  const where: string[] = [];
  for (let i = 0; i < n && out.length; i++) {
    const p = at(r, out);
    const v = r.next() < 0.5 ? pick(r, [0, 0xff, 0x7f, 0x80, 0x01]) : r.int(256);
    out[p] = v;
    where.push(`${p}=${v}`);
  }
  return { bytes: out, desc: `overwrite bytes ${where.join(',')}` };
};

const intOverwrite: ByteMutator = (r, b) => {
  const out = b.slice();
  if (out.length < 8) return bitFlips(r, b);
  const wide = r.next() < 0.3;
  const width = wide ? 8 : 4;
  // aligned more often than not: most binary fields are
  let p = r.int(out.length - width + 1);
  if (r.next() < 0.7) p -= p % width;
  const view = new DataView(out.buffer);
  const little = r.next() < 0.8;
  if (wide) {
    const v = pick(r, INTERESTING_U64);
    view.setBigUint64(p, v, little);
    return { bytes: out, desc: `u64 ${v} at ${p} (${little ? 'le' : 'be'})` };
  }
  const v = pick(r, INTERESTING_U32);
  view.setUint32(p, v, little);
  return { bytes: out, desc: `u32 ${v} at ${p} (${little ? 'le' : 'be'})` };
};

const truncate: ByteMutator = (r, b) => {
  const cut = r.next() < 0.3 ? Math.max(0, b.length - 1 - r.int(16)) : r.int(b.length + 1);
  return { bytes: b.slice(0, cut), desc: `truncate to ${cut} of ${b.length}` };
};

const insertBytes: ByteMutator = (r, b) => {
  const p = r.int(b.length + 1);
  const n = 1 + r.int(r.next() < 0.8 ? 16 : 4096);
  const ins = Uint8Array.from({ length: n }, () => (r.next() < 0.5 ? 0 : r.int(256)));
  const out = new Uint8Array(b.length + n);
  out.set(b.subarray(0, p));
  out.set(ins, p);
  out.set(b.subarray(p), p + n);
  return { bytes: out, desc: `insert ${n} bytes at ${p}` };
};

const deleteRange: ByteMutator = (r, b) => {
  const p = at(r, b);
  const n = Math.min(b.length - p, 1 + r.int(r.next() < 0.8 ? 16 : 1024));
  const out = new Uint8Array(b.length - n);
  out.set(b.subarray(0, p));
  out.set(b.subarray(p + n), p);
  return { bytes: out, desc: `delete ${n} bytes at ${p}` };
};

const duplicateRange: ByteMutator = (r, b) => {
  const p = at(r, b);
  const n = Math.min(b.length - p, 1 + r.int(256));
  const to = r.int(b.length + 1);
  const out = new Uint8Array(b.length + n);
  out.set(b.subarray(0, to));
  out.set(b.subarray(p, p + n), to);
  out.set(b.subarray(to), to + n);
  return { bytes: out, desc: `copy ${n} bytes from ${p} to ${to}` };
};

const zeroRange: ByteMutator = (r, b) => {
  const out = b.slice();
  const p = at(r, out);
  const n = Math.min(out.length - p, 1 + r.int(64));
  const v = r.next() < 0.7 ? 0 : 0xff;
  out.fill(v, p, p + n);
  return { bytes: out, desc: `fill ${n} bytes at ${p} with ${v}` };
};

const appendGarbage: ByteMutator = (r, b) => {
  const n = 1 + r.int(64);
  const out = new Uint8Array(b.length + n);
  out.set(b);
  for (let i = b.length; i < out.length; i++) out[i] = r.int(256);
  return { bytes: out, desc: `append ${n} random bytes` };
};

const randomFile: ByteMutator = (r) => {
  const n = r.int(512);
  return { bytes: Uint8Array.from({ length: n }, () => r.int(256)), desc: `${n} random bytes` };
};

export const BYTE_MUTATORS: Record<string, ByteMutator> = {
  bitFlips,
  byteOverwrite,
  intOverwrite,
  truncate,
  insertBytes,
  deleteRange,
  duplicateRange,
  zeroRange,
  appendGarbage,
  randomFile,
};

/** One to three byte mutations stacked. */
export function mutateBytes(r: Rng, b: Uint8Array): Mutated {
  const names = Object.keys(BYTE_MUTATORS);
  const n = r.next() < 0.75 ? 1 : 2 + r.int(2);
  let cur: Mutated = { bytes: b, desc: '' };
  const descs: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = pick(r, names);
    cur = BYTE_MUTATORS[name](r, cur.bytes);
    descs.push(`${name}: ${cur.desc}`);
  }
  return { bytes: cur.bytes, desc: descs.join('; ') };
}
