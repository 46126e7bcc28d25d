// Backward kernels and optimizer steps for training, on kernel pointers (NCHW float32, batch
// first). Every function checks dims and buffer sizes and throws ShapeError / ArgumentError;
// kernels never allocate (scratch comes from the caller, sized by the *ScratchFloats functions);
// every gradient output is overwritten, never accumulated into.
//
// Flatten / Reshape / Squeeze / Unsqueeze need no backward kernel: their gradient is dy viewed
// with the input's dims (same buffer, same row-major order), so the engine aliases the buffers
// (or copies when it must keep both alive).
export { conv2dBackward, conv2dBackwardArrays, conv2dBackwardPath, conv2dBackwardScratchFloats, conv2dOutputDims } from './conv.js';
export type { Conv2dBackwardArgs, Conv2dGrads, ConvBackwardPath } from './conv.js';
export { linearBackward, linearBackwardArrays, linearBackwardScratchFloats } from './linear.js';
export type { LinearBackwardArgs, LinearGrads } from './linear.js';
export { avgPool2dBackward, globalAvgPoolBackward, maxPool2dBackward, maxPool2dForwardWithIndices } from './pool.js';
export { activationBackward } from './activation.js';
export { batchNormBackward, batchNormTrainForward } from './batchnorm.js';
export type { BatchNormBackwardArgs, BatchNormGrads, BatchNormTrainArgs, BatchNormTrainOutputs } from './batchnorm.js';
export { softmaxCrossEntropy } from './loss.js';
export { addBackward, addBackwardScratchFloats, sumToShape, sumToShapeScratchFloats } from './eltwise.js';
export type { AddOperand } from './eltwise.js';
export { dropoutBackward, dropoutForward } from './dropout.js';
export { adamUpdate, applyMask, clipGradNorm, gradSumSquares, sgdUpdate } from './optim.js';
export type { AdamBuffers, AdamOptions, GradBuffer, ParamMask, SgdBuffers, SgdOptions } from './optim.js';
