// Turns a drawing into the 28x28 input the MNIST model was trained on, the way the MNIST digits
// themselves were made (LeCun et al.): the digit's bounding box is scaled, keeping its aspect
// ratio, so that its longer side is 20 px, anti-aliased into grey levels, and placed in the 28x28
// frame so that its centre of mass is at the centre. Pixels are ink in 0..1 (0 = background), the
// range of the `mnist` package's digits; the model normalises them itself.
//
// Scaling and centring are one affine map (source pixel -> frame), resampled by area: each
// output pixel is the ink-weighted share of its square covered by the mapped source pixels. Ink
// is neither lost nor moved by more than a mapped source pixel (~1/20 of an output pixel for a
// digit drawn a few hundred pixels tall), so the centre of mass lands on the centre to within a
// small fraction of a pixel, not rounded to whole pixels; thin strokes become grey rather than
// disappearing.
//
// No DOM here: the page passes canvas pixels, tests pass arrays.

/** Side of the model's input. */
export const SIDE = 28;
/** Side of the box the digit's longer side is scaled to. */
export const BOX = 20;

/**
 * The 28x28 input (row-major Float32Array, ink in 0..1) for a drawing, or null when nothing is drawn.
 * `pixels` holds `width * height` pixels of `stride` bytes; `channel` is the byte read as ink
 * (0..255). For canvas ImageData drawn in any colour on a transparent canvas: stride 4, channel 3 (alpha).
 */
export function mnistInput(pixels, width, height, stride = 4, channel = 3) {
  // bounding box and centre of mass of the ink (pixel centres at x + 0.5)
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const v = pixels[(row + x) * stride + channel];
      if (v === 0) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  if (mass === 0) return null;
  const scale = BOX / Math.max(x1 - x0 + 1, y1 - y0 + 1);
  // source coordinate s maps to (s - centre) * scale + SIDE / 2
  const ox = SIDE / 2 - (mx / mass) * scale;
  const oy = SIDE / 2 - (my / mass) * scale;

  // separable area resampling: first each source row into SIDE columns, then rows into SIDE rows
  const rows = y1 - y0 + 1;
  const tmp = new Float64Array(rows * SIDE);
  for (let y = y0; y <= y1; y++) {
    const t = (y - y0) * SIDE;
    for (let x = x0; x <= x1; x++) {
      const v = pixels[(y * width + x) * stride + channel];
      if (v !== 0) spread(v / 255, x * scale + ox, scale, tmp, t);
    }
  }
  const out = new Float64Array(SIDE * SIDE);
  const column = new Float64Array(SIDE);
  for (let i = 0; i < SIDE; i++) {
    column.fill(0);
    for (let y = y0; y <= y1; y++) {
      const v = tmp[(y - y0) * SIDE + i];
      if (v !== 0) spread(v, y * scale + oy, scale, column, 0);
    }
    for (let j = 0; j < SIDE; j++) out[j * SIDE + i] = column[j];
  }
  // the mapped source squares tile the frame, so an output pixel inside a fully inked region sums
  // overlaps of total area 1 and reads 1; the clamp only absorbs rounding
  const data = new Float32Array(SIDE * SIDE);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(1, out[i]);
  return data;
}

/**
 * Adds `value` times the overlap of [start, start + length) with each unit cell [i, i + 1) of
 * `into` (SIDE cells from `at`); cells outside the frame are dropped.
 */
function spread(value, start, length, into, at) {
  const end = start + length;
  const first = Math.max(0, Math.floor(start));
  const last = Math.min(SIDE - 1, Math.ceil(end) - 1);
  for (let i = first; i <= last; i++) {
    const overlap = Math.min(end, i + 1) - Math.max(start, i);
    if (overlap > 0) into[at + i] += value * overlap;
  }
}
