// The package's main entry, as a user imports it (`import ... from 'edgeprune'`), runs a model.
import { expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel } from './util/onnx-build.js';

it("import { InferenceSession, Tensor } from 'edgeprune' works from the built bundle", () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeprune-entry-'));
  const model = join(dir, 'm.onnx');
  writeFileSync(model, buildModel({ nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], inputs: [{ name: 'x', dims: [1, 4] }], outputs: ['y'] }));
  const script = `import { InferenceSession, Tensor } from 'edgeprune';
    import { readFileSync } from 'node:fs';
    const s = await InferenceSession.create(readFileSync(${JSON.stringify(model)}));
    const out = await s.run({ x: new Tensor('float32', new Float32Array([-1, 2, -3, 4]), [1, 4]) });
    console.log(JSON.stringify(Array.from(out.y.data)));`;
  // run from the package root so the self-reference 'edgeprune' resolves through package.json "exports"
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname });
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toEqual([0, 2, 0, 4]);
});
