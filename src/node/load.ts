// Node's cold start, without the cost of compiling edgeprune's JavaScript: the entries under the
// node-addons condition (dist/node/*.mjs) get their code from dist/node/edgeprune.cjs, compiled
// here as Node compiles any CommonJS file (the source wrapped in a function, through node:vm), plus
// the V8 code cache that `npm run build` wrote after a warm-up (scripts/write-code-cache.mjs): the
// bytecode of every function the warm-up ran (import, create, run on a few models), so a fresh
// process neither parses the ~400 kB bundle nor compiles those functions again.
//
// V8 takes a cache only from the same V8 version with the same flags; otherwise it rejects it and
// compiles the source as usual (slower by the time the cache saves, nothing else). Two caches are
// written: without flags, and with --experimental-wasm-relaxed-simd (the flag relaxed SIMD needs
// on Node 20). EDGEPRUNE_CODE_CACHE=0 turns the cache off (to measure what it saves).
//
// Only Node reads this file (bundlers and Deno resolve 'edgeprune' to dist/lib/index.mjs, the split
// ESM build); browsers and Workers never see node:vm.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { readFileSync } = require('node:fs') as typeof import('node:fs');
const { Script } = require('node:vm') as typeof import('node:vm');
const { fileURLToPath } = require('node:url') as typeof import('node:url');
const { dirname } = require('node:path') as typeof import('node:path');

/** What became of the code cache: taken, refused by V8 (another Node version or other flags), absent, or turned off. */
export type CodeCacheState = 'used' | 'rejected' | 'missing' | 'off';

const bundleFile = fileURLToPath(new URL('./edgeprune.cjs', import.meta.url));

/** The flags the process runs with, as far as they decide which of the two caches can match. */
function relaxedFlag(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return flags.some((f) => f.includes('relaxed-simd') || f.includes('relaxed_simd'));
}

/** The cache file for this process's flags. */
export function codeCacheFile(relaxed = relaxedFlag()): string {
  return bundleFile.replace(/\.cjs$/, relaxed ? '.relaxed-simd.cache' : '.cache');
}

function readCache(): Buffer | undefined {
  try {
    return readFileSync(codeCacheFile());
  } catch {
    return undefined;
  }
}

const source = readFileSync(bundleFile, 'utf8');
const wanted = process.env.EDGEPRUNE_CODE_CACHE !== '0';
const cachedData = wanted ? readCache() : undefined;
// Node's own CommonJS wrapper, so the bundle runs as if require()d
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundleFile, cachedData });

export const codeCache: CodeCacheState = !wanted ? 'off' : !cachedData ? 'missing' : script.cachedDataRejected ? 'rejected' : 'used';

const mod = { exports: {} as Record<string, unknown> };
(script.runInThisContext() as (...a: unknown[]) => void)(mod.exports, createRequire(bundleFile), mod, bundleFile, dirname(bundleFile));

/** The three public entries' namespaces (src/node-entry.ts). */
export const { lib, train, fit } = mod.exports as Record<'lib' | 'train' | 'fit', Record<string, unknown>>;

/** The code cache of everything compiled so far in this process (the build writes it after a warm-up). */
export function createCodeCache(): Buffer {
  return script.createCachedData();
}
