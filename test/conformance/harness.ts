// Conformance harness: builds ONNX models with onnx-proto (independently of edgeprune's importer),
// runs them in edgeprune and in onnxruntime-node, and compares output names, dims and values;
// each model is also compiled (src/compile/) and must give the session's outputs bit for bit in
// edgeprune/runtime, unless its run follows its input values (then compile must refuse it).
// The richer builder here (symbolic dims, int inputs, tensor and graph attributes, no outputs
// types forced) is what the op and pattern tests need beyond test/util/onnx-build.ts.
import { expect } from 'vitest';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { InferenceSession, type SessionOptions } from '../../src/runtime/session.js';
import { InferenceSession as CompiledSession } from '../../src/runtime-compiled/session.js';
import { compileModel } from '../../src/compile/compile.js';
import { CompileError } from '../../src/errors.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { expectClose, TOL } from '../util/close.js';
import { randomArray } from '../util/rng.js';

const { onnx } = onnxProto;
type IAttributeProto = NonNullable<Parameters<typeof onnx.AttributeProto.create>[0]>;
type ITensorProto = NonNullable<Parameters<typeof onnx.TensorProto.create>[0]>;
type IGraphProto = NonNullable<Parameters<typeof onnx.GraphProto.create>[0]>;
type IValueInfoProto = NonNullable<Parameters<typeof onnx.ValueInfoProto.create>[0]>;

export type ElemType = 'float32' | 'int64' | 'int32' | 'bool' | 'uint8' | 'int8';

export interface TensorSpec {
  name?: string;
  dims: number[];
  /** float32 by default for Float32Array / number[]; int64 for BigInt64Array. */
  data: Float32Array | BigInt64Array | Int32Array | number[];
  type?: ElemType;
}

export type Attr =
  | number
  | number[]
  | string
  | { float: number }
  | { floats: number[] }
  | { tensor: TensorSpec }
  | { graph: GraphSpec };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, Attr>;
  domain?: string;
  name?: string;
}

export interface ValueSpec {
  name: string;
  /** Omitted: no shape. Strings are symbolic dims. */
  dims?: (number | string)[];
  type?: ElemType;
  /** No type at all (allowed for a subgraph's inputs and outputs). */
  untyped?: boolean;
}

export interface GraphSpec {
  nodes: NodeSpec[];
  inputs: ValueSpec[];
  /** Names (float32, no shape), or full value infos. */
  outputs: (string | ValueSpec)[];
  initializers?: (TensorSpec & { name: string })[];
}

export interface ModelSpec extends GraphSpec {
  opset?: number;
  /** Extra opset imports, e.g. { 'com.example': 1 }. */
  domains?: Record<string, number>;
}

const E = onnx.TensorProto.DataType;
const ELEM: Record<ElemType, number> = { float32: E.FLOAT, int64: E.INT64, int32: E.INT32, bool: E.BOOL, uint8: E.UINT8, int8: E.INT8 };

function tensorProto(t: TensorSpec): ITensorProto {
  const type = t.type ?? (t.data instanceof BigInt64Array ? 'int64' : t.data instanceof Int32Array ? 'int32' : 'float32');
  const base = { name: t.name ?? '', dims: t.dims, dataType: ELEM[type] };
  const raw = (a: ArrayBufferView) => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  if (type === 'float32') return { ...base, rawData: raw(t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as number[])) };
  if (type === 'int64') return { ...base, rawData: raw(t.data instanceof BigInt64Array ? t.data : BigInt64Array.from(Array.from(t.data as ArrayLike<number>, (v) => BigInt(v)))) };
  if (type === 'bool') return { ...base, rawData: Uint8Array.from(Array.from(t.data as ArrayLike<number>, (v) => (v ? 1 : 0))) };
  return { ...base, int32Data: Array.from(t.data as ArrayLike<number>) };
}

function attribute(name: string, v: Attr): IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  if ('tensor' in v) return { name, type: T.TENSOR, t: tensorProto(v.tensor) };
  return { name, type: T.GRAPH, g: graphProto(v.graph, name) };
}

function valueInfo(v: ValueSpec): IValueInfoProto {
  if (v.untyped) return { name: v.name };
  const shape = v.dims ? { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } : undefined;
  return { name: v.name, type: { tensorType: { elemType: ELEM[v.type ?? 'float32'], shape } } };
}

function graphProto(g: GraphSpec, name: string): IGraphProto {
  return {
    name,
    node: g.nodes.map((n, i) => ({
      opType: n.op,
      name: n.name ?? `${name}_n${i}_${n.op}`,
      domain: n.domain ?? '',
      input: n.inputs,
      output: n.outputs,
      attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
    })),
    input: g.inputs.map(valueInfo),
    output: g.outputs.map((o) => valueInfo(typeof o === 'string' ? { name: o } : o)),
    initializer: (g.initializers ?? []).map(tensorProto),
  };
}

export function buildModel(spec: ModelSpec): Uint8Array {
  const opsetImport = [{ domain: '', version: spec.opset ?? 13 }, ...Object.entries(spec.domains ?? {}).map(([domain, version]) => ({ domain, version }))];
  const model = onnx.ModelProto.create({ irVersion: 8, opsetImport, producerName: 'edgeprune-conformance', graph: graphProto(spec, 'g') });
  return onnx.ModelProto.encode(model).finish();
}

// ---- data helpers ----

let seedCounter = 1000;
/** Uniform random floats in [lo, hi) with a fresh seed per call (deterministic across runs). */
export function rand(n: number, lo = -1, hi = 1): Float32Array {
  return randomArray(n, seedCounter++, lo, hi);
}
export const numel = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
/** A float initializer of random values. */
export function w(name: string, dims: number[], lo = -1, hi = 1): TensorSpec & { name: string } {
  return { name, dims, data: rand(numel(dims), lo, hi) };
}
/** An int64 initializer. */
export function i64(name: string, values: number[], dims: number[] = [values.length]): TensorSpec & { name: string } {
  return { name, dims, data: BigInt64Array.from(values.map((v) => BigInt(v))) };
}
/** A float initializer with given values. */
export function f32(name: string, values: number[], dims: number[] = [values.length]): TensorSpec & { name: string } {
  return { name, dims, data: Float32Array.from(values) };
}

/** `int64`: the model declares that input int64 (token ids): onnxruntime gets it as int64, edgeprune as float32. */
export type Feeds = Record<string, { data: Float32Array; dims: number[]; type?: 'int64' | 'uint8' | 'int8' }>;

/** Random feeds for every float input of the spec (symbolic dims take `dimValues` or 1). */
export function randomFeeds(spec: ModelSpec, dimValues: Record<string, number> = {}, lo = -1, hi = 1): Feeds {
  const feeds: Feeds = {};
  for (const i of spec.inputs) {
    const dims = (i.dims ?? []).map((d) => (typeof d === 'number' ? d : (dimValues[d] ?? 1)));
    feeds[i.name] = { data: rand(numel(dims), lo, hi), dims };
  }
  return feeds;
}

export async function runOrt(model: Uint8Array, feeds: Feeds): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) {
      ortFeeds[k] = v.type === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(v.data, (x) => BigInt(x)), v.dims)
        : v.type === 'uint8' ? new ort.Tensor('uint8', Uint8Array.from(v.data), v.dims)
        : v.type === 'int8' ? new ort.Tensor('int8', Int8Array.from(v.data), v.dims)
        : new ort.Tensor('float32', v.data, v.dims);
    }
    const out = await session.run(ortFeeds, { logSeverityLevel: 3 });
    const res: Record<string, { data: Float32Array; dims: number[] }> = {};
    for (const [k, v] of Object.entries(out)) {
      const d = v.data;
      const data = d instanceof Float32Array ? d : Float32Array.from(Array.from(d as ArrayLike<number | bigint>, Number));
      res[k] = { data, dims: [...v.dims] };
    }
    return res;
  } finally {
    await session.release();
  }
}

export interface CompareOptions {
  /** Inputs to feed; default: random values for every declared input. */
  feeds?: Feeds;
  tol?: number;
  /** Symbolic dim values used for random feeds. */
  dimValues?: Record<string, number>;
  session?: SessionOptions;
  /** Range of random inputs (e.g. positive only for Log/Sqrt). */
  range?: [number, number];
  what?: string;
}

/**
 * Runs the model (a spec or ONNX bytes) in edgeprune and onnxruntime-node on the same feeds and
 * checks: the session's output names are the model's, every ORT output is returned with the same
 * dims, and values agree within tol·max(1,|ref|). Returns the edgeprune session for further checks.
 */
export async function expectSameAsOrt(model: ModelSpec | Uint8Array, opts: CompareOptions = {}): Promise<InferenceSession> {
  const bytes = model instanceof Uint8Array ? model : buildModel(model);
  let feeds = opts.feeds;
  if (!feeds) {
    if (model instanceof Uint8Array) throw new Error('expectSameAsOrt: pass feeds for a model given as bytes');
    feeds = randomFeeds(model, opts.dimValues, ...(opts.range ?? [-1, 1]));
  }
  const session = await InferenceSession.create(bytes, opts.session);
  await compareRun(session, bytes, feeds, opts);
  await compiledAgrees(session, bytes, feeds, opts);
  return session;
}

/**
 * The model compiled for the feeds' dims (src/compile/) and run by edgeprune/runtime gives the
 * session's outputs bit for bit, with the session's kernel build and kernel choices. A model
 * compile refuses (its run works on input values on the host) must say so with a CompileError:
 * false then.
 */
export async function compiledAgrees(session: InferenceSession, bytes: Uint8Array, feeds: Feeds, opts: CompareOptions): Promise<boolean> {
  const freeDimensionOverrides: Record<string, number> = { ...opts.session?.freeDimensionOverrides };
  for (const m of session.inputMetadata) m.shape.forEach((d, i) => typeof d === 'string' && (freeDimensionOverrides[d] = feeds[m.name].dims[i]));
  const wasm = session.kernels.flavor;
  let compiled: Uint8Array;
  try {
    compiled = await compileModel(bytes, { ...opts.session, wasm, freeDimensionOverrides });
  } catch (e) {
    // only a run whose kernel calls follow the input values may be refused (dynamic quantization,
    // Gather on run-time ids): a replay that differs is a compiler bug, and fails here
    if (!(e instanceof CompileError) || !/depend on the input values|checks its input values/.test(e.message)) throw e;
    return false;
  }
  const tiny = await CompiledSession.create(compiled, { wasm });
  const ep = tensors(feeds);
  const [got, want] = [await tiny.run(ep), await session.run(ep)];
  for (const name of Object.keys(want)) {
    expect(got[name].dims, `compiled '${name}': dims`).toEqual(want[name].dims);
    expect(new Uint32Array(got[name].data.buffer), `compiled '${name}': bits`).toEqual(new Uint32Array((want[name].data as Float32Array).buffer));
  }
  await tiny.release();
  return true;
}

/** The feeds as edgeprune Tensors. */
function tensors(feeds: Feeds): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new Tensor('float32', v.data, v.dims)]));
}

/** One run of an existing session against ORT on the same feeds. */
export async function compareRun(session: InferenceSession, bytes: Uint8Array, feeds: Feeds, opts: CompareOptions = {}): Promise<void> {
  const what = opts.what ?? 'output';
  const want = await runOrt(bytes, feeds);
  const ep = tensors(feeds);
  const got = await session.run(ep);
  expect([...session.outputNames].sort(), `${what}: output names`).toEqual(Object.keys(want).sort());
  expect(Object.keys(got).sort(), `${what}: returned outputs`).toEqual(Object.keys(want).sort());
  for (const [name, ref] of Object.entries(want)) {
    expect([...got[name].dims], `${what} '${name}': dims`).toEqual(ref.dims);
    expectClose(got[name].data as Float32Array, ref.data, `${what} '${name}'`, opts.tol ?? TOL);
  }
}

/** A single-node model: x (and other runtime inputs) → op → y. */
export function single(op: string, inputs: ValueSpec[], attrs: Record<string, Attr> = {}, opts: { opset?: number; initializers?: (TensorSpec & { name: string })[]; extraInputs?: string[]; outputs?: string[] } = {}): ModelSpec {
  const names = [...inputs.map((i) => i.name), ...(opts.extraInputs ?? [])];
  return {
    opset: opts.opset,
    nodes: [{ op, inputs: names, outputs: opts.outputs ?? ['y'], attrs }],
    inputs,
    outputs: opts.outputs ?? ['y'],
    initializers: opts.initializers,
  };
}
