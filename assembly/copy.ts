// Moves and fills of float runs, for hosts that would otherwise touch wasm memory from JS during a
// run (a slimmed conv scattering its kept channels, an identity reduction, an empty MatMul): as
// kernel calls they are part of what a compiled model records (src/compile/).

/** y[0..n) = x[0..n) (the ranges may overlap). */
export function copy_f32(y: usize, x: usize, n: usize): void {
  memory.copy(y, x, n << 2);
}

/** y[0..n) = v. */
export function fill_f32(y: usize, v: f32, n: usize): void {
  const s = f32x4.splat(v);
  let p = y;
  const end = y + (n << 2);
  for (; p + 16 <= end; p += 16) v128.store(p, s);
  for (; p < end; p += 4) store<f32>(p, v);
}
