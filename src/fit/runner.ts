// Runs graphs on the calibration samples, batch by batch, optionally exposing intermediate
// values as extra outputs (the inputs and outputs of the layers being reconstructed).
import { ArgumentError, ShapeError } from '../errors.js';
import type { Graph } from '../graph/ir.js';
import { InferenceSession } from '../runtime/session.js';
import { Tensor } from '../runtime/tensor.js';

/** Calibration samples for `fit`: no labels needed. */
export interface CalibrationData {
  /** n samples of sampleDims each, contiguous (e.g. [n, 1, 28, 28] flattened). */
  x: Float32Array;
  /** Dims of one sample: the model input's dims without the batch axis. */
  sampleDims: readonly number[];
  /** Class per sample: when given, sensitivity is measured as the increase of the cross-entropy loss. */
  labels?: ArrayLike<number>;
}

const sizeOf = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);

export class CalibRunner {
  readonly input: string;
  readonly n: number;
  readonly per: number;
  readonly sampleDims: number[];
  /** Samples per run() call: the model's fixed batch, or `batch` when it is symbolic. */
  readonly batch: number;
  /** freeDimensionOverrides for a calibration batch and for one sample. */
  readonly overrides: Record<string, number>;
  readonly overridesOne: Record<string, number>;
  /** The model's batch dim is a fixed number (batches are padded to it). */
  readonly fixedBatch: boolean;
  /** The batch dim as the model declares it: a symbolic name, or the fixed size. */
  readonly batchDim: string | number;

  constructor(graph: Graph, readonly data: CalibrationData, batch = 32) {
    if (graph.inputs.length !== 1) throw new ArgumentError(`fit works on models with one input; this one has ${graph.inputs.length} (${graph.inputs.map((i) => `'${i.name}'`).join(', ')})`);
    const inp = graph.inputs[0];
    if (!inp.dims || inp.dims.length < 1) throw new ArgumentError(`input '${inp.name}' has no declared shape; re-export the model with input shapes`);
    if (!(data?.x instanceof Float32Array)) throw new ArgumentError('calibration data must be a Float32Array of samples (x) with their sampleDims');
    const sampleDims = [...(data.sampleDims ?? [])];
    const expected = inp.dims.slice(1);
    const bad = sampleDims.length !== expected.length || expected.some((d, i) => typeof d === 'number' && d !== sampleDims[i]);
    if (bad) throw new ShapeError(`calibration samples are [${sampleDims.join(', ')}] but input '${inp.name}' takes [${inp.dims.join(', ')}] (samples along the first axis): give samples of [${expected.join(', ')}]`);
    this.per = sizeOf(sampleDims);
    if (this.per === 0 || data.x.length % this.per !== 0) throw new ShapeError(`calibration data holds ${data.x.length} values, not a whole number of samples of [${sampleDims.join(', ')}]`);
    this.n = data.x.length / this.per;
    if (this.n < 1) throw new ShapeError('calibration data is empty: give at least one sample (a few hundred are typical)');
    for (let i = 0; i < data.x.length; i++) if (!Number.isFinite(data.x[i])) throw new ShapeError(`calibration data holds ${data.x[i]} at sample ${Math.floor(i / this.per)}; it must be finite`);
    if (data.labels !== undefined && data.labels.length !== this.n) throw new ShapeError(`calibration has ${this.n} samples but ${data.labels.length} labels`);
    this.input = inp.name;
    this.sampleDims = sampleDims;
    const rest: Record<string, number> = {};
    expected.forEach((d, i) => {
      if (typeof d === 'string') rest[d] = sampleDims[i];
    });
    const first = inp.dims[0];
    this.batchDim = first;
    this.fixedBatch = typeof first === 'number';
    this.batch = typeof first === 'number' ? first : Math.max(1, Math.min(batch, this.n));
    this.overrides = typeof first === 'string' ? { ...rest, [first]: this.batch } : rest;
    this.overridesOne = typeof first === 'string' ? { ...rest, [first]: 1 } : rest;
    if (this.fixedBatch && this.batch < 1) throw new ArgumentError(`input '${inp.name}' has a batch dim of ${first}`);
  }

  /** Input dims for the dependency analysis (one sample, or the fixed batch). */
  analysisDims(): Record<string, number[]> {
    return { [this.input]: [this.fixedBatch ? this.batch : 1, ...this.sampleDims] };
  }

  /** One sample's feed (for latency measurements at batch 1; the fixed batch when there is one). */
  sampleFeed(): Record<string, Tensor> {
    const b = this.fixedBatch ? this.batch : 1;
    const x = new Float32Array(b * this.per);
    x.set(this.data.x.subarray(0, Math.min(b, this.n) * this.per));
    return { [this.input]: new Tensor('float32', x, [b, ...this.sampleDims]) };
  }

  /**
   * Runs several graphs on the same batches in lockstep (each exposing its own extras) and calls
   * `fn` with every graph's outputs per batch.
   */
  async forEachMany(runs: readonly { graph: Graph; extras: readonly string[]; only?: boolean }[], count: number, fn: (outs: Record<string, Tensor>[], start: number, real: number) => void | Promise<void>): Promise<void> {
    const sessions: InferenceSession[] = [];
    try {
      for (const { graph, extras, only } of runs) {
        // only: the extras replace the model's outputs, so the session stops where they are computed
        const outputs = only ? [] : [...graph.outputs];
        for (const e of extras) if (e !== this.input && !outputs.some((o) => o.name === e)) outputs.push({ name: e, dtype: 'float32' });
        if (!outputs.length) outputs.push(...graph.outputs);
        sessions.push(await InferenceSession.fromGraph({ ...graph, outputs }, { freeDimensionOverrides: this.overrides }));
      }
      const total = Math.min(count, this.n);
      for (let s = 0; s < total; s += this.batch) {
        const real = Math.min(this.batch, total - s);
        const b = this.fixedBatch ? this.batch : real;
        const x = new Float32Array(b * this.per);
        x.set(this.data.x.subarray(s * this.per, (s + real) * this.per));
        const feed = { [this.input]: new Tensor('float32', x, [b, ...this.sampleDims]) };
        const outs: Record<string, Tensor>[] = [];
        for (const session of sessions) outs.push({ ...feed, ...(await session.run(feed)) }); // the input too, by name
        await fn(outs, s, real);
      }
    } finally {
      for (const session of sessions) await session.release();
    }
  }

  /** The first output of `graph` on the first `count` samples, concatenated: [count, ...]. */
  async logits(graph: Graph, count: number): Promise<Float32Array> {
    const total = Math.min(count, this.n);
    let out: Float32Array | undefined;
    let per = 0;
    const name = graph.outputs[0].name;
    await this.forEachMany([{ graph, extras: [] }], total, ([o], s, real) => {
      const t = o[name];
      if (!out) {
        per = t.data.length / t.dims[0];
        out = new Float32Array(total * per);
      }
      out.set(t.data.subarray(0, real * per), s * per);
    });
    return out!;
  }
}
