import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Node 20 validates the relaxed-SIMD build only behind this flag (not allowed in NODE_OPTIONS);
    // --expose-gc lets test/runtime-memory.test.ts measure the JS heap after a full collection.
    execArgv: ['--experimental-wasm-relaxed-simd', '--expose-gc'],
    // onnxruntime-node writes a telemetry id under XDG_CACHE_HOME; keep it out of the user's home.
    env: { XDG_CACHE_HOME: '/tmp/edgeprune-test-cache' },
    testTimeout: 60_000,
    reporters: ['default', './test/util/plain-summary.ts'],
  },
});
