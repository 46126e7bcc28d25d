// Bytes to Graph for InferenceSession.create: a .epm artifact (told apart by its magic) or ONNX,
// and the simplification a loaded graph gets before planning. The `edgeprune/runtime` bundle swaps
// this module for read-model-artifact.ts, so the inference-only entry carries no ONNX parser and
// no simplifier (scripts/build-dist.mjs).
import type { Graph } from '../graph/ir.js';
import { simplify } from '../graph/passes/simplify.js';
import { importOnnx } from '../onnx/import.js';
import { isArtifact, readArtifact } from '../format/read.js';
import type { ChooseLevel } from '../format/read-elastic.js';
import type { LoadOptions } from '../graph/load-limits.js';

/** `choose` picks the width of an elastic artifact; `load` bounds the tensors decoded (load-limits.ts). */
export function readModel(bytes: Uint8Array, choose?: ChooseLevel, load: LoadOptions = {}): Graph {
  return isArtifact(bytes) ? readArtifact(bytes, choose, load) : importOnnx(bytes, load);
}

/** The graph a session plans: identities removed, constants and constant Ifs folded, dead code dropped. */
export function simplifyLoaded(g: Graph): Graph {
  return simplify(g);
}
