// edgeprune's public API: load (ONNX or .epm), prune, quantize, export and run. Training is
// 'edgeprune/train', fitting to budgets 'edgeprune/fit', inference-only 'edgeprune/runtime' (compiled
// models, compileModel) and 'edgeprune/runtime/dynamic' (.epm artifacts at any dims).
export { InferenceSession, type SessionOptions, type SessionInfo, type ModelInfo, type NodeInfo, type ValueMetadata } from './runtime/session.js';
export type { ElasticInfo } from './runtime/elastic.js';
export type { ElasticLevel } from './format/read-elastic.js';
export { Tensor, type TensorType } from './runtime/tensor.js';
export { env, type Env } from './runtime/env.js';
export { loadKernels, detectFlavor, type WasmFlavor, type WasmSource } from './wasm/loader.js';
export { importOnnx } from './onnx/import.js';
export { exportOnnx, type ExportOptions } from './onnx/export.js';
export { writeArtifact, readArtifact, isArtifact } from './format/index.js';
export { compileModel, type CompileOptions } from './compile/compile.js';
export { readNpy, writeNpy } from './io/npy.js';
export * from './errors.js';
export type { Graph, Node, ConstTensor, ValueInfo, Attr, DType, Dim } from './graph/ir.js';
export { l1Unstructured, randomUnstructured, globalUnstructured, nmSparsity, blockSparsity, wandaUnstructured, remove, lnStructured, channelPrune, collectActivationNorms } from './prune/lazy.js';
export type { PruneResult, PruneReport, LayerPruneReport, LayerFilter } from './prune/index.js';
export { quantizeGraph, dequantize, quantizeWeightsPerChannel, type QuantizeGraphOptions, type QuantizeGraphReport } from './graph/quant.js';
export type { KernelOption, KernelPreference } from './runtime/kernel-choice.js';
