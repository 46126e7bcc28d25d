// Structural mutations of an ONNX model: decode with onnx-proto (independent of edgeprune's
// decoder), change the message objects the way a buggy exporter or a hostile author would, and
// encode again, so that the bytes are valid protobuf and the damage reaches the importer's graph
// checks, the folding passes and the session's planner instead of stopping at the wire format.
import onnxProto from 'onnx-proto';
import { onnx, E, AT, type ModelProto, type IGraphProto as GraphProto, type INodeProto as NodeProto, type ITensorProto as TensorProto, type IAttributeProto as AttributeProto } from '../util/onnx-proto.js';
import type { Rng } from '../../src/train/rng.js';
import { pick, type Mutated } from './mutate-bytes.js';


type GraphMutator = (r: Rng, m: ModelProto, g: GraphProto) => string;

/** Dims and attribute integers that break arithmetic: zero, negatives, 2^31, 2^32, 2^40, 2^53, near 2^63. */
export const HOSTILE_INTS = [0, -1, -2, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 40, 2 ** 53, -(2 ** 53), 9.2e18, -9.2e18, 1e6, 65536];
const HOSTILE_FLOATS = [NaN, Infinity, -Infinity, 0, -0, 1e38, -1e38, 1e-45, 3.4028234663852886e38];

/** Ops the runtime implements or the folder evaluates: swapping among them keeps a node plausible. */
const OPS = ['Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'Relu', 'Add', 'Mul', 'Sub', 'Div', 'Reshape', 'Flatten', 'Transpose', 'Concat', 'Split', 'Slice', 'Gather', 'Squeeze', 'Unsqueeze', 'Shape', 'Size', 'Expand', 'Tile', 'ConstantOfShape', 'Range', 'Cast', 'Softmax', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'BatchNormalization', 'ReduceMean', 'ReduceSum', 'Resize', 'Pad', 'Where', 'Equal', 'If', 'Identity', 'Sigmoid', 'Clip', 'Pow', 'Sqrt', 'LayerNormalization', 'Loop', 'Scan', 'NonZero', 'TopK', '__proto__', 'constructor', 'toString'];
const ATTR_NAMES = ['kernel_shape', 'pads', 'strides', 'dilations', 'group', 'axis', 'axes', 'perm', 'to', 'alpha', 'beta', 'transA', 'transB', 'keepdims', 'epsilon', 'mode', 'value', 'ceil_mode', 'auto_pad', 'output_padding', 'output_shape', 'split', 'num_outputs', 'then_branch', 'else_branch', 'body', 'allowzero', 'noop_with_empty_axes', 'coordinate_transformation_mode', 'scales', 'sizes', '__proto__', 'constructor'];

function nodes(g: GraphProto): NodeProto[] {
  return (g.node ??= []);
}

function someNode(r: Rng, g: GraphProto): NodeProto | undefined {
  const ns = nodes(g);
  return ns.length ? pick(r, ns) : undefined;
}

function allOutputs(g: GraphProto): string[] {
  return nodes(g).flatMap((n) => (n.output ?? []).filter((o) => o));
}

function firstInputName(g: GraphProto): string {
  return g.input?.[0]?.name ?? 'x';
}

/** A graph attribute whose subgraph nests `depth` If nodes, each branch reading `x` from the outermost scope. */
function nestedIf(depth: number, x: string, constCond: boolean): { node: NodeProto; init?: TensorProto } {
  // the else branch is a leaf at every level: sharing `inner` in both would double the file per level
  const leaf = (out: string): GraphProto => ({ name: 'leaf', node: [{ opType: 'Identity', input: [x], output: [out] }], output: [{ name: out, type: { tensorType: { elemType: E.FLOAT } } }] });
  let inner = leaf('leaf_out');
  for (let d = depth - 1; d >= 1; d--) {
    const out = `deep_${d}`;
    inner = { name: `level_${d}`, node: [{ opType: 'If', input: ['fuzz_cond'], output: [out], attribute: [{ name: 'then_branch', type: AT.GRAPH, g: inner }, { name: 'else_branch', type: AT.GRAPH, g: leaf(`${out}_else`) }] }], output: [{ name: out, type: { tensorType: { elemType: E.FLOAT } } }] };
  }
  const node: NodeProto = { opType: 'If', name: 'fuzz_deep_if', input: ['fuzz_cond'], output: ['fuzz_deep_out'], attribute: [{ name: 'then_branch', type: AT.GRAPH, g: inner }, { name: 'else_branch', type: AT.GRAPH, g: leaf('fuzz_deep_else') }] };
  return { node, init: constCond ? { name: 'fuzz_cond', dims: [], dataType: E.BOOL, int32Data: [1] } : undefined };
}

function addOutput(g: GraphProto, name: string, elemType: number = E.FLOAT): void {
  (g.output ??= []).push({ name, type: { tensorType: { elemType } } });
}

function hostileInt(r: Rng): number {
  return pick(r, HOSTILE_INTS);
}

/** A random attribute value of a random (or the given) kind. */
function absurdAttribute(r: Rng, name: string): AttributeProto {
  switch (r.int(9)) {
    case 0:
      return { name, type: AT.INT, i: hostileInt(r) };
    case 1:
      return { name, type: AT.INTS, ints: Array.from({ length: r.int(6) }, () => hostileInt(r)) };
    case 2:
      return { name, type: AT.INTS, ints: Array.from({ length: pick(r, [1000, 70_000]) }, () => r.int(3)) };
    case 3:
      return { name, type: AT.FLOAT, f: pick(r, HOSTILE_FLOATS) };
    case 4:
      return { name, type: AT.FLOATS, floats: Array.from({ length: r.int(5) }, () => pick(r, HOSTILE_FLOATS)) };
    case 5:
      return { name, type: AT.STRING, s: new TextEncoder().encode(pick(r, ['', 'NOTSET', 'SAME_UPPER', 'constant', 'linear', 'half_pixel', '\u0000\uffff', 'x'.repeat(10_000)])) };
    case 6:
      return { name, type: AT.GRAPH, g: { name: 'stray', node: [{ opType: 'Relu', input: ['nowhere'], output: ['o'] }], output: [{ name: 'o' }] } };
    case 7:
      return { name, type: AT.TENSOR, t: { dims: [hostileInt(r) & 0xff], dataType: E.FLOAT, floatData: [1, 2] } };
    default:
      // a kind that disagrees with the value present
      return { name, type: pick(r, [AT.INT, AT.INTS, AT.FLOAT, AT.GRAPH, AT.TENSOR, 0, 99]) as onnxProto.onnx.AttributeProto.AttributeType, i: 3, floats: [1, 2] };
  }
}

const MUTATORS: Record<string, GraphMutator> = {
  danglingInput(r, _m, g) {
    const n = someNode(r, g);
    if (!n) return 'no node';
    const name = `nowhere_${r.int(100)}`;
    (n.input ??= []).length ? (n.input[r.int(n.input.length)] = name) : n.input.push(name);
    return `node '${n.name}' reads '${name}'`;
  },
  cycle(r, _m, g) {
    const ns = nodes(g);
    if (ns.length < 1) return 'no node';
    const j = r.int(ns.length);
    const i = r.int(j + 1); // i ≤ j: i reads what j (downstream or itself) writes
    const src = ns[j].output?.[0] ?? '';
    if (!ns[i].input?.length) ns[i].input = [src];
    else ns[i].input[r.int(ns[i].input.length)] = src;
    return `node ${i} reads '${src}' written by node ${j}`;
  },
  duplicateOutput(r, _m, g) {
    const ns = nodes(g);
    if (!ns.length) return 'no node';
    const n = pick(r, ns);
    const other = pick(r, [...allOutputs(g), ...(g.input ?? []).map((v) => v.name ?? ''), ...(g.initializer ?? []).map((t) => t.name ?? '')]);
    (n.output ??= []).length ? (n.output[0] = other) : n.output.push(other);
    return `node '${n.name}' also writes '${other}'`;
  },
  graphOutputs(r, _m, g) {
    const outs = (g.output ??= []);
    const k = r.int(4);
    if (k === 0 && outs.length) outs.push(outs[0]);
    else if (k === 1 && outs.length) outs[0] = { ...outs[0], name: 'ghost' };
    else if (k === 2) outs.length = 0;
    else outs.push({ name: pick(r, [firstInputName(g), ...(g.initializer ?? []).map((t) => t.name ?? '')]), type: { tensorType: { elemType: E.FLOAT } } });
    return `graph outputs mutation ${k}`;
  },
  deepIf(r, _m, g) {
    const depth = pick(r, [2, 5, 20, 32, 33, 34, 40, 100, 1000, 1500]); // onnx-proto's encoder recurses: ~2000 is its limit
    const constCond = r.next() < 0.7;
    const { node, init } = nestedIf(depth, firstInputName(g), constCond);
    nodes(g).push(node);
    if (init) (g.initializer ??= []).push(init);
    else (g.input ??= []).push({ name: 'fuzz_cond', type: { tensorType: { elemType: E.BOOL, shape: { dim: [] } } } });
    addOutput(g, 'fuzz_deep_out');
    return `If nested ${depth} deep (${constCond ? 'constant' : 'input'} condition)`;
  },
  absurdAttr(r, _m, g) {
    const n = someNode(r, g);
    if (!n) return 'no node';
    const attrs = (n.attribute ??= []);
    const name = attrs.length && r.next() < 0.6 ? (pick(r, attrs).name ?? '') : pick(r, ATTR_NAMES);
    const a = absurdAttribute(r, name);
    const k = attrs.findIndex((x) => x.name === name);
    if (k >= 0 && r.next() < 0.8) attrs[k] = a;
    else attrs.push(a);
    return `node '${n.name}' (${n.opType}) attribute '${name}' = ${JSON.stringify({ ...a, g: a.g ? 'graph' : undefined, ints: a.ints && a.ints.length > 8 ? `${a.ints.length} ints` : a.ints, s: a.s ? `${a.s.length} bytes` : undefined })}`;
  },
  rawDataLength(r, _m, g) {
    const inits = (g.initializer ?? []).filter((t) => t.rawData && t.rawData.length);
    if (!inits.length) return 'no raw_data initializer';
    const t = pick(r, inits);
    const raw = t.rawData as Uint8Array;
    const delta = pick(r, [-1, -3, -4, 1, 4, 8, -raw.length + 1, raw.length]);
    const n = Math.max(0, raw.length + delta);
    const out = new Uint8Array(n);
    out.set(raw.subarray(0, Math.min(n, raw.length)));
    t.rawData = out;
    return `initializer '${t.name}' raw_data ${raw.length} → ${n} bytes (dims [${t.dims}])`;
  },
  hugeDims(r, _m, g) {
    const where = r.int(3);
    const d = hostileInt(r);
    if (where === 0 && g.initializer?.length) {
      const t = pick(r, g.initializer);
      const dims = (t.dims ??= []);
      if (dims.length && r.next() < 0.8) dims[r.int(dims.length)] = d;
      else dims.push(d);
      return `initializer '${t.name}' dims [${dims}]`;
    }
    const vs = where === 1 ? (g.input ?? []) : (g.output ?? []);
    if (!vs.length) return 'no value';
    const v = pick(r, vs);
    const shape = ((v.type ??= {}).tensorType ??= {}).shape ?? (v.type.tensorType.shape = { dim: [] });
    const dim = (shape.dim ??= []);
    if (dim.length && r.next() < 0.8) dim[r.int(dim.length)] = { dimValue: d };
    else dim.push({ dimValue: d });
    return `${where === 1 ? 'input' : 'output'} '${v.name}' dim ${d}`;
  },
  bigInputDims(r, _m, g) {
    const v = g.input?.[0];
    if (!v) return 'no input';
    const dims = pick(r, [[1, 2 ** 15, 2 ** 15], [2 ** 14, 3, 64, 64], [1, 3, 4096, 4096], [1, 12, 2 ** 31], [2 ** 40, 12], [0, 12], [1, 'batch', 'batch']]);
    v.type = { tensorType: { elemType: E.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } };
    return `input '${v.name}' dims [${dims}]`;
  },
  dataType(r, _m, g) {
    const inits = g.initializer ?? [];
    if (!inits.length) return 'no initializer';
    const t = pick(r, inits);
    const code = pick(r, [0, E.STRING, E.FLOAT16, E.DOUBLE, E.INT8, E.UINT64, E.BOOL, E.BFLOAT16, E.COMPLEX64, 23, 100, -1]);
    t.dataType = code;
    return `initializer '${t.name}' data type ${code}`;
  },
  typedFieldLength(r, _m, g) {
    const inits = g.initializer ?? [];
    if (!inits.length) return 'no initializer';
    const t = pick(r, inits);
    const n = pick(r, [0, 1, 3, 1000]);
    t.rawData = new Uint8Array(0);
    const vals = Array.from({ length: n }, () => r.int(5));
    if (r.next() < 0.5) t.floatData = vals;
    else if (r.next() < 0.5) t.int64Data = vals.map((v) => v - 2);
    else t.int32Data = vals;
    return `initializer '${t.name}' moved to typed fields with ${n} values`;
  },
  opSwap(r, _m, g) {
    const n = someNode(r, g);
    if (!n) return 'no node';
    const before = n.opType;
    n.opType = r.next() < 0.9 ? pick(r, OPS) : `Garbage${r.int(10)}`;
    if (r.next() < 0.1) n.domain = pick(r, ['ai.onnx.ml', 'com.microsoft', 'ai.onnx']);
    return `node '${n.name}' ${before} → ${n.opType} (${n.domain ?? ''})`;
  },
  arity(r, _m, g) {
    const n = someNode(r, g);
    if (!n) return 'no node';
    const k = r.int(5);
    const ins = (n.input ??= []);
    const outs = (n.output ??= []);
    if (k === 0) ins.pop();
    else if (k === 1) ins.push(pick(r, ['', ...allOutputs(g), firstInputName(g)]));
    else if (k === 2) outs.push(`extra_${r.int(10)}`);
    else if (k === 3) outs.length = 0;
    else ins.length = 0;
    return `node '${n.name}' (${n.opType}) arity mutation ${k}: [${ins}] → [${outs}]`;
  },
  elemType(r, _m, g) {
    const vs = [...(g.input ?? []), ...(g.output ?? [])];
    if (!vs.length) return 'no value';
    const v = pick(r, vs);
    const code = pick(r, [0, E.INT64, E.INT32, E.BOOL, E.STRING, E.FLOAT16, E.DOUBLE, E.BFLOAT16, 99]);
    ((v.type ??= {}).tensorType ??= {}).elemType = code;
    return `value '${v.name}' element type ${code}`;
  },
  opset(r, m) {
    const v = pick(r, [0, 1, 6, 7, 9, 11, 17, 18, 21, 22, 2 ** 31, -1]);
    m.opsetImport = r.next() < 0.9 ? [{ domain: '', version: v }] : [];
    return `opset ${v}`;
  },
  foldBomb(r, _m, g) {
    // constant subexpressions the folding pass evaluates on the host, each just under its
    // per-result cap, many of them kept alive as graph outputs
    const count = pick(r, [1, 10, 100, 400]);
    const shape = pick(r, [[1000, 1000], [100_000, 10], [1, 999_999]]);
    (g.initializer ??= []).push({ name: 'bomb_shape', dims: [2], dataType: E.INT64, int64Data: shape });
    for (let i = 0; i < count; i++) {
      const value: TensorProto = pick(r, [
        { dims: [1], dataType: E.FLOAT, floatData: [1] },
        { dims: [1], dataType: E.DOUBLE, doubleData: [1] },
        { dims: [1], dataType: E.INT64, int64Data: [1] },
      ]);
      nodes(g).push({ opType: 'ConstantOfShape', name: `bomb_${i}`, input: ['bomb_shape'], output: [`bomb_${i}`], attribute: [{ name: 'value', type: AT.TENSOR, t: value }] });
      addOutput(g, `bomb_${i}`, value.dataType as number);
    }
    return `${count} ConstantOfShape [${shape}] kept as outputs`;
  },
  evalBait(r, _m, g) {
    // one host-evaluated op with hostile constant inputs
    const init = (g.initializer ??= []);
    const big = hostileInt(r);
    const k = r.int(7);
    const add = (t: TensorProto) => init.push(t);
    if (k === 0) {
      add({ name: 'eb_shape', dims: [2], dataType: E.INT64, int64Data: [big, big] });
      nodes(g).push({ opType: 'ConstantOfShape', name: 'eb', input: ['eb_shape'], output: ['eb_out'] });
    } else if (k === 1) {
      add({ name: 'eb_s', dims: [], dataType: E.INT64, int64Data: [0] });
      add({ name: 'eb_l', dims: [], dataType: E.INT64, int64Data: [big] });
      add({ name: 'eb_d', dims: [], dataType: E.INT64, int64Data: [pick(r, [1, 0, -1, 2 ** 40])] });
      nodes(g).push({ opType: 'Range', name: 'eb', input: ['eb_s', 'eb_l', 'eb_d'], output: ['eb_out'] });
    } else if (k === 2) {
      add({ name: 'eb_v', dims: [1], dataType: E.FLOAT, floatData: [1] });
      add({ name: 'eb_shape', dims: [3], dataType: E.INT64, int64Data: [big, 1, big] });
      nodes(g).push({ opType: 'Expand', name: 'eb', input: ['eb_v', 'eb_shape'], output: ['eb_out'] });
    } else if (k === 3) {
      add({ name: 'eb_v', dims: [2], dataType: E.FLOAT, floatData: [1, 2] });
      add({ name: 'eb_rep', dims: [1], dataType: E.INT64, int64Data: [big] });
      nodes(g).push({ opType: 'Tile', name: 'eb', input: ['eb_v', 'eb_rep'], output: ['eb_out'] });
    } else if (k === 4) {
      add({ name: 'eb_v', dims: [4], dataType: E.FLOAT, floatData: [1, 2, 3, 4] });
      add({ name: 'eb_idx', dims: [2], dataType: E.INT64, int64Data: [big, -big] });
      nodes(g).push({ opType: 'Gather', name: 'eb', input: ['eb_v', 'eb_idx'], output: ['eb_out'], attribute: [{ name: 'axis', type: AT.INT, i: pick(r, [0, 1, -1, big]) }] });
    } else if (k === 5) {
      add({ name: 'eb_v', dims: [2, 3], dataType: E.FLOAT, floatData: [1, 2, 3, 4, 5, 6] });
      add({ name: 'eb_shape', dims: [3], dataType: E.INT64, int64Data: [pick(r, [-1, 0, big]), -1, pick(r, [0, 2, big])] });
      nodes(g).push({ opType: 'Reshape', name: 'eb', input: ['eb_v', 'eb_shape'], output: ['eb_out'] });
    } else {
      add({ name: 'eb_v', dims: [6], dataType: E.FLOAT, floatData: [1, 2, 3, 4, 5, 6] });
      add({ name: 'eb_st', dims: [1], dataType: E.INT64, int64Data: [pick(r, [big, -big, 0])] });
      add({ name: 'eb_en', dims: [1], dataType: E.INT64, int64Data: [pick(r, [big, -big, 9.2e18])] });
      add({ name: 'eb_ax', dims: [1], dataType: E.INT64, int64Data: [pick(r, [0, 5, -7])] });
      add({ name: 'eb_sp', dims: [1], dataType: E.INT64, int64Data: [pick(r, [1, -1, 0, big])] });
      nodes(g).push({ opType: 'Slice', name: 'eb', input: ['eb_v', 'eb_st', 'eb_en', 'eb_ax', 'eb_sp'], output: ['eb_out'] });
    }
    addOutput(g, 'eb_out', k === 1 ? E.INT64 : E.FLOAT);
    return `host-evaluated op ${['ConstantOfShape', 'Range', 'Expand', 'Tile', 'Gather', 'Reshape', 'Slice'][k]} with ${big}`;
  },
  namesClash(r, _m, g) {
    const k = r.int(4);
    const ns = nodes(g);
    if (k === 0 && ns.length > 1) ns[1].name = ns[0].name;
    else if (k === 1 && g.initializer?.length) g.initializer.push({ ...g.initializer[0] });
    else if (k === 2 && g.initializer?.length && g.input?.length) g.initializer[0].name = g.input[0].name;
    else for (const n of ns) n.name = '';
    return `name clash ${k}`;
  },
  externalData(r, _m, g) {
    const t = g.initializer?.[0];
    if (!t) return 'no initializer';
    if (r.next() < 0.5) t.dataLocation = 1;
    else t.externalData = [{ key: 'location', value: '../../etc/passwd' }];
    return `initializer '${t.name}' external data`;
  },
  sparseInit(r, _m, g) {
    const n = pick(r, [1, 4, 1000]);
    const dims = pick(r, [[4, 4], [2 ** 14, 2 ** 14], [2 ** 15, 2 ** 15], [2 ** 31, 2], [0, 3], [-1, 4], [1 << 20, 256]]);
    const idx = Array.from({ length: n }, () => pick(r, [0, 1, 15, 2 ** 28, -1, 2 ** 40]));
    const dtype = pick(r, [E.FLOAT, E.DOUBLE, E.INT64, E.INT8]);
    (g.sparseInitializer ??= []).push({ dims, values: { name: `sp_${r.int(100)}`, dims: [n], dataType: dtype, floatData: Array(n).fill(1), doubleData: Array(n).fill(1), int64Data: Array(n).fill(1), int32Data: Array(n).fill(1) }, indices: { dims: [n], dataType: E.INT64, int64Data: idx } });
    return `sparse initializer dims [${dims}] with ${n} ${dtype}-values at indices like ${idx.slice(0, 3)}`;
  },
  fanOut(r, _m, g) {
    // many readers of one value, written in reverse so the importer must sort them
    const n = pick(r, [100, 5000, 30_000]);
    const x = firstInputName(g);
    const extra: NodeProto[] = [];
    for (let i = 0; i < n; i++) extra.push({ opType: 'Relu', input: ['fan_src'], output: [`fan_${i}`] });
    extra.push({ opType: 'Identity', input: [x], output: ['fan_src'] });
    nodes(g).push(...extra);
    addOutput(g, `fan_${n - 1}`);
    return `${n} nodes read one value, listed before its producer`;
  },
  longChain(r, _m, g) {
    const n = pick(r, [100, 3000, 20_000]);
    const x = firstInputName(g);
    const chain: NodeProto[] = [];
    for (let i = 0; i < n; i++) chain.push({ opType: pick(r, ['Relu', 'Identity', 'Neg']), input: [i === 0 ? x : `ch_${i - 1}`], output: [`ch_${i}`] });
    if (r.next() < 0.5) chain.reverse();
    nodes(g).push(...chain);
    addOutput(g, `ch_${n - 1}`);
    return `chain of ${n} unary nodes`;
  },
  dropShapes(r, _m, g) {
    const vs = [...(g.input ?? []), ...(g.output ?? [])];
    for (const v of vs) if (r.next() < 0.5 && v.type?.tensorType) v.type.tensorType.shape = r.next() < 0.5 ? null : { dim: [{}, { dimParam: '' }] };
    return 'shapes dropped or emptied';
  },
  duplicateNode(r, _m, g) {
    const n = someNode(r, g);
    if (!n) return 'no node';
    nodes(g).push({ ...n });
    return `node '${n.name}' listed twice`;
  },
};

/** A random structural mutation of an ONNX file; undefined when the seed does not decode. */
export function mutateOnnx(r: Rng, bytes: Uint8Array): Mutated {
  const m = onnx.ModelProto.decode(bytes);
  const g = (m.graph ??= new onnx.GraphProto()) as GraphProto;
  const names = Object.keys(MUTATORS);
  const count = r.next() < 0.8 ? 1 : 2;
  const descs: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = pick(r, names);
    // mutate a subgraph instead, now and then, when the model has one
    const sub = nodes(g).flatMap((n) => (n.attribute ?? []).filter((a) => a.g).map((a) => a.g as GraphProto));
    const target = sub.length && r.next() < 0.25 ? pick(r, sub) : g;
    descs.push(`${name}${target === g ? '' : ' (in a subgraph)'}: ${MUTATORS[name](r, m, target)}`);
  }
  return { bytes: new Uint8Array(onnx.ModelProto.encode(m).finish()), desc: descs.join('; ') };
}
