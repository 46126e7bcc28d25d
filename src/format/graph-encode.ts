// Graph → the graph section's JSON (graph-json.ts), handing each tensor to `addTensor`, which
// returns its table index. Everything is checked as it is written, so that writeArtifact never
// produces a file readArtifact refuses.
import { ModelFormatError } from '../errors.js';
import type { Attr, ConstTensor, Graph, ValueInfo } from '../graph/ir.js';
import { DTYPES, floatToJson, MAX_DEPTH, type JAttr, type JGraph, type JNode, type JValue } from './graph-json.js';

export type AddTensor = (t: ConstTensor, where: string) => number;

function fail(what: string): never {
  throw new ModelFormatError(`cannot write the artifact: ${what}`);
}

export function encodeGraph(g: Graph, addTensor: AddTensor, where = 'the graph', depth = 0): JGraph {
  if (depth > MAX_DEPTH) fail(`${where} nests subgraphs more than ${MAX_DEPTH} deep`);
  if (typeof g.name !== 'string') fail(`${where} has no name string`);
  if (!Number.isSafeInteger(g.opset)) fail(`${where} has opset ${g.opset}, not an integer`);
  const out: JGraph = {
    name: g.name,
    opset: g.opset,
    inputs: g.inputs.map((v) => encodeValue(v, undefined, where)),
    outputs: g.outputs.map((v) => encodeValue(v, undefined, where)),
    valueInfo: [...g.valueInfo].map(([k, v]) => encodeValue(v, k, where)),
    initializers: [...g.initializers].map(([name, t]) => [str(name, `${where}: an initializer name`), addTensor(t, `initializer '${name}' of ${where}`)]),
    nodes: g.nodes.map((n) => {
      const label = `node '${n.name}' (${n.op}) of ${where}`;
      const node: JNode = { n: str(n.name, `${label}: name`), op: str(n.op, `${label}: op`), i: n.inputs.map((x) => str(x, `${label}: an input`)), o: n.outputs.map((x) => str(x, `${label}: an output`)) };
      if (n.domain !== '') node.d = str(n.domain, `${label}: domain`);
      const attrs = Object.entries(n.attrs).map(([k, a]): JAttr => [k, a.kind, encodeAttr(a, `${label}, attribute '${k}'`, k, addTensor, depth)]);
      if (attrs.length) node.a = attrs;
      return node;
    }),
  };
  if (g.producer) out.producer = [str(g.producer.name, `${where}: producer name`), str(g.producer.version, `${where}: producer version`)];
  return out;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') fail(`${what} is ${typeof v}, not a string`);
  return v;
}

function encodeValue(v: ValueInfo, key: string | undefined, where: string): JValue {
  const what = `value '${v.name}' of ${where}`;
  const out: JValue = { n: str(v.name, `${where}: a value name`), t: v.dtype };
  if (!DTYPES.includes(v.dtype)) fail(`${what} has unknown dtype '${v.dtype}'`);
  if ('dims' in v) {
    if (v.dims === undefined) out.d = null;
    else {
      const ok = Array.isArray(v.dims) && v.dims.every((d) => (typeof d === 'number' ? Number.isSafeInteger(d) && d >= 0 : typeof d === 'string' && d !== ''));
      if (!ok) fail(`${what} has invalid dims ${JSON.stringify(v.dims)} (want sizes ≥ 0 or symbol names)`);
      out.d = v.dims;
    }
  }
  if (key !== undefined && key !== v.name) out.k = key;
  if (v.untyped) out.u = 1;
  return out;
}

function encodeAttr(a: Attr, what: string, key: string, addTensor: AddTensor, depth: number): unknown {
  const isStr = (x: unknown) => typeof x === 'string';
  const isInt = (x: unknown) => Number.isSafeInteger(x);
  const check = (ok: boolean): void => {
    if (!ok) fail(`${what} is a ${a.kind} attribute but holds ${String(a.value)}`);
  };
  switch (a.kind) {
    case 'int':
      check(isInt(a.value));
      return a.value;
    case 'float':
      check(typeof a.value === 'number');
      return floatToJson(a.value);
    case 'string':
      check(isStr(a.value));
      return a.value;
    case 'ints':
      check(Array.isArray(a.value) && a.value.every(isInt));
      return a.value;
    case 'floats':
      check(Array.isArray(a.value) && a.value.every((x) => typeof x === 'number'));
      return a.value.map(floatToJson);
    case 'strings':
      check(Array.isArray(a.value) && a.value.every(isStr));
      return a.value;
    case 'tensor':
      return addTensor(a.value, what);
    case 'graph':
      return encodeGraph(a.value, addTensor, `the subgraph '${key}' of ${what.replace(/, attribute .*$/, '')}`, depth + 1);
    default:
      return fail(`${what} has unknown kind '${(a as { kind: unknown }).kind}'`);
  }
}
