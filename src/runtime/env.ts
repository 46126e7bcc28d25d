// onnxruntime-web's `env`, so code written for it (ort.env.wasm.numThreads = 1, ...) runs unchanged
// after switching the import. edgeprune runs its kernels on one thread, with SIMD always (relaxed
// SIMD where the host has it, see detectFlavor), and logs nothing: the settings are accepted and
// change nothing. Kernels are chosen per session: InferenceSession.create(bytes, { wasm }).

export interface Env {
  wasm: { numThreads?: number; simd?: boolean; proxy?: boolean; [setting: string]: unknown };
  logLevel?: string;
  [setting: string]: unknown;
}

export const env: Env = { wasm: { numThreads: 1, simd: true, proxy: false }, logLevel: 'warning' };
