// Reading files (Node, Deno, Bun): the package's own wasm from a file: URL, and a model given to
// InferenceSession.create by path. The web build of `edgeprune/runtime` swaps this module for
// file-url-web.ts (scripts/build-dist.mjs): browsers and Workers load the kernels by fetch or from
// an imported module, and fetch a model given by name, never reading a file.
import { ArgumentError, WasmLoadError } from '../errors.js';

type NodeFs = typeof import('node:fs');
type Host = { process?: { getBuiltinModule?: (id: string) => unknown; versions?: { node?: string } }; Deno?: unknown };

/** node:fs without an await, through `process.getBuiltinModule` (Node 20.16+, Deno, Bun); undefined elsewhere. */
function fsNow(): NodeFs | undefined {
  const proc = (globalThis as Host).process;
  return typeof proc?.getBuiltinModule === 'function' ? (proc.getBuiltinModule('node:fs') as NodeFs | undefined) : undefined;
}

/** fs.readFileSync as a Uint8Array view; `fail` words the error. */
function readWith(fs: NodeFs, file: string | URL, fail: (e: Error) => Error): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw fail(e as Error);
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const wasmError = (url: URL) => (e: Error) =>
  new WasmLoadError(`cannot read ${url.pathname} (${e.message}); run 'npm run build' in the edgeprune package, or pass { wasm } explicitly`);

/**
 * The file's bytes without an await; undefined for other URLs and on hosts without
 * getBuiltinModule, where readFileUrl takes the async path.
 */
export function readFileUrlSync(url: URL): Uint8Array | undefined {
  if (url.protocol !== 'file:') return undefined;
  const fs = fsNow();
  return fs && readWith(fs, url, wasmError(url));
}

/** The bytes of a file: URL (the caller fetches every other URL). */
export async function readFileUrl(url: URL): Promise<Uint8Array> {
  return readWith(fsNow() ?? (await import('node:fs')), url, wasmError(url));
}

/**
 * A model's bytes by path or file: URL (InferenceSession.create given a name), or undefined for a
 * URL of another scheme, or on a host with no files (a browser running the full web build): the
 * caller fetches those. `hint` says what to pass instead.
 */
export async function readModelFile(name: string | URL, url: URL | undefined, hint: string): Promise<Uint8Array | undefined> {
  if (url && url.protocol !== 'file:') return undefined;
  const host = globalThis as Host;
  const fs = fsNow() ?? (typeof host.process?.versions?.node === 'string' || host.Deno ? await import('node:fs') : undefined);
  return fs && readWith(fs, url ?? name, (e) => new ArgumentError(`cannot read the model file ${String(name)} (${e.message}); ${hint}`));
}
