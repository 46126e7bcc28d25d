// Deno (the npm `deno` package's binary) runs examples/deno/classify.ts, which loads a pruned .epm
// through edgeprune/runtime/dynamic (dist/runtime-dynamic/index.mjs, mapped by examples/deno/deno.json),
// and edgeprune/runtime (dist/runtime/index.mjs) runs the same model compiled for it; outputs are
// compared with Node's: bit-identical with the simd kernels, within 1e-5 with relaxed.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, bits, compiledModel, findDeno, inputs, maxAbsDiff, nodeOutputs, prunedModel, runtimeOrSkip, writeFixture } from './util/runtimes.js';

const deno = runtimeOrSkip('deno', findDeno, 'npm install (the `deno` devDependency ships the binary)');

describe.skipIf(!deno)('Deno runs edgeprune/runtime/dynamic and edgeprune/runtime', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeprune-deno-'));
  const feeds = inputs(4);
  let files: { model: string; inputs: string };
  let model: Uint8Array;

  beforeAll(async () => {
    model = await prunedModel();
    files = writeFixture(dir, model, feeds);
  });

  function classify(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(deno!, ['run', '--allow-read', '--no-prompt', '--config', join(ROOT, 'examples/deno/deno.json'), join(ROOT, 'examples/deno/classify.ts'), ...args], {
      encoding: 'utf8',
      timeout: 30_000,
      // a fresh cache: nothing from the user's DENO_DIR, nothing written into it
      env: { ...process.env, DENO_DIR: join(dir, 'deno-dir'), NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('edgeprune/runtime runs the compiled model: simd bit-identical to Node, auto (relaxed) within 1e-5', async () => {
    const { writeFileSync } = await import('node:fs');
    const { compiled, source } = await compiledModel();
    writeFileSync(join(dir, 'model.epc'), compiled);
    const script = join(dir, 'compiled.ts');
    writeFileSync(script, `import { InferenceSession, Tensor } from ${JSON.stringify(new URL('../dist/runtime/index.mjs', import.meta.url).href)};
      const feeds = JSON.parse(await Deno.readTextFile(${JSON.stringify(files.inputs)}));
      const result = {};
      for (const wasm of ['simd', 'auto']) {
        const s = await InferenceSession.create(${JSON.stringify(join(dir, 'model.epc'))}, { wasm });
        const outputs = [];
        for (const f of feeds) outputs.push(Array.from((await s.run({ x: new Tensor('float32', Float32Array.from(f.data), f.dims) })).logits.data));
        result[wasm] = { kernels: s.info().kernels, outputs };
      }
      console.log(JSON.stringify(result));`);
    const r = spawnSync(deno!, ['run', '--allow-read', '--no-prompt', script], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, DENO_DIR: join(dir, 'deno-dir'), NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' } });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as Record<string, { kernels: string; outputs: number[][] }>;
    expect(got.simd.kernels).toBe('simd');
    expect(got.auto.kernels).toBe('relaxed');
    const simd = await nodeOutputs(source, feeds, 'simd');
    const relaxed = await nodeOutputs(source, feeds, 'relaxed');
    got.simd.outputs.forEach((o, i) => expect(bits(o)).toEqual(bits(simd[i].logits)));
    got.auto.outputs.forEach((o, i) => expect(maxAbsDiff(o, relaxed[i].logits)).toBeLessThanOrEqual(1e-5));
  });

  it('simd kernels: outputs bit-identical to Node', async () => {
    const r = classify(files.model, files.inputs, '--wasm', 'simd', '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const got = JSON.parse(r.stdout) as { kernels: string; outputs: Record<string, number[]>[] };
    expect(got.kernels).toBe('simd');
    const want = await nodeOutputs(model, feeds, 'simd');
    expect(got.outputs).toHaveLength(feeds.length);
    got.outputs.forEach((o, i) => expect(bits(o.logits)).toEqual(bits(want[i].logits)));
  });

  it("'auto' picks relaxed SIMD in Deno: outputs within 1e-5 of Node's relaxed kernels", async () => {
    const r = classify(files.model, files.inputs, '--json');
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { kernels: string; outputs: Record<string, number[]>[] };
    expect(got.kernels).toBe('relaxed');
    const want = await nodeOutputs(model, feeds, 'relaxed');
    got.outputs.forEach((o, i) => expect(maxAbsDiff(o.logits, want[i].logits)).toBeLessThanOrEqual(1e-5));
  });

  it('prints a prediction for a person, and a typed error (no stack) for an ONNX file', async () => {
    const ok = classify(files.model);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/5\d{3} of 26700 weights non-zero, relaxed kernels/);
    expect(ok.stdout).toMatch(/input 0: class \d/);
    const { writeFileSync } = await import('node:fs');
    const { buildModel } = await import('./util/onnx-build.js');
    writeFileSync(join(dir, 'm.onnx'), buildModel({ nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], inputs: [{ name: 'x', dims: [1, 4] }], outputs: ['y'] }));
    const bad = classify(join(dir, 'm.onnx'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^error: edgeprune\/runtime loads \.epm artifacts only.*edgeprune export model\.onnx --out model\.epm/);
  });

  it('a model with free height and width: --dim sizes its test pattern, and without it one line says so', async () => {
    const { writeFileSync } = await import('node:fs');
    const { buildModel } = await import('./util/onnx-build.js');
    const { importOnnx } = await import('../src/onnx/import.js');
    const { writeArtifact } = await import('../src/format/index.js');
    const free = buildModel({
      nodes: [
        { op: 'MaxPool', inputs: ['x'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
        { op: 'GlobalAveragePool', inputs: ['p'], outputs: ['g'] },
        { op: 'Flatten', inputs: ['g'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dims: ['N', 3, 'H', 'W'] }],
      outputs: ['y'],
    });
    writeFileSync(join(dir, 'free.epm'), writeArtifact(importOnnx(free)));
    const bad = classify(join(dir, 'free.epm'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^error: with its free input dims at 1 the model does not fit \(.*\); give them with --dim NAME=VALUE, or inputs\.json\n$/);
    const ok = classify(join(dir, 'free.epm'), '--dim', 'H=8', '--dim', 'W=6');
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/input 0: class \d/);
  });
});
