// readModel for the inference-only `edgeprune/runtime` entry: .epm artifacts only, so the bundle
// edge users ship holds no ONNX parser. An ONNX file gets a typed error that says how to convert it.
import { ModelFormatError } from '../errors.js';
import type { Graph } from '../graph/ir.js';
import { isArtifact, readArtifact } from '../format/read.js';

export function readModel(bytes: Uint8Array): Graph {
  if (isArtifact(bytes)) return readArtifact(bytes);
  throw new ModelFormatError("edgeprune/runtime loads .epm artifacts only (no ONNX parser, to stay small): convert with `edgeprune export model.onnx --out model.epm`, or import InferenceSession from 'edgeprune' to load ONNX");
}
