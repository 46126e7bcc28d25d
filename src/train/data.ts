// Labelled datasets for training and evaluation: X as float32 samples (NCHW or rows), y as class
// indices. Built from .npy files (what Python users have) or from arrays, validated once here so
// the training loop can trust them.
import { DataError } from '../errors.js';
import { readNpy } from '../io/npy.js';
import { Rng } from './rng.js';

export interface Dataset {
  /** n samples of sampleDims each, contiguous. */
  x: Float32Array;
  /** Dims of one sample, e.g. [1, 28, 28] or [784]. */
  sampleDims: number[];
  /** Class index per sample. */
  y: Int32Array;
  n: number;
  /** Number of classes (labels are 0 .. classes - 1). */
  classes: number;
}

const sizeOf = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * A dataset from arrays. Checks that X holds n whole samples, that y has n labels, that every
 * label is an integer in [0, classes) and every X value is finite; `classes` defaults to max(y) + 1.
 */
export function dataset(x: Float32Array, sampleDims: readonly number[], y: ArrayLike<number | bigint>, classes?: number): Dataset {
  const per = sizeOf(sampleDims);
  if (!sampleDims.length || sampleDims.some((d) => !Number.isInteger(d) || d <= 0)) throw new DataError(`sample dims [${sampleDims.join(', ')}] must be positive integers`);
  if (x.length % per !== 0) throw new DataError(`X has ${x.length} values, not a whole number of samples of [${sampleDims.join(', ')}] (${per} values each)`);
  const n = x.length / per;
  if (y.length !== n) throw new DataError(`X has ${n} samples but y has ${y.length} labels; they must be the same length`);
  if (n === 0) throw new DataError('the dataset is empty');
  const labels = new Int32Array(n);
  let max = 0;
  for (let i = 0; i < n; i++) {
    const v = Number(y[i]);
    if (!Number.isInteger(v) || v < 0) throw new DataError(`label ${String(y[i])} at index ${i} is not a class index (want an integer >= 0)`);
    labels[i] = v;
    if (v > max) max = v;
  }
  const k = classes ?? max + 1;
  if (!Number.isInteger(k) || k < 1) throw new DataError(`classes must be a positive integer, got ${classes}`);
  if (max >= k) throw new DataError(`label ${max} at index ${labels.indexOf(max)} is outside 0..${k - 1} (the model has ${k} classes)`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new DataError(`X holds ${x[i]} at sample ${Math.floor(i / per)}, element ${i % per}; training and evaluation need finite values (clean or drop that sample)`);
  }
  return { x, sampleDims: [...sampleDims], y: labels, n, classes: k };
}

/** A dataset from .npy bytes: X float32 or float64 with the samples along axis 0, y integer class indices. */
export function datasetFromNpy(xBytes: Uint8Array, yBytes: Uint8Array, classes?: number): Dataset {
  const X = readNpy(xBytes);
  const Y = readNpy(yBytes);
  if (X.dtype !== 'float32' && X.dtype !== 'float64') throw new DataError(`X is ${X.dtype}; it must be float32 or float64 (np.save(X.astype(np.float32)))`);
  if (X.dims.length < 2) throw new DataError(`X has dims [${X.dims.join(', ')}]; it needs the samples along axis 0 and at least one more axis`);
  if (Y.dtype === 'float32' || Y.dtype === 'float64' || Y.dtype === 'bool') throw new DataError(`y is ${Y.dtype}; it must hold integer class indices (np.save(y.astype(np.int64)))`);
  if (Y.dims.length !== 1) throw new DataError(`y has dims [${Y.dims.join(', ')}]; it must be one label per sample (1-D)`);
  const x = X.data instanceof Float32Array ? X.data : Float32Array.from(X.data as Float64Array);
  return dataset(x, X.dims.slice(1), Y.data as ArrayLike<number | bigint>, classes);
}

/** The samples at these indices, as a new dataset (copies). */
export function subset(d: Dataset, indices: ArrayLike<number>): Dataset {
  const per = sizeOf(d.sampleDims);
  const x = new Float32Array(indices.length * per);
  const y = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    x.set(d.x.subarray(j * per, (j + 1) * per), i * per);
    y[i] = d.y[j];
  }
  return { x, sampleDims: [...d.sampleDims], y, n: indices.length, classes: d.classes };
}

/** The dataset in a seeded random order (a new copy). */
export function shuffled(d: Dataset, seed: number): Dataset {
  const order = Int32Array.from({ length: d.n }, (_, i) => i);
  new Rng(seed, 1).shuffle(order);
  return subset(d, order);
}

/**
 * Mini-batches in order: [start, end) sample ranges of `batchSize` (the last may be smaller,
 * or dropped with dropLast).
 */
export function* batches(d: Dataset, batchSize: number, dropLast = false): Generator<{ start: number; end: number }> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new DataError(`batch size must be a positive integer, got ${batchSize}`);
  for (let s = 0; s < d.n; s += batchSize) {
    const e = Math.min(d.n, s + batchSize);
    if (dropLast && e - s < batchSize) return;
    yield { start: s, end: e };
  }
}
