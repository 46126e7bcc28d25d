// Typed access to node attributes, with the ONNX defaults supplied by the caller. A wrong kind
// is a model error naming the node, never a silent NaN.
import { ModelFormatError } from '../errors.js';
import type { Attr, ConstTensor, Graph, Node } from './ir.js';

function wrong(node: Node, name: string, want: string, got: Attr): never {
  throw new ModelFormatError(`node '${node.name}' (${node.op}): attribute '${name}' should be ${want} but is ${got.kind}`);
}

export function attrInt(node: Node, name: string, def: number): number;
export function attrInt(node: Node, name: string, def?: number): number | undefined;
export function attrInt(node: Node, name: string, def?: number): number | undefined {
  const a = node.attrs[name];
  if (!a) return def;
  if (a.kind === 'int') return a.value;
  return wrong(node, name, 'an int', a);
}

export function attrFloat(node: Node, name: string, def: number): number;
export function attrFloat(node: Node, name: string, def?: number): number | undefined;
export function attrFloat(node: Node, name: string, def?: number): number | undefined {
  const a = node.attrs[name];
  if (!a) return def;
  if (a.kind === 'float' || a.kind === 'int') return a.value;
  return wrong(node, name, 'a float', a);
}

export function attrInts(node: Node, name: string, def: number[]): number[];
export function attrInts(node: Node, name: string, def?: number[]): number[] | undefined;
export function attrInts(node: Node, name: string, def?: number[]): number[] | undefined {
  const a = node.attrs[name];
  if (!a) return def;
  if (a.kind === 'ints') return a.value;
  if (a.kind === 'int') return [a.value];
  return wrong(node, name, 'a list of ints', a);
}

export function attrFloats(node: Node, name: string, def?: number[]): number[] | undefined {
  const a = node.attrs[name];
  if (!a) return def;
  if (a.kind === 'floats') return a.value;
  return wrong(node, name, 'a list of floats', a);
}

export function attrString(node: Node, name: string, def: string): string;
export function attrString(node: Node, name: string, def?: string): string | undefined;
export function attrString(node: Node, name: string, def?: string): string | undefined {
  const a = node.attrs[name];
  if (!a) return def;
  if (a.kind === 'string') return a.value;
  return wrong(node, name, 'a string', a);
}

export function attrTensor(node: Node, name: string): ConstTensor | undefined {
  const a = node.attrs[name];
  if (!a) return undefined;
  if (a.kind === 'tensor') return a.value;
  return wrong(node, name, 'a tensor', a);
}

export function attrGraph(node: Node, name: string): Graph | undefined {
  const a = node.attrs[name];
  if (!a) return undefined;
  if (a.kind === 'graph') return a.value;
  return wrong(node, name, 'a graph', a);
}
