// The main job's SmallCNN training step in @tensorflow/tfjs-core with its CPU backend, for
// bench/train.ts: same weights (NCHW ONNX layout turned NHWC), Adam 1e-3, mean cross-entropy.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// the gradients of tfjs-core's ops (tfjs-layers registers them; we use tfjs-core alone)
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { Graph } from '../src/graph/ir.js';

export async function tfjsTrainStep(g: Graph, x: Float32Array, y: Int32Array, batch: number): Promise<() => void> {
  await tf.setBackend('cpu');
  await tf.ready();
  const w = (name: string) => g.initializers.get(name)!.data as Float32Array;
  const convW = (name: string, cout: number, cin: number) => tf.variable(tf.transpose(tf.tensor4d(w(name), [cout, cin, 3, 3]), [2, 3, 1, 0])) as tf.Variable<tf.Rank.R4>;
  const vars = {
    c1: convW('conv1.weight', 32, 1), b1: tf.variable(tf.tensor1d(w('conv1.bias'))),
    c2: convW('conv2.weight', 64, 32), b2: tf.variable(tf.tensor1d(w('conv2.bias'))),
    fc: tf.variable(tf.transpose(tf.tensor2d(w('fc1.weight'), [10, 3136]))) as tf.Variable<tf.Rank.R2>, fb: tf.variable(tf.tensor1d(w('fc1.bias'))),
  };
  const opt = tf.train.adam(1e-3);
  const xs = tf.transpose(tf.tensor4d(x, [batch, 1, 28, 28]), [0, 2, 3, 1]);
  const ys = tf.oneHot(tf.tensor1d(y, 'int32'), 10);
  return () => {
    const cost = opt.minimize(() => {
      const n = tf.div(tf.sub(xs, 0.1307), 0.3081) as tf.Tensor4D;
      let h = tf.maxPool(tf.relu(tf.add(tf.conv2d(n, vars.c1, 1, 'same'), vars.b1)) as tf.Tensor4D, 2, 2, 'valid');
      h = tf.maxPool(tf.relu(tf.add(tf.conv2d(h, vars.c2, 1, 'same'), vars.b2)) as tf.Tensor4D, 2, 2, 'valid');
      // flatten in NCHW order like the ONNX model, so the same weights mean the same thing
      const flat = tf.reshape(tf.transpose(h, [0, 3, 1, 2]), [batch, 3136]) as tf.Tensor2D;
      const logits = tf.add(tf.matMul(flat, vars.fc), vars.fb);
      return tf.losses.softmaxCrossEntropy(ys, logits) as tf.Scalar;
    }, true);
    cost?.dataSync();
    cost?.dispose();
  };
}
