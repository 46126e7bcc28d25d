// InferenceSession: the public inference API, shaped like onnxruntime-web's
// (InferenceSession.create / inputNames / outputNames / run / release) plus info().
import { EdgepruneError, InputError, ModelFormatError, OutOfMemoryError, UnsupportedOpError } from '../errors.js';
import type { Graph } from '../graph/ir.js';
import { readModel } from './read-model.js';
import { simplify } from '../graph/passes/simplify.js';
import { loadKernels, type WasmSource } from '../wasm/loader.js';
import type { Kernels } from '../wasm/kernels.js';
import { toFloat32 } from '../graph/tensor.js';
import type { Executor } from './op.js';
import { buildPlan, type Plan } from './plan.js';
import { specialize } from './specialize.js';
import { Tensor } from './tensor.js';
import { modelStats, type ModelStats } from './stats.js';
import { resolveKernelOption, type KernelOption, type KernelPreference } from './kernel-choice.js';

export interface SessionOptions {
  /** Kernel build: a compiled WebAssembly.Module (Workers), bytes, a URL, 'simd', 'relaxed' or 'auto' (default). */
  wasm?: WasmSource;
  /** Values for symbolic dims (as in onnxruntime's freeDimensionOverrides); unnamed ones default to 1. */
  freeDimensionOverrides?: Record<string, number>;
  /**
   * Kernels for layers with constant weights: 'auto' (default) picks dense or sparse per node from
   * the weights' zeros and a cost model; 'dense' or 'sparse' forces one for every such layer; an
   * object forces it per node name ({ conv3: 'sparse' }), the rest staying 'auto'.
   */
  kernels?: KernelOption;
}

export interface NodeInfo {
  name: string;
  op: string;
  kernel: string;
  /** Why this kernel: for layers with weights, their zeros and the predicted sparse/dense cost. */
  choice?: string;
  outputDims: number[];
  flops: number;
}

export interface SessionInfo extends ModelStats {
  /** Bytes of wasm memory holding packed weights, tables and constants. */
  weightBytes: number;
  /** Floating-point operations of one run at the planned input dims. */
  flops: number;
  /** Bytes of the activation arena: every intermediate tensor, input and output of one run. */
  plannedPeakBytes: number;
  kernels: 'simd' | 'relaxed';
  inputs: { name: string; dims: (number | string)[]; plannedDims: number[] }[];
  outputs: { name: string; dims: (number | string)[]; plannedDims: number[] }[];
  nodes: NodeInfo[];
}

/** Inputs beyond this many elements are refused before anything is allocated (wasm32 holds 4 GiB). */
const MAX_ELEMENTS = 2 ** 28;

interface ResolvedStep {
  exec: Executor;
  ins: number[];
  outs: number[];
  scratch: number;
}

interface ActivePlan {
  key: string;
  plan: Plan;
  arena: number;
  steps: ResolvedStep[];
  inputPtrs: number[];
  outputs: { name: string; ptr: number; dims: number[]; constant?: Float32Array }[];
}

export class InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private readonly k: Kernels;
  private readonly graph: Graph;
  private readonly statsOf: () => ModelStats;
  private stats: ModelStats | undefined;
  private readonly overrides: Record<string, number>;
  private readonly preferenceOf: (node: string) => KernelPreference;
  private readonly executors = new Map<string, Executor>();
  private readonly uploaded = new Map<string, number>();
  private readonly shared = new Map<string, unknown>();
  private active: ActivePlan | undefined;
  private weightBytes = 0;
  private released = false;

  private constructor(k: Kernels, graph: Graph, stats: () => ModelStats, options: SessionOptions) {
    this.k = k;
    this.graph = graph;
    this.preferenceOf = resolveKernelOption(options.kernels, graph);
    this.statsOf = stats; // counted on the first info(): keeps it off the cold-start path
    this.overrides = options.freeDimensionOverrides ?? {};
    this.inputNames = Object.freeze(graph.inputs.map((i) => i.name));
    this.outputNames = Object.freeze(graph.outputs.map((o) => o.name));
  }

  /** Loads an ONNX model (or a .epm artifact, told apart by its magic), packs its weights and plans its memory for the declared input dims. */
  static async create(model: Uint8Array | ArrayBuffer, options: SessionOptions = {}): Promise<InferenceSession> {
    const bytes = model instanceof ArrayBuffer ? new Uint8Array(model) : model;
    if (!(bytes instanceof Uint8Array)) throw new ModelFormatError('InferenceSession.create takes the model file as a Uint8Array or ArrayBuffer');
    // load the kernels first: in Node the package's own module is compiled and instantiated
    // synchronously right here; elsewhere the compile runs while we parse
    const kernels = loadKernels(options.wasm ?? 'auto');
    kernels.catch(() => {}); // reported by the await below; never an unhandled rejection
    let graph: Graph;
    let imported: Graph;
    try {
      imported = readModel(bytes);
      graph = simplify(imported);
    } catch (e) {
      await kernels.catch(() => {});
      throw e;
    }
    const k = await kernels;
    const session = new InferenceSession(k, graph, () => modelStats(imported), options);
    session.planDefault();
    return session;
  }

  /**
   * A session over a Graph already in memory (a pruned or calibrating graph): no export/import
   * round trip. The graph is not modified.
   */
  static async fromGraph(graph: Graph, options: SessionOptions = {}): Promise<InferenceSession> {
    const k = await loadKernels(options.wasm ?? 'auto');
    const session = new InferenceSession(k, simplify(graph), () => modelStats(graph), options);
    session.planDefault();
    return session;
  }

  /** Runs the model. Feeds are float32 tensors keyed by input name; returns every output. */
  async run(feeds: Record<string, Tensor | { type: string; data: unknown; dims: readonly number[] }>): Promise<Record<string, Tensor>> {
    if (this.released) throw new InputError('this session was released; create a new one');
    if (typeof feeds !== 'object' || feeds === null) throw new InputError(`run() takes an object of input tensors keyed by name (${this.inputNames.join(', ')})`);
    const extra = Object.keys(feeds).filter((n) => !this.inputNames.includes(n));
    if (extra.length) throw new InputError(`unknown input${extra.length > 1 ? 's' : ''} ${extra.map((n) => `'${n}'`).join(', ')}; the model's inputs are ${this.inputNames.map((n) => `'${n}'`).join(', ')}`);
    const dims: number[][] = [];
    const data: Float32Array[] = [];
    for (const info of this.graph.inputs) {
      const t = feeds[info.name];
      if (!t) throw new InputError(`missing input '${info.name}'; the model's inputs are ${this.inputNames.map((n) => `'${n}'`).join(', ')}`);
      if (t.type !== 'float32' || !(t.data instanceof Float32Array)) throw new InputError(`input '${info.name}' is ${t.type}; the model takes float32 (convert with Float32Array.from)`);
      const d = [...t.dims];
      if (d.some((v) => !Number.isInteger(v) || v < 0)) throw new InputError(`input '${info.name}' has invalid dims [${d.join(', ')}]`);
      const n = d.reduce((a, b) => a * b, 1);
      if (n > MAX_ELEMENTS) throw new InputError(`input '${info.name}' with dims [${d.join(', ')}] has ${n} elements, over the ${MAX_ELEMENTS} limit; use a smaller batch`);
      if (n !== t.data.length) throw new InputError(`input '${info.name}': dims [${d.join(', ')}] need ${n} values but the data has ${t.data.length}`);
      this.checkDims(info.name, info.dims, d);
      dims.push(d);
      data.push(t.data);
    }
    const active = this.activate(dims);
    const f32 = this.k.f32;
    active.inputPtrs.forEach((p, i) => f32.set(data[i], p >> 2));
    for (const s of active.steps) s.exec.run(s.ins, s.outs, s.scratch);
    const out: Record<string, Tensor> = {};
    const view = this.k.f32;
    for (const o of active.outputs) {
      const n = o.dims.reduce((a, b) => a * b, 1);
      const values = o.constant ? o.constant.slice() : view.slice(o.ptr >> 2, (o.ptr >> 2) + n);
      out[o.name] = new Tensor('float32', values, o.dims);
    }
    return out;
  }

  /** Parameters, weight bytes, FLOPs, planned peak memory and the kernel chosen per node. */
  info(): SessionInfo {
    if (!this.active) {
      const symbolic = this.graph.inputs.filter((i) => i.dims?.some((d) => typeof d === 'string')).map((i) => `${i.name}: [${i.dims!.join(', ')}]`);
      throw new InputError(`no plan yet: with its symbolic dims at 1 (${symbolic.join('; ')}) the model does not fit (${this.pendingReason}); pass freeDimensionOverrides (CLI: --dim NAME=VALUE) or run it once`);
    }
    const a = this.active;
    const nodes: NodeInfo[] = a.plan.steps.map((s) => ({ name: s.node.name, op: s.node.op, kernel: s.exec.kernel, ...(s.exec.choice ? { choice: s.exec.choice } : {}), outputDims: s.outputDims[0] ?? [], flops: s.exec.flops }));
    this.stats ??= this.statsOf();
    return {
      ...this.stats,
      weightBytes: this.weightBytes,
      flops: nodes.reduce((acc, n) => acc + n.flops, 0),
      plannedPeakBytes: a.plan.arenaBytes,
      kernels: this.k.flavor,
      inputs: this.graph.inputs.map((i) => ({ name: i.name, dims: i.dims ?? [], plannedDims: a.plan.dims.get(i.name) ?? [] })),
      outputs: this.graph.outputs.map((o) => ({ name: o.name, dims: o.dims ?? [], plannedDims: a.outputs.find((x) => x.name === o.name)?.dims ?? [] })),
      nodes,
    };
  }

  async release(): Promise<void> {
    if (this.active) this.k.heap.release(this.active.arena);
    this.active = undefined;
    this.released = true;
  }

  /** The kernel instance (for tests and tools that inspect memory). */
  get kernels(): Kernels {
    return this.k;
  }

  private pendingReason = '';

  /**
   * Plans for the declared dims (symbolic ones at their override or 1). A model whose symbolic
   * dims cannot be 1 (an image model with free height and width) is planned at its first run.
   */
  private planDefault(): void {
    const dims = this.defaultDims();
    const symbolic = this.graph.inputs.some((i) => i.dims?.some((d) => typeof d === 'string' && this.overrides[d] === undefined));
    try {
      this.activate(dims);
    } catch (e) {
      if (!symbolic || !(e instanceof EdgepruneError) || e instanceof UnsupportedOpError || e instanceof OutOfMemoryError) throw e;
      this.pendingReason = e.message;
    }
  }

  private defaultDims(): number[][] {
    return this.graph.inputs.map((info) => {
      if (!info.dims) throw new ModelFormatError(`input '${info.name}' has no declared shape; edgeprune needs at least its rank (re-export with input shapes)`);
      return info.dims.map((d) => (typeof d === 'number' ? d : (this.overrides[d] ?? 1)));
    });
  }

  private checkDims(name: string, declared: (number | string)[] | undefined, got: number[]): void {
    if (!declared) return;
    const bad = declared.length !== got.length || declared.some((d, i) => typeof d === 'number' && d !== got[i]);
    if (bad) throw new InputError(`input '${name}' has dims [${got.join(', ')}] but the model expects [${declared.join(', ')}]`);
  }

  /** Makes the plan for these input dims current (re-using it when the dims did not change). */
  private activate(dims: number[][]): ActivePlan {
    const key = dims.map((d) => d.join('x')).join('|');
    if (this.active?.key === key) return this.active;
    const before = this.k.heap.liveBytes - (this.active ? this.k.heap.sizeOf(this.active.arena)! : 0);
    const spec = specialize(this.graph, new Map(this.graph.inputs.map((inp, i) => [inp.name, dims[i]])));
    const plan = buildPlan(this.k, spec, this.executors, this.uploaded, this.shared, this.preferenceOf);
    this.weightBytes += this.k.heap.liveBytes - (this.active ? this.k.heap.sizeOf(this.active.arena)! : 0) - before;
    if (this.active) this.k.heap.release(this.active.arena);
    const arena = this.k.heap.alloc(plan.arenaBytes);
    const ptr = (b: number) => arena + plan.offsets[b];
    const steps = plan.steps.map((s) => ({
      exec: s.exec,
      ins: s.inputs.map((b, i) => (b >= 0 ? ptr(b) : b === -1 ? s.constPtrs[i] : 0)),
      outs: s.outputs.map((b) => (b >= 0 ? ptr(b) : 0)),
      scratch: s.scratch >= 0 ? ptr(s.scratch) : 0,
    }));
    const outputs = spec.graph.outputs.map((o) => {
      const c = spec.graph.initializers.get(o.name);
      if (c) return { name: o.name, ptr: 0, dims: [...c.dims], constant: toFloat32(c) };
      return { name: o.name, ptr: ptr(plan.bufferOf.get(o.name)!), dims: plan.dims.get(o.name)! };
    });
    this.active = { key, plan, arena, steps, inputPtrs: spec.graph.inputs.map((i) => ptr(plan.bufferOf.get(i.name)!)), outputs };
    return this.active;
  }
}
