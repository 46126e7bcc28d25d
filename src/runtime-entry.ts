// `edgeprune/runtime`: what edge users ship. It runs compiled models (`edgeprune compile`,
// src/compile/): the memory image and kernel calls the full runtime recorded for fixed input
// dims, so it carries no graph reader, planner or packing code. onnxruntime-web's API: create,
// inputNames, outputNames, run, release, plus info(). For any input dims, use
// edgeprune/runtime/dynamic, which plans .epm artifacts itself.
export { InferenceSession, type SessionOptions, type CompiledSessionInfo } from './runtime-compiled/session.js';
export { Tensor, type TensorType } from './runtime/tensor.js';
export { env, type Env } from './runtime/env.js';
export { detectFlavor, type WasmFlavor, type WasmSource } from './wasm/loader.js';
export type { ValueMetadata, NodeInfo } from './runtime/session.js';
export * from './errors.js';
