// A 1x1 conv (stride 1, no pads, group 1) with int8 weights, as a conv layer: the int8 dot kernel
// of assembly/quant.ts once per image (K = Cin rows of H*W pixels). Other convs with int8 weights
// run the f32 kernels on the dequantized values.
import { ShapeError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { fmt } from './check.js';
import type { Int8LayerOptions } from './quant.js';
import { PackedInt8Conv1x1 } from './quant.js';

export class Int8Conv1x1Layer {
  readonly Cout: number;
  readonly Cin: number;
  private readonly k: Kernels;
  private readonly gemm: PackedInt8Conv1x1;

  /** q: [Cout, Cin, 1, 1] int8 weights, scales one per output channel. */
  constructor(k: Kernels, q: Int8Array, scales: Float32Array, wDims: readonly number[], opts: Int8LayerOptions = {}) {
    // the runtime's Conv picks this layer for 4-D 1x1 weights only
    if (!globalThis.EDGEPRUNE_RUNTIME && (wDims.length !== 4 || wDims[2] !== 1 || wDims[3] !== 1)) throw new ShapeError(`int8 1x1 conv weights must be [Cout, Cin, 1, 1], got ${fmt(wDims)}`);
    this.k = k;
    this.Cout = wDims[0];
    this.Cin = wDims[1];
    this.gemm = new PackedInt8Conv1x1(k, q, scales, this.Cout, this.Cin, opts);
  }

  outputDims(xDims: readonly number[]): number[] {
    if (!globalThis.EDGEPRUNE_RUNTIME && (xDims.length !== 4 || xDims[1] !== this.Cin)) throw new ShapeError(`Conv input ${fmt(xDims)} does not have the ${this.Cin} channels the weights expect`);
    return [xDims[0], this.Cout, xDims[2], xDims[3]];
  }

  path(): string {
    return 'int8-1x1';
  }

  scratchFloats(): number {
    return 0;
  }

  run(x: number, xDims: readonly number[], y: number): void {
    const [N, , H, W] = this.outputDims(xDims);
    const plane = H * W;
    for (let n = 0; n < N; n++) this.gemm.run(x + n * this.Cin * plane * 4, plane, y + n * this.Cout * plane * 4);
  }

  dispose(): void {
    this.gemm.dispose();
  }
}
