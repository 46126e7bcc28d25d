// Headless Chromium (Debian's, driven by playwright-core) loads edgeprune/runtime's web build as a
// plain ES module from a static server on 127.0.0.1, fetches the kernels itself (the default wasm
// URL next to the package, compiled with compileStreaming) and runs a pruned model compiled for it
// (edgeprune compile, model.epc); its outputs are compared with Node's on the .epm it was compiled
// from: bit-identical with the simd kernels, within 1e-5 with relaxed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { ROOT, bits, compiledModel, findChromium, inputs, maxAbsDiff, nodeOutputs, runtimeOrSkip } from './util/runtimes.js';

const chromiumPath = runtimeOrSkip('chromium', findChromium, 'apt-get install -y chromium (playwright-core drives it)');

const PAGE = `<!doctype html><meta charset="utf-8"><title>edgeprune</title>
<script type="module">
  import { InferenceSession, Tensor, detectFlavor, WasmLoadError } from '/dist/runtime/index.web.mjs';
  window.classify = async (wasm, feeds, byName) => {
    // by name (a relative URL, fetched by create as onnxruntime-web does) or as bytes
    const model = byName ? 'model.epc' : new Uint8Array(await (await fetch('/model.epc')).arrayBuffer());
    const s = await InferenceSession.create(model, { wasm });
    const outputs = [];
    for (const f of feeds) outputs.push(Array.from((await s.run({ x: new Tensor('float32', Float32Array.from(f.data), f.dims) })).logits.data));
    const kernels = s.info().kernels;
    await s.release();
    return { kernels, outputs };
  };
  window.wrongShape = async () => {
    const s = await InferenceSession.create(new Uint8Array(await (await fetch('/model.epc')).arrayBuffer()), { wasm: 'simd' });
    try { await s.run({ x: new Tensor('float32', new Float32Array(784), [1, 28, 28]) }); return 'no error'; } catch (e) { return e.name + ': ' + e.message; }
  };
  window.badWasm = async () => {
    try { await InferenceSession.create(new Uint8Array(await (await fetch('/model.epc')).arrayBuffer()), { wasm: new URL('/missing.wasm', location.href) }); return 'no error'; }
    catch (e) { return (e instanceof WasmLoadError) + ' ' + e.message; }
  };
  window.missingModel = async () => {
    try { await InferenceSession.create('gone.epc', { wasm: 'simd' }); return 'no error'; } catch (e) { return e.name + ': ' + e.message; }
  };
  window.detected = detectFlavor();
  window.ready = true;
</script>`;

describe.skipIf(!chromiumPath)('Chromium runs edgeprune/runtime (web build)', () => {
  const feeds = inputs(4, 5);
  let model: Uint8Array; // the .epm Node runs (the reference)
  let compiled: Uint8Array; // what the page runs
  let server: Server;
  let context: BrowserContext;
  let page: Page;
  const served: string[] = [];

  beforeAll(async () => {
    ({ source: model, compiled } = await compiledModel());
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      served.push(url.pathname);
      if (url.pathname === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      if (url.pathname === '/model.epc') return res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(compiled);
      const file = normalize(join(ROOT, url.pathname));
      if (!/^\/(dist\/runtime\/[\w.]+\.mjs|wasm\/(simd|relaxed)\.wasm)$/.test(url.pathname) || !file.startsWith(ROOT)) return res.writeHead(404).end();
      const type = extname(file) === '.wasm' ? 'application/wasm' : 'text/javascript';
      res.writeHead(200, { 'content-type': type }).end(readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'edgeprune-chromium-')), {
      executablePath: chromiumPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true, undefined, { timeout: 15_000 }).catch(() => {
      throw new Error(`the page did not load edgeprune/runtime: ${errors.join('; ')}`);
    });
  }, 45_000);

  afterAll(async () => {
    await context?.close();
    await new Promise((r) => server?.close(r));
  });

  const classify = (wasm: string, byName = false) => page.evaluate(([w, f, b]) => (window as any).classify(w, f, b), [wasm, feeds, byName] as const) as Promise<{ kernels: string; outputs: number[][] }>;

  it('simd kernels (fetched from the default URL next to the package): outputs bit-identical to Node', async () => {
    const got = await classify('simd');
    expect(got.kernels).toBe('simd');
    expect(served).toContain('/wasm/simd.wasm');
    const want = await nodeOutputs(model, feeds, 'simd');
    got.outputs.forEach((o, i) => expect(bits(o)).toEqual(bits(want[i].logits)));
  });

  it("'auto' picks relaxed SIMD in Chromium: outputs within 1e-5 of Node's relaxed kernels (the model given by its URL)", async () => {
    expect(await page.evaluate(() => (window as any).detected)).toBe('relaxed');
    const got = await classify('auto', true);
    expect(got.kernels).toBe('relaxed');
    const want = await nodeOutputs(model, feeds, 'relaxed');
    got.outputs.forEach((o, i) => expect(maxAbsDiff(o, want[i].logits)).toBeLessThanOrEqual(1e-5));
  });

  it('typed errors in the page: a wrong shape, and kernels that cannot be fetched', async () => {
    expect(await page.evaluate(() => (window as any).wrongShape())).toBe("InputError: input 'x' has dims [1, 28, 28] but the model expects [1, 1, 28, 28]: it was compiled for those dims; recompile it for others (edgeprune compile --dim NAME=VALUE)");
    expect(await page.evaluate(() => (window as any).missingModel())).toMatch(/^ArgumentError: fetching the model gone\.epc gave HTTP 404; check the URL/);
    expect(await page.evaluate(() => (window as any).badWasm())).toMatch(/^true fetching http:\/\/127\.0\.0\.1:\d+\/missing\.wasm gave HTTP 404/);
  });
});
