// `--input [NAME=]FILE.npy`: which file feeds which model input, and its data as a float32 feed.
import type { NpyArray } from '../io/npy.js';
import { shapeText } from '../io/npy.js';
import { CliError, CliUsageError } from './errors.js';
import { dimsText } from './format.js';
import { isFile } from './files.js';

export interface Assignment {
  name: string;
  file: string;
}

const list = (names: readonly string[]) => (names.length ? names.map((n) => `'${n}'`).join(', ') : '(none)');

/**
 * Pairs each spec with a model input. `NAME=FILE` names the input (the first prefix before an '='
 * that is an input name, so names and paths may hold '='; an existing file whose name holds '='
 * counts as a bare FILE); a bare FILE takes the next input, in model order, that no NAME= claimed.
 */
export async function assignInputs(specs: readonly string[], inputNames: readonly string[], fileExists: (p: string) => Promise<boolean> = isFile): Promise<Assignment[]> {
  const named = new Map<string, string>();
  const positional: string[] = [];
  for (const spec of specs) {
    let name: string | undefined;
    for (let i = spec.indexOf('='); i >= 0; i = spec.indexOf('=', i + 1)) {
      if (inputNames.includes(spec.slice(0, i))) {
        name = spec.slice(0, i);
        break;
      }
    }
    if (name !== undefined) {
      const file = spec.slice(name.length + 1);
      if (!file) throw new CliUsageError(`--input ${spec} names no file; write --input ${name}=FILE.npy`);
      const before = named.get(name);
      if (before !== undefined) throw new CliError(`input '${name}' is given twice (--input ${name}=${before} and --input ${spec})`);
      named.set(name, file);
    } else if (spec.includes('=') && !(await fileExists(spec))) {
      const eq = spec.indexOf('=');
      if (eq === 0) throw new CliUsageError(`--input ${spec} has an empty NAME; write --input NAME=FILE.npy or --input FILE.npy`);
      throw new CliError(`unknown input '${spec.slice(0, eq)}' in --input ${spec}; the model's inputs are ${list(inputNames)}`);
    } else {
      positional.push(spec);
    }
  }
  const free = inputNames.filter((n) => !named.has(n));
  if (positional.length > free.length) {
    const claimed = named.size ? ` (${named.size} of them given by name)` : '';
    throw new CliError(`too many --input files: ${specs.length} given, but the model has ${inputNames.length} input${inputNames.length === 1 ? '' : 's'}${claimed}: ${list(inputNames)}`);
  }
  positional.forEach((file, i) => named.set(free[i]!, file));
  const missing = inputNames.filter((n) => !named.has(n));
  if (missing.length) {
    throw new CliError(`no --input for the model's input${missing.length === 1 ? '' : 's'} ${list(missing)}; pass --input ${missing[0]}=FILE.npy (inputs in order: ${list(inputNames)})`);
  }
  return inputNames.map((name) => ({ name, file: named.get(name)! }));
}

const INTEGER_TYPES = new Set(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool']);

/**
 * The array as float32: float64 narrowed (with a note); integers (token ids, uint8 images) converted
 * exactly when the model declares that input an integer type, refused past 2^24 (the largest
 * integer run-time float32 values hold exactly). Anything else is an error naming the input.
 */
export function asFloat32(arr: NpyArray, input: Assignment, note: (text: string) => void, declared?: string): Float32Array {
  if (arr.dtype === 'float32') return arr.data as Float32Array;
  if (arr.dtype === 'float64') {
    note(`note: input '${input.name}' (${input.file}) is float64; converted to float32`);
    return Float32Array.from(arr.data as Float64Array);
  }
  if (declared && INTEGER_TYPES.has(declared) && INTEGER_TYPES.has(arr.dtype)) {
    const out = new Float32Array(arr.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = Number(arr.data[i]);
      if (Math.abs(v) > 2 ** 24) throw new CliError(`input '${input.name}': ${input.file} holds ${v} at position ${i}, past 2^24 = 16777216, the largest integer edgeprune's float32 values hold exactly`);
      out[i] = v;
    }
    return out;
  }
  const takes = declared && INTEGER_TYPES.has(declared) ? `takes ${declared} (as float32)` : 'takes float32';
  throw new CliError(`input '${input.name}' ${takes}, but ${input.file} holds ${arr.dtype}; save it with np.save(path, arr.astype(np.float32))`);
}

/** Rank and every fixed (positive number) dim must match; symbolic dims take anything. */
export function checkDims(input: Assignment, dims: readonly number[], expected: readonly (number | string)[] | undefined): void {
  if (!expected) return;
  const ok = dims.length === expected.length && expected.every((e, i) => typeof e !== 'number' || e <= 0 || e === dims[i]);
  if (!ok) throw new CliError(`input '${input.name}': ${input.file} has shape ${shapeText(dims)}, the model expects ${dimsText(expected)}`);
}
