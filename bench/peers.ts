// The peers we measure against, each in its fastest single-threaded wasm configuration:
// onnxruntime-web (wasm backend, numThreads = 1, SIMD build) and @tensorflow/tfjs-backend-wasm
// (XNNPACK, multithreading off).
import * as ort from 'onnxruntime-web';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { buildModel, type ModelSpec } from '../test/util/onnx-build.js';

export async function initPeers(): Promise<void> {
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  await tf.setBackend('wasm');
  await tf.ready();
}

/** An onnxruntime-web session over a one-node model; run() feeds `x` and reads every output. */
export async function ortRunner(spec: ModelSpec, x: Float32Array, dims: number[]): Promise<() => Promise<void>> {
  const session = await ort.InferenceSession.create(buildModel(spec), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const feed = { [spec.inputs[0].name]: new ort.Tensor('float32', x, dims) };
  return async () => {
    const out = await session.run(feed);
    for (const t of Object.values(out)) t.dispose();
  };
}

export { tf };

/**
 * Wraps a tfjs computation the way an inference call uses it: upload the input (the other
 * implementations copy theirs into wasm memory on every call too), compute, read the result back.
 */
export function tfRunner(input: Float32Array, dims: number[], f: (x: tf.Tensor) => tf.Tensor): () => void {
  return () => {
    const x = tf.tensor(input, dims);
    const y = f(x);
    y.dataSync();
    y.dispose();
    x.dispose();
  };
}
