// The operators training runs through, each a forward (training mode: batch statistics, dropout
// active) and a backward over wasm pointers. Weights live in wasm (Param.ptr) and are packed for
// the forward kernels at every step, since every step changes them; the backward kernels read them
// unpacked. Every op writes its input gradients through ctx.gradTarget, which adds them up when a
// value feeds several nodes (a residual block's input).
import { UnsupportedOpError } from '../errors.js';
import { attrFloat, attrInt, attrInts, attrString } from '../graph/attrs.js';
import type { ConstTensor, Node } from '../graph/ir.js';
import { toFloat32 } from '../graph/tensor.js';
import type { FusedActivation } from '../kernels/activation.js';
import { PackedConv2d, type Conv2dAttributes } from '../kernels/conv.js';
import { binaryRun } from '../kernels/eltwise.js';
import { PackedLinear } from '../kernels/gemm.js';
import { averagePoolRun, globalAveragePoolRun, type PoolAttrs } from '../kernels/pool.js';
import { unaryRun } from '../kernels/unary.js';
import type { Kernels } from '../wasm/kernels.js';
import { activationBackward } from './grad/activation.js';
import { batchNormBackward, batchNormTrainForward } from './grad/batchnorm.js';
import { conv2dBackward, conv2dBackwardScratchFloats } from './grad/conv.js';
import { linearBackward, linearBackwardScratchFloats } from './grad/linear.js';
import { avgPool2dBackward, globalAvgPoolBackward, maxPool2dBackward, maxPool2dForwardWithIndices } from './grad/pool.js';
import { dropoutBackward, dropoutForward } from './grad/dropout.js';

/** A trainable tensor (weights, biases, BatchNorm gamma/beta) or a buffer (running statistics). */
export interface Param {
  name: string;
  dims: number[];
  n: number;
  ptr: number;
  /** Gradient (n floats); 0 for buffers. */
  grad: number;
  trainable: boolean;
}

/** Where a gradient goes: `ptr` to write it to, then `commit()` (adds it in when the value already has one). */
export interface GradTarget {
  ptr: number;
  commit(): void;
}

export interface TrainContext {
  k: Kernels;
  dims(value: string): number[];
  /** The activation buffer of a run-time value (graph input or node output). */
  value(name: string): number;
  /** The gradient buffer of a run-time value. */
  grad(name: string): number;
  /** Whether a value's gradient is wanted (false for graph inputs and values that only feed constants). */
  needsGrad(name: string): boolean;
  gradTarget(name: string): GradTarget;
  param(name: string): Param | undefined;
  constant(name: string): ConstTensor | undefined;
  /** The shared scratch block (scratchBytes of the largest op). */
  scratch(): number;
  /** A block owned by the op for state saved from forward to backward. */
  alloc(bytes: number): number;
  /** The run's seed and the current step: dropout masks are a hash of both (and of the op, by seed offset). */
  dropoutSeed(): { seed: number; step: number };
}

export interface TrainOp {
  node: Node;
  /** Bytes of shared scratch the op needs. */
  scratchBytes: number;
  forward(): void;
  backward(): void;
}

const size = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);

function unsupported(node: Node, why: string): never {
  throw new UnsupportedOpError(node.op, node.name, `cannot train through it: ${why}`);
}

function weightsOf(ctx: TrainContext, node: Node, i: number, what: string): Param {
  const p = ctx.param(node.inputs[i]);
  if (!p) unsupported(node, `its ${what} '${node.inputs[i]}' is not a constant initializer`);
  return p;
}

function download(ctx: TrainContext, p: Param): Float32Array {
  return ctx.k.download(p.ptr, p.n);
}

/** y = x copied (Flatten, Reshape, Identity, Squeeze, Unsqueeze: the data is the same, only the dims change). */
function copyOp(ctx: TrainContext, node: Node): TrainOp {
  const x = node.inputs[0];
  const y = node.outputs[0];
  const n = size(ctx.dims(x));
  return {
    node,
    scratchBytes: 0,
    forward() {
      const f = ctx.k.f32;
      f.copyWithin(ctx.value(y) >> 2, ctx.value(x) >> 2, (ctx.value(x) >> 2) + n);
    },
    backward() {
      if (!ctx.needsGrad(x)) return;
      const t = ctx.gradTarget(x);
      const f = ctx.k.f32;
      f.copyWithin(t.ptr >> 2, ctx.grad(y) >> 2, (ctx.grad(y) >> 2) + n);
      t.commit();
    },
  };
}

function convOp(ctx: TrainContext, node: Node): TrainOp {
  const k = ctx.k;
  const [xName, wName, bName] = node.inputs;
  const y = node.outputs[0];
  const w = weightsOf(ctx, node, 1, 'weights');
  const b = bName ? weightsOf(ctx, node, 2, 'bias') : undefined;
  const xDims = ctx.dims(xName);
  if (xDims.length !== 4) unsupported(node, 'only 2-D convolutions train');
  if (attrString(node, 'auto_pad', 'NOTSET') !== 'NOTSET') unsupported(node, 'auto_pad is not supported in training; give explicit pads');
  const attrs: Conv2dAttributes = {
    group: attrInt(node, 'group', 1),
    strides: attrInts(node, 'strides', [1, 1]),
    pads: attrInts(node, 'pads', [0, 0, 0, 0]),
    dilations: attrInts(node, 'dilations', [1, 1]),
  };
  const pack = () => new PackedConv2d(k, download(ctx, w), w.dims, b ? download(ctx, b) : undefined, attrs);
  const probe = pack();
  const fwdScratch = probe.scratchFloats(xDims) * 4;
  probe.dispose();
  const withDx = ctx.needsGrad(xName);
  const bwdScratch = conv2dBackwardScratchFloats(xDims, w.dims, attrs, withDx) * 4;
  return {
    node,
    scratchBytes: Math.max(fwdScratch, bwdScratch),
    forward() {
      const conv = pack();
      try {
        conv.run(ctx.value(xName), xDims, ctx.value(y), ctx.scratch());
      } finally {
        conv.dispose();
      }
    },
    backward() {
      const t = withDx ? ctx.gradTarget(xName) : undefined;
      conv2dBackward(k, { x: ctx.value(xName), xDims, w: w.ptr, wDims: w.dims, dy: ctx.grad(y), group: attrs.group, strides: attrs.strides, pads: attrs.pads, dilations: attrs.dilations },
        { dx: t?.ptr, dw: w.grad, db: b?.grad }, ctx.scratch());
      t?.commit();
    },
  };
}

/** Gemm (alpha = beta = 1, constant B and C) and MatMul with constant 2-D weights. */
function linearOp(ctx: TrainContext, node: Node): TrainOp {
  const k = ctx.k;
  const xName = node.inputs[0];
  const y = node.outputs[0];
  const gemm = node.op === 'Gemm';
  if (gemm && (attrFloat(node, 'alpha', 1) !== 1 || attrFloat(node, 'beta', 1) !== 1 || attrInt(node, 'transA', 0) !== 0)) unsupported(node, 'only Gemm with alpha = beta = 1 and transA = 0 trains');
  const w = weightsOf(ctx, node, 1, 'weights');
  if (w.dims.length !== 2) unsupported(node, 'its weights must be a matrix');
  const transposed = gemm && attrInt(node, 'transB', 0) === 1;
  const [K, N] = transposed ? [w.dims[1], w.dims[0]] : w.dims;
  const b = gemm && node.inputs[2] ? weightsOf(ctx, node, 2, 'bias') : undefined;
  if (b && b.n !== N) unsupported(node, `its bias C has ${b.n} values; training supports one per output (${N})`);
  const xDims = ctx.dims(xName);
  const rows = size(xDims) / K;
  const withDx = ctx.needsGrad(xName);
  return {
    node,
    scratchBytes: linearBackwardScratchFloats(rows, K, N, transposed, withDx) * 4,
    forward() {
      const lin = new PackedLinear(k, download(ctx, w), K, N, { transposed, bias: b ? download(ctx, b) : undefined });
      try {
        lin.run(ctx.value(xName), rows, ctx.value(y));
      } finally {
        lin.dispose();
      }
    },
    backward() {
      const t = withDx ? ctx.gradTarget(xName) : undefined;
      linearBackward(k, { x: ctx.value(xName), rows, K, N, w: w.ptr, transposed, dy: ctx.grad(y) }, { dx: t?.ptr, dw: w.grad, db: b?.grad }, ctx.scratch());
      t?.commit();
    },
  };
}

function activationOp(ctx: TrainContext, node: Node): TrainOp {
  const x = node.inputs[0];
  const y = node.outputs[0];
  const dims = ctx.dims(x);
  let act: FusedActivation;
  if (node.op === 'Relu') act = { kind: 'relu' };
  else if (node.op === 'LeakyRelu') act = { kind: 'leakyRelu', alpha: attrFloat(node, 'alpha', 0.01) };
  else {
    const bound = (i: number, attr: string, def: number) => {
      const name = node.inputs[i];
      if (name) {
        const c = ctx.constant(name);
        if (!c) unsupported(node, `its bound '${name}' is computed at run time`);
        return toFloat32(c)[0];
      }
      return attrFloat(node, attr, def);
    };
    act = { kind: 'clip', min: bound(1, 'min', -Infinity), max: bound(2, 'max', Infinity) };
  }
  const leakyNonPositive = act.kind === 'leakyRelu' && !(act.alpha > 0);
  return {
    node,
    scratchBytes: 0,
    forward() {
      const params = act.kind === 'leakyRelu' ? { alpha: act.alpha } : act.kind === 'clip' ? { min: act.min, max: act.max } : {};
      unaryRun(ctx.k, act.kind === 'relu' ? 'relu' : act.kind === 'leakyRelu' ? 'leakyRelu' : 'clip', ctx.value(x), ctx.value(y), dims, params);
    },
    backward() {
      if (!ctx.needsGrad(x)) return;
      const t = ctx.gradTarget(x);
      // the output tells the slope for relu, clip and leakyRelu with alpha > 0; else the input does
      activationBackward(ctx.k, act, leakyNonPositive ? ctx.value(x) : ctx.value(y), ctx.grad(y), t.ptr, size(dims), leakyNonPositive ? 'input' : 'output');
      t.commit();
    },
  };
}

function poolAttrs(node: Node): PoolAttrs {
  if (attrString(node, 'auto_pad', 'NOTSET') !== 'NOTSET') unsupported(node, 'auto_pad is not supported in training; give explicit pads');
  return {
    kernelShape: attrInts(node, 'kernel_shape', []),
    strides: attrInts(node, 'strides'),
    pads: attrInts(node, 'pads'),
    dilations: attrInts(node, 'dilations'),
    ceilMode: attrInt(node, 'ceil_mode', 0),
    countIncludePad: attrInt(node, 'count_include_pad', 0),
  };
}

function poolOp(ctx: TrainContext, node: Node): TrainOp {
  const k = ctx.k;
  const x = node.inputs[0];
  const y = node.outputs[0];
  const xDims = ctx.dims(x);
  if (node.op === 'GlobalAveragePool') {
    return {
      node,
      scratchBytes: 0,
      forward: () => void globalAveragePoolRun(k, ctx.value(x), xDims, ctx.value(y)),
      backward() {
        if (!ctx.needsGrad(x)) return;
        const t = ctx.gradTarget(x);
        globalAvgPoolBackward(k, ctx.grad(y), xDims, t.ptr);
        t.commit();
      },
    };
  }
  const attrs = poolAttrs(node);
  if (node.op === 'AveragePool') {
    return {
      node,
      scratchBytes: 0,
      forward: () => void averagePoolRun(k, ctx.value(x), xDims, ctx.value(y), attrs),
      backward() {
        if (!ctx.needsGrad(x)) return;
        const t = ctx.gradTarget(x);
        avgPool2dBackward(k, ctx.grad(y), xDims, attrs, t.ptr);
        t.commit();
      },
    };
  }
  if (node.outputs.length > 1 && node.outputs[1] !== '') unsupported(node, 'its Indices output is not supported in training');
  const indices = ctx.alloc(size(ctx.dims(y)) * 4);
  return {
    node,
    scratchBytes: 0,
    forward: () => void maxPool2dForwardWithIndices(k, ctx.value(x), xDims, attrs, ctx.value(y), indices),
    backward() {
      if (!ctx.needsGrad(x)) return;
      const t = ctx.gradTarget(x);
      maxPool2dBackward(k, ctx.grad(y), indices, xDims, attrs, t.ptr);
      t.commit();
    },
  };
}

function batchNormOp(ctx: TrainContext, node: Node): TrainOp {
  const k = ctx.k;
  const x = node.inputs[0];
  const y = node.outputs[0];
  if (node.outputs.slice(1).some((o) => o !== '')) unsupported(node, 'only its first output is supported in training');
  const gamma = weightsOf(ctx, node, 1, 'scale');
  const beta = weightsOf(ctx, node, 2, 'bias');
  const mean = weightsOf(ctx, node, 3, 'running mean');
  const variance = weightsOf(ctx, node, 4, 'running variance');
  const dims = ctx.dims(x);
  const C = dims[1];
  const saveMean = ctx.alloc(C * 4);
  const saveInvStd = ctx.alloc(C * 4);
  // ONNX momentum weighs the old running value (0.9 by default); the kernel takes PyTorch's 1 - that
  const momentum = 1 - attrFloat(node, 'momentum', 0.9);
  const eps = attrFloat(node, 'epsilon', 1e-5);
  return {
    node,
    scratchBytes: 0,
    forward() {
      batchNormTrainForward(k, { x: ctx.value(x), dims, gamma: gamma.ptr, beta: beta.ptr, runningMean: mean.ptr, runningVar: variance.ptr, momentum, eps }, { y: ctx.value(y), saveMean, saveInvStd });
    },
    backward() {
      const t = ctx.needsGrad(x) ? ctx.gradTarget(x) : undefined;
      batchNormBackward(k, { x: ctx.value(x), dims, dy: ctx.grad(y), gamma: gamma.ptr, saveMean, saveInvStd }, { dx: t?.ptr, dgamma: gamma.grad, dbeta: beta.grad });
      t?.commit();
    },
  };
}

/** x (op) c or c (op) x with a constant scalar c: input normalisation (Sub mean, Div std) and scaling. */
function scalarOp(ctx: TrainContext, node: Node, constIndex: number): TrainOp {
  const k = ctx.k;
  const c = toFloat32(ctx.constant(node.inputs[constIndex])!)[0];
  const x = node.inputs[1 - constIndex];
  const y = node.outputs[0];
  const dims = ctx.dims(x);
  const op = node.op === 'Add' ? 'add' : node.op === 'Sub' ? 'sub' : node.op === 'Mul' ? 'mul' : 'div';
  if (op === 'div' && constIndex === 0) unsupported(node, 'c / x is not supported in training');
  const cPtr = ctx.alloc(4);
  // d(x op c)/dx: 1 for add and sub, c for mul, 1/c for div; -1 for c - x
  const slope = op === 'mul' ? c : op === 'div' ? 1 / c : op === 'sub' && constIndex === 0 ? -1 : 1;
  const slopePtr = ctx.alloc(4);
  return {
    node,
    scratchBytes: 0,
    forward() {
      k.f32[cPtr >> 2] = c;
      if (constIndex === 1) binaryRun(k, op, ctx.value(x), dims, cPtr, [], ctx.value(y));
      else binaryRun(k, op, cPtr, [], ctx.value(x), dims, ctx.value(y));
    },
    backward() {
      if (!ctx.needsGrad(x)) return;
      const t = ctx.gradTarget(x);
      k.f32[slopePtr >> 2] = slope;
      binaryRun(k, 'mul', ctx.grad(y), dims, slopePtr, [], t.ptr);
      t.commit();
    },
  };
}

function addOp(ctx: TrainContext, node: Node): TrainOp {
  const [a, b] = node.inputs;
  const y = node.outputs[0];
  const dims = ctx.dims(y);
  if (ctx.dims(a).join() !== dims.join() || ctx.dims(b).join() !== dims.join()) unsupported(node, 'Add trains between two tensors of the same dims only (a residual connection)');
  if (ctx.param(a) || ctx.param(b) || ctx.constant(a) || ctx.constant(b)) unsupported(node, 'Add of a constant is not supported in training (use a bias)');
  const n = size(dims);
  return {
    node,
    scratchBytes: 0,
    forward: () => void binaryRun(ctx.k, 'add', ctx.value(a), dims, ctx.value(b), dims, ctx.value(y)),
    backward() {
      for (const v of [a, b]) {
        if (!ctx.needsGrad(v)) continue;
        const t = ctx.gradTarget(v);
        const f = ctx.k.f32;
        f.copyWithin(t.ptr >> 2, ctx.grad(y) >> 2, (ctx.grad(y) >> 2) + n);
        t.commit();
      }
    },
  };
}

function dropoutOp(ctx: TrainContext, node: Node): TrainOp {
  const x = node.inputs[0];
  const y = node.outputs[0];
  const n = size(ctx.dims(x));
  let p = attrFloat(node, 'ratio', 0.5);
  if (node.inputs[1]) {
    const c = ctx.constant(node.inputs[1]);
    if (!c) unsupported(node, 'its ratio is computed at run time');
    p = toFloat32(c)[0];
  }
  if (node.inputs[2]) {
    const c = ctx.constant(node.inputs[2]);
    if (!c) unsupported(node, 'its training_mode input is computed at run time');
  }
  const mask = ctx.alloc(n); // one byte per element
  // a per-node constant (a hash of its name): two dropout layers draw different masks
  let salt = 0;
  for (let i = 0; i < node.name.length; i++) salt = Math.imul(salt ^ node.name.charCodeAt(i), 0x01000193);
  return {
    node,
    scratchBytes: 0,
    forward() {
      const { seed, step } = ctx.dropoutSeed();
      dropoutForward(ctx.k, ctx.value(x), n, p, (seed + Math.imul(salt, 0x9e3779b1)) >>> 0, step, mask, ctx.value(y));
    },
    backward() {
      if (!ctx.needsGrad(x)) return;
      const t = ctx.gradTarget(x);
      dropoutBackward(ctx.k, ctx.grad(y), mask, n, p, t.ptr);
      t.commit();
    },
  };
}

/** The training op for a node, or an UnsupportedOpError naming it. */
export function trainOp(ctx: TrainContext, node: Node): TrainOp {
  if (node.domain !== '') unsupported(node, `domain '${node.domain}' has no training support`);
  switch (node.op) {
    case 'Conv':
      return convOp(ctx, node);
    case 'Gemm':
    case 'MatMul':
      return linearOp(ctx, node);
    case 'Relu':
    case 'LeakyRelu':
    case 'Clip':
      return activationOp(ctx, node);
    case 'MaxPool':
    case 'AveragePool':
    case 'GlobalAveragePool':
      return poolOp(ctx, node);
    case 'BatchNormalization':
      return batchNormOp(ctx, node);
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div': {
      const scalar = node.inputs.findIndex((i) => { const c = ctx.constant(i); return !!c && c.data.length === 1; });
      if (scalar >= 0) return scalarOp(ctx, node, scalar);
      if (node.op !== 'Add') unsupported(node, `${node.op} trains with a constant scalar operand only`);
      return addOp(ctx, node);
    }
    case 'Dropout':
      return dropoutOp(ctx, node);
    case 'Flatten':
    case 'Reshape':
    case 'Identity':
    case 'Squeeze':
    case 'Unsqueeze':
      return copyOp(ctx, node);
    default:
      return unsupported(node, 'training supports Conv, Gemm, MatMul, Relu, LeakyRelu, Clip, MaxPool, AveragePool, GlobalAveragePool, BatchNormalization, Add (residual, or a constant scalar), Sub/Mul/Div by a constant scalar, Dropout, Flatten, Reshape, Identity, Squeeze, Unsqueeze');
  }
}

/** Inputs of a node that are trainable tensors or buffers (weights, biases, BN parameters and statistics). */
export function paramInputs(node: Node): { index: number; trainable: boolean }[] {
  switch (node.op) {
    case 'Conv':
    case 'Gemm':
      return node.inputs.slice(1, 3).map((_, i) => ({ index: i + 1, trainable: true }));
    case 'MatMul':
      return [{ index: 1, trainable: true }];
    case 'BatchNormalization':
      return [{ index: 1, trainable: true }, { index: 2, trainable: true }, { index: 3, trainable: false }, { index: 4, trainable: false }];
    default:
      return [];
  }
}
