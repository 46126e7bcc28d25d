// CNNs with BatchNorm and residual blocks for MNIST-sized inputs ([1, 28, 28], raw 0..1 pixels):
// the models bench/fit.ts fits to a budget and test/fit-trained.test.ts trains and fits, defined
// once so that the bench's figures and the test's bars are about the same network. (The main
// job's SmallCNN, without BatchNorm, is smallCnn in main-job.ts.)
import type { Graph } from '../graph/ir.js';
import { batchNorm, conv2d, flatten, globalAvgPool, linear, maxPool, normalize, relu, residual, sequential, type Layer } from '../train/builder.js';

/** Two 3x3 convs of `c` channels with BatchNorm, added to the block's input (ResNet's basic block, without the final ReLU). */
function basicBlock(c: number): Layer {
  return residual([conv2d(c, 3, { pads: 1, bias: false }), batchNorm(), relu(), conv2d(c, 3, { pads: 1, bias: false }), batchNorm()]);
}

/** ~53k parameters, ~18 MFLOP per digit: small enough to train on the digits in under a minute here. */
export function residualCnn(seed = 0): Graph {
  return sequential([1, 28, 28], [
    normalize(0.1307, 0.3081),
    conv2d(16, 3, { pads: 1, bias: false }), batchNorm(), relu(), basicBlock(16), relu(), maxPool(2),
    conv2d(32, 3, { pads: 1, bias: false }), batchNorm(), relu(), basicBlock(32), relu(), maxPool(2),
    conv2d(64, 3, { pads: 1, bias: false }), batchNorm(), relu(), maxPool(2),
    flatten(), linear(10),
  ], { seed });
}

/** ~0.9M parameters, ~100 MFLOP per digit: the "fit a model of about one million parameters in 60 s" case. */
export function wideResidualCnn(seed = 0): Graph {
  return sequential([1, 28, 28], [
    normalize(0.1307, 0.3081),
    conv2d(32, 3, { pads: 1 }), batchNorm(), relu(), maxPool(2),
    conv2d(64, 3, { pads: 1 }), batchNorm(), relu(), basicBlock(64), relu(), maxPool(2),
    conv2d(128, 3, { pads: 1 }), batchNorm(), relu(), basicBlock(128), relu(),
    conv2d(256, 3, { pads: 1 }), batchNorm(), relu(),
    globalAvgPool(), flatten(), linear(512), relu(), linear(10),
  ], { seed });
}
