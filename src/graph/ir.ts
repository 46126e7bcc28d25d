// The one graph representation shared by import, passes, pruning, training, export and the
// runtime. It is plain data (no methods, no wasm): a pass takes a Graph and returns a Graph.
//
// Conventions follow ONNX so that import and export are lossless: node inputs are value names,
// '' marks an omitted optional input, attributes keep their ONNX kind.

export type DType = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'bool' | 'string';

export type TensorArray = Float32Array | Float64Array | BigInt64Array | BigUint64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | Uint32Array;

/** A constant tensor: an initializer, a Constant node's value, a folded result. */
export interface ConstTensor {
  dtype: DType;
  dims: number[];
  /** float16 is stored widened to Float32Array; bool as Uint8Array (0/1); int64 as BigInt64Array. */
  data: TensorArray;
  /**
   * Present when the (float32) values are int8 weights: `data` holds the dequantized floats and
   * every element equals fround(q · scales[c]) exactly, q an integer in [-127, 127], c its index
   * along `axis`. The artifact stores such a tensor as int8 + scales; the runtime may pack the
   * floats (dequantize at creation) or recover q (graph/quant.ts int8Weights) for an int8 kernel.
   * A pass that rewrites the data builds a new tensor without it, so it never goes stale.
   */
  quant?: Int8Quant;
}

/** Symmetric per-channel int8 quantization of a float tensor (graph/quant.ts). */
export interface Int8Quant {
  type: 'int8';
  /** The channel axis: 0 for Conv [Cout, ...] and Gemm transB=1 [N, K]; 1 for MatMul / Gemm [K, N]. */
  axis: number;
  /** One positive, finite scale per index along `axis`. */
  scales: Float32Array;
}

/** A dimension: a size, or a symbolic name such as 'batch' (ONNX dim_param). */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  dtype: DType;
  /** undefined when the model does not say (rank unknown). */
  dims?: Dim[];
  /**
   * A subgraph's input or output the file leaves untyped (ONNX allows it: If / Loop infer them from
   * the node); dtype is then a placeholder no pass reads, and exports write the value untyped again.
   */
  untyped?: true;
}

export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensor'; value: ConstTensor }
  | { kind: 'graph'; value: Graph };

export interface Node {
  /** Unique within the graph (import names anonymous nodes `<op>_<index>`). */
  name: string;
  op: string;
  /** '' for the default ONNX domain. */
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
}

export interface Graph {
  name: string;
  /** Runtime inputs only (initializers that ONNX also lists as inputs are not repeated here). */
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** Topologically sorted. */
  nodes: Node[];
  initializers: Map<string, ConstTensor>;
  /** Default-domain opset version the model was exported with. */
  opset: number;
  /** Extra shape/type information the file carried for intermediate values. */
  valueInfo: Map<string, ValueInfo>;
  /** Producer metadata, kept for export. */
  producer?: { name: string; version: string };
}
