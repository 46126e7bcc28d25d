// Bad kernels given to the shipped runtime (edgeprune/runtime/dynamic, the built bundle): a module that is
// not ours, one that imports things, our module from another version, and a host without SIMD.
// Each must be a typed WasmLoadError that says what is wrong, never a CompileError or a TypeError
// from deep inside. (test/loader.test.ts covers the loader's sources; this is the bundle users ship.)
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import binaryen from 'binaryen';
import { InferenceSession, Tensor, WasmLoadError, loadKernels } from 'edgeprune/runtime/dynamic';
import { prunedModel, ROOT } from './util/runtimes.js';

const ourWasm = readFileSync(`${ROOT}/wasm/simd.wasm`);

function wat(text: string): Uint8Array {
  const m = binaryen.parseText(text);
  const out = m.emitBinary();
  m.dispose();
  return out;
}

/** Our simd build with exports taken away: what an older build, from before those kernels, looks like. */
function withoutExports(names: string[]): Uint8Array {
  const m = binaryen.readBinary(ourWasm);
  m.setFeatures(binaryen.Features.All);
  for (const name of names) m.removeExport(name);
  const out = m.emitBinary();
  m.dispose();
  return out;
}

let model: Uint8Array;
beforeAll(async () => {
  model = await prunedModel();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a wasm module that is not ours', () => {
  it('a module with other exports: WasmLoadError from create(), as bytes and as a compiled Module', async () => {
    const foreign = wat('(module (memory (export "memory") 1) (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))');
    for (const wasm of [foreign, new WebAssembly.Module(foreign as Uint8Array<ArrayBuffer>)]) {
      const e = await InferenceSession.create(model, { wasm }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(WasmLoadError);
      expect((e as WasmLoadError).code).toBe('E_WASM_LOAD');
      expect((e as Error).message).toMatch(/not an edgeprune kernel build .*pass wasm\/simd\.wasm or wasm\/relaxed\.wasm/);
    }
  });

  it('a module that needs imports (an AssemblyScript build with the default runtime): WasmLoadError naming them', async () => {
    const needsImports = wat('(module (import "env" "abort" (func (param i32 i32 i32 i32))) (memory (export "memory") 1))');
    const e = await loadKernels(needsImports).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WasmLoadError);
    expect((e as Error).message).toMatch(/could not instantiate the kernel module .*env/);
  });

  it('bytes that are not wasm at all (an .epm passed as the kernels): WasmLoadError', async () => {
    const e = await InferenceSession.create(model, { wasm: model }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WasmLoadError);
    expect((e as Error).message).toMatch(/could not compile the kernel module/);
  });
});

describe('our module from another version', () => {
  // Needs a version check in src/wasm/loader.ts (owned elsewhere): assembly/index.ts exporting an
  // ABI number (`export const abi_version: i32 = N`) that kernelsOf() compares with the one the
  // host code was built for. Today the loader checks only gemm_b8 and memory, so a build from
  // before a kernel existed loads and fails later with a TypeError inside run(). When the check
  // lands, this test starts failing: drop `.fails`.
  it('an older build (missing a kernel) is a WasmLoadError naming the version mismatch at load', async () => {
    // every kernel but the few the loader and heap look at: today this loads, and run() throws a TypeError
    const keep = new Set(['memory', 'gemm_b8', 'flavor_relaxed', 'heap_base']);
    const old = withoutExports(WebAssembly.Module.exports(new WebAssembly.Module(ourWasm)).map((x) => x.name).filter((n) => !keep.has(n)));
    const e = await InferenceSession.create(model, { wasm: old })
      .then((s) => s.run({ x: new Tensor('float32', new Float32Array(784), [1, 1, 28, 28]) }))
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WasmLoadError);
    expect((e as Error).message).toMatch(/version/);
  });
});

describe('a host without SIMD (an old browser)', () => {
  /** What such an engine does: validate() refuses SIMD and compiling our modules fails. */
  function withoutSimd(): void {
    const validate = WebAssembly.validate;
    vi.spyOn(WebAssembly, 'validate').mockImplementation((b) => (new Uint8Array(b as ArrayBuffer).includes(0xfd) ? false : validate(b)));
    const fail = () => {
      // Safari 16.3's words for a v128 result type: no mention of SIMD
      throw new WebAssembly.CompileError("WebAssembly.Module doesn't parse at byte 30: can't get 0th Type's return value");
    };
    vi.spyOn(WebAssembly, 'compile').mockImplementation(async () => fail());
    vi.spyOn(WebAssembly, 'Module').mockImplementation(fail as never);
  }

  it("'auto' (the default): WasmLoadError naming SIMD128 and the engines that have it", async () => {
    withoutSimd();
    const e = await InferenceSession.create(model).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WasmLoadError);
    expect((e as Error).message).toMatch(/no SIMD128 support; edgeprune needs Chrome 91\+, Firefox 89\+, Safari 16\.4\+/);
  });

  // Needs src/wasm/loader.ts to check hasSimd() before compiling any source ('simd', bytes, a URL),
  // or compileError() to name SIMD when !hasSimd(): today the engine's own message is all there is.
  it("the kernels given as bytes: the WasmLoadError names SIMD, whatever the engine's message says", async () => {
    withoutSimd();
    const e = await InferenceSession.create(model, { wasm: ourWasm }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WasmLoadError);
    expect((e as Error).message).toMatch(/SIMD/);
  });
});
