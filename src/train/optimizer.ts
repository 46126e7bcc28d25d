// SGD (momentum, weight decay, Nesterov) and Adam/AdamW over the trainable parameters in wasm,
// with optional masks: a masked weight (a pruned one) stays exactly zero through every update.
import { ArgumentError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { adamUpdate, applyMask, sgdUpdate, type ParamMask } from './grad/optim.js';
import type { Param } from './train-ops.js';

export type OptimizerConfig =
  | { kind: 'sgd'; momentum?: number; weightDecay?: number; nesterov?: boolean }
  | { kind: 'adam'; beta1?: number; beta2?: number; eps?: number; weightDecay?: number; decoupled?: boolean };

export class Optimizer {
  private readonly k: Kernels;
  private readonly config: OptimizerConfig;
  private readonly params: Param[];
  private readonly state = new Map<string, { m: number; v: number }>();
  private readonly masks = new Map<string, ParamMask>();
  private steps = 0;

  constructor(k: Kernels, params: Param[], config: OptimizerConfig) {
    if (config.kind !== 'sgd' && config.kind !== 'adam') throw new ArgumentError(`optimizer must be 'sgd' or 'adam', got ${JSON.stringify((config as { kind: unknown }).kind)}`);
    this.k = k;
    this.config = config;
    this.params = params;
    for (const p of params) {
      const m = k.allocF32(p.n);
      const v = config.kind === 'adam' ? k.allocF32(p.n) : 0;
      k.f32.fill(0, m >> 2, (m >> 2) + p.n);
      if (v) k.f32.fill(0, v >> 2, (v >> 2) + p.n);
      this.state.set(p.name, { m, v });
    }
  }

  /** Keep the zeros of these parameters at zero from now on (masked fine-tuning after pruning); returns how many. */
  freezeZeros(names: Iterable<string>): number {
    let frozen = 0;
    for (const name of names) {
      const p = this.param(name);
      const w = this.k.f32.subarray(p.ptr >> 2, (p.ptr >> 2) + p.n);
      const mask = new Uint8Array(p.n);
      for (let i = 0; i < p.n; i++) mask[i] = w[i] !== 0 ? 1 : 0;
      frozen += this.setMask(name, mask);
    }
    return frozen;
  }

  /**
   * Sets which weights of a parameter train (1) and which stay exactly zero (0): the masked ones
   * are zeroed now, and after every update. A mask of all ones removes it. Returns the masked count.
   */
  setMask(name: string, mask: Uint8Array): number {
    const p = this.param(name);
    if (mask.length !== p.n) throw new ArgumentError(`setMask: '${name}' has ${p.n} weights but the mask ${mask.length}`);
    const old = this.masks.get(name);
    if (old) this.k.free(old.ptr);
    this.masks.delete(name);
    let zeros = 0;
    for (let i = 0; i < mask.length; i++) if (mask[i] === 0) zeros++;
    if (zeros === 0) return 0;
    const ptr = this.k.heap.alloc(p.n);
    new Uint8Array(this.k.f32.buffer, ptr, p.n).set(mask);
    const m: ParamMask = { ptr, kind: 'u8' };
    this.masks.set(name, m);
    applyMask(this.k, p.ptr, p.n, m);
    return zeros;
  }

  /** The mask of a parameter (1 = trains), or undefined when every weight trains. */
  mask(name: string): Uint8Array | undefined {
    const m = this.masks.get(name);
    if (!m) return undefined;
    return new Uint8Array(this.k.f32.buffer, m.ptr, this.param(name).n).slice();
  }

  private param(name: string): Param {
    const p = this.params.find((q) => q.name === name);
    if (!p) throw new ArgumentError(`'${name}' is not a trainable parameter`);
    return p;
  }

  /** Drops every mask: all weights train again. */
  unfreeze(): void {
    for (const m of this.masks.values()) this.k.free(m.ptr);
    this.masks.clear();
  }

  /** One update of every trainable parameter from its gradient, at this learning rate. */
  step(lr: number): void {
    this.steps++;
    const c = this.config;
    for (const p of this.params) {
      const s = this.state.get(p.name)!;
      const mask = this.masks.get(p.name);
      if (c.kind === 'sgd') {
        sgdUpdate(this.k, { w: p.ptr, g: p.grad, n: p.n, velocity: s.m }, { lr, momentum: c.momentum ?? 0, weightDecay: c.weightDecay ?? 0, nesterov: c.nesterov }, mask);
      } else {
        adamUpdate(this.k, { w: p.ptr, g: p.grad, m: s.m, v: s.v, n: p.n }, { lr, step: this.steps, beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay ?? 0, decoupled: c.decoupled }, mask);
      }
    }
  }

  dispose(): void {
    for (const s of this.state.values()) this.k.free(s.m, s.v);
    this.unfreeze();
    this.state.clear();
  }
}
