// Training a Graph on a labelled dataset, all in wasm: mini-batches in a seeded order, forward in
// training mode, softmax cross-entropy, backward, an SGD or Adam step at the scheduled learning
// rate. Masked fine-tuning keeps pruned weights at exactly zero. A NaN or infinite loss stops the
// run with a TrainingError and the weights of the last good step, never NaN weights.
//
//   const t = await Trainer.create(graph, { optimizer: { kind: 'adam' }, seed: 0 });
//   await t.fit(train, { epochs: 5, batch: 64, lr: 1e-3, onStep: (s) => ... });
//   const trained = t.graph();   // an ordinary Graph: prune it, export it, run it
import { ArgumentError, DataError, TrainingError } from '../errors.js';
import type { Graph } from '../graph/ir.js';
import { loadKernels, type WasmSource } from '../wasm/loader.js';
import type { Kernels } from '../wasm/kernels.js';
import type { Dataset } from './data.js';
import { softmaxCrossEntropy } from './grad/loss.js';
import { ParamStore, TrainNet } from './net.js';
import { Optimizer, type OptimizerConfig } from './optimizer.js';
import { Rng } from './rng.js';
import { constantLr, type LrSchedule } from './schedules.js';

export interface TrainerOptions {
  optimizer?: OptimizerConfig;
  /** Seed of the batch order and dropout masks (default 0). */
  seed?: number;
  wasm?: WasmSource;
}

export interface StepInfo {
  epoch: number;
  /** Step within the epoch (0-based) and steps per epoch. */
  step: number;
  steps: number;
  /** Steps since the trainer was created. */
  globalStep: number;
  loss: number;
  lr: number;
}

export interface FitOptions {
  epochs: number;
  batch: number;
  /** A number, or a schedule over the steps of this fit() call. */
  lr: number | LrSchedule;
  /** Called after every step (progress bars); may be async. */
  onStep?: (s: StepInfo) => void | Promise<void>;
  /** Called after every epoch with its mean loss. */
  onEpoch?: (epoch: number, meanLoss: number) => void | Promise<void>;
  /** Called before every step: gradual pruning and rewinding hook in here. */
  beforeStep?: (globalStep: number) => void | Promise<void>;
  /** Called after the backward pass, before the update, with the gradients in place (RigL reads them). */
  afterBackward?: (globalStep: number) => void;
}

export class Trainer {
  readonly store: ParamStore;
  readonly optimizer: Optimizer;
  private readonly k: Kernels;
  private readonly base: Graph;
  private readonly nets = new Map<number, TrainNet>();
  private readonly labels = new Map<number, number>();
  private readonly seed: number;
  private backup = 0;
  private globalStep = 0;

  private constructor(k: Kernels, graph: Graph, opts: TrainerOptions) {
    this.k = k;
    this.base = graph;
    this.seed = opts.seed ?? 0;
    this.store = new ParamStore(k, graph);
    this.optimizer = new Optimizer(k, this.store.trainable(), opts.optimizer ?? { kind: 'adam' });
  }

  static async create(graph: Graph, opts: TrainerOptions = {}): Promise<Trainer> {
    const k = await loadKernels(opts.wasm ?? 'auto');
    return new Trainer(k, graph, opts);
  }

  get kernels(): Kernels {
    return this.k;
  }

  /** Total steps taken. */
  get steps(): number {
    return this.globalStep;
  }

  /** The graph with the current weights (and BatchNorm running statistics). */
  graph(): Graph {
    return this.store.toGraph(this.base);
  }

  /**
   * Replaces the parameter values with those of a graph of the same structure (a pruned copy of
   * this.graph(), or weights saved earlier). Optimizer state is kept.
   */
  setWeights(graph: Graph): void {
    for (const p of this.store.params.values()) {
      const t = graph.initializers.get(p.name);
      if (!t || t.data.length !== p.n || t.dims.join() !== p.dims.join()) throw new ArgumentError(`setWeights: the graph has no tensor '${p.name}' of dims [${p.dims.join(', ')}]; it must have the trainer's structure`);
      this.k.f32.set(t.data as Float32Array, p.ptr >> 2);
    }
  }

  /** The current values of a parameter (a copy). */
  weights(name: string): Float32Array {
    const p = this.store.params.get(name);
    if (!p) throw new ArgumentError(`no parameter '${name}'`);
    return this.k.download(p.ptr, p.n);
  }

  /** The gradient of a trainable parameter from the last backward pass (a copy). */
  gradient(name: string): Float32Array {
    const p = this.store.params.get(name);
    if (!p?.trainable) throw new ArgumentError(`no trainable parameter '${name}'`);
    return this.k.download(p.grad, p.n);
  }

  /** Trains for opts.epochs over `data`; returns the mean loss of each epoch. */
  async fit(data: Dataset, opts: FitOptions): Promise<number[]> {
    if (!Number.isInteger(opts.epochs) || opts.epochs < 0) throw new ArgumentError(`epochs must be a non-negative integer, got ${opts.epochs}`);
    if (!Number.isInteger(opts.batch) || opts.batch < 1) throw new ArgumentError(`batch must be a positive integer, got ${opts.batch}`);
    const schedule = typeof opts.lr === 'number' ? constantLr(opts.lr) : opts.lr;
    const per = data.sampleDims.reduce((a, b) => a * b, 1);
    const steps = Math.ceil(data.n / opts.batch);
    const total = steps * opts.epochs;
    const history: number[] = [];
    let fitStep = 0;
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      const order = Int32Array.from({ length: data.n }, (_, i) => i);
      new Rng(this.seed, 1000 + this.globalStep).shuffle(order);
      let sum = 0;
      for (let s = 0; s < steps; s++) {
        await opts.beforeStep?.(this.globalStep);
        const start = s * opts.batch;
        const rows = Math.min(opts.batch, data.n - start);
        const net = this.net(rows, data);
        // the batch: samples gathered into the input buffer, labels into i32
        const f32 = this.k.f32;
        const x0 = net.inputPtr >> 2;
        const i32 = this.k.i32;
        const l0 = this.labels.get(rows)! >> 2;
        for (let r = 0; r < rows; r++) {
          const j = order[start + r];
          f32.set(data.x.subarray(j * per, (j + 1) * per), x0 + r * per);
          i32[l0 + r] = data.y[j];
        }
        const lr = schedule(fitStep, total);
        const loss = this.step(net, rows, lr, opts.afterBackward);
        sum += loss;
        fitStep++;
        await opts.onStep?.({ epoch, step: s, steps, globalStep: this.globalStep, loss, lr });
      }
      history.push(sum / steps);
      await opts.onEpoch?.(epoch, sum / steps);
    }
    return history;
  }

  dispose(): void {
    for (const n of this.nets.values()) n.dispose();
    for (const l of this.labels.values()) this.k.free(l);
    this.nets.clear();
    this.labels.clear();
    this.optimizer.dispose();
    if (this.backup) this.k.free(this.backup);
    this.store.dispose();
  }

  /** One step on the batch already in the net's input: loss, backward, update. Keeps the last good weights. */
  private step(net: TrainNet, rows: number, lr: number, afterBackward?: (step: number) => void): number {
    net.setStep(this.seed, this.globalStep);
    net.forward();
    const classes = net.outputDims[1];
    const loss = softmaxCrossEntropy(this.k, net.outputPtr, this.labels.get(rows)!, rows, classes, net.outputGradPtr);
    if (!Number.isFinite(loss)) {
      this.restore();
      throw new TrainingError(`the loss became ${loss} at step ${this.globalStep} (learning rate ${lr}): training diverged; the weights are those of the last good step. Lower the learning rate`);
    }
    this.save();
    net.backward();
    afterBackward?.(this.globalStep);
    this.optimizer.step(lr);
    this.globalStep++;
    return loss;
  }

  private net(rows: number, data: Dataset): TrainNet {
    let net = this.nets.get(rows);
    if (!net) {
      net = new TrainNet(this.k, this.base, this.store, rows);
      const sample = this.base.inputs[0].dims!.slice(1).join(',');
      if (sample !== data.sampleDims.join(',')) throw new DataError(`the samples are [${data.sampleDims.join(', ')}] but the model takes [${sample}]`);
      if (data.classes > net.outputDims[1]) throw new DataError(`the labels go up to ${data.classes - 1} but the model has ${net.outputDims[1]} outputs`);
      this.nets.set(rows, net);
      this.labels.set(rows, this.k.heap.alloc(rows * 4));
    }
    return net;
  }

  /** Copies every parameter (and running statistic) aside: the weights before this step's update. */
  private save(): void {
    const params = [...this.store.params.values()];
    const total = params.reduce((a, p) => a + p.n, 0);
    if (!this.backup) this.backup = this.k.allocF32(total);
    const f = this.k.f32;
    let o = this.backup >> 2;
    for (const p of params) {
      f.copyWithin(o, p.ptr >> 2, (p.ptr >> 2) + p.n);
      o += p.n;
    }
  }

  private restore(): void {
    if (!this.backup) return;
    const f = this.k.f32;
    let o = this.backup >> 2;
    for (const p of this.store.params.values()) {
      f.copyWithin(p.ptr >> 2, o, o + p.n);
      o += p.n;
    }
  }
}
