// Data movement: Concat, Split, Slice, Gather (constant or run-time indices), Pad (constant, reflect, edge, wrap).
// Each builds strided-copy tables once; run() is one or a few kernel calls.
import { InputError, UnsupportedOpError } from '../../errors.js';
import { attrFloat, attrInt, attrInts, attrString } from '../../graph/attrs.js';
import type { Node } from '../../graph/ir.js';
import { toNumbers } from '../../graph/tensor.js';
import { sliceRange } from '../../graph/slice.js';
import type { BuildContext, Executor, OpDef, OpInput } from '../op.js';
import { stridedCopyTable, stridesOf } from './strided-copy.js';
import { axisOf, constInput, fmt, need, optionalConstNumbers, size, nodeError } from './util.js';

/** Copies x (dims, contiguous) into y (yDims) starting at element offset yOffset. */
function boxCopy(ctx: BuildContext, dims: number[], xStrides: number[], yStrides: number[]) {
  return stridedCopyTable(ctx, dims.map((d, i) => ({ dim: d, inStride: xStrides[i], outStride: yStrides[i] })));
}

export const Concat: OpDef = {
  shape(node, inputs) {
    const xs = node.inputs.map((_, i) => need(node, inputs, i).dims);
    const axis = axisOf(node, attrInt(node, 'axis', 0), xs[0].length);
    const out = [...xs[0]];
    out[axis] = 0;
    for (const d of xs) {
      if (d.length !== out.length || d.some((v, i) => i !== axis && v !== xs[0][i])) {
        throw nodeError(node, `inputs ${xs.map(fmt).join(', ')} differ outside axis ${axis}`);
      }
      out[axis] += d[axis];
    }
    return [out];
  },
  build(ctx): Executor {
    const y = ctx.outputDims[0];
    const axis = axisOf(ctx.node, attrInt(ctx.node, 'axis', 0), y.length);
    const ys = stridesOf(y);
    let offset = 0;
    const parts = ctx.node.inputs.map((_, i) => {
      const d = need(ctx.node, ctx.inputs, i).dims;
      const part = { copy: boxCopy(ctx, d, stridesOf(d), ys), at: offset * ys[axis] * 4 };
      offset += d[axis];
      return part;
    });
    return {
      kernel: 'concat',
      flops: 0,
      scratchBytes: 0,
      run(ins, outs) {
        for (let i = 0; i < parts.length; i++) parts[i].copy(ins[i], outs[0] + parts[i].at);
      },
    };
  },
};

function splitSizes(node: Node, inputs: (OpInput | undefined)[], opset: number, dim: number): number[] {
  const given = opset < 13 ? attrInts(node, 'split') : optionalConstNumbers(node, inputs, 1, 'split');
  if (given) {
    if (given.reduce((a, b) => a + b, 0) !== dim) throw nodeError(node, `split ${fmt(given)} does not add up to ${dim}`);
    return given;
  }
  const n = attrInt(node, 'num_outputs', node.outputs.length);
  if (n !== node.outputs.length) throw nodeError(node, `num_outputs is ${n} but the node has ${node.outputs.length} outputs`);
  const chunk = Math.ceil(dim / n);
  return Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
}

export const Split: OpDef = {
  constantInputs: [1],
  shape(node, inputs, opset) {
    const x = need(node, inputs, 0).dims;
    const axis = axisOf(node, attrInt(node, 'axis', 0), x.length);
    return splitSizes(node, inputs, opset, x[axis]).map((s) => x.map((d, i) => (i === axis ? s : d)));
  },
  build(ctx): Executor {
    const x = need(ctx.node, ctx.inputs, 0).dims;
    const axis = axisOf(ctx.node, attrInt(ctx.node, 'axis', 0), x.length);
    const xs = stridesOf(x);
    let offset = 0;
    // from the split sizes, not ctx.outputDims: an omitted ('') output has no dims there but
    // still occupies its slice of the axis
    const parts = splitSizes(ctx.node, ctx.inputs, ctx.opset, x[axis]).map((n) => {
      const d = x.map((v, i) => (i === axis ? n : v));
      const part = { copy: boxCopy(ctx, d, xs, stridesOf(d)), at: offset * xs[axis] * 4 };
      offset += n;
      return part;
    });
    return {
      kernel: 'split',
      flops: 0,
      scratchBytes: 0,
      run(ins, outs) {
        for (let i = 0; i < parts.length; i++) if (outs[i]) parts[i].copy(ins[0] + parts[i].at, outs[i]);
      },
    };
  },
};

/** Per-axis start, step and count of a Slice, clamped as the ONNX spec says. */
function sliceBox(node: Node, inputs: (OpInput | undefined)[], opset: number) {
  const x = need(node, inputs, 0).dims;
  const get = (i: number, attr: string, what: string) => (opset < 10 ? attrInts(node, attr) : optionalConstNumbers(node, inputs, i, what));
  const starts = get(1, 'starts', 'starts');
  const ends = get(2, 'ends', 'ends');
  if (!starts || !ends || starts.length !== ends.length) throw nodeError(node, 'starts and ends must be given with one value per axis');
  const axes = (get(3, 'axes', 'axes') ?? starts.map((_, i) => i)).map((a) => axisOf(node, a, x.length));
  const steps = opset < 10 ? starts.map(() => 1) : (optionalConstNumbers(node, inputs, 4, 'steps') ?? starts.map(() => 1));
  const start = x.map(() => 0);
  const step = x.map(() => 1);
  const count = [...x];
  axes.forEach((a, i) => {
    const d = x[a];
    const st = steps[i];
    if (st === 0) throw nodeError(node, 'a step of 0');
    const r = sliceRange(starts[i], ends[i], st, d);
    start[a] = r.start;
    step[a] = st;
    count[a] = r.count;
  });
  return { x, start, step, count };
}

export const Slice: OpDef = {
  constantInputs: [1, 2, 3, 4],
  shape(node, inputs, opset) {
    return [sliceBox(node, inputs, opset).count];
  },
  build(ctx): Executor {
    const { x, start, step, count } = sliceBox(ctx.node, ctx.inputs, ctx.opset);
    const xs = stridesOf(x);
    const copy = boxCopy(ctx, count, xs.map((s, i) => s * step[i]), stridesOf(count));
    const at = start.reduce((acc, s, i) => acc + s * xs[i], 0) * 4;
    return {
      kernel: 'slice',
      flops: 0,
      scratchBytes: 0,
      run(ins, outs) {
        copy(ins[0] + at, outs[0]);
      },
    };
  },
};

export const Gather: OpDef = {
  constantInputs: [1],
  shape(node, inputs) {
    const x = need(node, inputs, 0).dims;
    const idx = need(node, inputs, 1).dims;
    const axis = axisOf(node, attrInt(node, 'axis', 0), x.length);
    return [[...x.slice(0, axis), ...idx, ...x.slice(axis + 1)]];
  },
  build(ctx): Executor {
    const x = need(ctx.node, ctx.inputs, 0).dims;
    const axis = axisOf(ctx.node, attrInt(ctx.node, 'axis', 0), x.length);
    const idx = need(ctx.node, ctx.inputs, 1);
    const outer = size(x.slice(0, axis));
    const inner = size(x.slice(axis + 1));
    const n = size(idx.dims);
    // the same box for every index: [outer, inner] from x (stride dim*inner) to y (stride n*inner)
    const copy = stridedCopyTable(ctx, [
      { dim: outer, inStride: x[axis] * inner, outStride: n * inner },
      { dim: inner, inStride: 1, outStride: 1 },
    ]);
    if (idx.constant) {
      const indices = toNumbers(idx.constant).map((v) => {
        const i = v < 0 ? v + x[axis] : v;
        if (i < 0 || i >= x[axis]) throw nodeError(ctx.node, `index ${v} is out of range for axis ${axis} of size ${x[axis]}`);
        return i;
      });
      return {
        kernel: 'gather',
        flops: 0,
        scratchBytes: 0,
        run(ins, outs) {
          for (let j = 0; j < n; j++) copy(ins[0] + indices[j] * inner * 4, outs[0] + j * inner * 4);
        },
      };
    }
    // indices computed at run time (an embedding's token ids): run-time values are float32, exact
    // integers below 2^24; each one is checked before its row is copied
    const k = ctx.k;
    const node = ctx.node;
    const dim = x[axis];
    return {
      kernel: 'gather:runtime-indices',
      flops: 0,
      scratchBytes: 0,
      run(ins, outs) {
        const f32 = k.f32;
        const at = ins[1] >> 2;
        for (let j = 0; j < n; j++) {
          const v = f32[at + j];
          const i = v < 0 ? v + dim : v;
          if (!(Number.isInteger(i) && i >= 0 && i < dim)) {
            throw new InputError(`node '${node.name}' (Gather): index ${v} (at position ${j} of '${idx.name}') is not an integer in [${-dim}, ${dim - 1}], the range of axis ${axis} of size ${dim}; check the ids fed to the model`);
          }
          copy(ins[0] + i * inner * 4, outs[0] + j * inner * 4);
        }
      },
    };
  },
};

function padSpec(node: Node, inputs: (OpInput | undefined)[], opset: number) {
  const x = need(node, inputs, 0).dims;
  const mode = attrString(node, 'mode', 'constant');
  if (!PAD_MODES.includes(mode)) throw new UnsupportedOpError('Pad', node.name, `mode '${mode}' (edgeprune pads with ${PAD_MODES.join(', ')})`);
  let pads: number[];
  let value = 0;
  if (opset < 11) {
    pads = attrInts(node, 'pads', []);
    value = attrFloat(node, 'value', 0);
  } else {
    pads = toNumbers(constInput(node, inputs, 1, 'pads'));
    const v = optionalConstNumbers(node, inputs, 2, 'constant_value');
    if (v) value = v[0];
    const axes = optionalConstNumbers(node, inputs, 3, 'axes');
    if (axes) {
      const full = new Array(2 * x.length).fill(0);
      axes.forEach((a, i) => {
        const ax = axisOf(node, a, x.length);
        full[ax] = pads[i];
        full[ax + x.length] = pads[i + axes.length];
      });
      pads = full;
    }
  }
  if (pads.length !== 2 * x.length) throw nodeError(node, `pads ${fmt(pads)} should have ${2 * x.length} values for input ${fmt(x)}`);
  const out = x.map((d, i) => d + pads[i] + pads[i + x.length]);
  if (out.some((d) => d < 0)) throw nodeError(node, `pads ${fmt(pads)} crop ${fmt(x)} below zero`);
  // what is left of x along each axis after negative pads crop it; reflect / edge / wrap read only that
  const box = x.map((d, i) => d + Math.min(0, pads[i]) + Math.min(0, pads[i + x.length]));
  const border = BORDERS[mode];
  box.forEach((n, i) => {
    const most = Math.max(pads[i], pads[i + x.length]);
    if (border && most > border.most(n)) throw nodeError(node, `${mode} padding of ${most} along axis ${i} needs more than the ${n} values there`);
  });
  return { x, pads, value, out, mode, box };
}

/**
 * How reflect / edge / wrap fill a border from the interior [pb, pb + n) along one axis: the
 * first source index for the border before it and after it, the source's step, and the most
 * either side may pad.
 */
const BORDERS: Record<string, { step: number; before: (pb: number, n: number) => number; after: (pb: number, n: number) => number; most: (n: number) => number }> = {
  reflect: { step: -1, before: (pb) => 2 * pb, after: (pb, n) => pb + n - 2, most: (n) => n - 1 },
  edge: { step: 0, before: (pb) => pb, after: (pb, n) => pb + n - 1, most: (n) => (n > 0 ? Infinity : 0) },
  wrap: { step: 1, before: (_, n) => n, after: (pb) => pb, most: (n) => n },
};

const PAD_MODES = ['constant', ...Object.keys(BORDERS)];

/**
 * The copies that fill the borders of a reflect / edge / wrap pad from the output's own interior,
 * axis by axis: borders along axis a span the full output along the axes before a (already
 * filled) and the interior along the axes after it. Each is a strided copy within y whose source
 * walks the interior backwards (reflect), stays on the edge value (edge) or forwards (wrap).
 */
function borderCopies(ctx: BuildContext, mode: string, out: number[], box: number[], pads: number[]): ((y: number) => void)[] {
  const r = out.length;
  const ys = stridesOf(out);
  const before = box.map((_, i) => Math.max(0, pads[i]));
  const after = box.map((_, i) => Math.max(0, pads[i + r]));
  const { step, before: srcBefore, after: srcAfter } = BORDERS[mode];
  const copies: ((y: number) => void)[] = [];
  for (let a = 0; a < r; a++) {
    const pb = before[a];
    const n = box[a];
    // [count, first destination index, first source index] along axis a, for each side
    const sides: [number, number, number][] = [
      [pb, 0, srcBefore(pb, n)],
      [after[a], pb + n, srcAfter(pb, n)],
    ];
    // the axes after a start at their interior; the axes before a are whole
    const rest = before.reduce((acc, p, b) => acc + (b > a ? p * ys[b] : 0), 0);
    for (const [count, dst, src] of sides) {
      if (count === 0) continue;
      const axes = out.map((d, b) => (b === a ? { dim: count, inStride: step * ys[b], outStride: ys[b] } : { dim: b < a ? d : box[b], inStride: ys[b], outStride: ys[b] }));
      const copy = stridedCopyTable(ctx, axes);
      const from = (src * ys[a] + rest) * 4;
      const to = (dst * ys[a] + rest) * 4;
      copies.push((y) => copy(y + from, y + to));
    }
  }
  return copies;
}

export const Pad: OpDef = {
  constantInputs: [1, 2, 3],
  shape(node, inputs, opset) {
    return [padSpec(node, inputs, opset).out];
  },
  build(ctx): Executor {
    const { x, pads, value, out, mode, box } = padSpec(ctx.node, ctx.inputs, ctx.opset);
    const xs = stridesOf(x);
    const ys = stridesOf(out);
    // negative pads crop: the copied box starts inside x; positive pads shift it inside y
    const xAt = x.reduce((acc, _, i) => acc + Math.max(0, -pads[i]) * xs[i], 0) * 4;
    const yAt = x.reduce((acc, _, i) => acc + Math.max(0, pads[i]) * ys[i], 0) * 4;
    const copy = boxCopy(ctx, box, xs, ys);
    const n = size(out);
    if (mode !== 'constant') {
      // every output value is written: the interior from x, then the borders from the interior
      const borders = n === 0 ? [] : borderCopies(ctx, mode, out, box, pads);
      return {
        kernel: `pad:${mode}`,
        flops: 0,
        scratchBytes: 0,
        run(ins, outs) {
          copy(ins[0] + xAt, outs[0] + yAt);
          for (const fill of borders) fill(outs[0]);
        },
      };
    }
    const valuePtr = ctx.alloc(4);
    ctx.k.f32[valuePtr >> 2] = value;
    return {
      kernel: 'pad',
      flops: 0,
      scratchBytes: 0,
      run(ins, outs) {
        ctx.k.fn.fill_channels(outs[0], 1, n, valuePtr);
        copy(ins[0] + xAt, outs[0] + yAt);
      },
    };
  },
};
