// Evaluation of a classifier session on a labelled dataset: accuracy (argmax of the logits along
// the last axis), and the median latency of one inference. Works on any session with the
// onnxruntime-web-style run(): ours from either format, or a fake in tests.
import { DataError, InputError } from '../errors.js';
import type { Dataset } from './data.js';

interface TensorLike {
  readonly data: unknown;
  readonly dims: readonly number[];
}

export interface EvalSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, TensorLike>): Promise<Record<string, TensorLike>>;
}

export type MakeTensor = (data: Float32Array, dims: number[]) => TensorLike;

export interface Accuracy {
  /** Correct / n, in [0, 1]. */
  accuracy: number;
  correct: number;
  n: number;
}

/**
 * Runs the dataset through the session in batches of `batch` samples (the session must accept
 * that batch: plan it with freeDimensionOverrides, or pass the model's fixed batch) and counts the
 * samples whose largest logit is their label. A fixed batch larger than what is left is padded
 * with zeros, and the padding's outputs are ignored.
 */
export async function accuracy(session: EvalSession, data: Dataset, tensor: MakeTensor, batch = 1): Promise<Accuracy> {
  if (session.inputNames.length !== 1) throw new InputError(`evaluation feeds one input, but the model has ${session.inputNames.length} (${session.inputNames.join(', ')})`);
  if (!Number.isInteger(batch) || batch < 1) throw new DataError(`batch must be a positive integer, got ${batch}`);
  const per = data.sampleDims.reduce((a, b) => a * b, 1);
  const input = session.inputNames[0];
  const output = session.outputNames[0];
  let correct = 0;
  for (let s = 0; s < data.n; s += batch) {
    const count = Math.min(batch, data.n - s);
    const x = new Float32Array(batch * per);
    x.set(data.x.subarray(s * per, (s + count) * per));
    const out = (await session.run({ [input]: tensor(x, [batch, ...data.sampleDims]) }))[output];
    const logits = out.data as Float32Array;
    const classes = out.dims[out.dims.length - 1];
    if (logits.length !== batch * classes) throw new InputError(`output '${output}' has dims [${out.dims.join(', ')}]; evaluation needs [batch, classes] logits`);
    if (classes < data.classes) throw new DataError(`the model gives ${classes} scores per sample but label ${data.classes - 1} (sample ${data.y.indexOf(data.classes - 1)}) is outside 0..${classes - 1}`);
    for (let i = 0; i < count; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
      if (best === data.y[s + i]) correct++;
    }
  }
  return { accuracy: correct / data.n, correct, n: data.n };
}

/** Median milliseconds of one run() on these feeds, over `runs` runs after `warmup` unmeasured ones. */
export async function medianLatencyMs(session: EvalSession, feeds: Record<string, TensorLike>, runs = 50, warmup = 10): Promise<number> {
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    t.push(performance.now() - t0);
  }
  return medianOfSorted(t.sort((a, b) => a - b));
}

/** The median of values sorted ascending (the mean of the middle two for an even count). */
export function medianOfSorted(sorted: readonly number[]): number {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}
