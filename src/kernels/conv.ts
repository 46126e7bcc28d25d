// Host side of Conv2d / ConvTranspose2d (NCHW): checks, weight packing once, and the choice of
// kernel per layer:
//   depthwise  one input channel per group        -> dwconv (each channel padded in turn into a one-plane scratch)
//   gemm1x1    1x1, stride 1, no padding           -> gemm_a4 straight on the input (gemv_a4 on a 1x1 map)
//   direct     stride 1 or 2 along W, output >= 8 wide -> conv_panel_a4 on a padded copy (8-pixel patches, no im2col buffer)
//   im2col     everything else                     -> im2col + gemm_a4
import { ShapeError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { activationArgs, type FusedActivation } from './activation.js';
import { checkData, checkDims, checkPositiveInts, fmt, sizeOf } from './check.js';
import { runOnce, type PackedLayer } from './one-shot.js';
import { scaleRows } from './output-scale.js';

export interface Conv2dAttributes {
  group?: number;
  /** [strideH, strideW], default [1, 1]. */
  strides?: readonly number[];
  /** [top, left, bottom, right] (ONNX order), default zeros. */
  pads?: readonly number[];
  /** [dilationH, dilationW], default [1, 1]. */
  dilations?: readonly number[];
  activation?: FusedActivation;
  /**
   * Multiplies the weights of output channel c by outputScale[c] before packing (a folded
   * BatchNormalization; its shift belongs in the bias). Default none.
   */
  outputScale?: Float32Array;
  /**
   * Use Winograd F(2x2, 3x3) where it applies (default true). Its rounding differs slightly from
   * a direct sum (within 1e-4 relative on ordinary weights); false forces the direct kernel.
   */
  winograd?: boolean;
}

export type ConvPath = 'depthwise' | 'gemm1x1' | 'winograd' | 'direct' | 'im2col';

/**
 * Input channels per group from which Winograd's transforms pay for themselves. 3x3 convs on
 * 14x14 to 56x56 maps, 8 to 64 output channels (simd build, AMD EPYC VM), Winograd / direct time:
 * 8 input channels 0.60-1.01, 12 0.50-0.84, but 4 0.82-1.44. (16 before: the MNIST CNN's 8->16
 * layer ran direct, 17.8 µs against 10.8 µs.)
 */
const WINOGRAD_MIN_CHANNELS = 8;

interface Geometry {
  N: number;
  C: number;
  H: number;
  W: number;
  OH: number;
  OW: number;
  Hp: number;
  Wp: number;
}

/**
 * Checks a conv layer's weights, bias, output scale and attributes (every conv kernel's
 * constructor does); returns the attributes with their defaults.
 */
export function checkConvLayer(w: Float32Array, wDims: readonly number[], bias: Float32Array | undefined, attrs: Conv2dAttributes) {
  // the runtime's Conv passes 4-D dims of decoded weights, and outputScale from a checked BatchNormalization
  if (!globalThis.EDGEPRUNE_RUNTIME) {
    checkDims(wDims, 'Conv weights [Cout, Cin/group, KH, KW]', 4);
    checkData(w, wDims, 'Conv weights');
  }
  const a = normalizeConvAttributes(attrs);
  const [Cout, CinG, KH, KW] = wDims;
  if (Cout === 0 || CinG === 0 || KH === 0 || KW === 0) throw new ShapeError(`Conv weights ${fmt(wDims)} have an empty dimension`);
  if (Cout % a.group !== 0) throw new ShapeError(`Conv: ${Cout} output channels do not split into ${a.group} groups`);
  if (bias && bias.length !== Cout) throw new ShapeError(`Conv bias has ${bias.length} values but the layer has ${Cout} output channels`);
  if (!globalThis.EDGEPRUNE_RUNTIME && attrs.outputScale && attrs.outputScale.length !== Cout) throw new ShapeError(`Conv output scale has ${attrs.outputScale.length} values for ${Cout} output channels`);
  return a;
}

/**
 * Whether a stride-1 sparse run (the direct sparse conv, a depthwise kept-tap list) computes its
 * rows as one run over the padded width: rows shorter than one 28-pixel block.
 */
export function runsFlat(strides: readonly number[], OW: number): boolean {
  return OW < 28 && strides[0] === 1 && strides[1] === 1;
}

/** That run's output plane on the padded width, and the last vector's spare lanes. */
export function flatFloats(OH: number, OW: number, Wp: number): number {
  return (OH - 1) * Wp + OW + 4;
}

/** Conv attributes with defaults filled in, checked. */
export function normalizeConvAttributes(attrs: Conv2dAttributes) {
  const group = attrs.group ?? 1;
  const strides = attrs.strides ?? [1, 1];
  const pads = attrs.pads ?? [0, 0, 0, 0];
  const dilations = attrs.dilations ?? [1, 1];
  checkPositiveInts([group], 'conv group');
  if (strides.length !== 2) throw new ShapeError(`conv strides must be [h, w], got ${fmt(strides)}`);
  if (pads.length !== 4) throw new ShapeError(`conv pads must be [top, left, bottom, right], got ${fmt(pads)}`);
  if (dilations.length !== 2) throw new ShapeError(`conv dilations must be [h, w], got ${fmt(dilations)}`);
  checkPositiveInts(strides, 'conv strides');
  checkPositiveInts(dilations, 'conv dilations');
  checkPositiveInts(pads, 'conv pads', 0);
  return { group, strides, pads, dilations };
}

/** Whether the dense conv runs Winograd F(2x2, 3x3) (unless disabled): 3x3, stride 1, no dilation, enough channels. */
export function winogradApplies(wDims: readonly number[], group: number, strides: readonly number[], dilations: readonly number[]): boolean {
  const [Cout, CinG, KH, KW] = wDims;
  return CinG > 1 && KH === 3 && KW === 3 && strides[0] === 1 && strides[1] === 1 && dilations[0] === 1 && dilations[1] === 1 &&
    CinG >= WINOGRAD_MIN_CHANNELS && Cout / group >= WINOGRAD_MIN_CHANNELS;
}

/** A Conv2d layer with its weights packed once. */
export class PackedConv2d implements PackedLayer {
  readonly Cout: number;
  readonly CinG: number;
  readonly KH: number;
  readonly KW: number;
  readonly group: number;
  readonly strides: readonly number[];
  readonly pads: readonly number[];
  readonly dilations: readonly number[];
  private readonly k: Kernels;
  private readonly act: [number, number, number];
  private weights: number; // packed per group (or raw [Cout][KH][KW] for depthwise)
  private bias: number; // per group, each padded to a multiple of 4
  private readonly groupWeightFloats: number;
  private readonly groupBiasFloats: number;
  private readonly depthwise: boolean;
  private readonly winograd: boolean;

  constructor(k: Kernels, w: Float32Array, wDims: readonly number[], bias: Float32Array | undefined, attrs: Conv2dAttributes = {}) {
    const { group, strides, pads, dilations } = checkConvLayer(w, wDims, bias, attrs);
    const [Cout, CinG, KH, KW] = wDims;
    this.Cout = Cout;
    this.CinG = CinG;
    this.KH = KH;
    this.KW = KW;
    this.group = group;
    this.strides = strides;
    this.pads = pads;
    this.dilations = dilations;
    this.k = k;
    this.act = activationArgs(attrs.activation);
    // one input channel per group (depthwise, or a single-channel input such as a grayscale image):
    // the depthwise kernel keeps each 3x3 filter in registers, far better than a 9-long GEMM
    this.depthwise = CinG === 1;
    const CoutG = Cout / group;
    const K = CinG * KH * KW;
    this.winograd = (attrs.winograd ?? true) && winogradApplies(wDims, group, strides, dilations);
    if (this.depthwise) {
      this.groupWeightFloats = 0;
      this.groupBiasFloats = 0;
      this.weights = k.upload(w);
      if (attrs.outputScale) scaleRows(k, this.weights, Cout, K, attrs.outputScale, 'Conv');
      this.bias = bias ? k.upload(bias) : 0;
      return;
    }
    const panels = Math.ceil(CoutG / 4) * 4;
    this.groupBiasFloats = panels;
    const src = k.upload(w);
    if (attrs.outputScale) scaleRows(k, src, Cout, K, attrs.outputScale, 'Conv');
    if (this.winograd) {
      // 16 transformed matrices U[e] (CoutG x CinG) per group, each packed like any weight matrix
      this.groupWeightFloats = 16 * panels * CinG;
      this.weights = k.allocF32(this.groupWeightFloats * group);
      const u = k.allocF32(16 * CoutG * CinG);
      for (let g = 0; g < group; g++) {
        k.fn.winograd_f23_weights(src + g * CoutG * K * 4, CoutG, CinG, u);
        for (let e = 0; e < 16; e++) {
          k.fn.pack_a4(u + e * CoutG * CinG * 4, CinG, 1, CoutG, CinG, this.weights + (g * this.groupWeightFloats + e * panels * CinG) * 4);
        }
      }
      k.free(u);
    } else {
      this.groupWeightFloats = panels * K;
      this.weights = k.allocF32(this.groupWeightFloats * group);
      for (let g = 0; g < group; g++) {
        k.fn.pack_a4(src + g * CoutG * K * 4, K, 1, CoutG, K, this.weights + g * this.groupWeightFloats * 4);
      }
    }
    k.free(src);
    this.bias = 0;
    if (bias) {
      const padded = new Float32Array(panels * group);
      for (let g = 0; g < group; g++) padded.set(bias.subarray(g * CoutG, (g + 1) * CoutG), g * panels);
      this.bias = k.upload(padded);
    }
  }

  /** Output dims for an input of dims [N, C, H, W]; throws a ShapeError naming the mismatch. */
  outputDims(xDims: readonly number[]): number[] {
    return [xDims[0], this.Cout, ...this.geometry(xDims).slice(4, 6)];
  }

  /** The kernel this layer uses for inputs of these dims. */
  path(xDims: readonly number[]): ConvPath {
    const { OW } = this.geom(xDims);
    if (this.depthwise) return 'depthwise';
    if (this.winograd) return 'winograd';
    if (this.KH === 1 && this.KW === 1 && this.strides[0] === 1 && this.strides[1] === 1 && this.padsZero()) return 'gemm1x1';
    if (this.strides[1] <= 2 && OW >= 8) return 'direct';
    return 'im2col';
  }

  /** Floats of scratch memory run() needs for inputs of these dims. */
  /** Depthwise: one plane to pad each channel into (column-split for the kept-tap lists at stride 2 along W). */
  private dwPlaneFloats(g: Geometry): number {
    return this.padsZero() && this.strides[1] !== 2 ? 0 : g.Hp * g.Wp;
  }

  /** Depthwise at stride 1 on short rows: the kept-tap lists' run over the padded width (assembly/conv.ts dw_sparse_plane). */
  private dwFlatFloats(g: Geometry): number {
    return runsFlat(this.strides, g.OW) ? flatFloats(g.OH, g.OW, g.Wp) : 0;
  }

  scratchFloats(xDims: readonly number[]): number {
    const g = this.geom(xDims);
    const p = this.path(xDims);
    if (p === 'gemm1x1') return 0;
    if (p === 'winograd') {
      const w = this.winogradGeometry(g);
      return w.padFloats + 16 * this.CinG * 8 + 16 * Math.ceil(this.Cout / this.group / 4) * 4 * 8;
    }
    if (p === 'depthwise') return this.dwPlaneFloats(g) + this.dwFlatFloats(g);
    if (p === 'direct') return this.padsZero() ? 0 : g.C * g.Hp * g.Wp;
    return this.CinG * this.KH * this.KW * g.OH * g.OW;
  }

  /** x: [N, C, H, W] at pointer x; y receives outputDims(xDims); scratch: scratchFloats(xDims) floats (0 if none). */
  run(x: number, xDims: readonly number[], y: number, scratch: number): void {
    if (!globalThis.EDGEPRUNE_RUNTIME && this.weights === 0) throw new ShapeError('Conv: used after dispose()');
    const g = this.geom(xDims);
    const k = this.k;
    if (!globalThis.EDGEPRUNE_RUNTIME) {
      k.requireFloats(x, sizeOf(xDims), 'Conv input');
      k.requireFloats(y, sizeOf(this.outputDims(xDims)), 'Conv output');
      const need = this.scratchFloats(xDims);
      if (need > 0) k.requireFloats(scratch, need, 'Conv scratch');
    }
    const path = this.path(xDims);
    const [code, p0, p1] = this.act;
    const [sh, sw] = this.strides;
    const [dh, dw] = this.dilations;
    const [pt, pl] = this.pads;
    const { C, H, W, OH, OW, Hp, Wp } = g;
    const CoutG = this.Cout / this.group;
    const K = this.CinG * this.KH * this.KW;
    const inPlane = H * W;
    const outPlane = OH * OW;
    for (let n = 0; n < g.N; n++) {
      const xn = x + n * C * inPlane * 4;
      const yn = y + n * this.Cout * outPlane * 4;
      if (path === 'depthwise') {
        // each input channel is padded into the one-plane scratch just before it is used
        const planeF = this.dwPlaneFloats(g);
        k.fn.dwconv(xn, H, W, pt, pl, Hp, Wp, planeF ? scratch : 0, this.dwFlatFloats(g) ? scratch + planeF * 4 : 0, this.weights, this.Cout, this.Cout / C, this.KH, this.KW, sh, sw, dh, dw, yn, OH, OW, this.bias, code, p0, p1);
        continue;
      }
      if (path === 'winograd') {
        const wg = this.winogradGeometry(g);
        k.fn.pad2d(xn, C, H, W, pt, pl, wg.Hp, wg.Wp, scratch);
        const v = scratch + wg.padFloats * 4;
        const mb = v + 16 * this.CinG * 8 * 4;
        for (let gi = 0; gi < this.group; gi++) {
          k.fn.conv3x3_f23(scratch + gi * this.CinG * wg.Hp * wg.Wp * 4, this.CinG, wg.Hp, wg.Wp,
            this.weights + gi * this.groupWeightFloats * 4, CoutG, yn + gi * CoutG * outPlane * 4, OH, OW, v, mb,
            this.bias ? this.bias + gi * this.groupBiasFloats * 4 : 0, code, p0, p1);
        }
        continue;
      }
      let padded = xn;
      if (path === 'direct' && !this.padsZero()) {
        k.fn.pad2d(xn, C, H, W, pt, pl, Hp, Wp, scratch);
        padded = scratch;
      }
      for (let gi = 0; gi < this.group; gi++) {
        const wg = this.weights + gi * this.groupWeightFloats * 4;
        const bg = this.bias ? this.bias + gi * this.groupBiasFloats * 4 : 0;
        const yg = yn + gi * CoutG * outPlane * 4;
        if (path === 'gemm1x1') {
          const xg = xn + gi * this.CinG * inPlane * 4;
          // a 1x1 map (squeeze-and-excitation): one column, no 8-column panels
          if (inPlane === 1) k.fn.gemv_a4(wg, CoutG, K, xg, yg, bg, code, p0, p1);
          else k.fn.gemm_a4(wg, CoutG, K, xg, inPlane, inPlane, yg, inPlane, bg, code, p0, p1);
        } else if (path === 'direct') {
          const xg = padded + gi * this.CinG * Hp * Wp * 4;
          k.fn.conv_panel_a4(xg, this.CinG, Hp, Wp, wg, CoutG, this.KH, this.KW, sh, sw, dh, dw, yg, OH, OW, bg, code, p0, p1);
        } else {
          const xg = xn + gi * this.CinG * inPlane * 4;
          k.fn.im2col(xg, this.CinG, H, W, this.KH, this.KW, sh, sw, pt, pl, dh, dw, OH, OW, scratch);
          k.fn.gemm_a4(wg, CoutG, K, scratch, outPlane, outPlane, yg, outPlane, bg, code, p0, p1);
        }
      }
    }
  }

  dispose(): void {
    this.k.free(this.weights, this.bias);
    this.weights = 0;
    this.bias = 0;
  }

  /** The padded copy Winograd reads: whole 2x2 tiles, runs of 4 tiles, vector-wide reads past the last column. */
  private winogradGeometry(g: Geometry): { Hp: number; Wp: number; padFloats: number } {
    const TH = Math.ceil(g.OH / 2);
    const TW = Math.ceil(g.OW / 2);
    const Hp = Math.max(g.Hp, 2 * TH + 2);
    const Wp = Math.max(g.Wp, 8 * Math.ceil(TW / 4) + 4);
    return { Hp, Wp, padFloats: Math.ceil((g.C * Hp * Wp) / 16) * 16 };
  }

  private padsZero(): boolean {
    const p = this.pads;
    return p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0;
  }

  private geom(xDims: readonly number[]): Geometry {
    const g = this.geometry(xDims);
    return { N: g[0], C: g[1], H: g[2], W: g[3], OH: g[4], OW: g[5], Hp: g[6], Wp: g[7] };
  }

  private geometry(xDims: readonly number[]): number[] {
    return conv2dGeometry(xDims, this);
  }

}

/** One-shot Conv2d on host arrays. */
export function conv2d(k: Kernels, x: Float32Array, xDims: readonly number[], w: Float32Array, wDims: readonly number[], bias?: Float32Array, attrs: Conv2dAttributes = {}): { data: Float32Array; dims: number[] } {
  return runOnce(k, new PackedConv2d(k, w, wDims, bias, attrs), x, xDims, 'Conv input [N, C, H, W]');
}

/** The weight shape and attributes a conv geometry depends on. */
export interface ConvShape {
  readonly CinG: number;
  readonly group: number;
  readonly KH: number;
  readonly KW: number;
  readonly strides: readonly number[];
  readonly pads: readonly number[];
  readonly dilations: readonly number[];
}

/**
 * [N, C, H, W, OH, OW, Hp, Wp] of a conv over input dims xDims; a ShapeError names any mismatch
 * (the runtime's Conv op has checked the same before planning).
 */
export function conv2dGeometry(xDims: readonly number[], c: ConvShape): number[] {
  if (!globalThis.EDGEPRUNE_RUNTIME) checkDims(xDims, 'Conv input [N, C, H, W]', 4);
  // indexed rather than destructured: a plan computes this several times per conv, in V8's
  // interpreter on a cold start, where array destructuring allocates an iterator and its results
  const N = xDims[0], C = xDims[1], H = xDims[2], W = xDims[3];
  if (!globalThis.EDGEPRUNE_RUNTIME && C !== c.CinG * c.group) {
    throw new ShapeError(`Conv input has ${C} channels but the weights expect ${c.CinG * c.group} (${c.CinG} per group x ${c.group} groups)`);
  }
  const Hp = H + c.pads[0] + c.pads[2];
  const Wp = W + c.pads[1] + c.pads[3];
  const ekh = (c.KH - 1) * c.dilations[0] + 1;
  const ekw = (c.KW - 1) * c.dilations[1] + 1;
  if (!globalThis.EDGEPRUNE_RUNTIME && (ekh > Hp || ekw > Wp)) {
    throw new ShapeError(`Conv kernel ${c.KH}x${c.KW} (dilated ${ekh}x${ekw}) is larger than the padded input ${Hp}x${Wp}; check the input size or pads`);
  }
  const OH = Math.floor((Hp - ekh) / c.strides[0]) + 1;
  const OW = Math.floor((Wp - ekw) / c.strides[1]) + 1;
  return [N, C, H, W, OH, OW, Hp, Wp];
}