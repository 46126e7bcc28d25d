// Cold start: a fresh Node process that imports the runtime, reads the model, creates a session
// and finishes one run. The time reported is the child's own performance.now() at the end,
// i.e. from process start (Node's bootstrap is included for both runtimes alike).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { overridesFor, type BenchModel } from './model-zoo.js';
import { compileModel } from '../src/compile/compile.js';

// the benchmark runs bundled from .build/, so the package root is the working directory (npm runs scripts there)
const root = process.cwd().replace(/\/?$/, '/');
const dir = `${root}.build/cold`;
let built: Promise<void> | undefined;

/** Newest modification time under a folder (recursive). */
function newest(folder: string): number {
  return readdirSync(folder, { withFileTypes: true }).reduce((t, e) => Math.max(t, e.isDirectory() ? newest(join(folder, e.name)) : statSync(join(folder, e.name)).mtimeMs), 0);
}

async function buildChildren(): Promise<void> {
  mkdirSync(dir, { recursive: true });
  // edgeprune as a user's Node imports it: 'edgeprune' through package.json "exports" (the driver sits
  // inside the package, so the name resolves to the package itself): dist/node/, built by npm install / npm run build
  if (newest(`${root}src`) > statSync(`${root}dist/node/edgeprune.cjs`).mtimeMs) throw new Error('dist/ is older than src/: run `npm run build` before the cold-start benchmark');
  // the drivers stamp the time before importing the library, and at the end of the first run
  const driver = (lib: string, create: string, tensor: string, prelude = '') => `
    const t0 = performance.now();
    const lib = await import(${JSON.stringify(lib)});
    const { readFileSync } = await import('node:fs');
    ${prelude}
    const [file, name, dims] = process.argv.slice(2);
    const d = JSON.parse(dims);
    const s = await ${create};
    await s.run({ [name]: ${tensor} });
    const t1 = performance.now();
    console.log(JSON.stringify({ total: t1, fromImport: t1 - t0 }));`;
  writeFileSync(`${dir}/edgeprune.mjs`, driver('edgeprune', `lib.InferenceSession.create(readFileSync(file))`, `new lib.Tensor('float32', new Float32Array(d.reduce((a, b) => a * b, 1)), d)`));
  // edgeprune/runtime on the model compiled for its dims (what an app ships after `edgeprune compile`)
  writeFileSync(`${dir}/edgeprune-compiled.mjs`, driver('edgeprune/runtime', `lib.InferenceSession.create(readFileSync(file))`, `new lib.Tensor('float32', new Float32Array(d.reduce((a, b) => a * b, 1)), d)`));
  writeFileSync(`${dir}/ort-web.mjs`, driver('onnxruntime-web', `lib.InferenceSession.create(readFileSync(file), { executionProviders: ['wasm'] })`, `new lib.Tensor('float32', new Float32Array(d.reduce((a, b) => a * b, 1)), d)`, 'lib.env.wasm.numThreads = 1;'));
}

const compiledModels = new Map<BenchModel['bytes'], Promise<Uint8Array>>();

/** The model compiled for its bench input dims (its symbolic dims given those sizes). */
export function compiled(m: BenchModel): Promise<Uint8Array> {
  let c = compiledModels.get(m.bytes);
  if (!c) {
    c = overridesFor(m.bytes, m.input.dims).then((freeDimensionOverrides) => compileModel(m.bytes, { freeDimensionOverrides }));
    compiledModels.set(m.bytes, c);
  }
  return c;
}

/**
 * Milliseconds to the end of the first run in a fresh process: `total` from process start (Node's
 * own bootstrap, ~100 ms on this machine, included), `fromImport` from the line before the import.
 */
export async function coldStart(which: 'edgeprune' | 'edgeprune-no-cache' | 'edgeprune-compiled' | 'ort-web', m: BenchModel): Promise<{ total: number; fromImport: number }> {
  built ??= buildChildren();
  await built;
  const file = `${dir}/${m.name.replace(/[^A-Za-z0-9]+/g, '_')}.${which === 'edgeprune-compiled' ? 'epc' : 'onnx'}`;
  writeFileSync(file, which === 'edgeprune-compiled' ? await compiled(m) : m.bytes);
  const noCache = which === 'edgeprune-no-cache';
  const env = { ...process.env, NODE_OPTIONS: '', EDGEPRUNE_CODE_CACHE: noCache ? '0' : '1' };
  const r = spawnSync(process.execPath, [`${dir}/${noCache ? 'edgeprune' : which}.mjs`, file, m.input.name, JSON.stringify(m.input.dims)], { encoding: 'utf8', cwd: root, env });
  if (r.status !== 0) throw new Error(`cold start of ${which} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}
