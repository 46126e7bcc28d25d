// examples/browser: the draw-a-digit page.
//
// Preprocessing (examples/browser/preprocess.js) in Node: hand-computed cases (scale to a 20 px
// box, centre of mass at the centre, area resampling) and MNIST test digits drawn large again,
// which the page's model must classify as it does the originals.
//
// The page in headless Chromium (Debian's, through playwright-core) at a phone's viewport with
// touch: a '1' drawn with a finger (touch events) and a '7' with the mouse are classified as the
// strokes come in; the 28x28 input the page fed its model (window.demo.input) is run in Node on the
// same artifact and must give bit-identical logits (the page runs the simd kernels here, ?wasm=simd);
// the drawn '1' must be a 1. The page's accuracy on its bundled digits must equal Node's. The memory
// budget slider reloads the elastic artifact at another width, the one Node picks for the same
// budget (for an artifact that is not elastic the slider must be hidden). A screenshot
// (out/example-browser.png) must be a real PNG with a picture in it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import type { BrowserContext, Page } from 'playwright-core';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/runtime/tensor.js';
import { ROOT, bits, findChromium, runtimeOrSkip } from './util/runtimes.js';

const EXAMPLE = join(ROOT, 'examples', 'browser');
const MODEL_DIR = join(EXAMPLE, 'model');

type MnistInput = (pixels: ArrayLike<number>, width: number, height: number, stride?: number, channel?: number) => Float32Array | null;
const example = async <T>(file: string): Promise<T> => (await import(pathToFileURL(join(EXAMPLE, file)).href)) as T;

interface Meta {
  model: string;
  bytes: number;
  denseBytes: number;
  digits: { file: string; count: number; accuracy: number };
  elastic: unknown[] | null;
}

/**
 * The page's files (built by build-model.mjs, committed): rebuilt when missing, or when this
 * version of the runtime cannot read the artifact (~30-60 s).
 */
async function buildIfNeeded(): Promise<{ meta: Meta; model: Uint8Array }> {
  const readable = async () => {
    try {
      await (await InferenceSession.create(readFileSync(join(MODEL_DIR, 'mnist.epm')), { wasm: 'simd' })).release();
      return existsSync(join(MODEL_DIR, 'meta.json')) && existsSync(join(MODEL_DIR, 'digits.bin'));
    } catch {
      return false;
    }
  };
  if (!(await readable())) execFileSync(process.execPath, [join(EXAMPLE, 'build-model.mjs')], { cwd: ROOT, stdio: 'inherit', timeout: 180_000 });
  const meta = JSON.parse(readFileSync(join(MODEL_DIR, 'meta.json'), 'utf8')) as Meta;
  return { meta, model: new Uint8Array(readFileSync(join(MODEL_DIR, meta.model))) };
}

/** The model's logits for one 28x28 input, in Node with the simd kernels. */
async function nodeLogits(model: Uint8Array, input: ArrayLike<number>, memoryBudget?: number): Promise<number[]> {
  const s = await InferenceSession.create(model, { wasm: 'simd', memoryBudget });
  const out = await s.run({ [s.inputNames[0]]: new Tensor('float32', Float32Array.from(input), [1, 1, 28, 28]) });
  await s.release();
  return Array.from(out[s.outputNames[0]].data);
}

let built: { meta: Meta; model: Uint8Array } | undefined;
const ensureModel = async () => (built ??= await buildIfNeeded());
// before either suite, with time for a rebuild
beforeAll(async () => {
  await ensureModel();
}, 240_000);

const argmax = (v: ArrayLike<number>) => Array.from(v).reduce((b, x, i, a) => (x > a[b] ? i : b), 0);

/** Ink image (alpha channel of RGBA) with the given pixels set. */
function rgba(width: number, height: number, ink: (x: number, y: number) => number): Uint8ClampedArray {
  const px = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) px[(y * width + x) * 4 + 3] = ink(x, y);
  return px;
}

/** Total ink, its centre of mass in the 28x28 frame (pixel centres at i + 0.5), and the rows and columns with ink. */
function massOf(x: ArrayLike<number>): { mass: number; cx: number; cy: number; rows: number[]; cols: number[] } {
  let mass = 0, mx = 0, my = 0;
  const rows = new Set<number>(), cols = new Set<number>();
  for (let j = 0; j < 28; j++) {
    for (let i = 0; i < 28; i++) {
      const v = x[j * 28 + i];
      if (v <= 1e-6) continue; // float rounding at a block's exact edge spills ~1e-16 into the next pixel
      mass += v;
      mx += v * (i + 0.5);
      my += v * (j + 0.5);
      rows.add(j);
      cols.add(i);
    }
  }
  return { mass, cx: mx / mass, cy: my / mass, rows: [...rows].sort((a, b) => a - b), cols: [...cols].sort((a, b) => a - b) };
}

describe('examples/browser preprocessing (Node)', () => {
  let mnistInput: MnistInput;
  beforeAll(async () => {
    ({ mnistInput } = await example<{ mnistInput: MnistInput }>('preprocess.js'));
  });

  it('nothing drawn gives null', () => {
    expect(mnistInput(rgba(50, 50, () => 0), 50, 50)).toBeNull();
  });

  it('a 40x20 bar of full ink becomes a 20x10 block of ones centred on (14, 14)', () => {
    // box 40 px wide -> scale 0.5; centre of mass (30, 40) -> (14, 14): the block is x 4..23, y 9..18
    const x = mnistInput(rgba(100, 100, (x, y) => (x >= 10 && x < 50 && y >= 30 && y < 50 ? 255 : 0)), 100, 100)!;
    for (let j = 0; j < 28; j++) for (let i = 0; i < 28; i++) expect(x[j * 28 + i]).toBe(i >= 4 && i < 24 && j >= 9 && j < 19 ? 1 : 0);
  });

  it('a 30x20 bar (fractional scale and offset): mass scaled by (20/30)^2, centre of mass exactly at (14, 14), longer side 20 px', () => {
    const x = mnistInput(rgba(64, 48, (x, y) => (x >= 7 && x < 37 && y >= 11 && y < 31 ? 255 : 0)), 64, 48)!;
    const m = massOf(x);
    expect(m.mass).toBeCloseTo(30 * 20 * (20 / 30) ** 2, 4);
    expect(m.cx).toBeCloseTo(14, 5);
    expect(m.cy).toBeCloseTo(14, 5);
    expect(m.cols.length).toBe(20); // 20 px wide, centred: columns 4..23
    expect(m.cols[0]).toBe(4);
    expect(Math.max(...x)).toBe(1);
    // any channel and stride: a one-byte-per-pixel image gives the same
    const gray = new Uint8Array(64 * 48).map((_, k) => ((k % 64) >= 7 && (k % 64) < 37 && Math.floor(k / 64) >= 11 && Math.floor(k / 64) < 31 ? 255 : 0));
    expect(Array.from(mnistInput(gray, 64, 48, 1, 0)!)).toEqual(Array.from(x));
  });

  it('MNIST test digits drawn 10x larger come back as digits the model classifies as it does the originals', async () => {
    const { model } = await ensureModel();
    const mnist = createRequire(import.meta.url)('mnist') as Record<number, { get(i: number): number[] }>;
    const s = await InferenceSession.create(model, { wasm: 'simd' });
    let same = 0, correctOriginal = 0, correctRedrawn = 0, n = 0;
    for (let d = 0; d < 10; d++) {
      for (let k = 0; k < 50; k++) {
        const original = mnist[d].get(k * 5 + 4); // test-split digits (i % 5 == 4)
        const big = rgba(280, 280, (x, y) => Math.round(255 * original[Math.floor(y / 10) * 28 + Math.floor(x / 10)]));
        const redrawn = mnistInput(big, 280, 280)!;
        const run = async (v: ArrayLike<number>) => argmax((await s.run({ [s.inputNames[0]]: new Tensor('float32', Float32Array.from(v), [1, 1, 28, 28]) }))[s.outputNames[0]].data);
        const a = await run(original), b = await run(redrawn);
        same += Number(a === b);
        correctOriginal += Number(a === d);
        correctRedrawn += Number(b === d);
        n++;
      }
    }
    await s.release();
    // measured: 97% agree and the redrawn lose < 1 pt; a 16 or 24 px box instead of 20 agrees on
    // 93%, centring the box instead of the mass 82% (each losing 4-16 pt)
    expect(same / n).toBeGreaterThanOrEqual(0.96);
    expect(correctRedrawn).toBeGreaterThanOrEqual(correctOriginal - 5);
  });
});

const chromiumPath = runtimeOrSkip('chromium', findChromium, 'apt-get install -y chromium (playwright-core drives it)');

interface Demo {
  ready: boolean;
  busy: boolean;
  reloading: boolean;
  runs: number;
  input: number[] | null;
  logits: number[] | null;
  prediction: number | null;
  modelBytes: number;
  kernels: string;
  accuracy: number | null;
  elastic: { level: number; levels: { peakBytes: number }[] } | null;
  level: { index: number; channels: number; memoryBytes: number; accuracy?: number; speedMs?: number } | null;
  error: string | null;
}

describe.skipIf(!chromiumPath)('examples/browser in Chromium at a phone viewport', () => {
  const profile = mkdtempSync(join(tmpdir(), 'edgeprune-chromium-'));
  let meta: Meta;
  let model: Uint8Array;
  let server: Server;
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];

  const demo = () => page.evaluate(() => (window as unknown as { demo: Demo }).demo) as Promise<Demo>;
  /** Waits until the drawing's last change has been classified. */
  const settled = () => page.waitForFunction(() => { const d = (window as unknown as { demo: Demo }).demo; return !d.busy && !d.reloading; }, undefined, { timeout: 15_000 });
  const pad = async () => (await page.locator('#pad').boundingBox())!;

  beforeAll(async () => {
    ({ meta, model } = await ensureModel());
    const { staticServer } = await example<{ staticServer: () => Server }>('serve.mjs');
    server = staticServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 3,
      isMobile: true,
      hasTouch: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/examples/browser/?wasm=simd`);
    await page.waitForFunction(() => (window as unknown as { demo?: Demo }).demo?.ready || (window as unknown as { demo?: Demo }).demo?.error, undefined, { timeout: 20_000 });
    const d = await demo();
    if (!d.ready) throw new Error(`the page did not load: ${d.error} ${errors.join('; ')}`);
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    await new Promise((r) => server?.close(r));
    rmSync(profile, { recursive: true, force: true });
  });

  it('fits a phone: the drawing pad inside the 390 px viewport, no sideways scrolling', async () => {
    const box = await pad();
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(box.width).toBeGreaterThan(300);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await page.locator('#prediction').textContent()).toBe('?');
  });

  it('a 1 drawn with a finger (touch) is classified as 1, with the same logits as Node on the same 28x28 input', async () => {
    await page.evaluate(() => {
      const w = window as unknown as { pointerTypes: string[] };
      w.pointerTypes = [];
      document.getElementById('pad')!.addEventListener('pointerdown', (e) => w.pointerTypes.push(e.pointerType));
    });
    const box = await pad();
    const cdp = await context.newCDPSession(page);
    const at = (fx: number, fy: number) => [{ x: box.x + fx * box.width, y: box.y + fy * box.height }];
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: at(0.5, 0.18) });
    const runsBefore = (await demo()).runs;
    for (let i = 1; i <= 16; i++) {
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: at(0.5 + 0.01 * (i / 16), 0.18 + (0.64 * i) / 16) });
      if (i === 8) await settled(); // classified while the finger is still down
    }
    const midStroke = (await demo()).runs;
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await cdp.detach();
    await settled();
    const d = await demo();
    expect(await page.evaluate(() => (window as unknown as { pointerTypes: string[] }).pointerTypes)).toEqual(['touch']);
    expect(midStroke).toBeGreaterThan(runsBefore); // as they draw, not only at the end
    expect(d.prediction).toBe(1);
    expect(await page.locator('#prediction').textContent()).toBe('1');
    expect(bits(await nodeLogits(model, d.input!))).toEqual(bits(d.logits!));
    // the page's input is an MNIST-style digit: 20 px tall (21 rows when its edges fall inside
    // pixels), a thin stroke, centre of mass at the centre
    const m = massOf(d.input!);
    expect(m.rows.length).toBeGreaterThanOrEqual(20);
    expect(m.rows.length).toBeLessThanOrEqual(21);
    expect(m.cols.length).toBeLessThan(8);
    // area resampling assigns each share of ink to its output pixel's centre: within ~1/20 px here
    expect(Math.abs(m.cx - 14)).toBeLessThan(0.01);
    expect(Math.abs(m.cy - 14)).toBeLessThan(0.01);
  });

  it('a 7 drawn with the mouse: the same prediction and logits as Node, and a 7', async () => {
    await page.locator('#clear').click();
    await settled();
    expect((await demo()).input).toBeNull();
    expect(await page.locator('#prediction').textContent()).toBe('?');
    const box = await pad();
    const at = (fx: number, fy: number) => [box.x + fx * box.width, box.y + fy * box.height] as const;
    await page.mouse.move(...at(0.27, 0.24));
    await page.mouse.down();
    await page.mouse.move(...at(0.72, 0.24), { steps: 12 });
    await page.mouse.move(...at(0.45, 0.8), { steps: 16 });
    await page.mouse.up();
    await settled();
    const d = await demo();
    const want = await nodeLogits(model, d.input!);
    expect(bits(want)).toEqual(bits(d.logits!));
    expect(await page.locator('#prediction').textContent()).toBe(String(argmax(want)));
    expect(d.prediction).toBe(7);
  });

  it('shows the model size in bytes, the latency and the accuracy; measures the same accuracy on the bundled digits as Node', async () => {
    await page.waitForFunction(() => (window as unknown as { demo: Demo }).demo.accuracy !== null, undefined, { timeout: 20_000 });
    const d = await demo();
    expect(d.modelBytes).toBe(model.length);
    expect(await page.locator('#size').textContent()).toContain(`${model.length.toLocaleString('en-US')} bytes`);
    expect(await page.locator('#latency').textContent()).toMatch(/^\d+\.\d+ ms per digit \((median of the last \d+ runs|the last run)\)$/);
    expect(d.kernels).toBe('simd');
    // shown: the accuracy an elastic artifact recorded for this width, else the one measured here
    const s = await InferenceSession.create(model, { wasm: 'simd' });
    const stored = s.info().elastic;
    await s.release();
    const shown = stored?.levels[stored.level].accuracy ?? meta.digits.accuracy;
    expect(d.accuracy).toBe(shown);
    expect(await page.locator('#accuracy').textContent()).toContain(`${(100 * shown).toFixed(1)}%`);
    // measured in the page on the bundled digits: Node's count exactly (simd kernels: the same logits)
    expect(await page.evaluate(() => (window as unknown as { demo: { measureAccuracy(): Promise<number> } }).demo.measureAccuracy())).toBe(meta.digits.accuracy);
  });

  it('memory-budget slider: hidden for an artifact that is not elastic; otherwise the lowest budget reloads a narrower level, as Node chooses', async () => {
    const d = await demo();
    if (!d.elastic) {
      expect(meta.elastic).toBeNull();
      expect(await page.locator('#budget').isHidden()).toBe(true);
      console.warn('\n  NOTICE: examples/browser/model/mnist.epm is not elastic (built without elastic width): the slider is hidden, and this test only checks that\n');
      return;
    }
    const full = d.level!;
    const slider = page.locator('#budget-slider');
    await expect(slider.isVisible()).resolves.toBe(true);
    const min = Number(await slider.getAttribute('min'));
    await slider.fill(String(min));
    await page.waitForFunction(() => { const x = (window as unknown as { demo: Demo }).demo; return !x.reloading && x.level?.speedMs !== undefined && x.level.accuracy !== undefined; }, undefined, { timeout: 30_000 });
    await settled();
    const low = (await demo()).level!;
    expect(low.index).not.toBe(full.index);
    expect(low.channels).toBeLessThan(full.channels);
    expect(low.memoryBytes).toBeLessThanOrEqual(min);
    expect(low.memoryBytes).toBeLessThan(full.memoryBytes);
    expect(await page.locator('#level-memory').textContent()).toMatch(/^\d+\.\d kB of wasm memory/);
    expect(await page.locator('#level').textContent()).toBe(`${low.index + 1} of ${d.elastic.levels.length}: ${+(100 * low.channels).toFixed(1)}% of the channels`);
    // Node picks the same level for the same budget, and gives the same logits for the same drawing
    const s = await InferenceSession.create(model, { wasm: 'simd', memoryBudget: min });
    expect(s.info().elastic?.level).toBe(low.index);
    await s.release();
    const now = await demo();
    expect(bits(await nodeLogits(model, now.input!, min))).toEqual(bits(now.logits!));
  });

  it('takes a screenshot (out/example-browser.png): a real PNG of the phone-sized page with something drawn on it', async () => {
    mkdirSync(join(ROOT, 'out'), { recursive: true });
    const file = join(ROOT, 'out', 'example-browser.png');
    await page.screenshot({ path: file, fullPage: true });
    const png = readFileSync(file);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(390 * 3); // IHDR width: the viewport at 3 device pixels per CSS pixel
    // decode the image data: a page, not one flat colour
    const idat: Buffer[] = [];
    for (let o = 8; o < png.length;) {
      const len = png.readUInt32BE(o);
      if (png.toString('latin1', o + 4, o + 8) === 'IDAT') idat.push(png.subarray(o + 8, o + 8 + len));
      o += 12 + len;
    }
    const raw = inflateSync(Buffer.concat(idat));
    const values = new Set(raw);
    expect(values.size).toBeGreaterThan(64);
    expect(errors).toEqual([]);
  });
});
