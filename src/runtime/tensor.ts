// The tensor type of the public API, shaped like onnxruntime-web's so code moves over unchanged.
import { InputError } from '../errors.js';

export type TensorType = 'float32';

export class Tensor {
  readonly type: TensorType;
  readonly data: Float32Array;
  readonly dims: readonly number[];

  constructor(type: TensorType, data: Float32Array | number[], dims?: readonly number[]);
  constructor(data: Float32Array, dims?: readonly number[]);
  constructor(a: TensorType | Float32Array, b?: Float32Array | number[] | readonly number[], c?: readonly number[]) {
    let type: string;
    let data: unknown;
    let dims: readonly number[] | undefined;
    if (typeof a === 'string') {
      type = a;
      data = b;
      dims = c;
    } else {
      type = 'float32';
      data = a;
      dims = b as readonly number[] | undefined;
    }
    if (type !== 'float32') throw new InputError(`Tensor type '${type}' is not supported; edgeprune computes in float32: convert the data with Float32Array.from(data, Number) (integers such as token ids are exact below 2^24)`);
    if (Array.isArray(data)) {
      // a string or null (a JSON body posted to a Worker) would become NaN or 0 without a word
      const bad = data.findIndex((v) => typeof v !== 'number');
      if (bad >= 0) throw new InputError(`Tensor data[${bad}] is ${data[bad] === null ? 'null' : `a ${typeof data[bad]}`}; float32 tensors take numbers`);
      data = Float32Array.from(data as number[]);
    }
    if (!(data instanceof Float32Array)) throw new InputError(`Tensor data for type 'float32' must be a Float32Array or an array of numbers, got ${Object.prototype.toString.call(data)}`);
    const d = dims ?? [data.length];
    if (!Array.isArray(d) || d.some((v) => !Number.isInteger(v) || v < 0)) throw new InputError(`Tensor dims must be non-negative integers, got ${JSON.stringify(d)}`);
    const n = d.reduce((x: number, y: number) => x * y, 1);
    if (n !== data.length) throw new InputError(`Tensor dims [${d.join(', ')}] need ${n} elements but the data has ${data.length}`);
    this.type = 'float32';
    this.data = data;
    this.dims = Object.freeze([...d]);
  }

  get size(): number {
    return this.data.length;
  }

  /** Where the data lives, as onnxruntime-web's Tensor.location says: always the CPU here. */
  get location(): 'cpu' {
    return 'cpu';
  }

  /** The same data under other dims (shared, not copied), as onnxruntime-web's Tensor.reshape. */
  reshape(dims: readonly number[]): Tensor {
    return new Tensor('float32', this.data, dims);
  }

  /** The data, as onnxruntime-web's getData() gives it (edgeprune's tensors always live on the CPU). */
  async getData(): Promise<Float32Array> {
    return this.data;
  }

  /** Nothing to free (the data is a plain Float32Array): here so onnxruntime-web code runs unchanged. */
  dispose(): void {}
}
