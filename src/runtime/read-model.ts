// Bytes to Graph for InferenceSession.create: a .epm artifact (told apart by its magic) or ONNX.
// The `edgeprune/runtime` bundle swaps this module for read-model-artifact.ts, so the inference-only
// entry carries no ONNX parser (scripts/build-dist.mjs).
import type { Graph } from '../graph/ir.js';
import { importOnnx } from '../onnx/import.js';
import { isArtifact, readArtifact } from '../format/read.js';

export function readModel(bytes: Uint8Array): Graph {
  return isArtifact(bytes) ? readArtifact(bytes) : importOnnx(bytes);
}
