// Resize of the last two axes (planes x H x W -> planes x OH x OW), nearest and bilinear.
// All coordinate arithmetic (scales, coordinate_transformation_mode, nearest_mode, clamping)
// happens on the host, which writes per-output-row and per-output-column tables into one block;
// the kernels here only gather and interpolate, and trust the tables to stay inside the input.
//
// Nearest table (u32 words):   rowOff[OH]  byte offset of the source row inside a plane (iy * W * 4)
//                              colOff[OW]  byte offset of the source column (ix * 4)
// Linear table (u32/f32 words): row0[OH] row1[OH] (byte offsets as above) wy[OH] (weight of row1)
//                              col0[OW] col1[OW] (byte offsets) wx[OW] (weight of col1)
//                              then 2 * OW floats of scratch for two horizontally-resized rows.
// Nothing here allocates.
import { madd } from './simd';

/** Nearest: y[p, oy, ox] = x[p, rowOff[oy], colOff[ox]]. Bit-exact (moves i32). */
export function resize_nearest_f32(x: usize, planes: usize, H: usize, W: usize, y: usize,
  OH: usize, OW: usize, tab: usize): void {
  const rows = tab, cols = tab + (OH << 2);
  const planeX = (H * W) << 2, rowY = OW << 2;
  for (let p: usize = 0; p < planes; p++) {
    const xp = x + p * planeX;
    let yr = y + p * OH * rowY;
    let prev: u32 = 0xffffffff;
    for (let oy: usize = 0; oy < OH; oy++) {
      const off = load<u32>(rows + (oy << 2));
      if (off == prev) {
        // same source row as the output row above (upsampling): copy that row
        memory.copy(yr, yr - rowY, rowY);
      } else {
        const src = xp + <usize>off;
        let ox: usize = 0;
        for (; ox + 4 <= OW; ox += 4) {
          const c = cols + (ox << 2);
          const q = yr + (ox << 2);
          store<i32>(q, load<i32>(src + <usize>load<u32>(c)));
          store<i32>(q, load<i32>(src + <usize>load<u32>(c, 4)), 4);
          store<i32>(q, load<i32>(src + <usize>load<u32>(c, 8)), 8);
          store<i32>(q, load<i32>(src + <usize>load<u32>(c, 12)), 12);
        }
        for (; ox < OW; ox++) store<i32>(yr + (ox << 2), load<i32>(src + <usize>load<u32>(cols + (ox << 2))));
        prev = off;
      }
      yr += rowY;
    }
  }
}

/** Horizontal pass of one source row into `dst` (OW floats). */
// @ts-ignore: decorator
@inline function hrow(src: usize, c0: usize, c1: usize, wx: usize, OW: usize, dst: usize): void {
  let ox: usize = 0;
  for (; ox + 4 <= OW; ox += 4) {
    const o = ox << 2;
    let a = f32x4.splat(load<f32>(src + <usize>load<u32>(c0 + o)));
    a = f32x4.replace_lane(a, 1, load<f32>(src + <usize>load<u32>(c0 + o, 4)));
    a = f32x4.replace_lane(a, 2, load<f32>(src + <usize>load<u32>(c0 + o, 8)));
    a = f32x4.replace_lane(a, 3, load<f32>(src + <usize>load<u32>(c0 + o, 12)));
    let b = f32x4.splat(load<f32>(src + <usize>load<u32>(c1 + o)));
    b = f32x4.replace_lane(b, 1, load<f32>(src + <usize>load<u32>(c1 + o, 4)));
    b = f32x4.replace_lane(b, 2, load<f32>(src + <usize>load<u32>(c1 + o, 8)));
    b = f32x4.replace_lane(b, 3, load<f32>(src + <usize>load<u32>(c1 + o, 12)));
    v128.store(dst + o, madd(v128.load(wx + o), f32x4.sub(b, a), a));
  }
  for (; ox < OW; ox++) {
    const o = ox << 2;
    const a = load<f32>(src + <usize>load<u32>(c0 + o));
    const b = load<f32>(src + <usize>load<u32>(c1 + o));
    store<f32>(dst + o, a + load<f32>(wx + o) * (b - a));
  }
}

/**
 * Bilinear: each needed source row is resized horizontally once into one of two scratch rows
 * (kept while consecutive output rows reuse it), then output rows are a SIMD lerp of the two.
 */
export function resize_linear_f32(x: usize, planes: usize, H: usize, W: usize, y: usize,
  OH: usize, OW: usize, tab: usize): void {
  const r0 = tab, r1 = tab + (OH << 2), wyT = tab + (OH << 3);
  const c0 = tab + 3 * (OH << 2), c1 = c0 + (OW << 2), wxT = c1 + (OW << 2);
  const scratch = wxT + (OW << 2);
  const planeX = (H * W) << 2, rowY = OW << 2;
  for (let p: usize = 0; p < planes; p++) {
    const xp = x + p * planeX;
    let yr = y + p * OH * rowY;
    let bufA = scratch, bufB = scratch + rowY;
    let rowA: u32 = 0xffffffff, rowB: u32 = 0xffffffff;
    for (let oy: usize = 0; oy < OH; oy++) {
      const a = load<u32>(r0 + (oy << 2));
      const b = load<u32>(r1 + (oy << 2));
      if (rowA != a) {
        if (rowB == a) {
          const t = bufA; bufA = bufB; bufB = t;
          rowB = rowA; rowA = a;
        } else {
          hrow(xp + <usize>a, c0, c1, wxT, OW, bufA);
          rowA = a;
        }
      }
      if (b == a) {
        memory.copy(yr, bufA, rowY);
      } else {
        if (rowB != b) {
          hrow(xp + <usize>b, c0, c1, wxT, OW, bufB);
          rowB = b;
        }
        const w = load<f32>(wyT + (oy << 2));
        const wv = f32x4.splat(w);
        let ox: usize = 0;
        for (; ox + 4 <= OW; ox += 4) {
          const o = ox << 2;
          const va = v128.load(bufA + o);
          v128.store(yr + o, madd(wv, f32x4.sub(v128.load(bufB + o), va), va));
        }
        for (; ox < OW; ox++) {
          const o = ox << 2;
          const va = load<f32>(bufA + o);
          store<f32>(yr + o, va + w * (load<f32>(bufB + o) - va));
        }
      }
      yr += rowY;
    }
  }
}
