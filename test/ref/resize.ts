// float64 reference for Resize (ONNX opset 13 formulas) on the last two axes, written from the
// operator spec independently of src/kernels/resize.ts: output size floor(in * scale), the
// coordinate transforms as the spec gives them, the four nearest_mode roundings, and linear
// interpolation as 1-D (1 - r, r) coefficients on edge-padded neighbours.

export interface ResizeRefOptions {
  scales?: readonly number[];
  sizes?: readonly number[];
  mode: 'nearest' | 'linear';
  ctm: 'half_pixel' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric' | 'tf_half_pixel_for_nn';
  nearestMode?: 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';
}

function transform(ctm: ResizeRefOptions['ctm'], x: number, scale: number, lenOut: number, lenIn: number): number {
  // Deliberate deviation, shared with onnxruntime: an unresized axis (scale exactly 1) is the
  // identity. The spec formulas give the same except tf_half_pixel_for_nn (x + 0.5).
  if (scale === 1) return x;
  switch (ctm) {
    case 'half_pixel':
      return (x + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel':
      return lenOut > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case 'align_corners':
      return lenOut === 1 ? 0 : (x * (lenIn - 1)) / (lenOut - 1);
    case 'asymmetric':
      return x / scale;
    case 'tf_half_pixel_for_nn':
      return (x + 0.5) / scale;
  }
}

function round(mode: NonNullable<ResizeRefOptions['nearestMode']>, x: number): number {
  const fl = Math.floor(x);
  const tie = x - fl === 0.5;
  switch (mode) {
    case 'round_prefer_floor':
      return tie ? fl : Math.round(x);
    case 'round_prefer_ceil':
      return tie ? fl + 1 : Math.round(x);
    case 'floor':
      return fl;
    case 'ceil':
      return Math.ceil(x);
  }
}

/** [(index, coefficient)] contributions of the input axis to output index i. */
function axisTaps(o: ResizeRefOptions, i: number, scale: number, lenOut: number, lenIn: number): [number, number][] {
  const clamp = (j: number) => Math.min(Math.max(j, 0), lenIn - 1); // edge padding
  const c = transform(o.ctm, i, scale, lenOut, lenIn);
  if (o.mode === 'nearest') return [[clamp(round(o.nearestMode ?? 'round_prefer_floor', c)), 1]];
  const base = Math.floor(c);
  const r = c - base;
  return [
    [clamp(base), 1 - r],
    [clamp(base + 1), r],
  ];
}

export function resizeRef(x: ArrayLike<number>, dims: readonly number[], o: ResizeRefOptions): { data: Float64Array; dims: number[] } {
  const rank = dims.length;
  const outDims = o.sizes ? [...o.sizes] : dims.map((d, i) => Math.floor(d * o.scales![i]));
  const scaleOf = (i: number) => (o.sizes ? o.sizes[i] / dims[i] : o.scales![i]);
  const H = rank >= 2 ? dims[rank - 2] : 1;
  const W = dims[rank - 1];
  const OH = rank >= 2 ? outDims[rank - 2] : 1;
  const OW = outDims[rank - 1];
  const sH = rank >= 2 ? scaleOf(rank - 2) : 1;
  const sW = scaleOf(rank - 1);
  const planes = dims.slice(0, Math.max(0, rank - 2)).reduce((a, b) => a * b, 1);
  const out = new Float64Array(planes * OH * OW);
  for (let p = 0; p < planes; p++) {
    for (let oy = 0; oy < OH; oy++) {
      const ty = rank >= 2 ? axisTaps(o, oy, sH, OH, H) : [[0, 1] as [number, number]];
      for (let ox = 0; ox < OW; ox++) {
        const tx = axisTaps(o, ox, sW, OW, W);
        let s = 0;
        for (const [iy, cy] of ty) for (const [ix, cx] of tx) s += cy * cx * x[p * H * W + iy * W + ix];
        out[(p * OH + oy) * OW + ox] = s;
      }
    }
  }
  return { data: out, dims: outDims };
}
