// One small rule per operator (Torch-Pruning's pruner/function.py registry): how the op couples
// the channels of its inputs and outputs, and which of its initializer axes they index. An op
// not listed blocks every channel tensor it touches (unknownOpRule), so a new op is never cut
// wrongly, only left alone with a reason.
import { attrInt, attrInts } from '../graph/attrs.js';
import type { ConstTensor, Node } from '../graph/ir.js';
import { fromNumbers, numel, toNumbers } from '../graph/tensor.js';
import type { Rule, RuleContext } from './dependency.js';

const prod = (d: readonly number[]) => numel(d);

/** Blocks every channel tensor of the node. */
export const unknownOpRule: Rule = (ctx) => {
  const why = `${ctx.node.op} '${ctx.node.name}' is not understood by the channel dependency rules`;
  for (const v of [...ctx.node.inputs, ...ctx.node.outputs]) if (v) ctx.block(v, why);
};

/** y = f(x) channel by channel; other inputs are constants (Clip bounds, PRelu slope...). */
const passThrough: Rule = (ctx) => {
  const { node } = ctx;
  const [x, ...rest] = node.inputs;
  const y = node.outputs[0];
  if (!x || !ctx.isRuntime(x)) return unknownOpRule(ctx);
  for (const r of rest) {
    if (!r) continue;
    if (ctx.isRuntime(r)) {
      if (ctx.channels(r) !== undefined) return unknownOpRule(ctx);
    } else ctx.constOperand(r, y);
  }
  ctx.same(x, y);
  for (const extra of node.outputs.slice(1)) {
    if (!extra) continue;
    if (node.op === 'Dropout') ctx.same(x, extra);
    else ctx.block(extra, `${node.op} '${node.name}': its second output is not channel-wise`);
  }
};

/** Element-wise n-ary ops with broadcasting: operands' channels couple (residual Add, SE Mul). */
const elementwise: Rule = (ctx) => {
  const { node } = ctx;
  const y = node.outputs[0];
  const yd = ctx.dims(y);
  if (!yd || ctx.channels(y) === undefined) return unknownOpRule(ctx);
  for (const i of node.inputs) {
    if (!i) continue;
    if (!ctx.isRuntime(i)) {
      ctx.constOperand(i, y);
      continue;
    }
    const d = ctx.dims(i);
    if (!d) return unknownOpRule(ctx);
    const a = 1 - (yd.length - d.length);
    if (a < 0 || d[a] === 1) continue; // broadcast over channels
    if (d.length !== yd.length) {
      ctx.block(y, `${node.op} '${node.name}': operand '${i}' of rank ${d.length} broadcasts into channels`);
      ctx.block(i, `${node.op} '${node.name}': operand '${i}' of rank ${d.length} broadcasts into channels`);
      continue;
    }
    ctx.same(i, y);
  }
};

function convRule(transpose: boolean): Rule {
  return (ctx) => {
    const { node } = ctx;
    const [x, w, b] = node.inputs;
    const y = node.outputs[0];
    const cin = ctx.channels(x);
    const cout = ctx.channels(y);
    if (cin === undefined || cout === undefined) return unknownOpRule(ctx);
    if (!ctx.constant(w)) {
      const why = `${node.op} '${node.name}': weights are computed at run time`;
      ctx.block(x, why);
      ctx.block(y, why);
      return;
    }
    const group = attrInt(node, 'group', 1);
    if (b) ctx.param(b, 0, y, 'aux');
    if (group === 1) {
      ctx.param(w, transpose ? 0 : 1, x, 'in');
      ctx.param(w, transpose ? 1 : 0, y, 'out');
      return;
    }
    if (!transpose && group === cin && cout % cin === 0) {
      // depthwise: prune_out == prune_in, the group runs through it (multiplier m: c ↔ c*m..c*m+m-1)
      const m = cout / cin;
      for (let c = 0; c < cin; c++) for (let j = 0; j < m; j++) ctx.link(y, c * m + j, x, c);
      ctx.param(w, 0, y, 'out');
      ctx.fixup((n, kept) => ({ ...n, attrs: { ...n.attrs, group: { kind: 'int', value: kept(x).length } } }));
      return;
    }
    if (group < 1 || cin % group !== 0 || cout % group !== 0) {
      const why = `${node.op} '${node.name}': group=${group} does not divide its ${cin}→${cout} channels`;
      ctx.block(x, why);
      ctx.block(y, why);
      return;
    }
    // grouped: output block g reads only input block g, so neither side couples to the other;
    // each side is split into `group` blocks that must lose equal counts (the layer keeps
    // `group`), and the weight axis holding per-block local indices is cut chunk by chunk.
    // Conv [Cout, Cin/G, ..]: axis 0 = out, axis 1 = local in. ConvTranspose [Cin, Cout/G, ..]:
    // axis 0 = in, axis 1 = local out.
    ctx.param(w, 0, transpose ? x : y, transpose ? 'in' : 'out');
    ctx.param(w, 1, transpose ? y : x, transpose ? 'out' : 'in', group);
    ctx.blocks(x, group);
    ctx.blocks(y, group);
  };
}

const gemm: Rule = (ctx) => {
  const { node } = ctx;
  const [a, b, c] = node.inputs;
  const y = node.outputs[0];
  if (ctx.channels(a) === undefined || ctx.channels(y) === undefined) return unknownOpRule(ctx);
  const transB = node.op === 'Gemm' ? attrInt(node, 'transB', 0) : 0;
  const bad = node.op === 'Gemm' && attrInt(node, 'transA', 0) !== 0 ? 'transA=1' : !ctx.constant(b) ? 'weights computed at run time' : ctx.dims(a)!.length !== 2 ? 'input of rank > 2' : undefined;
  if (bad) {
    ctx.block(a, `${node.op} '${node.name}': ${bad} is not supported`);
    ctx.block(y, `${node.op} '${node.name}': ${bad} is not supported`);
    return;
  }
  ctx.param(b, transB ? 1 : 0, a, 'in');
  ctx.param(b, transB ? 0 : 1, y, 'out');
  if (c) {
    if (ctx.isRuntime(c)) ctx.block(y, `${node.op} '${node.name}': bias computed at run time`);
    else ctx.constOperand(c, y);
  }
};

const batchNorm: Rule = (ctx) => {
  const { node } = ctx;
  const [x, ...params] = node.inputs;
  const y = node.outputs[0];
  if (node.outputs.slice(1).some((o) => o)) return unknownOpRule(ctx); // training-mode statistics
  ctx.same(x, y);
  for (const p of params) if (p) ctx.param(p, 0, y, 'aux');
};

/** Channel axis of `node` normalized for a rank-r input. */
function axisOf(node: Node, r: number, def: number): number {
  const a = attrInt(node, 'axis', def);
  return a < 0 ? a + r : a;
}

const concat: Rule = (ctx) => {
  const { node } = ctx;
  const y = node.outputs[0];
  const yd = ctx.dims(y);
  if (!yd || ctx.channels(y) === undefined) return unknownOpRule(ctx);
  const axis = axisOf(node, yd.length, 1);
  let off = 0;
  for (const i of node.inputs) {
    if (!i) continue;
    const d = ctx.dims(i) ?? ctx.constant(i)?.dims;
    if (!d) return unknownOpRule(ctx);
    if (axis !== 1) {
      if (ctx.isRuntime(i)) ctx.same(i, y);
      else ctx.param(i, 1, y, 'aux');
      continue;
    }
    if (!ctx.isRuntime(i)) {
      ctx.block(y, `Concat '${node.name}': constant '${i}' concatenated along channels`);
      off += d[1];
      continue;
    }
    for (let c = 0; c < d[1]; c++) ctx.link(i, c, y, off + c);
    off += d[1];
  }
};

const split: Rule = (ctx) => {
  const { node, graph } = ctx;
  const x = node.inputs[0];
  const xd = ctx.dims(x);
  if (!xd || ctx.channels(x) === undefined) return unknownOpRule(ctx);
  const axis = axisOf(node, xd.length, 0);
  const outs = node.outputs;
  if (axis !== 1) {
    for (const o of outs) if (o) ctx.same(x, o);
    return;
  }
  const sizesInput = node.inputs[1];
  if (sizesInput && ctx.isRuntime(sizesInput)) return unknownOpRule(ctx);
  let off = 0;
  for (const o of outs) {
    const c = ctx.channels(o);
    if (!o || c === undefined) return unknownOpRule(ctx);
    for (let i = 0; i < c; i++) ctx.link(x, off + i, o, i);
    off += c;
  }
  ctx.fixup((n, kept, inits) => {
    const sizes = outs.map((o) => kept(o).length);
    const attrs = { ...n.attrs };
    delete attrs.num_outputs;
    if (graph.opset < 13) return { ...n, attrs: { ...attrs, split: { kind: 'ints', value: sizes } } };
    const name = sizesInput || `${n.name}_split_sizes`;
    inits.set(name, fromNumbers('int64', [sizes.length], sizes));
    return { ...n, attrs, inputs: [n.inputs[0], name, ...n.inputs.slice(2)] };
  });
};

/** out feature f ↔ channel floor(f / S) of x: a Flatten of [N, C, spatial...] to [N, C*S]. */
function linkFlatten(ctx: RuleContext, x: string, y: string): void {
  const xd = ctx.dims(x)!;
  const s = prod(xd.slice(2));
  for (let f = 0; f < xd[1] * s; f++) ctx.link(y, f, x, Math.floor(f / s));
}

const flatten: Rule = (ctx) => {
  const { node } = ctx;
  const [x] = node.inputs;
  const y = node.outputs[0];
  const xd = ctx.dims(x);
  if (!xd || ctx.channels(x) === undefined || ctx.channels(y) === undefined) return unknownOpRule(ctx);
  if (axisOf(node, xd.length, 1) !== 1) return unknownOpRule(ctx);
  linkFlatten(ctx, x, y);
};

const reshape: Rule = (ctx) => {
  const { node } = ctx;
  const [x, shape] = node.inputs;
  const y = node.outputs[0];
  const xd = ctx.dims(x);
  const yd = ctx.dims(y);
  if (!xd || !yd || ctx.channels(x) === undefined || ctx.channels(y) === undefined) return unknownOpRule(ctx);
  const sameDims = xd.length === yd.length && xd.every((d, i) => d === yd[i]);
  const flattens = yd.length === 2 && yd[0] === xd[0] && yd[1] === prod(xd.slice(1));
  if (!sameDims && !flattens) {
    const why = `Reshape '${node.name}' from [${xd.join(', ')}] to [${yd.join(', ')}] moves channels`;
    ctx.block(x, why);
    ctx.block(y, why);
    return;
  }
  if (sameDims) ctx.same(x, y);
  else linkFlatten(ctx, x, y);
  const target = shape ? ctx.constant(shape) : undefined;
  if (shape && !target) return; // computed target (x.view(x.size(0), -1)): it follows the input
  if (!shape) return ctx.block(x, `Reshape '${node.name}' uses the opset<5 shape attribute`);
  const t = toNumbers(target!);
  if (t[1] === -1 || t[1] === 0) return; // the channel entry follows the input
  // a literal channel/feature count: rewrite it from the kept channels
  ctx.fixup((n, kept, inits) => {
    const next = t.slice();
    next[1] = kept(y).length; // channels (same dims) or C*S features (flatten)
    const name = `${n.name}_shape`;
    inits.set(name, fromNumbers('int64', [next.length], next));
    return { ...n, inputs: [n.inputs[0], name] };
  });
};

/** Squeeze / Unsqueeze of axes >= 2 keep axis 1 as the channel axis. */
const squeezeLike: Rule = (ctx) => {
  const { node, graph } = ctx;
  const [x, axesIn] = node.inputs;
  const y = node.outputs[0];
  const xd = ctx.dims(x);
  const yd = ctx.dims(y);
  if (!xd || !yd) return unknownOpRule(ctx);
  const t: ConstTensor | undefined = axesIn ? ctx.constant(axesIn) : undefined;
  const axes = graph.opset < 13 ? attrInts(node, 'axes') : t ? toNumbers(t) : undefined;
  const r = node.op === 'Squeeze' ? xd.length : yd.length;
  if (!axes || axes.some((a) => (a < 0 ? a + r : a) < 2) || yd.length < 2) return unknownOpRule(ctx);
  ctx.same(x, y);
};

/**
 * ReduceMean / Sum / Max ... over spatial axes only (x.mean([2, 3]), a global pool written as a
 * reduction): channel c of the output is a function of channel c of the input alone, and axis 1
 * stays axis 1. Reducing the batch or the channels themselves blocks.
 */
const reduceSpatial: Rule = (ctx) => {
  const { node, graph } = ctx;
  const [x, axesIn] = node.inputs;
  const xd = ctx.dims(x);
  const yd = ctx.dims(node.outputs[0]);
  if (!xd || !yd || yd.length < 2) return unknownOpRule(ctx);
  // axes: an attribute, or from opset 18 (13 for ReduceSum) a constant input; none means all axes
  const fromInput = node.op === 'ReduceSum' ? graph.opset >= 13 : graph.opset >= 18;
  const t = fromInput && axesIn ? ctx.constant(axesIn) : undefined;
  if (fromInput && axesIn && !t) return unknownOpRule(ctx);
  const axes = t ? toNumbers(t) : attrInts(node, 'axes', []);
  if (axes.length === 0 || axes.some((a) => (a < 0 ? a + xd.length : a) < 2)) return unknownOpRule(ctx);
  ctx.same(x, node.outputs[0]);
};

const softmax: Rule = (ctx) => {
  const xd = ctx.dims(ctx.node.inputs[0]);
  if (!xd) return unknownOpRule(ctx);
  const axis = axisOf(ctx.node, xd.length, ctx.graph.opset < 13 ? 1 : -1);
  if (axis < 2) return unknownOpRule(ctx); // normalizes across channels: removing one changes the rest
  passThrough(ctx);
};

const pad: Rule = (ctx) => {
  const { node } = ctx;
  const xd = ctx.dims(node.inputs[0]);
  const pads = node.inputs[1] ? ctx.constant(node.inputs[1]) : undefined;
  const p = pads ? toNumbers(pads) : attrInts(node, 'pads');
  if (!xd || !p || node.inputs[3] || p[1] !== 0 || p[xd.length + 1] !== 0) return unknownOpRule(ctx);
  ctx.same(node.inputs[0], node.outputs[0]);
};

/** Resize / Upsample: pass-through; a literal `sizes` carries the channel count and is rewritten. */
const resize: Rule = (ctx) => {
  const { node } = ctx;
  const [x] = node.inputs;
  const y = node.outputs[0];
  const sizes = node.op === 'Resize' ? node.inputs[3] : undefined;
  for (const i of node.inputs.slice(1)) if (i && ctx.isRuntime(i)) return unknownOpRule(ctx);
  ctx.same(x, y);
  if (!sizes) return;
  const s = toNumbers(ctx.constant(sizes)!);
  ctx.fixup((n, kept, inits) => {
    const next = s.slice();
    next[1] = kept(y).length;
    const name = `${n.name}_sizes`;
    inits.set(name, fromNumbers('int64', [next.length], next));
    return { ...n, inputs: n.inputs.map((v, i) => (i === 3 ? name : v)) };
  });
};

/** Shape(x) is harmless when only its batch (or spatial) entries are read: x.view(x.size(0), -1). */
const shapeRule: Rule = (ctx) => {
  const { node } = ctx;
  const ok = ctx.consumers(node.outputs[0]).every((n) => {
    if (n.op !== 'Gather' || attrInt(n, 'axis', 0) !== 0) return false;
    const idx = ctx.constant(n.inputs[1]);
    return idx !== undefined && idx.dims.length === 0 && toNumbers(idx)[0] !== 1;
  });
  if (!ok) ctx.block(node.inputs[0], `Shape '${node.name}' reads the channel count`);
};

const UNARY = [
  'Relu', 'LeakyRelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign', 'Gelu', 'Mish', 'Erf',
  'Abs', 'Neg', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Floor', 'Ceil', 'Round', 'Sign', 'Sin', 'Cos', 'Clip', 'ThresholdedRelu', 'PRelu', 'Cast',
  'Dropout', 'Identity', 'MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool',
];
const BINARY = ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Sum', 'Mean', 'Pow'];

export const RULES: Record<string, Rule> = {
  ...Object.fromEntries(UNARY.map((op) => [op, passThrough])),
  ...Object.fromEntries(BINARY.map((op) => [op, elementwise])),
  Conv: convRule(false),
  ConvTranspose: convRule(true),
  Gemm: gemm,
  MatMul: gemm,
  BatchNormalization: batchNorm,
  InstanceNormalization: batchNorm,
  Concat: concat,
  Split: split,
  Flatten: flatten,
  Reshape: reshape,
  Squeeze: squeezeLike,
  Unsqueeze: squeezeLike,
  Softmax: softmax,
  LogSoftmax: softmax,
  ...Object.fromEntries(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare'].map((op) => [op, reduceSpatial])),
  Pad: pad,
  Resize: resize,
  Upsample: resize,
  Shape: shapeRule,
  Constant: () => {},
};
