// float64 scalar references for Conv2d and ConvTranspose2d, written from the ONNX definitions.

export interface ConvRefAttrs {
  group: number;
  strides: number[];
  pads: number[]; // t, l, b, r
  dilations: number[];
}

export function conv2dRef(x: ArrayLike<number>, xd: number[], w: ArrayLike<number>, wd: number[], bias: ArrayLike<number> | undefined, a: ConvRefAttrs) {
  const [N, C, H, W] = xd;
  const [Cout, CinG, KH, KW] = wd;
  const [sh, sw] = a.strides;
  const [dh, dw] = a.dilations;
  const [pt, pl, pb, pr] = a.pads;
  const OH = Math.floor((H + pt + pb - (dh * (KH - 1) + 1)) / sh) + 1;
  const OW = Math.floor((W + pl + pr - (dw * (KW - 1) + 1)) / sw) + 1;
  const CoutG = Cout / a.group;
  const y = new Float64Array(N * Cout * OH * OW);
  for (let n = 0; n < N; n++)
    for (let co = 0; co < Cout; co++) {
      const g = Math.floor(co / CoutG);
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let s = bias ? bias[co] : 0;
          for (let ci = 0; ci < CinG; ci++)
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const ih = oh * sh - pt + kh * dh;
                const iw = ow * sw - pl + kw * dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += x[((n * C + g * CinG + ci) * H + ih) * W + iw] * w[((co * CinG + ci) * KH + kh) * KW + kw];
              }
          y[((n * Cout + co) * OH + oh) * OW + ow] = s;
        }
    }
  return { data: y, dims: [N, Cout, OH, OW] };
}

export function convTranspose2dRef(x: ArrayLike<number>, xd: number[], w: ArrayLike<number>, wd: number[], bias: ArrayLike<number> | undefined, a: ConvRefAttrs & { outputPadding: number[] }) {
  const [N, Cin, H, W] = xd;
  const [, CoutG, KH, KW] = wd;
  const [sh, sw] = a.strides;
  const [dh, dw] = a.dilations;
  const [pt, pl, pb, pr] = a.pads;
  const Cout = CoutG * a.group;
  const CinG = Cin / a.group;
  const OH = (H - 1) * sh - pt - pb + dh * (KH - 1) + a.outputPadding[0] + 1;
  const OW = (W - 1) * sw - pl - pr + dw * (KW - 1) + a.outputPadding[1] + 1;
  const y = new Float64Array(N * Cout * OH * OW);
  for (let n = 0; n < N; n++)
    for (let co = 0; co < Cout; co++)
      for (let i = 0; i < OH * OW; i++) y[(n * Cout + co) * OH * OW + i] = bias ? bias[co] : 0;
  for (let n = 0; n < N; n++)
    for (let ci = 0; ci < Cin; ci++) {
      const g = Math.floor(ci / CinG);
      for (let ih = 0; ih < H; ih++)
        for (let iw = 0; iw < W; iw++) {
          const xv = x[((n * Cin + ci) * H + ih) * W + iw];
          for (let c = 0; c < CoutG; c++)
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const oh = ih * sh - pt + kh * dh;
                const ow = iw * sw - pl + kw * dw;
                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                y[((n * Cout + g * CoutG + c) * OH + oh) * OW + ow] += xv * w[((ci * CoutG + c) * KH + kh) * KW + kw];
              }
        }
    }
  return { data: y, dims: [N, Cout, OH, OW] };
}
