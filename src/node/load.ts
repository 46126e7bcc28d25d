// Node's cold start, without the cost of compiling edgeprune's JavaScript: the entries under the
// node-addons condition (dist/node/*.mjs) get their code from CommonJS bundles compiled here as
// Node compiles any CommonJS file (the source wrapped in a function, through node:vm). The main
// bundle (edgeprune.cjs, what 'edgeprune' exports) comes with the V8 code cache that
// `npm run build` wrote after a warm-up (scripts/write-code-cache.mjs): the bytecode of every
// function the warm-up ran (import an ONNX file or an .epm artifact, create a session, run it),
// so a fresh process neither parses the ~300 kB bundle nor compiles those functions again.
//
// V8 takes a cache only from the same V8 version with the same flags; otherwise it rejects it and
// compiles the source as usual (slower by the time the cache saves, nothing else). Two caches are
// written: without flags, and with --experimental-wasm-relaxed-simd (the flag relaxed SIMD needs
// on Node 20). EDGEPRUNE_CODE_CACHE=0 turns the cache off (to measure what it saves).
//
// The pruning methods (prune.cjs), 'edgeprune/train' (train.cjs) and 'edgeprune/fit' (fit.cjs) are
// compiled on first use, and take the modules they share with the bundles before them from those
// bundles' module tables (scripts/build-dist.mjs): one copy of each class, one kernel instance.
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

type Api = Record<string, unknown> & { __modules: Record<string, unknown> };
type Bundle = 'lib' | 'prune' | 'train' | 'fit';
const FILES: Record<Bundle, string> = { lib: 'edgeprune.cjs', prune: 'prune.cjs', train: 'train.cjs', fit: 'fit.cjs' };

const fileOf = (name: Bundle) => fileURLToPath(new URL(`./${FILES[name]}`, import.meta.url));
const mainFile = fileOf('lib');

/** The flags the process runs with, as far as they decide which of the two caches can match. */
function relaxedFlag(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return flags.some((f) => f.includes('relaxed-simd') || f.includes('relaxed_simd'));
}

/** The cache file of edgeprune.cjs for this process's flags. */
export function codeCacheFile(relaxed = relaxedFlag()): string {
  return mainFile.replace(/\.cjs$/, relaxed ? '.relaxed-simd.cache' : '.cache');
}

function readCache(): Buffer | undefined {
  try {
    return readFileSync(codeCacheFile());
  } catch {
    return undefined;
  }
}

/** Compiles and runs one bundle in Node's own CommonJS wrapper, plus the way to the other bundles. */
function compile(name: Bundle, cachedData?: Buffer): { api: Api; script: InstanceType<typeof Script> } {
  const file = fileOf(name);
  const source = `(function (exports, require, module, __filename, __dirname, __edgeprune_bundle) {${readFileSync(file, 'utf8')}\n})`;
  const script = new Script(source, { filename: file, cachedData });
  const mod = { exports: {} as Api };
  (script.runInThisContext() as (...a: unknown[]) => void)(mod.exports, createRequire(file), mod, file, dirname(file), bundle);
  return { api: mod.exports, script };
}

const loaded = new Map<Bundle, Api>();
const wanted = process.env.EDGEPRUNE_CODE_CACHE !== '0';
const cachedData = wanted ? readCache() : undefined;
const main = compile('lib', cachedData);
loaded.set('lib', main.api);

/**
 * A bundle's exports, compiled and run on first use. Bundles reach each other through this
 * function (their wrapper's `__edgeprune_bundle`): for the modules they share, and for the
 * pruning code that edgeprune.cjs imports lazily.
 */
function bundle(name: Bundle): Api {
  let api = loaded.get(name);
  if (!api) loaded.set(name, (api = compile(name).api));
  return api;
}

export const codeCache: CodeCacheState = !wanted ? 'off' : !cachedData ? 'missing' : main.script.cachedDataRejected ? 'rejected' : 'used';

/** 'edgeprune' */
export const loadLib = (): Api => bundle('lib');

/** 'edgeprune/train', compiled on first use. */
export const loadTrain = (): Api => bundle('train');

/** 'edgeprune/fit', compiled on first use. */
export const loadFit = (): Api => bundle('fit');

/** The code cache of everything compiled in edgeprune.cjs so far (the build writes it after a warm-up). */
export function createCodeCache(): Buffer {
  return main.script.createCachedData();
}
