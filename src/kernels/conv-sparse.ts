// Conv2d with sparse weights (unstructured pruning): each group's weights, as rows of
// Cin/group * KH * KW, go through the CSR SpMM of assembly/sparse.ts. A 1x1 stride-1 unpadded
// conv reads the input planes directly (K = Cin, N = H * W); any other conv multiplies the
// im2col columns ("Fast Sparse ConvNets" layout: activations as K rows of pixels, blocked by 16).
import { ShapeError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { checkData, checkDims, fmt, sizeOf } from './check.js';
import { conv2dGeometry, normalizeConvAttributes, type Conv2dAttributes, type ConvShape } from './conv.js';
import { PackedSparseLinear } from './sparse.js';

export type SparseConvPath = 'sparse1x1' | 'sparse-im2col';

export class PackedSparseConv2d implements ConvShape {
  readonly Cout: number;
  readonly CinG: number;
  readonly KH: number;
  readonly KW: number;
  readonly group: number;
  readonly strides: readonly number[];
  readonly pads: readonly number[];
  readonly dilations: readonly number[];
  /** Non-zero weights kept, and their share of all weights. */
  readonly nnz: number;
  readonly density: number;
  private readonly k: Kernels;
  private layers: PackedSparseLinear[];

  constructor(k: Kernels, w: Float32Array, wDims: readonly number[], bias: Float32Array | undefined, attrs: Conv2dAttributes = {}) {
    checkDims(wDims, 'Conv weights [Cout, Cin/group, KH, KW]', 4);
    checkData(w, wDims, 'Conv weights');
    const { group, strides, pads, dilations } = normalizeConvAttributes(attrs);
    const [Cout, CinG, KH, KW] = wDims;
    if (Cout === 0 || CinG === 0 || KH === 0 || KW === 0) throw new ShapeError(`Conv weights ${fmt(wDims)} have an empty dimension`);
    if (Cout % group !== 0) throw new ShapeError(`Conv: ${Cout} output channels do not split into ${group} groups`);
    if (bias && bias.length !== Cout) throw new ShapeError(`Conv bias has ${bias.length} values but the layer has ${Cout} output channels`);
    if (attrs.outputScale && attrs.outputScale.length !== Cout) throw new ShapeError(`Conv output scale has ${attrs.outputScale.length} values for ${Cout} output channels`);
    this.Cout = Cout;
    this.CinG = CinG;
    this.KH = KH;
    this.KW = KW;
    this.group = group;
    this.strides = strides;
    this.pads = pads;
    this.dilations = dilations;
    this.k = k;
    const CoutG = Cout / group;
    const K = CinG * KH * KW;
    const scale = attrs.outputScale;
    this.layers = [];
    for (let g = 0; g < group; g++) {
      let rows = w.subarray(g * CoutG * K, (g + 1) * CoutG * K);
      if (scale) rows = rows.map((v, i) => v * scale[g * CoutG + Math.floor(i / K)]);
      this.layers.push(new PackedSparseLinear(k, rows, CoutG, K, { bias: bias?.subarray(g * CoutG, (g + 1) * CoutG), activation: attrs.activation }));
    }
    this.nnz = this.layers.reduce((a, l) => a + l.nnz, 0);
    this.density = this.nnz / w.length;
  }

  outputDims(xDims: readonly number[]): number[] {
    const [N, , , , OH, OW] = conv2dGeometry(xDims, this);
    return [N, this.Cout, OH, OW];
  }

  path(): SparseConvPath {
    const [pt, pl, pb, pr] = this.pads;
    return this.KH === 1 && this.KW === 1 && this.strides[0] === 1 && this.strides[1] === 1 && pt + pl + pb + pr === 0 ? 'sparse1x1' : 'sparse-im2col';
  }

  scratchFloats(xDims: readonly number[]): number {
    const [, , , , OH, OW] = conv2dGeometry(xDims, this);
    return this.path() === 'sparse1x1' ? 0 : this.CinG * this.KH * this.KW * OH * OW;
  }

  run(x: number, xDims: readonly number[], y: number, scratch: number): void {
    if (this.layers.length === 0) throw new ShapeError('Conv: used after dispose()');
    const [N, C, H, W, OH, OW] = conv2dGeometry(xDims, this);
    const k = this.k;
    k.requireFloats(x, sizeOf(xDims), 'Conv input');
    k.requireFloats(y, N * this.Cout * OH * OW, 'Conv output');
    const need = this.scratchFloats(xDims);
    if (need > 0) k.requireFloats(scratch, need, 'Conv scratch');
    const oneByOne = this.path() === 'sparse1x1';
    const CoutG = this.Cout / this.group;
    const inPlane = H * W;
    const outPlane = OH * OW;
    const [sh, sw] = this.strides;
    const [dh, dw] = this.dilations;
    const [pt, pl] = this.pads;
    for (let n = 0; n < N; n++) {
      for (let g = 0; g < this.group; g++) {
        const xg = x + (n * C + g * this.CinG) * inPlane * 4;
        const yg = y + (n * this.Cout + g * CoutG) * outPlane * 4;
        if (oneByOne) {
          this.layers[g].run(xg, inPlane, yg);
        } else {
          k.fn.im2col(xg, this.CinG, H, W, this.KH, this.KW, sh, sw, pt, pl, dh, dw, OH, OW, scratch);
          this.layers[g].run(scratch, outPlane, yg);
        }
      }
    }
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
    this.layers = [];
  }
}
