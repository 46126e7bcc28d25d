// A graph prepared for training at one batch size: every parameter in wasm with its gradient,
// an activation and a gradient buffer per run-time value, the training ops in order. forward()
// runs the graph in training mode (batch statistics, dropout), backward() the ops in reverse from
// the loss gradient. The graph itself is never modified; toGraph() returns the current weights
// as a new Graph with the same nodes.
import { ArgumentError, UnsupportedOpError } from '../errors.js';
import type { ConstTensor, Graph } from '../graph/ir.js';
import { toFloat32 } from '../graph/tensor.js';
import { specialize } from '../runtime/specialize.js';
import type { Kernels } from '../wasm/kernels.js';
import { binaryRun } from '../kernels/eltwise.js';
import { paramInputs, trainOp, type GradTarget, type Param, type TrainContext, type TrainOp } from './train-ops.js';

const size = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);

/** The parameters of a graph, in wasm: shared by the nets of every batch size. */
export class ParamStore {
  readonly params = new Map<string, Param>();
  private readonly k: Kernels;

  constructor(k: Kernels, graph: Graph) {
    this.k = k;
    for (const node of graph.nodes) {
      for (const { index, trainable } of paramInputs(node)) {
        const name = node.inputs[index];
        if (!name) continue;
        const t = graph.initializers.get(name);
        if (!t) throw new UnsupportedOpError(node.op, node.name, `cannot train it: its input '${name}' is not a constant initializer`);
        const existing = this.params.get(name);
        if (existing) throw new UnsupportedOpError(node.op, node.name, `cannot train it: the tensor '${name}' is shared with another layer`);
        const data = toFloat32(t);
        const ptr = k.upload(data);
        const grad = trainable ? k.allocF32(data.length) : 0;
        if (grad) k.f32.fill(0, grad >> 2, (grad >> 2) + data.length);
        this.params.set(name, { name, dims: [...t.dims], n: data.length, ptr, grad, trainable });
      }
    }
  }

  trainable(): Param[] {
    return [...this.params.values()].filter((p) => p.trainable);
  }

  /** A new graph with these parameter values (and the rest of `graph` unchanged). */
  toGraph(graph: Graph): Graph {
    const initializers = new Map(graph.initializers);
    for (const p of this.params.values()) {
      const old = graph.initializers.get(p.name)!;
      const t: ConstTensor = { dtype: 'float32', dims: [...old.dims], data: this.k.download(p.ptr, p.n) };
      initializers.set(p.name, t);
    }
    return { ...graph, initializers, nodes: graph.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } })), valueInfo: new Map(graph.valueInfo) };
  }

  dispose(): void {
    for (const p of this.params.values()) this.k.free(p.ptr, p.grad);
    this.params.clear();
  }
}

export class TrainNet {
  readonly batch: number;
  readonly inputName: string;
  readonly outputName: string;
  /** Dims of the output (the logits): [batch, classes]. */
  readonly outputDims: number[];
  private readonly k: Kernels;
  private readonly ops: TrainOp[];
  private readonly values = new Map<string, number>();
  private readonly grads = new Map<string, number>();
  private readonly blocks: number[] = [];
  private scratchPtr = 0;
  private tempPtr = 0;
  /** Values whose gradient was written in the current backward pass. */
  private readonly written = new Set<string>();
  private seed = 0;
  private step = 0;

  constructor(k: Kernels, graph: Graph, store: ParamStore, batch: number) {
    if (!Number.isInteger(batch) || batch < 1) throw new ArgumentError(`batch size must be a positive integer, got ${batch}`);
    if (graph.inputs.length !== 1 || graph.outputs.length !== 1) throw new ArgumentError(`training needs a model with one input and one output (the logits); this one has ${graph.inputs.length} and ${graph.outputs.length}`);
    this.k = k;
    this.batch = batch;
    const input = graph.inputs[0];
    this.inputName = input.name;
    this.outputName = graph.outputs[0].name;
    if (!input.dims || input.dims.length < 2) throw new ArgumentError(`input '${input.name}' needs declared dims [batch, ...]`);
    const xDims = [batch, ...input.dims.slice(1).map((d) => {
      if (typeof d !== 'number') throw new ArgumentError(`input '${input.name}' has a symbolic dim '${d}' after the batch; training needs fixed sample dims`);
      return d;
    })];
    // dims of every value at this batch size (Dropout and Identity keep their input's dims)
    const dims = new Map(specialize(graph, new Map([[input.name, xDims]])).dims);
    for (const node of graph.nodes) {
      for (const o of node.outputs) if (o && !dims.has(o) && dims.has(node.inputs[0])) dims.set(o, dims.get(node.inputs[0])!);
    }
    const dimsOf = (v: string) => {
      const d = dims.get(v);
      if (!d) throw new ArgumentError(`training: the dims of '${v}' are unknown (a shape computation training does not follow)`);
      return d;
    };
    this.outputDims = dimsOf(this.outputName);
    if (this.outputDims.length !== 2 || this.outputDims[0] !== batch) throw new ArgumentError(`output '${this.outputName}' has dims [${this.outputDims.join(', ')}]; training needs [batch, classes] logits`);
    // which values need a gradient: those downstream of a parameter and upstream of the output
    const dependsOnParam = new Set<string>();
    for (const node of graph.nodes) {
      if (node.inputs.some((i) => store.params.get(i)?.trainable || dependsOnParam.has(i))) for (const o of node.outputs) dependsOnParam.add(o);
    }
    const alloc = (bytes: number) => {
      const p = k.heap.alloc(Math.max(bytes, 4));
      this.blocks.push(p);
      return p;
    };
    /** The buffer of value v in `map`, allocated on first use (one float per element). */
    const bufferIn = (map: Map<string, number>) => (v: string) => {
      let p = map.get(v);
      if (p === undefined) {
        p = alloc(size(dimsOf(v)) * 4);
        map.set(v, p);
      }
      return p;
    };
    const valueBuf = bufferIn(this.values);
    valueBuf(input.name);
    for (const node of graph.nodes) for (const o of node.outputs) if (o) valueBuf(o);
    let maxValue = 0;
    for (const v of this.values.keys()) maxValue = Math.max(maxValue, size(dimsOf(v)));
    const needsGrad = (v: string) => dependsOnParam.has(v);
    const gradBuf = bufferIn(this.grads);
    const self = this;
    const ctx: TrainContext = {
      k,
      dims: dimsOf,
      value: (v) => {
        const p = self.values.get(v);
        if (p === undefined) throw new ArgumentError(`training: '${v}' is not a run-time value`);
        return p;
      },
      grad: gradBuf,
      needsGrad,
      gradTarget: (v): GradTarget => self.gradTarget(v, dimsOf(v)),
      param: (v) => store.params.get(v),
      constant: (v) => (store.params.has(v) ? undefined : graph.initializers.get(v)),
      scratch: () => self.scratchPtr,
      alloc,
      dropoutSeed: () => ({ seed: self.seed, step: self.step }),
    };
    this.ops = graph.nodes.map((node) => trainOp(ctx, node));
    // every gradient buffer the backward pass touches, allocated now (none while training)
    for (const v of dependsOnParam) if (dims.has(v)) gradBuf(v);
    this.scratchPtr = alloc(Math.max(...this.ops.map((o) => o.scratchBytes), 4));
    this.tempPtr = alloc(maxValue * 4);
  }

  /** Sets the seed and step that dropout masks are drawn from. */
  setStep(seed: number, step: number): void {
    this.seed = seed >>> 0;
    this.step = step >>> 0;
  }

  /** Pointer of the input buffer: batch x sample floats. */
  get inputPtr(): number {
    return this.values.get(this.inputName)!;
  }

  get outputPtr(): number {
    return this.values.get(this.outputName)!;
  }

  /** The gradient of the output (the loss writes dlogits here). */
  get outputGradPtr(): number {
    return this.grads.get(this.outputName)!;
  }

  forward(): void {
    for (const op of this.ops) op.forward();
  }

  /** Backward from the output gradient (already written at outputGradPtr) to every parameter gradient. */
  backward(): void {
    this.written.clear();
    this.written.add(this.outputName);
    for (let i = this.ops.length - 1; i >= 0; i--) {
      const op = this.ops[i];
      // an op whose outputs received no gradient (a branch the loss does not see) has nothing to pass on
      if (!op.node.outputs.some((o) => this.written.has(o))) continue;
      op.backward();
    }
  }

  dispose(): void {
    this.k.free(...this.blocks);
    this.blocks.length = 0;
  }

  private gradTarget(v: string, dims: number[]): GradTarget {
    const dst = this.grads.get(v);
    if (dst === undefined) throw new ArgumentError(`training: no gradient buffer for '${v}'`);
    if (!this.written.has(v)) {
      this.written.add(v);
      return { ptr: dst, commit() {} };
    }
    // a second consumer: write to the temp block, then add into the gradient
    const tmp = this.tempPtr;
    return { ptr: tmp, commit: () => void binaryRun(this.k, 'add', dst, dims, tmp, dims, dst) };
  }
}
