// Shared by the test/runtime-*.test.ts suites: the pruned model they all load, Node's outputs for
// it (the reference every other runtime must match), and finding the runtime binaries.
//
// A runtime binary that is missing skips its suite with a visible notice on a developer's machine;
// with EDGEPRUNE_REQUIRE_RUNTIMES=1 (set by .ci/run) a missing runtime fails instead.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { sequential, normalize, conv2d, relu, maxPool, flatten, linear } from '../../src/train/builder.js';
import { l1Unstructured } from '../../src/prune/unstructured.js';
import { writeArtifact } from '../../src/format/index.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { Rng } from '../../src/train/rng.js';

export const ROOT = new URL('../..', import.meta.url).pathname;

export const requireRuntimes = (): boolean => process.env.EDGEPRUNE_REQUIRE_RUNTIMES === '1';

/**
 * Where a runtime binary is, or undefined. Undefined with EDGEPRUNE_REQUIRE_RUNTIMES=1 throws, so
 * CI cannot pass by skipping; otherwise the caller skips and the notice says what to install.
 */
export function runtimeOrSkip(name: string, find: () => string | undefined, install: string): string | undefined {
  let found: string | undefined;
  try {
    found = find();
  } catch {
    found = undefined;
  }
  if (found) return found;
  if (requireRuntimes()) throw new Error(`${name} is required (EDGEPRUNE_REQUIRE_RUNTIMES=1) but was not found: ${install}`);
  console.warn(`\n  NOTICE: ${name} not found, its runtime tests are SKIPPED (${install})\n`);
  return undefined;
}

/** The deno binary of the npm `deno` package (a devDependency). */
export function findDeno(): string | undefined {
  const bin = join(ROOT, 'node_modules', '.bin', 'deno');
  return existsSync(bin) ? bin : undefined;
}

/** miniflare's module (it bundles workerd), when installed. */
export function findMiniflare(): string | undefined {
  return createRequire(import.meta.url).resolve('miniflare');
}

/** Chromium from Debian (`apt-get install chromium`), driven by playwright-core. */
export function findChromium(): string | undefined {
  for (const p of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) if (p && existsSync(p)) return p;
  createRequire(import.meta.url).resolve('playwright-core');
  return undefined;
}

/** The model every runtime test loads: a small MNIST-shaped CNN, 80% of its conv/linear weights pruned (L1). */
export async function prunedModel(): Promise<Uint8Array> {
  const graph = sequential(
    [1, 28, 28],
    [normalize(0.1307, 0.3081), conv2d(8, 3, { pads: 1 }), relu(), maxPool(2), conv2d(16, 3, { pads: 1 }), relu(), maxPool(2), flatten(), linear(32), relu(), linear(10)],
    { seed: 7 },
  );
  const { graph: pruned } = await l1Unstructured(graph, { amount: 0.8 });
  return writeArtifact(pruned);
}

/** prunedModel() compiled for edgeprune/runtime at batch 1 (simd build: its kernel choices and layout). */
export async function compiledModel(): Promise<{ source: Uint8Array; compiled: Uint8Array }> {
  const { compileModel } = await import('../../src/compile/compile.js');
  const source = await prunedModel();
  return { source, compiled: await compileModel(source) };
}

/** Deterministic inputs: `count` batch-1 images in 0..1. */
export function inputs(count: number, seed = 1): { dims: number[]; data: number[] }[] {
  const rng = new Rng(seed, 0);
  return Array.from({ length: count }, () => ({ dims: [1, 1, 28, 28], data: Array.from({ length: 784 }, () => Math.fround(rng.next())) }));
}

/** Node's outputs for each input, from the library's sources, with the given kernel build. */
export async function nodeOutputs(model: Uint8Array, feeds: { dims: number[]; data: number[] }[], wasm: 'simd' | 'relaxed'): Promise<Record<string, number[]>[]> {
  const s = await InferenceSession.create(model, { wasm });
  const out: Record<string, number[]>[] = [];
  for (const f of feeds) {
    const r = await s.run({ [s.inputNames[0]]: new Tensor('float32', Float32Array.from(f.data), f.dims) });
    out.push(Object.fromEntries(Object.entries(r).map(([k, t]) => [k, Array.from(t.data)])));
  }
  await s.release();
  return out;
}

/** Writes the model and inputs into `dir` (created) as model.epm and inputs.json. */
export function writeFixture(dir: string, model: Uint8Array, feeds: { dims: number[]; data: number[] }[], name = 'model.epm'): { model: string; inputs: string } {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), model);
  writeFileSync(join(dir, 'inputs.json'), JSON.stringify(feeds));
  return { model: join(dir, name), inputs: join(dir, 'inputs.json') };
}

/** Float32 bit patterns, so equality is bit-for-bit (NaN payloads and -0 included). */
export function bits(values: number[]): number[] {
  return Array.from(new Uint32Array(Float32Array.from(values).buffer));
}

/** Largest |a - b|. */
export function maxAbsDiff(a: number[], b: number[]): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
