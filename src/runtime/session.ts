// InferenceSession: the public inference API, shaped like onnxruntime-web's
// (InferenceSession.create / inputNames / outputNames / run / release) plus info().
import { ArgumentError, EdgepruneError, InputError, ModelFormatError, OutOfMemoryError, SessionReleasedError, ShapeError, UnsupportedOpError } from '../errors.js';
import type { DType, Graph, ValueInfo } from '../graph/ir.js';
import { readModel, simplifyLoaded } from './read-model.js';
import { loadKernels, type WasmSource } from '../wasm/loader.js';
import type { Kernels } from '../wasm/kernels.js';
import { toFloat32 } from '../graph/tensor.js';
import type { Executor } from './op.js';
import { buildPlan, type Plan } from './plan.js';
import { PlanCache } from './plan-cache.js';
import { specialize, type Specialized } from './specialize.js';
import { readFeeds, type Feed } from './feeds.js';
import { readFetches } from './fetches.js';
import { checkBudget, createArgs, modelBytes, valueMetadata, type ValueMetadata } from './model-source.js';
export { DEFAULT_MEMORY_BUDGET, type ValueMetadata } from './model-source.js';
import { elementCount } from '../graph/size-check.js';
import { MAX_HEAP_BYTES } from '../wasm/heap.js';
import { Tensor } from './tensor.js';
import { modelStats, type ModelStats } from './stats.js';
import { resolveKernelOption, type KernelOption, type KernelPreference } from './kernel-choice.js';
import { pickLevel, type ElasticInfo } from './elastic.js';

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
  /**
   * The most wasm memory this session may take, in bytes (default 1 GiB): packed weights and
   * tables, the activation arena for the current input dims (scratch included) and the kernels'
   * static data. Creating the session, or a run() whose new input dims need a new plan, throws
   * OutOfMemoryError before memory grows past it; the message gives the bytes needed and the
   * budget. Values above 4 GiB (wasm32) mean no cap beyond that.
   */
  memoryBudget?: number;
  /**
   * Elastic models (`edgeprune fit --elastic`): the fraction of channels to keep; the widest width
   * at or below it is loaded. Without it, the widest width whose recorded memory fits memoryBudget
   * (falling back to narrower ones if the session still does not fit). Others take only 1.
   */
  width?: number;
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

/** What a session knows of its model without a plan: counts from the file, declared dims. */
export interface ModelInfo extends ModelStats {
  inputs: { name: string; dims: (number | string)[] }[];
  outputs: { name: string; dims: (number | string)[] }[];
  /** Elastic models: the width running (an index into levels) and every width in the file, widest first. */
  elastic?: ElasticInfo;
  /**
   * Set while the session has no plan: why its symbolic dims at 1 (no freeDimensionOverrides) do
   * not fit the model. info() needs a plan; run() makes one for the dims it is fed.
   */
  unplanned?: string;
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
  /** Elastic models: the width running (an index into levels) and every width in the file, widest first. */
  elastic?: ElasticInfo;
}


/** Options of create()'s own retries at a narrower width (they may fall back further). */
const retries = new WeakSet<SessionOptions>();

interface ResolvedStep {
  exec: Executor;
  ins: number[];
  outs: number[];
  scratch: number;
}

interface ActivePlan {
  key: string;
  spec: Specialized;
  plan: Plan;
  arena: number;
  steps: ResolvedStep[];
  inputPtrs: number[];
  outputs: { name: string; ptr: number; dims: number[]; constant?: Float32Array }[];
}

/**
 * A model ready to run. run() is async in signature (as in onnxruntime-web) but does all of its
 * work synchronously before its promise settles, so concurrent calls on one session never
 * interleave: they run one after another in call order, each on its own inputs, each returning
 * its own output tensors (copies, never views of wasm memory). For parallelism, use one session
 * per Worker.
 */
export class InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /**
   * Each input's name, type and declared shape (symbolic dims by name), as onnxruntime-web gives
   * them: known from the file alone, before any plan (info() needs one).
   */
  readonly inputMetadata: readonly ValueMetadata[];
  readonly outputMetadata: readonly ValueMetadata[];
  /** Undefined once released: every later use throws SessionReleasedError. */
  private kernelsOrNone: Kernels | undefined;
  private readonly graph: Graph;
  private readonly statsOf: () => ModelStats;
  private stats: ModelStats | undefined;
  private readonly overrides: Record<string, number>;
  private readonly preferenceOf: (node: string) => KernelPreference;
  private cache = new PlanCache();
  private active: ActivePlan | undefined;
  private weightBytes = 0;
  private readonly memoryBudget: number;
  private elastic: ElasticInfo | undefined;

  private constructor(k: Kernels, graph: Graph, stats: () => ModelStats, options: SessionOptions) {
    this.memoryBudget = checkBudget(options.memoryBudget);
    k.heap.limit = Math.min(this.memoryBudget, MAX_HEAP_BYTES);
    this.kernelsOrNone = k;
    this.graph = graph;
    this.preferenceOf = resolveKernelOption(options.kernels, graph);
    this.statsOf = stats; // counted on the first info(): keeps it off the cold-start path
    this.overrides = options.freeDimensionOverrides ?? {};
    this.inputNames = Object.freeze(graph.inputs.map((i) => i.name));
    this.outputNames = Object.freeze(graph.outputs.map((o) => o.name));
    this.inputMetadata = Object.freeze(graph.inputs.map(valueMetadata));
    this.outputMetadata = Object.freeze(graph.outputs.map(valueMetadata));
  }

  /**
   * Loads an ONNX model (or a .epm artifact, told apart by its magic), packs its weights and plans
   * its memory for the declared input dims. The model is the file's bytes, or its path or URL (read
   * from disk in Node, Deno and Bun, fetched elsewhere), as onnxruntime-web takes it.
   */
  static async create(model: Uint8Array | ArrayBuffer | string | URL, options?: SessionOptions): Promise<InferenceSession>;
  /** onnxruntime-web's form: the model is byteLength bytes (default: to the end) of buffer from byteOffset. */
  static async create(buffer: ArrayBufferLike, byteOffset: number, byteLength?: number, options?: SessionOptions): Promise<InferenceSession>;
  static async create(modelArg: Uint8Array | ArrayBufferLike | string | URL, opts?: SessionOptions | number, byteLength?: number, rest?: SessionOptions): Promise<InferenceSession> {
    const { model, options = {} } = createArgs(modelArg, opts, byteLength, rest);
    checkBudget(options.memoryBudget); // before any work
    const bytes = model instanceof Uint8Array ? model : await modelBytes(model);
    // load the kernels first: in Node the package's own module is compiled and instantiated
    // synchronously right here; elsewhere the compile runs while we parse
    return InferenceSession.open(bytes, loadKernels(options.wasm ?? 'auto'), options);
  }

  /**
   * @internal create() over kernels given (src/compile/ instruments them to record the run's
   * calls); not part of the API.
   */
  static async open(bytes: Uint8Array, kernels: Promise<Kernels>, options: SessionOptions): Promise<InferenceSession> {
    kernels.catch(() => {}); // reported by the await below; never an unhandled rejection
    let graph: Graph;
    let imported: Graph;
    let elastic: ElasticInfo | undefined;
    try {
      // the session's budget also bounds what the loader may decode (never below what the file size justifies)
      imported = readModel(bytes, (levels) => (elastic = pickLevel(levels, options.width, options.memoryBudget)).level, options.memoryBudget !== undefined ? { maxTensorBytes: options.memoryBudget } : {});
      graph = simplifyLoaded(imported);
      if (!elastic && options.width !== undefined && options.width !== 1) throw new ArgumentError(`width ${options.width}: this model has one width (write an elastic one with edgeprune fit --elastic)`);
    } catch (e) {
      await kernels.catch(() => {});
      throw e;
    }
    const k = await kernels;
    const session = new InferenceSession(k, graph, () => modelStats(imported), options);
    session.elastic = elastic;
    try {
      session.planDefault();
    } catch (e) {
      // the recorded memory fit but the session does not (another kernel build, other dims): narrower
      const el = elastic as ElasticInfo | undefined;
      if (!el || (options.width !== undefined && !retries.has(options)) || !(e instanceof OutOfMemoryError) || el.level === el.levels.length - 1) throw e;
      const next = { ...options, width: el.levels[el.level + 1].channels };
      retries.add(next);
      return InferenceSession.create(bytes, next);
    }
    return session;
  }

  /**
   * A session over a Graph already in memory (a pruned or calibrating graph): no export/import
   * round trip. The graph is not modified.
   */
  static async fromGraph(graph: Graph, options: SessionOptions = {}): Promise<InferenceSession> {
    const k = await loadKernels(options.wasm ?? 'auto');
    const session = new InferenceSession(k, simplifyLoaded(graph), () => modelStats(graph), options);
    session.planDefault();
    return session;
  }

  /**
   * Runs the model. Feeds are float32 tensors keyed by input name; returns every output, or those
   * `fetches` names (a list, or an object keyed by output name, as in onnxruntime-web; an object
   * naming no output is taken as run options, which change nothing here). Wrong
   * feeds (missing, extra, not float32, dims that differ from the model's fixed dims, data of the
   * wrong length) throw InputError; values are not inspected, so NaN and Infinity propagate as in
   * onnxruntime. New dims for symbolic axes re-plan, within memoryBudget. Concurrent calls run one
   * after another (see the class comment); after release() this throws SessionReleasedError.
   */
  async run(feeds: Record<string, Tensor | Feed>, fetches?: readonly string[] | Record<string, unknown>, _options?: Record<string, unknown>): Promise<Record<string, Tensor>> {
    const k = this.k;
    const { dims, data } = readFeeds(this.graph.inputs, feeds);
    const wanted = readFetches(this.outputNames, fetches);
    const active = this.activateFor(dims);
    const f32 = k.f32;
    active.inputPtrs.forEach((p, i) => f32.set(data[i], p >> 2));
    for (const s of active.steps) s.exec.run(s.ins, s.outs, s.scratch);
    const out: Record<string, Tensor> = {};
    const view = k.f32;
    for (const o of active.outputs) {
      if (wanted && !wanted.has(o.name)) continue;
      const n = elementCount(o.dims);
      const values = o.constant ? o.constant.slice() : view.slice(o.ptr >> 2, (o.ptr >> 2) + n);
      out[o.name] = new Tensor('float32', values, o.dims);
    }
    return out;
  }

  /**
   * Parameters, operator counts and declared input / output dims: what the file says, known
   * without a plan (info() adds what a plan knows: FLOPs, memory, kernels).
   */
  modelInfo(): ModelInfo {
    void this.k; // throws once released, as every other use does
    this.stats ??= this.statsOf();
    const declared = (v: ValueInfo) => ({ name: v.name, dims: v.dims ?? [] });
    return {
      ...this.stats,
      inputs: this.graph.inputs.map(declared),
      outputs: this.graph.outputs.map(declared),
      ...(this.elastic ? { elastic: this.elastic } : {}),
      ...(this.active ? {} : { unplanned: this.pendingReason }),
    };
  }

  /** Parameters, weight bytes, FLOPs, planned peak memory and the kernel chosen per node. */
  info(): SessionInfo {
    const k = this.k;
    if (!this.active) {
      const symbolic = this.graph.inputs.filter((i) => i.dims?.some((d) => typeof d === 'string')).map((i) => `${i.name}: [${i.dims!.join(', ')}]`);
      throw new InputError(`no plan yet: with its symbolic dims at 1 (${symbolic.join('; ')}) the model does not fit (${this.pendingReason}); create the session with freeDimensionOverrides giving them real sizes, or run() it once (modelInfo() needs no plan)`);
    }
    const a = this.active;
    const nodes: NodeInfo[] = a.plan.steps.map((s) => ({ name: s.node.name, op: s.node.op, kernel: s.exec.kernel, ...(s.exec.choice ? { choice: s.exec.choice } : {}), outputDims: s.outputDims[0] ?? [], flops: s.exec.flops }));
    this.stats ??= this.statsOf();
    return {
      ...this.stats,
      weightBytes: this.weightBytes,
      flops: nodes.reduce((acc, n) => acc + n.flops, 0),
      plannedPeakBytes: a.plan.arenaBytes,
      kernels: k.flavor,
      inputs: this.graph.inputs.map((i) => ({ name: i.name, dims: i.dims ?? [], plannedDims: a.plan.dims.get(i.name) ?? [] })),
      outputs: this.graph.outputs.map((o) => ({ name: o.name, dims: o.dims ?? [], plannedDims: a.outputs.find((x) => x.name === o.name)?.dims ?? [] })),
      nodes,
      ...(this.elastic ? { elastic: this.elastic } : {}),
    };
  }

  /**
   * Drops the session's wasm instance and plans, so their memory goes with the next garbage
   * collection even if the session object is kept. A second release() does nothing; any other
   * use afterwards throws SessionReleasedError. inputNames and outputNames stay readable.
   */
  async release(): Promise<void> {
    this.active = undefined;
    this.cache = new PlanCache();
    this.kernelsOrNone = undefined;
  }

  /**
   * @internal Where the current plan reads its inputs and leaves its outputs in wasm memory
   * (src/compile/ records them); not part of the API.
   */
  planIO(): { arena: number; inputs: { name: string; ptr: number; dims: number[] }[]; outputs: { name: string; ptr: number; dims: number[]; constant?: Float32Array }[] } | undefined {
    const a = this.active;
    return a && { arena: a.arena, inputs: this.graph.inputs.map((inp, i) => ({ name: inp.name, ptr: a.inputPtrs[i], dims: a.plan.dims.get(inp.name)! })), outputs: a.outputs };
  }

  /** The kernel instance (for tests and tools that inspect memory). */
  get kernels(): Kernels {
    return this.k;
  }

  private get k(): Kernels {
    if (!this.kernelsOrNone) throw new SessionReleasedError('this session was released; create a new one with InferenceSession.create');
    return this.kernelsOrNone;
  }

  private pendingReason = '';

  /**
   * activate() for the dims run() was fed: a shape that does not fit a layer (a 0-wide image, a map
   * pooled below 1x1) is then the feed's doing, an InputError that names the dims.
   */
  private activateFor(dims: number[][]): ActivePlan {
    try {
      return this.activate(dims);
    } catch (e) {
      if (!(e instanceof ModelFormatError || e instanceof ShapeError)) throw e;
      throw new InputError(`input dims ${formatInputs(this.graph, dims)} do not fit the model: ${e.message}; feed dims its layers accept`);
    }
  }

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
      return info.dims.map((d) => {
        if (typeof d === 'number') return d;
        const v = this.overrides[d] ?? 1;
        if (!Number.isSafeInteger(v) || v < 0) throw new ArgumentError(`freeDimensionOverrides.${d} is ${v}; give a non-negative integer`);
        return v;
      });
    });
  }

  /**
   * Makes the plan for these input dims current (re-using it when the dims did not change). Memory
   * never grows past memoryBudget: the heap checks it before each growth, and a plan that does
   * not fit leaves the previous one current.
   */
  private activate(dims: number[][]): ActivePlan {
    const key = dims.map((d) => d.join('x')).join('|');
    if (this.active?.key === key) return this.active;
    const k = this.k;
    const reused = this.cache.reuse(key);
    let spec: Specialized;
    let plan: Plan;
    if (reused) ({ spec, plan } = reused);
    else {
      spec = specialize(this.graph, new Map(this.graph.inputs.map((inp, i) => [inp.name, dims[i]])), { simplified: true });
      this.checkLargestTensor(spec, dims);
      try {
        plan = buildPlan(k, spec, this.cache, this.preferenceOf);
      } catch (e) {
        throw this.overBudget(e, dims);
      }
    }
    const previous = this.active;
    // what the heap will hold at least (static data and fragmentation aside): an arena past 4 GiB
    // is refused here as over the budget, not by the heap as over wasm32
    const atLeast = k.heap.liveBytes - (previous ? k.heap.sizeOf(previous.arena)! : 0) + plan.arenaBytes;
    if (atLeast > this.memoryBudget) throw this.overBudget(new OutOfMemoryError('', { neededBytes: atLeast, limitBytes: this.memoryBudget }), dims, plan.arenaBytes, 'at least ');
    if (previous) k.heap.release(previous.arena);
    let arena: number;
    try {
      arena = k.heap.alloc(plan.arenaBytes);
    } catch (e) {
      // the previous arena fit a moment ago: take it back so the session stays usable
      if (previous) this.active = bind(previous.key, previous.spec, previous.plan, k.heap.alloc(previous.plan.arenaBytes));
      throw this.overBudget(e, dims, plan.arenaBytes);
    }
    this.active = bind(key, spec, plan, arena);
    if (!reused) this.cache.keep(key, spec, plan);
    this.cache.evict(k.heap);
    this.weightBytes = k.heap.liveBytes - k.heap.sizeOf(arena)!;
    return this.active;
  }

  /** A tensor that alone is over the budget fails here, before executors build tables for it. */
  private checkLargestTensor(spec: Specialized, dims: number[][]): void {
    let largest = { name: '', bytes: 0, dims: [] as number[] };
    for (const [name, d] of spec.dims) {
      const bytes = elementCount(d) * 4;
      if (bytes > largest.bytes) largest = { name, bytes, dims: d };
    }
    if (largest.bytes > this.memoryBudget) {
      throw new OutOfMemoryError(`at input dims ${formatInputs(this.graph, dims)}, tensor '${largest.name}' [${largest.dims.join(', ')}] alone needs ${bytes(largest.bytes)}, over the session's memoryBudget of ${bytes(this.memoryBudget)}; ${REMEDY}`, { neededBytes: largest.bytes, limitBytes: this.memoryBudget });
    }
  }

  /** The heap's refusal to pass the budget, restated with the input dims and what to do. */
  private overBudget(e: unknown, dims: number[][], arenaBytes?: number, atLeast = ''): unknown {
    if (!(e instanceof OutOfMemoryError) || e.limitBytes !== this.memoryBudget || e.neededBytes === undefined) return e;
    const at = `at input dims ${formatInputs(this.graph, dims)}`;
    const need = arenaBytes === undefined
      ? `more than ${bytes(e.neededBytes)} of wasm memory while packing weights and tables`
      : `${atLeast}${bytes(e.neededBytes)} of wasm memory (${bytes(arenaBytes)} for activations, the rest for weights, tables and static data)`;
    return new OutOfMemoryError(`${at} the session needs ${need}, over its memoryBudget of ${bytes(this.memoryBudget)}; ${REMEDY}`, { neededBytes: e.neededBytes, limitBytes: this.memoryBudget });
  }
}

const REMEDY = 'use a smaller batch or smaller input dims, a pruned model, or a larger memoryBudget';

/** SessionOptions.memoryBudget, checked (undefined: the default). */
const bytes = (n: number) => `${n} bytes (${(n / 2 ** 20).toFixed(1)} MiB)`;

function formatInputs(g: Graph, dims: number[][]): string {
  return g.inputs.map((inp, i) => `${inp.name}: [${dims[i].join(', ')}]`).join(', ');
}

/** The plan's buffers at their places in the arena. */
function bind(key: string, spec: Specialized, plan: Plan, arena: number): ActivePlan {
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
  return { key, spec, plan, arena, steps, inputPtrs: spec.graph.inputs.map((i) => ptr(plan.bufferOf.get(i.name)!)), outputs };
}
