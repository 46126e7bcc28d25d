// The compiled model (version 3 of the .epm container, layout.ts): one model, planned and packed
// for fixed input dims by `edgeprune compile` (src/compile/), held as what edgeprune/runtime needs
// to run it and nothing else: no graph, no planner, no packing code.
//
//   plan section (UTF-8 JSON, CompiledPlan below)
//   image section: the kernels' wasm memory after the full runtime packed the weights and laid
//     out the arena: segments, each u32 offset, u32 length, the bytes, zero-padded to 4. Memory
//     outside the segments is zero (a fresh wasm memory, or the module's own static data).
//   calls section: one run, in order: per call a varint index into plan.functions, a varint
//     argument count, and each argument as a varint 2·v for an integer 0 ≤ v < 2^53, or the
//     varint 1 followed by the little-endian float64.
//
// The image and calls hold byte offsets into wasm memory: they are exact only for the kernel
// build that made them, which plan.buildId names (the wasm exports the same number as build_id).
import type { SessionInfo } from '../runtime/session.js';

export interface CompiledValue {
  name: string;
  dims: number[];
  /** Byte offset of the float32 data in wasm memory. */
  ptr: number;
  /** An output that is a constant of the model: its values (ptr is then 0). */
  values?: number[];
}

export interface CompiledPlan {
  /** The kernel build the image and calls are for (the wasm's build_id). */
  buildId: number;
  /** Wasm memory bytes the model runs in (whole pages): static data, weights, tables, arena. */
  memoryBytes: number;
  /** Export names the calls refer to by index. */
  functions: string[];
  /** Number of calls in the calls section. */
  calls: number;
  inputs: CompiledValue[];
  outputs: CompiledValue[];
  /** session.info() of the full runtime at compile time (kernels: the build it was compiled with). */
  info: SessionInfo;
}

/** A call of the run: the export's index in plan.functions and its arguments. */
export type CompiledCall = [number, number[]];
