// `edgeprune compile`: writes a compiled model that edgeprune/runtime runs as the full runtime runs
// the source, prints what it wrote, and refuses an ONNX output name or missing --dim in one line.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './util/cli.js';
import { prunedModel } from './util/runtimes.js';
import { ppocrClassifier } from '../bench/model-zoo.js';
import { InferenceSession as Compiled } from '../src/runtime-compiled/session.js';
import { InferenceSession, Tensor } from '../src/index.js';

describe('edgeprune compile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeprune-cli-compile-'));

  it('writes OUT.epc for the pruned .epm; edgeprune/runtime gives the full runtime’s outputs bit for bit', async () => {
    const epm = join(dir, 'pruned.epm');
    writeFileSync(epm, await prunedModel());
    const r = await cli(['compile', epm, '--out', join(dir, 'pruned.epc')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wrote\s+.*pruned\.epc\s+\(compiled model/);
    expect(r.stdout).toMatch(/inputs\s+x \[1, 1, 28, 28\]/);
    expect(r.stdout).toMatch(/\d+ kernel calls a run, simd build/);
    const x = new Tensor('float32', Float32Array.from({ length: 784 }, (_, i) => (i % 17) / 17), [1, 1, 28, 28]);
    const a = await (await Compiled.create(readFileSync(join(dir, 'pruned.epc')), { wasm: 'simd' })).run({ x });
    const b = await (await InferenceSession.create(readFileSync(epm), { wasm: 'simd' })).run({ x });
    expect(Array.from(a.logits.data)).toEqual(Array.from(b.logits.data));
  });

  it('an ONNX with free height and width: --dim sizes it; without, one line naming the dims', async () => {
    const onnx = join(dir, 'cls.onnx');
    writeFileSync(onnx, ppocrClassifier().bytes);
    const bad = await cli(['compile', onnx, '--out', join(dir, 'nodims.epc')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/give the symbolic dims p2o\.DynamicDimension\.1, p2o\.DynamicDimension\.2 their sizes/);
    expect(existsSync(join(dir, 'nodims.epc'))).toBe(false);
    const ok = await cli(['compile', onnx, '--out', join(dir, 'cls.epc'), '--dim', 'p2o.DynamicDimension.1=48', '--dim', 'p2o.DynamicDimension.2=192']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/inputs\s+x \[1, 3, 48, 192\]/);
  }, 30_000);

  it('inspect, run and bench take the compiled model at its fixed dims; --kernels or --dim that would change it are refused', async () => {
    const epm = join(dir, 'p2.epm');
    writeFileSync(epm, await prunedModel());
    const epc = join(dir, 'p2.epc');
    expect((await cli(['compile', epm, '--out', epc])).code).toBe(0);
    const info = await cli(['inspect', epc, '--json']);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ params: 26700, inputs: [{ name: 'x', dims: [1, 1, 28, 28] }] });
    const { writeNpy } = await import('../src/io/npy.js');
    const x = Float32Array.from({ length: 784 }, (_, i) => (i % 13) / 13);
    writeFileSync(join(dir, 'x.npy'), writeNpy('float32', [1, 1, 28, 28], x));
    for (const [model, out] of [[epc, 'o1'], [epm, 'o2']]) expect((await cli(['run', model, '--input', `x=${join(dir, 'x.npy')}`, '--out', join(dir, out), '--wasm', 'simd'])).code).toBe(0);
    expect(readFileSync(join(dir, 'o1', 'logits.npy'))).toEqual(readFileSync(join(dir, 'o2', 'logits.npy')));
    const bench = await cli(['bench', epc, '--runs', '5']);
    expect(bench.code, bench.stderr).toBe(0);
    expect(bench.stdout).toMatch(/latency\s+median/);
    expect((await cli(['bench', epc, '--compare'])).stderr).toMatch(/a compiled model runs the kernels chosen when it was compiled/);
    expect((await cli(['inspect', epc, '--dim', 'N=2'])).stderr).toMatch(/no symbolic dim of that name; their dims are all fixed/);
  });

  it('an output named .onnx: one line saying a compiled model is not ONNX', async () => {
    const epm = join(dir, 'p.epm');
    writeFileSync(epm, await prunedModel());
    const r = await cli(['compile', epm, '--out', join(dir, 'x.onnx')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/a compiled model is not ONNX; name it OUT\.epc/);
  });
});
