// Graph → ONNX bytes, the inverse of import.ts: importOnnx(exportOnnx(g)) gives g back (producer
// aside), so a pruned model can be saved and loaded by onnxruntime or by edgeprune again.
//
// The graph is checked first, since a file onnxruntime refuses (or, worse, loads differently) is
// useless: every value a node reads must be defined before it (graph input, initializer, earlier
// node, or for subgraphs an enclosing scope), names must be unique, tensors must match their
// dims. Failures are ModelFormatErrors that name the node or value. Then the IR maps field by
// field onto decode.ts' message shapes, which encode.ts serializes.
import { ModelFormatError } from '../errors.js';
import type { Attr, ConstTensor, Dim, DType, Graph, Node, TensorArray, ValueInfo } from '../graph/ir.js';
import { ARRAY_TYPES, ONNX_DTYPE_CODES, numel } from '../graph/tensor.js';
import { VERSION } from '../version.js';
import { AttributeType as A, type AttributeProto, type GraphProto, type NodeProto, type TensorProto, type ValueInfoProto } from './decode.js';
import { encodeModel, type ModelProtoOut } from './encode.js';

export interface ExportOptions {
  /**
   * Opset versions of the non-default domains the nodes use (e.g. { 'com.microsoft': 1 }). The
   * IR keeps only the ai.onnx opset, so a domain not listed here is declared as version 1.
   */
  domains?: Record<string, number>;
}

const MIN_OPSET = 7;
const MAX_OPSET = 21;

/** Serializes a Graph as an ONNX model (the bytes of a .onnx file). */
export function exportOnnx(graph: Graph, options: ExportOptions = {}): Uint8Array {
  const opset = graph.opset;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new ModelFormatError(`cannot export: the graph's opset is ${opset}, but edgeprune writes ONNX opsets ${MIN_OPSET}-${MAX_OPSET}`);
  }
  checkGraph(graph, new Set(), 'the graph');
  const domains = new Set<string>();
  collectDomains(graph, domains);
  const model: ModelProtoOut = {
    irVersion: irVersionFor(opset),
    producerName: 'edgeprune',
    producerVersion: VERSION,
    graph: graphToProto(graph),
    opsetImport: [{ domain: '', version: opset }, ...[...domains].map((domain) => ({ domain, version: options.domains?.[domain] ?? 1 }))],
  };
  return encodeModel(model);
}

/**
 * The IR version to declare: 8 (what current exporters write; IR ≥ 4 is also what lets
 * initializers stay out of the graph inputs), or more where the opset requires it — each IR
 * release caps the opsets it may carry (onnx/helper.py VERSION_TABLE: opset 19-20 → IR 9,
 * opset 21 → IR 10).
 */
export function irVersionFor(opset: number): number {
  if (opset >= 21) return 10;
  if (opset >= 19) return 9;
  return 8;
}

function isDefaultDomain(domain: string): boolean {
  return domain === '' || domain === 'ai.onnx';
}

function collectDomains(g: Graph, into: Set<string>): void {
  for (const n of g.nodes) {
    if (!isDefaultDomain(n.domain)) into.add(n.domain);
    for (const a of Object.values(n.attrs)) if (a.kind === 'graph') collectDomains(a.value, into);
  }
}

// ---------------------------------------------------------------------------------------------
// Checks

function fail(where: string, what: string): never {
  throw new ModelFormatError(`cannot export ${where}: ${what}`);
}

/**
 * Checks one graph. `outer` holds the values of enclosing graphs a subgraph may read (those
 * defined before the node that owns it); `where` names the graph in messages.
 */
function checkGraph(g: Graph, outer: ReadonlySet<string>, where: string): void {
  const defined = new Set<string>();
  const define = (name: string, what: string): void => {
    if (!name) fail(where, `${what} has an empty name`);
    if (defined.has(name)) fail(where, `the value '${name}' is defined twice (${what} reuses a name already taken by a graph input, initializer or node output)`);
    defined.add(name);
  };
  for (const v of g.inputs) {
    define(v.name, `graph input '${v.name}'`);
    checkValueInfo(v, where, 'graph input');
  }
  for (const [name, t] of g.initializers) {
    define(name, `initializer '${name}'`);
    checkTensor(t, where, `initializer '${name}'`);
  }
  const visible = (name: string): boolean => defined.has(name) || outer.has(name);
  const nodeNames = new Set<string>();
  for (const n of g.nodes) {
    const label = `node '${n.name}' (${n.op})`;
    if (!n.op) fail(where, `node '${n.name}' has no op type`);
    // ONNX allows unnamed nodes; named ones must be unique (import relies on it to name nodes)
    if (n.name) {
      if (nodeNames.has(n.name)) fail(where, `two nodes are named '${n.name}'; node names must be unique`);
      nodeNames.add(n.name);
    }
    for (const x of n.inputs) {
      if (x !== '' && !visible(x)) fail(where, `${label} reads '${x}', which no graph input, initializer or earlier node produces (dangling input, or nodes not in topological order)`);
    }
    for (const [key, a] of Object.entries(n.attrs)) checkAttr(a, key, label, where, defined, outer);
    for (const o of n.outputs) if (o !== '') define(o, `an output of ${label}`);
  }
  const outNames = new Set<string>();
  for (const v of g.outputs) {
    if (outNames.has(v.name)) fail(where, `the graph output '${v.name}' is listed twice`);
    outNames.add(v.name);
    if (!visible(v.name)) fail(where, `graph output '${v.name}' is not produced by any node, input or initializer`);
    checkValueInfo(v, where, 'graph output');
  }
  for (const v of g.valueInfo.values()) checkValueInfo(v, where, 'value_info');
}

function checkAttr(a: Attr, key: string, label: string, where: string, defined: ReadonlySet<string>, outer: ReadonlySet<string>): void {
  const bad = (what: string): never => fail(where, `${label}: attribute '${key}' ${what}`);
  switch (a.kind) {
    case 'int':
      if (!Number.isSafeInteger(a.value)) bad(`is an int attribute but holds ${a.value}`);
      break;
    case 'ints':
      if (!a.value.every((v) => Number.isSafeInteger(v))) bad(`is an ints attribute but holds a non-integer (${a.value.join(', ')})`);
      break;
    case 'tensor':
      checkTensor(a.value, where, `${label}, attribute '${key}'`);
      break;
    case 'graph':
      // a subgraph sees everything its node sees: enclosing scopes and this graph's values so far
      checkGraph(a.value, new Set([...outer, ...defined]), `the subgraph '${key}' of ${label} in ${where}`);
      break;
    default:
      break;
  }
}

function checkValueInfo(v: ValueInfo, where: string, what: string): void {
  if (!v.name) fail(where, `a ${what} has an empty name`);
  if (ELEM_CODES[v.dtype] === undefined) fail(where, `${what} '${v.name}' has dtype '${v.dtype}', which ONNX export does not know`);
  for (const d of v.dims ?? []) {
    const ok = typeof d === 'number' ? Number.isSafeInteger(d) && d >= 0 : typeof d === 'string' && d !== '';
    if (!ok) fail(where, `${what} '${v.name}' has an invalid dim ${JSON.stringify(d)} in [${(v.dims ?? []).join(', ')}] (want a size ≥ 0 or a symbol name)`);
  }
}

function checkTensor(t: ConstTensor, where: string, what: string): void {
  if (t.dtype === 'string') fail(where, `${what} is a string tensor, which edgeprune cannot hold or export`);
  const Ctor = ARRAY_TYPES[t.dtype];
  if (!Ctor) fail(where, `${what} has dtype '${t.dtype}', which ONNX export does not know`);
  if (!(t.data instanceof Ctor)) fail(where, `${what} is ${t.dtype} but its data is a ${t.data?.constructor?.name ?? typeof t.data} (want ${Ctor.name})`);
  if (!t.dims.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(where, `${what} has invalid dims [${t.dims.join(', ')}]`);
  const n = numel(t.dims);
  if (t.data.length !== n) fail(where, `${what} holds ${t.data.length} values but its dims [${t.dims.join(', ')}] need ${n}`);
}

// ---------------------------------------------------------------------------------------------
// IR → protobuf messages

const ELEM_CODES = ONNX_DTYPE_CODES;

function graphToProto(g: Graph): GraphProto {
  return {
    node: g.nodes.map(nodeToProto),
    name: g.name,
    initializer: [...g.initializers].map(([name, t]) => tensorToProto(t, name)),
    input: g.inputs.map(valueInfoToProto),
    output: g.outputs.map(valueInfoToProto),
    valueInfo: [...g.valueInfo.values()].map(valueInfoToProto),
  };
}

function nodeToProto(n: Node): NodeProto {
  const p: NodeProto = { input: n.inputs, output: n.outputs, opType: n.op, attribute: Object.entries(n.attrs).map(([k, a]) => attrToProto(k, a)) };
  if (n.name) p.name = n.name;
  if (!isDefaultDomain(n.domain)) p.domain = n.domain;
  return p;
}

const utf8 = new TextEncoder();

function attrToProto(name: string, a: Attr): AttributeProto {
  switch (a.kind) {
    case 'int':
      return { name, type: A.INT, i: a.value };
    case 'float':
      return { name, type: A.FLOAT, f: a.value };
    case 'string':
      return { name, type: A.STRING, s: utf8.encode(a.value) };
    case 'ints':
      return { name, type: A.INTS, ints: a.value };
    case 'floats':
      return { name, type: A.FLOATS, floats: a.value };
    case 'strings':
      return { name, type: A.STRINGS, strings: a.value.map((s) => utf8.encode(s)) };
    case 'tensor':
      return { name, type: A.TENSOR, t: tensorToProto(a.value) };
    case 'graph':
      return { name, type: A.GRAPH, g: graphToProto(a.value) };
  }
}

function valueInfoToProto(v: ValueInfo): ValueInfoProto {
  if (v.untyped) return { name: v.name };
  const shape = v.dims ? { dim: v.dims.map((d: Dim) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } : undefined;
  return { name: v.name, type: { tensorType: shape ? { elemType: ELEM_CODES[v.dtype], shape } : { elemType: ELEM_CODES[v.dtype] } } };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Every numeric type goes to raw_data (little-endian), the compact form exporters use. */
function tensorToProto(t: ConstTensor, name?: string): TensorProto {
  const p: TensorProto = { dims: t.dims, dataType: ELEM_CODES[t.dtype] };
  if (name !== undefined) p.name = name;
  if (t.data.length > 0) p.rawData = rawBytes(t);
  return p;
}

function rawBytes(t: ConstTensor): Uint8Array {
  if (t.dtype === 'float16') return viewBytes(narrowHalf(t.data as Float32Array));
  // the IR promises 0/1, but any nonzero byte is true: write the canonical form
  if (t.dtype === 'bool') return (t.data as Uint8Array).map((b) => (b ? 1 : 0));
  return viewBytes(t.data);
}

/** The array's bytes in little-endian order: a view on little-endian hosts (the writer copies). */
function viewBytes(a: TensorArray): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const width = a.BYTES_PER_ELEMENT;
  if (LITTLE_ENDIAN || width === 1) return bytes;
  const out = bytes.slice();
  for (let i = 0; i < out.length; i += width) out.subarray(i, i + width).reverse();
  return out;
}

// float16 is held widened to float32; narrowing is exact for every value that came from a
// float16 file, and rounds to nearest-even for values a pass computed.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function narrowHalf(a: Float32Array): Uint16Array {
  const out = new Uint16Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = floatToHalf(a[i]);
  return out;
}

/** IEEE binary16 bits of a float32, rounded to nearest-even (overflow → ±Inf, NaN stays NaN). */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 112; // rebias 127 → 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // a half subnormal: m·2^-24 with the implicit leading 1 made explicit
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    const full = mant | 0x800000;
    const shift = 14 - e;
    let m = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && m & 1)) m++;
    return sign | m;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // a carry out of the mantissa bumps the exponent, which is the correct rounding (up to Inf)
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return h;
}
