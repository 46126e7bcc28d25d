// The CLI over the real runtime: a small ONNX model built with onnx-proto, run through main(),
// outputs compared with onnxruntime-node on the same model. (The built launcher is tested in
// cli.test.ts only, so two test files never rebuild dist/cli at the same time.)
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../src/io/npy.js';
import { expectClose } from './util/close.js';
import { cli } from './util/cli.js';
import { buildModel, runOrt } from './util/onnx.js';
import { buildModel as buildHarness, runOrt as runHarnessOrt } from './conformance/harness.js';
import { randomArray } from './util/rng.js';

let dir: string;
let modelPath: string;
let model: Uint8Array;
const x = randomArray(8, 11);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgeprune-cli-e2e-'));
  model = buildModel({
    nodes: [
      { op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['logits:0'], attrs: { transB: 1 } },
      { op: 'Relu', inputs: ['logits:0'], outputs: ['probs/relu'] },
    ],
    inputs: [{ name: 'x', dims: [2, 4] }],
    outputs: ['logits:0', 'probs/relu'],
    initializers: [
      { name: 'w', dims: [3, 4], data: randomArray(12, 12) },
      { name: 'b', dims: [3], data: randomArray(3, 13) },
    ],
  });
  modelPath = join(dir, 'mlp.onnx');
  writeFileSync(modelPath, model);
  writeFileSync(join(dir, 'x.npy'), writeNpy('float64', [2, 4], Float64Array.from(x)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('edgeprune over the real InferenceSession', () => {
  it('run writes the outputs onnxruntime computes', async () => {
    const out = join(dir, 'out');
    const r = await cli(['run', modelPath, '--input', join(dir, 'x.npy'), '--out', out, '--wasm', 'simd']);
    expect(r.stderr).toBe(`edgeprune: note: input 'x' (${join(dir, 'x.npy')}) is float64; converted to float32\n`);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`wrote ${join(out, 'logits_0.npy')}  (output 'logits:0', float32 [2, 3])`);
    const want = await runOrt(model, { x: { data: x, dims: [2, 4] } });
    for (const [name, file] of [['logits:0', 'logits_0.npy'], ['probs/relu', 'probs_relu.npy']] as const) {
      const got = readNpy(new Uint8Array(readFileSync(join(out, file))));
      expect(got.dtype).toBe('float32');
      expect(got.dims).toEqual(want[name]!.dims);
      expectClose(got.data as Float32Array, want[name]!.data, name);
    }
  });

  it('run takes int64 token ids for an input the model declares int64, exactly, and refuses ids past 2^24', async () => {
    const emb = join(dir, 'emb.onnx');
    const bytes = buildHarness({
      opset: 13,
      nodes: [
        { op: 'Gather', inputs: ['table', 'ids'], outputs: ['e'], attrs: { axis: 0 } },
        { op: 'ReduceMean', inputs: ['e'], outputs: ['y'], attrs: { axes: [1], keepdims: 0 } },
      ],
      inputs: [{ name: 'ids', dims: ['batch', 'seq'], type: 'int64' }],
      outputs: ['y'],
      initializers: [{ name: 'table', dims: [40, 6], data: randomArray(240, 17) }],
    });
    writeFileSync(emb, bytes);
    const ids = [3, 39, 0, -1, 17, 8];
    writeFileSync(join(dir, 'ids.npy'), writeNpy('int64', [2, 3], BigInt64Array.from(ids, (v) => BigInt(v))));
    const r = await cli(['run', emb, '-i', join(dir, 'ids.npy'), '-o', join(dir, 'out-emb')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const ours = readNpy(new Uint8Array(readFileSync(join(dir, 'out-emb', 'y.npy'))));
    const ref = await runHarnessOrt(bytes, { ids: { data: Float32Array.from(ids), dims: [2, 3], type: 'int64' } });
    expect(ours.dims).toEqual([2, 6]);
    expectClose(ours.data as Float32Array, ref.y.data, 'y');
    writeFileSync(join(dir, 'big.npy'), writeNpy('int64', [1, 2], BigInt64Array.from([1n, 16777217n])));
    const big = await cli(['run', emb, '-i', join(dir, 'big.npy'), '-o', join(dir, 'out-big')]);
    expect(big.code).toBe(1);
    expect(big.stderr).toMatch(/^edgeprune: input 'ids': .*big\.npy holds 16777217 at position 1, past 2\^24 = 16777216/);
  });

  it('inspect --json reports the parameters', async () => {
    const r = await cli(['inspect', modelPath, '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as { params: number; inputs: { name: string; dims: number[] }[]; opCounts: Record<string, number> };
    expect(info.params).toBe(15);
    expect(info.inputs).toEqual([expect.objectContaining({ name: 'x', dims: [2, 4] })]);
    expect(info.opCounts).toEqual({ Gemm: 1, Relu: 1 });
  });

  it('inspect prints the table', async () => {
    const r = await cli(['inspect', modelPath]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^inputs +x {2}\[2, 4\]$/m);
    expect(r.stdout).toMatch(/^parameters +15 \(non-zero 15 = 100\.0%\)$/m);
  });

  it('inspect says when symbolic sizes (past the batch axis) were planned at 1, and --dim fixes them', async () => {
    const conv = join(dir, 'conv-symbolic.onnx');
    writeFileSync(conv, buildModel({
      nodes: [{ op: 'Conv', inputs: ['img', 'cw'], outputs: ['y'], attrs: { pads: [1, 1, 1, 1] } }],
      inputs: [{ name: 'img', dims: ['batch', 3, 'height', 'width'] }],
      outputs: ['y'],
      initializers: [{ name: 'cw', dims: [4, 3, 3, 3], data: randomArray(108, 14) }],
    }));
    const note = (out: string) => /^note +(.*)$/m.exec(out)?.[1];
    const plain = await cli(['inspect', conv]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^compute +216 FLOP per run$/m); // 2 * 4 * 27 at 1x1, hand-computed
    expect(note(plain.stdout)).toBe('compute and peak memory are planned with height, width at 1; give real sizes with --dim NAME=VALUE (e.g. --dim height=224 --dim width=224)');
    const one = await cli(['inspect', conv, '--dim', 'height=8']);
    expect(note(one.stdout)).toMatch(/planned with width at 1;/);
    const both = await cli(['inspect', conv, '--dim', 'height=8', '--dim', 'width=8']);
    expect(note(both.stdout)).toBeUndefined(); // the batch alone at 1 is the figure people expect
    expect(both.stdout).toMatch(/^compute +13\.8 kFLOP per run$/m); // 216 * 64
    // a --dim naming no symbolic dim of the model (a typo) is an error, not a dim planned at 1
    const pooledOut = join(dir, 'never-written.onnx');
    for (const args of [['inspect', conv], ['bench', conv, '--runs', '1'], ['prune', conv, '-m', 'l1-unstructured', '-a', '0.5', '-o', pooledOut]]) {
      const r = await cli([...args, '--dim', 'height=8', '--dim', 'widht=8']);
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr, args[0]).toBe("edgeprune: --dim widht: the model's inputs have no symbolic dim of that name; theirs are batch, height, width\n");
    }
    expect(existsSync(pooledOut)).toBe(false);
    // prune says it too, under its before / after table, and not once --dim gives the sizes
    const pruned = join(dir, 'conv-symbolic-pruned.epm');
    const p1 = await cli(['prune', conv, '-m', 'l1-unstructured', '-a', '0.5', '-o', pruned, '--dim', 'height=8']);
    expect(p1.code).toBe(0);
    expect(p1.stdout).toMatch(/^note: compute and peak memory are planned with width at 1; give real sizes with --dim NAME=VALUE/m);
    const p2 = await cli(['prune', conv, '-m', 'l1-unstructured', '-a', '0.5', '-o', pruned, '--dim', 'height=8', '--dim', 'width=8']);
    expect(p2.stdout).not.toMatch(/note:/);
    const fixed = await cli(['inspect', modelPath, '--dim', 'batch=3']);
    expect(fixed.stderr).toBe("edgeprune: --dim batch: the model's inputs have no symbolic dim of that name; their dims are all fixed\n");
  });

  it('run and eval take a model whose symbolic sizes cannot be 1 (no plan before the inputs are known)', async () => {
    const pooled = join(dir, 'pooled.onnx');
    const bytes = buildModel({
      nodes: [
        { op: 'Conv', inputs: ['img', 'pw'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'MaxPool', inputs: ['c'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
        { op: 'GlobalAveragePool', inputs: ['p'], outputs: ['g'] },
        { op: 'Flatten', inputs: ['g'], outputs: ['logits'] },
      ],
      inputs: [{ name: 'img', dims: ['batch', 2, 'height', 'width'] }],
      outputs: ['logits'],
      initializers: [{ name: 'pw', dims: [3, 2, 3, 3], data: randomArray(54, 15) }],
    });
    writeFileSync(pooled, bytes);
    const img = randomArray(2 * 2 * 8 * 6, 16);
    writeFileSync(join(dir, 'img.npy'), writeNpy('float32', [2, 2, 8, 6], img));
    const r = await cli(['run', pooled, '-i', join(dir, 'img.npy'), '-o', join(dir, 'out-pooled')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const ours = readNpy(new Uint8Array(readFileSync(join(dir, 'out-pooled', 'logits.npy'))));
    const ref = await runOrt(bytes, { img: { data: img, dims: [2, 2, 8, 6] } });
    expect(ours.dims).toEqual([2, 3]);
    expectClose(ours.data as Float32Array, ref.logits.data, 'logits');
    writeFileSync(join(dir, 'labels.npy'), writeNpy('int64', [2], new BigInt64Array([0n, 1n])));
    const e = await cli(['eval', pooled, '--data', join(dir, 'img.npy'), '--labels', join(dir, 'labels.npy'), '--json']);
    expect(e.stderr).toBe('');
    expect(e.code).toBe(0);
    expect(JSON.parse(e.stdout).samples).toBe(2);
    // without --dim the model has no plan: prune still prunes (it needs no shapes) and shows what
    // it cannot measure, inspect shows what the file says, bench (which must run it) stops
    const out = join(dir, 'pooled-pruned.onnx');
    const p = await cli(['prune', pooled, '-m', 'l1-unstructured', '-a', '0.5', '-o', out]);
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(/FLOPs per run +n\/a +n\/a/);
    expect(p.stdout).toMatch(/note: FLOPs and peak memory: with height, width at 1 the model does not fit \(.*\); give real sizes with --dim NAME=VALUE/);
    expect(existsSync(out)).toBe(true);
    const i = await cli(['inspect', pooled]);
    expect(i.code).toBe(0);
    expect(i.stdout).toMatch(/parameters +54 \(non-zero 54 = 100.0%\)/);
    expect(i.stdout).toMatch(/compute, memory +not planned: with height, width at 1 the model does not fit/);
    const j = JSON.parse((await cli(['inspect', pooled, '--json'])).stdout);
    expect(j).toMatchObject({ params: 54, opCounts: { Conv: 1, MaxPool: 1, GlobalAveragePool: 1, Flatten: 1 } });
    expect(j.note).toMatch(/--dim NAME=VALUE/);
    const b = await cli(['bench', pooled, '--runs', '2']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/^edgeprune: with height, width at 1 the model does not fit \(.*\); give real sizes with --dim NAME=VALUE \(e.g. --dim height=224 --dim width=224\)\n$/);
    rmSync(out);
    const q = await cli(['prune', pooled, '-m', 'l1-unstructured', '-a', '0.5', '--dim', 'height=8', '--dim', 'width=6', '-o', out]);
    expect(q.stderr).toBe('');
    expect(q.code).toBe(0);
    expect(q.stdout).not.toMatch(/n\/a/);
    // channel pruning traces shapes: without --dim a one-line error that asks for them; with the
    // height and width (the batch left symbolic, as inspect suggests) it prunes
    const twoConvs = join(dir, 'two-convs.onnx');
    writeFileSync(twoConvs, buildModel({
      nodes: [
        { op: 'Conv', inputs: ['img', 'w0'], outputs: ['c0'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Relu', inputs: ['c0'], outputs: ['r0'] },
        { op: 'MaxPool', inputs: ['r0'], outputs: ['p0'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
        { op: 'Conv', inputs: ['p0', 'w1'], outputs: ['c1'] },
        { op: 'GlobalAveragePool', inputs: ['c1'], outputs: ['g'] },
        { op: 'Flatten', inputs: ['g'], outputs: ['logits'] },
      ],
      inputs: [{ name: 'img', dims: ['batch', 2, 'height', 'width'] }],
      outputs: ['logits'],
      initializers: [{ name: 'w0', dims: [8, 2, 3, 3], data: randomArray(144, 17) }, { name: 'w1', dims: [3, 8, 1, 1], data: randomArray(24, 18) }],
    }));
    const chOut = join(dir, 'two-convs-half.onnx');
    const c0 = await cli(['prune', twoConvs, '-m', 'channel-l2', '-a', '0.5', '-o', chOut]);
    expect(c0.code).toBe(1);
    expect(c0.stderr).toMatch(/^edgeprune: structured pruning follows channels .* at 1 the model does not fit .*--dim NAME=VALUE\)\n$/);
    const c1 = await cli(['prune', twoConvs, '-m', 'channel-l2', '-a', '0.5', '--dim', 'height=8', '--dim', 'width=6', '-o', chOut]);
    expect(c1.stderr).toBe('');
    expect(c1.code).toBe(0);
    expect(c1.stdout).toMatch(/parameters +168 +84 /);
    expect(existsSync(out)).toBe(true);
  });

  it('bench times the model on random inputs at its declared dims, and against dense kernels with --compare', async () => {
    const r = await cli(['bench', modelPath, '--runs', '5', '--compare', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(j.inputs).toEqual([{ name: 'x', dims: [2, 4] }]);
    expect(j.runs).toBe(5);
    expect(j.flops).toBe(2 * 2 * 3 * 4 + 2 * 3); // Gemm [2, 4] x [4, 3] plus the bias; the Relu runs fused in its epilogue
    for (const k of ['createMs', 'firstRunMs', 'medianMs', 'p10Ms', 'p90Ms', 'denseMedianMs', 'speedup']) expect(j[k], k).toBeGreaterThan(0);
    expect(j.p10Ms as number).toBeLessThanOrEqual(j.p90Ms as number);
    const text = await cli(['bench', modelPath, '--runs', '3']);
    expect(text.stdout).toMatch(/^inputs +x {2}\[2, 4\] {2}\(random values\)$/m);
    expect(text.stdout).toMatch(/^latency +median [\d.]+ ms, p10 [\d.]+ ms, p90 [\d.]+ ms over 3 runs$/m);
    const bad = await cli(['bench', modelPath, '--runs', '0']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe("edgeprune: --runs must be a positive integer, got '0'\n");
  });

  it('a wrong input shape is the runtime-independent one-line error', async () => {
    writeFileSync(join(dir, 'bad.npy'), writeNpy('float32', [4], new Float32Array(4)));
    const r = await cli(['run', modelPath, '-i', join(dir, 'bad.npy'), '-o', join(dir, 'out2')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^edgeprune: input 'x': .*bad\.npy has shape \(4,\), the model expects \[2, 4\]\n$/);
  });
});
