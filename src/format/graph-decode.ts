// The graph section's JSON (graph-json.ts) → Graph. JSON.parse gives untyped data, so every
// field's type is checked before it is used; tensors come from `getTensor`, which decodes a
// table entry the first time it is referenced and refuses a second reference.
import { ModelFormatError } from '../errors.js';
import type { Attr, ConstTensor, Dim, DType, Graph, Node, ValueInfo } from '../graph/ir.js';
import { DTYPES, floatFromJson, MAX_DEPTH } from './graph-json.js';

export type GetTensor = (index: unknown, where: string) => ConstTensor;

function fail(what: string): never {
  throw new ModelFormatError(`malformed edgeprune artifact: graph section: ${what}`);
}

type Obj = Record<string, unknown>;

function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${what} is not an object`);
  return v as Obj;
}

function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) fail(`${what} is not an array`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') fail(`${what} is not a string`);
  return v;
}

function int(v: unknown, what: string): number {
  if (!Number.isSafeInteger(v)) fail(`${what} is not an integer`);
  return v as number;
}

function strs(v: unknown, what: string): string[] {
  return arr(v, what).map((x, i) => str(x, `${what}[${i}]`));
}

export function decodeGraph(v: unknown, getTensor: GetTensor, where = 'the graph', depth = 0): Graph {
  if (depth > MAX_DEPTH) fail(`${where} nests subgraphs more than ${MAX_DEPTH} deep`);
  const g = obj(v, where);
  const values = (key: string) => arr(g[key], `${where}.${key}`).map((x, i) => decodeValue(x, `${where}.${key}[${i}]`));
  const initializers = new Map<string, ConstTensor>();
  arr(g.initializers, `${where}.initializers`).forEach((e, i) => {
    const pair = arr(e, `${where}.initializers[${i}]`);
    const name = str(pair[0], `${where}.initializers[${i}] name`);
    if (initializers.has(name)) fail(`${where}: initializer '${name}' is listed twice`);
    initializers.set(name, getTensor(pair[1], `initializer '${name}' of ${where}`));
  });
  const valueInfo = new Map<string, ValueInfo>();
  for (const { key, info } of values('valueInfo')) {
    if (valueInfo.has(key)) fail(`${where}: value_info '${key}' is listed twice`);
    valueInfo.set(key, info);
  }
  const graph: Graph = {
    name: str(g.name, `${where}.name`),
    inputs: values('inputs').map((x) => x.info),
    outputs: values('outputs').map((x) => x.info),
    nodes: arr(g.nodes, `${where}.nodes`).map((n, i) => decodeNode(n, `${where}.nodes[${i}]`, getTensor, depth)),
    initializers,
    opset: int(g.opset, `${where}.opset`),
    valueInfo,
  };
  if (g.producer !== undefined) {
    const p = arr(g.producer, `${where}.producer`);
    graph.producer = { name: str(p[0], `${where}.producer name`), version: str(p[1], `${where}.producer version`) };
  }
  return graph;
}

function decodeValue(v: unknown, what: string): { key: string; info: ValueInfo } {
  const o = obj(v, what);
  const name = str(o.n, `${what}.n`);
  const dtype = str(o.t, `${what}.t`) as DType;
  if (!DTYPES.includes(dtype)) fail(`${what} (value '${name}') has unknown dtype '${dtype}'`);
  const info: ValueInfo = { name, dtype };
  if (o.d === null) info.dims = undefined;
  else if (o.d !== undefined) {
    info.dims = arr(o.d, `${what}.d`).map((d): Dim => {
      if (typeof d === 'string' && d !== '') return d;
      if (Number.isSafeInteger(d) && (d as number) >= 0) return d as number;
      return fail(`value '${name}' has an invalid dim ${JSON.stringify(d)} (want a size ≥ 0 or a symbol name)`);
    });
  }
  if (o.u === 1) info.untyped = true;
  return { key: o.k === undefined ? name : str(o.k, `${what}.k`), info };
}

function decodeNode(v: unknown, what: string, getTensor: GetTensor, depth: number): Node {
  const o = obj(v, what);
  const node: Node = {
    name: str(o.n, `${what}.n`),
    op: str(o.op, `${what}.op`),
    domain: o.d === undefined ? '' : str(o.d, `${what}.d`),
    inputs: strs(o.i, `${what}.i`),
    outputs: strs(o.o, `${what}.o`),
    attrs: {},
  };
  const label = `node '${node.name}' (${node.op})`;
  for (const [i, e] of (o.a === undefined ? [] : arr(o.a, `${what}.a`)).entries()) {
    const [key, kind, value] = arr(e, `${what}.a[${i}]`);
    const k = str(key, `${what}.a[${i}] key`);
    if (Object.prototype.hasOwnProperty.call(node.attrs, k)) fail(`${label} has attribute '${k}' twice`);
    // defineProperty: a key such as '__proto__' must become an own property, not a prototype
    Object.defineProperty(node.attrs, k, { value: decodeAttr(kind, value, `${label}, attribute '${k}'`, k, getTensor, depth), enumerable: true, writable: true, configurable: true });
  }
  return node;
}

function decodeAttr(kind: unknown, v: unknown, what: string, key: string, getTensor: GetTensor, depth: number): Attr {
  const float = (x: unknown, w: string): number => floatFromJson(x) ?? fail(`${w} is not a number`);
  switch (kind) {
    case 'int':
      return { kind, value: int(v, what) };
    case 'float':
      return { kind, value: float(v, what) };
    case 'string':
      return { kind, value: str(v, what) };
    case 'ints':
      return { kind, value: arr(v, what).map((x, i) => int(x, `${what}[${i}]`)) };
    case 'floats':
      return { kind, value: arr(v, what).map((x, i) => float(x, `${what}[${i}]`)) };
    case 'strings':
      return { kind, value: strs(v, what) };
    case 'tensor':
      return { kind, value: getTensor(v, what) };
    case 'graph':
      return { kind, value: decodeGraph(v, getTensor, `the subgraph '${key}' of ${what.replace(/, attribute .*$/, '')}`, depth + 1) };
    default:
      return fail(`${what} has unknown kind ${JSON.stringify(kind)}`);
  }
}
