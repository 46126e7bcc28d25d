// Reading the package's own wasm file from a file: URL (Node, Deno, Bun). The web build of
// `edgeprune/runtime` swaps this module for file-url-web.ts (scripts/build-dist.mjs): browsers and
// Workers load the kernels by fetch or from an imported module, never from a file.
import { ArgumentError, WasmLoadError } from '../errors.js';

type NodeFs = typeof import('node:fs');


/**
 * The file's bytes without an await, through `process.getBuiltinModule` (Node 20.16+, Deno, Bun);
 * undefined for other URLs and on hosts without it, where readFileUrl takes the async path.
 */
export function readFileUrlSync(url: URL): Uint8Array | undefined {
  if (url.protocol !== 'file:') return undefined;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = typeof proc?.getBuiltinModule === 'function' ? (proc.getBuiltinModule('node:fs') as NodeFs | undefined) : undefined;
  return fs && read(fs, url);
}

/**
 * A model's bytes by path or file: URL (InferenceSession.create given a name), or undefined for a
 * URL of another scheme, which the caller fetches. `hint` says what to pass instead.
 */
export async function readModelFile(name: string | URL, url: URL | undefined, hint: string): Promise<Uint8Array | undefined> {
  if (url && url.protocol !== 'file:') return undefined;
  const g = globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; versions?: { node?: string } }; Deno?: unknown };
  let fs: NodeFs | undefined;
  if (typeof g.process?.getBuiltinModule === 'function') fs = g.process.getBuiltinModule('node:fs') as NodeFs;
  else if (typeof g.process?.versions?.node === 'string' || g.Deno) fs = await import('node:fs');
  if (!fs) return undefined; // a browser running the full web build: no files, so the name is fetched
  try {
    const bytes = fs.readFileSync(url ?? name);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (e) {
    throw new ArgumentError(`cannot read the model file ${String(name)} (${(e as Error).message}); ${hint}`);
  }
}

/** The bytes of a file: URL (the caller fetches every other URL). */
export async function readFileUrl(url: URL): Promise<Uint8Array> {
  return read(await import('node:fs'), url);
}

function read(fs: NodeFs, url: URL): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(url);
  } catch (e) {
    throw new WasmLoadError(`cannot read ${url.pathname} (${(e as Error).message}); run 'npm run build' in the edgeprune package, or pass { wasm } explicitly`);
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
