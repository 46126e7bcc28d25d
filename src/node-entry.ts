// The code behind Node's entries ('edgeprune', 'edgeprune/train', 'edgeprune/fit' under the
// node-addons condition): one CommonJS bundle (dist/node/edgeprune.cjs) that src/node/load.ts
// compiles with the V8 code cache the build wrote. One bundle for the three, so they share one
// copy of the classes and one kernel instance, as the split ESM build's chunks do.
export * as lib from './index.js';
export * as train from './train-entry.js';
export * as fit from './fit-entry.js';
