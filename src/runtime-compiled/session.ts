// edgeprune/runtime's InferenceSession: onnxruntime-web's API over a compiled model
// (`edgeprune compile`, src/compile/). Creating it restores the model's memory image into fresh
// kernels (one copy of the weights, already packed); run() writes the inputs, makes the recorded
// kernel calls and copies the outputs. The model runs at the input dims it was compiled for.
import { InputError, ModelFormatError, OutOfMemoryError, SessionReleasedError, WasmLoadError } from '../errors.js';
import type { CompiledPlan } from '../format/compiled-layout.js';
import { readCompiled } from '../format/read-compiled.js';
import { isArtifact } from '../format/read.js';
import { readFeeds, type Feed } from '../runtime/feeds.js';
import { readFetches } from '../runtime/fetches.js';
import { checkBudget, createArgs, modelBytes, valueMetadata, type ValueMetadata } from '../runtime/model-source.js';
import type { SessionInfo } from '../runtime/session.js';
import type { Tensor } from '../runtime/tensor.js';
import { loadKernels, type WasmSource } from '../wasm/loader.js';
import { bindCalls, restoreImage, runCompiled, type BoundCall } from './replay.js';

export interface SessionOptions {
  /** Kernel build: a compiled WebAssembly.Module (Workers), bytes, a URL, 'simd', 'relaxed' or 'auto' (default). */
  wasm?: WasmSource;
  /** The most wasm memory this session may take, in bytes (default 1 GiB): checked before memory grows. */
  memoryBudget?: number;
}

/** What info() gives: the full runtime's figures at compile time, and the kernel build running now. */
export type CompiledSessionInfo = SessionInfo & { compiled: true };

interface Live {
  memory: WebAssembly.Memory;
  calls: BoundCall[];
  flavor: 'simd' | 'relaxed';
}

const ONNX_OR_ARTIFACT = 'edgeprune/runtime runs compiled models: compile this one for its input dims with `npx edgeprune compile MODEL --out MODEL.epc` (compileModel() in JS), or load it with edgeprune/runtime/dynamic or the full edgeprune package';

export class InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ValueMetadata[];
  readonly outputMetadata: readonly ValueMetadata[];
  private live: Live | undefined;
  private readonly plan: CompiledPlan;
  /** The inputs as run()'s checks take them: float32 at the compiled dims. */
  private readonly declared: { name: string; dtype: 'float32'; dims: number[] }[];

  private constructor(plan: CompiledPlan, live: Live) {
    this.plan = plan;
    this.live = live;
    this.declared = plan.inputs.map((v) => ({ name: v.name, dtype: 'float32', dims: v.dims }));
    this.inputNames = Object.freeze(plan.inputs.map((v) => v.name));
    this.outputNames = Object.freeze(plan.outputs.map((v) => v.name));
    this.inputMetadata = Object.freeze(this.declared.map(valueMetadata));
    this.outputMetadata = Object.freeze(plan.outputs.map((v) => valueMetadata({ name: v.name, dtype: 'float32', dims: v.dims })));
  }

  /** Loads a compiled model: its bytes, or its path or URL (read from disk in Node and Deno, fetched elsewhere). */
  static async create(model: Uint8Array | ArrayBuffer | string | URL, options?: SessionOptions): Promise<InferenceSession>;
  /** onnxruntime-web's form: the model is byteLength bytes (default: to the end) of buffer from byteOffset. */
  static async create(buffer: ArrayBufferLike, byteOffset: number, byteLength?: number, options?: SessionOptions): Promise<InferenceSession>;
  static async create(modelArg: Uint8Array | ArrayBufferLike | string | URL, opts?: SessionOptions | number, byteLength?: number, rest?: SessionOptions): Promise<InferenceSession> {
    const { model, options = {} } = createArgs(modelArg, opts, byteLength, rest);
    const budget = checkBudget(options.memoryBudget);
    const kernels = loadKernels(options.wasm ?? 'auto');
    kernels.catch(() => {}); // reported by the await below
    const bytes = await modelBytes(model);
    if (!isArtifact(bytes)) throw new ModelFormatError(`not a compiled model (no edgeprune magic; an ONNX file?): ${ONNX_OR_ARTIFACT}`);
    const { plan, image, calls } = readCompiled(bytes);
    const k = await kernels;
    if (k.buildId !== plan.buildId) throw new WasmLoadError(`the model was compiled for kernel build ${plan.buildId}, these kernels are build ${k.buildId}: load the wasm of the edgeprune version that compiled it, or recompile the model with this one`);
    if (plan.memoryBytes > budget) throw new OutOfMemoryError(`the compiled model needs ${plan.memoryBytes} bytes of wasm memory, over the session's memoryBudget of ${budget}; raise memoryBudget, or compile a smaller or more pruned model`, { neededBytes: plan.memoryBytes, limitBytes: budget });
    const memory = k.fn.memory as unknown as WebAssembly.Memory;
    try {
      restoreImage(memory, image, plan.memoryBytes);
    } catch (e) {
      throw new OutOfMemoryError(`cannot grow wasm memory to ${plan.memoryBytes} bytes (${(e as Error).message}); free sessions you no longer use`, { neededBytes: plan.memoryBytes });
    }
    return new InferenceSession(plan, { memory, calls: bindCalls(k.fn, plan, calls), flavor: k.flavor });
  }

  /**
   * Runs the model on float32 feeds keyed by input name, at the dims it was compiled for; returns
   * every output, or those `fetches` names. Wrong feeds throw InputError. Runs on one session
   * happen one after another; outputs are copies, never views of wasm memory.
   */
  async run(feeds: Record<string, Tensor | Feed>, fetches?: readonly string[] | Record<string, unknown>): Promise<Record<string, Tensor>> {
    const live = this.alive();
    try {
      readFeeds(this.declared, feeds);
    } catch (e) {
      if (e instanceof InputError && / but the model expects /.test(e.message)) throw new InputError(`${e.message}: it was compiled for those dims; recompile it for others (edgeprune compile --dim NAME=VALUE)`);
      throw e;
    }
    return runCompiled(this.plan, live.calls, live.memory, feeds as Record<string, { data: Float32Array }>, readFetches(this.outputNames, fetches));
  }

  /** Parameters, weight bytes, FLOPs, planned peak memory and the kernel per node, as compiled. */
  info(): CompiledSessionInfo {
    return { ...this.plan.info, kernels: this.alive().flavor, compiled: true };
  }

  /** Drops the wasm instance; later use throws SessionReleasedError. */
  async release(): Promise<void> {
    this.live = undefined;
  }

  private alive(): Live {
    if (!this.live) throw new SessionReleasedError('this session was released; create a new one with InferenceSession.create');
    return this.live;
  }
}
