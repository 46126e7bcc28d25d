// Conv and ConvTranspose (1-D and 2-D; 1-D runs as 2-D with H = 1).
import { UnsupportedOpError } from '../../errors.js';
import { attrInt, attrInts, attrString } from '../../graph/attrs.js';
import type { Node } from '../../graph/ir.js';
import { PackedConv2d, winogradApplies } from '../../kernels/conv.js';
import { PackedSparseConv2d, sparseConvPath } from '../../kernels/conv-sparse.js';
import { nonZeroRows, SlimConv2d } from '../../kernels/conv-slim.js';
import { Int8Conv1x1Layer } from '../../kernels/conv-int8.js';
import { int8Weights } from '../../graph/quant.js';
import { chooseWeightKernel, directConvRatio, DIRECT_WINOGRAD_MAX_RATIO, im2colRatio, INT8_CONV1X1_RATIO, spmmRatio, countNonZero, sampleHasZero } from '../kernel-choice.js';
import { PackedConvTranspose2d } from '../../kernels/conv-transpose.js';
import { poolAutoPad } from '../../kernels/pool.js';
import type { BuildContext, Executor, OpDef, OpInput } from '../op.js';
import { constFloats, fmt, need, size, nodeError } from './util.js';

interface Geometry2d {
  /** input dims as 4-D */
  x4: number[];
  /** weight dims as 4-D */
  w4: number[];
  strides: number[];
  dilations: number[];
  /** t, l, b, r */
  pads: number[];
  group: number;
  oneD: boolean;
}

/** Lifts 1-D conv attributes to 2-D and resolves auto_pad. */
function convGeometry(node: Node, x: OpInput, w: OpInput, transpose: boolean): Geometry2d {
  const rank = x.dims.length;
  if (rank !== 3 && rank !== 4) throw new UnsupportedOpError(node.op, node.name, `only 1-D and 2-D convolutions are supported (input ${fmt(x.dims)})`);
  if (w.dims.length !== rank) throw nodeError(node, `weights ${fmt(w.dims)} and input ${fmt(x.dims)} differ in rank`);
  const oneD = rank === 3;
  const sp = rank - 2;
  const lift = (v: number[], fill: number) => (oneD ? [fill, ...v] : v);
  const strides = lift(attrInts(node, 'strides', new Array(sp).fill(1)), 1);
  const dilations = lift(attrInts(node, 'dilations', new Array(sp).fill(1)), 1);
  const kernel = attrInts(node, 'kernel_shape', w.dims.slice(2));
  if (kernel.some((k, i) => k !== w.dims[2 + i])) throw nodeError(node, `kernel_shape ${fmt(kernel)} disagrees with the weights ${fmt(w.dims)}`);
  const x4 = oneD ? [x.dims[0], x.dims[1], 1, x.dims[2]] : x.dims;
  const w4 = oneD ? [w.dims[0], w.dims[1], 1, w.dims[2]] : w.dims;
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  let pads: number[];
  if (autoPad === 'NOTSET') {
    const p = attrInts(node, 'pads', new Array(2 * sp).fill(0));
    pads = oneD ? [0, p[0], 0, p[1]] : [p[0], p[1], p[2], p[3]];
  } else if (transpose) {
    pads = [0, 0, 0, 0]; // resolved by the ConvTranspose shape logic
  } else if (autoPad === 'VALID' || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const hs = autoPad === 'VALID' ? { begin: 0, end: 0 } : poolAutoPad(x4[2], w4[2], strides[0], dilations[0], autoPad);
    const ws = autoPad === 'VALID' ? { begin: 0, end: 0 } : poolAutoPad(x4[3], w4[3], strides[1], dilations[1], autoPad);
    pads = [hs.begin, ws.begin, hs.end, ws.end];
  } else {
    throw nodeError(node, `unknown auto_pad '${autoPad}'`);
  }
  return { x4, w4, strides, dilations, pads, group: attrInt(node, 'group', 1), oneD };
}

function outDims(g: Geometry2d, y4: number[]): number[] {
  return g.oneD ? [y4[0], y4[1], y4[3]] : y4;
}

/** The bias after a folded BatchNormalization: b * scale + shift (b = 0 when the layer has none). */
export function foldedBias(bias: Float32Array | undefined, bn: { scale: Float32Array; shift: Float32Array } | undefined): Float32Array | undefined {
  if (!bn) return bias;
  return bn.shift.map((shift, c) => (bias ? bias[c] : 0) * bn.scale[c] + shift);
}

export const Conv: OpDef = {
  constantInputs: [1, 2],
  shape(node, inputs) {
    const x = need(node, inputs, 0);
    const w = need(node, inputs, 1);
    const g = convGeometry(node, x, w, false);
    const [N, C, H, W] = g.x4;
    const [Cout, CinG, KH, KW] = g.w4;
    if (C !== CinG * g.group) throw nodeError(node, `input ${fmt(x.dims)} has ${C} channels but the weights ${fmt(w.dims)} with group ${g.group} expect ${CinG * g.group}`);
    const eh = (KH - 1) * g.dilations[0] + 1;
    const ew = (KW - 1) * g.dilations[1] + 1;
    const OH = Math.floor((H + g.pads[0] + g.pads[2] - eh) / g.strides[0]) + 1;
    const OW = Math.floor((W + g.pads[1] + g.pads[3] - ew) / g.strides[1]) + 1;
    if (OH <= 0 || OW <= 0) throw nodeError(node, `kernel ${KH}x${KW} does not fit the padded input ${fmt(x.dims)}`);
    return [outDims(g, [N, Cout, OH, OW])];
  },
  build(ctx: BuildContext): Executor {
    const { node, inputs, k } = ctx;
    const x = need(node, inputs, 0);
    const g = convGeometry(node, x, need(node, inputs, 1), false);
    const [Cout, CinG, KH, KW] = g.w4;
    const outPixels = size(ctx.outputDims[0].slice(2));
    const sparsePath = sparseConvPath(KH, KW, g.strides, g.pads);
    const rowPixels = ctx.outputDims[0][ctx.outputDims[0].length - 1];
    const K = CinG * KH * KW;
    // the direct kernel's cost: the input rows one output row reads (padded width) matter for the cache
    const winograd = winogradApplies(g.w4, g.group, g.strides, g.dilations);
    const direct = (d: number) => directConvRatio(d, winograd, rowPixels, g.strides[1], K,
      CinG * KH * (g.x4[3] + g.pads[1] + g.pads[3]) * 4);
    // stride 2 along W has two sparse kernels: the direct one, or the SpMM on im2col columns
    const twoWays = sparsePath === 'sparse-direct' && g.strides[1] === 2;
    const im2col = (d: number) => twoWays && im2colRatio(d, outPixels, K) < direct(d);
    const ratio = (d: number) => sparsePath === 'sparse1x1' ? spmmRatio(d, outPixels)
      : sparsePath === 'sparse-im2col' || im2col(d) ? im2colRatio(d, outPixels, K) : direct(d);
    const weights = () => constFloats(node, inputs, 1, 'the weights');
    // int8 weights (quantized per output channel) of a plain 1x1 conv run the int8 dot kernel
    const wConst = inputs[1]?.constant;
    const int8 = wConst?.quant?.axis === 0 && g.group === 1 && sparsePath === 'sparse1x1';
    const choice = chooseWeightKernel(ctx.preference, {
      weights: Cout * CinG * KH * KW,
      work: ctx.outputDims[0][0] * outPixels * Cout * K,
      countNonZero: () => ctx.once('nnz', () => countNonZero(k, weights())),
      sampleHasZero: () => sampleHasZero(weights()),
      sparseRatio: ratio,
      sparseUnfit: CinG === 1 && g.group > 1 ? 'depthwise: its own kernel skips zero taps' : undefined,
      sparseMaxRatio: winograd && sparsePath === 'sparse-direct' ? DIRECT_WINOGRAD_MAX_RATIO : undefined,
      keptRowShare: g.group === 1 ? () => ctx.once('kept-rows', () => nonZeroRows(weights(), Cout).length / Cout) : undefined,
      int8Ratio: int8 ? INT8_CONV1X1_RATIO : undefined,
    });
    const bn = ctx.batchNorm;
    const bias = () => foldedBias(inputs[2] ? constFloats(node, inputs, 2, 'the bias') : undefined, bn);
    const make = <T>(Layer: new (...a: ConstructorParameters<typeof PackedSparseConv2d>) => T) => () =>
      new Layer(k, weights(), g.w4, bias(), {
        group: g.group, strides: g.strides, pads: g.pads, dilations: g.dilations, activation: ctx.activation, outputScale: bn?.scale,
        // read by the sparse conv only (the density is counted by now)
        im2col: choice.kernel === 'sparse' && im2col(ctx.once('nnz', () => countNonZero(k, weights())) / (Cout * K)),
      });
    const conv = choice.kernel === 'sparse' ? ctx.once(`sparse-conv|${ctx.activation?.kind}`, make(PackedSparseConv2d))
      : choice.kernel === 'slim' ? ctx.once(`slim-conv|${ctx.activation?.kind}`, make(SlimConv2d))
        : int8 && choice.kernel === 'dense' ? ctx.once(`int8-conv|${ctx.activation?.kind}`, () => {
          const { q, scales } = int8Weights(wConst!);
          return new Int8Conv1x1Layer(k, q, scales, g.w4, { bias: bias(), activation: ctx.activation, outputScale: bn?.scale });
        })
          : ctx.once(`conv|${ctx.activation?.kind}`, make(PackedConv2d));
    const y4 = conv.outputDims(g.x4);
    const scratch = conv.scratchFloats(g.x4) * 4;
    return {
      kernel: `conv:${conv.path(g.x4)}${ctx.batchNorm ? ctx.batchNorm.folded ?? '+bn' : ''}`,
      choice: choice.reason,
      flops: 2 * y4[0] * Cout * y4[2] * y4[3] * CinG * KH * KW,
      scratchBytes: scratch,
      run(ins, outs, s) {
        conv.run(ins[0], g.x4, outs[0], s);
      },
    };
  },
};

export const ConvTranspose: OpDef = {
  constantInputs: [1, 2],
  shape(node, inputs) {
    return [transposeGeometry(node, need(node, inputs, 0), need(node, inputs, 1)).y];
  },
  build(ctx: BuildContext): Executor {
    const { node, inputs, k } = ctx;
    const x = need(node, inputs, 0);
    const t = transposeGeometry(node, x, need(node, inputs, 1));
    const op = ctx.once(`convT|${t.g.pads.join(',')}|${ctx.activation?.kind}`, () => {
      const w = constFloats(node, inputs, 1, 'the weights');
      const bn = ctx.batchNorm;
      const bias = foldedBias(inputs[2] ? constFloats(node, inputs, 2, 'the bias') : undefined, bn);
      return new PackedConvTranspose2d(k, w, t.g.w4, bias, { group: t.g.group, strides: t.g.strides, pads: t.g.pads, dilations: t.g.dilations, outputPadding: t.outputPadding, activation: ctx.activation, outputScale: bn?.scale });
    });
    const [Cin, CoutG, KH, KW] = t.g.w4;
    return {
      kernel: `conv-transpose:gemm+col2im${ctx.batchNorm ? ctx.batchNorm.folded ?? '+bn' : ''}`,
      flops: 2 * t.g.x4[0] * Cin * t.g.x4[2] * t.g.x4[3] * CoutG * KH * KW,
      scratchBytes: op.scratchFloats(t.g.x4) * 4,
      run(ins, outs, s) {
        op.run(ins[0], t.g.x4, outs[0], s);
      },
    };
  },
};

/** ConvTranspose output dims, resolving output_shape and auto_pad into explicit pads. */
function transposeGeometry(node: Node, x: OpInput, w: OpInput) {
  const g = convGeometry(node, x, w, true);
  const [N, C, H, W] = g.x4;
  const [Cin, CoutG, KH, KW] = g.w4;
  if (C !== Cin) throw nodeError(node, `input ${fmt(x.dims)} has ${C} channels but the weights ${fmt(w.dims)} expect ${Cin}`);
  const sp = g.oneD ? 1 : 2;
  const op = attrInts(node, 'output_padding', new Array(sp).fill(0));
  const outputPadding = g.oneD ? [0, op[0]] : op;
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const outputShape = attrInts(node, 'output_shape');
  const ins = [H, W];
  const ks = [KH, KW];
  if (outputShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const target = outputShape ? (g.oneD ? [1, outputShape[outputShape.length - 1]] : outputShape.slice(-2)) : ins.map((v, i) => v * g.strides[i]);
    for (let i = 0; i < 2; i++) {
      const total = g.strides[i] * (ins[i] - 1) + outputPadding[i] + (ks[i] - 1) * g.dilations[i] + 1 - target[i];
      if (total < 0) throw nodeError(node, `output_shape ${fmt(target)} is larger than the layer can produce`);
      // ONNX: SAME_UPPER puts the odd pad at the end; SAME_LOWER and an explicit output_shape
      // (auto_pad NOTSET) put it at the beginning
      const upper = autoPad === 'SAME_UPPER';
      g.pads[i] = upper ? Math.floor(total / 2) : total - Math.floor(total / 2);
      g.pads[i + 2] = total - g.pads[i];
    }
  }
  const OH = (H - 1) * g.strides[0] - g.pads[0] - g.pads[2] + g.dilations[0] * (KH - 1) + outputPadding[0] + 1;
  const OW = (W - 1) * g.strides[1] - g.pads[1] - g.pads[3] + g.dilations[1] * (KW - 1) + outputPadding[1] + 1;
  if (OH <= 0 || OW <= 0) throw nodeError(node, 'the pads leave an empty output');
  return { g, outputPadding, y: outDims(g, [N, CoutG * g.group, OH, OW]) };
}
