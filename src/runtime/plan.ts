// Turns a specialized graph into an execution plan: one executor per node (weights packed once),
// activations fused into the conv/GEMM before them, and a static memory plan over one arena.
import { InputError, ModelFormatError } from '../errors.js';
import type { Graph, Node, TensorArray } from '../graph/ir.js';
import { toFloat32 } from '../graph/tensor.js';
import type { FusedActivation } from '../kernels/activation.js';
import type { Kernels } from '../wasm/kernels.js';
import { planMemory, type BufferRequest } from './memory-plan.js';
import type { Executor, OpInput } from './op.js';
import { OPS } from './ops/index.js';
import { gemmFusable } from './ops/gemm.js';
import { attrFloat, attrInt } from '../graph/attrs.js';
import { foldBatchNorm as foldBatchNormParams } from '../kernels/norm.js';
import type { Specialized } from './specialize.js';
import type { KernelPreference } from './kernel-choice.js';
import type { CacheEntry, PlanCache } from './plan-cache.js';
import { checkBytes, elementCount } from '../graph/size-check.js';
import { clipOf, findElementwiseChains, type ElementwiseChain } from './fuse-elementwise.js';
import { unaryPrepared } from '../kernels/unary.js';

export interface Step {
  node: Node;
  exec: Executor;
  /** Buffer index per input (-1: constant, see constPtrs; -2: omitted). */
  inputs: number[];
  /** Pointers of uploaded constant inputs (0 where not uploaded). */
  constPtrs: number[];
  outputs: number[];
  /** Scratch buffer index, or -1. */
  scratch: number;
  outputDims: number[][];
}

export interface Plan {
  steps: Step[];
  /** Byte offset of each buffer in the arena. */
  offsets: number[];
  arenaBytes: number;
  /** value name -> buffer index (run-time values only). */
  bufferOf: Map<string, number>;
  dims: Map<string, number[]>;
  /** The cache entries (executors, uploaded constants) the plan uses: a reused plan marks them used. */
  entries: CacheEntry[];
}

const ACTIVATIONS = new Set(['Relu', 'LeakyRelu', 'Clip']);
const FUSERS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);
const BN_FOLDERS = new Set(['Conv', 'ConvTranspose', 'Gemm']);

/**
 * The per-channel scale and shift of an inference BatchNormalization that `layer` can absorb:
 * its weights must be constant and the BN must act on the layer's output channels. The folding
 * itself happens when the executor packs its weights (in wasm), so the graph keeps its BN node
 * (pruning needs it) and a cold start pays no JS loop over the weights.
 */
function foldableBatchNorm(layer: Node, bn: Node, g: Graph): { scale: Float32Array; shift: Float32Array } | undefined {
  if (attrInt(bn, 'training_mode', 0) || bn.outputs.slice(1).some((o) => o !== '')) return undefined;
  if (bn.inputs.length !== 5) return undefined; // malformed (the op itself reports it)
  const params = bn.inputs.slice(1, 5).map((name) => g.initializers.get(name));
  const C = foldableChannels(layer, g);
  if (C === undefined || params.some((p) => !p)) return undefined;
  const [scale, bias, mean, variance] = params.map((p) => toFloat32(p!));
  if ([scale, bias, mean, variance].some((v) => v.length !== C)) return undefined;
  return foldBatchNormParams({ scale, bias, mean, variance, epsilon: attrFloat(bn, 'epsilon', 1e-5) }, C);
}

/**
 * The output channels of a layer whose outputs a per-channel scale and shift can fold into (its
 * weights constant), or undefined.
 */
function foldableChannels(layer: Node, g: Graph): number | undefined {
  const w = g.initializers.get(layer.inputs[1]);
  if (!w) return undefined;
  if (layer.op === 'Conv') return w.dims[0];
  if (layer.op === 'ConvTranspose') return w.dims[1] * attrInt(layer, 'group', 1);
  const C = attrInt(layer, 'transB', 0) ? w.dims[0] : w.dims[1];
  const c = layer.inputs[2] ? g.initializers.get(layer.inputs[2]) : undefined;
  // a C that is not one value per output (e.g. [M, N]) is added after the GEMM: no fold
  return layer.inputs[2] && (!c || (c.data.length !== C && c.data.length !== 1)) ? undefined : C;
}

/** An activation node the producer can absorb, as the epilogue code. */
function fusedActivation(act: Node, inputs: (OpInput | undefined)[], opset: number): FusedActivation | undefined {
  if (act.op === 'Relu') return { kind: 'relu' };
  if (act.op === 'LeakyRelu') return { kind: 'leakyRelu', alpha: attrFloat(act, 'alpha', 0.01) };
  // bounds computed at run time: keep the Clip node
  const b = act.op === 'Clip' ? clipOf(act, inputs, opset) : undefined;
  return b && { kind: 'clip', ...b };
}

/** The first node of a fused elementwise chain: one kernel pass from x to the chain's output (in place when x dies here). */
function elementwiseChainExecutor(k: Kernels, chain: ElementwiseChain, dims: number[]): Executor {
  const n = elementCount(dims);
  const run = unaryPrepared(k, chain.op, dims, chain.params, chain.then);
  return {
    kernel: `unary:${chain.op}${chain.then ? '+affine' : ''}`,
    flops: n * ((chain.op.startsWith('hardSwish') ? 4 : 2) + (chain.then ? 2 : 0)), // as the nodes count it: one per element each
    scratchBytes: 0,
    inPlaceInput: chain.x,
    run(ins, outs) {
      run(ins[chain.x], outs[0]);
    },
  };
}

/**
 * An exact key for a small constant: its bytes as a string (two per char when aligned). Cheaper
 * than formatting each value (a cold start built ~1 MB of number strings); -0 and 0 or two NaN
 * payloads give different keys, which only costs a cache miss.
 */
function bytesKey(d: TensorArray): string {
  const even = d.byteOffset % 2 === 0 && d.byteLength % 2 === 0;
  const units = even ? new Uint16Array(d.buffer, d.byteOffset, d.byteLength >> 1) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  return String.fromCharCode.apply(null, units as unknown as number[]);
}

/** A number per typed array: large constants are matched by identity (weights are the same object in every plan). */
const ids = new WeakMap<object, number>();
let nextId = 0;
function identity(data: object): number {
  let id = ids.get(data);
  if (id === undefined) ids.set(data, (id = ++nextId));
  return id;
}

/**
 * Constants up to this many elements are matched by value. What is folded from the input dims
 * (and so changes object, and maybe value, between plans) is shape arithmetic: a few int64s.
 * Anything longer (biases, norm parameters) is an initializer, the same object in every plan; keyed
 * by value it made each key a string of up to 1 kB, which a cold start built, joined and hashed
 * per node (~40% of the planner's own time on a MobileNetV3).
 */
const VALUE_KEY_MAX = 16;

/** The key of a constant: its bytes when small, else its identity. */
function constantKey(d: TensorArray): string {
  return d.length <= VALUE_KEY_MAX ? bytesKey(d) : `#${identity(d)}`;
}

/**
 * Builds the plan. Executors are cached by node and input dims across plans (a session re-plans
 * when run() sees new input dims) and weights are packed once per session (`cache.shared`). Every
 * wasm block comes from the session's heap; blocks an executor or an uploaded constant owns are
 * freed when the cache evicts it.
 */
export function buildPlan(k: Kernels, spec: Specialized, cache: PlanCache, preferenceOf: (node: string) => KernelPreference = () => 'auto'): Plan {
  const generation = ++cache.generation;
  const shared = cache.shared;
  const entries: CacheEntry[] = [];
  /** A new cache entry, used by this plan. */
  const remember = <T>(map: Map<string, CacheEntry & { value: T; blocks: number[] }>, key: string, value: T, blocks: number[]): T => {
    const entry = { value, blocks, used: generation };
    map.set(key, entry);
    entries.push(entry);
    return value;
  };
  const g: Graph = spec.graph;
  const dims = spec.dims;
  const inputsOf = (node: Node): (OpInput | undefined)[] =>
    node.inputs.map((name) => {
      if (name === '') return undefined;
      const c = g.initializers.get(name);
      if (c) return { name, dims: c.dims, constant: c };
      const d = dims.get(name);
      if (!d) throw new ModelFormatError(`node '${node.name}' (${node.op}) reads '${name}', which nothing produces`);
      return { name, dims: d };
    });

  // readers per value, to find fusable producer -> BatchNormalization -> activation chains
  const readers = new Map<string, Node[]>();
  for (const n of g.nodes) {
    for (const i of n.inputs) {
      if (!i) continue;
      const list = readers.get(i);
      if (list) list.push(n);
      else readers.set(i, [n]);
    }
  }
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const onlyReader = (value: string): Node | undefined => {
    const r = readers.get(value) ?? [];
    return r.length === 1 && !graphOutputs.has(value) ? r[0] : undefined;
  };
  const soleReader = (value: string): Node | undefined => {
    const r = onlyReader(value);
    return r?.inputs[0] === value ? r : undefined;
  };
  const chains = findElementwiseChains(g, dims, onlyReader, inputsOf);
  const bnInto = new Map<Node, { scale: Float32Array; shift: Float32Array; folded?: string }>();
  const fusedInto = new Map<Node, FusedActivation>();
  const absorbed = new Set<Node>();
  /** The input a folded Mul or Add reads the layer's value from (the others read input 0). */
  const absorbedAt = new Map<Node, number>();
  for (const n of g.nodes) {
    if (!FUSERS.has(n.op) || n.outputs.length !== 1) continue;
    let out = n.outputs[0];
    const bn = BN_FOLDERS.has(n.op) ? soleReader(out) : undefined;
    if (bn?.op === 'BatchNormalization') {
      const folded = foldableBatchNorm(n, bn, g);
      if (folded) {
        bnInto.set(n, folded);
        absorbed.add(bn);
        out = bn.outputs[0];
      }
    }
    // a scalar Mul then Add (PP-LCNetV3's learnable affine block after each conv: 56 in PaddleOCR
    // v4's recogniser) folds in like a BatchNormalization: not a pass of its own, and like that
    // fold it rounds differently from the two nodes
    const mul = onlyReader(out);
    const affine = mul && chains.heads.get(mul);
    const C = affine?.op === 'affine' && BN_FOLDERS.has(n.op) ? foldableChannels(n, g) : undefined;
    if (affine && C !== undefined) {
      const { alpha = 1, beta = 0 } = affine.params;
      const add = onlyReader(mul.outputs[0])!;
      const bnFold = bnInto.get(n);
      const scale = bnFold ? bnFold.scale.map((v) => v * alpha) : new Float32Array(C).fill(alpha);
      const shift = bnFold ? bnFold.shift.map((v) => v * alpha + beta) : new Float32Array(C).fill(beta);
      bnInto.set(n, { scale, shift, folded: bnFold ? '+bn+affine' : '+affine' });
      chains.heads.delete(mul);
      absorbedAt.set(mul, affine.x).set(add, chains.absorbed.get(add)!);
      chains.absorbed.delete(add);
      absorbed.add(mul).add(add);
      out = add.outputs[0];
    }
    const act = soleReader(out);
    if (!act || !ACTIVATIONS.has(act.op)) continue;
    if (n.op === 'MatMul' && !gemmFusable('MatMul', inputsOf(n) as { dims: number[]; constant?: unknown }[])) continue;
    const fused = fusedActivation(act, inputsOf(act), g.opset);
    if (!fused) continue;
    fusedInto.set(n, fused);
    absorbed.add(act);
  }


  const steps: Step[] = [];
  for (const node of g.nodes) {
    const inputs = inputsOf(node);
    const outputDims = node.outputs.map((o) => (o === '' ? [] : dims.get(o) ?? []));
    const fusedAway = absorbed.has(node) || chains.absorbed.has(node);
    let exec: Executor;
    // Executors are reused across plans only for identical inputs: dims, output dims, and the
    // values of small constants (shape tensors folded from the input dims change with them;
    // larger constants are weights, the same object in every plan). A node fused into another
    // has no executor of its own, and no key.
    const key = fusedAway ? '' : `${node.name}|${inputs.map((i) => (i ? i.dims.join('x') : '-')).join(',')}|${outputDims.map((d) => d.join('x')).join(',')}|${inputs.map((i) => (i?.constant ? constantKey(i.constant.data) : '')).join(',')}|${fusedInto.get(node)?.kind ?? ''}|${chains.heads.get(node)?.op ?? ''}`;
    const cached = fusedAway ? undefined : cache.executors.get(key);
    const chainHead = chains.heads.get(node);
    if (fusedAway) {
      exec = { kernel: 'fused', flops: 0, scratchBytes: 0, alias: true, aliasInput: chains.absorbed.get(node) ?? absorbedAt.get(node), run() {} };
    } else if (cached) {
      exec = cached.value;
      cached.used = generation;
      entries.push(cached);
    } else if (chainHead) {
      exec = remember(cache.executors, key, elementwiseChainExecutor(k, chainHead, outputDims[0]), []);
    } else {
      const def = OPS[node.op];
      // blocks allocated for this executor (tables) are its own; those made inside once() belong
      // to the session-long shared state
      const blocks: number[] = [];
      let inOnce = 0;
      const build = () => def.build({
        k,
        node,
        inputs,
        outputDims,
        opset: g.opset,
        activation: fusedInto.get(node),
        batchNorm: bnInto.get(node),
        preference: preferenceOf(node.name),
        alloc: (bytes) => {
          const p = k.heap.alloc(checkBytes(bytes, `node '${node.name}' (${node.op}) tables`));
          if (!inOnce) blocks.push(p);
          return p;
        },
        once<T>(what: string, make: () => T): T {
          const id = `${node.name}|${what}`;
          if (!shared.has(id)) {
            inOnce++;
            try {
              shared.set(id, make());
            } finally {
              inOnce--;
            }
          }
          return shared.get(id) as T;
        },
      });
      try {
        exec = build();
        checkBytes(exec.scratchBytes, `node '${node.name}' (${node.op}) scratch`);
      } catch (e) {
        for (const p of blocks) k.heap.release(p); // a refused plan (over the budget) leaves nothing behind
        throw e;
      }
      remember(cache.executors, key, exec, blocks);
    }
    // constant inputs the op reads from memory: upload once
    const skip = OPS[node.op]?.constantInputs;
    const constPtrs = inputs.map((inp, i) => {
      if (!inp?.constant || skip?.includes(i) || fusedAway || chains.heads.has(node)) return 0;
      // a constant folded from the input dims keeps its name across plans but not its value
      const c = inp.constant;
      const id = `${inp.name}|${c.dims.join('x')}|${constantKey(c.data)}`;
      const entry = cache.constants.get(id);
      if (entry) {
        entry.used = generation;
        entries.push(entry);
        return entry.value;
      }
      const data = toFloat32(c);
      const p = k.heap.alloc(Math.max(1, data.length) * 4);
      k.f32.set(data, p >> 2);
      return remember(cache.constants, id, p, [p]);
    });
    steps.push({ node, exec, inputs: [], constPtrs, outputs: [], scratch: -1, outputDims });
  }

  // ---- buffers: graph inputs and node outputs; aliases and in-place outputs share one ----
  const lastRead = new Map<string, number>();
  steps.forEach((s, i) => s.node.inputs.forEach((name, j) => name && (s.exec.aliasInput ?? j) === j && lastRead.set(name, i)));
  for (const o of g.outputs) lastRead.set(o.name, Infinity);
  const bufferOf = new Map<string, number>();
  const requests: BufferRequest[] = [];
  const newBuffer = (name: string, from: number) => {
    const bytes = elementCount(dims.get(name) ?? []) * 4;
    requests.push({ bytes, from, to: Math.max(from, lastRead.get(name) ?? from) });
    bufferOf.set(name, requests.length - 1);
    return requests.length - 1;
  };
  const join = (name: string, b: number) => {
    bufferOf.set(name, b);
    const bytes = elementCount(dims.get(name) ?? []) * 4;
    requests[b].bytes = Math.max(requests[b].bytes, bytes);
    requests[b].to = Math.max(requests[b].to, lastRead.get(name) ?? -1);
  };
  for (const inp of g.inputs) newBuffer(inp.name, -1);
  steps.forEach((s, i) => {
    s.inputs = s.node.inputs.map((name) => (name === '' ? -2 : g.initializers.has(name) ? -1 : bufferOf.get(name)!));
    s.outputs = s.node.outputs.map((name, j) => {
      if (name === '') return -1;
      const a = s.exec.aliasInput ?? 0;
      if (j === 0 && s.exec.alias && s.inputs[a] >= 0) {
        join(name, s.inputs[a]);
        return s.inputs[a];
      }
      const ip = s.exec.inPlaceInput;
      if (j === 0 && ip !== undefined && s.inputs[ip] >= 0) {
        const b = s.inputs[ip];
        // legal when every tensor in that buffer is last read here (graph inputs are our own copies)
        if (requests[b].to === i) {
          join(name, b);
          return b;
        }
      }
      return newBuffer(name, i);
    });
    if (s.exec.scratchBytes > 0) {
      requests.push({ bytes: s.exec.scratchBytes, from: i, to: i });
      s.scratch = requests.length - 1;
    }
  });
  for (const o of g.outputs) {
    if (!bufferOf.has(o.name) && !g.initializers.has(o.name)) throw new InputError(`graph output '${o.name}' is produced by no node`);
  }
  const mem = planMemory(requests);
  return { steps, offsets: mem.offsets, arenaBytes: mem.bytes, bufferOf, dims, entries };
}
