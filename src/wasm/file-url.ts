// Reading the package's own wasm file from a file: URL (Node, Deno, Bun). The web build of
// `edgeprune/runtime` swaps this module for file-url-web.ts (scripts/build-dist.mjs): browsers and
// Workers load the kernels by fetch or from an imported module, never from a file.
import { WasmLoadError } from '../errors.js';

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
