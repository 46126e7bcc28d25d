// Gemm and MatMul. Constant B (the weights) is packed once into 8-column panels; a runtime B is
// packed into scratch on each run.
import { ModelFormatError, UnsupportedOpError } from '../../errors.js';
import { attrFloat, attrInt } from '../../graph/attrs.js';
import { toFloat32 } from '../../graph/tensor.js';
import { broadcastShape, binaryRun } from '../../kernels/eltwise.js';
import { matmulRun, matmulShape, packedB8Floats, PackedLinear } from '../../kernels/gemm.js';
import { activationArgs } from '../../kernels/activation.js';
import type { Kernels } from '../../wasm/kernels.js';
import type { BuildContext, Executor, OpDef } from '../op.js';
import { foldedBias } from './conv.js';
import { PackedSparseGemm, SPMM_MIN_ROWS } from '../../kernels/gemm-sparse.js';
import { chooseWeightKernel, gemmRatio, INT8_LINEAR_RATIO, countNonZero, sampleHasZero } from '../kernel-choice.js';
import { PackedInt8Linear, type Int8LinearOptions } from '../../kernels/quant.js';
import { int8Weights } from '../../graph/quant.js';
import type { ConstTensor } from '../../graph/ir.js';
import { fmt, need, size, nodeError } from './util.js';

export const Gemm: OpDef = {
  constantInputs: [1, 2],
  shape(node, inputs) {
    const a = need(node, inputs, 0).dims;
    const b = need(node, inputs, 1).dims;
    if (a.length !== 2 || b.length !== 2) throw nodeError(node, `A ${fmt(a)} and B ${fmt(b)} must be matrices`);
    const [M, K] = attrInt(node, 'transA', 0) ? [a[1], a[0]] : a;
    const [K2, N] = attrInt(node, 'transB', 0) ? [b[1], b[0]] : b;
    if (K !== K2) throw nodeError(node, `A ${fmt(a)} and B ${fmt(b)} disagree on the inner dimension (${K} vs ${K2})`);
    const c = inputs[2];
    if (c) broadcastShape(c.dims, [M, N]);
    return [[M, N]];
  },
  build(ctx: BuildContext): Executor {
    const { node, inputs, k } = ctx;
    const aDims = need(node, inputs, 0).dims;
    const bIn = need(node, inputs, 1);
    const transA = attrInt(node, 'transA', 0) === 1;
    const transB = attrInt(node, 'transB', 0) === 1;
    const alpha = attrFloat(node, 'alpha', 1);
    const beta = attrFloat(node, 'beta', 1);
    const [M, K] = transA ? [aDims[1], aDims[0]] : aDims;
    const N = ctx.outputDims[0][1];
    if (!bIn.constant) throw new UnsupportedOpError('Gemm', node.name, 'B is computed at run time; edgeprune needs Gemm weights to be constant (use MatMul for two runtime matrices)');
    const w = toFloat32(bIn.constant);
    const bn = ctx.batchNorm;
    // alpha and a folded BatchNormalization scale the weights per output, in wasm while packing
    const outputScale = bn ? bn.scale.map((v) => v * alpha) : alpha !== 1 ? new Float32Array(N).fill(alpha) : undefined;
    // C: fused as the epilogue bias when it is constant and broadcasts along rows
    const cIn = inputs[2];
    let bias: Float32Array | undefined;
    let postAdd: { ptr: number; dims: number[] } | undefined;
    if (cIn && beta !== 0) {
      if (!cIn.constant) throw new UnsupportedOpError('Gemm', node.name, 'C is computed at run time; add it with a separate Add node');
      const c = toFloat32(cIn.constant).map((v) => v * beta);
      const rowBroadcast = size(cIn.dims) === 1 || (cIn.dims[cIn.dims.length - 1] === N && size(cIn.dims) === N);
      if (rowBroadcast) bias = size(cIn.dims) === 1 ? new Float32Array(N).fill(c[0]) : c;
      else {
        const ptr = ctx.alloc(c.length * 4);
        k.f32.set(c, ptr >> 2);
        postAdd = { ptr, dims: cIn.dims };
      }
    }
    if (bn) bias = foldedBias(bias, bn);
    // int8 weights quantized along the output axis (0 for transB, 1 otherwise) run the int8 kernel
    const int8 = bIn.constant.quant?.axis === (transB ? 0 : 1);
    const choice = chooseWeightKernel(ctx.preference, { weights: K * N, work: M * K * N, countNonZero: () => ctx.once('nnz', () => countNonZero(k, w)), sampleHasZero: () => sampleHasZero(w), sparseRatio: (d) => gemmRatio(d, M, K), int8Ratio: int8 ? INT8_LINEAR_RATIO : undefined });
    const opts = { transposed: transB, bias, activation: postAdd ? undefined : ctx.activation, outputScale };
    const lin = choice.kernel === 'sparse'
      ? ctx.once(`sparse-gemm|${ctx.activation?.kind}`, () => new PackedSparseGemm(k, w, K, N, opts))
      : int8 ? ctx.once(`int8-gemm|${ctx.activation?.kind}`, () => int8Linear(k, bIn.constant!, K, N, opts))
        : ctx.once(`gemm|${ctx.activation?.kind}`, () => new PackedLinear(k, w, K, N, opts));
    const [act, p0, p1] = activationArgs(postAdd ? ctx.activation : undefined);
    const aBytes = transA ? M * K * 4 : 0;
    return {
      kernel: `gemm:${transA ? 'transpose+' : ''}${lin instanceof PackedSparseGemm ? sparseGemmPath(M) : lin instanceof PackedInt8Linear ? 'int8' : 'packed'}${bn ? bn.folded ?? '+bn' : ''}`,
      choice: choice.reason,
      flops: 2 * M * K * N,
      scratchBytes: aBytes + (lin instanceof PackedSparseGemm ? lin.scratchFloats(M) * 4 : 0),
      run(ins, outs, s) {
        let a = ins[0];
        if (transA) {
          k.fn.transpose_2d(a, s, K, M);
          a = s;
        }
        lin.run(a, M, outs[0], s + aBytes);
        if (postAdd) {
          binaryRun(k, 'add', outs[0], [M, N], postAdd.ptr, postAdd.dims, outs[0]);
          if (act) k.fn.activate_inplace(outs[0], M * N, act, p0, p1);
        }
      },
    };
  },
};

export const MatMul: OpDef = {
  constantInputs: [1],
  shape(node, inputs) {
    return [matmulShape(need(node, inputs, 0).dims, need(node, inputs, 1).dims).out];
  },
  build(ctx: BuildContext): Executor {
    const { node, inputs, k } = ctx;
    const aDims = need(node, inputs, 0).dims;
    const bIn = need(node, inputs, 1);
    const s = matmulShape(aDims, bIn.dims);
    const flops = 2 * size(s.batch) * s.M * s.K * s.N;
    if (bIn.constant && bIn.dims.length === 2 && aDims.length >= 2) {
      // weights: one packed Linear over all rows of A (its leading dims flattened)
      const rows = size(aDims) / s.K;
      const w = toFloat32(bIn.constant);
      const int8 = bIn.constant.quant?.axis === 1;
      const choice = chooseWeightKernel(ctx.preference, { weights: s.K * s.N, work: rows * s.K * s.N, countNonZero: () => ctx.once('nnz', () => countNonZero(k, w)), sampleHasZero: () => sampleHasZero(w), sparseRatio: (d) => gemmRatio(d, rows, s.K), int8Ratio: int8 ? INT8_LINEAR_RATIO : undefined });
      const lin = choice.kernel === 'sparse'
        ? ctx.once(`sparse-matmul|${ctx.activation?.kind}`, () => new PackedSparseGemm(k, w, s.K, s.N, { activation: ctx.activation }))
        : int8 ? ctx.once(`int8-matmul|${ctx.activation?.kind}`, () => int8Linear(k, bIn.constant!, s.K, s.N, { activation: ctx.activation }))
          : ctx.once(`matmul|${ctx.activation?.kind}`, () => new PackedLinear(k, w, s.K, s.N, { activation: ctx.activation }));
      const sparse = lin instanceof PackedSparseGemm;
      return {
        kernel: `matmul:${sparse ? sparseGemmPath(rows) : lin instanceof PackedInt8Linear ? 'int8' : 'packed'}`,
        choice: choice.reason,
        flops,
        scratchBytes: sparse ? lin.scratchFloats(rows) * 4 : 0,
        run: (ins, outs, scratch) => lin.run(ins[0], rows, outs[0], scratch),
      };
    }
    if (ctx.activation) throw new ModelFormatError(`internal: activation fused into a runtime MatMul '${node.name}'`);
    let bPtr = 0;
    if (bIn.constant) {
      const b = toFloat32(bIn.constant);
      bPtr = ctx.alloc(b.length * 4);
      k.f32.set(b, bPtr >> 2);
    }
    const bDims = bIn.dims;
    return {
      kernel: 'matmul:batched',
      flops,
      scratchBytes: packedB8Floats(s.K, s.N) * 4,
      run(ins, outs, scratch) {
        matmulRun(k, ins[0], aDims, bPtr || ins[1], bDims, outs[0], scratch);
      },
    };
  },
};

/** Whether the planner may fuse a following activation into this Gemm/MatMul node. */
export function gemmFusable(op: string, inputs: { dims: number[]; constant?: unknown }[]): boolean {
  if (op === 'MatMul') return !!inputs[1]?.constant && inputs[1].dims.length === 2 && inputs[0].dims.length >= 2;
  return true;
}

/** The sparse kernel a Gemm/MatMul with this many rows runs. */
function sparseGemmPath(rows: number): string {
  return rows < SPMM_MIN_ROWS ? 'sparse-spmv' : 'sparse-spmm';
}

/** The int8 kernel for a quantized K x N (or N x K, transposed) weight tensor. */
function int8Linear(k: Kernels, t: ConstTensor, K: number, N: number, opts: Int8LinearOptions): PackedInt8Linear {
  const { q, scales } = int8Weights(t);
  return new PackedInt8Linear(k, q, scales, K, N, opts);
}
