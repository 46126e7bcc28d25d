// Ops that only reinterpret dims (Flatten, Reshape, Squeeze, Unsqueeze, Identity, Cast to
// float32): their output shares the input's storage, no work at run time. And Transpose.
import { UnsupportedOpError } from '../../errors.js';
import { attrInt, attrInts } from '../../graph/attrs.js';
import type { Node } from '../../graph/ir.js';
import { checkPerm, defaultPerm, transposeDims, transposePlan } from '../../kernels/transpose.js';
import type { Executor, OpDef, OpInput } from '../op.js';
import { axisOf, constInput, fmt, need, optionalConstNumbers, size, nodeError } from './util.js';
import { toNumbers } from '../../graph/tensor.js';
import { stridedCopyTable } from './strided-copy.js';
import { ToBool } from './unary.js';

const aliasExecutor: Executor = { kernel: 'alias', flops: 0, scratchBytes: 0, alias: true, run() {} };

function aliasOp(shape: (node: Node, inputs: (OpInput | undefined)[], opset: number) => number[], constantInputs?: number[]): OpDef {
  return {
    constantInputs,
    shape(node, inputs, opset) {
      const out = shape(node, inputs, opset);
      const x = need(node, inputs, 0).dims;
      if (size(out) !== size(x)) throw nodeError(node, `cannot view ${fmt(x)} (${size(x)} elements) as ${fmt(out)}`);
      return [out];
    },
    build: () => aliasExecutor,
  };
}

export const Flatten = aliasOp((node, inputs) => {
  const x = need(node, inputs, 0).dims;
  const axis = attrInt(node, 'axis', 1);
  const a = axis < 0 ? axis + x.length : axis;
  if (a < 0 || a > x.length) throw nodeError(node, `axis ${axis} is out of range for rank ${x.length}`);
  return [size(x.slice(0, a)), size(x.slice(a))];
});

export const Reshape = aliasOp((node, inputs, opset) => {
  const x = need(node, inputs, 0).dims;
  const target = opset < 5 ? attrInts(node, 'shape', []) : toNumbers(constInput(node, inputs, 1, 'the target shape'));
  const allowZero = attrInt(node, 'allowzero', 0) === 1;
  const out = target.map((d, i) => (d === 0 && !allowZero ? x[i] : d));
  const known = out.filter((d) => d !== -1);
  if (out.length - known.length > 1) throw nodeError(node, `more than one -1 in the target shape ${fmt(target)}`);
  const i = out.indexOf(-1);
  if (i >= 0) {
    const rest = size(known);
    if (rest === 0 || size(x) % rest !== 0) throw nodeError(node, `cannot reshape ${fmt(x)} to ${fmt(target)}`);
    out[i] = size(x) / rest;
  }
  return out;
}, [1]);

export const Squeeze = aliasOp((node, inputs, opset) => {
  const x = need(node, inputs, 0).dims;
  const given = opset < 13 ? attrInts(node, 'axes') : optionalConstNumbers(node, inputs, 1, 'axes');
  const axes = given ? given.map((a) => axisOf(node, a, x.length)) : x.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
  for (const a of axes) if (x[a] !== 1) throw nodeError(node, `axis ${a} of ${fmt(x)} is not 1`);
  return x.filter((_, i) => !axes.includes(i));
}, [1]);

export const Unsqueeze = aliasOp((node, inputs, opset) => {
  const x = need(node, inputs, 0).dims;
  const given = opset < 13 ? attrInts(node, 'axes', []) : toNumbers(constInput(node, inputs, 1, 'axes'));
  const rank = x.length + given.length;
  const axes = new Set(given.map((a) => axisOf(node, a, rank)));
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(axes.has(i) ? 1 : x[j++]);
  return out;
}, [1]);

export const Identity = aliasOp((node, inputs) => need(node, inputs, 0).dims);

const castAlias = aliasOp((node, inputs) => need(node, inputs, 0).dims);

export const Cast: OpDef = {
  shape(node, inputs) {
    const to = attrInt(node, 'to', 1);
    // runtime tensors are float32: a cast to float (1) or double (11) keeps the values we hold
    // (also a bool's, held as 0 / 1); a cast to bool (9) makes them 0 / 1
    if (to !== 1 && to !== 11 && to !== 10 && to !== 9) throw new UnsupportedOpError('Cast', node.name, `casting a run-time tensor to ONNX type ${to}; edgeprune computes in float32`);
    return [need(node, inputs, 0).dims];
  },
  build: (ctx) => (attrInt(ctx.node, 'to', 1) === 9 ? ToBool.build(ctx) : castAlias.build(ctx)),
};

export const Transpose: OpDef = {
  shape(node, inputs) {
    const x = need(node, inputs, 0).dims;
    const perm = attrInts(node, 'perm', defaultPerm(x.length));
    checkPerm(perm, x.length);
    return [transposeDims(x, perm)];
  },
  build(ctx): Executor {
    const x = need(ctx.node, ctx.inputs, 0).dims;
    const perm = attrInts(ctx.node, 'perm', defaultPerm(x.length));
    const n = size(x);
    const axes = transposePlan(x, perm);
    if (n === 0) return { kernel: 'transpose', flops: 0, scratchBytes: 0, run() {} };
    const copy = stridedCopyTable(ctx, axes);
    return {
      kernel: 'transpose',
      flops: 0,
      scratchBytes: 0,
      run(ins, outs) {
        copy(ins[0], outs[0]);
      },
    };
  },
};
