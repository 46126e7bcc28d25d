// Cloudflare Workers: examples/worker bundled as wrangler would (esbuild with the workerd/worker/
// browser conditions, .wasm as CompiledWasm modules, the compiled model .epc as Data) and run in workerd through
// miniflare. Its answers are compared with Node's outputs: bit-identical with the simd kernels,
// within 1e-5 with relaxed; a wrong shape is a 400 carrying the InputError's message; the workerd
// process stays under the Workers limit of 128 MB while serving the pruned model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, type Plugin } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ROOT, bits, compiledModel, findMiniflare, inputs, maxAbsDiff, nodeOutputs, runtimeOrSkip, writeFixture } from './util/runtimes.js';
import type { Miniflare } from 'miniflare';

const miniflare = runtimeOrSkip('miniflare (workerd)', findMiniflare, 'npm install (the `miniflare` devDependency ships workerd)');

/** The workerd processes started by this process (miniflare spawns workerd as a child). */
function workerdPids(): number[] {
  if (!existsSync('/proc/self/stat')) return [];
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && comm.startsWith('workerd')) pids.push(Number(d));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Peak resident memory (VmHWM) of a process, in bytes. */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

describe.skipIf(!miniflare)('Cloudflare Workers (workerd via miniflare) runs examples/worker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeprune-worker-'));
  const out = join(dir, 'bundle');
  const feeds = inputs(4, 3);
  let model: Uint8Array; // the .epm Node runs (the reference)
  let compiled: Uint8Array; // what the Worker runs: model compiled for edgeprune/runtime
  let runtimeFile = '';
  const instances: Miniflare[] = [];

  /** Starts workerd with the bundled worker and the given KERNELS binding. */
  async function start(kernels: string): Promise<Miniflare> {
    const { Miniflare } = await import('miniflare');
    const mf = new Miniflare({
      modules: true,
      scriptPath: join(out, 'index.js'),
      modulesRoot: out,
      modulesRules: [
        { type: 'CompiledWasm', include: ['**/*.wasm'] },
        { type: 'Data', include: ['**/*.epc'] },
        { type: 'ESModule', include: ['**/*.js'] },
      ],
      compatibilityDate: '2026-04-26',
      bindings: { KERNELS: kernels },
      host: '127.0.0.1',
    });
    instances.push(mf);
    await mf.ready;
    return mf;
  }

  async function post(mf: Miniflare, body: unknown): Promise<{ status: number; json: any }> {
    const r = await mf.dispatchFetch('http://localhost/', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    return { status: r.status, json: await r.json() };
  }

  beforeAll(async () => {
    ({ source: model, compiled } = await compiledModel());
    const fixture = writeFixture(dir, compiled, feeds, 'model.epc');
    mkdirSync(out, { recursive: true });
    // what wrangler does with the rules in examples/worker/wrangler.toml: the .wasm and .epc
    // imports stay module imports, next to the bundle; the example's model.epc is this test's model
    const modules: Plugin = {
      name: 'wasm-and-data-modules',
      setup(b) {
        b.onResolve({ filter: /\.(wasm|epc)$/ }, async (args) => {
          if (args.pluginData === 'inner') return undefined; // the b.resolve below: esbuild's own resolution
          let file: string;
          if (args.path.endsWith('.epc')) file = fixture.model;
          else {
            const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'inner' });
            file = r.path;
          }
          copyFileSync(file, join(out, basename(file)));
          return { path: `./${basename(file)}`, external: true };
        });
      },
    };
    const r = await build({
      entryPoints: [join(ROOT, 'examples/worker/src/index.ts')],
      outfile: join(out, 'index.js'),
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      conditions: ['workerd', 'worker', 'browser'],
      mainFields: ['module', 'main'],
      plugins: [modules],
      metafile: true,
      logLevel: 'silent',
    });
    runtimeFile = Object.keys(r.metafile.inputs).find((f) => f.includes('dist/runtime/')) ?? '';
  }, 30_000);

  afterAll(async () => {
    for (const mf of instances) await mf.dispose();
  });

  it("the worker's bundle takes edgeprune/runtime's web build and no eval / new Function", () => {
    expect(runtimeFile).toMatch(/dist\/runtime\/index\.web\.mjs$/);
    const code = readFileSync(join(out, 'index.js'), 'utf8');
    expect(/(?<![\w$.])eval\s*\(|\bnew\s+Function\b/.exec(code)?.[0]).toBeUndefined();
    expect(/(from|import)\s*\(?\s*["']node:/.exec(code)?.[0]).toBeUndefined();
    expect(code).toMatch(/from\s*"\.\/simd\.wasm"/);
  });

  it('simd kernels: answers bit-identical to Node; a wrong shape is a 400 with the InputError message', async () => {
    const mf = await start('simd');
    const want = await nodeOutputs(model, feeds, 'simd');
    for (let i = 0; i < feeds.length; i++) {
      const r = await post(mf, feeds[i]);
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      expect(r.json.outputs.logits.dims).toEqual([1, 10]);
      expect(bits(r.json.outputs.logits.data)).toEqual(bits(want[i].logits));
      expect(r.json.top).toBe(want[i].logits.indexOf(Math.max(...want[i].logits)));
    }
    const info = await (await mf.dispatchFetch('http://localhost/')).json();
    expect(info).toMatchObject({ kernels: 'simd', params: 26700, modelBytes: compiled.byteLength });

    const wrong = await post(mf, { dims: [1, 3, 28, 28], data: new Array(3 * 784).fill(0) });
    expect(wrong.status).toBe(400);
    expect(wrong.json.code).toBe('E_INPUT');
    expect(wrong.json.error).toBe("input 'x' has dims [1, 3, 28, 28] but the model expects [1, 1, 28, 28]: it was compiled for those dims; recompile it for others (edgeprune compile --dim NAME=VALUE)");
    const badCount = await post(mf, { dims: [1, 1, 28, 28], data: [1, 2, 3] });
    expect(badCount.status).toBe(400);
    expect(badCount.json.error).toMatch(/need 784 elements but the data has 3/);
    const strings = await post(mf, { dims: [1, 1, 28, 28], data: new Array(784).fill('a') });
    expect(strings.status).toBe(400);
    expect(strings.json.error).toBe('Tensor data[0] is a string; float32 tensors take numbers');
    const notJson = await mf.dispatchFetch('http://localhost/', { method: 'POST', body: '{nope' });
    expect(notJson.status).toBe(400);
  }, 45_000);

  // Workers give modules no import.meta.url, so the default wasm location (a URL relative to the
  // bundle) cannot exist there: today that is a bare "TypeError: Invalid URL string." from
  // src/wasm/loader.ts's defaultWasmUrl (owned elsewhere). It should be a WasmLoadError that says to
  // import edgeprune/wasm/simd.wasm and pass { wasm: module }; when it is, drop `.fails`.
  it('create() without { wasm } in a Worker: a WasmLoadError saying to import the .wasm module', async () => {
    const { Miniflare } = await import('miniflare');
    copyFileSync(join(ROOT, 'dist/runtime/index.web.mjs'), join(out, 'runtime.js'));
    const mf = new Miniflare({
      modules: [
        { type: 'ESModule', path: join(out, 'main.js'), contents: `import { InferenceSession } from './runtime.js';
          import model from './model.epc';
          export default { async fetch() {
            try { await InferenceSession.create(new Uint8Array(model)); return new Response('no error'); }
            catch (e) { return new Response(e.name + ': ' + e.message); } } };` },
        { type: 'ESModule', path: join(out, 'runtime.js') },
        { type: 'CompiledWasm', path: join(out, 'simd.wasm') },
        { type: 'CompiledWasm', path: join(out, 'relaxed.wasm') },
        { type: 'Data', path: join(out, 'model.epc') },
      ],
      modulesRoot: out,
      compatibilityDate: '2026-04-26',
      host: '127.0.0.1',
    });
    instances.push(mf);
    const text = await (await mf.dispatchFetch('http://localhost/')).text();
    expect(text).toMatch(/^WasmLoadError: .*edgeprune\/wasm\/simd\.wasm/);
  }, 30_000);

  it("'auto' picks relaxed SIMD in workerd: within 1e-5 of Node's relaxed kernels; workerd stays under 128 MB", async () => {
    const before = new Set(workerdPids());
    const mf = await start('auto');
    const want = await nodeOutputs(model, feeds, 'relaxed');
    const info = (await (await mf.dispatchFetch('http://localhost/')).json()) as { kernels: string };
    expect(info.kernels).toBe('relaxed');
    for (let i = 0; i < feeds.length; i++) {
      const r = await post(mf, feeds[i]);
      expect(r.status).toBe(200);
      expect(maxAbsDiff(r.json.outputs.logits.data, want[i].logits)).toBeLessThanOrEqual(1e-5);
    }
    // keep it busy, then read the whole workerd process's peak resident memory: an upper bound on
    // what the isolate (JS heap + wasm memory) uses, which is what Workers limit to 128 MB
    for (let i = 0; i < 300; i++) expect((await post(mf, feeds[i % feeds.length])).status).toBe(200);
    const pids = workerdPids().filter((p) => !before.has(p));
    if (pids.length === 0) return; // not Linux: nothing to read
    const peak = Math.max(...pids.map(peakRss));
    console.log(`workerd peak RSS after 300 requests: ${(peak / 2 ** 20).toFixed(1)} MB`);
    expect(peak).toBeLessThan(128 * 2 ** 20);
  }, 45_000);
});
