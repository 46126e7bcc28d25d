// ONNX bytes → Graph. Decoding is decode.ts's (a lean reader of just the fields used here, on
// protobufjs' wire-format Reader); this file turns the protobuf objects into the plain IR of
// graph/ir.ts and checks what later stages rely on: every tensor's data matches its dims, node
// names are unique, nodes are topologically sorted, every value read is produced somewhere.
// Anything wrong with the file is a ModelFormatError that says what and where; the decoder's own
// RangeError/Error never escape.
import { foldQuantizedWeights } from '../graph/passes/fold-quantized-weights.js';
import { ArgumentError, EdgepruneError, ModelFormatError, UnsupportedOpError } from '../errors.js';
import type { Attr, ConstTensor, Dim, DType, Graph, Node, TensorArray, ValueInfo } from '../graph/ir.js';
import { TensorBudget, type LoadOptions } from '../graph/load-limits.js';
import { allocArray, DTYPE_OF_ONNX_CODE, dtypeBytes, numel } from '../graph/tensor.js';
import { utf8 } from './utf8.js';
import {
  AttributeType as A,
  attributeTypeName,
  DATA_LOCATION_EXTERNAL,
  dataTypeName,
  decodeModel as decodeProto,
  type AttributeProto,
  type Dimension,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type SparseTensorProto,
  type TensorProto,
  type ValueInfoProto,
} from './decode.js';

const MIN_OPSET = 7;
const MAX_OPSET = 21;
const FILE_HINT = 'check the file is a .onnx model and not truncated';

/**
 * The tensor memory of the import in progress (graph/load-limits.ts): every tensor is counted
 * before it is allocated. Module state, since the import is synchronous and tensors are decoded
 * from many places.
 */
let budget = new TensorBudget(0);

/**
 * Parses an ONNX model (the bytes of a .onnx file) into a Graph. Its tensors may take at most
 * max(options.maxTensorBytes (1 GiB), 8 × the file size) bytes: past that, OutOfMemoryError.
 */
export function importOnnx(bytes: Uint8Array, options: LoadOptions = {}): Graph {
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError('importOnnx expects the model as a Uint8Array (wrap an ArrayBuffer with new Uint8Array(buffer))');
  if (bytes.byteLength === 0) throw new ModelFormatError(`not an ONNX model: the input is empty (0 bytes); ${FILE_HINT}`);
  const model = decodeModel(bytes);
  const saved = budget;
  budget = new TensorBudget(bytes.byteLength, options);
  try {
    return importModel(model);
  } catch (e) {
    if (e instanceof EdgepruneError) throw e;
    // A shape of protobuf data this importer did not foresee: still the file's fault for the
    // caller. `cause` keeps the original for bug reports (tests assert it never happens).
    const err = new ModelFormatError(`malformed ONNX model (${e instanceof Error ? e.message : String(e)}); ${FILE_HINT}`);
    (err as Error).cause = e;
    throw err;
  } finally {
    budget = saved;
  }
}

function decodeModel(bytes: Uint8Array): ModelProto {
  try {
    return decodeProto(bytes);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ModelFormatError(`not an ONNX model (protobuf decode failed: ${why}); ${FILE_HINT}`);
  }
}

function importModel(model: ModelProto): Graph {
  if (!model.graph) throw new ModelFormatError(`not an ONNX model: the protobuf decodes but holds no graph; ${FILE_HINT}`);
  const opset = defaultOpset(model);
  const ctx: Ctx = { opset, unknownDims: 0 };
  const graph = foldQuantizedWeights(importGraph(model.graph, ctx, new Set(), false));
  const name = model.producerName ?? '';
  const version = model.producerVersion ?? '';
  if (name || version) graph.producer = { name, version };
  return graph;
}

interface Ctx {
  opset: number;
  /** Counter naming dims the file leaves unknown (`?0`, `?1`, ...), each distinct. */
  unknownDims: number;
}

function isDefaultDomain(domain: string | null | undefined): boolean {
  return !domain || domain === 'ai.onnx';
}

function defaultOpset(model: ModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => isDefaultDomain(o.domain));
  if (!entry) throw new ModelFormatError('the model declares no ai.onnx opset (opset_import); re-export it with opset 9-17');
  const v = toSafeInt(entry.version ?? 0);
  if (v < MIN_OPSET || v > MAX_OPSET) {
    throw new ModelFormatError(`the model uses ONNX opset ${v}; edgeprune reads opsets ${MIN_OPSET}-${MAX_OPSET} (9-17 recommended): re-export it with a supported opset`);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Graphs

/**
 * Imports one graph. `outer` holds the names a subgraph may read from enclosing graphs (empty for
 * the main graph); they are left as they are in node inputs.
 */
function importGraph(g: GraphProto, ctx: Ctx, outer: ReadonlySet<string>, subgraph: boolean): Graph {
  const initializers = new Map<string, ConstTensor>();
  const addInit = (name: string, t: ConstTensor): void => {
    if (initializers.has(name)) throw new ModelFormatError(`the value '${name}' is defined twice (initializer / Constant); re-export the model`);
    initializers.set(name, t);
  };
  for (const t of g.initializer ?? []) addInit(t.name ?? '', tensorFromProto(t));
  for (const s of g.sparseInitializer ?? []) addInit(s.values?.name ?? '', densify(s));

  const protoNodes = g.node ?? [];
  // Everything this graph defines is visible to its subgraphs (they are imported while the
  // node list is being walked, so gather the names first).
  const scope = new Set(outer);
  for (const i of g.input ?? []) scope.add(i.name ?? '');
  for (const name of initializers.keys()) scope.add(name);
  for (const n of protoNodes) for (const o of n.output ?? []) if (o) scope.add(o);

  const names = nodeNames(protoNodes);
  const nodes: Node[] = [];
  protoNodes.forEach((n, i) => {
    const op = n.opType ?? '';
    if (op === 'Constant' && isDefaultDomain(n.domain)) {
      // paddle2onnx and many exporters keep weights in Constant nodes: make them initializers
      // so every pass finds constants in one place.
      const out = n.output?.[0];
      if (!out) throw new ModelFormatError(`Constant node '${n.name || `Constant_${i}`}' has no output`);
      addInit(out, constantValue(n, n.name || `Constant_${i}`));
      return;
    }
    const name = names[i];
    nodes.push({
      name,
      op,
      domain: isDefaultDomain(n.domain) ? '' : (n.domain as string),
      inputs: [...(n.input ?? [])],
      outputs: [...(n.output ?? [])],
      attrs: attrsFromProto(n, name, ctx, scope),
    });
  });

  const initNames = new Set(initializers.keys());
  // Old exporters (IR < 4) list every weight as a graph input too: those are not runtime inputs.
  const inputs = (g.input ?? []).filter((v) => !initNames.has(v.name ?? '')).map((v) => valueInfo(v, ctx, 'graph input', subgraph));
  const outputs = (g.output ?? []).map((v) => valueInfo(v, ctx, 'graph output', subgraph));
  const valueInfoMap = new Map<string, ValueInfo>();
  for (const v of g.valueInfo ?? []) {
    // Intermediate type hints are optional: skip what the IR cannot say (sequences, bfloat16...).
    const info = tryValueInfo(v, ctx);
    if (info) valueInfoMap.set(info.name, info);
  }

  // A subgraph's own values shadow outer ones of the same name.
  const local = new Set([...inputs.map((v) => v.name), ...initNames]);
  const produced = new Set(nodes.flatMap((n) => n.outputs));
  const defined = new Set([...[...outer].filter((x) => !produced.has(x)), ...local]);
  const sorted = topoSort(nodes, defined);
  checkOutputs(outputs, sorted, defined);
  return { name: g.name ?? '', inputs, outputs, nodes: sorted, initializers, opset: ctx.opset, valueInfo: valueInfoMap };
}

/** The file's names, except that empty and repeated ones become `<op>_<index>` (made unique). */
function nodeNames(nodes: NodeProto[]): string[] {
  const taken = new Set<string>();
  for (const n of nodes) if (n.name) taken.add(n.name);
  const seen = new Set<string>();
  return nodes.map((n, i) => {
    if (n.name && !seen.has(n.name)) {
      seen.add(n.name);
      return n.name;
    }
    let name = `${n.opType || 'node'}_${i}`;
    for (let k = 1; taken.has(name) || seen.has(name); k++) name = `${n.opType || 'node'}_${i}_${k}`;
    seen.add(name);
    taken.add(name);
    return name;
  });
}

function checkOutputs(outputs: ValueInfo[], nodes: Node[], defined: ReadonlySet<string>): void {
  const produced = new Set(nodes.flatMap((n) => n.outputs));
  for (const o of outputs) {
    if (!produced.has(o.name) && !defined.has(o.name)) throw new ModelFormatError(`graph output '${o.name}' is not produced by any node, input or initializer`);
  }
}

// ---------------------------------------------------------------------------------------------
// Topological order

/** Names a node reads: its inputs and whatever its subgraphs read from enclosing scopes. */
function reads(node: Node): string[] {
  const out = node.inputs.filter((x) => x !== '');
  for (const a of Object.values(node.attrs)) if (a.kind === 'graph') out.push(...freeNames(a.value));
  return out;
}

/** Names a graph reads from enclosing scopes (outer values its nodes and subgraphs use). */
function freeNames(g: Graph): Set<string> {
  const local = new Set<string>([...g.inputs.map((v) => v.name), ...g.initializers.keys()]);
  for (const n of g.nodes) for (const o of n.outputs) local.add(o);
  const free = new Set<string>();
  for (const n of g.nodes) for (const x of reads(n)) if (!local.has(x)) free.add(x);
  for (const o of g.outputs) if (!local.has(o.name)) free.add(o.name);
  return free;
}

/**
 * Returns the nodes in an order where each reads only values defined before it: the file's
 * order when it already is one (the common case), else a Kahn sort that keeps it where it can.
 */
function topoSort(nodes: Node[], defined: ReadonlySet<string>): Node[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.outputs) {
      if (o === '') continue;
      if (producer.has(o) || defined.has(o)) throw new ModelFormatError(`node '${n.name}' (${n.op}) writes '${o}', which is already defined elsewhere in the graph; re-export the model`);
      producer.set(o, i);
    }
  });
  const deps = nodes.map((n) => reads(n));
  deps.forEach((ds, i) => {
    for (const d of ds) {
      if (!defined.has(d) && !producer.has(d)) throw new ModelFormatError(`node '${nodes[i].name}' (${nodes[i].op}) reads '${d}', which no graph input, initializer or node produces`);
    }
  });

  if (inOrder(nodes, deps, defined)) return nodes;

  const waiting = deps.map((ds) => new Set(ds.filter((d) => !defined.has(d))).size);
  // (appended in place: copying the list per consumer made a value read by n nodes cost n², and
  // a 30,000-way fan-out took 16 s to import; found by the fuzzer, test/fuzz)
  const consumers = new Map<number, number[]>();
  deps.forEach((ds, i) => {
    for (const d of new Set(ds)) {
      const p = producer.get(d);
      if (p === undefined || defined.has(d)) continue;
      const list = consumers.get(p);
      if (list) list.push(i);
      else consumers.set(p, [i]);
    }
  });
  const queue: number[] = [];
  waiting.forEach((w, i) => w === 0 && queue.push(i));
  const order: Node[] = [];
  for (let head = 0; head < queue.length; head++) {
    const i = queue[head];
    order.push(nodes[i]);
    for (const c of consumers.get(i) ?? []) if (--waiting[c] === 0) queue.push(c);
  }
  if (order.length < nodes.length) {
    const stuck = nodes.findIndex((_, i) => waiting[i] > 0);
    const on = deps[stuck].find((d) => !defined.has(d) && waiting[producer.get(d) as number] > 0) ?? '?';
    throw new ModelFormatError(`the graph has a cycle: node '${nodes[stuck].name}' (${nodes[stuck].op}) reads '${on}', which depends on its own output; re-export the model`);
  }
  return order;
}

function inOrder(nodes: Node[], deps: string[][], defined: ReadonlySet<string>): boolean {
  const seen = new Set(defined);
  for (let i = 0; i < nodes.length; i++) {
    if (!deps[i].every((d) => seen.has(d))) return false;
    for (const o of nodes[i].outputs) seen.add(o);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Value infos

const ELEM_TYPES = DTYPE_OF_ONNX_CODE;

function dtypeName(code: number): string {
  return dataTypeName(code) ?? `#${code}`;
}

/**
 * The main graph's inputs and outputs must say their element type (the ONNX checker requires it
 * too); a subgraph's may leave it out (onnx/onnx#2009: the If or Loop node's inference gives it).
 */
function valueInfo(v: ValueInfoProto, ctx: Ctx, what: string, subgraph: boolean): ValueInfo {
  const name = v.name ?? '';
  const tt = v.type?.tensorType;
  if (subgraph && !tt?.elemType) return { name, dtype: 'float32', dims: undefined, untyped: true };
  if (!tt) throw new ModelFormatError(`${what} '${name}' is not a tensor (or has no type); edgeprune models take and return tensors only`);
  const code = tt.elemType ?? 0;
  const dtype = ELEM_TYPES[code];
  if (!dtype) throw new ModelFormatError(`${what} '${name}' has element type ${dtypeName(code)}, which edgeprune does not support`);
  return { name, dtype, dims: tt.shape ? (tt.shape.dim ?? []).map((d) => dimFromProto(d, ctx)) : undefined };
}

function tryValueInfo(v: ValueInfoProto, ctx: Ctx): ValueInfo | undefined {
  const tt = v.type?.tensorType;
  const dtype = tt ? ELEM_TYPES[tt.elemType ?? 0] : undefined;
  if (!tt || !dtype || !v.name) return undefined;
  return { name: v.name, dtype, dims: tt.shape ? (tt.shape.dim ?? []).map((d) => dimFromProto(d, ctx)) : undefined };
}

function dimFromProto(d: Dimension, ctx: Ctx): Dim {
  if (d.dimValue !== null && d.dimValue !== undefined) {
    const n = toSafeInt(d.dimValue);
    if (n >= 0) return n;
  } else if (d.dimParam) return d.dimParam;
  // Neither (or a negative size some exporters write for "unknown"): a fresh symbol, so two
  // unknown dims are never taken to be equal.
  return `?${ctx.unknownDims++}`;
}

// ---------------------------------------------------------------------------------------------
// Attributes

function attrsFromProto(n: NodeProto, nodeName: string, ctx: Ctx, scope: ReadonlySet<string>): Record<string, Attr> {
  const attrs: Record<string, Attr> = {};
  for (const a of n.attribute ?? []) {
    // defineProperty: an attribute named '__proto__' must be an own property, not the object's prototype
    Object.defineProperty(attrs, a.name ?? '', { value: attrFromProto(a, n.opType ?? '', nodeName, ctx, scope), enumerable: true, writable: true, configurable: true });
  }
  return attrs;
}

function attrFromProto(a: AttributeProto, op: string, nodeName: string, ctx: Ctx, scope: ReadonlySet<string>): Attr {
  switch (attrType(a)) {
    case A.INT:
      return { kind: 'int', value: toSafeInt(a.i ?? 0) };
    case A.FLOAT:
      return { kind: 'float', value: a.f ?? 0 };
    case A.STRING:
      return { kind: 'string', value: utf8(a.s ?? new Uint8Array(0)) };
    case A.INTS:
      return { kind: 'ints', value: (a.ints ?? []).map(toSafeInt) };
    case A.FLOATS:
      return { kind: 'floats', value: [...(a.floats ?? [])] };
    case A.STRINGS:
      return { kind: 'strings', value: (a.strings ?? []).map((s) => utf8(s)) };
    case A.TENSOR:
      if (!a.t) throw new ModelFormatError(`node '${nodeName}' (${op}): tensor attribute '${a.name}' holds no tensor`);
      return { kind: 'tensor', value: tensorFromProto(a.t, `${nodeName}.${a.name}`) };
    case A.GRAPH:
      if (!a.g) throw new ModelFormatError(`node '${nodeName}' (${op}): graph attribute '${a.name}' holds no graph`);
      return { kind: 'graph', value: importGraph(a.g, ctx, scope, true) };
    case A.SPARSE_TENSOR:
    case A.SPARSE_TENSORS:
    case A.TENSORS:
    case A.GRAPHS:
    case A.TYPE_PROTO:
    case A.TYPE_PROTOS:
      throw new UnsupportedOpError(op, nodeName, `attribute '${a.name}' is of kind ${attributeTypeName(attrType(a))}, which edgeprune does not read`);
    default:
      // no value at all, or a kind the ONNX schema does not define: a damaged file
      throw new ModelFormatError(`node '${nodeName}' (${op}): attribute '${a.name}' has no valid value (kind ${attributeTypeName(attrType(a)) ?? attrType(a)}); ${FILE_HINT}`);
  }
}

/** The attribute's kind; files from IR version 1-2 may leave `type` unset, so infer it then. */
function attrType(a: AttributeProto): number {
  if (a.type) return a.type;
  const has = (k: keyof AttributeProto): boolean => Object.prototype.hasOwnProperty.call(a, k);
  if (a.floats?.length) return A.FLOATS;
  if (a.ints?.length) return A.INTS;
  if (a.strings?.length) return A.STRINGS;
  if (a.t) return A.TENSOR;
  if (a.g) return A.GRAPH;
  if (has('s')) return A.STRING;
  if (has('f')) return A.FLOAT;
  if (has('i')) return A.INT;
  return A.UNDEFINED;
}

/** A Constant node's value, from whichever of its attribute forms it uses. */
function constantValue(n: NodeProto, name: string): ConstTensor {
  const a = (n.attribute ?? [])[0];
  if (!a || (n.attribute ?? []).length !== 1) throw new ModelFormatError(`Constant node '${name}' must have exactly one value attribute`);
  switch (a.name) {
    case 'value':
      if (!a.t) throw new ModelFormatError(`Constant node '${name}': attribute 'value' holds no tensor`);
      return tensorFromProto(a.t, n.output?.[0] ?? name);
    case 'value_float':
      return { dtype: 'float32', dims: [], data: Float32Array.of(a.f ?? 0) };
    case 'value_floats':
      return { dtype: 'float32', dims: [a.floats?.length ?? 0], data: Float32Array.from(a.floats ?? []) };
    case 'value_int':
      return { dtype: 'int64', dims: [], data: BigInt64Array.of(toBigInt(a.i ?? 0, false)) };
    case 'value_ints':
      return { dtype: 'int64', dims: [a.ints?.length ?? 0], data: BigInt64Array.from((a.ints ?? []).map((v) => toBigInt(v, false))) };
    case 'sparse_value':
      if (!a.sparseTensor) throw new ModelFormatError(`Constant node '${name}': attribute 'sparse_value' holds no tensor`);
      return densify(a.sparseTensor);
    case 'value_string':
    case 'value_strings':
      throw new UnsupportedOpError('Constant', name, `attribute '${a.name}' (string constants are not supported)`);
    default:
      throw new ModelFormatError(`Constant node '${name}' has no value attribute (found '${a.name}')`);
  }
}

// ---------------------------------------------------------------------------------------------
// Integers: decode.ts gives int64 fields as numbers when exact (|v| ≤ 2^53) and as Long-like
// {low, high} objects beyond; bigints, Long objects and rounded doubles are accepted too.

interface LongLike {
  low: number;
  high: number;
}

function isLong(v: unknown): v is LongLike {
  return typeof v === 'object' && v !== null && typeof (v as LongLike).low === 'number' && typeof (v as LongLike).high === 'number';
}

/** The exact 64-bit value, read as signed or unsigned. */
function toBigInt(v: unknown, unsigned: boolean): bigint {
  // the common case (decode.ts gives every exact value as a number): no 64-bit wrapping to do
  if (typeof v === 'number' && Number.isSafeInteger(v) && (v >= 0 || !unsigned)) return BigInt(v);
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (isLong(v)) b = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  else if (typeof v === 'number' && Number.isFinite(v)) b = numberToBigInt(v, unsigned);
  else if (typeof v === 'string' && /^-?\d+$/.test(v)) b = BigInt(v);
  else throw new ModelFormatError(`expected an integer in the model but found ${String(v)}`);
  return unsigned ? BigInt.asUintN(64, b) : BigInt.asIntN(64, b);
}

const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * A double that stands for an int64 may have been rounded (protobufjs without the `long` package
 * gives INT64_MAX as 2^63): clamp rather than let it wrap to INT64_MIN.
 */
function numberToBigInt(v: number, unsigned: boolean): bigint {
  if (v >= 2 ** 63 && !unsigned) return INT64_MAX;
  if (v >= 2 ** 64) return UINT64_MAX;
  if (v < -(2 ** 63)) return -INT64_MAX - 1n;
  return BigInt(Math.trunc(v));
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** As a JS number; beyond ±2^53 clamped (exporters use INT64_MAX/MIN as "to the end"). */
function toSafeInt(v: unknown): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v === 0 ? 0 : v; // (no -0)
  const b = toBigInt(v, false);
  if (b > MAX_SAFE) return Number.MAX_SAFE_INTEGER;
  if (b < -MAX_SAFE) return Number.MIN_SAFE_INTEGER;
  return Number(b);
}

// ---------------------------------------------------------------------------------------------
// Tensors

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** `fallback` names the tensor in errors when the file leaves it unnamed (attribute values). */
function tensorFromProto(t: TensorProto, fallback = '(unnamed)'): ConstTensor {
  const name = t.name || fallback;
  if (t.dataLocation === DATA_LOCATION_EXTERNAL || (t.externalData?.length ?? 0) > 0) {
    throw new ModelFormatError(`tensor '${name}' keeps its data in a separate file (ONNX external data), and external data is not supported; re-save the model with the weights embedded (onnx.save_model(model, path, save_as_external_data=False))`);
  }
  const code = t.dataType ?? 0;
  const dtype = ELEM_TYPES[code];
  if (!dtype || dtype === 'string') throw new ModelFormatError(`tensor '${name}' has data type ${dtypeName(code)}, which edgeprune does not support`);
  const dims = (t.dims ?? []).map(toSafeInt);
  if (dims.some((d) => d < 0 || d >= Number.MAX_SAFE_INTEGER)) throw new ModelFormatError(`tensor '${name}' has invalid dims [${dims.join(', ')}]`);
  const n = numel(dims);
  const data = t.rawData && t.rawData.byteLength > 0 ? fromRaw(t.rawData, dtype, n, name, dims) : fromFields(t, dtype, n, name, dims);
  return { dtype, dims, data };
}

function wrongLength(name: string, got: number, dims: number[], n: number): ModelFormatError {
  return new ModelFormatError(`tensor '${name}' holds ${got} values but its dims [${dims.join(', ')}] need ${n}; the file is corrupt or truncated: re-export the model`);
}

/** raw_data: little-endian bytes of the element type. */
function fromRaw(raw: Uint8Array, dtype: DType, n: number, name: string, dims: number[]): TensorArray {
  const width = dtypeBytes(dtype);
  if (raw.byteLength !== n * width) throw wrongLength(name, raw.byteLength / width, dims, n);
  budget.spend(n * heldBytes(dtype), `tensor '${name}'`);
  // decode.ts hands out a view into the file at any byte offset (a Node Buffer's slice() is a
  // view too): copy into a fresh, aligned buffer before viewing it as wider elements.
  const bytes = new Uint8Array(raw.byteLength);
  bytes.set(raw);
  if (!LITTLE_ENDIAN && width > 1) swapBytes(bytes, width);
  const buf = bytes.buffer;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf);
    case 'float64':
      return new Float64Array(buf);
    case 'float16':
      return widenHalf(new Uint16Array(buf));
    case 'int64':
      return new BigInt64Array(buf);
    case 'uint64':
      return new BigUint64Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'uint32':
      return new Uint32Array(buf);
    case 'int16':
      return new Int16Array(buf);
    case 'uint16':
      return new Uint16Array(buf);
    case 'int8':
      return new Int8Array(buf);
    case 'bool':
      return bytes.map((b) => (b ? 1 : 0));
    default:
      return bytes;
  }
}

/** Bytes per element in the IR (float16 is held widened to float32). */
function heldBytes(dtype: DType): number {
  return dtype === 'float16' ? 4 : dtypeBytes(dtype);
}

function swapBytes(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

/** The typed repeated fields, each used for the element types the ONNX schema assigns to it. */
function fromFields(t: TensorProto, dtype: DType, n: number, name: string, dims: number[]): TensorArray {
  const values = fieldFor(t, dtype);
  if (values.length !== n) throw wrongLength(name, values.length, dims, n);
  budget.spend(n * heldBytes(dtype), `tensor '${name}'`);
  const out = allocArray(dtype, n);
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
    const unsigned = out instanceof BigUint64Array;
    for (let i = 0; i < n; i++) out[i] = toBigInt(values[i], unsigned);
  } else if (dtype === 'float16') {
    // float16 travels in int32_data as its 16 bits
    for (let i = 0; i < n; i++) out[i] = halfToFloat((values[i] as number) & 0xffff);
  } else if (dtype === 'bool') {
    for (let i = 0; i < n; i++) out[i] = values[i] ? 1 : 0;
  } else if (dtype === 'uint32') {
    for (let i = 0; i < n; i++) out[i] = Number(toBigInt(values[i], true));
  } else {
    // the typed array's own conversion wraps int8/uint8/int16/uint16 like a C cast
    for (let i = 0; i < n; i++) (out as Float64Array)[i] = values[i] as number;
  }
  return out;
}

function fieldFor(t: TensorProto, dtype: DType): readonly unknown[] {
  switch (dtype) {
    case 'float32':
      return t.floatData ?? [];
    case 'float64':
      return t.doubleData ?? [];
    case 'int64':
      return t.int64Data ?? [];
    case 'uint32':
    case 'uint64':
      return t.uint64Data ?? [];
    default:
      return t.int32Data ?? [];
  }
}

function widenHalf(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) out[i] = halfToFloat(h[i]);
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const MAX_DENSE = 2 ** 28;

/** A sparse initializer (or Constant sparse_value) as a dense tensor: the IR has one form. */
function densify(s: SparseTensorProto): ConstTensor {
  if (!s.values || !s.indices) throw new ModelFormatError('a sparse tensor in the model lacks its values or indices');
  const name = s.values.name || '(unnamed)';
  const values = tensorFromProto(s.values);
  const indices = tensorFromProto(s.indices, `${name}.indices`);
  const dims = (s.dims ?? []).map(toSafeInt);
  if (dims.some((d) => d < 0)) throw new ModelFormatError(`sparse tensor '${name}' has invalid dims [${dims.join(', ')}]`);
  const nnz = values.data.length;
  const idx = Array.from(indices.data as ArrayLike<number | bigint>, (v) => Number(v));
  const rank = indices.dims.length === 2 ? indices.dims[1] : 1;
  if (idx.length !== nnz * rank || (rank !== 1 && rank !== dims.length)) throw new ModelFormatError(`sparse tensor '${name}': indices of shape [${indices.dims.join(', ')}] do not fit ${nnz} values of a [${dims.join(', ')}] tensor`);
  const total = numel(dims);
  // a corrupt dims field must not turn into a multi-gigabyte allocation
  if (total > MAX_DENSE) throw new ModelFormatError(`sparse tensor '${name}' has dims [${dims.join(', ')}], too large to hold densely`);
  budget.spend(total * heldBytes(values.dtype), `sparse tensor '${name}' (dims [${dims.join(', ')}], held densely)`);
  const data = allocArray(values.dtype, total);
  for (let k = 0; k < nnz; k++) {
    let at = 0;
    if (rank === 1) at = idx[k];
    else for (let r = 0; r < rank; r++) at = at * dims[r] + idx[k * rank + r];
    const inside = rank === 1 ? at >= 0 && at < total : dims.every((d, r) => idx[k * rank + r] >= 0 && idx[k * rank + r] < d);
    if (!inside) throw new ModelFormatError(`sparse tensor '${name}': an index lies outside its dims [${dims.join(', ')}]`);
    (data as Float32Array)[at] = (values.data as Float32Array)[k];
  }
  return { dtype: values.dtype, dims, data };
}
