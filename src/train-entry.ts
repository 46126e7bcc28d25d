// `edgeprune/train`: training in wasm — the model builder, the Trainer, datasets (.npy, MNIST),
// evaluation, schedules and pruning while training. A separate entry so that 'edgeprune' (load,
// prune, export, run) does not carry the training code into every inference cold start.
export { sequential, conv2d, linear, batchNorm, relu, relu6, leakyRelu, maxPool, avgPool, globalAvgPool, flatten, dropout, normalize, residual, type Layer, type SequentialOptions } from './train/builder.js';
export { Trainer, type TrainerOptions, type FitOptions, type StepInfo } from './train/trainer.js';
export type { OptimizerConfig } from './train/optimizer.js';
export { dataset, datasetFromNpy, subset, shuffled, type Dataset } from './train/data.js';
export { loadMnist } from './train/mnist.js';
export { accuracy, medianLatencyMs } from './train/evaluate.js';
export { constantLr, stepLr, cosineLr, sparsityAt, type LrSchedule, type GradualSparsity } from './train/schedules.js';
export { pruneAndFreeze, gradualPruning, LotteryTicket, rigl, prunableWeights, sparsityOf } from './train/sparse-training.js';
export { Rng } from './train/rng.js';

// Loads the main entry's modules too: the three entries then share one chunk (dist/chunks/), so
// importing 'edgeprune' reads one file of code instead of three (a cold start pays per module file).
import './index.js';
