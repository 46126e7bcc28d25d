// The part of the runtime API (src/runtime/session.ts, onnxruntime-web's convention) the CLI uses.
// Declared here so the CLI depends on a shape, not a module: tests inject a fake runtime, and the
// real InferenceSession/Tensor satisfy these structurally.
import type { NpyData } from '../io/npy.js';

export type WasmChoice = 'simd' | 'relaxed';
export type KernelChoice = 'auto' | 'dense' | 'sparse' | 'slim';

export interface CliTensor {
  readonly type: string;
  readonly data: NpyData | ArrayLike<number> | ArrayLike<bigint>;
  readonly dims: readonly number[];
}

export interface DimsInfo {
  name: string;
  dims: (number | string)[];
  /** the concrete dims the memory plan was made for (symbolic dims resolved) */
  plannedDims?: number[];
}

/** What a session knows without a plan (runtime ModelInfo): counts from the file, declared dims. */
export interface ModelInfo {
  params: number;
  nonZeroParams: number;
  inputs: DimsInfo[];
  outputs: DimsInfo[];
  opCounts: Record<string, number>;
  opset?: number;
  producer?: string;
  elastic?: { level: number; levels: { channels: number }[] };
  /** Set while there is no plan: why the symbolic dims at 1 do not fit the model. */
  unplanned?: string;
}

export interface SessionInfo {
  params: number;
  nonZeroParams: number;
  weightBytes: number;
  flops: number;
  plannedPeakBytes: number;
  inputs: DimsInfo[];
  outputs: DimsInfo[];
  opCounts: Record<string, number>;
  nodes: { name: string; op: string; kernel: string; choice?: string; outputDims: number[] }[];
  /** which wasm build runs the model */
  kernels?: string;
  opset?: number;
  producer?: string;
  /** elastic models: the loaded width and every width in the file */
  elastic?: { level: number; levels: { channels: number }[] };
}

export interface CliSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** declared shapes, known without a plan (info() needs one, which a model may not have at dims of 1) */
  readonly inputMetadata: readonly { name: string; shape: readonly (number | string)[]; type?: string }[];
  run(feeds: Record<string, CliTensor>): Promise<Record<string, CliTensor>>;
  /** Needs a plan: a model whose symbolic dims cannot be 1 has none until --dim gives them sizes. */
  info(): SessionInfo;
  modelInfo(): ModelInfo;
  release(): Promise<void>;
}

/** What `import { InferenceSession, Tensor } from '../runtime/session.js'` provides. */
export interface CliRuntime {
  InferenceSession: {
    create(bytes: Uint8Array, options?: { wasm?: WasmChoice; freeDimensionOverrides?: Record<string, number>; kernels?: KernelChoice }): Promise<CliSession>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => CliTensor;
}
