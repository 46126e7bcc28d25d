// The package's main entry, as a user imports it (`import ... from 'edgeprune'`), runs a model.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, writeFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

it("edgeprune/runtime/dynamic runs .epm artifacts, carries no ONNX parser, and says how to convert an ONNX file", async () => {
  const { writeArtifact } = await import('../src/format/index.js');
  const { importOnnx } = await import('../src/onnx/import.js');
  const { readFileSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'edgeprune-runtime-'));
  const onnx = buildModel({ nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], inputs: [{ name: 'x', dims: [1, 4] }], outputs: ['y'] });
  writeFileSync(join(dir, 'm.onnx'), onnx);
  writeFileSync(join(dir, 'm.epm'), writeArtifact(importOnnx(onnx)));
  const script = `import { InferenceSession, Tensor, ModelFormatError } from 'edgeprune/runtime/dynamic';
    import { readFileSync } from 'node:fs';
    const s = await InferenceSession.create(readFileSync(${JSON.stringify(join(dir, 'm.epm'))}));
    const out = await s.run({ x: new Tensor('float32', new Float32Array([-1, 2, -3, 4]), [1, 4]) });
    let err;
    try { await InferenceSession.create(readFileSync(${JSON.stringify(join(dir, 'm.onnx'))})); } catch (e) { err = e; }
    console.log(JSON.stringify({ y: Array.from(out.y.data), typed: err instanceof ModelFormatError, message: err.message }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname });
  expect(r.stderr).toBe('');
  const j = JSON.parse(r.stdout);
  expect(j.y).toEqual([0, 2, 0, 4]);
  expect(j.typed).toBe(true);
  expect(j.message).toMatch(/loads \.epm artifacts only.*edgeprune export model\.onnx --out model\.epm/);
  // the bundle holds none of the ONNX importer's code nor protobufjs
  for (const f of ['../dist/runtime-dynamic/index.mjs', '../dist/runtime/index.mjs']) {
    const bundle = readFileSync(new URL(f, import.meta.url), 'utf8');
    expect(bundle, f).not.toMatch(/protobuf decode failed|protobufjs|not an ONNX model/);
  }
});

it("compileModel from 'edgeprune' writes what 'edgeprune/runtime' runs, as the package's users import them", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeprune-compiled-'));
  const onnx = buildModel({ nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], inputs: [{ name: 'x', dims: ['N', 4] }], outputs: ['y'] });
  writeFileSync(join(dir, 'm.onnx'), onnx);
  const script = `import { compileModel } from 'edgeprune';
    import { InferenceSession, Tensor } from 'edgeprune/runtime';
    import { readFileSync } from 'node:fs';
    const compiled = await compileModel(readFileSync(${JSON.stringify(join(dir, 'm.onnx'))}), { freeDimensionOverrides: { N: 2 } });
    const s = await InferenceSession.create(compiled);
    const out = await s.run({ x: new Tensor('float32', new Float32Array([-1, 2, -3, 4, 5, -6, 7, -8]), [2, 4]) });
    console.log(JSON.stringify({ y: Array.from(out.y.data), dims: out.y.dims }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname });
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toEqual({ y: [0, 2, 0, 4, 5, 0, 7, 0], dims: [2, 4] });
});

it("edgeprune/train and edgeprune/fit are their own entries; 'edgeprune' does not load them", () => {
  const script = `import { sequential, conv2d, relu, flatten, linear, Trainer } from 'edgeprune/train';
    import { fit } from 'edgeprune/fit';
    import * as main from 'edgeprune';
    const g = sequential([1, 8, 8], [conv2d(4, 3), relu(), flatten(), linear(3)]);
    console.log(JSON.stringify({ ops: g.nodes.map((n) => n.op), trainer: typeof Trainer.create, fit: typeof fit, mainHasTrainer: 'Trainer' in main, mainHasFit: 'fit' in main }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname });
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toEqual({ ops: ['Conv', 'Relu', 'Flatten', 'Gemm'], trainer: 'function', fit: 'function', mainHasTrainer: false, mainHasFit: false });
});

it("'edgeprune/fit' and 'edgeprune/train' throw the error classes 'edgeprune' exports (one shared copy of the code)", () => {
  const script = `import * as lib from 'edgeprune';
    import { fit } from 'edgeprune/fit';
    import { datasetFromNpy } from 'edgeprune/train';
    const errors = [];
    try { await fit(null, {}, {}); } catch (e) { errors.push(e); }
    try { datasetFromNpy(new Uint8Array(3), new Uint8Array(3)); } catch (e) { errors.push(e); }
    console.log(JSON.stringify(errors.map((e) => ({ name: e.name, shared: e instanceof lib.EdgepruneError && e instanceof lib[e.name] }))));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname });
  expect(r.stderr).toBe('');
  const errors = JSON.parse(r.stdout) as { name: string; shared: boolean }[];
  expect(errors).toHaveLength(2);
  for (const e of errors) expect(e.shared, e.name).toBe(true);
});

it("the split ESM build (Deno, bundlers, node --no-addons) parses no pruning code until a pruning method is first called, then prunes", () => {
  // the chunks dist/lib/index.mjs imports statically, transitively: what every import of 'edgeprune' parses there
  const dist = new URL('../dist/', import.meta.url);
  const staticClosure = new Set<string>();
  const visit = (file: URL) => {
    if (staticClosure.has(file.href)) return;
    staticClosure.add(file.href);
    const code = readFileSync(file, 'utf8');
    for (const m of code.matchAll(/from\s*"(\.[^"]+)"/g)) visit(new URL(m[1], file));
  };
  visit(new URL('lib/index.mjs', dist));
  const parsed = [...staticClosure].map((f) => readFileSync(new URL(f), 'utf8')).join('\n');
  // the pruning methods' own code (their report texts) is absent; it sits in a chunk loaded by import()
  expect(parsed).not.toMatch(/`globalUnstructured\(|"ln_structured"/);
  expect(parsed).toMatch(/import\("\.\/prune-[\w-]+\.mjs"\)/);

  const dir = mkdtempSync(join(tmpdir(), 'edgeprune-lazy-'));
  const model = join(dir, 'm.onnx');
  const w = Array.from({ length: 12 }, (_, i) => (i % 2 ? 1 : -1) * (i + 1));
  writeFileSync(model, buildModel({
    nodes: [{ op: 'Gemm', inputs: ['x', 'w'], outputs: ['y'], attrs: { transB: 1 } }],
    inputs: [{ name: 'x', dims: [1, 4] }], outputs: ['y'],
    initializers: [{ name: 'w', dims: [3, 4], data: new Float32Array(w) }],
  }));
  const script = `import * as lib from 'edgeprune';
    import { readFileSync } from 'node:fs';
    const g = lib.importOnnx(readFileSync(${JSON.stringify(model)}));
    const { graph, report } = await lib.l1Unstructured(g, { amount: 0.5 });
    let err;
    try { await lib.globalUnstructured(g, { amount: 2 }); } catch (e) { err = e; }
    console.log(JSON.stringify({ w: Array.from(graph.initializers.get('w').data), method: report.method, same: lib.channelPrune === lib.lnStructured, typed: err instanceof lib.ArgumentError, entry: import.meta.resolve('edgeprune') }));`;
  // Node's own entry (node-addons condition) and the split build (--no-addons turns that condition off)
  for (const [flags, entry] of [[[], /dist\/node\/index\.mjs$/], [['--no-addons'], /dist\/lib\/index\.mjs$/]] as const) {
    const r = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', script], { encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname });
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout);
    expect(j.entry).toMatch(entry);
    // the 6 smallest magnitudes (1..6) are zeroed, hand-computed
    expect(j.w).toEqual(w.map((v) => (Math.abs(v) <= 6 ? 0 : v)));
    expect(j.method).toMatch(/l1|L1/);
    expect(j.same).toBe(true);
    expect(j.typed).toBe(true);
  }
});

describe("Node's entry: one bundle compiled with the V8 code cache the build wrote", () => {
  const root = new URL('..', import.meta.url).pathname;
  const node = (args: string[], script: string, env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [...args, '--input-type=module', '-e', script], { encoding: 'utf8', cwd: root, env: { ...process.env, NODE_OPTIONS: '', ...env } });
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout);
  };
  // a model run through the entry, and what became of the cache
  const model = (() => {
    const dir = mkdtempSync(join(tmpdir(), 'edgeprune-node-entry-'));
    const file = join(dir, 'm.onnx');
    writeFileSync(file, buildModel({
      nodes: [{ op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['h'], attrs: { transB: 1 } }, { op: 'Relu', inputs: ['h'], outputs: ['y'] }],
      inputs: [{ name: 'x', dims: [1, 3] }], outputs: ['y'],
      initializers: [{ name: 'w', dims: [2, 3], data: new Float32Array([1, 2, 3, -1, -2, -3]) }, { name: 'b', dims: [2], data: new Float32Array([0.5, 0.5]) }],
    }));
    return file;
  })();
  const runScript = (load: string) => `import { loadLib, codeCache } from ${JSON.stringify(load)};
    const lib = loadLib();
    import { readFileSync } from 'node:fs';
    const s = await lib.InferenceSession.create(readFileSync(${JSON.stringify(model)}));
    const out = await s.run({ x: new lib.Tensor('float32', new Float32Array([1, 1, 1]), [1, 3]) });
    console.log(JSON.stringify({ codeCache, y: Array.from(out.y.data) }));`;
  const load = join(root, 'dist/node/load.mjs');
  // hand-computed: [1+2+3+0.5, relu(-6+0.5)]
  const y = [6.5, 0];

  it('takes the cache without flags and with --experimental-wasm-relaxed-simd; EDGEPRUNE_CODE_CACHE=0 turns it off', () => {
    expect(node([], runScript(load))).toEqual({ codeCache: 'used', y });
    expect(node(['--experimental-wasm-relaxed-simd'], runScript(load))).toEqual({ codeCache: 'used', y });
    expect(node([], runScript(load), { EDGEPRUNE_CODE_CACHE: '0' })).toEqual({ codeCache: 'off', y });
  });

  it('under other V8 flags, V8 refuses the cache and the code compiles from source', () => {
    expect(node(['--stack-size=2000'], runScript(load))).toEqual({ codeCache: 'rejected', y });
  });

  it('a truncated, garbage or missing cache file is refused and the entry still works', () => {
    for (const damage of ['truncate', 'garbage', 'delete'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'edgeprune-cache-'));
      cpSync(join(root, 'dist/node'), join(dir, 'node'), { recursive: true });
      const cache = join(dir, 'node/edgeprune.cache');
      if (damage === 'truncate') writeFileSync(cache, readFileSync(cache).subarray(0, 5000));
      if (damage === 'garbage') writeFileSync(cache, Buffer.alloc(readFileSync(cache).length, 0x5a));
      if (damage === 'delete') rmSync(cache);
      // the copy has no ../../wasm: give the kernels by path
      const script = runScript(join(dir, 'node/load.mjs')).replace('create(readFileSync(' + JSON.stringify(model) + '))',
        `create(readFileSync(${JSON.stringify(model)}), { wasm: readFileSync(${JSON.stringify(join(root, 'wasm/simd.wasm'))}) })`);
      expect(node([], script), damage).toEqual({ codeCache: damage === 'delete' ? 'missing' : 'rejected', y });
    }
  });

  it("exports the same names as the split build, for 'edgeprune', 'edgeprune/train' and 'edgeprune/fit'", () => {
    const names = node([], `const out = {};
      for (const [a, b] of [['dist/node/index.mjs', 'dist/lib/index.mjs'], ['dist/node/train.mjs', 'dist/train/index.mjs'], ['dist/node/fit.mjs', 'dist/fit/index.mjs']])
        out[a] = [Object.keys(await import(${JSON.stringify(root)} + a)).sort(), Object.keys(await import(${JSON.stringify(root)} + b)).sort()];
      console.log(JSON.stringify(out));`) as Record<string, [string[], string[]]>;
    for (const [file, [ours, split]] of Object.entries(names)) {
      expect(ours.length, file).toBeGreaterThan(0);
      expect(ours, file).toEqual(split);
    }
  });

  it("bundlers targeting Node take the split build (they do not set node-addons, and dist/node reads files next to it)", async () => {
    const { build } = await import('esbuild');
    const r = await build({ stdin: { contents: "export * from 'edgeprune';", resolveDir: root }, bundle: true, write: false, format: 'esm', platform: 'node', metafile: true, logLevel: 'silent' });
    const inputs = Object.keys(r.metafile.inputs);
    expect(inputs).toEqual(expect.arrayContaining(['dist/lib/index.mjs']));
    expect(inputs.filter((f) => f.startsWith('dist/node/'))).toEqual([]);
  });
});
