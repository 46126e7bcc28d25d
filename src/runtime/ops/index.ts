// The operator registry: ONNX op type (default domain) -> implementation.
import type { OpDef } from '../op.js';
import { Conv, ConvTranspose } from './conv.js';
import { Gemm, MatMul } from './gemm.js';
import { Add, And, Div, Equal, Greater, GreaterOrEqual, Less, LessOrEqual, Max, Mean, Min, Mul, Or, Pow, PRelu, Sub, Sum, Where, Xor } from './eltwise.js';
import { Abs, Celu, Ceil, Clip, Elu, Erf, Gelu, Not, Exp, Floor, HardSigmoid, HardSwish, LeakyRelu, Log, Mish, Neg, Reciprocal, Relu, Round, Selu, Sigmoid, Sign, Softplus, Softsign, Sqrt, Tanh, ThresholdedRelu } from './unary.js';
import { AveragePool, GlobalAveragePool, GlobalMaxPool, MaxPool } from './pool.js';
import { BatchNormalization, InstanceNormalization, LayerNormalization, LogSoftmax, LRN, Softmax } from './norm.js';
import { ArgMax, ArgMin, CumSum, ReduceL1, ReduceL2, ReduceMax, ReduceMean, ReduceMin, ReduceSum, ReduceSumSquare } from './reduce.js';
import { Cast, Flatten, Identity, Reshape, Squeeze, Transpose, Unsqueeze } from './shape.js';
import { Concat, Gather, Pad, Slice, Split } from './copy.js';
import { Resize, Upsample } from './resize.js';
import { DepthToSpace, Expand, SpaceToDepth, Tile } from './rearrange.js';
import { Einsum } from './einsum.js';
import { ConvInteger, DequantizeLinear, DynamicQuantizeLinear, MatMulInteger, QuantizeLinear } from './quant.js';

// A null-prototype object: an op named '__proto__', 'constructor' or 'toString' (a hostile file)
// finds nothing here instead of Object.prototype's members.
export const OPS: Readonly<Record<string, OpDef>> = Object.assign(Object.create(null) as Record<string, OpDef>, {
  Conv, ConvTranspose, Gemm, MatMul, Einsum,
  Add, Sub, Mul, Div, Max, Min, Sum, Mean, Pow, PRelu,
  Greater, Less, Equal, GreaterOrEqual, LessOrEqual, And, Or, Xor, Not, Where,
  Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish, Tanh, Sqrt, Exp, Log, Erf, Neg, Abs,
  Softplus, Elu, Selu, Celu, Softsign, Sign, Floor, Ceil, Round, Reciprocal, Mish, ThresholdedRelu, Gelu,
  MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool,
  BatchNormalization, InstanceNormalization, LayerNormalization, Softmax, LogSoftmax, LRN,
  ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceSumSquare, ReduceL2, ReduceL1, ArgMax, ArgMin, CumSum,
  Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout: Identity, Cast, Transpose,
  Concat, Split, Slice, Gather, Pad, Expand, Tile, DepthToSpace, SpaceToDepth,
  Resize, Upsample,
  QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, MatMulInteger, ConvInteger,
});
