// A Cloudflare Worker that classifies input tensors with a pruned model, compiled for its input
// dims (`edgeprune compile`, model.epc), through edgeprune/runtime: ~9 kB of JS, no ONNX parser,
// no planner, no eval, no compiling wasm from bytes (Workers forbid it).
//
//   POST /   {"dims": [1, 1, 28, 28], "data": [... 784 numbers ...]}
//        →   200 {"outputs": {"logits": {"dims": [1, 10], "data": [...]}}, "top": 3, "ms": 0.4}
//        →   400 {"error": "...", "code": "E_INPUT"} when the tensor does not fit the model
//   GET  /   the model's info: inputs, outputs, parameters, planned peak memory, kernels
//
// The kernels arrive as a compiled WebAssembly.Module (wrangler imports .wasm files as
// CompiledWasm modules) and the model as an ArrayBuffer (the "Data" rule in wrangler.toml).
// The session restores the model's packed memory image: one copy of the weights, no planning.
import { InferenceSession, Tensor, EdgepruneError, detectFlavor } from 'edgeprune/runtime';
import simdWasm from 'edgeprune/wasm/simd.wasm';
import relaxedWasm from 'edgeprune/wasm/relaxed.wasm';
import model from '../model.epc';

export interface Env {
  /** 'auto' (default: relaxed SIMD where the host has it, as workerd does), 'simd' or 'relaxed'. */
  KERNELS?: string;
}

// one session per isolate, created on the first request and reused by every later one
let session: Promise<InferenceSession> | undefined;

function getSession(env: Env): Promise<InferenceSession> {
  if (!session) {
    const kernels = env.KERNELS ?? 'auto';
    const flavor = kernels === 'auto' ? detectFlavor() : kernels;
    if (flavor !== 'simd' && flavor !== 'relaxed') throw new EdgepruneError('E_ARGUMENT', `KERNELS must be 'auto', 'simd' or 'relaxed', got '${kernels}'`);
    session = InferenceSession.create(new Uint8Array(model), { wasm: flavor === 'relaxed' ? relaxedWasm : simdWasm });
    session.catch(() => (session = undefined));
  }
  return session;
}

const json = (body: unknown, status = 200): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    try {
      const s = await getSession(env);
      if (request.method === 'GET') {
        const { inputs, outputs, params, nonZeroParams, weightBytes, plannedPeakBytes, kernels } = s.info();
        return json({ inputs, outputs, params, nonZeroParams, modelBytes: model.byteLength, weightBytes, plannedPeakBytes, kernels });
      }
      if (request.method !== 'POST') return json({ error: 'use POST with {"dims": [...], "data": [...]}, or GET for the model info' }, 405);
      let body: { dims?: unknown; data?: unknown };
      try {
        body = await request.json();
      } catch {
        return json({ error: 'the body must be JSON: {"dims": [...], "data": [...]}' }, 400);
      }
      if (!Array.isArray(body?.dims) || !Array.isArray(body?.data)) return json({ error: 'the body must be {"dims": [...], "data": [...]}' }, 400);
      const t0 = performance.now();
      // Tensor and run() check everything (numbers, element count, dims against the model) and
      // throw an InputError saying what is wrong, which goes back as a 400
      const out = await s.run({ [s.inputNames[0]]: new Tensor('float32', body.data as number[], body.dims as number[]) });
      const ms = performance.now() - t0;
      const outputs = Object.fromEntries(Object.entries(out).map(([name, t]) => [name, { dims: t.dims, data: Array.from(t.data) }]));
      const first = out[s.outputNames[0]].data;
      let top = 0;
      for (let i = 1; i < first.length; i++) if (first[i] > first[top]) top = i;
      return json({ outputs, top, ms });
    } catch (e) {
      if (e instanceof EdgepruneError && e.code === 'E_INPUT') return json({ error: e.message, code: e.code }, 400);
      if (e instanceof EdgepruneError) return json({ error: e.message, code: e.code }, 500);
      throw e;
    }
  },
};
