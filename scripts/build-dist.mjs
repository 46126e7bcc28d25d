// Bundles the library (dist/lib/index.mjs, the package's main entry) and the `edgeprune` command
// (dist/cli/edgeprune.mjs). Both sit two levels under the package root, like src/wasm/, so the
// default wasm URL resolves the same from sources and bundles. Packages in node_modules stay
// external: they are the package's dependencies.
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' };
await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/lib/index.mjs' });
console.log('built dist/lib/index.mjs');
await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli/edgeprune.mjs' });
console.log('built dist/cli/edgeprune.mjs');
await build({ ...common, entryPoints: ['src/workflow/run-main-job.ts'], outfile: 'dist/cli/main-job.mjs' });
console.log('built dist/cli/main-job.mjs');
// edgeprune/runtime: inference only, minified; read-model.ts (ONNX or .epm) swapped for the .epm-only reader
const artifactOnly = {
  name: 'artifact-only-reader',
  setup(b) {
    b.onResolve({ filter: /\/read-model\.js$/ }, (args) => ({ path: new URL('../src/runtime/read-model-artifact.ts', import.meta.url).pathname }));
  },
};
await build({ ...common, entryPoints: ['src/runtime-entry.ts'], outfile: 'dist/runtime/index.mjs', minify: true, plugins: [artifactOnly] });
console.log('built dist/runtime/index.mjs');
