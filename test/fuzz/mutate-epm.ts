// Mutations of a .epm artifact. Raw byte damage mostly stops at the CRC-32, which is the point of
// the CRC; the rest recompute it (epm-file.ts seal) so that each later check is reached: header
// fields, the section table, tensor table entries and dims (including dims inflated while the
// payload length stays consistent, so decoding really allocates), payload bytes (sparse indices,
// int8 scales and values) and the graph JSON itself (names, cycles, nesting, kinds, indices).
import type { Rng } from '../../src/train/rng.js';
import { INTERESTING_U32, INTERESTING_U64, mutateBytes, pick, type Mutated } from './mutate-bytes.js';
import { assemble, bodies, GRAPH, HEADER, section, sections, seal, TENSOR_DATA, TENSOR_TABLE, tensorEntries, view } from './epm-file.js';

type EpmMutator = (r: Rng, b: Uint8Array) => Mutated;

/* eslint-disable @typescript-eslint/no-explicit-any */
type JGraph = any;
type JNode = any;

const HOSTILE_JSON: unknown[] = [null, {}, [], '', 'x', -1, 0.5, 1e308, 2 ** 53, -(2 ** 53), 'NaN', '__proto__', [[[]]], { n: 'x' }, true];

function nodesOf(g: JGraph): JNode[] {
  return Array.isArray(g?.nodes) ? g.nodes : [];
}

function valueNames(g: JGraph): string[] {
  const out: string[] = [];
  for (const v of [...(g.inputs ?? []), ...(g.initializers ?? []).map((p: unknown[]) => ({ n: p[0] }))]) if (typeof v?.n === 'string') out.push(v.n);
  for (const n of nodesOf(g)) for (const o of n.o ?? []) out.push(o);
  return out;
}

/** Every (sub)graph object in the JSON, outermost first. */
function graphsOf(g: JGraph, into: JGraph[] = []): JGraph[] {
  into.push(g);
  for (const n of nodesOf(g)) for (const a of n.a ?? []) if (Array.isArray(a) && a[1] === 'graph') graphsOf(a[2], into);
  return into;
}

const JSON_MUTATORS: Record<string, (r: Rng, g: JGraph, root: JGraph) => string> = {
  danglingInput(r, g) {
    const n = pick(r, nodesOf(g));
    if (!n) return 'no node';
    n.i = [...(n.i ?? []), `nowhere_${r.int(9)}`];
    return `node '${n.n}' reads a value nobody writes`;
  },
  cycle(r, g) {
    const ns = nodesOf(g);
    if (!ns.length) return 'no node';
    const j = r.int(ns.length);
    const i = r.int(j + 1);
    ns[i].i = [ns[j].o?.[0] ?? '', ...(ns[i].i ?? []).slice(1)];
    return `node ${i} reads the output of node ${j}`;
  },
  duplicateOutput(r, g) {
    const n = pick(r, nodesOf(g));
    if (!n) return 'no node';
    const other = pick(r, valueNames(g));
    n.o = [other, ...(n.o ?? []).slice(1)];
    return `node '${n.n}' writes '${other}'`;
  },
  outputs(r, g) {
    const k = r.int(3);
    if (k === 0) g.outputs = [...g.outputs, ...g.outputs];
    else if (k === 1) g.outputs = [{ n: 'ghost', t: 'float32', d: [1] }];
    else g.outputs = [];
    return `graph outputs mutation ${k}`;
  },
  deepNest(r, g) {
    // built as text (deepJson): JSON.stringify of a 5000-deep object overflows the stack
    const depth = pick(r, [2, 10, 63, 64, 65, 66, 200, 1000, 5000]);
    const x = g.inputs?.[0]?.n ?? 'x';
    g.nodes = [...nodesOf(g), { n: 'deep_if', op: 'If', i: [x], o: ['deep_out'], a: [['then_branch', 'graph', `${DEEP}${depth}:${x}`]] }];
    g.outputs = [...(g.outputs ?? []), { n: 'deep_out', t: 'float32' }];
    return `subgraphs nested ${depth} deep`;
  },
  attr(r, g) {
    const n = pick(r, nodesOf(g));
    if (!n) return 'no node';
    const key = pick(r, ['kernel_shape', 'pads', 'strides', 'group', 'axis', 'perm', 'alpha', 'transB', 'to', '__proto__', 'constructor', 'epsilon']);
    const kind = pick(r, ['int', 'ints', 'float', 'floats', 'string', 'strings', 'tensor', 'graph', 'bogus']);
    const value = pick(r, [...HOSTILE_JSON, [2 ** 31, -(2 ** 31)], [0, 0], Array(70_000).fill(1), ['NaN', 'Infinity']]);
    n.a = [...(Array.isArray(n.a) ? n.a : []), [key, kind, value]];
    return `node '${n.n}' attribute ${key}:${kind} = ${JSON.stringify(value)?.slice(0, 40)}`;
  },
  tensorIndex(r, g) {
    const inits: unknown[][] = g.initializers ?? [];
    const idx = pick(r, [-1, 0, 1, 1.5, 2 ** 32, '0', null, 999]);
    if (inits.length && r.next() < 0.7) pick(r, inits)[1] = idx;
    else (g.initializers = inits).push([`extra_${r.int(9)}`, idx]);
    return `initializer tensor index ${JSON.stringify(idx)}`;
  },
  dims(r, g) {
    const vs = [...(g.inputs ?? []), ...(g.outputs ?? []), ...(g.valueInfo ?? [])];
    if (!vs.length) return 'no value';
    const v = pick(r, vs);
    const d = pick(r, [[2 ** 31], [2 ** 40, 12], [-1], [''], [1.5], null, [1, 2 ** 15, 2 ** 15], [0], 'x', [2 ** 53]]);
    v.d = d;
    return `value '${v.n}' dims ${JSON.stringify(d)}`;
  },
  dtype(r, g) {
    const vs = [...(g.inputs ?? []), ...(g.outputs ?? [])];
    if (!vs.length) return 'no value';
    const v = pick(r, vs);
    v.t = pick(r, ['int64', 'string', 'bool', 'float16', 'complex64', '', 7]);
    return `value '${v.n}' dtype ${v.t}`;
  },
  field(r, g) {
    const objs: Record<string, unknown>[] = [g, ...nodesOf(g), ...(g.inputs ?? []), ...(g.outputs ?? [])];
    const o = pick(r, objs);
    if (!o || typeof o !== 'object') return 'nothing';
    const key = pick(r, Object.keys(o).concat(['extra']));
    const v = pick(r, HOSTILE_JSON);
    o[key] = v;
    return `field '${key}' = ${JSON.stringify(v)}`;
  },
  opSwap(r, g) {
    const n = pick(r, nodesOf(g));
    if (!n) return 'no node';
    n.op = pick(r, ['Conv', 'Gemm', 'MatMul', 'Reshape', 'If', 'Loop', 'Relu', 'Concat', 'Slice', 'Transpose', 'Split', 'Resize', 'Pad', 'X', '__proto__', 'constructor', 'hasOwnProperty']);
    return `node '${n.n}' op ${n.op}`;
  },
  opset(r, g, root) {
    root.opset = pick(r, [0, 6, 21, 22, -1, 1.5, 2 ** 53]);
    return `opset ${root.opset}`;
  },
};

/** Placeholder deepNest leaves in the JSON, replaced by deepJson's text after stringify. */
const DEEP = '\u0000deep:';

/** The JSON text of `depth` graphs nested through If then_branch attributes, each reading `x`. */
function deepJson(depth: number, x: string): string {
  const q = JSON.stringify;
  let text = `{"name":"leaf","opset":13,"inputs":[],"outputs":[{"n":"leaf_out","t":"float32"}],"valueInfo":[],"initializers":[],"nodes":[{"n":"leaf","op":"Identity","i":[${q(x)}],"o":["leaf_out"]}]}`;
  const open: string[] = [];
  for (let d = 1; d < depth; d++) {
    open.push(`{"name":"level_${d}","opset":13,"inputs":[],"outputs":[{"n":"deep_${d}","t":"float32"}],"valueInfo":[],"initializers":[],"nodes":[{"n":"if_${d}","op":"If","i":[${q(x)}],"o":["deep_${d}"],"a":[["then_branch","graph",`);
  }
  text = open.join('') + text + ']]}]}'.repeat(depth - 1);
  return text;
}

/** A structural mutation of the graph JSON, reassembled into a well-formed container. */
const graphJson: EpmMutator = (r, b) => {
  const parts = bodies(b);
  const root = JSON.parse(new TextDecoder().decode(parts[0].body));
  const gs = graphsOf(root);
  const g = gs.length > 1 && r.next() < 0.3 ? pick(r, gs.slice(1)) : root;
  const name = pick(r, Object.keys(JSON_MUTATORS));
  const desc = JSON_MUTATORS[name](r, g, root);
  const text = JSON.stringify(root).replace(/"\\u0000deep:(\d+):((?:[^"\\]|\\.)*)"/, (_, depth: string, x: string) => deepJson(Number(depth), JSON.parse(`"${x}"`)));
  parts[0].body = new TextEncoder().encode(text);
  return { bytes: assemble(parts), desc: `graph JSON ${name}${g === root ? '' : ' (in a subgraph)'}: ${desc}` };
};

/** Header fields: version, flags, section count, total length, reserved. */
const header: EpmMutator = (r, b) => {
  const out = b.slice();
  const v = view(out);
  const field = pick(r, [8, 10, 12, 16, 24, 28]);
  const value = pick(r, INTERESTING_U32);
  if (field === 8 || field === 10) v.setUint16(field, value & 0xffff, true);
  else v.setUint32(field, value, true);
  return { bytes: seal(out), desc: `header field at ${field} = ${value}` };
};

/** Section table: kind, offset, length, reserved; duplicated or swapped entries. */
const sectionTable: EpmMutator = (r, b) => {
  const out = b.slice();
  const v = view(out);
  const ss = sections(out);
  const s = pick(r, ss);
  const k = r.int(5);
  if (k === 3 && ss.length > 1) {
    const o = pick(r, ss);
    v.setUint32(s.entryAt + 4, o.offset, true);
    v.setUint32(s.entryAt + 8, o.length, true);
    return { bytes: seal(out), desc: `section ${s.kind} points at section ${o.kind}'s bytes` };
  }
  const field = [0, 4, 8, 12, 8][k];
  const value = k === 4 ? s.length + pick(r, [-1, 1, 64, -64, 1 << 20]) : pick(r, INTERESTING_U32);
  v.setUint32(s.entryAt + field, value >>> 0, true);
  return { bytes: seal(out), desc: `section ${s.kind} entry field ${field} = ${value >>> 0}` };
};

/** One tensor table field: dtype, encoding, rank, firstDim, valueCount, axis, offset, length, a dim, or the counts. */
const tensorTable: EpmMutator = (r, b) => {
  const out = b.slice();
  const v = view(out);
  const es = tensorEntries(out);
  const t = section(out, TENSOR_TABLE)!;
  if (!es.length || r.next() < 0.1) {
    const field = pick(r, [0, 4]);
    const value = pick(r, INTERESTING_U32);
    v.setUint32(t.offset + field, value, true);
    return { bytes: seal(out), desc: `tensor table ${field ? 'dimCount' : 'count'} = ${value}` };
  }
  const i = r.int(es.length);
  const e = es[i];
  const k = r.int(10);
  if (k === 0) out[e.at] = pick(r, [0, 1, 2, 3, 6, 7, 8, 10, 11, 13, 16, 255]);
  else if (k === 1) out[e.at + 1] = pick(r, [0, 1, 2, 3, 4, 5, 6, 7, 8, 255]);
  else if (k === 2) v.setUint16(e.at + 2, pick(r, [0, 1, 2, 4, 5, 0xffff]), true);
  else if (k >= 3 && k <= 7) v.setUint32(e.at + 4 * (k - 2), pick(r, INTERESTING_U32), true);
  else if (e.rank > 0 && e.dimsAt + 8 * e.rank <= t.offset + t.length) {
    const d = e.dimsAt + 8 * r.int(e.rank);
    v.setBigUint64(d, pick(r, INTERESTING_U64), true);
  }
  return { bytes: seal(out), desc: `tensor ${i} field mutation ${k}` };
};

/**
 * Inflates a tensor's dims while its stored values and payload length stay valid: a sparse
 * (delta16 / index32) or sparse int8 entry then passes the table's length checks and its decode
 * allocates the inflated size. This is the mutation that reaches the allocation caps.
 */
const inflateDims: EpmMutator = (r, b) => {
  const out = b.slice();
  const v = view(out);
  const all = tensorEntries(out).filter((e) => e.rank > 0);
  // sparse forms whose payload length does not depend on the dims: delta16, index32 and their
  // int8 forms (those also store one scale per index along their axis, so another dim grows)
  const sparse = all.filter((e) => [2, 3, 6, 7].includes(e.encoding) && (e.encoding < 4 || e.rank > 1));
  const e = sparse.length && r.next() < 0.85 ? pick(r, sparse) : pick(r, all);
  if (!e) return tensorTable(r, b);
  const axis = e.encoding >= 4 ? v.getUint32(e.at + 12, true) : -1;
  let k = r.int(e.rank);
  if (k === axis) k = (k + 1) % e.rank;
  const factor = pick(r, [2n, 1024n, 2n ** 16n, 2n ** 20n, 2n ** 28n, 2n ** 30n]);
  const at = e.dimsAt + 8 * k;
  const d = v.getBigUint64(at, true);
  v.setBigUint64(at, d * factor, true);
  return { bytes: seal(out), desc: `tensor at ${e.at} (encoding ${e.encoding}) dim ${k}: ${d} × ${factor}` };
};

/** Random bytes inside the tensor data section: sparse indices, bit masks, int8 scales and values. */
const payload: EpmMutator = (r, b) => {
  const out = b.slice();
  const d = section(out, TENSOR_DATA);
  if (!d || d.length === 0) return header(r, b);
  const n = 1 + r.int(4);
  const where: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = d.offset + r.int(d.length);
    out[p] = pick(r, [0, 0x80, 0xff, 0x7f, r.int(256)]);
    where.push(`${p}`);
  }
  return { bytes: seal(out), desc: `payload bytes at ${where.join(',')}` };
};

/** Format-blind damage, with the CRC (and, when the length changed, the stored total) made to match again. */
const sealedBytes: EpmMutator = (r, b) => {
  const m = mutateBytes(r, b);
  if (m.bytes.length < HEADER) return m;
  const head = m.bytes.slice(0, 8);
  if (!head.every((x, i) => x === b[i])) return m; // the magic was hit: nothing to seal
  return { bytes: seal(m.bytes, m.bytes.length !== b.length), desc: `${m.desc} (CRC recomputed)` };
};

const rawBytes: EpmMutator = (r, b) => mutateBytes(r, b);

export const EPM_MUTATORS: Record<string, { fn: EpmMutator; weight: number }> = {
  rawBytes: { fn: rawBytes, weight: 2 },
  sealedBytes: { fn: sealedBytes, weight: 3 },
  header: { fn: header, weight: 1 },
  sectionTable: { fn: sectionTable, weight: 2 },
  tensorTable: { fn: tensorTable, weight: 3 },
  inflateDims: { fn: inflateDims, weight: 2 },
  payload: { fn: payload, weight: 3 },
  graphJson: { fn: graphJson, weight: 6 },
};

export function mutateEpm(r: Rng, b: Uint8Array): Mutated {
  const names = Object.keys(EPM_MUTATORS);
  const total = names.reduce((a, n) => a + EPM_MUTATORS[n].weight, 0);
  let x = r.int(total);
  const name = names.find((n) => (x -= EPM_MUTATORS[n].weight) < 0)!;
  const m = EPM_MUTATORS[name].fn(r, b);
  return { bytes: m.bytes, desc: `${name}: ${m.desc}` };
}

export { GRAPH };
