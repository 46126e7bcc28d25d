// int8 weights inside sessions: quantizeGraph marks the weights, the session runs the int8 dot
// kernels for Gemm/MatMul and 1x1 convs (dequantized floats elsewhere), and the results stay
// within the activation-quantization bound of the same graph run in float32 (itself checked
// against onnxruntime on the dequantized ONNX export).
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { importOnnx } from '../src/onnx/import.js';
import { exportOnnx } from '../src/onnx/export.js';
import { writeArtifact } from '../src/format/index.js';
import { quantizeGraph } from '../src/graph/quant.js';
import { l1Unstructured } from '../src/prune/index.js';
import { buildModel, runOrt } from './util/onnx.js';
import { expectClose } from './util/close.js';
import { randomArray } from './util/rng.js';
import { FLAVORS } from './util/kernels.js';

const model = buildModel({
  nodes: [
    { op: 'Conv', inputs: ['x', 'w0', 'b0'], outputs: ['c0'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
    { op: 'Relu', inputs: ['c0'], outputs: ['r0'] },
    { op: 'Conv', inputs: ['r0', 'w1'], outputs: ['c1'], attrs: { kernel_shape: [1, 1] } },
    { op: 'BatchNormalization', inputs: ['c1', 's', 'sh', 'm', 'v'], outputs: ['n1'] },
    { op: 'Relu', inputs: ['n1'], outputs: ['r1'] },
    { op: 'GlobalAveragePool', inputs: ['r1'], outputs: ['p'] },
    { op: 'Flatten', inputs: ['p'], outputs: ['f'] },
    { op: 'Gemm', inputs: ['f', 'fw', 'fb'], outputs: ['h'], attrs: { transB: 1 } },
    { op: 'MatMul', inputs: ['h', 'mw'], outputs: ['y'] },
  ],
  inputs: [{ name: 'x', dims: [2, 8, 10, 10] }],
  outputs: ['y'],
  initializers: [
    { name: 'w0', dims: [32, 8, 3, 3], data: randomArray(32 * 72, 1, -0.3, 0.3) },
    { name: 'b0', dims: [32], data: randomArray(32, 2) },
    { name: 'w1', dims: [48, 32, 1, 1], data: randomArray(48 * 32, 3, -0.3, 0.3) },
    { name: 's', dims: [48], data: randomArray(48, 4, 0.5, 1.5) },
    { name: 'sh', dims: [48], data: randomArray(48, 5) },
    { name: 'm', dims: [48], data: randomArray(48, 6) },
    { name: 'v', dims: [48], data: randomArray(48, 7, 0.5, 1.5) },
    { name: 'fw', dims: [40, 48], data: randomArray(40 * 48, 8, -0.3, 0.3) },
    { name: 'fb', dims: [40], data: randomArray(40, 9) },
    { name: 'mw', dims: [40, 12], data: randomArray(480, 10, -0.3, 0.3) },
  ],
});
const dims = [2, 8, 10, 10];
const x = randomArray(1600, 11);

describe.each(FLAVORS)('int8 weights in a session (%s)', (wasm) => {
  it('runs the int8 kernels on quantized Gemm, MatMul and 1x1 conv weights, close to float32 on the same values', async () => {
    const { graph: q, report } = quantizeGraph(importOnnx(model));
    expect(report.quantized.length).toBe(4);
    // the float reference: the dequantized weights as plain ONNX, in onnxruntime
    const onnx = exportOnnx(q);
    const want = (await runOrt(onnx, { x: { data: x, dims } })).y.data;
    const s = await InferenceSession.create(writeArtifact(q), { wasm });
    const kernels = s.info().nodes.filter((n) => n.choice).map((n) => n.kernel);
    expect(kernels).toEqual(['conv:winograd', 'conv:int8-1x1+bn', 'gemm:int8', 'matmul:int8']);
    expect(s.info().nodes.find((n) => n.kernel === 'gemm:int8')!.choice).toMatch(/^dense int8 \(.*int8 kernel predicted at 0\.65x the f32 dense time/);
    const got = (await s.run({ x: new Tensor('float32', x, dims) })).y.data;
    // activations go to int16 per column/row: a relative error well under 1e-3 of the output scale
    const scale = Math.max(...Array.from(want, Math.abs));
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(2e-3 * scale);
    // the sparse kernels run the dequantized floats: the float result to the usual tolerance
    const f = await InferenceSession.create(writeArtifact(q), { wasm, kernels: 'sparse' });
    expectClose((await f.run({ x: new Tensor('float32', x, dims) })).y.data, want, 'sparse kernels on int8 values');
  });

  it('sparse + int8: a 90%-pruned, quantized model picks sparse kernels and its artifact is under 0.2x the dense ONNX', async () => {
    const pruned = (await l1Unstructured(importOnnx(model), { amount: 0.9 })).graph;
    const { graph: q } = quantizeGraph(pruned);
    const artifact = writeArtifact(q);
    expect(artifact.length).toBeLessThan(0.2 * model.length);
    const want = (await runOrt(exportOnnx(q), { x: { data: x, dims } })).y.data;
    const s = await InferenceSession.create(artifact, { wasm });
    expect(s.info().nodes.filter((n) => n.kernel.includes('sparse')).length).toBeGreaterThan(0);
    const got = (await s.run({ x: new Tensor('float32', x, dims) })).y.data;
    const scale = Math.max(...Array.from(want, Math.abs));
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(2e-3 * scale);
  });
});
