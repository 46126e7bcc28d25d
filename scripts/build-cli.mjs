// Bundles the `edgeprune` command into dist/cli/edgeprune.mjs (two levels under the package root,
// like src/cli/, so the default wasm URL and package.json resolve the same from both). Packages in
// node_modules (commander) stay external: they are the package's dependencies.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/cli/edgeprune.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
console.log('built dist/cli/edgeprune.mjs');
