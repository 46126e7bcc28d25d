// Builds small ONNX models for tests and benchmarks with onnx-proto (the official schema),
// independently of edgeprune's own ONNX code.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type IAttributeProto = NonNullable<Parameters<typeof onnx.AttributeProto.create>[0]>;
type IValueInfoProto = NonNullable<Parameters<typeof onnx.ValueInfoProto.create>[0]>;

export type AttrValue = number | number[] | string | { float: number } | { floats: number[] };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
  domain?: string;
}

export interface ModelSpec {
  nodes: NodeSpec[];
  inputs: { name: string; dims: (number | string)[] }[];
  outputs: string[];
  initializers?: { name: string; dims: number[]; data: Float32Array | BigInt64Array | Int32Array | Int8Array | Uint8Array }[];
  opset?: number;
}

function attribute(name: string, v: AttrValue): IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.FLOATS, floats: v.floats };
}

export function buildModel(spec: ModelSpec): Uint8Array {
  const E = onnx.TensorProto.DataType;
  const valueInfo = (name: string, dims?: (number | string)[]): IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: E.FLOAT, shape: dims ? { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } : undefined } },
  });
  const init = (spec.initializers ?? []).map((t) => {
    const base = { name: t.name, dims: t.dims };
    if (t.data instanceof Float32Array) return { ...base, dataType: E.FLOAT, rawData: new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength)) };
    if (t.data instanceof BigInt64Array) return { ...base, dataType: E.INT64, rawData: new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength)) };
    if (t.data instanceof Int8Array || t.data instanceof Uint8Array) {
      return { ...base, dataType: t.data instanceof Int8Array ? E.INT8 : E.UINT8, rawData: new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength)) };
    }
    return { ...base, dataType: E.INT32, int32Data: Array.from(t.data) };
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    producerName: 'edgeprune-tests',
    graph: {
      name: 'g',
      node: spec.nodes.map((n, i) => ({
        opType: n.op,
        name: `n${i}`,
        domain: n.domain ?? '',
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      input: spec.inputs.map((i) => valueInfo(i.name, i.dims)),
      output: spec.outputs.map((o) => valueInfo(o)),
      initializer: init,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
