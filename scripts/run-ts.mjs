// Runs a TypeScript entry (bench, examples) with Node: esbuild bundles it into .build/ (keeping
// node_modules packages external), then a child node runs it with relaxed SIMD enabled, which
// Node 20 only allows as a command-line flag.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { basename, dirname, join } from 'node:path';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run-ts.mjs FILE.ts [args...]');
  process.exit(2);
}
// .build/<folder>/<name>.mjs is two levels below the root, like src/wasm/, so the default wasm URL resolves.
const outfile = join('.build', basename(dirname(entry)), basename(entry).replace(/\.ts$/, '.mjs'));
await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', sourcemap: 'inline', logLevel: 'warning' });
const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--enable-source-maps', outfile, ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
