// Shared by the test/grad-*.test.ts files: float64 reference forwards and central finite
// differences. A backward is checked by taking the scalar L = sum(forward(...) * R) for a fixed
// random R (the upstream gradient dy = R), perturbing each input element by ±h in a float64
// forward, and comparing (L(+h) - L(-h)) / 2h with what the kernel returns for dy = R.
import { expect } from 'vitest';
import type { Kernels } from '../src/wasm/kernels.js';

export const prod = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);

/** sum(a * r) in float64. */
export function dot(a: ArrayLike<number>, r: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * r[i];
  return s;
}

/**
 * Central differences of L(v) = loss(v) with respect to every element of v (float64, restored after
 * each probe).
 */
export function numericGrad(v: Float64Array, loss: () => number, h = 1e-3): Float64Array {
  const g = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const old = v[i];
    v[i] = old + h;
    const lp = loss();
    v[i] = old - h;
    const lm = loss();
    v[i] = old;
    g[i] = (lp - lm) / (2 * h);
  }
  return g;
}

/**
 * Analytic (float32 kernel) vs numeric (float64) gradient: |a - n| <= tol * max(1, max |n|) for
 * every element (the scale of the whole gradient, since small entries are sums of large terms).
 */
export function expectGradClose(analytic: ArrayLike<number>, numeric: ArrayLike<number>, what: string, tol = 1e-3): void {
  expect(analytic.length, `${what}: length`).toBe(numeric.length);
  let scale = 1;
  for (let i = 0; i < numeric.length; i++) scale = Math.max(scale, Math.abs(numeric[i]));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < numeric.length; i++) {
    const e = Math.abs(analytic[i] - numeric[i]);
    if (!(e <= worst)) { worst = e; at = i; }
  }
  if (!(worst <= tol * scale)) {
    expect.fail(`${what}: |analytic - numeric| = ${worst.toExponential(2)} > ${tol} * ${scale.toFixed(3)} at ${at}: analytic ${analytic[at]}, numeric ${numeric[at]}`);
  }
}

export const f64 = (a: ArrayLike<number>) => Float64Array.from(a);
export const f32 = (a: ArrayLike<number>) => Float32Array.from(a);

export interface ConvAttrs {
  group: number;
  strides: number[];
  pads: number[];
  dilations: number[];
}

export function convOut(xDims: number[], wDims: number[], a: ConvAttrs): number[] {
  const [N, , H, W] = xDims;
  const [Cout, , KH, KW] = wDims;
  const OH = Math.floor((H + a.pads[0] + a.pads[2] - (KH - 1) * a.dilations[0] - 1) / a.strides[0]) + 1;
  const OW = Math.floor((W + a.pads[1] + a.pads[3] - (KW - 1) * a.dilations[1] - 1) / a.strides[1]) + 1;
  return [N, Cout, OH, OW];
}

/** float64 Conv2d (NCHW, groups, strides, pads [t, l, b, r], dilations), with optional bias. */
export function conv2d64(x: ArrayLike<number>, xDims: number[], w: ArrayLike<number>, wDims: number[], b: ArrayLike<number> | undefined, a: ConvAttrs): Float64Array {
  const [N, C, H, W] = xDims;
  const [Cout, CinG, KH, KW] = wDims;
  const [, , OH, OW] = convOut(xDims, wDims, a);
  const CoutG = Cout / a.group;
  const y = new Float64Array(N * Cout * OH * OW);
  for (let n = 0; n < N; n++) for (let co = 0; co < Cout; co++) {
    const g = Math.floor(co / CoutG);
    for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      let s = b ? b[co] : 0;
      for (let ci = 0; ci < CinG; ci++) for (let kh = 0; kh < KH; kh++) {
        const ih = oh * a.strides[0] - a.pads[0] + kh * a.dilations[0];
        if (ih < 0 || ih >= H) continue;
        for (let kw = 0; kw < KW; kw++) {
          const iw = ow * a.strides[1] - a.pads[1] + kw * a.dilations[1];
          if (iw < 0 || iw >= W) continue;
          s += w[((co * CinG + ci) * KH + kh) * KW + kw] * x[((n * C + g * CinG + ci) * H + ih) * W + iw];
        }
      }
      y[((n * Cout + co) * OH + oh) * OW + ow] = s;
    }
  }
  return y;
}

/** float64 analytic conv gradients (direct loops), for shapes too big for finite differences. */
export function conv2dBackward64(x: ArrayLike<number>, xDims: number[], w: ArrayLike<number>, wDims: number[], dy: ArrayLike<number>, a: ConvAttrs) {
  const [N, C, H, W] = xDims;
  const [Cout, CinG, KH, KW] = wDims;
  const [, , OH, OW] = convOut(xDims, wDims, a);
  const CoutG = Cout / a.group;
  const dx = new Float64Array(N * C * H * W);
  const dw = new Float64Array(Cout * CinG * KH * KW);
  const db = new Float64Array(Cout);
  for (let n = 0; n < N; n++) for (let co = 0; co < Cout; co++) {
    const g = Math.floor(co / CoutG);
    for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      const gy = dy[((n * Cout + co) * OH + oh) * OW + ow];
      db[co] += gy;
      for (let ci = 0; ci < CinG; ci++) for (let kh = 0; kh < KH; kh++) {
        const ih = oh * a.strides[0] - a.pads[0] + kh * a.dilations[0];
        if (ih < 0 || ih >= H) continue;
        for (let kw = 0; kw < KW; kw++) {
          const iw = ow * a.strides[1] - a.pads[1] + kw * a.dilations[1];
          if (iw < 0 || iw >= W) continue;
          const wi = ((co * CinG + ci) * KH + kh) * KW + kw;
          const xi = ((n * C + g * CinG + ci) * H + ih) * W + iw;
          dw[wi] += gy * x[xi];
          dx[xi] += gy * w[wi];
        }
      }
    }
  }
  return { dx, dw, db };
}

/** Allocates and fills a kernel buffer with NaN (so a result that is not overwritten shows). */
export function nanBuffer(k: Kernels, n: number): number {
  const p = k.allocF32(Math.max(1, n));
  k.f32.fill(NaN, p >> 2, (p >> 2) + Math.max(1, n));
  return p;
}
