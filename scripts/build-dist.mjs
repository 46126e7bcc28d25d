// Bundles the library (dist/lib/index.mjs, the package's main entry) and the `edgeprune` command
// (dist/cli/edgeprune.mjs). Both sit two levels under the package root, like src/wasm/, so the
// default wasm URL resolves the same from sources and bundles. The command-line bundles keep
// node_modules packages external (the package's dependencies); the library entries inline protobufjs.
//
// The *.web.mjs bundles are what package.json "exports" gives browsers, bundlers and Workers
// (conditions browser / workerd / worker): self-contained (protobufjs inlined, no bare imports,
// so they also load from a plain static server), no Node built-ins (node:fs and node:module are
// replaced by stubs that throw, reached only where a Node-only path would be taken), and no
// `eval` / `new Function` (test/runtime-bundles.test.ts scans every bundle here).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { relative, resolve } from 'node:path';

const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' };
// Minified lines of the Node-facing bundles stay short: Node prints the source line of an uncaught
// error above its message, and one 90 kB line buried the message (the web runtime bundles keep
// their single line: browsers show positions, not lines, and every byte there is shipped)
const LINE_LIMIT = 200;
const web = { bundle: true, platform: 'browser', format: 'esm', target: 'es2022', logLevel: 'warning' };

// Node built-ins the web bundles must not import: each becomes a module whose functions throw.
// node:fs is read only for file: URLs (the default wasm location under Node/Deno), node:module
// only by loadMnist (the `mnist` package is a Node package); callers turn the throw into a typed error.
const noNodeBuiltins = {
  name: 'no-node-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:(fs|module)$/ }, (args) => ({ path: args.path, namespace: 'node-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, (args) => ({
      contents: `const no = () => { throw new Error('${args.path} is not available in this runtime'); };
        export const readFileSync = no, createRequire = () => no; export default { readFileSync, createRequire };`,
      loader: 'js',
    }));
  },
};

// protobufjs 8 tries require("long") for 64-bit integers; our decoder reads int64 varints itself
// (src/onnx/decode.ts) and the encoder writes numbers, so `long` (~25 kB, and a wasm module it
// compiles when loaded) is left out: util.Long = null.
const noLong = {
  name: 'no-long',
  setup(b) {
    b.onResolve({ filter: /^long$/ }, () => ({ path: 'long', namespace: 'no-long' }));
    b.onLoad({ filter: /.*/, namespace: 'no-long' }, () => ({ contents: 'module.exports = null;', loader: 'js' }));
  },
};

// Minifying renames classes, and the typed errors take their `name` from the class (new.target.name):
// pin each exported class's name so `err.name` stays 'InputError' etc. (esbuild's keepNames would do it
// for every function, at 2.7 kB gzipped on the runtime bundle).
const errorNames = {
  name: 'error-names',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]errors\.ts$/ }, async (args) => {
      const src = await readFile(args.path, 'utf8');
      const classes = [...src.matchAll(/^export class (\w+)/gm)].map((m) => m[1]);
      return { contents: src + classes.map((c) => `\nObject.defineProperty(${c}, 'name', { value: '${c}' });`).join(''), loader: 'ts' };
    });
  },
};

// 'edgeprune', 'edgeprune/train' and 'edgeprune/fit' in one build with code splitting: the code
// they share (errors, Graph, kernels, the wasm instance) lives once in dist/chunks/, so an error
// thrown by fit() is an instance of the class 'edgeprune' exports, and the three share one kernel
// instance. dist/chunks/ is two levels under the root too, so the default wasm URL still resolves.
// Minified, with protobufjs inlined (without `long`): importing the package is part of every
// cold start, and one minified file parses faster than ~20 CommonJS files resolved one by one.
await rm('dist/chunks', { recursive: true, force: true }); // hashed names: drop the old ones
const split = await build({
  bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning', minify: true, lineLimit: LINE_LIMIT, plugins: [noLong, errorNames], metafile: true,
  entryPoints: { 'lib/index': 'src/index.ts', 'train/index': 'src/train-entry.ts', 'fit/index': 'src/fit-entry.ts' },
  outdir: 'dist', splitting: true, chunkNames: 'chunks/[name]-[hash]', outExtension: { '.js': '.mjs' },
});
console.log('built dist/lib/index.mjs, dist/train/index.mjs, dist/fit/index.mjs (+ dist/chunks/)');

// Node's entries (package.json "node-addons" condition, which Node sets and bundlers do not): the
// same APIs from CommonJS bundles that dist/node/load.mjs compiles, the main one with a V8 code
// cache (src/node/load.ts says why). esbuild splits no CommonJS output, so the bundles share code
// by hand, like the split build's chunks: each later bundle takes the modules it shares with an
// earlier one from that bundle's module table (`__modules`) instead of carrying a second copy, so
// all share one copy of each class and one kernel instance. The pruning methods' dynamic import()
// loads prune.cjs (a bundle of its own, as in the split build): an inference cold start compiles
// neither the pruning, training nor fitting code, and the main bundle keeps esbuild's scope
// hoisting (a lazily imported module inside it would wrap every module it reaches in a function,
// parsed twice). In the bundles, import.meta.url is the bundle's own URL (the default wasm location
// resolves as from src/) and import('node:fs') a require().
await rm('dist/node', { recursive: true, force: true });
const nodeBundles = [
  { name: 'lib', file: 'edgeprune.cjs', exports: ['./index.js'] },
  { name: 'prune', file: 'prune.cjs', exports: ['./prune/index.js', './prune/calibration.js'] },
  { name: 'train', file: 'train.cjs', exports: ['./train-entry.js'] },
  { name: 'fit', file: 'fit.cjs', exports: ['./fit-entry.js'] },
];
const cjs = {
  bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning', minify: true, lineLimit: LINE_LIMIT, supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__edgeprune_url' }, banner: { js: 'var __edgeprune_url=require("node:url").pathToFileURL(__filename).href;' },
};
// the bundle a dynamic import() of the pruning code loads (src/prune/lazy.ts); __edgeprune_bundle is
// the loader's function (a parameter of every bundle's wrapper) that returns a bundle's exports
const lazyPrune = {
  name: 'lazy-prune',
  setup(b) {
    b.onResolve({ filter: /^\.\/(index|calibration)\.js$/ }, (args) => (args.kind === 'dynamic-import' && args.importer.endsWith('src/prune/lazy.ts') ? { path: 'prune', namespace: 'lazy-bundle' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lazy-bundle' }, () => ({ contents: 'module.exports = __edgeprune_bundle("prune");', loader: 'js' }));
  },
};
const entryOf = (bundle, table = []) => ({
  contents: bundle.exports.map((e) => `export * from '${e}';`).join('\n') + '\n' +
    table.map((f, i) => `import * as m${i} from './${f.slice(4).replace(/\.ts$/, '.js')}';`).join('\n') + '\n' +
    `export const __modules = { ${table.map((f, i) => `${JSON.stringify(f)}: m${i}`).join(', ')} };\n`,
  resolveDir: 'src', sourcefile: `${bundle.file}-entry.ts`, loader: 'ts',
});
// each bundle's src files, and what each imports (the entry is src/<file>-entry.ts)
const graphs = await Promise.all(nodeBundles.map(async (bundle) => {
  const { inputs } = (await build({ ...cjs, plugins: [lazyPrune, noLong], stdin: entryOf(bundle), write: false, metafile: true })).metafile;
  return new Map(Object.entries(inputs).filter(([f]) => f.startsWith('src/')).map(([f, v]) => [f, v.imports.map((i) => i.path).filter((p) => p.startsWith('src/'))]));
}));
// which bundle owns each module (the first that has it), and what each later bundle takes from a
// table: the modules its own modules import directly (what those import in turn comes with them)
const owner = new Map();
const entryKey = (b) => `src/${b.file}-entry.ts`;
nodeBundles.forEach((b, i) => { for (const f of graphs[i].keys()) if (f !== entryKey(b) && !owner.has(f)) owner.set(f, b.name); });
const taken = nodeBundles.map((b, i) => {
  const shared = new Map();
  const seen = new Set();
  const visit = (f) => {
    if (seen.has(f)) return;
    seen.add(f);
    if (f !== entryKey(b) && owner.get(f) !== b.name) return void shared.set(f, owner.get(f));
    for (const g of graphs[i].get(f) ?? []) visit(g);
  };
  visit(entryKey(b));
  return shared;
});
const tables = new Map(nodeBundles.map((b) => [b.name, [...new Set(taken.flatMap((t) => [...t].filter(([, o]) => o === b.name).map(([f]) => f)))]]));
const fromTables = (shared) => ({
  name: 'shared-modules',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const file = relative(process.cwd(), resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts')));
      return shared.has(file) ? { path: file, namespace: 'shared-module' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'shared-module' }, (args) => ({ contents: `module.exports = __edgeprune_bundle(${JSON.stringify(shared.get(args.path))}).__modules[${JSON.stringify(args.path)}];`, loader: 'js' }));
  },
});
await Promise.all([
  ...nodeBundles.map((b, i) => build({ ...cjs, plugins: [lazyPrune, fromTables(taken[i]), noLong, errorNames], stdin: entryOf(b, tables.get(b.name)), outfile: `dist/node/${b.file}` })),
  build({ ...common, entryPoints: ['src/node/load.ts'], outfile: 'dist/node/load.mjs', minify: true }),
]);
// one small ESM file per entry, exporting the names its split-build twin exports
for (const [entry, file, load] of [['lib/index', 'index', 'loadLib'], ['train/index', 'train', 'loadTrain'], ['fit/index', 'fit', 'loadFit']]) {
  const names = split.metafile.outputs[`dist/${entry}.mjs`].exports;
  await writeFile(`dist/node/${file}.mjs`,
    `// Node's '${file === 'index' ? 'edgeprune' : `edgeprune/${file}`}' (written by scripts/build-dist.mjs; src/node/load.ts says why)\n` +
    `import { ${load} } from './load.mjs';\nexport const { ${names.join(', ')} } = ${load}();\n`);
}
// the code caches of edgeprune.cjs: a fresh process per flag set (no NODE_OPTIONS: a cache must match
// bare flags). Without a cache the entry still works, compiling from source (slower to start), so a
// failed warm-up does not fail the install; test/package-entry.test.ts fails on a missing cache.
for (const flags of [[], ['--experimental-wasm-relaxed-simd']]) {
  try {
    execFileSync(process.execPath, [...flags, 'scripts/write-code-cache.mjs'], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } });
  } catch {
    console.warn(`warning: no V8 code cache for Node ${process.version}${flags.length ? ' ' + flags.join(' ') : ''} (the warm-up above failed); edgeprune will start slower there`);
  }
}
console.log(`built dist/node/ (${nodeBundles.map((b, i) => `${b.file} taking ${taken[i].size} modules from earlier ones`).join(', ')}; the code caches; the entries)`);
await build({ ...web, entryPoints: ['src/index.ts'], outfile: 'dist/lib/index.web.mjs', minify: true, plugins: [noNodeBuiltins, noLong, errorNames] });
console.log('built dist/lib/index.web.mjs');
await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli/edgeprune.mjs' });
console.log('built dist/cli/edgeprune.mjs');
await build({ ...common, entryPoints: ['src/workflow/run-main-job.ts'], outfile: 'dist/cli/main-job.mjs' });
console.log('built dist/cli/main-job.mjs');
// edgeprune/runtime: inference only, minified; read-model.ts (ONNX or .epm) swapped for the .epm-only reader
const artifactOnly = {
  name: 'artifact-only-reader',
  setup(b) {
    b.onResolve({ filter: /\/read-model\.js$/ }, (args) => ({ path: new URL('../src/runtime/read-model-artifact.ts', import.meta.url).pathname }));
    // artifacts are simplified when written: at plan time only shape arithmetic is left to fold
    b.onResolve({ filter: /\/fold-dims\.js$/ }, () => ({ path: new URL('../src/runtime/fold-dims-artifact.ts', import.meta.url).pathname }));
  },
};
// - globalThis.EDGEPRUNE_RUNTIME: the kernels' re-checks of what the runtime's ops and planner already
//   checked are compiled out (src/kernels/check.ts says which);
// - class fields as assignments (TypeScript's pre-ES2022 semantics): no field declarations in the
//   class bodies; none of our classes can tell the difference (no field shadows an accessor, no
//   base constructor sets a subclass field).
const lean = { define: { 'globalThis.EDGEPRUNE_RUNTIME': 'true' }, tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } } };
// browsers and Workers have no files: the web runtime reads no file: URL (src/wasm/file-url-web.ts)
const noFiles = {
  name: 'no-file-urls',
  setup(b) {
    b.onResolve({ filter: /\/file-url\.js$/ }, () => ({ path: new URL('../src/wasm/file-url-web.ts', import.meta.url).pathname }));
  },
};
// edgeprune/runtime: compiled models only (src/runtime-entry.ts); edgeprune/runtime/dynamic: any .epm
// at any dims. Both sit two levels under the package root, so the default wasm URL resolves.
for (const [entry, dir] of [['src/runtime-entry.ts', 'dist/runtime'], ['src/runtime-dynamic-entry.ts', 'dist/runtime-dynamic']]) {
  await build({ ...common, ...lean, entryPoints: [entry], outfile: `${dir}/index.mjs`, minify: true, plugins: [artifactOnly, errorNames] });
  console.log(`built ${dir}/index.mjs`);
  await build({ ...web, ...lean, entryPoints: [entry], outfile: `${dir}/index.web.mjs`, minify: true, plugins: [artifactOnly, noFiles, noNodeBuiltins, errorNames] });
  console.log(`built ${dir}/index.web.mjs`);
}

// Type declarations for the two public entries (package.json "exports" → "types"), so TypeScript
// users of 'edgeprune' and 'edgeprune/runtime' (and examples/ under this repo's tsc) get the API's types.
await rm('dist/types', { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, 'src/index.ts', 'src/runtime-entry.ts', 'src/runtime-dynamic-entry.ts', 'src/train-entry.ts', 'src/fit-entry.ts', '--declaration', '--emitDeclarationOnly', '--outDir', 'dist/types', '--rootDir', 'src',
    '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--strict', '--skipLibCheck', '--types', 'node', '--lib', 'ES2022,DOM'], { stdio: ['ignore', 'ignore', 'inherit'] });
  console.log('built dist/types/');
} catch {
  // a type error in src/ still emits the declarations; `npm run typecheck` (part of npm test) reports it
  console.warn('dist/types/: emitted with type errors (see npm run typecheck)');
}
