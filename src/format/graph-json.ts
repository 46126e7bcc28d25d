// The graph section's schema: compact JSON (UTF-8), shared by graph-encode.ts and graph-decode.ts.
// JSON keeps the structure readable with any tool and is small next to the weights; tensors are
// never inlined, only referenced by their index in the tensor table (each exactly once).
//
//   JGraph = { name, opset, producer?: [name, version], inputs: JValue[], outputs: JValue[],
//              valueInfo: JValue[], initializers: [name, tensorIndex][], nodes: JNode[] }
//   JValue = { n: name, t: dtype, d?: (int ≥ 0 | symbol)[] | null, k?: map key }
//              d absent = no `dims` key; d null = `dims: undefined` (import's "rank unknown");
//              k only when the valueInfo map key differs from n; u: 1 = untyped (a subgraph's
//              input or output the ONNX file left untyped; t is then a placeholder)
//   JNode  = { n: name, op, d?: domain (absent = ''), i: inputs, o: outputs, a?: [key, kind, value][] }
//   attr values by kind: int → number; float → JFloat; string → string; ints → number[];
//              floats → JFloat[]; strings → string[]; tensor → tensor index; graph → JGraph
//   JFloat = number, or "NaN" / "Infinity" / "-Infinity" / "-0" (values JSON numbers cannot say)
//
// Arrays (not objects) hold attributes and initializers so that their order survives exactly
// and no name can collide with an object's prototype keys.
import type { Dim, DType } from '../graph/ir.js';

export interface JValue {
  n: string;
  t: DType;
  d?: Dim[] | null;
  k?: string;
  u?: 1;
}

export type JFloat = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';

export type JAttr = [key: string, kind: string, value: unknown];

export interface JNode {
  n: string;
  op: string;
  d?: string;
  i: string[];
  o: string[];
  a?: JAttr[];
}

export interface JGraph {
  name: string;
  opset: number;
  producer?: [string, string];
  inputs: JValue[];
  outputs: JValue[];
  valueInfo: JValue[];
  initializers: [string, number][];
  nodes: JNode[];
}

export const DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'uint16', 'uint32', 'uint64', 'bool', 'string'];

/** Subgraphs nest at most this deep (If inside Loop inside ...): deeper is a hostile file. */
export const MAX_DEPTH = 64;

export function floatToJson(v: number): JFloat {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Object.is(v, -0)) return '-0';
  return v;
}

const SPECIAL: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

export function floatFromJson(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  return typeof v === 'string' && v in SPECIAL ? SPECIAL[v] : undefined;
}
