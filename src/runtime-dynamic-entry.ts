// `edgeprune/runtime/dynamic`: inference only — sessions over .epm artifacts at any input dims,
// tensors, kernel loading, typed errors. No ONNX parser, no pruning, no training. edgeprune/runtime
// (runtime-entry.ts) is smaller still: it runs compiled models (src/compile/) at their dims.
export { InferenceSession, type SessionOptions, type SessionInfo, type ModelInfo, type NodeInfo, type ValueMetadata } from './runtime/session.js';
export { Tensor, type TensorType } from './runtime/tensor.js';
export { env, type Env } from './runtime/env.js';
export { loadKernels, detectFlavor, type WasmFlavor, type WasmSource } from './wasm/loader.js';
export { isArtifact } from './format/read.js';
export type { KernelOption, KernelPreference } from './runtime/kernel-choice.js';
export type { ElasticInfo } from './runtime/elastic.js';
export type { ElasticLevel } from './format/read-elastic.js';
export * from './errors.js';
