// What InferenceSession.create takes as the model, as onnxruntime-web does: the file's bytes, or
// its name: a path or file: URL read from disk where there is one (Node, Deno, Bun), any other
// URL fetched (browsers and Workers; the web build has no file reading at all).
import { ArgumentError, ModelFormatError } from '../errors.js';
import type { DType } from '../graph/ir.js';
import { readModelFile } from '../wasm/file-url.js';

/** SessionOptions.memoryBudget's default: the most wasm memory a session may use, 1 GiB. */
export const DEFAULT_MEMORY_BUDGET = 2 ** 30;

/** SessionOptions.memoryBudget checked (a positive number of bytes), or its default. */
export function checkBudget(budget: number | undefined): number {
  if (budget === undefined) return DEFAULT_MEMORY_BUDGET;
  if (typeof budget !== 'number' || !(budget > 0)) throw new ArgumentError(`memoryBudget is ${String(budget)}; give the most bytes of wasm memory the session may use (default ${DEFAULT_MEMORY_BUDGET}, 1 GiB)`);
  return budget;
}

const WHAT = 'pass the model as bytes (a Uint8Array or ArrayBuffer), a file path or a URL';

/** An absolute URL, or undefined for a path (a Windows drive letter is a path, not a scheme). */
function absolute(name: string): URL | undefined {
  if (/^[a-zA-Z]:[\\/]/.test(name)) return undefined;
  try {
    return new URL(name);
  } catch {
    return undefined;
  }
}

export async function modelBytes(model: unknown): Promise<Uint8Array> {
  if (model instanceof Uint8Array) return model;
  if (model instanceof ArrayBuffer) return new Uint8Array(model);
  if (typeof model !== 'string' && !(model instanceof URL)) throw new ModelFormatError(`InferenceSession.create got ${Object.prototype.toString.call(model)}; ${WHAT}`);
  const url = model instanceof URL ? model : absolute(model);
  const file = await readModelFile(model, url, WHAT);
  if (file) return file;
  let response: Response;
  try {
    response = await fetch(url ?? (model as string));
  } catch (e) {
    throw new ArgumentError(`cannot fetch the model ${String(model)} (${(e as Error).message}); ${WHAT}`);
  }
  if (!response.ok) throw new ArgumentError(`fetching the model ${String(model)} gave HTTP ${response.status}; check the URL, or ${WHAT}`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * create()'s arguments in either of onnxruntime-web's forms, (model, options) or (buffer,
 * byteOffset, byteLength, options), as the model and the options.
 */
export function createArgs<O>(model: unknown, opts: O | number | undefined, byteLength: number | undefined, rest: O | undefined): { model: unknown; options: O | undefined } {
  if (typeof opts !== 'number') return { model, options: opts };
  // the typed array checks the slice (and that the buffer is an ArrayBuffer): its RangeError or
  // TypeError becomes ours
  try {
    if (ArrayBuffer.isView(model)) throw 0;
    return { model: new Uint8Array(model as ArrayBuffer, opts, byteLength), options: rest };
  } catch {
    throw new ArgumentError(`create(buffer, byteOffset ${opts}, byteLength ${byteLength}): give an ArrayBuffer and a slice within it`);
  }
}

/** An input or output as onnxruntime-web's InferenceSession.ValueMetadata describes a tensor. */
export interface ValueMetadata {
  readonly name: string;
  readonly isTensor: true;
  /** The element type the model declares (run() takes and returns float32 tensors). */
  readonly type: DType;
  /** The declared shape: sizes, and symbolic dims by name; [] when the model declares none. */
  readonly shape: readonly (number | string)[];
}

/** A session's inputMetadata / outputMetadata entry for a declared value (frozen, as both sessions hand them out). */
export const valueMetadata = (v: { name: string; dtype: DType; dims?: readonly (number | string)[] }): ValueMetadata =>
  Object.freeze({ name: v.name, isTensor: true as const, type: v.dtype, shape: Object.freeze([...(v.dims ?? [])]) });
