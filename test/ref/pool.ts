// float64 scalar references for 2-D pooling (NCHW), written from the ONNX definitions independently
// of the kernels: every window tap is visited and checked against the image bounds.

export interface PoolRefArgs {
  N: number; C: number; H: number; W: number;
  KH: number; KW: number; sh: number; sw: number;
  pt: number; pl: number; pb: number; pr: number;
  dh?: number; dw?: number;
  OH: number; OW: number;
}

export function maxPoolRef(x: ArrayLike<number>, a: PoolRefArgs): Float64Array {
  const { N, C, H, W, KH, KW, sh, sw, pt, pl, OH, OW } = a;
  const dh = a.dh ?? 1, dw = a.dw ?? 1;
  const y = new Float64Array(N * C * OH * OW);
  for (let p = 0; p < N * C; p++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let m = -Infinity;
        let any = false;
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) {
            const ih = oh * sh - pt + kh * dh, iw = ow * sw - pl + kw * dw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            m = Math.max(m, x[(p * H + ih) * W + iw]);
            any = true;
          }
        }
        y[(p * OH + oh) * OW + ow] = any ? m : -3.4028234663852886e38;
      }
    }
  }
  return y;
}

/** count_include_pad: the divisor counts the window clipped to the padded extent [-pt, H+pb) x [-pl, W+pr). */
export function avgPoolRef(x: ArrayLike<number>, a: PoolRefArgs, includePad: boolean): Float64Array {
  const { N, C, H, W, KH, KW, sh, sw, pt, pl, pb, pr, OH, OW } = a;
  const y = new Float64Array(N * C * OH * OW);
  for (let p = 0; p < N * C; p++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let s = 0, inImage = 0, inPadded = 0;
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) {
            const ih = oh * sh - pt + kh, iw = ow * sw - pl + kw;
            if (ih >= -pt && ih < H + pb && iw >= -pl && iw < W + pr) inPadded++;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            s += x[(p * H + ih) * W + iw];
            inImage++;
          }
        }
        y[(p * OH + oh) * OW + ow] = s / (includePad ? inPadded : inImage);
      }
    }
  }
  return y;
}

export function globalPoolRef(x: ArrayLike<number>, P: number, HW: number, kind: 'avg' | 'max'): Float64Array {
  const y = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    let s = 0, m = -Infinity;
    for (let i = 0; i < HW; i++) { s += x[p * HW + i]; m = Math.max(m, x[p * HW + i]); }
    y[p] = kind === 'avg' ? s / HW : m;
  }
  return y;
}
