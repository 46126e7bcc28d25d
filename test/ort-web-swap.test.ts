// The contract of the runtime API: code written for onnxruntime-web runs on edgeprune with only the
// import changed. One script, run twice in fresh Node processes (import * as ort from
// 'onnxruntime-web', then from 'edgeprune'), must print the same names and shapes and outputs
// within 1e-5.
import { expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { smallCnn } from './util/small-cnn.js';

const script = (lib: string, model: string) => `
import * as ort from '${lib}';
ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';
const session = await ort.InferenceSession.create(${JSON.stringify(model)}, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
const x = new ort.Tensor('float32', Float32Array.from({ length: 2 * 64 }, (_, i) => Math.sin(i)), [2, 1, 8, 8]);
const all = await session.run({ [session.inputNames[0]]: x });
const some = await session.run({ [session.inputNames[0]]: x }, [session.outputNames[1]]);
const r = all[session.outputNames[0]].reshape([2, 5]);
console.log(JSON.stringify({
  inputs: session.inputNames, outputs: session.outputNames,
  inputShape: session.inputMetadata?.[0]?.shape,
  dims: session.outputNames.map((n) => all[n].dims), types: session.outputNames.map((n) => all[n].type), size: x.size,
  fetched: Object.keys(some), reshaped: r.dims,
  values: session.outputNames.map((n) => Array.from(all[n].data)),
  data: Array.from(await all[session.outputNames[1]].getData()),
}));
await session.release();`;

it('a script written for onnxruntime-web runs on edgeprune with only the import changed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeprune-swap-'));
  const model = join(dir, 'cnn.onnx');
  writeFileSync(model, smallCnn(['y', 'p']));

  const run = (lib: string) => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script(lib, model)], { encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname });
    expect(r.status, `${lib}: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  };
  const ort = run('onnxruntime-web');
  const ours = run('edgeprune');
  const { values: ov, data: od, ...oRest } = ort;
  const { values: ev, data: ed, ...eRest } = ours;
  expect(eRest).toEqual(oRest);
  expect(eRest.fetched).toEqual(['p']);
  (ov as number[][]).forEach((o, i) => o.forEach((v, j) => expect(Math.abs(ev[i][j] - v)).toBeLessThanOrEqual(1e-5)));
  expect(ed).toEqual(ev[1]);
  expect(od.length).toBe(ed.length);
});
