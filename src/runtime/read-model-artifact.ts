// readModel for the inference-only `edgeprune/runtime` entry: .epm artifacts only, so the bundle
// edge users ship holds no ONNX parser. An ONNX file gets a typed error that says how to convert it.
// Artifacts are simplified when written (format/write.ts, header flag SIMPLIFIED), so this entry
// plans them as stored and carries no simplifier either.
import { ModelFormatError } from '../errors.js';
import type { Graph } from '../graph/ir.js';
import { isArtifact, readArtifact } from '../format/read.js';
import { HeaderFlags } from '../format/layout.js';
import type { ChooseLevel } from '../format/read-elastic.js';
import type { LoadOptions } from '../graph/load-limits.js';

/** `choose` picks the width of an elastic artifact; `load` bounds the tensors decoded (load-limits.ts). */
export function readModel(bytes: Uint8Array, choose?: ChooseLevel, load: LoadOptions = {}): Graph {
  if (!isArtifact(bytes)) throw new ModelFormatError("edgeprune/runtime loads .epm artifacts only (no ONNX parser, to stay small): convert with `edgeprune export model.onnx --out model.epm`, or import InferenceSession from 'edgeprune' to load ONNX");
  const graph = readArtifact(bytes, choose, load);
  if (!(bytes[10] & HeaderFlags.SIMPLIFIED)) throw new ModelFormatError("this .epm was written by an older edgeprune, without simplifying its graph (edgeprune/runtime needs that done on write): re-save it with `edgeprune export old.epm --out new.epm`, or import InferenceSession from 'edgeprune'");
  return graph;
}

/** Planned as stored: the writer simplified the graph. */
export function simplifyLoaded(g: Graph): Graph {
  return g;
}
