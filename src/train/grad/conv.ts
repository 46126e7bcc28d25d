// Conv2d backward (NCHW, float32, batch first) on kernel pointers.
//
// Saved from the forward pass: the layer input x (and the weights w). The three gradients, all
// OVERWRITTEN (never accumulated into):
//   dw = sum over the batch of dY_g · im2col(x_g)ᵀ  per group g (dY packed as A4 panels, the
//        transposed im2col written straight as B8 panels, gemm_packed accumulating image by image)
//   db = sum of dY over the batch and the pixels
//   dx: 'winograd' (3x3, stride 1, no dilation, pads <= 2, >= 16 channels in and out per group):
//                 dX = conv(pad(dY), W rotated 180° with input and output channels swapped), a
//                 3x3 stride-1 convolution run by the forward's Winograd F(2x2, 3x3) kernels;
//       'direct'  (other stride-1 layers with pads <= dilated kernel - 1): the same convolution
//                 by the forward conv_panel_a4 kernel;
//       'col2im'  (anything else): dcol = W_gᵀ · dY_g, then col2im_add into dX;
//       depthwise layers (one input channel per group, like the forward's dwconv) use their own
//       filter kernels (grad_dw_filter, grad_dw_filter3x3); dX is the forward dwconv of the
//       padded dY with the rotated filters when each input channel has one output at stride 1,
//       else grad_dw_input.
// Kernels never allocate: the caller passes `scratch` with conv2dBackwardScratchFloats(...) floats.
import { ShapeError } from '../../errors.js';
import { checkData, checkDims, fmt, sizeOf } from '../../kernels/check.js';
import { conv2dGeometry, normalizeConvAttributes, type Conv2dAttributes } from '../../kernels/conv.js';
import type { Kernels } from '../../wasm/kernels.js';
import { has } from './check.js';

export interface Conv2dBackwardArgs {
  /** Forward input [N, C, H, W]. */
  x: number;
  xDims: readonly number[];
  /** Weights [Cout, C/group, KH, KW]. */
  w: number;
  wDims: readonly number[];
  /** Gradient of the output [N, Cout, OH, OW]. */
  dy: number;
  group?: number;
  /** [strideH, strideW], default [1, 1]. */
  strides?: readonly number[];
  /** [top, left, bottom, right], default zeros. */
  pads?: readonly number[];
  /** [dilationH, dilationW], default [1, 1]. */
  dilations?: readonly number[];
}

export interface Conv2dGrads {
  /** dL/dx, [N, C, H, W]; omit (or 0) when the input needs no gradient (a first layer). */
  dx?: number;
  /** dL/dw, [Cout, C/group, KH, KW]. */
  dw: number;
  /** dL/db, [Cout]; omit (or 0) for a layer without bias. */
  db?: number;
}

export type ConvBackwardPath = 'depthwise' | 'winograd' | 'direct' | 'col2im';

interface Plan {
  N: number; C: number; H: number; W: number; OH: number; OW: number; Hp: number; Wp: number;
  Cout: number; CinG: number; CoutG: number; KH: number; KW: number; Kc: number; P: number;
  group: number; sh: number; sw: number; dh: number; dw: number;
  pads: readonly number[];
  padded: boolean;
  path: ConvBackwardPath;
  /** Depthwise with one output per input channel at stride 1: dX by the forward dwconv on the padded dY. */
  dwFlip: boolean;
  /** dY padding of the direct dX path: top, left, bottom, right and the padded size. */
  q: [number, number, number, number];
  Hq: number; Wq: number;
  /** Scratch layout in floats. */
  xpadF: number; panelsF: number; dyPackF: number; dxF: number; wPackF: number;
  /** Winograd: floats of the padded dY and of V (the GEMM sizes follow from the channels). */
  wgPadF: number; wgVF: number;
}

const up = (v: number, m: number) => Math.ceil(v / m) * m;

/** Channels per group (in and out) from which the Winograd dX pays, as in the forward. */
const WINOGRAD_MIN_CHANNELS = 16;

function plan(xDims: readonly number[], wDims: readonly number[], attrs: Conv2dAttributes): Plan {
  checkDims(wDims, 'conv2dBackward weights [Cout, Cin/group, KH, KW]', 4);
  const { group, strides, pads, dilations } = normalizeConvAttributes(attrs);
  const [Cout, CinG, KH, KW] = wDims;
  if (Cout === 0 || CinG === 0 || KH === 0 || KW === 0) throw new ShapeError(`conv2dBackward: weights ${fmt(wDims)} have an empty dimension`);
  if (Cout % group !== 0) throw new ShapeError(`conv2dBackward: ${Cout} output channels do not split into ${group} groups`);
  const [N, C, H, W, OH, OW, Hp, Wp] = conv2dGeometry(xDims, { CinG, group, KH, KW, strides, pads, dilations });
  const [sh, sw] = strides;
  const [dh, dw] = dilations;
  const CoutG = Cout / group;
  const Kc = CinG * KH * KW;
  const P = OH * OW;
  const padded = pads.some((p) => p !== 0);
  const q: [number, number, number, number] = [(KH - 1) * dh - pads[0], (KW - 1) * dw - pads[1], (KH - 1) * dh - pads[2], (KW - 1) * dw - pads[3]];
  let path: ConvBackwardPath;
  if (CinG === 1) path = 'depthwise';
  else if (sh === 1 && sw === 1 && q.every((v) => v >= 0)) {
    const wino = KH === 3 && KW === 3 && dh === 1 && dw === 1 && CinG >= WINOGRAD_MIN_CHANNELS && CoutG >= WINOGRAD_MIN_CHANNELS;
    path = wino ? 'winograd' : 'direct';
  } else path = 'col2im';
  let Hq = OH + q[0] + q[2];
  let Wq = OW + q[1] + q[3];
  let wgPadF = 0;
  let wgVF = 0;
  if (path === 'winograd') {
    // the padded dY the Winograd kernel reads: whole 2x2 output tiles, blocks of 8 tiles
    const TH = Math.ceil(H / 2);
    const TW = Math.ceil(W / 2);
    Hq = Math.max(Hq, 2 * TH + 2);
    Wq = Math.max(Wq, 16 * Math.ceil(TW / 8) + 4);
    wgPadF = up(Cout * Hq * Wq, 16);
    wgVF = 16 * CoutG * 8;
  }
  const xpadF = padded ? up(C * Hp * Wp + 4, 16) : 0;
  let panelsF = 0;
  let dyPackF = 0;
  let dxF = 0;
  let wPackF = 0;
  const dwFlip = path === 'depthwise' && Cout === C && sh === 1 && sw === 1 && q.every((v) => v >= 0);
  if (path === 'depthwise') {
    dxF = dwFlip ? up(C * KH * KW, 16) + up(C * Hq * Wq + 16, 16) : up(Hp * Wp, 16);
  } else {
    panelsF = up(Kc, 8) * P;
    dyPackF = up(CoutG, 4) * P;
    if (path === 'winograd') {
      wPackF = group * 16 * up(CinG, 4) * CoutG;
      dxF = Math.max(wgPadF + wgVF + 16 * up(CinG, 4) * 8, CinG * CoutG * 9 + 16 * CinG * CoutG);
    } else if (path === 'direct') {
      wPackF = group * up(CinG, 4) * CoutG * KH * KW;
      dxF = Math.max(up(Cout * Hq * Wq + 4, 16), CinG * CoutG * KH * KW);
    } else {
      wPackF = group * up(Kc, 4) * CoutG;
      dxF = up(P, 8) * CoutG + Kc * P;
    }
  }
  return { N, C, H, W, OH, OW, Hp, Wp, Cout, CinG, CoutG, KH, KW, Kc, P, group, sh, sw, dh, dw, pads, padded, path, dwFlip, q, Hq, Wq, xpadF, panelsF, dyPackF, dxF, wPackF, wgPadF, wgVF };
}

/** The dx algorithm conv2dBackward uses for these shapes (tests and benchmarks). */
export function conv2dBackwardPath(xDims: readonly number[], wDims: readonly number[], attrs: Conv2dAttributes = {}): ConvBackwardPath {
  return plan(xDims, wDims, attrs).path;
}

/** Output dims [N, Cout, OH, OW] of the forward conv (the dims dy must have). */
export function conv2dOutputDims(xDims: readonly number[], wDims: readonly number[], attrs: Conv2dAttributes = {}): number[] {
  const p = plan(xDims, wDims, attrs);
  return [p.N, p.Cout, p.OH, p.OW];
}

/** Floats of scratch conv2dBackward needs (withDx: whether dx is requested). */
export function conv2dBackwardScratchFloats(xDims: readonly number[], wDims: readonly number[], attrs: Conv2dAttributes = {}, withDx = true): number {
  const p = plan(xDims, wDims, attrs);
  return p.xpadF + p.panelsF + p.dyPackF + (withDx ? p.wPackF + p.dxF : 0);
}

/**
 * Gradients of y = conv2d(x, w) + b given dy. dx (optional), dw and db (optional) are overwritten.
 * scratch: conv2dBackwardScratchFloats(xDims, wDims, attrs, !!out.dx) floats (0 if that is 0).
 */
export function conv2dBackward(k: Kernels, a: Conv2dBackwardArgs, out: Conv2dGrads, scratch: number): void {
  const attrs: Conv2dAttributes = { group: a.group, strides: a.strides, pads: a.pads, dilations: a.dilations };
  const p = plan(a.xDims, a.wDims, attrs);
  const withDx = has(out.dx);
  const xN = sizeOf(a.xDims);
  const yN = p.N * p.Cout * p.P;
  const wN = sizeOf(a.wDims);
  k.requireFloats(a.x, xN, 'conv2dBackward x');
  k.requireFloats(a.w, wN, 'conv2dBackward w');
  k.requireFloats(a.dy, yN, `conv2dBackward dy ${fmt([p.N, p.Cout, p.OH, p.OW])}`);
  if (!has(out.dw)) throw new ShapeError('conv2dBackward: out.dw is required');
  k.requireFloats(out.dw, wN, 'conv2dBackward dw');
  if (has(out.db)) k.requireFloats(out.db, p.Cout, 'conv2dBackward db');
  if (withDx) k.requireFloats(out.dx!, xN, 'conv2dBackward dx');
  const need = conv2dBackwardScratchFloats(a.xDims, a.wDims, attrs, withDx);
  if (need > 0) k.requireFloats(scratch, need, 'conv2dBackward scratch (see conv2dBackwardScratchFloats)');

  const f = k.fn;
  const { N, C, H, W, OH, OW, Hp, Wp, Cout, CinG, CoutG, KH, KW, Kc, P, group, sh, sw, dh, dw } = p;
  const [pt, pl] = p.pads;
  const xpad = scratch;
  const panels = xpad + p.xpadF * 4;
  const dyPack = panels + p.panelsF * 4;
  const wPack = dyPack + p.dyPackF * 4;
  const dxArea = wPack + p.wPackF * 4;

  if (has(out.db)) f.grad_bias_nchw(a.dy, N, Cout, P, out.db);
  if (N === 0) {
    k.f32.fill(0, out.dw >> 2, (out.dw >> 2) + wN);
    return;
  }
  // weights for dx, once per call
  const dyPadDw = dxArea + up(C * KH * KW, 16) * 4;
  if (withDx && p.dwFlip) {
    f.grad_conv_flip_weights(a.w, C, 1, KH, KW, dxArea);
  } else if (withDx && p.path === 'winograd') {
    // W' per group (CinG x CoutG x 3 x 3), its 16 Winograd matrices U[e] (CinG x CoutG), each packed
    const panelsIn = up(CinG, 4);
    const per = 16 * panelsIn * CoutG;
    const flipped = dxArea;
    const u = dxArea + CinG * CoutG * 9 * 4;
    for (let g = 0; g < group; g++) {
      f.grad_conv_flip_weights(a.w + g * CoutG * Kc * 4, CoutG, CinG, KH, KW, flipped);
      f.winograd_f23_weights(flipped, CinG, CoutG, u);
      for (let e = 0; e < 16; e++) f.pack_a4(u + e * CinG * CoutG * 4, CoutG, 1, CinG, CoutG, wPack + (g * per + e * panelsIn * CoutG) * 4);
    }
  } else if (withDx && p.path === 'direct') {
    const kk = CoutG * KH * KW;
    const per = up(CinG, 4) * kk;
    for (let g = 0; g < group; g++) {
      f.grad_conv_flip_weights(a.w + g * CoutG * Kc * 4, CoutG, CinG, KH, KW, dxArea);
      f.pack_a4(dxArea, kk, 1, CinG, kk, wPack + g * per * 4);
    }
  } else if (withDx && p.path === 'col2im') {
    const per = up(Kc, 4) * CoutG;
    for (let g = 0; g < group; g++) f.grad_pack_cols4(a.w + g * CoutG * Kc * 4, CoutG, Kc, Kc, wPack + g * per * 4);
  }

  const inImage = C * H * W;
  for (let n = 0; n < N; n++) {
    const xn = a.x + n * inImage * 4;
    const dyn = a.dy + n * Cout * P * 4;
    const dxn = withDx ? out.dx! + n * inImage * 4 : 0;
    let src = xn;
    if (p.padded) {
      f.pad2d(xn, C, H, W, pt, pl, Hp, Wp, xpad);
      src = xpad;
    }
    if (p.path === 'depthwise') {
      if (KH === 3 && KW === 3 && sh === 1 && sw === 1) f.grad_dw_filter3x3(src, Hp, Wp, dyn, Cout, Cout / C, dh, dw, OH, OW, out.dw, n > 0 ? 1 : 0);
      else f.grad_dw_filter(src, Hp, Wp, dyn, Cout, Cout / C, KH, KW, sh, sw, dh, dw, OH, OW, out.dw, n > 0 ? 1 : 0);
      if (withDx && p.dwFlip) {
        f.pad2d(dyn, C, OH, OW, p.q[0], p.q[1], p.Hq, p.Wq, dyPadDw);
        f.dwconv(dyPadDw, p.Hq, p.Wq, 0, 0, p.Hq, p.Wq, 0, 0, dxArea, C, 1, KH, KW, 1, 1, dh, dw, dxn, H, W, 0, 0, 0, 0);
      } else if (withDx) {
        f.grad_dw_input(dyn, C, Cout / C, OH, OW, a.w, KH, KW, sh, sw, dh, dw, pt, pl, H, W, Hp, Wp, dxArea, dxn);
      }
      continue;
    }
    for (let g = 0; g < group; g++) {
      const dyg = dyn + g * CoutG * P * 4;
      f.grad_im2col_rows8(src + g * CinG * Hp * Wp * 4, CinG, Hp, Wp, KH, KW, sh, sw, dh, dw, OH, OW, panels);
      f.grad_pack_rows4(dyg, CoutG, P, P, dyPack);
      f.gemm_packed(dyPack, CoutG, panels, Kc, P, out.dw + g * CoutG * Kc * 4, Kc, n > 0 ? 1 : 0);
    }
    if (!withDx) continue;
    if (p.path === 'winograd') {
      const [qt, ql] = p.q;
      const per = 16 * up(CinG, 4) * CoutG;
      const v = dxArea + p.wgPadF * 4;
      const mb = v + p.wgVF * 4;
      f.pad2d(dyn, Cout, OH, OW, qt, ql, p.Hq, p.Wq, dxArea);
      for (let g = 0; g < group; g++) {
        f.conv3x3_f23(dxArea + g * CoutG * p.Hq * p.Wq * 4, CoutG, p.Hq, p.Wq, wPack + g * per * 4, CinG,
          dxn + g * CinG * H * W * 4, H, W, v, mb, 0, 0, 0, 0);
      }
    } else if (p.path === 'direct') {
      const [qt, ql] = p.q;
      const per = up(CinG, 4) * CoutG * KH * KW;
      f.pad2d(dyn, Cout, OH, OW, qt, ql, p.Hq, p.Wq, dxArea);
      for (let g = 0; g < group; g++) {
        f.conv_panel_a4(dxArea + g * CoutG * p.Hq * p.Wq * 4, CoutG, p.Hq, p.Wq, wPack + g * per * 4, CinG, KH, KW, 1, 1, dh, dw,
          dxn + g * CinG * H * W * 4, H, W, 0, 0, 0, 0);
      }
    } else {
      const per = up(Kc, 4) * CoutG;
      const dyT = dxArea;
      const dcol = dyT + up(P, 8) * CoutG * 4;
      k.f32.fill(0, dxn >> 2, (dxn >> 2) + inImage);
      for (let g = 0; g < group; g++) {
        f.grad_pack_cols8(dyn + g * CoutG * P * 4, CoutG, P, P, dyT);
        f.gemm_packed(wPack + g * per * 4, Kc, dyT, P, CoutG, dcol, P, 0);
        f.col2im_add(dcol, CinG, OH, OW, KH, KW, sh, sw, pt, pl, dh, dw, H, W, dxn + g * CinG * H * W * 4);
      }
    }
  }
}

/** One-shot conv2dBackward on host arrays (tests, scripts): allocates, runs, downloads, frees. */
export function conv2dBackwardArrays(k: Kernels, x: Float32Array, xDims: readonly number[], w: Float32Array, wDims: readonly number[],
  dy: Float32Array, attrs: Conv2dAttributes = {}, opts: { dx?: boolean; db?: boolean } = {}): { dx?: Float32Array; dw: Float32Array; db?: Float32Array } {
  checkData(x, xDims, 'conv2dBackward x');
  checkData(w, wDims, 'conv2dBackward w');
  const yDims = conv2dOutputDims(xDims, wDims, attrs);
  checkData(dy, yDims, 'conv2dBackward dy');
  const wantDx = opts.dx ?? true;
  const wantDb = opts.db ?? true;
  const ptrs: number[] = [];
  const alloc = (n: number) => { const p = k.allocF32(Math.max(1, n)); ptrs.push(p); return p; };
  try {
    const xp = k.upload(x); ptrs.push(xp);
    const wp = k.upload(w); ptrs.push(wp);
    const dyp = k.upload(dy); ptrs.push(dyp);
    const dwp = alloc(w.length);
    const dbp = wantDb ? alloc(wDims[0]) : 0;
    const dxp = wantDx ? alloc(x.length) : 0;
    const s = alloc(conv2dBackwardScratchFloats(xDims, wDims, attrs, wantDx));
    conv2dBackward(k, { x: xp, xDims, w: wp, wDims, dy: dyp, ...attrs }, { dx: dxp, dw: dwp, db: dbp }, s);
    return {
      dw: k.download(dwp, w.length),
      dx: wantDx ? k.download(dxp, x.length) : undefined,
      db: wantDb ? k.download(dbp, wDims[0]) : undefined,
    };
  } finally {
    k.free(...ptrs);
  }
}
