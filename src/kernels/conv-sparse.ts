// Conv2d with sparse weights (unstructured pruning), three ways:
//   sparse1x1      1x1, stride 1, no pads: the CSR SpMM of assembly/sparse.ts straight on the
//                  input planes (K = Cin rows of H * W pixels, blocked by 16), or under 25%
//                  non-zeros the direct kernel below on the plane as one run of H * W pixels
//                  (its output channels with 4 non-zeros or fewer run as rows of vectors, not
//                  blocks: 16->32 on 56x56 at 95% zeros 0.62x the SpMM's time, 144->24 0.71x,
//                  256->256 on 7x7 0.85x; at 30% non-zeros the SpMM's K panels won, 1.06-1.11x
//                  for K of 144 and 960);
//   sparse-direct  any other conv with stride 1 or 2 along W: assembly/sparse-direct.ts on a
//                  padded copy (at stride 2 with each row's even columns, then its odd ones),
//                  one byte offset per non-zero (cin, kh, kw), no im2col buffer; rows under 28
//                  pixels at stride 1 as one run over the padded width;
//   sparse-im2col  the rest (stride 3+ along W, or stride 2 where the caller asks for it: the
//                  SpMM's panels beat the direct kernel on rows under 16 pixels at moderate
//                  sparsity, see src/runtime/kernel-choice.ts): the SpMM over im2col columns, a
//                  band of output rows at a time so the columns stay within IM2COL_BAND_FLOATS (a
//                  7x7 stem with stride 3 along W on a 224x224 image would otherwise need 4.9 MB).
import { ShapeError } from '../errors.js';
import type { Kernels } from '../wasm/kernels.js';
import { sizeOf } from './check.js';
import { checkConvLayer, conv2dGeometry, flatFloats, runsFlat, type Conv2dAttributes, type ConvShape } from './conv.js';
import { denseToCsr, PackedSparseLinear } from './sparse.js';
import { activationArgs } from './activation.js';

export type SparseConvPath = 'sparse1x1' | 'sparse-direct' | 'sparse-im2col';

/**
 * Most im2col floats per band of output rows (256 KiB): a band still holds hundreds of pixels for
 * the SpMM (a 7x7 stem: 3 rows of 112), and the scratch stays near the layer's own tensors.
 */
export const IM2COL_BAND_FLOATS = 65536;

/** Under this share of non-zeros a 1x1 conv runs the direct kernel, not the SpMM (see above). */
export const ONE_BY_ONE_DIRECT_DENSITY = 0.25;

/**
 * A group's non-zeros for the direct kernel: CSR rows, and each non-zero's column (cin, kh, kw)
 * and weight, to pair into (byte offset, weight) per input size.
 */
interface DirectGroup {
  rowPtr: number;
  bias: number;
  cols: Int32Array;
  values: Float32Array;
}

/** Conv attributes, and for a stride-2 conv whether to run the im2col SpMM instead of the direct kernel. */
export interface SparseConv2dAttributes extends Conv2dAttributes {
  im2col?: boolean;
}

/** The sparse kernel a conv with this kernel size, strides and pads runs (im2col: see SparseConv2dAttributes). */
export function sparseConvPath(KH: number, KW: number, strides: readonly number[], pads: readonly number[], im2col = false): SparseConvPath {
  if (KH === 1 && KW === 1 && strides[0] === 1 && strides[1] === 1 && pads.every((p) => p === 0)) return 'sparse1x1';
  return strides[1] === 1 || (strides[1] === 2 && !im2col) ? 'sparse-direct' : 'sparse-im2col';
}

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
  private layers: PackedSparseLinear[] = [];
  private direct: DirectGroup[] = [];
  /** Byte offsets per group for one padded input size ('HpxWp'): built on first use. */
  private readonly offsets = new Map<string, number[]>();
  private readonly act: [number, number, number];
  private disposed = false;
  private readonly im2col: boolean;
  /** A sparse1x1 layer run by the direct kernel (under ONE_BY_ONE_DIRECT_DENSITY). */
  private readonly oneByOneDirect: boolean;

  constructor(k: Kernels, w: Float32Array, wDims: readonly number[], bias: Float32Array | undefined, attrs: SparseConv2dAttributes = {}) {
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
    this.im2col = attrs.im2col ?? false;
    this.k = k;
    const CoutG = Cout / group;
    const K = CinG * KH * KW;
    const scale = attrs.outputScale;
    this.act = activationArgs(attrs.activation);
    let kept = 0;
    for (let i = 0; i < w.length; i++) if (w[i] !== 0) kept++;
    this.oneByOneDirect = this.path() === 'sparse1x1' && kept < ONE_BY_ONE_DIRECT_DENSITY * w.length;
    let nnz = 0;
    for (let g = 0; g < group; g++) {
      let rows = w.subarray(g * CoutG * K, (g + 1) * CoutG * K);
      if (scale) rows = rows.map((v, i) => v * scale[g * CoutG + Math.floor(i / K)]);
      const gBias = bias?.subarray(g * CoutG, (g + 1) * CoutG);
      if (this.path() === 'sparse-direct' || this.oneByOneDirect) {
        this.direct.push(this.packDirect(rows, CoutG, gBias));
        nnz += this.direct[g].cols.length;
      } else {
        this.layers.push(new PackedSparseLinear(k, rows, CoutG, K, { bias: gBias, activation: attrs.activation }));
        nnz += this.layers[g].nnz;
      }
    }
    this.nnz = nnz;
    this.density = nnz / w.length;
  }

  outputDims(xDims: readonly number[]): number[] {
    const [N, , , , OH, OW] = conv2dGeometry(xDims, this);
    return [N, this.Cout, OH, OW];
  }

  path(): SparseConvPath {
    return sparseConvPath(this.KH, this.KW, this.strides, this.pads, this.im2col);
  }

  scratchFloats(xDims: readonly number[]): number {
    const [, C, , , OH, OW, Hp, Wp] = conv2dGeometry(xDims, this);
    const path = this.path();
    if (path === 'sparse1x1') return 0;
    // the padded copy (column-split at stride 2; the last pixel group's reads past it land in the
    // spare bytes every heap block and arena has): the dense direct kernel's scratch; short rows
    // add one output plane on the padded width
    if (path === 'sparse-direct') return (this.strides[1] === 1 && this.pads.every((p) => p === 0) ? 0 : C * Hp * Wp) + (this.flat(OW) ? flatFloats(OH, OW, Wp) : 0);
    return this.CinG * this.KH * this.KW * this.bandRows(OH, OW, C * Hp * Wp) * OW;
  }

  /**
   * Output rows per im2col band: as many as fit IM2COL_BAND_FLOATS and a padded copy of the input
   * (the dense kernels' scratch for the layer: a sparse layer never needs more memory than its
   * dense twin, or a memory budget met dense breaks when the layer goes sparse; a 3-channel stem
   * of a 48x192 image took 249 kB of columns against a 116 kB padded copy), at least one.
   */
  private bandRows(OH: number, OW: number, paddedFloats: number): number {
    return Math.max(1, Math.min(OH, Math.floor(Math.min(IM2COL_BAND_FLOATS, paddedFloats) / (this.CinG * this.KH * this.KW * OW))));
  }

  run(x: number, xDims: readonly number[], y: number, scratch: number): void {
    if (!globalThis.EDGEPRUNE_RUNTIME && this.disposed) throw new ShapeError('Conv: used after dispose()');
    const [N, C, H, W, OH, OW, Hp, Wp] = conv2dGeometry(xDims, this);
    const k = this.k;
    if (!globalThis.EDGEPRUNE_RUNTIME) {
      k.requireFloats(x, sizeOf(xDims), 'Conv input');
      k.requireFloats(y, N * this.Cout * OH * OW, 'Conv output');
      const need = this.scratchFloats(xDims);
      if (need > 0) k.requireFloats(scratch, need, 'Conv scratch');
    }
    const oneByOne = this.path() === 'sparse1x1';
    const CoutG = this.Cout / this.group;
    const inPlane = H * W;
    const outPlane = OH * OW;
    const [sh, sw] = this.strides;
    const [dh, dw] = this.dilations;
    const [pt, pl] = this.pads;
    if (this.path() === 'sparse-direct' || this.oneByOneDirect) {
      const offs = this.directOffsets(Hp, Wp);
      const [code, p0, p1] = this.act;
      // stride 2 along W always reads the column-split copy (pad2d_split)
      const padded = sw === 2 || this.pads.some((p) => p !== 0);
      for (let n = 0; n < N; n++) {
        let xn = x + n * C * inPlane * 4;
        if (padded) {
          k.fn[sw === 2 ? 'pad2d_split' : 'pad2d'](xn, C, H, W, pt, pl, Hp, Wp, scratch);
          xn = scratch;
        }
        for (let g = 0; g < this.group; g++) {
          const d = this.direct[g];
          const xg = xn + g * this.CinG * Hp * Wp * 4;
          const yg = y + (n * this.Cout + g * CoutG) * outPlane * 4;
          if (this.oneByOneDirect) {
            // each input plane is one run of H * W pixels (no pads, stride 1)
            k.fn.spconv_rows(d.rowPtr, offs[g], CoutG, xg, outPlane, yg, outPlane * 4, d.bias, code, p0, p1);
          } else if (this.flat(OW)) {
            k.fn.spconv_direct_flat(d.rowPtr, offs[g], CoutG, xg, OH, Wp, OW, yg, outPlane * 4, d.bias, code, p0, p1,
              scratch + (padded ? C * Hp * Wp * 4 : 0));
          } else {
            k.fn.spconv_direct(d.rowPtr, offs[g], CoutG, xg, OH, sh * Wp * 4, OW, yg, outPlane * 4, d.bias, code, p0, p1);
          }
        }
      }
      return;
    }
    for (let n = 0; n < N; n++) {
      for (let g = 0; g < this.group; g++) {
        const xg = x + (n * C + g * this.CinG) * inPlane * 4;
        const yg = y + (n * this.Cout + g * CoutG) * outPlane * 4;
        if (oneByOne) {
          this.layers[g].run(xg, inPlane, yg);
          continue;
        }
        const band = this.bandRows(OH, OW, C * Hp * Wp);
        for (let oh = 0; oh < OH; oh += band) {
          const rows = Math.min(band, OH - oh);
          // rows oh.. of the output: the top pad less the rows above (negative once past it; the
          // kernel takes it as a signed offset)
          k.fn.im2col(xg, this.CinG, H, W, this.KH, this.KW, sh, sw, pt - oh * sh, pl, dh, dw, rows, OW, scratch);
          this.layers[g].run(scratch, rows * OW, yg + oh * OW * 4, { ldy: outPlane });
        }
      }
    }
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
    for (const d of this.direct) this.k.free(d.rowPtr, d.bias);
    for (const o of this.offsets.values()) this.k.free(...o);
    this.layers = [];
    this.direct = [];
    this.offsets.clear();
    this.disposed = true;
  }

  /** Short rows at stride 1 run spconv_direct_flat (see assembly/sparse-direct.ts). */
  private flat(OW: number): boolean {
    return runsFlat(this.strides, OW);
  }

  /** CSR of one group's rows (CoutG x CinG*KH*KW) for the direct kernel. */
  private packDirect(rows: Float32Array, M: number, bias: Float32Array | undefined): DirectGroup {
    const { rowPtr, cols, vals } = denseToCsr(rows, M, this.CinG * this.KH * this.KW);
    const k = this.k;
    return { rowPtr: k.uploadI32(rowPtr), bias: bias ? k.upload(bias) : 0, cols, values: vals };
  }

  /**
   * Per group, each non-zero's (byte offset of its input row start, weight) for a padded input of
   * Hp x Wp (column-split at stride 2): one 8-byte load per non-zero in the kernel's inner loop.
   */
  private directOffsets(Hp: number, Wp: number): number[] {
    const key = `${Hp}x${Wp}`;
    let offs = this.offsets.get(key);
    if (!offs) {
      const [dh, dw] = this.dilations;
      offs = this.direct.map((d) => {
        const taps = this.KH * this.KW;
        const pairs = new Int32Array(2 * d.cols.length);
        // the weights' bits go in as they are (an Int32Array view of the f32 values)
        const bits = new Int32Array(d.values.buffer, d.values.byteOffset, d.values.length);
        d.cols.forEach((c, i) => {
          const kh = Math.floor((c % taps) / this.KW);
          // stride 2: the column's place in its row's even or odd half (pad2d_split)
          const kw = (c % this.KW) * dw;
          const col = this.strides[1] === 1 ? kw : kw % 2 === 0 ? kw / 2 : ((Wp + 1) >> 1) + (kw - 1) / 2;
          pairs[2 * i] = (Math.floor(c / taps) * Hp * Wp + kh * dh * Wp + col) * 4;
          pairs[2 * i + 1] = bits[i];
        });
        return this.k.uploadI32(pairs);
      });
      this.offsets.set(key, offs);
    }
    return offs;
  }
}
