// Checks run()'s feeds against the model's inputs before anything touches wasm memory: every
// mistake a caller can make with them is an InputError naming the input and saying what to pass.
import { InputError } from '../errors.js';
import type { ValueInfo } from '../graph/ir.js';
import { MAX_DIM, elementCount } from '../graph/size-check.js';

/** What run() accepts per input: edgeprune's Tensor, or anything shaped like one (onnxruntime-web's). */
export interface Feed {
  type: string;
  data: unknown;
  dims: readonly number[];
}

const list = (names: readonly string[]) => names.map((n) => `'${n}'`).join(', ');
const kind = (v: unknown) => (v === null ? 'null' : typeof v !== 'object' ? typeof v : (v.constructor?.name ?? 'an object'));

/**
 * The dims and data of each model input, in the model's order. Values are not inspected: NaN and
 * Infinity pass through the model as IEEE arithmetic takes them (as in onnxruntime).
 */
export function readFeeds(inputs: readonly ValueInfo[], feeds: unknown): { dims: number[][]; data: Float32Array[] } {
  const names = inputs.map((i) => i.name);
  if (typeof feeds !== 'object' || feeds === null || Array.isArray(feeds) || ArrayBuffer.isView(feeds)) {
    throw new InputError(`run() takes an object of input tensors keyed by name (${list(names)}), got ${kind(feeds)}`);
  }
  if ('data' in feeds && 'dims' in feeds && !names.includes('data')) {
    throw new InputError(`run() takes an object of input tensors keyed by name, got a single tensor; pass { ${names[0]}: tensor }`);
  }
  const extra = Object.keys(feeds).filter((n) => !names.includes(n));
  if (extra.length) throw new InputError(`unknown input${extra.length > 1 ? 's' : ''} ${list(extra)}; the model's inputs are ${list(names)}`);
  const dims: number[][] = [];
  const data: Float32Array[] = [];
  for (const info of inputs) {
    const t = (feeds as Record<string, Feed | undefined>)[info.name];
    if (t === undefined || t === null) throw new InputError(`missing input '${info.name}'; the model's inputs are ${list(names)}`);
    if (typeof t !== 'object' || !('data' in t) || !('dims' in t)) {
      throw new InputError(`input '${info.name}' is ${kind(t)}; pass a Tensor: new Tensor('float32', data, dims)`);
    }
    if (t.type !== 'float32') {
      // a model declaring uint8 (tf2onnx image models) casts to float first: float32 values are the same
      const declared = info.dtype === 'float32' ? 'the model takes float32' : `edgeprune computes in float32, also for inputs the model declares ${info.dtype}`;
      throw new InputError(`input '${info.name}' is ${t.type}; ${declared} (pass Float32Array.from(data, Number))`);
    }
    if (!(t.data instanceof Float32Array)) throw new InputError(`input '${info.name}' has type float32 but its data is ${kind(t.data)}; pass a Float32Array`);
    const d = Array.isArray(t.dims) || ArrayBuffer.isView(t.dims) ? Array.from(t.dims as ArrayLike<number>) : undefined;
    if (!d || d.some((v) => !Number.isSafeInteger(v) || v < 0 || v > MAX_DIM)) {
      throw new InputError(`input '${info.name}' has invalid dims ${d ? `[${d.join(', ')}]` : String(t.dims)}; dims are non-negative integers`);
    }
    const n = elementCount(d);
    if (n !== t.data.length) throw new InputError(`input '${info.name}': dims [${d.join(', ')}] need ${n} values but the data has ${t.data.length}`);
    checkAgainstDeclared(info, d);
    dims.push(d);
    data.push(t.data);
  }
  return { dims, data };
}

/** Rank and fixed dims must match the declaration; symbolic dims take any size. */
function checkAgainstDeclared(info: ValueInfo, got: number[]): void {
  const declared = info.dims;
  if (!declared) return;
  const bad = declared.length !== got.length || declared.some((d, i) => typeof d === 'number' && d !== got[i]);
  if (bad) throw new InputError(`input '${info.name}' has dims [${got.join(', ')}] but the model expects [${declared.join(', ')}]`);
}
