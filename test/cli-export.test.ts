// `edgeprune export` converts .epm <-> .onnx (the ONNX dense, loadable by onnxruntime), and
// `inspect --layers` / `--kernels` show and force the dense-or-sparse choice per layer.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { expectClose } from './util/close.js';
import { cli } from './util/cli.js';
import { buildModel, runOrt } from './util/onnx.js';
import { randomArray } from './util/rng.js';
import { readNpy, writeNpy } from '../src/io/npy.js';

let dir: string;
let modelPath: string;
const dims = [1, 8, 12, 12];
const x = randomArray(8 * 144, 5);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgeprune-cli-export-'));
  writeFileSync((modelPath = join(dir, 'net.onnx')), buildModel({
    nodes: [
      { op: 'Conv', inputs: ['x', 'w0', 'b0'], outputs: ['c0'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['c0'], outputs: ['r0'] },
      { op: 'Conv', inputs: ['r0', 'w1'], outputs: ['c1'] },
      { op: 'GlobalAveragePool', inputs: ['c1'], outputs: ['p'] },
      { op: 'Flatten', inputs: ['p'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'fw', 'fb'], outputs: ['y'], attrs: { transB: 1 } },
    ],
    inputs: [{ name: 'x', dims }],
    outputs: ['y'],
    initializers: [
      { name: 'w0', dims: [32, 8, 3, 3], data: randomArray(32 * 72, 1) },
      { name: 'b0', dims: [32], data: randomArray(32, 2) },
      { name: 'w1', dims: [64, 32, 1, 1], data: randomArray(64 * 32, 3) },
      { name: 'fw', dims: [10, 64], data: randomArray(640, 4) },
      { name: 'fb', dims: [10], data: randomArray(10, 6) },
    ],
  }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function ours(bytes: Uint8Array): Promise<Float32Array> {
  const s = await InferenceSession.create(bytes);
  return (await s.run({ x: new Tensor('float32', x, dims) })).y.data as Float32Array;
}

describe('edgeprune export', () => {
  it('turns a pruned .epm into dense ONNX that onnxruntime runs to the same outputs, and back', async () => {
    const epm = join(dir, 'pruned.epm');
    expect((await cli(['prune', modelPath, '-m', 'global-l1', '-a', '0.92', '-o', epm])).code).toBe(0);
    const onnx = join(dir, 'back.onnx');
    const r = await cli(['export', epm, '--out', onnx]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/read\s+.*pruned\.epm\s+\(edgeprune artifact, /);
    expect(r.stdout).toMatch(/wrote\s+.*back\.onnx\s+\(ONNX, /);
    const onnxBytes = readFileSync(onnx);
    const epmBytes = readFileSync(epm);
    expect(epmBytes.length).toBeLessThan(onnxBytes.length * 0.4); // 8% of the weights left, stored sparsely
    const want = (await runOrt(onnxBytes, { x: { data: x, dims } })).y.data;
    const fromEpm = await ours(epmBytes);
    expectClose(fromEpm, want, 'epm vs onnxruntime on the exported onnx');
    expect(await ours(onnxBytes)).toEqual(fromEpm); // same graph, same kernels: bit-identical
    // and ONNX -> artifact again gives the same bytes as the prune wrote
    const again = join(dir, 'again.epm');
    expect((await cli(['export', onnx, '-o', again])).code).toBe(0);
    expect(await ours(readFileSync(again))).toEqual(fromEpm);
  });

  it('reports a missing or corrupted input in one line with a non-zero exit', async () => {
    const missing = await cli(['export', join(dir, 'nope.epm'), '-o', join(dir, 'x.onnx')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/nope\.epm/);
    const epm = join(dir, 'pruned.epm');
    const bad = new Uint8Array(readFileSync(epm));
    bad[bad.length - 20] ^= 0xff; // inside the tensor data: the checksum no longer matches
    const badPath = join(dir, 'bad.epm');
    writeFileSync(badPath, bad);
    const r = await cli(['export', badPath, '-o', join(dir, 'x.onnx')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/checksum|corrupt/i);
  });
});

describe('inspect --layers and --kernels', () => {
  it('lists the kernel of each layer with weights and why; --kernels forces one', async () => {
    const epm = join(dir, 'sparse.epm');
    expect((await cli(['prune', modelPath, '-m', 'l1-unstructured', '-a', '0.95', '-o', epm])).code).toBe(0);
    const auto = await cli(['inspect', epm, '--layers']);
    expect(auto.code).toBe(0);
    expect(auto.stdout).toMatch(/sparse in [1-3] of 3 layers with weights/);
    expect(auto.stdout).toMatch(/conv:sparse-direct\s+sparse \(9\d\.\d% zeros; sparse predicted at 0\.\d\dx the dense time[;)]/);
    const dense = await cli(['inspect', epm, '--layers', '--kernels', 'dense']);
    expect(dense.stdout).toMatch(/sparse in 0 of 3 layers/);
    expect(dense.stdout).toMatch(/dense \(forced\)/);
    const bad = await cli(['inspect', epm, '--kernels', 'fast']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/auto, dense, sparse, slim/);
  });

  it('run --kernels sparse gives the outputs of the dense kernels within float tolerance', async () => {
    const epm = join(dir, 'pruned.epm');
    const xPath = join(dir, 'x.npy');
    writeFileSync(xPath, writeNpy('float32', dims, x));
    for (const k of ['dense', 'sparse']) expect((await cli(['run', epm, '-i', xPath, '-o', join(dir, k), '--kernels', k])).code).toBe(0);
    const d = readNpy(readFileSync(join(dir, 'dense', 'y.npy'))).data as Float32Array;
    const s = readNpy(readFileSync(join(dir, 'sparse', 'y.npy'))).data as Float32Array;
    expectClose(s, d, 'sparse vs dense kernels');
  });
});

describe('prune --int8', () => {
  it('writes int8 weights: a smaller artifact, outputs within the quantization bound, ONNX with the dequantized floats', async () => {
    const plain = join(dir, 'p90.epm');
    const q = join(dir, 'p90-int8.epm');
    const qOnnx = join(dir, 'p90-int8.onnx');
    expect((await cli(['prune', modelPath, '-m', 'l1-unstructured', '-a', '0.9', '-o', plain])).code).toBe(0);
    const r = await cli(['prune', modelPath, '-m', 'l1-unstructured', '-a', '0.9', '--int8', '-o', q]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/l1-unstructured pruning \+ int8 weights of/);
    expect((await cli(['prune', modelPath, '-m', 'l1-unstructured', '-a', '0.9', '--int8', '-o', qOnnx])).code).toBe(0);
    const qBytes = readFileSync(q);
    // a 13 kB model: the graph's own bytes weigh more here than in real models (see test/format-int8)
    expect(qBytes.length).toBeLessThan(readFileSync(plain).length * 0.9);
    expect(qBytes.length).toBeLessThan(readFileSync(modelPath).length * 0.25);
    const want = (await runOrt(readFileSync(qOnnx), { x: { data: x, dims } })).y.data;
    const got = await ours(qBytes);
    const scale = Math.max(...Array.from(want, Math.abs));
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(2e-3 * scale);
  });
});
