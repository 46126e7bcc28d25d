// Einsum on run-time tensors as copies and GEMMs, planned once the dims are known:
//  - one operand: a permutation into the output's order, then a sum over the letters the output
//    drops (a trace of one axis, 'ij->i', a transpose 'bchw->bhwc');
//  - two operands: A permuted into [batch, M, K] and B read as [batch, K, N] (in place when its
//    letters are already in that order or in [batch, N, K], else permuted), one GEMM per batch
//    (gemm_b8, B packed from its strides), the product permuted into the output's order when the
//    output interleaves the groups. This covers what PyTorch exports write: attention's
//    'bhqd,bhkd->bhqk' and 'bhqk,bhkd->bhqd', 'bij,bjk->bik', 'nctv,vw->nctw', outer products.
// Not covered, each a typed error: three or more operands, a letter repeated within one operand
// (a diagonal), a letter summed away that only one of two operands has, an ellipsis whose dims
// broadcast (1 against n).
import { UnsupportedOpError } from '../../errors.js';
import { attrString } from '../../graph/attrs.js';
import type { Node } from '../../graph/ir.js';
import { packedB8Floats } from '../../kernels/gemm.js';
import type { BuildContext, Executor, OpDef, OpInput } from '../op.js';
import { stridedCopyTable, stridesOf } from './strided-copy.js';
import { fmt, need, nodeError, size } from './util.js';

interface Equation {
  /** Letters of each operand, one per axis (an ellipsis's axes get digits, right-aligned). */
  ins: string[][];
  out: string[];
  sizes: Map<string, number>;
}

function parseEquation(node: Node, dims: number[][]): Equation {
  const eq = attrString(node, 'equation', '').replace(/\s+/g, '');
  const unsupported = (what: string) => new UnsupportedOpError('Einsum', node.name, `equation '${eq}': ${what}`);
  const arrow = eq.indexOf('->');
  const terms = (arrow < 0 ? eq : eq.slice(0, arrow)).split(',');
  if (terms.length !== dims.length) throw nodeError(node, `equation '${eq}' has ${terms.length} operands but the node has ${dims.length} inputs`);
  if (terms.length > 2) throw unsupported(`${terms.length} operands (edgeprune runs one or two; split the einsum into pairs)`);
  const explicit = (t: string) => {
    const parts = t.split('...');
    if (parts.length > 2 || !/^[a-zA-Z]*$/.test(parts.join(''))) throw nodeError(node, `equation '${eq}': '${t}' is not letters with at most one '...'`);
    return parts;
  };
  const ellipsisRanks = terms.map((t, i) => {
    const parts = explicit(t);
    const r = dims[i].length - parts.join('').length;
    if (parts.length === 1 ? r !== 0 : r < 0) throw nodeError(node, `equation '${eq}': '${t}' does not match input ${i} of rank ${dims[i].length} ${fmt(dims[i])}`);
    return r;
  });
  const ellRank = Math.max(0, ...ellipsisRanks);
  if (ellRank > 10) throw unsupported(`an ellipsis over ${ellRank} axes`);
  const ell = Array.from({ length: ellRank }, (_, i) => String(i));
  const letters = (t: string, r: number) => {
    const parts = explicit(t);
    return parts.length === 1 ? [...parts[0]] : [...parts[0], ...ell.slice(ellRank - r), ...parts[1]];
  };
  const ins = terms.map((t, i) => letters(t, ellipsisRanks[i]));
  const sizes = new Map<string, number>();
  ins.forEach((ls, i) => {
    if (new Set(ls).size !== ls.length) throw unsupported(`a letter repeated within operand '${terms[i]}' (a diagonal)`);
    ls.forEach((l, a) => {
      const d = dims[i][a];
      const seen = sizes.get(l);
      if (seen !== undefined && seen !== d) {
        if (/\d/.test(l) && (seen === 1 || d === 1)) throw unsupported(`the ellipsis dims broadcast (${seen} against ${d})`);
        throw nodeError(node, `equation '${eq}': '${l}' is ${seen} in one operand and ${d} in another (inputs ${dims.map(fmt).join(', ')})`);
      }
      sizes.set(l, d);
    });
  });
  let out: string[];
  if (arrow < 0) {
    // implicit output: the ellipsis, then the letters that appear once, in alphabetical order
    const count = new Map<string, number>();
    for (const l of ins.flat()) count.set(l, (count.get(l) ?? 0) + 1);
    out = [...ell, ...[...count].filter(([l, c]) => c === 1 && !/\d/.test(l)).map(([l]) => l).sort()];
  } else {
    out = letters(eq.slice(arrow + 2), ellRank);
    if (new Set(out).size !== out.length) throw nodeError(node, `equation '${eq}': the output repeats a letter`);
    for (const l of out) if (!sizes.has(l)) throw nodeError(node, `equation '${eq}': output letter '${l}' is in no operand`);
  }
  return { ins, out, sizes };
}

/** copy(x, y): x laid out as letters `from` rearranged into the order `to` (a permutation of them). */
function permuteTable(ctx: BuildContext, from: string[], to: string[], sizes: Map<string, number>) {
  const inStrides = stridesOf(from.map((l) => sizes.get(l)!));
  const outStrides = stridesOf(to.map((l) => sizes.get(l)!));
  return stridedCopyTable(ctx, to.map((l, j) => ({ dim: sizes.get(l)!, inStride: inStrides[from.indexOf(l)], outStride: outStrides[j] })));
}

const same = (a: string[], b: string[]) => a.length === b.length && a.every((l, i) => l === b[i]);

function oneOperand(ctx: BuildContext, e: Equation): Executor {
  const x = e.ins[0];
  const summed = x.filter((l) => !e.out.includes(l));
  const order = [...e.out, ...summed];
  const outCount = size(e.out.map((l) => e.sizes.get(l)!));
  const R = size(summed.map((l) => e.sizes.get(l)!));
  const permute = same(order, x) ? undefined : permuteTable(ctx, x, order, e.sizes);
  const k = ctx.k;
  return {
    kernel: summed.length ? 'einsum:sum' : 'einsum:permute',
    flops: outCount * R,
    scratchBytes: permute && summed.length ? outCount * R * 4 : 0,
    run(ins, outs, scratch) {
      if (!summed.length) return permute ? permute(ins[0], outs[0]) : void k.fn.copy_f32(outs[0], ins[0], outCount);
      const src = permute ? scratch : ins[0];
      if (permute) permute(ins[0], scratch);
      k.fn.reduce_sum(src, outCount, R, 1, 1, outs[0]);
    },
  };
}

function twoOperands(ctx: BuildContext, e: Equation): Executor {
  const [a, b] = e.ins;
  const onlyIn = (x: string[], y: string[]) => x.filter((l) => !y.includes(l) && !e.out.includes(l));
  const dropped = [...onlyIn(a, b), ...onlyIn(b, a)];
  if (dropped.length) throw new UnsupportedOpError('Einsum', ctx.node.name, `letter '${dropped[0]}' is summed away but only one operand has it (sum it with ReduceSum first)`);
  const batch = e.out.filter((l) => a.includes(l) && b.includes(l));
  const aKeep = e.out.filter((l) => a.includes(l) && !b.includes(l));
  const bKeep = e.out.filter((l) => b.includes(l) && !a.includes(l));
  const contract = a.filter((l) => b.includes(l) && !e.out.includes(l));
  const n = (ls: string[]) => size(ls.map((l) => e.sizes.get(l)!));
  const Bt = n(batch), M = n(aKeep), K = n(contract), N = n(bKeep);
  // scratch: [A' | B' | Y' | packed B], each only when needed
  let at = 0;
  const region = (floats: number) => ((at += floats), at - floats);
  const aOrder = [...batch, ...aKeep, ...contract];
  const aPermute = same(a, aOrder) ? undefined : { copy: permuteTable(ctx, a, aOrder, e.sizes), at: region(Bt * M * K) };
  // B in place as [batch, K, N] (row stride N) or [batch, N, K] (row stride 1, column stride K)
  const bTransposed = same(b, [...batch, ...bKeep, ...contract]);
  const bOrder = [...batch, ...contract, ...bKeep];
  const bPermute = same(b, bOrder) || bTransposed ? undefined : { copy: permuteTable(ctx, b, bOrder, e.sizes), at: region(Bt * K * N) };
  const yOrder = [...batch, ...aKeep, ...bKeep];
  const yPermute = same(e.out, yOrder) ? undefined : { copy: permuteTable(ctx, yOrder, e.out, e.sizes), at: region(Bt * M * N) };
  const packAt = region(packedB8Floats(K, N));
  const k = ctx.k;
  const [rs, cs] = bTransposed ? [1, K] : [N, 1];
  return {
    kernel: 'einsum:gemm',
    flops: 2 * Bt * M * K * N,
    scratchBytes: at * 4,
    run(ins, outs, scratch) {
      const A = aPermute ? scratch + aPermute.at * 4 : ins[0];
      const B = bPermute ? scratch + bPermute.at * 4 : ins[1];
      const Y = yPermute ? scratch + yPermute.at * 4 : outs[0];
      aPermute?.copy(ins[0], A);
      bPermute?.copy(ins[1], B);
      if (K === 0) k.fn.fill_f32(Y, 0, Bt * M * N);
      else {
        const packed = scratch + packAt * 4;
        for (let i = 0; i < Bt; i++) {
          k.fn.pack_b8(B + i * K * N * 4, rs, cs, K, N, packed);
          k.fn.gemm_b8(A + i * M * K * 4, K, M, N, K, packed, Y + i * M * N * 4, N, 0, 0, 0, 0);
        }
      }
      yPermute?.copy(Y, outs[0]);
    },
  };
}

const inputDims = (node: Node, inputs: (OpInput | undefined)[]) => node.inputs.map((_, i) => need(node, inputs, i).dims);

export const Einsum: OpDef = {
  shape(node, inputs) {
    const e = parseEquation(node, inputDims(node, inputs));
    return [e.out.map((l) => e.sizes.get(l)!)];
  },
  build(ctx): Executor {
    const e = parseEquation(ctx.node, inputDims(ctx.node, ctx.inputs));
    return e.ins.length === 1 ? oneOperand(ctx, e) : twoOperands(ctx, e);
  },
};
