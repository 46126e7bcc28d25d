// Loads the kernel module from whatever the host has: a compiled WebAssembly.Module (Workers,
// Deno `import`), bytes, a URL, or by flavour name from the package's own wasm/ folder.
import { WasmLoadError } from '../errors.js';
import { hasRelaxedSimd, hasSimd } from './features.js';
import { Kernels, type KernelExports } from './kernels.js';
import { KERNEL_ABI_VERSION } from './abi.js';
import { readFileUrl, readFileUrlSync } from './file-url.js';

export type WasmFlavor = 'simd' | 'relaxed';
export type WasmSource = WebAssembly.Module | ArrayBuffer | ArrayBufferView | URL | WasmFlavor | 'auto';

/**
 * One compiled module per flavour and process: sessions share its code (and its tier-up). A
 * Module when it was compiled synchronously (Node reading the package's own file), else a Promise.
 */
const compiledFlavors = new Map<WasmFlavor, WebAssembly.Module | Promise<WebAssembly.Module>>();

/** Said when the engine has no SIMD128 (at detection, or when it fails to compile our module). */
const NO_SIMD = 'this WebAssembly engine has no SIMD128 support; edgeprune needs Chrome 91+, Firefox 89+, Safari 16.4+, Node 16.4+, Deno or workerd';
/** What to pass instead of a module that is not ours, or not of this version. */
const PASS_OURS = 'pass wasm/simd.wasm or wasm/relaxed.wasm from this edgeprune version';

/** The flavour this host should use: relaxed when it validates, simd otherwise. */
export function detectFlavor(): WasmFlavor {
  if (!hasSimd()) throw new WasmLoadError(NO_SIMD);
  return hasRelaxedSimd() ? 'relaxed' : 'simd';
}

/**
 * Where the package keeps its builds. Source files sit at src/wasm/ and the bundles at dist/<entry>/,
 * both two levels under the package root, so one relative URL serves both.
 */
export function defaultWasmUrl(flavor: WasmFlavor): URL {
  try {
    return new URL(`../../wasm/${flavor}.wasm`, import.meta.url);
  } catch {
    // Workers give modules no URL (and may not compile wasm from bytes anyway)
    throw new WasmLoadError(`this host gives edgeprune no location to load its kernels from: import edgeprune/wasm/simd.wasm (or edgeprune/wasm/relaxed.wasm, the ${flavor === 'relaxed' ? 'build this host would pick' : 'relaxed-SIMD build'}) as a module and pass it, InferenceSession.create(bytes, { wasm: module })`);
  }
}

/** Loads and instantiates the kernels. With no source, picks the flavour this host supports. */
export async function loadKernels(source: WasmSource = 'auto'): Promise<Kernels> {
  let module: WebAssembly.Module;
  let flavor: WasmFlavor | 'custom' = 'custom';
  if (typeof source === 'string') {
    if (source !== 'auto' && source !== 'simd' && source !== 'relaxed') {
      throw new WasmLoadError(`unknown wasm flavour '${source}'; use 'auto', 'simd' or 'relaxed'`);
    }
    const chosen: WasmFlavor = source === 'auto' ? detectFlavor() : source;
    if (chosen === 'relaxed' && !hasRelaxedSimd()) {
      throw new WasmLoadError("the 'relaxed' kernels need relaxed SIMD, which this host lacks (Node 20: run node with --experimental-wasm-relaxed-simd); use wasm: 'simd' or 'auto'");
    }
    flavor = chosen;
    let compiled = compiledFlavors.get(chosen);
    if (!compiled) {
      const url = defaultWasmUrl(chosen);
      const bytes = readFileUrlSync(url);
      compiled = bytes ? compileBytesSync(bytes) : compileUrl(url);
      compiledFlavors.set(chosen, compiled);
      if (compiled instanceof Promise) compiled.catch(() => compiledFlavors.delete(chosen));
    }
    if (compiled instanceof WebAssembly.Module) {
      // the whole load is synchronous, so it runs before InferenceSession.create starts parsing
      // (an await here would let the parse run first and leave the kernels for after it)
      return kernelsOf(instantiateSync(compiled), chosen);
    }
    module = await compiled;
  } else if (source instanceof WebAssembly.Module) {
    module = source;
  } else if (source instanceof URL) {
    module = await compileUrl(source);
  } else if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    module = await compileBytes(source);
  } else {
    throw new WasmLoadError(`wasm source must be a WebAssembly.Module, bytes, a URL, 'simd', 'relaxed' or 'auto'; got ${Object.prototype.toString.call(source)}`);
  }
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, {});
  } catch (e) {
    throw instantiateError(e);
  }
  return kernelsOf(instance, flavor);
}

function instantiateSync(module: WebAssembly.Module): WebAssembly.Instance {
  try {
    return new WebAssembly.Instance(module, {});
  } catch (e) {
    throw instantiateError(e);
  }
}

function instantiateError(e: unknown): WasmLoadError {
  return new WasmLoadError(`could not instantiate the kernel module (${(e as Error).message}); ${PASS_OURS}`);
}

function kernelsOf(instance: WebAssembly.Instance, flavor: WasmFlavor | 'custom'): Kernels {
  const exports = instance.exports as unknown as KernelExports;
  if (typeof exports.gemm_b8 !== 'function' || !(exports.memory instanceof WebAssembly.Memory)) {
    throw new WasmLoadError(`the module passed as 'wasm' is not an edgeprune kernel build (no gemm_b8/memory exports); ${PASS_OURS}`);
  }
  const abi = exports.abi_version instanceof WebAssembly.Global ? (exports.abi_version.value as number) : 0;
  if (abi !== KERNEL_ABI_VERSION) {
    throw new WasmLoadError(`the kernel module is from another edgeprune version (kernel ABI ${abi || 'unknown'}, this code needs ${KERNEL_ABI_VERSION}); ${PASS_OURS}`);
  }
  // both builds export the same functions; a constant global tells them apart
  const actual: WasmFlavor = exports.flavor_relaxed.value === 1 ? 'relaxed' : 'simd';
  if (flavor !== 'custom' && flavor !== actual) throw new WasmLoadError(`wasm/${flavor}.wasm holds the ${actual} build; rebuild the package with 'npm run build'`);
  return new Kernels(exports, actual);
}

async function compileBytes(bytes: ArrayBuffer | ArrayBufferView): Promise<WebAssembly.Module> {
  const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return await WebAssembly.compile(view as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw compileError(e);
  }
}

/**
 * Synchronous compile, for Node reading the package's own file: our modules are ~60 KB, which V8
 * compiles in about a millisecond, while an async compile's result waits for the main thread to
 * come back to the event loop (tens of ms in a cold start that is busy parsing the model).
 */
function compileBytesSync(bytes: Uint8Array): WebAssembly.Module {
  try {
    return new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw compileError(e);
  }
}

function compileError(e: unknown): WasmLoadError {
  {
    const msg = (e as Error).message;
    if (/relaxed/i.test(msg)) {
      return new WasmLoadError(`this host cannot compile the relaxed-SIMD kernels (${msg}); load 'simd' instead, or on Node 20 run node with --experimental-wasm-relaxed-simd`);
    }
    // an engine without SIMD says so in its own words, if at all
    if (!hasSimd()) return new WasmLoadError(`${NO_SIMD} (the engine said: ${msg})`);
    if (/code generation|disallowed/i.test(msg)) {
      return new WasmLoadError(`this host forbids compiling wasm from bytes (${msg}); import edgeprune/wasm/simd.wasm as a module and pass it as { wasm: module }`);
    }
    return new WasmLoadError(`could not compile the kernel module (${msg}); ${PASS_OURS}`);
  }
}

/** Where the kernels are looked for by default, and how to pass them instead. */
const WASM_WHERE = "by default the kernels are loaded from wasm/ two folders above the bundle (the package's own layout); copy edgeprune/wasm/*.wasm there, or pass { wasm: new URL('simd.wasm', ...) }, their bytes or a compiled module";

async function compileUrl(url: URL): Promise<WebAssembly.Module> {
  const file = url.protocol === 'file:' && (await readFileUrl(url));
  if (file) return compileBytesSync(file);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new WasmLoadError(`cannot fetch ${url} (${(e as Error).message}); ${WASM_WHERE}`);
  }
  if (!response.ok) throw new WasmLoadError(`fetching ${url} gave HTTP ${response.status}; ${WASM_WHERE}`);
  if (typeof WebAssembly.compileStreaming === 'function' && response.headers.get('content-type')?.startsWith('application/wasm')) {
    try {
      return await WebAssembly.compileStreaming(response);
    } catch (e) {
      throw new WasmLoadError(`could not compile ${url} (${(e as Error).message})`);
    }
  }
  return compileBytes(await response.arrayBuffer());
}
