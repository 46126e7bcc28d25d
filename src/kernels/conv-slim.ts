// "Slimmed dense" Conv2d: output channels whose weights are all zero (a model pruned by channel
// with masks left in place, e.g. torch.nn.utils.prune.ln_structured, or high unstructured
// sparsity) are dropped at pack time. The dense kernels run on the kept channels into scratch,
// then each kept plane is copied to its place and each dropped one filled with its constant,
// activation(bias): the same outputs, with the work of the kept channels only.
import { ArgumentError, ShapeError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { activateScalar } from './activation.js';
import { checkData, checkDims } from './check.js';
import { PackedConv2d, type Conv2dAttributes } from './conv.js';

/** Output channels (rows of K weights) with at least one non-zero weight. */
export function nonZeroRows(w: Float32Array, rows: number): number[] {
  const K = w.length / rows;
  const kept: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let i = r * K; i < (r + 1) * K; i++) {
      if (w[i] !== 0) {
        kept.push(r);
        break;
      }
    }
  }
  return kept;
}

export class SlimConv2d {
  readonly Cout: number;
  /** Output channels computed (the rest are constants). */
  readonly kept: readonly number[];
  private readonly k: Kernels;
  private inner: PackedConv2d | undefined;
  private readonly dropped: { channel: number; value: number }[];
  private disposed = false;

  constructor(k: Kernels, w: Float32Array, wDims: readonly number[], bias: Float32Array | undefined, attrs: Conv2dAttributes = {}) {
    // the runtime's Conv passes 4-D dims of decoded weights and slims group-1 convs only (kernel-choice.ts)
    if (!globalThis.EDGEPRUNE_RUNTIME) {
      checkDims(wDims, 'Conv weights [Cout, Cin/group, KH, KW]', 4);
      checkData(w, wDims, 'Conv weights');
      if ((attrs.group ?? 1) !== 1) throw new ArgumentError('a slimmed conv needs group 1 (grouped convs tie output channels to input groups)');
    }
    const [Cout, CinG, KH, KW] = wDims;
    if (bias && bias.length !== Cout) throw new ShapeError(`Conv bias has ${bias.length} values but the layer has ${Cout} output channels`);
    this.k = k;
    this.Cout = Cout;
    const K = CinG * KH * KW;
    this.kept = nonZeroRows(w, Cout);
    const keptSet = new Set(this.kept);
    this.dropped = [];
    for (let c = 0; c < Cout; c++) if (!keptSet.has(c)) this.dropped.push({ channel: c, value: activateScalar(attrs.activation, bias ? bias[c] : 0) });
    if (this.kept.length > 0) {
      const kw = new Float32Array(this.kept.length * K);
      this.kept.forEach((c, i) => kw.set(w.subarray(c * K, (c + 1) * K), i * K));
      const pick = (a: Float32Array | undefined) => (a ? Float32Array.from(this.kept, (c) => a[c]) : undefined);
      this.inner = new PackedConv2d(k, kw, [this.kept.length, CinG, KH, KW], pick(bias), { ...attrs, outputScale: pick(attrs.outputScale) });
    }
  }

  outputDims(xDims: readonly number[]): number[] {
    const d = this.innerOrThrow().outputDims(xDims);
    return [d[0], this.Cout, d[2], d[3]];
  }

  path(xDims: readonly number[]): string {
    return `slim ${this.kept.length}/${this.Cout}+${this.inner ? this.inner.path(xDims) : 'none'}`;
  }

  scratchFloats(xDims: readonly number[]): number {
    const d = this.innerOrThrow().outputDims(xDims);
    return this.inner!.scratchFloats(xDims) + d[0] * d[1] * d[2] * d[3];
  }

  run(x: number, xDims: readonly number[], y: number, scratch: number): void {
    if (!globalThis.EDGEPRUNE_RUNTIME && this.disposed) throw new ShapeError('Conv: used after dispose()');
    const inner = this.innerOrThrow();
    const [N, kept, OH, OW] = inner.outputDims(xDims);
    const plane = OH * OW;
    const tmp = scratch + inner.scratchFloats(xDims) * 4;
    if (!globalThis.EDGEPRUNE_RUNTIME) this.k.requireFloats(y, N * this.Cout * plane, 'Conv output');
    inner.run(x, xDims, tmp, scratch);
    // kernel calls, not JS on wasm memory: a compiled model records them (src/compile/)
    const fn = this.k.fn;
    for (let n = 0; n < N; n++) {
      const src = tmp + n * kept * plane * 4;
      const dst = y + n * this.Cout * plane * 4;
      this.kept.forEach((c, i) => fn.copy_f32(dst + c * plane * 4, src + i * plane * 4, plane));
      for (const d of this.dropped) fn.fill_f32(dst + d.channel * plane * 4, d.value, plane);
    }
  }

  dispose(): void {
    this.inner?.dispose();
    this.disposed = true;
  }

  /** With every output channel dropped there is nothing to run densely: the session picks the sparse kernel instead. */
  private innerOrThrow(): PackedConv2d {
    if (!this.inner) throw new ArgumentError('a slimmed conv with no non-zero output channel: run it with the sparse kernel');
    return this.inner;
  }
}
