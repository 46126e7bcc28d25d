// Running a compiled model (src/format/compiled-layout.ts): restore its memory image, then each
// run writes the inputs where the plan says, makes the recorded kernel calls in order and copies
// the outputs out. No graph, no planner: what edgeprune/runtime ships.
import { ModelFormatError, WasmLoadError } from '../errors.js';
import type { CompiledCall, CompiledPlan } from '../format/compiled-layout.js';
import { Tensor } from '../runtime/tensor.js';

type Fn = (...args: number[]) => unknown;
/** A call ready to make: the export and its arguments. */
export type BoundCall = [Fn, number[]];

/** Grows memory to the plan's size and writes the image's segments (the rest is zero already). */
export function restoreImage(memory: WebAssembly.Memory, image: Uint8Array, memoryBytes: number): void {
  const have = memory.buffer.byteLength;
  if (memoryBytes > have) memory.grow((memoryBytes - have) / 65536);
  const mem = new Uint8Array(memory.buffer);
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  for (let at = 0; at < image.length; ) {
    const offset = view.getUint32(at, true), length = view.getUint32(at + 4, true);
    mem.set(image.subarray(at + 8, at + 8 + length), offset);
    at = (at + 8 + length + 3) & ~3;
  }
}

/** The calls with their exports looked up; a name the kernels lack means another build. */
export function bindCalls(exports: Record<string, unknown>, plan: CompiledPlan, calls: CompiledCall[]): BoundCall[] {
  const fns = plan.functions.map((name) => {
    const f = exports[name];
    if (typeof f !== 'function') throw new WasmLoadError(`the kernels have no function '${name}', which the compiled model calls: load the wasm of the edgeprune version that compiled it, or recompile the model`);
    return f as Fn;
  });
  return calls.map(([i, args]) => [fns[i], args]);
}

/** One run: feeds are checked by the caller (float32, the plan's dims). */
export function runCompiled(plan: CompiledPlan, calls: BoundCall[], memory: WebAssembly.Memory, feeds: Record<string, { data: Float32Array }>, wanted?: Set<string>): Record<string, Tensor> {
  const f32 = new Float32Array(memory.buffer);
  for (const v of plan.inputs) f32.set(feeds[v.name].data, v.ptr >> 2);
  let i = 0;
  try {
    for (; i < calls.length; i++) calls[i][0](...calls[i][1]);
  } catch (e) {
    // a call out of bounds: only a file altered after its checksum was written gets here
    if (e instanceof WebAssembly.RuntimeError) throw new ModelFormatError(`the compiled model's kernel call ${i} of ${calls.length} failed (${e.message}): the file was altered after it was written; compile the model again`);
    throw e;
  }
  if (f32.buffer !== memory.buffer) throw new ModelFormatError('the compiled model grew wasm memory during a run; recompile it with this edgeprune version');
  const out: Record<string, Tensor> = {};
  for (const o of plan.outputs) {
    if (wanted && !wanted.has(o.name)) continue;
    const n = o.dims.reduce((a, b) => a * b, 1);
    const data = o.values ? Float32Array.from(o.values) : f32.slice(o.ptr >> 2, (o.ptr >> 2) + n);
    out[o.name] = new Tensor('float32', data, o.dims);
  }
  return out;
}
