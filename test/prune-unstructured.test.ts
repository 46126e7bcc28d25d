import { describe, expect, it } from 'vitest';
import { ArgumentError, ShapeError } from '../src/errors.js';
import type { Attr, Graph, Node } from '../src/graph/ir.js';
import { importOnnx } from '../src/onnx/import.js';
import {
  blockSparsity,
  globalUnstructured,
  l1Unstructured,
  nmSparsity,
  randomUnstructured,
  wandaUnstructured,
} from '../src/prune/unstructured.js';
import { remove } from '../src/prune/remove.js';
import { InferenceSession } from '../src/runtime/session.js';
import { expectClose } from './util/close.js';
import { FLAVORS, kernels } from './util/kernels.js';
import { buildModel, runOrt, type ModelSpec } from './util/onnx.js';
import { randomArray, rng } from './util/rng.js';

interface LayerSpec {
  name: string;
  op: 'Conv' | 'ConvTranspose' | 'Gemm' | 'MatMul';
  w: Float32Array;
  dims: number[];
  attrs?: Record<string, number>;
  bias?: Float32Array;
}

/** A chain of layers as a plain Graph (shapes need not chain: pruning never runs it). */
function graphOf(layers: LayerSpec[]): Graph {
  const initializers = new Map<string, { dtype: 'float32'; dims: number[]; data: Float32Array }>();
  const nodes: Node[] = [];
  let prev = 'x';
  for (const l of layers) {
    initializers.set(`${l.name}.w`, { dtype: 'float32', dims: l.dims, data: l.w });
    const inputs = [prev, `${l.name}.w`];
    if (l.bias) {
      initializers.set(`${l.name}.b`, { dtype: 'float32', dims: [l.bias.length], data: l.bias });
      inputs.push(`${l.name}.b`);
    }
    const attrs: Record<string, Attr> = {};
    for (const [k, v] of Object.entries(l.attrs ?? {})) attrs[k] = { kind: 'int', value: v };
    nodes.push({ name: l.name, op: l.op, domain: '', inputs, outputs: [`${l.name}.y`], attrs });
    prev = `${l.name}.y`;
  }
  return { name: 'g', inputs: [{ name: 'x', dtype: 'float32' }], outputs: [{ name: prev, dtype: 'float32' }], nodes, initializers, opset: 13, valueInfo: new Map() };
}

const weightOf = (g: Graph, layer: string) => g.initializers.get(`${layer}.w`)!.data as Float32Array;
const zeros = (a: ArrayLike<number>) => Array.from(a).filter((v) => v === 0).length;
const zeroIdx = (a: ArrayLike<number>) => Array.from(a).flatMap((v, i) => (v === 0 ? [i] : []));

/** Indices of the k smallest scores, equal scores: lower index first (the documented rule). */
function lowest(scores: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[a] - scores[b] || a - b);
  return idx.slice(0, k).sort((a, b) => a - b);
}

/** Values with many exact ties (multiples of 1/8 in [-2, 2), none zero). */
function tiedArray(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = Math.floor(r() * 32) - 16;
    a[i] = (v === 0 ? 1 : v) / 8;
  }
  return a;
}

const abs = (a: Float32Array) => Array.from(a, (v) => Math.abs(v));

/** Canonical [O, I] index → storage index, per layout (independent of src/prune/layers.ts). */
function storageIndex(spec: LayerSpec): (o: number, i: number) => number {
  const d = spec.dims;
  if (spec.op === 'Conv' || (spec.op === 'Gemm' && spec.attrs?.transB === 1)) {
    const I = spec.w.length / d[0];
    return (o, i) => o * I + i;
  }
  if (spec.op === 'ConvTranspose') {
    const g = spec.attrs?.group ?? 1;
    const taps = d.slice(2).reduce((a, b) => a * b, 1);
    const cinG = d[0] / g;
    return (o, i) => {
      const grp = Math.floor(o / d[1]), co = o % d[1], ci = Math.floor(i / taps), t = i % taps;
      return ((grp * cinG + ci) * d[1] + co) * taps + t;
    };
  }
  return (o, i) => i * d[1] + o; // [K, N]
}

function canonicalShape(spec: LayerSpec): [number, number] {
  const d = spec.dims;
  if (spec.op === 'Conv' || (spec.op === 'Gemm' && spec.attrs?.transB === 1)) return [d[0], spec.w.length / d[0]];
  if (spec.op === 'ConvTranspose') {
    const g = spec.attrs?.group ?? 1;
    return [g * d[1], spec.w.length / (g * d[1])];
  }
  return [d[1], d[0]];
}

describe.each(FLAVORS)('unstructured pruning (%s build)', (flavor) => {
  const opts = async () => ({ kernels: await kernels(flavor) });

  it('l1Unstructured: exact mask on a hand-made tensor, ties to the lower index', async () => {
    const w = new Float32Array([0.5, -0.1, 0.1, 0.3, -0.3, 0.2, 0.1, 0.9]);
    const g = graphOf([{ name: 'fc', op: 'Gemm', w, dims: [2, 4], attrs: { transB: 1 } }]);
    const two = await l1Unstructured(g, { amount: 2, ...(await opts()) });
    expect(Array.from(weightOf(two.graph, 'fc'))).toEqual([0.5, 0, 0, 0.3, -0.3, 0.2, 0.1, 0.9].map(Math.fround));
    const three = await l1Unstructured(g, { amount: 3, ...(await opts()) });
    expect(zeroIdx(weightOf(three.graph, 'fc'))).toEqual([1, 2, 6]);
    const four = await l1Unstructured(g, { amount: 0.5, ...(await opts()) }); // round(0.5 * 8) = 4: then 0.2
    expect(zeroIdx(weightOf(four.graph, 'fc'))).toEqual([1, 2, 5, 6]);
    expect(four.report).toEqual({ method: 'l1Unstructured', skipped: [], layers: [{ node: 'fc', op: 'Gemm', paramsBefore: 8, paramsAfter: 8, nonZeroBefore: 8, nonZeroAfter: 4 }] });
    expect(Array.from(w)).toEqual([0.5, -0.1, 0.1, 0.3, -0.3, 0.2, 0.1, 0.9].map(Math.fround)); // input untouched
  });

  it('l1Unstructured matches a sort-based reference on many sizes, with heavy ties', async () => {
    const r = rng(7);
    for (let t = 0; t < 30; t++) {
      const n = t < 10 ? t + 1 : Math.floor(r() * 5000) + 1;
      const w = t % 2 ? tiedArray(n, t) : randomArray(n, t);
      const amount = t % 3 === 0 ? Math.floor(r() * (n + 1)) : Math.floor(r() * 1000) / 1000;
      const g = graphOf([{ name: 'm', op: 'MatMul', w, dims: [1, n] }]);
      const got = weightOf((await l1Unstructured(g, { amount, ...(await opts()) })).graph, 'm');
      const k = Number.isInteger(amount) ? amount : Math.round(amount * n);
      const want = lowest(abs(w), k);
      expect(zeroIdx(got), `n=${n} amount=${amount}`).toEqual(want);
      for (let i = 0; i < n; i++) if (got[i] !== 0) expect(got[i]).toBe(w[i]);
    }
  });

  it('exact counts per layer (fraction and count); 0 is bit-exact identity; biases untouched', async () => {
    const layers: LayerSpec[] = [
      { name: 'c1', op: 'Conv', w: randomArray(8 * 3 * 3 * 3, 1), dims: [8, 3, 3, 3], bias: randomArray(8, 11) },
      { name: 'c2', op: 'Conv', w: randomArray(6 * 4 * 3 * 3, 2), dims: [6, 4, 3, 3], attrs: { group: 2 } },
      { name: 'fc', op: 'Gemm', w: randomArray(10 * 54, 3), dims: [10, 54], attrs: { transB: 1 }, bias: randomArray(10, 12) },
      { name: 'mm', op: 'MatMul', w: randomArray(10 * 7, 4), dims: [10, 7] },
    ];
    const g = graphOf(layers);
    for (const amount of [0.3, 0.55, 0.999]) {
      const res = await l1Unstructured(g, { amount, ...(await opts()) });
      for (const l of layers) expect(zeros(weightOf(res.graph, l.name)), `${l.name} ${amount}`).toBe(Math.round(amount * l.w.length));
      expect(res.graph.initializers.get('c1.b')).toBe(g.initializers.get('c1.b'));
      expect(res.graph.initializers.get('fc.b')!.data).toEqual(layers[2].bias);
    }
    const counted = await l1Unstructured(g, { amount: 17, ...(await opts()) });
    for (const l of layers) expect(zeros(weightOf(counted.graph, l.name))).toBe(17);
    const id = await l1Unstructured(g, { amount: 0, ...(await opts()) });
    for (const l of layers) {
      const got = weightOf(id.graph, l.name);
      expect(got).not.toBe(l.w); // a new array ...
      expect(new Uint32Array(got.buffer)).toEqual(new Uint32Array(l.w.buffer)); // ... with the same bits
    }
    expect(id.graph).not.toBe(g);
    expect(remove(id.graph)).toBe(id.graph);
  });

  it('include / exclude pick the layers; others keep their tensors', async () => {
    const g = graphOf([
      { name: 'a', op: 'Gemm', w: randomArray(16, 1), dims: [4, 4], attrs: { transB: 1 } },
      { name: 'b', op: 'Gemm', w: randomArray(16, 2), dims: [4, 4] },
    ]);
    const inc = await l1Unstructured(g, { amount: 0.5, include: ['b'], ...(await opts()) });
    expect(inc.graph.initializers.get('a.w')).toBe(g.initializers.get('a.w'));
    expect(zeros(weightOf(inc.graph, 'b'))).toBe(8);
    const exc = await l1Unstructured(g, { amount: 0.5, exclude: ['b'], ...(await opts()) });
    expect(zeros(weightOf(exc.graph, 'a'))).toBe(8);
    expect(exc.report.layers.map((l) => l.node)).toEqual(['a']);
  });

  it('globalUnstructured: one threshold over all layers, exact total, l1 and l2', async () => {
    const layers: LayerSpec[] = [
      { name: 'c', op: 'Conv', w: tiedArray(4 * 2 * 3 * 3, 5), dims: [4, 2, 3, 3] },
      { name: 'f', op: 'Gemm', w: randomArray(9 * 13, 6, -0.5, 0.5), dims: [13, 9] },
      { name: 'm', op: 'MatMul', w: tiedArray(33 * 5, 7), dims: [33, 5] },
    ];
    const g = graphOf(layers);
    const all = layers.flatMap((l) => abs(l.w));
    for (const [amount, criterion] of [[0.4, 'l1'], [0.77, 'l2'], [100, 'l1'], [all.length, 'l2'], [0, 'l1']] as const) {
      const res = await globalUnstructured(g, { amount, criterion, ...(await opts()) });
      const got = layers.flatMap((l) => Array.from(weightOf(res.graph, l.name)));
      const k = Number.isInteger(amount) ? amount : Math.round(amount * all.length);
      const scores = criterion === 'l1' ? all : all.map((v) => Math.fround(v * v));
      expect(zeroIdx(got), `${amount} ${criterion}`).toEqual(lowest(scores, k));
      expect(res.report.layers.reduce((a, l) => a + l.nonZeroBefore - l.nonZeroAfter, 0)).toBe(k);
    }
    // per-layer sparsity differs: the small-magnitude Gemm loses most
    const res = await globalUnstructured(g, { amount: 0.5, criterion: 'l1', ...(await opts()) });
    const frac = (name: string) => zeros(weightOf(res.graph, name)) / weightOf(g, name).length;
    expect(frac('f')).toBeGreaterThan(frac('m'));
  });

  it('randomUnstructured: seeded, reproducible, exact counts', async () => {
    const g = graphOf([
      { name: 'a', op: 'Conv', w: randomArray(5 * 3 * 2 * 2, 1), dims: [5, 3, 2, 2] },
      { name: 'b', op: 'MatMul', w: randomArray(300, 2), dims: [30, 10] },
    ]);
    const run = async (seed: number, include?: string[]) => (await randomUnstructured(g, { amount: 0.4, seed, include, ...(await opts()) })).graph;
    const [x, y, z] = [await run(42), await run(42), await run(43)];
    for (const name of ['a', 'b']) {
      expect(weightOf(x, name)).toEqual(weightOf(y, name));
      expect(zeros(weightOf(x, name))).toBe(Math.round(0.4 * weightOf(g, name).length));
      expect(zeroIdx(weightOf(x, name))).not.toEqual(zeroIdx(weightOf(z, name)));
    }
    expect(weightOf(await run(42, ['b']), 'b')).toEqual(weightOf(x, 'b')); // a layer's mask ignores the others
    // not magnitude order: some pruned weight is larger than some kept one
    const b = weightOf(x, 'b'), w = weightOf(g, 'b');
    const maxPruned = Math.max(...zeroIdx(b).map((i) => Math.abs(w[i])));
    const minKept = Math.min(...Array.from(b).filter((v) => v !== 0).map(Math.abs));
    expect(maxPruned).toBeGreaterThan(minKept);
  });

  it('N:M keeps the N largest |w| of every M inputs of every output, in every layout', async () => {
    const specs: LayerSpec[] = [
      { name: 'conv', op: 'Conv', w: tiedArray(6 * 2 * 2 * 2, 1), dims: [6, 2, 2, 2] }, // I = 8
      { name: 'gT', op: 'Gemm', w: tiedArray(5 * 16, 2), dims: [5, 16], attrs: { transB: 1 } },
      { name: 'g', op: 'Gemm', w: tiedArray(16 * 3, 3), dims: [16, 3] }, // [K, N]
      { name: 'mm', op: 'MatMul', w: randomArray(24 * 7, 4), dims: [24, 7] },
      { name: 'ct', op: 'ConvTranspose', w: tiedArray(8 * 3 * 2 * 2, 5), dims: [8, 3, 2, 2], attrs: { group: 2 } }, // I = 4*4
      { name: 'odd', op: 'Gemm', w: randomArray(3 * 6, 6), dims: [3, 6], attrs: { transB: 1 } },
    ];
    const g = graphOf(specs);
    for (const [n, m] of [[2, 4], [1, 4], [3, 4], [4, 8], [2, 8], [4, 4]]) {
      const res = await nmSparsity(g, { n, m, ...(await opts()) });
      expect(res.report.skipped.map((s) => s.node)).toEqual(['odd']);
      for (const spec of specs) {
        const got = weightOf(res.graph, spec.name);
        const [O, I] = canonicalShape(spec);
        if (I % m !== 0) {
          expect(res.report.skipped.some((s) => s.node === spec.name && /multiple of/.test(s.reason))).toBe(true);
          expect(got).toBe(spec.w);
          continue;
        }
        const at = storageIndex(spec);
        for (let o = 0; o < O; o++) {
          for (let i0 = 0; i0 < I; i0 += m) {
            const idx = Array.from({ length: m }, (_, j) => at(o, i0 + j));
            const pruned = lowest(idx.map((s) => Math.abs(spec.w[s])), m - n);
            expect(idx.map((s) => got[s] === 0), `${spec.name} ${n}:${m} o=${o} i0=${i0}`).toEqual(idx.map((_, j) => pruned.includes(j)));
          }
        }
      }
    }
  });

  it('block 1x4 / 4x1: whole blocks, smallest L1 first, exact block counts', async () => {
    const specs: LayerSpec[] = [
      { name: 'conv', op: 'Conv', w: tiedArray(8 * 2 * 2 * 2, 1), dims: [8, 2, 2, 2] },
      { name: 'mm', op: 'MatMul', w: randomArray(12 * 8, 2), dims: [12, 8] },
      { name: 'odd', op: 'Gemm', w: randomArray(6 * 3, 3), dims: [6, 3], attrs: { transB: 1 } },
    ];
    const g = graphOf(specs);
    for (const block of ['1x4', '4x1'] as const) {
      for (const amount of [0.25, 0.6, 8]) {
        const res = await blockSparsity(g, { amount, block, ...(await opts()) });
        expect(res.report.skipped.map((s) => s.node)).toEqual(['odd']);
        for (const spec of specs.slice(0, 2)) {
          const got = weightOf(res.graph, spec.name);
          const [O, I] = canonicalShape(spec);
          const at = storageIndex(spec);
          const [bh, bw] = block === '1x4' ? [1, 4] : [4, 1];
          const scores: number[] = [];
          const prunedBlocks: boolean[] = [];
          for (let br = 0; br < O / bh; br++) {
            for (let bc = 0; bc < I / bw; bc++) {
              const idx: number[] = [];
              for (let r = 0; r < bh; r++) for (let c = 0; c < bw; c++) idx.push(at(br * bh + r, bc * bw + c));
              const a = idx.map((s) => Math.abs(spec.w[s]));
              scores.push(Math.fround(Math.fround(a[0] + a[1]) + Math.fround(a[2] + a[3])));
              const z = idx.map((s) => got[s] === 0);
              expect(z.every((v) => v === z[0]), `${spec.name} ${block} block ${br},${bc} is all or nothing`).toBe(true);
              prunedBlocks.push(z[0]);
            }
          }
          const k = Number.isInteger(amount) ? amount / 4 : Math.round(amount * scores.length);
          expect(prunedBlocks.flatMap((p, i) => (p ? [i] : [])), `${spec.name} ${block} ${amount}`).toEqual(lowest(scores, k));
        }
      }
    }
  });

  it('wandaUnstructured: |W| x ||X||, compared within each output', async () => {
    // row 0: |w| = 1, 2, 3, 4; norms 8, 1, 1, 1 → scores 8, 2, 3, 4: prune inputs 1, 2 (not 0, 1)
    // row 1: |w| = 4, 0.5, 1, 1; scores 32, 0.5, 1, 1 → prune 1, then the tie 2 before 3
    const w = new Float32Array([1, -2, 3, -4, 4, 0.5, -1, 1]);
    const g = graphOf([{ name: 'fc', op: 'Gemm', w, dims: [2, 4], attrs: { transB: 1 } }]);
    const activationNorms = new Map([['fc', new Float32Array([8, 1, 1, 1])]]);
    const res = await wandaUnstructured(g, { amount: 0.5, activationNorms, ...(await opts()) });
    expect(Array.from(weightOf(res.graph, 'fc'))).toEqual([1, 0, 0, -4, 4, 0, 0, 1]);
    // magnitude alone would prune input 0 of row 0 (|w| = 1) and keep inputs 1, 2
    expect(zeroIdx(weightOf((await l1Unstructured(g, { amount: 4, ...(await opts()) })).graph, 'fc'))).toEqual([0, 5, 6, 7]);
    // an odd count: the first rows take one more
    const odd = await wandaUnstructured(g, { amount: 3, activationNorms, ...(await opts()) });
    expect(zeroIdx(weightOf(odd.graph, 'fc'))).toEqual([1, 2, 5]);
  });

  it('wandaUnstructured matches a per-row reference on grouped Conv, ConvTranspose and MatMul', async () => {
    const specs: LayerSpec[] = [
      { name: 'conv', op: 'Conv', w: tiedArray(6 * 2 * 3 * 3, 1), dims: [6, 2, 3, 3], attrs: { group: 2 } }, // Cin = 4
      { name: 'ct', op: 'ConvTranspose', w: tiedArray(4 * 3 * 2 * 2, 2), dims: [4, 3, 2, 2], attrs: { group: 2 } }, // Cin = 4
      { name: 'mm', op: 'MatMul', w: randomArray(9 * 5, 3), dims: [9, 5] },
    ];
    const g = graphOf(specs);
    const activationNorms = new Map<string, Float32Array>([
      ['conv', new Float32Array([0.5, 2, 1, 3])], // per channel
      ['ct', randomArray(4 * 4, 4, 0, 2)], // per channel and tap
      ['mm', randomArray(9, 5, 0, 2)],
    ]);
    for (const amount of [0.3, 0.5, 7]) {
      const res = await wandaUnstructured(g, { amount, activationNorms, ...(await opts()) });
      for (const spec of specs) {
        const [O, I] = canonicalShape(spec);
        const at = storageIndex(spec);
        const norms = activationNorms.get(spec.name)!;
        const groups = spec.attrs?.group ?? 1;
        const taps = spec.op === 'MatMul' ? 1 : spec.dims.slice(2).reduce((a, b) => a * b, 1);
        const total = Number.isInteger(amount) ? amount : Math.round(amount * O * I);
        const got = weightOf(res.graph, spec.name);
        let left = total;
        for (let o = 0; o < O; o++) {
          const kr = Math.floor(total / O) + (o < total % O ? 1 : 0);
          left -= kr;
          const grp = Math.floor(o / (O / groups));
          const norm = (i: number) => (norms.length === groups * I ? norms[grp * I + i] : norms[Math.floor((grp * I + i) / taps)]);
          const scores = Array.from({ length: I }, (_, i) => Math.fround(Math.abs(spec.w[at(o, i)]) * norm(i)));
          const want = lowest(scores, kr);
          const gotRow = Array.from({ length: I }, (_, i) => i).filter((i) => got[at(o, i)] === 0);
          expect(gotRow, `${spec.name} amount=${amount} row ${o}`).toEqual(want);
        }
        expect(left).toBe(0);
      }
    }
    const partial = await wandaUnstructured(g, { amount: 0.5, activationNorms: new Map([['mm', activationNorms.get('mm')!]]), ...(await opts()) });
    expect(partial.report.skipped.map((s) => s.node)).toEqual(['conv', 'ct']);
  });

  it('typed errors that say the valid range', async () => {
    const g = graphOf([{ name: 'fc', op: 'Gemm', w: randomArray(8, 1), dims: [2, 4], attrs: { transB: 1 } }]);
    const o = await opts();
    await expect(l1Unstructured(g, { amount: -0.1, ...o })).rejects.toThrow(ArgumentError);
    await expect(l1Unstructured(g, { amount: -0.1, ...o })).rejects.toThrow(/negative.*\[0, 1\)/);
    await expect(l1Unstructured(g, { amount: 1.5, ...o })).rejects.toThrow(/fraction must be in \[0, 1\)/);
    await expect(l1Unstructured(g, { amount: Number.NaN, ...o })).rejects.toThrow(ArgumentError);
    await expect(l1Unstructured(g, { amount: 9, ...o })).rejects.toThrow(/larger than the 8 weights of layer 'fc'; use at most 8/);
    await expect(globalUnstructured(g, { amount: 9, criterion: 'l1', ...o })).rejects.toThrow(/larger than the 8 weights/);
    await expect(l1Unstructured(g, { amount: 0.5, include: ['nope'], ...o })).rejects.toThrow(/no prunable layer named 'nope'; the prunable layers are 'fc'/);
    await expect(l1Unstructured(g, { amount: 0.5, exclude: ['x'], ...o })).rejects.toThrow(ArgumentError);
    await expect(nmSparsity(g, { n: 3, m: 2, ...o })).rejects.toThrow(/m must be 4 or 8/);
    await expect(nmSparsity(g, { n: 5, m: 4, ...o })).rejects.toThrow(/n must be an integer in \[1, 4\]/);
    await expect(nmSparsity(g, { n: 0, m: 4, ...o })).rejects.toThrow(ArgumentError);
    await expect(blockSparsity(g, { amount: 3, block: '1x4', ...o })).rejects.toThrow(/multiple of the block size 4/);
    await expect(blockSparsity(g, { amount: 0.5, block: '2x2' as '1x4', ...o })).rejects.toThrow(/'1x4' or '4x1'/);
    await expect(randomUnstructured(g, { amount: 0.5, seed: 0.5, ...o })).rejects.toThrow(/seed must be an integer/);
    await expect(globalUnstructured(g, { amount: 0.5, criterion: 'l3' as 'l1', ...o })).rejects.toThrow(/'l1' or 'l2'/);
    const norms = (v: Float32Array) => ({ amount: 0.5, activationNorms: new Map([['fc', v]]), ...o });
    await expect(wandaUnstructured(g, norms(new Float32Array(3)))).rejects.toThrow(ShapeError);
    await expect(wandaUnstructured(g, { amount: 0.5, activationNorms: new Map([['other', new Float32Array(4)]]), ...o })).rejects.toThrow(/no prunable layer named 'other'/);
  });
});

describe('pruning an imported Conv → Relu → Gemm model', () => {
  it('reaches the sparsity asked for, leaves biases alone, and still runs like onnxruntime on the pruned weights', async () => {
    const Wc = randomArray(4 * 2 * 3 * 3, 1), Bc = randomArray(4, 2), Wg = randomArray(5 * 64, 3), Bg = randomArray(5, 4);
    const spec = (wc: Float32Array, wg: Float32Array): ModelSpec => ({
      nodes: [
        { op: 'Conv', inputs: ['x', 'wc', 'bc'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Relu', inputs: ['c'], outputs: ['r'] },
        { op: 'Flatten', inputs: ['r'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'wg', 'bg'], outputs: ['y'], attrs: { transB: 1 } },
      ],
      inputs: [{ name: 'x', dims: [1, 2, 4, 4] }],
      outputs: ['y'],
      initializers: [
        { name: 'wc', dims: [4, 2, 3, 3], data: wc },
        { name: 'bc', dims: [4], data: Bc },
        { name: 'wg', dims: [5, 64], data: wg },
        { name: 'bg', dims: [5], data: Bg },
      ],
    });
    const graph = importOnnx(buildModel(spec(Wc, Wg)));
    const k = await kernels('simd');
    for (const [what, res] of [
      ['l1 0.6', await l1Unstructured(graph, { amount: 0.6, kernels: k })],
      ['global 0.6', await globalUnstructured(graph, { amount: 0.6, criterion: 'l1', kernels: k })],
      ['2:4', await nmSparsity(graph, { n: 2, m: 4, kernels: k })],
    ] as const) {
      const wc = res.graph.initializers.get('wc')!.data as Float32Array;
      const wg = res.graph.initializers.get('wg')!.data as Float32Array;
      if (what === 'l1 0.6') {
        expect(zeros(wc)).toBe(Math.round(0.6 * 72));
        expect(zeros(wg)).toBe(Math.round(0.6 * 320));
      } else if (what === 'global 0.6') {
        expect(zeros(wc) + zeros(wg)).toBe(Math.round(0.6 * 392));
      } else {
        // the Conv's input vector (2 * 3 * 3 = 18) does not split into groups of 4
        expect(res.report.skipped).toEqual([{ node: graph.nodes[0].name, reason: 'input length 18 is not a multiple of 4' }]);
        expect(wc).toBe(graph.initializers.get('wc')!.data);
        expect(zeros(wg)).toBe(160);
      }
      expect(res.graph.initializers.get('bc')!.data).toEqual(Bc);
      expect(res.graph.initializers.get('bg')!.data).toEqual(Bg);
      expect(res.report.layers.map((l) => l.node)).toEqual(graph.nodes.filter((n) => n.op === 'Gemm' || (n.op === 'Conv' && what !== '2:4')).map((n) => n.name));
      const x = randomArray(32, 9);
      const want = (await runOrt(buildModel(spec(wc, wg)), { x: { data: x, dims: [1, 2, 4, 4] } })).y;
      const session = await InferenceSession.fromGraph(res.graph, { wasm: 'simd' });
      try {
        const got = await session.run({ x: { type: 'float32', data: x, dims: [1, 2, 4, 4] } });
        expectClose(got.y.data as Float32Array, want.data, what);
      } finally {
        await session.release();
      }
    }
    // the input graph is untouched
    expect(graph.initializers.get('wc')!.data).toEqual(Wc);
    expect(graph.initializers.get('wg')!.data).toEqual(Wg);
  });
});
