// compileModel: a model planned and packed for fixed input dims, stored as what edgeprune/runtime
// needs to run it (src/format/compiled-layout.ts): the wasm memory image after the full runtime
// packed the weights and laid out the arena, and the kernel calls of one run, recorded.
//
// Recording is sound only where a run is the same kernel calls whatever the input values: the
// executors' run() does nothing but call kernels with pointers and sizes fixed by the plan. The
// compiler checks that rather than trusting it: it records two runs on different random inputs
// and requires the same calls, then replays the record on fresh kernels (as edgeprune/runtime
// will) and requires outputs bit-identical to the full runtime's on a third input.
import { ArgumentError, CompileError, InputError } from '../errors.js';
import { InferenceSession, type SessionOptions } from '../runtime/session.js';
import { Tensor } from '../runtime/tensor.js';
import { modelBytes } from '../runtime/model-source.js';
import { loadKernels, type WasmSource } from '../wasm/loader.js';
import type { Kernels } from '../wasm/kernels.js';
import type { CompiledCall, CompiledPlan } from '../format/compiled-layout.js';
import { readCompiled } from '../format/read-compiled.js';
import { runCompiled, restoreImage, bindCalls } from '../runtime-compiled/replay.js';
import { writeCompiled, type Segment } from './write-compiled.js';

export interface CompileOptions extends Pick<SessionOptions, 'freeDimensionOverrides' | 'kernels' | 'width' | 'memoryBudget'> {
  /**
   * The kernel build to plan with (default 'simd'): its kernel choices and memory layout are
   * recorded. A compiled model runs on either build of the same edgeprune version; bit-identical
   * results need the same build.
   */
  wasm?: WasmSource;
}

/** Bytes of a compiled model for `model` (ONNX or .epm bytes, or a path / URL) at its planned dims. */
export async function compileModel(model: Uint8Array | string | URL, options: CompileOptions = {}): Promise<Uint8Array> {
  const bytes = model instanceof Uint8Array ? model : await modelBytes(model);
  const wasm = options.wasm ?? 'simd';
  const k = await loadKernels(wasm);
  const recorder = instrument(k);
  const session = await InferenceSession.open(bytes, Promise.resolve(k), { ...options, wasm });
  checkDimsGiven(session.inputMetadata, options.freeDimensionOverrides ?? {});
  const io = session.planIO();
  if (!io) {
    const symbolic = session.inputMetadata.flatMap((m) => m.shape.filter((d): d is string => typeof d === 'string'));
    throw new InputError(`the model has no plan with its symbolic dims (${[...new Set(symbolic)].join(', ')}) at 1: give them sizes (freeDimensionOverrides, or --dim NAME=VALUE on the command line) to compile it for`);
  }
  // the model's dims are the planned ones now: its info says so (no symbolic dims left to give)
  const planned = session.info();
  const fixed = <T extends { dims: (number | string)[]; plannedDims: number[] }>(v: T): T => ({ ...v, dims: v.plannedDims });
  const info = { ...planned, inputs: planned.inputs.map(fixed), outputs: planned.outputs.map(fixed) };
  const feeds = (seed: number) => Object.fromEntries(io.inputs.map((v, i) => [v.name, new Tensor('float32', randomFloats(v.dims, seed * 31 + i), v.dims)]));
  // a first run before the image: executors that make a table for the dims they see on their first
  // run (a sparse conv's tap offsets for the padded width) keep it in a heap block the image needs
  await runOn(session, feeds(0));
  const image = snapshot(new Uint8Array(k.f32.buffer), k.heap.liveBlocks().filter(([p]) => p !== io.arena));
  const memoryBytes = k.f32.buffer.byteLength;

  const record = async (seed: number) => {
    recorder.calls = [];
    const out = await runOn(session, feeds(seed));
    const calls = recorder.calls;
    recorder.calls = undefined;
    return { out, calls };
  };
  const a = await record(1);
  const b = await record(2);
  if (recorder.returned) throw notTraceable(`the kernel ${recorder.returned} returned a value the host reads during the run`);
  const differs = a.calls.findIndex((c, i) => c[0] !== b.calls[i]?.[0] || c[1].some((v, j) => !Object.is(v, b.calls[i][1][j])));
  if (differs >= 0 || a.calls.length !== b.calls.length) {
    throw notTraceable(`its kernel calls depend on the input values (call ${differs >= 0 ? differs : Math.min(a.calls.length, b.calls.length)}: ${a.calls[differs]?.[0] ?? 'none'}), as with indices or quantization ranges computed from the data`);
  }
  const functions = [...new Set(a.calls.map((c) => c[0]))];
  const index = new Map(functions.map((f, i) => [f, i]));
  const calls: CompiledCall[] = a.calls.map(([f, args]) => [index.get(f)!, args]);
  // JSON has no NaN or Infinity
  if (io.outputs.some((o) => o.constant?.some((x) => !Number.isFinite(x)))) throw notTraceable('an output is a constant holding NaN or Infinity');
  const plan: CompiledPlan = {
    buildId: k.buildId,
    memoryBytes,
    functions,
    calls: calls.length,
    inputs: io.inputs.map((v) => ({ name: v.name, dims: v.dims, ptr: v.ptr })),
    outputs: io.outputs.map((o) => (o.constant ? { name: o.name, dims: o.dims, ptr: 0, values: Array.from(o.constant) } : { name: o.name, dims: o.dims, ptr: o.ptr })),
    info,
  };
  const compiled = writeCompiled(plan, image, calls);
  await verify(compiled, wasm, feeds(3), await runOn(session, feeds(3)));
  await session.release();
  return compiled;
}

/**
 * A compiled model runs at one size: every symbolic dim past an input's first axis must be given
 * (planned at 1, an image would be 1 pixel wide), and every name given must be one of them.
 */
function checkDimsGiven(inputs: readonly { name: string; shape: readonly (number | string)[] }[], given: Record<string, number>): void {
  const symbolic = [...new Set(inputs.flatMap((i) => i.shape.filter((d): d is string => typeof d === 'string')))];
  const unknown = Object.keys(given).find((n) => !symbolic.includes(n));
  if (unknown !== undefined) throw new ArgumentError(`freeDimensionOverrides names '${unknown}', which is no symbolic dim of the model's inputs (${symbolic.length ? `theirs are ${symbolic.join(', ')}` : 'their dims are all fixed'})`);
  const unset = [...new Set(inputs.flatMap((i) => i.shape.slice(1).filter((d): d is string => typeof d === 'string' && !(d in given))))];
  if (unset.length) throw new ArgumentError(`a compiled model runs at one size: give the symbolic dims ${unset.join(', ')} their sizes (freeDimensionOverrides, or --dim NAME=VALUE on the command line); a leading batch dim left out is compiled at 1`);
}

/**
 * A run on the compiler's random inputs. A model that refuses them (ids checked at run time) works
 * on input values on the host, which a compiled model cannot do.
 */
async function runOn(session: InferenceSession, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  try {
    return await session.run(feeds);
  } catch (e) {
    if (e instanceof InputError) throw notTraceable(`it checks its input values on the host during the run (on random inputs: ${e.message})`);
    throw e;
  }
}

interface Recorder {
  /** The calls of the run being recorded, or undefined when none is. */
  calls: [string, number[]][] | undefined;
  /** The first kernel that returned a value during a recorded run. */
  returned: string;
}

/**
 * Wraps every function the executors will capture from k.fn (they take their kernels when they
 * are built, so this happens before the session exists) to record calls while a run is recorded.
 */
function instrument(k: Kernels): Recorder {
  const rec: Recorder = { calls: undefined, returned: '' };
  const wrapped: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(k.fn)) {
    if (typeof f !== 'function') {
      wrapped[name] = f;
      continue;
    }
    wrapped[name] = (...args: number[]) => {
      const r = f(...args);
      if (rec.calls) {
        rec.calls.push([name, args]);
        if (r !== undefined) rec.returned ||= name;
      }
      return r;
    };
  }
  (k as { fn: unknown }).fn = wrapped;
  return rec;
}

/**
 * The heap's live blocks but the arena (which every run writes before it reads), as segments of
 * non-zero bytes (zero gaps under 64 bytes stay inside a segment: a segment header is 8 bytes).
 * Freed blocks are left out: what they hold is garbage. Static data below the heap is the
 * module's own, restored by instantiating it; the kernels keep only scratch there.
 */
function snapshot(mem: Uint8Array, blocks: [number, number][]): Segment[] {
  const segments: Segment[] = [];
  const words = new Uint32Array(mem.buffer, 0, mem.length >> 2);
  for (const [ptr, bytes] of blocks) nonZeroRuns(mem, words, ptr >> 2, (ptr + bytes) >> 2, segments);
  return segments;
}

function nonZeroRuns(mem: Uint8Array, words: Uint32Array, from: number, n: number, segments: Segment[]): void {
  let i = from;
  while (i < n) {
    while (i < n && words[i] === 0) i++;
    if (i >= n) break;
    const start = i;
    let end = i;
    for (let zeros = 0; i < n && zeros < 16; i++) {
      if (words[i] !== 0) {
        zeros = 0;
        end = i + 1;
      } else zeros++;
    }
    segments.push({ offset: start * 4, bytes: mem.slice(start * 4, end * 4) });
    i = end;
  }
}

async function verify(compiled: Uint8Array, wasm: WasmSource, feeds: Record<string, Tensor>, expected: Record<string, Tensor>): Promise<void> {
  const model = readCompiled(compiled);
  const k = await loadKernels(wasm);
  restoreImage(k.fn.memory as unknown as WebAssembly.Memory, model.image, model.plan.memoryBytes);
  const out = runCompiled(model.plan, bindCalls(k.fn, model.plan, model.calls), k.fn.memory as unknown as WebAssembly.Memory, feeds);
  for (const name of Object.keys(expected)) {
    const want = expected[name].data as Float32Array, got = out[name].data as Float32Array;
    const i = want.findIndex((v, j) => !Object.is(v, got[j]));
    if (i >= 0 || want.length !== got.length) throw notTraceable(`replaying its kernel calls gave output '${name}'[${i}] = ${got[i]}, where the full runtime gives ${want[i]}: some node works on the host during the run`);
  }
}

function notTraceable(why: string): CompileError {
  return new CompileError(`this model cannot be compiled: ${why}. Run it with edgeprune/runtime/dynamic or the full edgeprune package instead`);
}

/** Reproducible values in [-1, 1) (a linear congruential generator): inputs for the checks. */
function randomFloats(dims: number[], seed: number): Float32Array {
  const out = new Float32Array(dims.reduce((a, b) => a * b, 1));
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

