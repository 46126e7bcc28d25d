// How far a pruned model is from the dense one on the calibration samples. Without labels:
// the relative L2 error of the outputs, ‖y − y₀‖ / ‖y₀‖, and the share of samples whose top
// class is unchanged; `damage` (what the solver adds up) is the squared relative error, which
// adds up across independent perturbations. With labels: the cross-entropy loss and accuracy,
// and damage = the increase of the loss.
import type { Graph } from '../graph/ir.js';
import { InferenceSession } from '../runtime/session.js';
import { Tensor } from '../runtime/tensor.js';
import type { CalibRunner } from './runner.js';

export interface Fidelity {
  /** ‖y − y₀‖ / ‖y₀‖ over the samples. */
  relError: number;
  /**
   * Share of samples whose argmax matches the dense model's; undefined when the output has one
   * value per sample (a detector's score), where every argmax is 0 and agreement would say 100%.
   */
  agreement?: number;
  /** Mean cross-entropy and accuracy, with labels. */
  loss?: number;
  accuracy?: number;
  samples: number;
}

function argmax(y: Float32Array, at: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (y[at + i] > y[at + best]) best = i;
  return best;
}

function crossEntropy(y: Float32Array, labels: ArrayLike<number>, count: number, per: number): number {
  let loss = 0;
  for (let s = 0; s < count; s++) {
    const at = s * per;
    let m = -Infinity;
    for (let i = 0; i < per; i++) m = Math.max(m, y[at + i]);
    let z = 0;
    for (let i = 0; i < per; i++) z += Math.exp(y[at + i] - m);
    loss += Math.log(z) + m - y[at + Number(labels[s])];
  }
  return loss / count;
}

export class Scorer {
  private dense: Float32Array = new Float32Array(0);
  private denseAll: Float32Array = new Float32Array(0);
  private denseLoss = 0;
  private per = 1;

  /** `samples`: how many calibration samples the sensitivity measurements use; `measured`: how many the fidelity reports use. */
  constructor(private readonly runner: CalibRunner, readonly samples: number, readonly measured = runner.n) {}

  get labelled(): boolean {
    return this.runner.data.labels !== undefined;
  }

  /**
   * The candidate's logits computed from the first node it changes: the values it reads from
   * unchanged nodes are the dense model's, taken from one dense pass (cached per frontier, so the
   * candidates of one layer share it) and fed to a session over the changed part only. A
   * sensitivity sweep then pays for the network below each layer once, not once per candidate.
   * undefined when that does not apply (the change starts at the input, a value is not batch-major).
   */
  private async suffixLogits(graph: Graph): Promise<Float32Array | undefined> {
    const base = this.base;
    if (!base || !this.dims) return undefined;
    const baseNodes = new Map(base.nodes.map((n) => [n.name, n]));
    const sameInit = (i: string) => graph.initializers.get(i) === base.initializers.get(i);
    const affected = new Set<string>();
    const nodes = graph.nodes.filter((n) => {
      const hit = n !== baseNodes.get(n.name) || n.inputs.some((i) => i !== '' && (affected.has(i) || !sameInit(i)));
      if (hit) for (const o of n.outputs) affected.add(o);
      return hit;
    });
    const out = graph.outputs[0].name;
    if (!affected.has(out)) return this.dense.slice();
    const frontier = [...new Set(nodes.flatMap((n) => n.inputs).filter((i) => i !== '' && !affected.has(i) && !graph.initializers.has(i)))];
    const b0 = this.runner.fixedBatch ? this.runner.batch : 1;
    if (frontier.includes(this.runner.input) || frontier.some((v) => this.dims!.get(v)?.[0] !== b0)) return undefined;
    // the cached values must stay modest (a wide early layer of a large image model is not worth it)
    const perSample = frontier.reduce((t, v) => t + this.dims!.get(v)!.reduce((x, y) => x * y, 1) / b0, 0) * 4;
    if (perSample * this.samples > 256 * 2 ** 20) return undefined;
    const key = frontier.slice().sort().join('\u0000');
    if (this.cache?.key !== key) {
      const batches: { start: number; real: number; values: Record<string, Float32Array> }[] = [];
      await this.runner.forEachMany([{ graph: base, extras: frontier, only: true }], this.samples, (outs, start, real) => {
        batches.push({ start, real, values: Object.fromEntries(frontier.map((v) => [v, outs[0][v].data.slice()])) });
      });
      this.cache = { key, batches };
    }
    const sub: Graph = {
      ...graph,
      inputs: frontier.map((v) => ({ name: v, dtype: 'float32' as const, dims: [this.runner.batchDim, ...this.dims!.get(v)!.slice(1)] })),
      nodes,
    };
    const session = await InferenceSession.fromGraph(sub, { freeDimensionOverrides: this.runner.overrides });
    try {
      const y = new Float32Array(this.samples * this.per);
      for (const b of this.cache.batches) {
        const rows = this.runner.fixedBatch ? this.runner.batch : b.real;
        const feeds = Object.fromEntries(frontier.map((v) => [v, new Tensor('float32', b.values[v], [rows, ...this.dims!.get(v)!.slice(1)])]));
        const o = (await session.run(feeds))[out];
        y.set(o.data.subarray(0, b.real * this.per), b.start * this.per);
      }
      return y;
    } finally {
      await session.release();
    }
  }

  private base?: Graph;
  private dims?: Map<string, number[]>;
  private cache?: { key: string; batches: { start: number; real: number; values: Record<string, Float32Array> }[] };

  /** `dims`: every value's dims at the analysis batch (enables the suffix evaluation). */
  async init(base: Graph, dims?: Map<string, number[]>): Promise<void> {
    this.base = base;
    this.dims = dims;
    this.denseAll = await this.runner.logits(base, Math.max(this.measured, this.samples));
    this.per = this.denseAll.length / Math.max(this.measured, this.samples);
    this.dense = this.denseAll.subarray(0, this.samples * this.per);
    if (this.labelled) this.denseLoss = crossEntropy(this.dense, this.runner.data.labels!, this.samples, this.per);
  }

  /** The additive damage of a candidate on the sensitivity samples (see the top of this file). */
  async damage(graph: Graph): Promise<number> {
    const y = (await this.suffixLogits(graph)) ?? (await this.runner.logits(graph, this.samples));
    if (this.labelled) return crossEntropy(y, this.runner.data.labels!, this.samples, this.per) - this.denseLoss;
    const e = this.relError(y, this.dense);
    return e * e;
  }

  private relError(y: Float32Array, y0: Float32Array): number {
    let num = 0;
    let den = 0;
    for (let i = 0; i < y0.length; i++) {
      const d = y[i] - y0[i];
      num += d * d;
      den += y0[i] * y0[i];
    }
    return Math.sqrt(num / Math.max(den, 1e-30));
  }

  /** Fidelity on the measured calibration samples. */
  async measure(graph: Graph): Promise<Fidelity> {
    const y = await this.runner.logits(graph, this.measured);
    return this.fidelityOf(y, this.measured);
  }

  /** The dense model's own numbers (zero error, full agreement; loss and accuracy with labels). */
  denseFidelity(): Fidelity {
    return this.fidelityOf(this.denseAll, this.measured);
  }

  private fidelityOf(y: Float32Array, n: number): Fidelity {
    const y0 = this.denseAll.subarray(0, n * this.per);
    let agree = 0;
    let correct = 0;
    const labels = this.runner.data.labels;
    for (let s = 0; s < n; s++) {
      const a = argmax(y, s * this.per, this.per);
      if (a === argmax(y0, s * this.per, this.per)) agree++;
      if (labels && a === Number(labels[s])) correct++;
    }
    return {
      relError: this.relError(y, y0),
      ...(this.per > 1 ? { agreement: agree / n } : {}),
      ...(labels ? { loss: crossEntropy(y, labels, n, this.per), accuracy: correct / n } : {}),
      samples: n,
    };
  }
}
