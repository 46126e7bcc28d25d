import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import binaryen from 'binaryen';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { defaultWasmUrl, detectFlavor, loadKernels } from '../src/wasm/loader.js';
import { hasRelaxedSimd, hasSimd } from '../src/wasm/features.js';
import { WasmLoadError } from '../src/errors.js';
import { gemm } from '../src/kernels/gemm.js';

const bytes = (flavor: 'simd' | 'relaxed') => readFileSync(defaultWasmUrl(flavor));

describe('the two wasm builds', () => {
  it.each(['simd', 'relaxed'] as const)('%s imports nothing and exports its memory', (flavor) => {
    const m = new WebAssembly.Module(bytes(flavor));
    expect(WebAssembly.Module.imports(m)).toEqual([]);
    expect(WebAssembly.Module.exports(m).find((e) => e.name === 'memory')?.kind).toBe('memory');
  });

  it('only the relaxed build contains relaxed-SIMD instructions', () => {
    const text = (flavor: 'simd' | 'relaxed') => {
      const mod = binaryen.readBinary(bytes(flavor));
      mod.setFeatures(binaryen.Features.All);
      const t = mod.emitText();
      mod.dispose();
      return t;
    };
    expect(text('relaxed')).toMatch(/f32x4\.relaxed_madd/);
    expect(text('simd')).not.toMatch(/\.relaxed_/);
  });

  // V8 compiles a wasm function on its first call, on the thread that calls it: a cold start pays
  // for every function its model reaches. The unary and binary elementwise ops were once one 26 kB
  // and one 32 kB function (every op's loops inlined into a switch), 1 and 2-3 ms of baseline
  // compilation on a model's first Relu or Add; each op is now a function of its own.
  it.each(['simd', 'relaxed'] as const)('%s: no function body over 16 kB (each is compiled on its first call)', (flavor) => {
    const sizes = functionBodySizes(bytes(flavor));
    expect(sizes.length).toBeGreaterThan(50);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(16 * 1024);
  });

  it.each(['simd', 'relaxed'] as const)('%s: the elementwise dispatchers leave the output alone for an op code out of range', async (flavor) => {
    const e = new WebAssembly.Instance(new WebAssembly.Module(bytes(flavor)), {}).exports as Record<string, CallableFunction> & { memory: WebAssembly.Memory };
    const at = 1 << 16;
    const f32 = new Float32Array(e.memory.buffer, at, 8);
    f32.set([1, -2, 3, -4, 5, -6, 7, -8]);
    for (const op of [-1, 41, 1000]) e.unary_apply(op, at, at, 8, 0, 0);
    for (const op of [-1, 17, 1000]) e.eltwise_binary4(op, at, at, at, 1, 1, 1, 8, 0, 0, 0, 1, 0, 0, 0, 1);
    expect(Array.from(f32)).toEqual([1, -2, 3, -4, 5, -6, 7, -8]);
    e.unary_apply(0, at, at, 8, 0, 0); // op 0 is Relu, through the same table
    e.eltwise_binary4(0, at, at, at, 1, 1, 1, 8, 0, 0, 0, 1, 0, 0, 0, 1); // op 0 is Add
    expect(Array.from(f32)).toEqual([2, 0, 6, 0, 10, 0, 14, 0]);
  });
});

/** The byte length of each function body in a module's code section. */
function functionBodySizes(wasm: Uint8Array): number[] {
  let p = 8;
  const leb = () => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = wasm[p++];
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  while (p < wasm.length) {
    const id = wasm[p++];
    const end = leb() + p;
    if (id === 10) {
      const sizes: number[] = [];
      for (let n = leb(); n > 0; n--) {
        const size = leb();
        sizes.push(size);
        p += size;
      }
      return sizes;
    }
    p = end;
  }
  return [];
}

describe('loadKernels', () => {
  it('picks relaxed where the host validates it (the test workers run with the flag) and can be forced', async () => {
    expect(hasSimd()).toBe(true);
    expect(hasRelaxedSimd()).toBe(true);
    expect(detectFlavor()).toBe('relaxed');
    expect((await loadKernels()).flavor).toBe('relaxed');
    expect((await loadKernels('simd')).flavor).toBe('simd');
    expect((await loadKernels('relaxed')).flavor).toBe('relaxed');
  });

  it('accepts a WebAssembly.Module, bytes, an ArrayBuffer and a file URL, and tells the builds apart', async () => {
    for (const flavor of ['simd', 'relaxed'] as const) {
      const b = bytes(flavor);
      const fromModule = await loadKernels(new WebAssembly.Module(b));
      const fromBytes = await loadKernels(new Uint8Array(b));
      const fromBuffer = await loadKernels(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      const fromUrl = await loadKernels(defaultWasmUrl(flavor));
      for (const k of [fromModule, fromBytes, fromBuffer, fromUrl]) {
        expect(k.flavor).toBe(flavor);
        // and each one computes: [1 2] · [[3], [4]] = 11
        expect(Array.from(gemm(k, new Float32Array([1, 2]), new Float32Array([3, 4]), 1, 2, 1))).toEqual([11]);
      }
    }
  });

  it('each instance has its own memory', async () => {
    const a = await loadKernels('simd');
    const b = await loadKernels('simd');
    const p = a.upload(new Float32Array([42]));
    expect(a.f32[p >> 2]).toBe(42);
    expect(b.heap.liveBytes).toBe(0);
  });

  it('fails with WasmLoadError and a hint on bad input', async () => {
    await expect(loadKernels(new Uint8Array([1, 2, 3]))).rejects.toThrow(WasmLoadError);
    await expect(loadKernels(new Uint8Array([1, 2, 3]))).rejects.toThrow(/could not compile/);
    // a valid module that is not ours
    const foreign = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
    await expect(loadKernels(foreign)).rejects.toThrow(/not an edgeprune kernel build/);
    await expect(loadKernels('fast' as never)).rejects.toThrow(/unknown wasm flavour/);
    await expect(loadKernels(new URL('file:///nonexistent/simd.wasm'))).rejects.toThrow(/cannot read/);
    // nothing listens on port 1: the fetch fails, and the error says where the kernels are looked for
    await expect(loadKernels(new URL('http://127.0.0.1:1/wasm/simd.wasm'))).rejects.toThrow(/^cannot fetch http:\/\/127\.0\.0\.1:1\/wasm\/simd\.wasm .*wasm\/ two folders above the bundle .*pass \{ wasm:/);
    await expect(loadKernels(42 as never)).rejects.toThrow(WasmLoadError);
  });

  it('falls back to simd on a host without relaxed SIMD (plain Node 20), and refuses a forced relaxed there', async () => {
    // bundle the real loader and run it in a child Node started WITHOUT --experimental-wasm-relaxed-simd;
    // .build/test/ is two levels below the package root, like src/wasm/, so the default wasm URL resolves
    const outfile = fileURLToPath(new URL('../.build/test/loader-child.mjs', import.meta.url));
    await build({
      stdin: {
        contents: `import { loadKernels } from './src/wasm/loader.ts';
          const k = await loadKernels();
          let forced = '';
          try { await loadKernels('relaxed'); } catch (e) { forced = e.name + ': ' + e.message; }
          console.log(JSON.stringify({ flavor: k.flavor, forced }));`,
        resolveDir: fileURLToPath(new URL('..', import.meta.url)),
        loader: 'ts',
      },
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      logLevel: 'silent',
    });
    const r = spawnSync(process.execPath, [outfile], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.flavor).toBe('simd');
    expect(out.forced).toMatch(/^WasmLoadError: .*--experimental-wasm-relaxed-simd/);
  });
});
