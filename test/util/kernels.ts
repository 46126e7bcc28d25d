// Loads both wasm builds once per test file. The vitest workers run with
// --experimental-wasm-relaxed-simd (vitest.config.ts), so Node 20 can run the relaxed build too.
import { loadKernels } from '../../src/wasm/loader.js';
import type { Kernels } from '../../src/wasm/kernels.js';

export const FLAVORS = ['simd', 'relaxed'] as const;

const cache = new Map<string, Promise<Kernels>>();
export function kernels(flavor: (typeof FLAVORS)[number]): Promise<Kernels> {
  let p = cache.get(flavor);
  if (!p) {
    p = loadKernels(flavor);
    cache.set(flavor, p);
  }
  return p;
}
