// Runs ONNX models in onnxruntime-node, the independent reference the kernels are checked against.
import * as ort from 'onnxruntime-node';

export { buildModel, type ModelSpec, type NodeSpec } from './onnx-build.js';

/** Runs the model in onnxruntime-node (CPU) and returns each output's data and dims. */
export async function runOrt(model: Uint8Array, feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = new ort.Tensor('float32', v.data, v.dims);
    const out = await session.run(ortFeeds, { logSeverityLevel: 3 });
    const res: Record<string, { data: Float32Array; dims: number[] }> = {};
    for (const [k, v] of Object.entries(out)) res[k] = { data: v.data as Float32Array, dims: [...v.dims] };
    return res;
  } finally {
    await session.release();
  }
}
