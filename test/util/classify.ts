// Class predictions (argmax of the logits) of a model file on a labelled set, from edgeprune's
// session or from onnxruntime-node's, so a test compares two runtimes digit by digit and not only
// by their accuracy (two runtimes can agree on 97% while disagreeing on different digits).
import * as ort from 'onnxruntime-node';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/runtime/tensor.js';
import type { Dataset } from '../../src/train/data.js';

type RunBatch = (x: Float32Array, dims: number[]) => Promise<{ data: Float32Array; dims: readonly number[] }>;

/** Runs `data` in batches of `batch` (the last one padded with zeros) and returns each sample's top class. */
async function predict(run: RunBatch, data: Dataset, batch: number): Promise<Int32Array> {
  const per = data.sampleDims.reduce((a, b) => a * b, 1);
  const out = new Int32Array(data.n);
  for (let s = 0; s < data.n; s += batch) {
    const count = Math.min(batch, data.n - s);
    const x = new Float32Array(batch * per);
    x.set(data.x.subarray(s * per, (s + count) * per));
    const y = await run(x, [batch, ...data.sampleDims]);
    const classes = y.dims[y.dims.length - 1];
    if (y.data.length !== batch * classes) throw new Error(`the model gave [${y.dims.join(', ')}] for a batch of ${batch}; expected [batch, classes] logits`);
    for (let i = 0; i < count; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (y.data[i * classes + c] > y.data[i * classes + best]) best = c;
      out[s + i] = best;
    }
  }
  return out;
}

/** Predictions of edgeprune's InferenceSession on a model file (.epm or .onnx). */
export async function edgeprunePredictions(bytes: Uint8Array, data: Dataset, batch = 100): Promise<Int32Array> {
  const s = await InferenceSession.create(bytes);
  try {
    const [input] = s.inputNames;
    const [output] = s.outputNames;
    return await predict(async (x, dims) => (await s.run({ [input]: new Tensor('float32', x, dims) }))[output] as { data: Float32Array; dims: readonly number[] }, data, batch);
  } finally {
    await s.release();
  }
}

/** Predictions of onnxruntime-node (CPU, one thread) on an ONNX file: the independent reference. */
export async function ortPredictions(onnx: Uint8Array, data: Dataset, batch = 100): Promise<Int32Array> {
  const s = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const [input] = s.inputNames;
    const [output] = s.outputNames;
    return await predict(async (x, dims) => {
      const y = (await s.run({ [input]: new ort.Tensor('float32', x, dims) }))[output];
      return { data: y.data as Float32Array, dims: y.dims };
    }, data, batch);
  } finally {
    await s.release();
  }
}

/** Share of samples whose prediction is their label. */
export function accuracyOf(pred: Int32Array, data: Dataset): number {
  let correct = 0;
  for (let i = 0; i < data.n; i++) if (pred[i] === data.y[i]) correct++;
  return correct / data.n;
}

/** How many samples two prediction vectors classify differently. */
export function disagreements(a: Int32Array, b: Int32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}
