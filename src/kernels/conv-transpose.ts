// Host side of ConvTranspose2d (NCHW) as GEMM + col2im: for each group,
// col[Cout/g * KH * KW][H * W] = W_g^T · x_g, then col is scattered-added into y (initialised to the bias).
import { ShapeError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { activationArgs, type FusedActivation } from './activation.js';
import { checkData, checkDims, checkPositiveInts, fmt, sizeOf } from './check.js';
import { runOnce, type PackedLayer } from './one-shot.js';
import { scaleCols } from './output-scale.js';

export interface ConvTranspose2dAttributes {
  group?: number;
  strides?: readonly number[];
  /** [top, left, bottom, right], default zeros. */
  pads?: readonly number[];
  dilations?: readonly number[];
  /** [h, w] extra rows/columns at the bottom/right of the output, default [0, 0]. */
  outputPadding?: readonly number[];
  activation?: FusedActivation;
  /** Multiplies the weights of output channel c by outputScale[c] (a folded BatchNormalization). */
  outputScale?: Float32Array;
}

export class PackedConvTranspose2d implements PackedLayer {
  readonly Cin: number;
  readonly CoutG: number;
  readonly KH: number;
  readonly KW: number;
  readonly group: number;
  private readonly strides: readonly number[];
  private readonly pads: readonly number[];
  private readonly dilations: readonly number[];
  private readonly outputPadding: readonly number[];
  private readonly k: Kernels;
  private readonly act: [number, number, number];
  private weights: number;
  private bias: number;
  private readonly groupWeightFloats: number;
  /**
   * Upsampling by the kernel's own size along H and by 2 along W, without pads: each output pixel
   * is one column value, interleaved in one pass with the bias and activation (col2im_up2).
   */
  private readonly up2: boolean;

  constructor(k: Kernels, w: Float32Array, wDims: readonly number[], bias: Float32Array | undefined, attrs: ConvTranspose2dAttributes = {}) {
    if (!globalThis.EDGEPRUNE_RUNTIME) {
      // the runtime's ConvTranspose passes 4-D dims of decoded weights
      checkDims(wDims, 'ConvTranspose weights [Cin, Cout/group, KH, KW]', 4);
      checkData(w, wDims, 'ConvTranspose weights');
    }
    const [Cin, CoutG, KH, KW] = wDims;
    if (Cin === 0 || CoutG === 0 || KH === 0 || KW === 0) throw new ShapeError(`ConvTranspose weights ${fmt(wDims)} have an empty dimension`);
    this.group = attrs.group ?? 1;
    this.strides = attrs.strides ?? [1, 1];
    this.pads = attrs.pads ?? [0, 0, 0, 0];
    this.dilations = attrs.dilations ?? [1, 1];
    this.outputPadding = attrs.outputPadding ?? [0, 0];
    checkPositiveInts([this.group], 'ConvTranspose group');
    if (this.strides.length !== 2 || this.dilations.length !== 2 || this.pads.length !== 4 || this.outputPadding.length !== 2) {
      throw new ShapeError('ConvTranspose: strides, dilations and outputPadding take 2 values, pads 4 (top, left, bottom, right)');
    }
    checkPositiveInts(this.strides, 'ConvTranspose strides');
    checkPositiveInts(this.dilations, 'ConvTranspose dilations');
    checkPositiveInts(this.pads, 'ConvTranspose pads', 0);
    checkPositiveInts(this.outputPadding, 'ConvTranspose outputPadding', 0);
    if (this.outputPadding[0] >= Math.max(this.strides[0], this.dilations[0]) || this.outputPadding[1] >= Math.max(this.strides[1], this.dilations[1])) {
      throw new ShapeError(`ConvTranspose outputPadding ${fmt(this.outputPadding)} must be smaller than the stride or dilation`);
    }
    if (Cin % this.group !== 0) throw new ShapeError(`ConvTranspose: ${Cin} input channels do not split into ${this.group} groups`);
    const Cout = CoutG * this.group;
    if (bias && bias.length !== Cout) throw new ShapeError(`ConvTranspose bias has ${bias.length} values but the layer has ${Cout} output channels`);
    this.Cin = Cin;
    this.CoutG = CoutG;
    this.KH = KH;
    this.KW = KW;
    this.k = k;
    this.act = activationArgs(attrs.activation);
    this.up2 = KW === 2 && this.strides[1] === 2 && this.strides[0] === KH && this.dilations[0] === 1 && this.dilations[1] === 1
      && this.pads.every((p) => p === 0) && this.outputPadding[0] === 0 && this.outputPadding[1] === 0;
    const CinG = Cin / this.group;
    const M = CoutG * KH * KW;
    this.groupWeightFloats = Math.ceil(M / 4) * 4 * CinG;
    const src = k.upload(w);
    if (attrs.outputScale) {
      // W[ci][j][kh][kw] feeds output channel g*CoutG + j: scale each group's columns
      if (!globalThis.EDGEPRUNE_RUNTIME && attrs.outputScale.length !== CoutG * this.group) throw new ShapeError(`ConvTranspose: output scale has ${attrs.outputScale.length} values for ${CoutG * this.group} output channels`);
      const KK = KH * KW;
      for (let g = 0; g < this.group; g++) {
        const cols = new Float32Array(M);
        for (let j = 0; j < CoutG; j++) cols.fill(attrs.outputScale[g * CoutG + j], j * KK, (j + 1) * KK);
        scaleCols(k, src + g * CinG * M * 4, CinG, M, cols, 'ConvTranspose');
      }
    }
    this.weights = k.allocF32(this.groupWeightFloats * this.group);
    // A_g = W_g^T: row m = (co, kh, kw), column ci; W_g[ci][m] sits at ci * M + m
    for (let g = 0; g < this.group; g++) {
      k.fn.pack_a4(src + g * CinG * M * 4, 1, M, M, CinG, this.weights + g * this.groupWeightFloats * 4);
    }
    k.free(src);
    this.bias = bias ? k.upload(bias) : 0;
  }

  /** The runtime's ConvTranspose op has checked the input and computed these dims the same way. */
  outputDims(xDims: readonly number[]): number[] {
    if (!globalThis.EDGEPRUNE_RUNTIME) checkDims(xDims, 'ConvTranspose input [N, C, H, W]', 4);
    const [N, C, H, W] = xDims;
    if (!globalThis.EDGEPRUNE_RUNTIME && C !== this.Cin) throw new ShapeError(`ConvTranspose input has ${C} channels but the weights expect ${this.Cin}`);
    const [pt, pl, pb, pr] = this.pads;
    const OH = (H - 1) * this.strides[0] - pt - pb + this.dilations[0] * (this.KH - 1) + this.outputPadding[0] + 1;
    const OW = (W - 1) * this.strides[1] - pl - pr + this.dilations[1] * (this.KW - 1) + this.outputPadding[1] + 1;
    if (!globalThis.EDGEPRUNE_RUNTIME && (OH <= 0 || OW <= 0)) throw new ShapeError(`ConvTranspose: pads ${fmt(this.pads)} leave an empty output for input ${fmt(xDims)}`);
    return [N, this.CoutG * this.group, OH, OW];
  }

  scratchFloats(xDims: readonly number[]): number {
    return this.CoutG * this.KH * this.KW * xDims[2] * xDims[3];
  }

  run(x: number, xDims: readonly number[], y: number, scratch: number): void {
    if (!globalThis.EDGEPRUNE_RUNTIME && this.weights === 0) throw new ShapeError('ConvTranspose: used after dispose()');
    const outDims = this.outputDims(xDims);
    const k = this.k;
    if (!globalThis.EDGEPRUNE_RUNTIME) {
      k.requireFloats(x, sizeOf(xDims), 'ConvTranspose input');
      k.requireFloats(y, sizeOf(outDims), 'ConvTranspose output');
      k.requireFloats(scratch, this.scratchFloats(xDims), 'ConvTranspose scratch');
    }
    const [N, , H, W] = xDims;
    const [, Cout, OH, OW] = outDims;
    const CinG = this.Cin / this.group;
    const M = this.CoutG * this.KH * this.KW;
    const [code, p0, p1] = this.act;
    for (let n = 0; n < N; n++) {
      const yn = y + n * Cout * OH * OW * 4;
      if (this.up2) {
        for (let g = 0; g < this.group; g++) {
          const xg = x + (n * this.Cin + g * CinG) * H * W * 4;
          k.fn.gemm_a4(this.weights + g * this.groupWeightFloats * 4, M, CinG, xg, H * W, H * W, scratch, H * W, 0, 0, 0, 0);
          k.fn.col2im_up2(scratch, this.CoutG, H, W, this.KH, yn + g * this.CoutG * OH * OW * 4, this.bias && this.bias + g * this.CoutG * 4, code, p0, p1);
        }
        continue;
      }
      k.fn.fill_channels(yn, Cout, OH * OW, this.bias);
      for (let g = 0; g < this.group; g++) {
        const xg = x + (n * this.Cin + g * CinG) * H * W * 4;
        k.fn.gemm_a4(this.weights + g * this.groupWeightFloats * 4, M, CinG, xg, H * W, H * W, scratch, H * W, 0, 0, 0, 0);
        k.fn.col2im_add(scratch, this.CoutG, H, W, this.KH, this.KW, this.strides[0], this.strides[1], this.pads[0], this.pads[1],
          this.dilations[0], this.dilations[1], OH, OW, yn + g * this.CoutG * OH * OW * 4);
      }
      if (code !== 0) k.fn.activate_inplace(yn, Cout * OH * OW, code, p0, p1);
    }
  }

  dispose(): void {
    this.k.free(this.weights, this.bias);
    this.weights = 0;
    this.bias = 0;
  }
}

/** One-shot ConvTranspose2d on host arrays. */
export function convTranspose2d(k: Kernels, x: Float32Array, xDims: readonly number[], w: Float32Array, wDims: readonly number[], bias?: Float32Array, attrs: ConvTranspose2dAttributes = {}): { data: Float32Array; dims: number[] } {
  return runOnce(k, new PackedConvTranspose2d(k, w, wDims, bias, attrs), x, xDims, 'ConvTranspose input [N, C, H, W]');
}
